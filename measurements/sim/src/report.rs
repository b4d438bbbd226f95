//! Running a scenario over its seeds and servo variants, and presenting the
//! results: a Markdown summary table (ours beside the anchor), the BMCA
//! check results, and CSV files of the time series.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::scenario::{Scenario, ServoKind};
use crate::sim::{RunConfig, RunResult, SimError, Simulation};
use crate::stats::{Aggregate, Stats, fmt_ns};

/// One node's figures over the seeds of one variant.
#[derive(Clone, Debug)]
pub struct NodeSummary {
    /// Node id.
    pub id: String,
    /// Servo it ran.
    pub servo: ServoKind,
    /// When it started, s.
    pub start_s: f64,
    /// The aggregate.
    pub agg: Aggregate,
}

/// The runs of one servo variant.
#[derive(Clone, Debug)]
pub struct VariantReport {
    /// The override (`None`: the nodes' own servos).
    pub servo: Option<ServoKind>,
    /// One run per seed, in seed order.
    pub runs: Vec<RunResult>,
    /// The measured nodes' aggregates.
    pub nodes: Vec<NodeSummary>,
}

/// Everything measured for one scenario.
#[derive(Clone, Debug)]
pub struct ScenarioReport {
    /// The scenario.
    pub scenario: Scenario,
    /// Per variant.
    pub variants: Vec<VariantReport>,
}

impl ScenarioReport {
    /// Whether every check of every run passed.
    #[must_use]
    pub fn checks_passed(&self) -> bool {
        self.variants
            .iter()
            .flat_map(|v| &v.runs)
            .flat_map(|r| &r.checks)
            .all(|c| c.passed)
    }
}

/// Runs one seed.
///
/// # Errors
/// As [`Simulation::run`].
pub fn run_one(sc: &Scenario, seed: u64, servo: Option<ServoKind>) -> Result<RunResult, SimError> {
    Simulation::new(RunConfig {
        scenario: sc,
        seed,
        servo,
    })
    .run()
}

/// Runs every seed of every variant of `sc` on up to `threads` threads
/// (results do not depend on the thread count). `seeds` overrides the
/// scenario's seeds when not empty.
///
/// # Errors
/// The first run that failed.
pub fn run_scenario(
    sc: &Scenario,
    seeds: &[u64],
    threads: usize,
) -> Result<ScenarioReport, SimError> {
    let seeds: Vec<u64> = if seeds.is_empty() {
        sc.seeds.clone()
    } else {
        seeds.to_vec()
    };
    let variants: Vec<Option<ServoKind>> = if sc.servos.is_empty() {
        vec![None]
    } else {
        sc.servos.iter().copied().map(Some).collect()
    };
    let jobs: Vec<(usize, u64, Option<ServoKind>)> = variants
        .iter()
        .enumerate()
        .flat_map(|(v, s)| seeds.iter().map(move |&seed| (v, seed, *s)))
        .collect();
    let threads = threads.clamp(1, jobs.len().max(1));
    let mut results: Vec<Option<Result<RunResult, SimError>>> = jobs.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let chunks: Vec<Vec<usize>> = (0..threads)
            .map(|k| (k..jobs.len()).step_by(threads).collect())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|idx| {
                let jobs = &jobs;
                scope.spawn(move || {
                    idx.into_iter()
                        .map(|j| {
                            let (_, seed, servo) = jobs[j];
                            (j, run_one(sc, seed, servo))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (j, r) in h.join().expect("a simulation thread panicked") {
                results[j] = Some(r);
            }
        }
    });
    let mut out = Vec::new();
    let mut it = results.into_iter();
    for servo in variants {
        let mut runs = Vec::new();
        for _ in &seeds {
            runs.push(it.next().flatten().expect("every job ran")?);
        }
        let nodes = summarize(&runs);
        out.push(VariantReport { servo, runs, nodes });
    }
    Ok(ScenarioReport {
        scenario: sc.clone(),
        variants: out,
    })
}

fn summarize(runs: &[RunResult]) -> Vec<NodeSummary> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    first
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.measured)
        .map(|(i, n)| {
            let stats: Vec<Stats> = runs.iter().map(|r| r.nodes[i].stats).collect();
            NodeSummary {
                id: n.id.clone(),
                servo: n.servo,
                start_s: n.start_s,
                agg: Aggregate::of(&stats),
            }
        })
        .collect()
}

