//! Registered clients (RFC 6749 §2): their kind, redirect URIs, grants, scopes and policies.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use portcullis_proto::{ClientId, ScopeSet};

use crate::hash::SecretHash;
use crate::keys::SigningAlg;
use crate::time::UnixTime;

/// A redirect URI that passed registration rules (RFC 6749 §3.1.2, RFC 9700 §4.1.3).
///
/// Kept exactly as registered: matching is a simple string comparison, except that a loopback
/// IP redirect URI matches any port (RFC 8252 §7.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    raw: String,
    loopback_ip: bool,
}

/// Why a redirect URI was refused at registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    /// Not an absolute URI.
    #[error("redirect URI {0:?} is not an absolute URI")]
    NotAbsolute(String),
    /// A scheme other than https (or http on loopback).
    #[error("redirect URI {0:?} must use https (http is allowed only on a loopback address)")]
    Scheme(String),
    /// RFC 6749 §3.1.2: no fragment.
    #[error("redirect URI {0:?} must not contain a fragment")]
    Fragment(String),
    /// Wildcards make open redirectors (RFC 9700 §4.1.3).
    #[error("redirect URI {0:?} must not contain a wildcard")]
    Wildcard(String),
    /// Credentials in a URI leak.
    #[error("redirect URI {0:?} must not contain user information")]
    UserInfo(String),
    /// Too long to be a real redirect URI.
    #[error("redirect URI is longer than {0} characters")]
    TooLong(usize),
}

/// The longest redirect URI accepted.
pub const MAX_REDIRECT_URI_LEN: usize = 2000;

fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

impl RedirectUri {
    /// Checks a redirect URI against the registration rules: absolute; `https`, or `http` on a
    /// loopback host; no fragment, wildcard or user information.
    ///
    /// # Errors
    /// The first rule the URI breaks.
    pub fn parse(raw: &str) -> Result<Self, RedirectUriError> {
        if raw.len() > MAX_REDIRECT_URI_LEN {
            return Err(RedirectUriError::TooLong(MAX_REDIRECT_URI_LEN));
        }
        let url = url::Url::parse(raw).map_err(|_| RedirectUriError::NotAbsolute(raw.into()))?;
        if raw.contains('#') {
            return Err(RedirectUriError::Fragment(raw.into()));
        }
        if raw.contains('*') {
            return Err(RedirectUriError::Wildcard(raw.into()));
        }
        let host = url
            .host()
            .ok_or_else(|| RedirectUriError::NotAbsolute(raw.into()))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            _ => return Err(RedirectUriError::Scheme(raw.into())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RedirectUriError::UserInfo(raw.into()));
        }
        let loopback_ip =
            url.scheme() == "http" && matches!(host, url::Host::Ipv4(_) | url::Host::Ipv6(_));
        Ok(Self {
            raw: raw.to_owned(),
            loopback_ip,
        })
    }

    /// The URI as registered.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether the URI a request carries is this one: an exact string match, or for a
    /// loopback IP URI the same URI on any port (RFC 8252 §7.3).
    #[must_use]
    pub fn matches(&self, requested: &str) -> bool {
        if requested == self.raw {
            return true;
        }
        if !self.loopback_ip || requested.contains('#') {
            return false;
        }
        let (Ok(registered), Ok(requested)) =
            (url::Url::parse(&self.raw), url::Url::parse(requested))
        else {
            return false;
        };
        let host_ip = |u: &url::Url| match u.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        requested.scheme() == "http"
            && requested.username().is_empty()
            && requested.password().is_none()
            && host_ip(&requested).is_some()
            && host_ip(&requested) == host_ip(&registered)
            && requested.path() == registered.path()
            && requested.query() == registered.query()
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// A web origin a browser-based client runs on (RFC 6454 §6.2: `scheme://host[:port]`): the
/// token, revocation and userinfo endpoints answer cross-origin requests only from origins the
/// client registered.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WebOrigin(String);

/// Why a web origin was refused at registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebOriginError {
    /// Not `scheme://host[:port]` exactly, in its serialized form.
    #[error(
        "web origin {0:?} must be scheme://host[:port] exactly, in lower case, without a path, \
         query, fragment or trailing slash"
    )]
    NotAnOrigin(String),
    /// A scheme other than https (or http on loopback).
    #[error("web origin {0:?} must use https (http is allowed only on a loopback address)")]
    Scheme(String),
}

