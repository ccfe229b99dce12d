//! The wallet step's progressive enhancement in a real browser: with an EIP-1193 provider in
//! the page (a stand-in for a wallet extension, injected over WebDriver), "Use my browser
//! wallet" fills in the address and chain the wallet reports, and "Sign with my browser
//! wallet" has it `personal_sign` exactly the message shown; the signature, made here with the
//! test's key, links the wallet.

use portcullis_core::banking::wallet::{Address, Chain, SigningKey, sign_personal};
use portcullis_core::store::{BankStore as _, UserStore as _};
use portcullis_testkit::browser::Browser;
use portcullis_testkit::flow::{PASSWORD, Pkce, banking};
use portcullis_testkit::spawn_app;
use serde_json::{Value, json};

/// A provider that answers accounts and chain at once and holds `personal_sign` until the
/// test resolves it; every call is recorded in `window.__walletCalls`.
const FAKE_PROVIDER: &str = r#"
    const address = arguments[0];
    window.__walletCalls = [];
    window.ethereum = {
      request: function (call) {
        window.__walletCalls.push(call);
        if (call.method === "eth_requestAccounts") { return Promise.resolve([address]); }
        if (call.method === "eth_chainId") { return Promise.resolve("0x89"); }
        if (call.method === "personal_sign") {
          return new Promise(function (resolve) { window.__resolveSign = resolve; });
        }
        return Promise.reject(new Error("unsupported " + call.method));
      }
    };
    window.dispatchEvent(new Event("ethereum#initialized"));
"#;

async fn wait_for_text(browser: &Browser, needle: &str) {
    for _ in 0..100 {
        if browser
            .text_if_loaded()
            .await
            .is_some_and(|text| text.contains(needle))
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the page never showed {needle:?}: {}", browser.text().await)
}

/// The `personal_sign` call the page made, once it made it.
async fn sign_request(browser: &Browser) -> Value {
    for _ in 0..100 {
        let calls = browser
            .execute("return window.__walletCalls;", vec![])
            .await;
        if let Some(call) = calls
            .as_array()
            .and_then(|c| c.iter().find(|c| c["method"] == "personal_sign"))
        {
            return call.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the page never asked the wallet to sign")
}

fn unhex(text: &str) -> Vec<u8> {
    let hex = text.strip_prefix("0x").expect("0x prefix");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn a_browser_wallet_fills_in_the_address_and_signs_the_message_shown() {
    let Some(browser) = Browser::start(
        "browser::a_browser_wallet_fills_in_the_address_and_signs_the_message_shown",
    )
    .await
    else {
        return;
    };
    let app = spawn_app().await;
    let (client, _) = app.client(banking("Monerium Demo")).await;
    app.user("nora@example.com").await;
    let pkce = Pkce::new();
    let authorize = url::Url::parse_with_params(
        &app.url("/oauth/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", portcullis_testkit::flow::REDIRECT_URI),
            ("scope", "wallet:read"),
            ("state", "s1"),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    browser.goto(authorize.as_str()).await;
    browser.wait_for_path("/login").await;
    browser.fill("email", "nora@example.com").await;
    browser.fill("password", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for_path("/onboarding/profile").await;
    browser.click("#kind-personal").await;
    browser
        .click("form[action='/onboarding/profile'] button[type=submit]")
        .await;
    browser.wait_for_path("/onboarding/kyc").await;
    browser.fill("country", "IS").await;
    browser.fill("birth_date", "1990-04-01").await;
    browser
        .click("form[action='/onboarding/kyc'] button[type=submit]")
        .await;
    browser.wait_for_path("/onboarding/wallet").await;

    let key = SigningKey::from_slice(&[9u8; 32]).unwrap();
    let address = Address::of_key(key.verifying_key()).checksummed();
    // The wallet reports its address in lower case, as many do.
    let reported = json!(address.to_lowercase());
    browser.execute(FAKE_PROVIDER, vec![reported.clone()]).await;
    browser.click("#wallet-connect").await;
    wait_for_text(&browser, "wants you to sign in with your Ethereum account").await;
    let shown = browser.text_of("message").await;
    assert!(shown.contains(&address), "{shown}");
    assert!(
        shown.contains("Chain ID: 137"),
        "the wallet's chain (Polygon): {shown}"
    );

    browser.execute(FAKE_PROVIDER, vec![reported]).await;
    browser.click("#wallet-sign").await;
    let call = sign_request(&browser).await;
    let message = String::from_utf8(unhex(call["params"][0].as_str().unwrap())).unwrap();
    assert_eq!(
        message, shown,
        "the wallet is asked to sign exactly the message shown"
    );
    assert_eq!(call["params"][1], address.as_str());
    let signature = sign_personal(&key, &message).unwrap();
    browser
        .execute(
            "window.__resolveSign(arguments[0]);",
            vec![json!(signature)],
        )
        .await;
    browser.wait_for_path("/onboarding/iban").await;
    browser.close().await;

    let user = app
        .store
        .user_by_email("nora@example.com")
        .await
        .unwrap()
        .unwrap();
    let profile = app.store.profiles_of(&user.id).await.unwrap().remove(0);
    let wallets = app.store.wallets_of(&profile.id).await.unwrap();
    assert_eq!(wallets.len(), 1);
    assert_eq!(wallets[0].address, address);
    assert_eq!(wallets[0].chain, Chain::Polygon);
}
