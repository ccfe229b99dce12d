//! The whole onboarding of a new user in a real browser, from an app's authorization request
//! to its callback, then the app's use of the resource API.

use portcullis_core::banking::accounts::{self, BankingSettings, Credit};
use portcullis_core::banking::order::Currency;
use portcullis_core::banking::siwe::SiweMessage;
use portcullis_core::banking::wallet::{Address, SigningKey, sign_personal};
use portcullis_core::random::OsRandom;
use portcullis_core::store::BankStore as _;
use portcullis_proto::ProfileId;
use portcullis_testkit::browser::Browser;
use portcullis_testkit::flow::{Pkce, banking, param};
use portcullis_testkit::spawn_app;
use serde_json::{Value, json};

use crate::callback_server;

/// A wallet key the test controls (the well-known test key 0x4c08…2318).
fn wallet_key() -> SigningKey {
    let hex = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    SigningKey::from_slice(&bytes).unwrap()
}

/// A call of the app to the resource API with its access token.
async fn api(
    http: &reqwest::Client,
    url: String,
    token: &str,
    order: Option<(&str, Value)>,
) -> (u16, Value) {
    let request = match order {
        Some((key, body)) => http.post(url).header("Idempotency-Key", key).json(&body),
        None => http.get(url),
    };
    let response = request.bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Waits up to ten seconds for the page to show `needle` (a form answered on the same path
/// cannot be told from the form itself by its URL).
async fn wait_for_text(browser: &Browser, needle: &str) -> String {
    for _ in 0..100 {
        if let Some(text) = browser.text_if_loaded().await
            && text.contains(needle)
        {
            return text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the page never showed {needle:?}: {}", browser.text().await)
}

/// The message the wallet page asks to sign (its `<pre id="message">`, as a person copies it).
async fn shown_message(browser: &Browser) -> String {
    browser.text_of("message").await
}

fn euros(wallet: &Value) -> i64 {
    wallet["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["currency"] == "eur")
        .map_or(0, |b| b["amount"].as_i64().unwrap())
}

/// The Monerium "getting started" steps 1–9 in a real browser: a new user arrives from an
/// app's authorization request, signs up, passes KYC, proves a wallet with a signature made
/// from a known key (a wrong one first, which is refused), gets an IBAN, consents, and lands
/// on the app's callback. The app then exchanges the code, reads `/wallet/me` (address and
/// IBAN) and moves money in and out.
#[tokio::test]
async fn a_new_user_onboards_from_the_apps_request_to_its_callback() {
    let Some(browser) =
        Browser::start("browser::a_new_user_onboards_from_the_apps_request_to_its_callback").await
    else {
        return;
    };
    let app = spawn_app().await;
    let callback = callback_server().await;
    let redirect_uri = format!("http://127.0.0.1:{}/cb", callback.port());
    let mut new = banking("Monerium Demo");
    new.redirect_uris = vec!["http://127.0.0.1/cb".to_owned()];
    let (client, secret) = app.client(new).await;
    let pkce = Pkce::new();
    let authorize = url::Url::parse_with_params(
        &app.url("/oauth/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("scope", "profile:read wallet:read orders:write"),
            ("state", "s1"),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("prompt", "create"),
        ],
    )
    .unwrap();

    // Steps 2–3: the manage screen; sign up, then create the profile.
    browser.goto(authorize.as_str()).await;
    browser.wait_for_path("/signup").await;
    browser.fill("name", "Nora Newcomer").await;
    browser.fill("email", "nora@example.com").await;
    browser.fill("password", "a long enough password").await;
    browser
        .click("form[action='/signup'] button[type=submit]")
        .await;
    browser.wait_for_path("/onboarding/profile").await;
    assert!(browser.text().await.contains("Monerium Demo"));
    browser.click("#kind-personal").await;
    browser
        .click("form[action='/onboarding/profile'] button[type=submit]")
        .await;

    // Step 4: KYC (the legal name is filled in from the profile).
    browser.wait_for_path("/onboarding/kyc").await;
    browser.fill("country", "IS").await;
    browser.fill("birth_date", "1990-04-01").await;
    browser
        .click("form[action='/onboarding/kyc'] button[type=submit]")
        .await;

    // Step 5: the wallet. Its address first, then the message issued for it, as shown.
    browser.wait_for_path("/onboarding/wallet").await;
    let key = wallet_key();
    let address = Address::of_key(key.verifying_key()).checksummed();
    assert_eq!(address, "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
    browser.fill("address", &address).await;
    browser
        .click("form[action='/onboarding/wallet/message'] button[type=submit]")
        .await;
    wait_for_text(&browser, "wants you to sign in with your Ethereum account").await;
    let message = shown_message(&browser).await;
    let parsed = SiweMessage::parse(&message).unwrap();
    assert_eq!(parsed.address.checksummed(), address);
    assert_eq!(parsed.uri, app.url("/onboarding/wallet"));
    // A signature by another key is refused with a clear message, the message kept.
    let stranger = SigningKey::from_slice(&[7u8; 32]).unwrap();
    browser
        .fill("signature", &sign_personal(&stranger, &message).unwrap())
        .await;
    browser
        .click("form[action='/onboarding/wallet'] button[type=submit]")
        .await;
    wait_for_text(&browser, "The signature was not made by this address's key").await;
    assert_eq!(shown_message(&browser).await, message);
    browser.clear("signature").await;
    browser
        .fill("signature", &sign_personal(&key, &message).unwrap())
        .await;
    browser
        .click("form[action='/onboarding/wallet'] button[type=submit]")
        .await;

    // Step 6: an IBAN for the wallet.
    browser.wait_for_path("/onboarding/iban").await;
    assert!(browser.text().await.contains(&address));
    browser
        .click("form[action='/onboarding/iban'] button[type=submit]")
        .await;

    // Steps 7–8: consent, for the new profile, and back to the app.
    browser.wait_for_path("/consent").await;
    let page = browser.text().await;
    assert!(
        page.contains("Monerium Demo will act for your personal profile Nora Newcomer"),
        "{page}"
    );
    browser.click("button[name=decision][value=allow]").await;
    browser.wait_for_path("/cb").await;
    let landed = browser.url().await;
    assert!(landed.as_str().starts_with(&redirect_uri), "{landed}");
    assert_eq!(param(&landed, "state").as_deref(), Some("s1"));
    assert_eq!(param(&landed, "iss").as_deref(), Some(app.base.as_str()));
    let code = param(&landed, "code").expect("code");
    browser.close().await;

    // Step 9: the app exchanges the code and uses the API.
    let (status, tokens) = app
        .token(
            client.id.as_str(),
            secret.as_ref(),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &redirect_uri),
                ("code_verifier", &pkce.verifier),
            ],
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let token = tokens["access_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let wallet_me = app.url("/api/v1/wallet/me");
    let (status, wallet) = api(&http, wallet_me.clone(), token, None).await;
    assert_eq!(status, 200, "{wallet}");
    assert_eq!(wallet["profile"]["name"], "Nora Newcomer");
    assert_eq!(wallet["wallets"][0]["address"], address.as_str());
    let iban = wallet["wallets"][0]["iban"].as_str().expect("an IBAN");
    assert!(iban.parse::<iban::Iban>().is_ok(), "{iban}");
    assert_eq!(euros(&wallet), 0);

    let orders = app.url("/api/v1/orders");
    // Money arrives from outside (apps cannot mint): the sandbox's operator credits 100.00.
    let profile_id = ProfileId::new(wallet["profile"]["id"].as_str().expect("a profile id"));
    let profile = app
        .store
        .profile(&profile_id)
        .await
        .unwrap()
        .expect("the profile");
    let credit = Credit {
        currency: Currency::Eur,
        amount: 10_000,
        from_iban: None,
        memo: Some("incoming transfer".to_owned()),
    };
    let funding = BankingSettings {
        funding: true,
        ..BankingSettings::default()
    };
    let clock: &dyn portcullis_core::time::Clock = app.clock.as_ref();
    let (order, _) = accounts::fund(
        &app.store, clock, &OsRandom, funding, &profile, credit, "in-1",
    )
    .await
    .unwrap();
    assert_eq!(order.state.as_str(), "processed");
    let redeem = json!({
        "kind": "redeem", "currency": "eur", "amount": 2_550,
        "counterpart_iban": "DE89 3704 0044 0532 0130 00", "memo": "rent",
    });
    let (status, order) = api(&http, orders, token, Some(("out-1", redeem))).await;
    assert_eq!(
        (status, order["state"].as_str()),
        (201, Some("processed")),
        "{order}"
    );
    assert_eq!(order["counterpart_iban"], "DE89370400440532013000");
    let (_, wallet) = api(&http, wallet_me, token, None).await;
    assert_eq!(euros(&wallet), 7_450, "{wallet}");
    let balance = &wallet["balances"][0];
    assert_eq!(balance["formatted"], "74.50");
}
