//! `run.toml`: what a run directory holds and how to report it.
//!
//! ```toml
//! setup = "veth-10min"          # the <setup> of reports/YYYY-MM-DD-<setup>/
//! title = "…"
//! date = "2026-11-22"           # UTC date of the capture
//! status = "complete"           # running | complete | interrupted
//! description = "markdown: the setup"
//! reproduce = "shell commands"
//! notes = "markdown: findings, shown after the table"
//! configs = ["cfg/slave.toml"]  # files of the run directory listed in the report
//! converge-ns = 2000            # convergence bound on |offset|
//! converge-ppb = 2000           # and on |frequency| (optional)
//! time-origin-s = 0             # x axis origin of the time plots (default: first sample)
//!
//! [[series]]
//! name = "ours"                 # unique
//! label = "ours: true error"    # legend (default: name)
//! group = "ours"                # rows of a group are aggregated (default: name)
//! kind = "true-error"           # true-error | offset | pps
//! file = "data/ours.csv"        # a series file, or:
//! # sim = { scenario = "scenarios/baseline-hw-e2e.toml", seed = 1, servo = "kalman", node = "slave" }
//! from-s = 100                  # statistics from this time (absolute), or
//! # skip-s = 60                 # from this long after the first sample
//!
//! [[plot]]                      # figures (default: one with every group)
//! name = "hw-e2e"
//! title = "…"
//! groups = ["hw-e2e/pi", "hw-e2e/kalman"]
//! clip-ns = 500                 # optional: clip the time plot at ±500 ns
//!
//! [[anchor]]                    # published figures printed beside a plot's groups
//! plot = "hw-e2e"
//! label = "ptp4l PI (clknetsim)"
//! rms-ns = 96
//! max-ns = 666
//! p99-ns = 303
//! sync = "27..30"
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file name of the manifest in a run directory.
pub const FILE: &str = "run.toml";

/// A run directory's manifest.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Manifest {
    /// Setup name: the report folder is `<date>-<setup>`.
    pub setup: String,
    /// Report title.
    #[serde(default)]
    pub title: String,
    /// UTC date of the capture, `YYYY-MM-DD`.
    pub date: String,
    /// running | complete | interrupted.
    #[serde(default)]
    pub status: String,
    /// The setup, Markdown.
    #[serde(default)]
    pub description: String,
    /// How to reproduce the run, shell commands.
    #[serde(default)]
    pub reproduce: String,
    /// Findings (Markdown), written by whoever reads the figures; shown
    /// after the summary table.
    #[serde(default)]
    pub notes: String,
    /// Configuration files (relative to the run directory).
    #[serde(default)]
    pub configs: Vec<String>,
    /// Convergence bound on |offset|, ns.
    #[serde(default = "default_converge_ns")]
    pub converge_ns: f64,
    /// Convergence bound on |frequency|, ppb.
    pub converge_ppb: Option<f64>,
    /// Origin of the time axis of the plots, s.
    pub time_origin_s: Option<f64>,
    /// The series.
    #[serde(default)]
    pub series: Vec<SeriesSpec>,
    /// The figures.
    #[serde(default)]
    pub plot: Vec<PlotSpec>,
    /// Published figures to compare with.
    #[serde(default)]
    pub anchor: Vec<AnchorSpec>,
}

fn default_converge_ns() -> f64 {
    2000.0
}

/// What a series is.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// True clock error (simulator, virtual clock).
    TrueError,
    /// The offset the slave measured (log lines, servo samples).
    #[default]
    Offset,
    /// PPS edges against a reference clock.
    Pps,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TrueError => "true error",
            Self::Offset => "measured offset",
            Self::Pps => "PPS vs reference",
        })
    }
}

/// A simulator series.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SimSource {
    /// Scenario file (relative to the run directory).
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// `pi` or `kalman` (default: the nodes' own).
    pub servo: Option<String>,
    /// The measured node.
    pub node: String,
}

/// One series.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SeriesSpec {
    /// Unique name.
    pub name: String,
    /// Legend label.
    #[serde(default)]
    pub label: String,
    /// Group (rows of a group are aggregated).
    #[serde(default)]
    pub group: String,
    /// What it is.
    #[serde(default)]
    pub kind: Kind,
    /// Series file (relative to the run directory).
    pub file: Option<String>,
    /// Or a simulator run.
    pub sim: Option<SimSource>,
    /// Statistics from this time, s.
    pub from_s: Option<f64>,
    /// Statistics from this long after the first sample, s.
    pub skip_s: Option<f64>,
    /// Samples captured (informational, written by `capture`).
    pub samples: Option<u64>,
    /// Where it came from (informational).
    #[serde(default)]
    pub source: String,
}

impl SeriesSpec {
    /// The group (the name if none).
    #[must_use]
    pub fn group(&self) -> &str {
        if self.group.is_empty() {
            &self.name
        } else {
            &self.group
        }
    }

    /// The legend label (the name if none).
    #[must_use]
    pub fn label(&self) -> &str {
        if self.label.is_empty() {
            &self.name
        } else {
            &self.label
        }
    }
}

