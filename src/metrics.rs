//! Prometheus metrics, recorded into this application's own recorder (no process-global one, so
//! several apps in one test process keep separate figures).

use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};

#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        #[expect(clippy::expect_used, reason = "a constant, non-empty bucket list")]
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
            .expect("static, non-empty bucket list")
            .build_recorder();
        Metrics {
            recorder: Arc::new(recorder),
        }
    }

    /// Runs `f` with this application's recorder as the one the `metrics` macros write to.
    pub fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(self.recorder.as_ref(), f)
    }

    /// One finished HTTP request; `route` is the matched pattern, never the raw path (which may
    /// hold user ids or link tokens).
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let labels = [
            ("route", route.to_string()),
            ("method", method.to_string()),
            ("status", status.to_string()),
        ];
        self.with(|| {
            metrics::counter!("twofold_http_requests_total", &labels).increment(1);
            metrics::histogram!("twofold_http_request_duration_seconds", &labels[..2])
                .record(took.as_secs_f64());
        });
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.recorder.handle().render()
    }
}
