//! Value types of the configuration file that are more than a number, a
//! boolean or a string: durations with units, the hardware clock choice,
//! clock identities, and the named enumerations.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use statime::servo::ServoAlgorithm;
use statime::wire::tlv::DelayMechanism as CoreDelayMechanism;
use statime::wire::{ClockIdentity, TimeSource};

/// A signed span of time read from the configuration, in whole
/// nanoseconds.
///
/// In the file a duration is either a string with a unit (`"20us"`,
/// `"-1.5 ms"`, `"2s"`; units `ns`, `us` (or `µs`), `ms`, `s`) or a bare
/// number in the unit the key documents (nanoseconds for asymmetries and
/// latencies, milliseconds for `tx-timestamp-timeout`, seconds for the servo
/// thresholds, as in ptp4l).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigDuration {
    nanos: i64,
}

impl ConfigDuration {
    /// Zero.
    pub const ZERO: Self = Self { nanos: 0 };

    /// From nanoseconds.
    #[must_use]
    pub const fn from_nanos(nanos: i64) -> Self {
        Self { nanos }
    }

    /// From microseconds (saturating).
    #[must_use]
    pub const fn from_micros(us: i64) -> Self {
        Self::from_nanos(us.saturating_mul(1_000))
    }

    /// From milliseconds (saturating).
    #[must_use]
    pub const fn from_millis(ms: i64) -> Self {
        Self::from_nanos(ms.saturating_mul(1_000_000))
    }

    /// From seconds (saturating).
    #[must_use]
    pub const fn from_secs(s: i64) -> Self {
        Self::from_nanos(s.saturating_mul(1_000_000_000))
    }

    /// Whole nanoseconds.
    #[must_use]
    pub const fn as_nanos(self) -> i64 {
        self.nanos
    }

    /// Seconds as a float (for the servo settings).
    #[must_use]
    #[allow(
        clippy::cast_precision_loss,
        reason = "durations in a config file are far below 2^53 ns"
    )]
    pub fn as_secs_f64(self) -> f64 {
        self.nanos as f64 / 1e9
    }

    /// The core's [`statime::time::Duration`].
    #[must_use]
    pub const fn to_core(self) -> statime::time::Duration {
        statime::time::Duration::from_nanos(self.nanos)
    }
}

impl fmt::Display for ConfigDuration {
    /// The largest unit that shows the value exactly: `1ms`, `-250us`, `7ns`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.nanos;
        for (unit, name) in [(1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "us")] {
            if n != 0 && n % unit == 0 {
                return write!(f, "{}{name}", n / unit);
            }
        }
        write!(f, "{n}ns")
    }
}

/// Nanoseconds in one unit named in a duration string.
fn unit_nanos(unit: &str) -> Option<i128> {
    match unit {
        "ns" => Some(1),
        "us" | "µs" | "μs" => Some(1_000),
        "ms" => Some(1_000_000),
        "s" => Some(1_000_000_000),
        _ => None,
    }
}

/// Parses a duration string: an optional sign, a decimal number and a unit
/// (`ns`, `us`, `µs`, `ms`, `s`), with optional blanks between number and
/// unit. `"0"` needs no unit.
///
/// # Errors
/// A message saying what is wrong, for the configuration error.
pub fn parse_duration(text: &str) -> Result<ConfigDuration, String> {
    let t = text.trim();
    let (negative, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let number_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(rest.len());
    let (number, unit) = rest.split_at(number_end);
    let number: String = number.chars().filter(|c| *c != '_').collect();
    let unit = unit.trim();
    let bad = || {
        format!(
            "invalid duration \"{text}\": expected a number and a unit (ns, us, ms, s), \
             e.g. \"20us\""
        )
    };
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number.as_str(), ""),
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let scale = if unit.is_empty() {
        if int_part.bytes().chain(frac_part.bytes()).all(|b| b == b'0') {
            1
        } else {
            return Err(format!(
                "invalid duration \"{text}\": missing unit (ns, us, ms or s)"
            ));
        }
    } else {
        unit_nanos(unit).ok_or_else(bad)?
    };
    let too_large = || format!("duration \"{text}\" is too large");
    let mut nanos: i128 = 0;
    for b in int_part.bytes() {
        nanos = nanos
            .checked_mul(10)
            .and_then(|v| v.checked_add(i128::from(b - b'0')))
            .ok_or_else(too_large)?;
    }
    nanos = nanos.checked_mul(scale).ok_or_else(too_large)?;
    // The fraction, to the nanosecond (digits beyond are dropped).
    let mut place = scale;
    for b in frac_part.bytes() {
        place /= 10;
        if place == 0 {
            break;
        }
        nanos += i128::from(b - b'0') * place;
    }
    if negative {
        nanos = -nanos;
    }
    i64::try_from(nanos)
        .map(ConfigDuration::from_nanos)
        .map_err(|_| too_large())
}

