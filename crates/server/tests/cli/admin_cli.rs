//! Running the administrative commands as an operator would: the binary, in a directory of its
//! own (whose `portcullis-data/` holds the database), with nothing in its environment.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use portcullis_testkit::process::run;
use serde_json::Value;

use crate::binary;

/// A directory to run `portcullis` in.
#[derive(Debug)]
pub struct Operator {
    dir: tempfile::TempDir,
}

/// What a run printed.
#[derive(Debug)]
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Operator {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The database URL the commands use by default, for tests that look inside.
    pub fn database_url(&self) -> String {
        format!(
            "sqlite://{}",
            self.dir().join("portcullis-data/portcullis.db").display()
        )
    }

    /// Writes a file into the directory.
    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir().join(name), text).unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_env(args, &[])
    }

    /// Runs with these environment variables (and nothing else but `PATH`).
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let (status, stdout, stderr) = run(&binary(), self.dir(), args, env).unwrap();
        Output {
            success: status.success(),
            stdout,
            stderr,
        }
    }

    /// Runs with `input` on standard input.
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        let mut child = Command::new(binary())
            .args(args)
            .current_dir(self.dir())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        Output {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs with standard output a pipe whose reader is already gone, as in `portcullis … |
    /// head` once `head` has read enough. Returns whether it succeeded and its stderr.
    pub fn run_into_closed_pipe(&self, args: &[&str]) -> (bool, String) {
        let mut child = Command::new(binary())
            .args(args)
            .current_dir(self.dir())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Runs a command that must succeed; returns what it printed.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.success, "{args:?} failed: {}", output.stderr);
        output.stdout
    }

    /// Runs a command that must succeed and print JSON.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let stdout = self.ok(args);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
    }

    /// Runs a command that must fail with one line `error: …` on stderr (no panic, no usage
    /// dump) and nothing on stdout; returns the message after `error: `.
    #[track_caller]
    pub fn fails(&self, args: &[&str]) -> String {
        refused(args, &self.run(args))
    }
}

/// Checks that `output` is a refusal of `args`: failure, nothing printed, one error line.
#[track_caller]
pub fn refused(args: &[&str], output: &Output) -> String {
    assert!(!output.success, "{args:?} should fail: {}", output.stdout);
    assert!(
        output.stdout.is_empty(),
        "{args:?} printed: {}",
        output.stdout
    );
    let lines: Vec<&str> = output
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line, got: {}", output.stderr);
    assert!(!output.stderr.contains("panicked"), "{}", output.stderr);
    lines[0]
        .strip_prefix("error: ")
        .unwrap_or_else(|| panic!("{args:?}: {}", output.stderr))
        .to_owned()
}

/// The value printed after `label` in text output (`label   value`).
#[track_caller]
pub fn field(stdout: &str, label: &str) -> String {
    stdout
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(label)?;
            rest.starts_with(' ').then(|| rest.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {label} in:\n{stdout}"))
}