fn yes_no(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

/// The Markdown summary table of several scenarios: one row per scenario,
/// servo variant and measured node, with the anchor figures beside ours.
#[must_use]
pub fn summary_table(reports: &[ScenarioReport]) -> String {
    let mut s = String::new();
    s.push_str(
        "| scenario | servo | node | run/reset (s) | sync (s) | sync after start (s) | RMS | max | p99 | mean | RMS freq | ptp4l PI RMS / max | ptp4l linreg RMS / max | ours / linreg | RMS target | max target | sync target |\n",
    );
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in reports {
        let sc = &r.scenario;
        let anchor = sc.anchor.as_ref();
        for v in &r.variants {
            for n in &v.nodes {
                let a = &n.agg;
                let fig = |f: Option<&crate::scenario::AnchorFigures>| {
                    f.map_or_else(
                        || "-".to_owned(),
                        |f| {
                            let mut x = format!(
                                "{} / {}",
                                fmt_ns(f.rms_ns),
                                f.max_ns.map_or_else(|| "-".into(), fmt_ns)
                            );
                            if !f.run.is_empty() {
                                let _ = write!(x, " ({})", f.run);
                            }
                            x
                        },
                    )
                };
                let pi = fig(anchor.and_then(|a| a.ptp4l_pi.as_ref()));
                let lr = fig(anchor.and_then(|a| a.ptp4l_linreg.as_ref()));
                let ratio = anchor
                    .and_then(|a| a.ptp4l_linreg.as_ref())
                    .map_or_else(|| "-".into(), |l| format!("{:.2}x", a.rms_ns / l.rms_ns));
                let rms_t = anchor
                    .and_then(crate::scenario::Anchor::rms_target)
                    .map_or_else(
                        || "-".into(),
                        |t| format!("<= {}: {}", fmt_ns(t), yes_no(a.rms_ns <= t)),
                    );
                let max_t = anchor
                    .and_then(crate::scenario::Anchor::max_target)
                    .map_or_else(
                        || "-".into(),
                        |t| format!("<= {}: {}", fmt_ns(t), yes_no(a.max_ns <= t)),
                    );
                let sync_t = anchor.and_then(|a| a.target_sync_s).map_or_else(
                    || "-".into(),
                    |t| {
                        let ok = a.worst_sync_after_start().is_some_and(|w| w < t);
                        format!("< {t:.0} s: {}", yes_no(ok))
                    },
                );
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {:.0}/{:.0} | {} | {} | {} | {} | {} | {} | {:.1} ppb | {} | {} | {} | {} | {} | {} |",
                    sc.name,
                    n.servo,
                    n.id,
                    sc.duration_s,
                    sc.reset_s,
                    Aggregate::sync_range(&a.sync_s),
                    Aggregate::sync_range(&a.sync_after_start_s),
                    fmt_ns(a.rms_ns),
                    fmt_ns(a.max_ns),
                    fmt_ns(a.p99_ns),
                    fmt_ns(a.mean_ns),
                    a.rms_freq_ppb,
                    pi,
                    lr,
                    ratio,
                    rms_t,
                    max_t,
                    sync_t,
                );
            }
        }
    }
    s
}

/// The BMCA checks as a Markdown table (empty if no scenario has checks).
#[must_use]
pub fn checks_table(reports: &[ScenarioReport]) -> String {
    let mut s = String::new();
    for r in reports {
        for v in &r.variants {
            for run in &v.runs {
                for (k, c) in run.checks.iter().enumerate() {
                    if s.is_empty() {
                        s.push_str("| scenario | servo | seed | check | window (s) | grandmaster | agreed after (s) | bound (s) | ticks with 2 masters on a link (whole window) | result |\n");
                        s.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
                    }
                    let _ = writeln!(
                        s,
                        "| {} | {} | {} | {} | {:.0}..{:.0} | {} | {} | {:.1} | {} | {} |",
                        r.scenario.name,
                        v.servo.map_or_else(|| "-".into(), |x| x.to_string()),
                        run.seed,
                        k,
                        c.after_s,
                        c.until_s,
                        c.grandmaster.as_deref().unwrap_or("none"),
                        c.agreed_after_s
                            .map_or_else(|| "never".into(), |a| format!("{a:.1}")),
                        c.bound_s,
                        c.two_master_ticks,
                        if c.passed { "PASS" } else { "FAIL" },
                    );
                }
            }
        }
    }
    s
}

/// A file-name-safe version of `s`.
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes one CSV per scenario, variant, seed and measured node
/// (`<scenario>__<servo>__seed<k>__<node>.csv`: `t_s, offset_ns,
/// freq_error_ppb, port_state, servo_state`) and `summary.csv` (one row per
/// seed and node, the figures of [`Stats`]).
///
/// # Errors
/// I/O errors.
pub fn write_csv(dir: &Path, reports: &[ScenarioReport]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut summary = std::io::BufWriter::new(std::fs::File::create(dir.join("summary.csv"))?);
    writeln!(
        summary,
        "scenario,servo,seed,node,samples,rms_ns,mean_ns,max_ns,p99_ns,rms_freq_ppb,sync_s,sync_after_start_s,steps,servo_samples,servo_rejected,rx_refused"
    )?;
    for r in reports {
        for v in &r.variants {
            for run in &v.runs {
                for n in run.nodes.iter().filter(|n| n.measured) {
                    let name = format!(
                        "{}__{}__seed{}__{}.csv",
                        safe(&r.scenario.name),
                        n.servo,
                        run.seed,
                        safe(&n.id)
                    );
                    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(name))?);
                    writeln!(f, "t_s,offset_ns,freq_error_ppb,port_state,servo_state")?;
                    for s in &n.series {
                        writeln!(
                            f,
                            "{:.0},{:.3},{:.3},{},{}",
                            s.t_s, s.offset_ns, s.freq_ppb, s.state, s.servo
                        )?;
                    }
                    let st = &n.stats;
                    let opt = |o: Option<f64>| o.map_or_else(String::new, |v| format!("{v:.0}"));
                    writeln!(
                        summary,
                        "{},{},{},{},{},{:.3},{:.3},{:.3},{:.3},{:.3},{},{},{},{},{},{}",
                        r.scenario.name,
                        n.servo,
                        run.seed,
                        n.id,
                        st.samples,
                        st.rms_ns,
                        st.mean_ns,
                        st.max_ns,
                        st.p99_ns,
                        st.rms_freq_ppb,
                        opt(st.sync_s),
                        opt(st.sync_after_start_s),
                        n.steps,
                        n.servo_samples,
                        n.servo_stats.rejected,
                        n.rx_errors,
                    )?;
                }
            }
        }
    }
    summary.flush()
}
