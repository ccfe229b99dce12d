//! The SDK against the real server (`spawn_app`): the whole authorization code flow, partial
//! grants, denial, refresh under concurrency, disconnect, client credentials, and the
//! verifier on real tokens across a key rotation.

use std::sync::Arc;
use std::time::Duration;

use portcullis_client::verifier::{Verifier, VerifyError};
use portcullis_client::{
    CallbackParams, Client, Error, PendingAuthorization, Secret, TokenTypeHint,
};
use portcullis_core::admin::clients::NewClient;
use portcullis_core::keys::{KeyEncryptionKey, SigningAlg, manage};
use portcullis_core::random::OsRandom;
use portcullis_testkit::flow::{self, PASSWORD, REDIRECT_URI, confidential};
use portcullis_testkit::{AppOptions, TestApp, spawn_app, spawn_app_with};

use crate::support::TestClock;

/// Registers `new` and returns an SDK client for it.
async fn sdk(app: &TestApp, new: NewClient, clock: Arc<TestClock>) -> Client {
    let (registered, secret) = app.client(new).await;
    Client::builder(&app.base)
        .client_id(registered.id.as_str())
        .client_secret(secret.unwrap().expose())
        .redirect_uri(REDIRECT_URI)
        .clock(clock)
        .build()
        .await
        .unwrap()
}

/// Registers `new` and returns an SDK client for it that binds its tokens to `key`.
async fn dpop_sdk(app: &TestApp, new: NewClient, key: &portcullis_client::DpopKey) -> Client {
    let (registered, secret) = app.client(new).await;
    Client::builder(&app.base)
        .client_id(registered.id.as_str())
        .client_secret(secret.unwrap().expose())
        .redirect_uri(REDIRECT_URI)
        .dpop(key.clone())
        .build()
        .await
        .unwrap()
}

