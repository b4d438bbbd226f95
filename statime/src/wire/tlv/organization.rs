//! ORGANIZATION_EXTENSION TLVs (IEEE 1588-2019 clause 14.3) and the IEEE
//! 802.1AS Follow_Up information TLV built on them.

use super::{TlvRepr, TlvType, need};
use crate::wire::{Error, Result};

/// An organization extension TLV (clause 14.3): an OUI or CID, a subtype
/// chosen by that organization, and its data.
///
/// The tlvType is one of ORGANIZATION_EXTENSION (0x0003, the 2008 code
/// point still used by IEEE 802.1AS and C37.238),
/// ORGANIZATION_EXTENSION_PROPAGATE (0x4000) or
/// ORGANIZATION_EXTENSION_DO_NOT_PROPAGATE (0x8000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrganizationExtensionTlv<'a> {
    /// tlvType (one of the three organization extension code points).
    pub tlv_type: TlvType,
    /// organizationId (clause 14.3.2.2): OUI or CID, 3 octets.
    pub organization_id: [u8; 3],
    /// organizationSubType (clause 14.3.2.3), 3 octets.
    pub organization_sub_type: [u8; 3],
    /// dataField (clause 14.3.2.4).
    pub data: &'a [u8],
}

impl<'a> TlvRepr<'a> for OrganizationExtensionTlv<'a> {
    fn tlv_type(&self) -> TlvType {
        self.tlv_type
    }

    fn value_len(&self) -> usize {
        6 + self.data.len()
    }

    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        let out = out
            .get_mut(..self.value_len())
            .ok_or(Error::BufferTooSmall)?;
        let (head, data) = out.split_at_mut(6);
        head[..3].copy_from_slice(&self.organization_id);
        head[3..].copy_from_slice(&self.organization_sub_type);
        data.copy_from_slice(self.data);
        Ok(())
    }

    fn parse_value(tlv_type: TlvType, value: &'a [u8]) -> Result<Self> {
        let (head, data) = value.split_first_chunk::<6>().ok_or(Error::BadLength)?;
        Ok(Self {
            tlv_type,
            organization_id: [head[0], head[1], head[2]],
            organization_sub_type: [head[3], head[4], head[5]],
            data,
        })
    }
}

/// The IEEE 802.1AS Follow_Up information TLV (802.1AS-2020 clause
/// 11.4.4.3): an organization extension with OUI 00-80-C2 and subtype 1,
/// carried in every gPTP Follow_Up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct FollowUpInformationTlv {
    /// cumulativeScaledRateOffset: (rateRatio - 1) * 2^41.
    pub cumulative_scaled_rate_offset: i32,
    /// gmTimeBaseIndicator.
    pub gm_time_base_indicator: u16,
    /// lastGmPhaseChange: a 96-bit ScaledNs (ns * 2^16), sign-extended.
    pub last_gm_phase_change: i128,
    /// scaledLastGmFreqChange: fractional frequency change * 2^41.
    pub scaled_last_gm_freq_change: i32,
}

impl FollowUpInformationTlv {
    /// The IEEE 802.1 OUI.
    pub const ORGANIZATION_ID: [u8; 3] = [0x00, 0x80, 0xC2];
    /// The Follow_Up information subtype.
    pub const ORGANIZATION_SUB_TYPE: [u8; 3] = [0x00, 0x00, 0x01];

    /// cumulativeScaledRateOffset as a rate ratio.
    #[must_use]
    pub fn rate_ratio(&self) -> f64 {
        1.0 + f64::from(self.cumulative_scaled_rate_offset) / (1u64 << 41) as f64
    }
}

