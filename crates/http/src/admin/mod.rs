//! The admin API (`/admin/v1`): the CLI's operations over HTTP, through the same core
//! functions, authorized by an access token with the `admin` scope issued by client
//! credentials to a client registered as admin. User tokens are refused, whatever their scope.

mod audit;
mod clients;
mod keys;
mod users;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{delete, get, post};
use portcullis_core::admin::Admin;
use portcullis_core::scopes::ADMIN_SCOPE;
use portcullis_proto::{ClientId, ErrorCode};
use serde::Deserialize;

use crate::bearer::Bearer;
use crate::error::{ApiError, REALM};
use crate::pages::session::ClientIp;
use crate::state::AppState;

/// The admin routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/v1/clients",
            get(clients::list).post(clients::create),
        )
        .route(
            "/admin/v1/clients/{id}",
            get(clients::show)
                .patch(clients::update)
                .delete(clients::delete),
        )
        .route(
            "/admin/v1/clients/{id}/rotate-secret",
            post(clients::rotate_secret),
        )
        .route("/admin/v1/users", get(users::list).post(users::create))
        .route(
            "/admin/v1/users/{id}",
            get(users::show).patch(users::update),
        )
        .route("/admin/v1/users/{id}/disable", post(users::disable))
        .route("/admin/v1/users/{id}/kyc", post(users::set_kyc))
        .route("/admin/v1/users/{id}/fund", post(users::fund))
        .route(
            "/admin/v1/users/{id}/apps/{client_id}",
            delete(users::revoke_app),
        )
        .route("/admin/v1/audit", get(audit::list))
        .route("/admin/v1/keys", get(keys::list))
        .route("/admin/v1/keys/rotate", post(keys::rotate))
}

/// A caller proven to be an admin client.
#[derive(Debug, Clone)]
pub struct AdminCaller {
    /// The admin client.
    pub client: ClientId,
    /// `client:<id>`, the audit actor.
    pub actor: String,
    /// The caller's address, for the audit trail.
    pub ip: Option<std::net::IpAddr>,
}

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = Bearer::from_request_parts(parts, state).await?;
        token.require(ADMIN_SCOPE)?;
        if !token.0.is_client_token() {
            return Err(not_an_admin_client());
        }
        let client = ClientId::new(token.0.client_id.clone());
        let is_admin = state
            .services
            .store
            .client(&client)
            .await?
            .is_some_and(|c| c.admin && c.enabled);
        if !is_admin {
            return Err(not_an_admin_client());
        }
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        Ok(Self {
            actor: format!("client:{client}"),
            client,
            ip,
        })
    }
}

/// A live token with the `admin` scope, but not an admin client's own: RFC 6750 §3.1 calls a
/// valid token without the privileges the resource needs `insufficient_scope` (403), whatever
/// the reason it lacks them.
fn not_an_admin_client() -> ApiError {
    const WHY: &str = "the admin API needs the token of a client registered as admin";
    ApiError::bearer(Some(ErrorCode::InsufficientScope), WHY).with_challenge(format!(
        "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", error_description=\"{WHY}\", \
         scope=\"{ADMIN_SCOPE}\""
    ))
}

impl AdminCaller {
    /// The core's admin context for this caller.
    #[must_use]
    pub fn admin<'a>(&'a self, state: &'a AppState) -> Admin<'a> {
        let services = &state.services;
        Admin {
            store: services.store.as_ref(),
            clock: services.clock.as_ref(),
            random: services.random.as_ref(),
            scopes: &services.settings.scopes,
            max_access_ttl: services.settings.max_access_token_ttl,
            audit: services.audit.as_ref(),
            actor: &self.actor,
            ip: self.ip,
        }
    }
}

/// `?limit=&cursor=`.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

impl PageQuery {
    fn request(&self) -> portcullis_core::store::PageRequest {
        let limit = self
            .limit
            .unwrap_or(50)
            .clamp(1, portcullis_core::store::PageRequest::MAX_LIMIT);
        portcullis_core::store::PageRequest {
            after: self.cursor.clone(),
            limit,
        }
    }
}

/// A JSON object body, refused with `invalid_request` and the parser's message when malformed.
fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    crate::input::json_object(body, "malformed JSON body")
}