/// Reads a duration whose bare numbers are in units of `unit_nanos`.
struct DurationVisitor {
    unit_nanos: i64,
    unit_name: &'static str,
}

impl DurationVisitor {
    fn scaled<E: de::Error>(&self, v: i128) -> Result<ConfigDuration, E> {
        v.checked_mul(i128::from(self.unit_nanos))
            .and_then(|n| i64::try_from(n).ok())
            .map(ConfigDuration::from_nanos)
            .ok_or_else(|| E::custom(format!("duration {v} {} is too large", self.unit_name)))
    }
}

impl Visitor<'_> for DurationVisitor {
    type Value = ConfigDuration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a duration: a number of {} or a string with a unit such as \"20us\"",
            self.unit_name
        )
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.scaled(i128::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.scaled(i128::from(v))
    }

    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        reason = "checked against the i64 range before the cast"
    )]
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        let nanos = (v * self.unit_nanos as f64).round();
        if nanos.is_finite() && nanos.abs() < 9.2e18 {
            Ok(ConfigDuration::from_nanos(nanos as i64))
        } else {
            Err(E::custom(format!(
                "duration {v} {} is out of range",
                self.unit_name
            )))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse_duration(v).map_err(E::custom)
    }
}

fn de_duration<'de, D: Deserializer<'de>>(
    d: D,
    unit_nanos: i64,
    unit_name: &'static str,
) -> Result<ConfigDuration, D::Error> {
    d.deserialize_any(DurationVisitor {
        unit_nanos,
        unit_name,
    })
}

/// A duration whose bare numbers are nanoseconds.
pub(crate) fn de_nanos<'de, D: Deserializer<'de>>(d: D) -> Result<ConfigDuration, D::Error> {
    de_duration(d, 1, "nanoseconds")
}

/// An optional duration whose bare numbers are nanoseconds (absent: `None`).
pub(crate) fn de_opt_nanos<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<ConfigDuration>, D::Error> {
    de_duration(d, 1, "nanoseconds").map(Some)
}

/// A duration whose bare numbers are milliseconds.
pub(crate) fn de_millis<'de, D: Deserializer<'de>>(d: D) -> Result<ConfigDuration, D::Error> {
    de_duration(d, 1_000_000, "milliseconds")
}

/// A duration whose bare numbers are seconds.
pub(crate) fn de_secs<'de, D: Deserializer<'de>>(d: D) -> Result<ConfigDuration, D::Error> {
    de_duration(d, 1_000_000_000, "seconds")
}

/// Which PTP hardware clock (PHC) a port's hardware time stamps come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HardwareClock {
    /// The PHC the interface reports (`ETHTOOL_GET_TS_INFO`); with software
    /// time stamps, none.
    #[default]
    Auto,
    /// No PHC (only valid with software time stamps).
    None,
    /// `/dev/ptpN`.
    Index(u32),
}

impl fmt::Display for HardwareClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::None => f.write_str("none"),
            Self::Index(i) => write!(f, "{i}"),
        }
    }
}

struct HardwareClockVisitor;

impl Visitor<'_> for HardwareClockVisitor {
    type Value = HardwareClock;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"auto\", \"none\", a PHC index (0 for /dev/ptp0) or \"/dev/ptpN\"")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u32::try_from(v)
            .map(HardwareClock::Index)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        u32::try_from(v)
            .map(HardwareClock::Index)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match v {
            "auto" => Ok(HardwareClock::Auto),
            "none" => Ok(HardwareClock::None),
            _ => v
                .strip_prefix("/dev/ptp")
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse().ok())
                .map(HardwareClock::Index)
                .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

