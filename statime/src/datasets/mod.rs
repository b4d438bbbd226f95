//! The data sets of a PTP Instance (IEEE 1588-2019 clause 8.2) and the way
//! the best master clock algorithm changes them (clause 9.3.5).
//!
//! Every data set is a plain struct with public fields and the defaults of
//! the standard (and of linuxptp, where the standard leaves a choice). The
//! management answers of clause 15.5.3 are views of these structs: each one
//! converts to (and from) its data field in [`crate::wire::tlv`].
//!
//! - [`DefaultDS`] (clause 8.2.1): what the instance is (identity, quality,
//!   priorities, domain).
//! - [`CurrentDS`] (clause 8.2.2): how far it is from its master.
//! - [`ParentDS`] (clause 8.2.3): who its parent and grandmaster are.
//! - [`TimePropertiesDS`] (clause 8.2.4): the timescale it distributes.
//! - [`PortDS`] (clause 8.2.15): one per PTP Port.
//!
//! [`InstanceDataSets`] holds the four instance-wide data sets and applies
//! the updates of clause 9.3.5 (tables 30 to 33) that go with the decision
//! codes of the state decision algorithm.

mod current;
mod default;
mod parent;
mod port;
mod time_properties;

pub use current::CurrentDS;
pub use default::{DatasetComparison, DefaultDS, InstanceType};
pub use parent::ParentDS;
pub use port::{PortDS, log_interval_duration};
pub use time_properties::TimePropertiesDS;

use crate::wire::PortIdentity;
use crate::wire::messages::AnnounceMessage;

/// The instance-wide data sets of an ordinary or boundary clock (clause
/// 8.2.1 to 8.2.4), kept consistent by the updates of clause 9.3.5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct InstanceDataSets {
    /// defaultDS (clause 8.2.1).
    pub default: DefaultDS,
    /// currentDS (clause 8.2.2).
    pub current: CurrentDS,
    /// parentDS (clause 8.2.3).
    pub parent: ParentDS,
    /// timePropertiesDS (clause 8.2.4).
    pub time_properties: TimePropertiesDS,
}

impl InstanceDataSets {
    /// The data sets at initialization (clause 8.2.2.1, 8.2.3.1, 8.2.4.1):
    /// the instance is its own parent and grandmaster, zero steps away,
    /// and distributes the time properties of its local time source.
    #[must_use]
    pub fn new(default: DefaultDS, local_time_properties: TimePropertiesDS) -> Self {
        Self {
            default,
            current: CurrentDS::default(),
            parent: ParentDS::from_default_ds(&default),
            time_properties: local_time_properties,
        }
    }

    /// The update for decision codes M1 and M2 (clause 9.3.5, table 30):
    /// the instance becomes the grandmaster. currentDS is zeroed, parentDS
    /// names this instance (port number 0) and copies the grandmaster
    /// attributes from defaultDS, and timePropertiesDS takes the values of
    /// the local time source, `local`.
    ///
    /// The observed-parent statistics go back to their initial values too
    /// (they described a parent that is no longer there).
    pub fn apply_grandmaster_update(&mut self, local: &TimePropertiesDS) {
        self.current = CurrentDS::default();
        self.parent = ParentDS::from_default_ds(&self.default);
        self.time_properties = *local;
    }

    /// The update for decision code M3 (clause 9.3.5, table 31): none.
    pub const fn apply_m3_update(&mut self) {}

    /// The update for decision codes P1 and P2 (clause 9.3.5, table 32):
    /// none.
    pub const fn apply_passive_update(&mut self) {}

