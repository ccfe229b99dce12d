//! DPoP proofs (RFC 9449): the checks of §4.3 on one proof, and the server nonces of §8 and §9.
//!
//! What a proof proves is checked here, in one function; remembering its `jti` is the caller's,
//! through a single-use row consumed by a conditional insert (so a replay is refused on every
//! node), until [`Proof::replay_until`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use subtle::ConstantTimeEq as _;

use crate::jose::{CompactJws, JwsError, PublicJwk, sha256_b64};
use crate::oauth::Context;
use crate::seal::Sealer;
use crate::time::UnixTime;

/// The `typ` of a DPoP proof (RFC 9449 §4.2).
pub const PROOF_TYP: &str = "dpop+jwt";
/// How far in the past a proof's `iat` may be, in seconds.
pub const MAX_AGE: i64 = 60;
/// How far in the future a proof's `iat` may be (clock skew), in seconds.
pub const MAX_SKEW: i64 = 5;
/// The longest `jti` accepted; it is stored until the proof could no longer be accepted.
pub const MAX_JTI_LEN: usize = 128;
/// How long a server nonce is issued before the next one (it is accepted for two periods).
pub const NONCE_PERIOD: i64 = 300;

/// The request a proof must fit.
#[derive(Debug, Clone, Copy)]
pub struct ProofContext<'a> {
    /// The HTTP method of the request.
    pub method: &'a str,
    /// The request's URI as this server is reached (scheme, authority, path), from the
    /// issuer's base and the path: never the `Host` header alone.
    pub uri: &'a str,
    /// The access token presented with the proof, at a resource (its `ath` must match).
    pub access_token: Option<&'a str>,
    /// The server nonces, when this endpoint requires one.
    pub nonces: Option<&'a DpopNonces<'a>>,
    /// Now.
    pub now: UnixTime,
}

/// A proof that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The JWK thumbprint of the proof's key (the `jkt` the token is bound to).
    pub jkt: String,
    /// The proof's `jti`, to be consumed once.
    pub jti: String,
    /// Until when the `jti` must be remembered: after that the `iat` check refuses the proof.
    pub replay_until: UnixTime,
}

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    /// The proof is not valid: `invalid_dpop_proof` (RFC 9449 §5, §7.1) with this description.
    #[error("{0}")]
    Invalid(&'static str),
    /// A nonce is required, or the one given is stale: `use_dpop_nonce`, with this fresh nonce
    /// in the `DPoP-Nonce` header (§8, §9).
    #[error("the authorization server requires a fresh DPoP nonce")]
    UseNonce(String),
}

impl DpopError {
    /// The OAuth error code.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_dpop_proof",
            Self::UseNonce(_) => "use_dpop_nonce",
        }
    }
}

/// `uri` without query and fragment, its scheme and host lower-cased and a default port dropped
/// (RFC 9449 §4.3 step 9, with RFC 3986 §6.2.2 and §6.2.3); `None` when it is not an absolute
/// http(s) URI.
#[must_use]
pub fn normalise_htu(uri: &str) -> Option<String> {
    let mut url = url::Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    // `url` lower-cases scheme and host, drops default ports, and normalises the path's dot
    // segments and percent-encoding of unreserved characters as it parses.
    Some(url.to_string())
}

fn claim<'a>(jws: &'a CompactJws<'_>, name: &str) -> Option<&'a Value> {
    jws.claims.get(name)
}

fn claim_str<'a>(jws: &'a CompactJws<'_>, name: &str) -> Option<&'a str> {
    claim(jws, name).and_then(Value::as_str)
}

