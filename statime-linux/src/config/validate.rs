//! The semantic checks of a configuration: what the types cannot say.
//!
//! Errors are values the daemon cannot run with or that contradict each
//! other; warnings are legal values that probably are not what was meant
//! (a key that has no effect, a reserved code point).

use std::collections::BTreeMap;

use statime::port::MAX_DELAY_FILTER_LENGTH;

use super::diagnostic::{Diagnostic, Severity};
use super::{ClockKind, Config, DelayMechanism, HardwareClock, ServoKind, Timestamping, Transport};

/// Bounds of the log2 message intervals (128 per second to one per 128 s):
/// wider than every profile in use, narrower than nonsense.
pub(crate) const LOG_INTERVAL_RANGE: std::ops::RangeInclusive<i8> = -7..=7;

/// The largest |initial-offset| or |frequency-error| of a virtual clock:
/// beyond this it is no longer a model of a real oscillator.
const MAX_VIRTUAL_FREQUENCY_PPM: f64 = 1000.0;

/// Linux interface names are at most 15 bytes (IFNAMSIZ - 1).
const IFNAMSIZ: usize = 16;

struct Checker<'a> {
    config: &'a Config,
    /// Read the files the configuration names (`sa-file`).
    read_files: bool,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, key: &str, message: impl Into<String>) {
        let d = self
            .config
            .provenance
            .diagnostic(Severity::Error, key, message.into());
        self.errors.push(d);
    }

    fn warn(&mut self, key: &str, message: impl Into<String>) {
        let d = self
            .config
            .provenance
            .diagnostic(Severity::Warning, key, message.into());
        self.warnings.push(d);
    }

    fn is_set(&self, key: &str) -> bool {
        self.config.provenance.is_set(key)
    }

    /// Warns that `key` is set but has no effect `because`.
    fn unused(&mut self, key: &str, because: &str) {
        if self.is_set(key) {
            self.warn(key, format!("has no effect {because}"));
        }
    }

    fn finite_nonneg(&mut self, key: &str, v: f64) {
        if !v.is_finite() || v < 0.0 {
            self.error(key, format!("must be a finite number >= 0, not {v}"));
        }
    }

    fn positive_duration(&mut self, key: &str, v: super::ConfigDuration) {
        if v.as_nanos() <= 0 {
            self.error(key, format!("must be greater than zero, not {v}"));
        }
    }

    fn nonneg_duration(&mut self, key: &str, v: super::ConfigDuration) {
        if v.as_nanos() < 0 {
            self.error(key, format!("must not be negative, not {v}"));
        }
    }
}

/// Runs every check; returns (errors, warnings).
pub(crate) fn check(config: &Config, read_files: bool) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let mut c = Checker {
        config,
        read_files,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    instance(&mut c);
    ports(&mut c);
    authentication(&mut c);
    servo(&mut c);
    clock(&mut c);
    logging_and_observability(&mut c);
    overlay(&mut c);
    transparent(&mut c);
    gptp_keys(&mut c);
    telecom_keys(&mut c);
    power_profile(&mut c);
    unicast_keys(&mut c);
    smpte_metadata(&mut c);
    alternate_timescales(&mut c);
    for (key, message) in super::profile::violations(config) {
        c.error(&key, message);
    }
    (c.errors, c.warnings)
}

/// A transparent clock (`clock-type = "E2E_TC"` or `"P2P_TC"`): at least
/// two ports, all with the delay mechanism of its kind (as ptp4l demands),
/// and none of what only a clock that synchronises has.
/// The IEEE 802.1AS port keys: a MAC that parses and is multicast, and
/// keys that only matter on Ethernet or with peer delay.
fn gptp_keys(c: &mut Checker<'_>) {
    let cfg = c.config;
    for (i, p) in cfg.ports.iter().enumerate() {
        let k = |name: &str| format!("port[{i}].{name}");
        if let Some(text) = &p.ptp_dst_mac {
            match super::parse_mac(text) {
                None => c.error(
                    &k("ptp-dst-mac"),
                    format!("\"{text}\" is not a MAC address (aa:bb:cc:dd:ee:ff)"),
                ),
                Some(mac) if mac[0] & 1 == 0 => c.error(
                    &k("ptp-dst-mac"),
                    format!("{text} is not a multicast address (the first octet must be odd)"),
                ),
                Some(_) if p.transport != Transport::Ethernet => {
                    c.unused(&k("ptp-dst-mac"), "unless transport = \"ethernet\"");
                }
                Some(_) => {}
            }
        }
        if p.neighbor_prop_delay_thresh.is_some() {
            if p.delay_mechanism != DelayMechanism::P2p {
                c.unused(
                    &k("neighbor-prop-delay-thresh"),
                    "unless delay-mechanism = \"P2P\"",
                );
            } else if let Some(d) = p.neighbor_prop_delay_thresh {
                c.nonneg_duration(&k("neighbor-prop-delay-thresh"), d);
            }
        }
    }
}

/// Entries a unicast master table may hold (the core's table size).
pub(crate) const MAX_UNICAST_MASTERS: usize = 8;

