//! A real headless Chromium, driven over WebDriver (chromedriver from Debian's packages).
//!
//! Without chromedriver the browser tests announce that they were skipped, unless
//! `PORTCULLIS_REQUIRE_BROWSER` is set (as `scripts/test` does after installing it): then a
//! missing browser is a failure.

#![allow(clippy::expect_used, clippy::panic, clippy::missing_panics_doc)] // Test set-up fails loudly.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Set to require the browser tests to run.
pub const REQUIRE_VAR: &str = "PORTCULLIS_REQUIRE_BROWSER";

fn find(binary: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(binary))
        .find(|p| p.is_file())
}

/// A headless Chromium session and its chromedriver.
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver (on a port it picks) and a headless Chromium with a fresh profile.
    /// `None` (announced on stderr) when chromedriver is not installed and not required.
    pub async fn start(test: &str) -> Option<Self> {
        let Some(driver_path) = find("chromedriver") else {
            assert!(
                std::env::var_os(REQUIRE_VAR).is_none(),
                "chromedriver is not installed but {REQUIRE_VAR} is set; run scripts/test"
            );
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: chromedriver is not installed (scripts/test installs Debian's chromium and chromium-driver)"
            );
            return None;
        };
        let mut driver = Command::new(driver_path)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let stdout = driver.stdout.take().expect("chromedriver stdout");
        let port = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| {
                line.split("started successfully on port ")
                    .nth(1)
                    .map(|p| p.trim_end_matches('.').to_owned())
            })
            .and_then(|p| p.parse::<u16>().ok())
            .expect("chromedriver reports its port");
        let profile = tempfile::tempdir().expect("profile directory");
        let chromium = find("chromium").unwrap_or_else(|| "/usr/bin/chromium".into());
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-quic", "--no-first-run", "--no-default-browser-check",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..50 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Some(Self {
                        client,
                        driver,
                        _profile: profile,
                    });
                }
                Err(error) => last_error = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not open a Chromium session: {last_error:?}");
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    /// The current URL.
    pub async fn url(&self) -> url::Url {
        self.client.current_url().await.expect("current URL")
    }

    /// Waits for the page at `path` (a URL path) to load, up to ten seconds.
    pub async fn wait_for_path(&self, path: &str) {
        for _ in 0..100 {
            if self.url().await.path() == path {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the browser did not reach {path}; it is at {}",
            self.url().await
        );
    }

    /// Types `text` into the field with `id`.
    pub async fn fill(&self, id: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no field #{id}: {e}"));
        field.send_keys(text).await.expect("typing");
    }

    /// Clicks the element matching the CSS selector.
    pub async fn click(&self, css: &str) {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        element.click().await.expect("click");
    }

    /// The visible text of the element with `id`.
    pub async fn text_of(&self, id: &str) -> String {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no element #{id}: {e}"))
            .text()
            .await
            .expect("text")
    }

    /// Empties the field with `id`.
    pub async fn clear(&self, id: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no field #{id}: {e}"))
            .clear()
            .await
            .expect("clearing");
    }

    /// Runs `script` in the page (a function body; `arguments` holds `args`) and returns its
    /// result.
    pub async fn execute(&self, script: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// The page's visible text, or `None` while a new page is still loading (its body not
    /// there yet), for loops that wait for a text to appear.
    pub async fn text_if_loaded(&self) -> Option<String> {
        self.client
            .find(Locator::Css("body"))
            .await
            .ok()?
            .text()
            .await
            .ok()
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("body")
            .text()
            .await
            .expect("text")
    }

    /// Ends the session and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
