//! timePropertiesDS (IEEE 1588-2019 clause 8.2.4).

use crate::wire::messages::AnnounceMessage;
use crate::wire::tlv::TimePropertiesDataSetTlv;
use crate::wire::{FlagField, TimeSource};

/// timePropertiesDS (clause 8.2.4): the timescale the instance distributes.
/// A grandmaster takes it from its local time source (clause 9.3.5 table
/// 30); a slave copies it from the Announce of its parent (table 33).
///
/// Defaults are those of a free-running clock on the PTP timescale, as
/// linuxptp has them: currentUtcOffset 37 s (TAI - UTC since 2017) but not
/// valid, no leap second pending, not traceable, timeSource
/// INTERNAL_OSCILLATOR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[allow(
    clippy::struct_excessive_bools,
    reason = "the members of clause 8.2.4 are booleans"
)]
pub struct TimePropertiesDS {
    /// timePropertiesDS.currentUtcOffset (clause 8.2.4.2): TAI - UTC in
    /// seconds.
    pub current_utc_offset: i16,
    /// timePropertiesDS.currentUtcOffsetValid (clause 8.2.4.3).
    pub current_utc_offset_valid: bool,
    /// timePropertiesDS.leap59 (clause 8.2.4.4): the last minute of the
    /// current UTC day has 59 seconds.
    pub leap59: bool,
    /// timePropertiesDS.leap61 (clause 8.2.4.5): the last minute of the
    /// current UTC day has 61 seconds.
    pub leap61: bool,
    /// timePropertiesDS.timeTraceable (clause 8.2.4.6).
    pub time_traceable: bool,
    /// timePropertiesDS.frequencyTraceable (clause 8.2.4.7).
    pub frequency_traceable: bool,
    /// timePropertiesDS.ptpTimescale (clause 8.2.4.8): the PTP (TAI)
    /// timescale rather than ARB.
    pub ptp_timescale: bool,
    /// timePropertiesDS.timeSource (clause 8.2.4.9).
    pub time_source: TimeSource,
}

impl Default for TimePropertiesDS {
    fn default() -> Self {
        Self {
            current_utc_offset: 37,
            current_utc_offset_valid: false,
            leap59: false,
            leap61: false,
            time_traceable: false,
            frequency_traceable: false,
            ptp_timescale: true,
            time_source: TimeSource::InternalOscillator,
        }
    }
}

impl TimePropertiesDS {
    /// The time properties an Announce carries (clause 9.3.5 table 33):
    /// currentUtcOffset and timeSource from the body, the six flags from
    /// octet 1 of the header's flagField (clause 13.3.2.8).
    #[must_use]
    pub fn from_announce(announce: &AnnounceMessage, flags: FlagField) -> Self {
        Self {
            current_utc_offset: announce.current_utc_offset,
            current_utc_offset_valid: flags.current_utc_offset_valid(),
            leap59: flags.leap59(),
            leap61: flags.leap61(),
            time_traceable: flags.time_traceable(),
            frequency_traceable: flags.frequency_traceable(),
            ptp_timescale: flags.ptp_timescale(),
            time_source: announce.time_source,
        }
    }

    /// Write the six time-property flags into a header's flagField (clause
    /// 13.3.2.8, table 37), leaving its other bits alone. Announce, Sync and
    /// Follow_Up messages of a master carry them.
    pub const fn write_flags(&self, flags: &mut FlagField) {
        flags.set_leap61(self.leap61);
        flags.set_leap59(self.leap59);
        flags.set_current_utc_offset_valid(self.current_utc_offset_valid);
        flags.set_ptp_timescale(self.ptp_timescale);
        flags.set_time_traceable(self.time_traceable);
        flags.set_frequency_traceable(self.frequency_traceable);
    }

    /// The TIME_PROPERTIES_DATA_SET management data field (clause
    /// 15.5.3.6.1).
    #[must_use]
    pub fn to_tlv(&self) -> TimePropertiesDataSetTlv {
        TimePropertiesDataSetTlv::from(self)
    }
}

impl From<&TimePropertiesDS> for TimePropertiesDataSetTlv {
    fn from(ds: &TimePropertiesDS) -> Self {
        Self {
            current_utc_offset: ds.current_utc_offset,
            leap61: ds.leap61,
            leap59: ds.leap59,
            current_utc_offset_valid: ds.current_utc_offset_valid,
            ptp_timescale: ds.ptp_timescale,
            time_traceable: ds.time_traceable,
            frequency_traceable: ds.frequency_traceable,
            time_source: ds.time_source,
        }
    }
}

impl From<&TimePropertiesDataSetTlv> for TimePropertiesDS {
    fn from(tlv: &TimePropertiesDataSetTlv) -> Self {
        Self {
            current_utc_offset: tlv.current_utc_offset,
            current_utc_offset_valid: tlv.current_utc_offset_valid,
            leap59: tlv.leap59,
            leap61: tlv.leap61,
            time_traceable: tlv.time_traceable,
            frequency_traceable: tlv.frequency_traceable,
            ptp_timescale: tlv.ptp_timescale,
            time_source: tlv.time_source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let ds = TimePropertiesDS::default();
        assert_eq!(ds.current_utc_offset, 37);
        assert!(!ds.current_utc_offset_valid);
        assert!(ds.ptp_timescale);
        assert_eq!(ds.time_source, TimeSource::InternalOscillator);
    }

    #[test]
    fn from_announce_and_back_to_flags() {
        let announce = AnnounceMessage {
            current_utc_offset: 36,
            time_source: TimeSource::Gnss,
            ..AnnounceMessage::default()
        };
        for bit in 0..6u16 {
            let flags = FlagField(0x0100 | (1 << bit));
            let ds = TimePropertiesDS::from_announce(&announce, flags);
            assert_eq!(ds.current_utc_offset, 36);
            assert_eq!(ds.time_source, TimeSource::Gnss);
            let set = [
                ds.leap61,
                ds.leap59,
                ds.current_utc_offset_valid,
                ds.ptp_timescale,
                ds.time_traceable,
                ds.frequency_traceable,
            ];
            for (i, on) in set.iter().enumerate() {
                assert_eq!(*on, i == usize::from(bit), "bit {bit}, member {i}");
            }
            // Writing back sets exactly that bit and keeps unrelated bits.
            let mut out = FlagField(0x0200 | 0x003F);
            ds.write_flags(&mut out);
            assert_eq!(out.0, 0x0200 | (1 << bit));
            // The TLV has the same bit positions.
            assert_eq!(u16::from(ds.to_tlv().flags()), 1 << bit);
            assert_eq!(TimePropertiesDS::from(&ds.to_tlv()), ds);
        }
    }
}
