//! The Monei Connect guide's Express app (connect, callback, dashboard), rebuilt on
//! `portcullis-client` with axum.
//!
//! What the SDK adds to the guide's version: PKCE S256 and a nonce besides `state`; the
//! `iss` check of RFC 9207; `access_denied` and the other errors as types; the granted scope
//! kept (partial grants shown); the access token refreshed before it expires, once for all
//! concurrent requests, with the rotated refresh token kept; and `/disconnect`, which revokes
//! the grant.
//!
//! Sessions are in memory, keyed by a random `HttpOnly`, `SameSite=Lax` cookie: the pending
//! authorization (with its PKCE verifier) and the tokens never reach the browser.
#![allow(clippy::disallowed_methods)] // An integrator's app, not Portcullis: the system's clock and randomness are its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_client::api::{Me, WalletMe};
use portcullis_client::{
    CallbackParams, Client, Error, PendingAuthorization, TokenSet, UserSession,
};

/// The session cookie's name (distinct from Portcullis's own, which may share the host).
pub const COOKIE: &str = "integration_session";

/// How the app is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Portcullis issuer, for example `http://127.0.0.1:8080`.
    pub issuer: String,
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: String,
    /// Where Portcullis sends the browser back: this app's `/callback`.
    pub redirect_uri: String,
    /// The scope to ask for.
    pub scope: String,
}

/// What one browser's session holds.
#[derive(Debug, Default)]
struct Session {
    pending: Option<PendingAuthorization>,
    connection: Option<UserSession>,
    notice: Option<String>,
}

/// The app's state: the SDK client and the sessions.
#[derive(Debug, Clone)]
pub struct AppState {
    client: Client,
    scope: String,
    sessions: Arc<Mutex<HashMap<String, Session>>>,
}

impl AppState {
    /// The tokens of every connected session (for tests and diagnostics).
    #[must_use]
    pub fn connected_tokens(&self) -> Vec<TokenSet> {
        self.sessions()
            .values()
            .filter_map(|s| s.connection.as_ref()?.tokens())
            .collect()
    }

    /// The SDK client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Discovers the server and builds the app.
///
/// # Errors
/// When discovery fails.
pub async fn app(config: Config) -> Result<(Router, AppState), Error> {
    let client = Client::builder(&config.issuer)
        .client_id(&config.client_id)
        .client_secret(&config.client_secret)
        .redirect_uri(&config.redirect_uri)
        .build()
        .await?;
    let state = AppState {
        client,
        scope: config.scope,
        sessions: Arc::default(),
    };
    Ok((router(state.clone()), state))
}

/// The routes. The guide's paths (`/connect-monei`, `/monei/callback`) work too.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/connect", get(connect))
        .route("/connect-monei", get(connect))
        .route("/callback", get(callback))
        .route("/monei/callback", get(callback))
        .route("/dashboard", get(dashboard))
        .route("/disconnect", post(disconnect))
        .with_state(state)
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    issuer: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
}

#[derive(Template, Default)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    notice: Option<String>,
    connected: bool,
    granted: Vec<String>,
    denied: Vec<String>,
    expires_in: u64,
    me: Option<Me>,
    me_note: String,
    wallet: Option<WalletMe>,
    wallet_note: String,
}

fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "template");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn message(status: StatusCode, title: &str, message: &str) -> Response {
    render(status, &MessagePage { title, message })
}

/// The session id of the request's cookie, if any.
fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn new_session_id() -> Option<String> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

async fn index(State(state): State<AppState>) -> Response {
    render(
        StatusCode::OK,
        &IndexPage {
            issuer: &state.client.metadata().issuer,
        },
    )
}

