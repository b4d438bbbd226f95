//! Tests of `statime::management` (a separate file to keep the module short).
use super::*;
use crate::datasets::{DefaultDS, TimePropertiesDS};
use crate::wire::tlv::{
    DefaultDataSetTlv, DelayMechanism, ParentDataSetTlv, PortDataSetTlv, TlvRepr,
};

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../tests/fixtures/ptp4l/", $name, ".bin")).as_slice()
    };
}

/// The ptp4l master of the fixtures: 00005e.fffe.00530a, priority1 10,
/// one port in MASTER, logSyncInterval -1, logAnnounceInterval 0, E2E,
/// minorVersion 0.
const MASTER: ClockIdentity = ClockIdentity([0, 0, 0x5E, 0xFF, 0xFE, 0, 0x53, 0x0A]);

fn data_sets() -> InstanceDataSets {
    let mut d = DefaultDS::new(MASTER, 1);
    d.priority1 = 10;
    let tp = TimePropertiesDS {
        ptp_timescale: false,
        ..TimePropertiesDS::default()
    };
    InstanceDataSets::new(d, tp)
}

fn port(number: u16, state: PortState) -> PortView<'static> {
    let mut p = PortDS::new(PortIdentity {
        clock_identity: MASTER,
        port_number: number,
    });
    p.port_state = state;
    p.log_sync_interval = -1;
    p.log_announce_interval = 0;
    p.minor_version_number = 0;
    PortView {
        port_ds: p,
        timestamping: TimestampType::Software,
        interface: if number == 1 { "veth0" } else { "veth1" },
    }
}

fn view<'a>(ds: &'a InstanceDataSets, ports: &'a [PortView<'a>]) -> InstanceView<'a> {
    InstanceView {
        data_sets: ds,
        ports,
        time_status: TimeStatusNpTlv {
            gm_identity: MASTER,
            ..TimeStatusNpTlv::default()
        },
        user_description: "",
        minor_version: 0,
    }
}

const PORT1: PortIdentity = PortIdentity {
    clock_identity: MASTER,
    port_number: 1,
};

fn answer(
    req: &[u8],
    v: &InstanceView<'_>,
    policy: ManagementPolicy,
) -> Option<([u8; 512], usize)> {
    let msg = Message::parse(req).unwrap();
    let mut out = [0u8; 512];
    let len = respond(&msg, v, policy, PORT1, &mut out)?.unwrap();
    Some((out, len))
}

fn tlv_of(bytes: &[u8]) -> (Message<'_>, ManagementTlv<'_>) {
    let m = Message::parse(bytes).unwrap();
    let t = ManagementTlv::find(&m.suffix).unwrap().unwrap();
    (m, t)
}

fn error_of(bytes: &[u8]) -> ManagementErrorId {
    let m = Message::parse(bytes).unwrap();
    ManagementErrorStatusTlv::find(&m.suffix)
        .unwrap()
        .unwrap()
        .management_error_id
}

/// Our answers to pmc's GETs are byte for byte ptp4l's answers.
#[test]
fn matches_ptp4l_fixtures() {
    let ds = data_sets();
    let ports = [port(1, PortState::Master)];
    let v = view(&ds, &ports);
    let pairs: [(&[u8], &[u8]); 9] = [
        (
            fixture!("mgmt-get-default_data_set"),
            fixture!("mgmt-response-default_data_set"),
        ),
        (
            fixture!("mgmt-get-empty-default_data_set"),
            fixture!("mgmt-response-default_data_set"),
        ),
        (
            fixture!("mgmt-get-time_properties_data_set"),
            fixture!("mgmt-response-time_properties_data_set"),
        ),
        (
            fixture!("mgmt-get-port_data_set"),
            fixture!("mgmt-response-port_data_set"),
        ),
        (
            fixture!("mgmt-get-priority1"),
            fixture!("mgmt-response-priority1"),
        ),
        (
            fixture!("mgmt-get-empty-null_management"),
            fixture!("mgmt-response-null_management"),
        ),
        (
            fixture!("mgmt-get-user_description"),
            fixture!("mgmt-response-user_description"),
        ),
        (
            fixture!("mgmt-get-version_number"),
            fixture!("mgmt-response-version_number"),
        ),
        (
            fixture!("mgmt-get-delay_mechanism"),
            fixture!("mgmt-response-delay_mechanism"),
        ),
    ];
    for (req, expected) in pairs {
        let (out, len) = answer(req, &v, ManagementPolicy::default()).unwrap();
        let want = expected
            .get(..Message::parse(expected).unwrap().wire_len())
            .unwrap();
        assert_eq!(
            out.get(..len).unwrap(),
            want,
            "answer to {:02x?}",
            req.get(44..52)
        );
    }
}

