//! Tokens kept fresh for many tasks: one refresh (or client credentials request) however many
//! tasks find the token about to expire at once.
//!
//! Single flight matters with rotating refresh tokens: two tasks refreshing with the same
//! refresh token would look like a stolen token to the server (RFC 9700 §4.14.2), and
//! Portcullis would revoke the whole grant. Here the first task to find the token stale
//! refreshes under a lock; the others wait for that lock and then find the new token.

use std::sync::{Arc, PoisonError, RwLock};

use portcullis_proto::ErrorCode;
use portcullis_proto::Secret;
use portcullis_proto::token::IntrospectionResponse;

use crate::api::TokenSource;
use crate::client::{Client, TokenTypeHint};
use crate::error::Error;
use crate::token::TokenSet;

/// Called with the new tokens after each refresh, for apps that persist them.
pub type OnRefresh = Arc<dyn Fn(&TokenSet) + Send + Sync>;

/// Where a managed token stands.
#[derive(Debug, Clone)]
enum State {
    /// No token yet (client credentials before first use).
    Empty,
    /// A token.
    Live(TokenSet),
    /// The grant is over: the user must authorize again.
    Ended(String),
    /// Disconnected by the app.
    Disconnected,
}

/// How a stale token is replaced.
#[derive(Debug, Clone)]
enum Renewal {
    /// The refresh token grant.
    Refresh,
    /// A new client credentials request for this scope.
    ClientCredentials(Option<String>),
}

struct Managed {
    client: Client,
    renewal: Renewal,
    state: RwLock<State>,
    gate: tokio::sync::Mutex<()>,
    on_refresh: RwLock<Option<OnRefresh>>,
}

impl std::fmt::Debug for Managed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Managed")
            .field("client_id", &self.client.client_id())
            .field("renewal", &self.renewal)
            .field("state", &*self.read())
            .finish_non_exhaustive()
    }
}

impl Managed {
    fn new(client: Client, renewal: Renewal, state: State) -> Self {
        Self {
            client,
            renewal,
            state: RwLock::new(state),
            gate: tokio::sync::Mutex::new(()),
            on_refresh: RwLock::new(None),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, state: State) {
        *self.state.write().unwrap_or_else(PoisonError::into_inner) = state;
    }

    /// The current token if it needs no renewal; `Err` when the grant is over.
    fn fresh(&self) -> Result<Option<Secret>, Error> {
        let now = self.client.inner().clock.now();
        let margin = self.client.inner().refresh_margin;
        match &*self.read() {
            State::Live(tokens) if !tokens.needs_refresh(now, margin) => {
                Ok(Some(tokens.access_token().clone()))
            }
            State::Live(_) | State::Empty => Ok(None),
            State::Ended(reason) => Err(Error::ReauthorizationRequired {
                reason: reason.clone(),
            }),
            State::Disconnected => Err(Error::Disconnected),
        }
    }

    async fn access_token(&self) -> Result<Secret, Error> {
        if let Some(token) = self.fresh()? {
            return Ok(token);
        }
        let _gate = self.gate.lock().await;
        // Another task may have renewed while this one waited.
        if let Some(token) = self.fresh()? {
            return Ok(token);
        }
        Ok(self.renew_locked().await?.access_token().clone())
    }

    /// Renews because the resource server refused `rejected`, unless another task already
    /// replaced it.
    async fn renew_after_rejection(&self, rejected: &Secret) -> Result<Option<Secret>, Error> {
        let _gate = self.gate.lock().await;
        if let State::Live(tokens) = &*self.read()
            && tokens.access_token() != rejected
        {
            return Ok(Some(tokens.access_token().clone()));
        }
        if matches!(self.renewal, Renewal::Refresh)
            && !matches!(&*self.read(), State::Live(t) if t.refresh_token().is_some())
        {
            return Ok(None);
        }
        Ok(Some(self.renew_locked().await?.access_token().clone()))
    }

    /// Renews; the caller holds the gate.
    async fn renew_locked(&self) -> Result<TokenSet, Error> {
        let current = self.read().clone();
        let renewed = match (&self.renewal, current) {
            (_, State::Disconnected) => return Err(Error::Disconnected),
            (_, State::Ended(reason)) => return Err(Error::ReauthorizationRequired { reason }),
            (Renewal::ClientCredentials(scope), _) => {
                self.client
                    .request_client_credentials(scope.as_deref())
                    .await?
            }
            (Renewal::Refresh, State::Live(tokens)) if tokens.refresh_token().is_some() => {
                match self.client.refresh(&tokens).await {
                    Ok(next) => next,
                    Err(Error::OAuth(e)) if e.code() == Some(ErrorCode::InvalidGrant) => {
                        let reason = format!("the refresh token was refused: {e}");
                        self.set(State::Ended(reason.clone()));
                        return Err(Error::ReauthorizationRequired { reason });
                    }
                    Err(e) => return Err(e),
                }
            }
            (Renewal::Refresh, _) => {
                let reason = "the access token expired and there is no refresh token".to_owned();
                self.set(State::Ended(reason.clone()));
                return Err(Error::ReauthorizationRequired { reason });
            }
        };
        self.set(State::Live(renewed.clone()));
        let hook = self
            .on_refresh
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(hook) = hook {
            hook(&renewed);
        }
        Ok(renewed)
    }

    fn tokens(&self) -> Option<TokenSet> {
        match &*self.read() {
            State::Live(tokens) => Some(tokens.clone()),
            _ => None,
        }
    }
}

/// A user's tokens, shared by every task that acts for that user, kept fresh.
///
/// [`UserSession::access_token`] returns the current access token, refreshing it first when
/// it expires within the client's refresh margin; however many tasks call it at once, one
/// refresh request is made, and the rotated refresh token replaces the old one. When the
/// refresh token is refused (expired, revoked by the user, or reused), the session ends with
/// [`Error::ReauthorizationRequired`].
///
/// ```no_run
/// # async fn run(client: portcullis_client::Client, tokens: portcullis_client::TokenSet) -> Result<(), portcullis_client::Error> {
/// let session = client.session(tokens);
/// let api = client.api(session.clone());
/// let me = api.me().await?; // refreshes first if needed
/// session.disconnect().await?; // revokes the grant
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct UserSession {
    managed: Arc<Managed>,
}

impl UserSession {
    pub(crate) fn new(client: Client, tokens: TokenSet) -> Self {
        Self {
            managed: Arc::new(Managed::new(client, Renewal::Refresh, State::Live(tokens))),
        }
    }

