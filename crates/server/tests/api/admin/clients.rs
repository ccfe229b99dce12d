//! The admin API's clients: registration with the same rules as the CLI, pagination, PATCH
//! semantics, deletion, and secret rotation with and without grace.

use portcullis_core::audit::{AuditFilter, AuditKind};
use portcullis_core::client::Client;
use portcullis_core::store::ClientStore as _;
use portcullis_proto::{ClientId, Secret};
use portcullis_testkit::spawn_app;
use serde_json::{Value, json};

use crate::admin_kit::{AdminApi, stored_client};
use crate::oauth_kit::{client_credentials, user_tokens};

async fn stored(api: &AdminApi<'_>, id: &str) -> Client {
    stored_client(api.app, id).await
}

fn secret_of(body: &Value) -> Secret {
    Secret::new(body["client_secret"].as_str().expect("client_secret"))
}

/// A confidential client-credentials client made through the API: (view, secret).
async fn backend_client(api: &AdminApi<'_>, id: &str) -> (Value, Secret) {
    let answer = api
        .post(
            "/admin/v1/clients",
            &json!({
                "client_id": id,
                "name": "Back office",
                "grant_types": ["client_credentials"],
                "scope": "wallet:read orders:read",
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let secret = secret_of(&answer.body);
    (answer.body, secret)
}

async fn token_status(api: &AdminApi<'_>, id: &str, secret: &Secret) -> u16 {
    let client = stored(api, id).await;
    client_credentials(api.app, &client, secret, None)
        .await
        .status
        .as_u16()
}

#[tokio::test]
async fn create_answers_201_with_the_secret_once_and_the_stored_settings() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let answer = api
        .post(
            "/admin/v1/clients",
            &json!({
                "name": "  Wallet app  ",
                "redirect_uris": ["https://wallet.example/cb", "http://127.0.0.1:8000/cb"],
                "scope": "openid wallet:read offline_access",
                "logo_uri": "https://wallet.example/logo.png",
                "homepage_uri": "https://wallet.example/",
                "access_token_ttl": 600,
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let body = &answer.body;
    let id = body["client_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a generated UUID: {id}");
    let secret = secret_of(body);
    assert_eq!(secret.expose().len(), 43, "256 bits, base64url");
    assert_eq!(body["name"], "Wallet app", "trimmed");
    assert_eq!(body["public"], false);
    assert_eq!(
        body["redirect_uris"],
        json!(["https://wallet.example/cb", "http://127.0.0.1:8000/cb"])
    );
    assert_eq!(
        body["grant_types"],
        json!(["authorization_code", "refresh_token"]),
        "the default grants"
    );
    assert_eq!(body["scope"], "offline_access openid wallet:read");
    assert_eq!(body["access_token_ttl"], 600);
    assert_eq!(body["refresh_token_ttl"], 30 * 86_400);
    assert_eq!(body["pkce"], "s256");
    assert_eq!(body["id_token_alg"], "RS256");
    assert_eq!(
        (&body["partner"], &body["admin"], &body["enabled"]),
        (&json!(false), &json!(false), &json!(true))
    );
    assert_eq!(body["logo_uri"], "https://wallet.example/logo.png");

    // Only a hash was stored: the secret is never shown again.
    let shown = api.get(&format!("/admin/v1/clients/{id}")).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.get("client_secret").is_none(), "{}", shown.body);
    let mut expected = body.clone();
    expected.as_object_mut().unwrap().remove("client_secret");
    assert_eq!(shown.body, expected, "show gives what create stored");
    let stored = stored(&api, &id).await;
    assert!(stored.secrets.current.is_some());
    assert!(!format!("{stored:?}").contains(secret.expose()));

    // A chosen id, and the secret works at the token endpoint.
    let (view, secret) = backend_client(&api, "back-office").await;
    assert_eq!(view["client_id"], "back-office");
    assert_eq!(token_status(&api, "back-office", &secret).await, 200);
}

/// A client registered with nothing but a name and a redirect URI may ask for
/// `openid profile email`, the OpenID Connect libraries' default request: with `openid` alone
/// the first request of Authlib, ASP.NET Core or NextAuth was refused with `invalid_scope`
/// (which Authlib then reported as `unauthorized_client`).
#[tokio::test]
async fn a_client_registered_without_a_scope_list_may_ask_for_openid_profile_email() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let answer = api
        .post(
            "/admin/v1/clients",
            &json!({ "name": "Defaults", "redirect_uris": [portcullis_testkit::flow::REDIRECT_URI] }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["scope"], "email openid profile");
    let client = stored(&api, answer.body["client_id"].as_str().unwrap()).await;
    app.user("ada@example.com").await;
    let tokens = user_tokens(
        &app,
        &client,
        Some(&secret_of(&answer.body)),
        "ada@example.com",
        "openid profile email",
    )
    .await;
    assert_eq!(
        tokens.body["scope"], "email openid profile",
        "{}",
        tokens.body
    );
    assert!(tokens.body["id_token"].is_string(), "{}", tokens.body);
}

#[tokio::test]
async fn public_clients_get_no_secret_and_none_to_rotate() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let answer = api
        .post(
            "/admin/v1/clients",
            &json!({
                "client_id": "spa",
                "name": "Single-page app",
                "public": true,
                "redirect_uris": ["https://spa.example/cb"],
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["public"], true);
    assert!(answer.body.get("client_secret").is_none());
    let answer = api.post_empty("/admin/v1/clients/spa/rotate-secret").await;
    answer.assert_error(400, "invalid_request");
    assert_eq!(
        answer.body["error_description"],
        "a public client has no secret to rotate"
    );
}

#[tokio::test]
async fn registration_rules_are_refused_with_their_message() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let code = |uri: &str| json!({"name": "App", "redirect_uris": [uri], "scope": "openid"});
    let https = "must use https (http is allowed only on a loopback address)";
    let cases: Vec<(Value, String)> = vec![
        (code("http://app.example/cb"), format!("\"http://app.example/cb\" {https}")),
        (code("https://app.example/cb#top"), "must not contain a fragment".into()),
        (code("https://*.app.example/cb"), "must not contain a wildcard".into()),
        (code("javascript:alert(1)"), format!("\"javascript:alert(1)\" {https}")),
        (code("data:text/html,hi"), format!("\"data:text/html,hi\" {https}")),
        (code("file:///etc/passwd"), format!("\"file:///etc/passwd\" {https}")),
        (code("/cb"), "redirect URI \"/cb\" is not an absolute URI".into()),
        (
            json!({"name": "App", "public": true, "grant_types": ["client_credentials"]}),
            "a public client cannot use client_credentials".into(),
        ),
        (
            json!({"name": "App", "public": true, "pkce": "optional", "redirect_uris": ["https://a.example/cb"]}),
            "acknowledge the risk".into(),
        ),
        (
            json!({"name": "App", "redirect_uris": ["https://a.example/cb"], "scope": "openid payments:write"}),
            "unknown scope(s) payments:write".into(),
        ),
        (
            json!({"name": "App", "redirect_uris": ["https://a.example/cb"], "access_token_ttl": 5}),
            "access_token_ttl must be between 60 and 86400 seconds".into(),
        ),
        (
            json!({"name": "App", "grant_types": ["password"]}),
            "unknown grant type \"password\"; expected authorization_code, refresh_token or client_credentials".into(),
        ),
        (
            json!({"name": "App", "public": true, "partner": true, "redirect_uris": ["https://a.example/cb"]}),
            "partner clients must be confidential and allowed client_credentials".into(),
        ),
        (
            json!({"name": "", "redirect_uris": ["https://a.example/cb"]}),
            "a client needs a name".into(),
        ),
        (
            json!({"name": "App", "client_id": "has space", "redirect_uris": ["https://a.example/cb"]}),
            "must be 1 to 64 characters".into(),
        ),
        (
            json!({"name": "App", "redirect_uris": ["https://a.example/cb"], "logo_uri": "http://a.example/l.png"}),
            "logo_uri must be an https URL".into(),
        ),
        (
            json!({"name": "App", "redirect_uri": "https://a.example/cb"}),
            "unknown field `redirect_uri`".into(),
        ),
    ];
    for (body, message) in cases {
        let answer = api.post("/admin/v1/clients", &body).await;
        answer.assert_error(400, "invalid_request");
        let description = answer.body["error_description"].as_str().unwrap();
        assert!(
            // Descriptions carry RFC 6749's characters only: quotes become apostrophes.
            description.contains(&portcullis_proto::safe_description(&message)),
            "{body}: {description:?} should say {message:?}"
        );
    }
    // With the acknowledgement, the public client without PKCE is registered.
    let answer = api
        .post(
            "/admin/v1/clients",
            &json!({"name": "Money Button", "public": true, "pkce": "optional",
                    "acknowledge_public_without_pkce": true,
                    "redirect_uris": ["https://mb.example/cb"]}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["pkce"], "optional");

    // A taken id is a conflict; a body that is not JSON is a bad request.
    api.post(
        "/admin/v1/clients",
        &json!({"client_id": "dup", "name": "A", "redirect_uris": ["https://a.example/cb"]}),
    )
    .await;
    let answer = api
        .post(
            "/admin/v1/clients",
            &json!({"client_id": "dup", "name": "B", "redirect_uris": ["https://b.example/cb"]}),
        )
        .await;
    answer.assert_error(409, "conflict");
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("a client with id 'dup' already exists")
    );
    let raw = app
        .http
        .post(app.url("/admin/v1/clients"))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    crate::oauth_kit::Answer::of(raw)
        .await
        .assert_error(400, "invalid_request");
    // Nothing refused was stored: the admin, "Money Button" and "dup".
    let (all, _) = api.all_pages("/admin/v1/clients", 200).await;
    assert_eq!(all.len(), 3, "{all:?}");
}

#[tokio::test]
async fn clients_are_listed_a_page_at_a_time() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let mut ids = vec![api.client.id.to_string()];
    for n in 0..6 {
        let id = format!("client-{n}");
        let answer = api
            .post(
                "/admin/v1/clients",
                &json!({"client_id": id, "name": format!("App {n}"),
                        "redirect_uris": ["https://a.example/cb"]}),
            )
            .await;
        assert_eq!(answer.status, 201);
        ids.push(id);
    }
    ids.sort();
    let (items, pages) = api.all_pages("/admin/v1/clients", 2).await;
    let listed: Vec<String> = items
        .iter()
        .map(|c| c["client_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, ids, "every client once, in id order");
    assert_eq!(pages, 4, "7 clients in pages of 2");
    assert!(items.iter().all(|c| c.get("client_secret").is_none()));

    // The last page has no cursor; out-of-range limits are clamped.
    let answer = api.get("/admin/v1/clients?limit=500").await;
    assert_eq!(answer.body["items"].as_array().unwrap().len(), 7);
    assert!(answer.body.get("next_cursor").is_none());
    let answer = api.get("/admin/v1/clients?limit=0").await;
    assert_eq!(answer.body["items"].as_array().unwrap().len(), 1);
    assert!(answer.body["next_cursor"].is_string());
    // A malformed query is refused like every other admin error: JSON `invalid_request`.
    let answer = api.get("/admin/v1/clients?limit=many").await;
    answer.assert_error(400, "invalid_request");
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("malformed query string"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn patch_changes_only_the_fields_given_under_the_registration_rules() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let (before, secret) = backend_client(&api, "svc").await;
    let path = "/admin/v1/clients/svc";
    app.clock.advance(10);

    let answer = api.patch(path, &json!({"name": "Renamed"})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mut expected = before.clone();
    let expected = expected.as_object_mut().unwrap();
    expected.remove("client_secret");
    expected.insert("name".into(), json!("Renamed"));
    expected.insert("updated_at".into(), answer.body["updated_at"].clone());
    assert_eq!(answer.body, Value::Object(expected.clone()));
    assert_ne!(answer.body["updated_at"], before["updated_at"]);

    // An empty patch, or explicit nulls, change nothing.
    let unchanged = api.patch(path, &json!({})).await;
    assert_eq!(unchanged.body["name"], "Renamed");
    let unchanged = api.patch(path, &json!({"name": null, "scope": null})).await;
    assert_eq!(unchanged.body["scope"], "orders:read wallet:read");

    // Each kind of change.
    let changes = [
        (
            json!({"scope": "wallet:read"}),
            "scope",
            json!("wallet:read"),
        ),
        (
            json!({"access_token_ttl": 120}),
            "access_token_ttl",
            json!(120),
        ),
        (
            json!({"refresh_token_ttl": 3600}),
            "refresh_token_ttl",
            json!(3600),
        ),
        (
            json!({"id_token_alg": "ES256"}),
            "id_token_alg",
            json!("ES256"),
        ),
        (json!({"partner": true}), "partner", json!(true)),
        (
            json!({"logo_uri": "https://svc.example/l.png"}),
            "logo_uri",
            json!("https://svc.example/l.png"),
        ),
        (
            json!({"grant_types": ["authorization_code", "client_credentials"], "redirect_uris": ["https://svc.example/cb"]}),
            "grant_types",
            json!(["authorization_code", "client_credentials"]),
        ),
        (
            json!({"redirect_uris": ["https://svc.example/a", "https://svc.example/b"]}),
            "redirect_uris",
            json!(["https://svc.example/a", "https://svc.example/b"]),
        ),
        (
            json!({"pkce": "plain-allowed"}),
            "pkce",
            json!("plain-allowed"),
        ),
    ];
    for (patch, field, value) in changes {
        let answer = api.patch(path, &patch).await;
        assert_eq!(answer.status, 200, "{patch}: {}", answer.body);
        assert_eq!(answer.body[field], value, "{patch}");
        assert_eq!(api.get(path).await.body[field], value, "{patch} is stored");
    }
    // An empty logo removes it.
    let answer = api.patch(path, &json!({"logo_uri": ""})).await;
    assert!(answer.body.get("logo_uri").is_none(), "{}", answer.body);

    // A change that breaks a rule is refused whole: nothing of it is stored.
    let before = api.get(path).await.body;
    let answer = api
        .patch(
            path,
            &json!({"name": "Broken", "redirect_uris": ["http://svc.example/cb"]}),
        )
        .await;
    answer.assert_error(400, "invalid_request");
    let answer = api.patch(path, &json!({"redirect_uris": []})).await;
    assert_eq!(
        answer.body["error_description"],
        "the authorization_code grant needs at least one redirect URI"
    );
    let answer = api.patch(path, &json!({"scope": "nope:nope"})).await;
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("unknown scope(s) nope:nope")
    );
    let answer = api.patch(path, &json!({"client_secret": "mine"})).await;
    answer.assert_error(400, "invalid_request");
    assert_eq!(
        api.get(path).await.body,
        before,
        "refused changes left it as it was"
    );

    // Disabling stops its tokens; enabling brings it back.
    assert_eq!(token_status(&api, "svc", &secret).await, 200);
    let answer = api.patch(path, &json!({"enabled": false})).await;
    assert_eq!(answer.body["enabled"], false);
    assert_eq!(token_status(&api, "svc", &secret).await, 401);
    api.patch(path, &json!({"enabled": true})).await;
    assert_eq!(token_status(&api, "svc", &secret).await, 200);

    // Unknown client.
    api.patch("/admin/v1/clients/nobody", &json!({"name": "x"}))
        .await
        .assert_error(404, "not_found");

    // Each change is in the trail with the fields it changed.
    let updates = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::ClientUpdated),
            client_id: Some(ClientId::new("svc")),
            limit: 100,
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(updates[0].detail["changed"], json!(["name"]));
    assert!(updates.iter().all(|e| e.actor == api.actor()));
    assert!(updates.iter().all(|e| e.ip.as_deref() == Some("127.0.0.1")));
}

#[tokio::test]
async fn delete_answers_204_and_the_client_is_gone() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let (_, secret) = backend_client(&api, "doomed").await;
    assert_eq!(token_status(&api, "doomed", &secret).await, 200);
    let answer = api.delete("/admin/v1/clients/doomed").await;
    assert_eq!(answer.status, 204);
    assert_eq!(answer.body, Value::Null, "no body");
    api.get("/admin/v1/clients/doomed")
        .await
        .assert_error(404, "not_found");
    api.delete("/admin/v1/clients/doomed")
        .await
        .assert_error(404, "not_found");
    let gone = app.store.client(&ClientId::new("doomed")).await.unwrap();
    assert!(gone.is_none());
    let deleted = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::ClientDeleted),
            limit: 10,
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].client_id, Some(ClientId::new("doomed")));
}

#[tokio::test]
async fn rotation_without_grace_stops_the_old_secret_at_once() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let (_, old) = backend_client(&api, "svc").await;
    assert_eq!(token_status(&api, "svc", &old).await, 200);

    let answer = api.post_empty("/admin/v1/clients/svc/rotate-secret").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let new = secret_of(&answer.body);
    assert_ne!(new, old);
    assert!(answer.body.get("previous_secret_expires_at").is_none());
    assert_eq!(token_status(&api, "svc", &old).await, 401, "old secret");
    assert_eq!(token_status(&api, "svc", &new).await, 200, "new secret");

    // `grace_seconds: 0` is the same as none.
    let answer = api
        .post(
            "/admin/v1/clients/svc/rotate-secret",
            &json!({"grace_seconds": 0}),
        )
        .await;
    let newer = secret_of(&answer.body);
    assert_eq!(token_status(&api, "svc", &new).await, 401);
    assert_eq!(token_status(&api, "svc", &newer).await, 200);

    api.post_empty("/admin/v1/clients/nobody/rotate-secret")
        .await
        .assert_error(404, "not_found");
    api.post("/admin/v1/clients/svc/rotate-secret", &json!({"grace": 60}))
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn rotation_with_grace_keeps_the_old_secret_until_the_grace_ends() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let (_, old) = backend_client(&api, "svc").await;
    let answer = api
        .post(
            "/admin/v1/clients/svc/rotate-secret",
            &json!({"grace_seconds": 3600}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let new = secret_of(&answer.body);
    let until = answer.body["previous_secret_expires_at"].as_str().unwrap();
    let expected = portcullis_core::time::UnixTime(
        portcullis_core::time::Clock::now(app.clock.as_ref()).0 + 3600,
    );
    assert_eq!(until, expected.to_rfc3339());
    assert_eq!(
        api.get("/admin/v1/clients/svc").await.body["previous_secret_expires_at"],
        until,
        "shown until it ends"
    );

    assert_eq!(token_status(&api, "svc", &old).await, 200, "old, in grace");
    assert_eq!(token_status(&api, "svc", &new).await, 200, "new");
    app.clock.advance(3599);
    assert_eq!(
        token_status(&api, "svc", &old).await,
        200,
        "old, just in grace"
    );
    app.clock.advance(2);
    assert_eq!(
        token_status(&api, "svc", &old).await,
        401,
        "old, grace over"
    );
    assert_eq!(token_status(&api, "svc", &new).await, 200, "new");

    let rotations = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::ClientSecretRotated),
            limit: 10,
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(rotations.len(), 1);
    assert_eq!(rotations[0].detail["grace_seconds"], 3600);
    assert_eq!(rotations[0].actor, api.actor());
}

#[tokio::test]
async fn an_admin_client_cannot_lock_itself_out() {
    // Red team: the only admin client deleted (or disabled) itself through the API, and the
    // platform was left without an admin API.
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let me = format!("/admin/v1/clients/{}", api.client.id);
    api.delete(&me).await.assert_error(409, "conflict");
    for change in [
        json!({ "enabled": false }),
        json!({ "admin": false }),
        json!({ "scope": "openid" }),
    ] {
        let answer = api.patch(&me, &change).await;
        answer.assert_error(409, "conflict");
        assert!(
            answer
                .str("error_description")
                .contains("its own admin access"),
            "{change}: {}",
            answer.body
        );
    }
    let stored = stored(&api, api.client.id.as_str()).await;
    assert!(stored.enabled && stored.admin);
    // Changes that keep its access go through, and the API still answers it.
    let answer = api.patch(&me, &json!({ "name": "Console" })).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(api.get(&me).await.status, 200);
    // Another admin client may be deleted by this one.
    let other = AdminApi::new(&app).await;
    let answer = api
        .delete(&format!("/admin/v1/clients/{}", other.client.id))
        .await;
    assert_eq!(answer.status, 204, "{}", answer.body);
}

#[tokio::test]
async fn post_logout_redirect_uris_and_web_origins_are_registered_checked_and_replaced() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let answer = api
        .post(
            "/admin/v1/clients",
            &json!({
                "name": "Browser app",
                "public": true,
                "redirect_uris": ["https://spa.example/cb"],
                "post_logout_redirect_uris": ["https://spa.example/bye"],
                "web_origins": ["https://spa.example", "http://127.0.0.1:5173", "https://spa.example"],
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        answer.body["post_logout_redirect_uris"],
        json!(["https://spa.example/bye"])
    );
    assert_eq!(
        answer.body["web_origins"],
        json!(["http://127.0.0.1:5173", "https://spa.example"]),
        "sorted, duplicates dropped"
    );
    let id = answer.body["client_id"].as_str().unwrap().to_owned();
    let stored = stored(&api, &id).await;
    assert!(stored.allows_post_logout_redirect("https://spa.example/bye"));
    assert!(!stored.allows_post_logout_redirect("https://spa.example/bye/"));
    assert!(stored.allows_origin("https://spa.example"));

    for (field, value, message) in [
        (
            "web_origins",
            json!(["https://spa.example/"]),
            "scheme://host[:port]",
        ),
        ("web_origins", json!(["http://spa.example"]), "https"),
        (
            "web_origins",
            json!(["https://*.example"]),
            "scheme://host[:port]",
        ),
        (
            "post_logout_redirect_uris",
            json!(["http://spa.example/bye"]),
            "https",
        ),
        (
            "post_logout_redirect_uris",
            json!(["https://spa.example/bye#x"]),
            "fragment",
        ),
    ] {
        let answer = api
            .patch(&format!("/admin/v1/clients/{id}"), &json!({ field: value }))
            .await;
        assert_eq!(answer.status, 400, "{field} {value}: {}", answer.body);
        assert_eq!(answer.body["error"], "invalid_request");
        let description = answer.body["error_description"].as_str().unwrap();
        assert!(description.contains(message), "{description}");
    }
    let many: Vec<String> = (0..21).map(|i| format!("https://spa{i}.example")).collect();
    let answer = api
        .patch(
            &format!("/admin/v1/clients/{id}"),
            &json!({ "web_origins": many }),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);

    let answer = api
        .patch(
            &format!("/admin/v1/clients/{id}"),
            &json!({ "web_origins": [], "post_logout_redirect_uris": ["https://spa.example/later"] }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["web_origins"], json!([]));
    assert_eq!(
        answer.body["post_logout_redirect_uris"],
        json!(["https://spa.example/later"])
    );
    let events = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::ClientUpdated),
            ..AuditFilter::default()
        })
        .await;
    let changed = &events.last().unwrap().detail["changed"];
    assert_eq!(
        changed,
        &json!(["post_logout_redirect_uris", "web_origins"])
    );
}
