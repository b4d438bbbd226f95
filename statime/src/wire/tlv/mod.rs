//! TLVs (IEEE 1588-2019 clause 14): the type-length-value entities that
//! follow a message body.
//!
//! A message's TLVs arrive as a [`TlvSet`], a validated borrowed view whose
//! iterator yields [`RawTlv`]s (type and value octets). [`Tlv::parse`] turns
//! one into a typed TLV; unknown types stay [`Tlv::Unknown`] and are skipped
//! by their lengthField (clause 14.1.2). [`TlvWriter`] appends TLVs into a
//! caller-owned buffer, ready to become the suffix of a [`super::Message`].

use core::fmt;

use super::macros::wire_enum;
use super::{Error, Result};

mod alternate_time_offset;
mod authentication;
mod management;
mod organization;
mod pad;
mod path_trace;
mod unicast;

pub use alternate_time_offset::AlternateTimeOffsetIndicatorTlv;
pub use authentication::{AuthenticationFields, AuthenticationLayout, AuthenticationTlv};
pub use management::{
    CurrentDataSetTlv, DefaultDataSetTlv, DelayMechanism, ManagementData, ManagementErrorId,
    ManagementErrorStatusTlv, ManagementId, ManagementTlv, ParentDataSetTlv, PortDataSetTlv,
    PortPropertiesNpTlv, PortState, TimePropertiesDataSetTlv, TimeStatusNpTlv, TimestampType,
};
pub use organization::{
    FollowUpInformationTlv, OrganizationExtensionTlv, PowerProfileTlv, PowerProfileVersion,
    SmpteSyncMetadataTlv,
};
pub use pad::PadTlv;
pub use path_trace::PathTraceTlv;
pub use unicast::{
    AcknowledgeCancelUnicastTransmissionTlv, CancelUnicastTransmissionTlv,
    GrantUnicastTransmissionTlv, RequestUnicastTransmissionTlv,
};

wire_enum! {
    /// tlvType (clause 14.1.1, table 52).
    pub enum TlvType(u16) {
        /// MANAGEMENT (clause 15.5.2).
        Management = 0x0001,
        /// MANAGEMENT_ERROR_STATUS (clause 15.5.4).
        ManagementErrorStatus = 0x0002,
        /// ORGANIZATION_EXTENSION (clause 14.3), the 2008 code point.
        OrganizationExtension = 0x0003,
        /// REQUEST_UNICAST_TRANSMISSION (clause 16.1.4.1).
        RequestUnicastTransmission = 0x0004,
        /// GRANT_UNICAST_TRANSMISSION (clause 16.1.4.2).
        GrantUnicastTransmission = 0x0005,
        /// CANCEL_UNICAST_TRANSMISSION (clause 16.1.4.3).
        CancelUnicastTransmission = 0x0006,
        /// ACKNOWLEDGE_CANCEL_UNICAST_TRANSMISSION (clause 16.1.4.4).
        AcknowledgeCancelUnicastTransmission = 0x0007,
        /// PATH_TRACE (clause 16.2).
        PathTrace = 0x0008,
        /// ALTERNATE_TIME_OFFSET_INDICATOR (clause 16.3).
        AlternateTimeOffsetIndicator = 0x0009,
        /// AUTHENTICATION of IEEE 1588-2008 annex K (obsolete).
        Authentication2008 = 0x2000,
        /// AUTHENTICATION_CHALLENGE of IEEE 1588-2008 annex K (obsolete).
        AuthenticationChallenge2008 = 0x2001,
        /// SECURITY_ASSOCIATION_UPDATE of IEEE 1588-2008 annex K (obsolete).
        SecurityAssociationUpdate2008 = 0x2002,
        /// CUM_FREQ_SCALE_FACTOR_OFFSET of IEEE 1588-2008 annex L (obsolete).
        CumFreqScaleFactorOffset2008 = 0x2003,
        /// ORGANIZATION_EXTENSION_PROPAGATE (clause 14.3).
        OrganizationExtensionPropagate = 0x4000,
        /// ENHANCED_ACCURACY_METRICS (clause 16.12).
        EnhancedAccuracyMetrics = 0x4001,
        /// ORGANIZATION_EXTENSION_DO_NOT_PROPAGATE (clause 14.3).
        OrganizationExtensionDoNotPropagate = 0x8000,
        /// L1_SYNC (clause O.6.2).
        L1Sync = 0x8001,
        /// PORT_COMMUNICATION_AVAILABILITY (clause 16.10).
        PortCommunicationAvailability = 0x8002,
        /// PROTOCOL_ADDRESS (clause 16.11).
        ProtocolAddress = 0x8003,
        /// SLAVE_RX_SYNC_TIMING_DATA (clause 16.11 / annex, monitoring).
        SlaveRxSyncTimingData = 0x8004,
        /// SLAVE_RX_SYNC_COMPUTED_DATA (monitoring).
        SlaveRxSyncComputedData = 0x8005,
        /// SLAVE_TX_EVENT_TIMESTAMPS (monitoring).
        SlaveTxEventTimestamps = 0x8006,
        /// CUMULATIVE_RATE_RATIO (clause 16.10).
        CumulativeRateRatio = 0x8007,
        /// PAD (clause 14.4).
        Pad = 0x8008,
        /// AUTHENTICATION (clause 16.14.3).
        Authentication = 0x8009,
    }
}

