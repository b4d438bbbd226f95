//! The data fields of the data-set management TLVs of IEEE 1588-2019
//! clause 15.5.3: DEFAULT_DATA_SET, CURRENT_DATA_SET, PARENT_DATA_SET,
//! TIME_PROPERTIES_DATA_SET and PORT_DATA_SET.
//!
//! Each is a fixed-size record; parsing needs at least that many octets
//! (else [`Error::BadLength`]) and ignores the rest (such as a pad octet).
//! Reserved fields and reserved flag bits are ignored on parse and written
//! as zero.

use super::{
    DelayMechanism, PortState, read_clock_identity, read_i8, read_interval, read_port_identity,
    read_quality, write_interval,
};
use crate::time::TimeInterval;
use crate::wire::tlv::need;
use crate::wire::{
    ClockIdentity, ClockQuality, Error, PortIdentity, Reader, Result, TimeSource, Writer,
};

/// Flag bits of the DEFAULT_DATA_SET flags octet (clause 15.5.3.3.1).
const DDS_TWO_STEP: u8 = 1 << 0;
const DDS_SLAVE_ONLY: u8 = 1 << 1;

/// Flag bits of the timePropertiesDS flags octet (clause 15.5.3.6.1); the
/// same positions as the header's flagField octet 1 (clause 13.3.2.8).
const TP_LEAP61: u8 = 1 << 0;
const TP_LEAP59: u8 = 1 << 1;
const TP_UTC_OFFSET_VALID: u8 = 1 << 2;
const TP_PTP_TIMESCALE: u8 = 1 << 3;
const TP_TIME_TRACEABLE: u8 = 1 << 4;
const TP_FREQUENCY_TRACEABLE: u8 = 1 << 5;

const fn bit(flags: u8, mask: u8) -> bool {
    flags & mask != 0
}

const fn set(on: bool, mask: u8) -> u8 {
    if on { mask } else { 0 }
}

/// The DEFAULT_DATA_SET data field (IEEE 1588-2019 clause 15.5.3.3.1): the
/// defaultDS members (clause 8.2.1), 20 octets.
///
/// Wire order: flags (bit 0 twoStepFlag, bit 1 slaveOnly), reserved,
/// numberPorts, priority1, clockQuality, priority2, clockIdentity,
/// domainNumber, reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct DefaultDataSetTlv {
    /// defaultDS.twoStepFlag (flags bit 0).
    pub two_step_flag: bool,
    /// defaultDS.slaveOnly (flags bit 1).
    pub slave_only: bool,
    /// defaultDS.numberPorts.
    pub number_ports: u16,
    /// defaultDS.priority1.
    pub priority1: u8,
    /// defaultDS.clockQuality.
    pub clock_quality: ClockQuality,
    /// defaultDS.priority2.
    pub priority2: u8,
    /// defaultDS.clockIdentity.
    pub clock_identity: ClockIdentity,
    /// defaultDS.domainNumber.
    pub domain_number: u8,
}

impl DefaultDataSetTlv {
    /// Octets of the data field.
    pub const WIRE_LEN: usize = 20;

    pub(crate) fn read(data: &[u8]) -> Result<Self> {
        need::<{ Self::WIRE_LEN }>(data)?;
        let mut r = Reader::new(data);
        let flags = r.u8()?;
        r.u8()?; // reserved
        Ok(Self {
            two_step_flag: bit(flags, DDS_TWO_STEP),
            slave_only: bit(flags, DDS_SLAVE_ONLY),
            number_ports: r.u16()?,
            priority1: r.u8()?,
            clock_quality: read_quality(&mut r)?,
            priority2: r.u8()?,
            clock_identity: read_clock_identity(&mut r)?,
            domain_number: r.u8()?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        w.u8(set(self.two_step_flag, DDS_TWO_STEP) | set(self.slave_only, DDS_SLAVE_ONLY))?;
        w.u8(0)?;
        w.u16(self.number_ports)?;
        w.u8(self.priority1)?;
        w.bytes(&self.clock_quality.to_bytes())?;
        w.u8(self.priority2)?;
        w.bytes(&self.clock_identity.0)?;
        w.u8(self.domain_number)?;
        w.u8(0)
    }
}

/// The CURRENT_DATA_SET data field (IEEE 1588-2019 clause 15.5.3.4.1): the
/// currentDS members (clause 8.2.2), 18 octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CurrentDataSetTlv {
    /// currentDS.stepsRemoved.
    pub steps_removed: u16,
    /// currentDS.offsetFromMaster (TimeInterval, ns * 2^16).
    pub offset_from_master: TimeInterval,
    /// currentDS.meanPathDelay (TimeInterval, ns * 2^16).
    pub mean_path_delay: TimeInterval,
}

impl CurrentDataSetTlv {
    /// Octets of the data field.
    pub const WIRE_LEN: usize = 18;

