//! Ethereum-style wallets: addresses with their EIP-55 checksums, and the recovery of the
//! address that made a `personal_sign` (EIP-191) signature (secp256k1). What a user signs to
//! prove they own an address is a per-attempt challenge (`banking::ownership`).

use std::fmt;
use std::str::FromStr;

use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use sha3::{Digest as _, Keccak256};

/// The secp256k1 signing key of a wallet, as [`sign_personal`] takes it (re-exported so that
/// callers need no direct dependency on `k256`).
pub use k256::ecdsa::SigningKey;

/// The fixed text Monerium's API has wallet owners sign. Its signature proves nothing about
/// who presents it (it is the same for every site and every attempt, and is published), so it
/// is never accepted as a proof here; it is recognised only to tell a user who pastes one to
/// sign the challenge shown instead.
pub const FIXED_OWNERSHIP_MESSAGE: &str = "I hereby declare that I am the address owner.";

/// The chains a wallet may be on (all EVM: one address format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Chain {
    /// Ethereum.
    Ethereum,
    /// Gnosis Chain.
    Gnosis,
    /// Polygon PoS.
    Polygon,
}

impl Chain {
    /// Every chain.
    pub const ALL: [Self; 3] = [Self::Ethereum, Self::Gnosis, Self::Polygon];

    /// The EIP-155 chain id, as Sign-In with Ethereum messages carry it.
    #[must_use]
    pub const fn id(self) -> u64 {
        match self {
            Self::Ethereum => 1,
            Self::Gnosis => 100,
            Self::Polygon => 137,
        }
    }

    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ethereum => "ethereum",
            Self::Gnosis => "gnosis",
            Self::Polygon => "polygon",
        }
    }
}

impl FromStr for Chain {
    type Err = WalletError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or(WalletError::UnknownChain)
    }
}

/// Why an address or a proof was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WalletError {
    /// Not `0x` and 40 hexadecimal digits.
    #[error("an address is 0x followed by 40 hexadecimal digits")]
    MalformedAddress,
    /// Mixed case that is not the address's EIP-55 checksum: probably a typo.
    #[error("the address's capitalisation is not its EIP-55 checksum; check it for typos")]
    BadChecksum,
    /// Not 65 bytes of hex (`r ‖ s ‖ v`).
    #[error("a signature is 0x followed by 130 hexadecimal digits")]
    MalformedSignature,
    /// The signature does not come from the claimed address.
    #[error("the signature was not made by this address's key for the message shown")]
    WrongSigner,
    /// Not a supported chain.
    #[error("unknown chain; use ethereum, gnosis or polygon")]
    UnknownChain,
}

/// A 20-byte account address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address([u8; 20]);

fn keccak(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Address {
    /// Parses `0x` + 40 hex digits. All-lower or all-upper case is accepted as is; mixed case
    /// must be the EIP-55 checksum.
    ///
    /// # Errors
    /// [`WalletError::MalformedAddress`] or [`WalletError::BadChecksum`].
    pub fn parse(text: &str) -> Result<Self, WalletError> {
        let hex = text
            .strip_prefix("0x")
            .ok_or(WalletError::MalformedAddress)?;
        if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(WalletError::MalformedAddress);
        }
        let bytes = decode_hex(hex).ok_or(WalletError::MalformedAddress)?;
        let mut address = [0u8; 20];
        address.copy_from_slice(&bytes);
        let address = Self(address);
        let lower = hex.bytes().all(|b| !b.is_ascii_uppercase());
        let upper = hex.bytes().all(|b| !b.is_ascii_lowercase());
        if !(lower || upper) && address.checksummed() != text {
            return Err(WalletError::BadChecksum);
        }
        Ok(address)
    }

    /// The EIP-55 mixed-case form.
    #[must_use]
    pub fn checksummed(&self) -> String {
        let hex: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
        let hash = keccak(hex.as_bytes());
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, c) in hex.chars().enumerate() {
            let nibble = (hash[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0x0f;
            out.push(if nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            });
        }
        out
    }

    /// The address of a public key: the last 20 bytes of Keccak-256 of its uncompressed point.
    #[must_use]
    pub fn of_key(key: &VerifyingKey) -> Self {
        let point = key.to_encoded_point(false);
        let hash = keccak(&point.as_bytes()[1..]);
        let mut address = [0u8; 20];
        address.copy_from_slice(&hash[12..]);
        Self(address)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.checksummed())
    }
}

