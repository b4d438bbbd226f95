//! Data fields of linuxptp's implementation-specific management IDs
//! (linuxptp extension, managementId range 0xC000-0xDFFF of IEEE 1588-2019
//! table 59) that this crate types: TIME_STATUS_NP and PORT_PROPERTIES_NP.
//!
//! They are big-endian like the standard's data sets (only PORT_STATS_NP,
//! kept raw, is in host byte order).

use super::{PortState, read_clock_identity, read_port_identity};
use crate::wire::macros::wire_enum;
use crate::wire::tlv::need;
use crate::wire::{ClockIdentity, Error, PortIdentity, PtpText, Reader, Result, Writer};

wire_enum! {
    /// The `timestamping` octet of PORT_PROPERTIES_NP (linuxptp extension):
    /// linuxptp's `enum timestamp_type`, the `time_stamping` option.
    pub enum TimestampType(u8) {
        /// `software`.
        Software = 0,
        /// `hardware`.
        Hardware = 1,
        /// `legacy` (hardware timestamps through SYS_HARDWARE).
        LegacyHardware = 2,
        /// `onestep`: one-step Sync.
        OneStep = 3,
        /// `p2p1step`: one-step Sync and Pdelay_Resp.
        P2p1Step = 4,
    }
}

/// The TIME_STATUS_NP data field (linuxptp extension, managementId 0xC000),
/// 50 octets: the servo's last offset plus the IEEE 802.1AS time status
/// (the Follow_Up information TLV fields) of the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TimeStatusNpTlv {
    /// master_offset: the last offset from the master, in ns.
    pub master_offset: i64,
    /// ingress_time: when the last Sync arrived, ns since the PTP epoch
    /// (0 if none).
    pub ingress_time: i64,
    /// cumulativeScaledRateOffset: (rateRatio - 1) * 2^41.
    pub cumulative_scaled_rate_offset: i32,
    /// scaledLastGmPhaseChange (IEEE 802.1AS naming; linuxptp's field).
    pub scaled_last_gm_phase_change: i32,
    /// gmTimeBaseIndicator.
    pub gm_time_base_indicator: u16,
    /// lastGmPhaseChange: a 96-bit ScaledNs (ns * 2^16), sign-extended;
    /// must lie in [-2^95, 2^95) to be emitted.
    pub last_gm_phase_change: i128,
    /// gmPresent, an Integer32 linuxptp sets to 0 or 1.
    pub gm_present: i32,
    /// gmIdentity: the grandmaster's clock identity.
    pub gm_identity: ClockIdentity,
}

impl TimeStatusNpTlv {
    /// Octets of the data field.
    pub const WIRE_LEN: usize = 50;

    /// Whether gmPresent is set (non-zero).
    #[must_use]
    pub const fn is_gm_present(&self) -> bool {
        self.gm_present != 0
    }

    pub(crate) fn read(data: &[u8]) -> Result<Self> {
        need::<{ Self::WIRE_LEN }>(data)?;
        let mut r = Reader::new(data);
        let master_offset = i64::from_be_bytes(*r.array::<8>()?);
        let ingress_time = i64::from_be_bytes(*r.array::<8>()?);
        let cumulative_scaled_rate_offset = r.u32()? as i32;
        let scaled_last_gm_phase_change = r.u32()? as i32;
        let gm_time_base_indicator = r.u16()?;
        let p = r.array::<12>()?;
        let sign = if p[0] & 0x80 != 0 { 0xFF } else { 0x00 };
        let last_gm_phase_change = i128::from_be_bytes([
            sign, sign, sign, sign, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9],
            p[10], p[11],
        ]);
        let gm_present = r.u32()? as i32;
        let gm_identity = read_clock_identity(&mut r)?;
        Ok(Self {
            master_offset,
            ingress_time,
            cumulative_scaled_rate_offset,
            scaled_last_gm_phase_change,
            gm_time_base_indicator,
            last_gm_phase_change,
            gm_present,
            gm_identity,
        })
    }

    /// Fails with [`Error::InvalidValue`] if lastGmPhaseChange does not fit
    /// 96 bits.
    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        const LIMIT: i128 = 1 << 95;
        if !(-LIMIT..LIMIT).contains(&self.last_gm_phase_change) {
            return Err(Error::InvalidValue);
        }
        w.bytes(&self.master_offset.to_be_bytes())?;
        w.bytes(&self.ingress_time.to_be_bytes())?;
        w.u32(self.cumulative_scaled_rate_offset as u32)?;
        w.u32(self.scaled_last_gm_phase_change as u32)?;
        w.u16(self.gm_time_base_indicator)?;
        let p = self.last_gm_phase_change.to_be_bytes();
        w.bytes(p.get(4..).ok_or(Error::InvalidValue)?)?;
        w.u32(self.gm_present as u32)?;
        w.bytes(&self.gm_identity.0)
    }
}

