//! Typed helpers for tests of the protocol: registering clients and users, a browser that
//! keeps cookies, and a driver for the authorization code flow (authorize → login → onboarding
//! → consent → callback) over real HTTP.

#![allow(clippy::expect_used, clippy::panic, clippy::missing_panics_doc)] // Test helpers fail loudly.

use std::collections::BTreeSet;

use portcullis_core::admin::clients::{self, NewClient};
use portcullis_core::admin::users;
use portcullis_core::banking::accounts;
use portcullis_core::banking::ownership::{self, OwnershipSite};
use portcullis_core::banking::profile::{KycState, Profile, ProfileKind};
use portcullis_core::banking::wallet::Chain;
use portcullis_core::client::{Client, ClientKind, GrantType};
use portcullis_core::pkce::s256_challenge;
use portcullis_core::random::{OsRandom, new_secret};
use portcullis_core::store::BankStore as _;
use portcullis_core::store::WalletRecord;
use portcullis_core::time::Clock as _;
use portcullis_core::user::User;
use portcullis_proto::{ScopeSet, Secret};
use reqwest::StatusCode;
use serde_json::Value;

use crate::TestApp;

/// The redirect URI test clients register.
pub const REDIRECT_URI: &str = "https://client.example/cb";
/// The password test users get.
pub const PASSWORD: &str = "correct horse battery staple";
/// The scopes test clients may ask for.
pub const SCOPES: &str = "openid email profile:read wallet:read orders:read";

/// A confidential client allowed every grant, [`REDIRECT_URI`] and [`SCOPES`].
#[must_use]
pub fn confidential(name: &str) -> NewClient {
    NewClient {
        redirect_uris: vec![REDIRECT_URI.to_owned()],
        grant_types: BTreeSet::from(GrantType::ALL),
        scopes: ScopeSet::parse(SCOPES).expect("scopes"),
        ..NewClient::confidential(name)
    }
}

/// The scopes of [`banking`] clients: every scope of the resource API.
pub const BANKING_SCOPES: &str = "openid email profile:read wallet:read orders:read orders:write users.profiles:read users.balance:read";

/// A confidential client like [`confidential`] that may also ask for every banking scope
/// ([`BANKING_SCOPES`], `orders:write` included).
#[must_use]
pub fn banking(name: &str) -> NewClient {
    NewClient {
        scopes: ScopeSet::parse(BANKING_SCOPES).expect("scopes"),
        ..confidential(name)
    }
}

/// A public client (authorization code and refresh, PKCE S256 required).
#[must_use]
pub fn public(name: &str) -> NewClient {
    NewClient {
        kind: ClientKind::Public,
        grant_types: BTreeSet::from([GrantType::AuthorizationCode, GrantType::RefreshToken]),
        ..confidential(name)
    }
}

/// A PKCE verifier and its S256 challenge.
#[derive(Debug, Clone)]
pub struct Pkce {
    /// The verifier.
    pub verifier: String,
    /// `BASE64URL(SHA256(verifier))`.
    pub challenge: String,
}

impl Pkce {
    /// A fresh pair.
    #[must_use]
    pub fn new() -> Self {
        let verifier = new_secret(&OsRandom)
            .expect("randomness")
            .expose()
            .to_owned();
        let challenge = s256_challenge(&verifier);
        Self {
            verifier,
            challenge,
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// A new cookie-keeping HTTP client that does not follow redirects: one browser.
#[must_use]
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("HTTP client")
}

/// The `Location` of a redirect, resolved against `base`.
#[must_use]
pub fn location(base: &str, response: &reqwest::Response) -> url::Url {
    let value = response
        .headers()
        .get(reqwest::header::LOCATION)
        .unwrap_or_else(|| panic!("no Location on a {} response", response.status()))
        .to_str()
        .expect("ASCII Location");
    url::Url::parse(base)
        .and_then(|b| b.join(value))
        .expect("Location is a URL")
}

/// A query parameter of `url`.
#[must_use]
pub fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The value of the hidden input `name` in a page.
#[must_use]
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden {name} in:\n{html}"))
        + marker.len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_owned()
}

/// Where the authorization flow left the browser.
#[derive(Debug, Clone)]
pub struct Callback {
    /// The URL the browser was sent to (the client's redirect URI with the response).
    pub url: url::Url,
}

impl Callback {
    /// A parameter of the response.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<String> {
        param(&self.url, name)
    }

