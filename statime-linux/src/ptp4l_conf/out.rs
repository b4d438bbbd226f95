//! The TOML being written: entries, their sources, the remarks.

use std::fmt::Write as _;

use crate::config::ConfigDuration;

use super::{Fate, Ptp4lConfig, Remark, Setting};

/// One `key = value  # comment` line of the output.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    /// Line of the ptp4l option (0 for keys the converter adds; they come
    /// first).
    pub(super) line: usize,
    pub(super) key: &'static str,
    /// A TOML literal.
    pub(super) value: String,
    pub(super) comment: String,
}

/// The output being built.
#[derive(Debug, Default)]
pub(super) struct Out {
    pub(super) top: Vec<Entry>,
    pub(super) servo: Vec<Entry>,
    pub(super) servo_pi: Vec<Entry>,
    pub(super) clock: Vec<Entry>,
    pub(super) logging: Vec<Entry>,
    pub(super) observability: Vec<Entry>,
    pub(super) remarks: Vec<Remark>,
}

/// Where an option came from, for comments and remarks.
#[derive(Clone, Copy, Debug)]
pub(super) struct Src<'a> {
    pub(super) setting: &'a Setting,
    /// The port section it was written in, `None` for `[global]`.
    pub(super) section: Option<&'a str>,
}

impl Src<'_> {
    pub(super) fn comment(&self) -> String {
        let s = self.setting;
        match self.section {
            Some(p) => format!("[{p}] {} {} (line {})", s.name, s.value, s.line),
            None => format!("{} {} (line {})", s.name, s.value, s.line),
        }
    }
}

impl Out {
    pub(super) fn remark(&mut self, fate: Fate, src: Src<'_>, reason: impl Into<String>) {
        let r = Remark {
            fate,
            section: src.section.map(str::to_owned),
            option: src.setting.name.clone(),
            value: src.setting.value.clone(),
            line: src.setting.line,
            reason: reason.into(),
        };
        // A [global] port option is seen once per port: say it once.
        if !self.remarks.contains(&r) {
            self.remarks.push(r);
        }
    }

    pub(super) fn drop(&mut self, src: Src<'_>, reason: impl Into<String>) {
        self.remark(Fate::NotCarried, src, reason);
    }

    pub(super) fn approx(&mut self, src: Src<'_>, reason: impl Into<String>) {
        self.remark(Fate::Approximated, src, reason);
    }
}

pub(super) fn entry(key: &'static str, value: String, src: Src<'_>) -> Entry {
    Entry {
        line: src.setting.line,
        key,
        value,
        comment: src.comment(),
    }
}

/// Replaces the entry for `key` in `list`, or adds it.
pub(super) fn set(list: &mut Vec<Entry>, e: Entry) {
    if let Some(old) = list.iter_mut().find(|o| o.key == e.key) {
        *old = e;
    } else {
        list.push(e);
    }
}

/// A TOML basic string.
pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML float literal.
pub(super) fn float(v: f64) -> String {
    let s = format!("{v}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

pub(super) fn duration(d: ConfigDuration) -> String {
    quote(&d.to_string())
}

pub(super) fn boolean(v: bool) -> String {
    v.to_string()
}

// ---------------------------------------------------------------------
// Output.

pub(super) fn write_entries(t: &mut String, entries: &[Entry], prefix: &str) {
    let mut entries = entries.to_vec();
    entries.sort_by_key(|e| e.line);
    let width = entries
        .iter()
        .map(|e| e.key.len() + e.value.len() + 3)
        .max()
        .unwrap_or(0);
    for e in &entries {
        let kv = format!("{} = {}", e.key, e.value);
        if e.comment.is_empty() {
            let _ = writeln!(t, "{prefix}{kv}");
        } else {
            let _ = writeln!(t, "{prefix}{kv:<width$}  # {}", e.comment);
        }
    }
}

pub(super) fn render(
    conf: &Ptp4lConfig,
    out: &Out,
    tables: &[(Option<String>, Vec<Entry>)],
) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Converted by statime-ctl convert from the linuxptp ptp4l configuration\n\
         # {}\n\
         # Every key is described in statime.toml(5); the comment after each key\n\
         # names the ptp4l option it came from. Check it with: statime-ctl validate FILE",
        conf.origin
    );
    if out.remarks.is_empty() {
        let _ = writeln!(t, "#\n# Every option was carried over.");
    } else {
        let _ = writeln!(
            t,
            "#\n# Not carried over exactly, and notes ({}):",
            out.remarks.len()
        );
        for r in &out.remarks {
            if r.line == 0 {
                let _ = writeln!(t, "#   {r}");
            } else {
                let _ = writeln!(t, "#   line {}: {r}", r.line);
            }
        }
    }
    if !out.top.is_empty() {
        t.push('\n');
        write_entries(&mut t, &out.top, "");
    }
    for (name, entries) in tables {
        t.push('\n');
        if name.is_some() {
            t.push_str("[[port]]\n");
            write_entries(&mut t, entries, "");
        } else {
            t.push_str(
                "# No port section in the ptp4l file: ptp4l takes its ports from -i.\n\
                 # statime needs one [[port]] per interface: uncomment this table, set\n\
                 # the interface, and repeat it for each further interface.\n\
                 #\n\
                 # [[port]]\n",
            );
            write_entries(&mut t, entries, "# ");
        }
    }
    let mut servo = vec![Entry {
        line: 0,
        key: "kind",
        value: quote("pi"),
        comment: "ptp4l's default servo (statime's default is \"kalman\")".into(),
    }];
    for e in &out.servo {
        set(&mut servo, e.clone());
    }
    let kalman = servo
        .iter()
        .any(|e| e.key == "kind" && e.value == quote("kalman"));
    t.push_str("\n[servo]\n");
    write_entries(&mut t, &servo, "");
    if !out.servo_pi.is_empty() && !kalman {
        t.push_str("\n[servo.pi]\n");
        write_entries(&mut t, &out.servo_pi, "");
    }
    if !out.clock.is_empty() {
        t.push_str("\n[clock]\n");
        write_entries(&mut t, &out.clock, "");
    }
    let mut logging = vec![Entry {
        line: 0,
        key: "format",
        value: quote("ptp4l"),
        comment: "ptp4l's log lines (master offset ..., port N ...)".into(),
    }];
    for e in &out.logging {
        set(&mut logging, e.clone());
    }
    t.push_str("\n[logging]\n");
    write_entries(&mut t, &logging, "");
    if !out.observability.is_empty() {
        t.push_str("\n[observability]\n");
        write_entries(&mut t, &out.observability, "");
    }
    t
}