/// Every GET fixture is answered and the answer parses back to our data.
#[test]
fn fixtures_parse_back() {
    let ds = data_sets();
    let ports = [port(1, PortState::Master)];
    let v = view(&ds, &ports);
    let (out, len) = answer(
        fixture!("mgmt-get-default_data_set"),
        &v,
        ManagementPolicy::default(),
    )
    .unwrap();
    let (m, t) = tlv_of(out.get(..len).unwrap());
    assert_eq!(m.header.control_field, 4);
    assert_eq!(m.header.log_message_interval, 0x7F);
    let MessageBody::Management(b) = m.body else {
        panic!()
    };
    assert_eq!(b.action, ManagementAction::Response);
    assert_eq!(b.target_port_identity.port_number, 1);
    assert_eq!(t.data, ManagementData::DefaultDataSet(ds.default.to_tlv()));

    let (out, len) = answer(
        fixture!("mgmt-get-parent_data_set"),
        &v,
        ManagementPolicy::default(),
    )
    .unwrap();
    let (_, t) = tlv_of(out.get(..len).unwrap());
    let ManagementData::ParentDataSet(p) = t.data else {
        panic!("{t:?}")
    };
    assert_eq!(p, ds.parent.to_tlv());
    assert_eq!(p.grandmaster_identity, MASTER);
    let _: ParentDataSetTlv = p;

    let (out, len) = answer(
        fixture!("mgmt-get-current_data_set"),
        &v,
        ManagementPolicy::default(),
    )
    .unwrap();
    let (_, t) = tlv_of(out.get(..len).unwrap());
    assert_eq!(t.data, ManagementData::CurrentDataSet(ds.current.to_tlv()));

    let (out, len) = answer(
        fixture!("mgmt-get-time_status_np"),
        &v,
        ManagementPolicy::default(),
    )
    .unwrap();
    let (_, t) = tlv_of(out.get(..len).unwrap());
    assert_eq!(t.data, ManagementData::TimeStatusNp(v.time_status));
    // Same layout as ptp4l's answer.
    let (_, theirs) = tlv_of(fixture!("mgmt-response-time_status_np"));
    assert_eq!(t.data.wire_len(), theirs.data.wire_len());

    let (out, len) = answer(
        fixture!("mgmt-get-empty-port_properties_np"),
        &v,
        ManagementPolicy::default(),
    )
    .unwrap();
    let (_, t) = tlv_of(out.get(..len).unwrap());
    let ManagementData::PortPropertiesNp(pp) = t.data else {
        panic!("{t:?}")
    };
    assert_eq!(pp.port_identity, PORT1);
    assert_eq!(pp.port_state, PortState::Master);
    assert_eq!(pp.interface.bytes(), b"veth0");

    let (out, len) = answer(fixture!("mgmt-get-domain"), &v, ManagementPolicy::default()).unwrap();
    assert_eq!(
        tlv_of(out.get(..len).unwrap()).1.data,
        ManagementData::Scalar { value: 0 }
    );
}