    /// The code, which must be there.
    #[must_use]
    pub fn code(&self) -> String {
        self.get("code")
            .unwrap_or_else(|| panic!("no code in {}", self.url))
    }
}

impl TestApp {
    /// Registers a client; returns it and its secret.
    pub async fn client(&self, new: NewClient) -> (Client, Option<Secret>) {
        clients::create(&self.store, self.clock.as_ref(), &OsRandom, new, 86_400)
            .await
            .expect("client registers")
    }

    /// Creates a user named "Test User" with [`PASSWORD`] and nothing else: no banking
    /// profile, so a flow for banking scopes leads them through onboarding (which
    /// [`TestApp::code_flow`] completes). See [`TestApp::customer`] for a user who is ready.
    pub async fn user(&self, email: &str) -> User {
        let prepared = users::prepare(&OsRandom, email, "Test User", &Secret::new(PASSWORD))
            .expect("valid user");
        users::create(&self.store, self.clock.as_ref(), &OsRandom, prepared)
            .await
            .expect("user is created")
    }

    /// Creates a user like [`TestApp::user`] who is ready for every scope: one personal profile
    /// ("Test User") with approved KYC, a wallet and an IBAN (see [`TestApp::ready_profile`]).
    pub async fn customer(&self, email: &str) -> User {
        let user = self.user(email).await;
        self.ready_profile(&user, ProfileKind::Personal, "Test User")
            .await;
        user
    }

    /// Gives `user` a new profile with approved KYC, an Ethereum wallet of a fresh key (proven
    /// by its signature) and an IBAN, through the core's banking operations.
    pub async fn ready_profile(&self, user: &User, kind: ProfileKind, name: &str) -> Profile {
        let clock = self.clock.as_ref();
        let profile = accounts::create_profile(&self.store, clock, &OsRandom, &user.id, kind, name)
            .await
            .expect("profile is created");
        self.store
            .set_kyc(&profile.id, KycState::Approved, clock.now())
            .await
            .expect("KYC is approved");
        let linked = self
            .prove_wallet(&profile, Chain::Ethereum, &TestWallet::new())
            .await
            .expect("wallet is linked");
        accounts::issue_iban(&self.store, clock, &OsRandom, &profile.id, &linked.id)
            .await
            .expect("IBAN is issued");
        self.store
            .profile(&profile.id)
            .await
            .expect("profile readable")
            .expect("profile exists")
    }

    /// The site the server names in wallet-ownership messages.
    #[must_use]
    pub fn ownership_site(&self) -> OwnershipSite {
        OwnershipSite::for_issuer(&self.issuer).expect("the issuer has a host")
    }

    /// Links `wallet` to `profile` on `chain` through the core, as the wallet page does: a
    /// challenge issued for the profile, signed by the wallet's key.
    ///
    /// # Errors
    /// What [`ownership::link_wallet`] refuses (the address is linked already, say).
    pub async fn prove_wallet(
        &self,
        profile: &Profile,
        chain: Chain,
        wallet: &TestWallet,
    ) -> Result<WalletRecord, accounts::BankError> {
        let site = self.ownership_site();
        let clock = self.clock.as_ref();
        let message = ownership::issue_challenge(
            &self.store,
            clock,
            &OsRandom,
            &site,
            profile,
            chain,
            &wallet.address,
        )
        .await?
        .to_string();
        let signature = wallet.sign(&message);
        ownership::link_wallet(
            &self.store,
            clock,
            &OsRandom,
            &site,
            profile,
            &message,
            &signature,
        )
        .await
    }

    /// `GET /oauth/authorize?<params>` in `browser`.
    pub async fn authorize(
        &self,
        browser: &reqwest::Client,
        params: &[(&str, &str)],
    ) -> reqwest::Response {
        browser
            .get(self.url("/oauth/authorize"))
            .query(params)
            .send()
            .await
            .expect("authorize")
    }

