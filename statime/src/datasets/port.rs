//! portDS (IEEE 1588-2019 clause 8.2.15).

use crate::time::{Duration, TimeInterval};
use crate::wire::PortIdentity;
use crate::wire::tlv::{DelayMechanism, PortDataSetTlv, PortState};

/// The duration of a message interval given as its base-2 logarithm in
/// seconds (clause 7.7.2: interval = 2^logInterval s).
///
/// The logarithm is clamped to -40..=40 (about 1 ps to 35,000 years), so
/// the result is always positive and finite whatever octet was received.
#[must_use]
pub fn log_interval_duration(log_interval: i8) -> Duration {
    let log = log_interval.clamp(-40, 40);
    if log >= 0 {
        Duration::from_secs(1i64 << log)
    } else {
        Duration::from_fixed_nanos(Duration::from_secs(1).fixed_nanos() >> log.unsigned_abs())
    }
}

/// portDS (clause 8.2.15): the attributes of one PTP Port.
///
/// Defaults are those of the default PTP profile (clause J.3) as linuxptp
/// sets them: logAnnounceInterval 1 (2 s), announceReceiptTimeout 3,
/// logSyncInterval 0, logMinDelayReqInterval 0, logMinPdelayReqInterval
/// 0, E2E delay mechanism, version 2.1, no asymmetry, not master-only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PortDS {
    /// portDS.portIdentity (clause 8.2.15.2.1).
    pub port_identity: PortIdentity,
    /// portDS.portState (clause 8.2.15.3.1), set by the port state machine.
    pub port_state: PortState,
    /// portDS.logMinDelayReqInterval (clause 8.2.15.3.2).
    pub log_min_delay_req_interval: i8,
    /// portDS.meanLinkDelay (clause 8.2.15.3.3; peerMeanPathDelay in
    /// 2008): the link delay P2P measures, zero for E2E.
    pub mean_link_delay: TimeInterval,
    /// portDS.logAnnounceInterval (clause 8.2.15.4.1).
    pub log_announce_interval: i8,
    /// portDS.announceReceiptTimeout (clause 8.2.15.4.2): announce
    /// intervals without an Announce before the master is declared lost.
    pub announce_receipt_timeout: u8,
    /// portDS.logSyncInterval (clause 8.2.15.4.3).
    pub log_sync_interval: i8,
    /// portDS.delayMechanism (clause 8.2.15.4.4).
    pub delay_mechanism: DelayMechanism,
    /// portDS.logMinPdelayReqInterval (clause 8.2.15.4.5).
    pub log_min_pdelay_req_interval: i8,
    /// portDS.versionNumber (clause 8.2.15.4.6): 2.
    pub version_number: u8,
    /// portDS.minorVersionNumber (clause 8.2.15.4.7): 1 for IEEE 1588-2019.
    pub minor_version_number: u8,
    /// portDS.delayAsymmetry (clause 8.2.15.4.8): how much longer the
    /// master-to-slave path is than the mean path (clause 7.4.2).
    pub delay_asymmetry: TimeInterval,
    /// portDS.portEnable (clause 8.2.15.5.1).
    pub port_enable: bool,
    /// portDS.masterOnly (clause 8.2.15.5.2): the port never becomes SLAVE
    /// or UNCALIBRATED and its Erbest is left out of Ebest (clause 9.2.2.2).
    pub master_only: bool,
    /// portDS.localPriority of the telecom profiles (G.8275.1 clause
    /// 6.3.3): the foreign masters this port hears compare with it in the
    /// alternate comparison (default 128; lower wins).
    pub local_priority: u8,
}

impl Default for PortDS {
    fn default() -> Self {
        Self::new(PortIdentity::default())
    }
}

impl PortDS {
    /// A portDS with the defaults (see the type's documentation), in state
    /// INITIALIZING.
    #[must_use]
    pub const fn new(port_identity: PortIdentity) -> Self {
        Self {
            port_identity,
            port_state: PortState::Initializing,
            log_min_delay_req_interval: 0,
            mean_link_delay: TimeInterval::ZERO,
            log_announce_interval: 1,
            announce_receipt_timeout: 3,
            log_sync_interval: 0,
            delay_mechanism: DelayMechanism::E2e,
            log_min_pdelay_req_interval: 0,
            version_number: 2,
            minor_version_number: 1,
            delay_asymmetry: TimeInterval::ZERO,
            port_enable: true,
            master_only: false,
            local_priority: 128,
        }
    }

    /// The mean time between Announce messages (clause 7.7.2.2).
    #[must_use]
    pub fn announce_interval(&self) -> Duration {
        log_interval_duration(self.log_announce_interval)
    }

    /// The announce receipt timeout interval (clause 9.2.6.12):
    /// announceReceiptTimeout announce intervals (without the random part
    /// the port state machine adds).
    #[must_use]
    pub fn announce_receipt_timeout_interval(&self) -> Duration {
        self.announce_interval() * i64::from(self.announce_receipt_timeout)
    }

