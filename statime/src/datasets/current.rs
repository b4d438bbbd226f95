//! currentDS (IEEE 1588-2019 clause 8.2.2).

use crate::time::TimeInterval;
use crate::wire::tlv::CurrentDataSetTlv;

/// currentDS (clause 8.2.2): where this instance stands relative to its
/// master. At initialization, and after the M1/M2 update (clause 9.3.5),
/// every member is zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CurrentDS {
    /// currentDS.stepsRemoved (clause 8.2.2.2): communication paths between
    /// this instance and the grandmaster.
    pub steps_removed: u16,
    /// currentDS.offsetFromMaster (clause 8.2.2.3): local time minus master
    /// time, as the servo last computed it.
    pub offset_from_master: TimeInterval,
    /// currentDS.meanDelay (clause 8.2.2.4; meanPathDelay in 2008): the
    /// mean path delay to the master.
    pub mean_delay: TimeInterval,
}

impl CurrentDS {
    /// The CURRENT_DATA_SET management data field (clause 15.5.3.4.1).
    #[must_use]
    pub fn to_tlv(&self) -> CurrentDataSetTlv {
        CurrentDataSetTlv::from(self)
    }
}

impl From<&CurrentDS> for CurrentDataSetTlv {
    fn from(ds: &CurrentDS) -> Self {
        Self {
            steps_removed: ds.steps_removed,
            offset_from_master: ds.offset_from_master,
            mean_path_delay: ds.mean_delay,
        }
    }
}

impl From<&CurrentDataSetTlv> for CurrentDS {
    fn from(tlv: &CurrentDataSetTlv) -> Self {
        Self {
            steps_removed: tlv.steps_removed,
            offset_from_master: tlv.offset_from_master,
            mean_delay: tlv.mean_path_delay,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_round_trip() {
        let ds = CurrentDS {
            steps_removed: 2,
            offset_from_master: TimeInterval::from_nanos(-1500),
            mean_delay: TimeInterval::from_bits(0x1_8000),
        };
        let tlv = ds.to_tlv();
        assert_eq!(tlv.steps_removed, 2);
        assert_eq!(tlv.offset_from_master, TimeInterval::from_nanos(-1500));
        assert_eq!(tlv.mean_path_delay, TimeInterval::from_bits(0x1_8000));
        assert_eq!(CurrentDS::from(&tlv), ds);
        assert_eq!(CurrentDS::default().steps_removed, 0);
    }
}
