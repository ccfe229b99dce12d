//! Device cookies, as OWASP's "Slow Down Online Guessing Attacks with Device Cookies"
//! describes them: a browser in which an account logged in gets a value only the server can
//! make, naming the account and a random device id. At the next login to that account the
//! browser is trusted: the account's own limits do not apply to it, only the device's, so
//! guessers elsewhere cannot keep the owner out.
//!
//! The value is sealed ([`Sealer::seal`], AES-256-GCM) rather than only signed, so the cookie
//! does not show which account uses the browser; it carries its issue time, so a copied
//! cookie stops working after [`DEVICE_COOKIE_TTL`] whatever its `Max-Age` said.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::random::{RandomError, SecretGenerator};
use crate::seal::Sealer;
use crate::time::UnixTime;

/// How long a device stays trusted after its last login: 90 days.
pub const DEVICE_COOKIE_TTL: i64 = 90 * 86_400;
/// How far ahead of this node's clock another node's may be when it issues a cookie.
const CLOCK_SKEW: i64 = 300;
/// The sealer purpose of device cookies.
const PURPOSE: &str = "login device v1";

/// A trusted browser, from a device cookie that opened and is not too old.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    id: String,
    email: String,
}

impl Device {
    /// A new device cookie value for `email` (normalised), issued at `now`, with a new random
    /// device id.
    ///
    /// # Errors
    /// When randomness fails.
    pub fn issue(
        sealer: &Sealer,
        random: &dyn SecretGenerator,
        now: UnixTime,
        email: &str,
    ) -> Result<String, RandomError> {
        let mut id = [0u8; 16];
        random.fill(&mut id)?;
        let id = URL_SAFE_NO_PAD.encode(id);
        // Newline-separated: neither the time, the id nor a normalised email holds one.
        let plain = format!("{}\n{id}\n{email}", now.0);
        sealer.seal(random, PURPOSE, plain.as_bytes())
    }

    /// The device a cookie value names; `None` when it was altered, made by another cluster or
    /// for another purpose, or issued more than [`DEVICE_COOKIE_TTL`] before `now`.
    #[must_use]
    pub fn open(sealer: &Sealer, value: &str, now: UnixTime) -> Option<Self> {
        let plain = String::from_utf8(sealer.open(PURPOSE, value)?).ok()?;
        let mut parts = plain.splitn(3, '\n');
        let issued: i64 = parts.next()?.parse().ok()?;
        let id = parts.next()?.to_owned();
        let email = parts.next()?.to_owned();
        let age = now.0.checked_sub(issued)?;
        (-CLOCK_SKEW..=DEVICE_COOKIE_TTL)
            .contains(&age)
            .then_some(Self { id, email })
    }

    /// Whether this device was trusted for the account `email` (normalised).
    #[must_use]
    pub fn is_for(&self, email: &str) -> bool {
        self.email == email
    }

    /// The random device id its counter is kept under.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::random::OsRandom;

    fn sealer() -> Sealer {
        Sealer::from_root(&[3u8; 32])
    }

    #[test]
    fn a_device_cookie_names_its_account_and_hides_it() {
        let now = UnixTime(1_000_000);
        let value = Device::issue(&sealer(), &OsRandom, now, "alice@example.com").unwrap();
        assert!(!value.contains("alice"));
        let device = Device::open(&sealer(), &value, now).unwrap();
        assert!(device.is_for("alice@example.com"));
        assert!(!device.is_for("bob@example.com"));
        let other = Device::issue(&sealer(), &OsRandom, now, "alice@example.com").unwrap();
        assert_ne!(
            Device::open(&sealer(), &other, now).unwrap().id(),
            device.id(),
            "each login makes a new device id"
        );
    }

    #[test]
    fn forged_foreign_or_old_device_cookies_are_refused() {
        let now = UnixTime(1_000_000);
        let value = Device::issue(&sealer(), &OsRandom, now, "alice@example.com").unwrap();
        assert!(Device::open(&Sealer::from_root(&[4u8; 32]), &value, now).is_none());
        assert!(Device::open(&sealer(), "forged", now).is_none());
        let mut tampered = value.clone().into_bytes();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        assert!(Device::open(&sealer(), &String::from_utf8(tampered).unwrap(), now).is_none());
        let sealed_for_other_use = sealer().seal(&OsRandom, "request", b"1\nx\ny").unwrap();
        assert!(Device::open(&sealer(), &sealed_for_other_use, now).is_none());
        let later = UnixTime(now.0 + DEVICE_COOKIE_TTL);
        assert!(Device::open(&sealer(), &value, later).is_some());
        assert!(Device::open(&sealer(), &value, UnixTime(later.0 + 1)).is_none());
        assert!(
            Device::open(&sealer(), &value, UnixTime(now.0 - CLOCK_SKEW)).is_some(),
            "another node's clock may be a little ahead"
        );
        assert!(
            Device::open(&sealer(), &value, UnixTime(now.0 - CLOCK_SKEW - 1)).is_none(),
            "but not from the future"
        );
    }
}
