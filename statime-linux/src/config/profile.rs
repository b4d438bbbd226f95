//! PTP profiles chosen with one key, `profile = "NAME"`.
//!
//! A PTP profile (IEEE 1588-2019 clause 20.3) fixes the default value and
//! the allowed range of the configurable data set members, the delay
//! mechanism and the transports. Here a profile does two things:
//!
//! 1. it supplies the default of every key it covers that the file does
//!    not set ([`apply_defaults`], run when the file is read, and
//!    [`apply_port_defaults`] for a port added by `-i`);
//! 2. validation reports every value it forbids ([`violations`]), whether
//!    written in the file or given on the command line, naming the key,
//!    the profile and the allowed range.
//!
//! Without `profile` nothing changes: the defaults stay linuxptp's and
//! only the general ranges apply.
//!
//! The values and their sources are tabled in `docs/profiles.md`.

use serde::Deserialize;

use super::{Config, DelayMechanism, PortSettings, Transport};

/// A PTP profile the configuration can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
pub enum Profile {
    /// The Delay Request-Response Default PTP Profile (IEEE 1588-2019
    /// annex I.3).
    #[serde(rename = "default-e2e")]
    DefaultE2e,
    /// The Peer-to-Peer Default PTP Profile (IEEE 1588-2019 annex I.4).
    #[serde(rename = "default-p2p")]
    DefaultP2p,
    /// The SMPTE profile for professional broadcast (SMPTE ST 2059-2:2021,
    /// clause 6 in the 2021 edition, clause 5 in 2015).
    #[serde(rename = "smpte-2059-2")]
    Smpte2059,
    /// The AES67 media profile (AES67-2018 annex A).
    #[serde(rename = "aes67")]
    Aes67,
    /// IEEE 802.1AS-2020 generalized PTP (gPTP) over Ethernet: peer delay,
    /// majorSdoId 1, everything to 01-80-C2-00-00-0E, asCapable, the
    /// Follow_Up information TLV and PATH_TRACE.
    #[serde(rename = "gptp", alias = "802.1as")]
    Gptp,
    /// ITU-T G.8275.1 (telecom, full timing support): Ethernet, delay
    /// request-response, domains 24..=43, the alternate BMCA with
    /// localPriority.
    #[serde(rename = "g.8275.1", alias = "G.8275.1")]
    G8275_1,
    /// ITU-T G.8275.2 (telecom, partial timing support): UDP unicast with
    /// negotiation, delay request-response, domains 44..=63, the alternate
    /// BMCA with localPriority. As a slave (telecom time slave clock) only.
    #[serde(rename = "g.8275.2", alias = "G.8275.2")]
    G8275_2,
    /// IEC/IEEE 61850-9-3 (power utility automation): Ethernet, peer delay,
    /// one message per second.
    #[serde(rename = "iec-61850-9-3", alias = "61850-9-3")]
    Iec61850_9_3,
    /// IEEE C37.238-2017 (power profile): 61850-9-3 in domain 254 with the
    /// C37.238 TLV on every Announce.
    #[serde(rename = "c37.238-2017", alias = "c37.238")]
    C37_238,
}

/// The default and allowed range of one integer member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit<T> {
    /// The profile's default initialisation value.
    pub default: T,
    /// The smallest allowed value.
    pub min: T,
    /// The largest allowed value.
    pub max: T,
}

const fn limit<T>(default: T, min: T, max: T) -> Limit<T> {
    Limit { default, min, max }
}

/// The allowed range of a delay request interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogRange {
    /// A fixed range of log2 seconds.
    Fixed(i8, i8),
    /// From the port's logSyncInterval to logSyncInterval + N.
    FromSync(i8),
}

/// The default and range of a delay request interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DelayLimit {
    /// The default, log2 seconds.
    pub default: i8,
    /// What is allowed.
    pub range: LogRange,
}

impl DelayLimit {
    /// The allowed range for a port whose logSyncInterval is `sync`.
    #[must_use]
    pub fn bounds(&self, sync: i8) -> (i8, i8) {
        match self.range {
            LogRange::Fixed(lo, hi) => (lo, hi),
            LogRange::FromSync(up) => (sync, sync.saturating_add(up)),
        }
    }

    /// The default for a port whose logSyncInterval is `sync`: the
    /// profile's default, moved into the allowed range if needed.
    #[must_use]
    pub fn default_for(&self, sync: i8) -> i8 {
        let (lo, hi) = self.bounds(sync);
        self.default.clamp(lo, hi.max(lo))
    }

    fn describe(&self, sync: i8) -> String {
        let (lo, hi) = self.bounds(sync);
        match self.range {
            LogRange::Fixed(..) => format!("{lo}..={hi}"),
            LogRange::FromSync(up) => {
                format!("{lo}..={hi} (sync-interval to sync-interval + {up})")
            }
        }
    }
}