    /// Logs `email` in through the login form (for pending request `request`, if any).
    pub async fn login(
        &self,
        browser: &reqwest::Client,
        email: &str,
        password: &str,
        request: Option<&str>,
    ) -> reqwest::Response {
        let mut page_url = self.url("/login");
        if let Some(request) = request {
            page_url = format!("{page_url}?request={request}");
        }
        let page = browser
            .get(&page_url)
            .send()
            .await
            .expect("login page")
            .text()
            .await
            .expect("html");
        let csrf = hidden(&page, "csrf");
        let mut form = vec![
            ("email", email),
            ("password", password),
            ("csrf", csrf.as_str()),
        ];
        if let Some(request) = request {
            form.push(("request", request));
        }
        browser
            .post(self.url("/login"))
            .form(&form)
            .send()
            .await
            .expect("login")
    }

    /// Follows 303s within this server until the browser is sent elsewhere or lands on a page;
    /// returns the last response.
    pub async fn follow(
        &self,
        browser: &reqwest::Client,
        mut response: reqwest::Response,
    ) -> reqwest::Response {
        for _ in 0..10 {
            if !response.status().is_redirection() {
                return response;
            }
            let next = location(&self.base, &response);
            if !next.as_str().starts_with(&self.base) {
                return response;
            }
            response = browser.get(next).send().await.expect("redirect");
        }
        panic!("too many redirects")
    }

    /// Answers the consent page of `request` with `decision` and the ticked `scopes`, keeping
    /// the profile the page preselects (see [`TestApp::consent_for`]).
    pub async fn consent(
        &self,
        browser: &reqwest::Client,
        request: &str,
        decision: &str,
        scopes: &[&str],
    ) -> reqwest::Response {
        self.consent_for(browser, request, decision, scopes, None)
            .await
    }

