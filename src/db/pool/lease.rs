//! A call's hold on its pool slot, which the caller can take back when it stops waiting.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::r2d2::PooledConnection;
use tokio::sync::oneshot;

use super::{Manager, PROVEN_FOR, Pool};
use crate::db::{DbConnection, DbError};

/// What a call's blocking thread shares with its caller: the pool slot of the connection in use,
/// which the caller takes back and discards when it stops waiting, whatever the thread is blocked
/// on. The thread keeps the connection itself and drops it when it is done.
#[derive(Default)]
pub(super) struct Lease {
    slot: Option<PooledConnection<Manager>>,
    /// The caller stopped waiting: the connection is not to go back to the pool.
    abandoned: bool,
    /// `f` has started: the checkout and its check are over.
    started: bool,
    /// A thread has taken the call.
    taken: bool,
    /// The call is over: its thread is free.
    finished: bool,
}

/// What [`abandon`] found.
pub(super) enum Abandoned {
    /// `f` had begun and was left to run (`unless_started`).
    Started,
    /// Abandoned while a thread is at it: that thread may stay blocked a while, and `lend` was
    /// called (under the lease's lock, so the call's end cannot slip in between).
    Busy,
    /// Abandoned before a thread took it (it will end at once when one does), or after it ended.
    Idle,
}

/// The call's thread is done with it: answers whether its caller had stopped waiting (and so had
/// lent the executor a thread for it).
pub(super) fn finish(lease: &Shared) -> bool {
    // (A call that ends without having been taken — abandoned in the queue — lent nothing.)
    let mut l = lock(lease);
    l.finished = true;
    l.abandoned && l.taken
}

pub(super) type Shared = Arc<Mutex<Lease>>;

fn lock(lease: &Shared) -> MutexGuard<'_, Lease> {
    lease.lock().unwrap_or_else(PoisonError::into_inner)
}

fn gave_up() -> DbError {
    DbError::Unavailable("the caller stopped waiting for the database".into())
}

/// A connection out of the pool, checked with `SELECT 1` unless it has just proved itself; its
/// slot is left in `lease`. One that fails the check is discarded and the next one tried.
fn checkout(pool: &Pool, lease: &Shared) -> Result<DbConnection, DbError> {
    loop {
        let mut slot = pool
            .get()
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        let Some(mut conn) = slot.conn.take() else {
            continue;
        };
        let proven = slot.last_ok.elapsed() < PROVEN_FOR;
        {
            let mut l = lock(lease);
            if l.abandoned {
                slot.conn = Some(conn);
                return Err(gave_up());
            }
            l.slot = Some(slot);
        }
        if proven {
            return Ok(conn);
        }
        let checked = conn.batch_execute("SELECT 1");
        let mut l = lock(lease);
        match (checked, l.slot.as_mut()) {
            (Ok(()), Some(slot)) => {
                slot.last_ok = Instant::now();
                return Ok(conn);
            }
            (Ok(()), None) => return Err(gave_up()),
            (Err(e), _) => {
                tracing::debug!(error = %e, "a pooled database connection failed its check");
                if l.abandoned {
                    return Err(gave_up());
                }
                // Discarded when its slot drops (a slot without a connection counts as broken).
                let slot = l.slot.take();
                drop(l);
                drop(slot);
            }
        }
    }
}

/// Runs `f` on a pooled connection and records how it went; the connection goes back to the
/// pool only if the caller is still waiting. `started` is told when `f` begins.
pub(super) fn call<T>(
    pool: &Pool,
    lease: &Shared,
    started: Option<oneshot::Sender<()>>,
    f: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    {
        // A call its caller gave up on while it was queued is not worth a connection.
        let mut l = lock(lease);
        if l.abandoned {
            return Err(gave_up());
        }
        l.taken = true;
    }
    let mut conn = checkout(pool, lease)?;
    {
        let mut l = lock(lease);
        if l.abandoned {
            return Err(gave_up());
        }
        l.started = true;
    }
    if let Some(started) = started {
        let _ = started.send(());
    }
    let result = f(&mut conn);
    let slot = lock(lease).slot.take();
    if let Some(mut slot) = slot {
        match &result {
            Ok(_) => slot.last_ok = Instant::now(),
            Err(DbError::Query(diesel::result::Error::DatabaseError(kind, _))) => {
                use diesel::result::DatabaseErrorKind as K;
                if matches!(kind, K::ClosedConnection | K::UnableToSendCommand) {
                    slot.broken = true;
                }
            }
            Err(_) => {}
        }
        slot.conn = Some(conn);
    }
    result
}

/// The caller stops waiting: the connection's pool slot is discarded now, so the pool may open
/// another, and the connection is closed when its thread lets go of it. With `unless_started`, a
/// call whose `f` has begun is left to run. `lend` is called when a thread is left busy with the
/// call, under the lease's lock: [`finish`] then sees the call abandoned and gives the loan back.
pub(super) fn abandon(lease: &Shared, unless_started: bool, lend: impl FnOnce()) -> Abandoned {
    let (slot, outcome) = {
        let mut l = lock(lease);
        if unless_started && l.started {
            return Abandoned::Started;
        }
        l.abandoned = true;
        let outcome = if l.taken && !l.finished {
            lend();
            Abandoned::Busy
        } else {
            Abandoned::Idle
        };
        (l.slot.take(), outcome)
    };
    if let Some(mut slot) = slot {
        slot.broken = true;
        tracing::warn!("a database connection missed the deadline; it is dropped from the pool");
    }
    outcome
}