/// A unicast client port (`unicast-master-table`): unicast addresses of
/// its transport, no duplicates, at most [`MAX_UNICAST_MASTERS`]; E2E; a
/// slave-only ordinary clock of one domain (a server port has
/// `unicast-listen` instead).
fn unicast_keys(c: &mut Checker<'_>) {
    let cfg = c.config;
    for (i, p) in cfg.ports.iter().enumerate() {
        let k = |name: &str| format!("port[{i}].{name}");
        if p.unicast_listen {
            unicast_server_keys(c, i, p);
        } else {
            for (key, set) in [
                ("unicast-max-clients", p.unicast_max_clients != 4096),
                ("unicast-max-duration", p.unicast_max_duration != 3600),
            ] {
                if set {
                    c.unused(&k(key), "without unicast-listen");
                }
            }
            if p.inhibit_multicast_service {
                c.unused(&k("inhibit-multicast-service"), "without unicast-listen");
            }
        }
        if p.hybrid_e2e && p.delay_mechanism != DelayMechanism::E2e {
            c.unused(&k("hybrid-e2e"), "unless delay-mechanism = \"E2E\"");
        }
        if p.hybrid_e2e && !p.unicast_master_table.is_empty() {
            c.unused(
                &k("hybrid-e2e"),
                "with unicast-master-table (a unicast client's Delay_Req go unicast anyway)",
            );
        }
        if p.unicast_master_table.is_empty() {
            if p.unicast_request_duration != 300 {
                c.unused(
                    &k("unicast-request-duration"),
                    "without unicast-master-table",
                );
            }
            if p.unicast_query_interval != 0 {
                c.unused(&k("unicast-query-interval"), "without unicast-master-table");
            }
            continue;
        }
        let key = k("unicast-master-table");
        let mut seen = Vec::new();
        for text in &p.unicast_master_table {
            match super::parse_unicast_address(p.transport, text) {
                Err(e) => c.error(&key, e),
                Ok(a) if seen.contains(&a) => c.error(&key, format!("{text} is listed twice")),
                Ok(a) => seen.push(a),
            }
        }
        if p.unicast_master_table.len() > MAX_UNICAST_MASTERS {
            c.error(
                &key,
                format!(
                    "{} entries; at most {MAX_UNICAST_MASTERS}",
                    p.unicast_master_table.len()
                ),
            );
        }
        if !cfg.slave_only {
            c.error(
                &key,
                "a unicast client port needs slave-only = true (a port that serves unicast \
                 clients has unicast-listen instead)",
            );
        }
        if p.delay_mechanism != DelayMechanism::E2e {
            c.error(
                &key,
                "unicast negotiation is supported with delay-mechanism = \"E2E\" only",
            );
        }
        if cfg.clock_type.is_transparent() {
            c.error(&key, "a transparent clock negotiates no unicast service");
        }
        if !cfg.overlay.domains.is_empty() {
            c.error(
                &key,
                "unicast negotiation is not supported together with overlay.domains",
            );
        }
        if !(10..=86_400).contains(&p.unicast_request_duration) {
            c.error(
                &k("unicast-request-duration"),
                format!(
                    "must be 10 to 86400 seconds, not {}",
                    p.unicast_request_duration
                ),
            );
        }
        if !(-3..=6).contains(&p.unicast_query_interval) {
            c.error(
                &k("unicast-query-interval"),
                format!(
                    "must be -3 to 6 (log2 seconds), not {}",
                    p.unicast_query_interval
                ),
            );
        }
    }
}

/// A unicast server port (`unicast-listen`): a clock that can be master,
/// E2E, not also a unicast client, sane limits.
fn unicast_server_keys(c: &mut Checker<'_>, i: usize, p: &super::PortSettings) {
    let cfg = c.config;
    let k = |name: &str| format!("port[{i}].{name}");
    let key = k("unicast-listen");
    if cfg.slave_only {
        c.error(
            &key,
            "a slave-only clock never serves: remove slave-only or unicast-listen",
        );
    }
    if !p.unicast_master_table.is_empty() {
        c.error(
            &key,
            "a port is either a unicast client (unicast-master-table) or a unicast server",
        );
    }
    if p.delay_mechanism != DelayMechanism::E2e {
        c.error(
            &key,
            "unicast service is supported with delay-mechanism = \"E2E\" only",
        );
    }
    if cfg.clock_type.is_transparent() {
        c.error(&key, "a transparent clock serves no unicast clients");
    }
    if !(1..=10_000_000).contains(&p.unicast_max_clients) {
        c.error(
            &k("unicast-max-clients"),
            format!("must be 1 to 10000000, not {}", p.unicast_max_clients),
        );
    }
    if !(10..=86_400).contains(&p.unicast_max_duration) {
        c.error(
            &k("unicast-max-duration"),
            format!(
                "must be 10 to 86400 seconds, not {}",
                p.unicast_max_duration
            ),
        );
    }
}

/// `[[alternate-timescale]]`: at most 4, unique keys, a short printable
/// name, a 48-bit jump time.
fn alternate_timescales(c: &mut Checker<'_>) {
    let list = &c.config.alternate_timescales;
    let max = statime::port::MAX_ALTERNATE_TIMESCALES;
    if list.len() > max {
        c.error(
            "alternate-timescale",
            format!("{} tables; at most {max}", list.len()),
        );
    }
    for (i, a) in list.iter().enumerate() {
        let k = |name: &str| format!("alternate-timescale[{i}].{name}");
        if list[..i].iter().any(|b| b.key == a.key) {
            c.error(&k("key"), format!("{} is used by an earlier table", a.key));
        }
        let printable = a.name.bytes().all(|b| (0x20..0x7F).contains(&b));
        if a.name.is_empty() || a.name.len() > 10 || !printable {
            c.error(
                &k("name"),
                format!(
                    "\"{}\" must be 1 to 10 printable ASCII characters (e.g. \"CET\")",
                    a.name
                ),
            );
        }
        if a.time_of_next_jump >= 1 << 48 {
            c.error(
                &k("time-of-next-jump"),
                format!(
                    "{} does not fit the 48-bit seconds field",
                    a.time_of_next_jump
                ),
            );
        }
    }
}

