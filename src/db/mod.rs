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
mod pool;
pub mod recovery_codes;
pub mod schema;
pub mod signing_keys;
pub mod users;

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use self::pool::Db;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Where durable state lives, decided from the URL scheme (never guessed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path for SQLite.
    Sqlite(PathBuf),
    /// A libpq connection URL, kept as given.
    Postgres(String),
}

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
            DbError::Unavailable(_)
            | DbError::Timeout(_)
            | DbError::Query(E::BrokenTransactionManager) => true,
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
            _ => false,
        }
    }
}

impl From<DbError> for crate::error::Error {
    fn from(e: DbError) -> Self {
        if e.is_unavailable() {
            crate::error::Error::Unavailable(Box::new(e))
        } else {
            crate::error::Error::Internal(Box::new(e))
        }
    }
}

impl Db {
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

/// Makes the SQLite database private to the service user before SQLite opens it: its directory
/// 0700 when it is created, the file 0600 whether the directory was there or not. SQLite would
/// create the file 0644 less the umask, and it gives its `-wal` and `-shm` files the database
/// file's mode, so those follow. A file left readable by others (an older version, a copy) is
/// narrowed, with its `-wal` and `-shm` beside it.
pub(super) fn create_private(path: &Path) -> Result<(), DbError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    create_parent_dir(path)?;
    let fail = |e: std::io::Error| DbError::Unavailable(format!("{}: {e}", path.display()));
    // The mode is set again after opening: `mode` at creation is narrowed by the umask only.
    let private = std::fs::Permissions::from_mode(0o600);
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .and_then(|f| f.set_permissions(private.clone()))
        .map_err(fail)?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        match std::fs::set_permissions(&side, private.clone()) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => other.map_err(fail)?,
        }
    }
    Ok(())
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