/// Checks one DPoP proof against the request (RFC 9449 §4.3). The caller has made sure the
/// request carried exactly one `DPoP` header, and consumes [`Proof::jti`] once afterwards.
///
/// # Errors
/// See [`DpopError`].
pub fn check(proof: &str, context: &ProofContext<'_>) -> Result<Proof, DpopError> {
    let jws = CompactJws::parse(proof).map_err(|e| match e {
        JwsError::Malformed => DpopError::Invalid("the DPoP proof is not a well-formed JWT"),
        JwsError::Algorithm => DpopError::Invalid(
            "the DPoP proof's alg is not an accepted asymmetric algorithm (ES256, PS256, EdDSA, Ed25519)",
        ),
    })?;
    if jws.header_str("typ") != Some(PROOF_TYP) {
        return Err(DpopError::Invalid("the DPoP proof's typ is not dpop+jwt"));
    }
    let jwk = jws
        .header
        .get("jwk")
        .ok_or(DpopError::Invalid("the DPoP proof has no jwk header"))?;
    let key = PublicJwk::from_json(jwk).map_err(|e| match e {
        crate::jose::JwkError::Private => {
            DpopError::Invalid("the DPoP proof's jwk contains a private key")
        }
        _ => DpopError::Invalid("the DPoP proof's jwk is not an accepted public key"),
    })?;
    if !jws.verifies_with(&key) {
        return Err(DpopError::Invalid(
            "the DPoP proof's signature does not verify",
        ));
    }
    let jti = claim_str(&jws, "jti")
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN)
        .ok_or(DpopError::Invalid("the DPoP proof has no valid jti"))?;
    let htm = claim_str(&jws, "htm").ok_or(DpopError::Invalid("the DPoP proof has no htm"))?;
    if htm != context.method {
        return Err(DpopError::Invalid(
            "the DPoP proof's htm is not this request's method",
        ));
    }
    let htu = claim_str(&jws, "htu").ok_or(DpopError::Invalid("the DPoP proof has no htu"))?;
    if normalise_htu(htu).is_none_or(|htu| Some(htu) != normalise_htu(context.uri)) {
        return Err(DpopError::Invalid(
            "the DPoP proof's htu is not this request's URI",
        ));
    }
    let iat = claim(&jws, "iat")
        .and_then(Value::as_i64)
        .ok_or(DpopError::Invalid("the DPoP proof has no numeric iat"))?;
    let now = context.now.0;
    if iat > now.saturating_add(MAX_SKEW) || iat < now.saturating_sub(MAX_AGE) {
        return Err(DpopError::Invalid(
            "the DPoP proof's iat is too far from the server's time",
        ));
    }
    if let Some(token) = context.access_token {
        let ath = claim_str(&jws, "ath").ok_or(DpopError::Invalid(
            "the DPoP proof has no ath for the access token",
        ))?;
        if !bool::from(ath.as_bytes().ct_eq(sha256_b64(token).as_bytes())) {
            return Err(DpopError::Invalid(
                "the DPoP proof's ath does not match the access token",
            ));
        }
    }
    if let Some(nonces) = context.nonces {
        let fresh = claim_str(&jws, "nonce").is_some_and(|n| nonces.accepts(n, context.now));
        if !fresh {
            return Err(DpopError::UseNonce(nonces.current(context.now)));
        }
    }
    Ok(Proof {
        jkt: key.thumbprint(),
        jti: jti.to_owned(),
        // Past this, `iat` is older than MAX_AGE and the proof is refused anyway.
        replay_until: UnixTime(iat.saturating_add(MAX_AGE + 1)),
    })
}

/// The `DPoP` headers of one request, as the HTTP layer found them.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    /// Every `DPoP` header value the request carried.
    pub proofs: &'a [String],
    /// The request's method.
    pub method: &'a str,
    /// The request's URI as this server is reached (see [`ProofContext::uri`]).
    pub uri: &'a str,
    /// The access token sent with the proof, at a resource.
    pub access_token: Option<&'a str>,
    /// Whether this endpoint requires a server nonce in the proof.
    pub nonce_required: bool,
}

/// The proof of a request, if it carried one: at most one `DPoP` header (RFC 9449 §4.3 step 1),
/// every check of [`check`], and its `jti` not seen before for that key on any node (§11.1).
///
/// # Errors
/// [`DpopError`] for a refused proof, or a storage failure while spending its `jti`.
pub async fn accept<E>(ctx: &Context<'_>, presented: &Presented<'_>) -> Result<Option<Proof>, E>
where
    E: From<DpopError> + From<crate::store::StoreError>,
{
    let proof = match presented.proofs {
        [] => return Ok(None),
        [one] => one,
        _ => {
            return Err(DpopError::Invalid("send exactly one DPoP header").into());
        }
    };
    let nonces = DpopNonces::new(ctx.sealer);
    let context = ProofContext {
        method: presented.method,
        uri: presented.uri,
        access_token: presented.access_token,
        nonces: presented.nonce_required.then_some(&nonces),
        now: ctx.clock.now(),
    };
    let proof = check(proof, &context)?;
    let once = format!("dpop:{}:{}", proof.jkt, proof.jti);
    if !ctx
        .store
        .spend_once(&once, context.now, proof.replay_until)
        .await?
    {
        return Err(DpopError::Invalid("the DPoP proof's jti was already used").into());
    }
    Ok(Some(proof))
}