/// One figure set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PlotSpec {
    /// File name stem.
    pub name: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Groups overlaid (empty: every group).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Clip the offset-over-time plot at ±this, ns (values beyond are drawn
    /// at the edge; the title says so). The tables are not affected.
    pub clip_ns: Option<f64>,
}

/// Published figures.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AnchorSpec {
    /// The plot (comparison) it belongs to.
    pub plot: String,
    /// Who and how.
    pub label: String,
    /// RMS, ns.
    pub rms_ns: Option<f64>,
    /// max |offset|, ns.
    pub max_ns: Option<f64>,
    /// p99 |offset|, ns.
    pub p99_ns: Option<f64>,
    /// Mean, ns.
    pub mean_ns: Option<f64>,
    /// SD, ns.
    pub sd_ns: Option<f64>,
    /// Sync / convergence time, free text.
    #[serde(default)]
    pub sync: String,
}

/// A manifest that could not be read.
#[derive(Debug)]
pub struct ManifestError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong (TOML errors name line and column).
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.message)
    }
}

impl std::error::Error for ManifestError {}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |p| before.len() - p - 1)
        + 1;
    (line, col)
}

impl Manifest {
    /// Parses and checks a manifest; `file` names it in errors.
    ///
    /// # Errors
    /// Syntax, unknown keys and inconsistent content, naming the line.
    pub fn parse(text: &str, file: &Path) -> Result<Self, ManifestError> {
        let err = |message: String| ManifestError {
            file: file.to_owned(),
            message,
        };
        let m: Self = toml::from_str(text).map_err(|e| {
            let pos = e
                .span()
                .map(|s| {
                    let (l, c) = line_col(text, s.start);
                    format!("line {l}, column {c}: ")
                })
                .unwrap_or_default();
            err(format!("{pos}{}", e.message()))
        })?;
        let line_of = |needle: &str| {
            text.find(needle)
                .map_or_else(String::new, |p| format!("line {}: ", line_col(text, p).0))
        };
        if m.setup.is_empty()
            || !m
                .setup
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(err(format!(
                "{}setup must be a non-empty name of letters, digits, '-' and '_'",
                line_of("setup")
            )));
        }
        let d = m.date.as_bytes();
        if d.len() != 10
            || d[4] != b'-'
            || d[7] != b'-'
            || !m
                .date
                .chars()
                .filter(|c| *c != '-')
                .all(|c| c.is_ascii_digit())
        {
            return Err(err(format!(
                "{}date must be YYYY-MM-DD, not {:?}",
                line_of("date"),
                m.date
            )));
        }
        let mut names = std::collections::HashSet::new();
        for s in &m.series {
            let at = line_of(&format!("\"{}\"", s.name));
            if !names.insert(s.name.as_str()) {
                return Err(err(format!("{at}series name {:?} used twice", s.name)));
            }
            if s.file.is_some() == s.sim.is_some() {
                return Err(err(format!(
                    "{at}series {:?}: give exactly one of `file` and `sim`",
                    s.name
                )));
            }
            if s.from_s.is_some() && s.skip_s.is_some() {
                return Err(err(format!(
                    "{at}series {:?}: give at most one of `from-s` and `skip-s`",
                    s.name
                )));
            }
        }
        for p in &m.plot {
            for g in &p.groups {
                if !m.series.iter().any(|s| s.group() == g) {
                    return Err(err(format!(
                        "{}plot {:?}: no series in group {g:?}",
                        line_of(&format!("\"{g}\"")),
                        p.name
                    )));
                }
            }
        }
        for a in &m.anchor {
            if !m.plot.iter().any(|p| p.name == a.plot) {
                return Err(err(format!(
                    "{}anchor {:?}: no plot named {:?}",
                    line_of(&a.label),
                    a.label,
                    a.plot
                )));
            }
        }
        Ok(m)
    }

    /// Reads `DIR/run.toml`.
    ///
    /// # Errors
    /// As [`Manifest::parse`], and I/O errors.
    pub fn load(dir: &Path) -> Result<Self, ManifestError> {
        let file = dir.join(FILE);
        let text = std::fs::read_to_string(&file).map_err(|e| ManifestError {
            file: file.clone(),
            message: e.to_string(),
        })?;
        Self::parse(&text, &file)
    }

    /// Writes `DIR/run.toml`.
    ///
    /// # Errors
    /// I/O and serialisation errors.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let text = toml::to_string(self).map_err(std::io::Error::other)?;
        let tmp = dir.join(".run.toml.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, dir.join(FILE))
    }

    /// The groups in first-appearance order.
    #[must_use]
    pub fn groups(&self) -> Vec<String> {
        let mut g: Vec<String> = Vec::new();
        for s in &self.series {
            if !g.iter().any(|x| x == s.group()) {
                g.push(s.group().to_owned());
            }
        }
        g
    }
}

