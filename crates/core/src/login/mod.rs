//! Login throttling that slows guessers down without letting them lock the owner out.
//!
//! A lock-out per account ("five failures, then 429 for a quarter hour") is a weapon: anyone
//! who knows an email can keep its owner out for good with five requests per quarter hour.
//! Instead an attempt meets, in order:
//!
//! 1. **A trusted browser** ([`Device`], a device cookie from an earlier login to this account)
//!    meets only its own limit, `login_per_device`; past it, it is treated as any browser.
//! 2. **The client network** (its /24 or /64, [`network_key`]) may fail
//!    `login_failures_per_network` times across accounts (credential stuffing).
//! 3. **The account from this network** gets `login_per_account_network` attempts; a
//!    successful login clears them. A guesser on one network is held to this.
//! 4. **The account from every network**: once it has failed `login_failures_per_account`
//!    times, it slows down instead of closing: one attempt passes a gate, which then stays
//!    shut for [`SLOWDOWN_START`] seconds, doubled at each further failure up to the window.
//!    Twice the per-network allowance, so one network alone never triggers it.
//!
//! Every count is keyed by the normalised email, known or not, so an unknown account is
//! throttled exactly like a real one and the answers say nothing about which exist.

pub mod device;

pub use device::{DEVICE_COOKIE_TTL, Device};

use std::net::IpAddr;

use crate::store::{RateLimitStore, StoreError};
use crate::throttle::{self, RateLimits, Throttled, network_key};
use crate::time::{Clock, UnixTime};

/// The first delay of an account's slowdown, in seconds; each further failure doubles it, up
/// to the window of `login_failures_per_account`.
pub const SLOWDOWN_START: i64 = 60;

/// The limit that refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginLimit {
    /// Failures from the client network, across accounts.
    Network,
    /// Attempts at the account from the client network.
    AccountNetwork,
    /// The account's slowdown, after failures from several networks.
    Account,
}

impl LoginLimit {
    /// The name used in logs and the audit trail.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Network => "network",
            Self::AccountNetwork => "account_network",
            Self::Account => "account",
        }
    }
}

/// An attempt was refused before its password was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// Which limit.
    pub limit: LoginLimit,
    /// When to retry.
    pub throttled: Throttled,
}

/// How an attempt was let through; say it again when reporting the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admitted {
    /// From a trusted browser, within the device's own limit.
    Device,
    /// Within the network and account limits.
    Limits,
}

/// One login attempt: the account and where it comes from.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    email: &'a str,
    network: String,
    device: Option<&'a Device>,
}

impl<'a> Attempt<'a> {
    /// An attempt at `email` (normalised) from `ip`, in a browser holding `device` (which only
    /// counts when it was trusted for this very account).
    #[must_use]
    pub fn new(email: &'a str, ip: Option<IpAddr>, device: Option<&'a Device>) -> Self {
        Self {
            email,
            network: network_key(ip),
            device: device.filter(|d| d.is_for(email)),
        }
    }

    fn network_attempts(&self) -> String {
        format!("login:network:{}", self.network)
    }

    fn network_successes(&self) -> String {
        format!("login:network-ok:{}", self.network)
    }

    fn pair(&self) -> String {
        format!("login:account-network:{}:{}", self.network, self.email)
    }

    fn account_failures(&self) -> String {
        format!("login:account:{}", self.email)
    }

    fn account_gate(&self) -> String {
        format!("login:account-gate:{}", self.email)
    }
}

fn device_key(device: &Device) -> String {
    format!("login:device:{}", device.id())
}

/// The login limits over the shared counters (see the module documentation).
#[derive(Clone, Copy)]
pub struct LoginThrottle<'a> {
    /// The counters.
    pub store: &'a dyn RateLimitStore,
    /// The clock.
    pub clock: &'a dyn Clock,
    /// The limits.
    pub limits: &'a RateLimits,
}

impl std::fmt::Debug for LoginThrottle<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("limits", self.limits)
            .finish_non_exhaustive()
    }
}

type Decision<T> = Result<Result<T, Refused>, StoreError>;

