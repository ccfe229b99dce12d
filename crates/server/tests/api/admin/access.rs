//! Who may call the admin API: only a token with the `admin` scope that an enabled client
//! registered as admin obtained for itself. Every other caller is refused on every admin
//! operation, with the RFC 6750 status and error, and nothing is done.

use std::collections::BTreeSet;

use portcullis_core::admin::clients::NewClient;
use portcullis_core::client::GrantType;
use portcullis_core::store::ClientStore as _;
use portcullis_proto::{ClientId, ScopeSet};
use portcullis_testkit::flow::confidential;
use portcullis_testkit::{TestApp, spawn_app};
use serde_json::{Value, json};

use crate::admin_kit::{AdminApi, admin_client, challenge};
use crate::oauth_kit::{Answer, client_credentials, revoke, user_tokens};

/// Every admin operation the OpenAPI document lists: (method, path with `{id}` filled in).
async fn admin_operations(app: &TestApp) -> Vec<(reqwest::Method, String)> {
    let doc: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/admin/v1/") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let path = path
                .replace("{id}", "intruder")
                .replace("{client_id}", "intruder");
            operations.push((method, path));
        }
    }
    assert_eq!(operations.len(), 17, "{operations:?}");
    operations
}

/// What an intruder would send: a body that would create or change something.
fn body() -> Value {
    json!({"client_id": "intruder", "name": "Intruder", "redirect_uris": ["https://evil.example/cb"]})
}

async fn call(
    app: &TestApp,
    method: &reqwest::Method,
    path: &str,
    authorization: Option<&str>,
) -> Answer {
    let mut request = app.http.request(method.clone(), app.url(path));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if *method != reqwest::Method::GET && *method != reqwest::Method::DELETE {
        request = request.json(&body());
    }
    Answer::of(request.send().await.unwrap()).await
}

/// Every admin operation answers `status` and `error` to `authorization`, with a challenge
/// that `check` accepts.
async fn refused_everywhere(
    app: &TestApp,
    operations: &[(reqwest::Method, String)],
    who: &str,
    authorization: Option<&str>,
    status: u16,
    error: &str,
    check: impl Fn(&str) -> bool,
) {
    for (method, path) in operations {
        let answer = call(app, method, path, authorization).await;
        assert_eq!(
            answer.status, status,
            "{who}: {method} {path}: {}",
            answer.body
        );
        answer.assert_error(status, error);
        let challenge = challenge(&answer);
        assert!(check(&challenge), "{who}: {method} {path}: {challenge}");
    }
}

fn insufficient_admin_scope(challenge: &str) -> bool {
    challenge.starts_with("Bearer realm=\"portcullis\"")
        && challenge.contains("error=\"insufficient_scope\"")
        && challenge.contains("scope=\"admin\"")
}

fn invalid_token(challenge: &str) -> bool {
    challenge.starts_with("Bearer realm=\"portcullis\"")
        && challenge.contains("error=\"invalid_token\"")
}