/// What a profile fixes: the default and allowed range of each member it
/// covers, and the mechanisms and transports it allows (the first of each
/// list is the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The name in the configuration file.
    pub name: &'static str,
    /// The document and clause that define it, for messages.
    pub source: &'static str,
    /// defaultDS.domainNumber.
    pub domain: Limit<u8>,
    /// defaultDS.priority1.
    pub priority1: Limit<u8>,
    /// defaultDS.priority2.
    pub priority2: Limit<u8>,
    /// portDS.logAnnounceInterval.
    pub announce_interval: Limit<i8>,
    /// portDS.logSyncInterval.
    pub sync_interval: Limit<i8>,
    /// portDS.logMinDelayReqInterval (E2E ports).
    pub delay_interval: DelayLimit,
    /// portDS.logMinPdelayReqInterval (P2P ports).
    pub pdelay_interval: DelayLimit,
    /// portDS.announceReceiptTimeout.
    pub announce_receipt_timeout: Limit<u8>,
    /// portDS.delayMechanism values allowed; the first is the default.
    pub delay_mechanisms: &'static [DelayMechanism],
    /// Transports allowed; the first is the default.
    pub transports: &'static [Transport],
    /// IEEE 802.1AS: majorSdoId 1, the Follow_Up information TLV,
    /// PATH_TRACE, asCapable at 800 ns and the 802.1AS destination MAC.
    pub ieee_802_1as: bool,
    /// The telecom profiles: the alternate BMCA (dataset-comparison
    /// G.8275.x) is required.
    pub telecom: bool,
    /// IEEE C37.238: the edition of the power profile TLV Announces carry.
    pub power_tlv: Option<u16>,
    /// Unicast negotiation (clause 16.1): every port needs a
    /// `unicast-master-table`, and requests last within this range of
    /// seconds.
    pub unicast: Option<(u32, u32)>,
}

const ANY_TRANSPORT: &[Transport] = &[Transport::UdpIpv4, Transport::UdpIpv6, Transport::Ethernet];

/// IEEE 1588-2019 annex I.3.2 / I.4.2 (the attribute values of the two
/// default profiles, unchanged from IEEE 1588-2008 annex J.3.2 / J.4.2).
const DEFAULT_E2E: Spec = Spec {
    name: "default-e2e",
    source: "IEEE 1588-2019 annex I.3",
    domain: limit(0, 0, 127),
    priority1: limit(128, 0, 255),
    priority2: limit(128, 0, 255),
    announce_interval: limit(1, 0, 4),
    sync_interval: limit(0, -1, 1),
    delay_interval: DelayLimit {
        default: 0,
        range: LogRange::Fixed(0, 5),
    },
    pdelay_interval: DelayLimit {
        default: 0,
        range: LogRange::Fixed(0, 5),
    },
    announce_receipt_timeout: limit(3, 2, 10),
    delay_mechanisms: &[DelayMechanism::E2e],
    transports: ANY_TRANSPORT,
    ieee_802_1as: false,
    telecom: false,
    power_tlv: None,
    unicast: None,
};

/// IEEE 1588-2019 annex I.4: as I.3 with peer delay.
const DEFAULT_P2P: Spec = Spec {
    name: "default-p2p",
    source: "IEEE 1588-2019 annex I.4",
    delay_mechanisms: &[DelayMechanism::P2p],
    ..DEFAULT_E2E
};

/// SMPTE ST 2059-2 (clause 5.5 of the 2015 edition, "PTP attribute
/// values"; transport clause 5.9: UDP/IPv4 multicast; path delay clause
/// 5.4: delay request-response, peer delay permitted).
const SMPTE_2059_2: Spec = Spec {
    name: "smpte-2059-2",
    source: "SMPTE ST 2059-2",
    domain: limit(127, 0, 127),
    priority1: limit(128, 0, 255),
    priority2: limit(128, 0, 255),
    announce_interval: limit(-2, -3, 1),
    sync_interval: limit(-3, -7, -1),
    delay_interval: DelayLimit {
        default: -3,
        range: LogRange::FromSync(5),
    },
    pdelay_interval: DelayLimit {
        default: -3,
        range: LogRange::FromSync(5),
    },
    announce_receipt_timeout: limit(3, 2, 10),
    delay_mechanisms: &[DelayMechanism::E2e, DelayMechanism::P2p],
    transports: &[Transport::UdpIpv4],
    ieee_802_1as: false,
    telecom: false,
    power_tlv: None,
    unicast: None,
};

/// AES67-2018 annex A (the media profile).
const AES67: Spec = Spec {
    name: "aes67",
    source: "AES67-2018 annex A",
    domain: limit(0, 0, 127),
    priority1: limit(128, 0, 255),
    priority2: limit(128, 0, 255),
    announce_interval: limit(1, 0, 4),
    sync_interval: limit(-3, -4, 1),
    delay_interval: DelayLimit {
        default: -3,
        range: LogRange::FromSync(5),
    },
    pdelay_interval: DelayLimit {
        default: -3,
        range: LogRange::FromSync(5),
    },
    announce_receipt_timeout: limit(3, 2, 10),
    delay_mechanisms: &[DelayMechanism::E2e],
    transports: &[Transport::UdpIpv4],
    ieee_802_1as: false,
    telecom: false,
    power_tlv: None,
    unicast: None,
};

