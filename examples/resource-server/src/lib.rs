//! A third-party API that accepts Portcullis access tokens: each route names the scopes it
//! needs, and the `portcullis-client` verifier checks tokens locally against the issuer's
//! JWKS (no call to Portcullis per request).

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use portcullis_client::Error;
use portcullis_client::verifier::Verifier;
use portcullis_client::verifier::axum::Authenticated;
use serde_json::{Value, json};

/// Builds a verifier for `issuer` (tokens must name `audience` in `aud`; by default the
/// issuer, as Portcullis issues them) and the routes.
///
/// # Errors
/// When discovery or the first JWKS fetch fails.
pub async fn app(issuer: &str, audience: Option<&str>) -> Result<Router, Error> {
    let mut builder = Verifier::builder(issuer);
    if let Some(audience) = audience {
        builder = builder.audience(audience);
    }
    Ok(router(&builder.build().await?))
}

/// The routes, each with its own scopes:
///
/// | route | needs |
/// |---|---|
/// | `GET /health` | nothing |
/// | `GET /whoami` | any valid token |
/// | `GET /portfolio` | `wallet:read` |
/// | `POST /transfers` | `orders:write` |
pub fn router(verifier: &Verifier) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/whoami", get(whoami).route_layer(verifier.layer()))
        .route(
            "/portfolio",
            get(portfolio).route_layer(verifier.require_scopes(["wallet:read"])),
        )
        .route(
            "/transfers",
            post(transfer).route_layer(verifier.require_scopes(["orders:write"])),
        )
}

async fn whoami(token: Authenticated) -> Json<Value> {
    Json(json!({
        "sub": token.sub,
        "client_id": token.client_id,
        "scope": token.scope.to_string(),
        "kind": if token.is_client_token() { "client" } else { "user" },
        "profile": token.profile,
    }))
}

async fn portfolio(token: Authenticated) -> Json<Value> {
    Json(json!({
        "owner": token.sub,
        "profile": token.profile,
        "positions": [],
    }))
}

async fn transfer(token: Authenticated, Json(body): Json<Value>) -> impl IntoResponse {
    (
        StatusCode::ACCEPTED,
        Json(json!({ "accepted": body, "requested_by": token.client_id })),
    )
}
