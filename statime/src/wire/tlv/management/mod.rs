//! Management TLVs (IEEE 1588-2019 clause 15.5): the MANAGEMENT TLV with
//! its managementId and data field, and MANAGEMENT_ERROR_STATUS.
//!
//! A Management message ([`crate::wire::messages::ManagementMessage`]) is
//! followed by exactly one of these in its TLV set. [`ManagementTlv`] types
//! the data field of the IDs a daemon and `pmc` use most (the five data
//! sets, the one-octet settings, USER_DESCRIPTION and linuxptp's
//! TIME_STATUS_NP and PORT_PROPERTIES_NP) and keeps every other data field
//! as exact octets ([`ManagementData::Raw`]).

use super::{TlvRepr, TlvSet, TlvType};
use crate::time::TimeInterval;
use crate::wire::macros::wire_enum;
use crate::wire::{
    ClockIdentity, ClockQuality, Error, PortIdentity, PtpText, Reader, Result, Writer,
};

mod datasets;
mod error_status;
mod ids;
mod linuxptp;
#[cfg(test)]
mod props;
#[cfg(test)]
mod ptp4l_tests;

pub use datasets::{
    CurrentDataSetTlv, DefaultDataSetTlv, ParentDataSetTlv, PortDataSetTlv,
    TimePropertiesDataSetTlv,
};
pub use error_status::{ManagementErrorId, ManagementErrorStatusTlv};
pub use ids::ManagementId;
pub use linuxptp::{PortPropertiesNpTlv, TimeStatusNpTlv, TimestampType};

wire_enum! {
    /// portState (IEEE 1588-2019 clause 8.2.15.3.1) as carried in
    /// PORT_DATA_SET (clause 15.5.3.7.1) and linuxptp's PORT_PROPERTIES_NP.
    pub enum PortState(u8) {
        /// INITIALIZING.
        Initializing = 1,
        /// FAULTY.
        Faulty = 2,
        /// DISABLED.
        Disabled = 3,
        /// LISTENING.
        Listening = 4,
        /// PRE_MASTER (PRE_TIME_TRANSMITTER).
        PreMaster = 5,
        /// MASTER (TIME_TRANSMITTER).
        Master = 6,
        /// PASSIVE.
        Passive = 7,
        /// UNCALIBRATED.
        Uncalibrated = 8,
        /// SLAVE (TIME_RECEIVER).
        Slave = 9,
    }
}

wire_enum! {
    /// delayMechanism (IEEE 1588-2019 clause 8.2.15.4.4) as
    /// carried in PORT_DATA_SET and DELAY_MECHANISM (clause 15.5.3).
    pub enum DelayMechanism(u8) {
        /// E2E: delay request-response (clause 11.3).
        E2e = 0x01,
        /// P2P: peer-to-peer delay (clause 11.4).
        P2p = 0x02,
        /// COMMON_P2P: peer delay from the common mean link delay service
        /// (clause 16.6).
        CommonP2p = 0x03,
        /// SPECIAL: a delay mechanism defined outside this standard.
        Special = 0x04,
        /// NO_MECHANISM: the port measures no delay.
        NoMechanism = 0xFE,
    }
}

impl PortState {
    /// The state's name as IEEE 1588-2019 and linuxptp print it
    /// (`UNCALIBRATED`, `PRE_MASTER`...); `UNKNOWN` for other values.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Initializing => "INITIALIZING",
            Self::Faulty => "FAULTY",
            Self::Disabled => "DISABLED",
            Self::Listening => "LISTENING",
            Self::PreMaster => "PRE_MASTER",
            Self::Master => "MASTER",
            Self::Passive => "PASSIVE",
            Self::Uncalibrated => "UNCALIBRATED",
            Self::Slave => "SLAVE",
            Self::Unknown(_) => "UNKNOWN",
        }
    }
}

pub(crate) fn read_i8(r: &mut Reader<'_>) -> Result<i8> {
    r.u8().map(|v| v as i8)
}

pub(crate) fn read_interval(r: &mut Reader<'_>) -> Result<TimeInterval> {
    r.array::<8>()
        .map(|a| TimeInterval::from_bits(i64::from_be_bytes(*a)))
}

pub(crate) fn write_interval(w: &mut Writer<'_>, t: TimeInterval) -> Result<()> {
    w.bytes(&t.to_bits().to_be_bytes())
}

pub(crate) fn read_port_identity(r: &mut Reader<'_>) -> Result<PortIdentity> {
    r.array::<10>().map(PortIdentity::from_bytes)
}

pub(crate) fn read_clock_identity(r: &mut Reader<'_>) -> Result<ClockIdentity> {
    r.array::<8>().map(|a| ClockIdentity(*a))
}

