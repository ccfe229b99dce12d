//! `GET/POST /consent`: the user reviews what the app asks for and may untick scopes.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::oauth::authorize::{self, PageError, Step};
use portcullis_core::oauth::consent::{self, ConsentAnswer};
use serde::Deserialize;

use super::session::Browser;
use super::{PageFailure, error_page, render, see_other, stale_form, with_request};
use crate::oauth::authorize::respond;
use crate::state::AppState;

struct ScopeItem {
    name: String,
    description: String,
}

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
    scopes: Vec<ScopeItem>,
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
    let (Some(logged_in), Some(session)) = (browser.logged_in(), browser.session.as_ref()) else {
        return Ok(see_other(&with_request("/login", Some(&query.request))));
    };
    let keys = state.keyring();
    let ctx = state.context(&keys);
    let (client, request) =
        authorize::pending(&ctx, state.clients.as_ref(), &query.request).await?;
    if let Some(login) = authorize::login_needed(&request, Some(logged_in), ctx.clock.now()) {
        return Ok(respond(login, &request.id));
    }
    let registry = &state.services.settings.scopes;
    let scopes = request
        .scope
        .iter()
        .map(|s| ScopeItem {
            name: s.to_string(),
            description: registry
                .describe(s.as_str())
                .unwrap_or(s.as_str())
                .to_owned(),
        })
        .collect();
    let page = ConsentPage {
        csrf: &session.csrf_token,
        request: &request.id,
        client_id: client.id.as_str(),
        app: &client.name,
        logo: client.logo_uri.as_deref(),
        homepage: client.homepage_uri.as_deref(),
        user_name: &logged_in.user.name,
        user_email: &logged_in.user.email,
        scopes,
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
    scopes: Vec<String>,
    repeated: bool,
}

/// The fields of a well-formed consent form.
struct Answer {
    request: String,
    client_id: String,
    allow: bool,
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
    let Some(logged_in) = browser.logged_in() else {
        return Ok(see_other(&with_request("/login", Some(&form.request))));
    };
    let keys = state.keyring();
    let ctx = state.context(&keys).from_ip(ip);
    let (client, request) = authorize::pending(&ctx, state.clients.as_ref(), &form.request).await?;
    let answer = ConsentAnswer {
        allow: form.allow,
        scopes: form.scopes,
        client_id: form.client_id,
    };
    let step = consent::answer(&ctx, &request, &client, logged_in, answer).await?;
    if matches!(step, Step::Redirect(_)) {
        tracing::info!(client = %client.id, user = %logged_in.user.id, allowed = form.allow, "consent answered");
    }
    Ok(respond(step, &request.id))
}