    /// Answers the consent page of `request` with `decision`, the ticked `scopes`, and the
    /// `profile` chosen: `None` keeps the page's own choice (its hidden or checked `profile`
    /// field, if any), `Some("")` sends none.
    pub async fn consent_for(
        &self,
        browser: &reqwest::Client,
        request: &str,
        decision: &str,
        scopes: &[&str],
        profile: Option<&str>,
    ) -> reqwest::Response {
        let page = browser
            .get(self.url(&format!("/consent?request={request}")))
            .send()
            .await
            .expect("consent page")
            .text()
            .await
            .expect("html");
        let csrf = hidden(&page, "csrf");
        let client_id = hidden(&page, "client_id");
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("request", request),
            ("client_id", client_id.as_str()),
            ("decision", decision),
        ];
        let preselected = chosen_profile(&page);
        match profile {
            Some("") => {}
            Some(profile) => form.push(("profile", profile)),
            None => form.extend(preselected.as_deref().map(|p| ("profile", p))),
        }
        form.extend(scopes.iter().map(|s| ("scope", *s)));
        browser
            .post(self.url("/consent"))
            .body(serde_urlencoded_pairs(&form))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .expect("consent")
    }

    /// The whole flow for a new browser: authorize with `params`, log `email` in, allow every
    /// requested scope (or `scopes`, if given), and return where the browser was sent.
    pub async fn code_flow(
        &self,
        email: &str,
        params: &[(&str, &str)],
        scopes: Option<&[&str]>,
    ) -> Callback {
        let browser = browser();
        self.code_flow_in(&browser, email, params, scopes).await
    }

    /// [`TestApp::code_flow`] in an existing browser (its session is reused when logged in).
    pub async fn code_flow_in(
        &self,
        browser: &reqwest::Client,
        email: &str,
        params: &[(&str, &str)],
        scopes: Option<&[&str]>,
    ) -> Callback {
        let response = self.authorize(browser, params).await;
        self.approve(browser, response, email, scopes).await
    }

    /// What a user does in the browser after an app sent them to an authorization URL: opens
    /// it, logs in as `email`, completes onboarding, allows every requested scope (or
    /// `scopes`), and is sent back to the app. For guides that use their own paths.
    pub async fn user_approves(
        &self,
        browser: &reqwest::Client,
        url: &str,
        email: &str,
        scopes: Option<&[&str]>,
    ) -> Callback {
        let response = browser.get(url).send().await.expect("authorization URL");
        self.approve(browser, response, email, scopes).await
    }

    async fn approve(
        &self,
        browser: &reqwest::Client,
        response: reqwest::Response,
        email: &str,
        scopes: Option<&[&str]>,
    ) -> Callback {
        let mut response = self.follow(browser, response).await;
        let mut here = response.url().clone();
        if here.path() == "/login" {
            let request = param(&here, "request").expect("request id");
            let logged_in = self.login(browser, email, PASSWORD, Some(&request)).await;
            assert_eq!(logged_in.status(), StatusCode::SEE_OTHER, "login");
            response = self.follow(browser, logged_in).await;
            here = response.url().clone();
        }
        if response.status() == StatusCode::OK && here.path().starts_with("/onboarding/") {
            response = self.onboard(browser, response).await;
            here = response.url().clone();
        }
        if response.status() == StatusCode::OK && here.path() == "/consent" {
            let request = param(&here, "request").expect("request id");
            let requested: Vec<String> = {
                let html = response.text().await.expect("html");
                html.match_indices("name=\"scope\" value=\"")
                    .map(|(i, m)| {
                        let rest = &html[i + m.len()..];
                        rest[..rest.find('"').expect("quote")].to_owned()
                    })
                    .collect()
            };
            let ticked: Vec<&str> = match scopes {
                Some(s) => s.to_vec(),
                None => requested.iter().map(String::as_str).collect(),
            };
            response = self.consent(browser, &request, "allow", &ticked).await;
        }
        assert!(
            response.status().is_redirection(),
            "expected a redirect to the client, got {}",
            response.status()
        );
        Callback {
            url: location(&self.base, &response),
        }
    }

    /// `POST /oauth/token` with a form, authenticating with HTTP Basic when `secret` is given.
    pub async fn token(
        &self,
        client_id: &str,
        secret: Option<&Secret>,
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut request = self.http.post(self.url("/oauth/token")).form(form);
        request = match secret {
            Some(secret) => request.basic_auth(client_id, Some(secret.expose())),
            None => request,
        };
        let response = request.send().await.expect("token request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// The profile a consent page would send: its hidden `profile`, or the checked radio button.
#[must_use]
pub fn chosen_profile(html: &str) -> Option<String> {
    let marker = "name=\"profile\" value=\"";
    let mut first = None;
    for (at, _) in html.match_indices(marker) {
        let start = at + marker.len();
        let end = html[start..].find('"').expect("closing quote") + start;
        let tag_end = html[end..].find('>').expect("end of tag") + end;
        let tag_start = html[..at].rfind("<input").expect("an input tag");
        let tag = &html[tag_start..tag_end];
        let value = html[start..end].to_owned();
        if tag.contains("type=\"hidden\"") || tag.contains(" checked") {
            return Some(value);
        }
        first.get_or_insert(value);
    }
    first
}

pub use crate::onboarding::{TestWallet, shown_message, unescape};

/// Form-encodes pairs, keeping repeated names (reqwest's `form` would too, but this keeps the
/// order explicit).
fn serde_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The usual authorization request: `response_type=code`, `client_id`, [`REDIRECT_URI`],
/// `scope`, `state=xyz` and an S256 challenge of `pkce`.
#[must_use]
pub fn request<'a>(client_id: &'a str, pkce: &'a Pkce, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT_URI),
        ("scope", scope),
        ("state", "xyz"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]
}

/// `params` without the parameter `name`.
#[must_use]
pub fn without<'a>(params: &[(&'a str, &'a str)], name: &str) -> Vec<(&'a str, &'a str)> {
    params.iter().filter(|(n, _)| *n != name).copied().collect()
}

/// `params` with `name` set to `value` (replaced when present, added otherwise).
#[must_use]
pub fn with<'a>(
    params: &[(&'a str, &'a str)],
    name: &'a str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut out = without(params, name);
    out.push((name, value));
    out
}

