//! Token endpoint, introspection and revocation bodies (RFC 6749 §4–§6, RFC 7662, RFC 7009).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Secret;

/// The parameters of a token request (RFC 6749 §4.1.3, §4.4.2, §6), as sent in a form or a
/// JSON body.
///
/// Every field is optional here: which ones are required depends on the grant, and that rule
/// lives in the core. Unknown parameters are ignored (RFC 6749 §3.2).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenRequest {
    /// `grant_type`.
    pub grant_type: Option<String>,
    /// `code` (authorization code grant).
    pub code: Option<Secret>,
    /// `redirect_uri` (authorization code grant).
    pub redirect_uri: Option<String>,
    /// `code_verifier` (RFC 7636 §4.5).
    pub code_verifier: Option<Secret>,
    /// `refresh_token` (RFC 6749 §6).
    pub refresh_token: Option<Secret>,
    /// `scope`.
    pub scope: Option<String>,
    /// `client_id` (public clients, or `client_secret_post`).
    pub client_id: Option<String>,
    /// `client_secret` (`client_secret_post`).
    pub client_secret: Option<Secret>,
    /// `client_assertion_type` (`private_key_jwt`, RFC 7523 §2.2).
    #[serde(default)]
    pub client_assertion_type: Option<String>,
    /// `client_assertion`: the signed JWT (`private_key_jwt`).
    #[serde(default)]
    pub client_assertion: Option<Secret>,
}

/// A successful token response (RFC 6749 §5.1), plus OpenID Connect's `id_token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token (a JWT, RFC 9068).
    pub access_token: Secret,
    /// `Bearer`, or `DPoP` for a token bound to a DPoP key (RFC 9449 §5.1).
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// A refresh token, when the client may have one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refresh_token: Option<Secret>,
    /// The scope actually granted, space-delimited.
    pub scope: String,
    /// An OpenID Connect ID token, when `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id_token: Option<Secret>,
    /// Fields that a compatibility profile adds (for example `profile`, `userId`, `scopes`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The parameters of an introspection request (RFC 7662 §2.1).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IntrospectionRequest {
    /// The token to inspect.
    pub token: Option<Secret>,
    /// A hint: `access_token` or `refresh_token`.
    pub token_type_hint: Option<String>,
    /// `client_id` for `client_secret_post`.
    pub client_id: Option<String>,
    /// `client_secret` for `client_secret_post`.
    pub client_secret: Option<Secret>,
    /// `client_assertion_type` (`private_key_jwt`, RFC 7523 §2.2).
    #[serde(default)]
    pub client_assertion_type: Option<String>,
    /// `client_assertion`: the signed JWT (`private_key_jwt`).
    #[serde(default)]
    pub client_assertion: Option<Secret>,
}

/// An introspection response (RFC 7662 §2.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntrospectionResponse {
    /// Whether the token is active.
    pub active: bool,
    /// The scope of the token.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scope: Option<String>,
    /// The client the token was issued to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_id: Option<String>,
    /// `access_token` or `refresh_token`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub token_type: Option<String>,
    /// Expiry, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exp: Option<i64>,
    /// Issue time, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub iat: Option<i64>,
    /// The subject: the user, or the client for client credentials.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sub: Option<String>,
    /// The audience.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub aud: Option<String>,
    /// The issuer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub iss: Option<String>,
    /// The token's identifier.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub jti: Option<String>,
    /// The DPoP key the token is bound to (RFC 9449 §6.2).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cnf: Option<Confirmation>,
    /// The profile the grant is bound to, when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub profile: Option<String>,
}

/// A token's confirmation claim (RFC 7800 §3.1): the JWK SHA-256 thumbprint of its DPoP key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The thumbprint (RFC 7638), base64url.
    pub jkt: String,
}

/// The parameters of a revocation request (RFC 7009 §2.1).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RevocationRequest {
    /// The token to revoke.
    pub token: Option<Secret>,
    /// A hint: `access_token` or `refresh_token`.
    pub token_type_hint: Option<String>,
    /// `client_id` for public clients or `client_secret_post`.
    pub client_id: Option<String>,
    /// `client_secret` for `client_secret_post`.
    pub client_secret: Option<Secret>,
    /// `client_assertion_type` (`private_key_jwt`, RFC 7523 §2.2).
    #[serde(default)]
    pub client_assertion_type: Option<String>,
    /// `client_assertion`: the signed JWT (`private_key_jwt`).
    #[serde(default)]
    pub client_assertion: Option<Secret>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_with_repeated_parameter_is_refused() {
        let parsed: Result<TokenRequest, _> =
            serde_urlencoded::from_str("grant_type=a&grant_type=b");
        assert!(parsed.is_err());
    }

    #[test]
    fn extra_fields_flatten_into_the_response() {
        let mut extra = Map::new();
        extra.insert("userId".into(), Value::String("u1".into()));
        let body = TokenResponse {
            access_token: Secret::new("at"),
            token_type: "Bearer".into(),
            expires_in: 3600,
            refresh_token: None,
            scope: "a".into(),
            id_token: None,
            extra,
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["userId"], "u1");
        assert_eq!(json["access_token"], "at");
        assert!(json.get("refresh_token").is_none());
    }
}