impl WebOrigin {
    /// Checks an origin: it must be exactly the serialization a browser sends in `Origin`
    /// (so matching is a string comparison), https or http on a loopback host, no wildcard.
    ///
    /// # Errors
    /// The rule the origin breaks.
    pub fn parse(raw: &str) -> Result<Self, WebOriginError> {
        let not_origin = || WebOriginError::NotAnOrigin(raw.to_owned());
        if raw.len() > MAX_REDIRECT_URI_LEN || raw.contains('*') {
            return Err(not_origin());
        }
        let url = url::Url::parse(raw).map_err(|_| not_origin())?;
        let host = url.host().ok_or_else(not_origin)?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            "http" => return Err(WebOriginError::Scheme(raw.to_owned())),
            _ => return Err(not_origin()),
        }
        if url.origin().ascii_serialization() != raw {
            return Err(not_origin());
        }
        Ok(Self(raw.to_owned()))
    }

    /// The origin as registered.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WebOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A grant type the token endpoint supports (RFC 6749 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantType {
    /// RFC 6749 §4.1.
    AuthorizationCode,
    /// RFC 6749 §6.
    RefreshToken,
    /// RFC 6749 §4.4.
    ClientCredentials,
}

impl GrantType {
    /// Every supported grant.
    pub const ALL: [Self; 3] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
    ];

    /// The `grant_type` value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value is not a supported grant type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown grant type {0:?}; expected authorization_code, refresh_token or client_credentials"
)]
pub struct UnknownGrantType(pub String);

impl FromStr for GrantType {
    type Err = UnknownGrantType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| UnknownGrantType(s.into()))
    }
}

/// How PKCE (RFC 7636) is enforced for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PkcePolicy {
    /// PKCE with S256 is required (the default, RFC 9700 §2.1.1).
    #[default]
    S256Required,
    /// PKCE is required, and the `plain` method is accepted as well as S256. An opt-in for
    /// clients that cannot compute SHA-256.
    PlainAllowed,
    /// PKCE is not required (S256 is still checked when sent). For a public client this drops
    /// the only protection against code interception, so it needs an acknowledgement.
    Optional,
}

impl PkcePolicy {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::S256Required => "s256",
            Self::PlainAllowed => "plain-allowed",
            Self::Optional => "optional",
        }
    }
}

/// The value is not a PKCE policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown PKCE policy {0:?}; expected s256, plain-allowed or optional")]
pub struct UnknownPkcePolicy(pub String);

impl FromStr for PkcePolicy {
    type Err = UnknownPkcePolicy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::S256Required, Self::PlainAllowed, Self::Optional]
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPkcePolicy(s.into()))
    }
}

/// Public clients cannot keep a secret (RFC 6749 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// Authenticates with a secret.
    Confidential,
    /// Authenticates with nothing; PKCE protects its codes.
    Public,
}

/// A client secret's digest, and possibly the previous one still accepted during a rotation's
/// grace period.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientSecrets {
    /// The current secret.
    pub current: Option<SecretHash>,
    /// The secret that was rotated out, and until when it is still accepted.
    pub previous: Option<(SecretHash, UnixTime)>,
}

impl ClientSecrets {
    /// Whether `secret` is the current secret, or the previous one within its grace period.
    /// Both digests are always compared, so timing does not tell which matched.
    #[must_use]
    pub fn accepts(&self, secret: &str, now: UnixTime) -> bool {
        let current = self.current.as_ref().is_some_and(|h| h.matches(secret));
        let previous = self
            .previous
            .as_ref()
            .is_some_and(|(h, until)| h.matches(secret) && now < *until);
        current | previous
    }
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The client identifier.
    pub id: ClientId,
    /// Shown on the consent page.
    pub name: String,
    /// Public or confidential.
    pub kind: ClientKind,
    /// Secret digests (confidential clients).
    pub secrets: ClientSecrets,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<RedirectUri>,
    /// Where the browser may be sent after RP-initiated logout (compared exactly).
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// Origins whose scripts may call the token, revocation and userinfo endpoints (CORS).
    pub web_origins: Vec<WebOrigin>,
    /// Every token request must carry a DPoP proof, so every access token is sender-constrained
    /// (RFC 9449 §5.2, the client metadata of that name).
    pub dpop_bound_access_tokens: bool,
    /// Authorization requests must be pushed first (RFC 9126 §6): a plain one is refused.
    pub require_pushed_authorization_requests: bool,
    /// The public keys of a `private_key_jwt` client (a JWK Set, checked at registration):
    /// it authenticates with assertions signed by one of them, and never with a secret.
    pub jwks: Option<serde_json::Value>,
    /// Grants the client may use.
    pub grant_types: BTreeSet<GrantType>,
    /// Scopes the client may ask for.
    pub scopes: ScopeSet,
    /// Access token lifetime, seconds.
    pub access_token_ttl: i64,
    /// Refresh token lifetime, seconds.
    pub refresh_token_ttl: i64,
    /// PKCE enforcement.
    pub pkce: PkcePolicy,
    /// The algorithm of its ID tokens.
    pub id_token_alg: SigningAlg,
    /// May read, with client credentials, the profiles that granted it access.
    pub partner: bool,
    /// May call the admin API.
    pub admin: bool,
    /// Disabled clients can do nothing.
    pub enabled: bool,
    /// Shown on the consent page.
    pub logo_uri: Option<String>,
    /// Shown on the consent page.
    pub homepage_uri: Option<String>,
    /// Creation time.
    pub created_at: UnixTime,
    /// Last change.
    pub updated_at: UnixTime,
}

