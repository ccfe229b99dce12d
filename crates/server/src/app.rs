//! Start-up, serving and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use portcullis_core::banking::accounts::BankingSettings;
use portcullis_core::client_cache::ClientCache;
use portcullis_core::oauth::{OAuthSettings, Services};
use portcullis_core::random::{OsRandom, SecretGenerator};
use portcullis_core::store::{MaintenanceStore as _, Store};
use portcullis_core::time::{Clock, SystemClock};
use portcullis_http::{AppState, HttpSettings};
use portcullis_store::{Dialect, SqlStore, redact_url};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::audit::AuditWriter;
use crate::config::Config;
use crate::keyring::{SharedRing, key_encryption_key};
use crate::sandbox::{self, SandboxReport};

/// The clock and randomness the server uses: the system's in production, controlled ones in
/// tests.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Secrets and ids.
    pub random: Arc<dyn SecretGenerator>,
}

impl Default for Runtime {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
        }
    }
}

/// How long a user may take between the app's redirect and the consent (login, sign-up,
/// onboarding).
const AUTH_REQUEST_TTL: i64 = 3600;

/// How often expired codes, sessions and counters are deleted.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(600);

/// How long, once shutdown begins, a connection is kept open for a request its client may
/// already have sent: a connection accepted but not yet read from, or an idle keep-alive one.
/// Closing them at once would cut such requests off unanswered (the client cannot tell whether
/// a token request took effect). Requests served meanwhile are answered `Connection: close`.
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// Opens the configured database and brings its schema up to date.
///
/// # Errors
/// When the database cannot be opened or migrated.
pub async fn open_store(config: &Config) -> anyhow::Result<SqlStore> {
    let store = SqlStore::connect(&config.database).await?;
    store.migrate().await?;
    warn_if_exposed(&config.database.url);
    Ok(store)
}

/// Reports a SQLite data directory or file that others than its owner may read: it holds
/// password hashes, encrypted keys and personal data (docs/security.md).
fn warn_if_exposed(url: &str) {
    let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return;
    };
    let file = PathBuf::from(path.split('?').next().unwrap_or(path));
    for exposed in portcullis_store::private::exposed(&file) {
        tracing::warn!(
            path = %exposed.path.display(),
            mode = format!("{:o}", exposed.mode),
            "the data directory or file is readable by others than its owner; \
             chmod 700 the directory and 600 its files"
        );
    }
}

/// A built server: listening, keys loaded, not yet serving.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    issuer: String,
    store: SqlStore,
    state: AppState,
    shutdown_timeout: Duration,
    /// Also how long a connection may take to send a request's head.
    request_timeout: Duration,
    background: Vec<JoinHandle<()>>,
    audit: AuditWriter,
    audit_task: JoinHandle<()>,
    _lock: Option<std::fs::File>,
    /// What the sandbox seeded, when `--sandbox` is on.
    pub sandbox: Option<SandboxReport>,
    /// Where the key-encryption key file is, when it was not configured.
    pub kek_path: Option<(PathBuf, bool)>,
}

