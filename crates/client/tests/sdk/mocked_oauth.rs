//! The SDK's OAuth behaviour against a mocked server: discovery, the authorization request and
//! response, the token endpoint's errors, refresh timing and single flight, client
//! credentials caching, revocation.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use portcullis_client::{
    CallbackError, CallbackParams, Client, Error, ErrorCode, Secret, TokenSet,
};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{TestClock, metadata, mocked, token_body};

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Tokens as the code exchange would give them, with `expires_in` seconds left.
async fn tokens(server: &MockServer, client: &Client, expires_in: u64) -> TokenSet {
    let mock = Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            "at-1",
            Some("rt-1"),
            expires_in,
            "profile:read wallet:read",
        )))
        .expect(1)
        .mount_as_scoped(server)
        .await;
    let pending = client.authorize("profile:read wallet:read").unwrap();
    let query = format!(
        "code=c1&state={}&iss={}",
        pending.state(),
        url::form_urlencoded::byte_serialize(server.uri().as_bytes()).collect::<String>()
    );
    let params = CallbackParams::from_query(&query).unwrap();
    let tokens = client.handle_callback(&pending, &params).await.unwrap();
    drop(mock);
    tokens
}

#[tokio::test]
async fn discovery_refuses_a_document_naming_another_issuer() {
    let server = MockServer::start().await;
    Mock::given(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(metadata("https://evil.example")))
        .mount(&server)
        .await;
    let error = Client::builder(server.uri())
        .client_id("app")
        .build()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::IssuerMismatch { .. }), "{error}");
}

#[tokio::test]
async fn discovery_falls_back_to_the_openid_configuration() {
    let server = MockServer::start().await;
    Mock::given(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(metadata(&server.uri())))
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .client_id("app")
        .build()
        .await
        .unwrap();
    assert_eq!(client.metadata().issuer, server.uri());
}

