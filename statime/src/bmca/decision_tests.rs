//! Tests of Ebest and the state decision (clause 9.3.2.2, 9.3.3, 9.3.5).

use super::*;
use crate::wire::messages::AnnounceMessage;
use crate::wire::{ClockIdentity, FlagField, PortIdentity, TimeSource};

const OWN: ClockIdentity = ClockIdentity([0x80; 8]);

fn pid(c: u8, port: u16) -> PortIdentity {
    PortIdentity {
        clock_identity: ClockIdentity([c; 8]),
        port_number: port,
    }
}

fn own_port(n: u16) -> PortIdentity {
    PortIdentity {
        clock_identity: OWN,
        port_number: n,
    }
}

/// An Announce of grandmaster `gm` with `priority1`, `steps` away, sent by
/// `sender`, received on our port `port`.
fn fa(gm: u8, priority1: u8, steps: u16, sender: PortIdentity, port: u16) -> ForeignAnnounce {
    ForeignAnnounce {
        message: AnnounceMessage {
            grandmaster_identity: ClockIdentity([gm; 8]),
            grandmaster_priority_1: priority1,
            steps_removed: steps,
            time_source: TimeSource::Gnss,
            ..AnnounceMessage::default()
        },
        sender,
        receiver: own_port(port),
        flags: FlagField(0x0018),
        sequence_id: 0,
        log_message_interval: 1,
        local_priority: 128,
        comparison: statime_comparison(),
    }
}

fn statime_comparison() -> crate::datasets::DatasetComparison {
    crate::datasets::DatasetComparison::Ieee1588
}

/// Better than D0 (priority1 128, class 248).
fn good(port: u16) -> ForeignAnnounce {
    fa(0x10, 100, 0, pid(0x10, 1), port)
}

/// Worse than D0.
fn bad(port: u16) -> ForeignAnnounce {
    fa(0x20, 200, 0, pid(0x20, 1), port)
}

fn dds() -> DefaultDS {
    DefaultDS::new(OWN, 3)
}

fn gm_dds(class: u8) -> DefaultDS {
    let mut d = dds();
    d.clock_quality.clock_class = class;
    d
}

fn port(state: PortState, erbest: Option<ForeignAnnounce>) -> PortDecisionInput {
    PortDecisionInput::new(state, erbest)
}

/// Decide for one port of an ordinary clock.
fn one(d: &DefaultDS, p: PortDecisionInput) -> Option<RecommendedState> {
    let ports = [p];
    let e = ebest(&ports);
    state_decision(d, e.as_ref(), &ports[0])
}

use RecommendedState::{Listening, M1, M2, M3, P1, P2, S1};

#[test]
fn listening_without_erbest_stays_listening() {
    assert_eq!(
        one(&dds(), port(PortState::Listening, None)),
        Some(Listening)
    );
    assert_eq!(
        one(&gm_dds(6), port(PortState::Listening, None)),
        Some(Listening)
    );
    // Not LISTENING and nothing heard: the clock is grandmaster.
    assert_eq!(one(&dds(), port(PortState::Master, None)), Some(M2));
    assert_eq!(one(&dds(), port(PortState::Slave, None)), Some(M2));
    assert_eq!(one(&dds(), port(PortState::PreMaster, None)), Some(M2));
    assert_eq!(one(&gm_dds(6), port(PortState::Passive, None)), Some(M1));
}

#[test]
fn m1_and_p1_for_class_up_to_127() {
    for class in [1, 6, 127] {
        let d = gm_dds(class);
        assert_eq!(one(&d, port(PortState::Listening, Some(bad(1)))), Some(M1));
        // Even a priority1 win of the foreign master: P1, never S1.
        assert_eq!(one(&d, port(PortState::Listening, Some(good(1)))), Some(P1));
        assert_eq!(one(&d, port(PortState::Slave, Some(good(1)))), Some(P1));
    }
    // Class 0 and 128 follow the other branch.
    for class in [0, 128] {
        let d = gm_dds(class);
        assert_eq!(one(&d, port(PortState::Listening, Some(bad(1)))), Some(M2));
        assert_eq!(
            one(&d, port(PortState::Listening, Some(good(1)))),
            Some(S1(good(1)))
        );
    }
    // A class-6 foreign clock against our class 7: ours loses on class.
    let mut e = bad(1);
    e.message.grandmaster_priority_1 = 128;
    e.message.grandmaster_clock_quality.clock_class = 6;
    assert_eq!(one(&gm_dds(7), port(PortState::Master, Some(e))), Some(P1));
}

