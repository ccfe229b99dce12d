//! Compatibility profiles: the paths, request encodings and response fields of the four
//! platforms' integration guides (`shared/seeds/`), served over the same core, so that code
//! written from a guide works by changing only its base URL. Each profile is a thin module of
//! routes and extra response fields; no protocol rule lives here.

mod monei;
mod monerium;
mod moneybutton;
mod tropipay;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_core::oauth::issue::Issued;
use portcullis_proto::ClientId;
use portcullis_proto::token::TokenRequest;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::oauth::token;
use crate::state::AppState;

/// A platform whose guide Portcullis serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Profile {
    /// Monerium (seeds 000, 001).
    Monerium,
    /// Monei Connect (seed 002).
    Monei,
    /// TropiPay (seed 003).
    Tropipay,
    /// Money Button (seed 004).
    MoneyButton,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Self; 4] = [
        Self::Monerium,
        Self::Monei,
        Self::Tropipay,
        Self::MoneyButton,
    ];

    /// The configuration name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Monerium => "monerium",
            Self::Monei => "monei",
            Self::Tropipay => "tropipay",
            Self::MoneyButton => "moneybutton",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown compatibility profile {s:?}; expected monerium, monei, tropipay or moneybutton"))
    }
}

/// Which profiles are on, and Monerium's partner links.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompatSettings {
    /// The profiles served.
    pub profiles: BTreeSet<Profile>,
    /// `/partners/{slug}/auth`: the client each partner slug belongs to.
    pub partners: BTreeMap<String, ClientId>,
}

impl CompatSettings {
    /// Whether `profile` is on.
    #[must_use]
    pub fn has(&self, profile: Profile) -> bool {
        self.profiles.contains(&profile)
    }
}

/// The resource API as the profiles serve it: with Monei on, `/api/v1/wallet/me` also answers
/// its body under `data` ([`monei::with_data_member`]).
pub fn resource_api(api: Router<AppState>, settings: &CompatSettings) -> Router<AppState> {
    if settings.has(Profile::Monei) {
        api.route_layer(axum::middleware::from_fn(monei::with_data_member))
    } else {
        api
    }
}

/// The profiles' authorization-endpoint aliases (browser navigations: page middleware).
pub fn pages(settings: &CompatSettings) -> Router<AppState> {
    let mut router = Router::new();
    if settings.has(Profile::Monerium) {
        router = router.merge(monerium::pages());
    }
    if settings.has(Profile::Monei) {
        router = router.merge(monei::pages());
    }
    if settings.has(Profile::MoneyButton) {
        router = router.merge(moneybutton::pages());
    }
    router
}

/// The profiles' token endpoints and resource routes (machine endpoints).
pub fn machine(settings: &CompatSettings, banking: bool) -> Router<AppState> {
    let mut router = Router::new();
    if settings.has(Profile::Monerium) {
        router = router.merge(monerium::machine(banking));
    }
    if settings.has(Profile::Monei) {
        router = router.merge(monei::machine());
    }
    if settings.has(Profile::Tropipay) {
        router = router.merge(tropipay::machine());
    }
    if settings.has(Profile::MoneyButton) {
        router = router.merge(moneybutton::machine(banking));
    }
    router
}

/// Monerium's and Monei's guides send no `response_type`: their endpoints have only the code
/// flow. Their profiles supply `response_type=code` when it is absent; every other rule is the
/// standard endpoint's.
fn with_code_response(mut params: Vec<(String, String)>) -> Vec<(String, String)> {
    if !params.iter().any(|(k, _)| k == "response_type") {
        params.push(("response_type".to_owned(), "code".to_owned()));
    }
    params
}

/// The authorization endpoint for guides whose URLs leave out `response_type`.
async fn authorize_code_only(
    State(state): State<AppState>,
    browser: crate::pages::session::Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, crate::pages::PageFailure> {
    let params = with_code_response(crate::oauth::authorize::pairs(
        query.unwrap_or_default().as_bytes(),
    ));
    crate::oauth::authorize::start(&state, &browser, &params).await
}

/// The token endpoint with extra response fields computed from what was issued.
async fn token_with(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    dpop: &crate::dpop::DpopRequest,
    request: TokenRequest,
    extra: fn(&Issued) -> Map<String, Value>,
) -> Result<Response, ApiError> {
    let issued = token::exchange(state, ip, headers, dpop, request).await?;
    let fields = extra(&issued);
    Ok(token::respond(state, issued, fields))
}
