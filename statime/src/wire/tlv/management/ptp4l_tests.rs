//! The management TLVs of real linuxptp 3.1.1 messages (ptp4l responses and
//! pmc requests, `tests/fixtures/ptp4l/mgmt-*.bin`), checked field by field
//! against what Wireshark 4.0.17 decoded (the `.tshark.txt` beside each
//! fixture; the lines are cited as `tshark: field=value`).

use super::*;
use crate::wire::messages::ManagementAction;
use crate::wire::tlv::{RawTlv, TlvWriter};
use crate::wire::{ClockAccuracy, Message, MessageBody, TimeSource};

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../../../tests/fixtures/ptp4l/", $name, ".bin")).as_slice()
    };
}

/// The master's and the slave's clock identities (00:00:5e:00:53:0a/0b).
const MASTER: ClockIdentity = ClockIdentity([0x00, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x53, 0x0a]);

/// Parse a whole fixture message, check it re-emits to the same octets and
/// carries one TLV, and return it with its action.
fn one_tlv(bytes: &[u8]) -> (ManagementAction, RawTlv<'_>, &[u8]) {
    let m = Message::parse(bytes).expect("fixture parses");
    let mut out = [0u8; 512];
    let n = m.emit(&mut out).expect("fixture re-emits");
    assert_eq!(out.get(..n), Some(bytes), "message re-emission");
    let MessageBody::Management(body) = m.body else {
        panic!("not a management message: {:?}", m.body)
    };
    let mut it = m.suffix.iter();
    let raw = it.next().expect("one TLV");
    assert!(it.next().is_none(), "exactly one TLV");
    (body.action, raw, m.suffix.as_bytes())
}

/// Parse the MANAGEMENT TLV of a fixture, check the action, and check that
/// the typed TLV re-emits to the exact TLV octets ptp4l sent.
fn management(bytes: &[u8], action: ManagementAction) -> ManagementTlv<'_> {
    let (got_action, raw, tlv_bytes) = one_tlv(bytes);
    assert_eq!(got_action, action);
    assert_eq!(raw.tlv_type, TlvType::Management);
    let t = ManagementTlv::parse(raw).expect("management TLV parses");
    let mut out = [0u8; 512];
    let mut w = TlvWriter::new(&mut out);
    w.push(&t).expect("re-emits");
    assert_eq!(w.finish().as_bytes(), tlv_bytes, "typed TLV re-emission");
    // The generic dispatch agrees.
    assert_eq!(
        super::super::Tlv::parse(raw),
        Ok(super::super::Tlv::Management(t))
    );
    t
}

fn response(bytes: &[u8]) -> ManagementTlv<'_> {
    management(bytes, ManagementAction::Response)
}

#[test]
fn response_default_data_set() {
    let t = response(fixture!("mgmt-response-default_data_set"));
    assert_eq!(t.management_id, ManagementId::DefaultDataSet); // managementId=8192
    let ManagementData::DefaultDataSet(d) = t.data else {
        panic!("{:?}", t.data)
    };
    assert!(d.two_step_flag); // tshark: ptp.v2.mm.twoStep=1
    assert!(!d.slave_only); // tshark: ptp.v2.mm.SlavOnly=0
    assert_eq!(d.number_ports, 1); // tshark: ptp.v2.mm.numberPorts=1
    assert_eq!(d.priority1, 10); // tshark: ptp.v2.mm.priority1=10
    assert_eq!(d.clock_quality.clock_class, 248); // tshark: ptp.v2.mm.clockclass=248
    // tshark: ptp.v2.mm.clockaccuracy=0xfe
    assert_eq!(
        d.clock_quality.clock_accuracy,
        ClockAccuracy::UnknownAccuracy
    );
    // tshark: ptp.v2.mm.clockvariance=65535
    assert_eq!(d.clock_quality.offset_scaled_log_variance, 65535);
    assert_eq!(d.priority2, 128); // tshark: ptp.v2.mm.priority2=128
    assert_eq!(d.clock_identity, MASTER); // tshark: ptp.v2.mm.clockidentity=0x00005efffe00530a
    assert_eq!(d.domain_number, 0); // tshark: ptp.v2.mm.domainNumber=0
}

