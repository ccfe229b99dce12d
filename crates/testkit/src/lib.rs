//! Test helpers shared by every integration test: [`spawn_app`] starts the real server
//! in-process on port 0 with a fresh database (SQLite, or a throwaway PostgreSQL schema) and a
//! [`ManualClock`] the test can move.

pub mod browser;
pub mod flow;
pub mod fuzz;
pub mod process;

use std::net::SocketAddr;
use std::sync::{Arc, Once};

use portcullis::config::{CommonArgs, Config};
use portcullis::{Application, Runtime};
use portcullis_core::keys::KeyEncryptionKey;
use portcullis_core::random::OsRandom;
use portcullis_core::time::{Clock as _, ManualClock, SystemClock};
use portcullis_store::SqlStore;
use portcullis_store::testing::TestDatabase;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use portcullis_store::testing::announce_skip;

/// Which database a test app uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh schema on `PORTCULLIS_TEST_DATABASE_URL`.
    Postgres,
}

/// A running server and what a test needs to drive it.
#[derive(Debug)]
pub struct TestApp {
    /// The bound address.
    pub address: SocketAddr,
    /// The issuer, `http://127.0.0.1:PORT`; every URL starts with it.
    pub base: String,
    /// An HTTP client that does not follow redirects and keeps cookies.
    pub http: reqwest::Client,
    /// The server's clock.
    pub clock: Arc<ManualClock>,
    /// Direct access to the database.
    pub store: SqlStore,
    /// The configuration the server started with.
    pub config: Config,
    /// The server's audit writer.
    pub audit: portcullis::audit::AuditWriter,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    database: Arc<TestDatabase>,
}

/// Options for [`spawn_app_with`].
#[derive(Debug)]
pub struct AppOptions {
    /// The database.
    pub backend: Backend,
    /// Seed the sandbox.
    pub sandbox: bool,
    /// A last change to the configuration before start.
    pub configure: fn(&mut Config),
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            backend: Backend::Sqlite,
            sandbox: false,
            configure: |_| {},
        }
    }
}

fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Logs only when asked: TEST_LOG=debug cargo test …
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
    });
}

/// Starts the server on SQLite.
///
/// # Panics
/// When the server cannot start: the test cannot go on.
#[allow(clippy::expect_used)] // Test set-up: failing loudly is the point.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default())
        .await
        .expect("SQLite needs no configuration")
}

/// Starts the server with `options`. `None` (announced on stderr) when PostgreSQL was asked
/// for and `PORTCULLIS_TEST_DATABASE_URL` is not set.
///
/// # Panics
/// When the server cannot start.
#[allow(clippy::expect_used)] // Test set-up: failing loudly is the point.
pub async fn spawn_app_with(options: AppOptions) -> Option<TestApp> {
    init_logs();
    let database = match options.backend {
        Backend::Sqlite => TestDatabase::sqlite().expect("temporary directory"),
        Backend::Postgres => {
            let test = std::thread::current()
                .name()
                .unwrap_or("postgres test")
                .to_owned();
            TestDatabase::postgres(&test)
                .await
                .expect("test PostgreSQL reachable")?
        }
    };
    let mut config = Config::load(&CommonArgs::default(), None).expect("default configuration");
    config.listen = "127.0.0.1:0".parse().expect("loopback address");
    config.database.url = database.url().to_owned();
    config.database.max_connections = 8;
    config.key_encryption_key = Some(
        KeyEncryptionKey::generate_base64(&OsRandom)
            .expect("randomness")
            .into(),
    );
    config.sandbox = options.sandbox;
    (options.configure)(&mut config);
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    Some(start(config, clock, Arc::new(database)).await)
}

/// Starts the server with `config` on `database`.
#[allow(clippy::expect_used)] // Test set-up: failing loudly is the point.
async fn start(config: Config, clock: Arc<ManualClock>, database: Arc<TestDatabase>) -> TestApp {
    let runtime = Runtime {
        clock: clock.clone(),
        random: Arc::new(OsRandom),
    };
    let app = Application::build(config.clone(), runtime)
        .await
        .expect("server starts");
    let address = app.local_addr();
    let base = app.issuer().to_owned();
    let store = app.store().clone();
    let audit = app.audit();
    let (shutdown, stop) = oneshot::channel();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stop.await;
    }));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("HTTP client");
    TestApp {
        address,
        base,
        http,
        clock,
        store,
        config,
        audit,
        shutdown: Some(shutdown),
        server: Some(server),
        database,
    }
}

impl TestApp {
    /// `base` + `path`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server as SIGTERM would, and waits for it to finish.
    ///
    /// # Errors
    /// When the server reported an error while stopping.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.server.take() {
            Some(server) => server.await?,
            None => Ok(()),
        }
    }

    /// The audit events matching `filter`, after everything recorded so far was written.
    #[allow(clippy::expect_used)] // Test helper.
    pub async fn audit_events(
        &self,
        filter: portcullis_core::audit::AuditFilter,
    ) -> Vec<portcullis_core::audit::AuditEvent> {
        use portcullis_core::store::AuditStore as _;
        self.audit.flush(std::time::Duration::from_secs(5)).await;
        self.store
            .audit_events(&filter)
            .await
            .expect("audit trail readable")
    }

    /// The database this app runs on.
    #[must_use]
    pub fn database(&self) -> &TestDatabase {
        &self.database
    }

    /// Stops the server and starts a new one with the same configuration, database and clock,
    /// as an operator restarting the process would.
    ///
    /// # Errors
    /// When the server reported an error while stopping.
    pub async fn restart(mut self) -> anyhow::Result<Self> {
        let (config, clock, database) = (
            self.config.clone(),
            Arc::clone(&self.clock),
            Arc::clone(&self.database),
        );
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await??;
        }
        drop(self);
        Ok(start(config, clock, database).await)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
