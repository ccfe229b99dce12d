//! The access-token verifier against crafted tokens and a mocked JWKS: every way a token must
//! be refused, the JWKS refetch on an unknown `kid` and its rate limit, and the axum layer.

use std::time::Duration;

use aws_lc_rs::hmac;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use portcullis_client::verifier::axum::Authenticated;
use portcullis_client::verifier::{Verifier, VerifyError};
use serde_json::{Value, json};
use tower::ServiceExt as _;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{TestKey, b64_json, claims, now};

/// A JWKS server publishing `keys`, and a verifier of tokens of its issuer.
async fn setup(keys: &[&TestKey]) -> (MockServer, Verifier, String) {
    let server = MockServer::start().await;
    publish(&server, keys).await;
    let issuer = server.uri();
    let verifier = Verifier::builder(&issuer)
        .jwks_uri(format!("{issuer}/oauth/jwks"))
        .build()
        .await
        .unwrap();
    (server, verifier, issuer)
}

async fn publish(server: &MockServer, keys: &[&TestKey]) {
    server.reset().await;
    let set: Vec<Value> = keys.iter().map(|k| k.jwk()).collect();
    Mock::given(path("/oauth/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "keys": set })))
        .mount(server)
        .await;
}

async fn jwks_fetches(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn a_valid_token_is_accepted_with_its_claims() {
    let key = TestKey::new("k1");
    let (_server, verifier, issuer) = setup(&[&key]).await;
    let token = key.sign(&key.header(), &claims(&issuer, "wallet:read profile:read"));
    let verified = verifier
        .verify_with_scopes(&token, &["wallet:read"])
        .await
        .unwrap();
    assert_eq!(verified.sub, "user-1");
    assert_eq!(verified.client_id, "app");
    assert!(verified.has_scope("profile:read"));
    assert_eq!(verified.gid.as_deref(), Some("g1"));
}

#[tokio::test]
async fn alg_none_is_refused() {
    let key = TestKey::new("k1");
    let (_server, verifier, issuer) = setup(&[&key]).await;
    let header = json!({"alg": "none", "typ": "at+jwt", "kid": "k1"});
    let token = format!(
        "{}.{}.",
        b64_json(&header),
        b64_json(&claims(&issuer, "wallet:read"))
    );
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        VerifyError::UnsupportedAlgorithm("none".into())
    );
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let key = TestKey::new("k1");
    let (_server, verifier, issuer) = setup(&[&key]).await;
    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": "k1"});
    let input = format!(
        "{}.{}",
        b64_json(&header),
        b64_json(&claims(&issuer, "wallet:read"))
    );
    // The classic confusion attack: the public key, which anyone has, as the HMAC secret.
    for secret in [key.public_bytes(), serde_json::to_vec(&key.jwk()).unwrap()] {
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &secret),
            input.as_bytes(),
        );
        let token = format!(
            "{input}.{}",
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                tag.as_ref()
            )
        );
        assert_eq!(
            verifier.verify(&token).await.unwrap_err(),
            VerifyError::UnsupportedAlgorithm("HS256".into())
        );
    }
}

#[tokio::test]
async fn a_token_whose_alg_is_not_its_keys_is_refused() {
    let key = TestKey::new("k1");
    let (_server, verifier, issuer) = setup(&[&key]).await;
    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": "k1"});
    let token = key.sign(&header, &claims(&issuer, "wallet:read"));
    assert!(matches!(
        verifier.verify(&token).await.unwrap_err(),
        VerifyError::KeyAlgorithmMismatch { .. }
    ));
}

#[tokio::test]
async fn a_wrong_typ_is_refused() {
    let key = TestKey::new("k1");
    let (_server, verifier, issuer) = setup(&[&key]).await;
    for typ in [Some("JWT"), None] {
        let mut header = key.header();
        match typ {
            Some(t) => header["typ"] = json!(t),
            None => {
                header.as_object_mut().unwrap().remove("typ");
            }
        }
        let token = key.sign(&header, &claims(&issuer, "wallet:read"));
        assert_eq!(
            verifier.verify(&token).await.unwrap_err(),
            VerifyError::WrongType(typ.map(str::to_owned))
        );
    }
}