impl<'de> Deserialize<'de> for HardwareClock {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HardwareClockVisitor)
    }
}

/// Parses a clockIdentity: 16 hex digits (`"001b19fffe000001"`), eight
/// octets separated by `:` or `-` (`"00:1b:19:ff:fe:00:00:01"`), or
/// linuxptp's form (`"001b19.fffe.000001"`).
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_clock_identity(text: &str) -> Result<ClockIdentity, String> {
    let bad = || {
        format!(
            "invalid clock identity \"{text}\": expected 16 hex digits, \
             \"aa:bb:cc:dd:ee:ff:00:11\" or \"aabbcc.ddee.ff0011\""
        )
    };
    let groups: Vec<&str> = if text.contains(':') {
        text.split(':').collect()
    } else if text.contains('-') {
        text.split('-').collect()
    } else if text.contains('.') {
        text.split('.').collect()
    } else {
        vec![text]
    };
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let shape_ok = match lengths.as_slice() {
        [16] => true,
        [6, 4, 6] => text.contains('.'),
        l => l.len() == 8 && l.iter().all(|n| *n == 2) && !text.contains('.'),
    };
    if !shape_ok {
        return Err(bad());
    }
    let hex: String = groups.concat();
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut out = [0u8; 8];
    for (i, byte) in out.iter_mut().enumerate() {
        let pair = hex.get(2 * i..2 * i + 2).ok_or_else(bad)?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
    }
    Ok(ClockIdentity(out))
}

/// An optional clock identity string.
pub(crate) fn de_clock_identity<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<ClockIdentity>, D::Error> {
    let s = String::deserialize(d)?;
    parse_clock_identity(&s)
        .map(Some)
        .map_err(de::Error::custom)
}

/// The network transport of a port (IEEE 1588-2019 annexes C, D and E).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
pub enum Transport {
    /// UDP over IPv4 (annex C): 224.0.1.129, 224.0.0.107 for peer delay.
    /// ptp4l's `UDPv4` is accepted too.
    #[default]
    #[serde(rename = "udp-ipv4", alias = "UDPv4", alias = "ipv4")]
    UdpIpv4,
    /// UDP over IPv6 (annex D): FF0X::181, FF02::6B for peer delay.
    /// ptp4l's `UDPv6` is accepted too.
    #[serde(rename = "udp-ipv6", alias = "UDPv6", alias = "ipv6")]
    UdpIpv6,
    /// IEEE 802.3 Ethernet (annex E), ethertype 0x88F7. ptp4l's `L2` is
    /// accepted too.
    #[serde(rename = "ethernet", alias = "L2")]
    Ethernet,
}

impl Transport {
    /// The configuration file's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::UdpIpv4 => "udp-ipv4",
            Self::UdpIpv6 => "udp-ipv6",
            Self::Ethernet => "ethernet",
        }
    }
}

/// What kind of PTP instance the daemon runs (IEEE 1588-2019 clause 6.5;
/// ptp4l `clock_type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
pub enum ClockType {
    /// An ordinary clock (clause 6.5.2); with several ports it is a
    /// boundary clock, as in ptp4l.
    #[default]
    #[serde(rename = "OC", alias = "oc")]
    Ordinary,
    /// A boundary clock (clause 6.5.3): the same as `OC` with several ports.
    #[serde(rename = "BC", alias = "bc")]
    Boundary,
    /// An end-to-end transparent clock (clause 6.5.4, 11.5.2).
    #[serde(rename = "E2E_TC", alias = "e2e-tc")]
    E2eTransparent,
    /// A peer-to-peer transparent clock (clause 6.5.5, 11.5.3).
    #[serde(rename = "P2P_TC", alias = "p2p-tc")]
    P2pTransparent,
}

impl ClockType {
    /// The configuration file's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ordinary => "OC",
            Self::Boundary => "BC",
            Self::E2eTransparent => "E2E_TC",
            Self::P2pTransparent => "P2P_TC",
        }
    }

    /// A transparent clock.
    #[must_use]
    pub const fn is_transparent(self) -> bool {
        matches!(self, Self::E2eTransparent | Self::P2pTransparent)
    }
}

