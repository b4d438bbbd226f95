//! `statime-ctl convert`: reads a linuxptp `ptp4l` configuration file and
//! writes the equivalent statime.toml(5), naming every option it cannot
//! carry over.
//!
//! The ptp4l format (ptp4l(8), CONFIGURATION FILE): lines of `name value`
//! grouped in sections; `[global]` holds the clock options and the port
//! defaults, every other `[NAME]` section is a port on interface NAME whose
//! options override the global ones, and `[unicast_master_table]` sections
//! list unicast masters (a port's `unicast_master_table N` selects the one
//! with `table_id N`; it becomes the port's `unicast-master-table`). Lines whose first non-blank character is `#` are
//! comments. Integers are read as C's `strtol` with base 0 does (`0x1F`,
//! `017`, `15`).
//!
//! What happens to each option:
//!
//! - mapped to a statime key (units converted: ptp4l's log2 intervals are
//!   ours too, latencies are nanoseconds, servo thresholds seconds, the
//!   fault reset interval a power of two seconds);
//! - dropped silently when it only restates the behaviour statime has
//!   anyway (ptp4l's default for something statime does the same way);
//! - otherwise listed as a [`Remark`]: *not carried over* (no equivalent,
//!   or a value statime does not support), or *approximated* (converted to
//!   the nearest setting statime has, with the difference stated).
//!
//! A value ptp4l itself would refuse (not a number, out of its range, an
//! unknown enumeration name) is an error naming the file and line.

mod clock;
mod out;
mod port;
mod unicast;
mod values;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::config::{Config, MAX_FILE_SIZE};

use self::clock::{
    Clock, PER_PORT_CLOCK_OPTIONS, clock_option, is_port_option, slave_only_effects,
};
use self::out::{Entry, Out, Src, boolean, entry, quote, render, set};
use self::port::port_options;
use self::values::c_int;

/// A linuxptp configuration file that cannot be read as one: the file, the
/// line (0 when the problem is not on a line) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The file name as given.
    pub origin: String,
    /// 1-based line number; 0 = the whole file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.origin, self.message)
        } else {
            write!(f, "{}:{}: {}", self.origin, self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

/// One `name value` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The option name, as written.
    pub name: String,
    /// The value: the rest of the line, blanks trimmed.
    pub value: String,
    /// 1-based line number.
    pub line: usize,
}

/// The kind of a section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SectionKind {
    /// `[global]`: clock options and port defaults.
    Global,
    /// `[NAME]`: the port on interface NAME.
    Port(String),
    /// `[unicast_master_table]`: a unicast discovery table.
    UnicastMasterTable,
}

/// A section and its settings in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Which section.
    pub kind: SectionKind,
    /// Line of the `[...]` header.
    pub line: usize,
    /// The settings under it.
    pub settings: Vec<Setting>,
}

/// A parsed ptp4l configuration file (syntax only; values are checked by
/// [`convert`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ptp4lConfig {
    /// The file name, for messages.
    pub origin: String,
    /// The sections in file order (a name may appear more than once; as in
    /// ptp4l, the later settings win).
    pub sections: Vec<Section>,
}

/// Linux interface names are at most 15 bytes.
const MAX_IFNAME: usize = 15;

