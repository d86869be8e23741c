//! The background batch writer for high-volume events (verify succeeded or failed, admin reads):
//! the request queues its event and moves on; the writer appends batches to the process's
//! [`Stream`], each event at most [`FLUSH_EVERY`] after it was queued (plus the write itself),
//! and what is queued on [`Writer::close_by`], within its deadline. An event that could not be
//! written (the queue full, the retries spent, the deadline of a shutdown passed) is logged and
//! counted ([`Writer::lost`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Event, Stream};
use crate::db::Db;
use crate::db::models::NewAuditEvent;

/// Writes at least this often, and at most this many events per transaction.
const FLUSH_EVERY: Duration = Duration::from_millis(500);
const BATCH: usize = 500;
/// While a batch gathers, the writer looks at the queue this often instead of being woken by
/// each event (a wake-up per failed code was a tenth of a verify's CPU). A flush wakes it at once.
const GATHER_TICK: Duration = Duration::from_millis(50);
const QUEUE: usize = 10_000;
const SEND_WAIT: Duration = Duration::from_millis(100);

enum Msg {
    Event(Box<NewAuditEvent>),
    Flush(oneshot::Sender<()>),
}

/// The background batch writer, and the stream that changes record into directly.
#[derive(Clone)]
pub struct Writer {
    stream: Stream,
    tx: mpsc::Sender<Msg>,
    /// Wakes a gathering writer for a flush.
    urgent: Arc<Notify>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
    /// Batch writes attempted, so a measurement of a request's statements can tell them apart.
    batches: Arc<AtomicU64>,
    counts: Arc<Counts>,
}

/// Events queued and not yet written or given up, and events given up.
#[derive(Default)]
struct Counts {
    pending: AtomicU64,
    lost: AtomicU64,
}

impl Counts {
    /// `n` pending events are settled: written, or (`lost`) given up.
    fn settle(&self, n: u64, lost: bool) {
        self.pending.fetch_sub(n, Ordering::Relaxed);
        if lost {
            self.lost.fetch_add(n, Ordering::Relaxed);
        }
    }
}

impl Writer {
    pub fn spawn(db: Db, stream: Stream) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let batches = Arc::new(AtomicU64::new(0));
        let counts = Arc::new(Counts::default());
        let urgent = Arc::new(Notify::new());
        let out = Out {
            db,
            stream: stream.clone(),
            batches: batches.clone(),
            counts: counts.clone(),
        };
        let task = tokio::spawn(run(out, rx, urgent.clone()));
        Writer {
            stream,
            tx,
            urgent,
            task: Arc::new(Mutex::new(Some(task))),
            batches,
            counts,
        }
    }

    /// Events given up since start: not written, and logged as such.
    pub fn lost(&self) -> u64 {
        self.counts.lost.load(Ordering::Relaxed)
    }

    /// Batch writes attempted so far.
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// The stream of this process, for recording inside a change's transaction.
    pub fn stream(&self) -> &Stream {
        &self.stream
    }

    /// Queues the event. When the queue is full (the database is far behind) it waits at most
    /// [`SEND_WAIT`], then drops the event with an error line: a request is never held hostage by
    /// the audit trail.
    pub async fn send(&self, at: DateTime<Utc>, event: Event) {
        let msg = Msg::Event(Box::new(super::row(at, event)));
        // Pending before it is queued: the writer may settle it before `send` returns.
        self.counts.pending.fetch_add(1, Ordering::Relaxed);
        let dropped = match self.tx.send_timeout(msg, SEND_WAIT).await {
            Ok(()) => return,
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => "the audit queue is full",
            Err(mpsc::error::SendTimeoutError::Closed(_)) => "the audit writer has stopped",
        };
        self.counts.settle(1, true);
        tracing::error!(events = 1, "audit events lost: {dropped}");
    }

    /// Returns once everything queued before the call is written (or failed and was logged).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            self.urgent.notify_one();
            let _ = wait.await;
        }
    }

    /// Writes what is queued, by `deadline` at the latest, and stops the writer: for shutdown.
    /// Answers how many events were not written by then (or not known to be: a write still
    /// waiting on the database may commit later); they are logged and counted as lost.
    pub async fn close_by(&self, deadline: tokio::time::Instant) -> u64 {
        let flushed = tokio::time::timeout_at(deadline, self.flush())
            .await
            .is_ok();
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
        let left = self.counts.pending.load(Ordering::Relaxed);
        if left > 0 {
            self.counts.settle(left, true);
            tracing::error!(
                events = left,
                flushed,
                "audit events lost: not written by the shutdown deadline"
            );
        }
        left
    }
}

async fn run(out: Out, mut rx: mpsc::Receiver<Msg>, urgent: Arc<Notify>) {
    let mut batch: Vec<NewAuditEvent> = Vec::new();
    loop {
        // Idle: the first message wakes the writer.
        let Some(first) = rx.recv().await else {
            return;
        };
        // When the oldest queued event must be written by: fixed when it arrives, so a steady
        // stream of events cannot keep postponing the write.
        let due = tokio::time::Instant::now() + FLUSH_EVERY;
        let mut next = Some(first);
        loop {
            // Takes what is queued without waiting; `None` once the queue is empty.
            let mut closed = false;
            while let Some(msg) = next.take().or_else(|| match rx.try_recv() {
                Ok(m) => Some(m),
                Err(mpsc::error::TryRecvError::Empty) => None,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    closed = true;
                    None
                }
            }) {
                match msg {
                    Msg::Event(e) => {
                        batch.push(*e);
                        if batch.len() >= BATCH {
                            out.write(std::mem::take(&mut batch)).await;
                        }
                    }
                    Msg::Flush(done) => {
                        out.write(std::mem::take(&mut batch)).await;
                        let _ = done.send(());
                    }
                }
            }
            if closed {
                out.write(std::mem::take(&mut batch)).await;
                return;
            }
            if batch.is_empty() {
                break;
            }
            let now = tokio::time::Instant::now();
            if now >= due {
                out.write(std::mem::take(&mut batch)).await;
                break;
            }
            let wake = due.min(now + GATHER_TICK);
            tokio::select! {
                () = tokio::time::sleep_until(wake) => {}
                () = urgent.notified() => {}
            }
        }
    }
}

/// Where the writer's batches go.
struct Out {
    db: Db,
    stream: Stream,
    batches: Arc<AtomicU64>,
    counts: Arc<Counts>,
}

impl Out {
    /// One transaction per batch; retried a few times so a database blip loses nothing. It
    /// waits for each attempt to end (no deadline: no request waits on it), so an attempt that
    /// is retried is known not to have committed, and no event is written twice.
    async fn write(&self, batch: Vec<NewAuditEvent>) {
        if batch.is_empty() {
            return;
        }
        self.batches.fetch_add(1, Ordering::Relaxed);
        let n = batch.len() as u64;
        let batch = Arc::new(batch);
        for attempt in 1..=5u32 {
            let (rows, stream) = (batch.clone(), self.stream.clone());
            let result = self
                .db
                .run_batched_to_end(move |conn| {
                    crate::db::write_transaction(conn, |c| stream.append(c, rows.to_vec()))
                })
                .await;
            match result {
                Ok(()) => {
                    self.counts.settle(n, false);
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, events = n, "audit batch not written yet");
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                }
            }
        }
        self.counts.settle(n, true);
        tracing::error!(events = n, "audit events lost after retries");
    }
}
