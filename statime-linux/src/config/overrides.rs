//! Command-line overrides in ptp4l's style.
//!
//! The daemon parses its flags and fills an [`Overrides`]; this module
//! applies it. As with ptp4l, a command-line option wins over the file, and
//! applies to every port.

use super::{Config, ConfigError, DelayMechanism, LogLevel, PortSettings, Timestamping, Transport};

/// Settings given on the command line, each overriding the file.
///
/// The ptp4l flags they correspond to (the daemon's main maps them):
///
/// | flag | field |
/// |---|---|
/// | `-i IFACE` (repeatable) | `interfaces` |
/// | `-4` / `-6` / `-2` | `transport` |
/// | `-E` / `-P` | `delay_mechanism` |
/// | `-H` / `-S` | `timestamping` |
/// | `-s` | `slave_only` |
/// | `-m` | `log_stdout` |
/// | `-q` | `no_syslog` |
/// | `-l LEVEL` | `log_level` |
/// | `--domain N` | `domain` |
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Interfaces to run PTP on (`-i`). An interface the file already has
    /// keeps its `[[port]]` settings; a new one is added with the defaults,
    /// after the file's ports (as ptp4l adds `-i` ports to the file's).
    pub interfaces: Vec<String>,
    /// Transport of every port (`-4`, `-6`, `-2`).
    pub transport: Option<Transport>,
    /// Delay mechanism of every port (`-E`, `-P`).
    pub delay_mechanism: Option<DelayMechanism>,
    /// Time stamping of every port (`-H`, `-S`).
    pub timestamping: Option<Timestamping>,
    /// Slave-only (`-s`).
    pub slave_only: bool,
    /// Log to standard output (`-m`).
    pub log_stdout: bool,
    /// Do not log to syslog (`-q`).
    pub no_syslog: bool,
    /// Log level (`-l`).
    pub log_level: Option<LogLevel>,
    /// Domain number (`--domain`).
    pub domain: Option<u8>,
}

impl Overrides {
    /// Whether nothing is overridden.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl Config {
    /// A configuration from command-line options alone, for running without
    /// a file as ptp4l can (`statime -i eth0 -S -s`): the defaults with the
    /// overrides applied, then validated.
    ///
    /// # Errors
    /// The validation errors (for example no `-i`).
    pub fn from_overrides(o: &Overrides) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        config.apply_overrides(o)?;
        Ok(config)
    }

    /// Applies command-line overrides, then validates the result (an
    /// override can fix a configuration, e.g. `-i` supplying the only port,
    /// or break it, e.g. `-s` with a clock class below 128). Diagnostics
    /// about an overridden value name the option instead of a file line:
    /// `command line (-s): clock-class: ...`.
    ///
    /// # Errors
    /// The validation errors of the resulting configuration.
    pub fn apply_overrides(&mut self, o: &Overrides) -> Result<(), ConfigError> {
        let mut marks: Vec<(String, String)> = Vec::new();
        for iface in &o.interfaces {
            if !self.ports.iter().any(|p| &p.interface == iface) {
                let mut port = PortSettings::new(iface.clone());
                if let Some(profile) = self.profile {
                    super::profile::apply_port_defaults(profile.spec(), &mut port, |_| false);
                }
                self.ports.push(port);
                marks.push((
                    format!("port[{}]", self.ports.len() - 1),
                    format!("-i {iface}"),
                ));
            }
        }
        if let Some(t) = o.transport {
            let flag = match t {
                Transport::UdpIpv4 => "-4",
                Transport::UdpIpv6 => "-6",
                Transport::Ethernet => "-2",
            };
            for (i, p) in self.ports.iter_mut().enumerate() {
                p.transport = t;
                marks.push((format!("port[{i}].transport"), flag.to_owned()));
            }
        }
        if let Some(d) = o.delay_mechanism {
            let flag = match d {
                DelayMechanism::E2e => "-E",
                DelayMechanism::P2p => "-P",
            };
            for (i, p) in self.ports.iter_mut().enumerate() {
                p.delay_mechanism = d;
                marks.push((format!("port[{i}].delay-mechanism"), flag.to_owned()));
            }
        }
        if let Some(t) = o.timestamping {
            let flag = match t {
                Timestamping::Hardware => "-H",
                Timestamping::Software => "-S",
            };
            for (i, p) in self.ports.iter_mut().enumerate() {
                p.timestamping = t;
                marks.push((format!("port[{i}].timestamping"), flag.to_owned()));
            }
        }
        if o.slave_only {
            self.slave_only = true;
            marks.push(("slave-only".to_owned(), "-s".to_owned()));
        }
        if o.log_stdout {
            self.logging.stdout = true;
            marks.push(("logging.stdout".to_owned(), "-m".to_owned()));
        }
        if o.no_syslog {
            self.logging.syslog = false;
            marks.push(("logging.syslog".to_owned(), "-q".to_owned()));
        }
        if let Some(level) = o.log_level {
            self.logging.level = level;
            marks.push(("logging.level".to_owned(), "-l".to_owned()));
        }
        if let Some(domain) = o.domain {
            self.domain = domain;
            marks.push(("domain".to_owned(), format!("--domain {domain}")));
        }
        self.provenance.overridden.extend(marks);
        self.validate().map(|_| ())
    }
}
