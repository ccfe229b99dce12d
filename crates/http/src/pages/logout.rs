//! `GET/POST /logout`.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::session::{self, Browser};
use super::{PageFailure, render, see_other, stale_form};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    csrf: &'a str,
    email: &'a str,
}

/// Asks for confirmation (a GET must not log out: a cross-site image could).
pub async fn show(browser: Browser) -> Response {
    match (&browser.user, &browser.session) {
        (Some(user), Some(session)) => render(
            StatusCode::OK,
            &LogoutPage {
                csrf: &session.csrf_token,
                email: &user.email,
            },
        ),
        _ => see_other("/login"),
    }
}

/// The logout form's fields.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

/// Ends the session.
pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageFailure> {
    let Some(current) = browser.session.as_ref() else {
        return Ok(see_other("/login"));
    };
    if !browser.csrf_ok(&form.csrf) {
        return Ok(stale_form());
    }
    state
        .services
        .store
        .delete_session(&current.id_hash)
        .await?;
    let mut response = see_other("/login");
    session::clear(&state, &mut response);
    Ok(response)
}
