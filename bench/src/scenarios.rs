//! One operation of each scenario. A connection task calls [`Scenario::run_once`] in a loop
//! until the clock says stop; everything the operations share lives in [`Shared`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Client, Method, StatusCode};

use crate::clock::{self, Clock, PERIOD};
use crate::devices::{HotpUser, KeyUser};
use crate::seeds::Seeds;
use crate::stats::Recorder;
use crate::users::Users;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// GET /healthz: the floor of the HTTP stack.
    Healthz,
    /// A fresh valid code for users bench-NNNNNNN (200).
    VerifyValid,
    /// A wrong code, at most 9 per user (422).
    VerifyWrong,
    /// A right code for users with an HOTP device (200), enrolled by an unmeasured setup.
    VerifyHotp,
    /// A security-key sign-in, challenge then signed assertion (200, 200): one operation, two
    /// requests. The keys are registered by an unmeasured setup.
    VerifyWebauthn,
    /// Create a TOTP device, fetch its QR SVG, confirm it: one operation, three requests.
    Enroll,
    /// Only the creation of a pending TOTP device for a fresh user, with its QR code inline in
    /// the answer (201): one request.
    EnrollCreate,
    /// Enroll a phone for a fresh user: the server texts a code through its gateway (201).
    SmsSend,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthz => "healthz",
            Scenario::VerifyValid => "verify-valid",
            Scenario::VerifyWrong => "verify-wrong",
            Scenario::VerifyHotp => "verify-hotp",
            Scenario::VerifyWebauthn => "verify-webauthn",
            Scenario::Enroll => "enroll",
            Scenario::EnrollCreate => "enroll-create",
            Scenario::SmsSend => "sms-send",
        }
    }

    /// Whether the scenario works on the imported population (and so needs its state).
    pub fn uses_population(self) -> bool {
        matches!(self, Scenario::VerifyValid | Scenario::VerifyWrong)
    }

    /// Whether the scenario's users come from a setup kept in the state file.
    pub fn has_setup(self) -> bool {
        matches!(self, Scenario::VerifyHotp | Scenario::VerifyWebauthn)
    }

    /// HTTP requests in one operation (every one answered as expected for the operation to
    /// count as ok).
    pub fn requests_per_op(self) -> u32 {
        match self {
            Scenario::Enroll => 3,
            Scenario::VerifyWebauthn => 2,
            _ => 1,
        }
    }
}

/// What every connection task shares.
pub struct Shared {
    pub client: Client,
    /// e.g. http://127.0.0.1:8080, no trailing slash.
    pub base: String,
    pub auth: HeaderValue,
    pub users: Users,
    pub seeds: Seeds,
    /// Distinguishes the fresh users of this run (enroll, sms-send) from earlier runs'.
    pub run: u64,
    /// Round-robin position over users (verify) or the next fresh user (enroll, sms-send).
    pub cursor: AtomicU64,
    pub clock: Clock,
    /// Set when a scenario cannot go on (verify-wrong out of allowance).
    pub stop: AtomicBool,
    /// verify-valid: how early before the end of a step the previous step stops being used.
    pub step_margin: Duration,
    /// Where this run's walk over the population starts (random per run).
    pub offset: u64,
    /// verify-hotp's users (empty for the other scenarios).
    pub hotp: Vec<HotpUser>,
    /// verify-webauthn's users (empty for the other scenarios).
    pub keys: Vec<KeyUser>,
    /// The origin the soft security keys sign for (the server's public origin).
    pub origin: String,
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl Shared {
    /// The k-th user of this run's round-robin walk over `n` users (see [`walk`]).
    pub fn user_at(&self, k: u64, n: u64) -> u64 {
        walk(n, self.offset, k)
    }
}

/// The k-th user of a walk over `n` users starting at `offset`. Not 0, 1, 2, …: a stride coprime
/// with n (about n × 0.618) visits every user once per pass but spreads consecutive requests
/// over the whole population, so a run of a few thousand requests against 10^6 users touches
/// users (and database pages) all over the table rather than the first few thousand.
fn walk(n: u64, offset: u64, k: u64) -> u64 {
    let mut stride = (n as f64 * 0.618_033_988_7) as u64;
    while gcd(stride, n) != 1 {
        stride += 1;
    }
    ((u128::from(k) * u128::from(stride) + u128::from(offset)) % u128::from(n)) as u64
}

/// One connection task's own things.
pub struct Task {
    pub rec: Recorder,
    rng: u64,
    /// Consecutive users found without a fresh step or allowance.
    misses: u64,
    /// Failures described on stderr so far (a few are enough).
    reported: u32,
}

impl Task {
    /// Describes a failure on stderr, the first few times.
    fn tell(&mut self, what: std::fmt::Arguments<'_>) {
        if self.reported < 3 {
            self.reported += 1;
            eprintln!("{what}");
        }
    }