/// `[smpte-metadata]`: a frame rate, a known locking status, 48-bit
/// times, a sane interval.
fn smpte_metadata(c: &mut Checker<'_>) {
    let m = &c.config.smpte_metadata;
    if m.frame_rate().is_none() {
        c.error(
            "smpte-metadata.frame-rate",
            format!(
                "\"{}\" is not a frame rate: NUMERATOR/DENOMINATOR, both above 0 (\"30000/1001\", \"25/1\")",
                m.frame_rate
            ),
        );
    }
    if !super::SMPTE_LOCKING_STATUS.contains(&m.locking_status.as_str()) {
        c.error(
            "smpte-metadata.locking-status",
            format!(
                "\"{}\" is not one of {}",
                m.locking_status,
                super::SMPTE_LOCKING_STATUS.join(", ")
            ),
        );
    }
    for (k, v) in [
        ("time-of-next-jump", m.time_of_next_jump),
        ("time-of-next-jam", m.time_of_next_jam),
        ("time-of-previous-jam", m.time_of_previous_jam),
    ] {
        if v >= 1 << 48 {
            c.error(
                &format!("smpte-metadata.{k}"),
                format!("{v} does not fit the 48-bit seconds field"),
            );
        }
    }
    if !(-3..=4).contains(&m.interval) {
        c.error(
            "smpte-metadata.interval",
            format!("must be -3 to 4 (log2 seconds), not {}", m.interval),
        );
    }
}

/// `[power-profile]`: a known edition, and the inaccuracies of that edition.
fn power_profile(c: &mut Checker<'_>) {
    let p = &c.config.power_profile;
    match p.version {
        None => {
            for k in [
                "grandmaster-id",
                "grandmaster-time-inaccuracy",
                "network-time-inaccuracy",
                "total-time-inaccuracy",
            ] {
                c.unused(
                    &format!("power-profile.{k}"),
                    "without power-profile.version",
                );
            }
        }
        Some(2011) => c.unused(
            "power-profile.total-time-inaccuracy",
            "with version 2011 (it sends grandmaster- and network-time-inaccuracy)",
        ),
        Some(2017) => {
            for k in ["grandmaster-time-inaccuracy", "network-time-inaccuracy"] {
                c.unused(
                    &format!("power-profile.{k}"),
                    "with version 2017 (it sends total-time-inaccuracy)",
                );
            }
        }
        Some(v) => c.error(
            "power-profile.version",
            format!("{v} is not an edition of IEEE C37.238: 2011 or 2017"),
        ),
    }
    for (k, d) in [
        ("grandmaster-time-inaccuracy", p.grandmaster_time_inaccuracy),
        ("network-time-inaccuracy", p.network_time_inaccuracy),
        ("total-time-inaccuracy", p.total_time_inaccuracy),
    ] {
        if let Some(d) = d {
            c.nonneg_duration(&format!("power-profile.{k}"), d);
        }
    }
}

/// localPriority: 1..=255, and only with the telecom comparison.
fn telecom_keys(c: &mut Checker<'_>) {
    let cfg = c.config;
    let telecom = cfg.dataset_comparison == super::DatasetComparisonName::Telecom;
    if cfg.holdover_in_spec.as_nanos() != 0 {
        if !telecom {
            c.unused(
                "holdover-in-spec",
                "unless dataset-comparison = \"G.8275.x\"",
            );
        } else if cfg.slave_only {
            c.unused(
                "holdover-in-spec",
                "on a slave-only clock (it announces nothing)",
            );
        }
        c.nonneg_duration("holdover-in-spec", cfg.holdover_in_spec);
    }
    let mut keys = vec![("local-priority".to_owned(), cfg.local_priority)];
    keys.extend(
        cfg.ports
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("port[{i}].local-priority"), p.local_priority)),
    );
    for (key, v) in keys {
        if v == 0 {
            c.error(
                &key,
                "0 is out of range 1..=255 (ITU-T G.8275.1 clause 6.3)",
            );
        } else if !telecom {
            c.unused(&key, "unless dataset-comparison = \"G.8275.x\"");
        }
    }
}

fn transparent(c: &mut Checker<'_>) {
    let cfg = c.config;
    // tc-spanning-tree and tc-syntonize are silent on other clocks, as
    // ptp4l's tc_spanning_tree is (a converted file may carry them).
    if !cfg.clock_type.is_transparent() {
        return;
    }
    let kind = cfg.clock_type.name();
    // Fewer than two ports is refused when the daemon starts: more may
    // come from the command line (-i).
    let wanted = if cfg.clock_type == super::ClockType::P2pTransparent {
        DelayMechanism::P2p
    } else {
        DelayMechanism::E2e
    };
    for (i, p) in cfg.ports.iter().enumerate() {
        if p.delay_mechanism != wanted {
            c.error(
                &format!("port[{i}].delay-mechanism"),
                format!(
                    "{} on a {kind} transparent clock: every port must use {}",
                    p.delay_mechanism.name(),
                    wanted.name()
                ),
            );
        }
        if p.spp.is_some() {
            c.error(
                &format!("port[{i}].spp"),
                "authentication on a transparent clock is not supported: it would have to \
                 sign every message it forwards again",
            );
        }
    }
    if cfg.overlay.enabled() {
        c.error(
            "overlay",
            "a transparent clock steers no clock: the overlay needs an ordinary or boundary clock",
        );
    }
    if cfg.slave_only {
        c.warn("slave-only", "has no effect on a transparent clock");
    }
}

/// clockClass code points IEEE 1588-2019 table 4 reserves (the rest are
/// defined or left to alternate profiles).
fn clock_class_reserved(class: u8) -> bool {
    matches!(
        class,
        0..=5 | 8..=12 | 15..=51 | 53..=57 | 59..=67 | 123..=132 | 171..=186 | 188..=192
            | 194..=215 | 233..=247 | 249..=254
    )
}