#[test]
fn response_current_data_set() {
    let t = response(fixture!("mgmt-response-current_data_set"));
    assert_eq!(t.management_id, ManagementId::CurrentDataSet); // managementId=8193
    let ManagementData::CurrentDataSet(d) = t.data else {
        panic!("{:?}", t.data)
    };
    assert_eq!(d.steps_removed, 0); // tshark: ptp.v2.mm.stepsRemoved=0
    // tshark: ptp.v2.mm.offset.ns=0, ptp.v2.mm.offset.subns=0
    assert_eq!(d.offset_from_master, TimeInterval::ZERO);
    // tshark: ptp.v2.mm.pathDelay.ns=0, ptp.v2.mm.pathDelay.subns=0
    assert_eq!(d.mean_path_delay, TimeInterval::ZERO);
}

#[test]
fn response_parent_data_set() {
    let t = response(fixture!("mgmt-response-parent_data_set"));
    assert_eq!(t.management_id, ManagementId::ParentDataSet); // managementId=8194
    let ManagementData::ParentDataSet(d) = t.data else {
        panic!("{:?}", t.data)
    };
    // tshark: ptp.v2.mm.parentclockidentity=0x00005efffe00530a
    assert_eq!(d.parent_port_identity.clock_identity, MASTER);
    assert_eq!(d.parent_port_identity.port_number, 0); // tshark: parentsourceportid=0
    assert!(!d.parent_stats); // tshark: ptp.v2.mm.parentstats=0
    // tshark: ptp.v2.mm.observedParentOffsetScaledLogVariance=65535
    assert_eq!(d.observed_parent_offset_scaled_log_variance, 65535);
    // tshark: ptp.v2.mm.observedParentClockPhaseChangeRate=2147483647
    assert_eq!(d.observed_parent_clock_phase_change_rate, 2_147_483_647);
    assert_eq!(d.grandmaster_priority1, 10); // tshark: grandmasterPriority1=10
    assert_eq!(d.grandmaster_clock_quality.clock_class, 248); // grandmasterclockclass=248
    assert_eq!(
        d.grandmaster_clock_quality.clock_accuracy, // grandmasterclockaccuracy=0xfe
        ClockAccuracy::UnknownAccuracy
    );
    // tshark: ptp.v2.mm.grandmasterclockvariance=65535
    assert_eq!(
        d.grandmaster_clock_quality.offset_scaled_log_variance,
        65535
    );
    assert_eq!(d.grandmaster_priority2, 128); // tshark: grandmasterPriority2=128
    assert_eq!(d.grandmaster_identity, MASTER); // grandmasterclockidentity=0x00005efffe00530a
}

#[test]
fn response_time_properties_data_set() {
    let t = response(fixture!("mgmt-response-time_properties_data_set"));
    assert_eq!(t.management_id, ManagementId::TimePropertiesDataSet); // 8195
    let ManagementData::TimePropertiesDataSet(d) = t.data else {
        panic!("{:?}", t.data)
    };
    assert_eq!(d.current_utc_offset, 37); // tshark: ptp.v2.mm.currentutcoffset=37
    assert!(!d.leap61); // tshark: ptp.v2.mm.li61=0
    assert!(!d.leap59); // tshark: ptp.v2.mm.li59=0
    assert!(!d.current_utc_offset_valid); // tshark: CurrentUTCOffsetValid=0
    assert!(!d.ptp_timescale); // tshark: ptp.v2.mm.ptptimescale=0
    assert!(!d.time_traceable); // tshark: ptp.v2.mm.timeTraceable=0
    assert!(!d.frequency_traceable); // tshark: ptp.v2.mm.frequencyTraceable=0
    // tshark: ptp.v2.mm.timesource=0xa0
    assert_eq!(d.time_source, TimeSource::InternalOscillator);
}

