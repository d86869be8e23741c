//! `twofold import FILE`: TOTP seeds from another MFA server, streamed from a file of any size,
//! all lines or none.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::CliResult;
use crate::app::import::{self, Context, Format, ImportError};
use crate::app::state::AppState;
use crate::audit::Actor;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// JSON lines or CSV (with the header `tenant,user,label,secret,algorithm,digits,period`);
    /// `-` reads standard input.
    file: PathBuf,
    /// `jsonl` or `csv`; by default from the file's extension (.jsonl/.ndjson, .csv).
    #[arg(long)]
    format: Option<Format>,
}

fn format_of(path: &Path) -> Option<Format> {
    path.extension()?.to_str()?.parse().ok()
}

pub async fn run(args: ImportArgs, state: AppState) -> CliResult {
    let format = args
        .format
        .or_else(|| format_of(&args.file))
        .ok_or("say --format jsonl or --format csv (the file name does not tell)")?;
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
