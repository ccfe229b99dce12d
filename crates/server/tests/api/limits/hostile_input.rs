//! Hostile input through the real router: whatever a client sends to the authorization,
//! token, introspection, revocation, userinfo and resource endpoints or the page forms, the
//! answer is never a 5xx and nothing panics. These are the cargo-fuzz targets of `fuzz/`, run
//! here over generated inputs so CI keeps them honest.

use portcullis_testkit::fuzz::{self, harness};
use proptest::prelude::*;

/// Plausible parameter names, so generated inputs reach past the first checks.
const NAMES: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "prompt",
    "max_age",
    "landing",
    "grant_type",
    "code",
    "code_verifier",
    "refresh_token",
    "client_secret",
    "token",
    "csrf",
    "request",
    "decision",
    "email",
    "password",
    "name",
];

fn parameters() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just("code".to_owned()),
        Just("demo-app".to_owned()),
        Just("client_credentials".to_owned()),
        Just("authorization_code".to_owned()),
        Just("S256".to_owned()),
        Just("none".to_owned()),
        Just("http://127.0.0.1:8080/sandbox/callback".to_owned()),
        ".{0,40}",
    ];
    prop::collection::vec((prop::sample::select(NAMES), value), 0..8).prop_map(|pairs| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
            .into_bytes()
    })
}

fn json_bodies() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just(serde_json::json!("client_credentials")),
        Just(serde_json::json!("demo-app")),
        Just(serde_json::json!(null)),
        Just(serde_json::json!(1337)),
        Just(serde_json::json!(["a", "b"])),
        Just(serde_json::json!({"nested": true})),
        ".{0,20}".prop_map(serde_json::Value::String),
    ];
    prop::collection::vec((prop::sample::select(NAMES), value), 0..6).prop_map(|pairs| {
        let object: serde_json::Map<String, serde_json::Value> =
            pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        serde_json::Value::Object(object).to_string().into_bytes()
    })
}

/// Texts close to Sign-In with Ethereum messages: the EIP's lines in order, each drawn from a
/// valid value, an invalid one and random text, and each dropped now and then.
fn siwe_text() -> impl Strategy<Value = Vec<u8>> {
    const LINES: [(&str, &str); 13] = [
        (
            "http://127.0.0.1:8080 wants you to sign in with your Ethereum account:",
            "example.com wants you to sign in with your Ethereum account:\r",
        ),
        (
            "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23",
            "0x2c7536e3605d9c16a7a3d7b1898e529396a65c23",
        ),
        ("", " "),
        (
            "Link this wallet to my profile on this site.",
            "Quotes \"are\" not allowed",
        ),
        ("", "URI: https://example.com"),
        (
            "URI: http://127.0.0.1:8080/onboarding/wallet",
            "URI: not a uri",
        ),
        ("Version: 1", "Version: 01"),
        ("Chain ID: 137", "Chain ID: 99999999999999999999999"),
        ("Nonce: abcdef0123456789", "Nonce: short"),
        (
            "Issued At: 2026-01-01T00:00:00Z",
            "Issued At: 2026-01-01T00:00:00.5+01:00",
        ),
        (
            "Expiration Time: 2026-01-01T00:10:00Z",
            "Not Before: 2026-13-01T00:00:00Z",
        ),
        ("Request ID: r-1", "Resources:"),
        ("Resources:\n- urn:x:y", "- https://a.example/\u{e9}"),
    ];
    let line = |(valid, other): (&'static str, &'static str)| {
        prop_oneof![
            6 => Just(Some(valid.to_owned())),
            1 => Just(Some(other.to_owned())),
            1 => ".{0,20}".prop_map(Some),
            1 => Just(None),
        ]
    };
    LINES.map(line).prop_map(|lines| {
        lines
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes()
    })
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn authorization_endpoint_never_fails(input in prop_oneof![parameters(), bytes()]) {
        harness().authorize_query(&input);
    }

    #[test]
    fn token_endpoint_form_bodies_never_fail(input in prop_oneof![parameters(), bytes()]) {
        harness().token_form(&input);
    }

    #[test]
    fn token_endpoint_json_bodies_never_fail(input in prop_oneof![json_bodies(), bytes()]) {
        harness().token_json(&input);
    }

    #[test]
    fn basic_credentials_never_fail(input in bytes()) {
        harness().basic_header(&input);
    }

    #[test]
    fn token_checking_endpoints_never_fail(input in bytes()) {
        harness().token_endpoints(&input);
    }

    #[test]
    fn page_forms_never_fail(input in prop_oneof![parameters(), bytes()]) {
        harness().page_forms(&input);
    }

    #[test]
    fn arbitrary_tokens_never_verify(input in bytes()) {
        harness().jwt(&input);
    }

    #[test]
    fn wallet_signatures_never_panic_or_pass(input in bytes()) {
        fuzz::wallet_signature(&input);
    }

    #[test]
    fn siwe_messages_never_panic_and_parse_back(input in prop_oneof![siwe_text(), bytes()]) {
        fuzz::siwe_message(&input);
    }
}
