//! Management messages (IEEE 1588-2019 clause 15): a GET without data,
//! a RESPONSE with each typed data set, scalar and text data, linuxptp's
//! `*_NP` data sets, a COMMAND, and MANAGEMENT_ERROR_STATUS.

use statime::time::TimeInterval;
use statime::wire::messages::{ManagementAction, ManagementMessage};
use statime::wire::tlv::{
    CurrentDataSetTlv, DefaultDataSetTlv, DelayMechanism, ManagementData, ManagementErrorId,
    ManagementErrorStatusTlv, ManagementId, ManagementTlv, ParentDataSetTlv, PortDataSetTlv,
    PortPropertiesNpTlv, PortState, TimePropertiesDataSetTlv, TimeStatusNpTlv, TimestampType,
};
use statime::wire::{
    ClockAccuracy, ClockQuality, MessageBody, MessageType, PortIdentity, PtpText, TimeSource,
};

use super::cases::{
    BOUNDARY, Carrier, Case, EmittedTlv, MASTER, build, emit_tlv, header, master_port, slave_port,
};
use super::expect::{bytes, hex_id, subns};
use super::pcap::Transport;

/// A PTPText under tshark's names. tshark 4.0 quirk: it adds a PTPText
/// twice under the same field name (the text as a whole, then the text
/// inside it, next to its length), hence two occurrences.
fn text(t: EmittedTlv, field: &str, text: &str) -> EmittedTlv {
    t.with(field, text)
        .with(&format!("{field}.length"), text.len())
        .with(field, text)
}

/// The pad octet tshark shows after an odd-length management data field.
fn pad_if_odd(t: EmittedTlv, data_len: usize) -> EmittedTlv {
    if data_len % 2 == 1 {
        t.with("ptp.v2.mm.pad", "00")
    } else {
        t
    }
}

/// A CLOCK_DESCRIPTION RESPONSE (clause 15.5.3.1.2) of an ordinary clock
/// on IEEE 802.3. statime keeps this ID's data field raw, so this checks
/// that it passes through octet for octet under a TLV tshark decodes.
fn clock_description(data: &mut Vec<u8>) -> EmittedTlv {
    let mac = [0x00, 0x1b, 0x19, 0x00, 0x00, 0x01];
    let (physical, product, revision) = ("IEEE 802.3", "statime;lab;1", "0.1");
    let profile = [0x00, 0x1b, 0x19, 0x00, 0x01, 0x00]; // default E2E profile
    let ptp_text = |d: &mut Vec<u8>, s: &str| {
        d.push(u8::try_from(s.len()).expect("short"));
        d.extend_from_slice(s.as_bytes());
    };
    data.extend_from_slice(&[0x80, 0x00]); // clockType: ordinary clock
    ptp_text(data, physical);
    data.extend_from_slice(&[0x00, 0x06]);
    data.extend_from_slice(&mac);
    data.extend_from_slice(&[0x00, 0x03, 0x00, 0x06]); // IEEE 802.3, 6 octets
    data.extend_from_slice(&mac);
    data.extend_from_slice(&mac[..3]); // manufacturerIdentity
    data.push(0); // reserved
    ptp_text(data, product);
    ptp_text(data, revision);
    ptp_text(data, ""); // userDescription
    data.extend_from_slice(&profile);
    let t = management(&ManagementTlv {
        management_id: ManagementId::ClockDescription,
        data: ManagementData::Raw(data),
    })
    .with("ptp.v2.mm.clockType", "0x8000");
    let t = text(t, "ptp.v2.mm.physicalLayerProtocol", physical)
        .with("ptp.v2.mm.physicalAddressLength", mac.len())
        .with("ptp.v2.mm.physicalAddress", bytes(&mac))
        // The protocol address, like a PTPText, appears as a whole and
        // again next to its network protocol and length.
        .with("ptp.v2.mm.protocolAddress", bytes(&mac))
        .with("ptp.v2.mm.networkProtocol", 3)
        .with("ptp.v2.mm.protocolAddress.length", mac.len())
        .with("ptp.v2.mm.protocolAddress", bytes(&mac))
        .with("ptp.v2.mm.manufacturerIdentity", bytes(&mac[..3]))
        .with("ptp.v2.mm.reserved", "00");
    let t = text(t, "ptp.v2.mm.productDescription", product);
    let t = text(t, "ptp.v2.mm.revisionData", revision);
    let t =
        text(t, "ptp.v2.mm.userDescription", "").with("ptp.v2.mm.profileIdentity", bytes(&profile));
    pad_if_odd(t, data.len())
}

