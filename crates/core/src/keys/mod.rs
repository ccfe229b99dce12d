//! Signing keys: generation, encryption at rest under a key-encryption key, the key ring that
//! decides which key signs and which are published, and rotation.
//!
//! A rotated-in key is published first and signs only from its activation time, so verifiers
//! that cache the JWKS see it before they see tokens it signed. A superseded key stays published
//! until the longest-lived token it could have signed has expired.

pub mod alg;
mod kek;
pub mod manage;
mod material;
mod ring;

pub use alg::SigningAlg;
pub use kek::{KekError, KeyEncryptionKey};
pub use material::{KeyMaterialError, KeyPair};
pub use ring::{KeyRing, KeyRingError, KeyState, LoadedKey, StoredKey};
