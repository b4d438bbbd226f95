//! The telecom profiles' alternate BMCA (ITU-T G.8275.1 / G.8275.2) in a
//! real two-port instance: portDS.localPriority decides between equal
//! grandmasters heard on different ports, and priority1 is not looked at.

use statime::datasets::{DatasetComparison, DefaultDS, TimePropertiesDS};
use statime::instance::PtpInstance;
use statime::port::PortConfig;
use statime::time::Instant;
use statime::wire::messages::AnnounceMessage;
use statime::wire::tlv::PortState;
use statime::wire::{
    ClockIdentity, ClockQuality, Header, Message, MessageBody, MessageType, PortIdentity, TlvSet,
};

fn id(n: u8) -> ClockIdentity {
    ClockIdentity([0, 0, 0x5e, 0xff, 0xfe, 0, 0x82, n])
}

fn announce(gm: u8, priority1: u8, seq: u16) -> Vec<u8> {
    let mut h = Header::new(MessageType::Announce);
    h.source_port_identity = PortIdentity {
        clock_identity: id(gm),
        port_number: 1,
    };
    h.sequence_id = seq;
    h.log_message_interval = 0;
    let body = AnnounceMessage {
        grandmaster_identity: id(gm),
        grandmaster_priority_1: priority1,
        grandmaster_priority_2: 128,
        grandmaster_clock_quality: ClockQuality {
            clock_class: 165,
            ..ClockQuality::default()
        },
        ..AnnounceMessage::default()
    };
    let mut buf = [0u8; 128];
    let m = Message {
        header: h,
        body: MessageBody::Announce(body),
        suffix: TlvSet::EMPTY,
    };
    let n = m.emit(&mut buf).expect("fits");
    buf[..n].to_vec()
}

/// A slave-only two-port instance hearing grandmaster 1 (priority1 10) on
/// port 1 and grandmaster 2 (priority1 200) on port 2; port 2 has the
/// lower localPriority. Returns the parent's identity and the port states.
fn run(comparison: DatasetComparison) -> (ClockIdentity, [PortState; 2]) {
    let mut d = DefaultDS::new(id(9), 2);
    d.slave_only = true;
    d.dataset_comparison = comparison;
    let ports = [1u16, 2].map(|n| {
        let mut p = PortConfig::new(PortIdentity {
            clock_identity: id(9),
            port_number: n,
        });
        p.port_ds.log_announce_interval = 0;
        p.port_ds.local_priority = if n == 1 { 200 } else { 10 };
        p
    });
    let mut inst: PtpInstance<2> = PtpInstance::new(d, TimePropertiesDS::default(), ports);
    inst.enable(Instant::ZERO);
    for k in 0..4u16 {
        let now = Instant::from_secs(u64::from(k) + 1);
        inst.handle_receive(0, &announce(1, 10, k), None, now)
            .expect("accepted");
        inst.handle_receive(1, &announce(2, 200, k), None, now)
            .expect("accepted");
    }
    inst.state_decision(Instant::from_secs(5));
    let parent = inst.data_sets().parent.grandmaster_identity;
    let states = [inst.ports()[0].state(), inst.ports()[1].state()];
    (parent, states)
}

#[test]
fn local_priority_decides_and_priority1_does_not() {
    let (parent, states) = run(DatasetComparison::Telecom);
    assert_eq!(parent, id(2), "the port with localPriority 10 wins");
    assert_eq!(states[1], PortState::Uncalibrated);
    assert_ne!(states[0], PortState::Uncalibrated);
    // IEEE 1588's comparison takes priority1 10.
    let (parent, states) = run(DatasetComparison::Ieee1588);
    assert_eq!(parent, id(1));
    assert_eq!(states[0], PortState::Uncalibrated);
}
