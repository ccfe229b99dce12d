use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::hash::sha256;
use crate::random::{RandomError, SecretGenerator};
use crate::seal::Sealer;

/// Why a key-encryption key or a wrapped key was refused.
#[derive(Debug, thiserror::Error)]
pub enum KekError {
    /// The configured key is not 32 bytes of base64.
    #[error("the key-encryption key must be 32 bytes, base64-encoded (got {0} bytes)")]
    BadLength(usize),
    /// The configured key is not base64.
    #[error("the key-encryption key is not valid base64")]
    NotBase64,
    /// The wrapped key was encrypted under another key-encryption key.
    #[error(
        "signing key {kid} was encrypted under key-encryption key {stored}, \
         but the configured key-encryption key is {configured}"
    )]
    WrongKek {
        /// The key.
        kid: String,
        /// The fingerprint stored with the key.
        stored: String,
        /// The fingerprint of the configured key.
        configured: String,
    },
    /// Decryption failed: the ciphertext was altered.
    #[error("signing key {0} could not be decrypted: its ciphertext is damaged")]
    Damaged(String),
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// The AES-256-GCM key under which signing keys are stored (private parts never touch the
/// database in clear).
pub struct KeyEncryptionKey {
    key: LessSafeKey,
    fingerprint: String,
    /// The root of the cluster's [`Sealer`], derived one way from the key.
    seal_root: [u8; 32],
}

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyEncryptionKey")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl KeyEncryptionKey {
    /// Builds the key from 32 raw bytes.
    ///
    /// # Errors
    /// [`KekError::BadLength`] when `bytes` is not 32 long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KekError> {
        if bytes.len() != 32 {
            return Err(KekError::BadLength(bytes.len()));
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| KekError::BadLength(32))?;
        let digest = sha256(&[b"portcullis-kek:".as_slice(), bytes].concat());
        let fingerprint = URL_SAFE_NO_PAD.encode(&digest[..9]);
        let seal_root = sha256(&[b"portcullis-seal-root:".as_slice(), bytes].concat());
        Ok(Self {
            key: LessSafeKey::new(key),
            fingerprint,
            seal_root,
        })
    }

    /// Parses base64 (standard or URL-safe, padding optional) text holding 32 bytes.
    ///
    /// # Errors
    /// [`KekError::NotBase64`] or [`KekError::BadLength`].
    pub fn from_base64(text: &str) -> Result<Self, KekError> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
            .map_err(|_| KekError::NotBase64)?;
        Self::from_bytes(&bytes)
    }

    /// A fresh random key, base64 (standard alphabet), for the sandbox and `keys generate-kek`.
    ///
    /// # Errors
    /// When randomness fails.
    pub fn generate_base64(generator: &dyn SecretGenerator) -> Result<String, RandomError> {
        let mut bytes = [0u8; 32];
        generator.fill(&mut bytes)?;
        Ok(STANDARD.encode(bytes))
    }

    /// A short public fingerprint, stored beside each wrapped key so that a wrong
    /// key-encryption key is reported as such instead of as damage.
    #[must_use]
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The cluster's sealer for browser-held state (every node with this key opens what any
    /// other sealed).
    #[must_use]
    pub fn sealer(&self) -> Sealer {
        Sealer::from_root(&self.seal_root)
    }

    /// Encrypts `plaintext`, binding it to `kid` as associated data. Output: nonce ‖ ciphertext ‖ tag.
    ///
    /// # Errors
    /// When randomness fails.
    pub fn wrap(
        &self,
        generator: &dyn SecretGenerator,
        kid: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, KekError> {
        let mut nonce = [0u8; NONCE_LEN];
        generator.fill(&mut nonce)?;
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| KekError::Damaged(kid.to_owned()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    /// Decrypts what [`KeyEncryptionKey::wrap`] produced for the same `kid`.
    ///
    /// # Errors
    /// [`KekError::WrongKek`] when `stored_fingerprint` names another key,
    /// [`KekError::Damaged`] when authentication fails.
    pub fn unwrap(
        &self,
        kid: &str,
        stored_fingerprint: &str,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, KekError> {
        if stored_fingerprint != self.fingerprint {
            return Err(KekError::WrongKek {
                kid: kid.to_owned(),
                stored: stored_fingerprint.to_owned(),
                configured: self.fingerprint.clone(),
            });
        }
        let damaged = || KekError::Damaged(kid.to_owned());
        if wrapped.len() < NONCE_LEN {
            return Err(damaged());
        }
        let (nonce, ciphertext) = wrapped.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| damaged())?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut in_out)
            .map_err(|_| damaged())?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;

    fn kek() -> KeyEncryptionKey {
        KeyEncryptionKey::from_base64(&KeyEncryptionKey::generate_base64(&OsRandom).unwrap())
            .unwrap()
    }

    #[test]
    fn wrap_and_unwrap_round_trip() {
        let kek = kek();
        let wrapped = kek.wrap(&OsRandom, "k1", b"private").unwrap();
        assert!(!wrapped.windows(7).any(|w| w == b"private"));
        assert_eq!(
            kek.unwrap("k1", kek.fingerprint(), &wrapped).unwrap(),
            b"private"
        );
    }

    #[test]
    fn ciphertext_is_bound_to_its_kid() {
        let kek = kek();
        let wrapped = kek.wrap(&OsRandom, "k1", b"private").unwrap();
        assert!(matches!(
            kek.unwrap("k2", kek.fingerprint(), &wrapped),
            Err(KekError::Damaged(_))
        ));
    }

    #[test]
    fn another_kek_is_reported_as_such() {
        let (a, b) = (kek(), kek());
        let wrapped = a.wrap(&OsRandom, "k1", b"private").unwrap();
        assert!(matches!(
            b.unwrap("k1", a.fingerprint(), &wrapped),
            Err(KekError::WrongKek { .. })
        ));
    }

    #[test]
    fn refuses_short_keys() {
        assert!(matches!(
            KeyEncryptionKey::from_base64("AAAA"),
            Err(KekError::BadLength(3))
        ));
        assert!(matches!(
            KeyEncryptionKey::from_base64("not base64!"),
            Err(KekError::NotBase64)
        ));
    }
}
