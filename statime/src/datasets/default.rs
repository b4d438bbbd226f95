//! defaultDS (IEEE 1588-2019 clause 8.2.1).

use crate::wire::tlv::DefaultDataSetTlv;
use crate::wire::{ClockIdentity, ClockQuality, SdoId};

/// The kind of PTP Instance (clause 8.2.1.5.5, defaultDS.instanceType).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum InstanceType {
    /// An ordinary clock: one PTP Port.
    #[default]
    OrdinaryClock,
    /// A boundary clock: several PTP Ports, one BMCA across them.
    BoundaryClock,
    /// A peer-to-peer transparent clock.
    P2pTransparentClock,
    /// An end-to-end transparent clock.
    E2eTransparentClock,
}

/// defaultDS (clause 8.2.1): the attributes that describe the PTP Instance
/// itself. `D0` of the BMCA is built from it (clause 9.3.4).
///
/// Defaults (clause 8.2.1 and J.3, and linuxptp's `default.cfg`):
/// priority1 and priority2 128, clockClass 248, clockAccuracy 0xFE
/// (unknown), offsetScaledLogVariance 0xFFFF, domain 0, sdoId 0, two-step,
/// not slave-only, enabled, maxStepsRemoved 255.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DefaultDS {
    /// defaultDS.twoStepFlag (clause 8.2.1.2.1): Sync messages are
    /// followed by Follow_Up.
    pub two_step_flag: bool,
    /// defaultDS.clockIdentity (clause 8.2.1.2.2).
    pub clock_identity: ClockIdentity,
    /// defaultDS.numberPorts (clause 8.2.1.2.3).
    pub number_ports: u16,
    /// defaultDS.clockQuality (clause 8.2.1.3.1).
    pub clock_quality: ClockQuality,
    /// defaultDS.priority1 (clause 8.2.1.4.1); lower wins.
    pub priority1: u8,
    /// defaultDS.priority2 (clause 8.2.1.4.2); lower wins.
    pub priority2: u8,
    /// defaultDS.domainNumber (clause 8.2.1.4.3).
    pub domain_number: u8,
    /// defaultDS.slaveOnly (clause 8.2.1.4.4): the instance never becomes
    /// a master (clause 9.2.2.1).
    pub slave_only: bool,
    /// defaultDS.sdoId (clause 8.2.1.4.5).
    pub sdo_id: SdoId,
    /// defaultDS.instanceEnable (clause 8.2.1.5.2).
    pub instance_enable: bool,
    /// defaultDS.externalPortConfigurationEnabled (clause 8.2.1.5.3): port
    /// states are set from outside instead of by the BMCA (clause 17.6).
    pub external_port_configuration_enabled: bool,
    /// defaultDS.maxStepsRemoved (clause 8.2.1.5.4): Announce messages with
    /// this many steps or more are not qualified (clause 9.3.2.5).
    pub max_steps_removed: u8,
    /// defaultDS.instanceType (clause 8.2.1.5.5).
    pub instance_type: InstanceType,
    /// The data set comparison the BMCA uses: IEEE 1588's (clause 9.3.4)
    /// or the telecom profiles' alternate one (ITU-T G.8275.1/G.8275.2).
    pub dataset_comparison: DatasetComparison,
    /// defaultDS.localPriority of the telecom profiles (G.8275.1 clause
    /// 6.3.2): D0's place among equal clocks in the alternate comparison
    /// (default 128; lower wins).
    pub local_priority: u8,
}

/// Which data set comparison the BMCA runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DatasetComparison {
    /// IEEE 1588-2019 clause 9.3.4 (figures 33 and 34).
    #[default]
    Ieee1588,
    /// The alternate BMCA of ITU-T G.8275.1 / G.8275.2 (clause 6.7 of
    /// G.8275.1): priority1 is not used; clockClass, clockAccuracy,
    /// offsetScaledLogVariance, priority2, then localPriority decide.
    Telecom,
}

impl Default for DefaultDS {
    fn default() -> Self {
        Self::new(ClockIdentity::default(), 1)
    }
}

impl DefaultDS {
    /// The clockClass of a slave-only instance (clause 7.6.2.5, table 4).
    pub const SLAVE_ONLY_CLOCK_CLASS: u8 = 255;

    /// A defaultDS with the default attributes (see the type's
    /// documentation), for an instance of `number_ports` ports; more than
    /// one port makes it a boundary clock.
    #[must_use]
    pub fn new(clock_identity: ClockIdentity, number_ports: u16) -> Self {
        Self {
            two_step_flag: true,
            clock_identity,
            number_ports,
            clock_quality: ClockQuality::default(),
            priority1: 128,
            priority2: 128,
            domain_number: 0,
            slave_only: false,
            sdo_id: SdoId::DEFAULT,
            instance_enable: true,
            external_port_configuration_enabled: false,
            max_steps_removed: 255,
            instance_type: if number_ports > 1 {
                InstanceType::BoundaryClock
            } else {
                InstanceType::OrdinaryClock
            },
            dataset_comparison: DatasetComparison::Ieee1588,
            local_priority: 128,
        }
    }

