//! Derived data types of IEEE 1588-2019 clause 5.3 as they appear on the wire.

use core::fmt;

use super::macros::wire_enum;
use super::{Error, Reader, Result, Writer, be_u16};
use crate::time::Time;

/// A PTP timestamp (clause 5.3.3): 48-bit seconds and 32-bit nanoseconds
/// since the PTP epoch, 10 octets on the wire.
///
/// Parsing keeps whatever nanoseconds value was received (even 1e9 or more,
/// which the standard forbids) so the packet can be logged and re-emitted;
/// [`Timestamp::is_valid`] and [`Timestamp::to_time`] reject it. The seconds
/// always fit 48 bits: the constructor checks it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Timestamp {
    seconds: u64,
    nanoseconds: u32,
}

impl Timestamp {
    /// Octets on the wire.
    pub const WIRE_LEN: usize = 10;
    /// The largest secondsField value (2^48 - 1).
    pub const MAX_SECONDS: u64 = (1 << 48) - 1;

    /// A timestamp, or `None` if `seconds` exceeds 48 bits or `nanoseconds`
    /// is a billion or more.
    #[must_use]
    pub const fn new(seconds: u64, nanoseconds: u32) -> Option<Self> {
        if seconds > Self::MAX_SECONDS || nanoseconds >= 1_000_000_000 {
            None
        } else {
            Some(Self {
                seconds,
                nanoseconds,
            })
        }
    }

    /// secondsField (48 bits).
    #[must_use]
    pub const fn seconds(&self) -> u64 {
        self.seconds
    }

    /// nanosecondsField, as received.
    #[must_use]
    pub const fn nanoseconds(&self) -> u32 {
        self.nanoseconds
    }

    /// Whether nanosecondsField is below 1e9 (clause 5.3.3).
    #[must_use]
    pub const fn is_valid(&self) -> bool {
        self.nanoseconds < 1_000_000_000
    }

    /// The timestamp as a [`Time`], or `None` if it is not valid.
    #[must_use]
    pub const fn to_time(&self) -> Option<Time> {
        if self.is_valid() {
            Some(Time::from_secs_nanos(self.seconds, self.nanoseconds))
        } else {
            None
        }
    }

    /// The timestamp of a [`Time`], truncating below the nanosecond, or
    /// `None` when its seconds exceed 48 bits.
    #[must_use]
    pub fn from_time(t: Time) -> Option<Self> {
        let seconds = u64::try_from(t.secs()).ok()?;
        Self::new(seconds, t.subsec_nanos())
    }

    /// Decode from its 10 octets.
    #[must_use]
    pub const fn from_bytes(b: &[u8; 10]) -> Self {
        let seconds = u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]);
        let nanoseconds = u32::from_be_bytes([b[6], b[7], b[8], b[9]]);
        Self {
            seconds,
            nanoseconds,
        }
    }

    /// Encode into its 10 octets.
    #[must_use]
    pub const fn to_bytes(&self) -> [u8; 10] {
        let s = self.seconds.to_be_bytes();
        let n = self.nanoseconds.to_be_bytes();
        [s[2], s[3], s[4], s[5], s[6], s[7], n[0], n[1], n[2], n[3]]
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({}.{:09})", self.seconds, self.nanoseconds)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.seconds, self.nanoseconds)
    }
}

/// A clockIdentity (clause 5.3.4, 7.5.2.2): 8 opaque octets, usually an
/// EUI-64 derived from the port's MAC address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClockIdentity(pub [u8; 8]);

impl ClockIdentity {
    /// The all-ones identity, which addresses every clock in management
    /// messages (clause 15.3.1).
    pub const ALL: Self = Self([0xFF; 8]);

    /// The identity linuxptp derives from a 48-bit MAC address (EUI-48 to
    /// EUI-64 with FF-FE inserted in the middle).
    #[must_use]
    pub const fn from_mac(mac: [u8; 6]) -> Self {
        Self([mac[0], mac[1], mac[2], 0xFF, 0xFE, mac[3], mac[4], mac[5]])
    }
}

impl fmt::Debug for ClockIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ClockIdentity {
    /// linuxptp's form: `001b19.fffe.000001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}{:02x}{:02x}.{:02x}{:02x}.{:02x}{:02x}{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]
        )
    }
}

/// A portIdentity (clause 5.3.5): clock identity and port number, 10 octets.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PortIdentity {
    /// clockIdentity.
    pub clock_identity: ClockIdentity,
    /// portNumber; 0xFFFF addresses every port in management messages.
    pub port_number: u16,
}

impl PortIdentity {
    /// Octets on the wire.
    pub const WIRE_LEN: usize = 10;
    /// The wildcard identity addressing every port of every clock (clause 15.3.1).
    pub const ALL: Self = Self {
        clock_identity: ClockIdentity::ALL,
        port_number: 0xFFFF,
    };