#[test]
fn unsupported_ids_get_error_status() {
    let ds = data_sets();
    let ports = [port(1, PortState::Master)];
    let v = view(&ds, &ports);
    for req in [
        fixture!("mgmt-get-clock_description"),
        fixture!("mgmt-get-grandmaster_settings_np"),
        fixture!("mgmt-get-empty-port_stats_np"),
        fixture!("mgmt-get-timescale_properties"),
        fixture!("mgmt-get-port_data_set_np"),
    ] {
        let (out, len) = answer(req, &v, ManagementPolicy::default()).unwrap();
        let bytes = out.get(..len).unwrap();
        assert_eq!(error_of(bytes), ManagementErrorId::NotSupported);
        // Shaped like ptp4l's: TLV type 2, length 8.
        assert_eq!(bytes.get(48..52), Some([0, 2, 0, 8].as_slice()));
    }
    // An unknown managementId: NO_SUCH_ID.
    let req = request(
        ManagementAction::Get,
        PortIdentity::ALL,
        ManagementData::Empty,
        0x7FFF,
    );
    let (out, len) = answer(&req, &v, ManagementPolicy::default()).unwrap();
    assert_eq!(
        error_of(out.get(..len).unwrap()),
        ManagementErrorId::NoSuchId
    );
}

/// A request like pmc's, with our own TLV.
fn request(
    action: ManagementAction,
    target: PortIdentity,
    data: ManagementData<'_>,
    id: u16,
) -> [u8; 128] {
    let mut tlv = [0u8; 64];
    let mut w = TlvWriter::new(&mut tlv);
    w.push(&ManagementTlv {
        management_id: ManagementId::from(id),
        data,
    })
    .unwrap();
    let mut header = Header::new(MessageType::Management);
    header.minor_version = 0;
    header.control_field = 4;
    header.sequence_id = 77;
    header.source_port_identity = PortIdentity {
        clock_identity: ClockIdentity([1, 2, 3, 4, 5, 6, 7, 8]),
        port_number: 9,
    };
    let m = Message {
        header,
        body: MessageBody::Management(ManagementMessage {
            target_port_identity: target,
            starting_boundary_hops: 2,
            boundary_hops: 2,
            action,
        }),
        suffix: w.finish(),
    };
    let mut out = [0u8; 128];
    m.emit(&mut out).unwrap();
    out
}

#[test]
fn every_supported_get_answers_with_expected_bytes() {
    let ds = data_sets();
    let ports = [port(1, PortState::Slave)];
    let mut v = view(&ds, &ports);
    v.user_description = "rack1";
    let cases: [(ManagementId, &[u8]); 13] = [
        (ManagementId::Priority1, &[10, 0]),
        (ManagementId::Priority2, &[128, 0]),
        (ManagementId::Domain, &[0, 0]),
        (ManagementId::SlaveOnly, &[0, 0]),
        (ManagementId::ClockAccuracy, &[0xFE, 0]),
        (ManagementId::VersionNumber, &[2, 0]),
        (ManagementId::LogAnnounceInterval, &[0, 0]),
        (ManagementId::AnnounceReceiptTimeout, &[3, 0]),
        (ManagementId::LogSyncInterval, &[0xFF, 0]),
        (ManagementId::DelayMechanism, &[1, 0]),
        (ManagementId::LogMinPdelayReqInterval, &[0, 0]),
        (
            ManagementId::UserDescription,
            &[5, b'r', b'a', b'c', b'k', b'1'],
        ),
        (ManagementId::NullManagement, &[]),
    ];
    for (id, data) in cases {
        let req = request(
            ManagementAction::Get,
            PortIdentity::ALL,
            ManagementData::Empty,
            id.into(),
        );
        let (out, len) = answer(&req, &v, ManagementPolicy::default()).unwrap();
        let bytes = out.get(..len).unwrap();
        let m = Message::parse(bytes).unwrap();
        assert_eq!(m.header.sequence_id, 77);
        assert_eq!(m.header.source_port_identity, PORT1);
        let MessageBody::Management(b) = m.body else {
            panic!()
        };
        assert_eq!(b.target_port_identity.port_number, 9);
        assert_eq!((b.starting_boundary_hops, b.boundary_hops), (2, 2));
        let raw = m.suffix.find(TlvType::Management).unwrap();
        assert_eq!(
            raw.value.get(..2),
            Some(u16::from(id).to_be_bytes().as_slice())
        );
        assert_eq!(raw.value.get(2..), Some(data), "{id:?}");
    }
    // Data sets: bytes of the wire types.
    let req = request(
        ManagementAction::Get,
        PortIdentity::ALL,
        ManagementData::Empty,
        0x2004,
    );
    let (out, len) = answer(&req, &v, ManagementPolicy::default()).unwrap();
    let (_, t) = tlv_of(out.get(..len).unwrap());
    let want: PortDataSetTlv = ports[0].port_ds.to_tlv();
    assert_eq!(t.data, ManagementData::PortDataSet(want));
    assert_eq!(want.delay_mechanism, DelayMechanism::E2e);
    let _: DefaultDataSetTlv = ds.default.to_tlv();
    let _ = ManagementTlv::empty(ManagementId::NullManagement).wire_len();
}

