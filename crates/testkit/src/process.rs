//! The `portcullis` binary as a child process, for tests of the command line, start-up
//! failures, signals and logs.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `portcullis serve`, with everything it has printed so far.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Where it listens (read from its start-up log line).
    pub address: SocketAddr,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

fn collect(stream: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Ok(mut sink) = sink.lock() {
                sink.push(line);
            }
        }
    });
    lines
}

fn snapshot(lines: &Mutex<Vec<String>>) -> Vec<String> {
    lines.lock().map(|l| l.clone()).unwrap_or_default()
}

/// The path of the `portcullis` binary that cargo built for this test run.
#[must_use]
pub fn binary() -> std::path::PathBuf {
    // Integration tests of the `portcullis` crate get CARGO_BIN_EXE_portcullis; others find
    // the binary beside the test executable's directory.
    if let Some(path) = option_env!("CARGO_BIN_EXE_portcullis") {
        return path.into();
    }
    let mut dir = std::env::current_exe().unwrap_or_default();
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("portcullis")
}

/// Runs `portcullis` with `args` in `cwd` to completion; returns (status, stdout, stderr).
///
/// # Errors
/// When the binary cannot be run.
pub fn run(
    binary: &Path,
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::io::Result<(ExitStatus, String, String)> {
    let output = Command::new(binary)
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter().copied())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .output()?;
    Ok((
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

impl ServerProcess {
    /// Starts `portcullis serve --listen 127.0.0.1:0 --log-format json <args>` in `cwd` and
    /// waits (up to 30 s) for it to say where it listens.
    ///
    /// # Errors
    /// When it cannot be started, or exits or stays silent instead of becoming ready; the
    /// message carries what it printed.
    pub fn start(
        binary: &Path,
        cwd: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let mut child = Command::new(binary)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(args)
            .current_dir(cwd)
            .env_clear()
            .envs(env.iter().copied())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdout = collect(
            child
                .stdout
                .take()
                .ok_or_else(|| anyhow::anyhow!("no stdout"))?,
        );
        let stderr = collect(
            child
                .stderr
                .take()
                .ok_or_else(|| anyhow::anyhow!("no stderr"))?,
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let address = snapshot(&stderr).iter().find_map(|line| {
                let rest = line.split("ready on ").nth(1)?;
                rest.split(|c: char| c == '"' || c.is_whitespace())
                    .next()?
                    .parse()
                    .ok()
            });
            if let Some(address) = address {
                return Ok(Self {
                    child,
                    address,
                    stdout,
                    stderr,
                });
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!(
                    "portcullis exited with {status} before it was ready:\n{}",
                    snapshot(&stderr).join("\n")
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                anyhow::bail!(
                    "portcullis was not ready within 30s:\n{}",
                    snapshot(&stderr).join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://ADDRESS` + `path`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Lines printed to stdout so far.
    #[must_use]
    pub fn stdout(&self) -> Vec<String> {
        snapshot(&self.stdout)
    }

    /// Lines printed to stderr (the logs) so far.
    #[must_use]
    pub fn stderr(&self) -> Vec<String> {
        snapshot(&self.stderr)
    }

    /// Sends SIGTERM.
    ///
    /// # Errors
    /// When the signal cannot be sent.
    pub fn terminate(&self) -> std::io::Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other("kill -TERM failed"))
        }
    }

    /// Waits up to `limit` for the process to exit.
    ///
    /// # Errors
    /// When it is still running after `limit` (it is then killed).
    pub fn wait(&mut self, limit: Duration) -> anyhow::Result<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                // Give the reader threads a moment to drain the pipes.
                std::thread::sleep(Duration::from_millis(50));
                return Ok(status);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                anyhow::bail!("portcullis did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
