//! The configuration file of the `statime` daemon: one TOML file, keys in
//! kebab-case, unknown keys rejected everywhere.
//!
//! ```toml
//! domain = 0                 # the instance (defaultDS) at the top level
//! priority1 = 128
//! slave-only = true
//!
//! [[port]]                   # one per interface; two or more = boundary clock
//! interface = "eth0"
//! transport = "udp-ipv4"     # or "udp-ipv6", "ethernet" (ptp4l's UDPv4/UDPv6/L2)
//! delay-mechanism = "E2E"    # or "P2P"
//! timestamping = "software"  # or "hardware"
//!
//! [servo]                    # kind, step thresholds, [servo.pi], [servo.kalman]
//! [clock]                    # which clock is steered: auto, system, phc, virtual
//! [logging]
//! [observability]
//! ```
//!
//! Every key, its default and its meaning: `docs/man/statime.toml.5.md`.
//! Defaults are linuxptp's where ptp4l has the option.
//!
//! [`Config::load`] reads, deserialises and validates a file. Every
//! problem is a [`Diagnostic`] naming the file, line, column and key path
//! (`port[1].delay-mechanism`); semantic checks run after deserialisation
//! and still point into the file because the span of every key is kept.
//! [`Config::apply_overrides`] applies ptp4l-style command-line options
//! ([`Overrides`]) and validates again. The `Config::*_ds`,
//! [`Config::port_configs`] and [`Config::servo_config`] methods produce the
//! core's types.

mod convert;
mod diagnostic;
mod keys;
mod overrides;
mod profile;
pub mod sa_file;
mod validate;
pub(crate) use validate::MAX_UNICAST_MASTERS;
mod value;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use statime::servo::{KalmanConfig, PiConfig, ServoConfig};
use statime::wire::ClockIdentity;

pub use self::diagnostic::{ConfigError, ConfigErrorKind, Diagnostic, Severity};
use self::diagnostic::{Provenance, SourceMap, humanize};
pub use self::keys::{PeerKey, PeerKeys};
pub use self::overrides::Overrides;
pub use self::profile::{Profile, Spec as ProfileSpec};
pub use self::value::{
    ClockKind, ClockType, ConfigDuration, DatasetComparisonName, DelayMechanism, HardwareClock,
    LogFormat, LogLevel, OverlayMode, ServoKind, TimeSourceName, Timestamping, Transport,
    parse_clock_identity, parse_duration,
};
use self::value::{de_clock_identity, de_millis, de_nanos, de_opt_nanos, de_secs};

/// Where the daemon looks when no file is named.
pub const DEFAULT_PATH: &str = "/etc/statime/statime.toml";

/// Files larger than this are refused (a configuration is a few KiB).
pub const MAX_FILE_SIZE: u64 = 1 << 20;

/// The whole configuration. The instance settings (defaultDS and the local
/// timePropertiesDS) are at the top level of the file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "the flags of defaultDS and timePropertiesDS are booleans"
)]
pub struct Config {
    /// The PTP profile whose defaults and ranges apply (default none:
    /// linuxptp's defaults, general ranges); see [`Profile`].
    pub profile: Option<Profile>,
    /// defaultDS.domainNumber (default 0).
    pub domain: u8,
    /// defaultDS.sdoId, 12 bits: majorSdoId << 8 | minorSdoId (default 0;
    /// 0x100 for IEEE 802.1AS).
    pub sdo_id: u16,
    /// defaultDS.priority1 (default 128; lower wins the BMCA).
    pub priority1: u8,
    /// defaultDS.priority2 (default 128).
    pub priority2: u8,
    /// clockQuality.clockClass (default 248; 6 = locked to a primary
    /// reference such as GNSS; 255 = slave-only).
    pub clock_class: u8,
    /// clockQuality.clockAccuracy code (default 0xFE, unknown).
    pub clock_accuracy: u8,
    /// clockQuality.offsetScaledLogVariance (default 0xFFFF).
    pub offset_scaled_log_variance: u16,
    /// defaultDS.slaveOnly (default false; ptp4l `-s`).
    pub slave_only: bool,
    /// defaultDS.twoStepFlag (default true; false = one-step, needs
    /// hardware time stamps).
    pub two_step: bool,
    /// timePropertiesDS.timeSource announced as grandmaster (default
    /// `internal-oscillator`).
    pub time_source: TimeSourceName,
    /// defaultDS.clockIdentity; `None` (default) = derived at run time from
    /// the first port's MAC address.
    #[serde(deserialize_with = "de_clock_identity")]
    pub clock_identity: Option<ClockIdentity>,
    /// currentUtcOffset (TAI - UTC, s) announced as grandmaster, marked
    /// valid; `None` (default) = taken from the kernel at run time.
    pub utc_offset: Option<i16>,
    /// timePropertiesDS.ptpTimescale (default true; false = ARB).
    pub ptp_timescale: bool,
    /// timePropertiesDS.timeTraceable as grandmaster (default false).
    pub time_traceable: bool,
    /// timePropertiesDS.frequencyTraceable as grandmaster (default false).
    pub frequency_traceable: bool,
    /// minorVersionPTP sent (default 1 = IEEE 1588-2019; 0 for 2008 peers).
    pub minor_ptp_version: u8,
    /// defaultDS.maxStepsRemoved (default 255).
    pub max_steps_removed: u8,
    /// The USER_DESCRIPTION management answer (IEEE 1588-2019 clause
    /// 15.5.3.1.2): `name;model;location`, at most 128 octets (default
    /// none: empty).
    pub user_description: Option<String>,
    /// The security association file for the AUTHENTICATION TLV, in
    /// linuxptp's `sa_file` format (default none; see [`sa_file`]); a
    /// relative path is taken from the configuration file's directory.
    /// Ports with `spp` sign and verify with it.
    pub sa_file: Option<PathBuf>,
    /// The kind of clock (default `OC`: ordinary, or boundary with several
    /// ports; `E2E_TC` / `P2P_TC`: a transparent clock, which forwards
    /// between its ports and steers no clock).
    pub clock_type: ClockType,
    /// A transparent clock adds one to stepsRemoved of the Announces it
    /// forwards (default false; ptp4l `tc_spanning_tree`).
    pub tc_spanning_tree: bool,
    /// A transparent clock scales residence times by the grandmaster's rate
    /// measured from the Sync stream (default true; IEEE 1588-2019 clause
    /// 11.5.2.2 asks for a syntonized transparent clock).
    pub tc_syntonize: bool,
    /// The BMCA's data set comparison (default `ieee1588`; `G.8275.x`: the
    /// telecom profiles' alternate one; ptp4l `dataset_comparison`).
    pub dataset_comparison: DatasetComparisonName,
    /// Telecom holdover (ITU-T G.8275.1/.2, with the telecom comparison, a
    /// clock that is not slave-only): once it has followed a master and
    /// lost every one, it announces clockClass 135 for this long (in
    /// holdover specification), then 165 (default 0 s: 165 at once). Bare
    /// numbers are seconds.
    #[serde(deserialize_with = "de_secs")]
    pub holdover_in_spec: ConfigDuration,
    /// defaultDS.localPriority of the telecom comparison, 1..=255 (default
    /// 128; ptp4l `G.8275.defaultDS.localPriority`).
    pub local_priority: u8,
    /// Append the IEEE 802.1AS Follow_Up information TLV to every
    /// Follow_Up (default false; ptp4l `follow_up_info`).
    pub follow_up_info: bool,
    /// Append a PATH_TRACE TLV to every Announce (default false; ptp4l
    /// `path_trace_enabled`; IEEE 1588-2019 clause 16.2).
    pub path_trace: bool,
    /// The ports, `[[port]]` in the file (at least one).
    #[serde(rename = "port")]
    pub ports: Vec<PortSettings>,
    /// `[[alternate-timescale]]`: alternate timescales (local time zones)
    /// every Announce carries (IEEE 1588-2019 clause 16.3), at most 4.
    #[serde(rename = "alternate-timescale")]
    pub alternate_timescales: Vec<AlternateTimescaleSettings>,
    /// `[servo]`.
    pub servo: ServoSettings,
    /// `[clock]`.
    pub clock: ClockSettings,
    /// `[logging]`.
    pub logging: LoggingSettings,
    /// `[observability]`.
    pub observability: ObservabilitySettings,
    /// `[overlay]`.
    pub overlay: OverlaySettings,
    /// `[power-profile]`: the IEEE C37.238 TLV on Announces.
    pub power_profile: PowerProfileSettings,
    /// `[smpte-metadata]`: the SMPTE ST 2059-2 synchronization metadata a
    /// grandmaster sends.
    pub smpte_metadata: SmpteMetadataSettings,
    #[serde(skip)]
    provenance: Provenance,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            profile: None,
            domain: 0,
            sdo_id: 0,
            priority1: 128,
            priority2: 128,
            clock_class: 248,
            clock_accuracy: 0xFE,
            offset_scaled_log_variance: 0xFFFF,
            slave_only: false,
            two_step: true,
            time_source: TimeSourceName::default(),
            clock_identity: None,
            utc_offset: None,
            ptp_timescale: true,
            time_traceable: false,
            frequency_traceable: false,
            minor_ptp_version: 1,
            user_description: None,
            sa_file: None,
            max_steps_removed: 255,
            clock_type: ClockType::Ordinary,
            tc_spanning_tree: false,
            tc_syntonize: true,
            dataset_comparison: DatasetComparisonName::Ieee1588,
            holdover_in_spec: ConfigDuration::from_nanos(0),
            local_priority: 128,
            follow_up_info: false,
            path_trace: false,
            ports: Vec::new(),
            alternate_timescales: Vec::new(),
            servo: ServoSettings::default(),
            clock: ClockSettings::default(),
            logging: LoggingSettings::default(),
            observability: ObservabilitySettings::default(),
            overlay: OverlaySettings::default(),
            power_profile: PowerProfileSettings::default(),
            smpte_metadata: SmpteMetadataSettings::default(),
            provenance: Provenance::default(),
        }
    }
}