#[test]
fn response_port_data_set() {
    let t = response(fixture!("mgmt-response-port_data_set"));
    assert_eq!(t.management_id, ManagementId::PortDataSet); // managementId=8196
    let ManagementData::PortDataSet(d) = t.data else {
        panic!("{:?}", t.data)
    };
    // tshark: ptp.v2.mm.clockidentity=0x00005efffe00530a, PortNumber=1
    assert_eq!(
        d.port_identity,
        PortIdentity {
            clock_identity: MASTER,
            port_number: 1
        }
    );
    assert_eq!(d.port_state, PortState::Master); // tshark: ptp.v2.mm.portState=6
    assert_eq!(d.log_min_delay_req_interval, 0); // tshark: logMinDelayReqInterval=0
    // tshark: peerMeanPathDelay.ns=0, peerMeanPathDelay.subns=0
    assert_eq!(d.peer_mean_path_delay, TimeInterval::ZERO);
    assert_eq!(d.log_announce_interval, 0); // tshark: logAnnounceInterval=0
    assert_eq!(d.announce_receipt_timeout, 3); // tshark: announceReceiptTimeout=3
    assert_eq!(d.log_sync_interval, -1); // tshark: ptp.v2.mm.logSyncInterval=-1
    assert_eq!(d.delay_mechanism, DelayMechanism::E2e); // tshark: delayMechanism=1
    assert_eq!(d.log_min_pdelay_req_interval, 0); // tshark: logMinPdelayReqInterval=0
    assert_eq!(d.version_number, 2); // tshark: ptp.v2.mm.versionNumber=2
    assert_eq!(d.minor_version_number, 0); // (tshark shows the whole octet: 2)
}

#[test]
fn response_time_status_np() {
    // tshark does not decode linuxptp's IDs; the values below are read off
    // ptp.v2.mm.data=00:..:00:00:00:5e:ff:fe:00:53:0a (50 octets).
    let t = response(fixture!("mgmt-response-time_status_np"));
    assert_eq!(t.management_id, ManagementId::TimeStatusNp); // managementId=49152
    let ManagementData::TimeStatusNp(d) = t.data else {
        panic!("{:?}", t.data)
    };
    assert_eq!(
        d,
        TimeStatusNpTlv {
            master_offset: 0,
            ingress_time: 0,
            cumulative_scaled_rate_offset: 0,
            scaled_last_gm_phase_change: 0,
            gm_time_base_indicator: 0,
            last_gm_phase_change: 0,
            gm_present: 0,
            gm_identity: MASTER,
        }
    );
    assert!(!d.is_gm_present());
}

#[test]
fn response_scalars() {
    let cases = [
        // tshark: managementId=8197, ptp.v2.mm.priority1=10
        (
            "priority1",
            fixture!("mgmt-response-priority1"),
            ManagementId::Priority1,
            10,
        ),
        // tshark: managementId=8199, ptp.v2.mm.domainNumber=0
        (
            "domain",
            fixture!("mgmt-response-domain"),
            ManagementId::Domain,
            0,
        ),
        // tshark: managementId=8204, ptp.v2.mm.versionNumber=2
        (
            "version",
            fixture!("mgmt-response-version_number"),
            ManagementId::VersionNumber,
            2,
        ),
        // tshark: managementId=24576, ptp.v2.mm.delayMechanism=1
        (
            "delay",
            fixture!("mgmt-response-delay_mechanism"),
            ManagementId::DelayMechanism,
            1,
        ),
        // tshark: managementId=8210, timeTraceable=0, frequencyTraceable=0
        (
            "traceability",
            fixture!("mgmt-response-traceability_properties"),
            ManagementId::TraceabilityProperties,
            0,
        ),
    ];
    for (name, bytes, id, value) in cases {
        let t = response(bytes);
        assert_eq!(t.management_id, id, "{name}");
        assert_eq!(t.data, ManagementData::Scalar { value }, "{name}");
    }
}

