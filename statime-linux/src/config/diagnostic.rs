//! Configuration errors and warnings that name the file, line, column and
//! key, and the span index that finds them.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// How bad a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Legal but probably not what was meant; the daemon starts.
    Warning,
    /// The configuration cannot be used.
    Error,
}

/// One finding about a configuration, located as precisely as known.
///
/// Displays as `ORIGIN:LINE:COLUMN: KEY: MESSAGE` (warnings with `warning: `
/// before the key), for example
/// `config/slave.toml:12:19: port[0].delay-mechanism: unknown variant "E3E", expected "E2E" or "P2P"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file name, or `command line (-s)` for a value set by a
    /// command-line option, or `<defaults>` for a configuration built in
    /// code.
    pub origin: String,
    /// 1-based line and column (in characters) in the file, when known.
    pub position: Option<(usize, usize)>,
    /// The key path, e.g. `port[0].delay-mechanism` or `priority1`, when
    /// the finding concerns one key.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        f.write_str(": ")?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// What kind of failure a [`ConfigError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConfigErrorKind {
    /// The file could not be read (missing, unreadable, too large).
    Read,
    /// The file is not valid TOML.
    Syntax,
    /// Valid TOML, but an unknown key, a value of the wrong type or an
    /// unknown name.
    Schema,
    /// Well-formed, but the values are out of range or contradict each
    /// other.
    Invalid,
}

/// Why a configuration cannot be used: one or more error [`Diagnostic`]s
/// (all the semantic errors found, not only the first), plus the warnings.
///
/// Displays one error per line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl ConfigError {
    pub(crate) fn new(
        kind: ConfigErrorKind,
        errors: Vec<Diagnostic>,
        warnings: Vec<Diagnostic>,
    ) -> Self {
        Self {
            kind,
            errors,
            warnings,
        }
    }

    pub(crate) fn read(origin: &str, message: String) -> Self {
        Self::new(
            ConfigErrorKind::Read,
            vec![Diagnostic {
                severity: Severity::Error,
                origin: origin.to_owned(),
                position: None,
                key: None,
                message,
            }],
            Vec::new(),
        )
    }

    /// What kind of failure this is.
    #[must_use]
    pub const fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The errors (at least one).
    #[must_use]
    pub fn errors(&self) -> &[Diagnostic] {
        &self.errors
    }

    /// Warnings found on the way (semantic checks only).
    #[must_use]
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// The spans of one key in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    key: Range<usize>,
    value: Range<usize>,
}

/// The file a configuration came from: its name, its text and the span of
/// every key, so that errors found after deserialisation still point at
/// the right line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SourceMap {
    pub(crate) origin: String,
    text: String,
    entries: BTreeMap<String, Entry>,
}

impl SourceMap {
    pub(crate) fn new(origin: &str, text: &str, table: Option<&Spanned<DeTable<'_>>>) -> Self {
        let mut map = Self {
            origin: origin.to_owned(),
            text: text.to_owned(),
            entries: BTreeMap::new(),
        };
        if let Some(t) = table {
            map.walk("", t.get_ref());
        }
        map
    }