impl TlvRepr<'_> for FollowUpInformationTlv {
    fn tlv_type(&self) -> TlvType {
        TlvType::OrganizationExtension
    }

    fn value_len(&self) -> usize {
        28
    }

    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        const LIMIT: i128 = 1 << 95;
        if !(-LIMIT..LIMIT).contains(&self.last_gm_phase_change) {
            return Err(Error::InvalidValue);
        }
        let out = out.first_chunk_mut::<28>().ok_or(Error::BufferTooSmall)?;
        out[..3].copy_from_slice(&Self::ORGANIZATION_ID);
        out[3..6].copy_from_slice(&Self::ORGANIZATION_SUB_TYPE);
        out[6..10].copy_from_slice(&self.cumulative_scaled_rate_offset.to_be_bytes());
        out[10..12].copy_from_slice(&self.gm_time_base_indicator.to_be_bytes());
        out[12..24].copy_from_slice(&self.last_gm_phase_change.to_be_bytes()[4..]);
        out[24..28].copy_from_slice(&self.scaled_last_gm_freq_change.to_be_bytes());
        Ok(())
    }

    fn parse_value(tlv_type: TlvType, value: &[u8]) -> Result<Self> {
        let v = need::<28>(value)?;
        if tlv_type != TlvType::OrganizationExtension
            || v[..3] != Self::ORGANIZATION_ID
            || v[3..6] != Self::ORGANIZATION_SUB_TYPE
        {
            return Err(Error::InvalidValue);
        }
        let sign = if v[12] & 0x80 != 0 { 0xFF } else { 0x00 };
        let phase = i128::from_be_bytes([
            sign, sign, sign, sign, v[12], v[13], v[14], v[15], v[16], v[17], v[18], v[19], v[20],
            v[21], v[22], v[23],
        ]);
        Ok(Self {
            cumulative_scaled_rate_offset: i32::from_be_bytes([v[6], v[7], v[8], v[9]]),
            gm_time_base_indicator: u16::from_be_bytes([v[10], v[11]]),
            last_gm_phase_change: phase,
            scaled_last_gm_freq_change: i32::from_be_bytes([v[24], v[25], v[26], v[27]]),
        })
    }
}

/// Which edition of IEEE C37.238 (the power profile) a
/// [`PowerProfileTlv`] follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PowerProfileVersion {
    /// IEEE C37.238-2011: grandmaster and network time inaccuracy.
    V2011,
    /// IEEE C37.238-2017: total time inaccuracy.
    V2017,
}

/// The IEEE C37.238 power profile TLV of Announce messages: an organization
/// extension with OUI 1C-12-9D, subtype 1 (2011 edition) or 2 (2017),
/// naming the grandmaster by a profile-specific number and stating the
/// time inaccuracy (ns; 0xFFFF_FFFF is unknown).
///
/// Octets after the subtype: grandmasterID (2), then for 2011
/// grandmasterTimeInaccuracy (4) and networkTimeInaccuracy (4), for 2017 a
/// reserved word (4) and totalTimeInaccuracy (4); then 2 octets of padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PowerProfileTlv {
    /// The edition.
    pub version: PowerProfileVersion,
    /// grandmasterID: a non-zero number for the grandmaster, chosen by the
    /// operator (not its clockIdentity).
    pub grandmaster_id: u16,
    /// 2011: grandmasterTimeInaccuracy; 2017: totalTimeInaccuracy (ns).
    pub time_inaccuracy: u32,
    /// 2011: networkTimeInaccuracy (ns); 2017: not sent (0).
    pub network_time_inaccuracy: u32,
}

impl PowerProfileTlv {
    /// The OUI of IEEE C37.238.
    pub const ORGANIZATION_ID: [u8; 3] = [0x1C, 0x12, 0x9D];
    /// An unknown inaccuracy.
    pub const UNKNOWN: u32 = 0xFFFF_FFFF;

    const fn sub_type(version: PowerProfileVersion) -> [u8; 3] {
        match version {
            PowerProfileVersion::V2011 => [0, 0, 1],
            PowerProfileVersion::V2017 => [0, 0, 2],
        }
    }
}