/// Step 1: a fresh authorization request, kept in the session; the browser goes to it.
async fn connect(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let pending = match state.client.authorize(&state.scope) {
        Ok(pending) => pending,
        Err(error) => {
            tracing::error!(%error, "cannot start authorization");
            return message(StatusCode::INTERNAL_SERVER_ERROR, "Error", "Try again.");
        }
    };
    let existing = session_id(&headers).filter(|id| state.sessions().contains_key(id));
    let (id, set_cookie) = match existing {
        Some(id) => (id, false),
        None => match new_session_id() {
            Some(id) => (id, true),
            None => return message(StatusCode::INTERNAL_SERVER_ERROR, "Error", "Try again."),
        },
    };
    let url = pending.url().to_owned();
    state.sessions().entry(id.clone()).or_default().pending = Some(pending);
    let mut response = Redirect::to(&url).into_response();
    if set_cookie {
        let cookie = format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// Step 2: checks the response (`iss`, `state`), exchanges the code, keeps the tokens.
async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let id = session_id(&headers);
    // One use: a replayed callback finds nothing pending.
    let pending = id
        .as_ref()
        .and_then(|id| state.sessions().get_mut(id)?.pending.take());
    let (Some(id), Some(pending)) = (id, pending) else {
        return message(
            StatusCode::BAD_REQUEST,
            "No connection in progress",
            "This page is reached from Portcullis after you start connecting.",
        );
    };
    let params = match CallbackParams::from_query(query.as_deref().unwrap_or_default()) {
        Ok(params) => params,
        Err(error) => {
            return message(
                StatusCode::BAD_REQUEST,
                "Invalid response",
                &error.to_string(),
            );
        }
    };
    match state.client.handle_callback(&pending, &params).await {
        Ok(tokens) => {
            let connection = state.client.session(tokens);
            let mut sessions = state.sessions();
            let session = sessions.entry(id).or_default();
            session.connection = Some(connection);
            session.notice = None;
            Redirect::to("/dashboard?connected=true").into_response()
        }
        Err(Error::Callback(error)) if error.is_access_denied() => {
            state.sessions().entry(id).or_default().notice = Some(
                "You denied access, so this app cannot show your wallet. Connect again whenever you like."
                    .to_owned(),
            );
            Redirect::to("/dashboard?error=access_denied").into_response()
        }
        Err(Error::Callback(error)) => {
            tracing::warn!(%error, "authorization response refused");
            message(
                StatusCode::BAD_REQUEST,
                "Connection failed",
                &error.to_string(),
            )
        }
        Err(error) => {
            tracing::error!(%error, "token exchange failed");
            state.sessions().entry(id).or_default().notice =
                Some("Connecting failed; please try again.".to_owned());
            Redirect::to("/dashboard?error=token_exchange_failed").into_response()
        }
    }
}

/// What to show instead of data a call could not get.
fn note(error: &Error) -> String {
    match error {
        Error::Api(e) if e.is_not_found() => e
            .description
            .clone()
            .unwrap_or_else(|| "Nothing to show.".to_owned()),
        Error::Api(e) if e.is_insufficient_scope() => "You did not grant access to this.".into(),
        other => format!("Unavailable: {other}"),
    }
}

/// Step 3: what was granted, and the data it allows.
async fn dashboard(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let id = session_id(&headers);
    let (connection, notice) = match &id {
        Some(id) => match state.sessions().get(id) {
            Some(s) => (s.connection.clone(), s.notice.clone()),
            None => (None, None),
        },
        None => (None, None),
    };
    let Some(connection) = connection else {
        return render(
            StatusCode::OK,
            &DashboardPage {
                notice,
                ..DashboardPage::default()
            },
        );
    };
    let api = state.client.api(connection.clone());
    // `me` needs profile:read, the wallet wallet:read: ask only for what was granted.
    let granted = connection
        .tokens()
        .map(|t| t.scopes().clone())
        .unwrap_or_default();
    let (me, me_note) = if granted.contains("profile:read") {
        match api.me().await {
            Ok(me) => (Some(me), String::new()),
            Err(e) => (None, note(&e)),
        }
    } else {
        (None, "You did not grant access to your profile.".to_owned())
    };
    let (wallet, wallet_note) = if granted.contains("wallet:read") {
        match api.wallet_me().await {
            Ok(wallet) => (Some(wallet), String::new()),
            Err(e) => (None, note(&e)),
        }
    } else {
        (None, "You did not grant access to your wallet.".to_owned())
    };
    // A refresh may have ended the grant (revoked by the user at Portcullis).
    let Some(tokens) = connection.tokens() else {
        if let Some(id) = &id
            && let Some(session) = state.sessions().get_mut(id)
        {
            session.connection = None;
            session.notice = Some("Your connection has ended; connect again.".to_owned());
        }
        return Redirect::to("/dashboard").into_response();
    };
    let now = std::time::SystemTime::now();
    render(
        StatusCode::OK,
        &DashboardPage {
            notice,
            connected: true,
            granted: tokens.scopes().to_vec(),
            denied: tokens.denied_scopes().to_vec(),
            expires_in: tokens.expires_in(now).as_secs(),
            me,
            me_note,
            wallet,
            wallet_note,
        },
    )
}

/// Step 4: revokes the grant at Portcullis and forgets the tokens.
async fn disconnect(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let connection = session_id(&headers).and_then(|id| {
        let mut sessions = state.sessions();
        let session = sessions.get_mut(&id)?;
        session.notice = Some("Disconnected. This app can no longer see your wallet.".to_owned());
        session.connection.take()
    });
    if let Some(connection) = connection
        && let Err(error) = connection.disconnect().await
    {
        tracing::warn!(%error, "revocation failed; the tokens are forgotten anyway");
    }
    Redirect::to("/dashboard").into_response()
}
