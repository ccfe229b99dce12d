//! The Portcullis storage traits (`portcullis_core::store`) implemented for SQLite and
//! PostgreSQL with sqlx.
//!
//! One [`SqlStore`] serves both dialects: each query is written once when its SQL is portable
//! (`$n` parameters, `RETURNING`, `ON CONFLICT` work in both) and per dialect where it is not.
//! Schemas live in one migration folder per dialect, embedded in the binary.
//!
//! SQLite runs in WAL mode with one writer connection and a pool of read-only connections:
//! writes queue in the pool rather than spinning on `SQLITE_BUSY`, and reads never wait for
//! writes.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use portcullis_core::store::{PoolStats, StoreError};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};

mod audit;
mod banking;
mod clients;
mod codes;
mod consents;
mod grants;
mod housekeeping;
mod keys;
pub mod private;
mod pushed;
mod replay;
mod rows;
mod sessions;
pub mod testing;
mod users;
mod wallet_challenges;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://path/to/file.db` or `postgres://user@host:port/db`.
    pub url: String,
    /// Pool size (PostgreSQL), or read connections (SQLite; writes use one connection).
    pub max_connections: u32,
    /// How long a request waits for a connection before the store reports itself unavailable.
    pub acquire_timeout: Duration,
    /// SQLite: `FULL` also survives power loss, at the cost of an fsync per commit.
    pub sqlite_synchronous_full: bool,
}

impl StoreOptions {
    /// Defaults for `url`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
            sqlite_synchronous_full: false,
        }
    }
}

/// The database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is not one this server understands.
    #[error("database URL {url:?} is invalid: {reason}")]
    InvalidUrl {
        /// The URL with any password removed.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The directory for the SQLite file could not be made.
    #[error("cannot create directory {path} for the database: {source}")]
    CreateDir {
        /// The directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database did not answer.
    #[error("cannot connect to the database at {url}: {reason}")]
    Unreachable {
        /// The URL with any password removed.
        url: String,
        /// The driver's message.
        reason: String,
    },
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(String),
}

/// The database's schema against this binary's migrations ([`SqlStore::schema_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// How many migrations the database has applied.
    pub applied: usize,
    /// Versions this binary would apply.
    pub pending: Vec<i64>,
    /// Versions the database has that this binary does not know (a newer binary migrated it):
    /// this binary refuses to start on it.
    pub unknown: Vec<i64>,
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server (or a compatible distributed SQL engine).
    Postgres,
}

impl Dialect {
    /// The dialect of `url`, from its scheme.
    ///
    /// # Errors
    /// [`ConnectError::InvalidUrl`] for other schemes.
    pub fn of(url: &str) -> Result<Self, ConnectError> {
        match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Ok(Self::Sqlite),
            Some("postgres" | "postgresql") => Ok(Self::Postgres),
            _ => Err(ConnectError::InvalidUrl {
                url: redact_url(url),
                reason: "expected a sqlite:// or postgres:// URL".into(),
            }),
        }
    }
}

/// `url` with its password replaced, for messages and logs.
#[must_use]
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("[redacted]"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "[unparseable URL]".to_owned(),
    }
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

/// The SQL implementation of every storage trait.
#[derive(Debug, Clone)]
pub struct SqlStore {
    backend: Backend,
    /// SQLite's single-use ids, decided in memory ([`replay`]); unused on PostgreSQL.
    replay: std::sync::Arc<replay::LocalReplay>,
}

