//! Values the server hands to a browser and must get back unaltered: signed (HMAC-SHA256) or
//! sealed (AES-256-GCM, so also unreadable). Each use names a *purpose*, bound into the tag or
//! the associated data, so a value made for one purpose (a device cookie, say) is refused for
//! another (a pending request). The key is derived from the key-encryption key, which every node
//! of a cluster holds: any node can open what another sealed, and no node asks another.
//!
//! Keeping pre-login state here instead of in the database means an anonymous request writes no
//! row (see `docs/security.md`, "Anonymous requests write nothing").

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::random::{RandomError, SecretGenerator};

/// Signs and seals values for one cluster (see the module documentation).
pub struct Sealer {
    mac: hmac::Key,
    aead: LessSafeKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

/// Derives a 32-byte subkey of `root` for `label` (HMAC-SHA256 as a PRF, as HKDF-Expand does
/// for one block), so that the signing and the encryption key are independent of each other
/// and of the key-encryption key's own use.
fn subkey(root: &hmac::Key, label: &str) -> [u8; 32] {
    let tag = hmac::sign(root, label.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(&tag.as_ref()[..32]);
    out
}

impl Sealer {
    /// The sealer derived from a cluster's 32-byte root secret (the key-encryption key).
    #[must_use]
    pub fn from_root(root: &[u8; 32]) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, root);
        let mac = hmac::Key::new(hmac::HMAC_SHA256, &subkey(&root, "portcullis seal: mac v1"));
        let aead_key = subkey(&root, "portcullis seal: aead v1");
        // 32 bytes is always a valid AES-256 key.
        let aead = UnboundKey::new(&AES_256_GCM, &aead_key)
            .map(LessSafeKey::new)
            .unwrap_or_else(|_| unreachable_key());
        Self { mac, aead }
    }

    /// A sealer with a random root: for a single process whose values need not survive it
    /// (tests, tools).
    ///
    /// # Errors
    /// When randomness fails.
    pub fn random(random: &dyn SecretGenerator) -> Result<Self, RandomError> {
        let mut root = [0u8; 32];
        random.fill(&mut root)?;
        Ok(Self::from_root(&root))
    }

    /// What the tag covers: the purpose (length-prefixed, so no purpose is a prefix of
    /// another's input) and the data.
    fn tagged_input(purpose: &str, data: &str) -> Vec<u8> {
        let mut input = Vec::with_capacity(8 + purpose.len() + data.len());
        input.extend_from_slice(&(purpose.len() as u64).to_be_bytes());
        input.extend_from_slice(purpose.as_bytes());
        input.extend_from_slice(data.as_bytes());
        input
    }

    /// `data` with its tag appended: `data.TAG` (base64url tag). Callers pass URL-safe text.
    #[must_use]
    pub fn sign(&self, purpose: &str, data: &str) -> String {
        let tag = hmac::sign(&self.mac, &Self::tagged_input(purpose, data));
        format!("{data}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The data of a value made by [`Sealer::sign`] for `purpose`, when its tag is right
    /// (checked in constant time).
    #[must_use]
    pub fn verify<'a>(&self, purpose: &str, signed: &'a str) -> Option<&'a str> {
        let (data, tag) = signed.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        hmac::verify(&self.mac, &Self::tagged_input(purpose, data), &tag).ok()?;
        Some(data)
    }

    /// Encrypts and authenticates `plaintext` for `purpose`: base64url of nonce ‖ ciphertext ‖
    /// tag.
    ///
    /// # Errors
    /// When randomness fails.
    pub fn seal(
        &self,
        random: &dyn SecretGenerator,
        purpose: &str,
        plaintext: &[u8],
    ) -> Result<String, RandomError> {
        let mut nonce = [0u8; NONCE_LEN];
        random.fill(&mut nonce)?;
        let mut in_out = plaintext.to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(purpose.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| RandomError)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&in_out);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// The plaintext of a value made by [`Sealer::seal`] for `purpose`; `None` when it was
    /// altered, made for another purpose or by another cluster, or is not base64url.
    #[must_use]
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut in_out)
            .ok()?;
        Some(plain.to_vec())
    }
}

/// AES-256 accepts every 32-byte key; this is never reached.
#[allow(clippy::panic)] // Unreachable: a 32-byte key is always a valid AES-256 key.
fn unreachable_key() -> LessSafeKey {
    panic!("AES-256-GCM refused a 32-byte key")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;

    fn sealer() -> Sealer {
        Sealer::from_root(&[7u8; 32])
    }

    #[test]
    fn signed_values_verify_only_for_their_purpose() {
        let s = sealer();
        let signed = s.sign("device", "user-1");
        assert_eq!(s.verify("device", &signed), Some("user-1"));
        assert_eq!(s.verify("other", &signed), None);
        assert_eq!(
            s.verify("device", &signed.replace("user-1", "user-2")),
            None
        );
        assert_eq!(s.verify("device", "user-1"), None);
        assert_eq!(
            Sealer::from_root(&[8u8; 32]).verify("device", &signed),
            None
        );
    }

    #[test]
    fn sealed_values_open_only_for_their_purpose_and_hide_the_plaintext() {
        let s = sealer();
        let sealed = s.seal(&OsRandom, "request", b"secret state").unwrap();
        assert!(!sealed.contains("secret"));
        assert_eq!(s.open("request", &sealed).unwrap(), b"secret state");
        assert!(s.open("device", &sealed).is_none());
        assert!(
            Sealer::from_root(&[8u8; 32])
                .open("request", &sealed)
                .is_none()
        );
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(
            s.open("request", &String::from_utf8(tampered).unwrap())
                .is_none()
        );
        assert!(s.open("request", "!!").is_none());
        assert!(s.open("request", "").is_none());
    }
}
