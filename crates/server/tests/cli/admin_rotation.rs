//! `portcullis client rotate-secret` against a running server, proven with real token
//! requests: without grace the old secret stops at once; with `--grace` both work.

use portcullis_testkit::process::ServerProcess;

use crate::admin_cli::Operator;
use crate::binary;

/// A client-credentials token request with HTTP Basic; returns the status.
async fn token_status(server: &ServerProcess, id: &str, secret: &str) -> u16 {
    reqwest::Client::new()
        .post(server.url("/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn secret_of(view: &serde_json::Value) -> String {
    view["client_secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn rotation_from_the_cli_applies_to_a_running_server() {
    let operator = Operator::new();
    // Every node re-reads clients at once, so the change made by the CLI (another process,
    // the same database) applies to the next request.
    let server = ServerProcess::start(
        &binary(),
        operator.dir(),
        &["--client-cache-ttl", "0s"],
        &[],
    )
    .unwrap();
    let created = operator.json(&[
        "client",
        "create",
        "--json",
        "--id",
        "back-office",
        "--name",
        "Back office",
        "--grant-type",
        "client_credentials",
        "--scope",
        "wallet:read",
    ]);
    let first = secret_of(&created);
    assert_eq!(token_status(&server, "back-office", &first).await, 200);
    assert_eq!(
        token_status(&server, "back-office", "not-the-secret").await,
        401
    );

    // Without grace: the old secret fails at once, the new one works.
    let second = secret_of(&operator.json(&["client", "rotate-secret", "back-office", "--json"]));
    assert_eq!(
        token_status(&server, "back-office", &first).await,
        401,
        "old secret"
    );
    assert_eq!(
        token_status(&server, "back-office", &second).await,
        200,
        "new secret"
    );

    // With an hour of grace: both work.
    let rotated = operator.json(&[
        "client",
        "rotate-secret",
        "back-office",
        "--grace",
        "1h",
        "--json",
    ]);
    let third = secret_of(&rotated);
    assert!(rotated["previous_secret_expires_at"].is_string());
    assert_eq!(
        token_status(&server, "back-office", &second).await,
        200,
        "old, in grace"
    );
    assert_eq!(
        token_status(&server, "back-office", &third).await,
        200,
        "new"
    );
    assert_eq!(
        token_status(&server, "back-office", &first).await,
        401,
        "two rotations ago"
    );

    // A rotation without grace ends the grace of the one before.
    let fourth = secret_of(&operator.json(&["client", "rotate-secret", "back-office", "--json"]));
    assert_eq!(token_status(&server, "back-office", &third).await, 401);
    assert_eq!(token_status(&server, "back-office", &second).await, 401);
    assert_eq!(token_status(&server, "back-office", &fourth).await, 200);

    // Disabling from the CLI stops the client too.
    operator.ok(&["client", "update", "back-office", "--disable"]);
    assert_eq!(token_status(&server, "back-office", &fourth).await, 401);

    // The server recorded the token requests, the CLI its changes, in the same trail.
    let failures = operator.json(&["audit", "--json", "--client", "back-office"]);
    let kinds: Vec<&str> = failures
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"client_secret_rotated"), "{kinds:?}");
    assert!(kinds.contains(&"tokens_issued"), "{kinds:?}");
}