/// `[power-profile]`: the IEEE C37.238 power profile TLV every Announce
/// carries (ptp4l 4.x `power_profile.*`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct PowerProfileSettings {
    /// `2011` or `2017`; none (default): no TLV.
    pub version: Option<u16>,
    /// grandmasterID: a number for the grandmaster, 1..=65535 (default 0:
    /// not set; ptp4l `power_profile.grandmasterID`).
    pub grandmaster_id: u16,
    /// 2011: grandmasterTimeInaccuracy (default unknown).
    #[serde(deserialize_with = "de_opt_nanos")]
    pub grandmaster_time_inaccuracy: Option<ConfigDuration>,
    /// 2011: networkTimeInaccuracy (default unknown).
    #[serde(deserialize_with = "de_opt_nanos")]
    pub network_time_inaccuracy: Option<ConfigDuration>,
    /// 2017: totalTimeInaccuracy (default unknown).
    #[serde(deserialize_with = "de_opt_nanos")]
    pub total_time_inaccuracy: Option<ConfigDuration>,
}

/// One `[[alternate-timescale]]`: an ALTERNATE_TIME_OFFSET_INDICATOR TLV
/// (IEEE 1588-2019 clause 16.3) on every Announce.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct AlternateTimescaleSettings {
    /// keyField, unique among the tables (default 0).
    pub key: u8,
    /// displayName, 1 to 10 printable ASCII characters (e.g. `"CET"`).
    pub name: String,
    /// currentOffset: alternate time minus PTP time, seconds (default 0).
    pub current_offset: i32,
    /// jumpSeconds: the change at the next jump, seconds (default 0).
    pub jump_seconds: i32,
    /// timeOfNextJump, PTP seconds below 2^48 (default 0: none announced).
    pub time_of_next_jump: u64,
}

impl AlternateTimescaleSettings {
    /// The core's form (a name beyond 10 octets is cut; validation
    /// refuses it).
    #[must_use]
    pub fn to_core(&self) -> statime::port::AlternateTimescale {
        let mut name = [0u8; 10];
        let bytes = self.name.as_bytes();
        let n = bytes.len().min(name.len());
        name[..n].copy_from_slice(&bytes[..n]);
        statime::port::AlternateTimescale {
            key: self.key,
            current_offset: self.current_offset,
            jump_seconds: self.jump_seconds,
            time_of_next_jump: self.time_of_next_jump,
            name,
            name_len: u8::try_from(n).unwrap_or(10),
        }
    }
}

/// `[smpte-metadata]`: the SMPTE ST 2059-2 synchronization metadata TLV
/// (version 1) this clock sends in a Management message every `interval`
/// while it is the grandmaster.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct SmpteMetadataSettings {
    /// Send it (default false).
    pub enabled: bool,
    /// defaultSystemFrameRate as `"NUMERATOR/DENOMINATOR"` (default
    /// `"30000/1001"`).
    pub frame_rate: String,
    /// masterLockingStatus: `"not-in-use"`, `"free-run"` (default),
    /// `"cold-locking"`, `"warm-locking"` or `"locked"`.
    pub locking_status: String,
    /// timeAddressFlags: drop-frame time code (default false).
    pub drop_frame: bool,
    /// timeAddressFlags: color frame identification (default false).
    pub color_frame: bool,
    /// currentLocalOffset, seconds (default 0).
    pub current_local_offset: i32,
    /// jumpSeconds: the change at the next jump, seconds (default 0).
    pub jump_seconds: i32,
    /// timeOfNextJump, PTP seconds (default 0: none).
    pub time_of_next_jump: u64,
    /// timeOfNextJam, PTP seconds (default 0: none).
    pub time_of_next_jam: u64,
    /// timeOfPreviousJam, PTP seconds (default 0).
    pub time_of_previous_jam: u64,
    /// previousJamLocalOffset, seconds (default 0).
    pub previous_jam_local_offset: i32,
    /// daylightSaving: in effect now (default false).
    pub daylight_saving: bool,
    /// daylightSaving: in effect after the next jump (default false).
    pub daylight_saving_next: bool,
    /// daylightSaving: in effect at the previous jam (default false).
    pub daylight_saving_previous: bool,
    /// leapSecondJump: the number of leap seconds changes at the next jump
    /// (default false).
    pub leap_second_jump: bool,
    /// How often, log2 seconds (default 0: every second).
    pub interval: i8,
}

impl Default for SmpteMetadataSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            frame_rate: "30000/1001".to_owned(),
            locking_status: "free-run".to_owned(),
            drop_frame: false,
            color_frame: false,
            current_local_offset: 0,
            jump_seconds: 0,
            time_of_next_jump: 0,
            time_of_next_jam: 0,
            time_of_previous_jam: 0,
            previous_jam_local_offset: 0,
            daylight_saving: false,
            daylight_saving_next: false,
            daylight_saving_previous: false,
            leap_second_jump: false,
            interval: 0,
        }
    }
}

/// masterLockingStatus names, in code order.
pub const SMPTE_LOCKING_STATUS: [&str; 5] = [
    "not-in-use",
    "free-run",
    "cold-locking",
    "warm-locking",
    "locked",
];

impl SmpteMetadataSettings {
    /// The frame rate as (numerator, denominator), both non-zero.
    #[must_use]
    pub fn frame_rate(&self) -> Option<(u32, u32)> {
        let (n, d) = self.frame_rate.split_once('/')?;
        let (n, d) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
        (n > 0 && d > 0).then_some((n, d))
    }

