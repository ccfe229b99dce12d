use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AdminCaller, json as parse};
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /admin/v1/keys`: signing keys and their states.
pub async fn list(State(state): State<AppState>, _caller: AdminCaller) -> Json<Value> {
    let ring = state.keyring();
    let now = state.services.clock.now();
    let keys: Vec<Value> = ring
        .keys()
        .map(|k| {
            json!({
                "kid": k.kid,
                "alg": k.alg,
                "state": ring.state(k, now).as_str(),
                "created_at": k.created_at.to_rfc3339(),
                "activates_at": k.activates_at.to_rfc3339(),
            })
        })
        .collect();
    Json(json!({ "keys": keys }))
}

/// The body of `POST /admin/v1/keys/rotate`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    /// Algorithms (default: every one that has a key).
    #[serde(default)]
    algs: Vec<String>,
    /// Seconds before the new keys sign (default: the configured `key_activation_delay`).
    #[serde(default)]
    activate_after_seconds: Option<i64>,
}

/// `POST /admin/v1/keys/rotate`: this is `portcullis keys rotate` over HTTP. The new keys are
/// stored at once; every node (this one included) loads them at its next key refresh.
pub async fn rotate(
    State(state): State<AppState>,
    caller: AdminCaller,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request: Rotate = if body.is_empty() {
        Rotate::default()
    } else {
        parse(&body)?
    };
    let ring = state.keyring();
    let algs = if request.algs.is_empty() {
        let mut algs: Vec<_> = ring.keys().map(|k| k.alg).collect();
        algs.sort();
        algs.dedup();
        algs
    } else {
        request
            .algs
            .iter()
            .map(|a| {
                a.parse()
                    .map_err(|e: portcullis_core::keys::alg::UnknownAlg| {
                        ApiError::bad_request(e.to_string())
                    })
            })
            .collect::<Result<_, _>>()?
    };
    let Some(kek) = state.kek.as_deref() else {
        return Err(ApiError::internal(
            &"no key-encryption key available to this node",
        ));
    };
    let services = &state.services;
    let made = portcullis_core::keys::manage::rotate(
        services.store.as_ref(),
        kek,
        services.random.as_ref(),
        services.clock.as_ref(),
        &algs,
        request
            .activate_after_seconds
            .unwrap_or(state.settings.key_activation_delay)
            .max(0),
    )
    .await
    .map_err(|e| match e {
        portcullis_core::keys::manage::KeyOpError::Store(store) => ApiError::from(store),
        other => ApiError::internal(&other),
    })?;
    services.audit.record(
        caller
            .admin(&state)
            .event(portcullis_core::audit::AuditKind::KeysRotated)
            .client(&caller.client)
            .detail(json!({ "kids": made.iter().map(|k| k.kid.to_string()).collect::<Vec<_>>() })),
    );
    let keys: Vec<Value> = made
        .iter()
        .map(|k| json!({ "kid": k.kid, "alg": k.alg, "activates_at": k.activates_at.to_rfc3339() }))
        .collect();
    Ok(Json(json!({ "keys": keys })))
}
