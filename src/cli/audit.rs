//! `twofold audit verify` and `twofold audit export`.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use clap::Subcommand;

use super::CliResult;
use crate::app::state::AppState;
use crate::audit::check;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every writer stream's hash chain; name the first broken link of each. Exits 1 if
    /// one is broken.
    Verify,
    /// Write events as JSON lines (oldest first) to standard output, for a SIEM.
    Export {
        /// Events at or after this time: RFC 3339 (`2026-11-29T12:00:00Z`) or a date (UTC).
        #[arg(long, value_parser = parse_time)]
        since: NaiveDateTime,
        /// Events before this time.
        #[arg(long, value_parser = parse_time)]
        until: Option<NaiveDateTime>,
    },
}

fn parse_time(s: &str) -> Result<NaiveDateTime, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.naive_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| format!("`{s}` is neither RFC 3339 (2026-11-29T12:00:00Z) nor a date"))
}

pub async fn run(cmd: AuditCommand, state: AppState) -> CliResult {
    match cmd {
        AuditCommand::Verify => {
            let report = check::verify(&state.db, &state.keys).await?;
            for b in &report.broken {
                println!("BROKEN {b}");
            }
            eprintln!(
                "twofold: checked {} event(s) in {} stream(s), {} from before the chain (sealed \
                 in stream `{}`); {} outside every chain",
                report.events,
                report.streams,
                report.legacy,
                check::LEGACY,
                report.unchained
            );
            if report.broken.is_empty() {
                eprintln!("twofold: every audit chain is intact");
                Ok(())
            } else {
                Err(format!("{} audit stream(s) broken", report.broken.len()).into())
            }
        }
        AuditCommand::Export { since, until } => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let n = check::export(&state.db, since, until, &mut out).await?;
            eprintln!("twofold: exported {n} event(s)");
            Ok(())
        }
    }
}