impl TlvRepr<'_> for PowerProfileTlv {
    fn tlv_type(&self) -> TlvType {
        TlvType::OrganizationExtension
    }

    fn value_len(&self) -> usize {
        18
    }

    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        let out = out.first_chunk_mut::<18>().ok_or(Error::BufferTooSmall)?;
        out[..3].copy_from_slice(&Self::ORGANIZATION_ID);
        out[3..6].copy_from_slice(&Self::sub_type(self.version));
        out[6..8].copy_from_slice(&self.grandmaster_id.to_be_bytes());
        let (first, second) = match self.version {
            PowerProfileVersion::V2011 => (self.time_inaccuracy, self.network_time_inaccuracy),
            PowerProfileVersion::V2017 => (0, self.time_inaccuracy),
        };
        out[8..12].copy_from_slice(&first.to_be_bytes());
        out[12..16].copy_from_slice(&second.to_be_bytes());
        out[16..18].fill(0);
        Ok(())
    }

    fn parse_value(tlv_type: TlvType, value: &[u8]) -> Result<Self> {
        let v = need::<18>(value)?;
        if tlv_type != TlvType::OrganizationExtension || v[..3] != Self::ORGANIZATION_ID {
            return Err(Error::InvalidValue);
        }
        let version = match [v[3], v[4], v[5]] {
            [0, 0, 1] => PowerProfileVersion::V2011,
            [0, 0, 2] => PowerProfileVersion::V2017,
            _ => return Err(Error::InvalidValue),
        };
        let first = u32::from_be_bytes([v[8], v[9], v[10], v[11]]);
        let second = u32::from_be_bytes([v[12], v[13], v[14], v[15]]);
        let (time_inaccuracy, network_time_inaccuracy) = match version {
            PowerProfileVersion::V2011 => (first, second),
            PowerProfileVersion::V2017 => (second, 0),
        };
        Ok(Self {
            version,
            grandmaster_id: u16::from_be_bytes([v[6], v[7]]),
            time_inaccuracy,
            network_time_inaccuracy,
        })
    }
}

/// The SMPTE ST 2059-2 synchronization metadata TLV (version 1): what a
/// broadcast grandmaster tells its slaves about the video timescale:
/// frame rate, its locking status, the local time offset and its next
/// change, and the daily jam of time code. Sent in a Management message
/// (actionField COMMAND, to every port) as an ORGANIZATION_EXTENSION TLV
/// of the SMPTE OUI 68-97-E8, subtype 1; 48 octets of value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SmpteSyncMetadataTlv {
    /// defaultSystemFrameRate numerator (30000 for 29.97 Hz).
    pub frame_rate_numerator: u32,
    /// defaultSystemFrameRate denominator (1001 for 29.97 Hz).
    pub frame_rate_denominator: u32,
    /// masterLockingStatus: 0 not in use, 1 free run, 2 cold locking, 3
    /// warm locking, 4 locked.
    pub master_locking_status: u8,
    /// timeAddressFlags: bit 0 drop frame, bit 1 color frame identification.
    pub time_address_flags: u8,
    /// currentLocalOffset: local time minus PTP time's UTC, seconds.
    pub current_local_offset: i32,
    /// jumpSeconds: the change of the local offset at the next jump.
    pub jump_seconds: i32,
    /// timeOfNextJump, PTP seconds (48 bits).
    pub time_of_next_jump: u64,
    /// timeOfNextJam, PTP seconds (48 bits).
    pub time_of_next_jam: u64,
    /// timeOfPreviousJam, PTP seconds (48 bits).
    pub time_of_previous_jam: u64,
    /// previousJamLocalOffset, seconds.
    pub previous_jam_local_offset: i32,
    /// daylightSaving: bit 0 now, bit 1 after the next jump, bit 2 at the
    /// previous jam.
    pub daylight_saving: u8,
    /// leapSecondJump: bit 0, the number of leap seconds changes at the next
    /// jump.
    pub leap_second_jump: u8,
}

impl SmpteSyncMetadataTlv {
    /// The OUI of SMPTE.
    pub const ORGANIZATION_ID: [u8; 3] = [0x68, 0x97, 0xE8];
    /// Version 1 of the synchronization metadata.
    pub const ORGANIZATION_SUB_TYPE: [u8; 3] = [0, 0, 1];
    const MAX_48: u64 = (1 << 48) - 1;
}