    /// The update for decision code S1 (clause 9.3.5, table 33): the sender
    /// of Ebest becomes the parent.
    ///
    /// currentDS.stepsRemoved becomes the Announce's stepsRemoved + 1
    /// (saturating), parentDS.parentPortIdentity the Announce's
    /// sourcePortIdentity, the grandmaster attributes come from the
    /// Announce body, and timePropertiesDS from its body and flags
    /// (`time_properties`, see [`TimePropertiesDS::from_announce`]).
    /// offsetFromMaster and meanDelay are left to the servo. When the parent
    /// changes, the observed-parent statistics are reset.
    pub fn apply_slave_update(
        &mut self,
        announce: &AnnounceMessage,
        sender: PortIdentity,
        time_properties: TimePropertiesDS,
    ) {
        self.current.steps_removed = announce.steps_removed.saturating_add(1);
        if self.parent.parent_port_identity != sender {
            self.parent.reset_observed();
        }
        self.parent.parent_port_identity = sender;
        self.parent.grandmaster_identity = announce.grandmaster_identity;
        self.parent.grandmaster_clock_quality = announce.grandmaster_clock_quality;
        self.parent.grandmaster_priority1 = announce.grandmaster_priority_1;
        self.parent.grandmaster_priority2 = announce.grandmaster_priority_2;
        self.time_properties = time_properties;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::TimeInterval;
    use crate::wire::{ClockAccuracy, ClockIdentity, ClockQuality, FlagField, TimeSource};

    fn ds() -> InstanceDataSets {
        let default = DefaultDS::new(ClockIdentity([1; 8]), 2);
        InstanceDataSets::new(default, TimePropertiesDS::default())
    }

    fn announce() -> AnnounceMessage {
        AnnounceMessage {
            current_utc_offset: 37,
            grandmaster_priority_1: 10,
            grandmaster_clock_quality: ClockQuality {
                clock_class: 6,
                clock_accuracy: ClockAccuracy::Ns100,
                offset_scaled_log_variance: 0x4E5D,
            },
            grandmaster_priority_2: 20,
            grandmaster_identity: ClockIdentity([9; 8]),
            steps_removed: 3,
            time_source: TimeSource::Gnss,
            ..AnnounceMessage::default()
        }
    }

    #[test]
    fn initial_state_is_own_grandmaster() {
        let d = ds();
        assert_eq!(d.current.steps_removed, 0);
        assert_eq!(
            d.parent.parent_port_identity,
            PortIdentity {
                clock_identity: ClockIdentity([1; 8]),
                port_number: 0
            }
        );
        assert_eq!(d.parent.grandmaster_identity, ClockIdentity([1; 8]));
        assert_eq!(d.parent.grandmaster_priority1, 128);
        assert_eq!(d.parent.grandmaster_clock_quality.clock_class, 248);
    }

    #[test]
    fn s1_then_m1_round_trip() {
        let mut d = ds();
        let sender = PortIdentity {
            clock_identity: ClockIdentity([5; 8]),
            port_number: 3,
        };
        let mut flags = FlagField::default();
        flags.set_current_utc_offset_valid(true);
        flags.set_ptp_timescale(true);
        flags.set_time_traceable(true);
        let tp = TimePropertiesDS::from_announce(&announce(), flags);
        d.current.offset_from_master = TimeInterval::from_nanos(100);
        d.parent.parent_stats = true;
        d.apply_slave_update(&announce(), sender, tp);
        assert_eq!(d.current.steps_removed, 4);
        // The servo's values are untouched by S1.
        assert_eq!(d.current.offset_from_master, TimeInterval::from_nanos(100));
        assert_eq!(d.parent.parent_port_identity, sender);
        assert!(!d.parent.parent_stats, "new parent: statistics reset");
        assert_eq!(d.parent.grandmaster_identity, ClockIdentity([9; 8]));
        assert_eq!(d.parent.grandmaster_priority1, 10);
        assert_eq!(d.parent.grandmaster_priority2, 20);
        assert_eq!(d.parent.grandmaster_clock_quality.clock_class, 6);
        assert!(d.time_properties.time_traceable);
        assert!(d.time_properties.current_utc_offset_valid);
        assert_eq!(d.time_properties.time_source, TimeSource::Gnss);

        // Same parent again: statistics kept.
        d.parent.parent_stats = true;
        d.apply_slave_update(&announce(), sender, tp);
        assert!(d.parent.parent_stats);

        // Steps saturate.
        let mut far = announce();
        far.steps_removed = u16::MAX;
        d.apply_slave_update(&far, sender, tp);
        assert_eq!(d.current.steps_removed, u16::MAX);

        let local = TimePropertiesDS {
            time_source: TimeSource::HandSet,
            ..TimePropertiesDS::default()
        };
        d.apply_m3_update();
        d.apply_passive_update();
        assert_eq!(d.parent.parent_port_identity, sender);
        d.apply_grandmaster_update(&local);
        assert_eq!(d.current, CurrentDS::default());
        assert_eq!(d.parent, ParentDS::from_default_ds(&d.default));
        assert_eq!(d.time_properties, local);
    }
}
