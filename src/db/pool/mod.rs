//! The connection pool: every call runs on a database thread (`executor`) under the dependency
//! deadline.
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

use self::executor::{BatchRunner, BatchedJob, Completion, Executor};
use self::lease::{Abandoned, Shared, abandon, call, finish};
use super::DatabaseUrl;
use super::socket::with_socket_settings;
use super::{DbConnection, DbError, create_private};

mod executor;
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

/// The connection pool, the threads its calls run on, and the deadline every call runs under.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    timeout: Duration,
    statements: Arc<AtomicU64>,
    executor: Arc<Executor<DbConnection>>,
    /// SQLite: writes that may share a commit are grouped ([`Db::run_batched`]).
    group_commit: bool,
    commits: Arc<AtomicU64>,
}

/// The answer to a call that never came: its closure panicked (a bug, 500, not an outage: an
/// outage's attempt is given back to the limiter, and a request that can make a call panic
/// would get free guesses).
fn lost() -> DbError {
    DbError::TaskFailed("the database call panicked".into())
}

/// Runs a batch of writes in one transaction on one connection: each in its own savepoint (one
/// that fails is rolled back alone), then one commit for all, whose outcome each caller hears. A
/// batch of one runs as [`Db::run`] would run it: no transaction to pay for.
fn run_batch(pool: &Pool, commits: &AtomicU64, jobs: Vec<BatchedJob<DbConnection>>) {
    let mut slot = match pool.get() {
        Ok(slot) => slot,
        Err(e) => {
            tracing::debug!(error = %e, writes = jobs.len(), "no connection for a batch of writes");
            for job in jobs {
                let _ = job(None, false);
            }
            return;
        }
    };
    let Some(conn) = slot.conn.as_mut() else {
        for job in jobs {
            let _ = job(None, false);
        }
        return;
    };
    let shared = jobs.len() > 1;
    let mut told: Vec<Completion> = Vec::with_capacity(jobs.len());
    // Kept out of the transaction's closure: when the transaction cannot begin (the write lock
    // held past busy_timeout by another process) they have not run, and are told it is an outage.
    let mut pending = Some(jobs);
    let committed = if shared {
        super::write_transaction(conn, |c| {
            let jobs = pending.take().unwrap_or_default();
            told.extend(jobs.into_iter().filter_map(|job| job(Some(c), true)));
            Ok::<_, DbError>(())
        })
    } else {
        let jobs = pending.take().unwrap_or_default();
        told.extend(jobs.into_iter().filter_map(|job| job(Some(conn), false)));
        Ok(())
    };
    for job in pending.into_iter().flatten() {
        let _ = job(None, false);
    }
    commits.fetch_add(1, Ordering::Relaxed);
    let outcome = match committed {
        Ok(()) => {
            slot.last_ok = Instant::now();
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, writes = told.len(), "a group commit failed");
            Err(e.to_string())
        }
    };
    drop(slot);
    for tell in told {
        tell(outcome.clone());
    }
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
        let group_commit = matches!(url, DatabaseUrl::Sqlite(_));
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
        let commits = Arc::new(AtomicU64::new(0));
        let batch: BatchRunner<DbConnection> = {
            let (pool, commits) = (pool.clone(), commits.clone());
            Arc::new(move |jobs| run_batch(&pool, &commits, jobs))
        };
        let threads = usize::try_from(size).unwrap_or(1);
        Ok(Db {
            pool,
            timeout,
            statements,
            executor: Arc::new(Executor::new(threads, "twofold-db", batch)),
            group_commit,
            commits,
        })
    }

    /// Runs `f` with a pooled connection on a database thread, under the configured deadline.
    /// A deadline miss answers the caller at once and drops the connection from the pool; the
    /// query itself finishes in the background.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        let (pool, lease) = (self.pool.clone(), Shared::default());
        let (answer, answered) = oneshot::channel();
        let shared = lease.clone();
        self.executor.submit(Box::new(move || {
            let _ = answer.send(call(&pool, &shared, None, f));
            finish(&shared)
        }));
        match tokio::time::timeout(self.timeout, answered).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(lost()),
            Err(_) => {
                abandon(&lease, false, || self.executor.lend());
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
        let (answer, answered) = oneshot::channel();
        let shared = lease.clone();
        self.executor.submit(Box::new(move || {
            let _ = answer.send(call(&pool, &shared, Some(started), f));
            finish(&shared)
        }));
        // The sender is dropped without a word when the call fails before `f`: no wait then.
        if tokio::time::timeout(self.timeout, begun).await.is_err() {
            match abandon(&lease, true, || self.executor.lend()) {
                Abandoned::Started => {}
                Abandoned::Busy | Abandoned::Idle => return Err(DbError::Timeout(self.timeout)),
            }
        }
        answered.await.unwrap_or_else(|_| Err(lost()))
    }

    /// Runs a write that may share its commit with others — one statement, or `f` makes its own
    /// transaction. On SQLite, the writes queued while a commit is under way are run together,
    /// each in a savepoint, and committed with one fsync (group commit); `f`'s answer is given
    /// only once that commit is durable. A write without company runs as [`Db::run`] runs it. On
    /// PostgreSQL, whose concurrent commits already share their WAL flush, it is [`Db::run`].
    pub async fn run_batched<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        if !self.group_commit {
            return self.run(f).await;
        }
        let answered = self.batched(f);
        // A miss leaves the write to its batch: like any call's, it may still commit after the
        // caller has had its 503.
        match tokio::time::timeout(self.timeout, answered).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(lost()),
            Err(_) => Err(DbError::Timeout(self.timeout)),
        }
    }

    /// [`Db::run_batched`] for background work that must know whether its write committed
    /// before it tries again (the audit writer): no deadline; on PostgreSQL, [`Db::run_to_end`].
    /// On SQLite it also keeps the audit trail's writes from contending with the accepted steps
    /// for the database's one write lock: they take turns in one queue.
    pub async fn run_batched_to_end<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        if !self.group_commit {
            return self.run_to_end(f).await;
        }
        self.batched(f).await.unwrap_or_else(|_| Err(lost()))
    }

    /// Queues `f` for the next batch; the receiver hears its answer once the batch committed.
    fn batched<T, F>(&self, f: F) -> oneshot::Receiver<Result<T, DbError>>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        self.executor
            .submit_batched(Box::new(move |conn: Option<&mut DbConnection>, shared| {
                let Some(conn) = conn else {
                    let why = "no database connection for the write".to_string();
                    let _ = answer.send(Err(DbError::Unavailable(why)));
                    return None;
                };
                let result = if shared {
                    use diesel::Connection;
                    conn.transaction(f)
                } else {
                    f(conn)
                };
                let tell: Completion = Box::new(move |committed| {
                    let _ = answer.send(committed.map_err(DbError::Unavailable).and(result));
                });
                Some(tell)
            }));
        answered
    }

    /// Group commits made ([`Db::run_batched`]), successful or not.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Statements sent to the database since start (checks on checkout included).
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}
