//! oauth4webapi 3 (js/oauth4webapi.mjs): the code flow with ID token signature checks and the
//! resource server's RFC 9068 validation, client credentials, and the code flow with DPoP.

use portcullis_core::client::ClientKind;
use portcullis_core::keys::SigningAlg;
use portcullis_testkit::spawn_app;

use crate::kit::{
    OIDC_SCOPE, as_user, assert_client_token, assert_identity, audience, for_client,
    machine_client, oidc_client,
};
use crate::script::Script;

#[tokio::test]
async fn oauth4webapi_code_flow_validates_ps256_id_tokens_and_jwt_access_tokens() {
    let app = spawn_app().await;
    let (client, secret) = app
        .client(oidc_client(ClientKind::Confidential, SigningAlg::Ps256))
        .await;
    let user = app.user("ada@example.com").await;
    let script = Script::node("oauth4webapi.mjs", &["code"]).await;
    let script = for_client(script, &app, &client, secret.as_ref()).env("SCOPE", OIDC_SCOPE);
    let result = as_user(&app, script, &user).await;
    assert_identity(&app, &result, &user, &client);
    assert_eq!(result["introspection"]["active"], true, "{result:#}");
    let access_token = &result["access_token"];
    assert_eq!(access_token["sub"], user.id.as_str(), "{result:#}");
    assert_eq!(access_token["aud"], audience(&app), "{result:#}");
    assert_eq!(access_token["client_id"], client.id.as_str(), "{result:#}");
    assert_eq!(result["revoked_access_token_active"], false, "{result:#}");
}

#[tokio::test]
async fn oauth4webapi_client_credentials_token_passes_rfc9068_validation() {
    let app = spawn_app().await;
    let (client, secret) = app.client(machine_client()).await;
    let script = Script::node("oauth4webapi.mjs", &["client-credentials"]).await;
    let result = for_client(script, &app, &client, secret.as_ref())
        .env("SCOPE", "orders:read")
        .result()
        .await;
    assert_client_token(&result, &client, "orders:read");
}

async fn dpop_flow(mode: &str) -> serde_json::Value {
    let app = spawn_app().await;
    let (client, secret) = app
        .client(portcullis_core::admin::clients::NewClient {
            // The resource API's /api/v1/me needs profile:read.
            scopes: portcullis_proto::ScopeSet::parse("openid profile email profile:read").unwrap(),
            ..oidc_client(ClientKind::Confidential, SigningAlg::Es256)
        })
        .await;
    let user = app.user("ada@example.com").await;
    let script = Script::node("oauth4webapi.mjs", &[mode]).await;
    let script = for_client(script, &app, &client, secret.as_ref())
        .env("SCOPE", "openid email profile:read");
    let result = as_user(&app, script, &user).await;
    let jkt = result["jkt"].as_str().expect("a thumbprint");
    assert_eq!(result["token_type"], "dpop", "{result:#}");
    assert_eq!(result["access_token"]["cnf"]["jkt"], jkt, "{result:#}");
    assert_eq!(result["userinfo"]["sub"], user.id.as_str(), "{result:#}");
    assert_eq!(result["api_status"], 200, "{result:#}");
    assert_eq!(result["api_body"]["id"], user.id.as_str(), "{result:#}");
    // Sent as Bearer, the bound token is refused with a DPoP challenge.
    assert_eq!(
        result["as_bearer"]["errors"][0], "invalid_token",
        "{result:#}"
    );
    assert_eq!(result["as_bearer"]["schemes"][0], "dpop", "{result:#}");
    assert_eq!(result["refreshed_token_type"], "dpop", "{result:#}");
    assert_eq!(
        result["refreshed_access_token"]["cnf"]["jkt"], jkt,
        "{result:#}"
    );
    assert_eq!(result["introspection"]["cnf"]["jkt"], jkt, "{result:#}");
    assert_eq!(result["introspection"]["token_type"], "DPoP", "{result:#}");
    result
}

#[tokio::test]
async fn oauth4webapi_dpop_code_flow_binds_tokens_answers_the_nonce_and_uses_them() {
    let result = dpop_flow("dpop").await;
    assert_eq!(result["pushed_with_nonce_retry"], serde_json::Value::Null);
    assert_eq!(
        result["first_exchange_retried_for_nonce"], true,
        "the token endpoint asks for a nonce: {result:#}"
    );
}

#[tokio::test]
async fn oauth4webapi_pushes_the_request_with_a_proof_and_gets_key_bound_tokens() {
    let result = dpop_flow("par-dpop").await;
    assert_eq!(
        result["pushed_with_nonce_retry"], true,
        "the pushed request endpoint asks for a nonce: {result:#}"
    );
    assert_eq!(
        result["first_exchange_retried_for_nonce"], false,
        "the nonce from the push is still good at the token endpoint: {result:#}"
    );
}
