//! Server-rendered pages: login, sign-up, onboarding, consent, logout, account, and the sandbox
//! callback.
//! Plain HTML forms (no JavaScript), each with the session's CSRF token; every POST that
//! succeeds answers 303 (post/redirect/get).

pub mod account;
pub mod consent;
pub mod cookies;
pub mod device;
pub mod login;
pub mod logout;
pub mod onboarding;
pub mod sandbox;
pub mod session;
pub mod signup;
pub mod typed;

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

/// Renders a template with `status`. A template that fails to render is a bug: logged, and
/// answered with a plain 500.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The error page.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    /// Heading.
    pub title: &'a str,
    /// What happened and what to do.
    pub message: &'a str,
    /// A link back, if there is a sensible one.
    pub back: Option<&'a str>,
}

/// An error page with `status`.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    render(
        status,
        &ErrorPage {
            title,
            message,
            back: None,
        },
    )
}

/// The answer to a form whose CSRF token or session is missing or wrong.
pub fn stale_form() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "Your session ended or the form was sent from elsewhere. Go back, reload the page and try again.",
    )
}

/// A failure on a page, answered as an HTML error page.
#[derive(Debug)]
pub struct PageFailure(Response);

impl IntoResponse for PageFailure {
    fn into_response(self) -> Response {
        self.0
    }
}

impl From<Response> for PageFailure {
    fn from(response: Response) -> Self {
        Self(response)
    }
}

impl From<portcullis_core::store::StoreError> for PageFailure {
    fn from(error: portcullis_core::store::StoreError) -> Self {
        Self(session::store_failure(&error))
    }
}

impl From<portcullis_core::session::SessionError> for PageFailure {
    fn from(error: portcullis_core::session::SessionError) -> Self {
        match error {
            portcullis_core::session::SessionError::Store(store) => store.into(),
            portcullis_core::session::SessionError::Random(random) => internal(&random),
        }
    }
}

impl From<portcullis_core::oauth::authorize::AuthorizeError> for PageFailure {
    fn from(error: portcullis_core::oauth::authorize::AuthorizeError) -> Self {
        use portcullis_core::oauth::authorize::AuthorizeError;
        match error {
            AuthorizeError::Page(page) => Self(error_page(
                StatusCode::BAD_REQUEST,
                "This request cannot continue",
                &page.to_string(),
            )),
            AuthorizeError::Redirect(redirect) => Self(see_other(&redirect.redirect_uri)),
            AuthorizeError::Store(store) => store.into(),
            AuthorizeError::Random(random) => internal(&random),
        }
    }
}

/// An unexpected failure: logged, answered with a generic page.
pub fn internal(cause: &dyn std::fmt::Display) -> PageFailure {
    tracing::error!(error = %cause, "internal error on a page");
    PageFailure(error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Please try again.",
    ))
}

/// A 303 to `to`.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// `path?request=ID` when there is a request to carry.
pub fn with_request(path: &str, request: Option<&str>) -> String {
    match request {
        Some(id) => format!(
            "{path}?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("request", id)
                .finish()
        ),
        None => path.to_owned(),
    }
}

/// `GET /static/portcullis.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/portcullis.css"),
    )
        .into_response()
}

/// `GET /static/wallet.js`: the wallet step's progressive enhancement (EIP-1193 wallets).
pub async fn wallet_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/wallet.js"),
    )
        .into_response()
}
