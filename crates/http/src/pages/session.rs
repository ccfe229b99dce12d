//! The browser's session: a cookie holding a random id, resolved to a session row and user.
//! Before login, a signed pre-login cookie instead (no row): see
//! [`portcullis_core::session::PreLogin`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use portcullis_core::random::RandomError;
use portcullis_core::session::{self, PRE_LOGIN_TTL, PreLogin, SESSION_TTL};
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

/// The pre-login cookie's name (see [`cookie_name`] for the prefix).
#[must_use]
pub fn pre_login_cookie_name(state: &AppState) -> &'static str {
    if state.secure() {
        "__Host-portcullis-login"
    } else {
        "portcullis-login"
    }
}

/// The browser's session and user, as far as they exist.
#[derive(Debug, Clone, Default)]
pub struct Browser {
    /// The live session, if the cookie names one.
    pub session: Option<SessionRecord>,
    /// The logged-in user, if the session has one and it is not disabled.
    pub user: Option<User>,
    /// The pre-login cookie, when it is valid.
    pub pre_login: Option<PreLogin>,
}

impl Browser {
    /// The user and their authentication time, when logged in.
    #[must_use]
    pub fn logged_in(&self) -> Option<portcullis_core::oauth::authorize::LoggedIn<'_>> {
        let user = self.user.as_ref()?;
        let session = self.session.as_ref()?;
        Some(portcullis_core::oauth::authorize::LoggedIn {
            user,
            auth_time: session.auth_time?,
            session: &session.id_hash,
        })
    }

    /// Whether `csrf` is this session's token, or the pre-login cookie's.
    #[must_use]
    pub fn csrf_ok(&self, csrf: &str) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| session::csrf_matches(s, csrf))
            || self
                .pre_login
                .as_ref()
                .is_some_and(|p| p.csrf_matches(csrf))
    }
}

impl FromRequestParts<AppState> for Browser {
    type Rejection = PageFailure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let clock = state.services.clock.as_ref();
        let pre_login = super::cookies::read(&parts.headers, pre_login_cookie_name(state))
            .and_then(|cookie| PreLogin::of_cookie(&state.sealer, clock, &cookie));
        let Some(id) = super::cookies::read(&parts.headers, cookie_name(state)) else {
            return Ok(Self {
                pre_login,
                ..Self::default()
            });
        };
        let store = state.services.store.as_ref();
        let Some(session) = session::find(store, clock, &id).await? else {
            return Ok(Self {
                pre_login,
                ..Self::default()
            });
        };
        let user = match &session.user_id {
            Some(id) => store.user(id).await?.filter(|u| !u.disabled),
            None => None,
        };
        Ok(Self {
            session: Some(session),
            user,
            pre_login,
        })
    }
}

/// The `Set-Cookie` value for cookie `name`.
fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if state.secure() { "; Secure" } else { "" };
    let value =
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::try_from(value).ok()
}

/// Adds the session cookie to a response.
pub fn attach(state: &AppState, response: &mut Response, id: &Secret) {
    if let Some(cookie) = set_cookie(state, cookie_name(state), id.expose(), SESSION_TTL) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

/// Clears the session cookie.
pub fn clear(state: &AppState, response: &mut Response) {
    if let Some(cookie) = set_cookie(state, cookie_name(state), "", 0) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

/// Clears the pre-login cookie (once logged in, the session's token protects the forms).
pub fn clear_pre_login(state: &AppState, response: &mut Response) {
    if let Some(cookie) = set_cookie(state, pre_login_cookie_name(state), "", 0) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

/// The CSRF token a form of this browser carries, and the pre-login cookie to set with it, if
/// one must be set. A browser with a session uses the session's token; one without gets a
/// signed pre-login cookie (renewed when less than half its life is left, so that an open form
/// does not lapse soon after it is shown). Nothing is stored.
///
/// # Errors
/// When randomness fails.
pub fn form_csrf(
    state: &AppState,
    browser: &Browser,
) -> Result<(String, Option<PreLogin>), RandomError> {
    if let Some(session) = &browser.session {
        return Ok((session.csrf_token.clone(), None));
    }
    let clock = state.services.clock.as_ref();
    if let Some(pre_login) = &browser.pre_login
        && pre_login.expires_at.0 - clock.now().0 > PRE_LOGIN_TTL / 2
    {
        return Ok((pre_login.csrf.clone(), None));
    }
    let fresh = PreLogin::start(&state.sealer, clock, state.services.random.as_ref())?;
    Ok((fresh.csrf.clone(), Some(fresh)))
}

/// Sets the pre-login cookie on a response.
pub fn attach_pre_login(state: &AppState, response: &mut Response, pre_login: &PreLogin) {
    if let Some(cookie) = set_cookie(
        state,
        pre_login_cookie_name(state),
        &pre_login.cookie,
        PRE_LOGIN_TTL,
    ) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
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
