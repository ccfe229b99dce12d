//! Wallets and IBANs: the wallet step links an address only on its owner's `personal_sign` of
//! a Sign-In with Ethereum message (EIP-4361) issued for this attempt, and refuses every other
//! proof (another key, the fixed Monerium text, a message for another site, user or profile,
//! an expired, used, unknown or altered message) with a clear message; issued IBANs carry valid
//! ISO 13616 check digits, checked with an independent library (`iban_validate`).

use portcullis_core::banking::ownership::{self, CHALLENGE_SECONDS, STATEMENT};
use portcullis_core::banking::profile::{Profile, ProfileKind};
use portcullis_core::banking::siwe::SiweMessage;
use portcullis_core::banking::wallet::{Chain, FIXED_OWNERSHIP_MESSAGE, SigningKey, sign_personal};
use portcullis_core::random::OsRandom;
use portcullis_core::store::{BankStore as _, UserStore as _};
use portcullis_core::time::Clock as _;
use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{
    PASSWORD, Pkce, TestWallet, browser, hidden, location, param, request, shown_message, unescape,
};
use portcullis_testkit::spawn_app;

use crate::banking_kit::{access, banking_client, get, profiles_of};

const EMAIL: &str = "nora@example.com";

/// The well-known test key 0x4c08…2318 and its address.
const KNOWN_KEY: &str = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
const KNOWN_ADDRESS: &str = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";

fn known_key() -> SigningKey {
    let bytes: Vec<u8> = (0..KNOWN_KEY.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&KNOWN_KEY[i..i + 2], 16).unwrap())
        .collect();
    SigningKey::from_slice(&bytes).unwrap()
}

/// `key`'s `personal_sign` of `message`, as a wallet would produce it.
fn sign(key: &SigningKey, message: &str) -> String {
    sign_personal(key, message).unwrap()
}

/// A browser at the wallet step of a pending request of `email`; returns it, the request id
/// and the page.
async fn at_wallet_step_of(app: &TestApp, email: &str) -> (reqwest::Client, String, String) {
    let (client, _) = banking_client(app, "Monerium Demo").await;
    app.user(email).await;
    let browser = browser();
    let pkce = Pkce::new();
    let response = app
        .authorize(&browser, &request(client.id.as_str(), &pkce, "wallet:read"))
        .await;
    let request_id = param(&location(&app.base, &response), "request").unwrap();
    let response = app
        .login(&browser, email, PASSWORD, Some(&request_id))
        .await;
    let mut page = app.follow(&browser, response).await;
    for path in ["/onboarding/profile", "/onboarding/kyc"] {
        let html = page.text().await.unwrap();
        let response = app.onboarding_step(&browser, path, &html).await;
        page = app.follow(&browser, response).await;
    }
    assert_eq!(page.url().path(), "/onboarding/wallet");
    (browser, request_id, page.text().await.unwrap())
}

async fn at_wallet_step(app: &TestApp) -> (reqwest::Client, String, String) {
    at_wallet_step_of(app, EMAIL).await
}

