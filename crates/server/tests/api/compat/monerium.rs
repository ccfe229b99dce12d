//! The Monerium guides (seeds 000 and 001) as written, against Portcullis: only the base URL
//! changes. The app builds its parameters the guide's way (a 128-hex-digit verifier from
//! `WordArray.random(64)`, an S256 challenge, `state` set to the cookie name, no scope), sends
//! the user to the partner link, exchanges the code at `/auth/token` with a form and no secret,
//! reads `access_token`, `profile`, `userId` and `refresh_token`, refreshes with only its
//! client id, and a partner back-end uses client credentials and `GET /auth/context`.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::admin::clients::NewClient;
use portcullis_core::client::{ClientKind, GrantType};
use portcullis_core::store::BankStore as _;
use portcullis_proto::{ClientId, ScopeSet};
use portcullis_testkit::flow::browser;
use portcullis_testkit::{AppOptions, Backend, TestApp, spawn_app_with};
use serde_json::Value;

fn app_options(backend: Backend) -> AppOptions {
    AppOptions {
        backend,
        configure: |c| {
            c.compat
                .profiles
                .insert(portcullis_http::compat::Profile::Monerium);
            c.compat
                .partners
                .insert("piedpiper".into(), ClientId::new("1337"));
        },
        ..AppOptions::default()
    }
}

/// `CryptoJS.lib.WordArray.random(64).toString()`: 64 random bytes as 128 hex digits.
fn guide_verifier() -> String {
    let mut bytes = [0u8; 64];
    getrandom::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `CryptoJS.enc.Base64url.stringify(CryptoJS.SHA256(codeVerifier))`.
fn guide_challenge(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

async fn monerium_guide(app: TestApp) {
    let base = app.base.clone();
    // The platform registers the guide's app: public, id "1337", its redirect URI.
    let redirect_uri = "https://piedpiper.example/api/integration/monerium";
    app.client(NewClient {
        id: Some("1337".into()),
        kind: ClientKind::Public,
        redirect_uris: vec![redirect_uri.into()],
        grant_types: BTreeSet::from([GrantType::AuthorizationCode, GrantType::RefreshToken]),
        scopes: ScopeSet::parse("orders:read profile:read wallet:read").unwrap(),
        ..NewClient::confidential("Pied Piper")
    })
    .await;
    let user = app.customer("customer@example.com").await;

    // pages/index.ts
    let code_verifier = guide_verifier();
    let code_challenge = guide_challenge(&code_verifier);
    let cookie_name = "monerium-state";
    let params = [
        ("client_id", "1337"),
        ("redirect_uri", redirect_uri),
        ("code_challenge", code_challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", cookie_name),
    ];
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let portal = format!("{base}/partners/piedpiper/auth?{query}");

    // The customer signs in and allows the app.
    let callback = app
        .user_approves(&browser(), &portal, "customer@example.com", None)
        .await;
    assert!(callback.url.as_str().starts_with(redirect_uri));
    let code = callback.code();
    assert_eq!(callback.get("state").as_deref(), Some(cookie_name));

    // pages/api/integration/monerium.ts
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{base}/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("client_id", "1337"),
                    ("code", code.as_str()),
                    ("redirect_uri", redirect_uri),
                    ("grant_type", "authorization_code"),
                    ("code_verifier", code_verifier.as_str()),
                ])
                .finish(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    let (access_token, refresh_token) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    );
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["userId"], user.id.as_str());
    let profile = app.store.profiles_of(&user.id).await.unwrap().remove(0);
    assert_eq!(
        tokens["profile"],
        profile.id.as_str(),
        "the profile the customer authorized"
    );
    assert!(!access_token.is_empty());

    // Refresh with only the client id, as the guide does.
    let refreshed: Value = http
        .post(format!("{base}/auth/token"))
        .form(&[
            ("client_id", "1337"),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(refreshed["access_token"].is_string(), "{refreshed}");
    assert_eq!(refreshed["profile"], profile.id.as_str());
    assert_eq!(refreshed["userId"], user.id.as_str());
    assert_eq!(refreshed["scope"], "orders:read profile:read wallet:read");

    // pages/admin.tsx: a partner back-end with the secret in the body, then /auth/context.
    let (partner, secret) = app
        .client(NewClient {
            grant_types: BTreeSet::from([GrantType::ClientCredentials]),
            scopes: ScopeSet::parse("profile:read").unwrap(),
            partner: true,
            ..NewClient::confidential("Partner back-end")
        })
        .await;
    let auth_token: Value = http
        .post(format!("{base}/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("client_id", partner.id.as_str()),
                    ("client_secret", secret.unwrap().expose()),
                    ("grant_type", "client_credentials"),
                ])
                .finish(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_token = auth_token["access_token"].as_str().unwrap();
    let context = http
        .get(format!("{base}/auth/context"))
        .bearer_auth(client_token)
        .send()
        .await
        .unwrap();
    assert_eq!(context.status(), 200);
    let context: Value = context.json().await.unwrap();
    assert_eq!(context["client_id"], partner.id.as_str());

    // And the customer's own token sees the customer and their profile.
    let mine: Value = http
        .get(format!("{base}/auth/context"))
        .bearer_auth(refreshed["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["userId"], user.id.as_str());
    assert_eq!(mine["profiles"][0]["id"], profile.id.as_str());
}

#[tokio::test]
async fn monerium_guide_works_unchanged_on_sqlite() {
    monerium_guide(spawn_app_with(app_options(Backend::Sqlite)).await.unwrap()).await;
}

#[tokio::test]
async fn monerium_guide_works_unchanged_on_postgres() {
    let Some(app) = spawn_app_with(app_options(Backend::Postgres)).await else {
        return;
    };
    monerium_guide(app).await;
}

/// `GET /auth` is the authorization endpoint too (seed 001's "GET /auth").
#[tokio::test]
async fn monerium_auth_path_is_the_authorization_endpoint() {
    let app = spawn_app_with(app_options(Backend::Sqlite)).await.unwrap();
    let response = browser()
        .get(app.url("/auth?client_id=1337&redirect_uri=x"))
        .send()
        .await
        .unwrap();
    // Unknown client: the error page, never a redirect — as at /oauth/authorize.
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

/// A partner link only lends its name to the partner's own app.
#[tokio::test]
async fn partner_links_refuse_other_clients_and_unknown_partners() {
    let app = spawn_app_with(app_options(Backend::Sqlite)).await.unwrap();
    let (other, _) = app
        .client(portcullis_testkit::flow::confidential("Other"))
        .await;
    let borrowed = browser()
        .get(app.url(&format!(
            "/partners/piedpiper/auth?client_id={}&response_type=code",
            other.id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(borrowed.status(), 400);
    assert!(
        borrowed
            .text()
            .await
            .unwrap()
            .contains("belongs to another application")
    );
    let unknown = browser()
        .get(app.url("/partners/nobody/auth?client_id=1337"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

/// Off unless configured: the guide's paths do not exist on a plain server.
#[tokio::test]
async fn monerium_paths_are_absent_when_the_profile_is_off() {
    let app = portcullis_testkit::spawn_app().await;
    for path in ["/auth/token", "/partners/piedpiper/auth"] {
        let status = app.http.get(app.url(path)).send().await.unwrap().status();
        assert_eq!(status, 404, "{path}");
    }
}