/// A TimeInterval under tshark's `<prefix>.ns` / `<prefix>.subns` (with
/// the FT_UINT64 quirk of the correction field, see `Expect::correction`).
fn interval(t: EmittedTlv, prefix: &str, v: TimeInterval) -> EmittedTlv {
    let bits = v.to_bits();
    t.with(&format!("{prefix}.ns"), (bits >> 16) as u64)
        .with(&format!("{prefix}.subns"), subns(bits))
}

/// A MANAGEMENT TLV: managementId, and the dataField as octets (pad octet
/// included) when there is one.
fn management(t: &ManagementTlv<'_>) -> EmittedTlv {
    let e = emit_tlv(Carrier::Management, t);
    let data = e.value()[2..].to_vec();
    management_expecting(e, t, &data)
}

/// A MANAGEMENT TLV whose dataField tshark does not decode (linuxptp's
/// `*_NP` IDs): the octets it shows must be `data`, assembled here
/// independently of statime's emitter from linuxptp's layout.
fn management_expecting(e: EmittedTlv, t: &ManagementTlv<'_>, data: &[u8]) -> EmittedTlv {
    let e = e.with("ptp.v2.mm.managementId", u16::from(t.management_id));
    if data.is_empty() {
        e
    } else {
        e.with("ptp.v2.mm.data", bytes(data))
    }
}

fn quality(t: EmittedTlv, prefix: &str, q: ClockQuality) -> EmittedTlv {
    t.with(&format!("ptp.v2.mm.{prefix}clockclass"), q.clock_class)
        .with(
            &format!("ptp.v2.mm.{prefix}clockaccuracy"),
            format!("0x{:02x}", u8::from(q.clock_accuracy)),
        )
        .with(
            &format!("ptp.v2.mm.{prefix}clockvariance"),
            q.offset_scaled_log_variance,
        )
}

fn default_data_set(d: &DefaultDataSetTlv) -> EmittedTlv {
    let t = management(&ManagementTlv {
        management_id: ManagementId::DefaultDataSet,
        data: ManagementData::DefaultDataSet(*d),
    })
    .with("ptp.v2.mm.twoStep", u8::from(d.two_step_flag))
    .with("ptp.v2.mm.SlavOnly", u8::from(d.slave_only))
    .with("ptp.v2.mm.reserved", "00")
    .with("ptp.v2.mm.numberPorts", d.number_ports)
    .with("ptp.v2.mm.priority1", d.priority1);
    quality(t, "", d.clock_quality)
        .with("ptp.v2.mm.priority2", d.priority2)
        .with("ptp.v2.mm.clockidentity", hex_id(d.clock_identity))
        .with("ptp.v2.mm.domainNumber", d.domain_number)
        .with("ptp.v2.mm.reserved", "00")
}

fn current_data_set(d: &CurrentDataSetTlv) -> EmittedTlv {
    let t = management(&ManagementTlv {
        management_id: ManagementId::CurrentDataSet,
        data: ManagementData::CurrentDataSet(*d),
    })
    .with("ptp.v2.mm.stepsRemoved", d.steps_removed);
    let t = interval(t, "ptp.v2.mm.offset", d.offset_from_master);
    interval(t, "ptp.v2.mm.pathDelay", d.mean_path_delay)
}

fn parent_data_set(d: &ParentDataSetTlv) -> EmittedTlv {
    let t = management(&ManagementTlv {
        management_id: ManagementId::ParentDataSet,
        data: ManagementData::ParentDataSet(*d),
    })
    .with(
        "ptp.v2.mm.parentclockidentity",
        hex_id(d.parent_port_identity.clock_identity),
    )
    .with(
        "ptp.v2.mm.parentsourceportid",
        d.parent_port_identity.port_number,
    )
    .with("ptp.v2.mm.parentstats", u8::from(d.parent_stats))
    .with("ptp.v2.mm.reserved", "00")
    .with(
        "ptp.v2.mm.observedParentOffsetScaledLogVariance",
        d.observed_parent_offset_scaled_log_variance,
    )
    .with(
        "ptp.v2.mm.observedParentClockPhaseChangeRate",
        d.observed_parent_clock_phase_change_rate,
    )
    .with("ptp.v2.mm.grandmasterPriority1", d.grandmaster_priority1);
    quality(t, "grandmaster", d.grandmaster_clock_quality)
        .with("ptp.v2.mm.grandmasterPriority2", d.grandmaster_priority2)
        .with(
            "ptp.v2.mm.grandmasterclockidentity",
            hex_id(d.grandmaster_identity),
        )
}