/// clockAccuracy code points IEEE 1588-2019 table 5 defines (0x17..=0x31,
/// 0xFE) or leaves to alternate profiles (0x80..=0xFD).
fn clock_accuracy_known(code: u8) -> bool {
    matches!(code, 0x17..=0x31 | 0x80..=0xFE)
}

fn instance(c: &mut Checker<'_>) {
    let cfg = c.config;
    if cfg.domain >= 128 {
        c.warn(
            "domain",
            format!(
                "domain {} is reserved by IEEE 1588-2019 (0..=127 are usable); \
                 only a profile that assigns it (such as C37.238's 254) should use it",
                cfg.domain
            ),
        );
    }
    if cfg.sdo_id > 0x0FFF {
        c.error(
            "sdo-id",
            format!(
                "{:#x} does not fit in 12 bits (0..=0xFFF: majorSdoId << 8 | minorSdoId)",
                cfg.sdo_id
            ),
        );
    }
    if cfg.clock_class == 255 && !cfg.slave_only {
        c.error(
            "clock-class",
            "class 255 is for slave-only clocks: set slave-only = true, or pick another class \
             (248 is the default)",
        );
    }
    if cfg.slave_only && cfg.clock_class < 128 {
        c.error(
            "clock-class",
            format!(
                "class {} means a clock that never follows another, which contradicts \
                 slave-only = true",
                cfg.clock_class
            ),
        );
    } else if cfg.slave_only && !matches!(cfg.clock_class, 248 | 255) && c.is_set("clock-class") {
        c.warn(
            "clock-class",
            format!(
                "ignored: a slave-only clock announces class 255, not {}",
                cfg.clock_class
            ),
        );
    } else if clock_class_reserved(cfg.clock_class) {
        c.warn(
            "clock-class",
            format!(
                "class {} is reserved by IEEE 1588-2019 table 4",
                cfg.clock_class
            ),
        );
    }
    if !clock_accuracy_known(cfg.clock_accuracy) {
        c.warn(
            "clock-accuracy",
            format!(
                "{:#04x} is reserved by IEEE 1588-2019 table 5 (0x17..=0x31 and 0xFE = unknown \
                 are defined)",
                cfg.clock_accuracy
            ),
        );
    }
    if let Some(d) = &cfg.user_description
        && d.len() > 128
    {
        c.error(
            "user-description",
            format!(
                "is {} octets; a PTPText in USER_DESCRIPTION holds at most 128 (clause 15.5.3.1.2)",
                d.len()
            ),
        );
    }
    if cfg.minor_ptp_version > 1 {
        c.error(
            "minor-ptp-version",
            format!(
                "must be 0 (IEEE 1588-2008) or 1 (IEEE 1588-2019), not {}",
                cfg.minor_ptp_version
            ),
        );
    }
    if cfg.max_steps_removed < 2 {
        c.error(
            "max-steps-removed",
            format!(
                "must be at least 2 (a master's Announce arrives with stepsRemoved 0 and the \
                 next hop adds 1), not {}",
                cfg.max_steps_removed
            ),
        );
    }
    if let Some(id) = cfg.clock_identity {
        if id.0 == [0xFF; 8] {
            c.error(
                "clock-identity",
                "ff:ff:ff:ff:ff:ff:ff:ff addresses all clocks and cannot be an identity",
            );
        } else if id.0 == [0; 8] {
            c.error("clock-identity", "the all-zero identity is not valid");
        }
    }
    if let Some(offset) = cfg.utc_offset {
        if offset < 0 {
            c.error(
                "utc-offset",
                format!("TAI - UTC cannot be negative ({offset} s); it is 37 s since 2017"),
            );
        }
        if cfg.slave_only {
            c.warn(
                "utc-offset",
                "has no effect with slave-only = true: only a grandmaster announces it",
            );
        }
    }
    if !cfg.two_step {
        for (i, p) in cfg.ports.iter().enumerate() {
            if p.spp.is_some() {
                c.error(
                    &format!("port[{i}].spp"),
                    "two-step = false (one-step) cannot be authenticated: the NIC rewrites \
                     the Sync after its ICV was computed; set two-step = true",
                );
            }
            if p.timestamping == Timestamping::Software {
                c.error(
                    &format!("port[{i}].timestamping"),
                    "two-step = false (one-step) needs hardware time stamps that the NIC \
                     inserts into Sync; set timestamping = \"hardware\" or two-step = true",
                );
            }
        }
    }
}

/// `sa-file`, `spp` and `active-key-id`: the file parses, every port's
/// association is in it and has the port's key.
fn authentication(c: &mut Checker<'_>) {
    let cfg = c.config;
    let sas = match &cfg.sa_file {
        Some(_) if !c.read_files => None,
        Some(path) => match super::sa_file::load(path) {
            Ok(sas) => Some(sas),
            Err(e) => {
                c.error("sa-file", e.to_string());
                None
            }
        },
        None => None,
    };
    for (i, p) in cfg.ports.iter().enumerate() {
        let k = |name: &str| format!("port[{i}].{name}");
        let Some(spp) = p.spp else {
            c.unused(
                &k("active-key-id"),
                "without spp (the port does not authenticate)",
            );
            continue;
        };
        if p.active_key_id == 0 {
            c.error(
                &k("active-key-id"),
                "must be 1 or more (keyID 0 is not a key)",
            );
        }
        match (&cfg.sa_file, &sas) {
            (None, _) => c.error(
                &k("spp"),
                "needs sa-file = \"PATH\": the security associations (linuxptp sa_file format)",
            ),
            (Some(path), Some(sas)) => match sas.iter().find(|s| s.spp == spp) {
                None => c.error(
                    &k("spp"),
                    format!("spp {spp} is not in sa-file {}", path.display()),
                ),
                Some(sa) if p.active_key_id != 0 && sa.key(p.active_key_id).is_none() => c.error(
                    &k("active-key-id"),
                    format!(
                        "key {} is not in spp {spp} of sa-file {}",
                        p.active_key_id,
                        path.display()
                    ),
                ),
                Some(_) => {}
            },
            (Some(_), None) => {} // the file's own error is reported, or not read
        }
    }
}