    pub fn new(seed: u64) -> Task {
        Task {
            rec: Recorder::new(),
            // Never zero: xorshift would stay at zero forever.
            rng: seed | 1,
            misses: 0,
            reported: 0,
        }
    }

    /// xorshift64*: a few nanoseconds per address and code, on a client that has one core.
    /// Unpredictability is not the point, spread is.
    fn random(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A random 10.a.b.c: each request seems to come from its own client, so the per-IP limits
    /// are exercised (a counter per address) without being reached.
    fn client_ip(&mut self) -> String {
        let r = self.random() >> 32;
        format!("10.{}.{}.{}", (r >> 16) & 255, (r >> 8) & 255, r & 255)
    }
}

/// Whether the task should go on.
pub enum Flow {
    Continue,
    Stop,
}

fn transport_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else if e.is_request() {
        "request"
    } else {
        "other"
    };
    format!("transport: {kind}")
}

/// Sends one request and reads the whole answer (so the connection can be reused). The error
/// is the key it is counted under: `HTTP 422`, `transport: timeout`, …
async fn send(
    sh: &Shared,
    task: &mut Task,
    method: Method,
    path: &str,
    body: Option<String>,
    expect: StatusCode,
) -> Result<Vec<u8>, String> {
    let mut req = sh
        .client
        .request(method, format!("{}{path}", sh.base))
        .header("x-forwarded-for", task.client_ip());
    if path.starts_with("/v1/") {
        req = req.header(AUTHORIZATION, sh.auth.clone());
    }
    if let Some(body) = body {
        req = req
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body);
    }
    task.rec.requests += 1;
    let resp = req.send().await.map_err(|e| transport_error(&e))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| transport_error(&e))?;
    if status != expect {
        return Err(format!("HTTP {}", status.as_u16()));
    }
    Ok(bytes.to_vec())
}