/// Asks for a message for `address` on `chain`; returns the page that shows it.
async fn message_page(
    app: &TestApp,
    browser: &reqwest::Client,
    html: &str,
    chain: &str,
    address: &str,
) -> String {
    let response = app.wallet_message(browser, html, chain, address).await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn post_proof(
    app: &TestApp,
    browser: &reqwest::Client,
    html: &str,
    message: &str,
    signature: &str,
) -> reqwest::Response {
    let form = [
        ("csrf", hidden(html, "csrf")),
        ("request", hidden(html, "request")),
        ("message", message.to_owned()),
        ("signature", signature.to_owned()),
    ];
    browser
        .post(app.url("/onboarding/wallet"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The alert of a refused form, unescaped.
async fn alert_of(response: reqwest::Response) -> (String, String) {
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    let alert = page
        .split("role=\"alert\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no alert in {page}"))
        .split("</p>")
        .next()
        .unwrap()
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"");
    (alert, page)
}

fn assert_alert(alert: &str, expected: &str) {
    assert!(
        alert.to_lowercase().contains(&expected.to_lowercase()),
        "expected {expected:?} in {alert:?}"
    );
}

async fn wallets_of_user(app: &TestApp, email: &str) -> Vec<portcullis_core::store::WalletRecord> {
    let user = app.store.user_by_email(email).await.unwrap().unwrap();
    let profiles = profiles_of(app, &user.id).await;
    app.store.wallets_of(&profiles[0].id).await.unwrap()
}

async fn profile_of(app: &TestApp, email: &str) -> Profile {
    let user = app.store.user_by_email(email).await.unwrap().unwrap();
    profiles_of(app, &user.id).await.remove(0)
}

#[test]
fn the_known_key_has_its_well_known_address() {
    assert_eq!(TestWallet::of(known_key()).address, KNOWN_ADDRESS);
}

#[tokio::test]
async fn the_wallet_step_issues_an_eip4361_message_bound_to_this_site_and_attempt() {
    let app = spawn_app().await;
    let (browser, _, html) = at_wallet_step(&app).await;
    assert!(
        html.contains("action=\"/onboarding/wallet/message\""),
        "{html}"
    );
    let now = app.clock.now();
    let page = message_page(
        &app,
        &browser,
        &html,
        "gnosis",
        &KNOWN_ADDRESS.to_lowercase(),
    )
    .await;
    let text = shown_message(&page);
    let shown = page
        .split("<pre id=\"message\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("the page shows the message: {page}"));
    assert_eq!(
        unescape(shown),
        text,
        "the message shown is the one carried back"
    );
    let message = SiweMessage::parse(&text).unwrap();
    let site = app.ownership_site();
    let issuer = url::Url::parse(&app.issuer).unwrap();
    assert_eq!(
        message.domain,
        format!("127.0.0.1:{}", issuer.port().unwrap())
    );
    assert_eq!(
        message.scheme.as_deref(),
        Some("http"),
        "the issuer is http"
    );
    assert_eq!(message.uri, format!("{}/onboarding/wallet", app.issuer));
    assert_eq!(
        (message.domain.as_str(), message.uri.as_str()),
        (site.domain.as_str(), site.uri.as_str())
    );
    assert_eq!(message.address.checksummed(), KNOWN_ADDRESS);
    assert_eq!(message.chain_id, 100, "Gnosis Chain");
    assert_eq!(message.statement.as_deref(), Some(STATEMENT));
    assert_eq!(message.issued_at, now);
    assert_eq!(message.expiration_time, Some(now.plus(CHALLENGE_SECONDS)));
    assert!(message.nonce.len() >= 16, "{}", message.nonce);
    // Each attempt gets its own nonce.
    let again = shown_message(&message_page(&app, &browser, &html, "gnosis", KNOWN_ADDRESS).await);
    assert_ne!(SiweMessage::parse(&again).unwrap().nonce, message.nonce);
    // A malformed address or chain is refused at the first form, what was typed kept.
    for (chain, address, expected) in [
        (
            "ethereum",
            "0x2c7536e3605d9c16a7a3d7b1898e529396a65c2",
            "40 hexadecimal",
        ),
        (
            "ethereum",
            "0x2c7536E3605D9C16a7a3D7b1898e529396a65C23",
            "EIP-55 checksum",
        ),
        ("bitcoin", KNOWN_ADDRESS, "unknown chain"),
    ] {
        let response = app.wallet_message(&browser, &html, chain, address).await;
        let (alert, page) = alert_of(response).await;
        assert_alert(&alert, expected);
        assert!(page.contains(address), "the address entered is kept");
    }
}

#[tokio::test]
async fn the_wallet_step_refuses_every_proof_but_the_owners_signature_of_the_message_issued() {
    let app = spawn_app().await;
    let (browser, request_id, html) = at_wallet_step(&app).await;
    let page = message_page(&app, &browser, &html, "gnosis", KNOWN_ADDRESS).await;
    let message = shown_message(&page);
    let owner = known_key();
    let other = TestWallet::new();
    let good = sign(&owner, &message);
    let mut bad_v = good.clone();
    bad_v.replace_range(bad_v.len() - 2.., "05");
    let altered_chain = message.replace("Chain ID: 100", "Chain ID: 1");
    let altered_expiry = {
        let parsed = SiweMessage::parse(&message).unwrap();
        SiweMessage {
            expiration_time: parsed.expiration_time.map(|t| t.plus(86_400)),
            ..parsed
        }
        .to_string()
    };
    let wrong_signer = "the signature was not made by this address's key for the message shown";
    let malformed = "a signature is 0x followed by 130 hexadecimal digits";
    let cases = [
        (message.clone(), other.sign(&message), wrong_signer),
        (
            message.clone(),
            sign(&owner, "Pay 100 EUR to Mallory"),
            wrong_signer,
        ),
        // The fixed text the Monerium guide has owners sign proves nothing here.
        (
            message.clone(),
            sign(&owner, FIXED_OWNERSHIP_MESSAGE),
            "fixed text",
        ),
        (message.clone(), "0x1234".to_owned(), malformed),
        (message.clone(), "not a signature".to_owned(), malformed),
        (message.clone(), bad_v, malformed),
        // The owner's signature of a message changed after it was issued.
        (
            altered_chain.clone(),
            sign(&owner, &altered_chain),
            "chain ID is not the one issued",
        ),
        (
            altered_expiry.clone(),
            sign(&owner, &altered_expiry),
            "expiration time is not the one issued",
        ),
        // The fixed text in place of the message.
        (
            FIXED_OWNERSHIP_MESSAGE.to_owned(),
            sign(&owner, FIXED_OWNERSHIP_MESSAGE),
            "not a Sign-In with Ethereum",
        ),
    ];
    for (text, signature, expected) in cases {
        let response = post_proof(&app, &browser, &html, &text, &signature).await;
        let (alert, _) = alert_of(response).await;
        assert_alert(&alert, expected);
    }
    assert!(wallets_of_user(&app, EMAIL).await.is_empty());

    // A refused signature leaves the message usable: the owner's signature of it, sent as a
    // browser sends a form's line breaks (CRLF), links the address on the chain chosen.
    let response = post_proof(&app, &browser, &html, &message.replace('\n', "\r\n"), &good).await;
    assert_eq!(response.status(), 303);
    let page = app.follow(&browser, response).await;
    assert_eq!(page.url().path(), "/onboarding/iban");
    assert_eq!(param(page.url(), "request").as_deref(), Some(&*request_id));
    let wallets = wallets_of_user(&app, EMAIL).await;
    assert_eq!(wallets.len(), 1);
    assert_eq!(wallets[0].address, KNOWN_ADDRESS);
    assert_eq!(wallets[0].chain, Chain::Gnosis);
}

/// The red team's finding: one signature of the fixed text, seen anywhere, linked the address
/// to an attacker's profile. Now a victim's signature is worth nothing to anyone else.
#[tokio::test]
async fn a_victims_signature_does_not_link_their_address_to_an_attackers_profile() {
    let app = spawn_app().await;
    let victim = known_key();
    let (attacker, _, html) = at_wallet_step_of(&app, "mallory@example.com").await;

    // The fixed text, signed by the victim for another service.
    let page = message_page(&app, &attacker, &html, "ethereum", KNOWN_ADDRESS).await;
    let response = post_proof(
        &app,
        &attacker,
        &html,
        &shown_message(&page),
        &sign(&victim, FIXED_OWNERSHIP_MESSAGE),
    )
    .await;
    assert_alert(&alert_of(response).await.0, "fixed text");

    // A message this site issued to the victim, signed by the victim, replayed by the
    // attacker: its nonce belongs to the victim's profile.
    let (owner_browser, _, owner_html) = at_wallet_step_of(&app, EMAIL).await;
    let victims = shown_message(
        &message_page(&app, &owner_browser, &owner_html, "ethereum", KNOWN_ADDRESS).await,
    );
    let victims_signature = sign(&victim, &victims);
    let response = post_proof(&app, &attacker, &html, &victims, &victims_signature).await;
    assert_alert(
        &alert_of(response).await.0,
        "issued for another account or profile",
    );

    // A Sign-In with Ethereum message the victim signed for another site, with the attacker's
    // own nonce put in: the domain and URI name that site.
    let attackers = SiweMessage::parse(&shown_message(
        &message_page(&app, &attacker, &html, "ethereum", KNOWN_ADDRESS).await,
    ))
    .unwrap();
    let elsewhere = SiweMessage {
        scheme: None,
        domain: "evil.example".into(),
        uri: "https://evil.example/login".into(),
        ..attackers.clone()
    }
    .to_string();
    let response = post_proof(
        &app,
        &attacker,
        &html,
        &elsewhere,
        &sign(&victim, &elsewhere),
    )
    .await;
    assert_alert(
        &alert_of(response).await.0,
        "signed for another site (evil.example)",
    );
    let same_host_other_scheme = SiweMessage {
        scheme: Some("https".into()),
        ..attackers.clone()
    }
    .to_string();
    let response = post_proof(
        &app,
        &attacker,
        &html,
        &same_host_other_scheme,
        &sign(&victim, &same_host_other_scheme),
    )
    .await;
    assert_alert(&alert_of(response).await.0, "signed for another site");

    // A nonce this site never issued.
    let unknown = SiweMessage {
        nonce: "0123456789abcdef0123456789abcdef".into(),
        ..attackers
    }
    .to_string();
    let response = post_proof(&app, &attacker, &html, &unknown, &sign(&victim, &unknown)).await;
    assert_alert(
        &alert_of(response).await.0,
        "nonce was not issued by this site",
    );

    assert!(
        wallets_of_user(&app, "mallory@example.com")
            .await
            .is_empty()
    );
    // The owner can still link their address.
    let response = post_proof(
        &app,
        &owner_browser,
        &owner_html,
        &victims,
        &victims_signature,
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(wallets_of_user(&app, EMAIL).await[0].address, KNOWN_ADDRESS);
}

#[tokio::test]
async fn an_expired_message_is_refused_and_a_new_one_works() {
    let app = spawn_app().await;
    let (browser, _, html) = at_wallet_step(&app).await;
    let message =
        shown_message(&message_page(&app, &browser, &html, "polygon", KNOWN_ADDRESS).await);
    let signature = sign(&known_key(), &message);
    app.clock.advance(CHALLENGE_SECONDS);
    let response = post_proof(&app, &browser, &html, &message, &signature).await;
    let (alert, page) = alert_of(response).await;
    assert_alert(&alert, "expired; ask for a new message");
    // The first form again, filled in from the message, to ask for a new one.
    assert!(
        page.contains("action=\"/onboarding/wallet/message\""),
        "{page}"
    );
    assert!(page.contains(KNOWN_ADDRESS), "{page}");
    assert!(page.contains("value=\"polygon\" selected"), "{page}");
    let fresh = shown_message(&message_page(&app, &browser, &html, "polygon", KNOWN_ADDRESS).await);
    let response = post_proof(&app, &browser, &html, &fresh, &sign(&known_key(), &fresh)).await;
    assert_eq!(response.status(), 303);
}

#[tokio::test]
async fn a_used_message_is_refused_as_already_used() {
    let app = spawn_app().await;
    let user = app.user(EMAIL).await;
    let profile = app
        .ready_profile(&user, ProfileKind::Personal, "First")
        .await;
    let second = app
        .ready_profile(&user, ProfileKind::Corporate, "Second ehf.")
        .await;
    let site = app.ownership_site();
    let wallet = TestWallet::new();
    let message = ownership::issue_challenge(
        &app.store,
        app.clock.as_ref(),
        &OsRandom,
        &site,
        &profile,
        Chain::Polygon,
        &wallet.address,
    )
    .await
    .unwrap()
    .to_string();
    let signature = wallet.sign(&message);
    let link = |profile: &Profile| {
        let (message, signature, site, profile) = (
            message.clone(),
            signature.clone(),
            site.clone(),
            profile.clone(),
        );
        let app = &app;
        async move {
            ownership::link_wallet(
                &app.store,
                app.clock.as_ref(),
                &OsRandom,
                &site,
                &profile,
                &message,
                &signature,
            )
            .await
        }
    };
    link(&profile).await.unwrap();
    let replay = link(&profile).await.unwrap_err();
    assert_eq!(
        replay.to_string(),
        "this message was already used; ask for a new message"
    );
    // Nor does it serve another profile of the same user.
    let other = link(&second).await.unwrap_err();
    assert!(
        other.to_string().contains("another account or profile"),
        "{other}"
    );
}

#[tokio::test]
async fn an_address_linked_to_another_profile_is_refused() {
    let app = spawn_app().await;
    let bob = app.customer("bob@example.com").await;
    let bobs = profiles_of(&app, &bob.id).await.remove(0);
    let wallet = TestWallet::new();
    app.prove_wallet(&bobs, Chain::Ethereum, &wallet)
        .await
        .unwrap();
    let (browser, _, html) = at_wallet_step(&app).await;
    let message =
        shown_message(&message_page(&app, &browser, &html, "ethereum", &wallet.address).await);
    let response = post_proof(&app, &browser, &html, &message, &wallet.sign(&message)).await;
    let (alert, _) = alert_of(response).await;
    assert_alert(&alert, "already linked to a profile");
    assert!(wallets_of_user(&app, EMAIL).await.is_empty());
    let _ = profile_of(&app, EMAIL).await;
}

#[tokio::test]
async fn the_wallet_page_loads_its_enhancement_script_from_this_origin() {
    let app = spawn_app().await;
    let (browser, _, html) = at_wallet_step(&app).await;
    let page = message_page(&app, &browser, &html, "ethereum", KNOWN_ADDRESS).await;
    for page in [&html, &page] {
        assert!(
            page.contains("<script src=\"/static/wallet.js\" defer></script>"),
            "{page}"
        );
        assert_eq!(
            page.matches("<script").count(),
            1,
            "no inline script: {page}"
        );
        // Without JavaScript the wallet buttons stay hidden and the forms work alone.
        assert!(
            page.contains("id=\"wallet-connect\" hidden")
                || page.contains("id=\"wallet-sign\" data-address"),
            "{page}"
        );
    }
    assert!(
        page.contains(&format!(
            "id=\"wallet-sign\" data-address=\"{KNOWN_ADDRESS}\" hidden"
        )),
        "{page}"
    );
    let script = app
        .http
        .get(app.url("/static/wallet.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    let header = |name: &str| {
        script
            .headers()
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header("x-content-type-options"), "nosniff");
    let body = script.text().await.unwrap();
    assert!(
        body.contains("personal_sign") && body.contains("eth_requestAccounts"),
        "{body}"
    );
}

#[tokio::test]
async fn issued_ibans_have_valid_check_digits_by_an_independent_library() {
    let app = spawn_app().await;
    let (client, secret) = banking_client(&app, "Monerium Demo").await;
    let user = app.customer(EMAIL).await;
    // The IBAN the onboarding gave, as the API shows it.
    let (token, _) = access(&app, &client, &secret, EMAIL, "wallet:read").await;
    let wallet = get(&app, &token, "/api/v1/wallet/me").await;
    let mut ibans = vec![
        wallet.body["wallets"][0]["iban"]
            .as_str()
            .unwrap()
            .to_owned(),
    ];
    // And many more, one per wallet.
    let profile = app
        .ready_profile(&user, ProfileKind::Corporate, "Many Wallets ehf.")
        .await;
    for _ in 0..100 {
        let linked = app
            .prove_wallet(&profile, Chain::Polygon, &TestWallet::new())
            .await
            .unwrap();
        let iban = portcullis_core::banking::accounts::issue_iban(
            &app.store,
            app.clock.as_ref(),
            &OsRandom,
            &profile.id,
            &linked.id,
        )
        .await
        .unwrap();
        ibans.push(iban.iban);
    }
    let unique: std::collections::BTreeSet<_> = ibans.iter().collect();
    assert_eq!(unique.len(), ibans.len(), "IBANs are unique");
    for text in &ibans {
        let parsed: iban::Iban = text
            .parse()
            .unwrap_or_else(|e| panic!("{text} is not a valid IBAN: {e:?}"));
        use iban::IbanLike as _;
        assert_eq!(parsed.country_code(), "IS");
        assert_eq!(parsed.electronic_str(), text);
        // Changing a digit breaks the check digits.
        let mut tampered = text.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'9' {
            b'0'
        } else {
            tampered[last] + 1
        };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(tampered.parse::<iban::Iban>().is_err(), "{tampered}");
    }
}