#[test]
fn targeting() {
    let ds = data_sets();
    let ports = [port(1, PortState::Master), port(2, PortState::Slave)];
    let v = view(&ds, &ports);
    let p = ManagementPolicy::default();
    let other = PortIdentity {
        clock_identity: ClockIdentity([9; 8]),
        port_number: 0xFFFF,
    };
    // Another clock: ignored.
    let req = request(ManagementAction::Get, other, ManagementData::Empty, 0x2000);
    assert!(answer(&req, &v, p).is_none());
    // Our clock, any port number: a clock ID answers once.
    for n in [1, 2, 0xFFFF, 7] {
        let t = PortIdentity {
            clock_identity: MASTER,
            port_number: n,
        };
        let req = request(ManagementAction::Get, t, ManagementData::Empty, 0x2000);
        let m = Message::parse(&req).unwrap();
        let r = Responder::new(&m, &v, p, PORT1).unwrap();
        assert_eq!(r.count(), 1);
    }
    // Port IDs: one answer per addressed port, from that port.
    let expect = [
        (0xFFFF, &[1u16, 2][..]),
        (2, &[2][..]),
        (1, &[1][..]),
        (5, &[][..]),
    ];
    for (n, from) in expect {
        let t = PortIdentity {
            clock_identity: ClockIdentity::ALL,
            port_number: n,
        };
        let req = request(ManagementAction::Get, t, ManagementData::Empty, 0x2004);
        let m = Message::parse(&req).unwrap();
        let r = Responder::new(&m, &v, p, PORT1).unwrap();
        assert_eq!(r.count(), from.len());
        for (i, want) in from.iter().enumerate() {
            let mut out = [0u8; 256];
            let len = r.emit(i, &mut out).unwrap();
            let (m, t) = tlv_of(out.get(..len).unwrap());
            assert_eq!(m.header.source_port_identity.port_number, *want);
            let ManagementData::PortDataSet(d) = t.data else {
                panic!()
            };
            assert_eq!(d.port_identity.port_number, *want);
        }
        assert_eq!(
            r.emit(from.len(), &mut [0u8; 256]),
            Err(Error::InvalidValue)
        );
    }
    // Another domain, answers and non-management messages: ignored.
    let mut req = request(
        ManagementAction::Get,
        PortIdentity::ALL,
        ManagementData::Empty,
        0x2000,
    );
    req[4] = 5;
    assert!(answer(&req, &v, p).is_none());
    let req = request(
        ManagementAction::Response,
        PortIdentity::ALL,
        ManagementData::Empty,
        0x2000,
    );
    assert!(answer(&req, &v, p).is_none());
    assert!(answer(fixture!("udp4-e2e-announce"), &v, p).is_none());
}