impl Ptp4lConfig {
    /// Parses the text of a ptp4l configuration file; `origin` names it in
    /// errors.
    ///
    /// # Errors
    /// A setting outside any section, a malformed section header, a
    /// setting without a value, or a port section that cannot be an
    /// interface name; the error names `origin` and the line.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ParseError> {
        let err = |line: usize, message: String| ParseError {
            origin: origin.to_owned(),
            line,
            message,
        };
        let mut sections: Vec<Section> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let s = raw.trim();
            if s.is_empty() || s.starts_with('#') {
                continue;
            }
            if let Some(rest) = s.strip_prefix('[') {
                let Some((name, after)) = rest.split_once(']') else {
                    return Err(err(
                        line,
                        format!("section header \"{s}\" has no closing ']'"),
                    ));
                };
                if !after.trim().is_empty() {
                    return Err(err(
                        line,
                        format!("unexpected \"{}\" after the section header", after.trim()),
                    ));
                }
                let name = name.trim();
                let kind = match name {
                    "" => return Err(err(line, "empty section name \"[]\"".into())),
                    "global" => SectionKind::Global,
                    "unicast_master_table" => SectionKind::UnicastMasterTable,
                    _ => {
                        if name.len() > MAX_IFNAME
                            || name == "."
                            || name == ".."
                            || name
                                .chars()
                                .any(|c| c == '/' || c == ':' || c.is_whitespace())
                        {
                            return Err(err(
                                line,
                                format!(
                                    "port section [{name}] is not an interface statime can \
                                     use (at most {MAX_IFNAME} bytes, no '/', ':' or blanks; \
                                     an alias such as eth0:1 runs PTP on eth0)"
                                ),
                            ));
                        }
                        SectionKind::Port(name.to_owned())
                    }
                };
                sections.push(Section {
                    kind,
                    line,
                    settings: Vec::new(),
                });
                continue;
            }
            let (name, value) = match s.split_once(|c: char| c.is_whitespace()) {
                Some((n, v)) if !v.trim().is_empty() => (n, v.trim()),
                _ => {
                    return Err(err(
                        line,
                        format!("option \"{s}\" has no value (expected \"NAME VALUE\")"),
                    ));
                }
            };
            let Some(section) = sections.last_mut() else {
                return Err(err(
                    line,
                    format!("option \"{name}\" is outside any section (start with [global])"),
                ));
            };
            section.settings.push(Setting {
                name: name.to_owned(),
                value: value.to_owned(),
                line,
            });
        }
        Ok(Self {
            origin: origin.to_owned(),
            sections,
        })
    }

    /// Reads and parses the file at `path`.
    ///
    /// # Errors
    /// As [`Ptp4lConfig::parse`], plus a file that cannot be read (line 0).
    pub fn read(path: &Path) -> Result<Self, ParseError> {
        let origin = path.display().to_string();
        let text = read_text(path).map_err(|message| ParseError {
            origin: origin.clone(),
            line: 0,
            message,
        })?;
        Self::parse(&text, &origin)
    }

    /// The `[global]` settings, the last of each name winning.
    fn global(&self) -> BTreeMap<&str, &Setting> {
        let mut map = BTreeMap::new();
        for s in self
            .sections
            .iter()
            .filter(|s| s.kind == SectionKind::Global)
            .flat_map(|s| &s.settings)
        {
            map.insert(s.name.as_str(), s);
        }
        map
    }

    /// The ports in order of first appearance, each with its own settings
    /// (the last of each name winning) and the line of its first header.
    fn ports(&self) -> Vec<(String, usize, BTreeMap<&str, &Setting>)> {
        let mut ports: Vec<(String, usize, BTreeMap<&str, &Setting>)> = Vec::new();
        for sec in &self.sections {
            let SectionKind::Port(name) = &sec.kind else {
                continue;
            };
            let idx = if let Some(i) = ports.iter().position(|(n, _, _)| n == name) {
                i
            } else {
                ports.push((name.clone(), sec.line, BTreeMap::new()));
                ports.len() - 1
            };
            if let Some((_, _, map)) = ports.get_mut(idx) {
                for s in &sec.settings {
                    map.insert(s.name.as_str(), s);
                }
            }
        }
        ports
    }
}

/// Reads a file of at most [`MAX_FILE_SIZE`] bytes as UTF-8.
fn read_text(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(format!(
            "cannot read: larger than {MAX_FILE_SIZE} bytes, not a configuration file"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "cannot read: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// What became of an option that is not simply carried over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fate {
    /// No statime equivalent, or a value statime does not support: the
    /// converted file behaves as if the option were absent.
    NotCarried,
    /// Converted to the nearest statime setting; the reason says how it
    /// differs.
    Approximated,
    /// Not about one option: something the reader must do or know.
    Note,
}

impl Fate {
    /// The words printed before the option.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::NotCarried => "not carried over",
            Self::Approximated => "approximated",
            Self::Note => "note",
        }
    }
}

/// An option that was not carried over exactly, or a note about the
/// conversion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remark {
    /// What became of it.
    pub fate: Fate,
    /// The port section it was written in; `None` for `[global]` (or for a
    /// ptp4l default that was not written at all).
    pub section: Option<String>,
    /// The ptp4l option name (empty for a [`Fate::Note`]).
    pub option: String,
    /// Its value as written (or ptp4l's default, said so in `reason`).
    pub value: String,
    /// 1-based line in the ptp4l file; 0 when the option was not written.
    pub line: usize,
    /// Why, and what the converted file does instead.
    pub reason: String,
}

impl fmt::Display for Remark {
    /// `not carried over: [eth1] unicast_master_table = 2 (reason)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.fate.label())?;
        if self.fate == Fate::Note {
            return f.write_str(&self.reason);
        }
        if let Some(s) = &self.section {
            write!(f, "[{s}] ")?;
        }
        write!(f, "{} = {} ({})", self.option, self.value, self.reason)
    }
}

/// The result of a conversion.
#[derive(Clone, Debug, PartialEq)]
pub struct Conversion {
    /// The statime.toml text.
    pub toml: String,
    /// Every option not carried over exactly, and notes, in line order.
    pub remarks: Vec<Remark>,
    /// How many `[[port]]` tables the TOML has (0: the placeholder is
    /// commented out).
    pub ports: usize,
}

