//! The wall clock, injected so that token expiry can be tested without waiting.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
///
/// The SDK asks it whether a token has expired ([`crate::TokenSet`]) and whether a JWT is
/// within its validity period ([`crate::verifier::Verifier`]). Tests can supply their own.
///
/// ```
/// use std::time::SystemTime;
/// use portcullis_client::clock::Clock;
///
/// #[derive(Debug)]
/// struct Frozen(SystemTime);
///
/// impl Clock for Frozen {
///     fn now(&self) -> SystemTime {
///         self.0
///     }
/// }
/// ```
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The SDK's one reading of the system clock.
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Seconds since the Unix epoch (negative before it, saturating far outside `i64`).
pub(crate) fn unix(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// The time `seconds` after the Unix epoch.
pub(crate) fn from_unix(seconds: i64) -> SystemTime {
    match u64::try_from(seconds) {
        Ok(s) => UNIX_EPOCH + Duration::from_secs(s),
        Err(_) => UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs()),
    }
}

/// Whole seconds of `d`, saturating.
pub(crate) fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_round_trips() {
        for s in [0, 1, 1_700_000_000, -5] {
            assert_eq!(unix(from_unix(s)), s);
        }
    }
}
