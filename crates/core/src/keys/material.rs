use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RSA_PSS_SHA256, RsaEncoding, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_proto::jwks::Jwk;

use super::SigningAlg;

/// Key material could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyMaterialError {
    /// Key generation failed in the crypto library.
    #[error("{0} key generation failed")]
    Generate(SigningAlg),
    /// The stored PKCS#8 document does not hold a key of the expected algorithm.
    #[error("stored {0} key is not a valid PKCS#8 key of that algorithm")]
    Parse(SigningAlg),
    /// Signing failed in the crypto library.
    #[error("{0} signing failed")]
    Sign(SigningAlg),
}

/// A parsed private key, held for the life of the process so that signing does no parsing.
pub enum KeyPair {
    /// P-256.
    Ec(EcdsaKeyPair),
    /// Ed25519.
    Ed(Ed25519KeyPair),
    /// RSA with its padding scheme (PKCS#1 v1.5 for RS256, PSS for PS256).
    Rsa(RsaKeyPair, &'static dyn RsaEncoding),
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ec(_) => "KeyPair::Ec([redacted])",
            Self::Ed(_) => "KeyPair::Ed([redacted])",
            Self::Rsa(..) => "KeyPair::Rsa([redacted])",
        })
    }
}

impl KeyPair {
    /// Generates a new private key and returns it as a PKCS#8 document.
    ///
    /// Key generation uses the crypto library's own DRBG (seeded from the operating system):
    /// keys are not something a test needs to predict.
    ///
    /// # Errors
    /// [`KeyMaterialError::Generate`].
    pub fn generate_pkcs8(alg: SigningAlg) -> Result<Vec<u8>, KeyMaterialError> {
        let rng = SystemRandom::new();
        let failed = |_| KeyMaterialError::Generate(alg);
        match alg {
            SigningAlg::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map(|doc| doc.as_ref().to_vec())
                    .map_err(failed)
            }
            SigningAlg::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng)
                .map(|doc| doc.as_ref().to_vec())
                .map_err(failed),
            SigningAlg::Ps256 | SigningAlg::Rs256 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?;
                let der =
                    AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'_>>::as_der(&pair).map_err(failed)?;
                Ok(der.as_ref().to_vec())
            }
        }
    }

    /// Parses a PKCS#8 document made by [`KeyPair::generate_pkcs8`].
    ///
    /// # Errors
    /// [`KeyMaterialError::Parse`].
    pub fn from_pkcs8(alg: SigningAlg, pkcs8: &[u8]) -> Result<Self, KeyMaterialError> {
        let failed = |_| KeyMaterialError::Parse(alg);
        Ok(match alg {
            SigningAlg::Es256 => Self::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                    .map_err(failed)?,
            ),
            SigningAlg::EdDsa => Self::Ed(Ed25519KeyPair::from_pkcs8(pkcs8).map_err(failed)?),
            SigningAlg::Rs256 => Self::Rsa(
                RsaKeyPair::from_pkcs8(pkcs8).map_err(failed)?,
                &RSA_PKCS1_SHA256,
            ),
            SigningAlg::Ps256 => Self::Rsa(
                RsaKeyPair::from_pkcs8(pkcs8).map_err(failed)?,
                &RSA_PSS_SHA256,
            ),
        })
    }

    /// Signs `message` as JWS wants it: raw `r ‖ s` for ECDSA (RFC 7518 §3.4), the plain
    /// signature for EdDSA and RSA.
    ///
    /// # Errors
    /// [`KeyMaterialError::Sign`], which the crypto library reports only on internal failure.
    pub fn sign(&self, alg: SigningAlg, message: &[u8]) -> Result<Vec<u8>, KeyMaterialError> {
        let failed = |_| KeyMaterialError::Sign(alg);
        match self {
            Self::Ec(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(failed),
            Self::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
            Self::Rsa(pair, padding) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(*padding, &SystemRandom::new(), message, &mut signature)
                    .map_err(failed)?;
                Ok(signature)
            }
        }
    }

    /// Whether `signature` is this key's signature of `message` (checked with the public key).
    #[must_use]
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256,
            UnparsedPublicKey, VerificationAlgorithm,
        };
        let (algorithm, public): (&'static dyn VerificationAlgorithm, &[u8]) = match self {
            Self::Ec(pair) => (&ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref()),
            Self::Ed(pair) => (&ED25519, pair.public_key().as_ref()),
            Self::Rsa(pair, padding) => {
                let pss = std::ptr::addr_eq(*padding, &RSA_PSS_SHA256 as &dyn RsaEncoding);
                let algorithm: &'static dyn VerificationAlgorithm = if pss {
                    &RSA_PSS_2048_8192_SHA256
                } else {
                    &RSA_PKCS1_2048_8192_SHA256
                };
                (algorithm, pair.public_key().as_ref())
            }
        };
        UnparsedPublicKey::new(algorithm, public)
            .verify(message, signature)
            .is_ok()
    }

    /// The public half as a JWK (RFC 7518 §6.2, §6.3; RFC 8037 §2).
    #[must_use]
    pub fn public_jwk(&self, kid: &str, alg: SigningAlg) -> Jwk {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let mut jwk = Jwk {
            kty: String::new(),
            kid: kid.to_owned(),
            use_: "sig".to_owned(),
            alg: alg.as_str().to_owned(),
            crv: None,
            x: None,
            y: None,
            n: None,
            e: None,
        };
        match self {
            Self::Ec(pair) => {
                // Uncompressed point: 0x04 ‖ X (32 bytes) ‖ Y (32 bytes).
                let point = pair.public_key().as_ref();
                jwk.kty = "EC".to_owned();
                jwk.crv = Some("P-256".to_owned());
                jwk.x = point.get(1..33).map(b64);
                jwk.y = point.get(33..65).map(b64);
            }
            Self::Ed(pair) => {
                jwk.kty = "OKP".to_owned();
                jwk.crv = Some("Ed25519".to_owned());
                jwk.x = Some(b64(pair.public_key().as_ref()));
            }
            Self::Rsa(pair, _) => {
                let public = pair.public_key();
                jwk.kty = "RSA".to_owned();
                jwk.n = Some(b64(public.modulus().big_endian_without_leading_zero()));
                jwk.e = Some(b64(public.exponent().big_endian_without_leading_zero()));
            }
        }
        jwk
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_generates_signs_and_publishes() {
        for alg in SigningAlg::ALL {
            let pkcs8 = KeyPair::generate_pkcs8(alg).unwrap();
            let pair = KeyPair::from_pkcs8(alg, &pkcs8).unwrap();
            let signature = pair.sign(alg, b"message").unwrap();
            assert!(pair.verify(b"message", &signature), "{alg}");
            assert!(!pair.verify(b"messagf", &signature), "{alg}");
            let jwk = pair.public_jwk("kid", alg);
            assert_eq!(jwk.alg, alg.as_str());
            match alg {
                SigningAlg::Es256 => {
                    assert_eq!(signature.len(), 64);
                    assert_eq!(jwk.kty, "EC");
                    assert!(jwk.x.is_some() && jwk.y.is_some());
                }
                SigningAlg::EdDsa => assert_eq!(jwk.kty, "OKP"),
                SigningAlg::Ps256 | SigningAlg::Rs256 => {
                    assert_eq!(signature.len(), 256);
                    assert_eq!(jwk.e.as_deref(), Some("AQAB"));
                }
            }
        }
    }

    #[test]
    fn a_key_of_one_algorithm_is_not_read_as_another() {
        let ec = KeyPair::generate_pkcs8(SigningAlg::Es256).unwrap();
        assert!(KeyPair::from_pkcs8(SigningAlg::EdDsa, &ec).is_err());
        assert!(KeyPair::from_pkcs8(SigningAlg::Rs256, &ec).is_err());
    }
}
