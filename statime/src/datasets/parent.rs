//! parentDS (IEEE 1588-2019 clause 8.2.3).

use super::DefaultDS;
use crate::wire::tlv::ParentDataSetTlv;
use crate::wire::{ClockIdentity, ClockQuality, PortIdentity};

/// parentDS (clause 8.2.3): the parent (the master port this instance
/// follows) and the grandmaster at the root of the tree.
///
/// While the instance is its own grandmaster (at initialization and after
/// the M1/M2 update of clause 9.3.5) the parent is `{clockIdentity, 0}` and
/// the grandmaster attributes are copies of defaultDS
/// ([`ParentDS::from_default_ds`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ParentDS {
    /// parentDS.parentPortIdentity (clause 8.2.3.2).
    pub parent_port_identity: PortIdentity,
    /// parentDS.parentStats (clause 8.2.3.3): whether the two observed
    /// members below hold measurements.
    pub parent_stats: bool,
    /// parentDS.observedParentOffsetScaledLogVariance (clause 8.2.3.4);
    /// 0xFFFF when not measured.
    pub observed_parent_offset_scaled_log_variance: u16,
    /// parentDS.observedParentClockPhaseChangeRate (clause 8.2.3.5);
    /// 0x7FFF_FFFF when not measured.
    pub observed_parent_clock_phase_change_rate: i32,
    /// parentDS.grandmasterIdentity (clause 8.2.3.6).
    pub grandmaster_identity: ClockIdentity,
    /// parentDS.grandmasterClockQuality (clause 8.2.3.7).
    pub grandmaster_clock_quality: ClockQuality,
    /// parentDS.grandmasterPriority1 (clause 8.2.3.8).
    pub grandmaster_priority1: u8,
    /// parentDS.grandmasterPriority2 (clause 8.2.3.9).
    pub grandmaster_priority2: u8,
}

impl ParentDS {
    /// observedParentOffsetScaledLogVariance when not measured (clause 8.2.3.4).
    pub const UNMEASURED_VARIANCE: u16 = 0xFFFF;
    /// observedParentClockPhaseChangeRate when not measured (clause 8.2.3.5).
    pub const UNMEASURED_PHASE_CHANGE_RATE: i32 = 0x7FFF_FFFF;

    /// The parentDS of an instance that is its own grandmaster (clause
    /// 8.2.3 initialization, clause 9.3.5 table 30): parent `{clockIdentity,
    /// 0}`, grandmaster attributes from `default`, no statistics.
    #[must_use]
    pub fn from_default_ds(default: &DefaultDS) -> Self {
        Self {
            parent_port_identity: PortIdentity {
                clock_identity: default.clock_identity,
                port_number: 0,
            },
            parent_stats: false,
            observed_parent_offset_scaled_log_variance: Self::UNMEASURED_VARIANCE,
            observed_parent_clock_phase_change_rate: Self::UNMEASURED_PHASE_CHANGE_RATE,
            grandmaster_identity: default.clock_identity,
            grandmaster_clock_quality: default.effective_clock_quality(),
            grandmaster_priority1: default.priority1,
            grandmaster_priority2: default.priority2,
        }
    }

    /// Forget the observed-parent statistics (clause 8.2.3.3 to 8.2.3.5).
    pub const fn reset_observed(&mut self) {
        self.parent_stats = false;
        self.observed_parent_offset_scaled_log_variance = Self::UNMEASURED_VARIANCE;
        self.observed_parent_clock_phase_change_rate = Self::UNMEASURED_PHASE_CHANGE_RATE;
    }

    /// Whether `own` (defaultDS.clockIdentity) is the grandmaster.
    #[must_use]
    pub fn is_grandmaster(&self, own: ClockIdentity) -> bool {
        self.grandmaster_identity == own
    }

    /// The PARENT_DATA_SET management data field (clause 15.5.3.5.1).
    #[must_use]
    pub fn to_tlv(&self) -> ParentDataSetTlv {
        ParentDataSetTlv::from(self)
    }
}

impl From<&ParentDS> for ParentDataSetTlv {
    fn from(ds: &ParentDS) -> Self {
        Self {
            parent_port_identity: ds.parent_port_identity,
            parent_stats: ds.parent_stats,
            observed_parent_offset_scaled_log_variance: ds
                .observed_parent_offset_scaled_log_variance,
            observed_parent_clock_phase_change_rate: ds.observed_parent_clock_phase_change_rate,
            grandmaster_priority1: ds.grandmaster_priority1,
            grandmaster_clock_quality: ds.grandmaster_clock_quality,
            grandmaster_priority2: ds.grandmaster_priority2,
            grandmaster_identity: ds.grandmaster_identity,
        }
    }
}

impl From<&ParentDataSetTlv> for ParentDS {
    fn from(tlv: &ParentDataSetTlv) -> Self {
        Self {
            parent_port_identity: tlv.parent_port_identity,
            parent_stats: tlv.parent_stats,
            observed_parent_offset_scaled_log_variance: tlv
                .observed_parent_offset_scaled_log_variance,
            observed_parent_clock_phase_change_rate: tlv.observed_parent_clock_phase_change_rate,
            grandmaster_identity: tlv.grandmaster_identity,
            grandmaster_clock_quality: tlv.grandmaster_clock_quality,
            grandmaster_priority1: tlv.grandmaster_priority1,
            grandmaster_priority2: tlv.grandmaster_priority2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_grandmaster_and_tlv() {
        let mut default = DefaultDS::new(ClockIdentity([3; 8]), 1);
        default.priority1 = 100;
        let ds = ParentDS::from_default_ds(&default);
        assert!(ds.is_grandmaster(ClockIdentity([3; 8])));
        assert!(!ds.is_grandmaster(ClockIdentity([4; 8])));
        assert_eq!(ds.parent_port_identity.port_number, 0);
        assert_eq!(ds.observed_parent_offset_scaled_log_variance, 0xFFFF);
        assert_eq!(ds.observed_parent_clock_phase_change_rate, 0x7FFF_FFFF);
        assert_eq!(ds.grandmaster_priority1, 100);
        let tlv = ds.to_tlv();
        assert_eq!(tlv.grandmaster_priority1, 100);
        assert_eq!(tlv.parent_port_identity, ds.parent_port_identity);
        assert_eq!(ParentDS::from(&tlv), ds);

        let mut measured = ds;
        measured.parent_stats = true;
        measured.observed_parent_clock_phase_change_rate = 5;
        measured.reset_observed();
        assert_eq!(measured, ds);
    }
}
