//! `private_key_jwt` client authentication (RFC 7523 §2.2, §3; OpenID Connect Core §9): the
//! client signs a short JWT with a key whose public half it registered, instead of sending a
//! secret.

use serde_json::Value;

use crate::client::Client;
use crate::jose::{CompactJws, PublicJwk};
use crate::store::{ReplayStore, StoreError};
use crate::time::UnixTime;

/// The `client_assertion_type` of a JWT assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest an assertion may live (its `exp` past now), seconds: it is one request's
/// credential, and its `jti` is remembered until it expires.
pub const MAX_LIFETIME: i64 = 600;
/// Clock skew tolerated on `exp`, `nbf` and `iat`, seconds (FAPI 2.0 §5.3.2.1 asks for 10).
pub const SKEW: i64 = 10;
/// The most keys a client may register.
pub const MAX_KEYS: usize = 10;

/// Why a client's key set is not accepted at registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("jwks: {0}")]
pub struct KeySetError(pub &'static str);

/// Checks a client's key set as registered: `{"keys": [...]}` with 1 to [`MAX_KEYS`] public
/// signing keys (EC P-256, RSA of 2048 bits or more, Ed25519), each with a distinct `kid` when
/// there are several. Private keys are refused.
///
/// # Errors
/// [`KeySetError`] naming the rule broken.
pub fn check_key_set(jwks: &Value) -> Result<(), KeySetError> {
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(KeySetError("must be a JWK Set: {\"keys\": [...]}"))?;
    if keys.is_empty() || keys.len() > MAX_KEYS {
        return Err(KeySetError("must hold 1 to 10 keys"));
    }
    let mut kids = std::collections::BTreeSet::new();
    for key in keys {
        PublicJwk::from_json(key).map_err(|e| match e {
            crate::jose::JwkError::Private => KeySetError("a key holds private key material"),
            _ => KeySetError(
                "every key must be a public EC P-256, RSA (2048 bits or more) or Ed25519 signing key",
            ),
        })?;
        if keys.len() > 1 {
            let kid = key
                .get("kid")
                .and_then(Value::as_str)
                .ok_or(KeySetError("with several keys, each needs a kid"))?;
            if !kids.insert(kid) {
                return Err(KeySetError("two keys have the same kid"));
            }
        }
    }
    Ok(())
}

/// Why an assertion was refused (each is `invalid_client`; the reason is logged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// Not a usable assertion, with why.
    #[error("{0}")]
    Invalid(&'static str),
    /// Its `jti` was used before.
    #[error("the client assertion was already used")]
    Replayed,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The `iss` (and `sub`) of `assertion`, unverified: which client it claims to be, to look the
/// client up.
#[must_use]
pub fn claimed_client(assertion: &str) -> Option<String> {
    let jws = CompactJws::parse(assertion).ok()?;
    jws.claims
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// What an assertion is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The values `aud` may hold: the issuer identifier and the URL of the endpoint called.
    pub audiences: &'a [&'a str],
    /// Now.
    pub now: UnixTime,
}

/// Verifies `assertion` for `client` (RFC 7523 §3): signed with one of its registered keys
/// (ES256, PS256, EdDSA), `iss` and `sub` its id, `aud` one of `expected.audiences`, `exp`
/// present and within [`MAX_LIFETIME`], `nbf` and `iat` not in the future, and a `jti` never
/// seen for this client while the assertion is valid, on any node.
///
/// # Errors
/// See [`AssertionError`].
pub async fn verify(
    client: &Client,
    assertion: &str,
    expected: &Expected<'_>,
    replay: &dyn ReplayStore,
) -> Result<(), AssertionError> {
    let keys = client
        .jwks
        .as_ref()
        .and_then(|set| set.get("keys"))
        .and_then(Value::as_array)
        .ok_or(AssertionError::Invalid("the client has registered no keys"))?;
    let jws = CompactJws::parse(assertion)
        .map_err(|_| AssertionError::Invalid("the assertion is not a JWS of an accepted alg"))?;
    let kid = jws.header_str("kid");
    let signed = keys
        .iter()
        .filter(|k| kid.is_none_or(|kid| k.get("kid").and_then(Value::as_str) == Some(kid)))
        .filter_map(|k| PublicJwk::from_json(k).ok())
        .any(|key| jws.verifies_with(&key));
    if !signed {
        return Err(AssertionError::Invalid(
            "the assertion is not signed by a registered key",
        ));
    }
    let claim = |name: &str| jws.claims.get(name);
    let text = |name: &str| claim(name).and_then(Value::as_str);
    let id = client.id.as_str();
    if text("iss") != Some(id) || text("sub") != Some(id) {
        return Err(AssertionError::Invalid(
            "the assertion's iss and sub must be the client id",
        ));
    }
    let audience_ok = match claim("aud") {
        Some(Value::String(aud)) => expected.audiences.contains(&aud.as_str()),
        Some(Value::Array(auds)) => auds
            .iter()
            .filter_map(Value::as_str)
            .any(|aud| expected.audiences.contains(&aud)),
        _ => false,
    };
    if !audience_ok {
        return Err(AssertionError::Invalid(
            "the assertion's aud is neither the issuer nor this endpoint",
        ));
    }
    let now = expected.now.0;
    let exp = claim("exp")
        .and_then(Value::as_i64)
        .ok_or(AssertionError::Invalid("the assertion has no numeric exp"))?;
    if exp <= now.saturating_sub(SKEW) {
        return Err(AssertionError::Invalid("the assertion has expired"));
    }
    if exp > now.saturating_add(MAX_LIFETIME) {
        return Err(AssertionError::Invalid(
            "the assertion lives too long (exp more than 10 minutes ahead)",
        ));
    }
    for name in ["nbf", "iat"] {
        if claim(name)
            .and_then(Value::as_i64)
            .is_some_and(|t| t > now.saturating_add(SKEW))
        {
            return Err(AssertionError::Invalid(
                "the assertion's nbf or iat is in the future",
            ));
        }
    }
    let jti = text("jti")
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or(AssertionError::Invalid("the assertion has no valid jti"))?;
    let once = format!("assertion:{id}:{jti}");
    if !replay
        .spend_once(&once, expected.now, UnixTime(exp.saturating_add(SKEW)))
        .await?
    {
        return Err(AssertionError::Replayed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::jose::tests::TestKey;
    use serde_json::json;

    #[test]
    fn registered_key_sets_hold_one_to_ten_distinct_public_signing_keys() {
        let with_kid = |key: &TestKey, kid: &str| {
            let mut jwk = key.jwk();
            jwk["kid"] = json!(kid);
            jwk
        };
        let (ec, ed, rsa) = (TestKey::ec(), TestKey::ed(), TestKey::rsa());
        check_key_set(&json!({"keys": [ec.jwk()]})).unwrap();
        check_key_set(
            &json!({"keys": [with_kid(&ec, "a"), with_kid(&ed, "b"), with_kid(&rsa, "c")]}),
        )
        .unwrap();
        let mut private = ec.jwk();
        private["d"] = json!("AAAA");
        let refused = [
            (json!([ec.jwk()]), "JWK Set"),
            (json!({"keys": []}), "1 to 10"),
            (json!({"keys": vec![with_kid(&ec, "a"); 11]}), "1 to 10"),
            (json!({"keys": [private]}), "private"),
            // A symmetric key is secret material too.
            (json!({"keys": [{"kty": "oct", "k": "AAAA"}]}), "private"),
            (
                json!({"keys": [{"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}]}),
                "public",
            ),
            (json!({"keys": [ec.jwk(), ed.jwk()]}), "kid"),
            (
                json!({"keys": [with_kid(&ec, "a"), with_kid(&ed, "a")]}),
                "same kid",
            ),
        ];
        for (set, word) in refused {
            let KeySetError(why) = check_key_set(&set).unwrap_err();
            assert!(why.contains(word), "{word}: {why}");
        }
    }
}