    pub(crate) fn read(data: &[u8]) -> Result<Self> {
        need::<{ Self::WIRE_LEN }>(data)?;
        let mut r = Reader::new(data);
        Ok(Self {
            steps_removed: r.u16()?,
            offset_from_master: read_interval(&mut r)?,
            mean_path_delay: read_interval(&mut r)?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        w.u16(self.steps_removed)?;
        write_interval(w, self.offset_from_master)?;
        write_interval(w, self.mean_path_delay)
    }
}

/// The PARENT_DATA_SET data field (IEEE 1588-2019 clause 15.5.3.5.1): the
/// parentDS members (clause 8.2.3), 32 octets.
///
/// Wire order: parentPortIdentity, flags (bit 0 parentStats), reserved,
/// observedParentOffsetScaledLogVariance,
/// observedParentClockPhaseChangeRate, grandmasterPriority1,
/// grandmasterClockQuality, grandmasterPriority2, grandmasterIdentity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ParentDataSetTlv {
    /// parentDS.parentPortIdentity.
    pub parent_port_identity: PortIdentity,
    /// parentDS.parentStats (flags bit 0).
    pub parent_stats: bool,
    /// parentDS.observedParentOffsetScaledLogVariance.
    pub observed_parent_offset_scaled_log_variance: u16,
    /// parentDS.observedParentClockPhaseChangeRate.
    pub observed_parent_clock_phase_change_rate: i32,
    /// parentDS.grandmasterPriority1.
    pub grandmaster_priority1: u8,
    /// parentDS.grandmasterClockQuality.
    pub grandmaster_clock_quality: ClockQuality,
    /// parentDS.grandmasterPriority2.
    pub grandmaster_priority2: u8,
    /// parentDS.grandmasterIdentity.
    pub grandmaster_identity: ClockIdentity,
}

impl ParentDataSetTlv {
    /// Octets of the data field.
    pub const WIRE_LEN: usize = 32;

    pub(crate) fn read(data: &[u8]) -> Result<Self> {
        need::<{ Self::WIRE_LEN }>(data)?;
        let mut r = Reader::new(data);
        let parent_port_identity = read_port_identity(&mut r)?;
        let flags = r.u8()?;
        r.u8()?; // reserved
        Ok(Self {
            parent_port_identity,
            parent_stats: bit(flags, 1),
            observed_parent_offset_scaled_log_variance: r.u16()?,
            observed_parent_clock_phase_change_rate: r.u32()? as i32,
            grandmaster_priority1: r.u8()?,
            grandmaster_clock_quality: read_quality(&mut r)?,
            grandmaster_priority2: r.u8()?,
            grandmaster_identity: read_clock_identity(&mut r)?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.parent_port_identity.to_bytes())?;
        w.u8(u8::from(self.parent_stats))?;
        w.u8(0)?;
        w.u16(self.observed_parent_offset_scaled_log_variance)?;
        w.u32(self.observed_parent_clock_phase_change_rate as u32)?;
        w.u8(self.grandmaster_priority1)?;
        w.bytes(&self.grandmaster_clock_quality.to_bytes())?;
        w.u8(self.grandmaster_priority2)?;
        w.bytes(&self.grandmaster_identity.0)
    }
}

/// The TIME_PROPERTIES_DATA_SET data field (IEEE 1588-2019 clause
/// 15.5.3.6.1): the timePropertiesDS members (clause 8.2.4), 4 octets:
/// currentUtcOffset, flags, timeSource.
///
/// The flag bits sit where the header's flagField octet 1 has them
/// (clause 13.3.2.8): bit 0 leap61, 1 leap59, 2 currentUtcOffsetValid,
/// 3 ptpTimescale, 4 timeTraceable, 5 frequencyTraceable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TimePropertiesDataSetTlv {
    /// timePropertiesDS.currentUtcOffset in seconds.
    pub current_utc_offset: i16,
    /// timePropertiesDS.leap61 (bit 0).
    pub leap61: bool,
    /// timePropertiesDS.leap59 (bit 1).
    pub leap59: bool,
    /// timePropertiesDS.currentUtcOffsetValid (bit 2).
    pub current_utc_offset_valid: bool,
    /// timePropertiesDS.ptpTimescale (bit 3).
    pub ptp_timescale: bool,
    /// timePropertiesDS.timeTraceable (bit 4).
    pub time_traceable: bool,
    /// timePropertiesDS.frequencyTraceable (bit 5).
    pub frequency_traceable: bool,
    /// timePropertiesDS.timeSource.
    pub time_source: TimeSource,
}

impl TimePropertiesDataSetTlv {
    /// Octets of the data field.
    pub const WIRE_LEN: usize = 4;

