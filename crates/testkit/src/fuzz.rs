//! Fuzz harness: every input a client controls, sent through the real router in-process (no
//! network), with one rule — nothing reachable from outside may panic or answer 5xx. The
//! cargo-fuzz targets in `fuzz/` and the property tests of the `api` suite both call these.

#![allow(clippy::expect_used, clippy::panic, clippy::missing_panics_doc)] // A failed check is the finding.

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, header};
use portcullis_core::keys::{KeyEncryptionKey, KeyRing};
use tower::ServiceExt as _;

/// An application (built, not serving) and its router, once per process.
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    ring: KeyRing,
    _app: portcullis::Application,
    _database: portcullis_store::testing::TestDatabase,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Harness")
    }
}

/// The process-wide harness (sandbox on: the `demo-app` client exists).
pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let database =
            portcullis_store::testing::TestDatabase::sqlite().expect("temporary directory");
        let kek_text = KeyEncryptionKey::generate_base64(&portcullis_core::random::OsRandom)
            .expect("randomness");
        let mut config = portcullis::Config::load(&portcullis::config::CommonArgs::default(), None)
            .expect("defaults");
        config.listen = "127.0.0.1:0".parse().expect("loopback");
        config.database.url = database.url().to_owned();
        config.key_encryption_key = Some(kek_text.clone().into());
        config.sandbox = true;
        let (app, router, ring) = runtime.block_on(async {
            let app = portcullis::Application::build(config, portcullis::Runtime::default())
                .await
                .expect("app");
            let router = app.router();
            let kek = KeyEncryptionKey::from_base64(&kek_text).expect("kek");
            let stored = portcullis_core::store::KeyStore::list_keys(app.store())
                .await
                .expect("keys");
            let ring = KeyRing::load(&stored, &kek, None, 86_400).expect("ring");
            (app, router, ring)
        });
        Harness {
            runtime,
            router,
            ring,
            _app: app,
            _database: database,
        }
    })
}

/// Asserts that an `error_description` holds only what RFC 6749 §5.2 allows
/// (`%x20-21 / %x23-5B / %x5D-7E`), whatever the request sent.
fn assert_safe_description(description: &str, place: &str) {
    assert!(
        description
            .chars()
            .all(portcullis_proto::error::description_char_allowed),
        "error_description in {place} has characters RFC 6749 does not allow: {description:?}"
    );
}

/// Checks every place an error description can leave: the JSON body, the `WWW-Authenticate`
/// challenge and the `Location` of an error redirect.
fn check_descriptions(headers: &axum::http::HeaderMap, body: &[u8]) {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(description) = json.get("error_description").and_then(|d| d.as_str())
    {
        assert_safe_description(description, "the JSON body");
    }
    for challenge in headers.get_all(header::WWW_AUTHENTICATE) {
        let challenge = challenge.to_str().expect("challenges are ASCII");
        if let Some((_, rest)) = challenge.split_once("error_description=\"") {
            let description = rest.split_once('"').map_or(rest, |(d, _)| d);
            assert_safe_description(description, "WWW-Authenticate");
        }
    }
    if let Some(location) = headers.get(header::LOCATION).and_then(|l| l.to_str().ok())
        && let Some((_, query)) = location.split_once('?')
    {
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if name == "error_description" {
                assert_safe_description(&value, "the redirect");
            }
        }
    }
}

impl Harness {
    fn send(&self, request: Request<Body>) -> u16 {
        let router = self.router.clone();
        let (status, headers, body) = self.runtime.block_on(async move {
            let response = router.oneshot(request).await.expect("infallible");
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            (parts.status, parts.headers, body)
        });
        assert!(!status.is_server_error(), "answered {status}");
        check_descriptions(&headers, &body);
        status.as_u16()
    }

    /// `GET /oauth/authorize?<input>`.
    pub fn authorize_query(&self, input: &[u8]) -> u16 {
        let query: String = url::form_urlencoded::byte_serialize(input).collect();
        // Also as a raw query, when it is one.
        if let Ok(raw) = std::str::from_utf8(input)
            && let Ok(request) = Request::get(format!("/oauth/authorize?{raw}")).body(Body::empty())
        {
            self.send(request);
        }
        self.send(
            Request::get(format!("/oauth/authorize?{query}"))
                .body(Body::empty())
                .expect("request"),
        )
    }

    /// `POST /oauth/token` with `input` as an urlencoded form body.
    pub fn token_form(&self, input: &[u8]) -> u16 {
        self.post(
            "/oauth/token",
            "application/x-www-form-urlencoded",
            input,
            None,
        )
    }

    /// `POST /oauth/token` with `input` as a JSON body.
    pub fn token_json(&self, input: &[u8]) -> u16 {
        self.post("/oauth/token", "application/json", input, None)
    }

