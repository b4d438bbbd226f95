//! `measure`: capture, analyse, plot and report PTP accuracy measurements.
//!
//! ```text
//! measure capture --out DIR --setup NAME --source NAME=KIND:ARG... [--duration 10m] [--wrap CMD]
//! measure sim --out DIR [--setup sim-baselines] [--seeds 1,2] SCENARIO...
//! measure report RUN_DIR [--out DIR | --reports-dir measurements/reports]
//! measure analyse FILE.csv... [--skip-s S]
//! measure overlay SNAPSHOTS.jsonl --out overlay.png [--clip-us 200]
//! measure pps-out --device /dev/ptp1 --pin 0 [--channel 0] [--detach | --stop]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use measure::capture::{CaptureOptions, parse_source};
use measure::pps::{PtpPinDevice, start_pps_output, stop_pps_output};
use measure::report::fmt_ns;
use measure::stats::{Options, analyse, at_tau};

/// Capture, analyse, plot and report PTP accuracy measurements.
#[derive(Parser, Debug)]
#[command(name = "measure", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Record series into a run directory (progress on stderr; Ctrl-C stops and keeps everything).
    Capture {
        /// The run directory (created).
        #[arg(long)]
        out: PathBuf,
        /// Setup name: the report goes to reports/<date>-<setup>/.
        #[arg(long)]
        setup: String,
        /// Report title.
        #[arg(long, default_value = "")]
        title: String,
        /// Setup description (Markdown) for the report.
        #[arg(long, default_value = "")]
        describe: String,
        /// How to reproduce (shell commands) for the report.
        #[arg(long, default_value = "")]
        reproduce: String,
        /// NAME=KIND:ARG with KIND log, cmd, status, truth or pps (see README).
        #[arg(long = "source", required = true)]
        sources: Vec<String>,
        /// Stop after this long (e.g. 600, 600s, 10m, 2h).
        #[arg(long)]
        duration: Option<String>,
        /// Run this shell command and stop when it exits.
        #[arg(long)]
        wrap: Option<String>,
        /// Configuration files to keep with the run (copied into cfg/).
        #[arg(long = "config")]
        configs: Vec<PathBuf>,
        /// Statistics skip the first S seconds of every series.
        #[arg(long)]
        skip_s: Option<f64>,
        /// Convergence bound on |offset|, ns.
        #[arg(long, default_value_t = 2000.0)]
        converge_ns: f64,
        /// Seconds between progress lines.
        #[arg(long, default_value_t = 1.0)]
        progress: f64,
        /// Titles, labels, groups, plots and published figures for the report (TOML).
        #[arg(long)]
        template: Option<PathBuf>,
    },
    /// Make the run directory of simulator scenarios (the series are re-run on demand).
    Sim {
        /// The run directory (created).
        #[arg(long)]
        out: PathBuf,
        /// Setup name.
        #[arg(long, default_value = "sim-baselines")]
        setup: String,
        /// Override the scenarios' seeds (comma-separated).
        #[arg(long, value_delimiter = ',')]
        seeds: Vec<u64>,
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write the Markdown report with plots into reports/<date>-<setup>/ (copying the raw data).
    Report {
        /// The run directory.
        run_dir: PathBuf,
        /// The report folder (default: REPORTS_DIR/<date>-<setup>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Where dated report folders go.
        #[arg(long, default_value = "measurements/reports")]
        reports_dir: PathBuf,
    },
    /// Print the figures of series files.
    Analyse {
        /// Series files (t_s,offset_ns,freq_ppb,path_delay_ns,state).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Skip the first S seconds.
        #[arg(long)]
        skip_s: Option<f64>,
        /// Convergence bound, ns.
        #[arg(long, default_value_t = 2000.0)]
        converge_ns: f64,
    },
    /// Plot the overlay's source intervals, intersection and true time from status snapshots (JSON lines).
    Overlay {
        /// Snapshots, one JSON object per line (`statime-ctl status --json -f`, or `ptp-sim overlay --trace`).
        file: PathBuf,
        /// The PNG to write.
        #[arg(long)]
        out: PathBuf,
        /// Plot title.
        #[arg(
            long,
            default_value = "overlay: source intervals and the published intersection"
        )]
        title: String,
        /// Clip edges beyond this many microseconds (keeps a far-off liar from flattening the rest).
        #[arg(long, default_value_t = 200.0)]
        clip_us: f64,
    },
    /// PPS lab, device under test: drive a 1 Hz output from the PHC on an SDP pin (PTP_PEROUT_REQUEST).
    PpsOut {
        /// The PHC, e.g. /dev/ptp1.
        #[arg(long)]
        device: String,
        /// The SDP pin index.
        #[arg(long)]
        pin: u32,
        /// The PEROUT channel.
        #[arg(long, default_value_t = 0)]
        channel: u32,
        /// Stop the output and free the pin instead.
        #[arg(long)]
        stop: bool,
        /// Leave the output running and exit (default: run until Ctrl-C, then stop it).
        #[arg(long)]
        detach: bool,
    },
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, mult) = match s.char_indices().last() {
        Some((i, 's')) => (&s[..i], 1.0),
        Some((i, 'm')) => (&s[..i], 60.0),
        Some((i, 'h')) => (&s[..i], 3600.0),
        _ => (s, 1.0),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("--duration {s:?}: expected e.g. 600, 600s, 10m, 2h"))?;
    if !(v.is_finite() && v > 0.0) {
        return Err(format!("--duration {s:?}: must be positive"));
    }
    Ok(Duration::from_secs_f64(v * mult))
}

