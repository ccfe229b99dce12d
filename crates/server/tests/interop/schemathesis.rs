//! schemathesis against `GET /openapi.json` of a running server: every documented operation of
//! the admin API (with an admin token) and of the resource API (with a user's token), examples,
//! coverage and fuzzing, positive and negative, with a fixed seed and a few examples per
//! operation so a run is bounded and repeatable. Any answer that is a server error, a status,
//! content type or body the description does not give, fails the test with schemathesis' own
//! report (each failure with a `curl` line that reproduces it).

use std::path::Path;
use std::time::{Duration, Instant};

use portcullis_core::store::BankStore as _;
use portcullis_testkit::flow::{BANKING_SCOPES, Pkce, banking, confidential, request};
use portcullis_testkit::{TestApp, spawn_app};
use tokio::process::Command;

use crate::install::tools;
use crate::kit::admin_token;

/// Every check but the two that judge the description's input constraints
/// (`positive_data_acceptance`, `negative_data_rejection`): the server's rules are stricter than
/// the schemas (an email address, a name of 1 to 100 characters after trimming, closed lists of
/// strings documented in prose, limits clamped rather than refused), which docs/integrations.md
/// lists. Each answer must still be a documented status with a documented JSON body.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance,\
                      missing_required_header,unsupported_method,allow_header_conformance,\
                      ignored_auth,use_after_free,ensure_resource_availability";
/// Fixed, so a failure found in CI is found again on a laptop.
const SEED: &str = "14";
/// Examples per operation and phase: 17 admin and 9 resource operations, a minute or so each
/// on 2 CPUs.
const EXAMPLES: &str = "60";
/// A hard stop for one run (both run at once, on 2 CPUs): a run that takes longer fails.
const MAX_TIME: Duration = Duration::from_secs(200);

/// Path parameters schemathesis should use for the operations whose path matches a regex:
/// real ids, so requests reach the handlers' logic instead of stopping at a 404.
type Known<'a> = &'a [(&'a str, &'a [(&'a str, &'a str)])];

/// The configuration file for `known`.
fn config(known: Known<'_>) -> String {
    // No state carried from run to run (schemathesis replays the crashes it cached, Hypothesis
    // the examples it saved): each run is the seed's, here as in CI.
    let mut toml = String::from("[cache]\nenabled = false\n");
    for (regex, parameters) in known {
        toml.push_str(&format!("[[operations]]\ninclude-path-regex = {regex:?}\n"));
        toml.push_str("[operations.parameters]\n");
        for (name, value) in *parameters {
            toml.push_str(&format!("{name:?} = {value:?}\n"));
        }
    }
    toml
}

/// Runs schemathesis on the operations under `paths` (a regex) with `token` and the `known`
/// ids; fails the test with its output unless it found nothing.
async fn fuzz(app: &TestApp, paths: &str, token: &str, known: Known<'_>) {
    let tools = tools().await;
    let report = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("interop/schemathesis")
        .join(paths.trim_matches(|c: char| !c.is_ascii_alphanumeric()));
    std::fs::create_dir_all(&report).unwrap();
    let config_file = report.join("schemathesis.toml");
    std::fs::write(&config_file, config(known)).unwrap();
    let started = Instant::now();
    let run = Command::new(&tools.schemathesis)
        .arg("--config-file")
        .arg(&config_file)
        .arg("run")
        .arg(app.url("/openapi.json"))
        .args(["--checks", CHECKS])
        .args(["--include-path-regex", paths])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--generation-database", "none"])
        .args(["--mode", "all"])
        .args(["--seed", SEED])
        .args(["--max-examples", EXAMPLES])
        .args(["--workers", "2"])
        .args(["--request-timeout", "10"])
        .args(["--no-color", "--output-truncate", "false"])
        .arg("--report-dir")
        .arg(&report)
        // Hypothesis turns on its CI profile (derandomized, other limits) when `CI` is set:
        // the same run locally and in `.ci/run`.
        .env_remove("CI")
        .current_dir(&report)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(MAX_TIME, run)
        .await
        .unwrap_or_else(|_| panic!("schemathesis on {paths} took over {MAX_TIME:?}"))
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
    eprintln!("schemathesis on {paths}: clean in {elapsed:?}\n{text}");
}

#[tokio::test]
async fn schemathesis_finds_nothing_in_the_admin_api() {
    let app = spawn_app().await;
    let token = admin_token(&app).await;
    let user = app.customer("ada@example.com").await;
    let (client, _) = app.client(confidential("Known app")).await;
    let (user, client) = (user.id.to_string(), client.id.to_string());
    let known: Known<'_> = &[
        (
            "^/admin/v1/users/",
            &[("id", &user), ("client_id", &client)],
        ),
        ("^/admin/v1/clients/", &[("id", &client)]),
    ];
    fuzz(&app, "^/admin/v1/", &token, known).await;
}

#[tokio::test]
async fn schemathesis_finds_nothing_in_the_resource_api() {
    let app = spawn_app().await;
    let (client, secret) = app.client(banking("Banking app")).await;
    let user = app.customer("ada@example.com").await;
    let pkce = Pkce::new();
    let callback = app
        .code_flow(
            "ada@example.com",
            &request(client.id.as_str(), &pkce, BANKING_SCOPES),
            None,
        )
        .await;
    let (status, tokens) = app
        .exchange(
            &client,
            secret.as_ref(),
            &callback.code(),
            Some(&pkce.verifier),
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let profiles = app.store.profiles_of(&user.id).await.unwrap();
    let profile = profiles[0].id.to_string();
    let known: Known<'_> = &[("^/api/v1/profiles/", &[("id", &profile)])];
    fuzz(
        &app,
        "^/api/v1/",
        tokens["access_token"].as_str().unwrap(),
        known,
    )
    .await;
}
