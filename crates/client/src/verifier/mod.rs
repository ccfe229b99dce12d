//! Local verification of Portcullis access tokens (JWT, RFC 9068) for resource servers.
//!
//! A [`Verifier`] checks, in this order: the token's size and shape; the header's `alg`
//! against an allow-list of asymmetric algorithms (`none` and HMAC cannot be configured at
//! all, so a token "signed" with the public key as an HMAC secret is refused); `typ` is
//! `at+jwt` (RFC 9068 §4); the key named by `kid` is in the issuer's JWKS and is for that same
//! algorithm; the signature; then `iss`, `aud`, `exp` and `nbf` (with a small leeway for clock
//! skew) and the scopes the route needs.
//!
//! The JWKS is fetched once when the verifier is built, re-read when it is older than
//! [`VerifierBuilder::max_cache_age`], and re-fetched when a token names an unknown `kid`
//! (the server rotated its keys) but not more often than
//! [`VerifierBuilder::min_refetch_interval`].
//!
//! A verifier cannot see revocation: a revoked token stays valid here until it expires (one
//! hour by default). Resource servers that must notice revocation at once should introspect
//! ([`crate::Client::introspect`]) instead.
//!
//! ```no_run
//! use portcullis_client::verifier::Verifier;
//!
//! # async fn run(token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::builder("http://127.0.0.1:8080").build().await?;
//! let claims = verifier.verify_with_scopes(token, &["wallet:read"]).await?;
//! println!("{} acting through {}", claims.sub, claims.client_id);
//! # Ok(()) }
//! ```

#[cfg(feature = "axum")]
pub mod axum;
mod claims;
pub(crate) mod jwks;
pub(crate) mod jws;

use std::sync::Arc;
use std::time::Duration;

use portcullis_proto::jwks::JwkSet;

pub use claims::{AccessTokenClaims, Confirmation};

use crate::clock::{Clock, SystemClock, secs, unix};
use crate::error::Error;
use jwks::Jwks;

/// A JWS algorithm the verifier can check (RFC 7518 §3, RFC 8037 §3.1): only asymmetric
/// ones, so neither `none` nor HMAC can ever be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// ECDSA P-256 with SHA-256 (Portcullis's default).
    Es256,
    /// Ed25519.
    EdDsa,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
}

impl Algorithm {
    /// Every algorithm Portcullis signs with.
    pub const ALL: [Self; 4] = [Self::Es256, Self::EdDsa, Self::Ps256, Self::Rs256];

    /// The `alg` header value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
            Self::Ps256 => "PS256",
            Self::Rs256 => "RS256",
        }
    }

    /// The algorithm named `name` (exact, case-sensitive, as RFC 7515 §4.1.1 requires).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Not a compact JWS with a JSON header and claims, or too long.
    #[error("the token is malformed: {0}")]
    Malformed(String),
    /// The header's `alg` is not on the allow-list (`none`, `HS256`, …).
    #[error("the algorithm {0:?} is not accepted")]
    UnsupportedAlgorithm(String),
    /// The header's `alg` is not the algorithm of the key its `kid` names.
    #[error("key {kid} is for {key}, but the token says {header}")]
    KeyAlgorithmMismatch {
        /// The key id.
        kid: String,
        /// The header's algorithm.
        header: Algorithm,
        /// The key's algorithm.
        key: Algorithm,
    },
    /// The `typ` header is not `at+jwt` (RFC 9068 §4): an ID token or another JWT.
    #[error("the token type {0:?} is not at+jwt")]
    WrongType(Option<String>),
    /// No key of the issuer's JWKS has this `kid`, even after a refetch.
    #[error("no key of the issuer has the id {0:?}")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("the signature is invalid")]
    BadSignature,
    /// The claims are not those of an access token.
    #[error("the claims are malformed: {0}")]
    MalformedClaims(String),
    /// `iss` is not the expected issuer.
    #[error("the token was issued by {0:?}")]
    WrongIssuer(String),
    /// `aud` names none of the expected audiences.
    #[error("the token is for another audience")]
    WrongAudience,
    /// `exp` has passed (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is still in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// The token lacks scopes the request needs (RFC 6750 §3.1 `insufficient_scope`).
    #[error("the token lacks the scope {}", missing.join(" "))]
    MissingScope {
        /// The scopes it lacks.
        missing: Vec<String>,
    },
    /// The JWKS could not be fetched, so the token could not be checked.
    #[error("the issuer's keys are unavailable: {0}")]
    KeysUnavailable(String),
    /// The token is bound to a DPoP key and came without a proof, as a bearer token
    /// (RFC 9449 §7.1): whoever sent it may have stolen it.
    #[error("the token is bound to a DPoP key: send it with the DPoP scheme and a proof")]
    DpopRequired,
    /// The token is not bound to a key, yet came under the `DPoP` scheme.
    #[error("the token is not bound to a DPoP key: use the Bearer scheme")]
    NotDpopBound,
    /// The DPoP proof is missing or was refused.
    #[error("{0}")]
    InvalidDpopProof(&'static str),
}

