//! `private_key_jwt` client authentication (RFC 7523, OpenID Connect Core §9): assertions made
//! by an independent JWT library (`jsonwebtoken`), at the token, introspection, revocation and
//! pushed authorization request endpoints; each rule broken once.

use portcullis_core::admin::clients::NewClient;
use portcullis_core::client::Client;
use portcullis_core::time::Clock as _;
use portcullis_testkit::flow::{Pkce, confidential, request};
use portcullis_testkit::{TestApp, spawn_app};
use serde_json::{Value, json};

use super::dpop::DpopKey;
use crate::oauth_kit::Answer;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn app_with_keyed_client() -> (TestApp, Client, DpopKey) {
    let app = spawn_app().await;
    let key = DpopKey::es256();
    let (client, secret) = app
        .client(NewClient {
            jwks: Some(json!({"keys": [key.public_jwk("k1")]})),
            ..confidential("Keyed")
        })
        .await;
    assert!(secret.is_none(), "a client with keys gets no secret");
    (app, client, key)
}

/// The claims of a good assertion of `client` for `aud`.
fn claims(app: &TestApp, client: &Client, aud: &str, jti: &str) -> Value {
    let now = app.clock.now().0;
    json!({
        "iss": client.id.as_str(),
        "sub": client.id.as_str(),
        "aud": aud,
        "jti": jti,
        "iat": now,
        "exp": now + 60,
    })
}

/// `POST path` with `form` and the assertion.
async fn post(app: &TestApp, path: &str, assertion: &str, form: &[(&str, &str)]) -> Answer {
    let mut fields = form.to_vec();
    fields.push(("client_assertion_type", ASSERTION_TYPE));
    fields.push(("client_assertion", assertion));
    Answer::of(
        app.http
            .post(app.url(path))
            .form(&fields)
            .send()
            .await
            .unwrap(),
    )
    .await
}

const CC: [(&str, &str); 1] = [("grant_type", "client_credentials")];

#[tokio::test]
async fn a_client_with_registered_keys_authenticates_with_signed_assertions() {
    let (app, client, key) = app_with_keyed_client().await;
    // aud may be the issuer (FAPI 2.0 requires it be accepted) or the endpoint's URL.
    let issuer = app.issuer.clone();
    let by_issuer = key.assertion("k1", &claims(&app, &client, &issuer, "j-1"));
    let answer = post(&app, "/oauth/token", &by_issuer, &CC).await;
    let access = answer.assert_tokens()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let endpoint = app.url("/oauth/token");
    let by_endpoint = key.assertion("k1", &claims(&app, &client, &endpoint, "j-2"));
    post(&app, "/oauth/token", &by_endpoint, &CC)
        .await
        .assert_tokens();
    // In an array, too.
    let mut listed = claims(&app, &client, "unused", "j-3");
    listed["aud"] = json!(["https://other.example", issuer]);
    post(&app, "/oauth/token", &key.assertion("k1", &listed), &CC)
        .await
        .assert_tokens();

    // Introspection and revocation take assertions with their own URL as aud.
    let introspect = app.url("/oauth/introspect");
    let report = post(
        &app,
        "/oauth/introspect",
        &key.assertion("k1", &claims(&app, &client, &introspect, "j-4")),
        &[("token", access.as_str())],
    )
    .await;
    assert_eq!(report.body["active"], true, "{}", report.body);
    let revoke = app.url("/oauth/revoke");
    let revoked = post(
        &app,
        "/oauth/revoke",
        &key.assertion("k1", &claims(&app, &client, &revoke, "j-5")),
        &[("token", access.as_str())],
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);

    // And the pushed authorization request endpoint.
    let pkce = Pkce::new();
    let form = request(client.id.as_str(), &pkce, "openid");
    let par = app.url("/oauth/par");
    let pushed = post(
        &app,
        "/oauth/par",
        &key.assertion("k1", &claims(&app, &client, &par, "j-6")),
        &form,
    )
    .await;
    assert_eq!(pushed.status, 201, "{}", pushed.body);
}