    /// The TLV when enabled and valid.
    #[must_use]
    pub fn tlv(&self) -> Option<statime::wire::tlv::SmpteSyncMetadataTlv> {
        if !self.enabled {
            return None;
        }
        let (num, den) = self.frame_rate()?;
        let status = SMPTE_LOCKING_STATUS
            .iter()
            .position(|s| *s == self.locking_status)?;
        let bit = |b: bool, n: u8| if b { 1 << n } else { 0 };
        Some(statime::wire::tlv::SmpteSyncMetadataTlv {
            frame_rate_numerator: num,
            frame_rate_denominator: den,
            master_locking_status: u8::try_from(status).ok()?,
            time_address_flags: bit(self.drop_frame, 0) | bit(self.color_frame, 1),
            current_local_offset: self.current_local_offset,
            jump_seconds: self.jump_seconds,
            time_of_next_jump: self.time_of_next_jump,
            time_of_next_jam: self.time_of_next_jam,
            time_of_previous_jam: self.time_of_previous_jam,
            previous_jam_local_offset: self.previous_jam_local_offset,
            daylight_saving: bit(self.daylight_saving, 0)
                | bit(self.daylight_saving_next, 1)
                | bit(self.daylight_saving_previous, 2),
            leap_second_jump: bit(self.leap_second_jump, 0),
        })
    }
}

impl PowerProfileSettings {
    /// The TLV, when a version is set (inaccuracies saturate at the
    /// largest known value; unset is unknown).
    #[must_use]
    pub fn tlv(&self) -> Option<statime::wire::tlv::PowerProfileTlv> {
        use statime::wire::tlv::{PowerProfileTlv, PowerProfileVersion};
        let ns = |d: Option<ConfigDuration>| {
            d.map_or(PowerProfileTlv::UNKNOWN, |d| {
                u32::try_from(d.as_nanos().max(0))
                    .unwrap_or(PowerProfileTlv::UNKNOWN - 1)
                    .min(PowerProfileTlv::UNKNOWN - 1)
            })
        };
        let version = match self.version? {
            2011 => PowerProfileVersion::V2011,
            2017 => PowerProfileVersion::V2017,
            _ => return None,
        };
        Some(match version {
            PowerProfileVersion::V2011 => PowerProfileTlv {
                version,
                grandmaster_id: self.grandmaster_id,
                time_inaccuracy: ns(self.grandmaster_time_inaccuracy),
                network_time_inaccuracy: ns(self.network_time_inaccuracy),
            },
            PowerProfileVersion::V2017 => PowerProfileTlv {
                version,
                grandmaster_id: self.grandmaster_id,
                time_inaccuracy: ns(self.total_time_inaccuracy),
                network_time_inaccuracy: 0,
            },
        })
    }
}

/// One `[[port]]`: a network interface the instance runs PTP on.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct PortSettings {
    /// The network interface (required), e.g. `eth0`.
    pub interface: String,
    /// The network transport (default `udp-ipv4`).
    pub transport: Transport,
    /// E2E or P2P (default E2E).
    pub delay_mechanism: DelayMechanism,
    /// logAnnounceInterval, log2 seconds (default 1).
    pub announce_interval: i8,
    /// logSyncInterval, log2 seconds (default 0).
    pub sync_interval: i8,
    /// logMinDelayReqInterval, log2 seconds (default 0; E2E).
    pub delay_interval: i8,
    /// logMinPdelayReqInterval, log2 seconds (default 0; P2P).
    pub pdelay_interval: i8,
    /// announceReceiptTimeout, in announce intervals (default 3, at least 2).
    pub announce_receipt_timeout: u8,
    /// Sync intervals without a Sync before the master is lost (default 0 =
    /// off).
    pub sync_receipt_timeout: u8,
    /// delayAsymmetry (default 0; bare numbers are nanoseconds).
    #[serde(deserialize_with = "de_nanos")]
    pub delay_asymmetry: ConfigDuration,
    /// Receive time stamp correction (default 0; bare numbers are ns).
    #[serde(deserialize_with = "de_nanos")]
    pub ingress_latency: ConfigDuration,
    /// Transmit time stamp correction (default 0; bare numbers are ns).
    #[serde(deserialize_with = "de_nanos")]
    pub egress_latency: ConfigDuration,
    /// Hardware or software time stamps (default hardware).
    pub timestamping: Timestamping,
    /// Which PHC (default auto).
    pub hardware_clock: HardwareClock,
    /// portDS.masterOnly (default false).
    pub master_only: bool,
    /// IPv6 multicast scope nibble, FF0X::181 (default 0x0E, global).
    pub udp6_scope: u8,
    /// IPv4 multicast TTL / IPv6 hop limit (default 1).
    pub multicast_ttl: u8,
    /// How long to wait for a transmit time stamp (default 10 ms; bare
    /// numbers are ms).
    #[serde(deserialize_with = "de_millis")]
    pub tx_timestamp_timeout: ConfigDuration,
    /// How long a FAULTY port waits before it restarts (default 16 s; bare
    /// numbers are seconds).
    #[serde(deserialize_with = "de_secs")]
    pub fault_reset_interval: ConfigDuration,
    /// Path delay median filter length (default 10, 1..=16).
    pub delay_filter_length: usize,
    /// Peer delay exchanges per neighborRateRatio estimate (default 8).
    pub rate_ratio_window: u16,
    /// The security association (its `spp` in the top-level `sa-file`)
    /// this port signs every message with and requires on every message
    /// it accepts (IEEE 1588-2019 clause 16.14, immediate processing);
    /// default none: no authentication.
    pub spp: Option<u8>,
    /// The key (keyID in that association) the port signs with (default
    /// 1); received messages may use any key of the association.
    pub active_key_id: u32,
    /// IEEE 802.1AS asCapable: the port takes and gives time only while
    /// its measured peer delay is at most this (default none: no such
    /// check; ptp4l `neighborPropDelayThresh`, in ns when a bare number).
    #[serde(deserialize_with = "de_opt_nanos")]
    pub neighbor_prop_delay_thresh: Option<ConfigDuration>,
    /// portDS.localPriority of the telecom comparison, 1..=255 (default
    /// 128; ptp4l `G.8275.portDS.localPriority`).
    pub local_priority: u8,
    /// The destination MAC of every message but peer delay ones on an
    /// Ethernet port (default `01:1B:19:00:00:00`; gPTP sends everything
    /// to `01:80:C2:00:00:0E`; ptp4l `ptp_dst_mac`).
    pub ptp_dst_mac: Option<String>,
    /// The unicast master table (IEEE 1588-2019 clause 17.5; ptp4l's
    /// `[unicast_master_table]` with `unicast_master_table`): the addresses
    /// of the masters this port asks for unicast Announce, Sync and
    /// Delay_Resp by negotiation (clause 16.1): IPv4, IPv6 or MAC addresses
    /// as the transport. Default empty: multicast.
    pub unicast_master_table: Vec<String>,
    /// durationField of each unicast request, seconds (default 300; ptp4l
    /// `unicast_req_duration`).
    pub unicast_request_duration: u32,
    /// logQueryInterval (clause 17.5.2): how often an unanswered or denied
    /// unicast request is repeated, log2 seconds (default 0).
    pub unicast_query_interval: i8,
    /// Serve unicast clients by negotiation (clause 16.1; ptp4l
    /// `unicast_listen`): grant their requests for Announce, Sync and
    /// Delay_Resp while this port is MASTER (default false).
    pub unicast_listen: bool,
    /// Clients served at once (default 4096); requests from more are
    /// denied.
    pub unicast_max_clients: usize,
    /// The longest grant, seconds (default 3600); longer requests are
    /// granted this long.
    pub unicast_max_duration: u32,
    /// In MASTER, send no multicast Announce and Sync: serve unicast
    /// clients only (default false; ptp4l `inhibit_multicast_service`).
    pub inhibit_multicast_service: bool,
    /// Hybrid E2E (ptp4l `hybrid_e2e`; RFC 9760 Enterprise profile): Sync
    /// and Announce by multicast, this slave's Delay_Req by unicast to its
    /// parent's address (default false). Our masters answer a unicast
    /// Delay_Req by unicast whatever this key says.
    pub hybrid_e2e: bool,
}

impl Default for PortSettings {
    fn default() -> Self {
        Self::new(String::new())
    }
}

