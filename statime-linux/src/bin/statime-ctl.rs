//! `statime-ctl`: see `statime_linux::ctl`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = statime_linux::ctl::Cli::parse();
    statime_linux::ctl::run(
        cli,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
}