/// A browser whose cookie jar the test can read.
#[must_use]
pub fn browser_with_jar() -> (reqwest::Client, std::sync::Arc<reqwest::cookie::Jar>) {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(std::sync::Arc::clone(&jar))
        .build()
        .expect("HTTP client");
    (client, jar)
}

/// The value of cookie `name` that `jar` would send to `base`.
#[must_use]
pub fn cookie(jar: &reqwest::cookie::Jar, base: &str, name: &str) -> Option<String> {
    use reqwest::cookie::CookieStore as _;
    let url = url::Url::parse(base).expect("base URL");
    let header = jar.cookies(&url)?;
    header
        .to_str()
        .expect("ASCII cookies")
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

/// Every `Set-Cookie` header of a response.
#[must_use]
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ASCII Set-Cookie").to_owned())
        .collect()
}

/// Checks that `response` is the HTML error page with `status` and no redirect; returns the
/// page.
pub async fn expect_error_page(response: reqwest::Response, status: u16) -> String {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    assert!(
        response.headers().get(reqwest::header::LOCATION).is_none(),
        "an error page must not redirect"
    );
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/html"),
        "content type {content_type}"
    );
    response.text().await.expect("html")
}

/// Where an error redirect sent the browser: the client's redirect URI with `error`,
/// `error_description`, `state` and `iss`. Checks all but `state`; returns the URL.
#[must_use]
pub fn expect_error_redirect(app: &TestApp, response: &reqwest::Response, error: &str) -> url::Url {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "expected a redirect with error={error}"
    );
    let url = location(&app.base, response);
    assert!(
        url.as_str().starts_with(REDIRECT_URI),
        "redirected to {url}"
    );
    assert_eq!(param(&url, "error").as_deref(), Some(error), "{url}");
    assert!(
        param(&url, "error_description").is_some_and(|d| !d.is_empty()),
        "{url}"
    );
    assert_eq!(
        param(&url, "iss").as_deref(),
        Some(app.base.as_str()),
        "{url}"
    );
    assert!(param(&url, "code").is_none(), "{url}");
    url
}

impl TestApp {
    /// Exchanges `code` at the token endpoint with [`REDIRECT_URI`] and `verifier`.
    pub async fn exchange(
        &self,
        client: &Client,
        secret: Option<&Secret>,
        code: &str,
        verifier: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
        ];
        form.extend(verifier.map(|v| ("code_verifier", v)));
        if secret.is_none() {
            form.push(("client_id", client.id.as_str()));
        }
        self.token(client.id.as_str(), secret, &form).await
    }

    /// Refreshes with `refresh_token`.
    pub async fn refresh(
        &self,
        client: &Client,
        secret: Option<&Secret>,
        refresh_token: &str,
    ) -> (StatusCode, Value) {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if secret.is_none() {
            form.push(("client_id", client.id.as_str()));
        }
        self.token(client.id.as_str(), secret, &form).await
    }

    /// Disables a client directly in the database.
    pub async fn disable_client(&self, client: &Client) {
        use portcullis_core::store::ClientStore as _;
        let disabled = Client {
            enabled: false,
            ..client.clone()
        };
        assert!(
            self.store
                .update_client(&disabled)
                .await
                .expect("update client"),
            "client exists"
        );
    }

    /// A new browser logged in as `email` (outside any authorization request).
    pub async fn logged_in_browser(&self, email: &str) -> reqwest::Client {
        let browser = browser();
        let response = self.login(&browser, email, PASSWORD, None).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "login of {email}");
        browser
    }

    /// Starts an authorization request in `browser` and follows it within the server; returns
    /// the last response (a page, or the redirect to the client).
    pub async fn authorize_and_follow(
        &self,
        browser: &reqwest::Client,
        params: &[(&str, &str)],
    ) -> reqwest::Response {
        let response = self.authorize(browser, params).await;
        self.follow(browser, response).await
    }
}

/// A test app on PostgreSQL, or `None` (announced) when `PORTCULLIS_TEST_DATABASE_URL` is not
/// set.
pub async fn postgres_app() -> Option<TestApp> {
    crate::spawn_app_with(crate::AppOptions {
        backend: crate::Backend::Postgres,
        ..crate::AppOptions::default()
    })
    .await
}
