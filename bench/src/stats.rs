//! Per-task recording and the merged result of a run.
//!
//! Each connection task records into its own [`Recorder`] (no lock on the hot path); the
//! recorders are merged once the run is over.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are recorded in microseconds, 1 µs to 60 s, 3 significant digits.
const MAX_MICROS: u64 = 60_000_000;

pub struct Recorder {
    pub latency: Histogram<u64>,
    /// Completed operations (an operation is one request, except `enroll`: three, and
    /// `verify-webauthn`: two).
    pub operations: u64,
    /// HTTP requests sent, including those of failed operations.
    pub requests: u64,
    /// Operations that got every expected answer.
    pub ok: u64,
    /// "HTTP 422", "transport: timeout", … → count.
    pub errors: BTreeMap<String, u64>,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            latency: Histogram::new_with_bounds(1, MAX_MICROS, 3)
                .expect("constant histogram bounds are valid"),
            operations: 0,
            requests: 0,
            ok: 0,
            errors: BTreeMap::new(),
        }
    }

    /// One finished operation: its latency and, if it failed, why.
    pub fn record(&mut self, elapsed: Duration, failure: Option<String>) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(MAX_MICROS);
        // Saturating: an operation slower than 60 s is still counted, at the ceiling.
        self.latency.saturating_record(micros.clamp(1, MAX_MICROS));
        self.operations += 1;
        match failure {
            None => self.ok += 1,
            Some(why) => *self.errors.entry(why).or_default() += 1,
        }
    }

    pub fn merge(&mut self, other: Recorder) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.operations += other.operations;
        self.requests += other.requests;
        self.ok += other.ok;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }
}

/// What one run reports (one line of text, or one JSON object with --json).
#[derive(Debug, Serialize)]
pub struct Report {
    pub label: Option<String>,
    pub scenario: String,
    /// HTTP requests per operation: 3 for enroll, 2 for verify-webauthn, else 1.
    pub requests_per_op: u32,
    pub connections: usize,
    /// Measured time in seconds (waits for a fresh TOTP step excluded, see `waits`).
    pub seconds: f64,
    pub operations: u64,
    pub requests: u64,
    pub ok: u64,
    pub ops_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: BTreeMap<String, u64>,
    /// verify-valid: how often every user's fresh steps were used up and the run paused until
    /// the next 30 s step, and for how long in all.
    pub waits: u64,
    pub wait_seconds: f64,
    /// The run stopped because nothing was left to send: verify-wrong (another wrong code would
    /// have locked a user) or verify-webauthn (every user had its 30 challenges per 5 minutes).
    pub exhausted: bool,
    /// verify-hotp, verify-webauthn: users enrolled by this run's setup (0: they came from the
    /// state file) and how long that took (not in `seconds`).
    pub setup_users: u64,
    pub setup_seconds: f64,
    /// Server CPU (utime + stime) per operation and per HTTP request, when --pid was given.
    pub server_cpu_us_per_op: Option<f64>,
    pub server_cpu_us_per_request: Option<f64>,
    /// Whole-run server CPU, in seconds, and the tick rate it was read with.
    pub server_cpu_seconds: Option<f64>,
    pub clock_ticks_per_sec: Option<u64>,
    pub clock_ticks_assumed: bool,
    /// VmHWM: the server's peak RSS during this run (reset at its start), or since the server
    /// started when the reset was refused (`server_peak_rss_per_run` false).
    pub server_peak_rss_mib: Option<f64>,
    pub server_peak_rss_per_run: bool,
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

impl Report {
    pub fn new(
        scenario: &str,
        requests_per_op: u32,
        connections: usize,
        seconds: f64,
        rec: &Recorder,
    ) -> Report {
        let h = &rec.latency;
        let empty = h.is_empty();
        let q = |q: f64| {
            if empty {
                0.0
            } else {
                ms(h.value_at_quantile(q))
            }
        };
        Report {
            label: None,
            scenario: scenario.to_string(),
            requests_per_op,
            connections,
            seconds,
            operations: rec.operations,
            requests: rec.requests,
            ok: rec.ok,
            ops_per_sec: if seconds > 0.0 {
                rec.operations as f64 / seconds
            } else {
                0.0
            },
            p50_ms: q(0.50),
            p90_ms: q(0.90),
            p99_ms: q(0.99),
            max_ms: if empty { 0.0 } else { ms(h.max()) },
            errors: rec.errors.clone(),
            waits: 0,
            wait_seconds: 0.0,
            exhausted: false,
            setup_users: 0,
            setup_seconds: 0.0,
            server_cpu_us_per_op: None,
            server_cpu_us_per_request: None,
            server_cpu_seconds: None,
            clock_ticks_per_sec: None,
            clock_ticks_assumed: false,
            server_peak_rss_mib: None,
            server_peak_rss_per_run: false,
        }
    }

    /// One human-readable line.
    pub fn line(&self) -> String {
        let unit = if self.requests_per_op > 1 {
            format!("ops (1 op = {} requests)", self.requests_per_op)
        } else {
            "requests".to_string()
        };
        let mut s = format!(
            "{scenario} conns={c} {unit}={n} ok={ok} rate={rate:.1}/s p50={p50:.2}ms p90={p90:.2}ms p99={p99:.2}ms max={max:.2}ms",
            scenario = self.scenario,
            c = self.connections,
            n = self.operations,
            ok = self.ok,
            rate = self.ops_per_sec,
            p50 = self.p50_ms,
            p90 = self.p90_ms,
            p99 = self.p99_ms,
            max = self.max_ms,
        );
        if self.errors.is_empty() {
            s.push_str(" errors=0");
        } else {
            let list: Vec<String> = self
                .errors
                .iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect();
            s.push_str(&format!(" errors=[{}]", list.join(", ")));
        }
        if self.waits > 0 {
            s.push_str(&format!(
                " step-waits={} ({:.1}s, not measured)",
                self.waits, self.wait_seconds
            ));
        }
        if self.exhausted {
            s.push_str(if self.scenario == "verify-webauthn" {
                " EXHAUSTED (every user has had 30 challenges in 5 minutes)"
            } else {
                " EXHAUSTED (every user has 9 wrong codes)"
            });
        }
        if self.setup_users > 0 {
            s.push_str(&format!(
                " setup={} users in {:.1}s (not measured)",
                self.setup_users, self.setup_seconds
            ));
        }
        if let Some(cpu) = self.server_cpu_us_per_op {
            let per = if self.requests_per_op > 1 {
                "op"
            } else {
                "req"
            };
            s.push_str(&format!(" server-cpu={cpu:.1}us/{per}"));
            if self.clock_ticks_assumed {
                s.push_str(" (assuming 100 ticks/s)");
            }
        }
        if let Some(rss) = self.server_peak_rss_mib {
            s.push_str(&format!(" server-peak-rss={rss:.1}MiB"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_and_quantiles() {
        let mut a = Recorder::new();
        let mut b = Recorder::new();
        for i in 1..=100u64 {
            a.record(Duration::from_millis(i), None);
        }
        b.record(Duration::from_secs(120), Some("HTTP 500".into()));
        b.requests = 1;
        a.merge(b);
        let r = Report::new("healthz", 1, 2, 1.0, &a);
        assert_eq!(r.operations, 101);
        assert_eq!(r.ok, 100);
        assert_eq!(r.errors["HTTP 500"], 1);
        assert!((r.p50_ms - 51.0).abs() < 1.0, "{}", r.p50_ms);
        assert!(r.max_ms >= 59_000.0);
        assert!(r.line().contains("HTTP 500:1"));
    }
}
