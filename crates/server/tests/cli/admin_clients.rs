//! `portcullis client create|list|show|update|delete|rotate-secret` as an operator runs them.

use serde_json::{Value, json};

use crate::admin_cli::{Operator, field};

const CODE_CLIENT: &[&str] = &[
    "client",
    "create",
    "--name",
    "Wallet app",
    "--redirect-uri",
    "https://wallet.example/cb",
    "--redirect-uri",
    "http://127.0.0.1:8000/cb",
    "--scope",
    "openid wallet:read",
    "--grant-type",
    "authorization_code",
    "--grant-type",
    "refresh_token",
];

fn with<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    let mut args = base.to_vec();
    args.extend_from_slice(more);
    args
}

fn show(operator: &Operator, id: &str) -> Value {
    operator.json(&["client", "show", id, "--json"])
}

#[test]
fn create_prints_the_id_the_secret_once_and_the_settings() {
    let operator = Operator::new();
    let out = operator.ok(CODE_CLIENT);
    let id = field(&out, "client_id");
    assert_eq!(id.len(), 36, "a generated UUID: {out}");
    let secret_line = field(&out, "client_secret");
    let (secret, note) = secret_line.split_once(' ').unwrap();
    assert_eq!(secret.len(), 43, "256 bits, base64url: {out}");
    assert_eq!(note.trim(), "(shown once; only its hash is stored)");
    assert_eq!(field(&out, "name"), "Wallet app");
    assert_eq!(field(&out, "type"), "confidential");
    assert_eq!(
        field(&out, "redirect_uris"),
        "https://wallet.example/cb http://127.0.0.1:8000/cb"
    );
    assert_eq!(
        field(&out, "grant_types"),
        "authorization_code refresh_token"
    );
    assert_eq!(field(&out, "scope"), "openid wallet:read");
    assert_eq!(field(&out, "pkce"), "s256");
    assert_eq!(field(&out, "lifetimes"), "access 3600s, refresh 2592000s");
    assert_eq!(field(&out, "id_token_alg"), "RS256");
    assert_eq!(
        field(&out, "flags"),
        "partner=false admin=false enabled=true"
    );

    // Shown once: never again.
    let shown = operator.ok(&["client", "show", &id]);
    assert!(!shown.contains(secret), "{shown}");
    assert!(!shown.contains("client_secret"), "{shown}");
    assert_eq!(field(&shown, "client_id"), id);
    let listed = operator.ok(&["client", "list", "--json"]);
    assert!(!listed.contains(secret));
    // Only its hash is in the database (file and write-ahead log).
    for file in ["portcullis.db", "portcullis.db-wal"] {
        let bytes =
            std::fs::read(operator.dir().join("portcullis-data").join(file)).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the secret is in {file} in clear"
        );
    }
}

