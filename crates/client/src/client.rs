//! The OAuth client: authorization requests, the token endpoint (RFC 6749 §4.1.3, §4.4, §6),
//! revocation (RFC 7009) and introspection (RFC 7662).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portcullis_proto::token::{IntrospectionResponse, TokenResponse};
use portcullis_proto::{ScopeSet, Secret};
use url::Url;

use crate::api::{Api, TokenSource};
use crate::authorize::{
    self, AuthorizationCode, AuthorizeOptions, CallbackError, CallbackParams, PendingAuthorization,
};
use crate::clock::{Clock, SystemClock, unix};
use crate::discovery::{ServerMetadata, discover};
use crate::dpop::DpopKey;
use crate::error::Error;
use crate::http;
use crate::pkce;
use crate::session::{ClientCredentials, UserSession};
use crate::token::TokenSet;
use crate::verifier::jwks::Jwks;
use crate::verifier::{Algorithm, jws};

/// How the client authenticates to the token, revocation and introspection endpoints
/// (RFC 6749 §2.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// HTTP Basic with the URL-encoded id and secret (`client_secret_basic`, the default for
    /// confidential clients).
    SecretBasic(Secret),
    /// The id and secret in the form body (`client_secret_post`).
    SecretPost(Secret),
    /// A public client: the id in the form body, no secret (`none`); PKCE protects the code.
    None,
    /// An assertion signed by the client's registered key in the form body (`private_key_jwt`,
    /// RFC 7523), its `aud` the issuer identifier.
    PrivateKeyJwt(crate::ClientKey),
}

/// Which token a revocation or introspection request is about (RFC 7009 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenTypeHint {
    /// An access token.
    AccessToken,
    /// A refresh token.
    RefreshToken,
}

impl TokenTypeHint {
    fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
        }
    }
}

/// A client of one Portcullis server. Cheap to clone; share one per app.
///
/// ```no_run
/// use portcullis_client::Client;
///
/// # async fn run() -> Result<(), portcullis_client::Error> {
/// let client = Client::builder("http://127.0.0.1:8080")
///     .client_id("demo-app")
///     .client_secret("the secret the sandbox printed")
///     .redirect_uri("http://127.0.0.1:3000/callback")
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) metadata: ServerMetadata,
    pub(crate) client_id: String,
    pub(crate) auth: ClientAuth,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) http: reqwest::Client,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) api_base: Url,
    pub(crate) refresh_margin: Duration,
    pub(crate) jwks: Jwks,
    pub(crate) dpop: Option<DpopKey>,
}

/// Configures a [`Client`].
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    issuer: String,
    client_id: Option<String>,
    auth: ClientAuth,
    redirect_uri: Option<String>,
    http: Option<reqwest::Client>,
    clock: Arc<dyn Clock>,
    api_base: Option<String>,
    refresh_margin: Duration,
    dpop: Option<DpopKey>,
}

impl ClientBuilder {
    /// Sender-constrains the client's tokens with `key` (RFC 9449): every token request
    /// carries a proof (and answers the server's nonce), authorization requests bind their
    /// code to the key (`dpop_jkt`), and [`Client::api`] calls the resource API with the
    /// `DPoP` scheme and a proof per request. A stolen access or refresh token is then
    /// useless without the key.
    pub fn dpop(mut self, key: DpopKey) -> Self {
        self.dpop = Some(key);
        self
    }

