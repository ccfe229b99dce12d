//! Wallets and IBANs: the wallet step refuses any proof that is not the address's
//! `personal_sign` of the ownership message, with a clear message; issued IBANs carry valid
//! ISO 13616 check digits, checked with an independent library (`iban_validate`).

use portcullis_core::banking::accounts;
use portcullis_core::banking::profile::ProfileKind;
use portcullis_core::banking::wallet::{
    Chain, OWNERSHIP_MESSAGE, SigningKey, personal_message_hash,
};
use portcullis_core::random::OsRandom;
use portcullis_core::store::{BankStore as _, UserStore as _};
use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{
    PASSWORD, Pkce, TestWallet, browser, hidden, location, param, request,
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
fn sign(key: &SigningKey, message: &[u8]) -> String {
    let (signature, recovery) = key
        .sign_prehash_recoverable(&personal_message_hash(message))
        .unwrap();
    let mut bytes = signature.to_bytes().to_vec();
    bytes.push(27 + recovery.to_byte());
    format!(
        "0x{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// A browser at the wallet step of a pending request; returns it, the request id and the page.
async fn at_wallet_step(app: &TestApp) -> (reqwest::Client, String, String) {
    let (client, _) = banking_client(app, "Monerium Demo").await;
    app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let response = app
        .authorize(&browser, &request(client.id.as_str(), &pkce, "wallet:read"))
        .await;
    let request_id = param(&location(&app.base, &response), "request").unwrap();
    let response = app
        .login(&browser, EMAIL, PASSWORD, Some(&request_id))
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

async fn post_wallet(
    app: &TestApp,
    browser: &reqwest::Client,
    html: &str,
    chain: &str,
    address: &str,
    signature: &str,
) -> reqwest::Response {
    let form = [
        ("csrf", hidden(html, "csrf")),
        ("request", hidden(html, "request")),
        ("chain", chain.to_owned()),
        ("address", address.to_owned()),
        ("signature", signature.to_owned()),
    ];
    browser
        .post(app.url("/onboarding/wallet"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[test]
fn the_known_key_has_its_well_known_address() {
    assert_eq!(TestWallet::of(known_key()).address, KNOWN_ADDRESS);
}

#[tokio::test]
async fn the_wallet_step_refuses_every_proof_but_the_owners_signature() {
    let app = spawn_app().await;
    let (browser, request_id, html) = at_wallet_step(&app).await;
    assert!(
        html.contains(&format!("<pre id=\"message\">{OWNERSHIP_MESSAGE}</pre>")),
        "the page shows the exact message to sign: {html}"
    );
    let owner = known_key();
    let other = TestWallet::new();
    let good = sign(&owner, OWNERSHIP_MESSAGE.as_bytes());
    let mut bad_v = good.clone();
    bad_v.replace_range(bad_v.len() - 2.., "05");
    let wrong_signer = "the signature was not made by this address's key for the ownership message";
    let malformed = "a signature is 0x followed by 130 hexadecimal digits";
    let cases = [
        (
            "ethereum",
            KNOWN_ADDRESS,
            other.signature.clone(),
            wrong_signer,
        ),
        (
            "ethereum",
            KNOWN_ADDRESS,
            sign(&owner, b"I hereby declare that I am the address owner"),
            wrong_signer,
        ),
        (
            "ethereum",
            KNOWN_ADDRESS,
            sign(&owner, b"Pay 100 EUR to Mallory"),
            wrong_signer,
        ),
        ("ethereum", KNOWN_ADDRESS, "0x1234".to_owned(), malformed),
        (
            "ethereum",
            KNOWN_ADDRESS,
            "not a signature".to_owned(),
            malformed,
        ),
        ("ethereum", KNOWN_ADDRESS, bad_v, malformed),
        (
            "ethereum",
            "0x2c7536e3605d9c16a7a3d7b1898e529396a65c2",
            good.clone(),
            "40 hexadecimal",
        ),
        (
            "ethereum",
            "0x2c7536E3605D9C16a7a3D7b1898e529396a65C23",
            good.clone(),
            "EIP-55 checksum",
        ),
        ("bitcoin", KNOWN_ADDRESS, good.clone(), "unknown chain"),
    ];
    for (chain, address, signature, message) in cases {
        let response = post_wallet(&app, &browser, &html, chain, address, &signature).await;
        assert_eq!(response.status(), 400, "{address} {signature}");
        let page = response.text().await.unwrap();
        let alert = page
            .split("role=\"alert\">")
            .nth(1)
            .unwrap_or_else(|| panic!("no alert in {page}"));
        let alert = alert
            .split("</p>")
            .next()
            .unwrap()
            .replace("&#x27;", "'")
            .replace("&#39;", "'");
        assert!(
            alert.to_lowercase().contains(&message.to_lowercase()),
            "{chain} {address}: {alert}"
        );
        assert!(page.contains(address), "the address entered is kept");
    }
    let user = app.store.user_by_email(EMAIL).await.unwrap().unwrap();
    let user = profiles_of(&app, &user.id).await;
    assert!(app.store.wallets_of(&user[0].id).await.unwrap().is_empty());

    // The owner's signature, with a lower-case address, links the checksummed address.
    let response = post_wallet(
        &app,
        &browser,
        &html,
        "gnosis",
        &KNOWN_ADDRESS.to_lowercase(),
        &good,
    )
    .await;
    assert_eq!(response.status(), 303);
    let page = app.follow(&browser, response).await;
    assert_eq!(page.url().path(), "/onboarding/iban");
    assert_eq!(param(page.url(), "request").as_deref(), Some(&*request_id));
    let wallets = app.store.wallets_of(&user[0].id).await.unwrap();
    assert_eq!(wallets.len(), 1);
    assert_eq!(wallets[0].address, KNOWN_ADDRESS);
    assert_eq!(wallets[0].chain, Chain::Gnosis);
}

#[tokio::test]
async fn an_address_linked_to_another_profile_is_refused() {
    let app = spawn_app().await;
    let bob = app.customer("bob@example.com").await;
    let bobs = profiles_of(&app, &bob.id).await.remove(0);
    let wallet = TestWallet::new();
    accounts::link_wallet(
        &app.store,
        app.clock.as_ref(),
        &OsRandom,
        &bobs.id,
        Chain::Ethereum,
        &wallet.address,
        &wallet.signature,
    )
    .await
    .unwrap();
    let (browser, _, html) = at_wallet_step(&app).await;
    let response = post_wallet(
        &app,
        &browser,
        &html,
        "ethereum",
        &wallet.address,
        &wallet.signature,
    )
    .await;
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(page.contains("already linked to a profile"), "{page}");
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
        let wallet = TestWallet::new();
        let linked = accounts::link_wallet(
            &app.store,
            app.clock.as_ref(),
            &OsRandom,
            &profile.id,
            Chain::Polygon,
            &wallet.address,
            &wallet.signature,
        )
        .await
        .unwrap();
        let iban = accounts::issue_iban(
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
