//! `GET/POST /consent`: the user reviews what the app asks for, may untick scopes, and (when
//! the scope involves a profile) sees or chooses the profile the app will act for.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::oauth::authorize::{PageError, Step};
use portcullis_core::oauth::consent::ConsentAnswer;
use portcullis_core::oauth::journey::{self, Event, Outcome, ProfileChoice, ScopeItem};
use serde::Deserialize;

use super::session::Browser;
use super::{PageFailure, error_page, render, stale_form};
use crate::oauth::authorize::go;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    csrf: &'a str,
    request: &'a str,
    client_id: &'a str,
    app: &'a str,
    logo: Option<&'a str>,
    homepage: Option<&'a str>,
    user_name: &'a str,
    user_email: &'a str,
    scopes: &'a [ScopeItem],
    /// The profiles the app may act for: none when the scope needs none, else the ready ones.
    profiles: &'a [ProfileChoice],
}

/// The query of `GET /consent`. A missing `request` is an unknown request (an HTML error page,
/// not the extractor's plain-text rejection).
#[derive(Debug, Deserialize)]
pub struct ConsentQuery {
    #[serde(default)]
    request: String,
}

/// The consent page for a pending request.
pub async fn show(
    State(state): State<AppState>,
    browser: Browser,
    Query(query): Query<ConsentQuery>,
) -> Result<Response, PageFailure> {
    let keys = state.keyring();
    let ctx = state.context(&keys);
    let logged_in = browser.logged_in();
    let journey = journey::advance(
        &ctx,
        state.clients.as_ref(),
        &query.request,
        logged_in,
        Event::OpenConsent,
    )
    .await?;
    let (Outcome::Consent(model), Some(logged_in), Some(session)) =
        (&journey.outcome, logged_in, browser.session.as_ref())
    else {
        return Ok(go(journey));
    };
    let client = &journey.client;
    let page = ConsentPage {
        csrf: &session.csrf_token,
        request: &journey.request.handle,
        client_id: client.id.as_str(),
        app: &client.name,
        logo: client.logo_uri.as_deref(),
        homepage: client.homepage_uri.as_deref(),
        user_name: &logged_in.user.name,
        user_email: &logged_in.user.email,
        scopes: &model.scopes,
        profiles: &model.profiles,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The consent form as sent: single-valued fields, `scope` any number of times, and whether a
/// single-valued field came more than once.
#[derive(Default)]
struct ConsentForm {
    csrf: Option<String>,
    request: Option<String>,
    client_id: Option<String>,
    decision: Option<String>,
    profile: Option<String>,
    scopes: Vec<String>,
    repeated: bool,
}

/// The fields of a well-formed consent form.
struct Answer {
    request: String,
    client_id: String,
    allow: bool,
    profile: Option<String>,
    scopes: Vec<String>,
}

impl ConsentForm {
    fn parse(body: &[u8]) -> Self {
        let mut form = Self::default();
        for (name, value) in url::form_urlencoded::parse(body) {
            let slot = match name.as_ref() {
                "scope" => {
                    form.scopes.push(value.into_owned());
                    continue;
                }
                "csrf" => &mut form.csrf,
                "request" => &mut form.request,
                "client_id" => &mut form.client_id,
                "decision" => &mut form.decision,
                "profile" => &mut form.profile,
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                form.repeated = true;
            }
        }
        form
    }

    /// The answer, unless a field is missing, repeated or unknown.
    fn answer(self) -> Option<Answer> {
        if self.repeated {
            return None;
        }
        let allow = match self.decision?.as_str() {
            "allow" => true,
            "deny" => false,
            _ => return None,
        };
        Some(Answer {
            request: self.request?,
            client_id: self.client_id?,
            allow,
            profile: self.profile,
            scopes: self.scopes,
        })
    }
}

fn tampered() -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "This request cannot continue",
        &PageError::Tampered.to_string(),
    )
}

/// Applies the user's answer and sends the browser back to the app.
pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    super::session::ClientIp(ip): super::session::ClientIp,
    body: Bytes,
) -> Result<Response, PageFailure> {
    let form = ConsentForm::parse(&body);
    // The CSRF token first: a form without a valid one is refused as stale (403), whatever else
    // it holds.
    if !browser.csrf_ok(form.csrf.as_deref().unwrap_or_default()) {
        return Ok(stale_form());
    }
    let Some(form) = form.answer() else {
        return Ok(tampered());
    };
    let keys = state.keyring();
    let ctx = state.context(&keys).from_ip(ip);
    let answer = ConsentAnswer {
        allow: form.allow,
        scopes: form.scopes,
        client_id: form.client_id,
        profile: form.profile,
    };
    let journey = journey::advance(
        &ctx,
        state.clients.as_ref(),
        &form.request,
        browser.logged_in(),
        Event::ConsentAnswered(answer),
    )
    .await?;
    if let Outcome::Go(Step::Redirect(_)) = &journey.outcome {
        tracing::info!(client = %journey.client.id, allowed = form.allow, "consent answered");
    }
    Ok(go(journey))
}