impl LoginThrottle<'_> {
    /// Counts the attempt and says whether its password may be checked.
    ///
    /// # Errors
    /// Storage failures: callers refuse the attempt rather than let it through unlimited.
    pub async fn admit(&self, attempt: &Attempt<'_>) -> Decision<Admitted> {
        if let Some(device) = attempt.device {
            let key = device_key(device);
            if throttle::hit(self.store, self.clock, &key, self.limits.login_per_device)
                .await?
                .is_ok()
            {
                return Ok(Ok(Admitted::Device));
            }
            // Past its own limit the device may be a stolen cookie: no longer trusted.
        }
        if let Err(throttled) = self.network(attempt).await? {
            return Ok(Err(refused(LoginLimit::Network, throttled)));
        }
        let pair = self.limits.login_per_account_network;
        if let Err(throttled) = throttle::hit(self.store, self.clock, &attempt.pair(), pair).await?
        {
            return Ok(Err(refused(LoginLimit::AccountNetwork, throttled)));
        }
        if let Err(throttled) = self.account(attempt).await? {
            return Ok(Err(refused(LoginLimit::Account, throttled)));
        }
        Ok(Ok(Admitted::Limits))
    }

    /// Records a successful login: the account's attempts from this network and the device's
    /// are cleared, and the network is credited. The account's failures stay: the owner
    /// logging in must not hand a guesser elsewhere a fresh allowance.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn succeeded(
        &self,
        attempt: &Attempt<'_>,
        admitted: Admitted,
    ) -> Result<(), StoreError> {
        self.store.reset(&attempt.pair()).await?;
        match (admitted, attempt.device) {
            (Admitted::Device, Some(device)) => self.store.reset(&device_key(device)).await,
            _ => {
                let limit = self.limits.login_failures_per_network;
                let start = limit.window_start(self.clock.now());
                self.store
                    .hit(&attempt.network_successes(), start)
                    .await
                    .map(drop)
            }
        }
    }

    /// Records a failed login against the account.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn failed(&self, attempt: &Attempt<'_>) -> Result<(), StoreError> {
        let limit = self.limits.login_failures_per_account;
        let start = limit.window_start(self.clock.now());
        self.store
            .hit(&attempt.account_failures(), start)
            .await
            .map(drop)
    }

    /// Every attempt from the network is counted at once (so a burst cannot outrun the
    /// count), and its successful logins are taken off when the count is over the limit: what
    /// is limited is failures, and an office of users logging in is not refused.
    async fn network(&self, attempt: &Attempt<'_>) -> Result<Result<(), Throttled>, StoreError> {
        let limit = self.limits.login_failures_per_network;
        let now = self.clock.now();
        let start = limit.window_start(now);
        let attempts = self.store.hit(&attempt.network_attempts(), start).await?;
        if attempts <= limit.max {
            return Ok(Ok(()));
        }
        let successes = self
            .store
            .count(&attempt.network_successes(), start)
            .await?;
        let failures = attempts.saturating_sub(successes);
        if failures <= limit.max {
            Ok(Ok(()))
        } else {
            Ok(Err(Throttled {
                retry_after: limit.retry_after(start, now),
                first: failures == limit.max.saturating_add(1),
            }))
        }
    }

    /// Past its failure allowance the account lets one attempt through its gate, then shuts
    /// it for a delay that doubles with each further failure.
    async fn account(&self, attempt: &Attempt<'_>) -> Result<Result<(), Throttled>, StoreError> {
        let limit = self.limits.login_failures_per_account;
        let now = self.clock.now();
        let failures = self
            .store
            .count(&attempt.account_failures(), limit.window_start(now))
            .await?;
        let Some(excess) = failures.checked_sub(limit.max) else {
            return Ok(Ok(()));
        };
        let delay = slowdown(excess, limit.window);
        let until = UnixTime(now.0.saturating_add(delay));
        match self
            .store
            .pass_gate(&attempt.account_gate(), now, until)
            .await?
        {
            None => Ok(Ok(())),
            Some(open_at) => Ok(Err(Throttled {
                retry_after: open_at.0.saturating_sub(now.0).max(1),
                first: true,
            })),
        }
    }
}

fn refused(limit: LoginLimit, throttled: Throttled) -> Refused {
    Refused { limit, throttled }
}

/// The gate's delay after `excess` failures past the allowance: [`SLOWDOWN_START`] doubled
/// `excess` times, at most `cap` seconds.
#[must_use]
pub fn slowdown(excess: u64, cap: i64) -> i64 {
    let cap = cap.max(1);
    u32::try_from(excess)
        .ok()
        .and_then(|shift| SLOWDOWN_START.checked_mul(1_i64.checked_shl(shift)?))
        .filter(|delay| *delay > 0)
        .map_or(cap, |delay| delay.min(cap))
}

#[cfg(test)]
mod tests;
