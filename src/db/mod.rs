//! Durable state: one diesel code base over SQLite and PostgreSQL (`MultiConnection`).
//!
//! The backend is chosen from the URL scheme by configuration, never guessed by diesel. Diesel is
//! blocking, so every query runs on tokio's blocking pool under a deadline ([`Db::run`]); the async
//! executor threads never wait on SQL.

pub mod api_keys;
pub mod audit;
pub mod devices;
pub mod import;
pub mod models;
pub mod recovery_codes;
pub mod schema;
pub mod signing_keys;
pub mod users;

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseUrl;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database call exceeded its deadline of {0:?}")]
    Timeout(Duration),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    /// Work inside a transaction failed for a reason of its own; the transaction rolled back.
    #[error("transaction aborted: {0}")]
    Aborted(String),
}

impl DbError {
    /// A unique constraint refused the write (e.g. a device label already in use).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }

    /// Whether the caller sees a dependency outage (503) rather than a bug (500).
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::Error as E;
        match self {
            DbError::Unavailable(_) | DbError::Timeout(_) => true,
            DbError::Query(E::DatabaseError(kind, info)) => {
                matches!(
                    kind,
                    diesel::result::DatabaseErrorKind::ClosedConnection
                        | diesel::result::DatabaseErrorKind::SerializationFailure
                ) || {
                    // PostgreSQL cancelled a statement that waited past the deadline
                    // (lock_timeout, statement_timeout): the dependency was too slow, not a bug.
                    let m = info.message();
                    m.contains("lock timeout") || m.contains("statement timeout")
                }
            }
            DbError::Query(E::BrokenTransactionManager) => true,
            _ => false,
        }
    }
}

impl From<DbError> for crate::error::ApiError {
    fn from(e: DbError) -> Self {
        if e.is_unavailable() {
            crate::error::ApiError::unavailable(e)
        } else {
            crate::error::ApiError::internal(e)
        }
    }
}

/// Opens connections for the pool, picking the backend from the configured URL.
#[derive(Debug, Clone)]
struct Manager {
    url: DatabaseUrl,
    timeout: Duration,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(&with_connect_timeout(url, self.timeout))
                    .map_err(r2d2::Error::ConnectionError)?;
                // A statement or lock wait longer than the caller's deadline only holds a pool
                // slot after the caller has had its 503.
                let ms = self.timeout.as_millis();
                conn.batch_execute(&format!(
                    "SET statement_timeout = {ms}; SET lock_timeout = {ms};"
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Postgres(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the one writer; busy_timeout queues writers
                // instead of failing them with SQLITE_BUSY, but no longer than a caller waits.
                // FULL sync: an accepted TOTP step must survive a power cut (replay protection).
                conn.batch_execute(&format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON;",
                    self.timeout.as_millis()
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

type Pool = r2d2::Pool<Manager>;

/// The connection pool plus the deadline every call runs under.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    timeout: Duration,
}

/// libpq waits for a connection as long as the OS lets it unless told otherwise; a URL that
/// sets `connect_timeout` itself keeps its own.
fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    if url.contains("connect_timeout=") {
        return url.to_string();
    }
    // libpq counts whole seconds and treats 1 as 2.
    let secs = timeout.as_secs().max(2);
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout={secs}")
}

impl Db {
    /// Builds the pool without connecting: a database that is down at start is retried by each
    /// request (503 meanwhile), not fatal. `migrate` is what needs a live database.
    pub fn new(url: &DatabaseUrl, pool_size: u32, timeout: Duration) -> Result<Db, DbError> {
        // SQLite has one writer; a big pool only queues on its lock.
        let size = match url {
            DatabaseUrl::Sqlite(path) => {
                create_parent_dir(path)?;
                pool_size.min(4)
            }
            DatabaseUrl::Postgres(_) => pool_size,
        };
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .connection_timeout(timeout)
            .build_unchecked(Manager {
                url: url.clone(),
                timeout,
            });
        Ok(Db { pool, timeout })
    }

    /// Runs `f` with a pooled connection on the blocking pool, under the configured deadline.
    /// A deadline miss answers the caller at once; the query itself finishes in the background.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let task = tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| DbError::Unavailable(e.to_string()))?;
            f(&mut conn)
        });
        match tokio::time::timeout(self.timeout, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(DbError::Unavailable(format!(
                "database task failed: {join}"
            ))),
            Err(_) => Err(DbError::Timeout(self.timeout)),
        }
    }

    /// Like [`Db::run`], but waits for `f` to finish however long it takes (PostgreSQL's
    /// statement timeout still applies). For background work that must know whether its
    /// transaction committed before it tries again.
    pub async fn run_to_end<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| DbError::Unavailable(e.to_string()))?;
            f(&mut conn)
        })
        .await
        .unwrap_or_else(|join| {
            Err(DbError::Unavailable(format!(
                "database task failed: {join}"
            )))
        })
    }

    /// Applies pending migrations of the configured backend; returns how many ran.
    pub async fn migrate(&self) -> Result<usize, DbError> {
        self.run(|conn| {
            let applied = match conn {
                DbConnection::Postgres(c) => c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|v| v.len()),
                DbConnection::Sqlite(c) => {
                    c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len())
                }
            };
            applied.map_err(|e| DbError::Migration(e.to_string()))
        })
        .await
    }

    /// Readiness: one trivial query within the deadline.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|conn| conn.batch_execute("SELECT 1").map_err(DbError::from))
            .await
    }
}

/// Creates the database's directory private to the service user: the file holds sealed seeds and
/// keyed hashes, which are no one else's business.
fn create_parent_dir(path: &Path) -> Result<(), DbError> {
    use std::os::unix::fs::DirBuilderExt;
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| DbError::Unavailable(format!("cannot create {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}
