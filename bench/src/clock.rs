//! Time: the run's deadline, which stops while the run waits for a fresh TOTP step, and the
//! TOTP step arithmetic the client shares with the server (same machine, same clock).

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Every bench device uses the default period (see `seeds`).
pub const PERIOD: u32 = 30;

/// Seconds since the epoch, with sub-second precision.
pub fn unix_now() -> Duration {
    // A clock before 1970 is not a benchmark's problem to solve: treat it as the epoch.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

pub fn current_step() -> u64 {
    twofold::factor::totp::step_at(unix_now().as_secs() as i64, PERIOD)
}

/// How far into the current step we are.
pub fn into_step() -> Duration {
    let period = Duration::from_secs(u64::from(PERIOD));
    let now = unix_now();
    Duration::from_nanos((now.as_nanos() % period.as_nanos()) as u64)
}

/// Until the next step begins, plus a little so the server (which reads the clock later) is
/// surely in it too.
pub fn until_next_step() -> Duration {
    Duration::from_secs(u64::from(PERIOD)) - into_step() + Duration::from_millis(50)
}

#[derive(Default)]
struct Pauses {
    total: Duration,
    count: u64,
    /// The end of the pause in progress, if any.
    until: Option<Instant>,
}

/// A fixed amount of *measured* time. Pauses (waits for the next TOTP step, when every user's
/// fresh steps are used up) push the deadline back by their length and are reported apart, so
/// requests per second reflect the server, not the 30 s step of RFC 6238.
pub struct Clock {
    pub start: Instant,
    duration: Duration,
    pauses: Mutex<Pauses>,
}

impl Clock {
    pub fn start(duration: Duration) -> Clock {
        Clock {
            start: Instant::now(),
            duration,
            pauses: Mutex::default(),
        }
    }

    fn pauses(&self) -> std::sync::MutexGuard<'_, Pauses> {
        // The counters stay meaningful even if a task panicked while holding the lock.
        self.pauses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn over(&self) -> bool {
        Instant::now() >= self.start + self.duration + self.pauses().total
    }

    /// Declares a pause until `until`; tasks that find the same exhaustion while it runs join it
    /// instead of counting their own.
    pub fn pause_until(&self, until: Instant) {
        let now = Instant::now();
        let mut p = self.pauses();
        match p.until {
            Some(end) if end >= until => {}
            Some(end) if end > now => {
                p.total += until - end;
                p.until = Some(until);
            }
            _ => {
                p.total += until.saturating_duration_since(now);
                p.count += 1;
                p.until = Some(until);
            }
        }
    }

    /// (number of pauses, their total length)
    pub fn paused(&self) -> (u64, Duration) {
        let p = self.pauses();
        (p.count, p.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_pauses_count_once() {
        let clock = Clock::start(Duration::from_secs(1));
        let now = Instant::now();
        clock.pause_until(now + Duration::from_secs(10));
        clock.pause_until(now + Duration::from_secs(5));
        clock.pause_until(now + Duration::from_secs(12));
        let (count, total) = clock.paused();
        assert_eq!(count, 1);
        assert!(total <= Duration::from_secs(12) && total > Duration::from_secs(11));
        assert!(!clock.over());
    }

    #[test]
    fn step_arithmetic() {
        assert!(into_step() < Duration::from_secs(30));
        assert!(until_next_step() <= Duration::from_millis(30_050));
        assert!(current_step() > 56_000_000);
    }
}
