//! Ports and instances of the real core on a virtual network in virtual
//! time: E2E and P2P, one-step and two-step, asymmetry, BMCA elections,
//! and a port that loses its transmit timestamps.
//!
//! Clocks here are ideal (a fixed offset, no drift) and no servo runs, so
//! every measurement must equal the configured truth exactly (to the
//! nanosecond, up to the delay filter's rounding).

mod common;

use common::{Net, Node, S, SimClock};
use statime::datasets::{DefaultDS, TimePropertiesDS};
use statime::instance::PtpInstance;
use statime::port::PortConfig;
use statime::time::{Duration, TimeInterval};
use statime::wire::tlv::{DelayMechanism, PortState};
use statime::wire::{ClockIdentity, PortIdentity};

fn identity(n: u8) -> ClockIdentity {
    ClockIdentity([0, 0, 0x5e, 0xff, 0xfe, 0, 0x53, n])
}

struct NodeSpec {
    id: u8,
    priority1: u8,
    offset: i64,
    mechanism: DelayMechanism,
    asymmetry_ns: i64,
    two_step: bool,
}

impl NodeSpec {
    fn new(id: u8, priority1: u8, offset: i64) -> Self {
        Self {
            id,
            priority1,
            offset,
            mechanism: DelayMechanism::E2e,
            asymmetry_ns: 0,
            two_step: true,
        }
    }

    fn build(&self) -> Node {
        let clock = identity(self.id);
        let mut default = DefaultDS::new(clock, 1);
        default.priority1 = self.priority1;
        default.two_step_flag = self.two_step;
        let port_id = PortIdentity {
            clock_identity: clock,
            port_number: 1,
        };
        let mut cfg = PortConfig::new(port_id);
        cfg.port_ds.delay_mechanism = self.mechanism;
        cfg.port_ds.delay_asymmetry = TimeInterval::from_nanos(self.asymmetry_ns);
        cfg.port_ds.log_announce_interval = 0;
        cfg.port_ds.log_sync_interval = 0;
        Node::new(
            PtpInstance::new(default, TimePropertiesDS::default(), [cfg]),
            SimClock::new(self.offset as f64, 0.0),
        )
    }
}

fn assert_measured(n: &Node, offset: i64, delay: i64) {
    let m = n.measurements.last().expect("the slave measured an offset");
    assert!(
        n.measurements.len() >= 5,
        "only {} measurements",
        n.measurements.len()
    );
    let off = m.offset.nanos_f64();
    let mpd = m.mean_path_delay.nanos_f64();
    assert!(
        (off - offset as f64).abs() < 1.0,
        "offset {off} expected {offset}"
    );
    assert!(
        (mpd - delay as f64).abs() < 1.0,
        "delay {mpd} expected {delay}"
    );
}

#[test]
fn e2e_two_step_measures_offset_and_delay() {
    let master = NodeSpec::new(1, 100, 0).build();
    let slave = NodeSpec::new(2, 128, 2_500).build();
    let mut net = Net::new(vec![master, slave], |_, _| 700);
    net.start();
    net.run_until(20 * S);
    assert_eq!(net.state(0), PortState::Master);
    // No servo runs, so the slave stays UNCALIBRATED (clause 9.2.5).
    assert_eq!(net.state(1), PortState::Uncalibrated);
    assert_measured(&net.nodes[1], 2_500, 700);
    // Whole exchanges give the same offset and the raw path delay, at the
    // midpoint of the Sync's arrival and the Delay_Req's departure.
    let x = net.nodes[1].exchanges.last().expect("exchange samples");
    assert!(net.nodes[1].exchanges.len() >= 5);
    assert_eq!(x.offset, Duration::from_nanos(2_500));
    assert_eq!(x.raw_path_delay, Duration::from_nanos(700));
    assert!(x.ingress.secs() > 0);
    let ds = net.nodes[1].inst.data_sets();
    assert_eq!(ds.parent.grandmaster_identity, identity(1));
    assert_eq!(ds.current.steps_removed, 1);
}

#[test]
fn e2e_one_step_master() {
    let mut m = NodeSpec::new(1, 100, 0);
    m.two_step = false;
    let mut net = Net::new(
        vec![m.build(), NodeSpec::new(2, 128, -40_000).build()],
        |_, _| 1_000,
    );
    net.start();
    net.run_until(20 * S);
    assert_measured(&net.nodes[1], -40_000, 1_000);
}