fn fail(e: &str) -> ExitCode {
    eprintln!("measure: error: {e}");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::Capture {
            out,
            setup,
            title,
            describe,
            reproduce,
            sources,
            duration,
            wrap,
            configs,
            skip_s,
            converge_ns,
            progress,
            template,
        } => {
            let template = match template
                .as_deref()
                .map(measure::manifest::Template::load)
                .transpose()
            {
                Ok(t) => t,
                Err(e) => return fail(&e.to_string()),
            };
            let mut parsed = Vec::new();
            for s in &sources {
                match parse_source(s) {
                    Ok(p) => parsed.push(p),
                    Err(e) => return fail(&e),
                }
            }
            let duration = match duration.as_deref().map(parse_duration).transpose() {
                Ok(d) => d,
                Err(e) => return fail(&e),
            };
            let o = CaptureOptions {
                out,
                setup,
                title,
                description: describe,
                reproduce,
                sources: parsed,
                duration,
                wrap,
                configs,
                skip_s,
                converge_ns,
                progress: Duration::from_secs_f64(progress.max(0.2)),
                template,
            };
            match measure::capture::run(&o) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Cmd::Sim {
            out,
            setup,
            seeds,
            files,
        } => match measure::data::make_sim_run(&out, &files, &setup, &seeds) {
            Ok(m) => {
                eprintln!("measure: {} series in {}", m.series.len(), out.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Cmd::Report {
            run_dir,
            out,
            reports_dir,
        } => {
            let out = match out
                .map_or_else(|| measure::report::default_out(&run_dir, &reports_dir), Ok)
            {
                Ok(o) => o,
                Err(e) => return fail(&e),
            };
            match measure::report::write_report(&run_dir, &out) {
                Ok(p) => {
                    println!("{}", p.display());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Cmd::Analyse {
            files,
            skip_s,
            converge_ns,
        } => {
            println!(
                "| file | samples | mean | 90% within ± | SD | RMS | max abs | p50 | p90 | p99 | converged | TDEV 1 s | MTIE 1 s | ADEV 1 s |"
            );
            println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            for f in files {
                let pts = match measure::series::read_csv(&f) {
                    Ok(p) => p,
                    Err(e) => return fail(&e.to_string()),
                };
                let t: Vec<f64> = pts.iter().map(|p| p.t_s).collect();
                let x: Vec<f64> = pts.iter().map(|p| p.offset_ns).collect();
                let fr: Option<Vec<f64>> = pts.iter().map(|p| p.freq_ppb).collect();
                let opts = Options {
                    from_s: skip_s.and_then(|s| Some(t.first()? + s)),
                    converge_ns,
                    converge_ppb: None,
                };
                let Some(g) = analyse(&t, &x, fr.as_deref(), &opts) else {
                    println!("| {} | 0 | | | | | | | | | | | | |", f.display());
                    continue;
                };
                let c = |v: Option<f64>, ns: bool| {
                    v.map_or_else(
                        || "-".into(),
                        |v| if ns { fmt_ns(v) } else { format!("{v:.2e}") },
                    )
                };
                println!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    f.display(),
                    g.samples,
                    fmt_ns(g.mean_ns),
                    fmt_ns(g.within90_ns),
                    fmt_ns(g.sd_ns),
                    fmt_ns(g.rms_ns),
                    fmt_ns(g.max_ns),
                    fmt_ns(g.p50_ns),
                    fmt_ns(g.p90_ns),
                    fmt_ns(g.p99_ns),
                    g.converged_after_s
                        .map_or_else(|| "never".into(), |s| format!("{s:.1} s")),
                    c(at_tau(&g.tdev, 1.0), true),
                    c(at_tau(&g.mtie, 1.0), true),
                    c(at_tau(&g.adev, 1.0), false),
                );
            }
            ExitCode::SUCCESS
        }
        Cmd::Overlay {
            file,
            out,
            title,
            clip_us,
        } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => return fail(&format!("{}: {e}", file.display())),
            };
            let (points, skipped) = match measure::overlay::parse_snapshots(&text) {
                Ok(p) => p,
                Err(e) => return fail(&format!("{}: {e}", file.display())),
            };
            if let Err(e) = measure::plot::init_font()
                .and_then(|()| measure::overlay::plot(&out, &title, &points, clip_us))
            {
                return fail(&e);
            }
            let s = measure::overlay::summarise(&points);
            println!(
                "{} snapshots ({skipped} lines skipped), {} with an intersection, median half-width {}; \
                 true time known in {}, outside the intersection in {}",
                s.snapshots,
                s.with_intersection,
                s.median_half_width.map_or("-".into(), |h| fmt_ns(h * 1e9)),
                s.with_truth,
                s.truth_outside
            );
            for (name, n) in &s.falseticker {
                println!("  {name}: falseticker in {n} of {} snapshots", s.snapshots);
            }
            println!("wrote {}", out.display());
            ExitCode::SUCCESS
        }
        Cmd::PpsOut {
            device,
            pin,
            channel,
            stop,
            detach,
        } => {
            let mut dev = match PtpPinDevice::open(&device) {
                Ok(d) => d,
                Err(e) => return fail(&e.to_string()),
            };
            let r = if stop {
                stop_pps_output(&mut dev, pin, channel).map(|()| {
                    format!("{device}: PEROUT channel {channel} stopped, pin {pin} freed")
                })
            } else {
                start_pps_output(&mut dev, pin, channel).map(|r| {
                    format!("{device}: 1 PPS on pin {pin} (PEROUT channel {channel}) from PHC second {}", r.start_sec)
                })
            };
            match r {
                Ok(m) => println!("{m}"),
                Err(e) => return fail(&format!("{device}: {e}")),
            }
            if stop || detach {
                return ExitCode::SUCCESS;
            }
            if let Err(e) = measure::pps::install_stop_handlers() {
                return fail(&e.to_string());
            }
            eprintln!("measure: Ctrl-C stops the output");
            while !measure::pps::stop_requested() {
                std::thread::sleep(Duration::from_millis(200));
            }
            match stop_pps_output(&mut dev, pin, channel) {
                Ok(()) => {
                    println!("{device}: PEROUT channel {channel} stopped, pin {pin} freed");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&format!("{device}: {e}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("600").expect("ok"), Duration::from_secs(600));
        assert_eq!(parse_duration("10m").expect("ok"), Duration::from_secs(600));
        assert_eq!(
            parse_duration("1.5h").expect("ok"),
            Duration::from_secs(5400)
        );
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
