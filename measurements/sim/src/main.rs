//! `ptp-sim`: run PTP scenarios on the real statime core, or validate
//! scenario files.
//!
//! ```text
//! ptp-sim run [--csv DIR] [--seeds 1,2,3] [--threads N] FILE...
//! ptp-sim validate FILE...
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use statime_sim::report::{checks_table, run_scenario, summary_table, write_csv};
use statime_sim::scenario::Scenario;

/// Deterministic PTP network simulator driving the real statime core.
#[derive(Parser, Debug)]
#[command(name = "ptp-sim", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run scenarios and print the summary table (Markdown) and checks.
    Run {
        /// Write the time series and a summary as CSV into this directory.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Override the scenarios' seeds (comma-separated).
        #[arg(long, value_delimiter = ',')]
        seeds: Vec<u64>,
        /// Worker threads (default: available parallelism).
        #[arg(long)]
        threads: Option<usize>,
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Parse and validate scenario files.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn load_all(files: &[PathBuf]) -> Result<Vec<Scenario>, ExitCode> {
    let mut out = Vec::new();
    let mut failed = false;
    for f in files {
        match Scenario::load(f) {
            Ok(s) => out.push(s),
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    if failed {
        Err(ExitCode::from(1))
    } else {
        Ok(out)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { files } => match load_all(&files) {
            Ok(s) => {
                for (f, s) in files.iter().zip(&s) {
                    println!(
                        "{}: ok ({}: {} nodes, {} links, {} events, {} checks, {} seeds)",
                        f.display(),
                        s.name,
                        s.nodes.len(),
                        s.links.len(),
                        s.events.len(),
                        s.checks.len(),
                        s.seeds.len()
                    );
                }
                ExitCode::SUCCESS
            }
            Err(c) => c,
        },
        Command::Run {
            csv,
            seeds,
            threads,
            files,
        } => {
            let scenarios = match load_all(&files) {
                Ok(s) => s,
                Err(c) => return c,
            };
            let threads = threads.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            });
            let mut reports = Vec::new();
            for sc in &scenarios {
                let started = std::time::Instant::now();
                match run_scenario(sc, &seeds, threads) {
                    Ok(r) => {
                        eprintln!(
                            "{}: {} run(s) in {:.1} s",
                            sc.name,
                            r.variants.iter().map(|v| v.runs.len()).sum::<usize>(),
                            started.elapsed().as_secs_f64()
                        );
                        reports.push(r);
                    }
                    Err(e) => {
                        eprintln!("error: {}: {e}", sc.name);
                        return ExitCode::from(1);
                    }
                }
            }
            println!("{}", summary_table(&reports));
            let checks = checks_table(&reports);
            if !checks.is_empty() {
                println!("BMCA checks:\n\n{checks}");
            }
            if let Some(dir) = csv {
                if let Err(e) = write_csv(&dir, &reports) {
                    eprintln!("error: writing CSV to {}: {e}", dir.display());
                    return ExitCode::from(1);
                }
                eprintln!("CSV written to {}", dir.display());
            }
            if reports
                .iter()
                .all(statime_sim::ScenarioReport::checks_passed)
            {
                ExitCode::SUCCESS
            } else {
                eprintln!("some checks FAILED");
                ExitCode::from(2)
            }
        }
    }
}
