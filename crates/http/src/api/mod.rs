//! The resource API (`/api/v1`): bearer JWTs (RFC 6750), scope per route, and only the
//! profiles a token's grant covers (another profile's id is 404, not 403, so ids do not leak).

pub mod context;
pub mod orders;
pub mod profiles;
pub mod wallet;

use axum::Router;
use axum::routing::get;
use portcullis_core::banking::access;
use portcullis_core::banking::profile::Profile;
use portcullis_core::store::PageRequest;
use portcullis_proto::{ErrorCode, UserId};
use serde::{Deserialize, Serialize};

use crate::bearer::Bearer;
use crate::error::ApiError;
use crate::state::AppState;

/// The resource API's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(context::me))
        .route("/api/v1/auth/context", get(context::auth_context))
        .route("/api/v1/profiles", get(profiles::list))
        .route("/api/v1/profiles/{id}", get(profiles::get))
        .route("/api/v1/wallet/me", get(wallet::wallet_me))
        .route("/api/v1/balances", get(wallet::balances))
        .route("/api/v1/orders", get(orders::list).post(orders::place))
        .route("/api/v1/orders/{id}", get(orders::get))
}

/// Refuses unless the token has one of `scopes` (the error names the first).
///
/// # Errors
/// 403 `insufficient_scope`.
pub fn require_any(token: &Bearer, scopes: &[&str]) -> Result<(), ApiError> {
    let granted = token.0.scopes();
    if scopes.iter().any(|s| granted.contains(s)) {
        Ok(())
    } else {
        Err(ApiError::insufficient_scope(
            scopes.first().copied().unwrap_or_default(),
        ))
    }
}

/// The profiles a token may see ([`access::visible_profiles`]).
///
/// # Errors
/// Storage failures (denied, never allowed).
pub async fn visible_profiles(state: &AppState, token: &Bearer) -> Result<Vec<Profile>, ApiError> {
    Ok(access::visible_profiles(state.services.store.as_ref(), &token.0).await?)
}

/// The one profile a user token acts for.
///
/// # Errors
/// 404 when the token is not bound to a profile of its user.
pub async fn own_profile(state: &AppState, token: &Bearer) -> Result<Profile, ApiError> {
    if token.0.is_client_token() {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "this endpoint acts for a user's profile; use a token from the user's authorization",
        ));
    }
    visible_profiles(state, token)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "no profile is bound to this token",
            )
        })
}

/// The user of a user token.
#[must_use]
pub fn user_of(token: &Bearer) -> Option<UserId> {
    (!token.0.is_client_token()).then(|| UserId::new(token.0.sub.clone()))
}

/// `?limit=&cursor=` of list endpoints.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

impl PageQuery {
    /// The store's page request (default 50 items).
    #[must_use]
    pub fn request(&self) -> PageRequest {
        PageRequest {
            after: self.cursor.clone(),
            limit: self.limit.unwrap_or(50).clamp(1, PageRequest::MAX_LIMIT),
        }
    }
}

/// A page of a list.
#[derive(Debug, Serialize)]
pub struct Paged<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page, absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A profile as the API shows it.
#[derive(Debug, Serialize)]
pub struct ProfileView {
    id: String,
    kind: &'static str,
    name: String,
    kyc: KycView,
    created_at: String,
}

#[derive(Debug, Serialize)]
struct KycView {
    state: &'static str,
}

impl From<&Profile> for ProfileView {
    fn from(p: &Profile) -> Self {
        Self {
            id: p.id.to_string(),
            kind: p.kind.as_str(),
            name: p.name.clone(),
            kyc: KycView {
                state: p.kyc.as_str(),
            },
            created_at: p.created_at.to_rfc3339(),
        }
    }
}
