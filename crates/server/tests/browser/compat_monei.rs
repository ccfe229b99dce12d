//! The Monei Connect guide (seed 002) end to end: the guide's own Express app, run under the
//! machine's Node with its dependencies installed by this test, pointed at Portcullis by base
//! URL only; a person in Chromium goes from the guide's connect link through consent to the
//! dashboard, which shows live wallet data and the granted scopes; a second person denies and
//! the dashboard says so.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use portcullis_core::admin::clients::NewClient;
use portcullis_core::client::{GrantType, PkcePolicy};
use portcullis_core::store::BankStore as _;
use portcullis_proto::ScopeSet;
use portcullis_testkit::browser::Browser;
use portcullis_testkit::flow::PASSWORD;
use portcullis_testkit::{AppOptions, spawn_app_with};

/// The guide's app, installed once per target directory (npm is slow; its packages do not
/// change between runs).
fn guide_app() -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/monei_guide");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("monei-guide-app");
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["app.js", "package.json"] {
        std::fs::copy(source.join(file), dir.join(file)).unwrap();
    }
    if !dir.join("node_modules/express-session").exists() {
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .expect("npm (Node.js) is installed");
        assert!(status.success(), "npm install failed");
    }
    dir
}

struct NodeApp(Child);

impl Drop for NodeApp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `node app.js` with the guide's `.env` and waits for its "Running on" line.
fn start_guide_app(dir: &Path, port: u16, env: &[(&str, String)]) -> NodeApp {
    let dotenv: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(dir.join(".env"), dotenv).unwrap();
    let mut child = Command::new("node")
        .arg("app.js")
        .current_dir(dir)
        .env("PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let ready = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(
        ready.starts_with("Running on"),
        "the guide's app did not start: {ready}"
    );
    NodeApp(child)
}

async fn dashboard(browser: &Browser) -> serde_json::Value {
    browser.wait_for_path("/dashboard").await;
    let text = browser.text().await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("dashboard is not JSON ({e}): {text}"))
}

#[tokio::test]
async fn monei_guide_app_from_connect_link_to_live_wallet_data() {
    let Some(browser) =
        Browser::start("browser::monei_guide_app_from_connect_link_to_live_wallet_data").await
    else {
        return;
    };
    let app = spawn_app_with(AppOptions {
        configure: |c| {
            c.compat
                .profiles
                .insert(portcullis_http::compat::Profile::Monei);
        },
        ..AppOptions::default()
    })
    .await
    .unwrap();
    let port = free_port();
    let redirect_uri = format!("http://localhost:{port}/monei/callback");
    // The guide's app is confidential and sends no PKCE: registered with PKCE optional, which a
    // confidential client may choose.
    let (client, secret) = app
        .client(NewClient {
            redirect_uris: vec![redirect_uri.clone()],
            grant_types: BTreeSet::from([GrantType::AuthorizationCode, GrantType::RefreshToken]),
            scopes: ScopeSet::parse("wallet:read profile:read").unwrap(),
            pkce: PkcePolicy::Optional,
            ..NewClient::confidential("Monei Demo Shop")
        })
        .await;
    let user = app.customer("ana@example.com").await;
    let profile = app.store.profiles_of(&user.id).await.unwrap().remove(0);
    let wallet = app.store.wallets_of(&profile.id).await.unwrap().remove(0);
    let iban = app.store.ibans_of(&profile.id).await.unwrap().remove(0);
    app.customer("bo@example.com").await;

    let dir = guide_app();
    let _node = start_guide_app(
        &dir,
        port,
        &[
            ("MONEI_CLIENT_ID", client.id.to_string()),
            ("MONEI_CLIENT_SECRET", secret.unwrap().expose().to_owned()),
            ("MONEI_REDIRECT_URI", redirect_uri.clone()),
            ("SESSION_SECRET", "guide-session-secret".to_owned()),
            ("PORTCULLIS_BASE", app.base.clone()),
        ],
    );

    // "Visit this in your browser: http://localhost:3000/connect-monei"
    browser
        .goto(&format!("http://localhost:{port}/connect-monei"))
        .await;
    browser.wait_for_path("/login").await;
    browser.fill("email", "ana@example.com").await;
    browser.fill("password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_path("/consent").await;
    assert!(
        browser
            .text()
            .await
            .contains("Monei Demo Shop wants access to your account")
    );
    browser.click("button[name=decision][value=allow]").await;

    // "After approving, you land back at /dashboard with live wallet data."
    let shown = dashboard(&browser).await;
    assert_eq!(shown["connected"], true, "{shown}");
    assert_eq!(
        shown["scopes"],
        serde_json::json!(["profile:read", "wallet:read"]),
        "{shown}"
    );
    assert_eq!(
        shown["wallet"]["wallets"][0]["address"],
        wallet.address.as_str(),
        "{shown}"
    );
    assert_eq!(shown["wallet"]["ibans"][0], iban.iban.as_str(), "{shown}");
    assert_eq!(
        shown["wallet"]["profile"]["id"],
        profile.id.as_str(),
        "{shown}"
    );
    browser.close().await;

    // Someone else declines: the guide's app sees error=access_denied.
    let Some(browser) = Browser::start("browser::monei_guide_denial").await else {
        return;
    };
    browser
        .goto(&format!("http://localhost:{port}/connect-monei"))
        .await;
    browser.wait_for_path("/login").await;
    browser.fill("email", "bo@example.com").await;
    browser.fill("password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_path("/consent").await;
    browser.click("button[name=decision][value=deny]").await;
    let shown = dashboard(&browser).await;
    assert_eq!(shown["connected"], false, "{shown}");
    assert_eq!(browser.url().await.query(), Some("error=access_denied"));
    browser.close().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
}
