use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_proto::KeyId;
use portcullis_proto::jwks::{Jwk, JwkSet};

use super::{KekError, KeyEncryptionKey, KeyMaterialError, KeyPair, SigningAlg};
use crate::time::UnixTime;

/// A signing key as the database holds it: the private part wrapped under the
/// key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// The key id.
    pub kid: KeyId,
    /// The algorithm the key signs with.
    pub alg: SigningAlg,
    /// When the key was made.
    pub created_at: UnixTime,
    /// From when it may sign; it is published from `created_at`.
    pub activates_at: UnixTime,
    /// Fingerprint of the key-encryption key that wrapped it.
    pub kek_fingerprint: String,
    /// nonce ‖ AES-256-GCM(PKCS#8) ‖ tag.
    pub wrapped_private_key: Vec<u8>,
}

/// A key ready to sign: parsed once, with its JWS headers pre-encoded.
#[derive(Debug)]
pub struct LoadedKey {
    /// The key id.
    pub kid: KeyId,
    /// The algorithm.
    pub alg: SigningAlg,
    /// When the key was made.
    pub created_at: UnixTime,
    /// From when it signs.
    pub activates_at: UnixTime,
    pair: KeyPair,
    jwk: Jwk,
    header_access_token: String,
    header_jwt: String,
}

impl LoadedKey {
    /// Decrypts and parses a stored key.
    ///
    /// # Errors
    /// When the key-encryption key is wrong or the stored bytes are damaged.
    pub fn load(stored: &StoredKey, kek: &KeyEncryptionKey) -> Result<Self, KeyRingError> {
        let pkcs8 = kek.unwrap(
            stored.kid.as_str(),
            &stored.kek_fingerprint,
            &stored.wrapped_private_key,
        )?;
        let pair = KeyPair::from_pkcs8(stored.alg, &pkcs8)?;
        Ok(Self::new(stored, pair))
    }

    fn new(stored: &StoredKey, pair: KeyPair) -> Self {
        let header = |typ: &str| {
            let json = serde_json::json!({
                "alg": stored.alg.as_str(),
                "kid": stored.kid.as_str(),
                "typ": typ,
            });
            URL_SAFE_NO_PAD.encode(json.to_string())
        };
        Self {
            kid: stored.kid.clone(),
            alg: stored.alg,
            created_at: stored.created_at,
            activates_at: stored.activates_at,
            jwk: pair.public_jwk(stored.kid.as_str(), stored.alg),
            header_access_token: header("at+jwt"),
            header_jwt: header("JWT"),
            pair,
        }
    }

    /// The public key as a JWK.
    #[must_use]
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The base64url JWS header for `typ` (`at+jwt` for access tokens, `JWT` otherwise).
    pub(crate) fn encoded_header(&self, access_token: bool) -> &str {
        if access_token {
            &self.header_access_token
        } else {
            &self.header_jwt
        }
    }

    /// Whether `signature` over `message` was made by this key.
    #[must_use]
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.pair.verify(message, signature)
    }

    /// Signs `message` with this key.
    ///
    /// # Errors
    /// See [`KeyPair::sign`].
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyMaterialError> {
        self.pair.sign(self.alg, message)
    }

    fn order_key(&self) -> (UnixTime, UnixTime, &str) {
        (self.activates_at, self.created_at, self.kid.as_str())
    }
}

/// Loading the key ring failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// The key-encryption key does not open a stored key.
    #[error(transparent)]
    Kek(#[from] KekError),
    /// A stored key is not a valid key.
    #[error(transparent)]
    Material(#[from] KeyMaterialError),
}

/// The set of keys a node signs and publishes with, rebuilt from the database whenever keys
/// change so that every node follows a rotation without restart.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    /// Newest activation first.
    keys: Vec<Arc<LoadedKey>>,
    /// How long a superseded key stays published: the longest token lifetime.
    retire_after: i64,
}

