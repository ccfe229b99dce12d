//! Time, injected: the core never reads the system clock itself, so expiry rules are tested
//! with [`ManualClock`] instead of sleeps.

use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch, as JWT `exp`/`iat` and the database use them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct UnixTime(pub i64);

impl UnixTime {
    /// This instant plus `seconds` (saturating).
    #[must_use]
    pub const fn plus(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    /// RFC 3339 text, for people and the admin API.
    #[must_use]
    pub fn to_rfc3339(self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| self.0.to_string())
    }
}

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time in whole seconds.
    fn now(&self) -> UnixTime;

    /// The current time in milliseconds, for identifiers that sort by creation.
    fn now_millis(&self) -> i64 {
        self.now().0.saturating_mul(1000)
    }
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.now_millis().div_euclid(1000))
    }

    #[allow(clippy::disallowed_methods)] // The one place core reads the system's clock.
    fn now_millis(&self) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that moves only when told to; for tests of expiry and replay rules.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `start`.
    #[must_use]
    pub fn new(start: UnixTime) -> Self {
        Self(AtomicI64::new(start.0))
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, to: UnixTime) {
        self.0.store(to.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(UnixTime(100));
        assert_eq!(clock.now(), UnixTime(100));
        clock.advance(61);
        assert_eq!(clock.now(), UnixTime(161));
    }

    #[test]
    fn rfc3339_formatting() {
        assert_eq!(UnixTime(0).to_rfc3339(), "1970-01-01T00:00:00Z");
    }
}
