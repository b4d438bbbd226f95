//! The whole slave: port, instance, servo and a drifting clock steered
//! through the `Clock` trait by `Steering`, on the virtual network.

mod common;

use common::{Net, Node, S, SimClock};
use statime::datasets::{DefaultDS, TimePropertiesDS};
use statime::instance::PtpInstance;
use statime::port::PortConfig;
use statime::servo::{ServoAlgorithm, ServoConfig, ServoState};
use statime::steering::Steering;
use statime::wire::tlv::{DelayMechanism, PortState};
use statime::wire::{ClockIdentity, PortIdentity};

fn node(id: u8, priority1: u8, mechanism: DelayMechanism, clock: SimClock) -> Node {
    let identity = ClockIdentity([0, 0, 0x5e, 0xff, 0xfe, 0, 0x53, id]);
    let mut default = DefaultDS::new(identity, 1);
    default.priority1 = priority1;
    let mut port = PortConfig::new(PortIdentity {
        clock_identity: identity,
        port_number: 1,
    });
    port.port_ds.delay_mechanism = mechanism;
    port.port_ds.log_announce_interval = 0;
    Node::new(
        PtpInstance::new(default, TimePropertiesDS::default(), [port]),
        clock,
    )
}

fn run(algorithm: ServoAlgorithm, mechanism: DelayMechanism) -> Net {
    let master = node(1, 100, mechanism, SimClock::new(0.0, 0.0));
    // +1 ms and +50 ppm off, as the lab scenario.
    let mut slave = node(2, 128, mechanism, SimClock::new(1_000_000.0, 50_000.0));
    let config = ServoConfig {
        algorithm,
        ..ServoConfig::default()
    };
    slave.steering = Some(Steering::new(&config, 0.0));
    let mut net = Net::new(vec![master, slave], |_, _| 700);
    net.start();
    net.run_until(120 * S);
    net
}

fn check_locked(net: &Net, name: &str) {
    let slave = &net.nodes[1];
    let err = slave.clock.offset_at(net.now);
    assert!(
        err.abs() < 1_000.0,
        "{name}: true error {err} ns after 120 s"
    );
    assert_eq!(
        net.state(1),
        PortState::Slave,
        "{name}: servo lock makes the port SLAVE"
    );
    let (_, last) = slave.reports.last().expect("servo reports");
    assert!(last.state.is_locked(), "{name}: {:?}", last.state);
    assert!(
        (last.frequency_ppb + 50_000.0).abs() < 100.0,
        "{name}: frequency {} should cancel +50 ppm",
        last.frequency_ppb
    );
    // One step at the start (1 ms > first_step_threshold 20 us), none after.
    assert_eq!(slave.clock.steps, 1, "{name}");
    let ds = slave.inst.data_sets();
    assert!(
        ds.current.offset_from_master.nanos_floor().abs() < 1_000,
        "{name}: currentDS"
    );
}

#[test]
fn kalman_e2e_locks() {
    check_locked(
        &run(ServoAlgorithm::Kalman, DelayMechanism::E2e),
        "kalman e2e",
    );
}

#[test]
fn pi_e2e_locks() {
    check_locked(&run(ServoAlgorithm::Pi, DelayMechanism::E2e), "pi e2e");
}

#[test]
fn kalman_p2p_locks() {
    check_locked(
        &run(ServoAlgorithm::Kalman, DelayMechanism::P2p),
        "kalman p2p",
    );
}

#[test]
fn losing_the_master_holds_frequency() {
    let mut net = run(ServoAlgorithm::Kalman, DelayMechanism::E2e);
    let freq = net.nodes[1].clock.adjust_ppb;
    net.nodes[0].down = true;
    net.run_until(net.now + 20 * S);
    // The slave took over as master and its servo went into holdover: the
    // frequency correction stays, so the clock keeps time.
    assert_eq!(net.state(1), PortState::Master);
    assert!((net.nodes[1].clock.adjust_ppb - freq).abs() < 1.0);
    let state = statime::servo::Servo::state(net.nodes[1].steering.as_ref().unwrap().servo());
    assert_eq!(state, ServoState::Holdover);
    let err = net.nodes[1].clock.offset_at(net.now);
    assert!(err.abs() < 5_000.0, "drifted {err} ns in 20 s of holdover");

    // The master returns: the slave follows it again and re-locks without a step.
    net.nodes[0].down = false;
    net.run_until(net.now + 60 * S);
    assert_eq!(net.state(1), PortState::Slave);
    assert_eq!(net.nodes[1].clock.steps, 1);
    let err = net.nodes[1].clock.offset_at(net.now);
    assert!(err.abs() < 1_000.0, "re-locked to {err} ns");
}

#[test]
fn a_commanded_holdover_keeps_the_frequency_and_resumes() {
    // The overlay's guard stops following anyone while the port still has
    // its parent: the daemon calls `Steering::holdover`.
    let mut net = run(ServoAlgorithm::Kalman, DelayMechanism::E2e);
    let freq = net.nodes[1].clock.adjust_ppb;
    let slave = &mut net.nodes[1];
    let mut steering = slave.steering.take().unwrap();
    let applied = steering.holdover(&mut slave.clock).unwrap();
    assert_eq!(
        statime::servo::Servo::state(steering.servo()),
        ServoState::Holdover
    );
    // The estimate without the phase term: within a few ppb of the lock.
    assert!((applied - freq).abs() < 20.0, "{applied} vs {freq}");
    assert_eq!(slave.clock.adjust_ppb, applied);
    // 20 s without samples: the clock keeps time on the held frequency.
    net.run_until(net.now + 20 * S);
    let err = net.nodes[1].clock.offset_at(net.now);
    assert!(err.abs() < 5_000.0, "drifted {err} ns in 20 s of holdover");
    // Samples again: tracking resumes without a step.
    net.nodes[1].steering = Some(steering);
    net.run_until(net.now + 30 * S);
    let last = net.nodes[1].reports.last().unwrap().1;
    assert!(last.state.is_locked(), "{:?}", last.state);
    assert_eq!(net.nodes[1].clock.steps, 1);
    let err = net.nodes[1].clock.offset_at(net.now);
    assert!(err.abs() < 1_000.0, "re-locked to {err} ns");
}
