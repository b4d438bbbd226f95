//! managementId code points (IEEE 1588-2019 clause 15.5.2.3, table 59) and
//! the implementation-specific ones of linuxptp.

use crate::wire::macros::wire_enum;

wire_enum! {
    /// managementId (IEEE 1588-2019 clause 15.5.2.3, table 59), plus the
    /// implementation-specific range 0xC000-0xDFFF as used by linuxptp
    /// (the `*_NP` "non-portable" IDs of its `tlv.h`).
    ///
    /// Table 59 groups the IDs by the data set they touch; the data field of
    /// each is defined in the matching sub-clause of 15.5.3 (15.5.3.1
    /// generic, 15.5.3.3 defaultDS and clock-wide options, 15.5.3.4
    /// currentDS, 15.5.3.5 parentDS, 15.5.3.6 timePropertiesDS, 15.5.3.7
    /// portDS and port options, then the transparent clock and
    /// delay-mechanism options).
    pub enum ManagementId(u16) {
        /// NULL_PTP_MANAGEMENT (table 59; clause 15.5.3.1): no data, used to
        /// probe for PTP instances.
        NullManagement = 0x0000,
        /// CLOCK_DESCRIPTION (table 59; clause 15.5.3.1.2).
        ClockDescription = 0x0001,
        /// USER_DESCRIPTION (table 59; clause 15.5.3.1): one PTPText.
        UserDescription = 0x0002,
        /// SAVE_IN_NON_VOLATILE_STORAGE (table 59; clause 15.5.3.1).
        SaveInNonVolatileStorage = 0x0003,
        /// RESET_NON_VOLATILE_STORAGE (table 59; clause 15.5.3.1).
        ResetNonVolatileStorage = 0x0004,
        /// INITIALIZE (table 59; clause 15.5.3.1): an initializationKey.
        Initialize = 0x0005,
        /// FAULT_LOG (table 59; clause 15.5.3.1): the fault records.
        FaultLog = 0x0006,
        /// FAULT_LOG_RESET (table 59; clause 15.5.3.1).
        FaultLogReset = 0x0007,
        /// DEFAULT_DATA_SET (table 59; clause 15.5.3.3.1): the defaultDS.
        DefaultDataSet = 0x2000,
        /// CURRENT_DATA_SET (table 59; clause 15.5.3.4.1): the currentDS.
        CurrentDataSet = 0x2001,
        /// PARENT_DATA_SET (table 59; clause 15.5.3.5.1): the parentDS.
        ParentDataSet = 0x2002,
        /// TIME_PROPERTIES_DATA_SET (table 59; clause 15.5.3.6.1): the
        /// timePropertiesDS.
        TimePropertiesDataSet = 0x2003,
        /// PORT_DATA_SET (table 59; clause 15.5.3.7.1): the portDS.
        PortDataSet = 0x2004,
        /// PRIORITY1 (table 59; clause 15.5.3.3): defaultDS.priority1.
        Priority1 = 0x2005,
        /// PRIORITY2 (table 59; clause 15.5.3.3): defaultDS.priority2.
        Priority2 = 0x2006,
        /// DOMAIN (table 59; clause 15.5.3.3): defaultDS.domainNumber.
        Domain = 0x2007,
        /// SLAVE_ONLY (table 59; clause 15.5.3.3): defaultDS.slaveOnly (bit 0).
        SlaveOnly = 0x2008,
        /// LOG_ANNOUNCE_INTERVAL (table 59; clause 15.5.3.7).
        LogAnnounceInterval = 0x2009,
        /// ANNOUNCE_RECEIPT_TIMEOUT (table 59; clause 15.5.3.7).
        AnnounceReceiptTimeout = 0x200A,
        /// LOG_SYNC_INTERVAL (table 59; clause 15.5.3.7).
        LogSyncInterval = 0x200B,
        /// VERSION_NUMBER (table 59; clause 15.5.3.7): portDS.versionNumber.
        VersionNumber = 0x200C,
        /// ENABLE_PORT (table 59; clause 15.5.3.7): a COMMAND without data.
        EnablePort = 0x200D,
        /// DISABLE_PORT (table 59; clause 15.5.3.7): a COMMAND without data.
        DisablePort = 0x200E,
        /// TIME (table 59; clause 15.5.3): the instance's current time.
        Time = 0x200F,
        /// CLOCK_ACCURACY (table 59; clause 15.5.3.3).
        ClockAccuracy = 0x2010,
        /// UTC_PROPERTIES (table 59; clause 15.5.3.6.2).
        UtcProperties = 0x2011,
        /// TRACEABILITY_PROPERTIES (table 59; clause 15.5.3.6).
        TraceabilityProperties = 0x2012,
        /// TIMESCALE_PROPERTIES (table 59; clause 15.5.3.6).
        TimescaleProperties = 0x2013,
        /// UNICAST_NEGOTIATION_ENABLE (table 59; clause 15.5.3.7; clause 16.1).
        UnicastNegotiationEnable = 0x2014,
        /// PATH_TRACE_LIST (table 59; clause 15.5.3.3.6; clause 16.2).
        PathTraceList = 0x2015,
        /// PATH_TRACE_ENABLE (table 59; clause 15.5.3.3; clause 16.2).
        PathTraceEnable = 0x2016,
        /// GRANDMASTER_CLUSTER_TABLE (table 59; clause 15.5.3.3.13).
        GrandmasterClusterTable = 0x2017,
        /// UNICAST_MASTER_TABLE (table 59; clause 15.5.3.7.12).
        UnicastMasterTable = 0x2018,
        /// UNICAST_MASTER_MAX_TABLE_SIZE (table 59; clause 15.5.3.7).
        UnicastMasterMaxTableSize = 0x2019,
        /// ACCEPTABLE_MASTER_TABLE (table 59; clause 15.5.3.3).
        AcceptableMasterTable = 0x201A,
        /// ACCEPTABLE_MASTER_TABLE_ENABLED (table 59; clause 15.5.3.7).
        AcceptableMasterTableEnabled = 0x201B,
        /// ACCEPTABLE_MASTER_MAX_TABLE_SIZE (table 59; clause 15.5.3.3).
        AcceptableMasterMaxTableSize = 0x201C,
        /// ALTERNATE_MASTER (table 59; clause 15.5.3.7).
        AlternateMaster = 0x201D,
        /// ALTERNATE_TIME_OFFSET_ENABLE (table 59; clause 15.5.3.3; clause 16.3).
        AlternateTimeOffsetEnable = 0x201E,
        /// ALTERNATE_TIME_OFFSET_NAME (table 59; clause 15.5.3.3.9; clause 16.3).
        AlternateTimeOffsetName = 0x201F,
        /// ALTERNATE_TIME_OFFSET_MAX_KEY (table 59; clause 15.5.3.3; clause 16.3).
        AlternateTimeOffsetMaxKey = 0x2020,
        /// ALTERNATE_TIME_OFFSET_PROPERTIES (table 59; clause 15.5.3.3.11;
        /// clause 16.3).
        AlternateTimeOffsetProperties = 0x2021,
        /// EXTERNAL_PORT_CONFIGURATION_ENABLED (table 59, new in 2019).
        ExternalPortConfigurationEnabled = 0x3000,
        /// MASTER_ONLY (table 59, new in 2019): portDS.masterOnly.
        MasterOnly = 0x3001,
        /// HOLDOVER_UPGRADE_ENABLE (table 59, new in 2019).
        HoldoverUpgradeEnable = 0x3002,
        /// EXT_PORT_CONFIG_PORT_DATA_SET (table 59, new in 2019):
        /// externalPortConfigurationPortDS.
        ExtPortConfigPortDataSet = 0x3003,
        /// TRANSPARENT_CLOCK_DEFAULT_DATA_SET (table 59; clause 15.5.3).
        TransparentClockDefaultDataSet = 0x4000,
        /// TRANSPARENT_CLOCK_PORT_DATA_SET (table 59; clause 15.5.3).
        TransparentClockPortDataSet = 0x4001,
        /// PRIMARY_DOMAIN (table 59; clause 15.5.3): a transparent
        /// clock's primaryDomain.
        PrimaryDomain = 0x4002,
        /// DELAY_MECHANISM (table 59; clause 15.5.3): portDS.delayMechanism.
        DelayMechanism = 0x6000,
        /// LOG_MIN_PDELAY_REQ_INTERVAL (table 59; clause 15.5.3).
        LogMinPdelayReqInterval = 0x6001,
        /// TIME_STATUS_NP (linuxptp extension): servo offset and the
        /// 802.1AS time status of the clock.
        TimeStatusNp = 0xC000,
        /// GRANDMASTER_SETTINGS_NP (linuxptp extension): the clock quality
        /// and time properties a grandmaster announces.
        GrandmasterSettingsNp = 0xC001,
        /// PORT_DATA_SET_NP (linuxptp extension): neighborPropDelayThresh
        /// and asCapable of a port.
        PortDataSetNp = 0xC002,
        /// SUBSCRIBE_EVENTS_NP (linuxptp extension): push notifications to a
        /// management client.
        SubscribeEventsNp = 0xC003,
        /// PORT_PROPERTIES_NP (linuxptp extension): port identity, state,
        /// timestamping mode and interface name.
        PortPropertiesNp = 0xC004,
        /// PORT_STATS_NP (linuxptp extension): per message type RX/TX
        /// counters, in host (little-endian) byte order.
        PortStatsNp = 0xC005,
        /// SYNCHRONIZATION_UNCERTAIN_NP (linuxptp extension).
        SynchronizationUncertainNp = 0xC006,
        /// PORT_SERVICE_STATS_NP (linuxptp extension).
        PortServiceStatsNp = 0xC007,
        /// UNICAST_MASTER_TABLE_NP (linuxptp extension).
        UnicastMasterTableNp = 0xC008,
        /// PORT_HWCLOCK_NP (linuxptp extension): the PHC index of a port.
        PortHwclockNp = 0xC009,
        /// POWER_PROFILE_SETTINGS_NP (linuxptp extension): IEEE C37.238
        /// settings.
        PowerProfileSettingsNp = 0xC00A,
        /// CMLDS_INFO_NP (linuxptp extension): common mean link delay
        /// service state.
        CmldsInfoNp = 0xC00B,
        /// PORT_CORRECTIONS_NP (linuxptp extension): egress/ingress latency
        /// and delay asymmetry.
        PortCorrectionsNp = 0xC00C,
        /// EXTERNAL_GRANDMASTER_PROPERTIES_NP (linuxptp extension).
        ExternalGrandmasterPropertiesNp = 0xC00D,
    }
}