#[tokio::test]
async fn every_broken_rule_of_an_assertion_is_invalid_client() {
    let (app, client, key) = app_with_keyed_client().await;
    let issuer = app.issuer.clone();
    let good = |jti: &str| claims(&app, &client, &issuer, jti);
    let with = |jti: &str, name: &str, value: Value| {
        let mut c = good(jti);
        c[name] = value;
        c
    };
    let without = |jti: &str, name: &str| {
        let mut c = good(jti);
        c.as_object_mut().unwrap().remove(name);
        c
    };
    let now = app.clock.now().0;
    let stranger = DpopKey::es256();
    let cases: Vec<(&str, String)> = vec![
        (
            "foreign aud",
            key.assertion("k1", &with("b-1", "aud", json!("https://other.example"))),
        ),
        (
            "another endpoint's URL",
            key.assertion("k1", &with("b-2", "aud", json!(app.url("/oauth/par")))),
        ),
        (
            "iss not the client",
            key.assertion("k1", &with("b-3", "sub", json!("someone"))),
        ),
        (
            "expired",
            key.assertion("k1", &with("b-4", "exp", json!(now - 11))),
        ),
        ("no exp", key.assertion("k1", &without("b-5", "exp"))),
        (
            "exp too far",
            key.assertion("k1", &with("b-6", "exp", json!(now + 3_600))),
        ),
        (
            "future iat",
            key.assertion("k1", &with("b-7", "iat", json!(now + 60))),
        ),
        ("no jti", key.assertion("k1", &without("b-8", "jti"))),
        ("another key", stranger.assertion("k1", &good("b-9"))),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (why, assertion) in cases {
        let answer = post(&app, "/oauth/token", &assertion, &CC).await;
        assert_eq!(answer.status, 401, "{why}: {}", answer.body);
        assert_eq!(answer.body["error"], "invalid_client", "{why}");
    }
    // A jti is accepted once.
    let once = key.assertion("k1", &good("r-1"));
    post(&app, "/oauth/token", &once, &CC).await.assert_tokens();
    post(&app, "/oauth/token", &once, &CC)
        .await
        .assert_error(401, "invalid_client");
    // A secret never works for such a client, nor does sending no credentials.
    crate::oauth_kit::token(
        &app,
        client.id.as_str(),
        Some(&portcullis_proto::Secret::new("guess")),
        &CC,
    )
    .await
    .assert_error(401, "invalid_client");
    // The assertion type must be jwt-bearer, and alone.
    let fields = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", "urn:example:other"),
        ("client_assertion", once.as_str()),
    ];
    let answer = Answer::of(
        app.http
            .post(app.url("/oauth/token"))
            .form(&fields)
            .send()
            .await
            .unwrap(),
    )
    .await;
    answer.assert_error(400, "invalid_request");
    let fresh = key.assertion("k1", &good("m-1"));
    let mut fields = CC.to_vec();
    fields.push(("client_assertion_type", ASSERTION_TYPE));
    fields.push(("client_assertion", fresh.as_str()));
    let answer = Answer::of(
        app.http
            .post(app.url("/oauth/token"))
            .basic_auth(client.id.as_str(), Some("x"))
            .form(&fields)
            .send()
            .await
            .unwrap(),
    )
    .await;
    answer.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn discovery_lists_private_key_jwt_and_its_algorithms() {
    let app = spawn_app().await;
    let metadata = crate::oauth_kit::metadata(&app).await;
    for field in [
        "token_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
    ] {
        assert!(
            metadata[field]
                .as_array()
                .unwrap()
                .contains(&json!("private_key_jwt")),
            "{field}"
        );
    }
    assert_eq!(
        metadata["token_endpoint_auth_signing_alg_values_supported"],
        json!(["ES256", "PS256", "EdDSA", "Ed25519"])
    );
}