impl VerifyError {
    /// The RFC 6750 §3.1 error code: `insufficient_scope` for a missing scope, `invalid_token`
    /// otherwise (`temporarily_unavailable` when the keys could not be fetched).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingScope { .. } => "insufficient_scope",
            Self::KeysUnavailable(_) => "temporarily_unavailable",
            Self::InvalidDpopProof(_) => "invalid_dpop_proof",
            _ => "invalid_token",
        }
    }
}

/// Checks Portcullis access tokens locally. Cheap to clone (shared cache).
///
/// Build one per issuer at start-up with [`Verifier::builder`] and share it.
#[derive(Debug, Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    leeway: i64,
    jwks: Jwks,
    clock: Arc<dyn Clock>,
    resource_url: Option<url::Url>,
    seen_proofs: crate::dpop::SeenProofs,
}

/// Where the verifier gets its keys.
#[derive(Debug)]
enum KeySource {
    Discover,
    Uri(String),
    Fixed(JwkSet),
}

/// Configures a [`Verifier`].
#[derive(Debug)]
#[must_use]
pub struct VerifierBuilder {
    issuer: String,
    audiences: Vec<String>,
    keys: KeySource,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    min_refetch_interval: Duration,
    max_cache_age: Duration,
    http: Option<reqwest::Client>,
    clock: Arc<dyn Clock>,
    resource_url: Option<url::Url>,
}

/// A DPoP-scheme request as the resource server received it (RFC 9449 §7).
#[derive(Debug, Clone, Copy)]
pub struct DpopRequest<'a> {
    /// The `DPoP` header, if the request had exactly one.
    pub proof: Option<&'a str>,
    /// The HTTP method.
    pub method: &'a str,
    /// The URI the client sent the request to (scheme, authority, path; the query is
    /// ignored).
    pub uri: &'a str,
}