/// [`accept`] at the authorization server's token and pushed authorization request endpoints,
/// where a fresh server nonce is required (§8): a proof made in advance is refused. Resources
/// do not ask for one ([`crate::oauth::access::check_presented`]): `iat`, `jti` and `ath`
/// already tie their proofs to the moment and the token (docs/fapi.md).
///
/// # Errors
/// As [`accept`].
pub async fn accept_at_server<E>(
    ctx: &Context<'_>,
    proofs: &[String],
    method: &str,
    uri: &str,
) -> Result<Option<Proof>, E>
where
    E: From<DpopError> + From<crate::store::StoreError>,
{
    let presented = Presented {
        proofs,
        method,
        uri,
        access_token: None,
        nonce_required: true,
    };
    accept(ctx, &presented).await
}

/// The nonce to send in the `DPoP-Nonce` header now.
#[must_use]
pub fn current_nonce(ctx: &Context<'_>) -> String {
    DpopNonces::new(ctx.sealer).current(ctx.clock.now())
}

/// Whether `jkt` is a plausible JWK SHA-256 thumbprint (43 base64url characters), as the
/// `dpop_jkt` authorization request parameter must be (RFC 9449 §10).
#[must_use]
pub fn is_thumbprint(jkt: &str) -> bool {
    jkt.len() == 43
        && URL_SAFE_NO_PAD
            .decode(jkt)
            .is_ok_and(|bytes| bytes.len() == 32)
}

/// Server nonces every node derives from the cluster's key and the time, so no node need ask
/// another: the nonce of period `n` is the key's tag over `n`. One is issued per
/// [`NONCE_PERIOD`]; the current and the previous one are accepted.
#[derive(Debug, Clone, Copy)]
pub struct DpopNonces<'a> {
    sealer: &'a Sealer,
}

/// The signature purpose of DPoP nonces.
const NONCE_PURPOSE: &str = "portcullis dpop nonce v1";

impl<'a> DpopNonces<'a> {
    /// Nonces keyed by `sealer` (the cluster's shared key).
    #[must_use]
    pub fn new(sealer: &'a Sealer) -> Self {
        Self { sealer }
    }

    fn period(now: UnixTime) -> i64 {
        now.0.div_euclid(NONCE_PERIOD)
    }

    /// The nonce to hand out now.
    #[must_use]
    pub fn current(&self, now: UnixTime) -> String {
        self.sealer
            .sign(NONCE_PURPOSE, &Self::period(now).to_string())
    }

    /// Whether `nonce` is the current or the previous period's.
    #[must_use]
    pub fn accepts(&self, nonce: &str, now: UnixTime) -> bool {
        let Some(period) = self
            .sealer
            .verify(NONCE_PURPOSE, nonce)
            .and_then(|p| p.parse::<i64>().ok())
        else {
            return false;
        };
        let current = Self::period(now);
        period == current || period == current - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::tests::TestKey;
    use serde_json::json;

    const URI: &str = "https://as.example/oauth/token";
    const NOW: UnixTime = UnixTime(1_700_000_000);

    fn context() -> ProofContext<'static> {
        ProofContext {
            method: "POST",
            uri: URI,
            access_token: None,
            nonces: None,
            now: NOW,
        }
    }

    fn claims() -> Value {
        json!({"jti": "j-1", "htm": "POST", "htu": URI, "iat": NOW.0})
    }

    fn proof(key: &TestKey, header: Value, claims: &Value) -> String {
        let mut full = json!({"typ": "dpop+jwt", "alg": key.alg(), "jwk": key.jwk()});
        let Value::Object(header) = header else {
            panic!("a header is an object")
        };
        for (k, v) in header {
            full[k] = v;
        }
        key.jws(&full, claims)
    }

