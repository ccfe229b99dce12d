//! A throwaway PostgreSQL server of the test's own (`initdb` and `pg_ctl`), on a free loopback
//! port with its socket in a temporary directory, so that a test can stop and start it without
//! disturbing the shared one. It is stopped and its files removed when dropped, a panicking
//! test included.
//!
//! PostgreSQL refuses to run as root: when the tests do, its commands run as the `postgres`
//! user (`runuser`), who then owns the directory.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Names the directory holding `initdb` and `pg_ctl`, when they are not on `PATH` nor in
/// `/usr/lib/postgresql/*/bin`.
pub const BIN_VAR: &str = "PORTCULLIS_PG_BIN";

/// A PostgreSQL server that exists for one test.
#[derive(Debug)]
pub struct Server {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// Where `initdb` and `pg_ctl` are: [`BIN_VAR`], then `PATH`, then the newest
/// `/usr/lib/postgresql/*/bin`.
fn find_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(BIN_VAR) {
        return Some(dir.into());
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("pg_ctl").is_file() && dir.join("initdb").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("bin"))
            .filter(|bin| bin.join("pg_ctl").is_file())
            .collect();
        versions.sort_by_key(|bin| {
            bin.parent()
                .and_then(Path::file_name)
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        });
        versions.pop()
    })
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The ports a test server listens on: below Linux's ephemeral range (32768–60999), so that
/// while the server is stopped for an outage test, no outgoing connection and no listener on
/// port 0 can take its port before it starts again on it.
const PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A port of [`PORTS`] that is free now, from a random start.
fn free_port() -> std::io::Result<u16> {
    use std::hash::{BuildHasher as _, Hasher as _};
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let span = u64::from(PORTS.end - PORTS.start);
    let start = u16::try_from(random % span).unwrap_or(0);
    (0..PORTS.end - PORTS.start)
        .map(|i| PORTS.start + (start + i) % (PORTS.end - PORTS.start))
        .find(|port| TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .ok_or_else(|| std::io::Error::other("no free port for a test PostgreSQL"))
}

impl Server {
    /// Creates a cluster in a temporary directory and starts it. `Ok(None)` (announced on
    /// stderr) when no PostgreSQL binaries are installed.
    ///
    /// # Errors
    /// When the binaries are there but the server cannot be made or started.
    pub fn start(test: &str) -> anyhow::Result<Option<Self>> {
        let Some(bin) = find_bin() else {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: no PostgreSQL binaries (initdb, pg_ctl) found; set {BIN_VAR}"
            );
            return Ok(None);
        };
        let dir = tempfile::Builder::new()
            .prefix("portcullis-pg-")
            .tempdir()?;
        let as_postgres = running_as_root();
        if as_postgres {
            let status = Command::new("chown")
                .arg("postgres:")
                .arg(dir.path())
                .status()?;
            anyhow::ensure!(
                status.success(),
                "cannot give {} to postgres",
                dir.path().display()
            );
        }
        let mut server = Self {
            dir,
            bin,
            port: 0,
            as_postgres,
        };
        let data = server.data().display().to_string();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-N",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        )?;
        // A port found free may be taken before PostgreSQL binds it: try a few.
        let mut last = None;
        for _ in 0..3 {
            server.port = free_port()?;
            match server.resume() {
                Ok(()) => return Ok(Some(server)),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("PostgreSQL did not start")))
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`): connections
    /// are cut, and the next start recovers from the write-ahead log.
    ///
    /// # Errors
    /// When `pg_ctl` fails.
    pub fn crash(&self) -> anyhow::Result<()> {
        self.stop_with("immediate")
    }

    /// Stops the server cleanly (`pg_ctl stop -m fast`): sessions are ended with an error.
    ///
    /// # Errors
    /// When `pg_ctl` fails.
    pub fn stop(&self) -> anyhow::Result<()> {
        self.stop_with("fast")
    }

    fn stop_with(&self, mode: &str) -> anyhow::Result<()> {
        let data = self.data().display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", mode, "-w", "stop"])
            .map(drop)
    }

    /// Starts the (stopped) server again on the same port and waits until it accepts
    /// connections.
    ///
    /// # Errors
    /// When `pg_ctl` fails.
    pub fn resume(&self) -> anyhow::Result<()> {
        let data = self.data().display().to_string();
        let log = self.dir.path().join("log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "30", "start",
            ],
        )
        .map(drop)
    }

    /// Runs one of the PostgreSQL programs, as `postgres` when the tests run as root.
    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<Output> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        let output = command
            .args(args)
            .current_dir(self.dir.path())
            .stdin(std::process::Stdio::null())
            .output()?;
        if output.status.success() {
            Ok(output)
        } else {
            let log = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
            anyhow::bail!(
                "{program} {} failed ({}):\n{}{}\n{log}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            )
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Whatever state the test left it in; the directory goes with the TempDir.
        let _ = self.stop_with("immediate");
    }
}