impl TlvRepr<'_> for SmpteSyncMetadataTlv {
    fn tlv_type(&self) -> TlvType {
        TlvType::OrganizationExtension
    }

    fn value_len(&self) -> usize {
        48
    }

    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        if [
            self.time_of_next_jump,
            self.time_of_next_jam,
            self.time_of_previous_jam,
        ]
        .iter()
        .any(|t| *t > Self::MAX_48)
        {
            return Err(Error::InvalidValue);
        }
        let out = out.get_mut(..48).ok_or(Error::BufferTooSmall)?;
        out[..3].copy_from_slice(&Self::ORGANIZATION_ID);
        out[3..6].copy_from_slice(&Self::ORGANIZATION_SUB_TYPE);
        out[6..10].copy_from_slice(&self.frame_rate_numerator.to_be_bytes());
        out[10..14].copy_from_slice(&self.frame_rate_denominator.to_be_bytes());
        out[14] = self.master_locking_status;
        out[15] = self.time_address_flags;
        out[16..20].copy_from_slice(&self.current_local_offset.to_be_bytes());
        out[20..24].copy_from_slice(&self.jump_seconds.to_be_bytes());
        out[24..30].copy_from_slice(&self.time_of_next_jump.to_be_bytes()[2..]);
        out[30..36].copy_from_slice(&self.time_of_next_jam.to_be_bytes()[2..]);
        out[36..42].copy_from_slice(&self.time_of_previous_jam.to_be_bytes()[2..]);
        out[42..46].copy_from_slice(&self.previous_jam_local_offset.to_be_bytes());
        out[46] = self.daylight_saving;
        out[47] = self.leap_second_jump;
        Ok(())
    }

    fn parse_value(tlv_type: TlvType, value: &[u8]) -> Result<Self> {
        let v = need::<48>(value)?;
        if tlv_type != TlvType::OrganizationExtension
            || v[..3] != Self::ORGANIZATION_ID
            || v[3..6] != Self::ORGANIZATION_SUB_TYPE
        {
            return Err(Error::InvalidValue);
        }
        let u32_at = |i: usize| u32::from_be_bytes([v[i], v[i + 1], v[i + 2], v[i + 3]]);
        let u48_at = |i: usize| {
            u64::from_be_bytes([0, 0, v[i], v[i + 1], v[i + 2], v[i + 3], v[i + 4], v[i + 5]])
        };
        Ok(Self {
            frame_rate_numerator: u32_at(6),
            frame_rate_denominator: u32_at(10),
            master_locking_status: v[14],
            time_address_flags: v[15],
            current_local_offset: u32_at(16) as i32,
            jump_seconds: u32_at(20) as i32,
            time_of_next_jump: u48_at(24),
            time_of_next_jam: u48_at(30),
            time_of_previous_jam: u48_at(36),
            previous_jam_local_offset: u32_at(42) as i32,
            daylight_saving: v[46],
            leap_second_jump: v[47],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::check_fixture;
    use super::*;

    #[test]
    fn smpte_sync_metadata() {
        extern crate std;
        use std::vec;
        // 29.97 Hz drop frame, locked, CET (+3600 s) switching to CEST
        // (+3600 more) at PTP second 0x0000_6A0B_1C00, daily jam.
        let mut bytes = vec![0x00, 0x03, 0x00, 0x30, 0x68, 0x97, 0xE8, 0x00, 0x00, 0x01];
        bytes.extend_from_slice(&30_000u32.to_be_bytes());
        bytes.extend_from_slice(&1001u32.to_be_bytes());
        bytes.extend_from_slice(&[4, 0x01]);
        bytes.extend_from_slice(&3600i32.to_be_bytes());
        bytes.extend_from_slice(&3600i32.to_be_bytes());
        bytes.extend_from_slice(&[0x00, 0x00, 0x6A, 0x0B, 0x1C, 0x00]);
        bytes.extend_from_slice(&[0x00, 0x00, 0x69, 0x00, 0x00, 0x10]);
        bytes.extend_from_slice(&[0x00, 0x00, 0x68, 0xFF, 0xAB, 0x90]);
        bytes.extend_from_slice(&(-3600i32).to_be_bytes());
        bytes.extend_from_slice(&[0x02, 0x00]);
        let t = SmpteSyncMetadataTlv {
            frame_rate_numerator: 30_000,
            frame_rate_denominator: 1001,
            master_locking_status: 4,
            time_address_flags: 1,
            current_local_offset: 3600,
            jump_seconds: 3600,
            time_of_next_jump: 0x6A0B_1C00,
            time_of_next_jam: 0x6900_0010,
            time_of_previous_jam: 0x68FF_AB90,
            previous_jam_local_offset: -3600,
            daylight_saving: 2,
            leap_second_jump: 0,
        };
        check_fixture(&bytes, &t);
        // Another organization's TLV of the same size is not SMPTE's.
        let mut other = bytes.clone();
        other[4] = 0x00;
        assert_eq!(
            SmpteSyncMetadataTlv::parse_value(TlvType::OrganizationExtension, &other[4..]),
            Err(Error::InvalidValue)
        );
        assert_eq!(
            SmpteSyncMetadataTlv::parse_value(TlvType::OrganizationExtension, &bytes[4..40]),
            Err(Error::BadLength)
        );
        let too_late = SmpteSyncMetadataTlv {
            time_of_next_jam: 1 << 48,
            ..t
        };
        assert_eq!(too_late.emit_value(&mut [0; 48]), Err(Error::InvalidValue));
    }

    #[test]
    fn organization_extension() {
        let bytes = [
            0x80, 0x00, 0x00, 0x08, 0x68, 0x97, 0xE8, 0x00, 0x00, 0x01, 0xAB, 0xCD,
        ];
        let t = OrganizationExtensionTlv {
            tlv_type: TlvType::OrganizationExtensionDoNotPropagate,
            organization_id: [0x68, 0x97, 0xE8],
            organization_sub_type: [0, 0, 1],
            data: &[0xAB, 0xCD],
        };
        check_fixture(&bytes, &t);
        assert_eq!(
            OrganizationExtensionTlv::parse_value(TlvType::OrganizationExtension, &[0; 5]),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn power_profile_2017_and_2011() {
        let bytes = [
            0x00, 0x03, 0x00, 0x12, // type, length 18
            0x1C, 0x12, 0x9D, 0x00, 0x00, 0x02, // OUI, subtype 2 (2017)
            0x00, 0x03, // grandmasterID 3
            0x00, 0x00, 0x00, 0x00, // reserved
            0x00, 0x00, 0x00, 0x64, // totalTimeInaccuracy 100 ns
            0x00, 0x00, // pad
        ];
        let t = PowerProfileTlv {
            version: PowerProfileVersion::V2017,
            grandmaster_id: 3,
            time_inaccuracy: 100,
            network_time_inaccuracy: 0,
        };
        check_fixture(&bytes, &t);
        let bytes = [
            0x00, 0x03, 0x00, 0x12, 0x1C, 0x12, 0x9D, 0x00, 0x00, 0x01, // 2011
            0x12, 0x34, // grandmasterID
            0x00, 0x00, 0x00, 0x3C, // grandmasterTimeInaccuracy 60
            0xFF, 0xFF, 0xFF, 0xFF, // networkTimeInaccuracy unknown
            0x00, 0x00,
        ];
        let t = PowerProfileTlv {
            version: PowerProfileVersion::V2011,
            grandmaster_id: 0x1234,
            time_inaccuracy: 60,
            network_time_inaccuracy: PowerProfileTlv::UNKNOWN,
        };
        check_fixture(&bytes, &t);
        let mut wrong = bytes;
        wrong[9] = 3;
        assert_eq!(
            PowerProfileTlv::parse_value(TlvType::OrganizationExtension, &wrong[4..]),
            Err(Error::InvalidValue)
        );
    }

    #[test]
    fn follow_up_information() {
        let bytes = [
            0x00, 0x03, 0x00, 0x1C, // type, length 28
            0x00, 0x80, 0xC2, 0x00, 0x00, 0x01, // OUI, subtype
            0x00, 0x00, 0x08, 0x00, // cumulativeScaledRateOffset 2048
            0x00, 0x02, // gmTimeBaseIndicator
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, // -2
            0x00, 0x00, 0x00, 0x10, // scaledLastGmFreqChange 16
        ];
        let t = FollowUpInformationTlv {
            cumulative_scaled_rate_offset: 2048,
            gm_time_base_indicator: 2,
            last_gm_phase_change: -2,
            scaled_last_gm_freq_change: 16,
        };
        check_fixture(&bytes, &t);
        assert!((t.rate_ratio() - (1.0 + 2048.0 / 2f64.powi(41))).abs() < 1e-15);
        let org =
            OrganizationExtensionTlv::parse_value(TlvType::OrganizationExtension, &bytes[4..])
                .unwrap();
        assert_eq!(org.data.len(), 22);
        let mut wrong = bytes;
        wrong[9] = 2;
        assert_eq!(
            FollowUpInformationTlv::parse_value(TlvType::OrganizationExtension, &wrong[4..]),
            Err(Error::InvalidValue)
        );
    }
}