    /// The mean time between Sync messages (clause 7.7.2.3).
    #[must_use]
    pub fn sync_interval(&self) -> Duration {
        log_interval_duration(self.log_sync_interval)
    }

    /// The PORT_DATA_SET management data field (clause 15.5.3.7.1).
    #[must_use]
    pub fn to_tlv(&self) -> PortDataSetTlv {
        PortDataSetTlv::from(self)
    }

    /// A portDS holding the members a PORT_DATA_SET data field carries;
    /// delayAsymmetry, portEnable and masterOnly keep their defaults.
    #[must_use]
    pub fn from_tlv(tlv: &PortDataSetTlv) -> Self {
        Self {
            port_state: tlv.port_state,
            log_min_delay_req_interval: tlv.log_min_delay_req_interval,
            mean_link_delay: tlv.peer_mean_path_delay,
            log_announce_interval: tlv.log_announce_interval,
            announce_receipt_timeout: tlv.announce_receipt_timeout,
            log_sync_interval: tlv.log_sync_interval,
            delay_mechanism: tlv.delay_mechanism,
            log_min_pdelay_req_interval: tlv.log_min_pdelay_req_interval,
            version_number: tlv.version_number,
            minor_version_number: tlv.minor_version_number,
            ..Self::new(tlv.port_identity)
        }
    }
}

impl From<&PortDS> for PortDataSetTlv {
    /// The version numbers are masked to the 4 bits the data field has.
    fn from(ds: &PortDS) -> Self {
        Self {
            port_identity: ds.port_identity,
            port_state: ds.port_state,
            log_min_delay_req_interval: ds.log_min_delay_req_interval,
            peer_mean_path_delay: ds.mean_link_delay,
            log_announce_interval: ds.log_announce_interval,
            announce_receipt_timeout: ds.announce_receipt_timeout,
            log_sync_interval: ds.log_sync_interval,
            delay_mechanism: ds.delay_mechanism,
            log_min_pdelay_req_interval: ds.log_min_pdelay_req_interval,
            version_number: ds.version_number & 0x0F,
            minor_version_number: ds.minor_version_number & 0x0F,
        }
    }
}

impl From<&PortDataSetTlv> for PortDS {
    fn from(tlv: &PortDataSetTlv) -> Self {
        Self::from_tlv(tlv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ClockIdentity;

    #[test]
    fn intervals() {
        assert_eq!(log_interval_duration(0), Duration::from_secs(1));
        assert_eq!(log_interval_duration(1), Duration::from_secs(2));
        assert_eq!(log_interval_duration(-1), Duration::from_nanos(500_000_000));
        assert_eq!(log_interval_duration(-3), Duration::from_nanos(125_000_000));
        assert_eq!(log_interval_duration(127), Duration::from_secs(1 << 40));
        assert_eq!(log_interval_duration(i8::MAX), log_interval_duration(40));
        assert_eq!(log_interval_duration(i8::MIN), log_interval_duration(-40));
        assert!(log_interval_duration(i8::MIN) > Duration::ZERO);
    }

    #[test]
    fn defaults_and_timeouts() {
        let ds = PortDS::default();
        assert_eq!(ds.port_state, PortState::Initializing);
        assert_eq!(ds.log_announce_interval, 1);
        assert_eq!(ds.announce_receipt_timeout, 3);
        assert_eq!(ds.log_sync_interval, 0);
        assert_eq!(ds.log_min_delay_req_interval, 0);
        assert_eq!(ds.delay_mechanism, DelayMechanism::E2e);
        assert_eq!((ds.version_number, ds.minor_version_number), (2, 1));
        assert_eq!(ds.announce_interval(), Duration::from_secs(2));
        assert_eq!(
            ds.announce_receipt_timeout_interval(),
            Duration::from_secs(6)
        );
        assert_eq!(ds.sync_interval(), Duration::from_secs(1));
    }

    #[test]
    fn tlv_round_trip() {
        let mut ds = PortDS::new(PortIdentity {
            clock_identity: ClockIdentity([2; 8]),
            port_number: 7,
        });
        ds.port_state = PortState::Slave;
        ds.mean_link_delay = TimeInterval::from_nanos(1234);
        ds.delay_mechanism = DelayMechanism::P2p;
        ds.log_announce_interval = -2;
        ds.log_sync_interval = -4;
        ds.log_min_pdelay_req_interval = -1;
        ds.announce_receipt_timeout = 5;
        let tlv = ds.to_tlv();
        assert_eq!(tlv.peer_mean_path_delay, TimeInterval::from_nanos(1234));
        assert_eq!(tlv.port_state, PortState::Slave);
        assert_eq!(tlv.version_number, 2);
        assert_eq!(PortDS::from(&tlv), ds);

        // Members the data field does not carry fall back to defaults.
        ds.master_only = true;
        ds.delay_asymmetry = TimeInterval::from_nanos(5);
        let back = PortDS::from_tlv(&ds.to_tlv());
        assert!(!back.master_only);
        assert_eq!(back.delay_asymmetry, TimeInterval::ZERO);

        ds.version_number = 0x12;
        assert_eq!(ds.to_tlv().version_number, 2);
    }
}
