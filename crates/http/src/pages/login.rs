//! `GET/POST /login`.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use portcullis_core::account::{self, LoginAttempt, LoginOutcome};
use portcullis_core::hash::SecretHash;
use portcullis_core::oauth::{authorize, journey};
use portcullis_core::throttle::Throttled;
use portcullis_proto::Secret;
use serde::Deserialize;

use super::session::{self, Browser, ClientIp};
use super::typed::{self, Typed};
use super::{
    PageFailure, device, error_page, internal, render, see_other, stale_form, with_request,
};
use crate::state::AppState;

/// The form's path, which the kept values are scoped to.
const PATH: &str = "/login";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    request: Option<&'a str>,
    app: Option<String>,
    error: Option<&'static str>,
    email: &'a str,
    signup_href: String,
}

/// The query of `GET /login`. Nothing the user typed: that comes back in a sealed cookie
/// ([`super::typed`]).
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    request: Option<String>,
    error: Option<String>,
}

/// The name of the app a pending request comes from, for the page heading.
pub async fn app_name(state: &AppState, request: Option<&str>) -> Option<String> {
    let keys = state.keyring();
    let request = authorize::sealed::open(&state.context(&keys), request?)?;
    let client = state
        .services
        .store
        .client(&request.client_id)
        .await
        .ok()??;
    Some(client.name)
}

/// Where to go after logging in: the pending authorization request, or the account page.
pub fn after_login(request: Option<&str>) -> String {
    match request {
        Some(_) => with_request("/oauth/authorize/resume", request),
        None => "/account".to_owned(),
    }
}

/// The login form.
pub async fn show(
    State(state): State<AppState>,
    browser: Browser,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Result<Response, PageFailure> {
    let (csrf, pre_login) = session::form_csrf(&state, &browser).map_err(|e| internal(&e))?;
    let request = query.request.as_deref().filter(|r| !r.is_empty());
    let error = query.error.as_deref().map(|code| match code {
        "credentials" => "Email or password is incorrect.",
        _ => "Something went wrong; please try again.",
    });
    let typed = typed::take(&state, &headers, PATH);
    let page = LoginPage {
        csrf: &csrf,
        request,
        app: app_name(&state, request).await,
        error,
        email: typed.as_ref().map_or("", |t| t.email.as_str()),
        signup_href: with_request("/signup", request),
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

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: Secret,
    csrf: String,
    request: Option<String>,
}

/// 429 with `Retry-After`: the attempt was not even checked.
pub fn too_many(throttled: Throttled) -> Response {
    let mut response = error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        "There were too many attempts. Please wait a few minutes and try again.",
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(throttled.retry_after),
    );
    response
}

/// Checks the password and starts a logged-in session. A failure says only that email or
/// password is wrong, whether or not the account exists, and takes as long either way; it
/// redirects to the form with what was typed kept out of the URL.
pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageFailure> {
    if !browser.csrf_ok(&form.csrf) {
        return Ok(stale_form());
    }
    let device = device::read(&state, &headers);
    let attempt = LoginAttempt {
        email: &form.email,
        password: form.password,
        ip,
        device: device.as_ref(),
    };
    let request = form.request.as_deref().filter(|r| !r.is_empty());
    let (user, email) = match account::login(state.account_context(), attempt).await? {
        LoginOutcome::LoggedIn { user, email } => (user, email),
        LoginOutcome::Throttled(throttled) => return Ok(too_many(throttled)),
        LoginOutcome::Refused => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(request.map(|r| ("request", r)))
                .append_pair("error", "credentials")
                .finish();
            let mut response = see_other(&format!("{PATH}?{query}"));
            let kept = Typed {
                email: form.email.trim().to_owned(),
                ..Typed::default()
            };
            typed::keep(&state, &mut response, PATH, &kept);
            return Ok(response);
        }
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
    device::trust(&state, &mut response, &email).map_err(|e| internal(&e))?;
    Ok(response)
}