impl ManagementId {
    /// Whether the data field of this ID is one value octet followed by a
    /// reserved octet (clause 15.5.3; linuxptp's `management_tlv_datum`),
    /// carried as [`super::ManagementData::Scalar`].
    ///
    /// The octet is, by ID: an unsigned value (PRIORITY1, PRIORITY2,
    /// DOMAIN, ANNOUNCE_RECEIPT_TIMEOUT, PRIMARY_DOMAIN,
    /// ALTERNATE_TIME_OFFSET_MAX_KEY), a signed log2 interval
    /// (LOG_ANNOUNCE_INTERVAL, LOG_SYNC_INTERVAL,
    /// LOG_MIN_PDELAY_REQ_INTERVAL), a code point (CLOCK_ACCURACY,
    /// DELAY_MECHANISM, VERSION_NUMBER) or flags (SLAVE_ONLY, MASTER_ONLY,
    /// UNICAST_NEGOTIATION_ENABLE and PATH_TRACE_ENABLE in bit 0;
    /// TRACEABILITY_PROPERTIES in bits 4 and 5;
    /// SYNCHRONIZATION_UNCERTAIN_NP a linuxptp tri-state).
    #[must_use]
    pub fn is_scalar(self) -> bool {
        matches!(
            self,
            Self::Priority1
                | Self::Priority2
                | Self::Domain
                | Self::SlaveOnly
                | Self::LogAnnounceInterval
                | Self::AnnounceReceiptTimeout
                | Self::LogSyncInterval
                | Self::VersionNumber
                | Self::ClockAccuracy
                | Self::TraceabilityProperties
                | Self::UnicastNegotiationEnable
                | Self::PathTraceEnable
                | Self::AlternateTimeOffsetMaxKey
                | Self::MasterOnly
                | Self::PrimaryDomain
                | Self::DelayMechanism
                | Self::LogMinPdelayReqInterval
                | Self::SynchronizationUncertainNp
        )
    }

