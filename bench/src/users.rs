//! What the client knows about each bench user's server-side state: the last TOTP step it used
//! (the server accepts a step only if it is later than the device's last accepted one) and how
//! many wrong codes it sent (the 10th consecutive failure locks the user).
//!
//! Both outlive one `load` run: run.sh runs verify-valid and verify-wrong several times against
//! one server, so the state is kept in a file (`--state`) between runs. Without it a second run
//! would resend used steps (422s that are the client's fault) or lock users.
//!
//! The file also carries the verify-hotp and verify-webauthn users ([`Extra`]: names, HOTP
//! secrets and counters, security keys' counters and recent challenges), as JSON after the
//! binary part (format 2; a format-1 file, without it, still reads).

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use crate::devices::Extra;

const MAGIC_V1: &[u8; 8] = b"TFBSTAT1";
const MAGIC: &[u8; 8] = b"TFBSTAT2";
/// The lock threshold is 10 consecutive failures; stay one below it whatever else happens.
pub const MAX_WRONG: u8 = 9;

pub struct Users {
    pub last_step: Vec<AtomicU64>,
    pub wrong: Vec<AtomicU8>,
    /// A verify of this user is in flight (not saved). Two in flight for one user could arrive
    /// in the other order: the later step accepted first makes the earlier one a replay (422),
    /// which would be the client's doing. Happens when fresh steps run short and the walk comes
    /// round to a user again within one request's latency.
    busy: Vec<AtomicBool>,
}

impl Users {
    pub fn new(n: u64) -> Users {
        Users {
            last_step: (0..n).map(|_| AtomicU64::new(0)).collect(),
            wrong: (0..n).map(|_| AtomicU8::new(0)).collect(),
            busy: (0..n).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    pub fn len(&self) -> u64 {
        self.last_step.len() as u64
    }

    /// The earliest step of `user` in `min..=max` later than its last used one, claimed with a
    /// compare-and-set so two connections never send the same code; None as well while another
    /// verify of the user is in flight. A claimed user stays busy until [`Users::release`].
    pub fn claim_step(&self, user: u64, min: u64, max: u64) -> Option<u64> {
        let i = user as usize;
        if self.busy[i].swap(true, Ordering::AcqRel) {
            return None;
        }
        let slot = &self.last_step[i];
        let mut last = slot.load(Ordering::Relaxed);
        loop {
            let step = (last + 1).max(min);
            if step > max {
                self.release(user);
                return None;
            }
            match slot.compare_exchange_weak(last, step, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Some(step),
                Err(now) => last = now,
            }
        }
    }

    /// The user's verify has been answered.
    pub fn release(&self, user: u64) {
        self.busy[user as usize].store(false, Ordering::Release);
    }

    /// Whether any user has a step in `min..=max` left: the definitive check before pausing.
    pub fn any_step_left(&self, min: u64, max: u64) -> bool {
        self.last_step
            .iter()
            .any(|s| (s.load(Ordering::Relaxed) + 1).max(min) <= max)
    }

    /// Takes one of `user`'s wrong-code allowance, if any is left.
    pub fn claim_wrong(&self, user: u64) -> bool {
        self.wrong[user as usize]
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |c| {
                (c < MAX_WRONG).then_some(c + 1)
            })
            .is_ok()
    }

    pub fn any_wrong_left(&self) -> bool {
        self.wrong
            .iter()
            .any(|c| c.load(Ordering::Relaxed) < MAX_WRONG)
    }

    /// Reads a state file, sized to at least `n` users; a missing file is a fresh population.
    pub fn load(path: &Path, n: u64) -> Result<(Users, Extra), String> {
        let fail = |e: String| format!("state file {}: {e}", path.display());
        let mut bytes = Vec::new();
        match std::fs::File::open(path) {
            Ok(mut f) => f.read_to_end(&mut bytes).map_err(|e| fail(e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Users::new(n), Extra::default()));
            }
            Err(e) => return Err(fail(e.to_string())),
        };
        let v2 = bytes.len() >= 16 && &bytes[..8] == MAGIC;
        if bytes.len() < 16 || !(v2 || &bytes[..8] == MAGIC_V1) {
            return Err(fail("not a twofold-bench state file".into()));
        }
        let stored = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
        let body = &bytes[16..];
        let fixed = usize::try_from(stored)
            .ok()
            .and_then(|s| s.checked_mul(9))
            .filter(|&f| f <= body.len())
            .ok_or_else(|| fail("truncated".into()))?;
        let (body, rest) = body.split_at(fixed);
        let extra = match (v2, rest.len()) {
            (false, 0) => Extra::default(),
            (true, 8..) => {
                let len = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes"));
                if rest.len() as u64 != 8 + len {
                    return Err(fail("truncated".into()));
                }
                serde_json::from_slice(&rest[8..]).map_err(|e| fail(e.to_string()))?
            }
            _ => return Err(fail("truncated".into())),
        };
        let users = Users::new(stored.max(n));
        let (steps, wrongs) = body.split_at(stored as usize * 8);
        for (i, chunk) in steps.chunks_exact(8).enumerate() {
            let step = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            users.last_step[i].store(step, Ordering::Relaxed);
        }
        for (i, &w) in wrongs.iter().enumerate() {
            users.wrong[i].store(w, Ordering::Relaxed);
        }
        Ok((users, extra))
    }