impl Verifier {
    /// Starts configuring a verifier for tokens of `issuer`.
    ///
    /// Defaults: the audience is the issuer (Portcullis's default `aud`); the JWKS URI comes
    /// from discovery; every algorithm Portcullis signs with (ES256, EdDSA, PS256, RS256);
    /// 30 seconds of leeway; a refetch for an unknown `kid` at most every 30 seconds; the
    /// cache re-read after 5 minutes.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use portcullis_client::verifier::{Algorithm, Verifier};
    ///
    /// # async fn run() -> Result<(), portcullis_client::Error> {
    /// let verifier = Verifier::builder("https://auth.example.com")
    ///     .audience("https://api.example.com")
    ///     .algorithms(&[Algorithm::Es256])
    ///     .leeway(Duration::from_secs(10))
    ///     .build()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(issuer: impl Into<String>) -> VerifierBuilder {
        VerifierBuilder {
            issuer: issuer.into(),
            audiences: Vec::new(),
            keys: KeySource::Discover,
            algorithms: Algorithm::ALL.to_vec(),
            leeway: Duration::from_secs(30),
            min_refetch_interval: Duration::from_secs(30),
            max_cache_age: Duration::from_secs(300),
            http: None,
            clock: Arc::new(SystemClock),
            resource_url: None,
        }
    }

    /// The issuer tokens must come from.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// Verifies `token` (signature, `typ`, `iss`, `aud`, `exp`, `nbf`) and returns its claims.
    /// A token bound to a DPoP key is refused ([`VerifyError::DpopRequired`]): it is only good
    /// with a proof, through [`Verifier::verify_dpop`].
    ///
    /// # Errors
    /// See [`VerifyError`].
    pub async fn verify(&self, token: &str) -> Result<AccessTokenClaims, VerifyError> {
        self.verify_with_scopes(token, &[]).await
    }

    /// [`Verifier::verify`], and the token must carry every scope of `required`.
    ///
    /// ```no_run
    /// # async fn run(verifier: portcullis_client::verifier::Verifier, token: &str) {
    /// match verifier.verify_with_scopes(token, &["orders:write"]).await {
    ///     Ok(claims) => println!("order for {}", claims.sub),
    ///     Err(e) if e.code() == "insufficient_scope" => println!("403: {e}"),
    ///     Err(e) => println!("401: {e}"),
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    /// See [`VerifyError`]; [`VerifyError::MissingScope`] names the missing scopes.
    pub async fn verify_with_scopes(
        &self,
        token: &str,
        required: &[&str],
    ) -> Result<AccessTokenClaims, VerifyError> {
        let claims = self.claims(token, required).await?;
        if claims.cnf.is_some() {
            return Err(VerifyError::DpopRequired);
        }
        Ok(claims)
    }

    /// Verifies a token sent under the `DPoP` scheme: as [`Verifier::verify_with_scopes`],
    /// and the token must be bound to a key whose proof came with the request, naming its
    /// method and URI, the token's hash, a time within a minute, and a `jti` this verifier has
    /// not seen (RFC 9449 §4.3, §7.1). The `jti`s are remembered in this process: replicas of a
    /// resource server each keep their own.
    ///
    /// # Errors
    /// See [`VerifyError`]: [`VerifyError::NotDpopBound`] for a token that is not bound,
    /// [`VerifyError::InvalidDpopProof`] for a missing or refused proof.
    pub async fn verify_dpop(
        &self,
        token: &str,
        request: &DpopRequest<'_>,
        required: &[&str],
    ) -> Result<AccessTokenClaims, VerifyError> {
        let claims = self.claims(token, required).await?;
        let jkt = claims.dpop_jkt().ok_or(VerifyError::NotDpopBound)?;
        let proof = request.proof.ok_or(VerifyError::InvalidDpopProof(
            "a DPoP proof is required with the DPoP scheme",
        ))?;
        let expected = crate::dpop::Expected {
            method: request.method,
            uri: request.uri,
            access_token: token,
            jkt,
            now: unix(self.inner.clock.now()),
        };
        crate::dpop::check(proof, &expected, &self.inner.seen_proofs)
            .map_err(VerifyError::InvalidDpopProof)?;
        Ok(claims)
    }

    /// The URI a request for `path_and_query` was sent to, by the configured
    /// [`VerifierBuilder::resource_url`], or else by `host` over https.
    #[must_use]
    pub fn request_uri(&self, host: Option<&str>, path: &str) -> Option<String> {
        match &self.inner.resource_url {
            Some(base) => Some(format!("{}{path}", base.as_str().trim_end_matches('/'))),
            None => host.map(|host| format!("https://{host}{path}")),
        }
    }

    async fn claims(
        &self,
        token: &str,
        required: &[&str],
    ) -> Result<AccessTokenClaims, VerifyError> {
        let inner = &self.inner;
        let payload =
            jws::verify(token, &inner.jwks, &inner.algorithms, jws::Typ::AccessToken).await?;
        let claims: AccessTokenClaims = serde_json::from_slice(&payload)
            .map_err(|e| VerifyError::MalformedClaims(e.to_string()))?;
        if claims.iss != inner.issuer {
            return Err(VerifyError::WrongIssuer(claims.iss));
        }
        if !claims.aud.iter().any(|a| inner.audiences.contains(a)) {
            return Err(VerifyError::WrongAudience);
        }
        let now = unix(inner.clock.now());
        if now > claims.exp.saturating_add(inner.leeway) {
            return Err(VerifyError::Expired);
        }
        if claims
            .nbf
            .is_some_and(|nbf| now.saturating_add(inner.leeway) < nbf)
        {
            return Err(VerifyError::NotYetValid);
        }
        let missing = claims.missing_scopes(required.iter().copied());
        if !missing.is_empty() {
            return Err(VerifyError::MissingScope { missing });
        }
        Ok(claims)
    }
}

