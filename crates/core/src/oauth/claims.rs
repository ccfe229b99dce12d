//! The OpenID Connect standard claims (Core §5.1) and which scope releases which (§5.4).
//!
//! One rule for both places they are released, the ID token and userinfo: `profile` gives the
//! name and the time of the last change, `email` the login address, `phone` and `address`
//! what the user or an operator entered. A claim the user has no value for is left out, never
//! sent as `null`.

use portcullis_proto::ScopeSet;
pub use portcullis_proto::claims::Address;
use serde::{Deserialize, Serialize};

use crate::user::User;

/// The scopes of OpenID Connect Core §5.4 and the claims [`release`] gives for each: only
/// those Portcullis holds (no `given_name`, `picture`, `locale` …), for `claims_supported`.
pub const STANDARD_SCOPES: [(&str, &[&str]); 4] = [
    ("profile", &["name", "updated_at"]),
    ("email", &["email", "email_verified"]),
    ("address", &["address"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

/// The longest value of any address part or phone number, in bytes.
pub const MAX_CLAIM_LEN: usize = 200;

/// Why an address or phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    /// Not `+`, a country code and the number: E.164, 8 to 15 digits.
    #[error("enter the phone number in international form, like +34600123456")]
    Phone,
    /// A part too long or with control characters (line breaks only in the street).
    #[error("each part of the address is at most 200 characters, without control characters")]
    AddressPart,
    /// Every part empty.
    #[error("an address needs at least one part")]
    EmptyAddress,
}

/// The address with every part trimmed, empty ones dropped, and each checked.
///
/// # Errors
/// [`ContactError::AddressPart`], [`ContactError::EmptyAddress`].
pub fn normalize_address(address: Address) -> Result<Address, ContactError> {
    fn part(value: Option<String>, lines: bool) -> Result<Option<String>, ContactError> {
        let Some(value) = value.map(|v| v.trim().replace("\r\n", "\n")) else {
            return Ok(None);
        };
        let bad = value.len() > MAX_CLAIM_LEN
            || value
                .chars()
                .any(|c| c.is_control() && !(lines && c == '\n'));
        if bad {
            return Err(ContactError::AddressPart);
        }
        Ok(Some(value).filter(|v| !v.is_empty()))
    }
    let address = Address {
        street_address: part(address.street_address, true)?,
        locality: part(address.locality, false)?,
        region: part(address.region, false)?,
        postal_code: part(address.postal_code, false)?,
        country: part(address.country, false)?,
    };
    if address == Address::default() {
        return Err(ContactError::EmptyAddress);
    }
    Ok(address)
}

/// The full address on its lines, in the usual order (§5.1.1 `formatted`).
#[must_use]
pub fn format_address(address: &Address) -> String {
    let town = [address.postal_code.as_deref(), address.locality.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    [
        address.street_address.clone(),
        Some(town).filter(|t| !t.is_empty()),
        address.region.clone(),
        address.country.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n")
}

/// A phone number in E.164 form (`+` and 8 to 15 digits), spaces, dots, dashes and
/// parentheses removed.
///
/// # Errors
/// [`ContactError::Phone`].
pub fn normalize_phone(phone: &str) -> Result<String, ContactError> {
    let kept: String = phone
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let digits = kept.strip_prefix('+').ok_or(ContactError::Phone)?;
    let valid = (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if valid {
        Ok(kept)
    } else {
        Err(ContactError::Phone)
    }
}

/// A user's phone number and postal address: what the `phone` and `address` scopes release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// E.164, from [`normalize_phone`].
    pub phone_number: Option<String>,
    /// Whether the platform checked that the user holds the number (an operator says so).
    pub phone_number_verified: bool,
    /// The postal address, from [`normalize_address`].
    pub address: Option<Address>,
}

/// The address claim: the parts and their formatted whole (written out rather than flattened:
/// the wire type refuses unknown fields, which `formatted` would be).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressClaim {
    /// All parts on their lines.
    pub formatted: String,
    /// Street, house number, flat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// City or locality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// State, province, prefecture or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Zip or postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl From<&Address> for AddressClaim {
    fn from(address: &Address) -> Self {
        Self {
            formatted: format_address(address),
            street_address: address.street_address.clone(),
            locality: address.locality.clone(),
            region: address.region.clone(),
            postal_code: address.postal_code.clone(),
            country: address.country.clone(),
        }
    }
}

/// The standard claims released for a scope; absent ones are not serialised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandardClaims {
    /// With `profile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// With `profile`: seconds since the epoch of the account's last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    /// With `email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// With `email`: false, since Portcullis does not (yet) confirm addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// With `address`, when the user has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressClaim>,
    /// With `phone`, when the user has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// With `phone`, when the user has a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_verified: Option<bool>,
}

/// The claims `scope` releases about `user` (OIDC Core §5.4). `profile:read`, the banking
/// profile scope, releases none of them.
#[must_use]
pub fn release(user: &User, scope: &ScopeSet) -> StandardClaims {
    let profile = scope.contains("profile");
    let email = scope.contains("email");
    let contact = &user.contact;
    let phone = contact
        .phone_number
        .as_ref()
        .filter(|_| scope.contains("phone"));
    StandardClaims {
        name: profile.then(|| user.name.clone()),
        updated_at: profile.then_some(user.updated_at.0),
        email: email.then(|| user.email.clone()),
        email_verified: email.then_some(false),
        address: contact
            .address
            .as_ref()
            .filter(|_| scope.contains("address"))
            .map(AddressClaim::from),
        phone_number: phone.cloned(),
        phone_number_verified: phone.map(|_| contact.phone_number_verified),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::UnixTime;
    use portcullis_proto::UserId;

    fn user(contact: Contact) -> User {
        User {
            id: UserId::new("u1"),
            email: "ada@example.com".into(),
            name: "Ada Lovelace".into(),
            password_hash: None,
            disabled: false,
            contact,
            created_at: UnixTime(1),
            updated_at: UnixTime(2),
        }
    }

    fn scope(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    fn address() -> Address {
        Address {
            street_address: Some("Calle Mayor 1\n2º".into()),
            locality: Some("Madrid".into()),
            postal_code: Some("28013".into()),
            country: Some("ES".into()),
            region: None,
        }
    }

    #[test]
    fn each_scope_releases_only_its_claims() {
        let user = user(Contact {
            phone_number: Some("+34600123456".into()),
            phone_number_verified: true,
            address: Some(address()),
        });
        let none = release(&user, &scope("openid profile:read wallet:read"));
        assert_eq!(none, StandardClaims::default());
        let profile = release(&user, &scope("openid profile"));
        assert_eq!(profile.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(profile.updated_at, Some(2));
        assert_eq!(profile.email, None);
        let email = release(&user, &scope("openid email"));
        assert_eq!(email.email.as_deref(), Some("ada@example.com"));
        assert_eq!(email.email_verified, Some(false));
        assert_eq!(email.name, None);
        let phone = release(&user, &scope("openid phone"));
        assert_eq!(phone.phone_number.as_deref(), Some("+34600123456"));
        assert_eq!(phone.phone_number_verified, Some(true));
        assert_eq!(phone.address, None);
        let postal = release(&user, &scope("openid address"));
        let claim = postal.address.unwrap();
        assert_eq!(claim.formatted, "Calle Mayor 1\n2º\n28013 Madrid\nES");
        assert_eq!(claim.locality.as_deref(), Some("Madrid"));
        assert_eq!(claim.region, None);
    }

    #[test]
    fn a_claim_without_a_value_is_left_out() {
        let claims = release(&user(Contact::default()), &scope("openid phone address"));
        assert_eq!(claims, StandardClaims::default());
        assert_eq!(
            serde_json::to_value(&claims).unwrap(),
            serde_json::json!({})
        );
    }

    #[test]
    fn phone_numbers_are_e164() {
        assert_eq!(
            normalize_phone("+34 600-12.34 (56)").unwrap(),
            "+34600123456"
        );
        for bad in [
            "600123456",
            "+0600123456",
            "+34",
            "+34 600 12a 456",
            "+1234567890123456",
        ] {
            assert_eq!(normalize_phone(bad), Err(ContactError::Phone), "{bad}");
        }
    }

    #[test]
    fn address_parts_are_trimmed_and_checked() {
        let trimmed = normalize_address(Address {
            locality: Some("  Madrid ".into()),
            country: Some(String::new()),
            ..Address::default()
        })
        .unwrap();
        assert_eq!(trimmed.locality.as_deref(), Some("Madrid"));
        assert_eq!(trimmed.country, None);
        let empty = Address {
            region: Some("  ".into()),
            ..Address::default()
        };
        assert_eq!(normalize_address(empty), Err(ContactError::EmptyAddress));
        let newline = Address {
            locality: Some("Ma\ndrid".into()),
            ..Address::default()
        };
        assert_eq!(normalize_address(newline), Err(ContactError::AddressPart));
        let long = Address {
            region: Some("x".repeat(MAX_CLAIM_LEN + 1)),
            ..Address::default()
        };
        assert_eq!(normalize_address(long), Err(ContactError::AddressPart));
    }
}
