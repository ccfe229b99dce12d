//! Guessers cannot lock an owner out: what one network can do is limited to that network, an
//! account under attack from many networks slows down instead of closing, and a browser the
//! owner logged in from before (device cookie) goes through while under its own limit.

use portcullis_core::login::SLOWDOWN_START;
use portcullis_core::throttle::{LOGIN_FAILURES_PER_ACCOUNT, LOGIN_PER_ACCOUNT_NETWORK};
use portcullis_core::time::Clock as _;
use portcullis_http::client_ip::{ForwardedHeader, TrustedProxies};
use portcullis_testkit::flow::{PASSWORD, browser, hidden, location};
use portcullis_testkit::{TestApp, spawn_app_configured};

const EMAIL: &str = "owner@example.com";

/// An app behind a proxy on loopback, so tests choose the client address.
async fn app() -> TestApp {
    let app = spawn_app_configured(|c| {
        c.limits.trusted_proxies = TrustedProxies {
            networks: vec!["127.0.0.0/8".parse().unwrap()],
            header: ForwardedHeader::XForwardedFor,
        };
    })
    .await;
    // Start at the start of a quarter hour, so that the tests' waits stay in one window.
    let now = app.clock.now().0;
    app.clock.advance(
        LOGIN_FAILURES_PER_ACCOUNT.window - now.rem_euclid(LOGIN_FAILURES_PER_ACCOUNT.window),
    );
    app.user(EMAIL).await;
    app
}

/// How a login attempt ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    LoggedIn,
    WrongPassword,
    /// 429, with its `Retry-After`.
    Throttled(i64),
}

async fn attempt(app: &TestApp, browser: &reqwest::Client, from: &str, password: &str) -> Outcome {
    let page = browser.get(app.url("/login")).send().await.unwrap();
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    let response = browser
        .post(app.url("/login"))
        .header("x-forwarded-for", from)
        .form(&[
            ("email", EMAIL),
            ("password", password),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    match response.status().as_u16() {
        429 => Outcome::Throttled(
            response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap(),
        ),
        303 if location(&app.base, &response).path() == "/account" => Outcome::LoggedIn,
        303 => Outcome::WrongPassword,
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn a_guesser_on_one_network_cannot_stop_the_owner_on_another_nor_guess_faster() {
    let app = app().await;
    let guesser = browser();
    for quarter in 0..3 {
        let mut checked = 0;
        for n in 0..20 {
            // Anywhere in its /24: one network.
            let from = format!("203.0.113.{}", n + 1);
            match attempt(&app, &guesser, &from, "wrong password!").await {
                Outcome::WrongPassword => checked += 1,
                Outcome::Throttled(_) => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            checked, LOGIN_PER_ACCOUNT_NETWORK.max,
            "guesses checked in quarter {quarter}"
        );
        // The owner, in a browser never used before, from home: straight in.
        assert_eq!(
            attempt(&app, &browser(), "198.51.100.7", PASSWORD).await,
            Outcome::LoggedIn,
            "quarter {quarter}"
        );
        app.clock.advance(LOGIN_PER_ACCOUNT_NETWORK.window);
    }
}

#[tokio::test]
async fn guessers_on_many_networks_slow_the_account_down_and_the_owners_browser_goes_through() {
    let app = app().await;
    // The owner logged in from this browser before: it holds a device cookie.
    let owner = browser();
    assert_eq!(
        attempt(&app, &owner, "198.51.100.7", PASSWORD).await,
        Outcome::LoggedIn
    );
    // Guessers spread over many networks use the account's allowance up...
    let guesser = browser();
    for n in 0..LOGIN_FAILURES_PER_ACCOUNT.max {
        let from = format!("192.0.{n}.1");
        assert_eq!(
            attempt(&app, &guesser, &from, "wrong password!").await,
            Outcome::WrongPassword
        );
    }
    // ...and from then on get one guess per delay, which doubles with each failure.
    let mut waits = Vec::new();
    for n in 100..103 {
        let from = format!("192.0.{n}.1");
        assert_eq!(
            attempt(&app, &guesser, &from, "wrong password!").await,
            Outcome::WrongPassword,
            "one through the gate"
        );
        let Outcome::Throttled(wait) = attempt(
            &app,
            &guesser,
            &format!("192.0.{}.1", n + 50),
            "wrong password!",
        )
        .await
        else {
            panic!("the next one waits");
        };
        waits.push(wait);
        app.clock.advance(wait);
    }
    assert_eq!(
        waits,
        [SLOWDOWN_START, 2 * SLOWDOWN_START, 4 * SLOWDOWN_START]
    );
    let from = "192.0.200.1";
    assert_eq!(
        attempt(&app, &guesser, from, "wrong password!").await,
        Outcome::WrongPassword
    );
    // The account is slowed for every browser it does not know, even with the right password
    // (the guessers learn nothing from the answer)...
    assert!(matches!(
        attempt(&app, &browser(), "198.51.100.8", PASSWORD).await,
        Outcome::Throttled(_)
    ));
    // ...but the owner's own browser goes straight in, from anywhere.
    assert_eq!(
        attempt(&app, &owner, "203.0.113.50", PASSWORD).await,
        Outcome::LoggedIn
    );
}

#[tokio::test]
async fn a_stolen_device_cookie_gets_only_the_devices_own_allowance() {
    let app = app().await;
    let owner = browser();
    assert_eq!(
        attempt(&app, &owner, "198.51.100.7", PASSWORD).await,
        Outcome::LoggedIn
    );
    // The cookie copied into the guesser's browser: it is the same browser as far as the
    // server can tell, so it gets the device's tries...
    let mut checked = 0;
    for n in 0..20 {
        let from = format!("192.0.{n}.1");
        if attempt(&app, &owner, &from, "wrong password!").await == Outcome::WrongPassword {
            checked += 1;
        }
    }
    // ...then it is an unknown browser. Its failures counted against the account all along,
    // so it gets what is left of the account's allowance, then one through the slowdown's
    // gate: no more than a guesser without the cookie.
    const { assert!(portcullis_core::throttle::LOGIN_PER_DEVICE.max < LOGIN_FAILURES_PER_ACCOUNT.max) };
    assert_eq!(checked, LOGIN_FAILURES_PER_ACCOUNT.max + 1);
}