/// One unicast master table entry for `transport`: an IPv4 or IPv6
/// address, or a MAC address on Ethernet; a unicast one.
///
/// # Errors
/// Why the text is not a unicast address of that transport.
pub fn parse_unicast_address(
    transport: Transport,
    text: &str,
) -> Result<crate::net::PeerAddress, String> {
    use crate::net::PeerAddress;
    use std::net::{SocketAddrV4, SocketAddrV6};
    match transport {
        Transport::UdpIpv4 => match text.parse::<std::net::Ipv4Addr>() {
            Ok(a) if a.is_multicast() || a.is_broadcast() || a.is_unspecified() => {
                Err(format!("{text} is not a unicast address"))
            }
            Ok(a) => Ok(PeerAddress::V4(SocketAddrV4::new(a, 0))),
            Err(_) => Err(format!("\"{text}\" is not an IPv4 address")),
        },
        Transport::UdpIpv6 => match text.parse::<std::net::Ipv6Addr>() {
            Ok(a) if a.is_multicast() || a.is_unspecified() => {
                Err(format!("{text} is not a unicast address"))
            }
            Ok(a) => Ok(PeerAddress::V6(SocketAddrV6::new(a, 0, 0, 0))),
            Err(_) => Err(format!("\"{text}\" is not an IPv6 address")),
        },
        Transport::Ethernet => match parse_mac(text) {
            Some(m) if m[0] & 1 == 1 => Err(format!("{text} is not a unicast MAC address")),
            Some(m) => Ok(PeerAddress::Ethernet(m)),
            None => Err(format!(
                "\"{text}\" is not a MAC address (aa:bb:cc:dd:ee:ff)"
            )),
        },
    }
}

/// `aa:bb:cc:dd:ee:ff` (or with `-`) as six octets.
#[must_use]
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let octets: Vec<u8> = text
        .split([':', '-'])
        .map(|o| {
            if o.len() == 2 {
                u8::from_str_radix(o, 16).ok()
            } else {
                None
            }
        })
        .collect::<Option<Vec<u8>>>()?;
    octets.try_into().ok()
}

impl PortSettings {
    /// The unicast master table's addresses for this port's transport, in
    /// table order; an entry that does not parse is left out (validation
    /// reports it).
    #[must_use]
    pub fn unicast_masters(&self) -> Vec<crate::net::PeerAddress> {
        self.unicast_master_table
            .iter()
            .filter_map(|a| parse_unicast_address(self.transport, a).ok())
            .collect()
    }

    /// The destination MAC of non-peer-delay messages on Ethernet
    /// (`ptp-dst-mac`, default 01-1B-19-00-00-00).
    #[must_use]
    pub fn primary_mac(&self) -> [u8; 6] {
        self.ptp_dst_mac
            .as_deref()
            .and_then(parse_mac)
            .unwrap_or(crate::net::PRIMARY_MAC)
    }

    /// A port on `interface` with every other setting at its default.
    #[must_use]
    pub fn new(interface: String) -> Self {
        Self {
            interface,
            transport: Transport::default(),
            delay_mechanism: DelayMechanism::default(),
            announce_interval: 1,
            sync_interval: 0,
            delay_interval: 0,
            pdelay_interval: 0,
            announce_receipt_timeout: 3,
            sync_receipt_timeout: 0,
            delay_asymmetry: ConfigDuration::ZERO,
            ingress_latency: ConfigDuration::ZERO,
            egress_latency: ConfigDuration::ZERO,
            timestamping: Timestamping::default(),
            hardware_clock: HardwareClock::default(),
            master_only: false,
            udp6_scope: 0x0E,
            multicast_ttl: 1,
            tx_timestamp_timeout: ConfigDuration::from_millis(10),
            fault_reset_interval: ConfigDuration::from_secs(16),
            delay_filter_length: 10,
            rate_ratio_window: 8,
            spp: None,
            active_key_id: 1,
            neighbor_prop_delay_thresh: None,
            local_priority: 128,
            ptp_dst_mac: None,
            unicast_master_table: Vec::new(),
            unicast_request_duration: 300,
            unicast_query_interval: 0,
            unicast_listen: false,
            unicast_max_clients: 4096,
            unicast_max_duration: 3600,
            inhibit_multicast_service: false,
            hybrid_e2e: false,
        }
    }
}

/// `[servo]`: how offsets become clock corrections.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ServoSettings {
    /// `pi` or `kalman` (default: the core's default, `kalman`).
    pub kind: ServoKind,
    /// Once locked, offsets above this are stepped; 0 (default) = never
    /// step after the first correction. Bare numbers are seconds.
    #[serde(deserialize_with = "de_secs")]
    pub step_threshold: ConfigDuration,
    /// The first correction steps if the offset exceeds this (default
    /// 20 us; 0 = never step). Bare numbers are seconds.
    #[serde(deserialize_with = "de_secs")]
    pub first_step_threshold: ConfigDuration,
    /// Largest frequency adjustment, ppb (default 900000000).
    pub max_frequency: f64,
    /// Offset below which samples count towards the locked-stable state
    /// (ptp4l `servo_offset_threshold`; default 0 = off).
    #[serde(deserialize_with = "de_secs")]
    pub stable_offset_threshold: ConfigDuration,
    /// Samples below `stable-offset-threshold` for locked-stable (default 10).
    pub stable_sample_count: u32,
    /// `[servo.pi]`.
    pub pi: PiSettings,
    /// `[servo.kalman]`.
    pub kalman: KalmanSettings,
}

impl Default for ServoSettings {
    fn default() -> Self {
        let core = ServoConfig::default();
        Self {
            kind: ServoKind::default(),
            step_threshold: secs_to_duration(core.step_threshold),
            first_step_threshold: secs_to_duration(core.first_step_threshold),
            max_frequency: core.max_frequency_ppb,
            stable_offset_threshold: secs_to_duration(core.stable_offset_threshold),
            stable_sample_count: core.stable_sample_count,
            pi: PiSettings::default(),
            kalman: KalmanSettings::default(),
        }
    }
}

#[allow(
    clippy::cast_possible_truncation,
    reason = "the core's defaults are small finite values"
)]
fn secs_to_duration(s: f64) -> ConfigDuration {
    ConfigDuration::from_nanos((s * 1e9).round() as i64)
}

/// `[servo.pi]`: linuxptp's `pi_*` options. A zero constant or scale means
/// automatic, as in ptp4l.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct PiSettings {
    /// `pi_proportional_const` (0 = from the Sync interval).
    pub proportional_const: f64,
    /// `pi_integral_const` (0 = from the Sync interval).
    pub integral_const: f64,
    /// `pi_proportional_scale` (0 = 0.7 hardware / 0.1 software).
    pub proportional_scale: f64,
    /// `pi_proportional_exponent` (-0.3).
    pub proportional_exponent: f64,
    /// `pi_proportional_norm_max` (0.7).
    pub proportional_norm_max: f64,
    /// `pi_integral_scale` (0 = 0.3 hardware / 0.001 software).
    pub integral_scale: f64,
    /// `pi_integral_exponent` (0.4).
    pub integral_exponent: f64,
    /// `pi_integral_norm_max` (0.3).
    pub integral_norm_max: f64,
}

impl Default for PiSettings {
    fn default() -> Self {
        let c = PiConfig::default();
        Self {
            proportional_const: c.proportional_const,
            integral_const: c.integral_const,
            proportional_scale: c.proportional_scale,
            proportional_exponent: c.proportional_exponent,
            proportional_norm_max: c.proportional_norm_max,
            integral_scale: c.integral_scale,
            integral_exponent: c.integral_exponent,
            integral_norm_max: c.integral_norm_max,
        }
    }
}