#[tokio::test]
async fn authorize_url_carries_pkce_s256_state_and_nonce() {
    let (server, client) = mocked(TestClock::new()).await;
    let pending = client.authorize("wallet:read profile:read").unwrap();
    let url = pending.url();
    assert!(url.starts_with(&format!("{}/oauth/authorize?", server.uri())));
    assert_eq!(query_param(url, "response_type").as_deref(), Some("code"));
    assert_eq!(query_param(url, "client_id").as_deref(), Some("app"));
    assert_eq!(
        query_param(url, "redirect_uri").as_deref(),
        Some("https://app.example/cb")
    );
    assert_eq!(
        query_param(url, "scope").as_deref(),
        Some("profile:read wallet:read")
    );
    assert_eq!(query_param(url, "state").as_deref(), Some(pending.state()));
    assert_eq!(query_param(url, "nonce").as_deref(), Some(pending.nonce()));
    assert_eq!(
        query_param(url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    // The challenge is the S256 of the verifier kept in the pending value.
    let stored: serde_json::Value = serde_json::to_value(&pending).unwrap();
    let verifier = stored["code_verifier"].as_str().unwrap().to_owned();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    assert_eq!(
        query_param(url, "code_challenge").unwrap(),
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    );
    // Each request is fresh, and the pending value survives a session store.
    let other = client.authorize("wallet:read").unwrap();
    assert_ne!(other.state(), pending.state());
    let back: portcullis_client::PendingAuthorization =
        serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(back, pending);
    assert!(!format!("{pending:?}").contains(&verifier));
}

#[tokio::test]
async fn callback_checks_iss_then_state_and_types_access_denied() {
    let (server, client) = mocked(TestClock::new()).await;
    let pending = client.authorize("wallet:read").unwrap();
    let iss = url::form_urlencoded::byte_serialize(server.uri().as_bytes()).collect::<String>();
    let check = |query: String| {
        let params = CallbackParams::from_query(&query).unwrap();
        client.validate_callback(&pending, &params)
    };
    let state = pending.state();
    assert!(matches!(
        check(format!(
            "code=c&state={state}&iss=https%3A%2F%2Fevil.example"
        )),
        Err(CallbackError::IssuerMismatch { .. })
    ));
    assert_eq!(
        check(format!("code=c&state={state}")),
        Err(CallbackError::MissingIssuer)
    );
    assert_eq!(
        check(format!("code=c&state=forged&iss={iss}")),
        Err(CallbackError::StateMismatch)
    );
    let denied = check(format!(
        "error=access_denied&error_description=the+user+said+no&state={state}&iss={iss}"
    ))
    .unwrap_err();
    assert!(denied.is_access_denied(), "{denied}");
    let invalid_scope = check(format!("error=invalid_scope&state={state}&iss={iss}")).unwrap_err();
    assert!(matches!(
        invalid_scope,
        CallbackError::Authorization {
            code: portcullis_client::AuthorizationErrorCode::InvalidScope,
            ..
        }
    ));
    assert!(check(format!("code=c&state={state}&iss={iss}")).is_ok());
}

#[tokio::test]
async fn code_exchange_sends_the_verifier_with_basic_credentials() {
    let (server, client) = mocked(TestClock::new()).await;
    let pending = client.authorize("profile:read wallet:read").unwrap();
    let stored: serde_json::Value = serde_json::to_value(&pending).unwrap();
    let verifier = stored["code_verifier"].as_str().unwrap().to_owned();
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header(
            "authorization",
            format!("Basic {}", STANDARD.encode("app:s3cret")).as_str(),
        ))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=the-code"))
        .and(body_string_contains(
            format!("code_verifier={verifier}").as_str(),
        ))
        .and(body_string_contains(
            "redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            "at",
            Some("rt"),
            3600,
            "wallet:read",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let iss = url::form_urlencoded::byte_serialize(server.uri().as_bytes()).collect::<String>();
    let params = CallbackParams::from_query(&format!(
        "code=the-code&state={}&iss={iss}",
        pending.state()
    ))
    .unwrap();
    let tokens = client.handle_callback(&pending, &params).await.unwrap();
    // A partial grant: the user unticked profile:read.
    assert!(tokens.is_partial());
    assert_eq!(tokens.denied_scopes().to_string(), "profile:read");
    assert_eq!(tokens.access_token(), &Secret::new("at"));
}

#[tokio::test]
async fn token_endpoint_errors_are_typed() {
    let (server, client) = mocked(TestClock::new()).await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client", "error_description": "client authentication failed"
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let error = client.request_client_credentials(None).await.unwrap_err();
    match &error {
        Error::OAuth(e) => {
            assert_eq!(e.status, 401);
            assert_eq!(e.code(), Some(ErrorCode::InvalidClient));
        }
        other => panic!("{other}"),
    }
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .mount(&server)
        .await;
    let error = client.request_client_credentials(None).await.unwrap_err();
    assert!(matches!(error, Error::InvalidResponse { .. }), "{error}");
}

#[tokio::test]
async fn a_token_type_other_than_bearer_is_refused() {
    let (server, client) = mocked(TestClock::new()).await;
    let mut body = token_body("at", None, 60, "a");
    body["token_type"] = json!("MAC");
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let error = client.request_client_credentials(None).await.unwrap_err();
    assert!(matches!(error, Error::InvalidResponse { .. }), "{error}");
}

#[tokio::test]
async fn refresh_happens_only_near_expiry_and_uses_the_rotated_token() {
    let clock = TestClock::new();
    let (server, client) = mocked(Arc::clone(&clock)).await;
    let session = client.session(tokens(&server, &client, 3600).await);

    // Fresh: no request at all.
    assert_eq!(session.access_token().await.unwrap(), Secret::new("at-1"));

    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("refresh_token=rt-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            "at-2",
            Some("rt-2"),
            3600,
            "profile:read wallet:read",
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("refresh_token=rt-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            "at-3",
            Some("rt-3"),
            3600,
            "profile:read wallet:read",
        )))
        .expect(1)
        .mount(&server)
        .await;

    // 61 s before expiry: still fresh (the margin is 60 s).
    clock.advance(Duration::from_secs(3600 - 61));
    assert_eq!(session.access_token().await.unwrap(), Secret::new("at-1"));
    // Within the margin: refreshed with rt-1.
    clock.advance(Duration::from_secs(2));
    assert_eq!(session.access_token().await.unwrap(), Secret::new("at-2"));
    assert_eq!(session.access_token().await.unwrap(), Secret::new("at-2"));
    // The next refresh uses the rotated rt-2.
    clock.advance(Duration::from_secs(3600));
    assert_eq!(session.access_token().await.unwrap(), Secret::new("at-3"));
    let current = session.tokens().unwrap();
    assert_eq!(current.refresh_token(), Some(&Secret::new("rt-3")));
    // The original request is remembered across refreshes.
    assert_eq!(
        current
            .requested_scopes()
            .map(ToString::to_string)
            .as_deref(),
        Some("profile:read wallet:read")
    );
}

#[tokio::test]
async fn many_simultaneous_callers_share_one_refresh() {
    let clock = TestClock::new();
    let (server, client) = mocked(Arc::clone(&clock)).await;
    let session = client.session(tokens(&server, &client, 3600).await);
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_body("at-2", Some("rt-2"), 3600, "wallet:read"))
                // Slow enough that every task arrives while the refresh is in flight.
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&server)
        .await;
    clock.advance(Duration::from_secs(3600));

    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let session = session.clone();
            tokio::spawn(async move { session.access_token().await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), Secret::new("at-2"));
    }
    // `expect(1)` is checked when the server drops; check now for a clear message.
    let refreshes = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains("grant_type=refresh_token"))
        .count();
    assert_eq!(refreshes, 1, "one refresh for 50 callers");
}

