use std::time::Duration;

use portcullis_testkit::process::{ServerProcess, run};
use serde_json::Value;

use crate::binary;

async fn jwks_kids(server: &ServerProcess) -> Vec<String> {
    let jwks: Value = reqwest::get(server.url("/oauth/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// `keys rotate` on the command line while a node runs: the node publishes the new key after
/// its next refresh, without restart, and `keys list` shows the old key retiring.
#[tokio::test]
async fn rotation_from_the_cli_reaches_a_running_node() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(
        &binary(),
        dir.path(),
        &["--key-refresh-interval", "200ms"],
        &[],
    )
    .unwrap();
    let before = jwks_kids(&server).await;
    assert_eq!(before.len(), 4, "one key per algorithm");

    let (status, out, err) = run(
        &binary(),
        dir.path(),
        &[
            "keys",
            "rotate",
            "--alg",
            "ES256",
            "--activate-after",
            "0s",
            "--json",
        ],
        &[],
    )
    .unwrap();
    assert!(status.success(), "{err}");
    let made: Value = serde_json::from_str(&out).unwrap();
    let new_kid = made[0]["kid"].as_str().unwrap().to_owned();

    let mut published = Vec::new();
    for _ in 0..50 {
        published = jwks_kids(&server).await;
        if published.contains(&new_kid) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(published.contains(&new_kid), "{published:?}");
    assert!(
        before.iter().all(|k| published.contains(k)),
        "old keys stay published"
    );

    let (status, out, _) = run(&binary(), dir.path(), &["keys", "list", "--json"], &[]).unwrap();
    assert!(status.success());
    let keys: Vec<Value> = serde_json::from_str(&out).unwrap();
    let state = |kid: &str| {
        keys.iter().find(|k| k["kid"] == kid).unwrap()["state"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(state(&new_kid), "active");
    let old_es = keys
        .iter()
        .find(|k| k["alg"] == "ES256" && k["kid"] != new_kid.as_str())
        .unwrap();
    assert_eq!(old_es["state"], "retiring");
}

#[test]
fn unknown_algorithm_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, err) = run(
        &binary(),
        dir.path(),
        &["keys", "rotate", "--alg", "HS256"],
        &[],
    )
    .unwrap();
    assert!(!status.success());
    assert!(err.contains("unknown signing algorithm \"HS256\""), "{err}");
}

#[test]
fn generate_kek_prints_a_usable_key() {
    let dir = tempfile::tempdir().unwrap();
    let (status, out, _) = run(&binary(), dir.path(), &["keys", "generate-kek"], &[]).unwrap();
    assert!(status.success());
    portcullis_core::keys::KeyEncryptionKey::from_base64(out.trim()).unwrap();
}