    /// Decode from its 10 octets.
    #[must_use]
    pub const fn from_bytes(b: &[u8; 10]) -> Self {
        Self {
            clock_identity: ClockIdentity([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
            port_number: be_u16(b, 8),
        }
    }

    /// Encode into its 10 octets.
    #[must_use]
    pub const fn to_bytes(&self) -> [u8; 10] {
        let c = self.clock_identity.0;
        let p = self.port_number.to_be_bytes();
        [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], p[0], p[1]]
    }
}

impl fmt::Debug for PortIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for PortIdentity {
    /// linuxptp's form: `001b19.fffe.000001-1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.clock_identity, self.port_number)
    }
}

wire_enum! {
    /// clockAccuracy (clause 7.6.2.6, table 5).
    pub enum ClockAccuracy(u8) {
        /// Within 1 ps (2019).
        Ps1 = 0x17,
        /// Within 2.5 ps.
        Ps2_5 = 0x18,
        /// Within 10 ps.
        Ps10 = 0x19,
        /// Within 25 ps.
        Ps25 = 0x1A,
        /// Within 100 ps.
        Ps100 = 0x1B,
        /// Within 250 ps.
        Ps250 = 0x1C,
        /// Within 1 ns.
        Ns1 = 0x1D,
        /// Within 2.5 ns.
        Ns2_5 = 0x1E,
        /// Within 10 ns.
        Ns10 = 0x1F,
        /// Within 25 ns.
        Ns25 = 0x20,
        /// Within 100 ns.
        Ns100 = 0x21,
        /// Within 250 ns.
        Ns250 = 0x22,
        /// Within 1 us.
        Us1 = 0x23,
        /// Within 2.5 us.
        Us2_5 = 0x24,
        /// Within 10 us.
        Us10 = 0x25,
        /// Within 25 us.
        Us25 = 0x26,
        /// Within 100 us.
        Us100 = 0x27,
        /// Within 250 us.
        Us250 = 0x28,
        /// Within 1 ms.
        Ms1 = 0x29,
        /// Within 2.5 ms.
        Ms2_5 = 0x2A,
        /// Within 10 ms.
        Ms10 = 0x2B,
        /// Within 25 ms.
        Ms25 = 0x2C,
        /// Within 100 ms.
        Ms100 = 0x2D,
        /// Within 250 ms.
        Ms250 = 0x2E,
        /// Within 1 s.
        S1 = 0x2F,
        /// Within 10 s.
        S10 = 0x30,
        /// More than 10 s.
        Gt10s = 0x31,
        /// Unknown accuracy (the default).
        UnknownAccuracy = 0xFE,
    }
}

#[allow(
    clippy::derivable_impls,
    reason = "wire_enum! cannot place #[default] on a variant"
)]
impl Default for ClockAccuracy {
    fn default() -> Self {
        Self::UnknownAccuracy
    }
}

wire_enum! {
    /// timeSource (clause 7.6.2.8, table 6).
    pub enum TimeSource(u8) {
        /// Synchronized to an atomic clock.
        AtomicClock = 0x10,
        /// Synchronized to a GNSS receiver.
        Gnss = 0x20,
        /// Terrestrial radio.
        TerrestrialRadio = 0x30,
        /// Serial time code.
        SerialTimeCode = 0x39,
        /// Another PTP instance.
        Ptp = 0x40,
        /// NTP.
        Ntp = 0x50,
        /// Hand set.
        HandSet = 0x60,
        /// Other.
        Other = 0x90,
        /// Internal oscillator (the default).
        InternalOscillator = 0xA0,
    }
}

#[allow(
    clippy::derivable_impls,
    reason = "wire_enum! cannot place #[default] on a variant"
)]
impl Default for TimeSource {
    fn default() -> Self {
        Self::InternalOscillator
    }
}

/// clockQuality (clause 5.3.7, 7.6.2.4): 4 octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClockQuality {
    /// clockClass (clause 7.6.2.5); 248 is the default for a free-running clock.
    pub clock_class: u8,
    /// clockAccuracy.
    pub clock_accuracy: ClockAccuracy,
    /// offsetScaledLogVariance (clause 7.6.3.3).
    pub offset_scaled_log_variance: u16,
}

impl Default for ClockQuality {
    fn default() -> Self {
        Self {
            clock_class: 248,
            clock_accuracy: ClockAccuracy::UnknownAccuracy,
            offset_scaled_log_variance: 0xFFFF,
        }
    }
}

impl ClockQuality {
    /// Octets on the wire.
    pub const WIRE_LEN: usize = 4;

