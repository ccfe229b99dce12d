//! Helpers for the token tests: obtaining tokens over HTTP, and checking them with an
//! independent JWT library (`jsonwebtoken`) against the keys the server publishes.

use std::collections::HashSet;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Header, Validation};
use portcullis_core::client::Client;
use portcullis_core::time::Clock as _;
use portcullis_proto::Secret;
use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{Callback, Pkce, REDIRECT_URI};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A response: status, headers and JSON body (`Null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub async fn of(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts an RFC 6749 §5.2 error: status, code, a JSON body and `Cache-Control: no-store`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["error"], code, "{}", self.body);
        if let Some(description) = self.body["error_description"].as_str() {
            assert!(
                description
                    .chars()
                    .all(portcullis_proto::error::description_char_allowed),
                "RFC 6749 §5.2 error_description charset: {description:?}"
            );
        }
        assert_eq!(
            self.header("cache-control"),
            Some("no-store"),
            "{:?}",
            self.headers
        );
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{:?}",
            self.headers
        );
    }

    /// Asserts a 200 token response with `Cache-Control: no-store`; returns the body.
    #[track_caller]
    pub fn assert_tokens(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.body);
        assert_eq!(
            self.header("cache-control"),
            Some("no-store"),
            "{:?}",
            self.headers
        );
        assert_eq!(self.body["token_type"], "Bearer");
        assert!(self.body["access_token"].is_string(), "{}", self.body);
        &self.body
    }

    pub fn str(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} in {}", self.body))
            .to_owned()
    }
}

/// `POST /oauth/token` with a form; HTTP Basic when `secret` is given, otherwise `client_id`
/// in the form (a public client).
pub async fn token(
    app: &TestApp,
    client_id: &str,
    secret: Option<&Secret>,
    form: &[(&str, &str)],
) -> Answer {
    post_form(app, "/oauth/token", client_id, secret, form).await
}

/// `POST` of a form to `path`, authenticated as [`token`] does.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    client_id: &str,
    secret: Option<&Secret>,
    form: &[(&str, &str)],
) -> Answer {
    let mut fields: Vec<(&str, &str)> = form.to_vec();
    let mut request = app.http.post(app.url(path));
    match secret {
        Some(secret) => request = request.basic_auth(client_id, Some(secret.expose())),
        None => fields.push(("client_id", client_id)),
    }
    Answer::of(request.form(&fields).send().await.unwrap()).await
}

/// `POST` of a raw body with a content type.
pub async fn post_raw(app: &TestApp, path: &str, content_type: &str, body: String) -> Answer {
    let response = app
        .http
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    Answer::of(response).await
}

/// `POST /oauth/introspect`.
pub async fn introspect(
    app: &TestApp,
    client: &Client,
    secret: Option<&Secret>,
    token: &str,
) -> Answer {
    post_form(
        app,
        "/oauth/introspect",
        client.id.as_str(),
        secret,
        &[("token", token)],
    )
    .await
}

/// Introspects `token` and returns whether it is active (asserting a 200).
pub async fn active(app: &TestApp, client: &Client, secret: &Secret, token: &str) -> bool {
    let answer = introspect(app, client, Some(secret), token).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let active = answer.body["active"]
        .as_bool()
        .expect("active is a boolean");
    if !active {
        assert_eq!(
            answer.body,
            serde_json::json!({"active": false}),
            "an inactive token reveals nothing"
        );
    }
    active
}

/// `POST /oauth/revoke`.
pub async fn revoke(
    app: &TestApp,
    client: &Client,
    secret: Option<&Secret>,
    token: &str,
) -> Answer {
    post_form(
        app,
        "/oauth/revoke",
        client.id.as_str(),
        secret,
        &[("token", token)],
    )
    .await
}

/// Authorization request parameters for `client` with PKCE S256.
pub fn authorize_params<'a>(
    client: &'a Client,
    scope: &'a str,
    pkce: &'a Pkce,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("scope", scope),
        ("state", "st"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]
}

/// Drives the code flow for `email` (who must exist) and returns the callback and verifier.
pub async fn code_for(
    app: &TestApp,
    client: &Client,
    email: &str,
    scope: &str,
) -> (Callback, Pkce) {
    let pkce = Pkce::new();
    let callback = app
        .code_flow(email, &authorize_params(client, scope, &pkce), None)
        .await;
    assert!(
        callback.get("code").is_some(),
        "no code in {}",
        callback.url
    );
    (callback, pkce)
}

/// A user's tokens for `client` through the whole code flow with PKCE.
pub async fn user_tokens(
    app: &TestApp,
    client: &Client,
    secret: Option<&Secret>,
    email: &str,
    scope: &str,
) -> Answer {
    let (callback, pkce) = code_for(app, client, email, scope).await;
    let answer = redeem(app, client, secret, &callback.code(), &pkce.verifier).await;
    answer.assert_tokens();
    answer
}

/// Redeems `code` with the default redirect URI and `verifier`.
pub async fn redeem(
    app: &TestApp,
    client: &Client,
    secret: Option<&Secret>,
    code: &str,
    verifier: &str,
) -> Answer {
    token(
        app,
        client.id.as_str(),
        secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// `grant_type=refresh_token`.
pub async fn refresh(
    app: &TestApp,
    client: &Client,
    secret: Option<&Secret>,
    refresh_token: &str,
    scope: Option<&str>,
) -> Answer {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    token(app, client.id.as_str(), secret, &form).await
}

/// `grant_type=client_credentials` with HTTP Basic.
pub async fn client_credentials(
    app: &TestApp,
    client: &Client,
    secret: &Secret,
    scope: Option<&str>,
) -> Answer {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    token(app, client.id.as_str(), Some(secret), &form).await
}

/// The server's metadata (RFC 8414) as JSON.
pub async fn metadata(app: &TestApp) -> Value {
    let response = app
        .http
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The published keys, parsed by the independent library.
pub async fn jwks(app: &TestApp) -> JwkSet {
    let response = app.http.get(app.url("/oauth/jwks")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Verifies `token` with `jsonwebtoken` against the JWKS: the `kid` must be published, the
/// key's `alg` must be the header's, and the signature, `iss`, `aud` and `exp` must check out.
/// Returns the header and the claims.
pub async fn verify_jwt(app: &TestApp, token: &str, audience: &str) -> (Header, Value) {
    let set = jwks(app).await;
    verify_with(&set, &app.base, token, audience)
}

/// [`verify_jwt`] against a given key set.
pub fn verify_with(set: &JwkSet, issuer: &str, token: &str, audience: &str) -> (Header, Value) {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let kid = header.kid.as_deref().expect("kid header");
    let jwk = set
        .find(kid)
        .unwrap_or_else(|| panic!("kid {kid} is not in the JWKS"));
    let key_alg = jwk
        .common
        .key_algorithm
        .map(|a| a.to_string())
        .expect("the JWK names its alg");
    assert_eq!(
        key_alg,
        format!("{:?}", header.alg),
        "the header alg is the key's"
    );
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap_or_else(|e| panic!("{token} does not verify: {e}"));
    (data.header, data.claims)
}

/// What an access token must say.
#[derive(Debug)]
pub struct Expect<'a> {
    pub sub: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    /// A user token (with `gid`) rather than the client's own.
    pub user: bool,
}

/// Verifies an access token independently and checks every claim (RFC 9068 §2.2). Returns the
/// claims.
pub async fn check_access_token(app: &TestApp, token: &str, expect: &Expect<'_>) -> Value {
    let (header, claims) = verify_jwt(app, token, &app.base).await;
    assert_eq!(header.typ.as_deref(), Some("at+jwt"), "RFC 9068 §2.1");
    assert_eq!(format!("{:?}", header.alg), "ES256", "ES256 by default");
    assert_eq!(claims["iss"], app.base.as_str());
    assert_eq!(
        claims["aud"],
        app.base.as_str(),
        "the audience defaults to the issuer"
    );
    assert_eq!(claims["sub"], expect.sub);
    assert_eq!(claims["client_id"], expect.client_id);
    let scope: HashSet<&str> = claims["scope"].as_str().unwrap().split(' ').collect();
    let expected: HashSet<&str> = expect.scope.split(' ').collect();
    assert_eq!(scope, expected, "scope");
    let iat = claims["iat"].as_i64().unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    assert_eq!(exp - iat, 3600, "one hour by default");
    let now = app.clock.now().0;
    assert!(
        (now - 5..=now).contains(&iat),
        "iat {iat} is the server's now {now}"
    );
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16), "jti");
    // A user token acts for a profile exactly when its scope involves one (banking is on in
    // these tests); a client's own token never does.
    let binds = expect.user
        && portcullis_core::banking::onboarding::needs_profile(
            &portcullis_proto::ScopeSet::parse(expect.scope).unwrap(),
        );
    assert_eq!(
        claims["profile"].as_str().is_some_and(|p| !p.is_empty()),
        binds,
        "a profile claim exactly when the scope involves a profile: {claims}"
    );
    if expect.user {
        assert!(claims["gid"].as_str().is_some_and(|g| !g.is_empty()), "gid");
        assert!(
            claims["auth_time"].as_i64().is_some_and(|t| t <= iat),
            "auth_time"
        );
    } else {
        assert!(claims.get("gid").is_none(), "no grant on a client token");
        assert!(
            claims.get("auth_time").is_none(),
            "no auth_time on a client token"
        );
    }
    claims
}

/// The claims of a JWT without verifying it (for tests that look at a token the server
/// refused).
pub fn peek(token: &str) -> Value {
    use base64::Engine as _;
    let part = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