impl VerifierBuilder {
    /// Accepts tokens whose `aud` contains `audience` (repeat for several). Without any, the
    /// issuer is the audience, as Portcullis issues by default.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Reads keys from this JWKS URI instead of the one discovery names.
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.keys = KeySource::Uri(uri.into());
        self
    }

    /// Uses these keys and never fetches any (for tests, benchmarks, and air-gapped set-ups).
    pub fn jwks(mut self, keys: JwkSet) -> Self {
        self.keys = KeySource::Fixed(keys);
        self
    }

    /// Accepts only these algorithms (an empty list accepts nothing).
    pub fn algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }

    /// How far `exp` and `nbf` may be off to allow for clock skew (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The shortest time between two JWKS fetches caused by unknown `kid`s (default 30 s).
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch_interval = interval;
        self
    }

    /// How long fetched keys are used before they are re-read (default 5 minutes). Portcullis
    /// publishes a new key well before it signs with it (10 minutes by default), so a cache
    /// shorter than that sees new keys before any token needs them.
    pub fn max_cache_age(mut self, age: Duration) -> Self {
        self.max_cache_age = age;
        self
    }

    /// Uses this HTTP client for discovery and the JWKS (it should not follow redirects).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Uses this clock for `exp` and `nbf`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Where clients reach this resource server (scheme, host, port, and any path prefix a
    /// proxy strips), for the `htu` of DPoP proofs. Without it the axum layer takes the
    /// request's `Host` header over https.
    pub fn resource_url(mut self, url: url::Url) -> Self {
        self.resource_url = Some(url);
        self
    }

    /// Discovers the JWKS URI (unless given), fetches the keys once, and returns the verifier.
    ///
    /// # Errors
    /// [`Error::Config`] for an empty algorithm list, discovery errors, or
    /// [`Error::InvalidResponse`] when the JWKS cannot be fetched.
    pub async fn build(self) -> Result<Verifier, Error> {
        if self.algorithms.is_empty() {
            return Err(Error::Config("the verifier accepts no algorithm".into()));
        }
        let http = match self.http {
            Some(http) => http,
            None => crate::http::default_client()?,
        };
        let jwks = match self.keys {
            KeySource::Fixed(set) => Jwks::fixed(&set),
            source => {
                let uri = match source {
                    KeySource::Uri(uri) => uri,
                    _ => {
                        crate::discovery::discover(&http, &self.issuer)
                            .await?
                            .jwks_uri
                    }
                };
                let jwks = Jwks::remote(
                    http,
                    uri.clone(),
                    self.min_refetch_interval,
                    self.max_cache_age,
                );
                jwks.prefetch()
                    .await
                    .map_err(|e| Error::invalid(&uri, e.to_string()))?;
                jwks
            }
        };
        let audiences = if self.audiences.is_empty() {
            vec![self.issuer.clone()]
        } else {
            self.audiences
        };
        Ok(Verifier {
            inner: Arc::new(Inner {
                issuer: self.issuer,
                audiences,
                algorithms: self.algorithms,
                leeway: secs(self.leeway),
                jwks,
                clock: self.clock,
                resource_url: self.resource_url,
                seen_proofs: crate::dpop::SeenProofs::default(),
            }),
        })
    }
}
