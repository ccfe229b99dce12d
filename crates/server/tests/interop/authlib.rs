//! Authlib (python/authlib_client.py): an OpenID Connect relying party through the whole code
//! flow, client credentials, and its RFC 9068 resource-server validator, whose limits (no
//! EdDSA, no PS256) are pinned here so docs/integrations.md stays true.

use portcullis_core::client::{Client, ClientKind};
use portcullis_core::keys::SigningAlg;
use portcullis_proto::{ClientId, Secret};
use portcullis_testkit::flow::REDIRECT_URI;
use portcullis_testkit::{TestApp, spawn_app};
use serde_json::json;

use crate::kit::{
    MACHINE_SCOPE, OIDC_SCOPE, admin_token, app_signing_access_tokens, as_user,
    assert_client_token, assert_identity, audience, for_client, machine_client, oidc_client,
};
use crate::script::Script;

/// Authlib's code flow for `client`, as a new user; checks what it saw.
async fn code_flow(app: &TestApp, client: &Client, secret: &Secret) -> serde_json::Value {
    let user = app.user("ada@example.com").await;
    let script = Script::python("authlib_client.py", &["code"]).await;
    let script = for_client(script, app, client, Some(secret)).env("SCOPE", OIDC_SCOPE);
    let result = as_user(app, script, &user).await;
    assert_identity(app, &result, &user, client);
    assert_eq!(result["introspection"]["active"], true, "{result:#}");
    assert_eq!(
        result["access_token"]["sub"],
        user.id.as_str(),
        "{result:#}"
    );
    assert_eq!(result["revocation_status"], 200, "{result:#}");
    result
}

// Authlib's RFC 9068 validator (joserfc's default algorithms) takes ES256 and RS256 only, so
// the access tokens are ES256 (the server's default, said again here) and so are the ID tokens.
#[tokio::test]
async fn authlib_code_flow_with_es256_tokens() {
    let app = app_signing_access_tokens(SigningAlg::Es256).await;
    let (client, secret) = app
        .client(oidc_client(ClientKind::Confidential, SigningAlg::Es256))
        .await;
    code_flow(&app, &client, &secret.unwrap()).await;
}

/// A client registered through the admin API with nothing but a name and its redirect URIs may
/// ask for `openid profile email`, Authlib's documented scope. (It used to get `openid` alone;
/// Authlib then ignored the `invalid_scope` redirect, guessed `client_credentials` for the code
/// it did not get and reported the server's `unauthorized_client`.)
#[tokio::test]
async fn authlib_code_flow_for_a_client_registered_without_a_scope_list() {
    let app = spawn_app().await;
    let token = admin_token(&app).await;
    let response = app
        .http
        .post(app.url("/admin/v1/clients"))
        .bearer_auth(token)
        .json(&json!({
            "name": "Defaults",
            "redirect_uris": [REDIRECT_URI],
            "post_logout_redirect_uris": [crate::logout::POST_LOGOUT_REDIRECT_URI],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let view: serde_json::Value = response.json().await.unwrap();
    let secret = Secret::new(view["client_secret"].as_str().unwrap());
    let client =
        crate::kit::stored_client(&app, &ClientId::new(view["client_id"].as_str().unwrap())).await;
    code_flow(&app, &client, &secret).await;
}

#[tokio::test]
async fn authlib_client_credentials() {
    let app = app_signing_access_tokens(SigningAlg::Es256).await;
    let (client, secret) = app.client(machine_client()).await;
    let script = Script::python("authlib_client.py", &["client-credentials"]).await;
    let result = for_client(script, &app, &client, secret.as_ref())
        .env("SCOPE", MACHINE_SCOPE)
        .result()
        .await;
    assert_client_token(&result, &client, MACHINE_SCOPE);
}

/// What Authlib's validator says of a client-credentials token signed with the app's alg.
async fn rfc9068_on(alg: SigningAlg) -> serde_json::Value {
    let app = app_signing_access_tokens(alg).await;
    let (client, secret) = app.client(machine_client()).await;
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", MACHINE_SCOPE),
    ];
    let (status, tokens) = app.token(client.id.as_str(), secret.as_ref(), &form).await;
    assert_eq!(status, 200, "{tokens}");
    Script::python("authlib_client.py", &["rfc9068"])
        .await
        .env("ISSUER", &app.issuer)
        .env("AUDIENCE", audience(&app))
        .env("ACCESS_TOKEN", tokens["access_token"].as_str().unwrap())
        .result()
        .await
}

/// A limit of Authlib, not of the server: its RFC 9068 validator decodes with joserfc's
/// recommended algorithms, which leave out EdDSA and PS256. Resource servers on Authlib need
/// `access_token_alg = "ES256"` (the default) or `RS256`. If Authlib lifts this, this test
/// says so and docs/integrations.md should change.
#[tokio::test]
async fn authlib_rfc9068_validator_refuses_eddsa_and_ps256_access_tokens() {
    let es256 = rfc9068_on(SigningAlg::Es256).await;
    assert!(es256["refused"].is_null(), "{es256:#}");
    let rs256 = rfc9068_on(SigningAlg::Rs256).await;
    assert!(rs256["refused"].is_null(), "{rs256:#}");
    for result in [
        rfc9068_on(SigningAlg::EdDsa).await,
        rfc9068_on(SigningAlg::Ps256).await,
    ] {
        assert!(result["claims"].is_null(), "{result:#}");
        assert!(result["refused"].is_string(), "{result:#}");
    }
}