impl KeyRing {
    /// Builds a ring from stored keys. Keys already parsed in `previous` are reused, so a
    /// periodic reload costs a decryption only for keys that are new.
    ///
    /// # Errors
    /// When a stored key cannot be decrypted or parsed: a node must not run with a key it
    /// cannot use.
    pub fn load(
        stored: &[StoredKey],
        kek: &KeyEncryptionKey,
        previous: Option<&Self>,
        retire_after: i64,
    ) -> Result<Self, KeyRingError> {
        let known: HashMap<&str, &Arc<LoadedKey>> = previous
            .map(|ring| ring.keys.iter().map(|k| (k.kid.as_str(), k)).collect())
            .unwrap_or_default();
        let mut keys = stored
            .iter()
            .map(|s| match known.get(s.kid.as_str()) {
                Some(existing) if existing.activates_at == s.activates_at => {
                    Ok(Arc::clone(existing))
                }
                _ => LoadedKey::load(s, kek).map(Arc::new),
            })
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort_by(|a, b| b.order_key().cmp(&a.order_key()));
        Ok(Self { keys, retire_after })
    }

    /// The key that signs with `alg` at `now`: the newest one already active.
    #[must_use]
    pub fn signer(&self, alg: SigningAlg, now: UnixTime) -> Option<&Arc<LoadedKey>> {
        self.keys
            .iter()
            .find(|k| k.alg == alg && k.activates_at <= now)
    }

    /// The key with this id, if the ring holds it.
    #[must_use]
    pub fn get(&self, kid: &str) -> Option<&Arc<LoadedKey>> {
        self.keys.iter().find(|k| k.kid.as_str() == kid)
    }

    /// When a newer key of the same algorithm takes over from `key`, if one does.
    fn superseded_at(&self, key: &LoadedKey) -> Option<UnixTime> {
        self.keys
            .iter()
            .filter(|k| k.alg == key.alg && k.order_key() > key.order_key())
            .map(|k| k.activates_at)
            .min()
    }

    /// Whether `key` may still have valid tokens out there (or will sign) at `now`.
    fn is_live(&self, key: &LoadedKey, now: UnixTime) -> bool {
        self.superseded_at(key)
            .is_none_or(|at| now < at.plus(self.retire_after))
    }

    /// The JWKS: every key that signs now, will sign, or signed tokens that may still be valid.
    #[must_use]
    pub fn published(&self, now: UnixTime) -> JwkSet {
        JwkSet {
            keys: self
                .keys
                .iter()
                .filter(|k| self.is_live(k, now))
                .map(|k| k.jwk.clone())
                .collect(),
        }
    }

    /// Whether a token signed by `kid` may verify at `now` (the key is known and live).
    #[must_use]
    pub fn verifies(&self, kid: &str, now: UnixTime) -> Option<&Arc<LoadedKey>> {
        self.get(kid).filter(|k| self.is_live(k, now))
    }

    /// Keys whose every token has expired: they can be deleted.
    #[must_use]
    pub fn retired(&self, now: UnixTime) -> Vec<KeyId> {
        self.keys
            .iter()
            .filter(|k| !self.is_live(k, now))
            .map(|k| k.kid.clone())
            .collect()
    }

    /// Every key in the ring, newest activation first.
    pub fn keys(&self) -> impl Iterator<Item = &Arc<LoadedKey>> {
        self.keys.iter()
    }

    /// The state of a key at `now`, for `keys list`.
    #[must_use]
    pub fn state(&self, key: &LoadedKey, now: UnixTime) -> KeyState {
        if key.activates_at > now {
            KeyState::Pending
        } else if self.signer(key.alg, now).is_some_and(|s| s.kid == key.kid) {
            KeyState::Active
        } else if self.is_live(key, now) {
            KeyState::Retiring
        } else {
            KeyState::Retired
        }
    }
}

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published, not signing yet.
    Pending,
    /// Signing.
    Active,
    /// Superseded; published until its tokens have expired.
    Retiring,
    /// No longer published.
    Retired,
}