/// The BMCA's data set comparison (ptp4l `dataset_comparison`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
pub enum DatasetComparisonName {
    /// IEEE 1588-2019 clause 9.3.4.
    #[default]
    #[serde(rename = "ieee1588")]
    Ieee1588,
    /// The alternate BMCA of ITU-T G.8275.1 / G.8275.2.
    #[serde(rename = "G.8275.x", alias = "telecom")]
    Telecom,
}

impl DatasetComparisonName {
    /// The configuration file's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ieee1588 => "ieee1588",
            Self::Telecom => "G.8275.x",
        }
    }
}

impl From<DatasetComparisonName> for statime::datasets::DatasetComparison {
    fn from(d: DatasetComparisonName) -> Self {
        match d {
            DatasetComparisonName::Ieee1588 => Self::Ieee1588,
            DatasetComparisonName::Telecom => Self::Telecom,
        }
    }
}

/// The delay mechanism of a port (clause 11).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
pub enum DelayMechanism {
    /// Delay request-response, end to end (clause 11.3).
    #[default]
    #[serde(rename = "E2E")]
    E2e,
    /// Peer delay (clause 11.4).
    #[serde(rename = "P2P")]
    P2p,
}

impl DelayMechanism {
    /// The configuration file's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::E2e => "E2E",
            Self::P2p => "P2P",
        }
    }
}

impl From<DelayMechanism> for CoreDelayMechanism {
    fn from(d: DelayMechanism) -> Self {
        match d {
            DelayMechanism::E2e => Self::E2e,
            DelayMechanism::P2p => Self::P2p,
        }
    }
}

/// Where a port's time stamps come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Timestamping {
    /// The NIC stamps packets with its PTP hardware clock (ptp4l's default).
    #[default]
    Hardware,
    /// The kernel stamps packets with the system clock.
    Software,
}

impl Timestamping {
    /// The configuration file's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hardware => "hardware",
            Self::Software => "software",
        }
    }
}

/// timeSource (clause 7.6.2.8) by name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeSourceName {
    /// ATOMIC_CLOCK.
    AtomicClock,
    /// GNSS (`"gps"` is accepted too).
    #[serde(alias = "gps")]
    Gnss,
    /// TERRESTRIAL_RADIO.
    TerrestrialRadio,
    /// SERIAL_TIME_CODE.
    SerialTimeCode,
    /// PTP.
    Ptp,
    /// NTP.
    Ntp,
    /// HAND_SET.
    HandSet,
    /// OTHER.
    Other,
    /// INTERNAL_OSCILLATOR (the default).
    #[default]
    InternalOscillator,
}

impl From<TimeSourceName> for TimeSource {
    fn from(t: TimeSourceName) -> Self {
        match t {
            TimeSourceName::AtomicClock => Self::AtomicClock,
            TimeSourceName::Gnss => Self::Gnss,
            TimeSourceName::TerrestrialRadio => Self::TerrestrialRadio,
            TimeSourceName::SerialTimeCode => Self::SerialTimeCode,
            TimeSourceName::Ptp => Self::Ptp,
            TimeSourceName::Ntp => Self::Ntp,
            TimeSourceName::HandSet => Self::HandSet,
            TimeSourceName::Other => Self::Other,
            TimeSourceName::InternalOscillator => Self::InternalOscillator,
        }
    }
}

/// The servo algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServoKind {
    /// linuxptp's PI servo.
    Pi,
    /// The path-delay-weighted Kalman filter.
    Kalman,
}

impl Default for ServoKind {
    /// Whatever the core's [`statime::servo::ServoConfig`] defaults to.
    fn default() -> Self {
        match ServoAlgorithm::default() {
            ServoAlgorithm::Pi => Self::Pi,
            ServoAlgorithm::Kalman => Self::Kalman,
        }
    }
}

impl From<ServoKind> for ServoAlgorithm {
    fn from(k: ServoKind) -> Self {
        match k {
            ServoKind::Pi => Self::Pi,
            ServoKind::Kalman => Self::Kalman,
        }
    }
}

