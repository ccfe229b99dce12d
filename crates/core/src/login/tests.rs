#![allow(clippy::unwrap_used)]

use std::net::IpAddr;

use super::*;
use crate::memory::MemoryStore;
use crate::random::OsRandom;
use crate::seal::Sealer;
use crate::throttle::{
    LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_NETWORK, LOGIN_PER_ACCOUNT_NETWORK,
    LOGIN_PER_DEVICE,
};
use crate::time::ManualClock;

const ALICE: &str = "alice@example.com";

struct Bench {
    db: MemoryStore,
    clock: ManualClock,
    limits: RateLimits,
}

impl Bench {
    fn new() -> Self {
        Self {
            db: MemoryStore::new(),
            // The start of a window, so that a window's worth of time is one whole window.
            clock: ManualClock::new(UnixTime(900 * 2_000)),
            limits: RateLimits::default(),
        }
    }

    fn throttle(&self) -> LoginThrottle<'_> {
        LoginThrottle {
            store: &self.db,
            clock: &self.clock,
            limits: &self.limits,
        }
    }

    /// One attempt that fails when admitted; what `admit` said.
    async fn fail(
        &self,
        email: &str,
        ip: &str,
        device: Option<&Device>,
    ) -> Result<Admitted, Refused> {
        let ip: IpAddr = ip.parse().unwrap();
        let attempt = Attempt::new(email, Some(ip), device);
        let admitted = self.throttle().admit(&attempt).await.unwrap();
        if admitted.is_ok() {
            self.throttle().failed(&attempt).await.unwrap();
        }
        admitted
    }

    /// One attempt that succeeds when admitted.
    async fn succeed(
        &self,
        email: &str,
        ip: &str,
        device: Option<&Device>,
    ) -> Result<Admitted, Refused> {
        let ip: IpAddr = ip.parse().unwrap();
        let attempt = Attempt::new(email, Some(ip), device);
        let admitted = self.throttle().admit(&attempt).await.unwrap();
        if let Ok(how) = admitted {
            self.throttle().succeeded(&attempt, how).await.unwrap();
        }
        admitted
    }

    fn device(&self, email: &str) -> Device {
        let sealer = Sealer::from_root(&[1u8; 32]);
        let value = Device::issue(&sealer, &OsRandom, self.clock.now(), email).unwrap();
        Device::open(&sealer, &value, self.clock.now()).unwrap()
    }
}

fn limit_of(result: Result<Admitted, Refused>) -> LoginLimit {
    result.unwrap_err().limit
}

#[tokio::test]
async fn one_network_gets_its_tries_per_account_then_waits_for_the_window() {
    let bench = Bench::new();
    for n in 0..LOGIN_PER_ACCOUNT_NETWORK.max {
        // Addresses anywhere in the /24 are one network.
        let ip = format!("198.51.100.{}", n + 1);
        assert_eq!(bench.fail(ALICE, &ip, None).await, Ok(Admitted::Limits));
    }
    let refused = bench.fail(ALICE, "198.51.100.99", None).await.unwrap_err();
    assert_eq!(refused.limit, LoginLimit::AccountNetwork);
    assert_eq!(
        refused.throttled.retry_after,
        LOGIN_PER_ACCOUNT_NETWORK.window
    );
    bench.clock.advance(LOGIN_PER_ACCOUNT_NETWORK.window);
    assert!(bench.fail(ALICE, "198.51.100.1", None).await.is_ok());
}

#[tokio::test]
async fn a_guesser_on_one_network_never_slows_the_owner_on_another() {
    let bench = Bench::new();
    for _window in 0..4 {
        let mut admitted = 0;
        for _ in 0..50 {
            if bench.fail(ALICE, "203.0.113.7", None).await.is_ok() {
                admitted += 1;
            }
        }
        assert_eq!(
            admitted, LOGIN_PER_ACCOUNT_NETWORK.max,
            "the guesser's rate"
        );
        assert_eq!(
            bench.succeed(ALICE, "198.51.100.1", None).await,
            Ok(Admitted::Limits),
            "the owner elsewhere is not even slowed"
        );
        bench.clock.advance(LOGIN_PER_ACCOUNT_NETWORK.window);
    }
}

#[tokio::test]
async fn failures_from_many_networks_slow_the_account_down_progressively() {
    let bench = Bench::new();
    for n in 0..LOGIN_FAILURES_PER_ACCOUNT.max {
        let ip = format!("192.0.{n}.1");
        assert!(bench.fail(ALICE, &ip, None).await.is_ok());
    }
    let mut waits = Vec::new();
    for n in 100..106 {
        let ip = format!("192.0.{n}.1");
        assert!(
            bench.fail(ALICE, &ip, None).await.is_ok(),
            "the gate was open"
        );
        let refused = bench.fail(ALICE, "192.0.200.1", None).await.unwrap_err();
        assert_eq!(refused.limit, LoginLimit::Account);
        waits.push(refused.throttled.retry_after);
        bench.clock.advance(refused.throttled.retry_after);
        if bench.clock.now().0 % LOGIN_FAILURES_PER_ACCOUNT.window == 0 {
            break;
        }
    }
    assert_eq!(waits[..4], [60, 120, 240, 480], "the delay doubles");
    // Never shut: the window's end starts the account afresh.
    assert!(bench.fail(ALICE, "192.0.201.1", None).await.is_ok());
}