impl KeyState {
    /// The state's name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Retiring => "retiring",
            Self::Retired => "retired",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;

    fn stored(kek: &KeyEncryptionKey, kid: &str, alg: SigningAlg, at: i64) -> StoredKey {
        let pkcs8 = KeyPair::generate_pkcs8(alg).unwrap();
        StoredKey {
            kid: KeyId::new(kid),
            alg,
            created_at: UnixTime(at),
            activates_at: UnixTime(at),
            kek_fingerprint: kek.fingerprint().to_owned(),
            wrapped_private_key: kek.wrap(&OsRandom, kid, &pkcs8).unwrap(),
        }
    }

    fn kek() -> KeyEncryptionKey {
        KeyEncryptionKey::from_base64(&KeyEncryptionKey::generate_base64(&OsRandom).unwrap())
            .unwrap()
    }

    #[test]
    fn rotation_publishes_first_signs_later_and_retires_after_the_longest_token() {
        let kek = kek();
        let old = stored(&kek, "old", SigningAlg::Es256, 0);
        let mut new = stored(&kek, "new", SigningAlg::Es256, 1000);
        new.activates_at = UnixTime(1600);
        let ring = KeyRing::load(&[old, new], &kek, None, 3600).unwrap();

        // Before activation: old signs, both are published.
        let signer = ring.signer(SigningAlg::Es256, UnixTime(1200)).unwrap();
        assert_eq!(signer.kid.as_str(), "old");
        assert_eq!(ring.published(UnixTime(1200)).keys.len(), 2);
        assert_eq!(ring.state(signer, UnixTime(1200)), KeyState::Active);

        // After activation: new signs, old still published until 1600 + 3600.
        assert_eq!(
            ring.signer(SigningAlg::Es256, UnixTime(1600))
                .unwrap()
                .kid
                .as_str(),
            "new"
        );
        assert_eq!(ring.published(UnixTime(5199)).keys.len(), 2);
        assert!(ring.verifies("old", UnixTime(5199)).is_some());

        // After the longest token lifetime: old is gone.
        let published = ring.published(UnixTime(5200));
        assert_eq!(published.keys.len(), 1);
        assert_eq!(published.keys[0].kid, "new");
        assert!(ring.verifies("old", UnixTime(5200)).is_none());
        assert_eq!(ring.retired(UnixTime(5200)), vec![KeyId::new("old")]);
    }

    #[test]
    fn algorithms_rotate_independently() {
        let kek = kek();
        let es = stored(&kek, "es", SigningAlg::Es256, 0);
        let rs = stored(&kek, "rs", SigningAlg::Rs256, 10);
        let ring = KeyRing::load(&[es, rs], &kek, None, 60).unwrap();
        assert_eq!(
            ring.signer(SigningAlg::Es256, UnixTime(1000))
                .unwrap()
                .kid
                .as_str(),
            "es"
        );
        assert_eq!(
            ring.signer(SigningAlg::Rs256, UnixTime(1000))
                .unwrap()
                .kid
                .as_str(),
            "rs"
        );
        assert!(ring.signer(SigningAlg::EdDsa, UnixTime(1000)).is_none());
        assert_eq!(ring.published(UnixTime(1_000_000)).keys.len(), 2);
    }

    #[test]
    fn reload_reuses_parsed_keys() {
        let kek = kek();
        let a = stored(&kek, "a", SigningAlg::Es256, 0);
        let first = KeyRing::load(std::slice::from_ref(&a), &kek, None, 60).unwrap();
        let second = KeyRing::load(&[a], &kek, Some(&first), 60).unwrap();
        assert!(Arc::ptr_eq(&first.keys[0], &second.keys[0]));
    }

    #[test]
    fn wrong_kek_fails_the_load() {
        let a = stored(&kek(), "a", SigningAlg::Es256, 0);
        assert!(matches!(
            KeyRing::load(&[a], &kek(), None, 60),
            Err(KeyRingError::Kek(KekError::WrongKek { .. }))
        ));
    }
}