    fn with(changes: Value) -> Value {
        let mut claims = claims();
        let Value::Object(changes) = changes else {
            panic!("changes are an object")
        };
        for (k, v) in changes {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(&k);
            } else {
                claims[k] = v;
            }
        }
        claims
    }

    fn refused(token: &str, context: &ProofContext<'_>) -> &'static str {
        match check(token, context) {
            Err(DpopError::Invalid(why)) => why,
            other => panic!("expected invalid_dpop_proof, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_proof_yields_the_keys_thumbprint_and_its_jti_for_every_algorithm() {
        for key in [TestKey::ec(), TestKey::ed(), TestKey::rsa()] {
            let token = proof(&key, json!({}), &claims());
            let proof = check(&token, &context()).unwrap();
            let jwk = PublicJwk::from_json(&key.jwk()).unwrap();
            assert_eq!(proof.jkt, jwk.thumbprint());
            assert!(is_thumbprint(&proof.jkt));
            assert_eq!(proof.jti, "j-1");
            assert_eq!(proof.replay_until, NOW.plus(MAX_AGE + 1));
        }
    }

    #[test]
    fn ed25519_is_accepted_under_its_fully_specified_name_for_ed25519_keys_only() {
        let ed = TestKey::ed();
        let token = proof(&ed, json!({"alg": "Ed25519"}), &claims());
        check(&token, &context()).unwrap();
        let ec = TestKey::ec();
        let token = proof(&ec, json!({"alg": "Ed25519"}), &claims());
        assert!(refused(&token, &context()).contains("signature"));
    }

    #[test]
    fn every_rule_of_section_4_3_refuses_on_its_own() {
        let key = TestKey::ec();
        let ok = |header: Value, claims: Value| proof(&key, header, &claims);
        let cases: Vec<(String, &str)> = vec![
            (ok(json!({"typ": "JWT"}), claims()), "typ"),
            (ok(json!({"typ": null}), claims()), "typ"),
            (ok(json!({"jwk": null}), claims()), "jwk"),
            (
                ok(json!({"jwk": TestKey::ec().jwk()}), claims()),
                "signature",
            ),
            (ok(json!({}), with(json!({"jti": null}))), "jti"),
            (ok(json!({}), with(json!({"jti": ""}))), "jti"),
            (
                ok(json!({}), with(json!({"jti": "x".repeat(MAX_JTI_LEN + 1)}))),
                "jti",
            ),
            (ok(json!({}), with(json!({"htm": "GET"}))), "htm"),
            (ok(json!({}), with(json!({"htm": "post"}))), "htm"),
            (ok(json!({}), with(json!({"htm": null}))), "htm"),
            (
                ok(
                    json!({}),
                    with(json!({"htu": "https://as.example/oauth/par"})),
                ),
                "htu",
            ),
            (
                ok(
                    json!({}),
                    with(json!({"htu": "https://other.example/oauth/token"})),
                ),
                "htu",
            ),
            (ok(json!({}), with(json!({"htu": "/oauth/token"}))), "htu"),
            (ok(json!({}), with(json!({"htu": null}))), "htu"),
            (
                ok(json!({}), with(json!({"iat": NOW.0 - MAX_AGE - 1}))),
                "iat",
            ),
            (
                ok(json!({}), with(json!({"iat": NOW.0 + MAX_SKEW + 1}))),
                "iat",
            ),
            (ok(json!({}), with(json!({"iat": "1700000000"}))), "iat"),
        ];
        for (token, word) in cases {
            let why = refused(&token, &context());
            assert!(why.contains(word), "{word}: {why}");
        }
        // The edges of the window are accepted.
        for iat in [NOW.0 - MAX_AGE, NOW.0 + MAX_SKEW] {
            check(&ok(json!({}), with(json!({"iat": iat}))), &context()).unwrap();
        }
        // A private key in the header is named as such.
        let mut private = key.jwk();
        private["d"] = json!("AAAA");
        let why = refused(&ok(json!({"jwk": private}), claims()), &context());
        assert!(why.contains("private"), "{why}");
        // A symmetric algorithm never reaches a key.
        let why = refused(&ok(json!({"alg": "HS256"}), claims()), &context());
        assert!(why.contains("alg"), "{why}");
    }

    #[test]
    fn htu_is_compared_without_query_and_fragment_after_normalisation() {
        let key = TestKey::ed();
        for htu in [
            "https://AS.example/oauth/token",
            "HTTPS://as.example:443/oauth/token",
            "https://as.example/oauth/token?x=1",
            "https://as.example/oauth/token#f",
            "https://as.example/oauth/./token",
        ] {
            let token = proof(&key, json!({}), &with(json!({ "htu": htu })));
            check(&token, &context()).unwrap_or_else(|e| panic!("{htu}: {e}"));
        }
        for htu in [
            "http://as.example/oauth/token",
            "https://as.example:8443/oauth/token",
            "https://as.example/oauth/token/",
            "ftp://as.example/oauth/token",
        ] {
            let token = proof(&key, json!({}), &with(json!({ "htu": htu })));
            assert!(refused(&token, &context()).contains("htu"), "{htu}");
        }
    }

    #[test]
    fn at_a_resource_ath_must_be_the_access_tokens_hash() {
        let key = TestKey::ec();
        let token = "an-access-token";
        let context = ProofContext {
            method: "GET",
            uri: "https://as.example/api/v1/wallet/me",
            access_token: Some(token),
            ..context()
        };
        let base = json!({"htm": "GET", "htu": "https://as.example/api/v1/wallet/me"});
        let mut good = with(base.clone());
        good["ath"] = json!(sha256_b64(token));
        check(&proof(&key, json!({}), &good), &context).unwrap();
        let mut other = with(base.clone());
        other["ath"] = json!(sha256_b64("another-token"));
        assert!(refused(&proof(&key, json!({}), &other), &context).contains("ath"));
        assert!(refused(&proof(&key, json!({}), &with(base)), &context).contains("ath"));
    }

    #[test]
    fn nonces_rotate_each_period_and_the_previous_one_stays_good() {
        let sealer = Sealer::from_root(&[7; 32]);
        let nonces = DpopNonces::new(&sealer);
        let key = TestKey::ec();
        let context = ProofContext {
            nonces: Some(&nonces),
            ..context()
        };
        // Without a nonce: use_dpop_nonce, carrying the current one.
        let Err(DpopError::UseNonce(nonce)) = check(&proof(&key, json!({}), &claims()), &context)
        else {
            panic!("a nonce must be asked for");
        };
        assert_eq!(nonce, nonces.current(NOW));
        let mut claims_with_nonce = claims();
        claims_with_nonce["nonce"] = json!(nonce);
        check(
            &proof(&key, json!({}), &claims_with_nonce.clone()),
            &context,
        )
        .unwrap();

        // One period later it is still accepted, two periods later it is not.
        let later = NOW.plus(NONCE_PERIOD);
        assert!(nonces.accepts(&nonce, later));
        assert_ne!(nonces.current(later), nonce);
        assert!(!nonces.accepts(&nonce, later.plus(NONCE_PERIOD)));
        // Another cluster's nonce, or a made-up one, is not.
        let other_sealer = Sealer::from_root(&[8; 32]);
        let other = DpopNonces::new(&other_sealer);
        assert!(!other.accepts(&nonce, NOW));
        assert!(!nonces.accepts("12345", NOW));
        let mut forged = claims();
        forged["nonce"] = json!(format!("{}.AAAA", DpopNonces::period(NOW)));
        assert!(matches!(
            check(&proof(&key, json!({}), &forged), &context),
            Err(DpopError::UseNonce(_))
        ));
        assert_eq!(DpopError::UseNonce(String::new()).code(), "use_dpop_nonce");
        assert_eq!(DpopError::Invalid("x").code(), "invalid_dpop_proof");
    }

    #[test]
    fn thumbprints_are_checked_for_shape() {
        assert!(is_thumbprint("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"));
        assert!(!is_thumbprint("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9X"));
        assert!(!is_thumbprint(
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9X+"
        ));
        assert!(!is_thumbprint(""));
    }
}