impl Conversion {
    /// The remarks of one fate.
    pub fn of(&self, fate: Fate) -> impl Iterator<Item = &Remark> {
        self.remarks.iter().filter(move |r| r.fate == fate)
    }
}

/// Converts a parsed ptp4l configuration.
///
/// # Errors
/// A value ptp4l itself would refuse; the error names the file and line.
pub fn convert(conf: &Ptp4lConfig) -> Result<Conversion, ParseError> {
    let mut out = Out::default();
    let global = conf.global();
    let at = |line: usize| {
        move |message: String| ParseError {
            origin: conf.origin.clone(),
            line,
            message,
        }
    };

    // Clock-wide options first: the ports depend on some of them.
    let mut clock = Clock {
        hardware: true,
        ..Clock::default()
    };
    clock.telecom = global
        .get("dataset_comparison")
        .is_some_and(|s| s.value.eq_ignore_ascii_case("G.8275.x"));
    let mut two_step_flag: Option<Src<'_>> = None;
    for s in global.values() {
        let src = Src {
            setting: s,
            section: None,
        };
        if !is_port_option(&s.name) && !PER_PORT_CLOCK_OPTIONS.contains(&s.name.as_str()) {
            clock_option(&mut out, &mut clock, &mut two_step_flag, src).map_err(at(s.line))?;
        }
    }
    if let Some(src) = two_step_flag {
        if clock.hardware {
            clock.one_step = true;
        } else {
            out.drop(
                src,
                "one-step needs hardware time stamps; with software ones the converted \
                 file stays two-step",
            );
        }
    }
    if clock.one_step {
        set(
            &mut out.top,
            Entry {
                line: 0,
                key: "two-step",
                value: boolean(false),
                comment: "one-step (twoStepFlag 0 or time_stamping onestep)".into(),
            },
        );
    }

    // The ports: [global] port options overridden by the port's section.
    let ports = conf.ports();
    let unicast_tables = unicast::tables(conf).map_err(|(line, m)| at(line)(m))?;
    let mut tables: Vec<(Option<String>, Vec<Entry>)> = Vec::new();
    let mut sdo: Option<(i64, Src<'_>)> = None;
    let port_list: Vec<(Option<String>, BTreeMap<&str, Src<'_>>)> = if ports.is_empty() {
        vec![(None, port_sources(&global, &BTreeMap::new(), None))]
    } else {
        ports
            .iter()
            .map(|(name, _, own)| {
                (
                    Some(name.clone()),
                    port_sources(&global, own, Some(name.as_str())),
                )
            })
            .collect()
    };
    // A statime port is a unicast client or a unicast server, and a client
    // port needs a slave-only clock.
    if !clock.slave_only
        && port_list
            .iter()
            .any(|(_, s)| unicast::is_client(&unicast_tables, s, clock.transparent))
    {
        clock.slave_only = true;
        set(
            &mut out.top,
            Entry {
                line: 0,
                key: "slave-only",
                value: boolean(true),
                comment: "a unicast client (unicast_master_table) must be slave-only".into(),
            },
        );
        out.remarks.push(Remark {
            fate: Fate::Note,
            section: None,
            option: String::new(),
            value: String::new(),
            line: 0,
            reason: "a port has a unicast master table (unicast_master_table) and the clock \
                     is not slaveOnly/clientOnly: statime needs slave-only = true on a unicast \
                     client (a serving port has unicast-listen instead), so the converted file \
                     sets it (the clock never becomes master, on any port)"
                .into(),
        });
    }
    slave_only_effects(&mut out, &clock, &global);
    for (name, sources) in &port_list {
        let mut entries = Vec::new();
        if let Some(n) = name {
            entries.push(Entry {
                line: 0,
                key: "interface",
                value: quote(n),
                comment: String::new(),
            });
        } else {
            entries.push(Entry {
                line: 0,
                key: "interface",
                value: quote("eth0"),
                comment: "set the interface".into(),
            });
        }
        port_options(
            &mut out,
            &clock,
            &unicast_tables,
            sources,
            &mut entries,
            &mut sdo,
        )
        .map_err(|(line, m)| at(line)(m))?;
        tables.push((name.clone(), entries));
    }
    if let Some((v, src)) = sdo
        && v != 0
    {
        set(&mut out.top, entry("sdo-id", format!("{:#x}", v << 8), src));
    }

    // ptp4l prints a summary instead of each sample whenever the summary
    // interval is longer than the Sync interval; statime only for positive
    // summary intervals.
    if clock.summary_interval <= 0 {
        let shortest_sync = port_list
            .iter()
            .filter_map(|(_, s)| s.get("logSyncInterval"))
            .filter_map(|src| c_int(&src.setting.value))
            // Out-of-range intervals are not carried over (said already).
            .filter(|n| (-7..=7).contains(n))
            .min()
            .unwrap_or(0);
        if shortest_sync < clock.summary_interval {
            let (value, line, written) = global.get("summary_interval").map_or_else(
                || ("0".to_owned(), 0, " (ptp4l's default)"),
                |s| (s.value.clone(), s.line, ""),
            );
            out.remarks.push(Remark {
                fate: Fate::Approximated,
                section: None,
                option: "summary_interval".into(),
                value: format!("{value}{written}"),
                line,
                reason: format!(
                    "ptp4l prints one summary line per 2^{} s because logSyncInterval {} is \
                     shorter; statime summarises only with summary-interval above 0 and \
                     prints every sample here",
                    clock.summary_interval, shortest_sync
                ),
            });
        }
    }

    // Unicast master tables no port uses.
    let used: Vec<i64> = port_list
        .iter()
        .filter_map(|(_, s)| s.get("unicast_master_table"))
        .filter_map(|src| c_int(&src.setting.value))
        .collect();
    unicast::unused_tables(&mut out, &unicast_tables, &used);

    if ports.is_empty() {
        out.remarks.push(Remark {
            fate: Fate::Note,
            section: None,
            option: String::new(),
            value: String::new(),
            line: 0,
            reason: "the file has no port section (ptp4l takes its ports from -i): the \
                     [[port]] table in the output is commented out; uncomment it once per \
                     interface and set interface (statime -i IFACE would add a port with \
                     default settings, without the port options converted here)"
                .into(),
        });
    }

    out.remarks.sort_by_key(|r| (r.line == 0, r.line, r.fate));
    let toml = render(conf, &out, &tables);
    let converted = Conversion {
        toml,
        remarks: out.remarks,
        ports: ports.len(),
    };
    if converted.ports > 0
        && let Err(e) = Config::parse_str(&converted.toml, "converted output")
            .and_then(|c| c.validate_offline())
    {
        return Err(ParseError {
            origin: conf.origin.clone(),
            line: 0,
            message: format!(
                "the converted configuration does not validate (a converter bug; please \
                 report it with the input file): {e}"
            ),
        });
    }
    Ok(converted)
}

/// The effective port options of one port: the port section's own, else
/// the `[global]` ones.
fn port_sources<'a>(
    global: &BTreeMap<&'a str, &'a Setting>,
    own: &BTreeMap<&'a str, &'a Setting>,
    section: Option<&'a str>,
) -> BTreeMap<&'a str, Src<'a>> {
    let mut map = BTreeMap::new();
    for (name, s) in global {
        if is_port_option(name) || PER_PORT_CLOCK_OPTIONS.contains(name) {
            map.insert(
                *name,
                Src {
                    setting: s,
                    section: None,
                },
            );
        }
    }
    for (name, s) in own {
        map.insert(
            *name,
            Src {
                setting: s,
                section,
            },
        );
    }
    map
}

