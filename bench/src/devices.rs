//! The users of verify-hotp and verify-webauthn: a few hundred or thousand fresh users, each with
//! one HOTP device or one security key, enrolled through the API in a setup phase that is not
//! measured (`twofold import` only takes TOTP seeds; its PSKC path brings HOTP tokens into the
//! inventory unassigned, not onto users).
//!
//! What the client must remember between runs against one server lives in the `--state` file
//! (see [`crate::users`]): the users' names, HOTP secrets and counters, and each security key's
//! signature counter and the times of its last challenges (the server gives one user at most 30
//! challenges per 5 minutes).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Client, StatusCode};
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::soft_key::SoftKey;

/// The server's limit: challenges per user per [`CHALLENGE_WINDOW`].
pub const CHALLENGES_PER_WINDOW: usize = 30;
/// 5 minutes, plus a margin for the store's clock and requests in flight.
pub const CHALLENGE_WINDOW: Duration = Duration::from_secs(300 + 10);

/// HOTP with the service's defaults (SHA1, 6 digits): what `POST …/devices/hotp` with `{}` makes.
fn hotp() -> twofold::factor::hotp::Hotp {
    twofold::factor::hotp::Hotp {
        algorithm: twofold::factor::totp::Algorithm::Sha1,
        digits: 6,
    }
}

/// What the state file keeps of the two populations.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Extra {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hotp: Vec<SavedHotp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webauthn: Vec<SavedKey>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedHotp {
    pub user: String,
    /// Base32, as the enroll answer gave it.
    pub secret: String,
    /// The last counter whose code was sent.
    pub counter: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedKey {
    pub user: String,
    pub counter: u32,
    /// Unix seconds of the challenges asked within the last window.
    pub challenges: Vec<u64>,
}

/// One HOTP user.
pub struct HotpUser {
    pub name: String,
    secret: Vec<u8>,
    /// The last counter used (0: the confirmation's).
    counter: AtomicU64,
    busy: AtomicBool,
}

impl HotpUser {
    /// The user, and the code of the next counter, unless a verify of it is in flight (two in
    /// flight could arrive in the other order, the later counter first, and the earlier one
    /// would then be behind the window: a 422 of the client's making). Release with
    /// [`HotpUser::release`]. The counter moves on whatever the answer: a code the server did
    /// not take leaves it one behind the client, well inside its look-ahead window of 10.
    pub fn claim(&self) -> Option<String> {
        if self.busy.swap(true, Ordering::AcqRel) {
            return None;
        }
        let counter = self.counter.fetch_add(1, Ordering::AcqRel) + 1;
        Some(hotp().code(&self.secret, counter))
    }

    pub fn release(&self) {
        self.busy.store(false, Ordering::Release);
    }
}