/// IEEE 802.1AS-2020 (gPTP): the values linuxptp's `gPTP.cfg` uses
/// (priority1/2, intervals, neighborPropDelayThresh 800 ns); the ranges
/// are the standard's as far as we know them (see docs/profiles.md).
const GPTP: Spec = Spec {
    name: "gptp",
    source: "IEEE 802.1AS-2020",
    domain: limit(0, 0, 127),
    priority1: limit(246, 0, 255),
    priority2: limit(248, 0, 255),
    announce_interval: limit(0, -3, 4),
    sync_interval: limit(-3, -7, 0),
    delay_interval: DelayLimit {
        default: 0,
        range: LogRange::Fixed(0, 5),
    },
    pdelay_interval: DelayLimit {
        default: 0,
        range: LogRange::Fixed(-3, 5),
    },
    announce_receipt_timeout: limit(3, 2, 10),
    delay_mechanisms: &[DelayMechanism::P2p],
    transports: &[Transport::Ethernet],
    ieee_802_1as: true,
    telecom: false,
    power_tlv: None,
    unicast: None,
};

/// ITU-T G.8275.1 (2022 edition as we know it; linuxptp's G.8275.1.cfg
/// for the intervals): see docs/profiles.md for what is checked.
const G8275_1: Spec = Spec {
    name: "g.8275.1",
    source: "ITU-T G.8275.1",
    domain: limit(24, 24, 43),
    priority1: limit(128, 128, 128),
    priority2: limit(128, 0, 255),
    announce_interval: limit(-3, -3, -3),
    sync_interval: limit(-4, -4, -4),
    delay_interval: DelayLimit {
        default: -4,
        range: LogRange::Fixed(-4, -4),
    },
    pdelay_interval: DelayLimit {
        default: -4,
        range: LogRange::Fixed(-4, -4),
    },
    announce_receipt_timeout: limit(3, 3, 10),
    delay_mechanisms: &[DelayMechanism::E2e],
    transports: &[Transport::Ethernet],
    ieee_802_1as: false,
    telecom: true,
    power_tlv: None,
    unicast: None,
};

/// ITU-T G.8275.2 (values as we remember them; see docs/profiles.md):
/// a slave of unicast masters.
const G8275_2: Spec = Spec {
    name: "g.8275.2",
    source: "ITU-T G.8275.2",
    domain: limit(44, 44, 63),
    priority1: limit(128, 128, 128),
    priority2: limit(128, 0, 255),
    announce_interval: limit(0, -3, 0),
    sync_interval: limit(-4, -7, 0),
    delay_interval: DelayLimit {
        default: -4,
        range: LogRange::Fixed(-7, 0),
    },
    pdelay_interval: DelayLimit {
        default: -4,
        range: LogRange::Fixed(-7, 0),
    },
    announce_receipt_timeout: limit(3, 2, 10),
    delay_mechanisms: &[DelayMechanism::E2e],
    transports: &[Transport::UdpIpv4, Transport::UdpIpv6],
    ieee_802_1as: false,
    telecom: true,
    power_tlv: None,
    unicast: Some((60, 1000)),
};

/// IEC/IEEE 61850-9-3:2016 (values as we remember them; see
/// docs/profiles.md).
const IEC_61850_9_3: Spec = Spec {
    name: "iec-61850-9-3",
    source: "IEC/IEEE 61850-9-3",
    domain: limit(0, 0, 255),
    priority1: limit(128, 0, 255),
    priority2: limit(128, 0, 255),
    announce_interval: limit(0, 0, 0),
    sync_interval: limit(0, 0, 0),
    delay_interval: DelayLimit {
        default: 0,
        range: LogRange::Fixed(0, 0),
    },
    pdelay_interval: DelayLimit {
        default: 0,
        range: LogRange::Fixed(0, 0),
    },
    announce_receipt_timeout: limit(3, 3, 3),
    delay_mechanisms: &[DelayMechanism::P2p],
    transports: &[Transport::Ethernet],
    ieee_802_1as: false,
    telecom: false,
    power_tlv: None,
    unicast: None,
};

/// IEEE C37.238-2017: 61850-9-3 in domain 254 with the 2017 TLV.
const C37_238_2017: Spec = Spec {
    name: "c37.238-2017",
    source: "IEEE C37.238-2017",
    domain: limit(254, 0, 255),
    power_tlv: Some(2017),
    unicast: None,
    ..IEC_61850_9_3
};

/// G.8275.1's default destination: the non-forwardable address.
const G8275_1_DST_MAC: &str = "01:80:C2:00:00:0E";

/// 802.1AS: the asCapable threshold of linuxptp's gPTP.cfg.
const GPTP_NEIGHBOR_PROP_DELAY_THRESH_NS: i64 = 800;
/// 802.1AS: every message goes to the peer delay address.
const GPTP_DST_MAC: &str = "01:80:C2:00:00:0E";

impl Profile {
    /// Every profile, in the order the documentation lists them.
    pub const ALL: [Self; 9] = [
        Self::DefaultE2e,
        Self::DefaultP2p,
        Self::Smpte2059,
        Self::Aes67,
        Self::Gptp,
        Self::G8275_1,
        Self::G8275_2,
        Self::Iec61850_9_3,
        Self::C37_238,
    ];

    /// What the profile fixes.
    #[must_use]
    pub const fn spec(self) -> &'static Spec {
        match self {
            Self::DefaultE2e => &DEFAULT_E2E,
            Self::DefaultP2p => &DEFAULT_P2P,
            Self::Smpte2059 => &SMPTE_2059_2,
            Self::Aes67 => &AES67,
            Self::Gptp => &GPTP,
            Self::G8275_1 => &G8275_1,
            Self::G8275_2 => &G8275_2,
            Self::Iec61850_9_3 => &IEC_61850_9_3,
            Self::C37_238 => &C37_238_2017,
        }
    }

    /// The name in the configuration file.
    #[must_use]
    pub const fn name(self) -> &'static str {
        self.spec().name
    }
}