impl TlvType {
    /// Whether a boundary clock forwards this TLV in the messages it
    /// regenerates (clause 14.1.1: the 0x4000 range propagates, the 0x8000
    /// range does not; the standard's own types are handled individually).
    #[must_use]
    pub fn propagates(self) -> bool {
        matches!(u16::from(self), 0x4000..=0x7FFF)
    }
}

/// One TLV as it appears on the wire: its type and value octets (the value
/// is lengthField octets long).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawTlv<'a> {
    /// tlvType.
    pub tlv_type: TlvType,
    /// The valueField, lengthField octets.
    pub value: &'a [u8],
}

impl RawTlv<'_> {
    /// Octets this TLV occupies as received: type, length and value, with
    /// no pad octet added. (Its [`TlvRepr::wire_len`], the size when
    /// written with [`TlvWriter::push`], pads an odd value to even.)
    #[must_use]
    pub const fn received_len(&self) -> usize {
        4 + self.value.len()
    }
}

impl fmt::Debug for RawTlv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RawTlv({:?}, {} octets)",
            self.tlv_type,
            self.value.len()
        )
    }
}

/// The TLVs after a message body: a borrowed octet string known to consist
/// of whole TLVs (each lengthField fits inside it).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TlvSet<'a>(&'a [u8]);

impl<'a> TlvSet<'a> {
    /// No TLVs.
    pub const EMPTY: TlvSet<'static> = TlvSet(&[]);

    /// Validate `bytes` as a sequence of whole TLVs.
    ///
    /// Returns [`Error::BadLength`] if a TLV header is cut short or a
    /// lengthField runs past the end.
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let mut rest = bytes;
        while !rest.is_empty() {
            let (head, tail) = rest.split_first_chunk::<4>().ok_or(Error::BadLength)?;
            let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
            rest = tail.get(len..).ok_or(Error::BadLength)?;
        }
        Ok(Self(bytes))
    }

    /// The TLVs as octets.
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// Octets of all the TLVs.
    #[must_use]
    pub const fn wire_len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no TLVs.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterate over the TLVs in order.
    #[must_use]
    pub const fn iter(&self) -> TlvIter<'a> {
        TlvIter(self.0)
    }

    /// The first TLV of the given type.
    #[must_use]
    pub fn find(&self, tlv_type: TlvType) -> Option<RawTlv<'a>> {
        self.iter().find(|t| t.tlv_type == tlv_type)
    }
}

impl fmt::Debug for TlvSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for TlvSet<'a> {
    type Item = RawTlv<'a>;
    type IntoIter = TlvIter<'a>;
    fn into_iter(self) -> TlvIter<'a> {
        self.iter()
    }
}

/// Iterator over the TLVs of a [`TlvSet`].
#[derive(Clone, Debug)]
pub struct TlvIter<'a>(&'a [u8]);