impl Client {
    /// Whether the client may use `grant`.
    #[must_use]
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether `requested` is exactly one of the client's post-logout redirect URIs
    /// (RP-Initiated Logout 1.0 §3: a simple string comparison, no loopback port leeway).
    #[must_use]
    pub fn allows_post_logout_redirect(&self, requested: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|r| r.as_str() == requested)
    }

    /// Whether scripts from `origin` (the `Origin` header) may read this client's answers.
    #[must_use]
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.web_origins.iter().any(|o| o.as_str() == origin)
    }

    /// The registered redirect URI that `requested` matches; with no `requested`, the only
    /// registered one (RFC 6749 §3.1.2.3), if there is exactly one.
    #[must_use]
    pub fn redirect_uri_for(&self, requested: Option<&str>) -> Option<String> {
        match requested {
            Some(uri) => self
                .redirect_uris
                .iter()
                .any(|r| r.matches(uri))
                .then(|| uri.to_owned()),
            None => match self.redirect_uris.as_slice() {
                [only] => Some(only.as_str().to_owned()),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules_for_redirect_uris() {
        assert!(RedirectUri::parse("https://app.example/cb").is_ok());
        assert!(RedirectUri::parse("http://127.0.0.1:8000/cb").is_ok());
        assert!(RedirectUri::parse("http://[::1]/cb").is_ok());
        assert!(RedirectUri::parse("http://localhost:3000/monei/callback").is_ok());
        assert!(matches!(
            RedirectUri::parse("http://app.example/cb"),
            Err(RedirectUriError::Scheme(_))
        ));
        assert!(matches!(
            RedirectUri::parse("https://app.example/cb#x"),
            Err(RedirectUriError::Fragment(_))
        ));
        assert!(matches!(
            RedirectUri::parse("https://app.example/cb#"),
            Err(RedirectUriError::Fragment(_))
        ));
        assert!(matches!(
            RedirectUri::parse("https://*.example/cb"),
            Err(RedirectUriError::Wildcard(_) | RedirectUriError::NotAbsolute(_))
        ));
        assert!(matches!(
            RedirectUri::parse("https://app.example/*"),
            Err(RedirectUriError::Wildcard(_))
        ));
        for bad in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            RedirectUri::parse("/cb"),
            Err(RedirectUriError::NotAbsolute(_))
        ));
        assert!(matches!(
            RedirectUri::parse("https://user:pw@app.example/cb"),
            Err(RedirectUriError::UserInfo(_))
        ));
    }

    #[test]
    fn web_origins_are_exact_serializations() {
        for good in [
            "https://app.example",
            "https://app.example:8443",
            "http://127.0.0.1:5173",
            "http://localhost:3000",
            "http://[::1]:8080",
        ] {
            assert_eq!(WebOrigin::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "https://app.example/",
            "https://app.example/spa",
            "https://APP.example",
            "https://app.example:443",
            "https://*.example",
            "https://app.example?x",
            "null",
            "app.example",
            "file:///tmp",
        ] {
            assert!(
                matches!(WebOrigin::parse(bad), Err(WebOriginError::NotAnOrigin(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            WebOrigin::parse("http://app.example"),
            Err(WebOriginError::Scheme(_))
        ));
    }

    #[test]
    fn matching_is_exact_except_loopback_ports() {
        let https = RedirectUri::parse("https://app.example/cb").unwrap();
        assert!(https.matches("https://app.example/cb"));
        assert!(!https.matches("https://app.example/cb/"));
        assert!(!https.matches("https://app.example/cb?x=1"));
        assert!(!https.matches("https://APP.example/cb"));

        let loopback = RedirectUri::parse("http://127.0.0.1/cb").unwrap();
        assert!(loopback.matches("http://127.0.0.1:51234/cb"));
        assert!(!loopback.matches("http://127.0.0.1:51234/other"));
        assert!(!loopback.matches("http://127.0.0.2:51234/cb"));
        assert!(!loopback.matches("http://127.0.0.1:51234/cb#frag"));
        assert!(!loopback.matches("https://127.0.0.1:51234/cb"));

        let localhost = RedirectUri::parse("http://localhost:3000/cb").unwrap();
        assert!(!localhost.matches("http://localhost:3001/cb"));
    }

    #[test]
    fn previous_secret_is_accepted_only_during_grace() {
        let secrets = ClientSecrets {
            current: Some(SecretHash::of("new")),
            previous: Some((SecretHash::of("old"), UnixTime(100))),
        };
        assert!(secrets.accepts("new", UnixTime(50)));
        assert!(secrets.accepts("old", UnixTime(99)));
        assert!(!secrets.accepts("old", UnixTime(100)));
        assert!(!secrets.accepts("other", UnixTime(0)));
    }
}
