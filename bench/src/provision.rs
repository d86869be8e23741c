//! `twofold-bench provision`: a population enrolled through the API instead of imported.
//!
//! For a service without `twofold import` (or to check the verify scenarios without it): users
//! bench-0000000 … get a TOTP device each (create, then confirm with the current code). The
//! server picks the secrets, so they are written out as an import-format JSON-lines file for
//! `load --seeds`, and the confirmed step goes into the `--state` file (the server will only
//! accept later steps). Slow next to an import: meant for thousands of users, not millions.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::clock;
use crate::seeds::{self, LABEL, TENANT};
use crate::users::Users;

#[derive(Debug, clap::Args)]
pub struct ProvisionArgs {
    #[arg(long)]
    pub url: String,
    #[arg(long)]
    pub client_key: String,
    /// Users bench-0000000 … bench-(users-1).
    #[arg(long)]
    pub users: u64,
    /// Where to write their seeds (JSON lines, the import format).
    #[arg(long)]
    pub out: PathBuf,
    /// The state file `load --state` will read.
    #[arg(long)]
    pub state: PathBuf,
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
}

#[derive(serde::Deserialize)]
struct Enrolled {
    device: Device,
    secret: String,
}

#[derive(serde::Deserialize)]
struct Device {
    id: String,
}

async fn post(
    client: &reqwest::Client,
    url: String,
    key: &str,
    body: String,
) -> Result<(reqwest::StatusCode, Vec<u8>), String> {
    let resp = client
        .post(&url)
        .bearer_auth(key)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| format!("{url}: {e}"))?;
    Ok((status, body.to_vec()))
}

/// Enrolls and confirms one user; returns its base32 secret and the step its code used.
async fn one(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    i: u64,
) -> Result<(String, u64), String> {
    let user = seeds::user(i);
    let (status, body) = post(
        client,
        format!("{base}/v1/users/{user}/devices/totp"),
        key,
        format!(r#"{{"label":"{LABEL}"}}"#),
    )
    .await?;
    if status != reqwest::StatusCode::CREATED {
        return Err(format!(
            "{user}: enroll answered {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    let enrolled: Enrolled =
        serde_json::from_slice(&body).map_err(|e| format!("{user}: enroll answer: {e}"))?;
    let secret = seeds::base32_decode(&enrolled.secret)
        .ok_or_else(|| format!("{user}: the secret is not base32"))?;
    let step = clock::current_step();
    let code = twofold::factor::totp::code_at_step(&secret, Default::default(), step);
    let (status, body) = post(
        client,
        format!(
            "{base}/v1/users/{user}/devices/{}/confirm",
            enrolled.device.id
        ),
        key,
        format!(r#"{{"code":"{code}"}}"#),
    )
    .await?;
    if status != reqwest::StatusCode::OK {
        return Err(format!(
            "{user}: confirm answered {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok((enrolled.secret, step))
}

pub async fn run(args: ProvisionArgs) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let base = Arc::new(args.url.trim_end_matches('/').to_string());
    let key = Arc::new(args.client_key.clone());
    let next = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..args.connections.max(1))
        .map(|_| {
            let (client, base, key, next) =
                (client.clone(), base.clone(), key.clone(), next.clone());
            let n = args.users;
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return Ok::<_, String>(done);
                    }
                    let (secret, step) = one(&client, &base, &key, i).await?;
                    done.push((i, secret, step));
                }
            })
        })
        .collect();
    let mut rows = Vec::new();
    for t in tasks {
        rows.extend(
            t.await
                .map_err(|e| format!("a provisioning task failed: {e}"))??,
        );
    }
    rows.sort_unstable_by_key(|r| r.0);

    let (users, extra) = Users::load(&args.state, args.users)?;
    let file =
        std::fs::File::create(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for (i, secret, step) in &rows {
        users.last_step[*i as usize].store(*step, Ordering::Relaxed);
        writeln!(
            out,
            r#"{{"tenant":"{TENANT}","user":"{}","label":"{LABEL}","secret":"{secret}","algorithm":"SHA1","digits":6,"period":30}}"#,
            seeds::user(*i)
        )
        .map_err(|e| format!("{}: {e}", args.out.display()))?;
    }
    out.flush()
        .map_err(|e| format!("{}: {e}", args.out.display()))?;
    users.save(&args.state, &extra)?;
    eprintln!("provisioned {} users through the API", rows.len());
    Ok(())
}
