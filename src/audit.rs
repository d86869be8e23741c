//! The audit trail: who did what to which account, when, from where, and how it ended.
//!
//! Changes are recorded in the same transaction as the change itself ([`record`] takes the
//! transaction's connection), so an event exists exactly when its change does. High-volume outcomes
//! (verify succeeded or failed) go through the [`Writer`], which batches them in the background so
//! the verify path pays no extra database round trip. Events never hold a secret: no code, key,
//! seed or full phone number.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::Connection;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::db::models::NewAuditEvent;
use crate::db::{Db, DbConnection, DbError};

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A relying party or admin calling the API with this key id.
    ApiKey(String),
    /// An operator at the command line.
    Cli,
    /// twofold itself (start-up bootstrap, expiry).
    System,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::ApiKey(id) => write!(f, "api_key:{id}"),
            Actor::Cli => f.write_str("cli"),
            Actor::System => f.write_str("system"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ApiKeyCreated,
    ApiKeyRevoked,
    DeviceEnrolled,
    DeviceConfirmed,
    DeviceRevoked,
    VerifySucceeded,
    VerifyFailed,
    /// A code that was right once but is being used again (SEC-9).
    Replay,
    UserLocked,
    RecoveryCodesCreated,
    RecoveryCodeUsed,
    SigningKeyRotated,
    MasterKeyRewrapped,
    SmsSent,
    SmsBreakerReset,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ApiKeyCreated => "api_key_created",
            Action::ApiKeyRevoked => "api_key_revoked",
            Action::DeviceEnrolled => "device_enrolled",
            Action::DeviceConfirmed => "device_confirmed",
            Action::DeviceRevoked => "device_revoked",
            Action::VerifySucceeded => "verify_succeeded",
            Action::VerifyFailed => "verify_failed",
            Action::Replay => "replay",
            Action::UserLocked => "user_locked",
            Action::RecoveryCodesCreated => "recovery_codes_created",
            Action::RecoveryCodeUsed => "recovery_code_used",
            Action::SigningKeyRotated => "signing_key_rotated",
            Action::MasterKeyRewrapped => "master_key_rewrapped",
            Action::SmsSent => "sms_sent",
            Action::SmsBreakerReset => "sms_breaker_reset",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// One event, before it is written.
#[derive(Debug, Clone)]
pub struct Event {
    pub tenant: String,
    pub user: Option<String>,
    pub device: Option<String>,
    pub action: Action,
    pub outcome: Outcome,
    pub actor: Actor,
    pub ip: Option<String>,
    /// Extra facts as JSON (never a secret).
    pub detail: Option<serde_json::Value>,
}

impl Event {
    pub fn new(tenant: impl Into<String>, action: Action, actor: Actor) -> Event {
        Event {
            tenant: tenant.into(),
            user: None,
            device: None,
            action,
            outcome: Outcome::Success,
            actor,
            ip: None,
            detail: None,
        }
    }

    pub fn user(mut self, user: impl Into<String>) -> Event {
        self.user = Some(user.into());
        self
    }

    pub fn device(mut self, device: impl Into<String>) -> Event {
        self.device = Some(device.into());
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Event {
        self.outcome = outcome;
        self
    }

    pub fn ip(mut self, ip: Option<String>) -> Event {
        self.ip = ip;
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Event {
        self.detail = Some(detail);
        self
    }
}

fn row(at: DateTime<Utc>, event: Event) -> NewAuditEvent {
    NewAuditEvent {
        at: at.naive_utc(),
        tenant: event.tenant,
        user_id: event.user,
        device_id: event.device,
        action: event.action.as_str().to_string(),
        outcome: event.outcome.as_str().to_string(),
        actor: event.actor.to_string(),
        ip: event.ip,
        detail: event.detail.map(|d| d.to_string()),
    }
}

/// Writes the event with the connection (and so inside the transaction) of the change it records.
pub fn record(conn: &mut DbConnection, at: DateTime<Utc>, event: Event) -> Result<(), DbError> {
    crate::db::audit::insert(conn, &row(at, event))
}

/// Writes at least this often, and at most this many events per transaction.
const FLUSH_EVERY: Duration = Duration::from_millis(500);
const BATCH: usize = 500;
const QUEUE: usize = 10_000;
const SEND_WAIT: Duration = Duration::from_millis(100);

enum Msg {
    Event(Box<NewAuditEvent>),
    Flush(oneshot::Sender<()>),
}

/// The background batch writer for high-volume events.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Msg>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Writer {
    pub fn spawn(db: Db) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(db, rx));
        Writer {
            tx,
            task: Arc::new(Mutex::new(Some(task))),
        }
    }

    /// Queues the event. When the queue is full (the database is far behind) it waits at most
    /// [`SEND_WAIT`], then drops the event with an error line: a request is never held hostage by
    /// the audit trail.
    pub async fn send(&self, at: DateTime<Utc>, event: Event) {
        let msg = Msg::Event(Box::new(row(at, event)));
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

async fn run(db: Db, mut rx: mpsc::Receiver<Msg>) {
    let mut batch: Vec<NewAuditEvent> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    loop {
        let msg = if batch.is_empty() {
            rx.recv().await
        } else {
            match tokio::time::timeout(FLUSH_EVERY, rx.recv()).await {
                Ok(m) => m,
                Err(_) => {
                    write(&db, std::mem::take(&mut batch)).await;
                    continue;
                }
            }
        };
        match msg {
            Some(Msg::Event(e)) => {
                batch.push(*e);
                if batch.len() >= BATCH {
                    write(&db, std::mem::take(&mut batch)).await;
                }
            }
            Some(Msg::Flush(done)) => {
                write(&db, std::mem::take(&mut batch)).await;
                waiting.push(done);
                for w in waiting.drain(..) {
                    let _ = w.send(());
                }
            }
            None => {
                write(&db, std::mem::take(&mut batch)).await;
                return;
            }
        }
    }
}

/// One transaction per batch; retried a few times so a database blip loses nothing.
async fn write(db: &Db, batch: Vec<NewAuditEvent>) {
    if batch.is_empty() {
        return;
    }
    let batch = Arc::new(batch);
    for attempt in 1..=5u32 {
        let rows = batch.clone();
        let result = db
            .run(move |conn| {
                conn.transaction(|c| rows.iter().try_for_each(|r| crate::db::audit::insert(c, r)))
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
