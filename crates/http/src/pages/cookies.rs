//! Cookies the pages set besides the session's: reading one from a request, and the
//! `Set-Cookie` value of one. Every cookie here is `HttpOnly` and `Secure` where TLS.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use crate::state::AppState;

/// The value of the cookie `name` in a request, if sent.
#[must_use]
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

/// A cookie to set.
#[derive(Debug, Clone, Copy)]
pub struct Cookie<'a> {
    /// Its name (prefixed as [`prefixed`] says for the path).
    pub name: &'a str,
    /// Its value: URL-safe text.
    pub value: &'a str,
    /// The path it is sent to.
    pub path: &'a str,
    /// Seconds to live; 0 deletes it.
    pub max_age: i64,
    /// `Lax` or `Strict`.
    pub same_site: &'a str,
}

impl Cookie<'_> {
    /// Appends the cookie to a response.
    pub fn attach(self, state: &AppState, response: &mut Response) {
        let secure = if state.secure() { "; Secure" } else { "" };
        let value = format!(
            "{}={}; Path={}; HttpOnly; SameSite={}; Max-Age={}{secure}",
            self.name, self.value, self.path, self.same_site, self.max_age
        );
        if let Ok(value) = HeaderValue::try_from(value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
}

/// `base` with the prefix browsers enforce where TLS: `__Host-` for a cookie of the whole
/// site (it then cannot be set by a subdomain or over plain http), `__Secure-` for one
/// scoped to a path.
#[must_use]
pub fn prefixed(state: &AppState, base: &str, path: &str) -> String {
    match (state.secure(), path) {
        (false, _) => base.to_owned(),
        (true, "/") => format!("__Host-{base}"),
        (true, _) => format!("__Secure-{base}"),
    }
}
