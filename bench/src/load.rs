//! `twofold-bench load`: N connections, each one request at a time, for a fixed measured time.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::clock::{self, Clock};
use crate::devices::{self, Extra};
use crate::proc;
use crate::scenarios::{Flow, Scenario, Shared, Task};
use crate::seeds::Seeds;
use crate::stats::{Recorder, Report};
use crate::users::Users;

#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Base URL of the running server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub url: String,
    /// A client API key (tfk_…); not needed for healthz.
    #[arg(long, default_value = "")]
    pub client_key: String,
    #[arg(long, value_enum)]
    pub scenario: Scenario,
    /// Concurrent connections: one task each, one request at a time.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Measured seconds (waits for a fresh TOTP step not included).
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Size of the imported population bench-0000000 … (verify scenarios).
    #[arg(long, default_value_t = 10_000)]
    pub users: u64,
    /// The server's process id: report its CPU time per request and its peak RSS.
    #[arg(long)]
    pub pid: Option<u32>,
    /// Per-user state (steps used, wrong codes sent) kept between runs against one server.
    /// Without it, a second verify run against the same server resends used steps.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Seeds from an import file (JSON lines) instead of the deterministic ones of `seeds`.
    #[arg(long)]
    pub seeds: Option<PathBuf>,
    /// Id of this run's fresh users (enroll-RUN-k, sms-RUN-k); default: the time in ms.
    #[arg(long)]
    pub run: Option<u64>,
    /// Free text copied into the report (e.g. backend and population).
    #[arg(long)]
    pub label: Option<String>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// verify-valid: stop using step now-1 this many milliseconds before the step ends, so no
    /// code expires in flight.
    #[arg(long, default_value_t = 2000)]
    pub step_margin_ms: u64,
    /// verify-hotp and verify-webauthn: how many users get an HOTP device or a security key
    /// in the setup (unmeasured, through the API, when the state file holds none yet).
    #[arg(long, default_value_t = 1_000)]
    pub setup_users: u64,
    /// verify-webauthn: the origin the soft security keys sign for; the server's public origin
    /// (TWOFOLD_PUBLIC_URL), which must be on a domain name.
    #[arg(long, default_value = "https://bench.twofold.example")]
    pub origin: String,
    /// Print one JSON object instead of a line of text.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: LoadArgs) -> Result<Report, String> {
    if args.connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    if !(args.duration > 0.0 && args.duration.is_finite()) {
        return Err("--duration must be a positive number of seconds".into());
    }
    let population = args.scenario.uses_population();
    if population && args.users == 0 {
        return Err("--users must be at least 1".into());
    }
    if args.scenario != Scenario::Healthz && args.client_key.is_empty() {
        return Err("--client-key is required for this scenario".into());
    }
    let auth = HeaderValue::from_str(&format!("Bearer {}", args.client_key))
        .map_err(|_| "--client-key holds characters a header cannot".to_string())?;
    let stateful = population || args.scenario.has_setup();
    let size = if population { args.users } else { 0 };
    let (users, mut extra) = match (&args.state, stateful) {
        (Some(path), true) => Users::load(path, size)?,
        _ => (Users::new(size), Extra::default()),
    };
    if args.scenario.has_setup() && args.setup_users == 0 {
        return Err("--setup-users must be at least 1".into());
    }
    let seeds = match &args.seeds {
        Some(path) => Seeds::from_jsonl(path)?,
        None => Seeds::Derived,
    };
    if population && seeds.len() < args.users {
        return Err(format!(
            "--seeds holds {} users, fewer than --users {}",
            seeds.len(),
            args.users
        ));
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(args.timeout))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let base = args.url.trim_end_matches('/').to_string();
    warm_up(&client, &base, args.connections).await?;
    let run = args
        .run
        .unwrap_or_else(|| clock::unix_now().as_millis() as u64);

    // verify-hotp and verify-webauthn: their users, from the state file or enrolled now, before
    // the server's CPU is read. The state is saved at once, so a run that fails later does not
    // leave enrolled users the next run knows nothing of.
    let setup_n = args.setup_users.min(args.users.max(1));
    let (mut setup_users, mut setup_seconds) = (0, 0.0);
    let mut hotp = Vec::new();
    let mut keys = Vec::new();
    match args.scenario {
        Scenario::VerifyHotp if !extra.hotp.is_empty() => {
            hotp = devices::hotp_from_saved(std::mem::take(&mut extra.hotp))?;
        }
        Scenario::VerifyHotp => {
            eprintln!("twofold-bench: setup: enrolling {setup_n} HOTP users (not measured)");
            let done = devices::setup_hotp(&client, &base, &auth, setup_n, run).await?;
            (hotp, setup_users, setup_seconds) = (done.users, setup_n, done.seconds);
        }
        Scenario::VerifyWebauthn if !extra.webauthn.is_empty() => {
            keys = devices::keys_from_saved(std::mem::take(&mut extra.webauthn))?;
        }
        Scenario::VerifyWebauthn => {
            eprintln!("twofold-bench: setup: registering {setup_n} security keys (not measured)");
            let done =
                devices::setup_keys(&client, &base, &auth, setup_n, run, &args.origin).await?;
            (keys, setup_users, setup_seconds) = (done.users, setup_n, done.seconds);
        }
        _ => {}
    }
    let save = |users: &Users, extra: &mut Extra, hotp: &[_], keys: &[_]| -> Result<(), String> {
        let Some(path) = &args.state else {
            return Ok(());
        };
        if !stateful {
            return Ok(());
        }
        if args.scenario == Scenario::VerifyHotp {
            extra.hotp = devices::hotp_to_saved(hotp);
        }
        if args.scenario == Scenario::VerifyWebauthn {
            extra.webauthn = devices::keys_to_saved(keys);
        }
        users.save(path, extra)
    };
    if setup_users > 0 {
        save(&users, &mut extra, &hotp, &keys)?;
    }

    let ticks = proc::clock_ticks();
    let cpu_before = args.pid.map(proc::cpu_ticks).transpose()?;
    // Per-run peak RSS where the kernel lets us reset it; else the peak since the server started.
    let peak_is_per_run = match args.pid {
        Some(pid) => match proc::reset_peak_rss(pid) {
            Ok(()) => true,
            Err(e) => {
                eprintln!(
                    "twofold-bench: cannot reset the peak RSS ({e}): reporting the peak since the server started"
                );
                false
            }
        },
        None => false,
    };
    let shared = Arc::new(Shared {
        client,
        base,
        auth,
        users,
        seeds,
        run,
        cursor: AtomicU64::new(0),
        clock: Clock::start(Duration::from_secs_f64(args.duration)),
        stop: AtomicBool::new(false),
        step_margin: Duration::from_millis(args.step_margin_ms),
        offset: clock::unix_now().as_nanos() as u64,
        hotp,
        keys,
        origin: args.origin.clone(),
    });
    let tasks: Vec<_> = (0..args.connections)
        .map(|i| {
            let sh = shared.clone();
            let scenario = args.scenario;
            // Different per task and per run, so two runs do not replay the same addresses.
            let seed = (clock::unix_now().as_nanos() as u64) ^ ((i as u64 + 1) << 48);
            tokio::spawn(async move {
                let mut task = Task::new(seed);
                while !sh.clock.over() {
                    if let Flow::Stop = scenario.run_once(&sh, &mut task).await {
                        break;
                    }
                }
                task.rec
            })
        })
        .collect();
    let mut rec = Recorder::new();
    for t in tasks {
        rec.merge(
            t.await
                .map_err(|e| format!("a connection task failed: {e}"))?,
        );
    }
    let (waits, paused) = shared.clock.paused();
    let measured = shared.clock.start.elapsed().saturating_sub(paused);
    let cpu_after = args.pid.map(proc::cpu_ticks).transpose()?;

    let mut report = Report::new(
        args.scenario.name(),
        args.scenario.requests_per_op(),
        args.connections,
        measured.as_secs_f64(),
        &rec,
    );
    report.setup_users = setup_users;
    report.setup_seconds = setup_seconds;
    report.label = args.label.clone();
    report.waits = waits;
    report.wait_seconds = paused.as_secs_f64();
    report.exhausted = shared.stop.load(std::sync::atomic::Ordering::Relaxed);
    if let (Some(pid), Some(before), Some(after)) = (args.pid, cpu_before, cpu_after) {
        let cpu_secs = after.saturating_sub(before) as f64 / ticks.per_sec as f64;
        report.server_cpu_seconds = Some(cpu_secs);
        report.clock_ticks_per_sec = Some(ticks.per_sec);
        report.clock_ticks_assumed = ticks.assumed;
        if rec.operations > 0 {
            report.server_cpu_us_per_op = Some(cpu_secs * 1e6 / rec.operations as f64);
        }
        if rec.requests > 0 {
            report.server_cpu_us_per_request = Some(cpu_secs * 1e6 / rec.requests as f64);
        }
        report.server_peak_rss_mib = Some(proc::peak_rss_kib(pid)? as f64 / 1024.0);
        report.server_peak_rss_per_run = peak_is_per_run;
    }
    save(&shared.users, &mut extra, &shared.hotp, &shared.keys)?;
    Ok(report)
}

/// Opens every connection before the clock starts (one /healthz each, all at once, so the pool
/// holds `n` of them): connection set-up is not what the scenarios measure. Also fails early,
/// with a clear message, when nothing listens at the URL.
async fn warm_up(client: &reqwest::Client, base: &str, n: usize) -> Result<(), String> {
    let url = format!("{base}/healthz");
    let calls: Vec<_> = (0..n)
        .map(|_| {
            let req = client.get(&url).send();
            tokio::spawn(async move {
                let resp = req.await?;
                let status = resp.status();
                resp.bytes().await?;
                Ok::<_, reqwest::Error>(status)
            })
        })
        .collect();
    for c in calls {
        match c.await {
            Ok(Ok(s)) if s.is_success() => {}
            Ok(Ok(s)) => return Err(format!("{url} answered {s}")),
            Ok(Err(e)) => return Err(format!("{url}: {e}")),
            Err(e) => return Err(format!("warm-up task failed: {e}")),
        }
    }
    Ok(())
}
