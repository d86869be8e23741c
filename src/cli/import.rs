//! `twofold import FILE`: TOTP seeds from another MFA server, streamed from a file of any size,
//! all lines or none.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::CliResult;
use crate::app::import::pskc::KeySource;
use crate::app::import::{self, Context, Format, ImportError};
use crate::app::state::AppState;
use crate::app::tokens::{self, import::Source};
use crate::audit::Actor;
use crate::error::Error;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// JSON lines or CSV (with the header `tenant,user,label,secret,algorithm,digits,period`),
    /// a PSKC file of hardware tokens, or a YubiKey personalization log; `-` reads standard
    /// input.
    file: PathBuf,
    /// `jsonl` or `csv` (devices, active at once); `pskc` or `yubico-csv` (hardware tokens into
    /// the inventory, unassigned). By default from the extension (.jsonl/.ndjson, .csv, .pskc,
    /// .xml).
    #[arg(long)]
    format: Option<String>,
    /// Hardware tokens: the tenant whose inventory they join (default `default`).
    #[arg(long)]
    tenant: Option<String>,
    /// An encrypted PSKC file: a file holding the pre-shared key, in hex.
    #[arg(long)]
    psk_file: Option<PathBuf>,
    /// An encrypted PSKC file: a file holding the password (its first line). Without it (or
    /// --psk-file), the password is asked for at the terminal.
    #[arg(long)]
    password_file: Option<PathBuf>,
}

/// What the file holds.
enum Kind {
    Devices(Format),
    Pskc,
    YubicoLog,
}

fn kind_of(name: &str) -> Result<Kind, String> {
    match name {
        "pskc" | "xml" => Ok(Kind::Pskc),
        "yubico-csv" => Ok(Kind::YubicoLog),
        other => other
            .parse()
            .map(Kind::Devices)
            .map_err(|_| format!("unknown format `{other}` (jsonl, csv, pskc or yubico-csv)")),
    }
}

fn read_secret(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end()
        .to_string())
}

/// Hardware tokens into the inventory.
async fn import_tokens(args: &ImportArgs, kind: &Kind, state: &AppState) -> CliResult {
    let bytes = if args.file.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b).map_err(|e| e.to_string())?;
        b
    } else {
        std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?
    };
    let psk = match &args.psk_file {
        Some(p) => Some(
            base16ct::mixed::decode_vec(read_secret(p)?.trim())
                .map_err(|_| format!("{}: the pre-shared key in hex", p.display()))?,
        ),
        None => None,
    };
    let mut password = args.password_file.as_deref().map(read_secret).transpose()?;
    // A password-protected file and no key given: ask at the terminal, if there is one.
    if matches!(kind, Kind::Pskc)
        && psk.is_none()
        && password.is_none()
        && std::io::stdin().is_terminal()
        && matches!(
            crate::app::import::pskc::parse(&bytes, KeySource::None),
            Err(crate::app::import::pskc::PskcError::KeyNeeded("a password"))
        )
    {
        let typed = rpassword::prompt_password("PSKC file password: ")
            .map_err(|e| format!("reading the password: {e}"))?;
        password = Some(typed);
    }
    let source = match kind {
        Kind::Pskc => Source::Pskc {
            xml: &bytes,
            key: match (&psk, &password) {
                (Some(k), _) => KeySource::PreShared(k),
                (None, Some(p)) => KeySource::Password(p.as_bytes()),
                (None, None) => KeySource::None,
            },
        },
        _ => Source::YubicoLog(
            std::str::from_utf8(&bytes).map_err(|_| "the personalization log is not UTF-8")?,
        ),
    };
    let tenant = args.tenant.clone().unwrap_or_else(|| "default".into());
    crate::app::api_keys::validate_tenant(&tenant)?;
    match tokens::import::import(state, &tenant, source, Actor::Cli, None).await {
        Ok(done) => {
            println!(
                "imported {} tokens into tenant {tenant}, unassigned (batch {})",
                done.imported, done.batch
            );
            Ok(())
        }
        Err(Error::ImportRefused { errors, bad }) => {
            for e in &errors {
                eprintln!("key package or line {}: {}", e.line, e.message);
            }
            Err(format!("{bad} bad key package(s) or line(s); nothing was imported").into())
        }
        Err(e) => Err(e.into()),
    }
}

fn kind_of_path(path: &Path) -> Option<Kind> {
    kind_of(path.extension()?.to_str()?).ok()
}

pub async fn run(args: ImportArgs, state: AppState) -> CliResult {
    let kind = match &args.format {
        Some(f) => kind_of(f)?,
        None => kind_of_path(&args.file)
            .ok_or("say --format jsonl, csv, pskc or yubico-csv (the file name does not tell)")?,
    };
    let format = match kind {
        Kind::Devices(f) => f,
        other => return import_tokens(&args, &other, &state).await,
    };
    let input: Box<dyn BufRead + Send> = if args.file.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let file =
            std::fs::File::open(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
        Box::new(std::io::BufReader::with_capacity(1 << 20, file))
    };
    let cx = Context {
        keys: state.keys.clone(),
        stream: state.audit.stream().clone(),
        scope: None,
        actor: Actor::Cli,
        ip: None,
        now: state.clock.now(),
    };
    let started = Instant::now();
    let result = import::import(&state.db, input, format, cx).await;
    match result {
        Ok(done) => {
            let secs = started.elapsed().as_secs_f64();
            println!(
                "imported {} devices in {secs:.1} s ({:.0} devices/s)",
                done.imported,
                done.imported as f64 / secs.max(1e-9)
            );
            Ok(())
        }
        Err(ImportError::Lines { errors, bad }) => {
            for e in &errors {
                eprintln!("line {}: {}", e.line, e.message);
            }
            if bad > errors.len() as u64 {
                eprintln!("… and {} more bad line(s)", bad - errors.len() as u64);
            }
            Err(format!("{bad} bad line(s); nothing was imported").into())
        }
        Err(e) => Err(e.into()),
    }
}