/// Presentation settings merged into a capture's manifest
/// (`measure capture --template FILE`): titles, labels, groups, plots and
/// published figures, so that a run's report is reproducible as a whole.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Template {
    /// Report title.
    pub title: Option<String>,
    /// Setup description (Markdown).
    pub description: Option<String>,
    /// How to reproduce.
    pub reproduce: Option<String>,
    /// Convergence bound, ns.
    pub converge_ns: Option<f64>,
    /// Configuration files listed in the report (relative to the run
    /// directory; e.g. copied there by the wrapped command's user).
    #[serde(default)]
    pub configs: Vec<String>,
    /// Labels and groups by series name.
    #[serde(default)]
    pub series: Vec<TemplateSeries>,
    /// Figures.
    #[serde(default)]
    pub plot: Vec<PlotSpec>,
    /// Published figures.
    #[serde(default)]
    pub anchor: Vec<AnchorSpec>,
}

/// Label and group of one series in a [`Template`].
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TemplateSeries {
    /// The series name (`--source NAME=…`).
    pub name: String,
    /// Legend label.
    pub label: Option<String>,
    /// Group.
    pub group: Option<String>,
    /// Statistics skip this long after the first sample, s.
    pub skip_s: Option<f64>,
}

impl Template {
    /// Reads a template file.
    ///
    /// # Errors
    /// Syntax and unknown keys, naming the file, line and column.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let err = |message: String| ManifestError {
            file: path.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        toml::from_str(&text).map_err(|e| {
            let pos = e
                .span()
                .map(|s| {
                    let (l, c) = line_col(&text, s.start);
                    format!("line {l}, column {c}: ")
                })
                .unwrap_or_default();
            err(format!("{pos}{}", e.message()))
        })
    }

    /// Applies the template to a manifest whose series exist already.
    ///
    /// # Errors
    /// A template series that the manifest does not have.
    pub fn apply(&self, m: &mut Manifest) -> Result<(), String> {
        if let Some(t) = &self.title {
            m.title.clone_from(t);
        }
        if let Some(d) = &self.description {
            m.description.clone_from(d);
        }
        if let Some(r) = &self.reproduce {
            m.reproduce.clone_from(r);
        }
        if let Some(c) = self.converge_ns {
            m.converge_ns = c;
        }
        for c in &self.configs {
            if !m.configs.contains(c) {
                m.configs.push(c.clone());
            }
        }
        for ts in &self.series {
            let s = m
                .series
                .iter_mut()
                .find(|s| s.name == ts.name)
                .ok_or_else(|| format!("template series {:?}: no such --source", ts.name))?;
            if let Some(l) = &ts.label {
                s.label.clone_from(l);
            }
            if let Some(g) = &ts.group {
                s.group.clone_from(g);
            }
            if ts.skip_s.is_some() {
                s.skip_s = ts.skip_s;
            }
        }
        m.plot.clone_from(&self.plot);
        m.anchor.clone_from(&self.anchor);
        Ok(())
    }
}

/// Today's UTC date as `YYYY-MM-DD` (from the system clock, read only).
#[must_use]
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
setup = "veth-10min"
date = "2026-11-22"
[[series]]
name = "ours"
kind = "true-error"
file = "data/ours.csv"
[[plot]]
name = "all"
groups = ["ours"]
[[anchor]]
plot = "all"
label = "ptp4l"
rms-ns = 96
"#;

    #[test]
    fn parses_and_round_trips() {
        let m = Manifest::parse(GOOD, Path::new("run.toml")).expect("valid");
        assert_eq!(m.series[0].kind, Kind::TrueError);
        assert_eq!(m.converge_ns, 2000.0);
        assert_eq!(m.groups(), vec!["ours".to_owned()]);
        let back = toml::to_string(&m).expect("serialises");
        assert_eq!(Manifest::parse(&back, Path::new("x")).expect("valid"), m);
    }

    #[test]
    fn errors_name_file_and_line() {
        let bad = GOOD.replace("kind = \"true-error\"", "kind = \"truth\"");
        let e = Manifest::parse(&bad, Path::new("r/run.toml")).expect_err("bad kind");
        assert!(e.to_string().starts_with("r/run.toml: line 6"), "{e}");
        let unknown = GOOD.replace("[[plot]]", "colour = 1\n[[plot]]");
        let e = Manifest::parse(&unknown, Path::new("run.toml")).expect_err("unknown key");
        assert!(e.to_string().contains("line 8"), "{e}");
        let twice = GOOD.replace(
            "file = \"data/ours.csv\"",
            "file = \"a\"\nsim = { scenario = \"s\", seed = 1, node = \"n\" }",
        );
        assert!(
            Manifest::parse(&twice, Path::new("run.toml"))
                .expect_err("both")
                .to_string()
                .contains("exactly one")
        );
        let nogroup = GOOD.replace("groups = [\"ours\"]", "groups = [\"theirs\"]");
        assert!(Manifest::parse(&nogroup, Path::new("run.toml")).is_err());
        let date = GOOD.replace("2026-11-22", "22.11.2026");
        assert!(
            Manifest::parse(&date, Path::new("run.toml"))
                .expect_err("date")
                .to_string()
                .contains("line 3")
        );
    }

    #[test]
    fn today_is_a_date() {
        let t = today_utc();
        assert_eq!(t.len(), 10);
        assert!(t.starts_with("20"));
    }
}
