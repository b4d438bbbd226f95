//! The Announce message (IEEE 1588-2019 clause 13.5).

use crate::wire::{
    ClockIdentity, ClockQuality, Error, Result, TimeSource, Timestamp, be_u16, put_u16,
};

/// Octet offsets inside the body (clause 13.5.1, table 43, minus the header).
mod field {
    pub(super) const ORIGIN: usize = 0;
    pub(super) const UTC_OFFSET: usize = 10;
    // 12: reserved
    pub(super) const PRIORITY_1: usize = 13;
    pub(super) const QUALITY: usize = 14;
    pub(super) const PRIORITY_2: usize = 18;
    pub(super) const GM_IDENTITY: usize = 19;
    pub(super) const STEPS_REMOVED: usize = 27;
    pub(super) const TIME_SOURCE: usize = 29;
}

/// The body of an Announce message (clause 13.5): what the sender knows of
/// its grandmaster, the input of the best master clock algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AnnounceMessage {
    /// originTimestamp (clause 13.5.2.1).
    pub origin_timestamp: Timestamp,
    /// currentUtcOffset (clause 13.5.2.2): TAI - UTC in seconds.
    pub current_utc_offset: i16,
    /// grandmasterPriority1 (clause 13.5.2.3).
    pub grandmaster_priority_1: u8,
    /// grandmasterClockQuality (clause 13.5.2.4).
    pub grandmaster_clock_quality: ClockQuality,
    /// grandmasterPriority2 (clause 13.5.2.5).
    pub grandmaster_priority_2: u8,
    /// grandmasterIdentity (clause 13.5.2.6).
    pub grandmaster_identity: ClockIdentity,
    /// stepsRemoved (clause 13.5.2.7): boundary clocks between sender and grandmaster.
    pub steps_removed: u16,
    /// timeSource (clause 13.5.2.8).
    pub time_source: TimeSource,
}

impl AnnounceMessage {
    /// Octets of the body after the header.
    pub const WIRE_LEN: usize = 30;

    /// Parse the body from the octets after the header.
    #[inline(always)]
    pub fn parse(body: &[u8]) -> Result<Self> {
        let b = body.first_chunk::<30>().ok_or(Error::Truncated)?;
        let o = field::ORIGIN;
        let q = field::QUALITY;
        let g = field::GM_IDENTITY;
        Ok(Self {
            origin_timestamp: Timestamp::from_bytes(&[
                b[o],
                b[o + 1],
                b[o + 2],
                b[o + 3],
                b[o + 4],
                b[o + 5],
                b[o + 6],
                b[o + 7],
                b[o + 8],
                b[o + 9],
            ]),
            current_utc_offset: be_u16(b, field::UTC_OFFSET) as i16,
            grandmaster_priority_1: b[field::PRIORITY_1],
            grandmaster_clock_quality: ClockQuality::from_bytes(&[
                b[q],
                b[q + 1],
                b[q + 2],
                b[q + 3],
            ]),
            grandmaster_priority_2: b[field::PRIORITY_2],
            grandmaster_identity: ClockIdentity([
                b[g],
                b[g + 1],
                b[g + 2],
                b[g + 3],
                b[g + 4],
                b[g + 5],
                b[g + 6],
                b[g + 7],
            ]),
            steps_removed: be_u16(b, field::STEPS_REMOVED),
            time_source: TimeSource::from(b[field::TIME_SOURCE]),
        })
    }

    /// Emit the body into the octets after the header.
    pub fn emit(&self, body: &mut [u8]) -> Result<()> {
        let b = body.first_chunk_mut::<30>().ok_or(Error::BufferTooSmall)?;
        let o = field::ORIGIN;
        b[o..o + 10].copy_from_slice(&self.origin_timestamp.to_bytes());
        put_u16(b, field::UTC_OFFSET, self.current_utc_offset as u16);
        b[field::UTC_OFFSET + 2] = 0;
        b[field::PRIORITY_1] = self.grandmaster_priority_1;
        let q = field::QUALITY;
        b[q..q + 4].copy_from_slice(&self.grandmaster_clock_quality.to_bytes());
        b[field::PRIORITY_2] = self.grandmaster_priority_2;
        let g = field::GM_IDENTITY;
        b[g..g + 8].copy_from_slice(&self.grandmaster_identity.0);
        put_u16(b, field::STEPS_REMOVED, self.steps_removed);
        b[field::TIME_SOURCE] = self.time_source.into();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ClockAccuracy;

    const BYTES: [u8; 30] = [
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // origin 0
        0x00, 0x25, // currentUtcOffset 37
        0x00, // reserved
        0x80, // priority1 128
        0x06, 0x21, 0x4e, 0x5d, // class 6, accuracy 100 ns, variance 0x4e5d
        0x7f, // priority2 127
        0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x01, // grandmaster identity
        0x00, 0x02, // stepsRemoved 2
        0x20, // timeSource GNSS
    ];

    fn repr() -> AnnounceMessage {
        AnnounceMessage {
            origin_timestamp: Timestamp::default(),
            current_utc_offset: 37,
            grandmaster_priority_1: 128,
            grandmaster_clock_quality: ClockQuality {
                clock_class: 6,
                clock_accuracy: ClockAccuracy::Ns100,
                offset_scaled_log_variance: 0x4e5d,
            },
            grandmaster_priority_2: 127,
            grandmaster_identity: ClockIdentity([0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x01]),
            steps_removed: 2,
            time_source: TimeSource::Gnss,
        }
    }

    super::super::body_fixture_tests!(AnnounceMessage, BYTES, repr());

    #[test]
    fn negative_utc_offset() {
        let mut b = BYTES;
        b[10] = 0xFF;
        b[11] = 0xFE;
        assert_eq!(AnnounceMessage::parse(&b).unwrap().current_utc_offset, -2);
    }
}
