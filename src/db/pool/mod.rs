//! The connection pool: every call runs on tokio's blocking pool under the dependency deadline.
//!
//! A connection is checked with `SELECT 1` when it leaves the pool only if it has not just proved
//! itself: one that completed a call in the last second goes straight to work, so a request under
//! load does not pay a round trip for the check. One that fails with a closed connection is
//! dropped on its way back. Every statement sent is counted ([`Db::statements`]): the round-trip
//! budget of a verify is tested with it.
//!
//! The check and the call both run under the caller's deadline, and a connection that misses it
//! is dropped, never returned: one that stopped answering without closing (a partition, a frozen
//! middlebox) would otherwise block every caller that drew it, until TCP gave up. Its pool slot is
//! freed when the caller stops waiting (see `lease`), so the pool opens a new connection while
//! the blocking thread waits out the socket's own timeouts (`socket`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use tokio::sync::oneshot;

use self::lease::{Shared, abandon, call};
use super::DatabaseUrl;
use super::socket::with_socket_settings;
use super::{DbConnection, DbError, create_private};

mod lease;

/// How recently a connection must have completed a call to skip the check on checkout.
const PROVEN_FOR: Duration = Duration::from_secs(1);

/// A pooled connection and what the pool knows of its health.
pub struct Pooled {
    /// Taken out while a call uses it; a slot that comes back without it is discarded.
    conn: Option<DbConnection>,
    last_ok: Instant,
    broken: bool,
}

/// Counts the statements a connection sends (each a round trip on PostgreSQL).
fn counting(counter: Arc<AtomicU64>) -> impl Instrumentation {
    move |event: InstrumentationEvent<'_>| {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Opens connections for the pool, picking the backend from the configured URL.
#[derive(Debug, Clone)]
struct Manager {
    url: DatabaseUrl,
    statements: Arc<AtomicU64>,
    timeout: Duration,
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Pooled, r2d2::Error> {
        let conn = match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(&with_socket_settings(url, self.timeout))
                    .map_err(r2d2::Error::ConnectionError)?;
                // A statement or lock wait longer than the caller's deadline only holds a pool
                // slot after the caller has had its 503.
                let ms = self.timeout.as_millis();
                conn.batch_execute(&format!(
                    "SET statement_timeout = {ms}; SET lock_timeout = {ms};"
                ))
                .map_err(r2d2::Error::QueryError)?;
                conn.set_instrumentation(counting(self.statements.clone()));
                DbConnection::Postgres(conn)
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
                conn.set_instrumentation(counting(self.statements.clone()));
                DbConnection::Sqlite(conn)
            }
        };
        Ok(Pooled {
            conn: Some(conn),
            last_ok: Instant::now(),
            broken: false,
        })
    }

    // Checked in `checkout` instead, under the caller's deadline: r2d2 would wait without one.
    fn is_valid(&self, _: &mut Pooled) -> Result<(), r2d2::Error> {
        Ok(())
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        use diesel::r2d2::R2D2Connection;
        pooled.broken || pooled.conn.as_mut().is_none_or(|c| c.is_broken())
    }
}

type Pool = r2d2::Pool<Manager>;

/// The connection pool plus the deadline every call runs under.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    timeout: Duration,
    statements: Arc<AtomicU64>,
}

impl Db {
    /// Builds the pool without connecting: a database that is down at start is retried by each
    /// request (503 meanwhile), not fatal. `migrate` is what needs a live database.
    pub fn new(url: &DatabaseUrl, pool_size: u32, timeout: Duration) -> Result<Db, DbError> {
        // SQLite has one writer; a big pool only queues on its lock.
        let size = match url {
            DatabaseUrl::Sqlite(path) => {
                create_private(path)?;
                pool_size.min(4)
            }
            DatabaseUrl::Postgres(_) => pool_size,
        };
        let statements = Arc::new(AtomicU64::new(0));
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .connection_timeout(timeout)
            .test_on_check_out(false)
            .build_unchecked(Manager {
                url: url.clone(),
                timeout,
                statements: statements.clone(),
            });
        Ok(Db {
            pool,
            timeout,
            statements,
        })
    }

    /// Runs `f` with a pooled connection on the blocking pool, under the configured deadline.
    /// A deadline miss answers the caller at once and drops the connection from the pool; the
    /// query itself finishes in the background.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        let (pool, lease) = (self.pool.clone(), Shared::default());
        let shared = lease.clone();
        let task = tokio::task::spawn_blocking(move || call(&pool, &shared, None, f));
        match tokio::time::timeout(self.timeout, task).await {
            Ok(Ok(result)) => result,
            // A panic in the closure is a bug, not an outage: an outage's attempt is given back
            // to the limiter, and a request that can make the task panic would get free guesses.
            Ok(Err(join)) => Err(DbError::TaskFailed(join.to_string())),
            Err(_) => {
                abandon(&lease, false);
                Err(DbError::Timeout(self.timeout))
            }
        }
    }

    /// Like [`Db::run`], but once `f` has started it waits for it to finish however long it
    /// takes (PostgreSQL's statement timeout still applies, and the socket's own timeouts). For
    /// background work that must know whether its transaction committed before it tries again.
    /// Getting the connection is bounded by the deadline like any call's: a miss there is known
    /// not to have run `f`.
    pub async fn run_to_end<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        let (pool, lease) = (self.pool.clone(), Shared::default());
        let (started, begun) = oneshot::channel();
        let shared = lease.clone();
        let task = tokio::task::spawn_blocking(move || call(&pool, &shared, Some(started), f));
        // The sender is dropped without a word when the call fails before `f`: no wait then.
        if tokio::time::timeout(self.timeout, begun).await.is_err() && !abandon(&lease, true) {
            return Err(DbError::Timeout(self.timeout));
        }
        task.await
            .unwrap_or_else(|join| Err(DbError::TaskFailed(join.to_string())))
    }

    /// Statements sent to the database since start (checks on checkout included).
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}