    /// `POST /oauth/token` with `input` as the Authorization header's credentials.
    pub fn basic_header(&self, input: &[u8]) -> u16 {
        let mut value = b"Basic ".to_vec();
        value.extend_from_slice(input);
        self.post(
            "/oauth/token",
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials",
            Some(value),
        )
    }

    /// `POST /oauth/introspect`, `/oauth/revoke` and `GET /oauth/userinfo` with `input` as the
    /// token.
    pub fn token_endpoints(&self, input: &[u8]) -> u16 {
        let mut body = b"token=".to_vec();
        body.extend(url::form_urlencoded::byte_serialize(input).flat_map(str::bytes));
        let basic = Some(b"Basic ZGVtby1hcHA6d3Jvbmc=".to_vec());
        self.post(
            "/oauth/introspect",
            "application/x-www-form-urlencoded",
            &body,
            basic.clone(),
        );
        self.post(
            "/oauth/revoke",
            "application/x-www-form-urlencoded",
            &body,
            basic,
        );
        let mut bearer = b"Bearer ".to_vec();
        bearer.extend_from_slice(input);
        match axum::http::HeaderValue::from_bytes(&bearer) {
            Ok(value) => self.send(
                Request::get("/api/v1/me")
                    .header(header::AUTHORIZATION, value)
                    .body(Body::empty())
                    .expect("request"),
            ),
            Err(_) => 0,
        }
    }

    /// Pages' form posts with `input` as the body (no session: must be refused cleanly).
    pub fn page_forms(&self, input: &[u8]) -> u16 {
        for path in [
            "/login",
            "/signup",
            "/consent",
            "/logout",
            "/account/apps/revoke",
        ] {
            self.post(path, "application/x-www-form-urlencoded", input, None);
        }
        0
    }

    fn post(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
        authorization: Option<Vec<u8>>,
    ) -> u16 {
        let mut request = Request::post(path).header(header::CONTENT_TYPE, content_type);
        if let Some(value) =
            authorization.and_then(|v| axum::http::HeaderValue::from_bytes(&v).ok())
        {
            request = request.header(header::AUTHORIZATION, value);
        }
        self.send(request.body(Body::from(body.to_vec())).expect("request"))
    }

    /// The access-token checker with `input` as the token: never panics, never accepts.
    pub fn jwt(&self, input: &[u8]) {
        let token = String::from_utf8_lossy(input);
        let now = portcullis_core::time::UnixTime(0);
        let verified = portcullis_core::jwt::verify::<serde_json::Value>(
            &self.ring,
            now,
            portcullis_core::jwt::JwtKind::AccessToken,
            &token,
        );
        assert!(verified.is_err(), "an arbitrary input verified as a token");
    }
}

/// Redirect-URI registration and matching with arbitrary text: never panics, and a URI that
/// registers always matches itself.
pub fn redirect_uri(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let (registered, requested) = text.split_once('\n').unwrap_or((&text, &text));
    if let Ok(uri) = portcullis_core::client::RedirectUri::parse(registered) {
        assert!(uri.matches(registered));
        let _ = uri.matches(requested);
    }
}

/// Scope parsing with arbitrary text: never panics; what parses prints canonically and parses
/// back to itself.
pub fn scope(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    if let Ok(set) = portcullis_proto::ScopeSet::parse(&text) {
        let printed = set.to_string();
        assert_eq!(
            portcullis_proto::ScopeSet::parse(&printed).as_ref(),
            Ok(&set)
        );
    }
}

/// A wallet signature check with arbitrary input: never panics, never recovers the address of
/// the well-known test key for the fixed text (that would take its private key).
pub fn wallet_signature(input: &[u8]) {
    use portcullis_core::banking::wallet::{Address, FIXED_OWNERSHIP_MESSAGE, recover_signer};
    let text = String::from_utf8_lossy(input);
    let address = Address::parse("0x2c7536E3605D9C16a7a3D7b1898e529396a65c23").expect("address");
    assert_ne!(
        recover_signer(FIXED_OWNERSHIP_MESSAGE.as_bytes(), &text),
        Ok(address)
    );
}

/// Sign-In with Ethereum (EIP-4361) parsing with arbitrary text: never panics; what parses
/// renders back to the same text and parses to the same message.
pub fn siwe_message(input: &[u8]) {
    use portcullis_core::banking::siwe::SiweMessage;
    let text = String::from_utf8_lossy(input);
    if let Ok(message) = SiweMessage::parse(&text) {
        let printed = message.to_string();
        assert_eq!(SiweMessage::parse(&printed).as_ref(), Ok(&message));
    }
}
