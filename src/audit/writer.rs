//! The background batch writer for high-volume events (verify succeeded or failed, admin reads):
//! the request queues its event and moves on; the writer appends batches to the process's
//! [`Stream`], each event at most [`FLUSH_EVERY`] after it was queued (plus the write itself),
//! and everything queued on [`Writer::close`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Event, Stream};
use crate::db::Db;
use crate::db::models::NewAuditEvent;

/// Writes at least this often, and at most this many events per transaction.
const FLUSH_EVERY: Duration = Duration::from_millis(500);
const BATCH: usize = 500;
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
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
    /// Batch writes attempted, so a measurement of a request's statements can tell them apart.
    batches: Arc<AtomicU64>,
}

impl Writer {
    pub fn spawn(db: Db, stream: Stream) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let batches = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(run(db, stream.clone(), rx, batches.clone()));
        Writer {
            stream,
            tx,
            task: Arc::new(Mutex::new(Some(task))),
            batches,
        }
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
        match self.tx.send_timeout(msg, SEND_WAIT).await {
            Ok(()) => {}
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                tracing::error!("audit queue full; an event was dropped");
            }
            Err(mpsc::error::SendTimeoutError::Closed(_)) => {
                tracing::error!("audit writer has stopped; an event was dropped");
            }
        }
    }

    /// Returns once everything queued before the call is written (or failed and was logged).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Writes what is queued and stops the writer: for graceful shutdown.
    pub async fn close(&self) {
        self.flush().await;
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }
}

async fn run(db: Db, stream: Stream, mut rx: mpsc::Receiver<Msg>, batches: Arc<AtomicU64>) {
    let mut batch: Vec<NewAuditEvent> = Vec::new();
    // When the oldest queued event must be written by: fixed when it arrives, so a steady
    // trickle of events cannot keep postponing the write.
    let mut due = tokio::time::Instant::now();
    loop {
        let msg = if batch.is_empty() {
            rx.recv().await
        } else {
            match tokio::time::timeout_at(due, rx.recv()).await {
                Ok(m) => m,
                Err(_) => {
                    write(&db, &stream, std::mem::take(&mut batch), &batches).await;
                    continue;
                }
            }
        };
        match msg {
            Some(Msg::Event(e)) => {
                if batch.is_empty() {
                    due = tokio::time::Instant::now() + FLUSH_EVERY;
                }
                batch.push(*e);
                if batch.len() >= BATCH {
                    write(&db, &stream, std::mem::take(&mut batch), &batches).await;
                }
            }
            Some(Msg::Flush(done)) => {
                write(&db, &stream, std::mem::take(&mut batch), &batches).await;
                let _ = done.send(());
            }
            None => {
                write(&db, &stream, std::mem::take(&mut batch), &batches).await;
                return;
            }
        }
    }
}

/// One transaction per batch; retried a few times so a database blip loses nothing. It waits for
/// each attempt to end (no deadline: no request waits on it), so an attempt that is retried is
/// known not to have committed, and no event is written twice.
async fn write(db: &Db, stream: &Stream, batch: Vec<NewAuditEvent>, batches: &AtomicU64) {
    if batch.is_empty() {
        return;
    }
    batches.fetch_add(1, Ordering::Relaxed);
    let batch = Arc::new(batch);
    for attempt in 1..=5u32 {
        let (rows, stream) = (batch.clone(), stream.clone());
        let result = db
            .run_to_end(move |conn| {
                crate::db::write_transaction(conn, |c| stream.append(c, rows.to_vec()))
            })
            .await;
        match result {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, attempt, events = batch.len(), "audit batch not written yet");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
        }
    }
    tracing::error!(events = batch.len(), "audit events lost after retries");
}