#[tokio::test]
async fn a_wrong_issuer_is_refused() {
    let key = TestKey::new("k1");
    let (_server, verifier, issuer) = setup(&[&key]).await;
    let mut claims = claims(&issuer, "wallet:read");
    claims["iss"] = json!("https://evil.example");
    let token = key.sign(&key.header(), &claims);
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        VerifyError::WrongIssuer("https://evil.example".into())
    );
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    let key = TestKey::new("k1");
    let (_server, verifier, issuer) = setup(&[&key]).await;
    for aud in [json!("https://other-api.example"), json!(["a", "b"])] {
        let mut claims = claims(&issuer, "wallet:read");
        claims["aud"] = aud;
        let token = key.sign(&key.header(), &claims);
        assert_eq!(
            verifier.verify(&token).await.unwrap_err(),
            VerifyError::WrongAudience
        );
    }
    // An array holding the expected audience is fine.
    let mut claims = claims(&issuer, "wallet:read");
    claims["aud"] = json!(["x", issuer]);
    assert!(
        verifier
            .verify(&key.sign(&key.header(), &claims))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_expired_token_is_refused_beyond_the_leeway() {
    let key = TestKey::new("k1");
    let (_server, verifier, issuer) = setup(&[&key]).await;
    let mut claims = claims(&issuer, "wallet:read");
    claims["exp"] = json!(now() - 10);
    // Within the 30 s leeway: accepted.
    assert!(
        verifier
            .verify(&key.sign(&key.header(), &claims))
            .await
            .is_ok()
    );
    claims["exp"] = json!(now() - 120);
    assert_eq!(
        verifier
            .verify(&key.sign(&key.header(), &claims))
            .await
            .unwrap_err(),
        VerifyError::Expired
    );
}

#[tokio::test]
async fn a_token_not_yet_valid_is_refused() {
    let key = TestKey::new("k1");
    let (_server, verifier, issuer) = setup(&[&key]).await;
    let mut claims = claims(&issuer, "wallet:read");
    claims["nbf"] = json!(now() + 120);
    assert_eq!(
        verifier
            .verify(&key.sign(&key.header(), &claims))
            .await
            .unwrap_err(),
        VerifyError::NotYetValid
    );
}

#[tokio::test]
async fn a_missing_scope_is_refused_and_named() {
    let key = TestKey::new("k1");
    let (_server, verifier, issuer) = setup(&[&key]).await;
    let token = key.sign(&key.header(), &claims(&issuer, "wallet:read"));
    let error = verifier
        .verify_with_scopes(&token, &["wallet:read", "orders:write"])
        .await
        .unwrap_err();
    assert_eq!(
        error,
        VerifyError::MissingScope {
            missing: vec!["orders:write".into()]
        }
    );
    assert_eq!(error.code(), "insufficient_scope");
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let key = TestKey::new("k1");
    let (_server, verifier, issuer) = setup(&[&key]).await;
    let token = key.sign(&key.header(), &claims(&issuer, "wallet:read"));
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64_json(&claims(&issuer, "wallet:read orders:write")),
        parts[2]
    );
    assert_eq!(
        verifier.verify(&forged).await.unwrap_err(),
        VerifyError::BadSignature
    );
}

#[tokio::test]
async fn an_unknown_kid_is_refused_after_one_refetch_and_refetches_are_rate_limited() {
    let key = TestKey::new("k1");
    let stranger = TestKey::new("k-unknown");
    let (server, verifier, issuer) = setup(&[&key]).await;
    assert_eq!(jwks_fetches(&server).await, 1, "fetched once at start");
    let token = stranger.sign(&stranger.header(), &claims(&issuer, "wallet:read"));
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        VerifyError::UnknownKey("k-unknown".into())
    );
    // The start-up fetch was just now: within the 30 s default interval, no refetch.
    assert_eq!(
        jwks_fetches(&server).await,
        1,
        "rate-limited after the start-up fetch"
    );
    // With a short interval, an unknown kid is refetched once, then refused.
    let fast = Verifier::builder(&issuer)
        .jwks_uri(format!("{issuer}/oauth/jwks"))
        .min_refetch_interval(Duration::from_millis(300))
        .build()
        .await
        .unwrap();
    let before = jwks_fetches(&server).await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        fast.verify(&token).await.unwrap_err(),
        VerifyError::UnknownKey("k-unknown".into())
    );
    assert_eq!(jwks_fetches(&server).await, before + 1, "one refetch");
    // A flood of unknown kids within the interval causes no further fetch.
    for n in 0..20 {
        let other = TestKey::new(&format!("made-up-{n}"));
        let token = other.sign(&other.header(), &claims(&issuer, "wallet:read"));
        assert!(matches!(
            fast.verify(&token).await.unwrap_err(),
            VerifyError::UnknownKey(_)
        ));
    }
    assert_eq!(jwks_fetches(&server).await, before + 1, "rate-limited");
    // Known keys keep working meanwhile.
    let good = key.sign(&key.header(), &claims(&issuer, "wallet:read"));
    assert!(fast.verify(&good).await.is_ok());
}

