//! The device cookie ([`portcullis_core::login::device`]): set at each successful login, read
//! at the next attempt so that a browser the account used before is trusted.

use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_core::login::{DEVICE_COOKIE_TTL, Device};
use portcullis_core::random::RandomError;

use super::cookies::{self, Cookie};
use crate::state::AppState;

const NAME: &str = "portcullis-device";

fn name(state: &AppState) -> String {
    cookies::prefixed(state, NAME, "/")
}

/// The device the browser's cookie names, if it holds a valid one.
#[must_use]
pub fn read(state: &AppState, headers: &HeaderMap) -> Option<Device> {
    let value = cookies::read(headers, &name(state))?;
    Device::open(&state.sealer, &value, state.services.clock.now())
}

/// Trusts the browser for `email` (normalised) from now on, with a new device id.
///
/// # Errors
/// When randomness fails.
pub fn trust(state: &AppState, response: &mut Response, email: &str) -> Result<(), RandomError> {
    let services = &state.services;
    let value = Device::issue(
        &state.sealer,
        services.random.as_ref(),
        services.clock.now(),
        email,
    )?;
    Cookie {
        name: &name(state),
        value: &value,
        path: "/",
        max_age: DEVICE_COOKIE_TTL,
        same_site: "Strict",
    }
    .attach(state, response);
    Ok(())
}
