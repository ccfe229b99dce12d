//! What a user typed into a form that was refused, kept for the form's next display without
//! putting it in the redirect's URL, where it would land in access logs, browser history and
//! `Referer` headers (post/redirect/get). It travels in a short-lived cookie scoped to the
//! form's path, sealed (AES-256-GCM, [`portcullis_core::seal`]) so it is unreadable and cannot
//! be forged or moved to another form, and is dropped once shown. Like other pre-login state,
//! it writes no database row.

use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::cookies::{self, Cookie};
use crate::state::AppState;

/// How long the values wait for the form to be shown again.
const MAX_AGE: i64 = 300;
/// Values past this length are not kept (a cookie holds about 4 KiB).
const MAX_LEN: usize = 512;
const NAME: &str = "portcullis-typed";

/// The kept fields of one form.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typed {
    /// The email typed.
    #[serde(default)]
    pub email: String,
    /// The name typed (sign-up).
    #[serde(default)]
    pub name: String,
}

fn purpose(path: &str) -> String {
    format!("typed form v1 {path}")
}

/// Keeps `typed` for the form at `path` (over-long values are left out).
pub fn keep(state: &AppState, response: &mut Response, path: &str, typed: &Typed) {
    let keepable = |v: &String| {
        if v.len() <= MAX_LEN {
            v.clone()
        } else {
            String::new()
        }
    };
    let typed = Typed {
        email: keepable(&typed.email),
        name: keepable(&typed.name),
    };
    let Ok(plain) = serde_json::to_vec(&typed) else {
        return;
    };
    let Ok(sealed) = state
        .sealer
        .seal(state.services.random.as_ref(), &purpose(path), &plain)
    else {
        return;
    };
    set(state, response, path, &sealed, MAX_AGE);
}

/// What was kept for the form at `path`, if anything; [`clear`] it once shown.
#[must_use]
pub fn take(state: &AppState, headers: &HeaderMap, path: &str) -> Option<Typed> {
    let sealed = cookies::read(headers, &cookies::prefixed(state, NAME, path))?;
    let plain = state.sealer.open(&purpose(path), &sealed)?;
    serde_json::from_slice(&plain).ok()
}

/// Drops what was kept for the form at `path`.
pub fn clear(state: &AppState, response: &mut Response, path: &str) {
    set(state, response, path, "", 0);
}

fn set(state: &AppState, response: &mut Response, path: &str, value: &str, max_age: i64) {
    Cookie {
        name: &cookies::prefixed(state, NAME, path),
        value,
        path,
        max_age,
        same_site: "Strict",
    }
    .attach(state, response);
}