fn ports(c: &mut Checker<'_>) {
    let cfg = c.config;
    if cfg.ports.is_empty() {
        c.error(
            "port",
            "no [[port]]: name at least one interface (a [[port]] table with \
             interface = \"eth0\", or -i eth0 on the command line)",
        );
        return;
    }
    if u16::try_from(cfg.ports.len()).is_err() {
        c.error("port", "more ports than PTP port numbers (65535)");
    }
    if cfg.slave_only && cfg.ports.len() > 1 {
        c.warn(
            "slave-only",
            format!(
                "a slave-only instance with {} ports is not a boundary clock: it never serves \
                 time on any of them",
                cfg.ports.len()
            ),
        );
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut phcs: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, p) in cfg.ports.iter().enumerate() {
        let k = |name: &str| format!("port[{i}].{name}");
        let iface = p.interface.as_str();
        if iface.is_empty() {
            c.error(
                &k("interface"),
                "missing: every [[port]] needs interface = \"NAME\"",
            );
        } else if iface.len() >= IFNAMSIZ
            || iface == "."
            || iface == ".."
            || iface
                .chars()
                .any(|ch| ch == '/' || ch.is_whitespace() || ch == ':')
        {
            c.error(
                &k("interface"),
                format!(
                    "\"{iface}\" is not a Linux interface name (at most 15 bytes, no '/', ':' \
                     or blanks)"
                ),
            );
        } else if let Some(first) = seen.insert(iface, i) {
            c.error(
                &k("interface"),
                format!("interface \"{iface}\" is already used by port[{first}]"),
            );
        }
        for (name, v) in [
            ("announce-interval", p.announce_interval),
            ("sync-interval", p.sync_interval),
            ("delay-interval", p.delay_interval),
            ("pdelay-interval", p.pdelay_interval),
        ] {
            if !LOG_INTERVAL_RANGE.contains(&v) {
                c.error(
                    &k(name),
                    format!(
                        "log2 interval {v} is out of range -7..=7 (2^{v} s; -3 = 8 per second, \
                         1 = every 2 s)"
                    ),
                );
            }
        }
        if p.announce_receipt_timeout < 2 {
            c.error(
                &k("announce-receipt-timeout"),
                format!(
                    "must be at least 2 (the default profile allows 2..=255), not {}",
                    p.announce_receipt_timeout
                ),
            );
        }
        if p.master_only && cfg.slave_only {
            c.error(
                &k("master-only"),
                "contradicts slave-only = true: a port cannot be both",
            );
        }
        if p.master_only {
            c.unused(&k("sync-receipt-timeout"), "on a master-only port");
        }
        match p.delay_mechanism {
            DelayMechanism::E2e => {
                c.unused(&k("pdelay-interval"), "with delay-mechanism = \"E2E\"");
                c.unused(&k("rate-ratio-window"), "with delay-mechanism = \"E2E\"");
            }
            DelayMechanism::P2p => {
                c.unused(&k("delay-interval"), "with delay-mechanism = \"P2P\"");
            }
        }
        for name in ["delay-asymmetry", "ingress-latency", "egress-latency"] {
            let v = match name {
                "delay-asymmetry" => p.delay_asymmetry,
                "ingress-latency" => p.ingress_latency,
                _ => p.egress_latency,
            };
            if v.as_nanos().unsigned_abs() >= 1_000_000_000 {
                c.error(
                    &k(name),
                    format!("{v} is not a plausible correction (it must be below 1 s)"),
                );
            }
        }
        match (p.timestamping, p.hardware_clock) {
            (Timestamping::Software, HardwareClock::Index(n)) => c.error(
                &k("hardware-clock"),
                format!(
                    "/dev/ptp{n} is named but timestamping = \"software\": software time stamps \
                     use the system clock; set timestamping = \"hardware\" or remove the key"
                ),
            ),
            (Timestamping::Hardware, HardwareClock::None) => c.error(
                &k("hardware-clock"),
                "\"none\" contradicts timestamping = \"hardware\" (hardware time stamps come \
                 from the NIC's PHC); use timestamping = \"software\"",
            ),
            (Timestamping::Hardware, HardwareClock::Index(n)) => {
                phcs.entry(n).or_insert(i);
            }
            _ => {}
        }
        if p.udp6_scope > 0x0F {
            c.error(
                &k("udp6-scope"),
                format!(
                    "{:#x} is not an IPv6 multicast scope (0x0..=0xF; 0x2 link-local, 0xE global)",
                    p.udp6_scope
                ),
            );
        } else if p.transport != Transport::UdpIpv6 {
            c.unused(&k("udp6-scope"), "unless transport = \"udp-ipv6\"");
        }
        if p.multicast_ttl == 0 {
            c.error(
                &k("multicast-ttl"),
                "must be at least 1 (0 keeps the packets on this host)",
            );
        } else if p.transport == Transport::Ethernet {
            c.unused(&k("multicast-ttl"), "with transport = \"ethernet\"");
        }
        c.positive_duration(&k("tx-timestamp-timeout"), p.tx_timestamp_timeout);
        if p.tx_timestamp_timeout.as_nanos() > 10_000_000_000 {
            c.error(
                &k("tx-timestamp-timeout"),
                format!(
                    "{} is too long (at most 10 s; ptp4l uses 10 ms, 100 ms or more only for slow NICs)",
                    p.tx_timestamp_timeout
                ),
            );
        }
        c.positive_duration(&k("fault-reset-interval"), p.fault_reset_interval);
        if !(1..=MAX_DELAY_FILTER_LENGTH).contains(&p.delay_filter_length) {
            c.error(
                &k("delay-filter-length"),
                format!(
                    "must be in 1..={MAX_DELAY_FILTER_LENGTH}, not {}",
                    p.delay_filter_length
                ),
            );
        }
        if p.rate_ratio_window == 0 {
            c.error(&k("rate-ratio-window"), "must be at least 1");
        }
    }
    if phcs.len() > 1 {
        let list: Vec<String> = phcs
            .iter()
            .map(|(n, i)| format!("port[{i}] /dev/ptp{n}"))
            .collect();
        let first_other = phcs.values().nth(1).copied().unwrap_or(0);
        c.warn(
            &format!("port[{first_other}].hardware-clock"),
            format!(
                "the ports use different hardware clocks ({}): a boundary clock needs them \
                 kept in step by an external tool",
                list.join(", ")
            ),
        );
    }
}

