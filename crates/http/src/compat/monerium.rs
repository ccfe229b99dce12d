//! Monerium (seeds 000 and 001): authorization at `/auth` and at the partner link
//! `/partners/{partner}/auth`, tokens at `/auth/token` with `profile` and `userId` in the
//! response, and `GET /auth/context`.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use portcullis_core::oauth::issue::Issued;
use portcullis_proto::token::TokenRequest;
use serde_json::{Map, Value};

use super::{authorize_code_only, token_with, with_code_response};
use crate::error::ApiError;
use crate::oauth::authorize::{pairs, start};
use crate::oauth::body::Body;
use crate::pages::session::{Browser, ClientIp};
use crate::pages::{PageFailure, error_page};
use crate::state::AppState;

pub(super) fn pages() -> Router<AppState> {
    Router::new()
        .route("/auth", get(auth))
        .route("/partners/{partner}/auth", get(partner_link))
}

pub(super) fn machine(banking: bool) -> Router<AppState> {
    let router = Router::new().route("/auth/token", post(token));
    if banking {
        router.route("/auth/context", get(crate::api::context::auth_context))
    } else {
        router
    }
}

/// `GET /auth`: Monerium's authorization URLs carry no `response_type`.
async fn auth(
    state: State<AppState>,
    browser: Browser,
    query: RawQuery,
) -> Result<Response, PageFailure> {
    authorize_code_only(state, browser, query).await
}

/// A partner's link: the authorization endpoint, for the client the partner slug belongs to.
/// The pages then carry that client's name and logo. A slug that is not registered, or a link
/// naming another client, is refused: a partner's name must not lend its weight to another app.
async fn partner_link(
    State(state): State<AppState>,
    browser: Browser,
    Path(partner): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageFailure> {
    let params = pairs(query.unwrap_or_default().as_bytes());
    let Some(owner) = state.settings.compat.partners.get(&partner) else {
        return Ok(error_page(
            StatusCode::NOT_FOUND,
            "Unknown partner",
            "This partner link is not registered.",
        ));
    };
    let named = params
        .iter()
        .filter(|(k, _)| k == "client_id")
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>();
    if named != [owner.as_str()] {
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            "This request cannot continue",
            "This partner link belongs to another application.",
        ));
    }
    start(&state, &browser, &with_code_response(params)).await
}

/// `POST /auth/token`: the token endpoint, whose answer also names the profile the grant acts
/// for and the user (`profile`, `userId`), as the guide reads them.
async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    dpop: crate::dpop::DpopRequest,
    headers: HeaderMap,
    Body(request): Body<TokenRequest>,
) -> Result<Response, ApiError> {
    token_with(&state, ip, &headers, &dpop, request, extra).await
}

fn extra(issued: &Issued) -> Map<String, Value> {
    let mut fields = Map::new();
    if let Some(user) = &issued.user {
        fields.insert("userId".into(), Value::String(user.to_string()));
        fields.insert(
            "profile".into(),
            issued
                .profile
                .as_ref()
                .map_or(Value::Null, |p| Value::String(p.to_string())),
        );
    }
    fields
}