    /// Whether this is an implementation-specific ID (0xC000 to 0xDFFF,
    /// table 59), such as linuxptp's `*_NP` IDs.
    #[must_use]
    pub fn is_implementation_specific(self) -> bool {
        matches!(u16::from(self), 0xC000..=0xDFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_points() {
        // Spot checks against linuxptp tlv.h and Wireshark packet-ptp.c.
        let pairs = [
            (ManagementId::NullManagement, 0x0000),
            (ManagementId::FaultLogReset, 0x0007),
            (ManagementId::DefaultDataSet, 0x2000),
            (ManagementId::PortDataSet, 0x2004),
            (ManagementId::Time, 0x200F),
            (ManagementId::AlternateTimeOffsetProperties, 0x2021),
            (ManagementId::ExtPortConfigPortDataSet, 0x3003),
            (ManagementId::PrimaryDomain, 0x4002),
            (ManagementId::LogMinPdelayReqInterval, 0x6001),
            (ManagementId::PortPropertiesNp, 0xC004),
            (ManagementId::UnicastMasterTableNp, 0xC008),
            (ManagementId::ExternalGrandmasterPropertiesNp, 0xC00D),
        ];
        for (id, v) in pairs {
            assert_eq!(u16::from(id), v);
            assert_eq!(ManagementId::from(v), id);
        }
        assert_eq!(ManagementId::from(0x2022), ManagementId::Unknown(0x2022));
        assert!(ManagementId::TimeStatusNp.is_implementation_specific());
        assert!(ManagementId::Unknown(0xDFFF).is_implementation_specific());
        assert!(!ManagementId::DelayMechanism.is_implementation_specific());
        assert!(ManagementId::Priority1.is_scalar());
        assert!(!ManagementId::TimescaleProperties.is_scalar());
    }
}
