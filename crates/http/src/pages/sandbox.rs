//! `GET /sandbox/callback`: the sandbox demo app's redirect URI, showing what it received.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::render;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "sandbox_callback.html")]
struct CallbackPage<'a> {
    issuer: &'a str,
    redirect_uri: String,
    code: &'a str,
    state: &'a str,
    iss: &'a str,
    error: Option<&'a str>,
    description: Option<&'a str>,
}

/// The authorization response's parameters.
#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Shows the code (or error) and how to exchange it.
pub async fn callback(State(state): State<AppState>, Query(query): Query<Callback>) -> Response {
    let page = CallbackPage {
        issuer: state.issuer(),
        redirect_uri: format!("{}/sandbox/callback", state.issuer()),
        code: query.code.as_deref().unwrap_or_default(),
        state: query.state.as_deref().unwrap_or_default(),
        iss: query.iss.as_deref().unwrap_or_default(),
        error: query.error.as_deref(),
        description: query.error_description.as_deref(),
    };
    render(StatusCode::OK, &page)
}
