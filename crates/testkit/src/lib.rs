//! Test helpers shared by every integration test: [`spawn_app`] starts the real server
//! in-process on port 0 with a fresh database (SQLite, or a throwaway PostgreSQL schema) and a
//! [`ManualClock`] the test can move.

pub mod browser;
pub mod cluster;
pub mod flow;
pub mod fuzz;
pub mod onboarding;
pub mod postgres;
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
    /// Where this server is reached, `http://127.0.0.1:PORT`; every URL starts with it. It is
    /// also the issuer unless the configuration names one (as every node of a deployment
    /// started with [`TestApp::spawn_node`] does: they share the first node's issuer).
    pub base: String,
    /// The issuer identifier the server puts in tokens and metadata.
    pub issuer: String,
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
    database: Arc<Database>,
}

/// The database a test app runs on.
#[derive(Debug)]
enum Database {
    /// Made for the test, removed afterwards.
    Fresh(TestDatabase),
    /// Given by the test (see [`spawn_app_on`]), left as it is.
    Given(String),
}

impl Database {
    fn url(&self) -> &str {
        match self {
            Self::Fresh(database) => database.url(),
            Self::Given(url) => url,
        }
    }
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

/// Starts the server on a fresh SQLite database with `configure` applied to the default
/// test configuration.
///
/// # Panics
/// When the server cannot start.
#[allow(clippy::expect_used)] // Test set-up: failing loudly is the point.
pub async fn spawn_app_configured(configure: fn(&mut Config)) -> TestApp {
    spawn_app_with(AppOptions {
        configure,
        ..AppOptions::default()
    })
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
    Some(spawn_on(Database::Fresh(database), &options).await)
}

/// Starts the server with `options` on the existing database at `url` (its `backend` is
/// ignored), which is migrated and otherwise left as it is: for tests that run their own
/// database server (see [`postgres::Server`]).
///
/// # Panics
/// When the server cannot start.
pub async fn spawn_app_on(url: &str, options: AppOptions) -> TestApp {
    init_logs();
    spawn_on(Database::Given(url.to_owned()), &options).await
}

#[allow(clippy::expect_used)] // Test set-up: failing loudly is the point.
async fn spawn_on(database: Database, options: &AppOptions) -> TestApp {
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
    // Tests credit profiles as a sandbox operator would (the admin API's `fund`); a test of
    // funding being off turns it off.
    config.sandbox_funding = true;
    (options.configure)(&mut config);
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    start(config, clock, Arc::new(database))
        .await
        .expect("server starts")
}

/// Starts the server with `config` on `database`.
async fn start(
    config: Config,
    clock: Arc<ManualClock>,
    database: Arc<Database>,
) -> anyhow::Result<TestApp> {
    let runtime = Runtime {
        clock: clock.clone(),
        random: Arc::new(OsRandom),
    };
    let app = Application::build(config.clone(), runtime).await?;
    let address = app.local_addr();
    let issuer = app.issuer().to_owned();
    let base = if config.issuer.is_some() {
        format!("http://{address}")
    } else {
        issuer.clone()
    };
    let store = app.store().clone();
    let audit = app.audit();
    let (shutdown, stop) = oneshot::channel();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stop.await;
    }));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()?;
    Ok(TestApp {
        address,
        base,
        issuer,
        http,
        clock,
        store,
        config,
        audit,
        shutdown: Some(shutdown),
        server: Some(server),
        database,
    })
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
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shut_down().await.map(drop)
    }

    /// Stops the server as SIGTERM would (it stops accepting connections, finishes the
    /// requests in flight, closes its database pool) and waits for it to finish; returns what
    /// it takes to start it again.
    ///
    /// # Errors
    /// When the server reported an error while stopping.
    pub async fn shut_down(mut self) -> anyhow::Result<StoppedApp> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await??;
        }
        Ok(StoppedApp {
            config: self.config.clone(),
            clock: Arc::clone(&self.clock),
            database: Arc::clone(&self.database),
        })
    }

    /// Starts another node of the same deployment: the same database, key-encryption key,
    /// configuration and clock (machines kept in time), on its own loopback port, with this
    /// node's issuer (nodes behind one load balancer share the public issuer). Its
    /// [`TestApp::base`] is its own address, so a test picks the node of each request.
    ///
    /// # Panics
    /// When the node cannot start (a SQLite database refuses a second node).
    #[allow(clippy::expect_used)] // Test set-up: failing loudly is the point.
    pub async fn spawn_node(&self) -> Self {
        self.try_spawn_node().await.expect("another node starts")
    }

    /// [`TestApp::spawn_node`], returning the start-up error instead of panicking.
    ///
    /// # Errors
    /// When the node cannot start.
    pub async fn try_spawn_node(&self) -> anyhow::Result<Self> {
        let mut config = self.config.clone();
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.issuer = Some(self.issuer.clone());
        start(config, Arc::clone(&self.clock), Arc::clone(&self.database)).await
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

    /// The URL of the database this app runs on.
    #[must_use]
    pub fn database_url(&self) -> &str {
        self.database.url()
    }

    /// Stops the server and starts a new one with the same configuration, database and clock,
    /// as an operator restarting the process would. It listens on a new port; without a
    /// configured issuer, its issuer follows the port.
    ///
    /// # Errors
    /// When the server reported an error while stopping, or could not start again.
    pub async fn restart(self) -> anyhow::Result<Self> {
        self.shut_down().await?.start().await
    }
}

/// A server stopped with [`TestApp::shut_down`]: its configuration, clock and database.
#[derive(Debug)]
pub struct StoppedApp {
    /// The configuration it ran with, and will start with again.
    pub config: Config,
    clock: Arc<ManualClock>,
    database: Arc<Database>,
}

impl StoppedApp {
    /// Starts the server again (on a new port), as an operator restarting the process would.
    ///
    /// # Errors
    /// When it cannot start.
    pub async fn start(self) -> anyhow::Result<TestApp> {
        start(self.config, self.clock, self.database).await
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
