//! The daemon's log: one line per message, to standard output and/or
//! syslog, in the format `[logging]` chooses:
//!
//! - `default`: `statime[MONO]: LEVEL: message` (`LEVEL: ` left out for
//!   info);
//! - `ptp4l`: exactly ptp4l's `ptp4l[MONO]: [TAG] message` (with
//!   `message-tag`, as ptp4l's `message_tag`), so that scrapers written for
//!   ptp4l (OpenShift's linuxptp-daemon) read it;
//! - `json`: `{"monotonic_s":MONO,"level":"info","message":"..."}`.
//!
//! MONO is CLOCK_MONOTONIC in seconds with milliseconds, as ptp4l prints.
//! Syslog lines go to `/dev/log` as `<PRI>statime[PID]: message` (facility
//! daemon), which journald and rsyslog both accept; no `unsafe` needed.

use std::io::Write;
use std::os::unix::net::UnixDatagram;

use crate::config::{LogFormat, LogLevel, LoggingSettings};

/// How severe a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Something failed.
    Error,
    /// Something is wrong but the daemon goes on.
    Warning,
    /// What ptp4l logs at LOG_INFO: states, samples, summaries.
    Info,
    /// Detail for debugging.
    Debug,
}

impl Severity {
    const fn name(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
            Self::Debug => "debug",
        }
    }

    /// syslog severity (RFC 5424 table 2).
    const fn syslog(self) -> u8 {
        match self {
            Self::Error => 3,
            Self::Warning => 4,
            Self::Info => 6,
            Self::Debug => 7,
        }
    }

    /// Whether a line of this severity passes `level`.
    #[must_use]
    pub const fn passes(self, level: LogLevel) -> bool {
        let rank = match self {
            Self::Error => 0,
            Self::Warning => 1,
            Self::Info => 2,
            Self::Debug => 3,
        };
        let max = match level {
            LogLevel::Error => 0,
            LogLevel::Warn => 1,
            LogLevel::Info => 2,
            LogLevel::Debug | LogLevel::Trace => 3,
        };
        rank <= max
    }
}

/// Where the lines go and how they look.
pub struct Logger {
    level: LogLevel,
    format: LogFormat,
    tag: Option<String>,
    out: Option<Box<dyn Write>>,
    syslog: Option<UnixDatagram>,
    pid: u32,
}

/// The syslog socket, when there is one to talk to.
fn open_syslog() -> Option<UnixDatagram> {
    let s = UnixDatagram::unbound().ok()?;
    s.connect("/dev/log").ok()?;
    s.set_nonblocking(true).ok()?;
    Some(s)
}

impl Logger {
    /// A logger for `settings`, writing standard-output lines to `out`.
    /// With neither destination usable (no stdout asked for, no syslog
    /// socket) the lines go to `out` anyway: a daemon that logs nowhere
    /// cannot be operated.
    #[must_use]
    pub fn new(settings: &LoggingSettings, out: Box<dyn Write>) -> Self {
        let syslog = if settings.syslog { open_syslog() } else { None };
        let out = (settings.stdout || syslog.is_none()).then_some(out);
        Self {
            level: settings.level,
            format: settings.format,
            tag: settings.message_tag.clone(),
            out,
            syslog,
            pid: std::process::id(),
        }
    }

    /// A logger that writes every line at info and above to `out` in
    /// `format` (for tests and tools).
    #[must_use]
    pub fn to_writer(format: LogFormat, out: Box<dyn Write>) -> Self {
        Self {
            level: LogLevel::Info,
            format,
            tag: None,
            out: Some(out),
            syslog: None,
            pid: std::process::id(),
        }
    }

    /// Log `text` at `severity`, taken at `monotonic_ns`.
    pub fn log(&mut self, severity: Severity, monotonic_ns: u64, text: &str) {
        if !severity.passes(self.level) {
            return;
        }
        if let Some(out) = self.out.as_mut() {
            let line = format_line(
                self.format,
                self.tag.as_deref(),
                severity,
                monotonic_ns,
                text,
            );
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
        if let Some(s) = &self.syslog {
            let pri = 3 * 8 + severity.syslog(); // facility daemon
            let msg = match &self.tag {
                Some(t) => format!("<{pri}>statime[{}]: {t} {text}", self.pid),
                None => format!("<{pri}>statime[{}]: {text}", self.pid),
            };
            let _ = s.send(msg.as_bytes());
        }
    }
}

/// One standard-output line (with its newline).
#[must_use]
pub fn format_line(
    format: LogFormat,
    tag: Option<&str>,
    severity: Severity,
    monotonic_ns: u64,
    text: &str,
) -> String {
    let secs = monotonic_ns / 1_000_000_000;
    let millis = monotonic_ns % 1_000_000_000 / 1_000_000;
    let tag = tag.map_or_else(String::new, |t| format!("{t} "));
    match format {
        LogFormat::Ptp4l => format!("ptp4l[{secs}.{millis:03}]: {tag}{text}\n"),
        LogFormat::Default => {
            let level = match severity {
                Severity::Info => String::new(),
                other => format!("{}: ", other.name()),
            };
            format!("statime[{secs}.{millis:03}]: {tag}{level}{text}\n")
        }
        LogFormat::Json => {
            let mut o = serde_json::json!({
                "monotonic_s": monotonic_ns as f64 / 1e9,
                "level": severity.name(),
                "message": text,
            });
            if let (Some(t), Some(map)) = (tag.strip_suffix(' '), o.as_object_mut()) {
                map.insert("tag".into(), t.into());
            }
            format!("{o}\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t = 13_629_504_123_456;
        assert_eq!(
            format_line(LogFormat::Ptp4l, None, Severity::Info, t, "master offset 5"),
            "ptp4l[13629.504]: master offset 5\n"
        );
        assert_eq!(
            format_line(
                LogFormat::Ptp4l,
                Some("[ptp4l.0.config]"),
                Severity::Info,
                t,
                "x"
            ),
            "ptp4l[13629.504]: [ptp4l.0.config] x\n"
        );
        assert_eq!(
            format_line(
                LogFormat::Default,
                None,
                Severity::Warning,
                5_000_000,
                "send error"
            ),
            "statime[0.005]: warning: send error\n"
        );
        let j = format_line(LogFormat::Json, Some("t"), Severity::Error, t, "a \"b\"");
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["message"], "a \"b\"");
        assert_eq!(v["tag"], "t");
        assert!((v["monotonic_s"].as_f64().unwrap() - 13_629.504_123_456).abs() < 1e-9);
    }

    #[test]
    fn levels_filter() {
        assert!(Severity::Error.passes(LogLevel::Error));
        assert!(!Severity::Warning.passes(LogLevel::Error));
        assert!(Severity::Info.passes(LogLevel::Info));
        assert!(!Severity::Debug.passes(LogLevel::Info));
        assert!(Severity::Debug.passes(LogLevel::Trace));
    }

    #[test]
    fn a_logger_drops_lines_below_its_level() {
        #[derive(Clone, Default)]
        struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let settings = LoggingSettings {
            level: LogLevel::Warn,
            stdout: true,
            syslog: false,
            ..LoggingSettings::default()
        };
        let mut l = Logger::new(&settings, Box::new(buf.clone()));
        l.log(Severity::Info, 0, "sample");
        l.log(Severity::Warning, 0, "send error");
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text, "statime[0.000]: warning: send error\n");
    }
}
