//! The browser's session: a cookie holding a random id, resolved to a session row and user.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use portcullis_core::session::{self, SESSION_TTL};
use portcullis_core::store::{SessionRecord, StoreError};
use portcullis_core::user::User;
use portcullis_proto::Secret;

use super::PageFailure;
use crate::state::AppState;

/// The cookie's name: `__Host-` prefixed when the issuer is https (the prefix requires
/// `Secure`, which a plain-http development server cannot set).
#[must_use]
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.secure() {
        "__Host-portcullis"
    } else {
        "portcullis"
    }
}

/// The browser's session and user, as far as they exist.
#[derive(Debug, Clone, Default)]
pub struct Browser {
    /// The live session, if the cookie names one.
    pub session: Option<SessionRecord>,
    /// The logged-in user, if the session has one and it is not disabled.
    pub user: Option<User>,
}

impl Browser {
    /// The user and their authentication time, when logged in.
    #[must_use]
    pub fn logged_in(&self) -> Option<portcullis_core::oauth::authorize::LoggedIn<'_>> {
        let user = self.user.as_ref()?;
        let auth_time = self.session.as_ref()?.auth_time?;
        Some(portcullis_core::oauth::authorize::LoggedIn { user, auth_time })
    }

    /// Whether `csrf` is this session's token.
    #[must_use]
    pub fn csrf_ok(&self, csrf: &str) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| session::csrf_matches(s, csrf))
    }
}

impl FromRequestParts<AppState> for Browser {
    type Rejection = PageFailure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(id) = super::cookies::read(&parts.headers, cookie_name(state)) else {
            return Ok(Self::default());
        };
        let store = state.services.store.as_ref();
        let Some(session) = session::find(store, state.services.clock.as_ref(), &id).await? else {
            return Ok(Self::default());
        };
        let user = match &session.user_id {
            Some(id) => store.user(id).await?.filter(|u| !u.disabled),
            None => None,
        };
        Ok(Self {
            session: Some(session),
            user,
        })
    }
}

/// The `Set-Cookie` value for a session id.
fn set_cookie(state: &AppState, id: &Secret, max_age: i64) -> Option<HeaderValue> {
    let secure = if state.secure() { "; Secure" } else { "" };
    let value = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        cookie_name(state),
        id.expose()
    );
    HeaderValue::try_from(value).ok()
}

/// Adds the session cookie to a response.
pub fn attach(state: &AppState, response: &mut Response, id: &Secret) {
    if let Some(cookie) = set_cookie(state, id, SESSION_TTL) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

/// Clears the session cookie.
pub fn clear(state: &AppState, response: &mut Response) {
    if let Some(cookie) = set_cookie(state, &Secret::new(""), 0) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

/// The browser's session, made (without a user) if it has none, so that a form can carry a
/// CSRF token. Returns the session and, when new, the id to set as cookie.
///
/// # Errors
/// Storage failures.
pub async fn ensure(
    state: &AppState,
    browser: &Browser,
) -> Result<(SessionRecord, Option<Secret>), PageFailure> {
    if let Some(session) = &browser.session {
        return Ok((session.clone(), None));
    }
    let (id, record) = session::start(
        state.services.store.as_ref(),
        state.services.clock.as_ref(),
        state.services.random.as_ref(),
        None,
    )
    .await?;
    Ok((record, Some(id)))
}

/// Starts a logged-in session for `user` (a new id: session fixation defeated), ending the
/// browser's previous one.
///
/// # Errors
/// Storage failures.
pub async fn login(
    state: &AppState,
    browser: &Browser,
    user: &User,
) -> Result<Secret, PageFailure> {
    let store = state.services.store.as_ref();
    if let Some(old) = &browser.session {
        store.delete_session(&old.id_hash).await?;
    }
    let (id, _) = session::start(
        store,
        state.services.clock.as_ref(),
        state.services.random.as_ref(),
        Some(&user.id),
    )
    .await?;
    Ok(id)
}

pub use crate::client_ip::ClientIp;

/// Storage errors on pages become an error page, not JSON.
#[must_use]
pub fn store_failure(error: &StoreError) -> Response {
    tracing::warn!(%error, "storage failure on a page");
    let mut response = super::error_page(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "The service cannot complete this right now. Please try again in a moment.",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    response
}
