//! Logging in and signing up (`account::login`, `account::sign_up`) on the memory store, with
//! a password check that says what it was asked.

use std::sync::Mutex;

use portcullis_proto::Secret;

use super::bench::{ALICE, Bench};
use crate::account::{
    AccountContext, LoginAttempt, LoginOutcome, Passwords, SignUpAttempt, SignUpOutcome, login,
    sign_up,
};
use crate::admin::users::{self, NewUserError, PreparedUser};
use crate::audit::AuditKind;
use crate::random::OsRandom;
use crate::store::UserStore as _;
use crate::throttle::{Limit, RateLimits};
use crate::user::DUMMY_PASSWORD_HASH;

/// Accepts `hash == "h:" + password`; remembers each hash it was asked about.
#[derive(Debug, Default)]
struct Fake {
    asked: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl Passwords for Fake {
    async fn verify(&self, hash: String, password: Secret) -> bool {
        let right = hash == format!("h:{}", password.expose());
        self.asked.lock().unwrap().push(hash);
        right
    }

    async fn prepare(
        &self,
        email: String,
        name: String,
        password: Secret,
    ) -> Result<PreparedUser, NewUserError> {
        users::prepare(&OsRandom, &email, &name, &password)
    }
}

fn ctx<'a>(bench: &'a Bench, limits: &'a RateLimits, passwords: &'a Fake) -> AccountContext<'a> {
    AccountContext {
        store: bench.store.as_ref(),
        clock: bench.clock.as_ref(),
        audit: &bench.audit,
        limits,
        random: &OsRandom,
        passwords,
    }
}

async fn with_password(bench: &Bench, password: &str) {
    let mut alice = bench.alice().await;
    alice.password_hash = Some(format!("h:{password}"));
    assert!(bench.store.update_user(&alice).await.unwrap());
}

fn attempt<'a>(email: &'a str, password: &str) -> LoginAttempt<'a> {
    LoginAttempt {
        email,
        password: Secret::new(password),
        ip: Some("192.0.2.7".parse().unwrap()),
        device: None,
    }
}

#[tokio::test]
async fn the_right_password_logs_in_and_a_wrong_one_or_unknown_email_is_refused_alike() {
    let bench = Bench::new().await;
    with_password(&bench, "correct horse").await;
    let (limits, fake) = (RateLimits::default(), Fake::default());
    let ctx = ctx(&bench, &limits, &fake);

    let outcome = login(ctx, attempt("  ALICE@example.com ", "correct horse"))
        .await
        .unwrap();
    let LoginOutcome::LoggedIn { user, email } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(user.id.as_str(), ALICE);
    assert_eq!(email, "alice@example.com", "normalised");

    let wrong = login(ctx, attempt("alice@example.com", "wrong"))
        .await
        .unwrap();
    assert!(matches!(wrong, LoginOutcome::Refused), "{wrong:?}");
    let unknown = login(ctx, attempt("nobody@example.com", "correct horse"))
        .await
        .unwrap();
    assert!(matches!(unknown, LoginOutcome::Refused), "{unknown:?}");
    // The unknown account was checked against the dummy hash: the same work either way.
    assert_eq!(
        fake.asked.lock().unwrap().last().unwrap(),
        DUMMY_PASSWORD_HASH
    );
    assert_eq!(
        bench.audited(),
        [
            AuditKind::LoginSucceeded,
            AuditKind::LoginFailed,
            AuditKind::LoginFailed
        ]
    );
    let events = bench.audit.events();
    assert_eq!(
        events[1]
            .user_id
            .as_ref()
            .map(portcullis_proto::UserId::as_str),
        Some(ALICE)
    );
    assert_eq!(events[2].user_id, None);
    assert_eq!(events[0].ip.as_deref(), Some("192.0.2.7"));
}

#[tokio::test]
async fn a_disabled_account_is_refused_even_with_its_password() {
    let bench = Bench::new().await;
    with_password(&bench, "correct horse").await;
    let mut alice = bench.alice().await;
    alice.disabled = true;
    bench.store.update_user(&alice).await.unwrap();
    let (limits, fake) = (RateLimits::default(), Fake::default());
    let outcome = login(
        ctx(&bench, &limits, &fake),
        attempt("alice@example.com", "correct horse"),
    )
    .await
    .unwrap();
    assert!(matches!(outcome, LoginOutcome::Refused), "{outcome:?}");
}

#[tokio::test]
async fn past_the_account_network_limit_logins_are_throttled_before_the_password() {
    let bench = Bench::new().await;
    with_password(&bench, "correct horse").await;
    let limits = RateLimits {
        login_per_account_network: Limit {
            max: 2,
            window: 900,
        },
        ..RateLimits::default()
    };
    let fake = Fake::default();
    let ctx = ctx(&bench, &limits, &fake);
    for _ in 0..2 {
        let outcome = login(ctx, attempt("alice@example.com", "wrong"))
            .await
            .unwrap();
        assert!(matches!(outcome, LoginOutcome::Refused), "{outcome:?}");
    }
    let checked = fake.asked.lock().unwrap().len();
    let outcome = login(ctx, attempt("alice@example.com", "correct horse"))
        .await
        .unwrap();
    assert!(matches!(outcome, LoginOutcome::Throttled(_)), "{outcome:?}");
    assert_eq!(
        fake.asked.lock().unwrap().len(),
        checked,
        "no password was checked"
    );
    assert_eq!(bench.audited().last(), Some(&AuditKind::Throttled));
}

#[tokio::test]
async fn sign_up_creates_the_account_once_and_refuses_rules_and_floods() {
    let bench = Bench::new().await;
    let limits = RateLimits {
        signup_per_ip: Limit {
            max: 3,
            window: 3600,
        },
        ..RateLimits::default()
    };
    let fake = Fake::default();
    let ctx = ctx(&bench, &limits, &fake);
    let form = |email: &'static str, password: &str| SignUpAttempt {
        email,
        name: "Nora",
        password: Secret::new(password),
        ip: Some("198.51.100.1".parse().unwrap()),
    };
    let created = sign_up(ctx, form("nora@example.com", "a long enough password"))
        .await
        .unwrap();
    let SignUpOutcome::Created(user) = created else {
        panic!("{created:?}");
    };
    assert!(bench.store.user(&user.id).await.unwrap().is_some());
    let taken = sign_up(ctx, form("NORA@example.com", "another long password"))
        .await
        .unwrap();
    assert!(
        matches!(taken, SignUpOutcome::Refused(NewUserError::EmailTaken)),
        "{taken:?}"
    );
    let short = sign_up(ctx, form("nina@example.com", "short"))
        .await
        .unwrap();
    assert!(
        matches!(short, SignUpOutcome::Refused(NewUserError::Password(_))),
        "{short:?}"
    );
    let flooded = sign_up(ctx, form("nico@example.com", "a long enough password"))
        .await
        .unwrap();
    assert!(
        matches!(flooded, SignUpOutcome::Throttled(_)),
        "{flooded:?}"
    );
    assert!(
        bench
            .store
            .user_by_email("nico@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(bench.audited(), [AuditKind::SignUp, AuditKind::Throttled]);
}