    pub(crate) fn read(data: &[u8]) -> Result<Self> {
        let b = need::<{ Self::WIRE_LEN }>(data)?;
        let flags = b[2];
        Ok(Self {
            current_utc_offset: i16::from_be_bytes([b[0], b[1]]),
            leap61: bit(flags, TP_LEAP61),
            leap59: bit(flags, TP_LEAP59),
            current_utc_offset_valid: bit(flags, TP_UTC_OFFSET_VALID),
            ptp_timescale: bit(flags, TP_PTP_TIMESCALE),
            time_traceable: bit(flags, TP_TIME_TRACEABLE),
            frequency_traceable: bit(flags, TP_FREQUENCY_TRACEABLE),
            time_source: TimeSource::from(b[3]),
        })
    }

    /// The flags octet.
    #[must_use]
    pub const fn flags(&self) -> u8 {
        set(self.leap61, TP_LEAP61)
            | set(self.leap59, TP_LEAP59)
            | set(self.current_utc_offset_valid, TP_UTC_OFFSET_VALID)
            | set(self.ptp_timescale, TP_PTP_TIMESCALE)
            | set(self.time_traceable, TP_TIME_TRACEABLE)
            | set(self.frequency_traceable, TP_FREQUENCY_TRACEABLE)
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.current_utc_offset.to_be_bytes())?;
        w.u8(self.flags())?;
        w.u8(self.time_source.into())
    }
}

/// The PORT_DATA_SET data field (IEEE 1588-2019 clause 15.5.3.7.1): the
/// portDS members (clause 8.2.15), 26 octets.
///
/// Wire order: portIdentity, portState, logMinDelayReqInterval,
/// peerMeanPathDelay, logAnnounceInterval, announceReceiptTimeout,
/// logSyncInterval, delayMechanism, logMinPdelayReqInterval, and one octet
/// holding versionNumber (low nibble) and minorVersionNumber (high nibble).
/// linuxptp 3.1.1 sends exactly this 26-octet layout (no pad, no reserved
/// octets) with a version octet of 0x02.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortDataSetTlv {
    /// portDS.portIdentity.
    pub port_identity: PortIdentity,
    /// portDS.portState.
    pub port_state: PortState,
    /// portDS.logMinDelayReqInterval.
    pub log_min_delay_req_interval: i8,
    /// portDS.peerMeanPathDelay (TimeInterval, ns * 2^16).
    pub peer_mean_path_delay: TimeInterval,
    /// portDS.logAnnounceInterval.
    pub log_announce_interval: i8,
    /// portDS.announceReceiptTimeout.
    pub announce_receipt_timeout: u8,
    /// portDS.logSyncInterval.
    pub log_sync_interval: i8,
    /// portDS.delayMechanism.
    pub delay_mechanism: DelayMechanism,
    /// portDS.logMinPdelayReqInterval.
    pub log_min_pdelay_req_interval: i8,
    /// portDS.versionNumber (low nibble of the last octet, 0 to 15).
    pub version_number: u8,
    /// portDS.minorVersionNumber (high nibble of the last octet, 0 to 15).
    pub minor_version_number: u8,
}

impl PortDataSetTlv {
    /// Octets of the data field.
    pub const WIRE_LEN: usize = 26;

