//! Runs one library script and plays the user's part of its flow.
//!
//! The protocol, line by line on the script's stdout: `AUTHORIZE <url>` asks the user to open
//! an authorization URL (the test logs in and consents with the testkit, then writes the
//! callback URL the browser was sent to on the script's stdin); `LOGOUT <url>` does the same
//! for an end-session URL (the answer is where the browser was sent); `RESULT <json>` is what
//! the script observed, for the test to check. Any other line is log, shown when it fails.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::Command;

use crate::install::{SOURCES, Tools, tools};

/// Longer than any script takes on a loaded 2-CPU machine; a hung script fails the test.
const TIMEOUT: Duration = Duration::from_secs(180);

/// What a script asks the user to do.
#[derive(Debug)]
pub enum Step {
    /// Open an authorization URL; answer with the callback URL.
    Authorize(String),
    /// Open an end-session URL; answer with where the browser was sent.
    Logout(String),
}

/// A script to run, with its environment.
#[derive(Debug)]
pub struct Script {
    name: String,
    command: Command,
}

impl Script {
    /// `node js/<file> <args>`, from the installed npm project.
    pub async fn node(file: &str, args: &[&str]) -> Self {
        let tools = tools().await;
        let mut command = Command::new("node");
        command.arg(tools.node_dir.join(file)).args(args);
        Self::new(format!("node {file} {}", args.join(" ")), command)
    }

    /// `python python/<file> <args>` in the venv.
    pub async fn python(file: &str, args: &[&str]) -> Self {
        let Tools { python, .. } = tools().await;
        let mut command = Command::new(python);
        command
            .arg(Path::new(SOURCES).join("python").join(file))
            .args(args)
            // No __pycache__ in the source tree.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            // Authlib refuses plain HTTP unless told; the test server is on loopback.
            .env("AUTHLIB_INSECURE_TRANSPORT", "1");
        Self::new(format!("python {file} {}", args.join(" ")), command)
    }

    fn new(name: String, mut command: Command) -> Self {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        Self { name, command }
    }

    /// Sets an environment variable of the script.
    pub fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// Runs a script that needs no user; returns its result.
    pub async fn result(self) -> Value {
        self.run(async |step| panic!("unexpected {step:?}")).await
    }

    /// Runs the script, answering each of its steps with `user`; returns its result. Fails the
    /// test (with the script's output) when it exits non-zero, gives no result or hangs.
    pub async fn run(mut self, mut user: impl AsyncFnMut(Step) -> String) -> Value {
        let mut child = self
            .command
            .spawn()
            .unwrap_or_else(|e| panic!("{}: cannot start: {e}", self.name));
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stderr = child.stderr.take().unwrap();
        let errors = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        let mut log = Vec::new();
        let mut result = None;
        let talk = async {
            while let Some(line) = stdout.next_line().await.unwrap() {
                let answer = if let Some(url) = line.strip_prefix("AUTHORIZE ") {
                    Some(user(Step::Authorize(url.to_owned())).await)
                } else if let Some(url) = line.strip_prefix("LOGOUT ") {
                    Some(user(Step::Logout(url.to_owned())).await)
                } else {
                    if let Some(json) = line.strip_prefix("RESULT ") {
                        result = Some(serde_json::from_str::<Value>(json).unwrap());
                    }
                    None
                };
                if let Some(answer) = answer {
                    stdin
                        .write_all(format!("{answer}\n").as_bytes())
                        .await
                        .unwrap();
                    stdin.flush().await.unwrap();
                }
                log.push(line);
            }
            child.wait().await.unwrap()
        };
        let status = tokio::time::timeout(TIMEOUT, talk).await;
        let errors = errors.await.unwrap_or_default();
        let report = || format!("stdout:\n{}\nstderr:\n{errors}", log.join("\n"));
        match status {
            Err(_) => panic!("{} did not finish in {TIMEOUT:?}\n{}", self.name, report()),
            Ok(status) if !status.success() => {
                panic!("{} failed ({status})\n{}", self.name, report())
            }
            Ok(_) => result.unwrap_or_else(|| panic!("{} gave no RESULT\n{}", self.name, report())),
        }
    }
}