/// `[servo.kalman]`: the Kalman servo's model (see
/// `docs/algorithm/servo.md`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct KalmanSettings {
    /// Random-walk frequency noise, ppb per sqrt(s) (default 1.0).
    pub frequency_wander: f64,
    /// White frequency noise, ppb (default 0.1).
    pub white_frequency_noise: f64,
    /// Timestamp noise with hardware time stamps (default 4 ns; bare
    /// numbers are seconds).
    #[serde(deserialize_with = "de_secs")]
    pub timestamp_noise: ConfigDuration,
    /// Timestamp noise with software time stamps (default 50 ns).
    #[serde(deserialize_with = "de_secs")]
    pub software_timestamp_noise: ConfigDuration,
    /// Weight of the squared excess path delay (default 1/3).
    pub delay_weight: f64,
    /// Samples per block of the path-delay minimum window (default 16).
    pub delay_window_block: u32,
    /// Rejection gate in standard deviations (default 5).
    pub outlier_sigma: f64,
    /// Innovations below this are never rejected (default 100 ns).
    #[serde(deserialize_with = "de_secs")]
    pub outlier_floor: ConfigDuration,
    /// Consecutive rejections before the re-acquisition test (default 4,
    /// 1..=16).
    pub reacquire_after: u8,
    /// Phase correction time constant, Sync intervals (default 1).
    pub phase_time_constant: f64,
    /// Measurement noise assumed at start (default 1 us).
    #[serde(deserialize_with = "de_secs")]
    pub initial_noise: ConfigDuration,
    /// Learning rate of the extra measurement noise (default 0.02).
    pub noise_learning_rate: f64,
}

impl Default for KalmanSettings {
    fn default() -> Self {
        let c = KalmanConfig::default();
        Self {
            frequency_wander: c.frequency_wander,
            white_frequency_noise: c.white_frequency_noise,
            timestamp_noise: secs_to_duration(c.timestamp_noise),
            software_timestamp_noise: secs_to_duration(c.software_timestamp_noise),
            delay_weight: c.delay_weight,
            delay_window_block: c.delay_window_block,
            outlier_sigma: c.outlier_sigma,
            outlier_floor: secs_to_duration(c.outlier_floor),
            reacquire_after: c.reacquire_after,
            phase_time_constant: c.phase_time_constant,
            initial_noise: secs_to_duration(c.initial_noise),
            noise_learning_rate: c.noise_learning_rate,
        }
    }
}

/// `[clock]`: the clock the instance reads and steers.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ClockSettings {
    /// `auto` (default), `system`, `phc` or `virtual`.
    pub kind: ClockKind,
    /// Measure and report, never adjust the clock (default false).
    pub observe_only: bool,
    /// Virtual clock: its offset from the system clock at start (default
    /// 0; bare numbers are nanoseconds).
    #[serde(deserialize_with = "de_nanos")]
    pub initial_offset: ConfigDuration,
    /// Virtual clock: its frequency error, ppm, positive = fast (default 0).
    pub frequency_error: f64,
    /// With `phc`: also keep the system clock synchronised to the PHC (and
    /// the PHC to the system clock as grandmaster), phc2sys's job (default
    /// false).
    pub sync_system: bool,
}

/// `[logging]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct LoggingSettings {
    /// Least severe messages shown (default `info`).
    pub level: LogLevel,
    /// `default`, `ptp4l` or `json` (default `default`).
    pub format: LogFormat,
    /// log2 seconds between summary lines (ptp4l `summary_interval`);
    /// 0 (default): a line per servo sample instead.
    pub summary_interval: i8,
    /// Text put after `ptp4l[...]: ` (and before the message in the other
    /// formats), as ptp4l's `message_tag`, e.g. `"[ptp4l.0.config]"` for
    /// OpenShift's linuxptp-daemon (default none).
    pub message_tag: Option<String>,
    /// Log to standard output (default false; ptp4l `-m`).
    pub stdout: bool,
    /// Log to syslog (default true; ptp4l `-q` turns it off).
    pub syslog: bool,
}

impl Default for LoggingSettings {
    fn default() -> Self {
        Self {
            level: LogLevel::default(),
            format: LogFormat::default(),
            summary_interval: 0,
            message_tag: None,
            stdout: false,
            syslog: true,
        }
    }
}

/// `[observability]`: the control-plane endpoints, all off by default.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ObservabilitySettings {
    /// Unix socket serving the JSON status (default none).
    pub status_socket: Option<PathBuf>,
    /// File mode of the status socket (default 0o660).
    pub status_socket_permissions: u32,
    /// Prometheus/OpenMetrics listen address, e.g. `127.0.0.1:9975`
    /// (default none).
    pub metrics_listen: Option<SocketAddr>,
    /// Unix socket answering PTP management messages, for `pmc -u -s PATH`
    /// (default none).
    pub management_socket: Option<PathBuf>,
    /// File mode of the management socket (default 0o660).
    pub management_socket_permissions: u32,
    /// Accept management SET of PRIORITY1, PRIORITY2 and DOMAIN (default
    /// false: SET is refused with MANAGEMENT_ERROR_STATUS NOT_SETABLE).
    pub management_allow_set: bool,
    /// Shared-memory file publishing `{earliest, latest, status}` for
    /// applications (`statime-ctl now`, the `bft_overlay::shm::Client`)
    /// (default none).
    pub time_file: Option<PathBuf>,
}

/// The most PTP instances (the top-level `domain` and `[overlay] domains`)
/// one daemon runs.
pub const MAX_OVERLAY_DOMAINS: usize = 8;

/// `[overlay]`: cross-check several PTP domains (each a source) and steer
/// only from one the fault-tolerant intersection vouches for
/// (`docs/algorithm/source-bounds.md`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct OverlaySettings {
    /// `off` (default), `monitor` or `guarded`.
    pub mode: OverlayMode,
    /// The PTP domains measured as sources besides `domain`: one PTP
    /// instance each, on every `[[port]]`.
    pub domains: Vec<u8>,
    /// `f`: faulty sources tolerated; needs 2f + 1 sources (default 1).
    pub faults: u8,
    /// The local clock's largest frequency error, ppm (default 15).
    pub max_drift: f64,
    /// Allowance for asymmetry and time-stamp error beyond half the round
    /// trip (default 0). Bare numbers are nanoseconds.
    #[serde(deserialize_with = "de_nanos")]
    pub asymmetry_bound: ConfigDuration,
    /// A source silent this long leaves the intersection (default 4 s).
    /// Bare numbers are seconds.
    #[serde(deserialize_with = "de_secs")]
    pub max_age: ConfigDuration,
    /// A source that stays a falseticker this long is quarantined: never
    /// followed until re-admitted (default 60 s; 0 = never quarantine).
    /// Bare numbers are seconds.
    #[serde(deserialize_with = "de_secs")]
    pub quarantine_after: ConfigDuration,
    /// A quarantined source is re-admitted after agreeing with the
    /// intersection this long without a break (default 120 s). Bare
    /// numbers are seconds.
    #[serde(deserialize_with = "de_secs")]
    pub readmit_after: ConfigDuration,
    /// This node's id in the peer layer (required with `[[overlay.peer]]`).
    pub node_id: Option<u64>,
    /// Where the peer socket listens (default `0.0.0.0:3190`).
    pub listen: SocketAddr,
    /// Time between two peer poll rounds (default 1 s). Bare numbers are
    /// seconds.
    #[serde(deserialize_with = "de_secs")]
    pub peer_poll_interval: ConfigDuration,
    /// `k`: peers sent a request per round (default 3).
    pub fan_out: usize,
    /// Learn the other nodes of the keys file by gossip, the configured
    /// peers being seeds (default true); each learned address is admitted
    /// only once its owner answers from it under the pair key.
    pub gossip: bool,
    /// The most overlay members (configured and learned) kept (default
    /// 64, at least 1).
    pub max_members: usize,
    /// The guard judges each source by the intersection of its last this
    /// many samples, each aged (default 2, 1..=32; docs/overlay-guard.md).
    pub history_depth: usize,
    /// The guard also judges each source at its own exchange's completion,
    /// where its interval is not widened by its age (default true).
    pub judge_at_completion: bool,
    /// Rounds a narrower source must stay better before the guard leaves
    /// a valid selection for it (default 16, 1..=1000).
    pub switch_persistence: u32,
    /// The pair keys, one line per (peer, key id) (required with
    /// `[[overlay.peer]]`; format in `statime.toml(5)`).
    pub keys_file: Option<PathBuf>,
    /// The overlay peers, `[[overlay.peer]]` in the file.
    #[serde(rename = "peer")]
    pub peers: Vec<PeerSettings>,
}

