//! `GET/POST /logout`: RP-Initiated Logout 1.0 and the logout button, and `GET /logged-out`.
//!
//! A relying party sends the browser here with `id_token_hint`, `client_id`,
//! `post_logout_redirect_uri`, `state`, `logout_hint` and `ui_locales`, by GET or by a form POST;
//! the rules are [`portcullis_core::oauth::logout`]'s. The session ends without a page only when
//! the hint names it; otherwise the user confirms with a form carrying the session's CSRF token
//! (a GET alone never logs anyone out).
//!
//! The session cookie is `SameSite=Lax`, so a relying party's cross-site POST arrives without
//! it. Such a POST is answered with a 303 to a GET carrying its parameters sealed, so they stay
//! out of URLs and logs, and that top-level GET brings the cookie.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::audit::AuditKind;
use portcullis_core::oauth::logout::{self, CheckedLogout, LogoutError, LogoutRequest};
use portcullis_core::store::SessionRecord;
use portcullis_core::time::UnixTime;
use serde::{Deserialize, Serialize};

use super::session::{self, Browser};
use super::{PageFailure, error_page, internal, render, see_other, stale_form};
use crate::client_ip::ClientIp;
use crate::state::AppState;

/// The seal purpose of logout parameters carried from a POST to a GET.
const SEALED_PURPOSE: &str = "portcullis logout request v1";
/// How long sealed parameters are accepted.
const SEALED_TTL: i64 = 600;
/// Where the browser ends without a post-logout redirect URI.
const LOGGED_OUT: &str = "/logged-out";

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    csrf: &'a str,
    email: &'a str,
    client_name: Option<&'a str>,
    request: &'a LogoutRequest,
}

#[derive(Template)]
#[template(path = "logged_out.html")]
struct LoggedOutPage;

/// The parameters of a GET or POST: a logout request, the confirmation form's token, or
/// sealed parameters of an earlier POST. (Not a flattened [`LogoutRequest`]: a repeated
/// parameter must be refused, which flattening would not see.)
#[derive(Debug, Default, Deserialize)]
struct LogoutParams {
    id_token_hint: Option<String>,
    logout_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    ui_locales: Option<String>,
    /// Present when the user confirms on the page.
    csrf: Option<String>,
    /// Parameters a cross-site POST sent, sealed.
    sealed: Option<String>,
}

impl LogoutParams {
    fn request(&self) -> LogoutRequest {
        LogoutRequest {
            id_token_hint: self.id_token_hint.clone(),
            logout_hint: self.logout_hint.clone(),
            client_id: self.client_id.clone(),
            post_logout_redirect_uri: self.post_logout_redirect_uri.clone(),
            state: self.state.clone(),
            ui_locales: self.ui_locales.clone(),
        }
        .normalized()
    }
}

/// Sealed parameters and their expiry.
#[derive(Serialize, Deserialize)]
struct Sealed {
    request: LogoutRequest,
    expires_at: i64,
}

/// A refused logout request's page.
fn refused(why: &str) -> PageFailure {
    error_page(StatusCode::BAD_REQUEST, "Logout request refused", why).into()
}

/// The parameters; `None` for malformed ones (a repeated parameter included).
fn parse(body: &[u8]) -> Option<LogoutParams> {
    serde_urlencoded::from_bytes(body).ok()
}

const MALFORMED: &str = "The logout request's parameters are malformed.";

/// `GET /logout`: a relying party's request, sealed parameters of one, or the logout button's
/// page.
pub async fn show(
    State(state): State<AppState>,
    browser: Browser,
    ClientIp(ip): ClientIp,
    RawQuery(query): RawQuery,
) -> Result<Response, PageFailure> {
    let params = parse(query.unwrap_or_default().as_bytes()).ok_or_else(|| refused(MALFORMED))?;
    let logout = match params.sealed.as_deref() {
        Some(sealed) => open(&state, sealed).ok_or_else(|| {
            refused(
                "The logout link has expired or was altered. Go back to the app and log out again.",
            )
        })?,
        None => params.request(),
    };
    request(&state, &browser, ip, logout).await
}