impl Application {
    /// Opens the database, loads keys, binds the listener (port 0 picks a free port) and, in
    /// sandbox mode, seeds the demo user and app.
    ///
    /// # Errors
    /// Any start-up failure, as one line.
    pub async fn build(config: Config, runtime: Runtime) -> anyhow::Result<Self> {
        let lock = match config.dialect() {
            Some(Dialect::Sqlite) => Some(lock_sqlite(&config.database.url)?),
            _ => None,
        };
        let store = open_store(&config).await?;
        let (kek, kek_file, kek_created) = key_encryption_key(&config, runtime.random.as_ref())?;
        let ring = SharedRing::start(
            &store,
            kek,
            runtime.random.as_ref(),
            runtime.clock.as_ref(),
            &config,
        )
        .await
        .context("cannot load signing keys")?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let local_addr = listener.local_addr()?;
        let issuer = config
            .issuer
            .clone()
            .unwrap_or_else(|| default_issuer(local_addr));
        let dyn_store: Arc<dyn Store> = Arc::new(store.clone());
        let (audit, audit_task) = AuditWriter::start(Arc::new(store.clone()));
        let services = Services {
            store: Arc::clone(&dyn_store),
            clock: Arc::clone(&runtime.clock),
            random: Arc::clone(&runtime.random),
            settings: Arc::new(OAuthSettings {
                issuer: issuer.clone(),
                audience: config.audience.clone().unwrap_or_else(|| issuer.clone()),
                access_token_alg: config.access_token_alg,
                auth_request_ttl: AUTH_REQUEST_TTL,
                scopes: config.scopes.clone(),
                max_access_token_ttl: i64::try_from(config.max_access_token_ttl.as_secs())
                    .unwrap_or(i64::MAX),
                pushed_request_ttl: i64::try_from(config.pushed_request_lifetime.as_secs())
                    .unwrap_or(portcullis_core::oauth::par::DEFAULT_TTL),
                require_pushed_authorization_requests: config.require_pushed_authorization_requests,
            }),
            banking: BankingSettings {
                enabled: config.banking,
                kyc_auto_approve: config.kyc_auto_approve,
                funding: config.sandbox_funding,
            },
            audit: Arc::new(audit.clone()),
            sealer: Arc::new(ring.kek().sealer()),
        };
        let cache_ttl = i64::try_from(config.client_cache_ttl.as_secs()).unwrap_or(i64::MAX);
        let clients = Arc::new(ClientCache::new(
            dyn_store,
            Arc::clone(&runtime.clock),
            cache_ttl,
        ));
        let settings = HttpSettings {
            request_timeout: config.request_timeout,
            readiness_timeout: Duration::from_secs(2),
            sandbox: config.sandbox,
            key_activation_delay: i64::try_from(config.key_activation_delay.as_secs())
                .unwrap_or(i64::MAX),
            compat: config.compat.clone(),
            max_in_flight: config.limits.max_concurrent_requests,
            trusted_proxies: config.limits.trusted_proxies.clone(),
            rate_limits: config.limits.rate_limits,
        };
        let state = AppState::new(
            services,
            clients,
            Arc::clone(&ring.ring),
            Some(ring.kek()),
            settings,
        );
        let sandbox = if config.sandbox {
            Some(sandbox::seed(&store, &runtime, &issuer, &config).await?)
        } else {
            None
        };
        let background = vec![
            spawn_key_refresh(
                ring,
                store.clone(),
                Arc::clone(&runtime.clock),
                config.key_refresh_interval,
            ),
            spawn_housekeeping(store.clone(), Arc::clone(&runtime.clock)),
            spawn_rate_limit_sync(
                Arc::clone(&state.counters),
                store.clone(),
                config.limits.rate_limit_sync_interval,
            ),
        ];
        tracing::info!(
            database = %redact_url(&config.database.url),
            issuer = %issuer,
            "portcullis ready on {local_addr}"
        );
        Ok(Self {
            listener,
            local_addr,
            issuer,
            store,
            state,
            shutdown_timeout: config.shutdown_timeout,
            request_timeout: config.request_timeout,
            background,
            audit,
            audit_task,
            _lock: lock,
            sandbox,
            kek_path: kek_file.map(|p| (p, kek_created)),
        })
    }

    /// The bound address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The issuer identifier.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The router this application serves, for in-process requests (tests, fuzzing).
    pub fn router(&self) -> axum::Router {
        portcullis_http::router(self.state.clone())
    }

    /// The audit writer, for tests that read the trail (flush it first).
    #[must_use]
    pub fn audit(&self) -> AuditWriter {
        self.audit.clone()
    }

    /// The store, for tests and commands that run beside the server.
    #[must_use]
    pub fn store(&self) -> &SqlStore {
        &self.store
    }

    /// Serves until `shutdown` completes, then stops accepting connections and waits up to the
    /// shutdown timeout for in-flight requests before returning.
    ///
    /// # Errors
    /// When the listener fails.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = portcullis_http::router(self.state.clone());
        let stopping = Arc::new(tokio::sync::Notify::new());
        let signal = Arc::clone(&stopping);
        let serve = serve(self.listener, router, self.request_timeout, async move {
            shutdown.await;
            signal.notify_one();
        });
        let mut server = tokio::spawn(serve);
        let result = tokio::select! {
            finished = &mut server => finished.context("server task failed")?.context("server failed"),
            () = stopping.notified() => {
                tracing::info!(timeout = ?self.shutdown_timeout, "shutting down: draining in-flight requests");
                match tokio::time::timeout(self.shutdown_timeout, &mut server).await {
                    Ok(finished) => finished.context("server task failed")?.context("server failed"),
                    Err(_) => {
                        tracing::warn!("requests still running after the shutdown timeout were cut off");
                        server.abort();
                        Ok(())
                    }
                }
            }
        };
        for task in self.background {
            task.abort();
        }
        // What was recorded while draining still reaches the database.
        self.audit.flush(Duration::from_secs(5)).await;
        self.audit_task.abort();
        self.store.close().await;
        tracing::info!("stopped");
        result
    }
}

