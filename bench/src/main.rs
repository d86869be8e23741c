//! twofold-bench: load generator for a running twofold server, and the seed file of its
//! benchmark population. See bench/run.sh for the whole benchmark and bench/RESULTS.md for its
//! last results.

mod clock;
mod devices;
mod load;
mod proc;
mod provision;
mod scenarios;
mod seeds;
mod soft_key;
mod stats;
mod users;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "twofold-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Drive a running server with N connections for a fixed time; print one result line.
    Load(load::LoadArgs),
    /// Write the import file of users bench-0000000 … with deterministic seeds.
    Seeds {
        #[arg(long)]
        count: u64,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: seeds::Format,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Enroll users bench-0000000 … through the API (when `twofold import` is not available).
    Provision(provision::ProvisionArgs),
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("twofold-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Seeds { count, format, out } => match out {
            Some(path) => {
                let file =
                    std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                seeds::write(file, count, format).map_err(|e| format!("{}: {e}", path.display()))
            }
            None => seeds::write(std::io::stdout().lock(), count, format)
                .map_err(|e| format!("stdout: {e}")),
        },
        Command::Load(args) => {
            let json = args.json;
            let report = runtime()?.block_on(load::run(args))?;
            let line = if json {
                // The human line still goes to stderr: run.sh shows it as progress.
                eprintln!("{}", report.line());
                serde_json::to_string(&report).map_err(|e| e.to_string())?
            } else {
                report.line()
            };
            writeln!(std::io::stdout(), "{line}").map_err(|e| format!("stdout: {e}"))
        }
        Command::Provision(args) => runtime()?.block_on(provision::run(args)),
    }
}

/// One worker thread: on a 2-core machine the server keeps the other core. The client's
/// capacity then bounds what can be measured; run.sh's healthz rows show that ceiling.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}
