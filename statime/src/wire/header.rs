//! The common message header (IEEE 1588-2019 clause 13.3), 34 octets.

use core::fmt;

use super::macros::wire_enum;
use super::{Error, PortIdentity, Result, be_u16, put_u16};
use crate::time::TimeInterval;

/// versionPTP (clause 13.3.2.4): the only major version this crate speaks.
pub const PTP_VERSION_MAJOR: u8 = 2;

/// Octet offsets of the header fields (clause 13.3.1, table 35).
mod field {
    pub(super) const TYPE: usize = 0; // majorSdoId (high nibble), messageType (low)
    pub(super) const VERSION: usize = 1; // minorVersionPTP (high), versionPTP (low)
    pub(super) const LENGTH: usize = 2;
    pub(super) const DOMAIN: usize = 4;
    pub(super) const MINOR_SDO: usize = 5;
    pub(super) const FLAGS: usize = 6;
    pub(super) const CORRECTION: usize = 8;
    pub(super) const TYPE_SPECIFIC: usize = 16;
    pub(super) const SOURCE_PORT: usize = 20;
    pub(super) const SEQUENCE_ID: usize = 30;
    pub(super) const CONTROL: usize = 32;
    pub(super) const LOG_INTERVAL: usize = 33;
}

wire_enum! {
    /// messageType (clause 13.3.2.3, table 36). Values 0..=3 are event
    /// messages (port 319), 8..=0xD general messages (port 320).
    pub enum MessageType(u8) {
        /// Sync (clause 13.6).
        Sync = 0x0,
        /// Delay_Req (clause 13.6).
        DelayReq = 0x1,
        /// Pdelay_Req (clause 13.9).
        PdelayReq = 0x2,
        /// Pdelay_Resp (clause 13.10).
        PdelayResp = 0x3,
        /// Follow_Up (clause 13.7).
        FollowUp = 0x8,
        /// Delay_Resp (clause 13.8).
        DelayResp = 0x9,
        /// Pdelay_Resp_Follow_Up (clause 13.11).
        PdelayRespFollowUp = 0xA,
        /// Announce (clause 13.5).
        Announce = 0xB,
        /// Signaling (clause 13.12).
        Signaling = 0xC,
        /// Management (clause 13.13).
        Management = 0xD,
    }
}

impl MessageType {
    /// Whether this is an event message, timestamped on send and receipt
    /// (clause 7.3.6) and carried on UDP port 319.
    #[must_use]
    pub fn is_event(self) -> bool {
        matches!(u8::from(self), 0..=7)
    }

    /// The legacy (2008) controlField value for this type (clause 13.3.2.13,
    /// table 42): version 2.1 senders emit 0, 2008 senders these values.
    #[must_use]
    pub fn legacy_control_field(self) -> u8 {
        match self {
            Self::Sync => 0,
            Self::DelayReq => 1,
            Self::FollowUp => 2,
            Self::DelayResp => 3,
            Self::Management => 4,
            _ => 5,
        }
    }
}

/// sdoId (clause 13.3.2.2, 7.1.4): majorSdoId (4 bits) and minorSdoId (8
/// bits) combined into 12 bits. IEEE 802.1AS uses majorSdoId 1; 2008 peers
/// call the major part transportSpecific and send minorSdoId 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SdoId(u16);

impl SdoId {
    /// The default sdoId (0).
    pub const DEFAULT: Self = Self(0);
    /// IEEE 802.1AS (majorSdoId 1, minorSdoId 0).
    pub const GPTP: Self = Self(0x100);

    /// From a 12-bit value, or `None` if it does not fit.
    #[must_use]
    pub const fn new(v: u16) -> Option<Self> {
        if v < 0x1000 { Some(Self(v)) } else { None }
    }

    /// From its two parts; the major part is masked to 4 bits.
    #[must_use]
    pub const fn from_parts(major: u8, minor: u8) -> Self {
        Self((((major & 0xF) as u16) << 8) | minor as u16)
    }

    /// The 12-bit value.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }

    /// majorSdoId (4 bits).
    #[must_use]
    pub const fn major(self) -> u8 {
        (self.0 >> 8) as u8
    }

    /// minorSdoId (8 bits).
    #[must_use]
    pub const fn minor(self) -> u8 {
        self.0 as u8
    }
}

/// flagField (clause 13.3.2.8, table 37), kept as the raw 16 bits so that
/// reserved and profile bits survive a parse/emit round trip.
///
/// Octet 0 is the high byte, octet 1 the low byte of the value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FlagField(pub u16);

macro_rules! flag_bits {
    ($( $(#[$m:meta])* $get:ident, $set:ident = $bit:expr; )+) => {
        impl FlagField {
            $(
                $(#[$m])*
                #[must_use]
                pub const fn $get(self) -> bool {
                    self.0 & $bit != 0
                }

                #[doc = concat!("Set or clear the `", stringify!($get), "` flag.")]
                pub const fn $set(&mut self, on: bool) {
                    if on { self.0 |= $bit } else { self.0 &= !$bit }
                }
            )+
        }
    };
}

flag_bits! {
    /// alternateMasterFlag (octet 0 bit 0).
    alternate_master, set_alternate_master = 0x0100;
    /// twoStepFlag (octet 0 bit 1): a Follow_Up (or Pdelay_Resp_Follow_Up) follows.
    two_step, set_two_step = 0x0200;
    /// unicastFlag (octet 0 bit 2).
    unicast, set_unicast = 0x0400;
    /// PTP profile Specific 1 (octet 0 bit 5).
    profile_specific_1, set_profile_specific_1 = 0x2000;
    /// PTP profile Specific 2 (octet 0 bit 6).
    profile_specific_2, set_profile_specific_2 = 0x4000;
    /// Octet 0 bit 7: the 2008 security flag, reserved in 2019.
    security, set_security = 0x8000;
    /// leap61 (octet 1 bit 0).
    leap61, set_leap61 = 0x0001;
    /// leap59 (octet 1 bit 1).
    leap59, set_leap59 = 0x0002;
    /// currentUtcOffsetValid (octet 1 bit 2).
    current_utc_offset_valid, set_current_utc_offset_valid = 0x0004;
    /// ptpTimescale (octet 1 bit 3).
    ptp_timescale, set_ptp_timescale = 0x0008;
    /// timeTraceable (octet 1 bit 4).
    time_traceable, set_time_traceable = 0x0010;
    /// frequencyTraceable (octet 1 bit 5).
    frequency_traceable, set_frequency_traceable = 0x0020;
    /// synchronizationUncertain (octet 1 bit 6, new in 2019).
    synchronization_uncertain, set_synchronization_uncertain = 0x0040;
}

impl fmt::Debug for FlagField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FlagField({:#06x})", self.0)
    }
}

/// The common header of every PTP message (clause 13.3).
///
/// messageLength is not stored: [`super::Message`] checks it on parse and
/// computes it on emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Header {
    /// sdoId (clause 13.3.2.2).
    pub sdo_id: SdoId,
    /// messageType (clause 13.3.2.3).
    pub message_type: MessageType,
    /// minorVersionPTP (clause 13.3.2.5): 1 for IEEE 1588-2019, 0 for 2008
    /// peers such as linuxptp 3.1.1. Four bits; emit masks it.
    pub minor_version: u8,
    /// domainNumber (clause 13.3.2.6).
    pub domain_number: u8,
    /// flagField (clause 13.3.2.8).
    pub flags: FlagField,
    /// correctionField (clause 13.3.2.9).
    pub correction_field: TimeInterval,
    /// messageTypeSpecific (clause 13.3.2.10), 4 octets.
    pub message_type_specific: [u8; 4],
    /// sourcePortIdentity (clause 13.3.2.11).
    pub source_port_identity: PortIdentity,
    /// sequenceId (clause 13.3.2.12).
    pub sequence_id: u16,
    /// controlField (clause 13.3.2.13): 0 in 2019 senders; receivers ignore it.
    pub control_field: u8,
    /// logMessageInterval (clause 13.3.2.14); 0x7F means "not applicable".
    pub log_message_interval: i8,
}

impl Header {
    /// Octets on the wire.
    pub const WIRE_LEN: usize = 34;

    /// A header with the defaults of a 2019 sender: version 2.1, sdoId 0,
    /// controlField 0.
    #[must_use]
    pub fn new(message_type: MessageType) -> Self {
        Self {
            sdo_id: SdoId::DEFAULT,
            message_type,
            minor_version: 1,
            domain_number: 0,
            flags: FlagField::default(),
            correction_field: TimeInterval::ZERO,
            message_type_specific: [0; 4],
            source_port_identity: PortIdentity::default(),
            sequence_id: 0,
            control_field: 0,
            log_message_interval: 0x7F,
        }
    }

    /// Parse the header and return it with messageLength.
    ///
    /// Checks that 34 octets are present and versionPTP is 2; accepts any
    /// minorVersionPTP (clause 7.5.2.4: 2008 and 2019 nodes interoperate).
    /// messageLength is returned unchecked; see [`super::Message::parse`].
    #[inline]
    pub fn parse(buf: &[u8]) -> Result<(Self, u16)> {
        let b = buf
            .first_chunk::<{ Self::WIRE_LEN }>()
            .ok_or(Error::Truncated)?;
        let version = b[field::VERSION] & 0x0F;
        if version != PTP_VERSION_MAJOR {
            return Err(Error::UnsupportedVersion(version));
        }
        let c = field::CORRECTION;
        let correction = i64::from_be_bytes([
            b[c],
            b[c + 1],
            b[c + 2],
            b[c + 3],
            b[c + 4],
            b[c + 5],
            b[c + 6],
            b[c + 7],
        ]);
        let t = field::TYPE_SPECIFIC;
        let s = field::SOURCE_PORT;
        let header = Self {
            sdo_id: SdoId::from_parts(b[field::TYPE] >> 4, b[field::MINOR_SDO]),
            message_type: MessageType::from(b[field::TYPE] & 0x0F),
            minor_version: b[field::VERSION] >> 4,
            domain_number: b[field::DOMAIN],
            flags: FlagField(be_u16(b, field::FLAGS)),
            correction_field: TimeInterval::from_bits(correction),
            message_type_specific: [b[t], b[t + 1], b[t + 2], b[t + 3]],
            source_port_identity: PortIdentity::from_bytes(&[
                b[s],
                b[s + 1],
                b[s + 2],
                b[s + 3],
                b[s + 4],
                b[s + 5],
                b[s + 6],
                b[s + 7],
                b[s + 8],
                b[s + 9],
            ]),
            sequence_id: be_u16(b, field::SEQUENCE_ID),
            control_field: b[field::CONTROL],
            log_message_interval: b[field::LOG_INTERVAL] as i8,
        };
        Ok((header, be_u16(b, field::LENGTH)))
    }

    /// Emit the header with the given messageLength into the first 34 octets
    /// of `buf`.
    #[inline]
    pub fn emit(&self, message_length: u16, buf: &mut [u8]) -> Result<()> {
        let b = buf
            .first_chunk_mut::<{ Self::WIRE_LEN }>()
            .ok_or(Error::BufferTooSmall)?;
        b[field::TYPE] = (self.sdo_id.major() << 4) | (u8::from(self.message_type) & 0x0F);
        b[field::VERSION] = ((self.minor_version & 0x0F) << 4) | PTP_VERSION_MAJOR;
        put_u16(b, field::LENGTH, message_length);
        b[field::DOMAIN] = self.domain_number;
        b[field::MINOR_SDO] = self.sdo_id.minor();
        put_u16(b, field::FLAGS, self.flags.0);
        let c = field::CORRECTION;
        b[c..c + 8].copy_from_slice(&self.correction_field.to_bits().to_be_bytes());
        let t = field::TYPE_SPECIFIC;
        b[t..t + 4].copy_from_slice(&self.message_type_specific);
        let s = field::SOURCE_PORT;
        b[s..s + 10].copy_from_slice(&self.source_port_identity.to_bytes());
        put_u16(b, field::SEQUENCE_ID, self.sequence_id);
        b[field::CONTROL] = self.control_field;
        b[field::LOG_INTERVAL] = self.log_message_interval as u8;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ClockIdentity;

    /// A Sync header as linuxptp 3.1.1 sends it (2008 style: minor version 0,
    /// controlField 0, twoStep set), messageLength 44, correction 1.5 ns.
    const BYTES: [u8; 34] = [
        0x00, 0x02, 0x00, 0x2c, 0x00, 0x00, 0x02, 0x00, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x80, 0x00, //
        0x00, 0x00, 0x00, 0x00, //
        0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x01, 0x00, 0x01, //
        0x12, 0x34, 0x00, 0x00,
    ];

    fn repr() -> Header {
        let mut flags = FlagField::default();
        flags.set_two_step(true);
        Header {
            sdo_id: SdoId::DEFAULT,
            message_type: MessageType::Sync,
            minor_version: 0,
            domain_number: 0,
            flags,
            correction_field: TimeInterval::from_bits(0x1_8000),
            message_type_specific: [0; 4],
            source_port_identity: PortIdentity {
                clock_identity: ClockIdentity([0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x01]),
                port_number: 1,
            },
            sequence_id: 0x1234,
            control_field: 0,
            log_message_interval: 0,
        }
    }

    #[test]
    fn parse() {
        assert_eq!(Header::parse(&BYTES), Ok((repr(), 44)));
    }

    #[test]
    fn emit() {
        let mut buf = [0xAA; 34];
        repr().emit(44, &mut buf).unwrap();
        assert_eq!(buf, BYTES);
    }

    #[test]
    fn fields_and_flags() {
        let mut b = BYTES;
        b[0] = 0x1B; // majorSdoId 1, Announce
        b[1] = 0x12; // minor version 1
        b[5] = 0x22;
        b[6] = 0x64; // profile 2, profile 1, unicast
        b[7] = 0x7F;
        b[33] = 0xFD;
        let (h, _) = Header::parse(&b).unwrap();
        assert_eq!(h.sdo_id.major(), 1);
        assert_eq!(h.sdo_id.minor(), 0x22);
        assert_eq!(h.sdo_id.get(), 0x122);
        assert_eq!(h.message_type, MessageType::Announce);
        assert_eq!(h.minor_version, 1);
        let f = h.flags;
        assert!(f.unicast() && f.profile_specific_1() && f.profile_specific_2());
        assert!(!f.two_step() && !f.alternate_master() && !f.security());
        assert!(f.leap61() && f.leap59() && f.current_utc_offset_valid() && f.ptp_timescale());
        assert!(f.time_traceable() && f.frequency_traceable() && f.synchronization_uncertain());
        assert_eq!(h.log_message_interval, -3);
        let mut out = [0; 34];
        h.emit(44, &mut out).unwrap();
        assert_eq!(out, b);
    }

    #[test]
    fn rejects() {
        assert_eq!(Header::parse(&BYTES[..33]), Err(Error::Truncated));
        let mut b = BYTES;
        b[1] = 0x01;
        assert_eq!(Header::parse(&b), Err(Error::UnsupportedVersion(1)));
        b[1] = 0x03;
        assert_eq!(Header::parse(&b), Err(Error::UnsupportedVersion(3)));
        let mut small = [0; 33];
        assert_eq!(repr().emit(44, &mut small), Err(Error::BufferTooSmall));
    }

    #[test]
    fn unknown_type_kept() {
        let mut b = BYTES;
        b[0] = 0x05;
        let (h, _) = Header::parse(&b).unwrap();
        assert_eq!(h.message_type, MessageType::Unknown(5));
        assert!(h.message_type.is_event());
        let mut out = [0; 34];
        h.emit(44, &mut out).unwrap();
        assert_eq!(out, b);
    }
}