/// The PORT_PROPERTIES_NP data field (linuxptp extension, managementId
/// 0xC004): portIdentity, port state, timestamping mode and the interface
/// name as a PTPText; 13 octets or more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortPropertiesNpTlv<'a> {
    /// portIdentity.
    pub port_identity: PortIdentity,
    /// port_state (linuxptp reports GRAND_MASTER as MASTER).
    pub port_state: PortState,
    /// timestamping: linuxptp's time_stamping mode.
    pub timestamping: TimestampType,
    /// interface: the network interface name, such as "eth0".
    pub interface: PtpText<'a>,
}

impl<'a> PortPropertiesNpTlv<'a> {
    /// Octets of the data field before the interface text.
    pub const FIXED_LEN: usize = 12;

    /// Octets of the data field (before any pad octet).
    #[must_use]
    pub const fn wire_len(&self) -> usize {
        Self::FIXED_LEN + self.interface.wire_len()
    }

    pub(crate) fn read(data: &'a [u8]) -> Result<Self> {
        need::<13>(data)?; // FIXED_LEN + the text's length octet
        let mut r = Reader::new(data);
        let port_identity = read_port_identity(&mut r)?;
        let port_state = PortState::from(r.u8()?);
        let timestamping = TimestampType::from(r.u8()?);
        let interface = PtpText::read(&mut r).map_err(|_| Error::BadLength)?;
        Ok(Self {
            port_identity,
            port_state,
            timestamping,
            interface,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.port_identity.to_bytes())?;
        w.u8(self.port_state.into())?;
        w.u8(self.timestamping.into())?;
        self.interface.write(w)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ManagementData, ManagementId, ManagementTlv};
    use super::*;
    use crate::wire::tlv::{TlvRepr, TlvType, check_fixture};

    #[test]
    fn time_status_np() {
        let bytes = [
            0x00, 0x01, 0x00, 0x34, // MANAGEMENT, length 52
            0xC0, 0x00, // TIME_STATUS_NP
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x85, // master_offset -123
            0x18, 0x7A, 0x2B, 0x3C, 0x4D, 0x5E, 0x6F, 0x70, // ingress_time
            0x00, 0x00, 0x02, 0x00, // cumulativeScaledRateOffset 512
            0xFF, 0xFF, 0xFF, 0xFF, // scaledLastGmPhaseChange -1
            0x00, 0x07, // gmTimeBaseIndicator
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, // -2
            0x00, 0x00, 0x00, 0x01, // gmPresent
            0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x09, // gmIdentity
        ];
        let ts = TimeStatusNpTlv {
            master_offset: -123,
            ingress_time: 0x187A_2B3C_4D5E_6F70,
            cumulative_scaled_rate_offset: 512,
            scaled_last_gm_phase_change: -1,
            gm_time_base_indicator: 7,
            last_gm_phase_change: -2,
            gm_present: 1,
            gm_identity: ClockIdentity([0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x09]),
        };
        assert!(ts.is_gm_present());
        let t = ManagementTlv {
            management_id: ManagementId::TimeStatusNp,
            data: ManagementData::TimeStatusNp(ts),
        };
        check_fixture(&bytes, &t);
        assert_eq!(
            ManagementTlv::parse_value(TlvType::Management, &bytes[4..55]),
            Err(Error::BadLength)
        );
        let mut big = t;
        big.data = ManagementData::TimeStatusNp(TimeStatusNpTlv {
            last_gm_phase_change: 1 << 95,
            ..ts
        });
        let mut out = [0u8; 52];
        assert_eq!(big.emit_value(&mut out), Err(Error::InvalidValue));
    }

    #[test]
    fn port_properties_np() {
        let bytes = [
            0x00, 0x01, 0x00, 0x14, // MANAGEMENT, length 20 (19 + pad)
            0xC0, 0x04, // PORT_PROPERTIES_NP
            0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x01, 0x00, 0x01, // port
            0x06, // MASTER
            0x01, // hardware
            0x04, b'e', b't', b'h', b'0', // interface
            0x00, // pad
        ];
        let pp = PortPropertiesNpTlv {
            port_identity: PortIdentity {
                clock_identity: ClockIdentity([0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x01]),
                port_number: 1,
            },
            port_state: PortState::Master,
            timestamping: TimestampType::Hardware,
            interface: PtpText::new(b"eth0").unwrap(),
        };
        assert_eq!(pp.wire_len(), 17);
        check_fixture(
            &bytes,
            &ManagementTlv {
                management_id: ManagementId::PortPropertiesNp,
                data: ManagementData::PortPropertiesNp(pp),
            },
        );
        // The text runs past the data field.
        let mut cut = bytes;
        cut[18] = 6;
        assert_eq!(
            ManagementTlv::parse_value(TlvType::Management, &cut[4..]),
            Err(Error::BadLength)
        );
        // No room for the text's length octet.
        assert_eq!(
            ManagementTlv::parse_value(TlvType::Management, &bytes[4..18]),
            Err(Error::BadLength)
        );
        assert_eq!(TimestampType::from(9), TimestampType::Unknown(9));
    }
}