/// `http://` and the bound address; an unspecified address (0.0.0.0) becomes loopback.
fn default_issuer(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        tracing::warn!(
            "listening on all interfaces without an issuer: set --issuer to the public URL"
        );
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        addr.ip()
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// SQLite is one node's database: a second `serve` on the same file is refused, because its
/// single-writer design and file locking do not extend across machines (docs/deploy.md).
fn lock_sqlite(url: &str) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = PathBuf::from(format!("{}.lock", path.split('?').next().unwrap_or(path)));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        portcullis_store::private::create_dir(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another portcullis server is already using {url}; SQLite serves one node only \
             (use PostgreSQL to run several)"
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

fn spawn_key_refresh(
    ring: SharedRing,
    store: SqlStore,
    clock: Arc<dyn Clock>,
    every: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            interval.tick().await;
            if let Err(error) = ring.refresh(&store, clock.as_ref()).await {
                tracing::warn!(%error, "could not refresh signing keys; keeping the current ones");
            }
        }
    })
}

fn spawn_housekeeping(store: SqlStore, clock: Arc<dyn Clock>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(HOUSEKEEPING_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            match store.delete_expired(clock.now()).await {
                Ok(0) => {}
                Ok(rows) => tracing::debug!(rows, "deleted expired rows"),
                Err(error) => tracing::warn!(%error, "housekeeping failed; will retry"),
            }
        }
    })
}

/// Adds this node's token-endpoint counts to the shared counters (docs/security.md).
fn spawn_rate_limit_sync(
    counters: Arc<portcullis_core::throttle::SharedCounters>,
    store: SqlStore,
    every: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Logged when it starts and stops failing, not four times a second during an outage.
        let mut failing = false;
        loop {
            interval.tick().await;
            match counters.sync(&store).await {
                Err(error) if !failing => {
                    failing = true;
                    tracing::warn!(%error, "could not share rate-limit counts; will retry");
                }
                Ok(_) if failing => {
                    failing = false;
                    tracing::info!("rate-limit counts shared again");
                }
                _ => {}
            }
        }
    })
}

/// Serves `router` on `listener` until `shutdown` completes. Then: every connection the kernel
/// has already completed is taken from the queue (closing the listener would reset them), the
/// listener is closed (new connections are refused, so a load balancer tries another node), and
/// every connection is served through [`DRAIN_GRACE`] before it is closed once idle. Returns
/// when the last connection is done.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (draining, drain) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, router.clone(), header_timeout, drain.clone()));
                }
                Err(error) => accept_failed(&error).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    let _ = draining.send(true);
    let listener = listener.into_std()?;
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                stream.set_nonblocking(true)?;
                let stream = tokio::net::TcpStream::from_std(stream)?;
                connections.spawn(serve_connection(
                    stream,
                    peer,
                    router.clone(),
                    header_timeout,
                    drain.clone(),
                ));
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(error) => {
                tracing::warn!(%error, "could not take a queued connection while stopping");
                break;
            }
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// An accept error: a failed connection is skipped; anything else (out of file descriptors)
/// is logged and retried after a pause, as axum does.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        tracing::error!(%error, "cannot accept connections");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Serves one connection (HTTP/1.1 or HTTP/2). A client gets `header_timeout` to send each
/// request's head, counted from when the connection opens or its previous response was sent:
/// a connection that sends nothing (slowloris, or an idle keep-alive) is closed then, rather
/// than held forever. Once `drain` turns true, each request is answered with
/// `Connection: close` (HTTP/1) and, after [`DRAIN_GRACE`], the connection is closed as soon
/// as it has no request in progress.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    header_timeout: Duration,
    mut drain: tokio::sync::watch::Receiver<bool>,
) {
    // hyper's timer starts once it knows the protocol, which it learns from the first bytes:
    // a connection that sends none is closed here, at the timeout or once the drain grace
    // has passed.
    let mut first = [0_u8; 1];
    let drained = async {
        let _ = drain.wait_for(|draining| *draining).await;
        tokio::time::sleep(DRAIN_GRACE).await;
    };
    tokio::select! {
        peeked = tokio::time::timeout(header_timeout, stream.peek(&mut first)) => {
            if !matches!(peeked, Ok(Ok(1..))) {
                return;
            }
        }
        () = drained => return,
    }
    let draining = drain.clone();
    let service =
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            let closing = *draining.borrow() && request.version() <= axum::http::Version::HTTP_11;
            let router = router.clone();
            async move {
                use tower::ServiceExt as _;
                let mut response = router.oneshot(request.map(axum::body::Body::new)).await?;
                if closing {
                    response.headers_mut().insert(
                        axum::http::header::CONNECTION,
                        axum::http::HeaderValue::from_static("close"),
                    );
                }
                Ok::<_, std::convert::Infallible>(response)
            }
        });
    let mut builder =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout);
    builder
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .keep_alive_interval(header_timeout)
        .keep_alive_timeout(header_timeout);
    let connection =
        builder.serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = drain.wait_for(|draining| *draining) => {}
    }
    tokio::select! {
        _ = connection.as_mut() => return,
        () = tokio::time::sleep(DRAIN_GRACE) => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}
