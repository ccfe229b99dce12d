//! oauth4webapi 3 (js/oauth4webapi.mjs): the code flow with ID token signature checks and the
//! resource server's RFC 9068 validation, and client credentials.

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