    pub(crate) fn read(data: &[u8]) -> Result<Self> {
        need::<{ Self::WIRE_LEN }>(data)?;
        let mut r = Reader::new(data);
        let port_identity = read_port_identity(&mut r)?;
        let port_state = PortState::from(r.u8()?);
        let log_min_delay_req_interval = read_i8(&mut r)?;
        let peer_mean_path_delay = read_interval(&mut r)?;
        let log_announce_interval = read_i8(&mut r)?;
        let announce_receipt_timeout = r.u8()?;
        let log_sync_interval = read_i8(&mut r)?;
        let delay_mechanism = DelayMechanism::from(r.u8()?);
        let log_min_pdelay_req_interval = read_i8(&mut r)?;
        let version = r.u8()?;
        Ok(Self {
            port_identity,
            port_state,
            log_min_delay_req_interval,
            peer_mean_path_delay,
            log_announce_interval,
            announce_receipt_timeout,
            log_sync_interval,
            delay_mechanism,
            log_min_pdelay_req_interval,
            version_number: version & 0x0F,
            minor_version_number: version >> 4,
        })
    }

    /// Fails with [`Error::InvalidValue`] if a version number exceeds 4 bits.
    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        if self.version_number > 0x0F || self.minor_version_number > 0x0F {
            return Err(Error::InvalidValue);
        }
        w.bytes(&self.port_identity.to_bytes())?;
        w.u8(self.port_state.into())?;
        w.u8(self.log_min_delay_req_interval as u8)?;
        write_interval(w, self.peer_mean_path_delay)?;
        w.u8(self.log_announce_interval as u8)?;
        w.u8(self.announce_receipt_timeout)?;
        w.u8(self.log_sync_interval as u8)?;
        w.u8(self.delay_mechanism.into())?;
        w.u8(self.log_min_pdelay_req_interval as u8)?;
        w.u8(self.minor_version_number << 4 | self.version_number)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ManagementData, ManagementId, ManagementTlv};
    use super::*;
    use crate::wire::ClockAccuracy;
    use crate::wire::tlv::{TlvRepr, TlvType, check_fixture};

    fn tlv(management_id: ManagementId, data: ManagementData<'_>) -> ManagementTlv<'_> {
        ManagementTlv {
            management_id,
            data,
        }
    }

    #[test]
    fn default_data_set() {
        let bytes = [
            0x00, 0x01, 0x00, 0x16, // MANAGEMENT, length 22
            0x20, 0x00, // DEFAULT_DATA_SET
            0x03, 0x00, // twoStep | slaveOnly, reserved
            0x00, 0x02, // numberPorts 2
            0x7F, // priority1
            0x06, 0x21, 0x4E, 0x5D, // clockQuality
            0x80, // priority2
            0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x01, // clockIdentity
            0x18, 0x00, // domain 24, reserved
        ];
        let ds = DefaultDataSetTlv {
            two_step_flag: true,
            slave_only: true,
            number_ports: 2,
            priority1: 127,
            clock_quality: ClockQuality {
                clock_class: 6,
                clock_accuracy: ClockAccuracy::Ns100,
                offset_scaled_log_variance: 0x4E5D,
            },
            priority2: 128,
            clock_identity: ClockIdentity([0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x01]),
            domain_number: 24,
        };
        check_fixture(
            &bytes,
            &tlv(
                ManagementId::DefaultDataSet,
                ManagementData::DefaultDataSet(ds),
            ),
        );
        // Reserved octets and flag bits are ignored on parse.
        let mut noisy = bytes;
        noisy[6] |= 0xF0;
        noisy[7] = 0xAA;
        noisy[25] = 0x55;
        let parsed = ManagementTlv::parse_value(TlvType::Management, &noisy[4..]).unwrap();
        assert_eq!(parsed.data, ManagementData::DefaultDataSet(ds));
        // One octet short.
        assert_eq!(
            ManagementTlv::parse_value(TlvType::Management, &bytes[4..25]),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn current_data_set() {
        let bytes = [
            0x00, 0x01, 0x00, 0x14, // MANAGEMENT, length 20
            0x20, 0x01, // CURRENT_DATA_SET
            0x00, 0x01, // stepsRemoved 1
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0x00, // -0.5 ns
            0x00, 0x00, 0x00, 0x00, 0x03, 0xE8, 0x00, 0x00, // 1000 ns
        ];
        let ds = CurrentDataSetTlv {
            steps_removed: 1,
            offset_from_master: TimeInterval::from_bits(-0x8000),
            mean_path_delay: TimeInterval::from_nanos(1000),
        };
        check_fixture(
            &bytes,
            &tlv(
                ManagementId::CurrentDataSet,
                ManagementData::CurrentDataSet(ds),
            ),
        );
        assert_eq!(
            ManagementTlv::parse_value(TlvType::Management, &bytes[4..21]),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn parent_data_set() {
        let bytes = [
            0x00, 0x01, 0x00, 0x22, // MANAGEMENT, length 34
            0x20, 0x02, // PARENT_DATA_SET
            0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x02, 0x00, 0x03, // parent port
            0x01, 0x00, // parentStats, reserved
            0x12, 0x34, // observed variance
            0xFF, 0xFF, 0xFF, 0xFE, // observed phase change rate -2
            0x05, // gm priority1
            0x07, 0xFE, 0xFF, 0xFF, // gm clockQuality
            0x09, // gm priority2
            0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x03, // gm identity
        ];
        let ds = ParentDataSetTlv {
            parent_port_identity: PortIdentity {
                clock_identity: ClockIdentity([0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x02]),
                port_number: 3,
            },
            parent_stats: true,
            observed_parent_offset_scaled_log_variance: 0x1234,
            observed_parent_clock_phase_change_rate: -2,
            grandmaster_priority1: 5,
            grandmaster_clock_quality: ClockQuality {
                clock_class: 7,
                clock_accuracy: ClockAccuracy::UnknownAccuracy,
                offset_scaled_log_variance: 0xFFFF,
            },
            grandmaster_priority2: 9,
            grandmaster_identity: ClockIdentity([0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x03]),
        };
        check_fixture(
            &bytes,
            &tlv(
                ManagementId::ParentDataSet,
                ManagementData::ParentDataSet(ds),
            ),
        );
        assert_eq!(
            ManagementTlv::parse_value(TlvType::Management, &bytes[4..37]),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn time_properties_data_set() {
        let bytes = [
            0x00, 0x01, 0x00, 0x06, // MANAGEMENT, length 6
            0x20, 0x03, // TIME_PROPERTIES_DATA_SET
            0x00, 0x25, // currentUtcOffset 37
            0x3D, // leap61, valid, timescale, time+freq traceable
            0x20, // GNSS
        ];
        let ds = TimePropertiesDataSetTlv {
            current_utc_offset: 37,
            leap61: true,
            leap59: false,
            current_utc_offset_valid: true,
            ptp_timescale: true,
            time_traceable: true,
            frequency_traceable: true,
            time_source: TimeSource::Gnss,
        };
        assert_eq!(ds.flags(), 0x3D);
        check_fixture(
            &bytes,
            &tlv(
                ManagementId::TimePropertiesDataSet,
                ManagementData::TimePropertiesDataSet(ds),
            ),
        );
        assert_eq!(
            ManagementTlv::parse_value(TlvType::Management, &bytes[4..9]),
            Err(Error::BadLength)
        );
    }

    fn port_ds() -> PortDataSetTlv {
        PortDataSetTlv {
            port_identity: PortIdentity {
                clock_identity: ClockIdentity([0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x01]),
                port_number: 1,
            },
            port_state: PortState::Slave,
            log_min_delay_req_interval: -4,
            peer_mean_path_delay: TimeInterval::from_nanos(250),
            log_announce_interval: 1,
            announce_receipt_timeout: 3,
            log_sync_interval: -3,
            delay_mechanism: DelayMechanism::P2p,
            log_min_pdelay_req_interval: 0,
            version_number: 2,
            minor_version_number: 1,
        }
    }

    #[test]
    fn port_data_set() {
        let bytes = [
            0x00, 0x01, 0x00, 0x1C, // MANAGEMENT, length 28
            0x20, 0x04, // PORT_DATA_SET
            0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x01, 0x00, 0x01, // port
            0x09, // SLAVE
            0xFC, // logMinDelayReqInterval -4
            0x00, 0x00, 0x00, 0x00, 0x00, 0xFA, 0x00, 0x00, // 250 ns
            0x01, 0x03, 0xFD, // announce 1, timeout 3, sync -3
            0x02, // P2P
            0x00, // logMinPdelayReqInterval
            0x12, // minor 1, version 2
        ];
        check_fixture(
            &bytes,
            &tlv(
                ManagementId::PortDataSet,
                ManagementData::PortDataSet(port_ds()),
            ),
        );
        assert_eq!(
            ManagementTlv::parse_value(TlvType::Management, &bytes[4..31]),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn port_data_set_version_nibbles_checked() {
        let mut ds = port_ds();
        ds.version_number = 16;
        let t = tlv(ManagementId::PortDataSet, ManagementData::PortDataSet(ds));
        let mut out = [0u8; 64];
        assert_eq!(
            t.emit_value(&mut out[..t.value_len()]),
            Err(Error::InvalidValue)
        );
    }
}
