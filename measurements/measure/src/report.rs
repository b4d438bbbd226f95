//! `measure report RUN_DIR`: the Markdown report (setup, configuration, the
//! table, the plots) in `reports/YYYY-MM-DD-<setup>/` beside a copy of the
//! run's raw data, so that every figure can be regenerated with
//! `measure report` on that folder.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::data::{Loaded, load_all};
use crate::manifest::{Manifest, PlotSpec};
use crate::plot::{Curve, histogram_steps, lines, loglog_panels};
use crate::stats::{Figures, Options, analyse, at_tau, percentile};

/// Formats nanoseconds for a table: `12 ns`, `1.23 us`, `4.56 ms`.
#[must_use]
pub fn fmt_ns(ns: f64) -> String {
    let a = ns.abs();
    if a >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if a >= 1e3 {
        format!("{:.2} us", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// A series with its figures.
#[derive(Clone, Debug)]
pub struct Analysed {
    /// The series.
    pub loaded: Loaded,
    /// Its figures (`None`: no sample in the window).
    pub figures: Option<Figures>,
}

/// Analyses every loaded series with the manifest's bounds.
#[must_use]
pub fn analyse_all(m: &Manifest, loaded: Vec<Loaded>) -> Vec<Analysed> {
    loaded
        .into_iter()
        .map(|l| {
            let t: Vec<f64> = l.points.iter().map(|p| p.t_s).collect();
            let x: Vec<f64> = l.points.iter().map(|p| p.offset_ns).collect();
            let f: Option<Vec<f64>> = l.points.iter().map(|p| p.freq_ppb).collect();
            let opts = Options {
                from_s: l.from_s(),
                converge_ns: m.converge_ns,
                converge_ppb: m.converge_ppb,
            };
            let figures = analyse(&t, &x, f.as_deref(), &opts);
            Analysed { loaded: l, figures }
        })
        .collect()
}

/// The figures of a group: one series as it is; several (seeds) as the
/// means of their figures, the worst max and the range of convergence times.
#[derive(Clone, Debug)]
pub struct GroupRow {
    /// Group name.
    pub group: String,
    /// Legend label of its first series.
    pub label: String,
    /// Series in the group (with samples).
    pub members: usize,
    /// Samples per member (mean).
    pub samples: f64,
    /// Mean (constant offset), ns.
    pub mean_ns: f64,
    /// 90% half-width around the mean, ns.
    pub within90_ns: f64,
    /// SD, ns.
    pub sd_ns: f64,
    /// RMS, ns.
    pub rms_ns: f64,
    /// Worst max |x|, ns.
    pub max_ns: f64,
    /// p50 |x|, ns.
    pub p50_ns: f64,
    /// p90 |x|, ns.
    pub p90_ns: f64,
    /// p99 |x|, ns.
    pub p99_ns: f64,
    /// Convergence: the range over members, or "never".
    pub converged: String,
    /// Frequency: mean ± SD (RMS), or "-".
    pub freq: String,
    /// What the series are.
    pub kind: String,
}

/// Aggregates the analysed series group by group.
#[must_use]
pub fn group_rows(m: &Manifest, a: &[Analysed]) -> Vec<GroupRow> {
    m.groups()
        .into_iter()
        .filter_map(|g| {
            let members: Vec<&Analysed> = a.iter().filter(|s| s.loaded.spec.group() == g).collect();
            let figs: Vec<&Figures> = members.iter().filter_map(|s| s.figures.as_ref()).collect();
            let first = members.first()?;
            #[allow(clippy::cast_precision_loss)]
            let k = figs.len().max(1) as f64;
            let avg = |f: &dyn Fn(&Figures) -> f64| figs.iter().map(|x| f(x)).sum::<f64>() / k;
            let conv: Vec<Option<f64>> = figs.iter().map(|f| f.converged_after_s).collect();
            let ok: Vec<f64> = conv.iter().flatten().copied().collect();
            let never = conv.len() - ok.len();
            let converged = if ok.is_empty() {
                "never".to_owned()
            } else {
                let lo = ok.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = ok.iter().copied().fold(0.0, f64::max);
                let mut s = if (hi - lo).abs() < 0.05 {
                    format!("{lo:.1} s")
                } else {
                    format!("{lo:.1}..{hi:.1} s")
                };
                if never > 0 {
                    let _ = write!(s, " ({never} never)");
                }
                s
            };
            let freqs: Vec<_> = figs.iter().filter_map(|f| f.freq).collect();
            let freq = if freqs.is_empty() {
                "-".to_owned()
            } else {
                #[allow(clippy::cast_precision_loss)]
                let n = freqs.len() as f64;
                let mean = freqs.iter().map(|f| f.mean_ppb).sum::<f64>() / n;
                let sd = freqs.iter().map(|f| f.sd_ppb).sum::<f64>() / n;
                let rms = freqs.iter().map(|f| f.rms_ppb).sum::<f64>() / n;
                format!("{mean:+.1} ± {sd:.1} ppb (RMS {rms:.1})")
            };
            Some(GroupRow {
                group: g.clone(),
                label: first.loaded.spec.label().to_owned(),
                members: figs.len(),
                #[allow(clippy::cast_precision_loss)]
                samples: avg(&|f| f.samples as f64),
                mean_ns: avg(&|f| f.mean_ns),
                within90_ns: avg(&|f| f.within90_ns),
                sd_ns: avg(&|f| f.sd_ns),
                rms_ns: avg(&|f| f.rms_ns),
                max_ns: figs.iter().map(|f| f.max_ns).fold(0.0, f64::max),
                p50_ns: avg(&|f| f.p50_ns),
                p90_ns: avg(&|f| f.p90_ns),
                p99_ns: avg(&|f| f.p99_ns),
                converged,
                freq,
                kind: first.loaded.spec.kind.to_string(),
            })
        })
        .collect()
}

fn figures_table(rows: &[GroupRow]) -> String {
    let mut s = String::from(
        "| series | what | runs | samples | mean (constant offset) | 90% within ± | SD | RMS | max abs | p50 abs | p90 abs | p99 abs | converged after | frequency |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} (`{}`) | {} | {} | {:.0} | {} | {} | {} | **{}** | {} | {} | {} | {} | {} | {} |",
            r.label,
            r.group,
            r.kind,
            r.members,
            r.samples,
            fmt_ns(r.mean_ns),
            fmt_ns(r.within90_ns),
            fmt_ns(r.sd_ns),
            fmt_ns(r.rms_ns),
            fmt_ns(r.max_ns),
            fmt_ns(r.p50_ns),
            fmt_ns(r.p90_ns),
            fmt_ns(r.p99_ns),
            r.converged,
            r.freq
        );
    }
    s
}

fn stability_table(m: &Manifest, a: &[Analysed]) -> String {
    let taus = [1.0, 10.0, 100.0];
    let mut s = String::from(
        "| series | τ0 | TDEV 1 s | TDEV 10 s | TDEV 100 s | MTIE 1 s | MTIE 10 s | MTIE 100 s | ADEV 1 s | ADEV 10 s | ADEV 100 s |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for g in m.groups() {
        let Some(x) = a
            .iter()
            .find(|s| s.loaded.spec.group() == g && s.figures.is_some())
        else {
            continue;
        };
        let Some(f) = &x.figures else { continue };
        let cell = |c: &[(f64, f64)], tau: f64, ns: bool| {
            at_tau(c, tau).map_or_else(
                || "-".to_owned(),
                |v| if ns { fmt_ns(v) } else { format!("{v:.2e}") },
            )
        };
        let _ = write!(s, "| {} | {:.4} s |", x.loaded.spec.name, f.tau0_s);
        for t in taus {
            let _ = write!(s, " {} |", cell(&f.tdev, t, true));
        }
        for t in taus {
            let _ = write!(s, " {} |", cell(&f.mtie, t, true));
        }
        for t in taus {
            let _ = write!(s, " {} |", cell(&f.adev, t, false));
        }
        s.push('\n');
    }
    s
}

fn series_table(a: &[Analysed]) -> String {
    let mut s = String::from(
        "| series | what | source | samples (all) | statistics from | τ0 | grid points filled |\n|---|---|---|---|---|---|---|\n",
    );
    for x in a {
        let spec = &x.loaded.spec;
        let src = spec.file.clone().map_or_else(
            || spec.source.clone(),
            |f| format!("`{f}` ({})", spec.source),
        );
        let from = x
            .loaded
            .from_s()
            .map_or_else(|| "first sample".to_owned(), |f| format!("t = {f:.1} s"));
        let (tau0, filled) = x
            .figures
            .as_ref()
            .map_or((0.0, 0), |f| (f.tau0_s, f.filled));
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {:.4} s | {} |",
            spec.name,
            spec.kind,
            src,
            x.loaded.points.len(),
            from,
            tau0,
            filled
        );
    }
    s
}

fn plot_groups(m: &Manifest, p: &PlotSpec) -> Vec<String> {
    if p.groups.is_empty() {
        m.groups()
    } else {
        p.groups.clone()
    }
}

/// Draws the three figures of one plot; returns their file names.
fn draw_plot(
    m: &Manifest,
    p: &PlotSpec,
    a: &[Analysed],
    dir: &Path,
) -> Result<Vec<String>, String> {
    let groups = plot_groups(m, p);
    let firsts: Vec<&Analysed> = groups
        .iter()
        .filter_map(|g| {
            a.iter()
                .find(|s| s.loaded.spec.group() == g && s.figures.is_some())
        })
        .collect();
    if firsts.is_empty() {
        return Ok(Vec::new());
    }
    let origin = m.time_origin_s.unwrap_or_else(|| {
        firsts
            .iter()
            .filter_map(|s| s.loaded.points.first().map(|p| p.t_s))
            .fold(f64::INFINITY, f64::min)
    });
    let title = if p.title.is_empty() {
        &p.name
    } else {
        &p.title
    };
    let many = |g: &str| a.iter().filter(|s| s.loaded.spec.group() == g).count() > 1;
    let legend = |s: &Analysed| {
        if many(s.loaded.spec.group()) {
            format!(
                "{} ({})",
                s.loaded.spec.label(),
                s.loaded.spec.name.rsplit('/').next().unwrap_or("")
            )
        } else {
            s.loaded.spec.label().to_owned()
        }
    };
    let window = |s: &Analysed| -> Vec<(f64, f64)> {
        let from = s.loaded.from_s().unwrap_or(f64::NEG_INFINITY);
        s.loaded
            .points
            .iter()
            .filter(|p| p.t_s >= from)
            .map(|p| (p.t_s - origin, p.offset_ns))
            .collect()
    };
    let mut files = Vec::new();
    let clip = |pts: Vec<(f64, f64)>| match p.clip_ns {
        Some(c) => pts.into_iter().map(|(t, y)| (t, y.clamp(-c, c))).collect(),
        None => pts,
    };
    let time: Vec<Curve> = firsts
        .iter()
        .map(|s| Curve {
            label: legend(s),
            points: clip(window(s)),
        })
        .collect();
    let f = format!("{}-offset.png", p.name);
    let time_title = p.clip_ns.map_or_else(
        || format!("{title}: offset over time"),
        |c| format!("{title}: offset over time (clipped at ±{})", fmt_ns(c)),
    );
    lines(&dir.join(&f), &time_title, "time (s)", "offset (ns)", &time)?;
    files.push(f);
    // Histograms pool every member of a group.
    let pooled: Vec<(String, Vec<f64>)> = groups
        .iter()
        .filter_map(|g| {
            let members: Vec<&Analysed> = a.iter().filter(|s| s.loaded.spec.group() == g).collect();
            let v: Vec<f64> = members
                .iter()
                .flat_map(|s| window(s).into_iter().map(|p| p.1))
                .collect();
            let label = members.first()?.loaded.spec.label().to_owned();
            let label = if members.len() > 1 {
                format!("{label} ({} runs)", members.len())
            } else {
                label
            };
            (!v.is_empty()).then_some((label, v))
        })
        .collect();
    let mut all: Vec<f64> = pooled.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    let lo = percentile(&mut all, 0.002);
    let hi = percentile(&mut all, 0.998);
    let hist: Vec<Curve> = pooled
        .iter()
        .map(|(l, v)| Curve {
            label: l.clone(),
            points: histogram_steps(v, lo, hi, 60),
        })
        .collect();
    let f = format!("{}-hist.png", p.name);
    lines(
        &dir.join(&f),
        &format!("{title}: histogram (0.2..99.8 % range)"),
        "offset (ns)",
        "share of samples per bin",
        &hist,
    )?;
    files.push(f);
    let curves = |pick: &dyn Fn(&Figures) -> Vec<(f64, f64)>| -> Vec<Curve> {
        firsts
            .iter()
            .filter_map(|s| {
                Some(Curve {
                    label: legend(s),
                    points: pick(s.figures.as_ref()?),
                })
            })
            .collect()
    };
    let f = format!("{}-stability.png", p.name);
    loglog_panels(
        &dir.join(&f),
        &[
            ("TDEV", "TDEV (ns)", curves(&|f| f.tdev.clone())),
            ("MTIE", "MTIE (ns)", curves(&|f| f.mtie.clone())),
            (
                "Allan deviation (frequency)",
                "ADEV",
                curves(&|f| f.adev.clone()),
            ),
        ],
    )?;
    files.push(f);
    Ok(files)
}

fn comparison_table(m: &Manifest, p: &PlotSpec, rows: &[GroupRow]) -> String {
    let groups = plot_groups(m, p);
    let mut s = String::from(
        "| who | runs | mean | 90% within ± | SD | RMS | max abs | p99 abs | converged / sync |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows.iter().filter(|r| groups.contains(&r.group)) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | **{}** | {} | {} | {} |",
            r.label,
            r.members,
            fmt_ns(r.mean_ns),
            fmt_ns(r.within90_ns),
            fmt_ns(r.sd_ns),
            fmt_ns(r.rms_ns),
            fmt_ns(r.max_ns),
            fmt_ns(r.p99_ns),
            r.converged
        );
    }
    let o = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), fmt_ns);
    for an in m.anchor.iter().filter(|x| x.plot == p.name) {
        let _ = writeln!(
            s,
            "| {} (published) | - | {} | - | {} | {} | {} | {} | {} |",
            an.label,
            o(an.mean_ns),
            o(an.sd_ns),
            o(an.rms_ns),
            o(an.max_ns),
            o(an.p99_ns),
            if an.sync.is_empty() { "-" } else { &an.sync }
        );
    }
    s
}