fn time_properties_data_set(d: &TimePropertiesDataSetTlv) -> EmittedTlv {
    management(&ManagementTlv {
        management_id: ManagementId::TimePropertiesDataSet,
        data: ManagementData::TimePropertiesDataSet(*d),
    })
    .with("ptp.v2.mm.currentutcoffset", d.current_utc_offset)
    .with("ptp.v2.mm.li61", u8::from(d.leap61))
    .with("ptp.v2.mm.li59", u8::from(d.leap59))
    .with(
        "ptp.v2.mm.CurrentUTCOffsetValid",
        u8::from(d.current_utc_offset_valid),
    )
    .with("ptp.v2.mm.ptptimescale", u8::from(d.ptp_timescale))
    .with("ptp.v2.mm.timeTraceable", u8::from(d.time_traceable))
    .with(
        "ptp.v2.mm.frequencyTraceable",
        u8::from(d.frequency_traceable),
    )
    .with(
        "ptp.v2.mm.timesource",
        format!("0x{:02x}", u8::from(d.time_source)),
    )
}

fn port_data_set(d: &PortDataSetTlv) -> EmittedTlv {
    let t = management(&ManagementTlv {
        management_id: ManagementId::PortDataSet,
        data: ManagementData::PortDataSet(*d),
    })
    .with(
        "ptp.v2.mm.clockidentity",
        hex_id(d.port_identity.clock_identity),
    )
    .with("ptp.v2.mm.PortNumber", d.port_identity.port_number)
    .with("ptp.v2.mm.portState", u8::from(d.port_state))
    .with(
        "ptp.v2.mm.logMinDelayReqInterval",
        d.log_min_delay_req_interval,
    );
    interval(t, "ptp.v2.mm.peerMeanPathDelay", d.peer_mean_path_delay)
        .with("ptp.v2.mm.logAnnounceInterval", d.log_announce_interval)
        .with(
            "ptp.v2.mm.announceReceiptTimeout",
            d.announce_receipt_timeout,
        )
        .with("ptp.v2.mm.logSyncInterval", d.log_sync_interval)
        .with("ptp.v2.mm.delayMechanism", u8::from(d.delay_mechanism))
        .with(
            "ptp.v2.mm.logMinPdelayReqInterval",
            d.log_min_pdelay_req_interval,
        )
        .with("ptp.v2.mm.versionNumber", d.version_number)
}

