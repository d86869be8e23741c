//! Time as a dependency: the server clock in production, a hand-moved one in tests (SEC-19: only
//! the server clock counts, so no request field can set the time).

use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// The time locks are reckoned in. Every node must read the same clock, or one whose clock
    /// is ahead ends every lock early: `None`, the default, leaves it to the store (Redis `TIME`,
    /// or this process's clock for the in-process store, which serves one node). A hand-moved
    /// clock answers with its own time, so that tests move locks with it.
    fn lock_time(&self) -> Option<DateTime<Utc>> {
        None
    }
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to: tests of expiry and windows without sleeping.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(start))
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_time(&self) -> Option<DateTime<Utc>> {
        Some(self.now())
    }
}