pub(crate) fn read_quality(r: &mut Reader<'_>) -> Result<ClockQuality> {
    r.array::<4>().map(ClockQuality::from_bytes)
}

/// The dataField of a MANAGEMENT TLV (IEEE 1588-2019 clause 15.5.2.4),
/// typed by managementId where this crate knows the layout.
///
/// Parsing (see [`ManagementTlv`]): an empty data field is [`Self::Empty`]
/// whatever the ID; otherwise a typed ID needs at least its fixed octets
/// ([`Error::BadLength`] if shorter) and octets after them (a pad octet,
/// linuxptp's zero-filled GET bodies) are ignored; every other ID is
/// [`Self::Raw`], kept byte-exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ManagementData<'a> {
    /// No data (lengthField 2): a GET, COMMAND or ACKNOWLEDGE without
    /// payload, or NULL_PTP_MANAGEMENT (clause 15.5.2.4).
    Empty,
    /// DEFAULT_DATA_SET (clause 15.5.3.3.1).
    DefaultDataSet(DefaultDataSetTlv),
    /// CURRENT_DATA_SET (clause 15.5.3.4.1).
    CurrentDataSet(CurrentDataSetTlv),
    /// PARENT_DATA_SET (clause 15.5.3.5.1).
    ParentDataSet(ParentDataSetTlv),
    /// TIME_PROPERTIES_DATA_SET (clause 15.5.3.6.1).
    TimePropertiesDataSet(TimePropertiesDataSetTlv),
    /// PORT_DATA_SET (clause 15.5.3.7.1).
    PortDataSet(PortDataSetTlv),
    /// TIME_STATUS_NP (linuxptp extension).
    TimeStatusNp(TimeStatusNpTlv),
    /// PORT_PROPERTIES_NP (linuxptp extension).
    PortPropertiesNp(PortPropertiesNpTlv<'a>),
    /// USER_DESCRIPTION (clause 15.5.3.1): userDescription, a PTPText.
    UserDescription(PtpText<'a>),
    /// One value octet and a reserved octet, for every ID where
    /// [`ManagementId::is_scalar`] holds (PRIORITY1, DOMAIN,
    /// LOG_SYNC_INTERVAL, DELAY_MECHANISM, ...; clause 15.5.3). Signed
    /// intervals are the octet as `i8`; flag IDs use the bits documented
    /// on [`ManagementId::is_scalar`].
    Scalar {
        /// The value octet.
        value: u8,
    },
    /// Any other data field (CLOCK_DESCRIPTION, GRANDMASTER_SETTINGS_NP,
    /// PORT_STATS_NP, ...), exactly as received, pad octet included.
    Raw(&'a [u8]),
}

impl<'a> ManagementData<'a> {
    /// The managementId a typed data set belongs to; `None` for
    /// [`Self::Empty`], [`Self::Scalar`] and [`Self::Raw`], which go with
    /// several IDs.
    #[must_use]
    pub const fn fixed_id(&self) -> Option<ManagementId> {
        Some(match self {
            Self::DefaultDataSet(_) => ManagementId::DefaultDataSet,
            Self::CurrentDataSet(_) => ManagementId::CurrentDataSet,
            Self::ParentDataSet(_) => ManagementId::ParentDataSet,
            Self::TimePropertiesDataSet(_) => ManagementId::TimePropertiesDataSet,
            Self::PortDataSet(_) => ManagementId::PortDataSet,
            Self::TimeStatusNp(_) => ManagementId::TimeStatusNp,
            Self::PortPropertiesNp(_) => ManagementId::PortPropertiesNp,
            Self::UserDescription(_) => ManagementId::UserDescription,
            Self::Empty | Self::Scalar { .. } | Self::Raw(_) => return None,
        })
    }

    /// Whether this data field may follow `id`: a typed data set only
    /// with its own ID, a scalar only with a scalar ID, empty and raw
    /// data with any ID.
    #[must_use]
    pub fn fits(&self, id: ManagementId) -> bool {
        match self {
            Self::Empty | Self::Raw(_) => true,
            Self::Scalar { .. } => id.is_scalar(),
            typed => typed.fixed_id() == Some(id),
        }
    }

    /// Octets of the data field, before the pad octet the TLV adds when
    /// this is odd.
    #[must_use]
    pub const fn wire_len(&self) -> usize {
        match self {
            Self::Empty => 0,
            Self::DefaultDataSet(_) => DefaultDataSetTlv::WIRE_LEN,
            Self::CurrentDataSet(_) => CurrentDataSetTlv::WIRE_LEN,
            Self::ParentDataSet(_) => ParentDataSetTlv::WIRE_LEN,
            Self::TimePropertiesDataSet(_) => TimePropertiesDataSetTlv::WIRE_LEN,
            Self::PortDataSet(_) => PortDataSetTlv::WIRE_LEN,
            Self::TimeStatusNp(_) => TimeStatusNpTlv::WIRE_LEN,
            Self::PortPropertiesNp(p) => p.wire_len(),
            Self::UserDescription(t) => t.wire_len(),
            Self::Scalar { .. } => 2,
            Self::Raw(b) => b.len(),
        }
    }

    /// Parse the data field of `id` (see the type's documentation).
    pub fn parse(id: ManagementId, data: &'a [u8]) -> Result<Self> {
        if data.is_empty() {
            return Ok(Self::Empty);
        }
        Ok(match id {
            ManagementId::DefaultDataSet => Self::DefaultDataSet(DefaultDataSetTlv::read(data)?),
            ManagementId::CurrentDataSet => Self::CurrentDataSet(CurrentDataSetTlv::read(data)?),
            ManagementId::ParentDataSet => Self::ParentDataSet(ParentDataSetTlv::read(data)?),
            ManagementId::TimePropertiesDataSet => {
                Self::TimePropertiesDataSet(TimePropertiesDataSetTlv::read(data)?)
            }
            ManagementId::PortDataSet => Self::PortDataSet(PortDataSetTlv::read(data)?),
            ManagementId::TimeStatusNp => Self::TimeStatusNp(TimeStatusNpTlv::read(data)?),
            ManagementId::PortPropertiesNp => {
                Self::PortPropertiesNp(PortPropertiesNpTlv::read(data)?)
            }
            ManagementId::UserDescription => Self::UserDescription(
                PtpText::read(&mut Reader::new(data)).map_err(|_| Error::BadLength)?,
            ),
            id if id.is_scalar() => {
                let [value, _reserved] = *super::need::<2>(data)?;
                Self::Scalar { value }
            }
            _ => Self::Raw(data),
        })
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        match self {
            Self::Empty => Ok(()),
            Self::DefaultDataSet(d) => d.write(w),
            Self::CurrentDataSet(d) => d.write(w),
            Self::ParentDataSet(d) => d.write(w),
            Self::TimePropertiesDataSet(d) => d.write(w),
            Self::PortDataSet(d) => d.write(w),
            Self::TimeStatusNp(d) => d.write(w),
            Self::PortPropertiesNp(d) => d.write(w),
            Self::UserDescription(t) => t.write(w),
            Self::Scalar { value } => {
                w.u8(*value)?;
                w.u8(0)
            }
            Self::Raw(b) => w.bytes(b),
        }
    }
}

/// The MANAGEMENT TLV (IEEE 1588-2019 clause 15.5.2): tlvType 0x0001,
/// valueField = managementId (2 octets) and the dataField.
///
/// Emitting fails with [`Error::InvalidValue`] when the data does not fit
/// the ID ([`ManagementData::fits`]), or when a typed field is out of its
/// wire range. The writer pads an odd data field with one zero octet
/// (clause 15.5.2.4 wants an even dataField).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ManagementTlv<'a> {
    /// managementId (clause 15.5.2.3, table 59).
    pub management_id: ManagementId,
    /// dataField (clause 15.5.2.4).
    pub data: ManagementData<'a>,
}

impl<'a> ManagementTlv<'a> {
    /// A TLV without data, as in a GET request (lengthField 2).
    #[must_use]
    pub const fn empty(management_id: ManagementId) -> Self {
        Self {
            management_id,
            data: ManagementData::Empty,
        }
    }

    /// A TLV carrying a typed data set under its own ID; `None` for data
    /// that goes with several IDs ([`ManagementData::fixed_id`]).
    #[must_use]
    pub const fn with_data(data: ManagementData<'a>) -> Option<Self> {
        match data.fixed_id() {
            Some(management_id) => Some(Self {
                management_id,
                data,
            }),
            None => None,
        }
    }

    /// The first MANAGEMENT TLV of a message's TLVs, parsed; `None` if
    /// there is none.
    #[must_use]
    pub fn find(set: &TlvSet<'a>) -> Option<Result<Self>> {
        set.find(TlvType::Management).map(Self::parse)
    }
}

impl<'a> TlvRepr<'a> for ManagementTlv<'a> {
    fn tlv_type(&self) -> TlvType {
        TlvType::Management
    }

    fn value_len(&self) -> usize {
        2 + self.data.wire_len()
    }

    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        if !self.data.fits(self.management_id) {
            return Err(Error::InvalidValue);
        }
        let mut w = Writer::new(out);
        w.u16(self.management_id.into())?;
        self.data.write(&mut w)?;
        // Every octet of the declared length must have been written.
        if w.position() == self.value_len() {
            Ok(())
        } else {
            Err(Error::InvalidValue)
        }
    }

    fn parse_value(_: TlvType, value: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(value);
        let management_id = ManagementId::from(r.u16().map_err(|_| Error::BadLength)?);
        Ok(Self {
            management_id,
            data: ManagementData::parse(management_id, r.rest())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tlv::{TlvWriter, check_fixture};

    #[test]
    fn empty_get() {
        let bytes = [0x00, 0x01, 0x00, 0x02, 0x20, 0x00];
        check_fixture(&bytes, &ManagementTlv::empty(ManagementId::DefaultDataSet));
        assert_eq!(
            ManagementTlv::parse_value(TlvType::Management, &[0x20]),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn scalar() {
        let bytes = [0x00, 0x01, 0x00, 0x04, 0x20, 0x0B, 0xFD, 0x00];
        let t = ManagementTlv {
            management_id: ManagementId::LogSyncInterval,
            data: ManagementData::Scalar { value: -3i8 as u8 },
        };
        check_fixture(&bytes, &t);
        // Reserved octet ignored; a lone value octet is too short.
        let noisy = ManagementTlv::parse_value(TlvType::Management, &[0x20, 0x0B, 0xFD, 0x77]);
        assert_eq!(noisy, Ok(t));
        assert_eq!(
            ManagementTlv::parse_value(TlvType::Management, &[0x20, 0x05, 0x0A]),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn user_description() {
        let bytes = [
            0x00, 0x01, 0x00, 0x08, // length 8
            0x00, 0x02, // USER_DESCRIPTION
            0x05, b'r', b'a', b'c', b'k', b'1', // text, even: no pad
        ];
        let t = ManagementTlv {
            management_id: ManagementId::UserDescription,
            data: ManagementData::UserDescription(PtpText::new(b"rack1").unwrap()),
        };
        check_fixture(&bytes, &t);
        assert_eq!(ManagementTlv::with_data(t.data), Some(t));
        assert_eq!(
            ManagementTlv::parse_value(TlvType::Management, &[0x00, 0x02, 0x05, b'r']),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn raw_is_byte_exact() {
        let bytes = [0x00, 0x01, 0x00, 0x06, 0x20, 0x13, 0x08, 0xA0, 0x00, 0x00];
        let t = ManagementTlv {
            management_id: ManagementId::TimescaleProperties,
            data: ManagementData::Raw(&[0x08, 0xA0, 0x00, 0x00]),
        };
        check_fixture(&bytes, &t);
        let unknown = ManagementTlv::parse_value(TlvType::Management, &[0x7F, 0xFF, 1, 2]);
        assert_eq!(
            unknown.map(|t| (t.management_id, t.data)),
            Ok((ManagementId::Unknown(0x7FFF), ManagementData::Raw(&[1, 2])))
        );
    }

    #[test]
    fn data_must_fit_id() {
        let mut out = [0u8; 64];
        let mut w = TlvWriter::new(&mut out);
        let wrong = ManagementTlv {
            management_id: ManagementId::Priority1,
            data: ManagementData::CurrentDataSet(CurrentDataSetTlv::default()),
        };
        assert_eq!(w.push(&wrong), Err(Error::InvalidValue));
        let not_scalar = ManagementTlv {
            management_id: ManagementId::TimescaleProperties,
            data: ManagementData::Scalar { value: 1 },
        };
        assert_eq!(w.push(&not_scalar), Err(Error::InvalidValue));
        assert!(w.is_empty());
        assert_eq!(ManagementTlv::with_data(ManagementData::Empty), None);
        assert_eq!(ManagementData::Scalar { value: 0 }.fixed_id(), None);
    }

    #[test]
    fn find_in_set() {
        let bytes = [
            0x80, 0x08, 0x00, 0x00, // PAD first
            0x00, 0x01, 0x00, 0x04, 0x20, 0x07, 0x18, 0x00, // DOMAIN 24
        ];
        let set = TlvSet::parse(&bytes).unwrap();
        let t = ManagementTlv::find(&set).unwrap().unwrap();
        assert_eq!(t.management_id, ManagementId::Domain);
        assert_eq!(t.data, ManagementData::Scalar { value: 24 });
        assert!(ManagementErrorStatusTlv::find(&set).is_none());
        assert!(matches!(
            super::super::Tlv::parse(set.iter().nth(1).unwrap()),
            Ok(super::super::Tlv::Management(_))
        ));
    }

    #[test]
    fn enums() {
        assert_eq!(PortState::from(9), PortState::Slave);
        assert_eq!(PortState::from(10), PortState::Unknown(10));
        assert_eq!(u8::from(DelayMechanism::NoMechanism), 0xFE);
        assert_eq!(DelayMechanism::from(3), DelayMechanism::CommonP2p);
    }
}
