//! The threads database calls run on: as many as the pool has connections, kept busy.
//!
//! Diesel blocks, so a call cannot run on an executor thread. Tokio's blocking pool would take it,
//! but it wakes a sleeping thread per call and grows a thread per call in flight: at 64 requests
//! in flight on a pool of 4 connections, 60 threads sat in the pool's own wait, each woken and put
//! back to sleep for every connection freed (a quarter of a verify's CPU was that hand-off, and
//! each thread's malloc arena was most of the resident memory). Here a call is queued, and a
//! thread that finishes one takes the next without sleeping: a thread is only woken when the
//! queue was empty, and there are never more threads than connections to give them.
//!
//! A thread whose call was abandoned at its deadline may stay blocked on a connection that stopped
//! answering until the socket's own timeouts fire: each abandoned call lends the executor one more
//! thread for that time, so the pool's replacement connections still have threads to run on.
//!
//! Writes that may share a commit ([`Executor::submit_batched`]) are run together: one thread at a
//! time takes every such write queued, runs each in its own savepoint inside one transaction and
//! commits them together — on SQLite, one fsync for all the steps accepted meanwhile (group
//! commit). Each caller hears of its write only once the commit is durable.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// A queued call. Answers whether its caller had stopped waiting (the thread was lent for it).
pub(super) type Job = Box<dyn FnOnce() -> bool + Send>;
/// A queued write that may share a commit: runs on the batch's connection — inside the shared
/// transaction when it has company (`true`), on its own otherwise — and yields what to tell its
/// caller once the commit's outcome is known. Given no connection (none could be had), it tells
/// its caller at once and yields nothing.
pub(super) type BatchedJob<C> = Box<dyn FnOnce(Option<&mut C>, bool) -> Option<Completion> + Send>;
/// Told whether the batch committed (`Err`: why not).
pub(super) type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
/// Runs a batch: takes a connection, runs the jobs in one transaction, reports to each.
pub(super) type BatchRunner<C> = Arc<dyn Fn(Vec<BatchedJob<C>>) + Send + Sync>;

/// How long an idle thread waits for work before it exits (a new one starts on demand).
const KEEP_ALIVE: Duration = Duration::from_secs(10);
/// The most writes one commit carries: a bound on how long the first of them waits.
const MAX_BATCH: usize = 256;

struct State<C> {
    jobs: VecDeque<Job>,
    batched: VecDeque<BatchedJob<C>>,
    /// A thread is running a batch: the writes queued meanwhile wait for the next one.
    batching: bool,
    live: usize,
    idle: usize,
    /// Threads lent for abandoned calls still running.
    lent: usize,
    closed: bool,
}

struct Inner<C> {
    state: Mutex<State<C>>,
    work: Condvar,
    /// Told when the last thread exits.
    gone: Condvar,
    threads: usize,
    name: &'static str,
    /// Taken out when the executor closes: it holds the pool.
    batch: Mutex<Option<BatchRunner<C>>>,
}

/// A fixed set of threads fed by a queue; closed when dropped (threads finish what is queued).
pub(super) struct Executor<C: 'static> {
    inner: Arc<Inner<C>>,
}

/// How long dropping the executor waits for its threads to finish what is queued.
const CLOSE_WAIT: Duration = Duration::from_millis(500);

impl<C: 'static> Drop for Executor<C> {
    /// Waits (boundedly) for the threads: the last one out would otherwise close the pool's
    /// connections while the process exits under it, racing the C libraries' exit handlers
    /// (libpq, OpenSSL). The pool then closes here, on the thread that let go of the database.
    fn drop(&mut self) {
        let mut s = self.inner.lock();
        s.closed = true;
        self.inner.work.notify_all();
        let deadline = std::time::Instant::now() + CLOSE_WAIT;
        while s.live > 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            s = self
                .inner
                .gone
                .wait_timeout(s, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        drop(s);
        let batch = self
            .inner
            .batch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(batch);
    }
}

impl<C: 'static> Inner<C> {
    fn lock(&self) -> MutexGuard<'_, State<C>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

enum Work<C> {
    Call(Job),
    Batch(Vec<BatchedJob<C>>),
}