#[tokio::test]
async fn a_refused_refresh_ends_the_session_without_more_requests() {
    let clock = TestClock::new();
    let (server, client) = mocked(Arc::clone(&clock)).await;
    let session = client.session(tokens(&server, &client, 60).await);
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant", "error_description": "the refresh token was revoked"
        })))
        .expect(1)
        .mount(&server)
        .await;
    clock.advance(Duration::from_secs(120));
    let first = session.access_token().await.unwrap_err();
    assert!(first.needs_reauthorization(), "{first}");
    let second = session.access_token().await.unwrap_err();
    assert!(second.needs_reauthorization(), "{second}");
}

#[tokio::test]
async fn client_credentials_are_cached_and_renewed_before_expiry() {
    let clock = TestClock::new();
    let (server, client) = mocked(Arc::clone(&clock)).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("scope=users.profiles%3Aread"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            "cc-1",
            None,
            3600,
            "users.profiles:read",
        )))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            "cc-2",
            None,
            3600,
            "users.profiles:read",
        )))
        .mount(&server)
        .await;
    let credentials = client.client_credentials(Some("users.profiles:read"));
    let concurrent: Vec<_> = (0..10)
        .map(|_| {
            let credentials = credentials.clone();
            tokio::spawn(async move { credentials.access_token().await })
        })
        .collect();
    for task in concurrent {
        assert_eq!(task.await.unwrap().unwrap(), Secret::new("cc-1"));
    }
    clock.advance(Duration::from_secs(3600 - 61));
    assert_eq!(
        credentials.access_token().await.unwrap(),
        Secret::new("cc-1")
    );
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        credentials.access_token().await.unwrap(),
        Secret::new("cc-2")
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1 + 2);
}

#[tokio::test]
async fn disconnect_revokes_both_tokens_and_ends_the_session() {
    let (server, client) = mocked(TestClock::new()).await;
    let session = client.session(tokens(&server, &client, 3600).await);
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(body_string_contains("token=rt-1"))
        .and(body_string_contains("token_type_hint=refresh_token"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(body_string_contains("token=at-1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    session.disconnect().await.unwrap();
    assert!(matches!(
        session.access_token().await,
        Err(Error::Disconnected)
    ));
    assert!(session.tokens().is_none());
}

#[tokio::test]
async fn debug_output_never_shows_secrets_or_tokens() {
    let clock = TestClock::new();
    let (server, client) = mocked(Arc::clone(&clock)).await;
    let tokens = tokens(&server, &client, 3600).await;
    let session = client.session(tokens.clone());
    let pending = client.authorize("wallet:read").unwrap();
    let verifier = serde_json::to_value(&pending).unwrap()["code_verifier"]
        .as_str()
        .unwrap()
        .to_owned();
    for debug in [
        format!("{client:?}"),
        format!("{tokens:?}"),
        format!("{session:?}"),
        format!("{pending:?}"),
    ] {
        for secret in ["s3cret", "at-1", "rt-1", verifier.as_str()] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }
}
