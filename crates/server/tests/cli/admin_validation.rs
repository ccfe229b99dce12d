//! Every registration rule `portcullis client create` enforces, refused with its message and
//! nothing stored; and the scope registry extended by a `[scopes]` table.

use serde_json::json;

use crate::admin_cli::Operator;

/// `client create --name App` plus `more`.
fn create<'a>(more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["client", "create", "--name", "App"];
    args.extend_from_slice(more);
    args
}

const HTTPS: &str = "must use https (http is allowed only on a loopback address)";

#[test]
fn redirect_uris_are_checked_at_registration() {
    let operator = Operator::new();
    let cases = [
        (
            "http://app.example/cb",
            format!("redirect URI \"http://app.example/cb\" {HTTPS}"),
        ),
        (
            "https://app.example/cb#section",
            "redirect URI \"https://app.example/cb#section\" must not contain a fragment".into(),
        ),
        (
            "https://*.app.example/cb",
            "redirect URI \"https://*.app.example/cb\" must not contain a wildcard".into(),
        ),
        (
            "javascript:alert(1)",
            format!("redirect URI \"javascript:alert(1)\" {HTTPS}"),
        ),
        (
            "data:text/html,<script>alert(1)</script>",
            format!("redirect URI \"data:text/html,<script>alert(1)</script>\" {HTTPS}"),
        ),
        (
            "file:///etc/passwd",
            format!("redirect URI \"file:///etc/passwd\" {HTTPS}"),
        ),
        (
            "/callback",
            "redirect URI \"/callback\" is not an absolute URI".into(),
        ),
        (
            "callback",
            "redirect URI \"callback\" is not an absolute URI".into(),
        ),
        (
            "https://user:pass@app.example/cb",
            "redirect URI \"https://user:pass@app.example/cb\" must not contain user information"
                .into(),
        ),
    ];
    for (uri, message) in cases {
        let args = create(&[
            "--redirect-uri",
            "https://ok.example/cb",
            "--redirect-uri",
            uri,
        ]);
        assert_eq!(operator.fails(&args), message, "{uri}");
    }
    // Loopback hosts may use http (native apps, RFC 8252 §7.3).
    for uri in [
        "http://127.0.0.1:8000/cb",
        "http://[::1]/cb",
        "http://localhost:3000/cb",
    ] {
        operator.ok(&create(&["--redirect-uri", uri]));
    }
    assert_eq!(
        operator.fails(&create(&["--grant-type", "authorization_code"])),
        "the authorization_code grant needs at least one redirect URI"
    );
    assert_eq!(
        operator
            .json(&["client", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        3,
        "only the loopback clients were stored"
    );
}

#[test]
fn client_kinds_grants_and_flags_are_checked() {
    let operator = Operator::new();
    let uri = ["--redirect-uri", "https://app.example/cb"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--public", "--grant-type", "client_credentials"],
            "a public client cannot use client_credentials: it has no secret",
        ),
        (
            vec![
                "--public",
                "--grant-type",
                "authorization_code",
                "--grant-type",
                "client_credentials",
                uri[0],
                uri[1],
            ],
            "a public client cannot use client_credentials: it has no secret",
        ),
        (
            vec!["--public", "--pkce", "optional", uri[0], uri[1]],
            "a public client without PKCE lets anyone who intercepts a code redeem it; \
             acknowledge the risk explicitly to register it (see docs/security.md)",
        ),
        (
            vec!["--grant-type", "password"],
            "unknown grant type \"password\"; expected authorization_code, refresh_token or \
             client_credentials",
        ),
        (
            vec!["--grant-type", "implicit", uri[0], uri[1]],
            "unknown grant type \"implicit\"; expected authorization_code, refresh_token or \
             client_credentials",
        ),
        (
            vec![
                "--grant-type",
                "refresh_token",
                "--grant-type",
                "client_credentials",
            ],
            "the refresh_token grant needs the authorization_code grant",
        ),
        (
            vec!["--public", "--admin", uri[0], uri[1]],
            "admin clients must be confidential and allowed client_credentials",
        ),
        (
            vec!["--public", "--partner", uri[0], uri[1]],
            "partner clients must be confidential and allowed client_credentials",
        ),
        (
            vec!["--partner", uri[0], uri[1]],
            "partner clients must be confidential and allowed client_credentials",
        ),
        (
            vec!["--pkce", "none", uri[0], uri[1]],
            "unknown PKCE policy \"none\"; expected s256, plain-allowed or optional",
        ),
        (
            vec!["--id-token-alg", "HS256", uri[0], uri[1]],
            "unknown signing algorithm \"HS256\"; expected one of ES256, EdDSA, PS256, RS256",
        ),
        (
            vec!["--logo-uri", "http://app.example/logo.png", uri[0], uri[1]],
            "logo_uri must be an https URL",
        ),
        (
            vec!["--homepage-uri", "javascript:alert(1)", uri[0], uri[1]],
            "homepage_uri must be an https URL",
        ),
        (
            vec!["--id", "no spaces", uri[0], uri[1]],
            "client id \"no spaces\" must be 1 to 64 characters from A-Z, a-z, 0-9, '-', '.', \
             '_' and '~'",
        ),
    ];
    for (flags, message) in cases {
        assert_eq!(operator.fails(&create(&flags)), message, "{flags:?}");
    }
    assert_eq!(
        operator.fails(&["client", "create", uri[0], uri[1]]),
        "--name is required"
    );
    assert_eq!(
        operator.fails(&["client", "create", "--name", "   ", uri[0], uri[1]]),
        "a client needs a name of 1 to 100 characters"
    );
    assert_eq!(operator.json(&["client", "list", "--json"]), json!([]));

    // With the acknowledgement, the public client without PKCE is registered.
    let view = operator.json(&create(&[
        "--json",
        "--public",
        "--pkce",
        "optional",
        "--i-understand-public-client-without-pkce",
        uri[0],
        uri[1],
    ]));
    assert_eq!(view["pkce"], "optional");
    assert_eq!(view["public"], true);
    // And it stays registered when other settings change.
    let id = view["client_id"].as_str().unwrap();
    operator.ok(&["client", "update", id, "--name", "Money Button"]);
    // A taken id.
    operator.ok(&create(&["--id", "taken", uri[0], uri[1]]));
    assert_eq!(
        operator.fails(&create(&["--id", "taken", uri[0], uri[1]])),
        "a client with id \"taken\" already exists"
    );
}

#[test]
fn lifetimes_are_durations_within_bounds() {
    let operator = Operator::new();
    let uri = ["--redirect-uri", "https://app.example/cb"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--access-token-ttl", "soon"],
            "--access-token-ttl \"soon\" is not a duration like 30s, 5m, 1h or 7d",
        ),
        (
            vec!["--refresh-token-ttl", "5 minutes"],
            "--refresh-token-ttl \"5 minutes\" is not a duration like 30s, 5m, 1h or 7d",
        ),
        (
            vec!["--access-token-ttl", "30s"],
            "access_token_ttl must be between 60 and 86400 seconds",
        ),
        (
            vec!["--access-token-ttl", "2d"],
            "access_token_ttl must be between 60 and 86400 seconds",
        ),
        (
            vec!["--refresh-token-ttl", "400d"],
            "refresh_token_ttl must be between 60 and 31536000 seconds",
        ),
    ];
    for (flags, message) in cases {
        let mut args = create(&flags);
        args.extend_from_slice(&uri);
        assert_eq!(operator.fails(&args), message, "{flags:?}");
    }
    // The ceiling follows max_access_token_ttl.
    let mut args = create(&[
        "--json",
        "--access-token-ttl",
        "2d",
        "--max-access-token-ttl",
        "3d",
    ]);
    args.extend_from_slice(&uri);
    assert_eq!(operator.json(&args)["access_token_ttl"], 172_800);
}

