//! Durable state: one diesel code base over SQLite and PostgreSQL (`MultiConnection`).
//!
//! The backend is chosen from the URL scheme by configuration, never guessed by diesel. Diesel is
//! blocking, so every query runs on the pool's own threads, as many as it has connections, under
//! a deadline ([`Db::run`]); the async executor threads never wait on SQL. On SQLite, writes that
//! may share a commit are grouped ([`Db::run_batched`]).

pub mod api_keys;
pub mod audit;
pub mod devices;
pub mod import;
mod migration_lock;
pub mod models;
mod pool;
pub mod recovery_codes;
pub mod schema;
pub mod security_keys;
pub mod signing_keys;
mod socket;
pub mod tokens;
pub mod users;

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use self::pool::Db;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// The migration that drops the unauthenticated record of the events from before the audit
/// chain; they are sealed into a chain, with the master key, just before it runs.
pub const SEAL_BEFORE: &str = "2026-11-29-000003_audit_legacy_sealed";

/// The name of the next pending migration, if any.
fn next_migration(conn: &mut DbConnection) -> Result<Option<String>, DbError> {
    let next = match conn {
        DbConnection::Postgres(c) => c
            .pending_migrations(POSTGRES_MIGRATIONS)
            .map(|p| p.first().map(|m| m.name().to_string())),
        DbConnection::Sqlite(c) => c
            .pending_migrations(SQLITE_MIGRATIONS)
            .map(|p| p.first().map(|m| m.name().to_string())),
    };
    next.map_err(|e| DbError::Migration(e.to_string()))
}

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

/// A transaction that writes. On SQLite it takes the write lock before anything is read, as
/// `BEGIN IMMEDIATE` would: a transaction that reads and then writes meets SQLITE_BUSY, which no
/// wait resolves, when another connection (the pool's next one, or the CLI beside a running
/// server) wrote in between. PostgreSQL locks rows as it goes.
pub fn write_transaction<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error> + From<DbError>,
{
    use diesel::Connection;
    conn.transaction(|c| {
        import::write_first(c)?;
        f(c)
    })
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
    /// The task running the call panicked: a bug (500), not an outage.
    #[error("database task failed: {0}")]
    TaskFailed(String),
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
                    // SQLite's busy_timeout ran out the same way.
                    let m = info.message();
                    m.contains("lock timeout")
                        || m.contains("statement timeout")
                        || m.contains("database is locked")
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
    /// Applies pending migrations without the master key: refuses to pass the one that seals the
    /// events from before the audit chain while there are any (see [`Db::migrate_with`]).
    pub async fn migrate(&self) -> Result<usize, DbError> {
        self.migrate_with(|c| match audit::legacy_record(c)? {
            Some((_, max_id)) if audit::count_legacy_shaped(c, max_id)? > 0 => {
                Err(DbError::Migration(
                    "the events from before the audit chain are sealed with the master key: \
                     run `twofold migrate`"
                        .into(),
                ))
            }
            _ => Ok(()),
        })
        .await
    }

    /// Applies pending migrations of the configured backend in order; returns how many ran.
    /// `seal` runs just before [`SEAL_BEFORE`], so once per database. They run to the end (each
    /// statement still under PostgreSQL's timeout): one cut off at the deadline would fail the
    /// start while it went on to commit. On PostgreSQL they run under an advisory lock, so nodes
    /// started at once take turns (the later ones find nothing left to do) instead of failing on
    /// the tables the first is creating.
    pub async fn migrate_with<F>(&self, seal: F) -> Result<usize, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<(), DbError> + Send + 'static,
    {
        self.run_to_end(move |conn| {
            migration_lock::hold(conn, |conn| {
                let (mut seal, mut applied) = (Some(seal), 0);
                while let Some(next) = next_migration(conn)? {
                    if next == SEAL_BEFORE
                        && let Some(seal) = seal.take()
                    {
                        seal(conn)?;
                    }
                    match conn {
                        DbConnection::Postgres(c) => {
                            c.run_next_migration(POSTGRES_MIGRATIONS).map(drop)
                        }
                        DbConnection::Sqlite(c) => {
                            c.run_next_migration(SQLITE_MIGRATIONS).map(drop)
                        }
                    }
                    .map_err(|e| DbError::Migration(e.to_string()))?;
                    applied += 1;
                }
                Ok(applied)
            })
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
    // The mode is set again after creating: `mode` at creation is narrowed by the umask only.
    // An existing database is never opened here, only chmod'ed: closing a descriptor of a file
    // drops every POSIX lock this process holds on it, and SQLite connections of this process
    // (another app in the same process, as tests run them) would lose theirs.
    let private = std::fs::Permissions::from_mode(0o600);
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(file) => file.set_permissions(private.clone()).map_err(fail)?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::set_permissions(path, private.clone()).map_err(fail)?;
        }
        Err(e) => return Err(fail(e)),
    }
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

#[cfg(test)]
mod tests;