#[test]
fn set_and_command_policy() {
    let ds = data_sets();
    let ports = [port(1, PortState::Master)];
    let v = view(&ds, &ports);
    let set = |id: u16, value: u8| {
        request(
            ManagementAction::Set,
            PortIdentity::ALL,
            ManagementData::Scalar { value },
            id,
        )
    };
    let refused = ManagementPolicy::default();
    let allowed = ManagementPolicy {
        allow_set: true,
        allow_command: true,
    };
    // Refused by default.
    let (out, len) = answer(&set(0x2005, 42), &v, refused).unwrap();
    assert_eq!(
        error_of(out.get(..len).unwrap()),
        ManagementErrorId::NotSetable
    );
    let req42 = set(0x2005, 42);
    let m = Message::parse(&req42).unwrap();
    assert_eq!(
        Responder::new(&m, &v, refused, PORT1).unwrap().change(),
        None
    );
    // Allowed: the change and a RESPONSE carrying the new value.
    for (id, change) in [
        (0x2005, Change::Priority1(42)),
        (0x2006, Change::Priority2(42)),
        (0x2007, Change::Domain(42)),
    ] {
        let req = set(id, 42);
        let m = Message::parse(&req).unwrap();
        let r = Responder::new(&m, &v, allowed, PORT1).unwrap();
        assert_eq!(r.change(), Some(change));
        let mut out = [0u8; 128];
        let len = r.emit(0, &mut out).unwrap();
        let (m, t) = tlv_of(out.get(..len).unwrap());
        let MessageBody::Management(b) = m.body else {
            panic!()
        };
        assert_eq!(b.action, ManagementAction::Response);
        assert_eq!(t.data, ManagementData::Scalar { value: 42 });
    }
    // Out of range, not settable, malformed.
    let (out, len) = answer(&set(0x2007, 200), &v, allowed).unwrap();
    assert_eq!(
        error_of(out.get(..len).unwrap()),
        ManagementErrorId::WrongValue
    );
    let (out, len) = answer(&set(0x200B, 1), &v, allowed).unwrap();
    assert_eq!(
        error_of(out.get(..len).unwrap()),
        ManagementErrorId::NotSetable
    );
    let req = request(
        ManagementAction::Set,
        PortIdentity::ALL,
        ManagementData::Empty,
        0x2005,
    );
    let (out, len) = answer(&req, &v, allowed).unwrap();
    assert_eq!(
        error_of(out.get(..len).unwrap()),
        ManagementErrorId::WrongLength
    );
    // COMMAND: refused unless allowed; NULL_MANAGEMENT acknowledged.
    let cmd = request(
        ManagementAction::Command,
        PortIdentity::ALL,
        ManagementData::Empty,
        0,
    );
    let (out, len) = answer(&cmd, &v, refused).unwrap();
    assert_eq!(
        error_of(out.get(..len).unwrap()),
        ManagementErrorId::NotSupported
    );
    let m = Message::parse(out.get(..len).unwrap()).unwrap();
    assert!(
        matches!(m.body, MessageBody::Management(b) if b.action == ManagementAction::Acknowledge)
    );
    let (out, len) = answer(&cmd, &v, allowed).unwrap();
    let (m, t) = tlv_of(out.get(..len).unwrap());
    assert!(
        matches!(m.body, MessageBody::Management(b) if b.action == ManagementAction::Acknowledge)
    );
    assert_eq!(t.data, ManagementData::Empty);
    let init = request(
        ManagementAction::Command,
        PortIdentity::ALL,
        ManagementData::Empty,
        0x0005,
    );
    let (out, len) = answer(&init, &v, allowed).unwrap();
    assert_eq!(
        error_of(out.get(..len).unwrap()),
        ManagementErrorId::NotSupported
    );
}