/// Writes the report of a run directory into `out` (created), copying the
/// run's files there unless `out` is the run directory itself. Returns the
/// README path.
///
/// # Errors
/// Manifest, series, plot and I/O errors, naming the file.
pub fn write_report(run_dir: &Path, out: &Path) -> Result<PathBuf, String> {
    let m = Manifest::load(run_dir).map_err(|e| e.to_string())?;
    let loaded = load_all(run_dir, &m)?;
    std::fs::create_dir_all(out.join("plots")).map_err(|e| format!("{}: {e}", out.display()))?;
    let same = run_dir.canonicalize().ok() == out.canonicalize().ok();
    if !same {
        copy_run(run_dir, out)?;
    }
    let a = analyse_all(&m, loaded);
    let rows = group_rows(&m, &a);
    let mut s = String::new();
    let title = if m.title.is_empty() {
        &m.setup
    } else {
        &m.title
    };
    let _ = writeln!(s, "# {}: {title}\n", m.date);
    let _ = writeln!(
        s,
        "Captured {} (status: {}). Generated by `measure report` from the raw data in this folder \
         (`run.toml` and the files it names); run `cargo run --release -p measure -- report <this folder>` to regenerate \
         every table and figure.\n",
        m.date,
        if m.status.is_empty() {
            "complete"
        } else {
            &m.status
        }
    );
    if !m.reproduce.is_empty() {
        let _ = writeln!(
            s,
            "## Reproduce\n\n```sh\n{}\n```\n",
            m.reproduce.trim_end()
        );
    }
    if !m.description.is_empty() {
        let _ = writeln!(s, "## Setup\n\n{}\n", m.description.trim_end());
    }
    if !m.configs.is_empty() {
        s.push_str("## Configuration\n\n");
        for c in &m.configs {
            let _ = writeln!(s, "- [`{c}`]({c})");
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "## Figures\n\n\
         Per series (a group of several runs, e.g. seeds, gives the means of their figures, the worst max and the range of \
         convergence times). **mean** is the constant offset (asymmetry); **90% within ±** is the half-width around the \
         mean that holds 90% of the samples (as Statime's lab reports give it: \"90% of samples within X of a constant \
         offset Y\"); SD and RMS; max, p50, p90 and p99 of |offset| (nearest rank); **converged after**: time from the \
         series' first sample after which |offset| <= {}{} holds for good; frequency: mean ± SD (RMS) \
         of the frequency column (true frequency error in the simulator, the servo's adjustment in a log).\n",
        fmt_ns(m.converge_ns),
        m.converge_ppb
            .map_or_else(String::new, |p| format!(" and |frequency| <= {p} ppb"))
    );
    s.push_str(&figures_table(&rows));
    if !m.notes.is_empty() {
        let _ = writeln!(s, "\n### Findings\n\n{}", m.notes.trim_end());
    }
    s.push_str(
        "\n### Stability\n\nTDEV and MTIE of the offset (phase) and the overlapping Allan deviation of the frequency \
         computed from it, at τ = 1, 10, 100 s (interpolated log-log between the octave points; first series of each \
         group). The curves are in the `*-stability.png` figures.\n\n",
    );
    s.push_str(&stability_table(&m, &a));
    let plots: Vec<PlotSpec> = if m.plot.is_empty() {
        vec![PlotSpec {
            name: "all".into(),
            title: title.clone(),
            groups: Vec::new(),
            clip_ns: None,
        }]
    } else {
        m.plot.clone()
    };
    s.push_str("\n## Comparisons and plots\n\n");
    for p in &plots {
        let files = draw_plot(&m, p, &a, &out.join("plots"))?;
        let _ = writeln!(
            s,
            "### {}\n",
            if p.title.is_empty() {
                &p.name
            } else {
                &p.title
            }
        );
        s.push_str(&comparison_table(&m, p, &rows));
        s.push('\n');
        for f in files {
            let _ = writeln!(s, "![{f}](plots/{f})\n");
        }
    }
    s.push_str("## Series\n\n");
    s.push_str(&series_table(&a));
    let readme = out.join("README.md");
    std::fs::write(&readme, s).map_err(|e| format!("{}: {e}", readme.display()))?;
    Ok(readme)
}

fn copy_run(from: &Path, to: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for e in entries {
        let e = e.map_err(|e| format!("{}: {e}", from.display()))?;
        let name = e.file_name();
        if name == "plots" || name == "README.md" {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        if src.is_dir() {
            std::fs::create_dir_all(&dst).map_err(|e| format!("{}: {e}", dst.display()))?;
            copy_run(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}

/// The default report folder: `<reports>/<date>-<setup>`.
///
/// # Errors
/// The manifest cannot be read.
pub fn default_out(run_dir: &Path, reports: &Path) -> Result<PathBuf, String> {
    let m = Manifest::load(run_dir).map_err(|e| e.to_string())?;
    Ok(reports.join(format!("{}-{}", m.date, m.setup)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::{Point, write_csv};

    #[test]
    fn report_of_a_small_run() {
        let dir = std::env::temp_dir().join(format!("measure-report-{}", std::process::id()));
        let run = dir.join("run");
        std::fs::create_dir_all(run.join("data")).expect("dir");
        let a: Vec<Point> = (0..400)
            .map(|i| Point::new(f64::from(i), 100.0 + f64::from(i % 7) - 3.0))
            .collect();
        let b: Vec<Point> = (0..400)
            .map(|i| Point::new(f64::from(i), -50.0 + f64::from(i % 11) * 10.0))
            .collect();
        write_csv(&run.join("data/a.csv"), &a).expect("write");
        write_csv(&run.join("data/b.csv"), &b).expect("write");
        std::fs::write(
            run.join("run.toml"),
            "setup = \"unit\"\ndate = \"2026-11-22\"\ntitle = \"unit test\"\n\
             [[series]]\nname = \"a\"\nlabel = \"ours\"\nfile = \"data/a.csv\"\nkind = \"true-error\"\n\
             [[series]]\nname = \"b\"\nlabel = \"theirs\"\nfile = \"data/b.csv\"\nskip-s = 10\n\
             [[plot]]\nname = \"cmp\"\n[[anchor]]\nplot = \"cmp\"\nlabel = \"published\"\nrms-ns = 42\n",
        )
        .expect("manifest");
        let out = default_out(&run, &dir).expect("manifest");
        assert!(out.ends_with("2026-11-22-unit"));
        if std::fs::metadata(crate::plot::DEFAULT_FONT).is_err()
            && std::env::var_os("MEASURE_FONT").is_none()
        {
            // Without the font the report stops with an error that says what to install.
            let e = write_report(&run, &out).expect_err("no font");
            assert!(e.contains("fonts-dejavu-core"), "{e}");
            std::fs::remove_dir_all(&dir).expect("cleanup");
            return;
        }
        let readme = write_report(&run, &out).expect("report");
        let text = std::fs::read_to_string(&readme).expect("readme");
        // Series a: mean 100, |x - mean| <= 3, so 90% within 3 ns.
        assert!(
            text.contains("| ours (`a`) | true error | 1 | 400 | 100 ns | 3 ns |"),
            "{text}"
        );
        assert!(
            text.contains("| published (published) | - | - | - | - | 42 ns |"),
            "{text}"
        );
        assert!(out.join("data/a.csv").exists() && out.join("run.toml").exists());
        assert!(out.join("plots/cmp-stability.png").exists());
        assert!(text.contains("![cmp-offset.png](plots/cmp-offset.png)"));
        // Regenerating in place gives the same text.
        let again = write_report(&out, &out).expect("in place");
        assert_eq!(std::fs::read_to_string(again).expect("readme"), text);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn fmt_ns_units() {
        assert_eq!(fmt_ns(12.4), "12 ns");
        assert_eq!(fmt_ns(-1234.0), "-1.23 us");
        assert_eq!(fmt_ns(2.5e7), "25.00 ms");
    }
}
