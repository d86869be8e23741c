//! The `log` gateway, for development only (the config refuses it in production): whole messages
//! are appended as JSON lines to an outbox file only the service's user can read, so a newcomer
//! can finish the SMS journey without a provider; the log gets a redacted line; the last messages
//! stay readable in memory for tests.

use std::collections::VecDeque;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::{Message, SendError, SendFuture, SmsGateway, redact_number};

/// How many messages [`LogGateway::outbox`] keeps.
const KEEP: usize = 100;

pub struct LogGateway {
    path: PathBuf,
    recent: Mutex<VecDeque<Message>>,
    /// One writer at a time, so lines never interleave.
    file: Mutex<()>,
}

/// A typed handle, so the app and tests can read [`LogGateway::outbox`].
pub fn build_log(outbox: PathBuf) -> Arc<LogGateway> {
    Arc::new(LogGateway {
        path: outbox,
        recent: Mutex::new(VecDeque::with_capacity(KEEP)),
        file: Mutex::new(()),
    })
}

#[derive(serde::Serialize)]
struct Line<'a> {
    sent_at: String,
    to: &'a str,
    body: &'a str,
}

impl LogGateway {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last messages sent, oldest first.
    pub fn outbox(&self) -> Vec<Message> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent.iter().cloned().collect()
    }

    /// Creates the outbox at start, and narrows a file left readable by others to 0600.
    pub(super) fn prepare(&self) -> Result<(), SendError> {
        let fail = |e: std::io::Error| {
            SendError::Config(format!("log gateway: outbox {}: {e}", self.path.display()))
        };
        self.open().map_err(fail)?;
        let permissions = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(&self.path, permissions).map_err(fail)
    }

    fn open(&self) -> std::io::Result<std::fs::File> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)
    }

    // Small synchronous writes: this gateway serves development, where a blocked worker for the
    // length of one append does not matter.
    fn append(&self, msg: &Message) -> Result<(), SendError> {
        let line = Line {
            sent_at: chrono::Utc::now().to_rfc3339(),
            to: &msg.to,
            body: &msg.body,
        };
        let mut text = serde_json::to_string(&line)
            .map_err(|e| SendError::Config(format!("log gateway: {e}")))?;
        text.push('\n');
        let _writer = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        self.open()
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| {
                SendError::Config(format!("log gateway: outbox {}: {e}", self.path.display()))
            })
    }

    fn deliver(&self, msg: &Message) -> Result<(), SendError> {
        self.append(msg)?;
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() == KEEP {
            recent.pop_front();
        }
        recent.push_back(msg.clone());
        drop(recent);
        tracing::info!(gateway = "log", to = %redact_number(&msg.to), outbox = %self.path.display(),
            "SMS written to the development outbox");
        Ok(())
    }
}

impl SmsGateway for LogGateway {
    fn name(&self) -> &'static str {
        "log"
    }

    fn send<'a>(&'a self, msg: &'a Message) -> SendFuture<'a> {
        Box::pin(async move { self.deliver(msg) })
    }
}

#[cfg(test)]
mod tests {
    use tracing::instrument::WithSubscriber;

    use super::*;
    use crate::sms::tests::capture_logs;
    use crate::sms::{GatewayConfig, Transport, build};

    /// The tests that send through this gateway hit the same log callsite. tracing caches per
    /// callsite whether any subscriber wants it; a send with no subscriber racing the capturing
    /// test's registration can leave "nobody" cached, and the captured log comes out empty. They
    /// take turns.
    static SENDING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    fn message(n: usize) -> Message {
        Message {
            to: format!("+4915112345{n:03}"),
            body: format!("Your code is 4711{n:02}\n@example.com #4711{n:02}"),
            code: format!("4711{n:02}"),
        }
    }

    #[tokio::test]
    async fn writes_the_whole_message_to_a_private_outbox_and_logs_it_redacted() {
        let _turn = SENDING.lock().await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/sms-outbox.log");
        let gw = build_log(path.clone());
        let (subscriber, logs) = capture_logs();
        gw.send(&message(7))
            .with_subscriber(subscriber)
            .await
            .unwrap();

        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        let text = std::fs::read_to_string(&path).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(line["to"], "+4915112345007");
        assert_eq!(line["body"], message(7).body);
        assert_eq!(gw.outbox(), vec![message(7)]);

        let logs = logs();
        assert!(logs.contains("…07"), "{logs}");
        for secret in ["4915112345007", "15112345007", "471107"] {
            assert!(!logs.contains(secret), "{logs}");
        }
        assert!(!format!("{:?}", message(7)).contains("471107"));
    }

    #[tokio::test]
    async fn keeps_the_last_hundred_in_order() {
        let _turn = SENDING.lock().await;
        let dir = tempfile::tempdir().unwrap();
        let gw = build_log(dir.path().join("outbox"));
        for n in 0..105 {
            gw.send(&message(n)).await.unwrap();
        }
        let kept = gw.outbox();
        assert_eq!(kept.len(), KEEP);
        assert_eq!(kept[0], message(5));
        assert_eq!(kept[99], message(104));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("outbox"))
                .unwrap()
                .lines()
                .count(),
            105
        );
    }

    #[tokio::test]
    async fn build_creates_the_outbox_and_narrows_its_mode() {
        let _turn = SENDING.lock().await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let gw = build(
            GatewayConfig::Log {
                outbox: path.clone(),
            },
            Transport::default(),
        )
        .unwrap();
        assert_eq!(gw.name(), "log");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        gw.send(&message(1)).await.unwrap();

        let blocked = dir.path().join("file-not-dir");
        std::fs::write(&blocked, "").unwrap();
        let outbox = blocked.join("outbox");
        let err = build(GatewayConfig::Log { outbox }, Transport::default()).err();
        assert!(matches!(err, Some(SendError::Config(_))));
    }
}
