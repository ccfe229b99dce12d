//! `GET /openapi.json` and the router must not drift apart: every documented operation is
//! routed, every `/admin/v1` and `/api/v1` route is documented with the same methods, the scope
//! each operation documents is the one its handler checks, and real answers have the shapes the
//! document gives them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use portcullis_core::admin::clients::NewClient;
use portcullis_core::banking::profile::{KycState, Profile, ProfileKind};
use portcullis_core::client::GrantType;
use portcullis_core::store::BankStore as _;
use portcullis_core::time::Clock as _;
use portcullis_proto::{ProfileId, ScopeSet};
use portcullis_testkit::flow::{REDIRECT_URI, confidential};
use portcullis_testkit::{TestApp, spawn_app};
use serde_json::{Value, json};

use crate::admin_kit::{AdminApi, challenge, flush_audit};
use crate::oauth_kit::{Answer, client_credentials, user_tokens};

/// The prefixes whose routes the document must cover.
const PREFIXES: [&str; 2] = ["/admin/v1/", "/api/v1/"];
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> Value {
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    response.json().await.unwrap()
}

/// (path, method) of every documented operation.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(METHODS.contains(&method.as_str()), "{method} {path}");
            operations.insert((path.clone(), method.clone()));
        }
    }
    operations
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The text of the call whose arguments start at `start` (just after its `(`).
fn call_arguments(text: &str, start: usize) -> &str {
    let mut depth = 1;
    for (i, c) in text[start..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[start..start + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced call at {start}")
}

/// (path, method) of every `/admin/v1` and `/api/v1` route the HTTP crate's sources register
/// with `.route("PATH", get(…).post(…))`: what the router serves, found without the document.
fn routed() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../http/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut operations = BTreeSet::new();
    // Compatibility aliases (`src/compat/`) are the guides' paths, documented per guide in
    // docs/integrations.md rather than in the canonical API description.
    files.retain(|f| !f.components().any(|c| c.as_os_str() == "compat"));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for prefix in PREFIXES {
            let nested = format!(".nest(\"{}", prefix.trim_end_matches('/'));
            assert!(
                !text.contains(&nested),
                "{}: nested routers are not understood by this check; extend it",
                file.display()
            );
        }
        for (at, _) in text.match_indices(".route(") {
            let arguments = call_arguments(&text, at + ".route(".len());
            let Some(path) = arguments
                .trim_start()
                .strip_prefix('"')
                .and_then(|rest| rest.split('"').next())
            else {
                continue;
            };
            if !PREFIXES.iter().any(|p| path.starts_with(p)) {
                continue;
            }
            let handlers = &arguments[arguments.find(path).unwrap() + path.len()..];
            let mut methods = 0;
            for method in METHODS {
                let call = format!("{method}(");
                for (i, _) in handlers.match_indices(&call) {
                    let before = handlers[..i].chars().next_back().unwrap_or(' ');
                    if !(before.is_alphanumeric() || before == '_') {
                        operations.insert((path.to_owned(), method.to_owned()));
                        methods += 1;
                    }
                }
            }
            assert!(
                methods > 0,
                "{}: no method found in {arguments}",
                file.display()
            );
        }
    }
    operations
}

#[tokio::test]
async fn the_document_is_openapi_3_1_describing_this_server() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Portcullis");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        doc["info"]["description"]
            .as_str()
            .unwrap()
            .contains("admin")
    );
    assert_eq!(doc["servers"], json!([{"url": app.base}]));
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    let flows = &schemes["oauth2"]["flows"];
    assert_eq!(
        flows["clientCredentials"]["tokenUrl"],
        app.url("/oauth/token")
    );
    assert!(flows["clientCredentials"]["scopes"]["admin"].is_string());
    assert!(
        flows["authorizationCode"]["scopes"].get("admin").is_none(),
        "users never grant admin"
    );
    assert_eq!(
        flows["authorizationCode"]["authorizationUrl"],
        app.url("/oauth/authorize")
    );
    // Discovery points here.
    let discovery: Value = app
        .http
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["service_documentation"], app.url("/openapi.json"));
    // Every error response is the RFC 6749 §5.2 body; lists take `limit` and `cursor`.
    for (path, method) in documented(&doc) {
        let op = &doc["paths"][&path][&method];
        for (status, response) in op["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                let response = match response["$ref"].as_str() {
                    Some(r) => &doc["components"]["responses"][r.rsplit('/').next().unwrap()],
                    None => response,
                };
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorResponse",
                    "{method} {path} {status}"
                );
            }
        }
        let schema = &op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
        if schema.as_str().is_some_and(|s| s.contains("Page_")) {
            let names: Vec<&str> = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert!(
                names.contains(&"limit") && names.contains(&"cursor"),
                "{method} {path}"
            );
        }
    }
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_operation_is_routed() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let documented = documented(&doc);
    let routed = routed();
    assert!(routed.len() > 20, "the source scan found {routed:?}");
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not documented: {undocumented:?}"
    );
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );

    // On the running server: each documented operation is there (it asks for a token rather
    // than answering 404 or 405), and each other method of a documented path is 405.
    let by_path: BTreeMap<&str, BTreeSet<&str>> =
        documented
            .iter()
            .fold(BTreeMap::new(), |mut map, (path, method)| {
                map.entry(path.as_str())
                    .or_default()
                    .insert(method.as_str());
                map
            });
    for (path, methods) in by_path {
        let url = app.url(&path.replace("{id}", "some-id"));
        for method in METHODS {
            let request = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let status = app
                .http
                .request(request, &url)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            if methods.contains(method) {
                assert_eq!(status, 401, "{method} {path}: documented, needs a token");
            } else {
                assert_eq!(status, 405, "{method} {path}: not documented");
            }
        }
    }
}