/// Runs `$body` with `$pool` bound to the pool that serves reads.
macro_rules! on_reader {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.backend {
            crate::Backend::Sqlite { read: $pool, .. } => $body,
            crate::Backend::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$pool` bound to the pool that serves writes.
macro_rules! on_writer {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.backend {
            crate::Backend::Sqlite { write: $pool, .. } => $body,
            crate::Backend::Postgres($pool) => $body,
        }
    };
}

/// Runs a write statement on the writer pool and returns how many rows it changed.
macro_rules! execute {
    ($store:expr, $query:expr) => {
        crate::on_writer!($store, |pool| $query
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(crate::db_error)
    };
}

pub(crate) use {execute, on_reader, on_writer};

impl SqlStore {
    /// Opens the database named by `options.url`, creating a SQLite file (and its directory)
    /// when missing. Does not run migrations: see [`SqlStore::migrate`].
    ///
    /// # Errors
    /// See [`ConnectError`].
    pub async fn connect(options: &StoreOptions) -> Result<Self, ConnectError> {
        let backend = match Dialect::of(&options.url)? {
            Dialect::Sqlite => connect_sqlite(options).await?,
            Dialect::Postgres => connect_postgres(options).await?,
        };
        Ok(Self {
            backend,
            replay: std::sync::Arc::default(),
        })
    }

    /// Applies the embedded migrations of this dialect. Safe to run from several nodes at
    /// once: sqlx takes a lock on PostgreSQL and SQLite has a single writer.
    ///
    /// # Errors
    /// [`ConnectError::Migrate`] when a migration fails or the database holds migrations this
    /// binary does not know (a newer version ran against it).
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        let result = match &self.backend {
            Backend::Sqlite { write, .. } => SQLITE_MIGRATIONS.run(write).await,
            Backend::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        result.map_err(|e| ConnectError::Migrate(e.to_string()))
    }

    /// How the database's schema stands against this binary's migrations, without changing
    /// anything (`check-config` must not migrate a production database it only inspects).
    ///
    /// # Errors
    /// [`ConnectError::Unreachable`] when the database cannot be read.
    pub async fn schema_status(&self) -> Result<SchemaStatus, ConnectError> {
        let unreachable = |e: sqlx::Error| ConnectError::Unreachable {
            url: String::new(),
            reason: e.to_string(),
        };
        let (migrator, applied): (&Migrator, Vec<i64>) = match &self.backend {
            Backend::Sqlite { read, .. } => {
                let exists: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM sqlite_master \
                     WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_one(read)
                .await
                .map_err(unreachable)?;
                let applied = if exists == 0 {
                    Vec::new()
                } else {
                    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                        .fetch_all(read)
                        .await
                        .map_err(unreachable)?
                };
                (&SQLITE_MIGRATIONS, applied)
            }
            Backend::Postgres(pool) => {
                let exists: bool =
                    sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                        .fetch_one(pool)
                        .await
                        .map_err(unreachable)?;
                let applied = if exists {
                    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                        .fetch_all(pool)
                        .await
                        .map_err(unreachable)?
                } else {
                    Vec::new()
                };
                (&POSTGRES_MIGRATIONS, applied)
            }
        };
        let known: Vec<i64> = migrator.iter().map(|m| m.version).collect();
        Ok(SchemaStatus {
            pending: known
                .iter()
                .copied()
                .filter(|v| !applied.contains(v))
                .collect(),
            unknown: applied
                .iter()
                .copied()
                .filter(|v| !known.contains(v))
                .collect(),
            applied: applied.len(),
        })
    }

    /// Which database this store uses.
    #[must_use]
    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { read, write } => {
                // The spent ids of the last moments, so a restart still refuses them.
                if let Err(error) = self.replay.flush_all(write).await {
                    tracing::warn!(%error, "spent DPoP ids not written at shutdown");
                }
                read.close().await;
                write.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

async fn connect_sqlite(options: &StoreOptions) -> Result<Backend, ConnectError> {
    let invalid = |reason: String| ConnectError::InvalidUrl {
        url: options.url.clone(),
        reason,
    };
    let base = SqliteConnectOptions::from_str(&options.url).map_err(|e| invalid(e.to_string()))?;
    let file = base.get_filename().to_owned();
    if file.as_os_str().is_empty() || file == Path::new(":memory:") {
        return Err(invalid(
            "in-memory SQLite is not supported; give a file path".into(),
        ));
    }
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        private::create_dir(dir).map_err(|source| ConnectError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    // Created here, owner-only, before SQLite would create it world-readable; SQLite gives its
    // -wal and -shm files the database file's permissions.
    private::create_file(&file).map_err(|source| ConnectError::CreateDir {
        path: file.display().to_string(),
        source,
    })?;
    let synchronous = if options.sqlite_synchronous_full {
        SqliteSynchronous::Full
    } else {
        SqliteSynchronous::Normal
    };
    let base = base
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let unreachable = |e: sqlx::Error| ConnectError::Unreachable {
        url: options.url.clone(),
        reason: e.to_string(),
    };
    let write = PoolOptions::new()
        .max_connections(1)
        .acquire_timeout(options.acquire_timeout)
        .test_before_acquire(false)
        .connect_with(base.clone())
        .await
        .map_err(unreachable)?;
    let read = PoolOptions::new()
        .max_connections(options.max_connections.max(2))
        .acquire_timeout(options.acquire_timeout)
        .test_before_acquire(false)
        .connect_with(base.read_only(true))
        .await
        .map_err(unreachable)?;
    Ok(Backend::Sqlite { read, write })
}

async fn connect_postgres(options: &StoreOptions) -> Result<Backend, ConnectError> {
    let url = redact_url(&options.url);
    let connect =
        PgConnectOptions::from_str(&options.url).map_err(|e| ConnectError::InvalidUrl {
            url: url.clone(),
            reason: e.to_string(),
        })?;
    let pool = PoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect)
        .await
        .map_err(|e| ConnectError::Unreachable {
            url,
            reason: e.to_string(),
        })?;
    Ok(Backend::Postgres(pool))
}

/// Sorts a driver error into what the caller should do about it.
pub(crate) fn db_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error.to_string()),
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        sqlx::Error::Database(db) => {
            let code = db
                .code()
                .map(std::borrow::Cow::into_owned)
                .unwrap_or_default();
            // PostgreSQL: class 08 (connection), 53 (resources), 57P (shutdown);
            // SQLite: 5 (BUSY), 6 (LOCKED).
            let transient = code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || code == "5"
                || code == "6";
            if transient {
                StoreError::Unavailable(db.message().to_owned())
            } else {
                StoreError::Other(db.message().to_owned())
            }
        }
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(error.to_string()),
        other => StoreError::Other(other.to_string()),
    }
}

#[async_trait::async_trait]
impl portcullis_core::store::HealthStore for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        on_reader!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(db_error)
    }

    /// Both SQLite pools are summed.
    fn pool_stats(&self) -> PoolStats {
        let stats = |size: u32, idle: usize, max: u32| PoolStats {
            size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max,
        };
        match &self.backend {
            Backend::Sqlite { read, write } => stats(
                read.size() + write.size(),
                read.num_idle() + write.num_idle(),
                read.options().get_max_connections() + 1,
            ),
            Backend::Postgres(pool) => stats(
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ),
        }
    }
}