#[test]
fn m1_uses_erbest_not_ebest() {
    // Port 1 hears a better clock, port 2 a worse one: P1 and M1.
    let d = gm_dds(6);
    let ports = [
        port(PortState::Master, Some(good(1))),
        port(PortState::Master, Some(bad(2))),
        port(PortState::Listening, None),
    ];
    let mut out = [None; 3];
    let update = decide(&d, &ports, &mut out);
    assert_eq!(out, [Some(P1), Some(M1), Some(Listening)]);
    assert_eq!(update, DataSetUpdate::Grandmaster);
}

#[test]
fn m2_when_d0_beats_ebest() {
    assert_eq!(
        one(&dds(), port(PortState::Listening, Some(bad(1)))),
        Some(M2)
    );
    // D0 against its own grandmaster identity coming back: D0 wins.
    let looped = fa(0x80, 128, 1, pid(0x90, 1), 1);
    let mut d = dds();
    d.clock_quality = looped.message.grandmaster_clock_quality;
    d.priority2 = looped.message.grandmaster_priority_2;
    assert_eq!(one(&d, port(PortState::Master, Some(looped))), Some(M2));
}

#[test]
fn s1_when_ebest_on_this_port() {
    assert_eq!(
        one(&dds(), port(PortState::Listening, Some(good(1)))),
        Some(S1(good(1)))
    );
    assert_eq!(S1(good(1)).port_state(), PortState::Slave);
}

#[test]
fn p2_when_ebest_better_by_topology() {
    // Same grandmaster heard on two ports, same steps: the sender identity
    // decides by topology.
    let e1 = fa(0x10, 100, 1, pid(0x30, 1), 1);
    let e2 = fa(0x10, 100, 1, pid(0x40, 1), 2);
    assert_eq!(e1.compare(&e2), DatasetOrdering::BetterByTopology);
    let ports = [
        port(PortState::Slave, Some(e1)),
        port(PortState::Passive, Some(e2)),
    ];
    let mut out = [None; 2];
    let update = decide(&dds(), &ports, &mut out);
    assert_eq!(out, [Some(S1(e1)), Some(P2)]);
    assert_eq!(update, DataSetUpdate::Slave(e1));
    // Same sender (a shared segment) on two ports: the lower receiving
    // port number decides, by topology.
    let e2 = fa(0x10, 100, 1, pid(0x30, 1), 2);
    let ports = [
        port(PortState::Slave, Some(e1)),
        port(PortState::Passive, Some(e2)),
    ];
    decide(&dds(), &ports, &mut out);
    assert_eq!(out, [Some(S1(e1)), Some(P2)]);
}

#[test]
fn m3_otherwise() {
    // Another port has Ebest; this port hears a worse grandmaster.
    let ports = [
        port(PortState::Slave, Some(good(1))),
        port(PortState::Master, Some(bad(2))),
        port(PortState::Master, None),
    ];
    let mut out = [None; 3];
    let update = decide(&dds(), &ports, &mut out);
    assert_eq!(out, [Some(S1(good(1))), Some(M3), Some(M3)]);
    assert_eq!(update, DataSetUpdate::Slave(good(1)));
    // Same grandmaster but plainly better (2 steps fewer): M3, not P2.
    let e1 = fa(0x10, 100, 0, pid(0x30, 1), 1);
    let e2 = fa(0x10, 100, 2, pid(0x40, 1), 2);
    assert_eq!(e1.compare(&e2), DatasetOrdering::Better);
    let ports = [
        port(PortState::Slave, Some(e1)),
        port(PortState::Master, Some(e2)),
    ];
    let mut out = [None; 2];
    decide(&dds(), &ports, &mut out);
    assert_eq!(out, [Some(S1(e1)), Some(M3)]);
    // One step more, receiver below sender: plainly better, M3.
    let e2 = fa(0x10, 100, 1, pid(0x90, 1), 2);
    assert_eq!(e1.compare(&e2), DatasetOrdering::Better);
    decide(
        &dds(),
        &[
            port(PortState::Slave, Some(e1)),
            port(PortState::Master, Some(e2)),
        ],
        &mut out,
    );
    assert_eq!(out[1], Some(M3));
    // One step more, receiver above sender: by topology, P2.
    let e2 = fa(0x10, 100, 1, pid(0x70, 1), 2);
    assert_eq!(e1.compare(&e2), DatasetOrdering::BetterByTopology);
    decide(
        &dds(),
        &[
            port(PortState::Slave, Some(e1)),
            port(PortState::Master, Some(e2)),
        ],
        &mut out,
    );
    assert_eq!(out[1], Some(P2));
}