/// Sets every key the profile covers that the file does not set.
pub(crate) fn apply_defaults(config: &mut Config) {
    let Some(profile) = config.profile else {
        return;
    };
    let spec = profile.spec();
    let provenance = config.provenance.clone();
    let set = |k: &str| provenance.is_set(k);
    if !set("domain") {
        config.domain = spec.domain.default;
    }
    if !set("priority1") {
        config.priority1 = spec.priority1.default;
    }
    if !set("priority2") {
        config.priority2 = spec.priority2.default;
    }
    if spec.power_tlv.is_some() && !set("power-profile.version") {
        config.power_profile.version = spec.power_tlv;
    }
    if spec.unicast.is_some() && !set("slave-only") {
        config.slave_only = true;
    }
    if spec.telecom && !set("dataset-comparison") {
        config.dataset_comparison = super::DatasetComparisonName::Telecom;
    }
    if spec.ieee_802_1as {
        if !set("sdo-id") {
            config.sdo_id = 0x100;
        }
        if !set("follow-up-info") {
            config.follow_up_info = true;
        }
        if !set("path-trace") {
            config.path_trace = true;
        }
    }
    for (i, port) in config.ports.iter_mut().enumerate() {
        apply_port_defaults(spec, port, |k| set(&format!("port[{i}].{k}")));
    }
}

/// Sets the port keys the profile covers for which `is_set(key)` is false.
pub(crate) fn apply_port_defaults(
    spec: &Spec,
    port: &mut PortSettings,
    is_set: impl Fn(&str) -> bool,
) {
    if !is_set("transport") {
        port.transport = spec.transports[0];
    }
    if !is_set("delay-mechanism") {
        port.delay_mechanism = spec.delay_mechanisms[0];
    }
    if !is_set("announce-interval") {
        port.announce_interval = spec.announce_interval.default;
    }
    if !is_set("sync-interval") {
        port.sync_interval = spec.sync_interval.default;
    }
    // A default relative to the Sync interval follows an explicit
    // sync-interval into its range (ST 2059-2's -3 presumes Sync at -3).
    if !is_set("delay-interval") {
        port.delay_interval = spec.delay_interval.default_for(port.sync_interval);
    }
    if !is_set("pdelay-interval") {
        port.pdelay_interval = spec.pdelay_interval.default_for(port.sync_interval);
    }
    if !is_set("announce-receipt-timeout") {
        port.announce_receipt_timeout = spec.announce_receipt_timeout.default;
    }
    if spec.telecom && spec.transports == [Transport::Ethernet] && !is_set("ptp-dst-mac") {
        port.ptp_dst_mac = Some(G8275_1_DST_MAC.to_owned());
    }
    if spec.ieee_802_1as {
        if !is_set("neighbor-prop-delay-thresh") {
            port.neighbor_prop_delay_thresh = Some(super::ConfigDuration::from_nanos(
                GPTP_NEIGHBOR_PROP_DELAY_THRESH_NS,
            ));
        }
        if !is_set("ptp-dst-mac") {
            port.ptp_dst_mac = Some(GPTP_DST_MAC.to_owned());
        }
        if !is_set("sync-receipt-timeout") {
            port.sync_receipt_timeout = 3;
        }
    }
}

fn out_of<T: PartialOrd + Copy + std::fmt::Display>(
    spec: &Spec,
    v: T,
    l: &Limit<T>,
) -> Option<String> {
    (v < l.min || v > l.max).then(|| {
        format!(
            "{v} is not allowed by profile \"{}\": it allows {}..={} (default {}; {})",
            spec.name, l.min, l.max, l.default, spec.source
        )
    })
}

