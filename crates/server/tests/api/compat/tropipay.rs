//! The TropiPay guide (seed 003) as written: a back-end asks `POST /api/v2/access/token` for a
//! token with its client id and secret, and a resource server verifies it locally with the
//! published public key — never calling the authorization server again.

use std::collections::BTreeSet;

use portcullis_core::admin::clients::NewClient;
use portcullis_core::client::GrantType;
use portcullis_proto::ScopeSet;
use portcullis_testkit::{AppOptions, spawn_app_with};
use serde_json::{Value, json};

/// An app with the TropiPay profile on and the guide's back-end registered.
async fn tropipay_app() -> (
    portcullis_testkit::TestApp,
    portcullis_core::client::Client,
    portcullis_proto::Secret,
) {
    let app = spawn_app_with(AppOptions {
        configure: |c| {
            c.compat
                .profiles
                .insert(portcullis_http::compat::Profile::Tropipay);
        },
        ..AppOptions::default()
    })
    .await
    .unwrap();
    let (client, secret) = app
        .client(NewClient {
            grant_types: BTreeSet::from([GrantType::ClientCredentials]),
            scopes: ScopeSet::parse("wallet:read").unwrap(),
            ..NewClient::confidential("External App")
        })
        .await;
    let secret = secret.unwrap();
    (app, client, secret)
}

#[tokio::test]
async fn tropipay_guide_client_credentials_verified_locally() {
    let (app, client, secret) = tropipay_app().await;
    let http = reqwest::Client::new();
    // "POST /api/v2/access/token ... specifying the Client_Id and the Client_Secret": as JSON,
    // and as a form.
    let as_json: Value = http
        .post(app.url("/api/v2/access/token"))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": client.id.as_str(),
            "client_secret": secret.expose(),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let as_form: Value = http
        .post(app.url("/api/v2/access/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client.id.as_str()),
            ("client_secret", secret.expose()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // "a solid default is one hour".
    assert_eq!(as_json["expires_in"], 3600);
    assert_eq!(as_form["expires_in"], 3600);

    // The resource server: the public key, once; then local checks only.
    let jwks: jsonwebtoken::jwk::JwkSet = http
        .get(app.url("/oauth/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = as_json["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("key published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_issuer(&[app.base.as_str()]);
    validation.set_audience(&[app.base.as_str()]);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], client.id.as_str());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    // Tampering is caught without the server.
    let mut tampered = token.to_owned();
    tampered.push('A');
    assert!(jsonwebtoken::decode::<Value>(&tampered, &key, &validation).is_err());
}

#[tokio::test]
async fn tropipay_guide_body_without_grant_type_means_client_credentials_on_its_path_only() {
    let (app, client, secret) = tropipay_app().await;
    let http = reqwest::Client::new();
    // The guide, literally: "specifying the Client_Id and the Client_Secret", nothing else.
    let body = json!({ "client_id": client.id.as_str(), "client_secret": secret.expose() });
    let response = http
        .post(app.url("/api/v2/access/token"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(
        tokens["access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    // The standard endpoint still requires grant_type (RFC 6749 §4.4.2).
    let response = http
        .post(app.url("/oauth/token"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"], "invalid_request");
}
