//! schemathesis against `GET /openapi.json` of a running server: every documented operation of
//! the admin API (with an admin token) and of the resource API (with a user's token), examples,
//! coverage and fuzzing, positive and negative, with a fixed seed and a few examples per
//! operation so a run is bounded and repeatable. Any answer that is a server error, a status,
//! content type or body the description does not give, fails the test with schemathesis' own
//! report (each failure with a `curl` line that reproduces it).

use std::path::Path;
use std::time::{Duration, Instant};

use portcullis_testkit::flow::{BANKING_SCOPES, Pkce, banking, request};
use portcullis_testkit::{TestApp, spawn_app};
use tokio::process::Command;

use crate::install::tools;
use crate::kit::admin_token;

/// The checks the brief of issue 14 names; `all` would add stateful ones that need links the
/// description does not have.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance";
/// Fixed, so a failure found in CI is found again on a laptop.
const SEED: &str = "14";
/// Examples per operation and phase: about 20 operations, a minute or two on 2 CPUs.
const EXAMPLES: &str = "12";
/// A hard stop, well under the brief's four minutes for both runs.
const MAX_TIME: Duration = Duration::from_secs(100);

/// Runs schemathesis on the operations under `paths` (a regex) with `token`; fails the test
/// with its output unless it found nothing.
async fn fuzz(app: &TestApp, paths: &str, token: &str) {
    let tools = tools().await;
    let report = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("interop/schemathesis")
        .join(paths.trim_matches(|c: char| !c.is_ascii_alphanumeric()));
    let started = Instant::now();
    let out = Command::new(&tools.schemathesis)
        .arg("run")
        .arg(app.url("/openapi.json"))
        .args(["--checks", CHECKS])
        .args(["--include-path-regex", paths])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--mode", "all"])
        .args(["--seed", SEED])
        .args(["--max-examples", EXAMPLES])
        .args(["--max-time", &MAX_TIME.as_secs().to_string()])
        .args(["--workers", "2"])
        .args(["--request-timeout", "10"])
        .args(["--no-color", "--output-truncate", "false"])
        .arg("--report-dir")
        .arg(&report)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "schemathesis on {paths} failed ({}, {elapsed:?}):\n{text}",
        out.status
    );
    eprintln!("schemathesis on {paths}: clean in {elapsed:?}");
}

#[tokio::test]
async fn schemathesis_finds_nothing_in_the_admin_api() {
    let app = spawn_app().await;
    let token = admin_token(&app).await;
    fuzz(&app, "^/admin/v1/", &token).await;
}

#[tokio::test]
async fn schemathesis_finds_nothing_in_the_resource_api() {
    let app = spawn_app().await;
    let (client, secret) = app.client(banking("Banking app")).await;
    app.customer("ada@example.com").await;
    let pkce = Pkce::new();
    let callback = app
        .code_flow(
            "ada@example.com",
            &request(client.id.as_str(), &pkce, BANKING_SCOPES),
            None,
        )
        .await;
    let (status, tokens) = app
        .exchange(&client, secret.as_ref(), &callback.code(), Some(&pkce.verifier))
        .await;
    assert_eq!(status, 200, "{tokens}");
    fuzz(&app, "^/api/v1/", tokens["access_token"].as_str().unwrap()).await;
}
