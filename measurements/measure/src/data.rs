//! Loading the series of a run directory: series files, or simulator runs
//! (`statime_sim`, deterministic: a scenario file and a seed are the raw
//! data), and writing the run directory of a simulator run.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use statime_sim::scenario::{Scenario, ServoKind};
use statime_sim::{RunResult, run_one};

use crate::manifest::{AnchorSpec, Kind, Manifest, PlotSpec, SeriesSpec, SimSource};
use crate::series::{Point, read_csv};

/// A loaded series.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// Its manifest entry.
    pub spec: SeriesSpec,
    /// Its samples.
    pub points: Vec<Point>,
}

impl Loaded {
    /// The statistics window start (absolute time), from `from-s` or
    /// `skip-s`.
    #[must_use]
    pub fn from_s(&self) -> Option<f64> {
        self.spec
            .from_s
            .or_else(|| Some(self.points.first()?.t_s + self.spec.skip_s?))
    }
}

fn servo_of(s: Option<&str>) -> Result<Option<ServoKind>, String> {
    match s {
        None => Ok(None),
        Some("pi") => Ok(Some(ServoKind::Pi)),
        Some("kalman") => Ok(Some(ServoKind::Kalman)),
        Some(o) => Err(format!("servo must be \"pi\" or \"kalman\", not {o:?}")),
    }
}

/// Loads every series of a run directory. Simulator runs are cached per
/// (scenario, seed, servo).
///
/// # Errors
/// A message naming the series and the file.
pub fn load_all(dir: &Path, m: &Manifest) -> Result<Vec<Loaded>, String> {
    let mut cache: HashMap<(String, u64, Option<String>), RunResult> = HashMap::new();
    let mut scenarios: HashMap<String, Scenario> = HashMap::new();
    let mut out = Vec::new();
    for spec in &m.series {
        let points = if let Some(f) = &spec.file {
            read_csv(&dir.join(f)).map_err(|e| format!("series {:?}: {e}", spec.name))?
        } else if let Some(sim) = &spec.sim {
            sim_points(dir, sim, &mut cache, &mut scenarios)
                .map_err(|e| format!("series {:?}: {e}", spec.name))?
        } else {
            return Err(format!("series {:?}: no source", spec.name));
        };
        out.push(Loaded {
            spec: spec.clone(),
            points,
        });
    }
    Ok(out)
}

fn sim_points(
    dir: &Path,
    sim: &SimSource,
    cache: &mut HashMap<(String, u64, Option<String>), RunResult>,
    scenarios: &mut HashMap<String, Scenario>,
) -> Result<Vec<Point>, String> {
    let servo = servo_of(sim.servo.as_deref())?;
    if !scenarios.contains_key(&sim.scenario) {
        let sc = Scenario::load(&dir.join(&sim.scenario)).map_err(|e| e.to_string())?;
        scenarios.insert(sim.scenario.clone(), sc);
    }
    let sc = &scenarios[&sim.scenario];
    let key = (sim.scenario.clone(), sim.seed, sim.servo.clone());
    if !cache.contains_key(&key) {
        let r = run_one(sc, sim.seed, servo).map_err(|e| format!("{}: {e}", sim.scenario))?;
        cache.insert(key.clone(), r);
    }
    let run = &cache[&key];
    let node = run
        .nodes
        .iter()
        .find(|n| n.id == sim.node)
        .ok_or_else(|| format!("{}: no node {:?}", sim.scenario, sim.node))?;
    Ok(node
        .series
        .iter()
        .map(|s| Point {
            t_s: s.t_s,
            offset_ns: s.offset_ns,
            freq_ppb: Some(s.freq_ppb),
            path_delay_ns: None,
            state: s.state.to_owned(),
        })
        .collect())
}

/// The git commit of the working tree and whether it has local changes
/// (best effort: "unknown" without git).
fn tree_version() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match (
        git(&["rev-parse", "--short", "HEAD"]),
        git(&["status", "--porcelain"]),
    ) {
        (Some(c), Some(st)) if st.is_empty() => format!("git commit {c}"),
        (Some(c), Some(st)) => format!(
            "git commit {c} plus {} uncommitted change(s) in the tree",
            st.lines().count()
        ),
        _ => "unknown (no git)".to_owned(),
    }
}