    /// Calls `hook` with the new tokens after every refresh (to persist the rotated refresh
    /// token). Replaces any earlier hook.
    #[must_use]
    pub fn on_refresh(self, hook: impl Fn(&TokenSet) + Send + Sync + 'static) -> Self {
        *self
            .managed
            .on_refresh
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(hook));
        self
    }

    /// A valid access token, refreshed first when it is about to expire.
    ///
    /// # Errors
    /// [`Error::ReauthorizationRequired`], [`Error::Disconnected`], or the refresh request's
    /// errors.
    pub async fn access_token(&self) -> Result<Secret, Error> {
        self.managed.access_token().await
    }

    /// Refreshes now, whatever the expiry (one request for concurrent callers).
    ///
    /// # Errors
    /// See [`UserSession::access_token`].
    pub async fn refresh(&self) -> Result<TokenSet, Error> {
        let _gate = self.managed.gate.lock().await;
        self.managed.renew_locked().await
    }

    /// The current tokens; `None` once the session ended or was disconnected.
    #[must_use]
    pub fn tokens(&self) -> Option<TokenSet> {
        self.managed.tokens()
    }

    /// Asks the server whether the current access token is still active (RFC 7662).
    ///
    /// # Errors
    /// [`Error::Disconnected`] or [`Error::ReauthorizationRequired`] when there is no token;
    /// the introspection request's errors.
    pub async fn introspect(&self) -> Result<IntrospectionResponse, Error> {
        let token = self.managed.tokens().ok_or(Error::Disconnected)?;
        self.managed
            .client
            .introspect(token.access_token(), Some(TokenTypeHint::AccessToken))
            .await
    }

    /// Disconnects: revokes the refresh token (which ends the grant at Portcullis, so its
    /// access tokens stop working too) and the access token, and forgets both. The session
    /// is unusable afterwards, even if revocation failed.
    ///
    /// # Errors
    /// The revocation request's errors (the tokens are forgotten anyway).
    pub async fn disconnect(&self) -> Result<(), Error> {
        let _gate = self.managed.gate.lock().await;
        let previous = std::mem::replace(
            &mut *self
                .managed
                .state
                .write()
                .unwrap_or_else(PoisonError::into_inner),
            State::Disconnected,
        );
        let State::Live(tokens) = previous else {
            return Ok(());
        };
        let client = &self.managed.client;
        if let Some(refresh) = tokens.refresh_token() {
            client.revoke(refresh, TokenTypeHint::RefreshToken).await?;
        }
        client
            .revoke(tokens.access_token(), TokenTypeHint::AccessToken)
            .await
    }
}

impl TokenSource for UserSession {
    async fn access_token(&self) -> Result<Secret, Error> {
        self.managed.access_token().await
    }

    async fn renew(&self, rejected: &Secret) -> Result<Option<Secret>, Error> {
        self.managed.renew_after_rejection(rejected).await
    }
}

/// The client's own token (client credentials, RFC 6749 §4.4), fetched on first use, cached,
/// and renewed before it expires, with one request for concurrent callers.
///
/// ```no_run
/// # async fn run(client: portcullis_client::Client) -> Result<(), portcullis_client::Error> {
/// let credentials = client.client_credentials(Some("users.profiles:read"));
/// let api = client.api(credentials);
/// let context = api.auth_context().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    managed: Arc<Managed>,
}

impl ClientCredentials {
    pub(crate) fn new(client: Client, scope: Option<String>) -> Self {
        Self {
            managed: Arc::new(Managed::new(
                client,
                Renewal::ClientCredentials(scope),
                State::Empty,
            )),
        }
    }

    /// A valid access token, requested first when there is none or it is about to expire.
    ///
    /// # Errors
    /// The token request's errors.
    pub async fn access_token(&self) -> Result<Secret, Error> {
        self.managed.access_token().await
    }

    /// The cached token, if one was fetched.
    #[must_use]
    pub fn tokens(&self) -> Option<TokenSet> {
        self.managed.tokens()
    }
}

impl TokenSource for ClientCredentials {
    async fn access_token(&self) -> Result<Secret, Error> {
        self.managed.access_token().await
    }

    async fn renew(&self, rejected: &Secret) -> Result<Option<Secret>, Error> {
        self.managed.renew_after_rejection(rejected).await
    }
}