#[test]
fn asymmetry_is_corrected_when_configured() {
    // Master to slave 900 ns, slave to master 500 ns: mean 700, asymmetry +200.
    let delay = |a: usize, _b: usize| if a == 0 { 900 } else { 500 };
    let mut net = Net::new(
        vec![
            NodeSpec::new(1, 100, 0).build(),
            NodeSpec::new(2, 128, 10_000).build(),
        ],
        delay,
    );
    net.start();
    net.run_until(20 * S);
    // Without the setting the offset is off by the asymmetry.
    assert_measured(&net.nodes[1], 10_200, 700);

    let mut slave = NodeSpec::new(2, 128, 10_000);
    slave.asymmetry_ns = 200;
    let mut net = Net::new(vec![NodeSpec::new(1, 100, 0).build(), slave.build()], delay);
    net.start();
    net.run_until(20 * S);
    assert_measured(&net.nodes[1], 10_000, 700);
}

#[test]
fn p2p_measures_link_delay() {
    let mut m = NodeSpec::new(1, 100, 0);
    m.mechanism = DelayMechanism::P2p;
    let mut s = NodeSpec::new(2, 128, 123_456);
    s.mechanism = DelayMechanism::P2p;
    let mut net = Net::new(vec![m.build(), s.build()], |_, _| 450);
    net.start();
    net.run_until(20 * S);
    assert_eq!(net.state(0), PortState::Master);
    assert_measured(&net.nodes[1], 123_456, 450);
    // P2P has no exchange with the master: only per-Sync samples.
    assert!(net.nodes[1].exchanges.is_empty());
    // The master measures the link too (P2P runs in every state).
    let mpd = net.nodes[0].inst.ports()[0].mean_path_delay().unwrap();
    assert_eq!(mpd, Duration::from_nanos(450));
}

#[test]
fn bmca_elects_one_master_and_recovers_when_it_leaves() {
    let nodes = vec![
        NodeSpec::new(1, 128, 0).build(),
        NodeSpec::new(2, 50, 0).build(), // the best
        NodeSpec::new(3, 128, 0).build(),
        NodeSpec::new(4, 60, 0).build(), // second best
        NodeSpec::new(5, 128, 0).build(),
    ];
    let mut net = Net::new(nodes, |_, _| 500);
    net.start();
    net.run_until(30 * S);
    let masters: Vec<usize> = (0..5)
        .filter(|&i| net.state(i) == PortState::Master)
        .collect();
    assert_eq!(masters, vec![1]);
    for i in [0, 2, 3, 4] {
        assert_eq!(net.state(i), PortState::Uncalibrated, "node {i}");
        let gm = net.nodes[i].inst.data_sets().parent.grandmaster_identity;
        assert_eq!(gm, identity(2), "node {i}");
    }

    // The grandmaster leaves: after the announce receipt timeout (3 s + up
    // to 1 s) plus qualification, node 4 (index 3) takes over, alone.
    net.nodes[1].down = true;
    let left = net.now;
    net.run_until(left + 10 * S);
    let masters: Vec<usize> = (0..5)
        .filter(|&i| i != 1 && net.state(i) == PortState::Master)
        .collect();
    assert_eq!(masters, vec![3]);
    for i in [0, 2, 4] {
        let gm = net.nodes[i].inst.data_sets().parent.grandmaster_identity;
        assert_eq!(gm, identity(4), "node {i}");
    }

    // It comes back and wins again.
    net.nodes[1].down = false;
    let back = net.now;
    net.run_until(back + 10 * S);
    let masters: Vec<usize> = (0..5)
        .filter(|&i| net.state(i) == PortState::Master)
        .collect();
    assert_eq!(masters, vec![1]);
}

#[test]
fn missing_tx_timestamps_fault_the_port_and_it_recovers() {
    let master = NodeSpec::new(1, 100, 0).build();
    let mut slave = NodeSpec::new(2, 128, 0).build();
    slave.lose_tx_timestamps = true;
    let mut net = Net::new(vec![master, slave], |_, _| 500);
    net.start();
    net.run_until(10 * S);
    let states: Vec<PortState> = net.nodes[1].states.iter().map(|s| s.2).collect();
    assert!(states.contains(&PortState::Faulty), "{states:?}");
    assert_eq!(
        net.nodes[1].inst.ports()[0]
            .counters()
            .tx_timestamp_timeouts,
        1
    );
    // Timestamps come back: after the fault reset interval it resynchronises.
    net.nodes[1].lose_tx_timestamps = false;
    net.run_until(40 * S);
    assert_eq!(net.state(1), PortState::Uncalibrated);
    assert_measured(&net.nodes[1], 0, 500);
}

#[test]
fn slave_only_never_masters() {
    let nodes = vec![NodeSpec::new(1, 100, 0).build()];
    let mut net = Net::new(nodes, |_, _| 500);
    {
        // A lone slave-only clock keeps listening.
        let clock = identity(9);
        let mut default = DefaultDS::new(clock, 1);
        default.slave_only = true;
        let port = PortConfig::new(PortIdentity {
            clock_identity: clock,
            port_number: 1,
        });
        net.nodes[0].inst = PtpInstance::new(default, TimePropertiesDS::default(), [port]);
    }
    net.start();
    net.run_until(30 * S);
    assert_eq!(net.state(0), PortState::Listening);
}
