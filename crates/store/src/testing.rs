//! Throwaway databases for tests: a SQLite file in a temporary directory, or a uniquely named
//! schema in the PostgreSQL that `PORTCULLIS_TEST_DATABASE_URL` names, dropped afterwards.

use std::io::Write as _;
use std::path::PathBuf;

use sqlx::Connection as _;

use crate::{ConnectError, SqlStore, StoreOptions};

/// The environment variable naming the PostgreSQL server for tests.
pub const TEST_DATABASE_URL_VAR: &str = "PORTCULLIS_TEST_DATABASE_URL";

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(Option<tempfile::TempDir>),
    Schema { admin_url: String, schema: String },
}

/// Says, where the test output cannot hide it, that a PostgreSQL test did not run.
pub fn announce_skip(test: &str) {
    // Written to the process's stderr directly: the test harness captures `eprintln!`.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {TEST_DATABASE_URL_VAR} is not set, so this PostgreSQL test did not run"
    );
}

impl TestDatabase {
    /// A fresh SQLite file.
    ///
    /// # Errors
    /// When the temporary directory cannot be made.
    pub fn sqlite() -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("portcullis-test-")
            .tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("portcullis.db").display());
        Ok(Self {
            url,
            cleanup: Cleanup::Dir(Some(dir)),
        })
    }

    /// A fresh schema on the test PostgreSQL server, or `None` (announced on stderr) when
    /// `PORTCULLIS_TEST_DATABASE_URL` is not set.
    ///
    /// # Errors
    /// When the server is named but cannot be reached: a configured database that fails is an
    /// error, not a skip.
    pub async fn postgres(test: &str) -> Result<Option<Self>, ConnectError> {
        let Ok(admin_url) = std::env::var(TEST_DATABASE_URL_VAR) else {
            announce_skip(test);
            return Ok(None);
        };
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let unreachable = |e: sqlx::Error| ConnectError::Unreachable {
            url: crate::redact_url(&admin_url),
            reason: e.to_string(),
        };
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .map_err(unreachable)?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await
            .map_err(unreachable)?;
        let _ = conn.close().await;
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        // The schema's name tags every connection of the test, so cleanup can find them.
        let url = format!(
            "{admin_url}{separator}options[search_path]={schema}&application_name={schema}"
        );
        Ok(Some(Self {
            url,
            cleanup: Cleanup::Schema { admin_url, schema },
        }))
    }

    /// The database URL to give the server.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The SQLite file's directory, if this is a SQLite database.
    #[must_use]
    pub fn dir(&self) -> Option<PathBuf> {
        match &self.cleanup {
            Cleanup::Dir(dir) => dir.as_ref().map(|d| d.path().to_owned()),
            Cleanup::Schema { .. } => None,
        }
    }

    /// Opens and migrates a store on this database.
    ///
    /// # Errors
    /// See [`SqlStore::connect`] and [`SqlStore::migrate`].
    pub async fn store(&self) -> Result<SqlStore, ConnectError> {
        let store = SqlStore::connect(&StoreOptions {
            max_connections: 8,
            ..StoreOptions::new(&self.url)
        })
        .await?;
        store.migrate().await?;
        Ok(store)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Schema { admin_url, schema } = &self.cleanup else {
            return;
        };
        let (admin_url, schema) = (admin_url.clone(), schema.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: a short-lived
        // thread with its own runtime removes the schema.
        let done = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    // A test that ends while its server is mid-transaction leaves connections
                    // holding locks on the schema, with no runtime left to roll them back: end
                    // them first, and never wait long for a lock.
                    let _ = sqlx::query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE application_name = $1 AND pid <> pg_backend_pid()",
                    )
                    .bind(&schema)
                    .execute(&mut conn)
                    .await;
                    let _ = sqlx::query("SET lock_timeout = '10s'")
                        .execute(&mut conn)
                        .await;
                    let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = done.join();
    }
}