#[test]
fn response_user_description_is_padded() {
    // tshark: managementId=2, userDescription.length=0, ptp.v2.mm.pad=00.
    // The data field is an empty PTPText (1 octet) plus a pad octet;
    // TlvWriter adds the same pad, so the re-emission in `management`
    // matches byte for byte.
    let t = response(fixture!("mgmt-response-user_description"));
    assert_eq!(t.management_id, ManagementId::UserDescription);
    assert_eq!(
        t.data,
        ManagementData::UserDescription(PtpText::new(b"").unwrap())
    );
}

#[test]
fn response_null_management_is_empty() {
    // tshark: managementId=0, lengthField=2.
    let t = response(fixture!("mgmt-response-null_management"));
    assert_eq!(t, ManagementTlv::empty(ManagementId::NullManagement));
}

#[test]
fn responses_kept_raw() {
    // IDs without a typed body: their data must survive byte for byte
    // (checked in `management`); the raw lengths are tshark's lengthField
    // minus the 2 managementId octets.
    let cases = [
        // tshark: managementId=1, lengthField=48
        (
            fixture!("mgmt-response-clock_description"),
            ManagementId::ClockDescription,
            46,
        ),
        // tshark: managementId=8211, lengthField=4, timesource=0x00
        (
            fixture!("mgmt-response-timescale_properties"),
            ManagementId::TimescaleProperties,
            2,
        ),
        // tshark: managementId=49153, lengthField=10
        (
            fixture!("mgmt-response-grandmaster_settings_np"),
            ManagementId::GrandmasterSettingsNp,
            8,
        ),
        // tshark: managementId=49154, lengthField=10
        (
            fixture!("mgmt-response-port_data_set_np"),
            ManagementId::PortDataSetNp,
            8,
        ),
        // tshark: managementId=49157, lengthField=268
        (
            fixture!("mgmt-response-port_stats_np"),
            ManagementId::PortStatsNp,
            266,
        ),
    ];
    for (bytes, id, len) in cases {
        let t = response(bytes);
        assert_eq!(t.management_id, id);
        let ManagementData::Raw(data) = t.data else {
            panic!("{id:?}: {:?}", t.data)
        };
        assert_eq!(data.len(), len, "{id:?}");
    }
    // PORT_DATA_SET_NP, tshark: data=01:31:2d:00:00:00:00:01
    // (neighborPropDelayThresh 20000000 ns, asCapable 1).
    let t = response(fixture!("mgmt-response-port_data_set_np"));
    assert_eq!(
        t.data,
        ManagementData::Raw(&[0x01, 0x31, 0x2d, 0x00, 0x00, 0x00, 0x00, 0x01])
    );
}

#[test]
fn error_status_not_supported() {
    // tshark: tlvType=2, lengthField=8, managementErrorId=6,
    // managementId=49156, reserved=00:00:00:00.
    let bytes = fixture!("mgmt-error-status-port_properties_np");
    let (action, raw, tlv_bytes) = one_tlv(bytes);
    assert_eq!(action, ManagementAction::Response); // tshark: ptp.v2.mm.action=2
    assert_eq!(raw.tlv_type, TlvType::ManagementErrorStatus);
    let t = ManagementErrorStatusTlv::parse(raw).unwrap();
    assert_eq!(t.management_error_id, ManagementErrorId::NotSupported);
    assert_eq!(t.management_id, ManagementId::PortPropertiesNp);
    assert_eq!(t.display_data, None);
    let mut out = [0u8; 64];
    let mut w = TlvWriter::new(&mut out);
    w.push(&t).unwrap();
    assert_eq!(w.finish().as_bytes(), tlv_bytes);
    let m = Message::parse(bytes).unwrap();
    assert_eq!(ManagementErrorStatusTlv::find(&m.suffix), Some(Ok(t)));
    assert!(ManagementTlv::find(&m.suffix).is_none());
}