/// The default UDP port of the overlay peer layer.
pub const PEER_PORT: u16 = 3190;

/// One `[[overlay.peer]]`: another overlay node measured as a source.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PeerSettings {
    /// Its node id.
    pub id: u64,
    /// Its address, `ip:port`: requests go there, and answers to it go
    /// there whatever the source address of what they answer.
    pub address: SocketAddr,
}

impl Default for OverlaySettings {
    fn default() -> Self {
        Self {
            mode: OverlayMode::Off,
            domains: Vec::new(),
            faults: 1,
            max_drift: 15.0,
            asymmetry_bound: ConfigDuration::ZERO,
            max_age: ConfigDuration::from_secs(4),
            quarantine_after: ConfigDuration::from_secs(60),
            readmit_after: ConfigDuration::from_secs(120),
            node_id: None,
            listen: SocketAddr::from(([0, 0, 0, 0], PEER_PORT)),
            peer_poll_interval: ConfigDuration::from_secs(1),
            fan_out: 3,
            gossip: true,
            max_members: 64,
            history_depth: bft_overlay::DEFAULT_HISTORY_DEPTH,
            judge_at_completion: true,
            switch_persistence: bft_overlay::DEFAULT_SWITCH_PERSISTENCE,
            keys_file: None,
            peers: Vec::new(),
        }
    }
}

impl OverlaySettings {
    /// Whether the overlay runs at all.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.mode != OverlayMode::Off
    }

    /// Whether the peer layer runs (the overlay is on and has peers).
    #[must_use]
    pub fn has_peers(&self) -> bool {
        self.enabled() && !self.peers.is_empty()
    }
}

impl Default for ObservabilitySettings {
    fn default() -> Self {
        Self {
            status_socket: None,
            status_socket_permissions: 0o660,
            metrics_listen: None,
            management_socket: None,
            management_socket_permissions: 0o660,
            management_allow_set: false,
            time_file: None,
        }
    }
}

impl Config {
    /// Reads, deserialises and validates the file at `path`. Warnings do
    /// not fail; see [`Config::warnings`].
    ///
    /// # Errors
    /// The file cannot be read ([`ConfigErrorKind::Read`]), is not TOML,
    /// does not match the schema, or fails validation; every error names
    /// the file, line, column and key.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let config = Self::parse_file(path)?;
        config.validate()?;
        Ok(config)
    }

    /// [`Config::load`] with command-line overrides applied before the
    /// validation (so `-i eth0` can supply the port a file leaves out).
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn load_with_overrides(path: &Path, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut config = Self::parse_file(path)?;
        config.apply_overrides(overrides)?;
        Ok(config)
    }

    /// Reads and deserialises the file at `path` without the semantic
    /// checks of [`Config::validate`].
    ///
    /// # Errors
    /// The file cannot be read, is not TOML or does not match the schema.
    pub fn parse_file(path: &Path) -> Result<Self, ConfigError> {
        let origin = path.display().to_string();
        let text = read_limited(path).map_err(|m| ConfigError::read(&origin, m))?;
        let mut config = Self::parse_str(&text, &origin)?;
        // A relative sa-file is next to the configuration file.
        if let (Some(sa), Some(dir)) = (&config.sa_file, path.parent())
            && sa.is_relative()
        {
            config.sa_file = Some(dir.join(sa));
        }
        Ok(config)
    }

    /// Deserialises `text` without the semantic checks; `origin` names it
    /// in diagnostics (usually the file name).
    ///
    /// # Errors
    /// `text` is not TOML or does not match the schema.
    pub fn parse_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let table = match toml::de::DeTable::parse(text) {
            Ok(t) => t,
            Err(e) => {
                let (partial, _) = toml::de::DeTable::parse_recoverable(text);
                let map = SourceMap::new(origin, text, Some(&partial));
                return Err(toml_error(&map, &e, ConfigErrorKind::Syntax));
            }
        };
        let map = SourceMap::new(origin, text, Some(&table));
        let mut config = Self::deserialize(toml::de::Deserializer::from(table))
            .map_err(|e| toml_error(&map, &e, ConfigErrorKind::Schema))?;
        config.provenance.file = Some(Arc::new(map));
        profile::apply_defaults(&mut config);
        Ok(config)
    }

    /// Deserialises and validates `text`; `origin` names it in
    /// diagnostics.
    ///
    /// # Errors
    /// As [`Config::load`], without the read errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config = Self::parse_str(text, origin)?;
        config.validate()?;
        Ok(config)
    }

    /// The semantic checks: ranges, contradictions, missing ports. Returns
    /// the warnings when there is no error.
    ///
    /// # Errors
    /// Every error found (with the warnings), kind
    /// [`ConfigErrorKind::Invalid`].
    pub fn validate(&self) -> Result<Vec<Diagnostic>, ConfigError> {
        self.validate_with(true)
    }

    /// [`Config::validate`] without reading the files the configuration
    /// names (`sa-file`): for a configuration written on one machine to
    /// run on another, such as `statime-ctl convert`'s output.
    ///
    /// # Errors
    /// As [`Config::validate`].
    pub fn validate_offline(&self) -> Result<Vec<Diagnostic>, ConfigError> {
        self.validate_with(false)
    }

    fn validate_with(&self, read_files: bool) -> Result<Vec<Diagnostic>, ConfigError> {
        let (mut errors, mut warnings) = validate::check(self, read_files);
        let order = |d: &Diagnostic| (d.origin.clone(), d.position);
        errors.sort_by_key(order);
        warnings.sort_by_key(order);
        if errors.is_empty() {
            Ok(warnings)
        } else {
            Err(ConfigError::new(ConfigErrorKind::Invalid, errors, warnings))
        }
    }

    /// The warnings [`Config::validate`] finds (empty if it fails).
    #[must_use]
    pub fn warnings(&self) -> Vec<Diagnostic> {
        self.validate().unwrap_or_default()
    }

    /// The name of the file this configuration was read from, if any.
    #[must_use]
    pub fn origin(&self) -> Option<&str> {
        self.provenance.file.as_ref().map(|f| f.origin.as_str())
    }
}