/// Keccak-256 of `"\x19Ethereum Signed Message:\n" ‖ len ‖ message` (EIP-191 version 0x45).
#[must_use]
pub fn personal_message_hash(message: &[u8]) -> [u8; 32] {
    let mut data = format!("\x19Ethereum Signed Message:\n{}", message.len()).into_bytes();
    data.extend_from_slice(message);
    keccak(&data)
}

/// The address that made `signature` (hex `r ‖ s ‖ v`, `v` of 27/28 or 0/1) over `message`.
///
/// # Errors
/// [`WalletError::MalformedSignature`] when it cannot be decoded or recovers no key.
pub fn recover_signer(message: &[u8], signature: &str) -> Result<Address, WalletError> {
    let hex = signature.strip_prefix("0x").unwrap_or(signature);
    let bytes = decode_hex(hex)
        .filter(|b| b.len() == 65)
        .ok_or(WalletError::MalformedSignature)?;
    let v = match bytes[64] {
        v @ (27 | 28) => v - 27,
        v @ (0 | 1) => v,
        _ => return Err(WalletError::MalformedSignature),
    };
    let signature =
        Signature::from_slice(&bytes[..64]).map_err(|_| WalletError::MalformedSignature)?;
    let recovery = RecoveryId::from_byte(v).ok_or(WalletError::MalformedSignature)?;
    let key =
        VerifyingKey::recover_from_prehash(&personal_message_hash(message), &signature, recovery)
            .map_err(|_| WalletError::MalformedSignature)?;
    Ok(Address::of_key(&key))
}

/// `key`'s `personal_sign` of `message`, as a wallet makes it (`r ‖ s ‖ v`, `v` of 27/28), for
/// the sandbox and tests.
///
/// # Errors
/// [`WalletError::MalformedSignature`] if the key cannot sign (it always can).
pub fn sign_personal(key: &SigningKey, message: &str) -> Result<String, WalletError> {
    let (signature, recovery) = key
        .sign_prehash_recoverable(&personal_message_hash(message.as_bytes()))
        .map_err(|_| WalletError::MalformedSignature)?;
    let mut bytes = signature.to_bytes().to_vec();
    bytes.push(27 + recovery.to_byte());
    Ok(format!(
        "0x{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The well-known test key 0x4c08…ffb2 (private key 1 of many tools' fixtures).
    fn key() -> k256::ecdsa::SigningKey {
        let bytes =
            decode_hex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318").unwrap();
        k256::ecdsa::SigningKey::from_slice(&bytes).unwrap()
    }

    #[test]
    fn eip55_examples() {
        for checksummed in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            let address = Address::parse(checksummed).unwrap();
            assert_eq!(address.checksummed(), checksummed);
            assert_eq!(
                Address::parse(&checksummed.to_lowercase()).unwrap(),
                address
            );
        }
        assert_eq!(
            Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"),
            Err(WalletError::BadChecksum)
        );
        assert_eq!(
            Address::parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae"),
            Err(WalletError::MalformedAddress)
        );
        assert_eq!(
            Address::parse("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
            Err(WalletError::MalformedAddress)
        );
    }

    /// The address of the test key, as every Ethereum library derives it.
    #[test]
    fn address_of_a_known_key() {
        let address = Address::of_key(key().verifying_key());
        assert_eq!(
            address.checksummed(),
            "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
        );
    }

    #[test]
    fn the_signer_of_a_personal_signature_is_recovered() {
        let owner = Address::of_key(key().verifying_key());
        let signature = sign_personal(&key(), "hello").unwrap();
        assert_eq!(recover_signer(b"hello", &signature), Ok(owner));
        // Another message recovers another address.
        assert_ne!(recover_signer(b"hello!", &signature), Ok(owner));
        assert_eq!(
            recover_signer(b"hello", "0x1234"),
            Err(WalletError::MalformedSignature)
        );
        let mut bad_v = signature.clone();
        bad_v.replace_range(bad_v.len() - 2.., "05");
        assert_eq!(
            recover_signer(b"hello", &bad_v),
            Err(WalletError::MalformedSignature)
        );
    }
}