/// The scope alternatives the document gives an operation.
fn documented_scopes(op: &Value) -> Vec<Vec<String>> {
    op["security"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.get("oauth2"))
        .map(|scopes| {
            scopes
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn each_operation_needs_exactly_the_scope_it_documents() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let every_scope = "email profile:read auth.user_identity:read users.profiles:read \
        wallet:read users.balance:read orders:read orders:write";
    let (client, secret) = app
        .client(NewClient {
            grant_types: BTreeSet::from([GrantType::ClientCredentials]),
            scopes: ScopeSet::parse(every_scope).unwrap(),
            ..confidential("Scope prober")
        })
        .await;
    let secret = secret.unwrap();
    let token_with = async |scope: &str| {
        client_credentials(&app, &client, &secret, Some(scope))
            .await
            .str("access_token")
    };
    let unrelated = token_with("email").await;
    for (path, method) in documented(&doc) {
        if !path.starts_with("/api/v1/") {
            continue; // The admin API's `admin` scope: see admin_access.rs.
        }
        let op = &doc["paths"][&path][&method];
        let alternatives = documented_scopes(op);
        let request = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let url = app.url(&path.replace("{id}", "some-id"));
        let send = async |token: &str| {
            Answer::of(
                app.http
                    .request(request.clone(), &url)
                    .bearer_auth(token)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        };
        if alternatives.iter().all(Vec::is_empty) {
            let answer = send(&unrelated).await;
            assert_ne!(
                answer.status, 403,
                "{method} {path} needs no scope: {}",
                answer.body
            );
            continue;
        }
        // Without any of the documented scopes: 403 naming one of them.
        let answer = send(&unrelated).await;
        answer.assert_error(403, "insufficient_scope");
        let challenge = challenge(&answer);
        assert!(
            alternatives
                .iter()
                .any(|s| challenge.contains(&format!("scope=\"{}\"", s.join(" ")))),
            "{method} {path}: {challenge} names none of {alternatives:?}"
        );
        // With each documented alternative alone: past the scope check.
        for scopes in &alternatives {
            let answer = send(&token_with(&scopes.join(" ")).await).await;
            assert_ne!(
                answer.body["error"], "insufficient_scope",
                "{method} {path} with {scopes:?}: {}",
                answer.body
            );
        }
    }
}

/// Checks `value` against `schema` (resolving `$ref`s into `doc`): types, enums, required
/// properties, and no property the document does not name. Returns what does not match.
fn mismatches(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return mismatches(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(alternatives) = schema["oneOf"].as_array() {
        let errors: Vec<Vec<String>> = alternatives
            .iter()
            .map(|s| mismatches(doc, s, value, at))
            .collect();
        return if errors.iter().any(Vec::is_empty) {
            Vec::new()
        } else {
            errors.concat()
        };
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Vec::new(), // Any value.
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let documented = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
    if !documented {
        return vec![format!("{at}: {actual}, documented {types:?}")];
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return vec![format!("{at}: {value} is not one of {allowed:?}")];
    }
    let mut errors = Vec::new();
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                errors.extend(mismatches(
                    doc,
                    &schema["items"],
                    item,
                    &format!("{at}[{i}]"),
                ));
            }
        }
        Value::Object(fields) => {
            for required in schema["required"].as_array().into_iter().flatten() {
                if !fields.contains_key(required.as_str().unwrap()) {
                    errors.push(format!("{at}: missing {required}"));
                }
            }
            for (name, field) in fields {
                match schema["properties"].get(name) {
                    Some(property) => {
                        errors.extend(mismatches(doc, property, field, &format!("{at}.{name}")));
                    }
                    None => errors.push(format!("{at}: undocumented field {name:?}")),
                }
            }
        }
        _ => {}
    }
    errors
}

/// Asserts that `answer` is what the document says `method path` answers with its status.
#[track_caller]
fn conforms(doc: &Value, method: &str, path: &str, answer: &Answer) {
    let op = &doc["paths"][path][method];
    let response = &op["responses"][answer.status.as_str()];
    assert!(
        response.is_object(),
        "{method} {path} answered {}, which is not documented: {}",
        answer.status,
        answer.body
    );
    let schema = &response["content"]["application/json"]["schema"];
    let errors = mismatches(doc, schema, &answer.body, "body");
    assert!(
        errors.is_empty(),
        "{method} {path}: {errors:#?}\n{}",
        answer.body
    );
}

#[tokio::test]
async fn answers_have_the_documented_shapes() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let api = AdminApi::new(&app).await;

    // Admin: a client with every optional field, rotated with grace; a user with a profile.
    let answer = api
        .post(
            "/admin/v1/clients",
            &json!({"client_id": "rich", "name": "Rich", "redirect_uris": [REDIRECT_URI],
                    "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
                    "scope": "openid profile:read auth.user_identity:read",
                    "logo_uri": "https://r.example/l.png", "homepage_uri": "https://r.example/"}),
        )
        .await;
    conforms(&doc, "post", "/admin/v1/clients", &answer);
    let answer = api
        .post(
            "/admin/v1/clients/rich/rotate-secret",
            &json!({"grace_seconds": 60}),
        )
        .await;
    conforms(
        &doc,
        "post",
        "/admin/v1/clients/{id}/rotate-secret",
        &answer,
    );
    let rich_secret = portcullis_proto::Secret::new(answer.str("client_secret"));
    for (method, path, answer) in [
        (
            "get",
            "/admin/v1/clients",
            api.get("/admin/v1/clients?limit=1").await,
        ),
        (
            "get",
            "/admin/v1/clients/{id}",
            api.get("/admin/v1/clients/rich").await,
        ),
        (
            "patch",
            "/admin/v1/clients/{id}",
            api.patch("/admin/v1/clients/rich", &json!({"name": "Richer"}))
                .await,
        ),
        (
            "get",
            "/admin/v1/clients/{id}",
            api.get("/admin/v1/clients/nobody").await,
        ),
        (
            "post",
            "/admin/v1/clients",
            api.post("/admin/v1/clients", &json!({"name": ""})).await,
        ),
    ] {
        conforms(&doc, method, path, &answer);
    }
    let answer = api
        .post(
            "/admin/v1/users",
            &json!({"email": "ada@example.com", "name": "Ada", "password": portcullis_testkit::flow::PASSWORD}),
        )
        .await;
    conforms(&doc, "post", "/admin/v1/users", &answer);
    let ada = answer.str("id");
    let now = app.clock.now();
    let profile = ProfileId::new("ada-profile");
    app.store
        .insert_profile(&Profile {
            id: profile.clone(),
            user_id: portcullis_proto::UserId::new(ada.as_str()),
            kind: ProfileKind::Personal,
            name: "Ada".into(),
            kyc: KycState::Absent,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    let answer = api
        .post(
            &format!("/admin/v1/users/{ada}/kyc"),
            &json!({"state": "approved"}),
        )
        .await;
    conforms(&doc, "post", "/admin/v1/users/{id}/kyc", &answer);
    for (method, path, answer) in [
        ("get", "/admin/v1/users", api.get("/admin/v1/users").await),
        (
            "get",
            "/admin/v1/users/{id}",
            api.get(&format!("/admin/v1/users/{ada}")).await,
        ),
        ("get", "/admin/v1/keys", api.get("/admin/v1/keys").await),
        (
            "post",
            "/admin/v1/keys/rotate",
            api.post("/admin/v1/keys/rotate", &json!({"algs": ["EdDSA"]}))
                .await,
        ),
    ] {
        conforms(&doc, method, path, &answer);
    }

    // Resource API: a client's own token, and a user's token bound to an approved profile.
    let rich = crate::admin_kit::stored_client(&app, "rich").await;
    let own = client_credentials(&app, &rich, &rich_secret, Some("profile:read"))
        .await
        .str("access_token");
    let user = user_tokens(
        &app,
        &rich,
        Some(&rich_secret),
        "ada@example.com",
        "openid profile:read auth.user_identity:read",
    )
    .await
    .str("access_token");
    for (token, path, concrete) in [
        (
            &own,
            "/api/v1/auth/context",
            "/api/v1/auth/context".to_owned(),
        ),
        (
            &user,
            "/api/v1/auth/context",
            "/api/v1/auth/context".to_owned(),
        ),
        (&user, "/api/v1/me", "/api/v1/me".to_owned()),
        (&own, "/api/v1/me", "/api/v1/me".to_owned()),
        (&user, "/api/v1/profiles", "/api/v1/profiles".to_owned()),
        (
            &user,
            "/api/v1/profiles/{id}",
            format!("/api/v1/profiles/{profile}"),
        ),
        (
            &user,
            "/api/v1/profiles/{id}",
            "/api/v1/profiles/someone-else".to_owned(),
        ),
        (&own, "/api/v1/profiles", "/api/v1/profiles".to_owned()),
    ] {
        let answer = Answer::of(
            app.http
                .get(app.url(&concrete))
                .bearer_auth(token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        conforms(&doc, "get", path, &answer);
    }

    // The audit trail of all that, last.
    flush_audit(&app).await;
    let answer = api.get("/admin/v1/audit?limit=500").await;
    assert!(answer.body["items"].as_array().unwrap().len() > 5);
    conforms(&doc, "get", "/admin/v1/audit", &answer);
}
