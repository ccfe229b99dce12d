//! `GET/POST /consent`: the user reviews what the app asks for and may untick scopes.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::oauth::authorize::{self, PageError};
use portcullis_core::oauth::consent::{self, ConsentAnswer};
use serde::Deserialize;

use super::session::Browser;
use super::{PageFailure, error_page, render, see_other, stale_form, with_request};
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

/// The query of `GET /consent`.
#[derive(Debug, Deserialize)]
pub struct ConsentQuery {
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

/// The consent form: single-valued fields once each, `scope` any number of times.
struct ConsentForm {
    csrf: String,
    request: String,
    client_id: String,
    allow: bool,
    scopes: Vec<String>,
}

impl ConsentForm {
    fn parse(body: &[u8]) -> Option<Self> {
        let (mut csrf, mut request, mut client_id, mut decision) = (None, None, None, None);
        let mut scopes = Vec::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            let slot = match name.as_ref() {
                "scope" => {
                    scopes.push(value.into_owned());
                    continue;
                }
                "csrf" => &mut csrf,
                "request" => &mut request,
                "client_id" => &mut client_id,
                "decision" => &mut decision,
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return None;
            }
        }
        let allow = match decision?.as_str() {
            "allow" => true,
            "deny" => false,
            _ => return None,
        };
        Some(Self {
            csrf: csrf?,
            request: request?,
            client_id: client_id?,
            allow,
            scopes,
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
    body: Bytes,
) -> Result<Response, PageFailure> {
    let Some(form) = ConsentForm::parse(&body) else {
        return Ok(tampered());
    };
    if !browser.csrf_ok(&form.csrf) {
        return Ok(stale_form());
    }
    let Some(logged_in) = browser.logged_in() else {
        return Ok(see_other(&with_request("/login", Some(&form.request))));
    };
    let keys = state.keyring();
    let ctx = state.context(&keys);
    let (client, request) = authorize::pending(&ctx, state.clients.as_ref(), &form.request).await?;
    let answer = ConsentAnswer {
        allow: form.allow,
        scopes: form.scopes,
        client_id: form.client_id,
    };
    let url = consent::answer(&ctx, &request, &client, logged_in, answer).await?;
    tracing::info!(client = %client.id, user = %logged_in.user.id, allowed = form.allow, "consent answered");
    Ok(see_other(&url))
}
