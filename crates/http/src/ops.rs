//! Operations endpoints: liveness, readiness, metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

/// `GET /healthz`: the process is alive and serving.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers and a signing key is loaded; 503 otherwise, so a load
/// balancer sends no traffic to a node that could not serve it.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = matches!(
        tokio::time::timeout(
            state.settings.readiness_timeout,
            state.services.store.ping()
        )
        .await,
        Ok(Ok(()))
    );
    let now = state.services.clock.now();
    let keys = state
        .keys
        .load()
        .signer(state.services.settings.access_token_alg, now)
        .is_some();
    let status = if database && keys {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool, bad: &'static str| if ok { "ok" } else { bad };
    let body = json!({
        "status": if status == StatusCode::OK { "ready" } else { "not_ready" },
        "checks": {
            "database": word(database, "unavailable"),
            "signing_keys": word(keys, "missing"),
        },
    });
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let pool = state.services.store.pool_stats();
    let text = state.metrics.render(&[
        (
            "db_pool_connections",
            "Open database connections.",
            f64::from(pool.size),
        ),
        (
            "db_pool_idle_connections",
            "Open database connections not in use.",
            f64::from(pool.idle),
        ),
        (
            "db_pool_max_connections",
            "The most connections the pool opens.",
            f64::from(pool.max),
        ),
    ]);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Any path no route matched.
pub async fn not_found() -> ApiError {
    ApiError::not_found()
}