/// Builds the run directory of simulator scenarios: copies the scenario
/// files into `DIR/scenarios/` and writes a manifest with one series per
/// scenario, servo, seed and measured node (a group per scenario, servo
/// and node; a plot per scenario; the scenario's ptp4l anchor figures).
///
/// # Errors
/// Scenario and I/O errors, naming the file.
pub fn make_sim_run(
    dir: &Path,
    files: &[PathBuf],
    setup: &str,
    seeds: &[u64],
) -> Result<Manifest, String> {
    std::fs::create_dir_all(dir.join("scenarios"))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut m = Manifest {
        setup: setup.to_owned(),
        title: "Simulator: true clock error of our servos in the baseline scenarios".into(),
        date: crate::manifest::today_utc(),
        status: "complete".into(),
        converge_ns: 2000.0,
        converge_ppb: Some(2000.0),
        time_origin_s: Some(0.0),
        ..Manifest::default()
    };
    let mut desc = String::from(
        "The real `statime` core run by `statime-sim` (`measurements/sim`) over virtual clocks and a virtual network. \
         Each series is the **true clock error** of the measured node (its clock minus true time), once per simulated second; \
         statistics from the scenario's reset time; convergence = first second after which |offset| <= 2 us and |frequency error| <= 2 ppm hold for good, \
         in seconds since the node's first sample (the slave starts at 9 s: add 9 s to compare with the ptp4l anchors' sync column, \
         which counts from the start of the run, as clknetsim does). The anchors are ptp4l 3.1.1 under clknetsim \
         (`shared/reference/baselines.md` section 1): RMS = mean over 5 seeds, max = worst seed, p99 = mean. The simulator is deterministic: the scenario file and the seed are the raw data, \
         and `measure report` re-runs them.\n\nScenarios:\n\n",
    );
    let run_dir = format!("/tmp/{setup}");
    let mut repro =
        format!("cargo run --release -p measure -- sim --setup {setup} --out {run_dir}");
    for f in files {
        let sc = Scenario::load(f).map_err(|e| e.to_string())?;
        let stem = f
            .file_name()
            .ok_or_else(|| format!("{}: not a file", f.display()))?
            .to_string_lossy()
            .into_owned();
        let rel = format!("scenarios/{stem}");
        std::fs::copy(f, dir.join(&rel)).map_err(|e| format!("{}: {e}", f.display()))?;
        let _ = write!(repro, " {}", f.display());
        let _ = writeln!(desc, "- `{rel}` ({}): {}", sc.name, sc.description);
        let seeds: Vec<u64> = if seeds.is_empty() {
            sc.seeds.clone()
        } else {
            seeds.to_vec()
        };
        let servos: Vec<Option<String>> = if sc.servos.is_empty() {
            vec![None]
        } else {
            sc.servos.iter().map(|s| Some(s.to_string())).collect()
        };
        let measured: Vec<&str> = sc
            .nodes
            .iter()
            .filter(|n| n.measure)
            .map(|n| n.id.as_str())
            .collect();
        let mut groups = Vec::new();
        for servo in &servos {
            for node in &measured {
                let sv = servo.as_deref().unwrap_or("own");
                let group = if measured.len() > 1 {
                    format!("{}/{sv}/{node}", sc.name)
                } else {
                    format!("{}/{sv}", sc.name)
                };
                for seed in &seeds {
                    m.series.push(SeriesSpec {
                        name: format!("{group}/seed{seed}"),
                        label: format!(
                            "ours {sv}{}",
                            if measured.len() > 1 {
                                format!(" {node}")
                            } else {
                                String::new()
                            }
                        ),
                        group: group.clone(),
                        kind: Kind::TrueError,
                        file: None,
                        sim: Some(SimSource {
                            scenario: rel.clone(),
                            seed: *seed,
                            servo: servo.clone(),
                            node: (*node).to_owned(),
                        }),
                        from_s: Some(sc.reset_s),
                        skip_s: None,
                        samples: None,
                        source: format!("statime-sim {rel} seed {seed}"),
                    });
                }
                groups.push(group);
            }
        }
        m.plot.push(PlotSpec {
            name: sc.name.clone(),
            title: if sc.description.is_empty() {
                sc.name.clone()
            } else {
                sc.description.clone()
            },
            groups,
            clip_ns: None,
        });
        if let Some(a) = &sc.anchor {
            for (label, f) in [
                ("ptp4l PI under clknetsim", &a.ptp4l_pi),
                ("ptp4l linreg under clknetsim", &a.ptp4l_linreg),
            ] {
                if let Some(f) = f {
                    m.anchor.push(AnchorSpec {
                        plot: sc.name.clone(),
                        label: if f.run.is_empty() {
                            label.to_owned()
                        } else {
                            format!("{label} ({} s)", f.run)
                        },
                        rms_ns: Some(f.rms_ns),
                        max_ns: f.max_ns,
                        p99_ns: f.p99_ns,
                        mean_ns: None,
                        sd_ns: None,
                        sync: f.sync.clone(),
                    });
                }
            }
        }
    }
    let _ = write!(
        desc,
        "\nCode: {} (the series are re-run by `measure report`, so regenerating with another tree re-measures that tree).\n",
        tree_version()
    );
    m.description = desc;
    let _ = write!(
        repro,
        "\ncargo run --release -p measure -- report {run_dir}    # -> measurements/reports/<date>-{setup}/"
    );
    m.reproduce = repro;
    m.save(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(m)
}
