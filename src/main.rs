use std::process::ExitCode;

fn main() -> ExitCode {
    twofold::cli::main()
}