/// Reads a file of at most [`MAX_FILE_SIZE`] bytes as UTF-8.
fn read_limited(path: &Path) -> Result<String, String> {
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

/// A toml error as a diagnostic located in `map`.
fn toml_error(map: &SourceMap, e: &toml::de::Error, kind: ConfigErrorKind) -> ConfigError {
    let span = e.span();
    let mut key = span
        .as_ref()
        .and_then(|s| map.path_at(s.start))
        .map(str::to_owned);
    let message = e.message().trim().to_owned();
    // A duplicate key is not in the tree: name it from the text.
    if key.is_none()
        && message == "duplicate key"
        && let Some(text) = span.clone().and_then(|s| map.snippet(s))
    {
        key = Some(text.trim().trim_matches(['[', ']']).trim().to_owned());
    }
    // "missing field `x`" points at the table: name the missing key.
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(field) = rest.strip_suffix('`')
    {
        key = Some(key.map_or_else(|| field.to_owned(), |k| format!("{k}.{field}")));
    }
    ConfigError::new(
        kind,
        vec![Diagnostic {
            severity: Severity::Error,
            origin: map.origin.clone(),
            position: Some(span.map_or((1, 1), |s| map.position(s.start))),
            key,
            message: humanize(&message),
        }],
        Vec::new(),
    )
}

/// `statime-ctl validate`: checks each file and prints `FILE: ok` to
/// `out`, or its errors to `err`; warnings go to `err` in both cases.
/// Returns the exit status: 0 when every file is valid, 1 when one is not
/// (or has warnings and `deny_warnings` is set), 2 when one cannot be read.
pub fn validate_files(
    files: &[PathBuf],
    deny_warnings: bool,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> u8 {
    let mut status = 0u8;
    for path in files {
        match Config::load(path) {
            Ok(config) => {
                let warnings = config.warnings();
                for w in &warnings {
                    let _ = writeln!(err, "{w}");
                }
                if deny_warnings && !warnings.is_empty() {
                    let _ = writeln!(
                        err,
                        "{}: {} warning(s), denied by --deny-warnings",
                        path.display(),
                        warnings.len()
                    );
                    status = status.max(1);
                } else if warnings.is_empty() {
                    let _ = writeln!(out, "{}: ok", path.display());
                } else {
                    let _ = writeln!(
                        out,
                        "{}: ok ({} warning(s))",
                        path.display(),
                        warnings.len()
                    );
                }
            }
            Err(e) => {
                for d in e.errors().iter().chain(e.warnings()) {
                    let _ = writeln!(err, "{d}");
                }
                status = status.max(if e.kind() == ConfigErrorKind::Read {
                    2
                } else {
                    1
                });
            }
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match Config::from_toml(text, "t.toml") {
            Ok(_) => Vec::new(),
            Err(e) => e.errors().iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn semantic_errors_point_at_the_value_or_its_table() {
        // The value is in the file: its position.
        assert_eq!(
            errors(
                "[[port]]\ninterface = \"eth0\"\ntimestamping = \"software\"\nsync-interval = -8\n"
            ),
            [
                "t.toml:4:17: port[0].sync-interval: log2 interval -8 is out of range -7..=7 \
              (2^-8 s; -3 = 8 per second, 1 = every 2 s)"
            ]
        );
        // A default value that is wrong in context: the nearest table.
        assert_eq!(
            errors(
                "two-step = false\n\n[[port]]\ninterface = \"eth0\"\n[clock]\nkind = \"system\"\n"
            ),
            [
                "t.toml:6:8: clock.kind: \"system\" cannot be steered by hardware time stamps \
              (port[0] uses them; they come from the NIC's PHC): use kind = \"phc\" with \
              sync-system = true, or timestamping = \"software\""
            ]
        );
        assert_eq!(
            errors(
                "[[port]]\ninterface = \"eth0\"\n[clock]\nsync-system = true\nkind = \"auto\"\n\
                    [[port]]\ninterface = \"eth1\"\ntimestamping = \"software\"\n"
            ),
            [
                "t.toml:1:1: port[0].timestamping: the ports mix hardware and software time \
                 stamps: they would be taken by different clocks; use one mode on every port",
                "t.toml:4:15: clock.sync-system: only a PHC can be copied to the system clock, \
                 but the clock is \"system\"",
            ]
        );
    }

    #[test]
    fn unicast_master_table_checks() {
        let port = |top: &str, keys: &str| {
            format!("{top}\n[[port]]\ninterface = \"eth0\"\ntimestamping = \"software\"\n{keys}\n")
        };
        let ok = port(
            "slave-only = true",
            "unicast-master-table = [\"192.0.2.1\", \"192.0.2.2\"]\nunicast-request-duration = 60",
        );
        let c = Config::from_toml(&ok, "t.toml").expect("valid");
        assert_eq!(c.ports[0].unicast_masters().len(), 2);
        assert!(c.port_configs(ClockIdentity([1; 8]))[0].unicast);
        let server = port(
            "",
            "unicast-listen = true\ninhibit-multicast-service = true\nunicast-max-clients = 100000",
        );
        let c = Config::from_toml(&server, "t.toml").expect("valid");
        let pc = c.port_configs(ClockIdentity([1; 8]));
        assert!(pc[0].unicast && !pc[0].multicast_service);
        for (top, keys, wanted) in [
            (
                "slave-only = true",
                "unicast-master-table = [\"224.0.1.129\"]",
                "t.toml:5:24: port[0].unicast-master-table: 224.0.1.129 is not a unicast address",
            ),
            (
                "slave-only = true",
                "unicast-master-table = [\"fe80::1\"]",
                "port[0].unicast-master-table: \"fe80::1\" is not an IPv4 address",
            ),
            (
                "slave-only = true",
                "unicast-master-table = [\"192.0.2.1\", \"192.0.2.1\"]",
                "192.0.2.1 is listed twice",
            ),
            (
                "",
                "unicast-master-table = [\"192.0.2.1\"]",
                "a unicast client port needs slave-only = true",
            ),
            (
                "slave-only = true",
                "unicast-master-table = [\"192.0.2.1\"]\ndelay-mechanism = \"P2P\"",
                "delay-mechanism = \"E2E\" only",
            ),
            (
                "slave-only = true",
                "unicast-master-table = [\"192.0.2.1\"]\nunicast-request-duration = 5",
                "port[0].unicast-request-duration: must be 10 to 86400 seconds, not 5",
            ),
            (
                "slave-only = true",
                "unicast-master-table = [\"192.0.2.1\"]\nunicast-query-interval = 9",
                "port[0].unicast-query-interval: must be -3 to 6",
            ),
            (
                "slave-only = true",
                "unicast-master-table = \"192.0.2.1\"",
                "unicast-master-table",
            ),
            (
                "slave-only = true",
                "unicast-listen = true",
                "port[0].unicast-listen: a slave-only clock never serves",
            ),
            (
                "",
                "unicast-listen = true\nunicast-max-clients = 0",
                "port[0].unicast-max-clients: must be 1 to 10000000, not 0",
            ),
            (
                "",
                "unicast-listen = true\nunicast-master-table = [\"192.0.2.1\"]",
                "either a unicast client (unicast-master-table) or a unicast server",
            ),
        ] {
            let e = errors(&port(top, keys));
            assert!(
                e.iter().any(|l| l.contains(wanted)),
                "{keys}: wanted {wanted:?} in {e:?}"
            );
        }
    }

    #[test]
    fn overlay_guard_keys() {
        let c = Config::from_toml(
            "[[port]]\ninterface = \"eth0\"\n[overlay]\nhistory-depth = 4\n\
             judge-at-completion = false\nswitch-persistence = 1\n",
            "t.toml",
        )
        .expect("valid");
        assert_eq!(
            (
                c.overlay.history_depth,
                c.overlay.judge_at_completion,
                c.overlay.switch_persistence
            ),
            (4, false, 1)
        );
        let d = OverlaySettings::default();
        assert_eq!(
            (d.history_depth, d.judge_at_completion, d.switch_persistence),
            (2, true, 16)
        );
        let e = errors(
            "[[port]]\ninterface = \"eth0\"\n[overlay]\nhistory-depth = 0\nswitch-persistence = 0\n",
        );
        assert!(
            e.iter()
                .any(|l| l.contains("overlay.history-depth: must be 1 to 32, not 0")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|l| l.contains("overlay.switch-persistence: must be 1 to 1000 rounds, not 0")),
            "{e:?}"
        );
    }

    #[test]
    fn alternate_timescale_checks() {
        let c = Config::from_toml(
            "[[port]]\ninterface = \"eth0\"\n[[alternate-timescale]]\nkey = 1\nname = \"CET\"\n\
             current-offset = 3600\n[[alternate-timescale]]\nkey = 2\nname = \"UTC\"\n",
            "t.toml",
        )
        .expect("valid");
        let pc = c.port_configs(ClockIdentity([1; 8]));
        let a = pc[0].alternate_timescales;
        assert_eq!(
            a[0].map(|x| (x.key, x.current_offset, x.name_len)),
            Some((1, 3600, 3))
        );
        assert_eq!(a[1].map(|x| x.key), Some(2));
        assert_eq!(a[2], None);
        let e = errors(
            "[[port]]\ninterface = \"eth0\"\n[[alternate-timescale]]\nkey = 1\nname = \"\"\n\
             [[alternate-timescale]]\nkey = 1\nname = \"Europe/Paris\"\n\
             time-of-next-jump = 281474976710656\n",
        );
        for wanted in [
            "alternate-timescale[0].name: \"\" must be 1 to 10 printable ASCII characters",
            "alternate-timescale[1].key: 1 is used by an earlier table",
            "alternate-timescale[1].name: \"Europe/Paris\" must be 1 to 10",
            "alternate-timescale[1].time-of-next-jump: 281474976710656 does not fit",
        ] {
            assert!(e.iter().any(|l| l.contains(wanted)), "{wanted}: {e:?}");
        }
        let five = "[[alternate-timescale]]\nname = \"A\"\n".repeat(5);
        let e = errors(&format!("[[port]]\ninterface = \"eth0\"\n{five}"));
        assert!(e.iter().any(|l| l.contains("5 tables; at most 4")), "{e:?}");
    }

    #[test]
    fn smpte_metadata_checks() {
        let c = Config::from_toml(
            "[[port]]\ninterface = \"eth0\"\n[smpte-metadata]\nenabled = true\n\
             frame-rate = \"50/1\"\nlocking-status = \"locked\"\ncolor-frame = true\n\
             daylight-saving = true\nleap-second-jump = true\n",
            "t.toml",
        )
        .expect("valid");
        let t = c.smpte_metadata.tlv().expect("enabled");
        assert_eq!((t.frame_rate_numerator, t.frame_rate_denominator), (50, 1));
        assert_eq!(
            (
                t.master_locking_status,
                t.time_address_flags,
                t.daylight_saving
            ),
            (4, 2, 1)
        );
        assert_eq!(t.leap_second_jump, 1);
        assert!(
            SmpteMetadataSettings::default().tlv().is_none(),
            "off by default"
        );
        let e = errors(
            "[[port]]\ninterface = \"eth0\"\n[smpte-metadata]\nframe-rate = \"29.97\"\n\
             locking-status = \"tight\"\ntime-of-next-jam = 281474976710656\ninterval = 9\n",
        );
        for wanted in [
            "t.toml:4:14: smpte-metadata.frame-rate: \"29.97\" is not a frame rate",
            "smpte-metadata.locking-status: \"tight\" is not one of not-in-use, free-run",
            "smpte-metadata.time-of-next-jam: 281474976710656 does not fit the 48-bit seconds field",
            "smpte-metadata.interval: must be -3 to 4",
        ] {
            assert!(e.iter().any(|l| l.contains(wanted)), "{wanted}: {e:?}");
        }
    }

    #[test]
    fn more_contradictions() {
        let e = errors(
            "clock-identity = \"ff:ff:ff:ff:ff:ff:ff:ff\"\nutc-offset = -1\n\
             max-steps-removed = 1\n[[port]]\ninterface = \"a-very-long-name0\"\n\
             timestamping = \"software\"\nhardware-clock = 0\nmulticast-ttl = 0\n\
             ingress-latency = \"1s\"\n[servo]\nstep-threshold = \"-1us\"\n\
             [servo.kalman]\nreacquire-after = 17\nphase-time-constant = 0\n\
             [clock]\nfrequency-error = 1000.5\n[observability]\n\
             status-socket-permissions = 0o1777\nstatus-socket = \"/run/s\"\n\
             management-socket = \"/run/s\"\n",
        );
        let keys: Vec<&str> = e.iter().filter_map(|l| l.split(": ").nth(1)).collect();
        assert_eq!(
            keys,
            [
                "clock-identity",
                "utc-offset",
                "max-steps-removed",
                "port[0].interface",
                "port[0].hardware-clock",
                "port[0].multicast-ttl",
                "port[0].ingress-latency",
                "servo.step-threshold",
                "servo.kalman.reacquire-after",
                "servo.kalman.phase-time-constant",
                "clock.frequency-error",
                "observability.status-socket-permissions",
                "observability.management-socket",
            ],
            "{e:#?}"
        );
    }

    #[test]
    fn transparent_clock_rules() {
        // One port validates (more may come from -i); the daemon refuses it.
        let one = Config::from_toml(
            "clock-type = \"E2E_TC\"\n[[port]]\ninterface = \"a\"\n",
            "t.toml",
        )
        .expect("valid: more ports may come from -i");
        assert!(one.warnings().is_empty());
        let e = errors(
            "clock-type = \"p2p-tc\"\n[[port]]\ninterface = \"a\"\n\
             delay-mechanism = \"P2P\"\n[[port]]\ninterface = \"b\"\n",
        );
        assert_eq!(e.len(), 1, "{e:#?}");
        assert!(
            e[0].contains("port[1].delay-mechanism: E2E on a P2P_TC transparent clock"),
            "{e:#?}"
        );
        let ok = Config::from_toml(
            "clock-type = \"E2E_TC\"\ntc-spanning-tree = true\n[[port]]\ninterface = \"a\"\n\
             [[port]]\ninterface = \"b\"\n",
            "ok.toml",
        )
        .expect("valid");
        assert!(ok.clock_type.is_transparent());
        assert!(ok.tc_spanning_tree && ok.tc_syntonize);
    }

    #[test]
    fn user_description_fits_a_ptp_text() {
        let long = "x".repeat(129);
        let e = errors(&format!(
            "user-description = \"{long}\"\n[[port]]\ninterface = \"e\"\n"
        ));
        assert_eq!(e.len(), 1, "{e:#?}");
        assert!(e[0].contains("user-description: is 129 octets"), "{e:#?}");
        let ok = Config::from_toml(
            "user-description = \"gm;statime;rack 3\"\n[[port]]\ninterface = \"e\"\n",
            "u.toml",
        )
        .expect("valid");
        assert_eq!(ok.user_description.as_deref(), Some("gm;statime;rack 3"));
    }

    #[test]
    fn warnings_for_reserved_code_points() {
        let c = Config::from_toml(
            "domain = 200\nclock-class = 100\nclock-accuracy = 0x50\n[[port]]\ninterface = \"e\"\n",
            "w.toml",
        )
        .expect("valid");
        let w: Vec<String> = c.warnings().iter().map(ToString::to_string).collect();
        // 100 is an alternate-profile class: no warning for it.
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("w.toml:1:10: warning: domain: domain 200 is reserved"));
        assert!(w[1].starts_with("w.toml:3:18: warning: clock-accuracy: 0x50 is reserved"));
        let c = Config::from_toml(
            "clock-class = 250\nclock-accuracy = 0x50\n[[port]]\ninterface = \"e\"\n",
            "w.toml",
        )
        .expect("valid");
        let w: Vec<String> = c.warnings().iter().map(ToString::to_string).collect();
        assert_eq!(
            w,
            [
                "w.toml:1:15: warning: clock-class: class 250 is reserved by IEEE 1588-2019 table 4",
                "w.toml:2:18: warning: clock-accuracy: 0x50 is reserved by IEEE 1588-2019 table 5 \
                 (0x17..=0x31 and 0xFE = unknown are defined)",
            ]
        );
        // slave-only ignores a configured class (and says so).
        let c = Config::from_toml(
            "slave-only = true\nclock-class = 135\n[[port]]\ninterface = \"e\"\n",
            "w.toml",
        )
        .expect("valid");
        assert_eq!(
            c.default_ds(ClockIdentity([1; 8]))
                .effective_clock_quality()
                .clock_class,
            255
        );
        assert_eq!(c.warnings().len(), 1);
    }

    #[test]
    fn read_errors() {
        let e = Config::load(Path::new("/nonexistent/statime.toml")).expect_err("missing");
        assert_eq!(e.kind(), ConfigErrorKind::Read);
        assert!(
            e.to_string()
                .starts_with("/nonexistent/statime.toml: cannot read: ")
        );
        assert!(e.warnings().is_empty());
    }

    #[test]
    fn overrides_default_is_empty() {
        assert!(Overrides::default().is_empty());
    }
}
