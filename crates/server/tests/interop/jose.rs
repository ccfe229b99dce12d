//! jose 6 (js/jose.mjs) as a resource server: a JWT access token of each signing algorithm the
//! server offers verifies against the JWKS from discovery, and a forged one does not.

use portcullis_core::keys::SigningAlg;

use crate::kit::{MACHINE_SCOPE, app_signing_access_tokens, audience, machine_client};
use crate::script::Script;

async fn verifies(alg: SigningAlg) {
    let app = app_signing_access_tokens(alg).await;
    let (client, secret) = app.client(machine_client()).await;
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", MACHINE_SCOPE),
    ];
    let (status, tokens) = app.token(client.id.as_str(), secret.as_ref(), &form).await;
    assert_eq!(status, 200, "{tokens}");
    let result = Script::node("jose.mjs", &[])
        .await
        .env("ISSUER", &app.issuer)
        .env("AUDIENCE", audience(&app))
        .env("ACCESS_TOKEN", tokens["access_token"].as_str().unwrap())
        .result()
        .await;
    assert_eq!(
        result["protected_header"]["alg"],
        alg.as_str(),
        "{result:#}"
    );
    assert_eq!(result["protected_header"]["typ"], "at+jwt", "{result:#}");
    assert_eq!(
        result["payload"]["client_id"],
        client.id.as_str(),
        "{result:#}"
    );
    assert_eq!(result["payload"]["scope"], MACHINE_SCOPE, "{result:#}");
    assert_eq!(
        result["forged_refused"], "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        "{result:#}"
    );
}

#[tokio::test]
async fn jose_verifies_es256_access_tokens() {
    verifies(SigningAlg::Es256).await;
}

#[tokio::test]
async fn jose_verifies_eddsa_access_tokens() {
    verifies(SigningAlg::EdDsa).await;
}

#[tokio::test]
async fn jose_verifies_ps256_access_tokens() {
    verifies(SigningAlg::Ps256).await;
}

#[tokio::test]
async fn jose_verifies_rs256_access_tokens() {
    verifies(SigningAlg::Rs256).await;
}