impl<'a> Iterator for TlvIter<'a> {
    type Item = RawTlv<'a>;

    fn next(&mut self) -> Option<RawTlv<'a>> {
        let (head, tail) = self.0.split_first_chunk::<4>()?;
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        // A TlvSet is validated, but stay total on any input anyway.
        let Some((value, rest)) = tail.split_at_checked(len) else {
            self.0 = &[];
            return None;
        };
        self.0 = rest;
        Some(RawTlv {
            tlv_type: TlvType::from(u16::from_be_bytes([head[0], head[1]])),
            value,
        })
    }
}

/// A TLV that knows its wire form. Implemented by every typed TLV.
pub trait TlvRepr<'a>: Sized {
    /// tlvType to write.
    fn tlv_type(&self) -> TlvType;
    /// Octets of the valueField, before padding to an even count.
    fn value_len(&self) -> usize;
    /// Write the valueField into exactly `value_len()` octets.
    fn emit_value(&self, out: &mut [u8]) -> Result<()>;
    /// Parse the valueField (octets beyond what the type needs are ignored).
    fn parse_value(tlv_type: TlvType, value: &'a [u8]) -> Result<Self>;

    /// Parse from a raw TLV.
    fn parse(raw: RawTlv<'a>) -> Result<Self> {
        Self::parse_value(raw.tlv_type, raw.value)
    }

    /// Octets on the wire: type, length, value and the pad octet that
    /// makes lengthField even (clause 14.1.2).
    fn wire_len(&self) -> usize {
        let v = self.value_len();
        4 + v + (v & 1)
    }
}

/// Appends TLVs to a caller-owned buffer.
#[derive(Debug)]
pub struct TlvWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> TlvWriter<'b> {
    /// A writer filling `buf` from its start.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Append a typed TLV, padding its value with one zero octet when its
    /// length is odd (lengthField is always even, clause 14.1.2).
    pub fn push<'a, T: TlvRepr<'a>>(&mut self, tlv: &T) -> Result<()> {
        let value_len = tlv.value_len();
        let padded = value_len + (value_len & 1);
        let length = u16::try_from(padded).map_err(|_| Error::InvalidValue)?;
        let end = self
            .len
            .checked_add(4 + padded)
            .ok_or(Error::BufferTooSmall)?;
        let out = self
            .buf
            .get_mut(self.len..end)
            .ok_or(Error::BufferTooSmall)?;
        let (head, value) = out.split_at_mut(4);
        head[..2].copy_from_slice(&u16::from(tlv.tlv_type()).to_be_bytes());
        head[2..].copy_from_slice(&length.to_be_bytes());
        let (value, pad) = value.split_at_mut(value_len);
        tlv.emit_value(value)?;
        pad.fill(0);
        self.len = end;
        Ok(())
    }

    /// Append a raw TLV as is (its value length must be even to be valid;
    /// an odd value is written unpadded, exactly as given).
    pub fn push_raw(&mut self, tlv: RawTlv<'_>) -> Result<()> {
        let length = u16::try_from(tlv.value.len()).map_err(|_| Error::InvalidValue)?;
        let end = self
            .len
            .checked_add(tlv.received_len())
            .ok_or(Error::BufferTooSmall)?;
        let out = self
            .buf
            .get_mut(self.len..end)
            .ok_or(Error::BufferTooSmall)?;
        let (head, value) = out.split_at_mut(4);
        head[..2].copy_from_slice(&u16::from(tlv.tlv_type).to_be_bytes());
        head[2..].copy_from_slice(&length.to_be_bytes());
        value.copy_from_slice(tlv.value);
        self.len = end;
        Ok(())
    }

    /// Octets written so far.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The TLVs written, as a set to put in a message's suffix.
    #[must_use]
    pub fn finish(self) -> TlvSet<'b> {
        let Self { buf, len } = self;
        let written: &'b [u8] = buf;
        TlvSet(written.get(..len).unwrap_or_default())
    }
}