#[test]
fn scopes_must_be_in_the_registry_which_the_config_file_extends() {
    let operator = Operator::new();
    let uri = ["--redirect-uri", "https://app.example/cb"];
    assert_eq!(
        operator.fails(&create(&[
            "--scope",
            "openid payments:write",
            uri[0],
            uri[1]
        ])),
        "unknown scope(s) payments:write: add them to the scope registry first"
    );
    let malformed = operator.fails(&create(&["--scope", "openid \"quoted\"", uri[0], uri[1]]));
    assert!(malformed.starts_with("scope: "), "{malformed}");
    // Every default scope is known, including the seeds' ones.
    let view = operator.json(&create(&[
        "--json",
        "--scope",
        "openid email profile:read wallet:read orders:read orders:write offline_access \
         auth.user_identity:read users.profiles:read users.balance:read application_access:write",
        uri[0],
        uri[1],
    ]));
    assert_eq!(view["scope"].as_str().unwrap().split(' ').count(), 11);

    operator.write(
        "portcullis.toml",
        "[scopes]\n\"payments:write\" = \"Send payments from your account\"\n",
    );
    let view = operator.json(&create(&[
        "--json",
        "--config",
        "portcullis.toml",
        "--scope",
        "openid payments:write",
        uri[0],
        uri[1],
    ]));
    assert_eq!(view["scope"], "openid payments:write");
    // Without the file the scope is unknown again, even to update.
    let id = view["client_id"].as_str().unwrap();
    assert_eq!(
        operator.fails(&["client", "update", id, "--scope", "payments:write"]),
        "unknown scope(s) payments:write: add them to the scope registry first"
    );
    operator.write("bad.toml", "[scopes]\n\"payments:write\" = \"\"\n");
    let message = operator.fails(&create(&["--config", "bad.toml", uri[0], uri[1]]));
    assert!(
        message.contains("needs a description for the consent page"),
        "{message}"
    );
}
