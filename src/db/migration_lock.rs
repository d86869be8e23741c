//! One migrator at a time per PostgreSQL database. Nodes started at once on a fresh database would
//! otherwise each create the same tables, and all but one fail (`duplicate key value violates
//! unique constraint "pg_type_typname_nsp_index"`): under a session advisory lock the later ones
//! wait, then find nothing left to apply. The lock is the database's, so it goes with a session
//! that dies; a node that crashes while migrating does not block the others.

use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use diesel::sql_types::Bool;

use super::{DbConnection, DbError};

/// The lock's key, in the advisory lock space of the database: "twofold" in ASCII.
const KEY: i64 = 0x0074_776f_666f_6c64;
/// Polled rather than waited for: a blocking `pg_advisory_lock` is cancelled by the statement
/// and lock timeouts the pool sets (the dependency deadline), far shorter than a migration.
const POLL: Duration = Duration::from_millis(100);
/// A start does not wait forever behind a migrator that hangs with its session alive.
const WAIT_AT_MOST: Duration = Duration::from_secs(600);

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Runs `f` holding the migration lock (PostgreSQL; SQLite's one writer needs none).
pub(super) fn hold<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    if !matches!(conn, DbConnection::Postgres(_)) {
        return f(conn);
    }
    take(conn)?;
    let result = f(conn);
    if let DbConnection::Postgres(c) = conn
        && let Err(e) = diesel::sql_query(format!("SELECT pg_advisory_unlock({KEY})")).execute(c)
    {
        // Not left to a pooled session that would keep the lock: the error goes up (a closed
        // connection is then dropped from the pool, and the lock ends with its session), and the
        // start fails rather than leave later starts waiting.
        tracing::warn!(error = %e, "could not release the migration lock");
        return Err(DbError::Query(e));
    }
    result
}

fn take(conn: &mut DbConnection) -> Result<(), DbError> {
    let DbConnection::Postgres(c) = conn else {
        return Ok(());
    };
    let started = Instant::now();
    let mut told = false;
    loop {
        let got: Locked =
            diesel::sql_query(format!("SELECT pg_try_advisory_lock({KEY}) AS locked"))
                .get_result(c)?;
        if got.locked {
            return Ok(());
        }
        if started.elapsed() > WAIT_AT_MOST {
            return Err(DbError::Migration(format!(
                "another process has held the migration lock for {} s",
                WAIT_AT_MOST.as_secs()
            )));
        }
        if !told {
            tracing::info!("another process is applying the migrations; waiting for it");
            told = true;
        }
        std::thread::sleep(POLL);
    }
}
