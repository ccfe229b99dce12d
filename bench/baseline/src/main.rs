//! The ceiling baseline of the benchmark suite: what a token endpoint costs when it does only
//! the unavoidable work of a client-credentials grant — parse the form and the Basic header,
//! compare a SHA-256 secret in constant time, sign an ES256 JWT with a key parsed once — and
//! nothing else (no database, no client lookup, no audit, no metrics).
//!
//! `portcullis-bench-baseline <port>`; client `bench`, secret from `BASELINE_SECRET`.

#![allow(clippy::print_stdout)] // Prints its address.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use subtle::ConstantTimeEq;

struct Baseline {
    key: EcdsaKeyPair,
    header: String,
    secret_hash: Vec<u8>,
    counter: std::sync::atomic::AtomicU64,
}

#[allow(clippy::disallowed_methods)] // A stand-alone baseline server: no injected clock.
async fn token(State(state): State<Arc<Baseline>>, headers: HeaderMap, body: Bytes) -> Response {
    let grant = url_form_value(&body, "grant_type");
    if grant.as_deref() != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"error":"unsupported_grant_type"}"#,
        )
            .into_response();
    }
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|d| String::from_utf8(d).ok());
    let Some((id, secret)) = credentials.as_deref().and_then(|c| c.split_once(':')) else {
        return (StatusCode::UNAUTHORIZED, r#"{"error":"invalid_client"}"#).into_response();
    };
    let hash = digest(&SHA256, secret.as_bytes());
    if id != "bench" || !bool::from(hash.as_ref().ct_eq(&state.secret_hash)) {
        return (StatusCode::UNAUTHORIZED, r#"{"error":"invalid_client"}"#).into_response();
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let jti = state
        .counter
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let claims = serde_json::json!({
        "iss": "http://127.0.0.1", "sub": id, "aud": "http://127.0.0.1", "client_id": id,
        "scope": "wallet:read", "exp": now + 3600, "iat": now, "jti": jti.to_string(),
    });
    let mut jwt = state.header.clone();
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(claims.to_string(), &mut jwt);
    let Ok(signature) = state.key.sign(&SystemRandom::new(), jwt.as_bytes()) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut jwt);
    let body = serde_json::json!({ "access_token": jwt, "token_type": "Bearer", "expires_in": 3600, "scope": "wallet:read" });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn url_form_value(body: &[u8], name: &str) -> Option<String> {
    std::str::from_utf8(body).ok()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "0".into())
        .parse()?;
    let secret = std::env::var("BASELINE_SECRET").unwrap_or_else(|_| "bench-secret".into());
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|_| anyhow::anyhow!("key generation"))?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| anyhow::anyhow!("key parse"))?;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":"baseline","typ":"at+jwt"}"#);
    let state = Arc::new(Baseline {
        key,
        header,
        secret_hash: digest(&SHA256, secret.as_bytes()).as_ref().to_vec(),
        counter: std::sync::atomic::AtomicU64::new(0),
    });
    let app = Router::new().route("/token", post(token)).with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("baseline ready on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
