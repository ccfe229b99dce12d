//! The sandbox's know-your-customer form: a few facts about the person or the company, checked
//! for shape. The sandbox approves a well-formed submission at once (or leaves it pending for an
//! operator); it keeps the decision, not the answers.

use time::{Date, Month};

use super::profile::ProfileKind;
use crate::time::UnixTime;

/// What the KYC form sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KycSubmission {
    /// The person's or the company's legal name.
    pub legal_name: String,
    /// ISO 3166-1 alpha-2 country of residence or incorporation.
    pub country: String,
    /// Date of birth, `YYYY-MM-DD` (personal profiles).
    pub birth_date: String,
    /// Company registration number (corporate profiles).
    pub registration_number: String,
}

/// A field of the KYC form that is missing or malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KycFormError {
    /// Empty or over-long legal name.
    #[error("enter the legal name (1 to 100 characters)")]
    LegalName,
    /// Not two letters.
    #[error("enter the country as its two-letter code, like DE or IS")]
    Country,
    /// Not a date, in the future, or under 18.
    #[error("enter the date of birth as YYYY-MM-DD; you must be 18 or older")]
    BirthDate,
    /// Empty, over-long or odd characters.
    #[error("enter the company registration number (letters, digits, spaces, - and /)")]
    RegistrationNumber,
}

/// The age a personal profile's owner must have reached.
pub const MIN_AGE_YEARS: i32 = 18;

fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

fn adult_on(birth: Date, today: Date) -> bool {
    let years = today.year() - birth.year();
    let had_birthday =
        (u8::from(today.month()), today.day()) >= (u8::from(birth.month()), birth.day());
    birth.year() >= 1900 && (years > MIN_AGE_YEARS || (years == MIN_AGE_YEARS && had_birthday))
}

impl KycSubmission {
    /// Checks the fields a profile of `kind` needs, on the day of `now`; returns the submission
    /// normalised (trimmed, country in upper case).
    ///
    /// # Errors
    /// The first field that is wrong.
    pub fn check(mut self, kind: ProfileKind, now: UnixTime) -> Result<Self, KycFormError> {
        self.legal_name = self.legal_name.trim().to_owned();
        if self.legal_name.is_empty() || self.legal_name.chars().count() > 100 {
            return Err(KycFormError::LegalName);
        }
        self.country = self.country.trim().to_ascii_uppercase();
        if self.country.len() != 2 || !self.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(KycFormError::Country);
        }
        match kind {
            ProfileKind::Personal => {
                let today = time::OffsetDateTime::from_unix_timestamp(now.0)
                    .map_err(|_| KycFormError::BirthDate)?
                    .date();
                let birth = parse_date(&self.birth_date).ok_or(KycFormError::BirthDate)?;
                if !adult_on(birth, today) {
                    return Err(KycFormError::BirthDate);
                }
                self.birth_date = self.birth_date.trim().to_owned();
            }
            ProfileKind::Corporate => {
                self.registration_number = self.registration_number.trim().to_owned();
                let number = &self.registration_number;
                if number.is_empty()
                    || number.len() > 40
                    || !number
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '/'))
                {
                    return Err(KycFormError::RegistrationNumber);
                }
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-06-15T12:00:00Z
    const NOW: UnixTime = UnixTime(1_718_452_800);

    fn person(birth: &str) -> KycSubmission {
        KycSubmission {
            legal_name: " Ada Lovelace ".into(),
            country: "gb".into(),
            birth_date: birth.into(),
            registration_number: String::new(),
        }
    }

    #[test]
    fn a_personal_submission_needs_an_adult_birth_date() {
        let ok = person("1990-02-03")
            .check(ProfileKind::Personal, NOW)
            .unwrap();
        assert_eq!(ok.legal_name, "Ada Lovelace");
        assert_eq!(ok.country, "GB");
        // Eighteen today, and one day short of it.
        assert!(
            person("2006-06-15")
                .check(ProfileKind::Personal, NOW)
                .is_ok()
        );
        for birth in [
            "2006-06-16",
            "2030-01-01",
            "1990-02-30",
            "03/02/1990",
            "",
            "1850-01-01",
        ] {
            assert_eq!(
                person(birth).check(ProfileKind::Personal, NOW),
                Err(KycFormError::BirthDate),
                "{birth}"
            );
        }
    }

    #[test]
    fn names_countries_and_registration_numbers() {
        let mut blank = person("1990-02-03");
        blank.legal_name = "  ".into();
        assert_eq!(
            blank.check(ProfileKind::Personal, NOW),
            Err(KycFormError::LegalName)
        );
        for country in ["GBR", "G1", ""] {
            let mut odd = person("1990-02-03");
            odd.country = country.into();
            assert_eq!(
                odd.check(ProfileKind::Personal, NOW),
                Err(KycFormError::Country)
            );
        }
        let company = KycSubmission {
            legal_name: "Acme ehf.".into(),
            country: "IS".into(),
            birth_date: String::new(),
            registration_number: "HRB 12345/B".into(),
        };
        assert!(company.clone().check(ProfileKind::Corporate, NOW).is_ok());
        let bad = KycSubmission {
            registration_number: "<script>".into(),
            ..company
        };
        assert_eq!(
            bad.check(ProfileKind::Corporate, NOW),
            Err(KycFormError::RegistrationNumber)
        );
    }
}