/// `POST /logout`: the confirmation form (with the session's CSRF token), or a relying party's
/// form-posted request.
pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    ClientIp(ip): ClientIp,
    body: Bytes,
) -> Result<Response, PageFailure> {
    let params = parse(&body).ok_or_else(|| refused(MALFORMED))?;
    if let Some(csrf) = params.csrf.as_deref() {
        if !browser.csrf_ok(csrf) {
            return Ok(stale_form());
        }
        let checked = check(&state, params.request()).await?;
        if let Some(current) = browser.session.as_ref() {
            end(&state, &browser, current, &checked, ip).await?;
        }
        return Ok(leave(&state, &checked, browser.session.is_some()));
    }
    let logout = params.request();
    if browser.session.is_none() && logout != LogoutRequest::default() {
        // Cross-site: the cookie stayed behind. Check first, so an invalid request is refused
        // here rather than after a redirect.
        let checked = check(&state, logout).await?;
        let sealed = seal(&state, &checked.request).map_err(|e| internal(&e))?;
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("sealed", &sealed)
            .finish();
        return Ok(see_other(&format!("/logout?{query}")));
    }
    request(&state, &browser, ip, logout).await
}

/// `GET /logged-out`.
pub async fn logged_out() -> Response {
    render(StatusCode::OK, &LoggedOutPage)
}

async fn check(state: &AppState, request: LogoutRequest) -> Result<CheckedLogout, PageFailure> {
    let keys = state.keyring();
    match logout::check(
        state.clients.as_ref(),
        &keys,
        &state.services.settings.issuer,
        state.services.clock.now(),
        request,
    )
    .await
    {
        Ok(checked) => Ok(checked),
        Err(LogoutError::Store(error)) => Err(error.into()),
        Err(why) => Err(refused(&why.to_string())),
    }
}

/// Answers a logout request: ends the session at once when the hint names it, asks the user
/// otherwise, and sends a browser with no session straight on.
async fn request(
    state: &AppState,
    browser: &Browser,
    ip: Option<std::net::IpAddr>,
    request: LogoutRequest,
) -> Result<Response, PageFailure> {
    let checked = check(state, request).await?;
    let Some(current) = browser.session.as_ref() else {
        return Ok(leave(state, &checked, false));
    };
    let Some(user) = browser.user.as_ref() else {
        // A session without a (usable) user: nothing to confirm.
        end(state, browser, current, &checked, ip).await?;
        return Ok(leave(state, &checked, true));
    };
    let sid = portcullis_core::session::sid(&state.sealer, &current.id_hash);
    if checked.ends_without_asking(user, &sid) {
        end(state, browser, current, &checked, ip).await?;
        return Ok(leave(state, &checked, true));
    }
    Ok(render(
        StatusCode::OK,
        &LogoutPage {
            csrf: &current.csrf_token,
            email: &user.email,
            client_name: checked.client.as_deref().map(|c| c.name.as_str()),
            request: &checked.request,
        },
    ))
}

/// Ends the session and records it.
async fn end(
    state: &AppState,
    browser: &Browser,
    current: &SessionRecord,
    checked: &CheckedLogout,
    ip: Option<std::net::IpAddr>,
) -> Result<(), PageFailure> {
    state
        .services
        .store
        .delete_session(&current.id_hash)
        .await?;
    if let Some(user) = browser.user.as_ref() {
        let mut event = state
            .event(AuditKind::LoggedOut, format!("user:{}", user.id))
            .user(&user.id);
        if let Some(client) = checked.client.as_deref() {
            event = event.client(&client.id);
        }
        state.record(event, ip);
    }
    Ok(())
}

/// Sends the browser to the post-logout redirect URI, or to the logged-out page; clears the
/// cookie when a session was ended.
fn leave(state: &AppState, checked: &CheckedLogout, ended: bool) -> Response {
    let mut response = see_other(checked.redirect.as_deref().unwrap_or(LOGGED_OUT));
    if ended {
        session::clear(state, &mut response);
    }
    response
}

fn seal(state: &AppState, request: &LogoutRequest) -> Result<String, Box<dyn std::error::Error>> {
    let sealed = Sealed {
        request: request.clone(),
        expires_at: state.services.clock.now().plus(SEALED_TTL).0,
    };
    let json = serde_json::to_vec(&sealed)?;
    Ok(state
        .sealer
        .seal(state.services.random.as_ref(), SEALED_PURPOSE, &json)?)
}

/// The parameters sealed by [`seal`], unless altered or expired.
fn open(state: &AppState, sealed: &str) -> Option<LogoutRequest> {
    let plain = state.sealer.open(SEALED_PURPOSE, sealed)?;
    let sealed: Sealed = serde_json::from_slice(&plain).ok()?;
    (UnixTime(sealed.expires_at) > state.services.clock.now()).then_some(sealed.request)
}