impl<C: 'static> Executor<C> {
    /// `threads`: at most this many run calls at once (the pool's size). `batch` runs a batch of
    /// [`Executor::submit_batched`] writes.
    pub(super) fn new(threads: usize, name: &'static str, batch: BatchRunner<C>) -> Executor<C> {
        Executor {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    jobs: VecDeque::new(),
                    batched: VecDeque::new(),
                    batching: false,
                    live: 0,
                    idle: 0,
                    lent: 0,
                    closed: false,
                }),
                work: Condvar::new(),
                gone: Condvar::new(),
                threads: threads.max(1),
                name,
                batch: Mutex::new(Some(batch)),
            }),
        }
    }

    pub(super) fn submit(&self, job: Job) {
        let mut s = self.inner.lock();
        s.jobs.push_back(job);
        self.wake(s);
    }

    pub(super) fn submit_batched(&self, job: BatchedJob<C>) {
        let mut s = self.inner.lock();
        s.batched.push_back(job);
        // A batch in progress takes this write in the next one, when it ends.
        if !s.batching {
            self.wake(s);
        }
    }

    /// A caller stopped waiting for its call: one more thread may run while that call's thread is
    /// blocked. Given back when the call ends (its job answers `true`).
    pub(super) fn lend(&self) {
        let mut s = self.inner.lock();
        s.lent += 1;
        if !s.jobs.is_empty() {
            self.wake(s);
        }
    }

    /// Makes sure a thread will take what was just queued: an idle one is woken, and one is
    /// started while more work waits than idle threads can take (a busy thread may be held by
    /// its call for long: calls may wait on each other). When every thread runs, the first to
    /// finish takes the work without a wake-up.
    fn wake(&self, mut s: MutexGuard<'_, State<C>>) {
        if s.idle > 0 {
            self.inner.work.notify_one();
        }
        let waiting = s.jobs.len() + usize::from(!s.batching && !s.batched.is_empty());
        if waiting > s.idle && s.live < self.inner.threads + s.lent {
            s.live += 1;
            drop(s);
            let inner = self.inner.clone();
            let spawned = std::thread::Builder::new()
                .name(self.inner.name.into())
                .spawn(move || work(&inner));
            if let Err(e) = spawned {
                // The queued call then waits for a running thread, or misses its deadline.
                tracing::error!(error = %e, "could not start a database thread");
                self.inner.lock().live -= 1;
            }
        }
    }
}

/// A thread's life: take work until the executor is closed and drained, or nothing came for
/// [`KEEP_ALIVE`].
fn work<C: 'static>(inner: &Inner<C>) {
    let mut s = inner.lock();
    loop {
        let next = if !s.batching && !s.batched.is_empty() {
            s.batching = true;
            let n = s.batched.len().min(MAX_BATCH);
            Some(Work::Batch(s.batched.drain(..n).collect()))
        } else {
            s.jobs.pop_front().map(Work::Call)
        };
        match next {
            Some(Work::Call(job)) => {
                drop(s);
                // A panic is the call's bug: its caller hears of it (its answer is dropped), and
                // the thread carries on.
                let was_lent =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).unwrap_or(false);
                s = inner.lock();
                if was_lent {
                    s.lent = s.lent.saturating_sub(1);
                }
            }
            Some(Work::Batch(jobs)) => {
                drop(s);
                let runner = inner
                    .batch
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                // Closed: the writes are dropped, and their callers told so.
                let batch = std::panic::AssertUnwindSafe(|| runner.map(|run| run(jobs)));
                if std::panic::catch_unwind(batch).is_err() {
                    tracing::error!("a batch of database writes panicked; none of it committed");
                }
                s = inner.lock();
                s.batching = false;
                // Writes queued during the batch: this thread takes them next; wake another for
                // the calls if some wait.
                if !s.jobs.is_empty() && s.idle > 0 {
                    inner.work.notify_one();
                }
            }
            None if s.closed => break,
            None => {
                if s.live > inner.threads + s.lent {
                    break;
                }
                s.idle += 1;
                let (guard, wait) = inner
                    .work
                    .wait_timeout(s, KEEP_ALIVE)
                    .unwrap_or_else(PoisonError::into_inner);
                s = guard;
                s.idle -= 1;
                let nothing = s.jobs.is_empty() && (s.batching || s.batched.is_empty());
                if wait.timed_out() && nothing && !s.closed {
                    break;
                }
            }
        }
    }
    s.live -= 1;
    if s.live == 0 {
        inner.gone.notify_all();
    }
}