fn query_of(pending: &PendingAuthorization) -> Vec<(String, String)> {
    url::Url::parse(pending.url())
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Sends `email` through the SDK's authorization URL, ticking `scopes` (all if `None`);
/// returns the authorization response.
async fn authorize(
    app: &TestApp,
    pending: &PendingAuthorization,
    email: &str,
    scopes: Option<&[&str]>,
) -> CallbackParams {
    let query = query_of(pending);
    let params: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let callback = app.code_flow(email, &params, scopes).await;
    CallbackParams::from_url(&callback.url).unwrap()
}

/// Sends `email` through the SDK's authorization URL and denies on the consent page.
async fn deny(app: &TestApp, pending: &PendingAuthorization, email: &str) -> CallbackParams {
    let query = query_of(pending);
    let params: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let browser = flow::browser();
    let page = app.authorize_and_follow(&browser, &params).await;
    let request = flow::param(page.url(), "request").unwrap();
    let logged_in = app.login(&browser, email, PASSWORD, Some(&request)).await;
    let consent = app.follow(&browser, logged_in).await;
    assert_eq!(consent.url().path(), "/consent");
    let request = flow::param(consent.url(), "request").unwrap();
    let denied = app.consent(&browser, &request, "deny", &[]).await;
    CallbackParams::from_url(&flow::location(&app.base, &denied)).unwrap()
}

#[tokio::test]
async fn the_whole_code_flow_runs_through_the_sdk() {
    let app = spawn_app().await;
    app.customer("ada@example.com").await;
    let client = sdk(&app, confidential("Monei Demo"), TestClock::new()).await;

    let pending = client.authorize("openid profile:read wallet:read").unwrap();
    let params = authorize(&app, &pending, "ada@example.com", None).await;
    assert_eq!(params.iss.as_deref(), Some(app.base.as_str()));
    // Exchanges the code; the RS256 ID token's signature, audience and nonce are checked.
    let tokens = client.handle_callback(&pending, &params).await.unwrap();
    assert!(tokens.id_token().is_some());
    assert!(!tokens.is_partial());
    assert!(tokens.has_scope("wallet:read"));

    let session = client.session(tokens.clone());
    let api = client.api(session.clone());
    assert_eq!(api.me().await.unwrap().email, "ada@example.com");
    // The profile bound to the grant at consent, with its wallet and IBAN.
    let wallet = api.wallet_me().await.unwrap();
    assert_eq!(wallet.profile.kyc.state, "approved");
    assert_eq!(wallet.wallets.len(), 1);
    assert_eq!(wallet.ibans.len(), 1);
    let claims = Verifier::builder(&app.base)
        .build()
        .await
        .unwrap()
        .verify(session.access_token().await.unwrap().expose())
        .await
        .unwrap();
    assert_eq!(claims.profile.as_deref(), Some(wallet.profile.id.as_str()));

    // A forced refresh rotates the refresh token; the old one is spent.
    let refreshed = session.refresh().await.unwrap();
    assert_ne!(refreshed.access_token(), tokens.access_token());
    assert_ne!(refreshed.refresh_token(), tokens.refresh_token());
    assert!(session.introspect().await.unwrap().active);

    // Disconnect revokes the grant: the access token is inactive at the server.
    session.disconnect().await.unwrap();
    let after = client
        .introspect(refreshed.access_token(), Some(TokenTypeHint::AccessToken))
        .await
        .unwrap();
    assert!(!after.active);
    assert!(matches!(api.me().await, Err(Error::Disconnected)));
}

#[tokio::test]
async fn a_partial_grant_is_visible_and_calls_outside_it_are_typed() {
    let app = spawn_app().await;
    app.customer("bo@example.com").await;
    let client = sdk(&app, confidential("Monei Demo"), TestClock::new()).await;
    let pending = client.authorize("profile:read wallet:read").unwrap();
    let params = authorize(&app, &pending, "bo@example.com", Some(&["wallet:read"])).await;
    let tokens = client.handle_callback(&pending, &params).await.unwrap();
    assert_eq!(tokens.scopes().to_string(), "wallet:read");
    assert!(tokens.is_partial());
    assert_eq!(tokens.denied_scopes().to_string(), "profile:read");
    let api = client.api(client.session(tokens));
    match api.me().await {
        Err(Error::Api(e)) => assert!(e.is_insufficient_scope(), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_denial_is_a_typed_access_denied() {
    let app = spawn_app().await;
    app.customer("cy@example.com").await;
    let client = sdk(&app, confidential("Monei Demo"), TestClock::new()).await;
    let pending = client.authorize("wallet:read").unwrap();
    let params = deny(&app, &pending, "cy@example.com").await;
    match client.handle_callback(&pending, &params).await {
        Err(Error::Callback(e)) => assert!(e.is_access_denied(), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn simultaneous_callers_refresh_once_against_the_server() {
    let app = spawn_app().await;
    app.customer("di@example.com").await;
    let clock = TestClock::new();
    let client = sdk(&app, confidential("Monei Demo"), Arc::clone(&clock)).await;
    let pending = client.authorize("profile:read").unwrap();
    let params = authorize(&app, &pending, "di@example.com", None).await;
    let tokens = client.handle_callback(&pending, &params).await.unwrap();
    let session = client.session(tokens.clone());

    clock.advance(Duration::from_secs(7200));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let session = session.clone();
            tokio::spawn(async move { session.access_token().await })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap().unwrap());
    }
    assert!(seen.iter().all(|t| *t == seen[0]), "one new token for all");
    assert_ne!(&seen[0], tokens.access_token());
    // Two refreshes with the same refresh token would have revoked the grant (reuse
    // detection): it is intact, so there was one.
    assert!(session.introspect().await.unwrap().active);
    let refresh = session.tokens().unwrap().refresh_token().cloned().unwrap();
    assert!(
        client
            .introspect(&refresh, Some(TokenTypeHint::RefreshToken))
            .await
            .unwrap()
            .active
    );
}

#[tokio::test]
async fn a_partner_lists_profiles_with_client_credentials() {
    let app = spawn_app().await;
    let partner = NewClient {
        partner: true,
        ..confidential("Partner")
    };
    let client = sdk(&app, partner, TestClock::new()).await;
    let credentials = client.client_credentials(Some("profile:read"));
    let api = client.api(credentials.clone());
    let context = api.auth_context().await.unwrap();
    assert!(matches!(
        context,
        portcullis_client::api::AuthContext::Client(_)
    ));
    let page = api.profiles(&Default::default()).await.unwrap();
    assert_eq!(page.items.len(), context.profiles().len());
    // One token served both calls.
    assert_eq!(
        credentials.tokens().unwrap().scopes().to_string(),
        "profile:read"
    );
}

fn kid(token: &Secret) -> String {
    let header = token.expose().split('.').next().unwrap();
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap();
    serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn published(app: &TestApp, kid: &str) -> bool {
    let jwks: serde_json::Value = app
        .http
        .get(app.url("/oauth/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["kid"] == kid)
}

#[tokio::test]
async fn the_verifier_accepts_tokens_across_a_key_rotation() {
    let app = spawn_app_with(AppOptions {
        configure: |c| c.key_refresh_interval = Duration::from_millis(100),
        ..AppOptions::default()
    })
    .await
    .unwrap();
    let client = sdk(&app, confidential("Resource"), TestClock::new()).await;
    let verifier = Verifier::builder(&app.base)
        .min_refetch_interval(Duration::from_millis(100))
        .build()
        .await
        .unwrap();
    let before = client.request_client_credentials(None).await.unwrap();
    assert!(
        verifier
            .verify(before.access_token().expose())
            .await
            .is_ok()
    );

    // Keys are ordered by second-resolution creation time (see the server's key_rotation
    // tests): move the server's clock so that the new key is the newest.
    app.clock.advance(1);
    let kek =
        KeyEncryptionKey::from_base64(app.config.key_encryption_key.as_ref().unwrap().expose())
            .unwrap();
    let made = manage::rotate(
        &app.store,
        &kek,
        &OsRandom,
        app.clock.as_ref(),
        &[SigningAlg::Es256],
        0,
    )
    .await
    .unwrap();
    let new_kid = made[0].kid.to_string();
    for _ in 0..100 {
        if published(&app, &new_kid).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut after = client.request_client_credentials(None).await.unwrap();
    for _ in 0..50 {
        if kid(after.access_token()) == new_kid {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = client.request_client_credentials(None).await.unwrap();
    }
    assert_eq!(kid(after.access_token()), new_kid);
    assert_ne!(kid(before.access_token()), new_kid);

    // The new kid is unknown to the verifier's cache: it refetches and accepts.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(verifier.verify(after.access_token().expose()).await.is_ok());
    // Tokens of the old key still verify.
    assert!(
        verifier
            .verify(before.access_token().expose())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_verifier_refuses_server_tokens_for_another_audience_and_id_tokens() {
    let app = spawn_app().await;
    app.customer("ed@example.com").await;
    let client = sdk(&app, confidential("Monei Demo"), TestClock::new()).await;
    let pending = client.authorize("openid profile:read").unwrap();
    let params = authorize(&app, &pending, "ed@example.com", None).await;
    let tokens = client.handle_callback(&pending, &params).await.unwrap();

    let verifier = Verifier::builder(&app.base).build().await.unwrap();
    let claims = verifier
        .verify_with_scopes(tokens.access_token().expose(), &["profile:read"])
        .await
        .unwrap();
    assert!(!claims.is_client_token());
    assert_eq!(claims.client_id, client.client_id());
    // An ID token is not an access token (typ JWT, RFC 9068 §4).
    let id_token = tokens.id_token().unwrap().expose();
    assert!(matches!(
        verifier.verify(id_token).await.unwrap_err(),
        VerifyError::WrongType(_)
    ));
    let elsewhere = Verifier::builder(&app.base)
        .audience("https://other-api.example")
        .build()
        .await
        .unwrap();
    assert_eq!(
        elsewhere
            .verify(tokens.access_token().expose())
            .await
            .unwrap_err(),
        VerifyError::WrongAudience
    );
}

#[tokio::test]
async fn a_dpop_client_gets_key_bound_tokens_that_the_verifier_takes_only_with_a_proof() {
    use portcullis_client::DpopKey;
    use portcullis_client::verifier::DpopRequest;
    use portcullis_client::verifier::axum::AuthRejection;

    let app = spawn_app().await;
    app.customer("ada@example.com").await;
    let key = DpopKey::generate().unwrap();
    let client = dpop_sdk(&app, confidential("Bound app"), &key).await;

    // The authorization request binds the code to the key.
    let pending = client.authorize("openid profile:read wallet:read").unwrap();
    assert!(
        query_of(&pending)
            .iter()
            .any(|(k, v)| k == "dpop_jkt" && v == key.thumbprint())
    );
    let params = authorize(&app, &pending, "ada@example.com", None).await;
    // The exchange answers the server's nonce by itself.
    let tokens = client.handle_callback(&pending, &params).await.unwrap();
    let session = client.session(tokens.clone());
    let api = client.api(session.clone());
    assert_eq!(api.me().await.unwrap().email, "ada@example.com");
    assert_eq!(
        api.me().await.unwrap().email,
        "ada@example.com",
        "a fresh proof each call"
    );
    let refreshed = session.refresh().await.unwrap();
    assert_eq!(api.me().await.unwrap().email, "ada@example.com");

    // A resource server's verifier: the bound token is no bearer token.
    let verifier = Verifier::builder(&app.base)
        .resource_url(url::Url::parse("https://rs.example").unwrap())
        .build()
        .await
        .unwrap();
    let token = refreshed.access_token().expose().to_owned();
    assert_eq!(
        verifier.verify(&token).await,
        Err(VerifyError::DpopRequired)
    );
    let target = url::Url::parse("https://rs.example/things?page=1").unwrap();
    let proof = key.proof("GET", &target, Some(&token)).unwrap();
    let request = DpopRequest {
        proof: Some(&proof),
        method: "GET",
        uri: "https://rs.example/things",
    };
    let claims = verifier.verify_dpop(&token, &request, &[]).await.unwrap();
    assert_eq!(claims.dpop_jkt(), Some(key.thumbprint()));
    assert!(matches!(
        verifier.verify_dpop(&token, &request, &[]).await,
        Err(VerifyError::InvalidDpopProof(why)) if why.contains("already used")
    ));
    let stranger = DpopKey::generate().unwrap();
    let foreign = stranger.proof("GET", &target, Some(&token)).unwrap();
    assert!(matches!(
        verifier
            .verify_dpop(
                &token,
                &DpopRequest {
                    proof: Some(&foreign),
                    ..request
                },
                &[]
            )
            .await,
        Err(VerifyError::InvalidDpopProof(_))
    ));

    // Through the axum layer: the DPoP scheme with a proof passes, Bearer gets a DPoP challenge.
    let layer = verifier.require_scopes(["profile:read"]);
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("host", "rs.example".parse().unwrap());
    headers.insert("authorization", format!("DPoP {token}").parse().unwrap());
    let proof = key.proof("GET", &target, Some(&token)).unwrap();
    headers.insert("dpop", proof.parse().unwrap());
    let passed = layer
        .authenticate_request("GET", "/things", &headers)
        .await
        .unwrap();
    assert_eq!(passed.0.sub, claims.sub);
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    let refused = layer
        .authenticate_request("GET", "/things", &headers)
        .await
        .unwrap_err();
    assert_eq!(refused, AuthRejection::Invalid(VerifyError::DpopRequired));
    let response = axum::response::IntoResponse::into_response(refused);
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("DPoP algs="), "{challenge}");
}

#[tokio::test]
async fn a_pushed_authorization_request_keeps_the_parameters_out_of_the_browser() {
    use portcullis_client::{AuthorizeOptions, DpopKey};

    let app = spawn_app().await;
    app.customer("ada@example.com").await;
    let key = DpopKey::generate().unwrap();
    let new = NewClient {
        require_pushed_authorization_requests: true,
        ..confidential("Bank app")
    };
    let client = dpop_sdk(&app, new, &key).await;
    let pending = client
        .authorize_pushed("openid profile:read", &AuthorizeOptions::default())
        .await
        .unwrap();
    let names: Vec<String> = query_of(&pending).into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["client_id", "request_uri"], "{}", pending.url());
    let params = authorize(&app, &pending, "ada@example.com", None).await;
    // The state and nonce pushed are checked at the callback and in the ID token.
    let tokens = client.handle_callback(&pending, &params).await.unwrap();
    assert!(tokens.id_token().is_some());
    let api = client.api(client.session(tokens));
    assert_eq!(api.me().await.unwrap().email, "ada@example.com");

    // A refused request comes back as the authorization endpoint's error.
    let refused = client
        .authorize_pushed("openid not:a-scope", &AuthorizeOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Error::OAuth(e) if e.error == "invalid_scope"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_client_with_a_registered_key_authenticates_with_private_key_jwt() {
    use portcullis_client::{AuthorizeOptions, ClientAuth, ClientKey, DpopKey};

    let app = spawn_app().await;
    app.customer("ada@example.com").await;
    let key = ClientKey::generate("sdk-1").unwrap();
    let (registered, secret) = app
        .client(NewClient {
            jwks: Some(serde_json::json!({ "keys": [key.public_jwk()] })),
            ..confidential("FAPI app")
        })
        .await;
    assert!(secret.is_none());
    let client = Client::builder(&app.base)
        .client_id(registered.id.as_str())
        .auth(ClientAuth::PrivateKeyJwt(key))
        .redirect_uri(REDIRECT_URI)
        .dpop(DpopKey::generate().unwrap())
        .build()
        .await
        .unwrap();
    // PAR, the code exchange, refresh, introspection and revocation all take the assertion.
    let pending = client
        .authorize_pushed("openid profile:read", &AuthorizeOptions::default())
        .await
        .unwrap();
    let params = authorize(&app, &pending, "ada@example.com", None).await;
    let tokens = client.handle_callback(&pending, &params).await.unwrap();
    let session = client.session(tokens);
    let refreshed = session.refresh().await.unwrap();
    assert!(session.introspect().await.unwrap().active);
    let api = client.api(session.clone());
    assert_eq!(api.me().await.unwrap().email, "ada@example.com");
    client
        .revoke(refreshed.access_token(), TokenTypeHint::AccessToken)
        .await
        .unwrap();
    // Another key, unregistered, is refused.
    let stranger = Client::builder(&app.base)
        .client_id(registered.id.as_str())
        .auth(ClientAuth::PrivateKeyJwt(
            ClientKey::generate("sdk-1").unwrap(),
        ))
        .build()
        .await
        .unwrap();
    let refused = stranger.request_client_credentials(None).await.unwrap_err();
    assert!(
        matches!(&refused, Error::OAuth(e) if e.error == "invalid_client"),
        "{refused:?}"
    );
}