#[test]
fn create_json_is_machine_readable() {
    let operator = Operator::new();
    let view = operator.json(&[
        "client",
        "create",
        "--json",
        "--id",
        "partner-app",
        "--name",
        "Partner",
        "--grant-type",
        "client_credentials",
        "--grant-type",
        "authorization_code",
        "--redirect-uri",
        "https://partner.example/cb",
        "--scope",
        "openid profile:read users.profiles:read",
        "--partner",
        "--access-token-ttl",
        "10m",
        "--refresh-token-ttl",
        "7d",
        "--pkce",
        "plain-allowed",
        "--id-token-alg",
        "ES256",
        "--logo-uri",
        "https://partner.example/logo.png",
        "--homepage-uri",
        "https://partner.example/",
        "--dpop-bound-access-tokens",
        "true",
        "--require-pushed-authorization-requests",
        "true",
    ]);
    let secret = view["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 43);
    let mut settings = view.clone();
    let object = settings.as_object_mut().unwrap();
    object.remove("client_secret");
    let created_at = object.remove("created_at").unwrap();
    let updated_at = object.remove("updated_at").unwrap();
    assert_eq!(created_at, updated_at);
    assert!(created_at.as_str().unwrap().ends_with('Z'), "RFC 3339 UTC");
    assert_eq!(
        settings,
        json!({
            "client_id": "partner-app",
            "name": "Partner",
            "public": false,
            "redirect_uris": ["https://partner.example/cb"],
            "post_logout_redirect_uris": [],
            "dpop_bound_access_tokens": true,
            "require_pushed_authorization_requests": true,
            "web_origins": [],
            "grant_types": ["authorization_code", "client_credentials"],
            "scope": "openid profile:read users.profiles:read",
            "access_token_ttl": 600,
            "refresh_token_ttl": 604_800,
            "pkce": "plain-allowed",
            "id_token_alg": "ES256",
            "partner": true,
            "admin": false,
            "enabled": true,
            "logo_uri": "https://partner.example/logo.png",
            "homepage_uri": "https://partner.example/",
        })
    );
    // A public client has no secret; an admin client gets client credentials and `admin`.
    let public = operator.json(&[
        "client",
        "create",
        "--json",
        "--public",
        "--name",
        "SPA",
        "--redirect-uri",
        "https://spa.example/cb",
    ]);
    assert!(public.get("client_secret").is_none(), "{public}");
    assert_eq!(public["public"], true);
    assert_eq!(
        public["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(public["scope"], "email openid profile");
    let admin = operator.json(&["client", "create", "--json", "--admin", "--name", "Console"]);
    assert_eq!(admin["admin"], true);
    assert_eq!(admin["grant_types"], json!(["client_credentials"]));
    assert_eq!(admin["scope"], "admin");
    assert!(admin["client_secret"].is_string());
}

#[test]
fn list_and_show_print_every_client() {
    let operator = Operator::new();
    operator.ok(&with(CODE_CLIENT, &["--id", "wallet"]));
    operator.ok(&[
        "client",
        "create",
        "--id",
        "spa",
        "--public",
        "--name",
        "Single-page app",
        "--redirect-uri",
        "https://spa.example/cb",
    ]);
    let text = operator.ok(&["client", "list"]);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["CLIENT_ID", "TYPE", "ENABLED", "NAME"]);
    assert_eq!(lines[1], ["spa", "public", "true", "Single-page", "app"]);
    assert_eq!(
        lines[2],
        ["wallet", "confidential", "true", "Wallet", "app"]
    );
    assert_eq!(lines.len(), 3);

    let list = operator.json(&["client", "list", "--json"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["client_id"], "wallet");
    assert_eq!(
        list[1],
        show(&operator, "wallet"),
        "list shows what show shows"
    );
    assert!(list.iter().all(|c| c.get("client_secret").is_none()));

    let text = operator.ok(&["client", "show", "spa"]);
    assert_eq!(field(&text, "type"), "public");
    assert_eq!(
        operator.fails(&["client", "show", "nobody"]),
        "no client with id \"nobody\""
    );
    // An empty database lists nothing.
    let empty = Operator::new();
    assert_eq!(empty.json(&["client", "list", "--json"]), json!([]));
}

#[test]
fn update_changes_only_what_is_given() {
    let operator = Operator::new();
    let created = operator.json(&with(CODE_CLIENT, &["--id", "wallet", "--json"]));
    let mut expected = created.clone();
    expected.as_object_mut().unwrap().remove("client_secret");

    let changes: Vec<(Vec<&str>, &str, Value)> = vec![
        (vec!["--name", "Wallet"], "name", json!("Wallet")),
        (
            vec![
                "--redirect-uri",
                "https://w.example/a",
                "--redirect-uri",
                "https://w.example/b",
            ],
            "redirect_uris",
            json!(["https://w.example/a", "https://w.example/b"]),
        ),
        (
            vec!["--scope", "openid email"],
            "scope",
            json!("email openid"),
        ),
        (
            vec![
                "--grant-type",
                "authorization_code",
                "--grant-type",
                "client_credentials",
            ],
            "grant_types",
            json!(["authorization_code", "client_credentials"]),
        ),
        (
            vec!["--access-token-ttl", "5m"],
            "access_token_ttl",
            json!(300),
        ),
        (
            vec!["--refresh-token-ttl", "1d"],
            "refresh_token_ttl",
            json!(86_400),
        ),
        (
            vec!["--pkce", "plain-allowed"],
            "pkce",
            json!("plain-allowed"),
        ),
        (
            vec!["--id-token-alg", "PS256"],
            "id_token_alg",
            json!("PS256"),
        ),
        (
            vec!["--logo-uri", "https://w.example/l.png"],
            "logo_uri",
            json!("https://w.example/l.png"),
        ),
        (
            vec!["--homepage-uri", "https://w.example/"],
            "homepage_uri",
            json!("https://w.example/"),
        ),
        (vec!["--partner", "true"], "partner", json!(true)),
        (vec!["--admin", "true"], "admin", json!(true)),
        (vec!["--admin", "false"], "admin", json!(false)),
        (vec!["--disable"], "enabled", json!(false)),
        (vec!["--enable"], "enabled", json!(true)),
    ];
    for (flags, key, value) in changes {
        let args = with(&["client", "update", "wallet", "--json"], &flags);
        let updated = operator.json(&args);
        expected[key] = value;
        expected["updated_at"] = updated["updated_at"].clone();
        assert_eq!(updated, expected, "{flags:?}");
        assert_eq!(show(&operator, "wallet"), expected, "{flags:?} is stored");
    }
    // Text output, and an empty logo removing it.
    let text = operator.ok(&["client", "update", "wallet", "--logo-uri", ""]);
    assert_eq!(field(&text, "name"), "Wallet");
    assert!(show(&operator, "wallet").get("logo_uri").is_none());

    // A refused change leaves the client as it was.
    let before = show(&operator, "wallet");
    assert_eq!(
        operator.fails(&[
            "client",
            "update",
            "wallet",
            "--name",
            "Broken",
            "--redirect-uri",
            "http://w.example/cb"
        ]),
        "redirect URI \"http://w.example/cb\" must use https (http is allowed only on a \
         loopback address)"
    );
    assert_eq!(
        operator.fails(&[
            "client",
            "update",
            "wallet",
            "--partner",
            "true",
            "--grant-type",
            "authorization_code"
        ]),
        "partner clients must be confidential and allowed client_credentials"
    );
    assert_eq!(show(&operator, "wallet"), before);
    assert_eq!(
        operator.fails(&["client", "update", "nobody", "--name", "x"]),
        "no client with id \"nobody\""
    );
    let clap = operator.run(&["client", "update", "wallet", "--enable", "--disable"]);
    assert!(!clap.success);
    assert!(
        clap.stderr.contains("cannot be used with"),
        "{}",
        clap.stderr
    );
}

#[test]
fn delete_removes_the_client() {
    let operator = Operator::new();
    operator.ok(&with(CODE_CLIENT, &["--id", "wallet"]));
    assert_eq!(
        operator.ok(&["client", "delete", "wallet"]).trim(),
        "deleted client wallet"
    );
    assert_eq!(
        operator.fails(&["client", "show", "wallet"]),
        "no client with id \"wallet\""
    );
    assert_eq!(
        operator.fails(&["client", "delete", "wallet"]),
        "no client with id \"wallet\""
    );
    assert_eq!(operator.json(&["client", "list", "--json"]), json!([]));
}

#[test]
fn rotate_secret_prints_the_new_secret_once() {
    let operator = Operator::new();
    let created = operator.json(&with(CODE_CLIENT, &["--id", "wallet", "--json"]));
    let old = created["client_secret"].as_str().unwrap().to_owned();

    let text = operator.ok(&["client", "rotate-secret", "wallet"]);
    let line = field(&text, "client_secret");
    let (new, note) = line.split_once(' ').unwrap();
    assert_eq!(new.len(), 43);
    assert_ne!(new, old);
    assert_eq!(note.trim(), "(shown once; only its hash is stored)");
    assert!(!text.contains("old secret"), "no grace: {text}");

    let rotated = operator.json(&[
        "client",
        "rotate-secret",
        "wallet",
        "--grace",
        "1h",
        "--json",
    ]);
    assert_eq!(rotated["client_secret"].as_str().unwrap().len(), 43);
    let until = rotated["previous_secret_expires_at"].as_str().unwrap();
    assert_eq!(
        show(&operator, "wallet")["previous_secret_expires_at"],
        until,
        "shown until the grace ends"
    );
    let text = operator.ok(&["client", "rotate-secret", "wallet", "--grace", "30m"]);
    assert!(
        field(&text, "old secret").starts_with("still accepted until "),
        "{text}"
    );

    assert_eq!(
        operator.fails(&["client", "rotate-secret", "wallet", "--grace", "soon"]),
        "--grace \"soon\" is not a duration like 30s, 5m, 1h or 7d"
    );
    operator.ok(&[
        "client",
        "create",
        "--id",
        "spa",
        "--public",
        "--name",
        "SPA",
        "--redirect-uri",
        "https://spa.example/cb",
    ]);
    assert_eq!(
        operator.fails(&["client", "rotate-secret", "spa"]),
        "a public client has no secret to rotate"
    );
    assert_eq!(
        operator.fails(&["client", "rotate-secret", "nobody"]),
        "no client with id \"nobody\""
    );
}

#[test]
fn post_logout_redirect_uris_and_web_origins_are_set_replaced_and_cleared() {
    let operator = Operator::new();
    let out = operator.ok(&with(
        CODE_CLIENT,
        &[
            "--post-logout-redirect-uri",
            "https://wallet.example/bye",
            "--web-origin",
            "https://wallet.example",
            "--web-origin",
            "http://127.0.0.1:5173",
        ],
    ));
    let id = field(&out, "client_id");
    assert_eq!(field(&out, "post_logout"), "https://wallet.example/bye");
    assert_eq!(
        field(&out, "web_origins"),
        "http://127.0.0.1:5173 https://wallet.example"
    );
    let shown = show(&operator, &id);
    assert_eq!(
        shown["post_logout_redirect_uris"],
        json!(["https://wallet.example/bye"])
    );

    // A path is not an origin: refused with the rule, nothing changed.
    let refused = operator.fails(&[
        "client",
        "update",
        &id,
        "--web-origin",
        "https://wallet.example/app",
    ]);
    assert!(refused.contains("scheme://host[:port]"), "{refused}");
    assert_eq!(
        show(&operator, &id)["web_origins"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Given values replace the list; --clear-… empties it; leaving both out keeps it.
    operator.ok(&[
        "client",
        "update",
        &id,
        "--web-origin",
        "https://app.wallet.example",
    ]);
    assert_eq!(
        show(&operator, &id)["web_origins"],
        json!(["https://app.wallet.example"])
    );
    operator.ok(&[
        "client",
        "update",
        &id,
        "--clear-web-origins",
        "--name",
        "Wallet",
    ]);
    let shown = show(&operator, &id);
    assert_eq!(shown["web_origins"], json!([]));
    assert_eq!(
        shown["post_logout_redirect_uris"],
        json!(["https://wallet.example/bye"])
    );
    operator.ok(&["client", "update", &id, "--clear-post-logout-redirect-uris"]);
    assert_eq!(show(&operator, &id)["post_logout_redirect_uris"], json!([]));
}

#[test]
fn a_client_registered_with_a_key_file_uses_private_key_jwt_and_gets_no_secret() {
    let operator = Operator::new();
    let jwk = r#"{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
    operator.write("keys.json", &format!(r#"{{"keys": [{jwk}]}}"#));
    let keys = operator.dir().join("keys.json");
    let keys = keys.to_str().unwrap();
    let base = [
        "client",
        "create",
        "--json",
        "--name",
        "Bank",
        "--grant-type",
        "client_credentials",
        "--scope",
        "openid",
    ];
    let view = operator.json(&with(&base, &["--jwks-file", keys]));
    assert!(view.get("client_secret").is_none(), "{view}");
    assert_eq!(view["jwks"]["keys"][0]["kid"], "k1");
    let id = view["client_id"].as_str().unwrap();
    let error = operator.fails(&["client", "rotate-secret", id]);
    assert!(error.contains("private_key_jwt"), "{error}");
    // A private key, or a file that is not JSON, is refused with its reason.
    operator.write(
        "private.json",
        &format!(
            r#"{{"keys": [{}]}}"#,
            jwk.replace("\"kid\"", "\"d\":\"AAAA\",\"kid\"")
        ),
    );
    let private = operator.dir().join("private.json");
    let error = operator.fails(&with(&base, &["--jwks-file", private.to_str().unwrap()]));
    assert!(error.contains("private"), "{error}");
    operator.write("broken.json", "{");
    let broken = operator.dir().join("broken.json");
    let error = operator.fails(&with(&base, &["--jwks-file", broken.to_str().unwrap()]));
    assert!(error.contains("not JSON"), "{error}");
}