fn names<T: Copy>(list: &[T], name: impl Fn(T) -> &'static str) -> String {
    list.iter()
        .map(|&x| format!("\"{}\"", name(x)))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The values the configuration's profile forbids: (key path, message).
/// Log intervals outside the general -7..=7 are left to the general check.
pub(crate) fn violations(config: &Config) -> Vec<(String, String)> {
    let Some(profile) = config.profile else {
        return Vec::new();
    };
    let spec = profile.spec();
    let mut out = Vec::new();
    for (key, v, l) in [
        ("domain", config.domain, &spec.domain),
        ("priority1", config.priority1, &spec.priority1),
        ("priority2", config.priority2, &spec.priority2),
    ] {
        if let Some(m) = out_of(spec, v, l) {
            out.push((key.to_owned(), m));
        }
    }
    if spec.ieee_802_1as {
        if config.sdo_id >> 8 != 1 {
            out.push((
                "sdo-id".to_owned(),
                format!(
                    "{:#05x} is not allowed by profile \"{}\": majorSdoId must be 1 (sdo-id \
                     0x100..=0x1ff; {})",
                    config.sdo_id, spec.name, spec.source
                ),
            ));
        }
        if !config.follow_up_info {
            out.push((
                "follow-up-info".to_owned(),
                format!(
                    "false is not allowed by profile \"{}\": every Follow_Up carries the \
                     Follow_Up information TLV ({})",
                    spec.name, spec.source
                ),
            ));
        }
    }
    if let Some(edition) = spec.power_tlv
        && config.power_profile.version != Some(edition)
    {
        out.push((
            "power-profile.version".to_owned(),
            format!(
                "{} is not allowed by profile \"{}\": every Announce carries the {edition} \
                 power profile TLV ({})",
                config
                    .power_profile
                    .version
                    .map_or_else(|| "none".to_owned(), |v| v.to_string()),
                spec.name,
                spec.source
            ),
        ));
    }
    if spec.telecom && config.dataset_comparison != super::DatasetComparisonName::Telecom {
        out.push((
            "dataset-comparison".to_owned(),
            format!(
                "\"{}\" is not allowed by profile \"{}\": it uses the alternate BMCA \
                 (\"G.8275.x\"; {})",
                config.dataset_comparison.name(),
                spec.name,
                spec.source
            ),
        ));
    }
    let general = super::validate::LOG_INTERVAL_RANGE;
    for (i, p) in config.ports.iter().enumerate() {
        let k = |name: &str| format!("port[{i}].{name}");
        if let Some((lo, hi)) = spec.unicast {
            if p.unicast_master_table.is_empty() {
                out.push((
                    k("interface"),
                    format!(
                        "profile \"{}\" needs the port's unicast-master-table (the masters it \
                         asks for unicast service; {})",
                        spec.name, spec.source
                    ),
                ));
            } else if !(lo..=hi).contains(&p.unicast_request_duration) {
                out.push((
                    k("unicast-request-duration"),
                    format!(
                        "{} is not allowed by profile \"{}\": it allows {lo}..={hi} s ({})",
                        p.unicast_request_duration, spec.name, spec.source
                    ),
                ));
            }
        }
        if !spec.transports.contains(&p.transport) {
            out.push((
                k("transport"),
                format!(
                    "\"{}\" is not allowed by profile \"{}\": it allows {} ({})",
                    p.transport.name(),
                    spec.name,
                    names(spec.transports, Transport::name),
                    spec.source
                ),
            ));
        }
        if !spec.delay_mechanisms.contains(&p.delay_mechanism) {
            out.push((
                k("delay-mechanism"),
                format!(
                    "\"{}\" is not allowed by profile \"{}\": it allows {} ({})",
                    p.delay_mechanism.name(),
                    spec.name,
                    names(spec.delay_mechanisms, DelayMechanism::name),
                    spec.source
                ),
            ));
        }
        for (name, v, l) in [
            (
                "announce-interval",
                p.announce_interval,
                &spec.announce_interval,
            ),
            ("sync-interval", p.sync_interval, &spec.sync_interval),
        ] {
            if general.contains(&v)
                && let Some(m) = out_of(spec, v, l)
            {
                out.push((k(name), m));
            }
        }
        if let Some(m) = out_of(
            spec,
            p.announce_receipt_timeout,
            &spec.announce_receipt_timeout,
        ) {
            out.push((k("announce-receipt-timeout"), m));
        }
        // Only the interval of the port's own mechanism is used (the
        // other one is a warning when set, in validate.rs).
        let (name, v, l) = match p.delay_mechanism {
            DelayMechanism::E2e => ("delay-interval", p.delay_interval, &spec.delay_interval),
            DelayMechanism::P2p => ("pdelay-interval", p.pdelay_interval, &spec.pdelay_interval),
        };
        let (lo, hi) = l.bounds(p.sync_interval);
        let sync_ok = out_of(spec, p.sync_interval, &spec.sync_interval).is_none();
        if general.contains(&v) && sync_ok && (v < lo || v > hi) {
            out.push((
                k(name),
                format!(
                    "{v} is not allowed by profile \"{}\": it allows {} (default {}; {})",
                    spec.name,
                    l.describe(p.sync_interval),
                    l.default,
                    spec.source
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PORT: &str = "[[port]]\ninterface = \"eth0\"\ntimestamping = \"software\"\n";

    fn load(text: &str) -> Result<Config, Vec<String>> {
        Config::from_toml(text, "p.toml")
            .map_err(|e| e.errors().iter().map(ToString::to_string).collect())
    }

    fn with(profile: &str, top: &str, port: &str) -> String {
        format!("profile = \"{profile}\"\n{top}\n{PORT}{port}\n")
    }

    #[test]
    fn each_profile_supplies_its_defaults() {
        // (profile, domain, announce, sync, delay, pdelay, mechanism)
        let table: [(&str, u8, i8, i8, i8, i8, DelayMechanism); 4] = [
            ("default-e2e", 0, 1, 0, 0, 0, DelayMechanism::E2e),
            ("default-p2p", 0, 1, 0, 0, 0, DelayMechanism::P2p),
            ("smpte-2059-2", 127, -2, -3, -3, -3, DelayMechanism::E2e),
            ("aes67", 0, 1, -3, -3, -3, DelayMechanism::E2e),
        ];
        for (name, domain, announce, sync, delay, pdelay, mechanism) in table {
            let c = load(&with(name, "", "")).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let p = &c.ports[0];
            assert_eq!(c.profile.map(Profile::name), Some(name));
            assert_eq!(c.domain, domain, "{name}");
            assert_eq!((c.priority1, c.priority2), (128, 128), "{name}");
            assert_eq!(p.announce_interval, announce, "{name}");
            assert_eq!(p.sync_interval, sync, "{name}");
            assert_eq!(p.delay_interval, delay, "{name}");
            assert_eq!(p.pdelay_interval, pdelay, "{name}");
            assert_eq!(p.announce_receipt_timeout, 3, "{name}");
            assert_eq!(p.delay_mechanism, mechanism, "{name}");
            assert_eq!(p.transport, Transport::UdpIpv4, "{name}");
            assert!(c.warnings().is_empty(), "{name}: {:?}", c.warnings());
        }
    }

    #[test]
    fn no_profile_keeps_todays_defaults() {
        let c = load(PORT).expect("valid");
        assert_eq!(c.profile, None);
        assert_eq!(c, Config::from_toml(PORT, "q.toml").expect("valid"));
        let p = &c.ports[0];
        assert_eq!((c.domain, p.announce_interval, p.sync_interval), (0, 1, 0));
        // Values every profile forbids are fine without one.
        let c = load(&format!(
            "domain = 100\n{PORT}sync-interval = -7\ntransport = \"ethernet\"\n"
        ))
        .expect("valid");
        assert_eq!(c.ports[0].sync_interval, -7);
    }

    #[test]
    fn explicit_values_inside_the_range_are_kept() {
        let table = [
            (
                "default-e2e",
                "domain = 5",
                "sync-interval = -1\ndelay-interval = 5",
            ),
            (
                "default-p2p",
                "priority1 = 10",
                "pdelay-interval = 2\nannounce-interval = 4",
            ),
            (
                "smpte-2059-2",
                "domain = 0",
                "sync-interval = -7\ndelay-interval = -2\ndelay-mechanism = \"P2P\"\npdelay-interval = -7",
            ),
            (
                "aes67",
                "domain = 127",
                "sync-interval = 1\nannounce-interval = 0\ndelay-interval = 6",
            ),
        ];
        for (name, top, port) in table {
            let text = with(name, top, port);
            let c = load(&text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let d: Vec<String> = c.warnings().iter().map(ToString::to_string).collect();
            // delay-interval with P2P is the usual "has no effect" warning.
            assert!(
                d.iter().all(|w| w.contains("has no effect")),
                "{name}: {d:?}"
            );
            for line in port.lines().chain(top.lines()) {
                let (key, value) = line.split_once(" = ").expect("key = value");
                let got = match key {
                    "domain" => c.domain.to_string(),
                    "priority1" => c.priority1.to_string(),
                    "sync-interval" => c.ports[0].sync_interval.to_string(),
                    "delay-interval" => c.ports[0].delay_interval.to_string(),
                    "pdelay-interval" => c.ports[0].pdelay_interval.to_string(),
                    "announce-interval" => c.ports[0].announce_interval.to_string(),
                    "delay-mechanism" => format!("\"{}\"", c.ports[0].delay_mechanism.name()),
                    other => panic!("{other}"),
                };
                assert_eq!(got, value, "{name}: {key}");
            }
        }
    }

    #[test]
    fn forbidden_values_are_errors_naming_key_profile_and_range() {
        // (profile, top-level, port, key, expected message fragment)
        let table = [
            (
                "default-e2e",
                "",
                "sync-interval = -3",
                "port[0].sync-interval",
                "allows -1..=1",
            ),
            (
                "default-e2e",
                "domain = 128",
                "",
                "domain",
                "allows 0..=127",
            ),
            (
                "default-e2e",
                "",
                "delay-mechanism = \"P2P\"",
                "port[0].delay-mechanism",
                "allows \"E2E\"",
            ),
            (
                "default-e2e",
                "",
                "announce-receipt-timeout = 11",
                "port[0].announce-receipt-timeout",
                "allows 2..=10",
            ),
            (
                "default-e2e",
                "",
                "delay-interval = -1",
                "port[0].delay-interval",
                "allows 0..=5",
            ),
            (
                "default-p2p",
                "",
                "delay-mechanism = \"E2E\"",
                "port[0].delay-mechanism",
                "allows \"P2P\"",
            ),
            (
                "default-p2p",
                "",
                "pdelay-interval = 6",
                "port[0].pdelay-interval",
                "allows 0..=5",
            ),
            (
                "smpte-2059-2",
                "",
                "sync-interval = 0",
                "port[0].sync-interval",
                "allows -7..=-1",
            ),
            (
                "smpte-2059-2",
                "",
                "announce-interval = 2",
                "port[0].announce-interval",
                "allows -3..=1",
            ),
            (
                "smpte-2059-2",
                "",
                "transport = \"ethernet\"",
                "port[0].transport",
                "allows \"udp-ipv4\"",
            ),
            (
                "smpte-2059-2",
                "",
                "delay-interval = -4",
                "port[0].delay-interval",
                "allows -3..=2 (sync-interval to sync-interval + 5)",
            ),
            (
                "aes67",
                "",
                "sync-interval = -5",
                "port[0].sync-interval",
                "allows -4..=1",
            ),
            (
                "aes67",
                "",
                "delay-mechanism = \"P2P\"",
                "port[0].delay-mechanism",
                "allows \"E2E\"",
            ),
            (
                "aes67",
                "",
                "transport = \"udp-ipv6\"",
                "port[0].transport",
                "allows \"udp-ipv4\"",
            ),
            (
                "aes67",
                "",
                "announce-interval = -1",
                "port[0].announce-interval",
                "allows 0..=4",
            ),
        ];
        for (name, top, port, key, fragment) in table {
            let text = with(name, top, port);
            let e = load(&text).expect_err(&text);
            assert_eq!(e.len(), 1, "{name}: {e:?}");
            let line = &e[0];
            assert!(line.starts_with("p.toml:"), "{line}");
            assert!(line.contains(&format!(": {key}: ")), "{line}");
            assert!(line.contains(&format!("profile \"{name}\"")), "{line}");
            assert!(line.contains(fragment), "{line}");
            // The position is the value's line in the file.
            let value_line = text
                .lines()
                .position(|l| !port.is_empty() && l == port.lines().next().unwrap_or(""))
                .or_else(|| text.lines().position(|l| !top.is_empty() && l == top))
                .expect("the value is in the file")
                + 1;
            assert!(line.starts_with(&format!("p.toml:{value_line}:")), "{line}");
        }
    }

    #[test]
    fn relative_defaults_follow_an_explicit_sync_interval() {
        let c = load(&with("smpte-2059-2", "", "sync-interval = -1")).expect("valid");
        assert_eq!(c.ports[0].delay_interval, -1);
        let c = load(&with("aes67", "", "sync-interval = -4")).expect("valid");
        assert_eq!(c.ports[0].delay_interval, -3);
    }

    #[test]
    fn general_range_errors_are_not_repeated() {
        let e = load(&with("smpte-2059-2", "", "sync-interval = -8")).expect_err("-8");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("out of range -7..=7"), "{e:?}");
    }

    #[test]
    fn command_line_values_are_checked_and_ports_added_by_i_get_the_defaults() {
        let mut c = Config::parse_str("profile = \"aes67\"\n", "o.toml").expect("parse");
        c.apply_overrides(&super::super::Overrides {
            interfaces: vec!["eth1".into()],
            timestamping: Some(super::super::Timestamping::Software),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(c.ports[0].sync_interval, -3);
        let mut c = Config::parse_str(&with("aes67", "", ""), "o.toml").expect("parse");
        let e = c
            .apply_overrides(&super::super::Overrides {
                delay_mechanism: Some(DelayMechanism::P2p),
                ..Default::default()
            })
            .expect_err("P2P");
        let e = e.to_string();
        assert!(
            e.starts_with("command line (-P): port[0].delay-mechanism: \"P2P\" is not allowed by profile \"aes67\""),
            "{e}"
        );
    }

    #[test]
    fn gptp_supplies_the_802_1as_settings_and_refuses_the_rest() {
        let c = load(&with("gptp", "", "")).expect("valid");
        assert_eq!((c.sdo_id, c.priority1, c.priority2), (0x100, 246, 248));
        assert!(c.follow_up_info && c.path_trace);
        let p = &c.ports[0];
        assert_eq!(p.transport, Transport::Ethernet);
        assert_eq!(p.delay_mechanism, DelayMechanism::P2p);
        assert_eq!(
            (p.announce_interval, p.sync_interval, p.pdelay_interval),
            (0, -3, 0)
        );
        assert_eq!(p.sync_receipt_timeout, 3);
        assert_eq!(
            p.neighbor_prop_delay_thresh
                .map(super::super::ConfigDuration::as_nanos),
            Some(800)
        );
        assert_eq!(p.primary_mac(), [0x01, 0x80, 0xC2, 0x00, 0x00, 0x0E]);
        // The core port gets all of it.
        let pc = c.port_configs(statime::wire::ClockIdentity([1; 8]));
        assert!(pc[0].follow_up_info && pc[0].path_trace);
        assert_eq!(
            pc[0].neighbor_prop_delay_thresh,
            Some(statime::time::Duration::from_nanos(800))
        );
        // Accepted under its other name too.
        assert!(load(&with("802.1as", "", "")).is_ok());
        let e = load(&with(
            "gptp",
            "sdo-id = 0\nfollow-up-info = false",
            "transport = \"udp-ipv4\"\n",
        ))
        .expect_err("three violations");
        assert_eq!(e.len(), 3, "{e:#?}");
        assert!(
            e.iter()
                .any(|m| m.contains("sdo-id: 0x000 is not allowed by profile \"gptp\"")),
            "{e:#?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("follow-up-info: false is not allowed")),
            "{e:#?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("port[0].transport: \"udp-ipv4\" is not allowed")),
            "{e:#?}"
        );
    }

    #[test]
    fn g8275_2_is_a_unicast_telecom_slave() {
        let table = "unicast-master-table = [\"192.0.2.1\"]\n";
        let c = load(&with("g.8275.2", "", table)).expect("valid");
        assert_eq!(c.domain, 44);
        assert!(c.slave_only);
        assert_eq!(
            c.dataset_comparison,
            super::super::DatasetComparisonName::Telecom
        );
        let p = &c.ports[0];
        assert_eq!(p.transport, Transport::UdpIpv4);
        assert_eq!(p.delay_mechanism, DelayMechanism::E2e);
        assert_eq!(
            (p.announce_interval, p.sync_interval, p.delay_interval),
            (0, -4, -4)
        );
        assert_eq!(p.ptp_dst_mac, None, "no Ethernet address on UDP");
        assert!(c.port_configs(statime::wire::ClockIdentity([1; 8]))[0].unicast);
        assert!(load(&with("G.8275.2", "", table)).is_ok());

        let e = load(&with("g.8275.2", "", "")).expect_err("no table");
        assert!(
            e.iter()
                .any(|m| m.contains("needs the port's unicast-master-table")),
            "{e:#?}"
        );
        let e = load(&with(
            "g.8275.2",
            "domain = 24",
            &format!("{table}unicast-request-duration = 30\ntransport = \"ethernet\"\n"),
        ))
        .expect_err("three violations");
        for wanted in [
            "domain: 24 is not allowed by profile \"g.8275.2\": it allows 44..=63",
            "unicast-request-duration: 30 is not allowed by profile \"g.8275.2\": it allows 60..=1000 s",
            "transport: \"ethernet\" is not allowed",
        ] {
            assert!(e.iter().any(|m| m.contains(wanted)), "{wanted}: {e:#?}");
        }
    }

    #[test]
    fn g8275_1_uses_the_alternate_bmca_on_ethernet() {
        let c = load(&with("g.8275.1", "", "local-priority = 90\n")).expect("valid");
        assert_eq!(
            c.dataset_comparison,
            super::super::DatasetComparisonName::Telecom
        );
        assert_eq!((c.domain, c.priority1), (24, 128));
        let p = &c.ports[0];
        assert_eq!(p.transport, Transport::Ethernet);
        assert_eq!(p.delay_mechanism, DelayMechanism::E2e);
        assert_eq!(
            (p.announce_interval, p.sync_interval, p.delay_interval),
            (-3, -4, -4)
        );
        assert_eq!(p.primary_mac(), [0x01, 0x80, 0xC2, 0x00, 0x00, 0x0E]);
        let ds = c.default_ds(statime::wire::ClockIdentity([1; 8]));
        assert_eq!(
            ds.dataset_comparison,
            statime::datasets::DatasetComparison::Telecom
        );
        let pc = c.port_configs(statime::wire::ClockIdentity([1; 8]));
        assert_eq!(pc[0].port_ds.local_priority, 90);
        let e = load(&with(
            "g.8275.1",
            "domain = 0\npriority1 = 10\ndataset-comparison = \"ieee1588\"",
            "",
        ))
        .expect_err("three violations");
        assert_eq!(e.len(), 3, "{e:#?}");
        assert!(
            e.iter().any(|m| m
                .contains("domain: 0 is not allowed by profile \"g.8275.1\": it allows 24..=43")),
            "{e:#?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("dataset-comparison: \"ieee1588\" is not allowed")),
            "{e:#?}"
        );
    }

    #[test]
    fn power_profiles() {
        let c = load(&with(
            "c37.238-2017",
            "[power-profile]\ngrandmaster-id = 3\ntotal-time-inaccuracy = \"250ns\"",
            "",
        ))
        .expect("valid");
        assert_eq!(c.domain, 254);
        assert_eq!(c.power_profile.version, Some(2017));
        let p = &c.ports[0];
        assert_eq!(p.transport, Transport::Ethernet);
        assert_eq!(p.delay_mechanism, DelayMechanism::P2p);
        assert_eq!(
            (p.announce_interval, p.sync_interval, p.pdelay_interval),
            (0, 0, 0)
        );
        let pc = c.port_configs(statime::wire::ClockIdentity([1; 8]));
        let tlv = pc[0].power_profile.expect("the TLV");
        assert_eq!((tlv.grandmaster_id, tlv.time_inaccuracy), (3, 250));
        let c = load(&with("iec-61850-9-3", "", "")).expect("valid");
        assert_eq!((c.domain, c.power_profile.version), (0, None));
        let e = load(&with("c37.238-2017", "[power-profile]\nversion = 2011", ""))
            .expect_err("wrong edition");
        assert!(
            e.iter().any(|m| m.contains(
                "power-profile.version: 2011 is not allowed by profile \"c37.238-2017\""
            )),
            "{e:#?}"
        );
        let e = load(&with("iec-61850-9-3", "", "sync-interval = -3\n")).expect_err("1 s only");
        assert!(
            e.iter()
                .any(|m| m.contains("port[0].sync-interval: -3 is not allowed")),
            "{e:#?}"
        );
    }

    #[test]
    fn unknown_profile_is_a_schema_error() {
        let e = Config::from_toml("profile = \"g.8275.9\"\n", "u.toml").expect_err("unknown");
        let e = e.to_string();
        assert!(
            e.starts_with("u.toml:1:11: profile: unknown variant"),
            "{e}"
        );
        assert!(e.contains("smpte-2059-2"), "{e}");
    }

    #[test]
    fn every_default_is_inside_its_own_range() {
        for p in Profile::ALL {
            let s = p.spec();
            for l in [
                &s.domain,
                &s.priority1,
                &s.priority2,
                &s.announce_receipt_timeout,
            ] {
                assert!(l.min <= l.default && l.default <= l.max, "{}", s.name);
            }
            for l in [&s.announce_interval, &s.sync_interval] {
                assert!(l.min <= l.default && l.default <= l.max, "{}", s.name);
            }
            for l in [&s.delay_interval, &s.pdelay_interval] {
                let (lo, hi) = l.bounds(s.sync_interval.default);
                assert!(lo <= l.default && l.default <= hi, "{}", s.name);
            }
        }
    }
}
