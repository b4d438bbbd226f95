//! `ptp-sim`: run PTP scenarios on the real statime core, or validate
//! scenario files.
//!
//! ```text
//! ptp-sim run [--csv DIR] [--seeds 1,2,3] [--threads N] FILE...
//! ptp-sim validate FILE...
//! ptp-sim overlay [--samples N] [--seeds 1,2] [--threads N] FILE...
//! ptp-sim peers [--duration-s S] [--seeds 1,2] [--threads N] FILE...
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
    /// Run overlay scenarios (`overlay-*.toml`: the BFT guard and the
    /// servo over n sources, some lying) and print the tables (Markdown).
    Overlay {
        /// Guard rounds per seed (default: each scenario's `samples`).
        #[arg(long)]
        samples: Option<u64>,
        /// Override the scenarios' seeds (comma-separated).
        #[arg(long, value_delimiter = ',')]
        seeds: Vec<u64>,
        /// Worker threads (default: available parallelism).
        #[arg(long)]
        threads: Option<usize>,
        /// Overlay scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run peer-scale scenarios (`peers/*.toml`: N overlay nodes of the
    /// real peer protocol, fan-out k, some lying) and print the tables.
    Peers {
        /// Simulated seconds per seed (default: each scenario's
        /// `duration-s`).
        #[arg(long)]
        duration_s: Option<f64>,
        /// Override the scenarios' seeds (comma-separated).
        #[arg(long, value_delimiter = ',')]
        seeds: Vec<u64>,
        /// Worker threads (default: 1; each run is single-threaded).
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Peer scenario files.
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

/// `ptp-sim overlay`: exit 0 when every scenario met its requirements, 2
/// when one missed, 1 on a bad file.
fn overlay(files: &[PathBuf], samples: Option<u64>, seeds: &[u64], threads: usize) -> ExitCode {
    use statime_sim::overlay::{self, OverlayScenario};
    let mut scenarios = Vec::new();
    let mut bad = false;
    for f in files {
        match OverlayScenario::load(f) {
            Ok(s) => scenarios.push(s),
            Err(e) => {
                eprintln!("error: {e}");
                bad = true;
            }
        }
    }
    if bad {
        return ExitCode::from(1);
    }
    if samples == Some(0) {
        eprintln!("error: --samples must be at least 1");
        return ExitCode::from(1);
    }
    let started = std::time::Instant::now();
    let outcomes = overlay::run_all(&scenarios, seeds, samples, threads);
    eprintln!(
        "{} scenario(s) in {:.1} s",
        outcomes.len(),
        started.elapsed().as_secs_f64()
    );
    println!("{}", overlay::main_table(&outcomes));
    if outcomes.iter().any(|o| o.scenario.beyond_f()) {
        println!(
            "More liars than f:\n\n{}",
            overlay::beyond_f_table(&outcomes)
        );
    }
    println!("Details:\n\n{}", overlay::details(&outcomes));
    let missed: Vec<String> = outcomes
        .iter()
        .flat_map(|o| {
            o.failures()
                .into_iter()
                .chain(o.detection_misses())
                .map(move |f| format!("{}: {f}", o.scenario.name))
        })
        .collect();
    for o in &outcomes {
        for t in o.targets_missed() {
            eprintln!(
                "target missed (not a requirement): {}: {t}",
                o.scenario.name
            );
        }
    }
    if missed.is_empty() {
        ExitCode::SUCCESS
    } else {
        for m in &missed {
            eprintln!("requirement missed: {m}");
        }
        ExitCode::from(2)
    }
}

/// `ptp-sim peers`: exit 0 when every run met its requirements, 2 when
/// one missed, 1 on a bad file.
fn peers(files: &[PathBuf], duration_s: Option<f64>, seeds: &[u64], threads: usize) -> ExitCode {
    use statime_sim::peers::{self, PeersScenario};
    let mut scenarios = Vec::new();
    let mut bad = false;
    for f in files {
        match PeersScenario::load(f) {
            Ok(s) => scenarios.push(s),
            Err(e) => {
                eprintln!("error: {e}");
                bad = true;
            }
        }
    }
    if duration_s.is_some_and(|d| !(d.is_finite() && d > 0.0)) {
        eprintln!("error: --duration-s must be finite and > 0");
        bad = true;
    }
    if bad {
        return ExitCode::from(1);
    }
    let started = std::time::Instant::now();
    let runs = peers::run_all(&scenarios, seeds, duration_s, threads);
    eprintln!(
        "{} run(s) in {:.1} s",
        runs.len(),
        started.elapsed().as_secs_f64()
    );
    println!("Messages:\n\n{}", peers::load_table(&runs));
    println!("Bounds and detection:\n\n{}", peers::bounds_table(&runs));
    println!("Details:\n\n{}", peers::details(&runs));
    let missed: Vec<String> = runs
        .iter()
        .flat_map(|r| {
            peers::failures(r)
                .into_iter()
                .map(move |f| format!("{} seed {}: {f}", r.name, r.seed))
        })
        .collect();
    if missed.is_empty() {
        ExitCode::SUCCESS
    } else {
        for m in &missed {
            eprintln!("requirement missed: {m}");
        }
        ExitCode::from(2)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Peers {
            duration_s,
            seeds,
            threads,
            files,
        } => peers(&files, duration_s, &seeds, threads),
        Command::Overlay {
            samples,
            seeds,
            threads,
            files,
        } => {
            let threads = threads.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            });
            overlay(&files, samples, &seeds, threads)
        }
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
