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

/// A P-256 key for private_key_jwt: its PKCS #8 document (base64) and its public JWK.
fn client_key() -> (String, serde_json::Value) {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let point = pair.public_key().as_ref();
    let jwk = serde_json::json!({
        "kty": "EC", "crv": "P-256", "kid": "interop-1",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    });
    (STANDARD.encode(pkcs8.as_ref()), jwk)
}

/// The DPoP code flow of `mode`; with `private_key_jwt`, the client authenticates with an
/// assertion signed by a key it registered, and has no secret.
async fn dpop_flow_with(mode: &str, private_key_jwt: bool) -> serde_json::Value {
    let app = spawn_app().await;
    let key = private_key_jwt.then(client_key);
    let (client, secret) = app
        .client(portcullis_core::admin::clients::NewClient {
            // The resource API's /api/v1/me needs profile:read.
            scopes: portcullis_proto::ScopeSet::parse("openid profile email profile:read").unwrap(),
            jwks: key
                .as_ref()
                .map(|(_, jwk)| serde_json::json!({ "keys": [jwk] })),
            ..oidc_client(ClientKind::Confidential, SigningAlg::Es256)
        })
        .await;
    let user = app.user("ada@example.com").await;
    let script = Script::node("oauth4webapi.mjs", &[mode]).await;
    let mut script = for_client(script, &app, &client, secret.as_ref())
        .env("SCOPE", "openid email profile:read");
    if let Some((pkcs8, _)) = &key {
        script = script
            .env("CLIENT_PRIVATE_KEY", pkcs8)
            .env("CLIENT_KEY_ID", "interop-1");
    }
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

async fn dpop_flow(mode: &str) -> serde_json::Value {
    dpop_flow_with(mode, false).await
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

/// FAPI 2.0's parts together, as oauth4webapi drives them: the request pushed with
/// private_key_jwt and a DPoP proof (nonce retried), the code bound to the key, the exchange,
/// refresh, introspection and revocation authenticated with assertions, and userinfo and the
/// resource API with proofs.
#[tokio::test]
async fn oauth4webapi_runs_par_private_key_jwt_and_dpop_together() {
    let result = dpop_flow_with("par-dpop", true).await;
    assert_eq!(result["pushed_with_nonce_retry"], true, "{result:#}");
}