#[test]
fn malformed_never_panics() {
    let ds = data_sets();
    let ports = [port(1, PortState::Master)];
    let v = view(&ds, &ports);
    let p = ManagementPolicy {
        allow_set: true,
        allow_command: true,
    };
    let base = request(
        ManagementAction::Set,
        PortIdentity::ALL,
        ManagementData::Scalar { value: 1 },
        0x2005,
    );
    for cut in 0..base.len() {
        for byte in [0u8, 0xFF, 0x01] {
            let mut b = base;
            if let Some(x) = b.get_mut(cut) {
                *x = byte;
            }
            if let Ok(m) = Message::parse(&b) {
                if let Some(r) = Responder::new(&m, &v, p, PORT1) {
                    for n in 0..r.count() {
                        let _ = r.emit(n, &mut [0u8; 512]);
                    }
                    let _ = r.emit(0, &mut [0u8; 10]);
                }
                let _ = forward_plan(&m, &v, Some(0));
            }
        }
    }
    // No management TLV at all: ignored.
    let m = Message::parse(&base).unwrap();
    let bare = Message {
        suffix: TlvSet::parse(&[]).unwrap(),
        ..m
    };
    assert!(Responder::new(&bare, &v, p, PORT1).is_none());
}

#[test]
fn boundary_hops_forwarding() {
    let ds = data_sets();
    let ports = [
        port(1, PortState::Slave),
        port(2, PortState::Master),
        port(3, PortState::Listening),
        port(4, PortState::Master),
    ];
    let v = view(&ds, &ports);
    let get = request(
        ManagementAction::Get,
        PortIdentity::ALL,
        ManagementData::Empty,
        0x2000,
    );
    let m = Message::parse(&get).unwrap();
    // From port 1 (index 0): to the other ports in the topology.
    let plan = forward_plan(&m, &v, Some(0)).unwrap();
    assert_eq!(plan.boundary_hops, 1);
    assert_eq!(
        plan.port_indices()
            .collect::<arrayvec::ArrayVec<usize, 8>>()
            .as_slice(),
        &[1, 3]
    );
    let mut copy = get;
    assert!(plan.rewrite(&mut copy));
    let MessageBody::Management(b) = Message::parse(&copy).unwrap().body else {
        panic!()
    };
    assert_eq!((b.starting_boundary_hops, b.boundary_hops), (2, 1));
    // From a local client: every port in the topology.
    assert_eq!(forward_plan(&m, &v, None).unwrap().ports, 0b1011);
    // Received on a LISTENING port: not forwarded.
    assert_eq!(forward_plan(&m, &v, Some(2)), None);
    // boundaryHops 0, or addressed to us only: not forwarded.
    let mut zero = get;
    zero[BOUNDARY_HOPS_OFFSET] = 0;
    assert_eq!(
        forward_plan(&Message::parse(&zero).unwrap(), &v, Some(0)),
        None
    );
    let ours = request(
        ManagementAction::Get,
        PortIdentity {
            clock_identity: MASTER,
            port_number: 0xFFFF,
        },
        ManagementData::Empty,
        0x2000,
    );
    assert_eq!(
        forward_plan(&Message::parse(&ours).unwrap(), &v, Some(0)),
        None
    );
    // Another clock's address is forwarded; answers travel back too.
    let resp = request(
        ManagementAction::Response,
        PortIdentity {
            clock_identity: ClockIdentity([9; 8]),
            port_number: 1,
        },
        ManagementData::Empty,
        0x2000,
    );
    assert!(forward_plan(&Message::parse(&resp).unwrap(), &v, Some(1)).is_some());
    // An ordinary clock never forwards what arrives on its only port.
    let one = [port(1, PortState::Slave)];
    assert_eq!(forward_plan(&m, &view(&ds, &one), Some(0)), None);
    assert!(plan.rewrite(&mut [0u8; 46]));
    assert!(!plan.rewrite(&mut [0u8; 45]));
}
