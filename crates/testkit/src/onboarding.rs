//! Test helpers for onboarding: a wallet that signs the messages the wallet step shows, and
//! drivers for the onboarding pages and for a ready profile.

#![allow(clippy::expect_used, clippy::panic, clippy::missing_panics_doc)] // Test helpers fail loudly.

use portcullis_core::banking::wallet::{Address, SigningKey, sign_personal};
use portcullis_core::random::{OsRandom, SecretGenerator as _};
use reqwest::StatusCode;

use crate::TestApp;
use crate::flow::hidden;

/// A wallet for tests: a fresh secp256k1 key and its EIP-55 address.
#[derive(Debug, Clone)]
pub struct TestWallet {
    /// The key.
    pub key: SigningKey,
    /// Its address, checksummed.
    pub address: String,
}

impl TestWallet {
    /// A wallet of a random key.
    #[must_use]
    pub fn new() -> Self {
        loop {
            let mut secret = [0u8; 32];
            OsRandom.fill(&mut secret).expect("randomness");
            // All but a negligible fraction of 32-byte strings are valid keys.
            if let Ok(key) = SigningKey::from_slice(&secret) {
                return Self::of(key);
            }
        }
    }

    /// The wallet of `key`.
    #[must_use]
    pub fn of(key: SigningKey) -> Self {
        let address = Address::of_key(key.verifying_key()).checksummed();
        Self { key, address }
    }

    /// Its `personal_sign` (EIP-191) of `message`, as a wallet makes it.
    #[must_use]
    pub fn sign(&self, message: &str) -> String {
        sign_personal(&self.key, message).expect("signing")
    }
}

impl Default for TestWallet {
    fn default() -> Self {
        Self::new()
    }
}

impl TestApp {
    /// Completes the onboarding pages from `page` (one of `/onboarding/…`, as a response in
    /// `browser`) the way a user would: a personal profile "Test User", the KYC form, a wallet
    /// of a fresh key, an IBAN. Returns the first response that is not an onboarding page (or
    /// the KYC page still pending under `kyc = manual`).
    pub async fn onboard(
        &self,
        browser: &reqwest::Client,
        mut page: reqwest::Response,
    ) -> reqwest::Response {
        for _ in 0..8 {
            let here = page.url().clone();
            if page.status() != StatusCode::OK || !here.path().starts_with("/onboarding/") {
                return page;
            }
            let html = page.text().await.expect("html");
            if !html.contains("<form method=\"post\" action=\"/onboarding/") {
                panic!("onboarding stopped at {here}:\n{html}");
            }
            let response = self.onboarding_step(browser, here.path(), &html).await;
            assert_eq!(
                response.status(),
                StatusCode::SEE_OTHER,
                "onboarding step {here}"
            );
            page = self.follow(browser, response).await;
            if page.url().path() == here.path() {
                // The same step again (KYC pending): the flow waits.
                return page;
            }
        }
        panic!("onboarding did not finish")
    }

    /// Posts the form of one onboarding page (`path`, showing `html`) with valid answers.
    pub async fn onboarding_step(
        &self,
        browser: &reqwest::Client,
        path: &str,
        html: &str,
    ) -> reqwest::Response {
        let csrf = hidden(html, "csrf");
        let request = hidden(html, "request");
        let wallet = TestWallet::new();
        let mut form = vec![("csrf", csrf.clone()), ("request", request.clone())];
        match path {
            "/onboarding/profile" => {
                form.extend([("kind", "personal".into()), ("name", "Test User".into())]);
            }
            "/onboarding/kyc" => form.extend([
                ("legal_name", "Test User".into()),
                ("country", "IS".into()),
                ("birth_date", "1990-01-01".into()),
                ("registration_number", "TEST-123".into()),
            ]),
            "/onboarding/wallet" => {
                let page = self
                    .wallet_message(browser, html, "ethereum", &wallet.address)
                    .await;
                assert_eq!(
                    page.status(),
                    StatusCode::OK,
                    "the wallet message is issued"
                );
                let message = shown_message(&page.text().await.expect("html"));
                form.extend([("signature", wallet.sign(&message)), ("message", message)]);
            }
            "/onboarding/iban" => form.push(("wallet", hidden(html, "wallet"))),
            other => panic!("unknown onboarding page {other}"),
        }
        browser
            .post(self.url(path))
            .form(&form)
            .send()
            .await
            .expect("onboarding form")
    }
}

impl TestApp {
    /// Posts the wallet page's first form (shown in `html`): asks for a message to sign for
    /// `address` on `chain`.
    pub async fn wallet_message(
        &self,
        browser: &reqwest::Client,
        html: &str,
        chain: &str,
        address: &str,
    ) -> reqwest::Response {
        let form = [
            ("csrf", hidden(html, "csrf")),
            ("request", hidden(html, "request")),
            ("chain", chain.to_owned()),
            ("address", address.to_owned()),
        ];
        browser
            .post(self.url("/onboarding/wallet/message"))
            .form(&form)
            .send()
            .await
            .expect("wallet message form")
    }
}

/// The message to sign that a wallet page shows (its hidden `message` field, unescaped).
#[must_use]
pub fn shown_message(html: &str) -> String {
    unescape(&hidden(html, "message"))
}

/// Text as an HTML page escapes it, back as it was.
#[must_use]
pub fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