    /// Decode from its 4 octets.
    #[must_use]
    #[inline]
    pub fn from_bytes(b: &[u8; 4]) -> Self {
        Self {
            clock_class: b[0],
            clock_accuracy: ClockAccuracy::from(b[1]),
            offset_scaled_log_variance: be_u16(b, 2),
        }
    }

    /// Encode into its 4 octets.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 4] {
        let v = self.offset_scaled_log_variance.to_be_bytes();
        [self.clock_class, self.clock_accuracy.into(), v[0], v[1]]
    }
}

/// A PTPText (clause 5.3.9): a length octet and that many UTF-8 octets,
/// borrowed from the packet. The text is not checked for UTF-8 validity on
/// parse; [`PtpText::as_str`] does that.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PtpText<'a>(&'a [u8]);

impl<'a> PtpText<'a> {
    /// A text, or `None` if it is longer than 255 octets.
    #[must_use]
    pub const fn new(bytes: &'a [u8]) -> Option<Self> {
        if bytes.len() > 255 {
            None
        } else {
            Some(Self(bytes))
        }
    }

    /// The text octets.
    #[must_use]
    pub const fn bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The text as `&str`, if it is valid UTF-8.
    #[must_use]
    pub fn as_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.0).ok()
    }

    /// Octets on the wire (length octet included).
    #[must_use]
    pub const fn wire_len(&self) -> usize {
        1 + self.0.len()
    }

    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Self> {
        let len = r.u8()?;
        r.bytes(usize::from(len)).map(Self)
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        let len = u8::try_from(self.0.len()).map_err(|_| Error::InvalidValue)?;
        w.u8(len)?;
        w.bytes(self.0)
    }
}

impl fmt::Debug for PtpText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => write!(f, "{s:?}"),
            None => write!(f, "{:?}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_bytes() {
        let b = [0x00, 0x00, 0x65, 0x5d, 0xd2, 0x80, 0x07, 0x5b, 0xcd, 0x15];
        let t = Timestamp::from_bytes(&b);
        assert_eq!(t.seconds(), 0x655d_d280);
        assert_eq!(t.nanoseconds(), 123_456_789);
        assert_eq!(t.to_bytes(), b);
        assert_eq!(
            t.to_time(),
            Some(Time::from_secs_nanos(0x655d_d280, 123_456_789))
        );
        assert_eq!(Timestamp::from_time(t.to_time().unwrap()), Some(t));
    }

    #[test]
    fn timestamp_limits() {
        assert!(Timestamp::new(Timestamp::MAX_SECONDS, 999_999_999).is_some());
        assert!(Timestamp::new(Timestamp::MAX_SECONDS + 1, 0).is_none());
        assert!(Timestamp::new(0, 1_000_000_000).is_none());
        let bad = Timestamp::from_bytes(&[0, 0, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert!(!bad.is_valid());
        assert_eq!(bad.to_time(), None);
        assert_eq!(bad.to_bytes()[6..], [0xFF; 4]);
        let max = Timestamp::from_bytes(&[0xFF; 10]);
        assert_eq!(max.seconds(), Timestamp::MAX_SECONDS);
    }

    #[test]
    fn identities() {
        let id = ClockIdentity::from_mac([0x00, 0x1b, 0x19, 0x00, 0x00, 0x01]);
        let p = PortIdentity {
            clock_identity: id,
            port_number: 1,
        };
        let bytes = [0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x01, 0x00, 0x01];
        assert_eq!(p.to_bytes(), bytes);
        assert_eq!(PortIdentity::from_bytes(&bytes), p);
        extern crate std;
        assert_eq!(std::format!("{p}"), "001b19.fffe.000001-1");
    }

    #[test]
    fn clock_quality_and_enums() {
        let q = ClockQuality::from_bytes(&[6, 0x21, 0x4e, 0x5d]);
        assert_eq!(q.clock_class, 6);
        assert_eq!(q.clock_accuracy, ClockAccuracy::Ns100);
        assert_eq!(q.offset_scaled_log_variance, 0x4e5d);
        assert_eq!(q.to_bytes(), [6, 0x21, 0x4e, 0x5d]);
        assert_eq!(ClockAccuracy::from(0x99), ClockAccuracy::Unknown(0x99));
        assert_eq!(u8::from(ClockAccuracy::Unknown(0x99)), 0x99);
        assert_eq!(TimeSource::from(0x20), TimeSource::Gnss);
    }

    #[test]
    fn ptp_text() {
        let mut r = Reader::new(&[3, b'e', b't', b'h', 9]);
        let t = PtpText::read(&mut r).unwrap();
        assert_eq!(t.as_str(), Some("eth"));
        assert_eq!(r.rest(), &[9]);
        let mut r = Reader::new(&[5, b'a']);
        assert_eq!(PtpText::read(&mut r), Err(Error::Truncated));
    }
}
