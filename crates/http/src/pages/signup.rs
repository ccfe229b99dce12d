//! `GET/POST /signup`.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portcullis_core::account::{self, SignUpAttempt, SignUpOutcome};
use portcullis_core::admin::users::NewUserError;
use portcullis_core::hash::SecretHash;
use portcullis_core::oauth::journey;
use portcullis_core::user::{EmailError, MIN_PASSWORD_LEN, PasswordError};
use portcullis_proto::Secret;
use serde::Deserialize;

use super::login::{after_login, app_name, too_many};
use super::session::{self, Browser, ClientIp};
use super::typed::{self, Typed};
use super::{PageFailure, internal, render, see_other, stale_form, with_request};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage<'a> {
    csrf: &'a str,
    request: Option<&'a str>,
    app: Option<String>,
    error: Option<&'static str>,
    name: &'a str,
    email: &'a str,
    min_password: usize,
    login_href: String,
}

/// The query of `GET /signup`. Nothing the user typed: that comes back in a sealed cookie
/// ([`super::typed`]).
#[derive(Debug, Deserialize)]
pub struct SignupQuery {
    request: Option<String>,
    error: Option<String>,
}

/// The form's path, which the kept values are scoped to.
const PATH: &str = "/signup";

fn message(code: &str) -> &'static str {
    match code {
        "email" => "Enter an email address like name@example.com.",
        "password_short" => "Choose a longer password.",
        "password_long" => "That password is too long.",
        "password_common" => {
            "That password is one of the most common ones, which attackers try first. \
             Choose another: several unrelated words make a good one."
        }
        "password_repetitive" => {
            "A password of one repeated character or a run like 0123456789 is easy to guess. \
             Choose another."
        }
        "password_personal" => {
            "A password made of your email or name is easy to guess. Choose another."
        }
        "name" => "Enter your name (up to 100 characters).",
        "taken" => {
            "An account with this email already exists. Log in instead, or use another email."
        }
        _ => "Something went wrong; please try again.",
    }
}

/// The sign-up form.
pub async fn show(
    State(state): State<AppState>,
    browser: Browser,
    headers: HeaderMap,
    Query(query): Query<SignupQuery>,
) -> Result<Response, PageFailure> {
    let (csrf, pre_login) = session::form_csrf(&state, &browser).map_err(|e| internal(&e))?;
    let request = query.request.as_deref().filter(|r| !r.is_empty());
    let typed = typed::take(&state, &headers, PATH);
    let page = SignupPage {
        csrf: &csrf,
        request,
        app: app_name(&state, request).await,
        error: query.error.as_deref().map(message),
        name: typed.as_ref().map_or("", |t| t.name.as_str()),
        email: typed.as_ref().map_or("", |t| t.email.as_str()),
        min_password: MIN_PASSWORD_LEN,
        login_href: with_request("/login", request),
    };
    let mut response = render(StatusCode::OK, &page);
    if let Some(pre_login) = &pre_login {
        session::attach_pre_login(&state, &mut response, pre_login);
    }
    if typed.is_some() {
        typed::clear(&state, &mut response, PATH);
    }
    Ok(response)
}

/// The sign-up form's fields.
#[derive(Debug, Deserialize)]
pub struct SignupForm {
    name: String,
    email: String,
    password: Secret,
    csrf: String,
    request: Option<String>,
}

/// Creates the account and logs the new user in.
pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    ClientIp(ip): ClientIp,
    Form(form): Form<SignupForm>,
) -> Result<Response, PageFailure> {
    if !browser.csrf_ok(&form.csrf) {
        return Ok(stale_form());
    }
    let request = form.request.as_deref().filter(|r| !r.is_empty());
    let attempt = SignUpAttempt {
        email: &form.email,
        name: &form.name,
        password: form.password,
        ip,
    };
    let user = match account::sign_up(state.account_context(), attempt).await {
        Ok(SignUpOutcome::Created(user)) => user,
        Ok(SignUpOutcome::Throttled(throttled)) => return Ok(too_many(throttled)),
        Ok(SignUpOutcome::Refused(error)) => {
            let code = match error {
                NewUserError::Email(EmailError::Invalid) => "email",
                NewUserError::Password(PasswordError::TooShort) => "password_short",
                NewUserError::Password(PasswordError::TooLong) => "password_long",
                NewUserError::Password(PasswordError::Common) => "password_common",
                NewUserError::Password(PasswordError::Repetitive) => "password_repetitive",
                NewUserError::Password(PasswordError::Personal) => "password_personal",
                NewUserError::Name => "name",
                NewUserError::EmailTaken => "taken",
                _ => "other",
            };
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(request.map(|r| ("request", r)))
                .append_pair("error", code)
                .finish();
            let mut response = see_other(&format!("{PATH}?{query}"));
            let kept = Typed {
                email: form.email.trim().to_owned(),
                name: form.name.trim().to_owned(),
            };
            typed::keep(&state, &mut response, PATH, &kept);
            return Ok(response);
        }
        Err(NewUserError::Store(store)) => return Err(store.into()),
        Err(other) => return Err(internal(&other)),
    };
    let id = session::login(&state, &browser, &user).await?;
    let keys = state.keyring();
    let request = match request {
        Some(handle) => Some(journey::logged_in(
            &state.context(&keys),
            handle,
            &SecretHash::of(id.expose()),
        )?),
        None => None,
    };
    let mut response = see_other(&after_login(request.as_deref()));
    session::attach(&state, &mut response, &id);
    session::clear_pre_login(&state, &mut response);
    Ok(response)
}