#[test]
fn empty_get_requests() {
    // pmc -z: lengthField=2, no data (tshark: lengthField=2).
    let cases = [
        (
            fixture!("mgmt-get-empty-default_data_set"),
            ManagementId::DefaultDataSet,
        ),
        (
            fixture!("mgmt-get-empty-null_management"),
            ManagementId::NullManagement,
        ),
        (
            fixture!("mgmt-get-empty-port_properties_np"),
            ManagementId::PortPropertiesNp,
        ),
        (
            fixture!("mgmt-get-empty-port_stats_np"),
            ManagementId::PortStatsNp,
        ),
    ];
    for (bytes, id) in cases {
        let t = management(bytes, ManagementAction::Get); // tshark: action=0
        assert_eq!(t, ManagementTlv::empty(id));
        let m = Message::parse(bytes).unwrap();
        assert_eq!(ManagementTlv::find(&m.suffix), Some(Ok(t)));
    }
}

#[test]
fn zero_filled_get_requests() {
    // Without -z, pmc sends a GET with a data-set-sized body of zeros.
    let t = management(fixture!("mgmt-get-default_data_set"), ManagementAction::Get);
    assert_eq!(
        t.data,
        ManagementData::DefaultDataSet(DefaultDataSetTlv {
            clock_quality: ClockQuality {
                clock_class: 0,
                clock_accuracy: ClockAccuracy::Unknown(0),
                offset_scaled_log_variance: 0,
            },
            ..DefaultDataSetTlv::default()
        })
    );
    // tshark (mgmt-get-port_data_set): portState=0, delayMechanism=0, ...
    let t = management(fixture!("mgmt-get-port_data_set"), ManagementAction::Get);
    let ManagementData::PortDataSet(p) = t.data else {
        panic!("{:?}", t.data)
    };
    assert_eq!(p.port_state, PortState::Unknown(0));
    assert_eq!(p.delay_mechanism, DelayMechanism::Unknown(0));
    assert_eq!(p.port_identity, PortIdentity::default());
    let rest = [
        (
            fixture!("mgmt-get-current_data_set"),
            ManagementId::CurrentDataSet,
        ),
        (
            fixture!("mgmt-get-parent_data_set"),
            ManagementId::ParentDataSet,
        ),
        (
            fixture!("mgmt-get-time_properties_data_set"),
            ManagementId::TimePropertiesDataSet,
        ),
        (
            fixture!("mgmt-get-time_status_np"),
            ManagementId::TimeStatusNp,
        ),
        (fixture!("mgmt-get-priority1"), ManagementId::Priority1),
        (fixture!("mgmt-get-domain"), ManagementId::Domain),
        (
            fixture!("mgmt-get-version_number"),
            ManagementId::VersionNumber,
        ),
        (
            fixture!("mgmt-get-delay_mechanism"),
            ManagementId::DelayMechanism,
        ),
        (
            fixture!("mgmt-get-traceability_properties"),
            ManagementId::TraceabilityProperties,
        ),
        (
            fixture!("mgmt-get-timescale_properties"),
            ManagementId::TimescaleProperties,
        ),
        (
            fixture!("mgmt-get-user_description"),
            ManagementId::UserDescription,
        ),
        (
            fixture!("mgmt-get-clock_description"),
            ManagementId::ClockDescription,
        ),
        (
            fixture!("mgmt-get-grandmaster_settings_np"),
            ManagementId::GrandmasterSettingsNp,
        ),
        (
            fixture!("mgmt-get-port_data_set_np"),
            ManagementId::PortDataSetNp,
        ),
    ];
    for (bytes, id) in rest {
        let t = management(bytes, ManagementAction::Get);
        assert_eq!(t.management_id, id);
        assert_ne!(t.data, ManagementData::Empty, "{id:?}");
        assert!(t.data.fits(id), "{id:?}");
    }
}
