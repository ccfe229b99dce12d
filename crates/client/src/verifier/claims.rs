//! The claims of a Portcullis access token (RFC 9068 §2.2).

use portcullis_proto::ScopeSet;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The claims of a verified access token.
///
/// Portcullis issues `iss sub aud client_id scope exp iat jti`, plus `gid` (the grant),
/// `auth_time` and `profile` on tokens a user authorized. Claims this type does not name are
/// in [`AccessTokenClaims::extra`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AccessTokenClaims {
    /// The issuer.
    pub iss: String,
    /// The subject: the user, or the client itself for client credentials.
    pub sub: String,
    /// The audiences (a JSON string or array on the wire).
    #[serde(deserialize_with = "string_or_array")]
    pub aud: Vec<String>,
    /// The client the token was issued to.
    pub client_id: String,
    /// The granted scope.
    #[serde(default)]
    pub scope: ScopeSet,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    #[serde(default)]
    pub iat: Option<i64>,
    /// Not before, seconds since the epoch.
    #[serde(default)]
    pub nbf: Option<i64>,
    /// The token's unique id.
    #[serde(default)]
    pub jti: Option<String>,
    /// When the user authenticated.
    #[serde(default)]
    pub auth_time: Option<i64>,
    /// The profile the token acts for, when the grant is bound to one.
    #[serde(default)]
    pub profile: Option<String>,
    /// The grant (user tokens only).
    #[serde(default)]
    pub gid: Option<String>,
    /// The DPoP key the token is bound to (RFC 9449 §6.1), as `{"jkt": thumbprint}`.
    #[serde(default)]
    pub cnf: Option<Confirmation>,
    /// Every other claim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A token's confirmation claim (RFC 7800): the thumbprint of its DPoP key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Confirmation {
    /// The JWK SHA-256 thumbprint (RFC 7638).
    pub jkt: String,
}

impl AccessTokenClaims {
    /// The thumbprint of the DPoP key the token is bound to, if it is.
    #[must_use]
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.cnf.as_ref().map(|c| c.jkt.as_str())
    }

    /// Whether the token carries `scope`.
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.contains(scope)
    }

    /// The scopes of `required` the token lacks.
    #[must_use]
    pub fn missing_scopes<'a>(&self, required: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        required
            .into_iter()
            .filter(|s| !self.scope.contains(s))
            .map(str::to_owned)
            .collect()
    }

    /// Whether the token is a client's own (client credentials) rather than a user's: it
    /// belongs to no grant and its subject is the client.
    #[must_use]
    pub fn is_client_token(&self) -> bool {
        self.gid.is_none() && self.sub == self.client_id
    }
}

fn string_or_array<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Aud {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Aud::deserialize(deserializer)? {
        Aud::One(a) => vec![a],
        Aud::Many(a) => a,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audience_is_a_string_or_an_array() {
        let one: AccessTokenClaims = serde_json::from_value(serde_json::json!({
            "iss": "i", "sub": "s", "aud": "a", "client_id": "c", "scope": "x y", "exp": 1
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(one.aud, vec!["a"]);
        assert!(one.has_scope("y"));
        assert_eq!(one.missing_scopes(["x", "z"]), vec!["z"]);
        let many: AccessTokenClaims = serde_json::from_value(serde_json::json!({
            "iss": "i", "sub": "s", "aud": ["a", "b"], "client_id": "c", "exp": 1, "gid": "g"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(many.aud, vec!["a", "b"]);
        assert!(!many.is_client_token());
    }
}