    fn walk(&mut self, prefix: &str, table: &DeTable<'_>) {
        for (k, v) in table.iter() {
            let path = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            self.entries.insert(
                path.clone(),
                Entry {
                    key: k.span(),
                    value: v.span(),
                },
            );
            match v.get_ref() {
                DeValue::Table(t) => self.walk(&path, t),
                DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let p = format!("{path}[{i}]");
                        self.entries.insert(
                            p.clone(),
                            Entry {
                                key: item.span(),
                                value: item.span(),
                            },
                        );
                        if let DeValue::Table(t) = item.get_ref() {
                            self.walk(&p, t);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Whether the file sets `path`.
    pub(crate) fn is_set(&self, path: &str) -> bool {
        self.entries.contains_key(path)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        (line, column)
    }

    /// The text of a span, if it is one.
    pub(crate) fn snippet(&self, span: Range<usize>) -> Option<&str> {
        self.text.get(span)
    }

    /// The offset of the value of `path` if the file sets it, else
    /// `None`.
    pub(crate) fn value_offset(&self, path: &str) -> Option<usize> {
        self.entries.get(path).map(|e| e.value.start)
    }

    /// The deepest key whose name or value contains `offset`.
    pub(crate) fn path_at(&self, offset: usize) -> Option<&str> {
        let contains = |r: &Range<usize>| r.start <= offset && offset < r.end.max(r.start + 1);
        self.entries
            .iter()
            .filter_map(|(path, e)| {
                let len = if contains(&e.key) {
                    e.key.len()
                } else if contains(&e.value) {
                    e.value.len()
                } else {
                    return None;
                };
                Some((len, usize::MAX - path.len(), path.as_str()))
            })
            .min()
            .map(|(_, _, p)| p)
    }
}

/// Where the values of a configuration came from, shared by its clones.
/// It never makes two configurations unequal.
#[derive(Clone, Debug, Default)]
pub(crate) struct Provenance {
    /// The file, if the configuration was read from one.
    pub(crate) file: Option<Arc<SourceMap>>,
    /// Keys set on the command line, with the option that set them.
    pub(crate) overridden: BTreeMap<String, String>,
}

impl PartialEq for Provenance {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The parent of a key path: `port[0].x` -> `port[0]` -> `port` -> none.
pub(crate) fn parent_path(path: &str) -> Option<&str> {
    if path.ends_with(']') {
        return path.rfind('[').map(|i| &path[..i]);
    }
    path.rfind('.').map(|i| &path[..i])
}

impl Provenance {
    /// A diagnostic about `key`, located at the innermost key of the path
    /// that the command line or the file sets.
    pub(crate) fn diagnostic(&self, severity: Severity, key: &str, message: String) -> Diagnostic {
        let mut origin = self
            .file
            .as_ref()
            .map_or_else(|| "<defaults>".to_owned(), |f| f.origin.clone());
        let mut position = None;
        let mut at = Some(key);
        while let Some(path) = at {
            if let Some(flag) = self.overridden.get(path) {
                origin = format!("command line ({flag})");
                break;
            }
            if let Some(file) = &self.file
                && let Some(offset) = file.value_offset(path)
            {
                position = Some(file.position(offset));
                break;
            }
            at = parent_path(path);
        }
        if position.is_none() && self.file.is_some() && !origin.starts_with("command line") {
            // Not in the file at all (a required section is missing): point
            // at its beginning.
            position = Some((1, 1));
        }
        Diagnostic {
            severity,
            origin,
            position,
            key: Some(key.to_owned()),
            message,
        }
    }

    /// Whether the file (not the command line) sets `path`.
    pub(crate) fn is_set(&self, path: &str) -> bool {
        self.overridden.contains_key(path) || self.file.as_ref().is_some_and(|f| f.is_set(path))
    }
}

/// Rewrites a deserialisation message for people: quotes instead of
/// backticks, integer ranges instead of Rust type names, and a suggestion
/// for a misspelt key.
pub(crate) fn humanize(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once('`')
    {
        let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        return match closest(field, &candidates) {
            Some(best) => format!("unknown field \"{field}\" (did you mean \"{best}\"?)"),
            None if candidates.is_empty() => format!("unknown field \"{field}\""),
            None => format!(
                "unknown field \"{field}\", expected one of {}",
                candidates
                    .iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant `")
        && let Some((variant, expected)) = rest.split_once('`')
    {
        let names: Vec<String> = expected
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|c| !ALIASES.contains(c))
            .map(|c| format!("\"{c}\""))
            .collect();
        return match names.as_slice() {
            [] => format!("unknown variant \"{variant}\""),
            [one] => format!("unknown variant \"{variant}\", expected {one}"),
            [a, b] => format!("unknown variant \"{variant}\", expected {a} or {b}"),
            more => format!(
                "unknown variant \"{variant}\", expected one of {}",
                more.join(", ")
            ),
        };
    }
    if message == "wanted string or table" {
        return "invalid type, expected a string".to_owned();
    }
    // Backticks become quotes, except around numbers: "integer 300".
    let mut m = String::with_capacity(message.len());
    for (i, part) in message.split('`').enumerate() {
        let quoted = i % 2 == 1;
        let bare_number = quoted
            && part.parse::<f64>().is_ok()
            && (m.ends_with("integer ") || m.ends_with("floating point "));
        if quoted && !bare_number {
            m.push('"');
            m.push_str(part);
            m.push('"');
        } else {
            m.push_str(part);
        }
    }
    for (ty, range) in [
        ("u8", "an integer in 0..=255"),
        ("i8", "an integer in -128..=127"),
        ("u16", "an integer in 0..=65535"),
        ("i16", "an integer in -32768..=32767"),
        ("u32", "an integer in 0..=4294967295"),
        ("usize", "a non-negative integer"),
        ("f64", "a number"),
        ("a sequence", "an array"),
    ] {
        if let Some(head) = m.strip_suffix(&format!("expected {ty}")) {
            m = format!("{head}expected {range}");
        }
    }
    m
}

/// Alternative spellings the enumerations accept (ptp4l's names), left
/// out of the "expected" lists.
const ALIASES: &[&str] = &["UDPv4", "ipv4", "UDPv6", "ipv6", "L2", "gps", "warning"];

/// The candidate nearest to `word` by edit distance, if near enough to be a
/// typo.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanized_messages() {
        assert_eq!(
            humanize("unknown field `priorty1`, expected one of `priority1`, `priority2`"),
            "unknown field \"priorty1\" (did you mean \"priority1\"?)"
        );
        assert_eq!(
            humanize("unknown field `zzz`, expected `a` or `b`"),
            "unknown field \"zzz\", expected one of \"a\", \"b\""
        );
        assert_eq!(
            humanize("unknown field `zzz`, there are no fields"),
            "unknown field \"zzz\""
        );
        assert_eq!(
            humanize("invalid value: integer `300`, expected u8"),
            "invalid value: integer 300, expected an integer in 0..=255"
        );
        assert_eq!(
            humanize("unknown variant `E3E`, expected `E2E` or `P2P`"),
            "unknown variant \"E3E\", expected \"E2E\" or \"P2P\""
        );
        assert_eq!(
            humanize(
                "unknown variant `x`, expected one of `udp-ipv4`, `UDPv4`, `ipv4`, `ethernet`, `L2`"
            ),
            "unknown variant \"x\", expected \"udp-ipv4\" or \"ethernet\""
        );
        assert_eq!(
            humanize("unknown variant `x`, expected one of `a`, `b`, `c`"),
            "unknown variant \"x\", expected one of \"a\", \"b\", \"c\""
        );
        assert_eq!(
            humanize("unknown variant `x`, expected `a`"),
            "unknown variant \"x\", expected \"a\""
        );
        assert_eq!(
            humanize("unknown variant `x`, there are no variants"),
            "unknown variant \"x\""
        );
        assert_eq!(
            humanize("wanted string or table"),
            "invalid type, expected a string"
        );
        assert_eq!(
            humanize("invalid type: string `x`, expected a boolean"),
            "invalid type: string \"x\", expected a boolean"
        );
        assert_eq!(
            humanize("invalid value: floating point `-1.5`, expected u8"),
            "invalid value: floating point -1.5, expected an integer in 0..=255"
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
    }

    #[test]
    fn paths() {
        assert_eq!(parent_path("port[0].x"), Some("port[0]"));
        assert_eq!(parent_path("port[0]"), Some("port"));
        assert_eq!(parent_path("servo.pi.x"), Some("servo.pi"));
        assert_eq!(parent_path("port"), None);
    }

    #[test]
    fn positions() {
        let m = SourceMap::new("f", "a = 1\nbé = 2\n", None);
        assert_eq!(m.position(0), (1, 1));
        assert_eq!(m.position(6), (2, 1));
        assert_eq!(m.position(10), (2, 4));
        assert_eq!(m.position(1000), (3, 1));
    }
}