    /// The client id the server gave the app.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The client secret, sent with HTTP Basic (`client_secret_basic`).
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.auth = ClientAuth::SecretBasic(Secret::new(secret));
        self
    }

    /// How the client authenticates; [`ClientAuth::None`] for a public client.
    pub fn auth(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// The redirect URI registered for the app, where authorization responses arrive.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// Uses this HTTP client. It should not follow redirects: the SDK's own does not.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Uses this clock for token expiry.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The base of the resource API (default: the issuer + `/api/v1`).
    pub fn api_base(mut self, url: impl Into<String>) -> Self {
        self.api_base = Some(url.into());
        self
    }

    /// How long before expiry an access token is renewed (default 60 s; tokens shorter than
    /// twice this are renewed at half their life).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Discovers the server's metadata (RFC 8414) and returns the client.
    ///
    /// # Errors
    /// [`Error::Config`] without a client id; the errors of [`crate::discovery::discover`].
    pub async fn build(self) -> Result<Client, Error> {
        let http = match &self.http {
            Some(http) => http.clone(),
            None => http::default_client()?,
        };
        let metadata = discover(&http, &self.issuer).await?;
        self.http(http).build_with_metadata(metadata)
    }

    /// Returns the client for already-known metadata, without any request.
    ///
    /// # Errors
    /// [`Error::Config`] without a client id or with a malformed API base.
    pub fn build_with_metadata(self, metadata: ServerMetadata) -> Result<Client, Error> {
        let client_id = self
            .client_id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Error::Config("a client id is required".into()))?;
        let http = match self.http {
            Some(http) => http,
            None => http::default_client()?,
        };
        let base = self
            .api_base
            .unwrap_or_else(|| format!("{}/api/v1", metadata.issuer.trim_end_matches('/')));
        let api_base = Url::parse(&format!("{}/", base.trim_end_matches('/')))
            .map_err(|e| Error::Config(format!("API base {base}: {e}")))?;
        let jwks = Jwks::remote(
            http.clone(),
            metadata.jwks_uri.clone(),
            Duration::from_secs(30),
            Duration::from_secs(300),
        );
        Ok(Client {
            inner: Arc::new(Inner {
                metadata,
                client_id,
                auth: self.auth,
                redirect_uri: self.redirect_uri,
                http,
                clock: self.clock,
                api_base,
                refresh_margin: self.refresh_margin,
                jwks,
                dpop: self.dpop,
            }),
        })
    }

    fn http(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }
}