/// Reads, parses and converts the file at `path`.
///
/// # Errors
/// As [`Ptp4lConfig::read`] and [`convert`].
pub fn convert_file(path: &Path) -> Result<Conversion, ParseError> {
    convert(&Ptp4lConfig::read(path)?)
}

/// Parses and converts `text`; `origin` names it.
///
/// # Errors
/// As [`Ptp4lConfig::parse`] and [`convert`].
pub fn convert_str(text: &str, origin: &str) -> Result<Conversion, ParseError> {
    convert(&Ptp4lConfig::parse(text, origin)?)
}

/// `statime-ctl convert FILE [-o OUT]`: the TOML to `out` (or to the file
/// `output`), every remark to `err` as `FILE:LINE: not carried over: ...`.
/// Returns 0 on success, 1 when FILE is not a valid ptp4l configuration, 2
/// when FILE cannot be read or OUT cannot be written.
pub fn convert_command(
    file: &Path,
    output: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    let conversion = match convert_file(file) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "{e}");
            return ExitCode::from(if e.line == 0 && e.message.starts_with("cannot read") {
                2
            } else {
                1
            });
        }
    };
    let written = match output {
        Some(path) => std::fs::write(path, &conversion.toml)
            .map_err(|e| format!("{}: cannot write: {e}", path.display())),
        None => out
            .write_all(conversion.toml.as_bytes())
            .map_err(|e| format!("cannot write the output: {e}")),
    };
    let name = file.display();
    for r in &conversion.remarks {
        let _ = if r.line == 0 {
            writeln!(err, "{name}: {r}")
        } else {
            writeln!(err, "{name}:{}: {r}", r.line)
        };
    }
    if let Err(e) = written {
        let _ = writeln!(err, "{e}");
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