/// Every Management case, in capture order.
pub(crate) fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut seq = 100;
    let mut push = |name: &str, action: ManagementAction, tlv: EmittedTlv| {
        let mut h = header(MessageType::Management, seq, 0x7F, |_| {});
        seq += 1;
        h.control_field = MessageType::Management.legacy_control_field();
        let (target, from) = if action == ManagementAction::Get {
            (PortIdentity::ALL, slave_port())
        } else {
            (slave_port(), master_port())
        };
        h.source_port_identity = from;
        let body = MessageBody::Management(ManagementMessage {
            target_port_identity: target,
            starting_boundary_hops: 2,
            boundary_hops: 1,
            action,
        });
        cases.push(build(name, Transport::Udp4, h, body, vec![tlv]));
    };

    // GET with an empty data field (lengthField 2), as pmc sends it.
    push(
        "management GET DEFAULT_DATA_SET (no data)",
        ManagementAction::Get,
        management(&ManagementTlv::empty(ManagementId::DefaultDataSet)),
    );
    push(
        "management GET NULL_PTP_MANAGEMENT",
        ManagementAction::Get,
        management(&ManagementTlv::empty(ManagementId::NullManagement)),
    );

    push(
        "management RESPONSE DEFAULT_DATA_SET",
        ManagementAction::Response,
        default_data_set(&DefaultDataSetTlv {
            two_step_flag: true,
            slave_only: false,
            number_ports: 4,
            priority1: 10,
            clock_quality: ClockQuality {
                clock_class: 6,
                clock_accuracy: ClockAccuracy::Ns25,
                offset_scaled_log_variance: 0x4e5d,
            },
            priority2: 128,
            clock_identity: MASTER,
            domain_number: 24,
        }),
    );
    push(
        "management RESPONSE DEFAULT_DATA_SET slaveOnly",
        ManagementAction::Response,
        default_data_set(&DefaultDataSetTlv {
            two_step_flag: false,
            slave_only: true,
            number_ports: 1,
            priority1: 255,
            clock_quality: ClockQuality::default(),
            priority2: 255,
            clock_identity: MASTER,
            domain_number: 0,
        }),
    );
    push(
        "management RESPONSE CURRENT_DATA_SET",
        ManagementAction::Response,
        current_data_set(&CurrentDataSetTlv {
            steps_removed: 3,
            offset_from_master: TimeInterval::from_bits(-((1_234 << 16) | 0x2000)),
            mean_path_delay: TimeInterval::from_bits((56_789 << 16) | 0x0001),
        }),
    );
    push(
        "management RESPONSE PARENT_DATA_SET",
        ManagementAction::Response,
        parent_data_set(&ParentDataSetTlv {
            parent_port_identity: PortIdentity {
                clock_identity: BOUNDARY,
                port_number: 3,
            },
            parent_stats: true,
            observed_parent_offset_scaled_log_variance: 0xffff,
            observed_parent_clock_phase_change_rate: -123_456,
            grandmaster_priority1: 128,
            grandmaster_clock_quality: ClockQuality {
                clock_class: 7,
                clock_accuracy: ClockAccuracy::Us1,
                offset_scaled_log_variance: 0x1234,
            },
            grandmaster_priority2: 127,
            grandmaster_identity: MASTER,
        }),
    );
    push(
        "management RESPONSE TIME_PROPERTIES_DATA_SET",
        ManagementAction::Response,
        time_properties_data_set(&TimePropertiesDataSetTlv {
            current_utc_offset: 37,
            leap61: true,
            leap59: false,
            current_utc_offset_valid: true,
            ptp_timescale: true,
            time_traceable: false,
            frequency_traceable: true,
            time_source: TimeSource::Gnss,
        }),
    );
    push(
        "management RESPONSE PORT_DATA_SET",
        ManagementAction::Response,
        port_data_set(&PortDataSetTlv {
            port_identity: master_port(),
            port_state: PortState::Master,
            log_min_delay_req_interval: -4,
            peer_mean_path_delay: TimeInterval::from_bits((321 << 16) | 0x8000),
            log_announce_interval: 1,
            announce_receipt_timeout: 3,
            log_sync_interval: -3,
            delay_mechanism: DelayMechanism::P2p,
            log_min_pdelay_req_interval: 0,
            version_number: 2,
            minor_version_number: 0,
        }),
    );

    // 2019 portDS: minorVersionNumber 1 in the high nibble of the
    // version octet.
    push(
        "management RESPONSE PORT_DATA_SET version 2.1",
        ManagementAction::Response,
        port_data_set(&PortDataSetTlv {
            port_identity: slave_port(),
            port_state: PortState::Slave,
            log_min_delay_req_interval: 0,
            peer_mean_path_delay: TimeInterval::ZERO,
            log_announce_interval: 0,
            announce_receipt_timeout: 2,
            log_sync_interval: 0,
            delay_mechanism: DelayMechanism::E2e,
            log_min_pdelay_req_interval: 0,
            version_number: 2,
            minor_version_number: 1,
        }),
    );
    // linuxptp's struct time_status_np: master_offset, ingress_time,
    // cumulativeScaledRateOffset, scaledLastGmPhaseChange,
    // gmTimeBaseIndicator, lastGmPhaseChange (ScaledNs, 96 bits), gmPresent,
    // gmIdentity; 50 octets.
    let status = TimeStatusNpTlv {
        master_offset: -1_500,
        ingress_time: 1_700_000_000_123_456_789,
        cumulative_scaled_rate_offset: -2048,
        scaled_last_gm_phase_change: 7,
        gm_time_base_indicator: 1,
        last_gm_phase_change: -0x1_0000,
        gm_present: 1,
        gm_identity: MASTER,
    };
    let mut data = Vec::new();
    data.extend_from_slice(&status.master_offset.to_be_bytes());
    data.extend_from_slice(&status.ingress_time.to_be_bytes());
    data.extend_from_slice(&status.cumulative_scaled_rate_offset.to_be_bytes());
    data.extend_from_slice(&status.scaled_last_gm_phase_change.to_be_bytes());
    data.extend_from_slice(&status.gm_time_base_indicator.to_be_bytes());
    data.extend_from_slice(&status.last_gm_phase_change.to_be_bytes()[4..]);
    data.extend_from_slice(&status.gm_present.to_be_bytes());
    data.extend_from_slice(&status.gm_identity.0);
    let tlv = ManagementTlv {
        management_id: ManagementId::TimeStatusNp,
        data: ManagementData::TimeStatusNp(status),
    };
    push(
        "management RESPONSE TIME_STATUS_NP",
        ManagementAction::Response,
        management_expecting(emit_tlv(Carrier::Management, &tlv), &tlv, &data),
    );
    // linuxptp's struct port_properties_np: portIdentity, port_state,
    // timestamping, interface (PTPText); padded to an even length.
    let properties = PortPropertiesNpTlv {
        port_identity: master_port(),
        port_state: PortState::Master,
        timestamping: TimestampType::Hardware,
        interface: PtpText::new(b"eth0").expect("short"),
    };
    let mut data = properties.port_identity.to_bytes().to_vec();
    data.extend_from_slice(&[6, 1, 4]);
    data.extend_from_slice(b"eth0");
    data.push(0);
    let tlv = ManagementTlv {
        management_id: ManagementId::PortPropertiesNp,
        data: ManagementData::PortPropertiesNp(properties),
    };
    push(
        "management RESPONSE PORT_PROPERTIES_NP",
        ManagementAction::Response,
        management_expecting(emit_tlv(Carrier::Management, &tlv), &tlv, &data),
    );
    let user = PtpText::new(b"statime;lab;rack 3").expect("short");
    push(
        "management RESPONSE USER_DESCRIPTION",
        ManagementAction::Response,
        pad_if_odd(
            text(
                management(&ManagementTlv {
                    management_id: ManagementId::UserDescription,
                    data: ManagementData::UserDescription(user),
                }),
                "ptp.v2.mm.userDescription",
                user.as_str().expect("UTF-8"),
            ),
            user.wire_len(),
        ),
    );
    push(
        "management RESPONSE PRIORITY1",
        ManagementAction::Response,
        management(&ManagementTlv {
            management_id: ManagementId::Priority1,
            data: ManagementData::Scalar { value: 10 },
        })
        .with("ptp.v2.mm.priority1", 10)
        .with("ptp.v2.mm.reserved", "00"),
    );
    push(
        "management RESPONSE LOG_SYNC_INTERVAL",
        ManagementAction::Response,
        management(&ManagementTlv {
            management_id: ManagementId::LogSyncInterval,
            data: ManagementData::Scalar {
                value: (-3i8) as u8,
            },
        })
        .with("ptp.v2.mm.logSyncInterval", -3)
        .with("ptp.v2.mm.reserved", "00"),
    );
    push(
        "management COMMAND ENABLE_PORT",
        ManagementAction::Command,
        management(&ManagementTlv::empty(ManagementId::EnablePort)),
    );
    let mut description = Vec::new();
    push(
        "management RESPONSE CLOCK_DESCRIPTION (raw data)",
        ManagementAction::Response,
        clock_description(&mut description),
    );
    let error = |e: ManagementErrorStatusTlv<'_>| {
        let mut t = emit_tlv(Carrier::Management, &e)
            .with(
                "ptp.v2.mm.managementErrorId",
                u16::from(e.management_error_id),
            )
            .with("ptp.v2.mm.managementId", u16::from(e.management_id))
            .with("ptp.v2.mm.reserved", "00000000");
        if let Some(d) = e.display_data {
            t = text(t, "ptp.v2.mm.displayData", d.as_str().expect("UTF-8"));
            t = pad_if_odd(t, d.wire_len());
        }
        t
    };
    push(
        "management MANAGEMENT_ERROR_STATUS NOT_SUPPORTED",
        ManagementAction::Response,
        error(ManagementErrorStatusTlv {
            management_error_id: ManagementErrorId::NotSupported,
            management_id: ManagementId::PortPropertiesNp,
            display_data: None,
        }),
    );
    push(
        "management MANAGEMENT_ERROR_STATUS WRONG_VALUE + displayData",
        ManagementAction::Response,
        error(ManagementErrorStatusTlv {
            management_error_id: ManagementErrorId::WrongValue,
            management_id: ManagementId::Domain,
            display_data: Some(PtpText::new(b"domain 300").expect("short")),
        }),
    );

    cases
}