#[tokio::test]
async fn only_an_admin_clients_own_token_opens_the_admin_api() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let operations = admin_operations(&app).await;

    // No token at all: 401 with a bare challenge (RFC 6750 §3.1).
    refused_everywhere(
        &app,
        &operations,
        "no token",
        None,
        401,
        "invalid_token",
        |c| c == "Bearer realm=\"portcullis\"",
    )
    .await;
    // Another scheme is no bearer token either.
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", api.client.id, api.secret.expose())
        )
    );
    refused_everywhere(
        &app,
        &operations,
        "Basic",
        Some(&basic),
        401,
        "invalid_token",
        |c| c == "Bearer realm=\"portcullis\"",
    )
    .await;

    // A client's token without the admin scope.
    let (plain, plain_secret) = app.client(confidential("Back office")).await;
    let token = client_credentials(&app, &plain, &plain_secret.unwrap(), Some("wallet:read"))
        .await
        .str("access_token");
    let bearer = format!("Bearer {token}");
    refused_everywhere(
        &app,
        &operations,
        "client token without admin",
        Some(&bearer),
        403,
        "insufficient_scope",
        insufficient_admin_scope,
    )
    .await;

    // A user's token from the code flow (users can never be granted `admin`).
    let (client, secret) = app.client(confidential("Wallet app")).await;
    app.user("ada@example.com").await;
    let tokens = user_tokens(
        &app,
        &client,
        secret.as_ref(),
        "ada@example.com",
        "openid email",
    )
    .await;
    let bearer = format!("Bearer {}", tokens.str("access_token"));
    refused_everywhere(
        &app,
        &operations,
        "user token",
        Some(&bearer),
        403,
        "insufficient_scope",
        insufficient_admin_scope,
    )
    .await;

    // A client that may ask for `admin` but is not registered as admin.
    let (pretender, pretender_secret) = app
        .client(NewClient {
            grant_types: BTreeSet::from([GrantType::ClientCredentials]),
            scopes: ScopeSet::parse("admin wallet:read").unwrap(),
            ..confidential("Pretender")
        })
        .await;
    let answer =
        client_credentials(&app, &pretender, &pretender_secret.unwrap(), Some("admin")).await;
    assert_eq!(
        answer.assert_tokens()["scope"],
        "admin",
        "the token has the scope"
    );
    let bearer = format!("Bearer {}", answer.str("access_token"));
    refused_everywhere(
        &app,
        &operations,
        "admin scope, not an admin client",
        Some(&bearer),
        403,
        "insufficient_scope",
        |c| insufficient_admin_scope(c) && c.contains("a client registered as admin"),
    )
    .await;

    // Garbage, a tampered token, and an empty bearer credential.
    refused_everywhere(
        &app,
        &operations,
        "garbage",
        Some("Bearer not-a-token"),
        401,
        "invalid_token",
        invalid_token,
    )
    .await;
    // One character of the signature changed (not the last, whose low bits may be padding).
    let signature_start = api.token.rfind('.').unwrap() + 1;
    let mut tampered: Vec<char> = api.token.chars().collect();
    let at = signature_start + 5;
    tampered[at] = if tampered[at] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let answer = call(
        &app,
        &reqwest::Method::GET,
        "/admin/v1/clients",
        Some(&format!("Bearer {tampered}")),
    )
    .await;
    answer.assert_error(401, "invalid_token");
    let answer = call(
        &app,
        &reqwest::Method::GET,
        "/admin/v1/clients",
        Some("Bearer "),
    )
    .await;
    answer.assert_error(400, "invalid_request");

    // None of it did anything.
    let intruder = app.store.client(&ClientId::new("intruder")).await.unwrap();
    assert!(intruder.is_none());
    let (all, _) = api.all_pages("/admin/v1/clients", 200).await;
    assert_eq!(all.len(), 4, "admin, back office, wallet app, pretender");

    // The admin client's own token works on every operation (none answers 401 or 403).
    for (method, path) in &operations {
        let answer = call(&app, method, path, Some(&format!("Bearer {}", api.token))).await;
        assert!(
            ![401, 403].contains(&answer.status.as_u16()),
            "{method} {path}: {} {}",
            answer.status,
            answer.body
        );
    }
}

#[tokio::test]
async fn tokens_of_disabled_demoted_or_revoked_admin_clients_and_expired_tokens_are_refused() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let operations = admin_operations(&app).await;

    // Disabled: its tokens are no longer active (401), and it gets no new ones.
    let (other, other_secret) = app.client(admin_client("Second console")).await;
    let other_secret = other_secret.unwrap();
    let token = client_credentials(&app, &other, &other_secret, Some("admin"))
        .await
        .str("access_token");
    let bearer = format!("Bearer {token}");
    assert_eq!(
        call(
            &app,
            &reqwest::Method::GET,
            "/admin/v1/clients",
            Some(&bearer)
        )
        .await
        .status,
        200
    );
    let answer = api
        .patch(
            &format!("/admin/v1/clients/{}", other.id),
            &json!({"enabled": false}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    refused_everywhere(
        &app,
        &operations,
        "disabled admin client",
        Some(&bearer),
        401,
        "invalid_token",
        invalid_token,
    )
    .await;
    client_credentials(&app, &other, &other_secret, Some("admin"))
        .await
        .assert_error(401, "invalid_client");

    // No longer flagged admin: its live token is refused (403).
    api.patch(
        &format!("/admin/v1/clients/{}", other.id),
        &json!({"enabled": true, "admin": false}),
    )
    .await;
    let token = client_credentials(&app, &other, &other_secret, Some("admin"))
        .await
        .str("access_token");
    let answer = call(
        &app,
        &reqwest::Method::GET,
        "/admin/v1/users",
        Some(&format!("Bearer {token}")),
    )
    .await;
    answer.assert_error(403, "insufficient_scope");

    // Revoked through RFC 7009: refused at once.
    let (third, third_secret) = app.client(admin_client("Third console")).await;
    let third_secret = third_secret.unwrap();
    let token = client_credentials(&app, &third, &third_secret, None)
        .await
        .str("access_token");
    assert_eq!(
        revoke(&app, &third, Some(&third_secret), &token)
            .await
            .status,
        200
    );
    let answer = call(
        &app,
        &reqwest::Method::GET,
        "/admin/v1/users",
        Some(&format!("Bearer {token}")),
    )
    .await;
    answer.assert_error(401, "invalid_token");

    // Expired: the admin's own token, an hour later.
    app.clock.advance(3601);
    let bearer = format!("Bearer {}", api.token);
    refused_everywhere(
        &app,
        &operations,
        "expired",
        Some(&bearer),
        401,
        "invalid_token",
        |c| invalid_token(c) && c.contains("expired"),
    )
    .await;
}
