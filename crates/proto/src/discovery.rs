//! Authorization server metadata (RFC 8414 §2) and OpenID Provider metadata
//! (OpenID Connect Discovery 1.0 §3).

use serde::{Deserialize, Serialize};

/// The metadata document served at both well-known locations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerMetadata {
    /// The issuer identifier; equal to the `iss` of every token.
    pub issuer: String,
    /// The authorization endpoint.
    pub authorization_endpoint: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The JWKS document.
    pub jwks_uri: String,
    /// RFC 9126 pushed authorization request endpoint.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 9126 §5: whether every authorization request must be pushed first.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// RFC 7009 revocation endpoint.
    pub revocation_endpoint: String,
    /// RFC 7662 introspection endpoint.
    pub introspection_endpoint: String,
    /// OpenID Connect userinfo endpoint.
    pub userinfo_endpoint: String,
    /// Where the session ends.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub end_session_endpoint: Option<String>,
    /// Scopes the server knows.
    pub scopes_supported: Vec<String>,
    /// Only `code`.
    pub response_types_supported: Vec<String>,
    /// Only `query`.
    pub response_modes_supported: Vec<String>,
    /// The grants the token endpoint accepts.
    pub grant_types_supported: Vec<String>,
    /// Client authentication at the token endpoint.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Client authentication at the revocation endpoint.
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    /// Client authentication at the introspection endpoint.
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    /// `private_key_jwt` assertion algorithms at the token endpoint (RFC 8414 §2).
    #[serde(default)]
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// `private_key_jwt` assertion algorithms at the revocation endpoint.
    #[serde(default)]
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// `private_key_jwt` assertion algorithms at the introspection endpoint.
    #[serde(default)]
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// PKCE methods (RFC 7636).
    pub code_challenge_methods_supported: Vec<String>,
    /// RFC 9449 §5.1: the algorithms DPoP proofs may be signed with (empty from a server
    /// that does not support DPoP).
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// RFC 9207: `iss` is in every authorization response.
    pub authorization_response_iss_parameter_supported: bool,
    /// OIDC: subject identifier types.
    pub subject_types_supported: Vec<String>,
    /// OIDC: ID token signing algorithms.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// Access token signing algorithms (RFC 9068).
    pub access_token_signing_alg_values_supported: Vec<String>,
    /// OIDC: claims the server may return.
    pub claims_supported: Vec<String>,
    /// OIDC: `prompt` values understood.
    pub prompt_values_supported: Vec<String>,
    /// OIDC: whether the `claims` parameter is supported.
    pub claims_parameter_supported: bool,
    /// OIDC: whether `request` objects are supported.
    pub request_parameter_supported: bool,
    /// OIDC: whether `request_uri` is supported.
    pub request_uri_parameter_supported: bool,
    /// OpenID Connect Front-Channel Logout 1.0: not built, so `false`.
    #[serde(default)]
    pub frontchannel_logout_supported: bool,
    /// OpenID Connect Back-Channel Logout 1.0: not built yet, so `false`.
    #[serde(default)]
    pub backchannel_logout_supported: bool,
    /// Where the OpenAPI description of the resource and admin APIs is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub service_documentation: Option<String>,
}
