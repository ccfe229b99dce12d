//! openid-client 6 (js/openid_client.mjs): a confidential and a public relying party through
//! the whole code flow, and client credentials.

use portcullis_core::client::ClientKind;
use portcullis_core::keys::SigningAlg;
use portcullis_testkit::spawn_app;

use crate::kit::{
    OIDC_SCOPE, as_user, assert_client_token, assert_identity, for_client, machine_client,
    oidc_client,
};
use crate::script::Script;

#[tokio::test]
async fn openid_client_confidential_code_flow_validates_eddsa_id_tokens() {
    let app = spawn_app().await;
    let (client, secret) = app
        .client(oidc_client(ClientKind::Confidential, SigningAlg::EdDsa))
        .await;
    let user = app.user("ada@example.com").await;
    let script = Script::node("openid_client.mjs", &["code"]).await;
    let script = for_client(script, &app, &client, secret.as_ref()).env("SCOPE", OIDC_SCOPE);
    let result = as_user(&app, script, &user).await;
    assert_identity(&app, &result, &user, &client);
    assert_eq!(result["id_token_header_alg"], "EdDSA", "{result:#}");
    assert_eq!(result["introspection"]["active"], true, "{result:#}");
    assert_eq!(
        result["introspection"]["sub"],
        user.id.as_str(),
        "{result:#}"
    );
}

#[tokio::test]
async fn openid_client_public_code_flow_with_pkce_and_no_secret() {
    let app = spawn_app().await;
    let (client, _) = app
        .client(oidc_client(ClientKind::Public, SigningAlg::Rs256))
        .await;
    let user = app.user("grace@example.com").await;
    let script = Script::node("openid_client.mjs", &["public"]).await;
    let script = for_client(script, &app, &client, None).env("SCOPE", OIDC_SCOPE);
    let result = as_user(&app, script, &user).await;
    assert_identity(&app, &result, &user, &client);
    assert_eq!(result["id_token_header_alg"], "RS256", "{result:#}");
}

#[tokio::test]
async fn openid_client_client_credentials() {
    let app = spawn_app().await;
    let (client, secret) = app.client(machine_client()).await;
    let script = Script::node("openid_client.mjs", &["client-credentials"]).await;
    let result = for_client(script, &app, &client, secret.as_ref())
        .env("SCOPE", "orders:read")
        .result()
        .await;
    assert_client_token(&result, &client, "orders:read");
    assert!(result["refresh_token"].is_null(), "{result:#}");
}

#[tokio::test]
async fn openid_client_public_client_with_dpop_gets_key_bound_access_and_refresh_tokens() {
    let app = spawn_app().await;
    let (client, _) = app
        .client(portcullis_core::admin::clients::NewClient {
            // The resource API's /api/v1/me needs profile:read.
            scopes: portcullis_proto::ScopeSet::parse("openid profile email profile:read").unwrap(),
            ..oidc_client(ClientKind::Public, SigningAlg::Rs256)
        })
        .await;
    let user = app.user("grace@example.com").await;
    let script = Script::node("openid_client.mjs", &["public-dpop"]).await;
    let script = for_client(script, &app, &client, None).env("SCOPE", "openid email profile:read");
    let result = as_user(&app, script, &user).await;
    assert_eq!(result["token_type"], "dpop", "{result:#}");
    let jkt = result["access_token"]["cnf"]["jkt"]
        .as_str()
        .expect("a bound access token");
    assert_eq!(result["api_status"], 200, "{result:#}");
    assert_eq!(result["api_body"]["id"], user.id.as_str(), "{result:#}");
    assert_eq!(result["refreshed_token_type"], "dpop", "{result:#}");
    assert_eq!(
        result["refreshed_access_token"]["cnf"]["jkt"], jkt,
        "{result:#}"
    );
    assert_eq!(
        result["refresh_without_key"]["error"], "invalid_dpop_proof",
        "{result:#}"
    );
    assert_eq!(result["refreshed_again"], "dpop", "{result:#}");
}
