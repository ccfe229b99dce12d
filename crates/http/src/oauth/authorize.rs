//! `GET/POST /oauth/authorize` and `GET /oauth/authorize/resume`.

use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::response::Response;
use portcullis_core::oauth::authorize::{self, AuthorizeError, Step};
use portcullis_core::oauth::journey::{self, Event, Outcome};
use serde::Deserialize;

use crate::pages::session::Browser;
use crate::pages::{PageFailure, see_other, with_request};
use crate::state::AppState;

/// The parameters of a query string or form body, in order (repeats kept, so that the core
/// can refuse them).
pub fn pairs(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The authorization endpoint with its parameters in the query.
pub async fn get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageFailure> {
    start(
        &state,
        &browser,
        &pairs(query.unwrap_or_default().as_bytes()),
    )
    .await
}

/// The authorization endpoint with its parameters in a form body (RFC 6749 §3.1).
pub async fn post(
    State(state): State<AppState>,
    browser: Browser,
    body: Bytes,
) -> Result<Response, PageFailure> {
    start(&state, &browser, &pairs(&body)).await
}

/// Validates an authorization request and sends the browser to its next step.
///
/// # Errors
/// An error page when the client or redirect URI cannot be trusted, or storage fails.
pub async fn start(
    state: &AppState,
    browser: &Browser,
    params: &[(String, String)],
) -> Result<Response, PageFailure> {
    let keys = state.keyring();
    let ctx = state.context(&keys);
    let journey =
        match journey::arrive(&ctx, state.clients.as_ref(), params, browser.logged_in()).await {
            Ok(journey) => journey,
            Err(AuthorizeError::Redirect(redirect)) => {
                return Ok(see_other(&authorize::error_url(&redirect, state.issuer())));
            }
            // Storage failures get the one "temporarily unavailable" page (503, Retry-After).
            Err(other) => return Err(other.into()),
        };
    Ok(go(journey))
}

/// The browser's next step after an event that shows no page of its own.
pub fn go(journey: journey::Journey) -> Response {
    match journey.outcome {
        Outcome::Go(step) => respond(step, &journey.request.handle),
        // Pages are shown by their own handlers; elsewhere, the resume step decides.
        Outcome::Onboarding(_) | Outcome::Consent(_) => see_other(&with_request(
            "/oauth/authorize/resume",
            Some(&journey.request.handle),
        )),
    }
}

/// Sends the browser to its next step of pending request `request`.
pub fn respond(step: Step, request: &str) -> Response {
    match step {
        Step::Login { signup: false } => see_other(&with_request("/login", Some(request))),
        Step::Login { signup: true } => see_other(&with_request("/signup", Some(request))),
        Step::Onboarding(step) => see_other(&with_request(step.path(), Some(request))),
        Step::Consent => see_other(&with_request("/consent", Some(request))),
        Step::Redirect(url) => see_other(&url),
    }
}

/// The query of `/oauth/authorize/resume`. A missing `request` is an unknown request (an HTML
/// error page, not the extractor's plain-text rejection).
#[derive(Debug, Deserialize)]
pub struct Resume {
    #[serde(default)]
    request: String,
}

/// Continues a pending request after login, sign-up or onboarding.
pub async fn resume(
    State(state): State<AppState>,
    browser: Browser,
    Query(query): Query<Resume>,
) -> Result<Response, PageFailure> {
    let keys = state.keyring();
    let ctx = state.context(&keys);
    let journey = journey::advance(
        &ctx,
        state.clients.as_ref(),
        &query.request,
        browser.logged_in(),
        Event::Resume,
    )
    .await?;
    Ok(go(journey))
}
