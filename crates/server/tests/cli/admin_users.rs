//! `portcullis user create|list|show|disable|set-kyc` as an operator runs them.

use portcullis_core::banking::profile::{KycState, Profile, ProfileKind};
use portcullis_core::store::{BankStore as _, UserStore as _};
use portcullis_core::time::{Clock as _, SystemClock};
use portcullis_core::user::verify_password;
use portcullis_proto::{ProfileId, UserId};
use portcullis_store::{SqlStore, StoreOptions};
use serde_json::{Value, json};

use crate::admin_cli::{Operator, field, refused};

async fn store(operator: &Operator) -> SqlStore {
    SqlStore::connect(&StoreOptions::new(operator.database_url()))
        .await
        .unwrap()
}

/// Whether `password` is the stored password of `email`.
async fn password_is(operator: &Operator, email: &str, password: &str) -> bool {
    let store = store(operator).await;
    let user = store.user_by_email(email).await.unwrap().unwrap();
    store.close().await;
    verify_password(
        &user.password_hash.unwrap(),
        &portcullis_proto::Secret::new(password),
    )
}

fn create_with_password(operator: &Operator, email: &str, input: &str, json: bool) -> String {
    let mut args = vec!["user", "create", "--email", email, "--name", "Ada Lovelace"];
    if json {
        args.push("--json");
    }
    let output = operator.run_with_input(&args, input);
    assert!(output.success, "{}", output.stderr);
    output.stdout
}

