//! IBANs (ISO 13616): the sandbox issues Icelandic-format IBANs with valid check digits, and
//! payout IBANs given by users are validated.

use iban::IbanLike as _;

use crate::random::{RandomError, SecretGenerator};

/// The sandbox's bank code (the first four digits of the Icelandic BBAN).
pub const SANDBOX_BANK: &str = "0555";

/// The ISO 7064 mod 97-10 check digits for `country` and `bban`.
#[must_use]
pub fn check_digits(country: &str, bban: &str) -> u32 {
    let rearranged = format!("{bban}{country}00");
    let remainder = rearranged.chars().fold(0u32, |acc, c| {
        let value = c.to_digit(36).unwrap_or_default();
        if value >= 10 {
            (acc * 100 + value) % 97
        } else {
            (acc * 10 + value) % 97
        }
    });
    98 - remainder
}

/// A new sandbox IBAN: `IS`, check digits, bank [`SANDBOX_BANK`], and 18 random digits.
///
/// # Errors
/// When randomness fails.
pub fn sandbox_iban(random: &dyn SecretGenerator) -> Result<String, RandomError> {
    let mut bytes = [0u8; 18];
    random.fill(&mut bytes)?;
    let digits: String = bytes.iter().map(|b| char::from(b'0' + b % 10)).collect();
    let bban = format!("{SANDBOX_BANK}{digits}");
    Ok(format!("IS{:02}{bban}", check_digits("IS", &bban)))
}

/// Why an IBAN was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this is not a valid IBAN (check the country code, length and check digits)")]
pub struct InvalidIban;

/// Validates and normalises (upper case, no spaces) an IBAN a user typed.
///
/// # Errors
/// [`InvalidIban`].
pub fn normalize(text: &str) -> Result<String, InvalidIban> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    compact
        .parse::<iban::Iban>()
        .map(|i| i.electronic_str().to_owned())
        .map_err(|_| InvalidIban)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;

    #[test]
    fn sandbox_ibans_validate_with_an_independent_library() {
        for _ in 0..100 {
            let text = sandbox_iban(&OsRandom).unwrap();
            let parsed: iban::Iban = text.parse().unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(parsed.country_code(), "IS");
            assert_eq!(text.len(), 26);
        }
    }

    #[test]
    fn check_digits_of_a_known_iban() {
        // GB82 WEST 1234 5698 7654 32, the standard example.
        assert_eq!(check_digits("GB", "WEST12345698765432"), 82);
        assert_eq!(
            normalize("gb82 west 1234 5698 7654 32").unwrap(),
            "GB82WEST12345698765432"
        );
        assert_eq!(normalize("GB83WEST12345698765432"), Err(InvalidIban));
    }
}