/// The clock the instance steers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClockKind {
    /// `phc` when the ports use hardware time stamps, else `system`.
    #[default]
    Auto,
    /// The system clock (`CLOCK_REALTIME`).
    System,
    /// The PTP hardware clock of the ports (`/dev/ptpN`).
    Phc,
    /// A software clock over `CLOCK_MONOTONIC_RAW` with an injected offset
    /// and frequency error; never touches a real clock.
    Virtual,
}

impl ClockKind {
    /// The configuration file's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::System => "system",
            Self::Phc => "phc",
            Self::Virtual => "virtual",
        }
    }
}

/// The least severe log messages printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors (`"warning"` is accepted too).
    #[serde(alias = "warning")]
    Warn,
    /// Informational messages (the default; ptp4l's `logging_level 6`).
    #[default]
    Info,
    /// Debugging messages.
    Debug,
    /// Everything.
    Trace,
}

/// What the overlay does with the sources it measures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverlayMode {
    /// No overlay: one PTP instance, steered by the BMCA's choice.
    #[default]
    Off,
    /// Measure every source, classify them and show the verdicts, but steer
    /// as the BMCA of `domain` says (to watch before trusting).
    Monitor,
    /// Steer only from a source the intersection vouches for; hold over
    /// without a quorum.
    Guarded,
}

/// How log lines look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// Timestamp, level, message.
    #[default]
    Default,
    /// Byte-compatible with ptp4l's lines (`ptp4l[12.345]: master offset ...`),
    /// for tools that scrape them.
    Ptp4l,
    /// One JSON object per line.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = |s: &str| parse_duration(s).map(ConfigDuration::as_nanos);
        assert_eq!(ok("20us"), Ok(20_000));
        assert_eq!(ok("20 µs"), Ok(20_000));
        assert_eq!(ok("-1.5ms"), Ok(-1_500_000));
        assert_eq!(ok("+2s"), Ok(2_000_000_000));
        assert_eq!(ok(".5s"), Ok(500_000_000));
        assert_eq!(ok("1_000ns"), Ok(1_000));
        assert_eq!(ok("0"), Ok(0));
        assert_eq!(ok("0.0000000019s"), Ok(1));
        assert!(ok("10").unwrap_err().contains("missing unit"));
        assert!(ok("10 h").is_err());
        assert!(ok("").is_err());
        assert!(ok("-").is_err());
        assert!(ok("1.2.3s").is_err());
        assert!(ok("ms").is_err());
        assert!(ok("99999999999999999999999999999999999999s").is_err());
        assert!(ok("10000000000s").is_err());
    }

    #[test]
    fn duration_display() {
        assert_eq!(ConfigDuration::from_millis(1).to_string(), "1ms");
        assert_eq!(ConfigDuration::from_micros(-250).to_string(), "-250us");
        assert_eq!(ConfigDuration::from_nanos(7).to_string(), "7ns");
        assert_eq!(ConfigDuration::from_secs(3).to_string(), "3s");
        assert_eq!(ConfigDuration::ZERO.to_string(), "0ns");
        assert!((ConfigDuration::from_micros(20).as_secs_f64() - 20e-6).abs() < 1e-15);
    }

    #[test]
    fn identities() {
        let id = ClockIdentity([0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x01]);
        assert_eq!(parse_clock_identity("001b19fffe000001"), Ok(id));
        assert_eq!(parse_clock_identity("00:1b:19:ff:fe:00:00:01"), Ok(id));
        assert_eq!(parse_clock_identity("00-1B-19-FF-FE-00-00-01"), Ok(id));
        assert_eq!(parse_clock_identity("001b19.fffe.000001"), Ok(id));
        for bad in [
            "",
            "001b19fffe00000",
            "001b19fffe0000011",
            "00:1b:19:ff:fe:00:00",
            "001b19:fffe:000001",
            "0g1b19fffe000001",
            "00.1b.19.ff.fe.00.00.01",
            "+01b19fffe000001",
        ] {
            assert!(parse_clock_identity(bad).is_err(), "{bad}");
        }
    }
}