#[test]
fn boundary_clock_three_ports_picks_best_port() {
    // The best master is on port 3.
    let best = fa(0x05, 10, 0, pid(0x05, 1), 3);
    let ports = [
        port(PortState::Slave, Some(good(1))),
        port(PortState::Master, Some(bad(2))),
        port(PortState::Listening, Some(best)),
    ];
    assert_eq!(ebest(&ports), Some(best));
    let mut out = [None; 3];
    let update = decide(&dds(), &ports, &mut out);
    assert_eq!(out, [Some(M3), Some(M3), Some(S1(best))]);
    assert_eq!(update, DataSetUpdate::Slave(best));
}

#[test]
fn ports_not_taking_part() {
    let ports = [
        port(PortState::Disabled, Some(good(1))),
        port(PortState::Faulty, Some(good(2))),
        port(PortState::Initializing, Some(good(3))),
        port(PortState::Unknown(0x42), Some(good(4))),
        port(PortState::Master, Some(bad(5))),
    ];
    // Their Erbests are not candidates for Ebest.
    assert_eq!(ebest(&ports), Some(bad(5)));
    let mut out = [Some(Listening); 5];
    let update = decide(&dds(), &ports, &mut out);
    assert_eq!(out, [None, None, None, None, Some(M2)]);
    assert_eq!(update, DataSetUpdate::Grandmaster);
    assert_eq!(ebest(&ports[..4]), None);
}

#[test]
fn slave_only_never_master_or_passive() {
    let mut d = dds();
    d.slave_only = true;
    // Even a better configured class loses: slave-only compares as 255.
    d.clock_quality.clock_class = 6;
    d.priority1 = 0;
    let e = bad(1);
    assert_eq!(
        one(&d, port(PortState::Listening, Some(e))),
        Some(S1(e)),
        "a worse master is still followed"
    );
    assert_eq!(one(&d, port(PortState::Slave, None)), Some(Listening));
    assert_eq!(one(&d, port(PortState::Listening, None)), Some(Listening));
    // Two ports (linuxptp allows it): S1 and LISTENING instead of P2/M3.
    let e1 = fa(0x10, 100, 1, pid(0x30, 1), 1);
    let e2 = fa(0x10, 100, 1, pid(0x40, 1), 2);
    let ports = [
        port(PortState::Slave, Some(e1)),
        port(PortState::Passive, Some(e2)),
        port(PortState::Master, None),
    ];
    let mut out = [None; 3];
    assert_eq!(decide(&d, &ports, &mut out), DataSetUpdate::Slave(e1));
    assert_eq!(out, [Some(S1(e1)), Some(Listening), Some(Listening)]);
    // Master lost: LISTENING, and the data sets go back to "own parent".
    let ports = [port(PortState::Slave, None)];
    let mut out = [None; 1];
    assert_eq!(decide(&d, &ports, &mut out), DataSetUpdate::Grandmaster);
    assert_eq!(out, [Some(Listening)]);
}