impl Scenario {
    pub async fn run_once(self, sh: &Shared, task: &mut Task) -> Flow {
        match self {
            Scenario::Healthz => {
                let t = Instant::now();
                let r = send(sh, task, Method::GET, "/healthz", None, StatusCode::OK).await;
                task.rec.record(t.elapsed(), r.err());
                Flow::Continue
            }
            Scenario::VerifyValid => verify_valid(sh, task).await,
            Scenario::VerifyWrong => verify_wrong(sh, task).await,
            Scenario::VerifyHotp => verify_hotp(sh, task).await,
            Scenario::VerifyWebauthn => verify_webauthn(sh, task).await,
            Scenario::EnrollCreate => {
                let k = sh.cursor.fetch_add(1, Ordering::Relaxed);
                let path = format!("/v1/users/create-{}-{k}/devices/totp", sh.run);
                let t = Instant::now();
                let r = send(
                    sh,
                    task,
                    Method::POST,
                    &path,
                    Some("{}".into()),
                    StatusCode::CREATED,
                )
                .await
                .and_then(|body| {
                    // The QR code comes inline: make sure it did.
                    if body.windows(9).any(|w| w == b"\"qr_svg\":") {
                        Ok(())
                    } else {
                        Err("no qr_svg in the answer".into())
                    }
                });
                task.rec.record(t.elapsed(), r.err());
                Flow::Continue
            }
            Scenario::Enroll => {
                let t = Instant::now();
                let r = enroll(sh, task).await;
                task.rec.record(t.elapsed(), r.err());
                Flow::Continue
            }
            Scenario::SmsSend => {
                let k = sh.cursor.fetch_add(1, Ordering::Relaxed);
                let user = format!("sms-{}-{k}", sh.run);
                let body = format!(r#"{{"phone":"{}"}}"#, phone(sh.run, k));
                let path = format!("/v1/users/{user}/devices/sms");
                let t = Instant::now();
                let r = send(
                    sh,
                    task,
                    Method::POST,
                    &path,
                    Some(body),
                    StatusCode::CREATED,
                )
                .await;
                task.rec.record(t.elapsed(), r.err());
                Flow::Continue
            }
        }
    }
}

/// Sends one verify and records it; returns the failure, if any.
async fn verify(
    sh: &Shared,
    task: &mut Task,
    user: u64,
    code: &str,
    expect: StatusCode,
) -> Option<String> {
    let path = format!("/v1/users/{}/verify", crate::seeds::user(user));
    let body = format!(r#"{{"code":"{code}"}}"#);
    let t = Instant::now();
    let failure = send(sh, task, Method::POST, &path, Some(body), expect)
        .await
        .err();
    task.rec.record(t.elapsed(), failure.clone());
    failure
}

/// The range of steps a fresh code may use now. The server accepts now-1..=now+1, but a code of
/// now-1 sent in the last moments of a step may arrive when it has become now-2: near the end
/// of a step, start at now instead.
fn usable_steps(margin: Duration) -> (u64, u64) {
    let now = clock::current_step();
    let late = clock::into_step() + margin >= Duration::from_secs(u64::from(PERIOD));
    (if late { now } else { now - 1 }, now + 1)
}

async fn verify_valid(sh: &Shared, task: &mut Task) -> Flow {
    let n = sh.users.len().min(sh.seeds.len());
    loop {
        let (min, max) = usable_steps(sh.step_margin);
        let user = sh.user_at(sh.cursor.fetch_add(1, Ordering::Relaxed), n);
        if let Some(step) = sh.users.claim_step(user, min, max) {
            task.misses = 0;
            let Some(secret) = sh.seeds.get(user) else {
                sh.users.release(user);
                task.rec
                    .record(Duration::ZERO, Some("client: no seed".into()));
                return Flow::Continue;
            };
            let code = twofold::factor::totp::code_at_step(&secret, Default::default(), step);
            let sent = (clock::current_step(), clock::into_step());
            let failure = verify(sh, task, user, &code, StatusCode::OK).await;
            sh.users.release(user);
            if let Some(why) = failure {
                // A fresh code refused is a finding (or a client bug): say enough to tell which.
                if task.reported < 3 {
                    task.reported += 1;
                    eprintln!(
                        "verify-valid: {} step {step} (sent at step {} +{:.1}s, answered at step {} +{:.1}s): {why}",
                        crate::seeds::user(user),
                        sent.0,
                        sent.1.as_secs_f64(),
                        clock::current_step(),
                        clock::into_step().as_secs_f64(),
                    );
                }
            }
            return Flow::Continue;
        }
        task.misses += 1;
        if task.misses >= n {
            task.misses = 0;
            if !sh.users.any_step_left(min, max) {
                // Every user has used now+1: nothing is fresh before the next step. The clock
                // stops meanwhile, and the wait is reported.
                let wait = clock::until_next_step();
                sh.clock.pause_until(Instant::now() + wait);
                tokio::time::sleep(wait).await;
                return Flow::Continue;
            }
            // Steps are left, but only for users with a verify in flight: let their answers in
            // (the client has one thread; spinning here would hold them up forever).
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

async fn verify_wrong(sh: &Shared, task: &mut Task) -> Flow {
    let n = sh.users.len().min(sh.seeds.len());
    let user = loop {
        if sh.stop.load(Ordering::Relaxed) {
            return Flow::Stop;
        }
        let user = sh.user_at(sh.cursor.fetch_add(1, Ordering::Relaxed), n);
        if sh.users.claim_wrong(user) {
            task.misses = 0;
            break user;
        }
        task.misses += 1;
        // A whole pass's worth of misses: check every user once (not at every miss after it).
        if task.misses >= n {
            task.misses = 0;
            if !sh.users.any_wrong_left() {
                sh.stop.store(true, Ordering::Relaxed);
                return Flow::Stop;
            }
        }
    };
    let Some(secret) = sh.seeds.get(user) else {
        task.rec
            .record(Duration::ZERO, Some("client: no seed".into()));
        return Flow::Continue;
    };
    // Wrong for every step the server might still accept while this request is in flight.
    let now = clock::current_step();
    let valid: Vec<String> = (now - 2..=now + 2)
        .map(|s| twofold::factor::totp::code_at_step(&secret, Default::default(), s))
        .collect();
    let mut guess = task.random() % 1_000_000;
    let code = loop {
        let code = format!("{guess:06}");
        if !valid.contains(&code) {
            break code;
        }
        guess = (guess + 1) % 1_000_000;
    };
    verify(sh, task, user, &code, StatusCode::UNPROCESSABLE_ENTITY).await;
    Flow::Continue
}

/// A right code of the next counter for an HOTP user whose verify is not in flight.
async fn verify_hotp(sh: &Shared, task: &mut Task) -> Flow {
    let n = sh.hotp.len() as u64;
    loop {
        let user = &sh.hotp[sh.user_at(sh.cursor.fetch_add(1, Ordering::Relaxed), n) as usize];
        if let Some(code) = user.claim() {
            task.misses = 0;
            let path = format!("/v1/users/{}/verify", user.name);
            let body = format!(r#"{{"code":"{code}"}}"#);
            let t = Instant::now();
            let r = send(sh, task, Method::POST, &path, Some(body), StatusCode::OK).await;
            user.release();
            let elapsed = t.elapsed();
            if let Err(why) = &r {
                task.tell(format_args!("verify-hotp: {}: {why}", user.name));
            }
            task.rec.record(elapsed, r.err());
            return Flow::Continue;
        }
        task.misses += 1;
        if task.misses >= n {
            // Every user has a verify in flight: let their answers in.
            task.misses = 0;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// A challenge and its signed assertion for a security-key user with challenges left.
async fn verify_webauthn(sh: &Shared, task: &mut Task) -> Flow {
    let n = sh.keys.len() as u64;
    let user = loop {
        if sh.stop.load(Ordering::Relaxed) {
            return Flow::Stop;
        }
        let user = &sh.keys[sh.user_at(sh.cursor.fetch_add(1, Ordering::Relaxed), n) as usize];
        if user.claim() {
            task.misses = 0;
            break user;
        }
        task.misses += 1;
        if task.misses >= n {
            task.misses = 0;
            if !sh.keys.iter().any(KeyUser::has_allowance) {
                // 30 challenges per user per 5 minutes, all used: stop ("exhausted").
                sh.stop.store(true, Ordering::Relaxed);
                return Flow::Stop;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    let t = Instant::now();
    let r = sign_in(sh, task, user).await;
    user.release();
    let elapsed = t.elapsed();
    if let Err(why) = &r {
        task.tell(format_args!("verify-webauthn: {}: {why}", user.name));
    }
    task.rec.record(elapsed, r.err());
    Flow::Continue
}

/// Challenge, sign, verify. The error names the step that failed.
async fn sign_in(sh: &Shared, task: &mut Task, user: &KeyUser) -> Result<(), String> {
    let path = format!("/v1/users/{}/webauthn/challenge", user.name);
    let body = send(
        sh,
        task,
        Method::POST,
        &path,
        Some("{}".into()),
        StatusCode::OK,
    )
    .await
    .map_err(|e| format!("challenge: {e}"))?;
    let answer: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("challenge: bad answer: {e}"))?;
    let cred = {
        let mut key = user
            .key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        key.sign(&answer["options"], &sh.origin)
            .map_err(|e| format!("client: {e}"))?
    };
    let path = format!("/v1/users/{}/verify", user.name);
    let body = serde_json::json!({ "credential": cred }).to_string();
    send(sh, task, Method::POST, &path, Some(body), StatusCode::OK)
        .await
        .map_err(|e| format!("verify: {e}"))?;
    Ok(())
}

#[derive(serde::Deserialize)]
struct Enrolled {
    device: EnrolledDevice,
    secret: String,
}

#[derive(serde::Deserialize)]
struct EnrolledDevice {
    id: String,
}

/// Create, QR, confirm for a fresh user. The error names the step that failed.
async fn enroll(sh: &Shared, task: &mut Task) -> Result<(), String> {
    let k = sh.cursor.fetch_add(1, Ordering::Relaxed);
    let user = format!("enroll-{}-{k}", sh.run);
    let step = |what: &'static str| move |e: String| format!("{what}: {e}");
    let path = format!("/v1/users/{user}/devices/totp");
    let body = send(
        sh,
        task,
        Method::POST,
        &path,
        Some("{}".into()),
        StatusCode::CREATED,
    )
    .await
    .map_err(step("create"))?;
    let enrolled: Enrolled =
        serde_json::from_slice(&body).map_err(|e| format!("create: bad answer: {e}"))?;
    let secret = crate::seeds::base32_decode(&enrolled.secret)
        .ok_or_else(|| "create: secret is not base32".to_string())?;
    let id = enrolled.device.id;
    let path = format!("/v1/users/{user}/devices/{id}/qr.svg");
    send(sh, task, Method::GET, &path, None, StatusCode::OK)
        .await
        .map_err(step("qr.svg"))?;
    let code =
        twofold::factor::totp::code_at_step(&secret, Default::default(), clock::current_step());
    let path = format!("/v1/users/{user}/devices/{id}/confirm");
    let body = format!(r#"{{"code":"{code}"}}"#);
    send(sh, task, Method::POST, &path, Some(body), StatusCode::OK)
        .await
        .map_err(step("confirm"))?;
    Ok(())
}

/// French mobile numbers +33 6 D1 D2 D3 D4 D5 D6 D7 D8, distinct within a run. Consecutive `k`
/// walk through the 8000 prefixes (all but the last 4 digits) first, so a prefix comes back
/// only every 8000 sends: the per-prefix limit (20/hour by default) is not what is measured.
/// D1 avoids 3 and 9, whose ranges libphonenumber only partly counts as mobile.
pub fn phone(run: u64, k: u64) -> String {
    const D1: [u64; 8] = [0, 1, 2, 4, 5, 6, 7, 8];
    const NUMBERS: u64 = 8_000 * 10_000;
    // Each run starts elsewhere, so runs against one server rarely meet on a number.
    let idx = (run.wrapping_mul(7_919) % NUMBERS + k) % NUMBERS;
    let prefix = idx % 8_000;
    let suffix = idx / 8_000;
    format!(
        "+336{}{:03}{:04}",
        D1[(prefix / 1_000) as usize],
        prefix % 1_000,
        suffix
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn phones_are_distinct_and_spread_over_prefixes() {
        let phones: Vec<String> = (0..20_000).map(|k| phone(1_700_000_000_123, k)).collect();
        assert!(
            phones
                .iter()
                .all(|p| p.len() == 12 && p.starts_with("+336"))
        );
        assert_eq!(phones.iter().collect::<HashSet<_>>().len(), phones.len());
        let prefixes: HashSet<&str> = phones.iter().map(|p| &p[..8]).collect();
        assert_eq!(prefixes.len(), 8_000);
        for p in &phones {
            let d1 = p.as_bytes()[4];
            assert!(d1 != b'3' && d1 != b'9', "{p}");
        }
    }

    #[test]
    fn the_walk_visits_every_user_once_per_pass() {
        for n in [1u64, 2, 10, 1000, 10_000] {
            let mut seen = HashSet::new();
            for k in 0..n {
                let u = walk(n, 12_345, k);
                assert!(u < n);
                seen.insert(u);
            }
            assert_eq!(seen.len() as u64, n, "n = {n}");
        }
    }

    #[test]
    fn client_ips_are_private_and_varied() {
        let mut t = Task::new(42);
        let ips: HashSet<String> = (0..1000).map(|_| t.client_ip()).collect();
        assert!(ips.len() > 990);
        assert!(ips.iter().all(|ip| ip.starts_with("10.")));
    }
}