/// A typed TLV: every TLV family this crate understands, and the rest raw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tlv<'a> {
    /// MANAGEMENT (clause 15.5.2).
    Management(ManagementTlv<'a>),
    /// MANAGEMENT_ERROR_STATUS (clause 15.5.4).
    ManagementErrorStatus(ManagementErrorStatusTlv<'a>),
    /// ORGANIZATION_EXTENSION and its propagate / do-not-propagate variants.
    OrganizationExtension(OrganizationExtensionTlv<'a>),
    /// REQUEST_UNICAST_TRANSMISSION.
    RequestUnicastTransmission(RequestUnicastTransmissionTlv),
    /// GRANT_UNICAST_TRANSMISSION.
    GrantUnicastTransmission(GrantUnicastTransmissionTlv),
    /// CANCEL_UNICAST_TRANSMISSION.
    CancelUnicastTransmission(CancelUnicastTransmissionTlv),
    /// ACKNOWLEDGE_CANCEL_UNICAST_TRANSMISSION.
    AcknowledgeCancelUnicastTransmission(AcknowledgeCancelUnicastTransmissionTlv),
    /// PATH_TRACE.
    PathTrace(PathTraceTlv<'a>),
    /// ALTERNATE_TIME_OFFSET_INDICATOR.
    AlternateTimeOffsetIndicator(AlternateTimeOffsetIndicatorTlv<'a>),
    /// PAD.
    Pad(PadTlv),
    /// AUTHENTICATION.
    Authentication(AuthenticationTlv<'a>),
    /// Any other type, kept as octets.
    Unknown(RawTlv<'a>),
}

macro_rules! dispatch {
    ($self:expr, $t:ident => $e:expr) => {
        match $self {
            Tlv::Management($t) => $e,
            Tlv::ManagementErrorStatus($t) => $e,
            Tlv::OrganizationExtension($t) => $e,
            Tlv::RequestUnicastTransmission($t) => $e,
            Tlv::GrantUnicastTransmission($t) => $e,
            Tlv::CancelUnicastTransmission($t) => $e,
            Tlv::AcknowledgeCancelUnicastTransmission($t) => $e,
            Tlv::PathTrace($t) => $e,
            Tlv::AlternateTimeOffsetIndicator($t) => $e,
            Tlv::Pad($t) => $e,
            Tlv::Authentication($t) => $e,
            Tlv::Unknown($t) => $e,
        }
    };
}

impl<'a> TlvRepr<'a> for RawTlv<'a> {
    fn tlv_type(&self) -> TlvType {
        self.tlv_type
    }
    fn value_len(&self) -> usize {
        self.value.len()
    }
    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        out.get_mut(..self.value.len())
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(self.value);
        Ok(())
    }
    fn parse_value(tlv_type: TlvType, value: &'a [u8]) -> Result<Self> {
        Ok(Self { tlv_type, value })
    }
}

impl<'a> TlvRepr<'a> for Tlv<'a> {
    fn tlv_type(&self) -> TlvType {
        dispatch!(self, t => t.tlv_type())
    }
    fn value_len(&self) -> usize {
        dispatch!(self, t => t.value_len())
    }
    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        dispatch!(self, t => t.emit_value(out))
    }
    fn parse_value(tlv_type: TlvType, value: &'a [u8]) -> Result<Self> {
        Ok(match tlv_type {
            TlvType::Management => Self::Management(TlvRepr::parse_value(tlv_type, value)?),
            TlvType::ManagementErrorStatus => {
                Self::ManagementErrorStatus(TlvRepr::parse_value(tlv_type, value)?)
            }
            TlvType::OrganizationExtension
            | TlvType::OrganizationExtensionPropagate
            | TlvType::OrganizationExtensionDoNotPropagate => {
                Self::OrganizationExtension(TlvRepr::parse_value(tlv_type, value)?)
            }
            TlvType::RequestUnicastTransmission => {
                Self::RequestUnicastTransmission(TlvRepr::parse_value(tlv_type, value)?)
            }
            TlvType::GrantUnicastTransmission => {
                Self::GrantUnicastTransmission(TlvRepr::parse_value(tlv_type, value)?)
            }
            TlvType::CancelUnicastTransmission => {
                Self::CancelUnicastTransmission(TlvRepr::parse_value(tlv_type, value)?)
            }
            TlvType::AcknowledgeCancelUnicastTransmission => {
                Self::AcknowledgeCancelUnicastTransmission(TlvRepr::parse_value(tlv_type, value)?)
            }
            TlvType::PathTrace => Self::PathTrace(TlvRepr::parse_value(tlv_type, value)?),
            TlvType::AlternateTimeOffsetIndicator => {
                Self::AlternateTimeOffsetIndicator(TlvRepr::parse_value(tlv_type, value)?)
            }
            TlvType::Pad => Self::Pad(TlvRepr::parse_value(tlv_type, value)?),
            TlvType::Authentication => Self::Authentication(TlvRepr::parse_value(tlv_type, value)?),
            _ => Self::Unknown(RawTlv { tlv_type, value }),
        })
    }
}

/// Check that a TLV value is at least `n` octets, as [`Error::BadLength`].
pub(crate) fn need<const N: usize>(value: &[u8]) -> Result<&[u8; N]> {
    value.first_chunk::<N>().ok_or(Error::BadLength)
}

/// Copy `bytes` into the start of `out` (an emitter's fixed value).
pub(crate) fn emit_exact(out: &mut [u8], bytes: &[u8]) -> Result<()> {
    out.get_mut(..bytes.len())
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(bytes);
    Ok(())
}

/// Test helper: parse `bytes` (a whole TLV) as `T`, check it equals `repr`,
/// and check that writing `repr` gives `bytes` back.
#[cfg(test)]
pub(crate) fn check_fixture<'a, T>(bytes: &'a [u8], repr: &T)
where
    T: TlvRepr<'a> + PartialEq + fmt::Debug,
{
    let set = TlvSet::parse(bytes).expect("fixture is one whole TLV");
    let raw = set.iter().next().expect("one TLV");
    assert_eq!(raw.received_len(), bytes.len());
    assert_eq!(&T::parse(raw).expect("parses"), repr);
    let mut out = [0xA5u8; 512];
    let mut w = TlvWriter::new(&mut out);
    w.push(repr).expect("fits");
    assert_eq!(w.finish().as_bytes(), bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_validation() {
        assert!(TlvSet::parse(&[]).is_ok());
        assert!(TlvSet::parse(&[0x80, 0x08, 0x00, 0x00]).is_ok());
        assert_eq!(TlvSet::parse(&[0x80, 0x08, 0x00]), Err(Error::BadLength));
        assert_eq!(
            TlvSet::parse(&[0x80, 0x08, 0x00, 0x04, 0, 0, 0]),
            Err(Error::BadLength)
        );
        let two = [0x00, 0x08, 0x00, 0x00, 0x7F, 0xFF, 0x00, 0x02, 0xAB, 0xCD];
        let set = TlvSet::parse(&two).unwrap();
        let mut it = set.iter();
        assert_eq!(it.next().unwrap().tlv_type, TlvType::PathTrace);
        let unknown = it.next().unwrap();
        assert_eq!(unknown.tlv_type, TlvType::Unknown(0x7FFF));
        assert_eq!(unknown.value, &[0xAB, 0xCD]);
        assert!(it.next().is_none());
        assert_eq!(set.find(TlvType::Unknown(0x7FFF)), Some(unknown));
        assert!(matches!(Tlv::parse(unknown), Ok(Tlv::Unknown(_))));
    }

    #[test]
    fn writer_pads_and_bounds() {
        let mut buf = [0xEEu8; 12];
        let mut w = TlvWriter::new(&mut buf);
        let odd = RawTlv {
            tlv_type: TlvType::Unknown(0x7001),
            value: &[1, 2, 3],
        };
        w.push(&odd).unwrap();
        assert_eq!(w.len(), 8);
        assert_eq!(w.push(&odd), Err(Error::BufferTooSmall));
        let set = w.finish();
        assert_eq!(set.as_bytes(), &[0x70, 0x01, 0x00, 0x04, 1, 2, 3, 0]);
        assert!(TlvType::OrganizationExtensionPropagate.propagates());
        assert!(!TlvType::Pad.propagates());
    }
}