#[tokio::test]
async fn a_trusted_browser_passes_the_slowdown_within_its_own_limit() {
    let bench = Bench::new();
    let device = bench.device(ALICE);
    for n in 0..=LOGIN_FAILURES_PER_ACCOUNT.max {
        bench.fail(ALICE, &format!("192.0.{n}.1"), None).await.ok();
    }
    assert_eq!(
        limit_of(bench.fail(ALICE, "198.51.100.1", None).await),
        LoginLimit::Account
    );
    // The owner's browser goes through, even from the guessers' network.
    assert_eq!(
        bench.succeed(ALICE, "192.0.0.1", Some(&device)).await,
        Ok(Admitted::Device)
    );
    // A device trusted for another account is not trusted for this one.
    let bobs = bench.device("bob@example.com");
    assert_eq!(
        limit_of(bench.fail(ALICE, "198.51.100.1", Some(&bobs)).await),
        LoginLimit::Account
    );
    // A stolen cookie gets the device's own allowance, then is treated as any browser.
    for _ in 0..LOGIN_PER_DEVICE.max {
        assert_eq!(
            bench.fail(ALICE, "198.51.100.1", Some(&device)).await,
            Ok(Admitted::Device)
        );
    }
    assert_eq!(
        limit_of(bench.fail(ALICE, "198.51.100.1", Some(&device)).await),
        LoginLimit::Account
    );
}

#[tokio::test]
async fn a_network_is_limited_by_its_failures_across_accounts() {
    let bench = Bench::new();
    // Logins that work do not use the network's allowance up.
    for n in 0..20 {
        assert!(
            bench
                .succeed(&format!("user{n}@example.com"), "198.51.100.1", None)
                .await
                .is_ok()
        );
    }
    for n in 0..LOGIN_FAILURES_PER_NETWORK.max {
        let email = format!("victim{n}@example.com");
        assert!(
            bench.fail(&email, "198.51.100.2", None).await.is_ok(),
            "{n}"
        );
    }
    let refused = bench
        .fail("another@example.com", "198.51.100.3", None)
        .await
        .unwrap_err();
    assert_eq!(refused.limit, LoginLimit::Network);
    assert!(
        bench
            .fail("another@example.com", "198.51.101.3", None)
            .await
            .is_ok(),
        "next network"
    );
}

#[tokio::test]
async fn a_successful_login_clears_its_network_and_device_counts_not_the_account() {
    let bench = Bench::new();
    for _ in 1..LOGIN_PER_ACCOUNT_NETWORK.max {
        assert!(bench.fail(ALICE, "198.51.100.1", None).await.is_ok());
    }
    assert!(bench.succeed(ALICE, "198.51.100.1", None).await.is_ok());
    for _ in 0..LOGIN_PER_ACCOUNT_NETWORK.max {
        assert!(bench.fail(ALICE, "198.51.100.1", None).await.is_ok());
    }
    let device = bench.device(ALICE);
    for _ in 1..LOGIN_PER_DEVICE.max {
        assert!(
            bench
                .fail(ALICE, "203.0.113.1", Some(&device))
                .await
                .is_ok()
        );
    }
    assert!(
        bench
            .succeed(ALICE, "203.0.113.1", Some(&device))
            .await
            .is_ok()
    );
    for _ in 0..LOGIN_PER_DEVICE.max {
        assert_eq!(
            bench.fail(ALICE, "203.0.113.1", Some(&device)).await,
            Ok(Admitted::Device)
        );
    }
    // 4 + 5 + 4 + 5 failures: the owner's successes left the account's count alone, so
    // it is slowed down: one attempt through the gate, then a wait.
    assert!(bench.fail(ALICE, "192.0.2.1", None).await.is_ok());
    assert_eq!(
        limit_of(bench.fail(ALICE, "192.0.2.1", None).await),
        LoginLimit::Account
    );
}

#[test]
fn the_slowdown_doubles_up_to_its_cap() {
    assert_eq!(slowdown(0, 900), SLOWDOWN_START);
    assert_eq!(slowdown(1, 900), 2 * SLOWDOWN_START);
    assert_eq!(slowdown(3, 900), 480);
    assert_eq!(slowdown(4, 900), 900);
    for huge in [62, 63, 64, 1_000, u64::MAX] {
        assert_eq!(slowdown(huge, 900), 900, "{huge}");
    }
    assert_eq!(slowdown(0, 0), 1);
}
