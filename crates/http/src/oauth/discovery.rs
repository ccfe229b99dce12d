//! `/.well-known/oauth-authorization-server` (RFC 8414) and
//! `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0): one document, served at
//! both places, listing only what the server really does.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use portcullis_core::keys::SigningAlg;
use portcullis_core::oauth::claims::STANDARD_SCOPES;
use portcullis_core::scopes::{ADMIN_SCOPE, ScopeRegistry};
use portcullis_proto::discovery::ServerMetadata;

use crate::state::AppState;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Builds the metadata document.
#[must_use]
pub fn metadata(state: &AppState) -> ServerMetadata {
    let issuer = state.issuer();
    let url = |path: &str| format!("{issuer}{path}");
    let auth_methods = strings(&[
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    ]);
    // The algorithms of client assertions (private_key_jwt) and DPoP proofs.
    let assertion_algs: Vec<String> = portcullis_core::jose::ForeignAlg::ALL
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect();
    let settings = &state.services.settings;
    ServerMetadata {
        issuer: issuer.to_owned(),
        authorization_endpoint: url("/oauth/authorize"),
        token_endpoint: url("/oauth/token"),
        pushed_authorization_request_endpoint: Some(url("/oauth/par")),
        require_pushed_authorization_requests: settings.require_pushed_authorization_requests,
        jwks_uri: url("/oauth/jwks"),
        revocation_endpoint: url("/oauth/revoke"),
        introspection_endpoint: url("/oauth/introspect"),
        userinfo_endpoint: url("/oauth/userinfo"),
        end_session_endpoint: Some(url("/logout")),
        scopes_supported: settings
            .scopes
            .all()
            .iter()
            .filter(|s| s.as_str() != ADMIN_SCOPE)
            .map(ToString::to_string)
            .collect(),
        response_types_supported: strings(&["code"]),
        response_modes_supported: strings(&["query"]),
        grant_types_supported: strings(&[
            "authorization_code",
            "refresh_token",
            "client_credentials",
        ]),
        token_endpoint_auth_methods_supported: auth_methods.clone(),
        revocation_endpoint_auth_methods_supported: auth_methods,
        token_endpoint_auth_signing_alg_values_supported: assertion_algs.clone(),
        revocation_endpoint_auth_signing_alg_values_supported: assertion_algs.clone(),
        introspection_endpoint_auth_signing_alg_values_supported: assertion_algs.clone(),
        introspection_endpoint_auth_methods_supported: strings(&[
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ]),
        code_challenge_methods_supported: strings(&["S256", "plain"]),
        dpop_signing_alg_values_supported: assertion_algs,
        authorization_response_iss_parameter_supported: true,
        subject_types_supported: strings(&["public"]),
        id_token_signing_alg_values_supported: SigningAlg::ALL
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
        access_token_signing_alg_values_supported: vec![
            settings.access_token_alg.as_str().to_owned(),
        ],
        claims_supported: claims_supported(&settings.scopes),
        prompt_values_supported: strings(&["none", "login", "consent", "create"]),
        claims_parameter_supported: false,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        frontchannel_logout_supported: false,
        backchannel_logout_supported: false,
        service_documentation: Some(url("/openapi.json")),
    }
}

/// Serves the metadata document.
pub async fn discovery(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(metadata(&state)),
    )
}

/// The ID token's own claims, and those of each standard scope the registry offers.
fn claims_supported(scopes: &ScopeRegistry) -> Vec<String> {
    let own = [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "azp",
    ];
    let released = STANDARD_SCOPES
        .iter()
        .filter(|(scope, _)| scopes.describe(scope).is_some())
        .flat_map(|(_, claims)| claims.iter());
    own.iter()
        .chain(released)
        .map(|c| (*c).to_owned())
        .collect()
}
