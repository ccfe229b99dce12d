//! Rate limits shared by every node (fixed windows counted in the database): failed-login
//! throttling per account and per client IP, sign-ups per IP. A limit delays; it never locks an
//! account for good.

use crate::store::{RateLimitStore, StoreError};
use crate::time::Clock;

/// At most `max` events per `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Events allowed in a window.
    pub max: u64,
    /// Window length, seconds.
    pub window: i64,
}

/// Login attempts per account: a password guesser gets five tries per quarter hour.
pub const LOGIN_PER_ACCOUNT: Limit = Limit {
    max: 5,
    window: 900,
};
/// Login attempts per client IP, across accounts.
pub const LOGIN_PER_IP: Limit = Limit {
    max: 100,
    window: 900,
};
/// Sign-ups per client IP.
pub const SIGNUP_PER_IP: Limit = Limit {
    max: 20,
    window: 3600,
};

/// The request was over a limit; retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds until the window ends.
    pub retry_after: i64,
}

/// Counts one event for `key` against `limit`.
///
/// # Errors
/// `Ok(Err(Throttled))` when over the limit; `Err` on storage failure (callers refuse the
/// request rather than let it through unlimited).
pub async fn hit(
    store: &dyn RateLimitStore,
    clock: &dyn Clock,
    key: &str,
    limit: Limit,
) -> Result<Result<(), Throttled>, StoreError> {
    let now = clock.now();
    let start = now.0 - now.0.rem_euclid(limit.window);
    let count = store.hit(key, crate::time::UnixTime(start)).await?;
    if count > limit.max {
        Ok(Err(Throttled {
            retry_after: (start + limit.window - now.0).max(1),
        }))
    } else {
        Ok(Ok(()))
    }
}