    /// The clockQuality this instance advertises and compares with: a
    /// slave-only instance has clockClass 255 whatever is configured
    /// (clause 7.6.2.5 and 8.2.1.4.4).
    #[must_use]
    pub fn effective_clock_quality(&self) -> ClockQuality {
        let mut q = self.clock_quality;
        if self.slave_only {
            q.clock_class = Self::SLAVE_ONLY_CLOCK_CLASS;
        }
        q
    }

    /// The DEFAULT_DATA_SET management data field (clause 15.5.3.3.1)
    /// showing this data set.
    #[must_use]
    pub fn to_tlv(&self) -> DefaultDataSetTlv {
        DefaultDataSetTlv::from(self)
    }

    /// A defaultDS holding the members carried by a DEFAULT_DATA_SET data
    /// field; the members it does not carry keep their defaults.
    #[must_use]
    pub fn from_tlv(tlv: &DefaultDataSetTlv) -> Self {
        Self {
            two_step_flag: tlv.two_step_flag,
            slave_only: tlv.slave_only,
            priority1: tlv.priority1,
            priority2: tlv.priority2,
            clock_quality: tlv.clock_quality,
            domain_number: tlv.domain_number,
            ..Self::new(tlv.clock_identity, tlv.number_ports)
        }
    }
}

impl From<&DefaultDS> for DefaultDataSetTlv {
    fn from(ds: &DefaultDS) -> Self {
        Self {
            two_step_flag: ds.two_step_flag,
            slave_only: ds.slave_only,
            number_ports: ds.number_ports,
            priority1: ds.priority1,
            clock_quality: ds.effective_clock_quality(),
            priority2: ds.priority2,
            clock_identity: ds.clock_identity,
            domain_number: ds.domain_number,
        }
    }
}

impl From<&DefaultDataSetTlv> for DefaultDS {
    fn from(tlv: &DefaultDataSetTlv) -> Self {
        Self::from_tlv(tlv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ClockAccuracy;

    #[test]
    fn defaults() {
        let ds = DefaultDS::new(ClockIdentity([1; 8]), 1);
        assert_eq!(ds.priority1, 128);
        assert_eq!(ds.priority2, 128);
        assert_eq!(ds.clock_quality.clock_class, 248);
        assert_eq!(
            ds.clock_quality.clock_accuracy,
            ClockAccuracy::UnknownAccuracy
        );
        assert_eq!(ds.clock_quality.offset_scaled_log_variance, 0xFFFF);
        assert_eq!(ds.domain_number, 0);
        assert!(ds.two_step_flag);
        assert!(!ds.slave_only);
        assert_eq!(ds.max_steps_removed, 255);
        assert_eq!(ds.instance_type, InstanceType::OrdinaryClock);
        assert_eq!(
            DefaultDS::new(ClockIdentity([1; 8]), 3).instance_type,
            InstanceType::BoundaryClock
        );
        assert_eq!(DefaultDS::default().number_ports, 1);
    }

    #[test]
    fn slave_only_class_255() {
        let mut ds = DefaultDS::new(ClockIdentity([1; 8]), 1);
        ds.clock_quality.clock_class = 6;
        assert_eq!(ds.effective_clock_quality().clock_class, 6);
        ds.slave_only = true;
        assert_eq!(ds.effective_clock_quality().clock_class, 255);
        assert_eq!(ds.to_tlv().clock_quality.clock_class, 255);
    }

    #[test]
    fn tlv_round_trip() {
        let mut ds = DefaultDS::new(ClockIdentity([7; 8]), 4);
        ds.priority1 = 1;
        ds.priority2 = 2;
        ds.domain_number = 24;
        ds.two_step_flag = false;
        ds.clock_quality = ClockQuality {
            clock_class: 6,
            clock_accuracy: ClockAccuracy::Ns25,
            offset_scaled_log_variance: 0x4000,
        };
        let tlv = DefaultDataSetTlv::from(&ds);
        assert_eq!(tlv.number_ports, 4);
        assert_eq!(tlv.priority1, 1);
        assert_eq!(tlv.priority2, 2);
        assert_eq!(tlv.domain_number, 24);
        assert!(!tlv.two_step_flag);
        assert_eq!(tlv.clock_identity, ClockIdentity([7; 8]));
        assert_eq!(DefaultDS::from(&tlv), ds);
    }
}