#[test]
fn master_only_never_slave() {
    let mut mo = port(PortState::Master, Some(good(1)));
    mo.master_only = true;
    assert_eq!(mo.effective_erbest(), None);
    // Its better foreign master is ignored: the clock stays grandmaster.
    assert_eq!(one(&dds(), mo), Some(M2));
    assert_eq!(one(&gm_dds(6), mo), Some(M1));
    // In LISTENING it waits for the announce receipt timeout.
    let mut listening = mo;
    listening.state = PortState::Listening;
    assert_eq!(one(&dds(), listening), Some(Listening));
    // Boundary clock: Ebest on a normal port, the master-only port is M3
    // even though it hears the same master by topology.
    let e1 = fa(0x10, 100, 1, pid(0x30, 1), 1);
    let mut mo = port(PortState::Master, Some(fa(0x10, 100, 1, pid(0x40, 1), 2)));
    mo.master_only = true;
    let ports = [port(PortState::Slave, Some(e1)), mo];
    let mut out = [None; 2];
    decide(&dds(), &ports, &mut out);
    assert_eq!(out, [Some(S1(e1)), Some(M3)]);
    // The master-only port hears the best master: it is not Ebest.
    let mut mo = port(PortState::Master, Some(fa(0x01, 1, 0, pid(0x01, 1), 2)));
    mo.master_only = true;
    let ports = [port(PortState::Slave, Some(e1)), mo];
    assert_eq!(ebest(&ports), Some(e1));
    decide(&dds(), &ports, &mut out);
    assert_eq!(out, [Some(S1(e1)), Some(M3)]);
    // From a portDS.
    let pds = PortDS {
        master_only: true,
        port_state: PortState::Master,
        ..PortDS::default()
    };
    let input = PortDecisionInput::from_port_ds(&pds, Some(good(1)));
    assert!(input.master_only);
    assert_eq!(one(&dds(), input), Some(M2));
}

#[test]
fn decide_tolerates_short_slices() {
    let ports = [
        port(PortState::Master, Some(good(1))),
        port(PortState::Master, None),
    ];
    let mut out = [None; 1];
    assert_eq!(
        decide(&dds(), &ports, &mut out),
        DataSetUpdate::Slave(good(1))
    );
    assert_eq!(out, [Some(S1(good(1)))]);
    let mut out: [Option<RecommendedState>; 0] = [];
    assert_eq!(decide(&dds(), &ports, &mut out), DataSetUpdate::Unchanged);
    let mut out = [None; 4];
    assert_eq!(decide(&dds(), &[], &mut out), DataSetUpdate::Unchanged);
    assert_eq!(out, [None; 4]);
}

#[test]
fn port_states_and_updates() {
    assert_eq!(M1.port_state(), PortState::Master);
    assert_eq!(M2.port_state(), PortState::Master);
    assert_eq!(M3.port_state(), PortState::Master);
    assert_eq!(P1.port_state(), PortState::Passive);
    assert_eq!(P2.port_state(), PortState::Passive);
    assert_eq!(Listening.port_state(), PortState::Listening);
    assert_eq!(M1.data_set_update(), DataSetUpdate::Grandmaster);
    assert_eq!(M2.data_set_update(), DataSetUpdate::Grandmaster);
    for c in [M3, P1, P2, Listening] {
        assert_eq!(c.data_set_update(), DataSetUpdate::Unchanged);
    }
    assert_eq!(S1(good(1)).data_set_update(), DataSetUpdate::Slave(good(1)));
}

#[test]
fn updates_apply_tables_30_to_33() {
    let local = TimePropertiesDS::default();
    let mut ds = InstanceDataSets::new(dds(), local);
    let before = ds;
    DataSetUpdate::Unchanged.apply(&mut ds, &local);
    assert_eq!(ds, before);
    let e = fa(0x10, 100, 2, pid(0x10, 4), 1);
    DataSetUpdate::Slave(e).apply(&mut ds, &local);
    assert_eq!(ds.current.steps_removed, 3);
    assert_eq!(ds.parent.parent_port_identity, pid(0x10, 4));
    assert_eq!(ds.parent.grandmaster_identity, ClockIdentity([0x10; 8]));
    assert_eq!(ds.parent.grandmaster_priority1, 100);
    assert_eq!(ds.time_properties.time_source, TimeSource::Gnss);
    assert!(ds.time_properties.ptp_timescale);
    assert!(ds.time_properties.time_traceable);
    DataSetUpdate::Grandmaster.apply(&mut ds, &local);
    assert_eq!(ds, before);
}