impl Client {
    /// Starts configuring a client of the server whose issuer identifier is `issuer`
    /// (for the sandbox, `http://127.0.0.1:8080`).
    pub fn builder(issuer: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            issuer: issuer.into(),
            client_id: None,
            auth: ClientAuth::None,
            redirect_uri: None,
            http: None,
            clock: Arc::new(SystemClock),
            api_base: None,
            refresh_margin: Duration::from_secs(60),
            dpop: None,
        }
    }

    /// The server's metadata.
    #[must_use]
    pub fn metadata(&self) -> &ServerMetadata {
        &self.inner.metadata
    }

    /// The client id.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// An authorization request for `scope` (space-separated) with PKCE S256, a fresh
    /// `state` and `nonce`. Redirect the browser to [`PendingAuthorization::url`] and keep
    /// the whole value for the callback.
    ///
    /// ```no_run
    /// # fn run(client: portcullis_client::Client) -> Result<(), portcullis_client::Error> {
    /// let pending = client.authorize("openid wallet:read profile:read")?;
    /// assert!(pending.url().contains("code_challenge_method=S256"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] for a malformed scope or without a redirect URI; [`Error::Random`].
    pub fn authorize(&self, scope: &str) -> Result<PendingAuthorization, Error> {
        self.authorize_with(scope, &AuthorizeOptions::default())
    }

    /// [`Client::authorize`] with further options (`prompt`, `login_hint`, another redirect
    /// URI, extra parameters).
    ///
    /// # Errors
    /// See [`Client::authorize`].
    pub fn authorize_with(
        &self,
        scope: &str,
        options: &AuthorizeOptions,
    ) -> Result<PendingAuthorization, Error> {
        let (mut pending, params) = self.authorization_request(scope, options)?;
        let endpoint = &self.inner.metadata.authorization_endpoint;
        let mut url = Url::parse(endpoint)
            .map_err(|e| Error::invalid(endpoint, format!("authorization endpoint: {e}")))?;
        url.query_pairs_mut()
            .extend_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        pending.url = url.into();
        Ok(pending)
    }

    /// [`Client::authorize_with`], the request pushed to the server first (RFC 9126): its
    /// parameters go to the pushed authorization request endpoint with the client's
    /// authentication (and a DPoP proof, which binds the code, when the client has a key), and
    /// the browser's URL carries only `client_id` and the `request_uri` the server gave back.
    /// Nothing of the request can be read or changed in the browser.
    ///
    /// # Errors
    /// As [`Client::authorize_with`]; [`Error::Config`] when the server has no pushed
    /// authorization request endpoint; [`Error::OAuth`] with the authorization endpoint's
    /// error (`invalid_scope`, `invalid_request`, …) when the server refuses the request.
    pub async fn authorize_pushed(
        &self,
        scope: &str,
        options: &AuthorizeOptions,
    ) -> Result<PendingAuthorization, Error> {
        let (mut pending, params) = self.authorization_request(scope, options)?;
        let par = self
            .inner
            .metadata
            .pushed_authorization_request_endpoint
            .clone()
            .ok_or_else(|| {
                Error::Config("the server has no pushed authorization request endpoint".into())
            })?;
        let form: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (pushed, _) = self.post_with_proof::<Pushed>(&par, &form).await?;
        let endpoint = &self.inner.metadata.authorization_endpoint;
        let mut url = Url::parse(endpoint)
            .map_err(|e| Error::invalid(endpoint, format!("authorization endpoint: {e}")))?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.inner.client_id)
            .append_pair("request_uri", &pushed.request_uri);
        pending.url = url.into();
        Ok(pending)
    }

    /// The parameters of an authorization request, and what the callback is checked against.
    fn authorization_request(
        &self,
        scope: &str,
        options: &AuthorizeOptions,
    ) -> Result<(PendingAuthorization, Vec<(String, String)>), Error> {
        let scope = ScopeSet::parse(scope).map_err(|e| Error::Config(format!("scope: {e}")))?;
        let redirect_uri = options
            .redirect_uri
            .clone()
            .or_else(|| self.inner.redirect_uri.clone())
            .ok_or_else(|| Error::Config("a redirect URI is required to authorize".into()))?;
        let verifier = pkce::new_verifier()?;
        let state = pkce::random_token(16)?;
        let nonce = pkce::random_token(16)?;
        let pair = |name: &str, value: &str| (name.to_owned(), value.to_owned());
        let mut params = vec![
            pair("response_type", "code"),
            pair("client_id", &self.inner.client_id),
            pair("redirect_uri", &redirect_uri),
            pair("scope", &scope.to_string()),
            pair("state", &state),
            pair("nonce", &nonce),
            pair("code_challenge", &pkce::s256_challenge(&verifier)),
            pair("code_challenge_method", "S256"),
        ];
        if let Some(prompt) = &options.prompt {
            params.push(pair("prompt", prompt));
        }
        if let Some(hint) = &options.login_hint {
            params.push(pair("login_hint", hint));
        }
        if let Some(key) = &self.inner.dpop {
            params.push(pair("dpop_jkt", key.thumbprint()));
        }
        params.extend(options.extra.iter().cloned());
        let pending = PendingAuthorization {
            url: String::new(),
            state,
            nonce,
            code_verifier: Secret::new(verifier),
            redirect_uri,
            scope,
            issuer: self.inner.metadata.issuer.clone(),
            client_id: self.inner.client_id.clone(),
        };
        Ok((pending, params))
    }

    /// Checks an authorization response against `pending`: `iss` (RFC 9207; required, since
    /// the server announces it), `state`, then the error or code.
    ///
    /// # Errors
    /// See [`CallbackError`]; `error=access_denied` is
    /// [`CallbackError::Authorization`] with [`crate::AuthorizationErrorCode::AccessDenied`].
    pub fn validate_callback(
        &self,
        pending: &PendingAuthorization,
        params: &CallbackParams,
    ) -> Result<AuthorizationCode, CallbackError> {
        if pending.issuer != self.inner.metadata.issuer || pending.client_id != self.inner.client_id
        {
            return Err(CallbackError::WrongClient);
        }
        let iss_required = self
            .inner
            .metadata
            .authorization_response_iss_parameter_supported;
        authorize::validate(pending, params, iss_required)
    }

    /// Checks the authorization response and exchanges its code for tokens: the whole
    /// callback of the authorization code flow.
    ///
    /// ```no_run
    /// use portcullis_client::{CallbackParams, Error};
    ///
    /// # async fn run(client: portcullis_client::Client, pending: portcullis_client::PendingAuthorization, query: &str) -> Result<(), Error> {
    /// let params = CallbackParams::from_query(query)?;
    /// match client.handle_callback(&pending, &params).await {
    ///     Ok(tokens) => println!("granted {}", tokens.scopes()),
    ///     Err(Error::Callback(e)) if e.is_access_denied() => println!("the user said no"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Callback`] when the response fails a check or is an error; the errors of
    /// [`Client::exchange_code`].
    pub async fn handle_callback(
        &self,
        pending: &PendingAuthorization,
        params: &CallbackParams,
    ) -> Result<TokenSet, Error> {
        let code = self.validate_callback(pending, params)?;
        self.exchange_code(pending, &code).await
    }

    /// Exchanges a checked code for tokens (RFC 6749 §4.1.3) with the PKCE verifier; when an
    /// ID token comes back, checks its signature, `iss`, `aud`, `exp` and `nonce`.
    ///
    /// # Errors
    /// [`Error::OAuth`] (`invalid_grant` for a spent or expired code), [`Error::Http`],
    /// [`Error::InvalidResponse`].
    pub async fn exchange_code(
        &self,
        pending: &PendingAuthorization,
        code: &AuthorizationCode,
    ) -> Result<TokenSet, Error> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.0.expose()),
            ("redirect_uri", pending.redirect_uri.as_str()),
            ("code_verifier", pending.code_verifier.expose()),
        ];
        let (response, now) = self.token_request(&form).await?;
        if let Some(id_token) = &response.id_token {
            self.check_id_token(id_token, &pending.nonce).await?;
        }
        TokenSet::from_response(
            response,
            now,
            Some(pending.scope.clone()),
            &self.inner.metadata.token_endpoint,
        )
    }

    /// A handle that keeps `tokens` fresh for many tasks: see [`UserSession`].
    #[must_use]
    pub fn session(&self, tokens: TokenSet) -> UserSession {
        UserSession::new(self.clone(), tokens)
    }

    /// A client credentials token source for `scope` (`None`: every scope the client may
    /// have), fetched on first use and renewed before it expires: see [`ClientCredentials`].
    #[must_use]
    pub fn client_credentials(&self, scope: Option<&str>) -> ClientCredentials {
        ClientCredentials::new(self.clone(), scope.map(str::to_owned))
    }

    /// The typed resource API, authenticated by `tokens` (a [`UserSession`], a
    /// [`ClientCredentials`], or a bare [`Secret`]).
    #[must_use]
    pub fn api<S: TokenSource>(&self, tokens: S) -> Api<S> {
        Api::new(
            self.inner.http.clone(),
            self.inner.api_base.clone(),
            tokens,
            self.inner.dpop.clone(),
        )
    }

    /// One client credentials request (RFC 6749 §4.4); [`Client::client_credentials`] caches.
    ///
    /// # Errors
    /// [`Error::OAuth`] (`invalid_client`, `invalid_scope`, `unauthorized_client`),
    /// [`Error::Http`], [`Error::InvalidResponse`].
    pub async fn request_client_credentials(&self, scope: Option<&str>) -> Result<TokenSet, Error> {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend(scope.map(|s| ("scope", s)));
        let (response, now) = self.token_request(&form).await?;
        let requested = scope.and_then(|s| ScopeSet::parse(s).ok());
        TokenSet::from_response(
            response,
            now,
            requested,
            &self.inner.metadata.token_endpoint,
        )
    }

    /// One refresh request (RFC 6749 §6). The result carries the rotated refresh token; the
    /// one sent is spent (Portcullis revokes the grant if it is presented again).
    /// [`UserSession`] does this for you, once for all tasks.
    ///
    /// # Errors
    /// [`Error::OAuth`] (`invalid_grant` when the refresh token is expired, revoked or
    /// spent), [`Error::Http`], [`Error::InvalidResponse`].
    pub async fn refresh(&self, tokens: &TokenSet) -> Result<TokenSet, Error> {
        let refresh_token = tokens
            .refresh_token()
            .ok_or(Error::ReauthorizationRequired {
                reason: "no refresh token".into(),
            })?;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        let (response, now) = self.token_request(&form).await?;
        let next =
            TokenSet::from_response(response, now, None, &self.inner.metadata.token_endpoint)?;
        Ok(tokens.refreshed(next))
    }

    /// Revokes `token` (RFC 7009). Revoking a refresh token ends the whole grant at
    /// Portcullis, so the access tokens issued with it become inactive too.
    ///
    /// # Errors
    /// [`Error::OAuth`], [`Error::Http`].
    pub async fn revoke(&self, token: &Secret, hint: TokenTypeHint) -> Result<(), Error> {
        let url = &self.inner.metadata.revocation_endpoint;
        let form = [
            ("token", token.expose()),
            ("token_type_hint", hint.as_str()),
        ];
        let response = http::send(url, self.authenticated(url, &form)).await?;
        let status = response.status();
        let bytes = http::body(url, response).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(http::oauth_error(url, status, &bytes))
        }
    }

    /// Asks the server whether `token` is active (RFC 7662): unlike local verification, this
    /// sees revocation.
    ///
    /// # Errors
    /// [`Error::OAuth`], [`Error::Http`], [`Error::InvalidResponse`].
    pub async fn introspect(
        &self,
        token: &Secret,
        hint: Option<TokenTypeHint>,
    ) -> Result<IntrospectionResponse, Error> {
        let url = &self.inner.metadata.introspection_endpoint;
        let mut form = vec![("token", token.expose())];
        form.extend(hint.map(|h| ("token_type_hint", h.as_str())));
        let response = http::send(url, self.authenticated(url, &form)).await?;
        http::oauth_json(url, response).await
    }

    /// A POST of `form` to `url` with the client's authentication.
    fn authenticated(&self, url: &str, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let inner = &self.inner;
        let assertion: String;
        let mut form: Vec<(&str, &str)> = form.to_vec();
        // A pushed authorization request carries client_id already: never twice.
        let named = form.iter().any(|(name, _)| *name == "client_id");
        let request = self.inner.http.post(url);
        let request = match &inner.auth {
            ClientAuth::SecretBasic(secret) => {
                // RFC 6749 §2.3.1: both parts are form-urlencoded before Base64.
                let pair = format!(
                    "{}:{}",
                    form_encode(&inner.client_id),
                    form_encode(secret.expose())
                );
                request.header(
                    reqwest::header::AUTHORIZATION,
                    format!("Basic {}", STANDARD.encode(pair)),
                )
            }
            ClientAuth::SecretPost(secret) => {
                if !named {
                    form.push(("client_id", &inner.client_id));
                }
                form.push(("client_secret", secret.expose()));
                request
            }
            ClientAuth::None => {
                if !named {
                    form.push(("client_id", &inner.client_id));
                }
                request
            }
            ClientAuth::PrivateKeyJwt(key) => {
                // Signing fails only with the random source; the server then says
                // invalid_client, which is what the request is.
                assertion = key
                    .assertion(&inner.client_id, &inner.metadata.issuer, inner.clock.now())
                    .unwrap_or_default();
                if !named {
                    form.push(("client_id", &inner.client_id));
                }
                form.push(("client_assertion_type", crate::assertion::ASSERTION_TYPE));
                form.push(("client_assertion", &assertion));
                request
            }
        };
        request
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
    }

    /// A token endpoint request; returns the response and when it was received.
    async fn token_request(
        &self,
        form: &[(&str, &str)],
    ) -> Result<(TokenResponse, std::time::SystemTime), Error> {
        let url = self.inner.metadata.token_endpoint.clone();
        self.post_with_proof(&url, form).await
    }

    /// A POST of `form` to `url` with the client's authentication; returns the JSON answer and
    /// when it was received. With a DPoP key the request carries a proof, and is sent once
    /// more when the server asks for a fresh nonce (RFC 9449 §8).
    async fn post_with_proof<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<(T, std::time::SystemTime), Error> {
        let Some(key) = &self.inner.dpop else {
            let response = http::send(url, self.authenticated(url, form)).await?;
            let now = self.inner.clock.now();
            return Ok((http::oauth_json(url, response).await?, now));
        };
        let target = Url::parse(url).map_err(|e| Error::invalid(url, format!("endpoint: {e}")))?;
        let mut retried = false;
        loop {
            let proof = key.proof_at("POST", &target, None, self.inner.clock.now())?;
            let request = self
                .authenticated(url, form)
                .header(crate::dpop::PROOF_HEADER, proof);
            let response = http::send(url, request).await?;
            let fresh_nonce = key.remember_nonce(response.headers());
            let status = response.status();
            let bytes = http::body(url, response).await?;
            let now = self.inner.clock.now();
            if status.is_success() {
                return Ok((http::json(url, &bytes)?, now));
            }
            let error = http::oauth_error(url, status, &bytes);
            let asks_for_nonce = matches!(&error, Error::OAuth(e) if e.error == "use_dpop_nonce");
            if asks_for_nonce && fresh_nonce && !retried {
                retried = true;
                continue;
            }
            return Err(error);
        }
    }

    /// Checks an ID token (OpenID Connect Core §3.1.3.7): signature by a key of the issuer,
    /// `typ` not `at+jwt`, `iss`, `aud` (and `azp`), `exp`, and the `nonce` of the request.
    async fn check_id_token(&self, token: &Secret, nonce: &str) -> Result<(), Error> {
        let url = &self.inner.metadata.token_endpoint;
        let bad = |reason: String| Error::invalid(url, format!("ID token: {reason}"));
        let payload = jws::verify(
            token.expose(),
            &self.inner.jwks,
            &Algorithm::ALL,
            jws::Typ::IdToken,
        )
        .await
        .map_err(|e| bad(e.to_string()))?;
        #[derive(serde::Deserialize)]
        struct IdClaims {
            iss: String,
            #[serde(deserialize_with = "aud_list")]
            aud: Vec<String>,
            azp: Option<String>,
            exp: i64,
            nonce: Option<String>,
        }
        let claims: IdClaims =
            serde_json::from_slice(&payload).map_err(|e| bad(format!("claims: {e}")))?;
        let client_id = &self.inner.client_id;
        if claims.iss != self.inner.metadata.issuer {
            return Err(bad(format!("issued by {}", claims.iss)));
        }
        if !claims.aud.contains(client_id)
            || claims.azp.as_ref().is_some_and(|azp| azp != client_id)
        {
            return Err(bad("issued to another client".into()));
        }
        // A minute of leeway for clock skew between this host and the server.
        if unix(self.inner.clock.now()) > claims.exp.saturating_add(60) {
            return Err(bad("expired".into()));
        }
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(bad("the nonce is not the request's".into()));
        }
        Ok(())
    }
}

fn aud_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Aud {
        One(String),
        Many(Vec<String>),
    }
    Ok(match <Aud as serde::Deserialize>::deserialize(d)? {
        Aud::One(a) => vec![a],
        Aud::Many(a) => a,
    })
}

fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The answer of the pushed authorization request endpoint (RFC 9126 §2.2).
#[derive(serde::Deserialize)]
struct Pushed {
    request_uri: String,
}