fn servo(c: &mut Checker<'_>) {
    let s = &c.config.servo;
    c.nonneg_duration("servo.step-threshold", s.step_threshold);
    c.nonneg_duration("servo.first-step-threshold", s.first_step_threshold);
    c.nonneg_duration("servo.stable-offset-threshold", s.stable_offset_threshold);
    if !s.max_frequency.is_finite() || s.max_frequency <= 0.0 || s.max_frequency > 1e9 {
        c.error(
            "servo.max-frequency",
            format!(
                "must be in (0, 1000000000] ppb, not {} (ptp4l's default is 900000000)",
                s.max_frequency
            ),
        );
    }
    let pi = &s.pi;
    for (key, v) in [
        ("servo.pi.proportional-const", pi.proportional_const),
        ("servo.pi.integral-const", pi.integral_const),
        ("servo.pi.proportional-scale", pi.proportional_scale),
        ("servo.pi.proportional-norm-max", pi.proportional_norm_max),
        ("servo.pi.integral-scale", pi.integral_scale),
        ("servo.pi.integral-norm-max", pi.integral_norm_max),
    ] {
        c.finite_nonneg(key, v);
    }
    for (key, v) in [
        ("servo.pi.proportional-exponent", pi.proportional_exponent),
        ("servo.pi.integral-exponent", pi.integral_exponent),
    ] {
        if !v.is_finite() {
            c.error(key, format!("must be a finite number, not {v}"));
        }
    }
    if (pi.proportional_const > 0.0) != (pi.integral_const > 0.0) {
        let key = if pi.proportional_const > 0.0 {
            "servo.pi.proportional-const"
        } else {
            "servo.pi.integral-const"
        };
        c.warn(
            key,
            "ignored unless both proportional-const and integral-const are set (as in ptp4l)",
        );
    }
    if (pi.proportional_scale > 0.0) != (pi.integral_scale > 0.0) {
        let key = if pi.proportional_scale > 0.0 {
            "servo.pi.proportional-scale"
        } else {
            "servo.pi.integral-scale"
        };
        c.warn(
            key,
            "ignored unless both proportional-scale and integral-scale are set",
        );
    }
    let k = &s.kalman;
    for (key, v) in [
        ("servo.kalman.frequency-wander", k.frequency_wander),
        (
            "servo.kalman.white-frequency-noise",
            k.white_frequency_noise,
        ),
        ("servo.kalman.delay-weight", k.delay_weight),
        ("servo.kalman.outlier-sigma", k.outlier_sigma),
        ("servo.kalman.noise-learning-rate", k.noise_learning_rate),
    ] {
        c.finite_nonneg(key, v);
    }
    if !k.phase_time_constant.is_finite() || k.phase_time_constant <= 0.0 {
        c.error(
            "servo.kalman.phase-time-constant",
            format!(
                "must be a positive number of Sync intervals, not {}",
                k.phase_time_constant
            ),
        );
    }
    if k.noise_learning_rate > 1.0 {
        c.error(
            "servo.kalman.noise-learning-rate",
            format!("must be in 0..=1, not {}", k.noise_learning_rate),
        );
    }
    for (key, v) in [
        ("servo.kalman.timestamp-noise", k.timestamp_noise),
        (
            "servo.kalman.software-timestamp-noise",
            k.software_timestamp_noise,
        ),
        ("servo.kalman.outlier-floor", k.outlier_floor),
        ("servo.kalman.initial-noise", k.initial_noise),
    ] {
        c.nonneg_duration(key, v);
    }
    if k.delay_window_block == 0 {
        c.error("servo.kalman.delay-window-block", "must be at least 1");
    }
    if !(1..=16).contains(&k.reacquire_after) {
        c.error(
            "servo.kalman.reacquire-after",
            format!("must be in 1..=16, not {}", k.reacquire_after),
        );
    }
    let (unused, kind) = match s.kind {
        ServoKind::Pi => ("servo.kalman", "pi"),
        ServoKind::Kalman => ("servo.pi", "kalman"),
    };
    c.unused(unused, &format!("with servo kind = \"{kind}\""));
}