    /// Writes the state file (via a temporary file and a rename, so a killed run leaves the old
    /// state rather than half a new one).
    pub fn save(&self, path: &Path, extra: &Extra) -> Result<(), String> {
        let fail = |e: std::io::Error| format!("state file {}: {e}", path.display());
        let json = serde_json::to_vec(extra).map_err(|e| format!("state file: {e}"))?;
        let mut bytes = Vec::with_capacity(16 + self.last_step.len() * 9);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&self.len().to_le_bytes());
        for s in &self.last_step {
            bytes.extend_from_slice(&s.load(Ordering::Relaxed).to_le_bytes());
        }
        bytes.extend(self.wrong.iter().map(|w| w.load(Ordering::Relaxed)));
        bytes.extend_from_slice(&(json.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&json);
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp).map_err(fail)?;
        f.write_all(&bytes).map_err(fail)?;
        std::fs::rename(&tmp, path).map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_claimed_once_and_in_order() {
        let u = Users::new(1);
        assert_eq!(u.claim_step(0, 99, 101), Some(99));
        // In flight: not again until answered.
        assert_eq!(u.claim_step(0, 99, 101), None);
        u.release(0);
        assert_eq!(u.claim_step(0, 99, 101), Some(100));
        u.release(0);
        assert_eq!(u.claim_step(0, 99, 101), Some(101));
        u.release(0);
        assert_eq!(u.claim_step(0, 99, 101), None);
        assert!(!u.any_step_left(99, 101));
        assert!(u.any_step_left(101, 102));
        // A refused claim leaves the user free.
        assert_eq!(u.claim_step(0, 101, 102), Some(102));
    }

    #[test]
    fn wrong_codes_stop_below_the_lock() {
        let u = Users::new(2);
        assert_eq!((0..20).filter(|_| u.claim_wrong(0)).count(), 9);
        assert!(u.any_wrong_left());
        for _ in 0..9 {
            assert!(u.claim_wrong(1));
        }
        assert!(!u.any_wrong_left());
    }

    #[test]
    fn state_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let u = Users::new(3);
        u.claim_step(1, 50, 51);
        u.claim_wrong(2);
        let extra = Extra {
            hotp: vec![crate::devices::SavedHotp {
                user: "h".into(),
                secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into(),
                counter: 7,
            }],
            webauthn: Vec::new(),
        };
        u.save(&path, &extra).unwrap();
        let (back, extra) = Users::load(&path, 5).unwrap();
        assert_eq!(back.len(), 5);
        assert_eq!(back.last_step[1].load(Ordering::Relaxed), 50);
        assert_eq!(back.wrong[2].load(Ordering::Relaxed), 1);
        assert_eq!(extra.hotp[0].counter, 7);
        assert!(extra.webauthn.is_empty());
        assert_eq!(Users::load(&dir.path().join("none"), 4).unwrap().0.len(), 4);
        // A format-1 file (no JSON part) still reads.
        let mut v1 = std::fs::read(&path).unwrap();
        v1.truncate(16 + 3 * 9);
        v1[..8].copy_from_slice(MAGIC_V1);
        std::fs::write(&path, &v1).unwrap();
        let (back, extra) = Users::load(&path, 1).unwrap();
        assert_eq!(back.len(), 3);
        assert!(extra.hotp.is_empty());
        std::fs::write(&path, b"garbage").unwrap();
        assert!(Users::load(&path, 1).is_err());
    }
}