#[tokio::test]
async fn create_reads_the_password_from_standard_input() {
    let operator = Operator::new();
    let out = create_with_password(
        &operator,
        "Ada@Example.com",
        "correct horse battery staple\n",
        false,
    );
    let id = field(&out, "id");
    assert_eq!(field(&out, "email"), "ada@example.com");
    assert_eq!(field(&out, "name"), "Ada Lovelace");
    assert_eq!(field(&out, "disabled"), "false");
    assert!(!out.contains("correct horse"), "{out}");
    assert!(
        !out.contains("password"),
        "no password was generated: {out}"
    );
    assert!(password_is(&operator, "ada@example.com", "correct horse battery staple").await);

    // --json; a CRLF line ending is not part of the password.
    let view: Value = serde_json::from_str(&create_with_password(
        &operator,
        "bob@example.com",
        "another long password\r\n",
        true,
    ))
    .unwrap();
    assert_eq!(view["email"], "bob@example.com");
    assert_eq!(view["profiles"], json!([]));
    assert!(view.get("password").is_none());
    assert!(password_is(&operator, "bob@example.com", "another long password").await);

    // Refusals.
    let args = [
        "user",
        "create",
        "--email",
        "carol@example.com",
        "--name",
        "Carol",
    ];
    for (input, message) in [
        ("short\n", "choose a password of at least 10 characters"),
        ("", "choose a password of at least 10 characters"),
        (
            "qwertyuiop\n",
            "this password is one of the most common ones; choose another",
        ),
        (
            "  Carol@Example.com \n",
            "a password made of your email or name is easy to guess",
        ),
    ] {
        assert_eq!(
            refused(&args, &operator.run_with_input(&args, input)),
            message
        );
    }
    let taken = [
        "user",
        "create",
        "--email",
        "ADA@example.com",
        "--name",
        "Ada",
    ];
    assert_eq!(
        refused(
            &taken,
            &operator.run_with_input(&taken, "yet another password\n")
        ),
        "an account with this email already exists"
    );
    let bad = ["user", "create", "--email", "not-an-email", "--name", "X"];
    let message = refused(
        &bad,
        &operator.run_with_input(&bad, "a long enough password\n"),
    );
    assert!(message.contains("email"), "{message}");
    assert_eq!(
        operator
            .json(&["user", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(id.len(), 36);
}

#[tokio::test]
async fn generate_password_prints_it_once() {
    let operator = Operator::new();
    let out = operator.ok(&[
        "user",
        "create",
        "--email",
        "ada@example.com",
        "--name",
        "Ada",
        "--generate-password",
    ]);
    let line = field(&out, "password");
    let (password, note) = line.split_once(' ').unwrap();
    assert_eq!(password.len(), 43);
    assert_eq!(note.trim(), "(shown once)");
    assert!(password_is(&operator, "ada@example.com", password).await);

    let view = operator.json(&[
        "user",
        "create",
        "--email",
        "bob@example.com",
        "--name",
        "Bob",
        "--generate-password",
        "--json",
    ]);
    let password = view["password"].as_str().unwrap();
    assert!(password_is(&operator, "bob@example.com", password).await);
    let shown = operator.ok(&["user", "show", "bob@example.com", "--json"]);
    assert!(!shown.contains(password), "{shown}");
}

fn create(operator: &Operator, email: &str) -> String {
    let view = operator.json(&[
        "user",
        "create",
        "--email",
        email,
        "--name",
        "Test User",
        "--generate-password",
        "--json",
    ]);
    view["id"].as_str().unwrap().to_owned()
}

async fn add_profile(operator: &Operator, user: &str, id: &str) {
    let store = store(operator).await;
    let now = SystemClock.now();
    store
        .insert_profile(&Profile {
            id: ProfileId::new(id),
            user_id: UserId::new(user),
            kind: ProfileKind::Corporate,
            name: "Acme".into(),
            kyc: KycState::Pending,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    store.close().await;
}

#[tokio::test]
async fn list_show_disable_and_set_kyc() {
    let operator = Operator::new();
    let ada = create(&operator, "ada@example.com");
    let bob = create(&operator, "bob@example.com");
    add_profile(&operator, &ada, "acme").await;

    let text = operator.ok(&["user", "list"]);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["ID", "DISABLED", "EMAIL"]);
    let mut expected = vec![
        vec![ada.as_str(), "false", "ada@example.com"],
        vec![bob.as_str(), "false", "bob@example.com"],
    ];
    expected.sort();
    assert_eq!(lines[1..], expected);
    let list = operator.json(&["user", "list", "--json"]);
    let with_profile = list
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == ada.as_str())
        .unwrap();
    assert_eq!(
        with_profile["profiles"],
        json!([{"id": "acme", "kind": "corporate", "name": "Acme", "kyc": "pending"}])
    );

    // Show by id or by email, as text or JSON.
    let text = operator.ok(&["user", "show", "ada@example.com"]);
    assert_eq!(field(&text, "id"), ada);
    assert_eq!(
        field(&text, "profile"),
        "acme (corporate, Acme) kyc pending"
    );
    assert_eq!(
        operator.json(&["user", "show", &ada, "--json"]),
        *with_profile
    );
    assert_eq!(
        operator.fails(&["user", "show", "nobody@example.com"]),
        "no user \"nobody@example.com\""
    );

    // KYC, by user (their first profile) or by profile id.
    assert_eq!(
        operator
            .ok(&["user", "set-kyc", "ada@example.com", "--state", "approved"])
            .trim(),
        "profile acme kyc approved"
    );
    assert_eq!(
        operator
            .ok(&["user", "set-kyc", "acme", "--state", "rejected"])
            .trim(),
        "profile acme kyc rejected"
    );
    let text = operator.ok(&["user", "show", &ada]);
    assert_eq!(
        field(&text, "profile"),
        "acme (corporate, Acme) kyc rejected"
    );
    assert_eq!(
        operator.fails(&["user", "set-kyc", "acme", "--state", "verified"]),
        "--state must be absent, pending, approved or rejected"
    );
    assert_eq!(
        operator.fails(&["user", "set-kyc", "bob@example.com", "--state", "approved"]),
        "no profile \"bob@example.com\""
    );

    // Disable.
    assert_eq!(
        operator.ok(&["user", "disable", "bob@example.com"]).trim(),
        format!("disabled bob@example.com ({bob}); 0 grant(s) revoked")
    );
    assert_eq!(
        operator.json(&["user", "show", &bob, "--json"])["disabled"],
        true
    );
    let store = store(&operator).await;
    assert!(
        store
            .user(&UserId::new(bob.as_str()))
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    store.close().await;
    assert_eq!(
        operator.fails(&["user", "disable", "nobody"]),
        "no user \"nobody\""
    );
}

#[tokio::test]
async fn sandbox_fund_credits_a_profile_only_where_funding_is_on() {
    let operator = Operator::new();
    let ada = create(&operator, "ada@example.com");
    add_profile(&operator, &ada, "acme").await;
    operator.ok(&["user", "set-kyc", "acme", "--state", "approved"]);
    let fund = ["sandbox", "fund", "ada@example.com", "--amount", "12.34"];
    // Not a sandbox: money arrives by incoming transfer only.
    let off = operator.fails(&fund);
    assert!(off.starts_with("sandbox funding is off"), "{off}");
    let on = [("PORTCULLIS_SANDBOX_FUNDING", "true")];
    let output = operator.run_with_env(&fund, &on);
    assert!(output.success, "{}", output.stderr);
    assert!(
        output
            .stdout
            .starts_with("credited 12.34 EUR to profile acme"),
        "{}",
        output.stdout
    );
    for (args, error) in [
        (
            &["sandbox", "fund", "acme", "--amount", "12.345"][..],
            "--amount must be a positive number with at most 2 decimals",
        ),
        (
            &["sandbox", "fund", "acme", "--amount=-1"],
            "--amount must be a positive number",
        ),
        (
            &[
                "sandbox",
                "fund",
                "acme",
                "--amount",
                "1",
                "--currency",
                "btc",
            ],
            "--currency must be eur, usd, gbp or isk",
        ),
        (
            &["sandbox", "fund", "nobody@example.com", "--amount", "1"],
            "no profile \"nobody@example.com\"",
        ),
    ] {
        let message = refused(args, &operator.run_with_env(args, &on));
        assert!(message.starts_with(error), "{args:?}: {message}");
    }
    let store = store(&operator).await;
    let balances = store.balances_of(&ProfileId::new("acme")).await.unwrap();
    assert_eq!(balances.len(), 1);
    assert_eq!(balances[0].amount, 1_234);
    store.close().await;
    let events = operator.json(&["audit", "--json", "--kind", "sandbox_funded"]);
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["actor"], "cli");
    assert_eq!(events[0]["detail"]["amount"], 1_234);
}

#[tokio::test]
async fn update_sets_and_clears_the_phone_and_address_the_oidc_scopes_release() {
    let operator = Operator::new();
    let ada = create(&operator, "ada@example.com");
    let view = operator.json(&[
        "user",
        "update",
        "ada@example.com",
        "--phone",
        "+34 600 12 34 56",
        "--locality",
        "Madrid",
        "--country",
        "ES",
        "--json",
    ]);
    assert_eq!(view["phone_number"], "+34600123456");
    assert_eq!(view["phone_number_verified"], false);
    assert_eq!(
        view["address"],
        json!({"locality": "Madrid", "country": "ES"})
    );
    // One part changes, the others stay; the number is confirmed.
    let view = operator.json(&[
        "user",
        "update",
        &ada,
        "--postal-code",
        "28013",
        "--phone-verified",
        "true",
        "--json",
    ]);
    assert_eq!(
        view["address"],
        json!({"locality": "Madrid", "postal_code": "28013", "country": "ES"})
    );
    assert_eq!(view["phone_number_verified"], true);
    let text = operator.ok(&["user", "show", &ada]);
    assert!(text.contains("+34600123456 (confirmed)"), "{text}");
    assert!(text.contains("28013 Madrid, ES"), "{text}");
    // Refusals name the rule and change nothing.
    let refusal = operator.fails(&["user", "update", &ada, "--phone", "600123456"]);
    assert!(refusal.contains("international form"), "{refusal}");
    let view = operator.json(&[
        "user",
        "update",
        &ada,
        "--phone",
        "",
        "--clear-address",
        "--json",
    ]);
    assert!(view.get("phone_number").is_none(), "{view}");
    assert!(view.get("address").is_none(), "{view}");
    let store = store(&operator).await;
    let user = store.user(&UserId::new(ada)).await.unwrap().unwrap();
    store.close().await;
    assert_eq!(
        user.contact,
        portcullis_core::oauth::claims::Contact::default()
    );
}