fn clock(c: &mut Checker<'_>) {
    let cfg = c.config;
    let clk = &cfg.clock;
    let hardware: Vec<usize> = cfg
        .ports
        .iter()
        .enumerate()
        .filter(|(_, p)| p.timestamping == Timestamping::Hardware)
        .map(|(i, _)| i)
        .collect();
    let software = cfg.ports.len() - hardware.len();
    if !hardware.is_empty() && software > 0 {
        c.error(
            &format!("port[{}].timestamping", hardware[0]),
            "the ports mix hardware and software time stamps: they would be taken by \
             different clocks; use one mode on every port",
        );
    }
    match clk.kind {
        ClockKind::System if !hardware.is_empty() => c.error(
            "clock.kind",
            format!(
                "\"system\" cannot be steered by hardware time stamps (port[{}] uses them; \
                 they come from the NIC's PHC): use kind = \"phc\" with sync-system = true, \
                 or timestamping = \"software\"",
                hardware[0]
            ),
        ),
        ClockKind::Phc if hardware.is_empty() && !cfg.ports.is_empty() => c.error(
            "clock.kind",
            "\"phc\" needs hardware time stamps, but every port uses timestamping = \
             \"software\"",
        ),
        ClockKind::Virtual if !hardware.is_empty() => c.error(
            "clock.kind",
            format!(
                "the virtual clock runs over CLOCK_MONOTONIC_RAW and needs software time \
                 stamps, but port[{}] uses timestamping = \"hardware\"",
                hardware[0]
            ),
        ),
        _ => {}
    }
    let effective = cfg.clock_kind();
    if effective != ClockKind::Virtual {
        let because = format!("unless kind = \"virtual\" (it is \"{}\")", effective.name());
        c.unused("clock.initial-offset", &because);
        c.unused("clock.frequency-error", &because);
    }
    if clk.sync_system && effective != ClockKind::Phc {
        c.error(
            "clock.sync-system",
            format!(
                "only a PHC can be copied to the system clock, but the clock is \"{}\"",
                effective.name()
            ),
        );
    }
    if !clk.frequency_error.is_finite() || clk.frequency_error.abs() > MAX_VIRTUAL_FREQUENCY_PPM {
        c.error(
            "clock.frequency-error",
            format!(
                "must be within ±{MAX_VIRTUAL_FREQUENCY_PPM} ppm, not {}",
                clk.frequency_error
            ),
        );
    }
    if clk.initial_offset.as_nanos().unsigned_abs() > 1_000_000_000_000_000 {
        c.error(
            "clock.initial-offset",
            format!("{} is beyond any plausible offset", clk.initial_offset),
        );
    }
}

fn logging_and_observability(c: &mut Checker<'_>) {
    let cfg = c.config;
    if !(-7..=16).contains(&cfg.logging.summary_interval) {
        c.error(
            "logging.summary-interval",
            format!(
                "log2 interval {} is out of range -7..=16",
                cfg.logging.summary_interval
            ),
        );
    }
    if !cfg.logging.stdout && !cfg.logging.syslog && c.is_set("logging.syslog") {
        c.warn(
            "logging.syslog",
            "with stdout = false too, the daemon logs nothing",
        );
    }
    let o = &cfg.observability;
    if o.status_socket_permissions > 0o777 {
        c.error(
            "observability.status-socket-permissions",
            format!(
                "{:#o} is not a file mode (0o000..=0o777; write it as 0o660)",
                o.status_socket_permissions
            ),
        );
    }
    if o.status_socket.is_none() {
        c.unused(
            "observability.status-socket-permissions",
            "without status-socket",
        );
    }
    if o.management_socket_permissions > 0o777 {
        c.error(
            "observability.management-socket-permissions",
            format!(
                "{:#o} is not a file mode (0o000..=0o777; write it as 0o660)",
                o.management_socket_permissions
            ),
        );
    }
    for (key, path) in [
        ("observability.status-socket", &o.status_socket),
        ("observability.management-socket", &o.management_socket),
    ] {
        if let Some(p) = path {
            if p.as_os_str().is_empty() {
                c.error(key, "empty path");
            } else if p.is_relative() {
                c.warn(
                    key,
                    format!(
                        "\"{}\" is relative to the daemon's working directory; use an absolute path",
                        p.display()
                    ),
                );
            }
        }
    }
    if let (Some(a), Some(b)) = (&o.status_socket, &o.management_socket)
        && a == b
    {
        c.error(
            "observability.management-socket",
            "the same path as status-socket",
        );
    }
}

fn overlay(c: &mut Checker<'_>) {
    let o = &c.config.overlay;
    let domain = c.config.domain;
    let max_depth = bft_overlay::Guard::<u8>::MAX_HISTORY_DEPTH;
    if !(1..=max_depth).contains(&o.history_depth) {
        c.error(
            "overlay.history-depth",
            format!("must be 1 to {max_depth}, not {}", o.history_depth),
        );
    }
    if !(1..=1000).contains(&o.switch_persistence) {
        c.error(
            "overlay.switch-persistence",
            format!("must be 1 to 1000 rounds, not {}", o.switch_persistence),
        );
    }
    if !o.enabled() {
        if !o.domains.is_empty() {
            c.warn(
                "overlay.domains",
                "has no effect with overlay mode \"off\" (set mode = \"guarded\" or \"monitor\")",
            );
        }
        if !o.peers.is_empty() {
            c.warn(
                "overlay.peer",
                "has no effect with overlay mode \"off\" (set mode = \"guarded\" or \"monitor\")",
            );
        }
        return;
    }
    c.nonneg_duration("overlay.quarantine-after", o.quarantine_after);
    c.nonneg_duration("overlay.readmit-after", o.readmit_after);
    let mut all = vec![domain];
    for &d in &o.domains {
        if all.contains(&d) {
            c.error(
                "overlay.domains",
                format!("domain {d} is listed twice (the top-level `domain` counts)"),
            );
        } else {
            all.push(d);
        }
    }
    if all.len() > super::MAX_OVERLAY_DOMAINS {
        c.error(
            "overlay.domains",
            format!(
                "{} domains; at most {} PTP instances run in one daemon",
                all.len(),
                super::MAX_OVERLAY_DOMAINS
            ),
        );
    }
    let need = 2 * usize::from(o.faults) + 1;
    let sources = all.len() + potential_peers(c);
    if o.faults == 0 {
        c.warn(
            "overlay.faults",
            "0 tolerates no faulty source: any one source can move the clock",
        );
    } else if sources < need {
        c.error(
            "overlay.faults",
            format!(
                "tolerating {} faulty sources needs at least {need} (2f + 1); `domain`, \
                 overlay.domains and the overlay peers (with gossip: the nodes of keys-file, \
                 up to max-members) give {sources}",
                o.faults,
            ),
        );
    }
    if !o.max_drift.is_finite() || o.max_drift < 0.0 || o.max_drift > 1000.0 {
        c.error(
            "overlay.max-drift",
            format!("must be in [0, 1000] ppm, not {}", o.max_drift),
        );
    }
    c.nonneg_duration("overlay.asymmetry-bound", o.asymmetry_bound);
    if o.max_age.as_nanos() <= 0 {
        c.error(
            "overlay.max-age",
            format!("must be positive, not {}", o.max_age),
        );
    }
    // A reference clock (a grandmaster with a primary reference) may take
    // part in the peer layer in monitor mode: it serves time and states
    // its own accuracy to its peers, and steers nothing.
    let reference_peer = o.mode == super::OverlayMode::Monitor && !o.peers.is_empty();
    if !c.config.slave_only && !reference_peer {
        c.error(
            "overlay.mode",
            "the overlay steers a slave: set slave-only = true (a clock that cross-checks its \
             masters does not serve time itself yet; a grandmaster may only be an overlay peer \
             in monitor mode)",
        );
    }
    peers(c);
}