/// One security-key user.
pub struct KeyUser {
    pub name: String,
    pub key: Mutex<SoftKey>,
    challenges: Mutex<VecDeque<u64>>,
    busy: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl KeyUser {
    fn new(name: String, counter: u32, challenges: Vec<u64>) -> Result<KeyUser, String> {
        Ok(KeyUser {
            key: Mutex::new(SoftKey::for_user(&name, counter)?),
            name,
            challenges: Mutex::new(challenges.into()),
            busy: AtomicBool::new(false),
        })
    }

    /// Takes one challenge of the user's allowance, unless it is used up or a sign-in of the
    /// user is in flight. Release with [`KeyUser::release`].
    pub fn claim(&self) -> bool {
        if self.busy.swap(true, Ordering::AcqRel) {
            return false;
        }
        let now = clock::unix_now().as_secs();
        let mut times = lock(&self.challenges);
        while times
            .front()
            .is_some_and(|&t| t + CHALLENGE_WINDOW.as_secs() <= now)
        {
            times.pop_front();
        }
        if times.len() >= CHALLENGES_PER_WINDOW {
            drop(times);
            self.release();
            return false;
        }
        times.push_back(now);
        true
    }

    pub fn release(&self) {
        self.busy.store(false, Ordering::Release);
    }

    /// Whether the user has a challenge left now (the check before giving up).
    pub fn has_allowance(&self) -> bool {
        let now = clock::unix_now().as_secs();
        lock(&self.challenges)
            .iter()
            .filter(|&&t| t + CHALLENGE_WINDOW.as_secs() > now)
            .count()
            < CHALLENGES_PER_WINDOW
    }
}

pub fn hotp_from_saved(saved: Vec<SavedHotp>) -> Result<Vec<HotpUser>, String> {
    saved
        .into_iter()
        .map(|s| {
            Ok(HotpUser {
                secret: crate::seeds::base32_decode(&s.secret)
                    .ok_or_else(|| format!("state file: {}: secret is not base32", s.user))?,
                name: s.user,
                counter: AtomicU64::new(s.counter),
                busy: AtomicBool::new(false),
            })
        })
        .collect()
}

pub fn hotp_to_saved(users: &[HotpUser]) -> Vec<SavedHotp> {
    users
        .iter()
        .map(|u| SavedHotp {
            user: u.name.clone(),
            secret: twofold::factor::totp::base32_secret(&u.secret),
            counter: u.counter.load(Ordering::Relaxed),
        })
        .collect()
}

pub fn keys_from_saved(saved: Vec<SavedKey>) -> Result<Vec<KeyUser>, String> {
    saved
        .into_iter()
        .map(|s| KeyUser::new(s.user, s.counter, s.challenges))
        .collect()
}

pub fn keys_to_saved(users: &[KeyUser]) -> Vec<SavedKey> {
    users
        .iter()
        .map(|u| SavedKey {
            user: u.name.clone(),
            counter: lock(&u.key).counter,
            challenges: lock(&u.challenges).iter().copied().collect(),
        })
        .collect()
}

/// The API calls of the setup: plain, each with a random client address like the measured ones.
struct Api {
    client: Client,
    base: String,
    auth: HeaderValue,
}

impl Api {
    async fn post(
        &self,
        path: &str,
        body: String,
        expect: StatusCode,
    ) -> Result<serde_json::Value, String> {
        let ip = clock::unix_now().subsec_nanos();
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header(AUTHORIZATION, self.auth.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(
                "x-forwarded-for",
                format!("10.{}.{}.{}", (ip >> 16) & 255, (ip >> 8) & 255, ip & 255),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| format!("POST {path}: {e}"))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| format!("POST {path}: {e}"))?;
        if status != expect {
            return Err(format!(
                "POST {path}: {status}: {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("POST {path}: bad answer: {e}"))
    }
}

fn device_id(answer: &serde_json::Value, path: &str) -> Result<String, String> {
    answer["device"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("POST {path}: no device.id in the answer"))
}

/// Enrolls and confirms an HOTP device (counter 0's code) for each of `n` fresh users.
async fn one_hotp(api: &Api, name: String) -> Result<HotpUser, String> {
    let path = format!("/v1/users/{name}/devices/hotp");
    let answer = api.post(&path, "{}".into(), StatusCode::CREATED).await?;
    let secret = answer["secret"]
        .as_str()
        .and_then(crate::seeds::base32_decode)
        .ok_or_else(|| format!("POST {path}: no base32 secret in the answer"))?;
    let id = device_id(&answer, &path)?;
    let code = hotp().code(&secret, 0);
    api.post(
        &format!("/v1/users/{name}/devices/{id}/confirm"),
        format!(r#"{{"code":"{code}"}}"#),
        StatusCode::OK,
    )
    .await?;
    Ok(HotpUser {
        name,
        secret,
        counter: AtomicU64::new(0),
        busy: AtomicBool::new(false),
    })
}

/// Registers and confirms a soft security key for a fresh user.
async fn one_key(api: &Api, name: String, origin: &str) -> Result<KeyUser, String> {
    let path = format!("/v1/users/{name}/devices/webauthn");
    let answer = api.post(&path, "{}".into(), StatusCode::CREATED).await?;
    let id = device_id(&answer, &path)?;
    let user = KeyUser::new(name, 0, Vec::new())?;
    let cred = lock(&user.key).register(&answer["options"], origin)?;
    api.post(
        &format!("/v1/users/{}/devices/{id}/confirm", user.name),
        serde_json::json!({ "credential": cred }).to_string(),
        StatusCode::OK,
    )
    .await?;
    Ok(user)
}

/// What a setup did.
pub struct Setup<T> {
    pub users: Vec<T>,
    pub seconds: f64,
}

/// Enrolls `n` users `{prefix}-{run}-{i}` over 8 connections; any failure fails the setup.
async fn setup<T: Send + 'static, F, Fut>(n: u64, one: F) -> Result<Setup<T>, String>
where
    F: Fn(u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<T, String>> + Send,
{
    let started = Instant::now();
    let next = std::sync::Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..8.min(n))
        .map(|_| {
            let (next, one) = (next.clone(), one.clone());
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return Ok::<_, String>(done);
                    }
                    done.push((i, one(i).await?));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| format!("a setup task failed: {e}"))??);
    }
    all.sort_unstable_by_key(|(i, _)| *i);
    Ok(Setup {
        users: all.into_iter().map(|(_, u)| u).collect(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

pub async fn setup_hotp(
    client: &Client,
    base: &str,
    auth: &HeaderValue,
    n: u64,
    run: u64,
) -> Result<Setup<HotpUser>, String> {
    let api = std::sync::Arc::new(Api {
        client: client.clone(),
        base: base.to_string(),
        auth: auth.clone(),
    });
    setup(n, move |i| {
        let api = api.clone();
        async move { one_hotp(&api, format!("bench-hotp-{run}-{i}")).await }
    })
    .await
}

pub async fn setup_keys(
    client: &Client,
    base: &str,
    auth: &HeaderValue,
    n: u64,
    run: u64,
    origin: &str,
) -> Result<Setup<KeyUser>, String> {
    let api = std::sync::Arc::new(Api {
        client: client.clone(),
        base: base.to_string(),
        auth: auth.clone(),
    });
    let origin = std::sync::Arc::new(origin.to_string());
    setup(n, move |i| {
        let (api, origin) = (api.clone(), origin.clone());
        async move { one_key(&api, format!("bench-key-{run}-{i}"), &origin).await }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotp_codes_follow_the_counter_and_one_at_a_time() {
        let secret = crate::seeds::secret(3).to_vec();
        let u = HotpUser {
            name: "u".into(),
            secret: secret.clone(),
            counter: AtomicU64::new(0),
            busy: AtomicBool::new(false),
        };
        assert_eq!(u.claim().as_deref(), Some(hotp().code(&secret, 1).as_str()));
        assert_eq!(u.claim(), None, "in flight");
        u.release();
        assert_eq!(u.claim().as_deref(), Some(hotp().code(&secret, 2).as_str()));
        u.release();
        let saved = hotp_to_saved(std::slice::from_ref(&u));
        assert_eq!(saved[0].counter, 2);
        let back = hotp_from_saved(saved).unwrap();
        assert_eq!(
            back[0].claim().as_deref(),
            Some(hotp().code(&secret, 3).as_str())
        );
    }

    #[test]
    fn challenges_stop_at_the_server_limit() {
        let u = KeyUser::new("k".into(), 0, Vec::new()).unwrap();
        for _ in 0..CHALLENGES_PER_WINDOW {
            assert!(u.claim());
            assert!(!u.claim(), "in flight");
            u.release();
        }
        assert!(!u.has_allowance());
        assert!(!u.claim());
        // Old challenges no longer count.
        let old = clock::unix_now().as_secs() - CHALLENGE_WINDOW.as_secs() - 1;
        let u = KeyUser::new("k".into(), 5, vec![old; CHALLENGES_PER_WINDOW]).unwrap();
        assert!(u.has_allowance());
        assert!(u.claim());
        let saved = keys_to_saved(std::slice::from_ref(&u));
        assert_eq!(saved[0].counter, 5);
        assert_eq!(saved[0].challenges.len(), 1, "the expired ones are dropped");
    }
}