#[tokio::test]
async fn a_new_key_is_found_by_refetching_and_old_keys_are_kept_parsed() {
    let old = TestKey::new("old");
    let new = TestKey::new("new");
    let server = MockServer::start().await;
    publish(&server, &[&old]).await;
    let issuer = server.uri();
    let verifier = Verifier::builder(&issuer)
        .jwks_uri(format!("{issuer}/oauth/jwks"))
        .min_refetch_interval(Duration::ZERO)
        .build()
        .await
        .unwrap();
    publish(&server, &[&old, &new]).await;
    let by_new = new.sign(&new.header(), &claims(&issuer, "wallet:read"));
    let by_old = old.sign(&old.header(), &claims(&issuer, "wallet:read"));
    assert!(verifier.verify(&by_new).await.is_ok());
    assert!(verifier.verify(&by_old).await.is_ok());
    assert_eq!(
        jwks_fetches(&server).await,
        1,
        "one refetch after the reset"
    );
}

#[tokio::test]
async fn concurrent_unknown_kids_cause_one_refetch() {
    let key = TestKey::new("k1");
    let server = MockServer::start().await;
    publish(&server, &[]).await;
    let issuer = server.uri();
    let verifier = Verifier::builder(&issuer)
        .jwks_uri(format!("{issuer}/oauth/jwks"))
        .min_refetch_interval(Duration::ZERO)
        .build()
        .await
        .unwrap();
    server.reset().await;
    Mock::given(path("/oauth/jwks"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "keys": [key.jwk()] }))
                .set_delay(Duration::from_millis(200)),
        )
        .mount(&server)
        .await;
    let token = key.sign(&key.header(), &claims(&issuer, "wallet:read"));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (verifier, token) = (verifier.clone(), token.clone());
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().is_ok());
    }
    assert_eq!(jwks_fetches(&server).await, 1);
}

#[tokio::test]
async fn fixed_keys_verify_without_any_fetch() {
    let key = TestKey::new("k1");
    let set = serde_json::from_value(json!({ "keys": [key.jwk()] })).unwrap();
    let verifier = Verifier::builder("https://as.example")
        .jwks(set)
        .build()
        .await
        .unwrap();
    let token = key.sign(&key.header(), &claims("https://as.example", "a"));
    assert!(verifier.verify(&token).await.is_ok());
}

async fn call(app: &Router, token: Option<&str>) -> (StatusCode, Option<String>, Value) {
    let mut request = Request::get("/wallet");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, challenge, body)
}

#[tokio::test]
async fn the_axum_layer_answers_as_rfc_6750_says() {
    let key = TestKey::new("k1");
    let (_server, verifier, issuer) = setup(&[&key]).await;
    let app = Router::new().route(
        "/wallet",
        get(|token: Authenticated| async move { token.sub.clone() })
            .route_layer(verifier.require_scopes(["wallet:read"])),
    );

    let (status, challenge, _) = call(&app, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some("Bearer"));

    let (status, challenge, body) = call(&app, Some("not-a-jwt")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.unwrap().contains("error=\"invalid_token\""));
    assert_eq!(body["error"], "invalid_token");

    let narrow = key.sign(&key.header(), &claims(&issuer, "profile:read"));
    let (status, challenge, body) = call(&app, Some(&narrow)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let challenge = challenge.unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"wallet:read\""), "{challenge}");
    assert_eq!(body["error"], "insufficient_scope");

    let good = key.sign(&key.header(), &claims(&issuer, "wallet:read"));
    let response = app
        .clone()
        .oneshot(
            Request::get("/wallet")
                .header(header::AUTHORIZATION, format!("Bearer {good}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"user-1");
}