/// The peers the overlay may have: the configured ones, or with gossip
/// the trusted nodes of the keys file (when it is read and parses) up to
/// `max-members`; without reading it, as many as `max-members` allows.
fn potential_peers(c: &Checker<'_>) -> usize {
    let o = &c.config.overlay;
    if !o.gossip || o.peers.is_empty() {
        return o.peers.len();
    }
    let trusted = match &o.keys_file {
        Some(path) if c.read_files => super::PeerKeys::load(path).ok().map(|k| {
            let mut ids: Vec<u64> = k.keys.iter().map(|k| k.peer).collect();
            ids.sort_unstable();
            ids.dedup();
            ids.iter().filter(|&&id| Some(id) != o.node_id).count()
        }),
        _ => None,
    };
    trusted
        .unwrap_or(usize::MAX)
        .min(o.max_members)
        .max(o.peers.len())
}

/// `[[overlay.peer]]` and the peer layer's keys (overlay enabled).
fn peers(c: &mut Checker<'_>) {
    let o = &c.config.overlay;
    if o.peers.is_empty() {
        for key in [
            "overlay.node-id",
            "overlay.listen",
            "overlay.peer-poll-interval",
            "overlay.fan-out",
            "overlay.keys-file",
            "overlay.gossip",
            "overlay.max-members",
        ] {
            c.unused(key, "without [[overlay.peer]]");
        }
        return;
    }
    if o.node_id.is_none() {
        c.error(
            "overlay.node-id",
            "is required with [[overlay.peer]]: the id this node signs and is addressed with",
        );
    }
    match &o.keys_file {
        None => c.error(
            "overlay.keys-file",
            "is required with [[overlay.peer]]: the keys shared with each peer",
        ),
        Some(p) if p.as_os_str().is_empty() => c.error("overlay.keys-file", "empty path"),
        Some(_) => {}
    }
    if o.listen.port() == 0 {
        c.error(
            "overlay.listen",
            "port 0: peers address this node at a fixed port (the default is 3190)",
        );
    }
    if o.peer_poll_interval.as_nanos() < 10_000_000 {
        c.error(
            "overlay.peer-poll-interval",
            format!("must be at least 10 ms, not {}", o.peer_poll_interval),
        );
    }
    if o.fan_out == 0 {
        c.error("overlay.fan-out", "must be at least 1");
    }
    if !(1..=240).contains(&o.max_members) {
        c.error(
            "overlay.max-members",
            format!("{} is out of range 1..=240", o.max_members),
        );
    } else if !o.gossip {
        c.unused("overlay.max-members", "without gossip");
    }
    // Every peer is measured once per ceil(n / k) rounds: max-age must
    // cover that or peers age out between their measurements.
    let k = o.fan_out.clamp(1, o.peers.len());
    let rounds = o.peers.len().div_ceil(k);
    let cycle = i128::from(o.peer_poll_interval.as_nanos()) * rounds as i128;
    if o.peer_poll_interval.as_nanos() > 0 && i128::from(o.max_age.as_nanos()) <= cycle {
        c.error(
            "overlay.max-age",
            format!(
                "{} is not longer than the {} rounds of {} it takes to measure each of the {} \
                 peers with fan-out {k}: peers would age out between their measurements",
                o.max_age,
                rounds,
                o.peer_poll_interval,
                o.peers.len()
            ),
        );
    }
    let mut seen: Vec<u64> = Vec::new();
    for (i, p) in o.peers.iter().enumerate() {
        if Some(p.id) == o.node_id {
            c.error(
                &format!("overlay.peer[{i}].id"),
                format!("{} is this node's own node-id", p.id),
            );
        }
        if seen.contains(&p.id) {
            c.error(
                &format!("overlay.peer[{i}].id"),
                format!("peer {} is listed twice", p.id),
            );
        }
        seen.push(p.id);
        if p.address.is_ipv4() != o.listen.is_ipv4() {
            c.error(
                &format!("overlay.peer[{i}].address"),
                format!(
                    "{} is not of the address family of overlay.listen ({})",
                    p.address, o.listen
                ),
            );
        }
        if p.address.port() == 0 || p.address.ip().is_unspecified() {
            c.error(
                &format!("overlay.peer[{i}].address"),
                format!("{} cannot be sent to: give the peer's ip:port", p.address),
            );
        }
    }
}
