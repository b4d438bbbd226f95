//! The `port_two_port` harness: one `PtpInstance` with two ports (a
//! boundary clock) of the statime core, driven by a sequence of operations
//! decoded from the fuzz input: datagrams arriving on either port (Announces
//! from a few foreign clocks whose data sets make the BMCA decide, and
//! every other message type, built valid and then maybe mutated, arbitrary
//! octets, linuxptp captures, the instance's own messages looped back or
//! re-sent as if from a clock further down), timer expiries (announce
//! receipt, qualification, Sync/Announce/Delay_Req intervals, a long
//! silence), transmit timestamps that come back or never do, servo and
//! management calls.
//!
//! With two ports the state decision has more than one port to choose
//! from: one port can be SLAVE while the other is MASTER, decision code M3
//! sends a port through PRE_MASTER and the qualification timeout, and P2
//! makes a port PASSIVE (a redundant path to the same grandmaster). None
//! of this is reachable with the one port of `port_sequence`.
//!
//! Shared by `fuzz/fuzz_targets/port_two_port.rs` (libFuzzer, nightly) and
//! `statime/tests/fuzz_regressions.rs` (replay of `fuzz/regressions/
//! port_two_port/`, stable). [`run`] panics when an invariant breaks:
//!
//! - nothing panics and no call loops forever (libFuzzer's `-timeout`);
//! - every port state is one of the nine states of clause 9.2.5; a
//!   slave-only clock has no port in MASTER or PRE_MASTER;
//! - at most one port is SLAVE or UNCALIBRATED (a boundary clock has one
//!   parent), and that port's protected foreign master is parentDS's
//!   parentPortIdentity, a clock other than this one;
//! - every reported state change is a change, and a legal one: SLAVE is
//!   entered only from UNCALIBRATED, PRE_MASTER never from MASTER (M3 keeps
//!   a master a master), FAULTY is left only for LISTENING, INITIALIZING is
//!   never re-entered;
//! - a port in PRE_MASTER has a timer armed no later than its qualification
//!   deadline (entry + announce interval * (stepsRemoved + 1), clause
//!   9.2.6.11), so it cannot stay PRE_MASTER past it;
//! - a few `handle_timeout(now)` calls in a row leave no timer due at
//!   `now` (the event loop does not spin);
//! - every message written comes from one of the two ports, fits, re-parses
//!   to exactly its length, carries that port's identity and the domain, has
//!   the right event flag, destination and transmit-timestamp context, and
//!   belongs to that port's delay mechanism; Announce, Sync and Delay_Resp
//!   come only from a port in MASTER, Delay_Req only from one in SLAVE or
//!   UNCALIBRATED (nothing queued for a role survives the port leaving
//!   it), and an Announce carries parentDS's
//!   grandmaster and currentDS's stepsRemoved (what a boundary clock
//!   passes on);
//! - measurements come only from a port in SLAVE or UNCALIBRATED (before or
//!   after the operation) and are finite; `neighborRateRatio` stays within
//!   1 ± 1000 ppm.

#![allow(dead_code, unreachable_pub)]

#[path = "input.rs"]
mod input;

use input::Input;
use statime::datasets::{DefaultDS, TimePropertiesDS, log_interval_duration};
use statime::instance::{InstanceEvent, PtpInstance};
use statime::port::{Destination, Measurement, PortConfig, TxContext, TxKind};
use statime::time::{Duration, Instant, Time, TimeInterval};
use statime::wire::tlv::{DelayMechanism, PortState};
use statime::wire::{ClockIdentity, Message, MessageBody, MessageType, PortIdentity};

/// Operations per input.
const MAX_OPS: usize = 512;
/// The number of ports.
const PORTS: usize = 2;
/// Our clock.
const OURS: ClockIdentity = ClockIdentity([0x00, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x53, 0x02]);
/// The PTP time at monotonic 0 (late 2023), ns.
const BASE_NS: u64 = 1_700_000_000_000_000_000;

/// linuxptp captures, the templates of the "mutated capture" operation.
const TEMPLATES: [&[u8]; 8] = [
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-e2e-announce.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-e2e-sync.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-e2e-follow_up.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-e2e-delay_resp.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-p2p-announce.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-p2p-pdelay_req.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-p2p-pdelay_resp.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/gptp-announce.bin"),
];

/// The message types of the "built message" operation (Announces have
/// their own operation).
const TYPES: [MessageType; 9] = [
    MessageType::Sync,
    MessageType::FollowUp,
    MessageType::DelayResp,
    MessageType::PdelayReq,
    MessageType::PdelayResp,
    MessageType::PdelayRespFollowUp,
    MessageType::DelayReq,
    MessageType::Signaling,
    MessageType::Management,
];

/// The foreign clocks.
const CLOCKS: usize = 4;

/// What foreign clock `k` announces unless the input says otherwise:
/// (priority1, grandmaster = clock index, stepsRemoved). A is a good
/// grandmaster, B an ordinary one (as good as a default clock, but with a
/// larger identity than ours), C a boundary clock below A (the same
/// grandmaster one step further: a redundant path), D a poor one.
const PROFILES: [(u8, usize, u16); CLOCKS] = [(100, 0, 0), (128, 1, 0), (100, 0, 1), (250, 3, 0)];

fn peer(k: usize) -> ClockIdentity {
    let n = u8::try_from(k % 250).unwrap_or(0) + 1;
    ClockIdentity([0x00, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x77, n])
}

fn is_slave(s: PortState) -> bool {
    matches!(s, PortState::Slave | PortState::Uncalibrated)
}

/// Counts of what a run reached.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Datagrams handed to the instance.
    pub received: u64,
    /// Of which accepted (`Ok`).
    pub accepted: u64,
    /// Messages the instance wrote.
    pub sent: u64,
    /// Offset measurements reported.
    pub measurements: u64,
    /// States each port was seen in (bit = PortState code).
    pub states: [u16; PORTS],
    /// Entries into PRE_MASTER (state change events).
    pub pre_master: u64,
    /// PRE_MASTER to MASTER (state change events).
    pub qualified: u64,
    /// Of which in `handle_timeout` (the qualification timeout).
    pub qualification_timeouts: u64,
    /// Checks that found one port SLAVE or UNCALIBRATED and the other
    /// MASTER (the boundary clock at work).
    pub boundary: u64,
    /// Announces a MASTER port sent for a grandmaster other than this
    /// clock (passed on from the parent).
    pub relayed_announces: u64,
}

/// What the harness remembers between operations.
struct State {
    inst: PtpInstance<PORTS, 4>,
    me: [PortIdentity; PORTS],
    mechanism: [DelayMechanism; PORTS],
    log_announce: [i8; PORTS],
    domain: u8,
    slave_only: bool,
    /// Monotonic now, ns.
    now: u64,
    /// The local PTP clock minus (BASE_NS + now), ns.
    clock_offset: i64,
    /// Transmit timestamps the instance waits for, per port.
    awaiting: [Vec<TxContext>; PORTS],
    /// sequenceId of the latest message each port sent, by messageType.
    last_sent: [[u16; 16]; PORTS],
    /// The latest messages sent (port, octets), for echoes.
    sent: Vec<(usize, Vec<u8>)>,
    /// Per foreign clock and port: the next Announce sequenceId.
    announce_seq: [[u16; PORTS]; CLOCKS],
    /// Per foreign clock and port: the next Sync sequenceId.
    sync_seq: [[u16; PORTS]; CLOCKS],
    /// The port states at the last check.
    last_state: [PortState; PORTS],
    /// Per port in PRE_MASTER: when it entered (monotonic ns) and
    /// currentDS.stepsRemoved then.
    pre_master_since: [Option<(u64, u16)>; PORTS],
    /// Ports in SLAVE or UNCALIBRATED before the current operation.
    slave_before: [bool; PORTS],
    /// Whether the timers are being run.
    in_timeout: bool,
    stats: Stats,
}

impl State {
    fn instant(&self) -> Instant {
        Instant::from_nanos(self.now)
    }

    fn ptp_now(&self) -> Time {
        let ns = i128::from(BASE_NS) + i128::from(self.now) + i128::from(self.clock_offset);
        Time::from_nanos(u64::try_from(ns.max(0)).unwrap_or(u64::MAX))
    }

    /// A timestamp near the local PTP clock, or (rarely) anywhere.
    fn time_near(&self, u: &mut Input<'_>) -> Time {
        match u.u8() {
            0 => Time::from_nanos(u.u64()),
            1 => Time::from_secs_nanos(u.u64(), u.u32()),
            _ => self.ptp_now() + Duration::from_nanos(i64::from(u.i32())),
        }
    }

    /// Drain the outputs of the instance and check them and the ports.
    fn drain(&mut self) {
        let now = self.instant();
        let ptp_now = self.ptp_now();
        let mut buf = [0u8; 1500];
        let mut n = 0;
        while let Some((port, r)) = self.inst.poll_transmit(now, ptp_now, &mut buf) {
            n += 1;
            assert!(n <= 128, "poll_transmit never runs dry");
            assert!(
                port < PORTS,
                "a message from port {port}, which does not exist"
            );
            let t = r.expect("a message the instance writes fits 1500 octets");
            self.stats.sent += 1;
            let bytes = buf[..t.len].to_vec();
            self.check_sent(port, &bytes, t.event, t.destination, t.context);
            if let Some(ctx) = t.context {
                let awaiting = &mut self.awaiting[port];
                if awaiting.len() >= 8 {
                    awaiting.remove(0);
                }
                awaiting.push(ctx);
            }
            if self.sent.len() >= 8 {
                self.sent.remove(0);
            }
            self.sent.push((port, bytes));
        }
        while let Some(e) = self.inst.poll_event() {
            match e {
                InstanceEvent::Measurement { port, measurement }
                | InstanceEvent::Exchange { port, measurement } => {
                    assert!(port < PORTS, "a measurement of port {port}");
                    let state = self.inst.ports()[port].state();
                    assert!(
                        self.slave_before[port] || is_slave(state),
                        "a measurement on port {port} in {state:?}"
                    );
                    check_measurement(&measurement);
                    self.stats.measurements += 1;
                }
                InstanceEvent::PortState { port, from, to } => {
                    assert!(port < PORTS, "a state change of port {port}");
                    check_transition(from, to);
                    if to == PortState::PreMaster {
                        self.stats.pre_master += 1;
                    }
                    if from == PortState::PreMaster && to == PortState::Master {
                        self.stats.qualified += 1;
                        if self.in_timeout {
                            self.stats.qualification_timeouts += 1;
                        }
                    }
                }
                InstanceEvent::ParentChanged => {}
            }
        }
        self.check_ports();
    }

    /// The checks of one written message.
    fn check_sent(
        &mut self,
        port: usize,
        bytes: &[u8],
        event: bool,
        destination: Destination,
        context: Option<TxContext>,
    ) {
        let msg = Message::parse(bytes).expect("a message the instance writes parses");
        assert_eq!(
            msg.wire_len(),
            bytes.len(),
            "messageLength is the written length"
        );
        let h = msg.header;
        assert_eq!(
            h.source_port_identity, self.me[port],
            "sent with the port's identity"
        );
        assert_eq!(h.domain_number, self.domain, "sent in our domain");
        assert_eq!(event, h.message_type.is_event(), "event flag of {h:?}");
        let pdelay = matches!(
            h.message_type,
            MessageType::PdelayReq | MessageType::PdelayResp | MessageType::PdelayRespFollowUp
        );
        assert_eq!(
            destination == Destination::PeerDelay,
            pdelay,
            "destination of {:?}",
            h.message_type
        );
        let e2e_only = matches!(
            h.message_type,
            MessageType::DelayReq | MessageType::DelayResp
        );
        match self.mechanism[port] {
            DelayMechanism::E2e => assert!(!pdelay, "an E2E port sent {:?}", h.message_type),
            _ => assert!(!e2e_only, "a P2P port sent {:?}", h.message_type),
        }
        if let Some(ctx) = context {
            assert!(event, "a timestamp asked for a general message");
            let expected = match ctx.kind {
                TxKind::Sync => MessageType::Sync,
                TxKind::DelayReq => MessageType::DelayReq,
                TxKind::PdelayReq => MessageType::PdelayReq,
                TxKind::PdelayResp => MessageType::PdelayResp,
            };
            assert_eq!(h.message_type, expected, "context {ctx:?}");
            assert_eq!(ctx.sequence_id, h.sequence_id, "context {ctx:?}");
        }
        let state = self.inst.ports()[port].state();
        if matches!(
            h.message_type,
            MessageType::Announce | MessageType::Sync | MessageType::DelayResp
        ) {
            assert_eq!(
                state,
                PortState::Master,
                "port {port} sent {:?} in {state:?}",
                h.message_type
            );
        }
        if h.message_type == MessageType::DelayReq {
            assert!(is_slave(state), "port {port} sent Delay_Req in {state:?}");
        }
        if let MessageBody::Announce(a) = msg.body {
            let ds = self.inst.data_sets();
            assert_eq!(
                (a.grandmaster_identity, a.grandmaster_priority_1),
                (
                    ds.parent.grandmaster_identity,
                    ds.parent.grandmaster_priority1
                ),
                "an Announce for another grandmaster than parentDS's"
            );
            assert_eq!(
                a.steps_removed, ds.current.steps_removed,
                "an Announce with another stepsRemoved than currentDS's"
            );
            if a.grandmaster_identity != OURS {
                self.stats.relayed_announces += 1;
            }
        }
        self.last_sent[port][usize::from(u8::from(h.message_type) & 0x0F)] = h.sequence_id;
    }

    fn check_ports(&mut self) {
        let mut slaves = 0;
        let mut master = false;
        for i in 0..PORTS {
            let port = &self.inst.ports()[i];
            let state = port.state();
            let code = u8::from(state);
            assert!(
                !matches!(state, PortState::Unknown(_)) && (1..=9).contains(&code),
                "invalid port state {state:?}"
            );
            self.stats.states[i] |= 1 << code;
            if self.slave_only {
                assert!(
                    !matches!(state, PortState::Master | PortState::PreMaster),
                    "a slave-only clock has port {i} in {state:?}"
                );
            }
            let r = port.neighbor_rate_ratio();
            assert!(
                r.is_finite() && (r - 1.0).abs() <= 1e-3,
                "neighborRateRatio {r}"
            );
            if let Some(d) = port.mean_path_delay() {
                assert!(d.nanos_f64().is_finite());
            }
            if is_slave(state) {
                slaves += 1;
                let parent = self.inst.data_sets().parent.parent_port_identity;
                assert_ne!(
                    parent.clock_identity, OURS,
                    "port {i} in {state:?} of itself"
                );
                assert_eq!(
                    port.foreign_masters().protected(),
                    Some(parent),
                    "port {i} in {state:?} does not keep the parent's record"
                );
            }
            master |= state == PortState::Master;
            if state == PortState::PreMaster {
                if self.last_state[i] != PortState::PreMaster || self.pre_master_since[i].is_none()
                {
                    let steps = self.inst.data_sets().current.steps_removed;
                    self.pre_master_since[i] = Some((self.now, steps));
                }
                if let Some((since, steps)) = self.pre_master_since[i] {
                    let deadline = Instant::from_nanos(since)
                        + log_interval_duration(self.log_announce[i]) * (i64::from(steps) + 1);
                    let armed = port.poll_timeout();
                    assert!(
                        armed.is_some_and(|t| t <= deadline),
                        "port {i} in PRE_MASTER since {since} ns (stepsRemoved {steps}) \
                         with no timer by {deadline:?}: {armed:?}"
                    );
                }
            } else {
                self.pre_master_since[i] = None;
            }
            self.last_state[i] = state;
        }
        assert!(slaves <= 1, "{slaves} ports in SLAVE or UNCALIBRATED");
        if slaves == 1 && master {
            self.stats.boundary += 1;
        }
    }

    /// Note which ports may measure during the next operation.
    fn begin(&mut self) {
        for i in 0..PORTS {
            self.slave_before[i] = is_slave(self.inst.ports()[i].state());
        }
    }

    fn receive(&mut self, port: usize, data: &[u8], rx: Option<Time>) {
        let now = self.instant();
        self.stats.received += 1;
        if self.inst.handle_receive(port, data, rx, now).is_ok() {
            self.stats.accepted += 1;
        }
        self.drain();
    }

    /// Run the timers due at `now` as an event loop does: again while
    /// `poll_timeout` says something is due. With two ports one call may
    /// leave timers due (a port's timeout runs the state decision, which
    /// makes the other port MASTER and arms its Announce and Sync timers at
    /// `now`), but a few calls must settle it.
    fn timeout(&mut self) {
        let now = self.instant();
        let mut calls = 0;
        loop {
            self.inst.handle_timeout(now);
            self.in_timeout = true;
            self.drain();
            self.in_timeout = false;
            calls += 1;
            match self.inst.poll_timeout() {
                Some(t) if t <= now => assert!(
                    calls < 4,
                    "timers still due after {calls} handle_timeout calls: {t:?} <= {now:?}"
                ),
                _ => break,
            }
        }
    }

    fn header(
        &self,
        message_type: MessageType,
        source: PortIdentity,
        seq: u16,
        flags: u16,
        log_interval: i8,
    ) -> Vec<u8> {
        let mut m = Vec::with_capacity(80);
        m.push(u8::from(message_type) & 0x0F);
        m.push((1 << 4) | 2);
        m.extend_from_slice(&[0, 0]); // length, set by `finish`
        m.push(self.domain);
        m.push(0);
        m.extend_from_slice(&flags.to_be_bytes());
        m.extend_from_slice(&[0; 8]); // correctionField
        m.extend_from_slice(&[0; 4]);
        put_port(&mut m, source);
        m.extend_from_slice(&seq.to_be_bytes());
        m.push(0);
        m.push(log_interval.to_be_bytes()[0]);
        m
    }

    /// An Announce of foreign clock `k` as received on `port`: its
    /// profile unless the input says otherwise, then maybe mutated.
    fn announce(&mut self, u: &mut Input<'_>, port: usize) -> Vec<u8> {
        let k = u.below(CLOCKS);
        let source = PortIdentity {
            clock_identity: peer(k),
            port_number: u16::try_from(port + 1).unwrap_or(1),
        };
        let counter = &mut self.announce_seq[k][port];
        let seq = match u.u8() {
            0..=0xDF => {
                let s = *counter;
                *counter = s.wrapping_add(1);
                s
            }
            0xE0..=0xEF => counter.wrapping_sub(1),
            _ => u.u16(),
        };
        let (mut p1, gm, mut steps) = PROFILES[k];
        let mut gm = peer(gm);
        let (mut class, mut accuracy, mut variance, mut p2) = (248u8, 0xFEu8, 0xFFFFu16, 128u8);
        if u.u8() >= 0xE0 {
            p1 = u.u8();
            class = u.u8();
            accuracy = u.u8();
            variance = u.u16();
            p2 = u.u8();
            gm = match u.u8() % 8 {
                0..=3 => peer(usize::from(u.u8()) % CLOCKS),
                4 => OURS,
                _ => ClockIdentity(u.array()),
            };
            steps = u16::from(u.u8());
        }
        let flags = if u.u8() == 0xFF { u.u16() } else { 0 };
        let mut m = self.header(
            MessageType::Announce,
            source,
            seq,
            flags,
            self.log_announce[port],
        );
        put_time(&mut m, self.time_near(u));
        m.extend_from_slice(&37i16.to_be_bytes());
        m.push(0);
        m.push(p1);
        m.push(class);
        m.push(accuracy);
        m.extend_from_slice(&variance.to_be_bytes());
        m.push(p2);
        m.extend_from_slice(&gm.0);
        m.extend_from_slice(&steps.to_be_bytes());
        m.push(0xA0);
        if u.u8() == 0xFF {
            // A PATH_TRACE TLV: the grandmaster, then this clock or another.
            m.extend_from_slice(&8u16.to_be_bytes());
            m.extend_from_slice(&16u16.to_be_bytes());
            m.extend_from_slice(&gm.0);
            m.extend_from_slice(&if u.bool() { OURS.0 } else { peer(k).0 });
        }
        finish(&mut m);
        mutate(u, &mut m);
        m
    }

    /// A message other than an Announce as received on `port`, valid
    /// unless the input says otherwise, with fields chosen so that the
    /// exchanges can complete.
    fn build(&mut self, u: &mut Input<'_>, port: usize) -> (Vec<u8>, bool) {
        let message_type = TYPES[u.below(TYPES.len())];
        let other = 1 - port;
        let src = u.u8() % 8;
        let k = usize::from(src % 4);
        let source = match src {
            0..=3 => PortIdentity {
                clock_identity: peer(k),
                port_number: u16::try_from(port + 1).unwrap_or(1),
            },
            4 => self.me[port],
            5 => self.me[other],
            6 => PortIdentity {
                clock_identity: peer(0),
                port_number: u.u16(),
            },
            _ => PortIdentity {
                clock_identity: ClockIdentity(u.array()),
                port_number: u.u16(),
            },
        };
        let seq = match u.u8() % 4 {
            // The sender's own counter, so that Sync and Follow_Up pair.
            0 | 1 => {
                let counter = &mut self.sync_seq[k][port];
                match message_type {
                    MessageType::Sync => {
                        let s = *counter;
                        *counter = s.wrapping_add(1);
                        s
                    }
                    _ => counter.wrapping_sub(1),
                }
            }
            // Answering what this port sent last.
            2 => {
                let asked = match message_type {
                    MessageType::DelayResp => MessageType::DelayReq,
                    MessageType::PdelayResp | MessageType::PdelayRespFollowUp => {
                        MessageType::PdelayReq
                    }
                    other => other,
                };
                self.last_sent[port][usize::from(u8::from(asked) & 0x0F)]
            }
            _ => u.u16(),
        };
        let flags = match u.u8() % 4 {
            0 => 0x0200, // twoStepFlag
            1 => 0,
            2 => u.u16(),
            _ => 0x0208, // twoStep + unicast
        };
        let mut m = self.header(message_type, source, seq, flags, 0);
        if u.u8() == 0xFF {
            m[4] = u.u8(); // another domain
        }
        let correction: i64 = match u.u8() % 4 {
            0 => i64::from(u.i32()) << 16,
            1 => u.i64(),
            _ => 0,
        };
        m[8..16].copy_from_slice(&correction.to_be_bytes());
        put_time(&mut m, self.time_near(u));
        let requester = match u.u8() {
            0..=0xDF => self.me[port],
            0xE0..=0xEF => self.me[other],
            _ => source,
        };
        match message_type {
            MessageType::DelayResp | MessageType::PdelayResp | MessageType::PdelayRespFollowUp => {
                put_port(&mut m, requester);
            }
            MessageType::PdelayReq => m.extend_from_slice(&[0; 10]),
            MessageType::Signaling => {
                put_port(
                    &mut m,
                    PortIdentity {
                        clock_identity: ClockIdentity::ALL,
                        port_number: 0xFFFF,
                    },
                );
                m.truncate(44);
                m.extend_from_slice(u.bytes(24));
            }
            MessageType::Management => {
                m.truncate(34);
                put_port(
                    &mut m,
                    PortIdentity {
                        clock_identity: ClockIdentity::ALL,
                        port_number: 0xFFFF,
                    },
                );
                m.extend_from_slice(&[1, 1, u.u8() % 5, 0]);
                m.extend_from_slice(&1u16.to_be_bytes());
                m.extend_from_slice(&2u16.to_be_bytes());
                m.extend_from_slice(&u.u16().to_be_bytes());
            }
            _ => {}
        }
        finish(&mut m);
        mutate(u, &mut m);
        (m, message_type.is_event())
    }

    /// One of our own messages back on `port`: as sent (the instance's own
    /// identity, a loop between its ports), or as a clock further down
    /// would pass it on (another identity, one step more, maybe with a
    /// PATH_TRACE that names this clock).
    fn echo(&mut self, u: &mut Input<'_>, port: usize) {
        if self.sent.is_empty() {
            return;
        }
        let (_, mut m) = self.sent[u.below(self.sent.len())].clone();
        let mode = u.u8();
        if mode >= 0xC0 && m.len() >= 44 {
            let id = peer(usize::from(u.u8()) % CLOCKS);
            m[20..28].copy_from_slice(&id.0);
            m[28..30].copy_from_slice(&1u16.to_be_bytes());
            if m[0] & 0x0F == u8::from(MessageType::Announce) && m.len() >= 64 {
                let steps = u16::from_be_bytes([m[61], m[62]]).wrapping_add(1);
                m[61..63].copy_from_slice(&steps.to_be_bytes());
                if mode & 1 == 1 {
                    m.truncate(64);
                    m.extend_from_slice(&8u16.to_be_bytes());
                    m.extend_from_slice(&8u16.to_be_bytes());
                    m.extend_from_slice(&OURS.0);
                    finish(&mut m);
                }
            }
        }
        mutate(u, &mut m);
        let rx = Some(self.time_near(u));
        self.receive(port, &m, rx);
    }

    /// Transmit timestamps of `port`: of every message waiting for one, of
    /// one of them (newest first), or made up.
    fn timestamps(&mut self, u: &mut Input<'_>, port: usize) {
        let mode = u.u8();
        let now = self.instant();
        if mode == 0 {
            for ctx in std::mem::take(&mut self.awaiting[port]) {
                let ts = self.ptp_now();
                self.inst.handle_send_timestamp(port, ctx, ts, now);
            }
        } else {
            let awaiting = &mut self.awaiting[port];
            let ctx = if !awaiting.is_empty() && mode < 0xF0 {
                let i = awaiting.len() - 1 - u.below(awaiting.len());
                awaiting.remove(i)
            } else {
                TxContext {
                    kind: [
                        TxKind::Sync,
                        TxKind::DelayReq,
                        TxKind::PdelayReq,
                        TxKind::PdelayResp,
                    ][u.below(4)],
                    sequence_id: u.u16(),
                }
            };
            let ts = self.time_near(u);
            self.inst.handle_send_timestamp(port, ctx, ts, now);
        }
        self.drain();
    }
}

fn put_port(m: &mut Vec<u8>, p: PortIdentity) {
    m.extend_from_slice(&p.clock_identity.0);
    m.extend_from_slice(&p.port_number.to_be_bytes());
}

fn put_time(m: &mut Vec<u8>, t: Time) {
    let secs = u64::try_from(t.secs()).unwrap_or(u64::MAX) & 0xFFFF_FFFF_FFFF;
    m.extend_from_slice(&secs.to_be_bytes()[2..]);
    m.extend_from_slice(&t.subsec_nanos().to_be_bytes());
}

/// Set messageLength to the length.
fn finish(m: &mut [u8]) {
    let len = u16::try_from(m.len()).unwrap_or(u16::MAX);
    if m.len() >= 4 {
        m[2..4].copy_from_slice(&len.to_be_bytes());
    }
}

/// Usually nothing; sometimes flip, set or cut octets.
fn mutate(u: &mut Input<'_>, m: &mut Vec<u8>) {
    let n = match u.u8() {
        0..=199 => 0,
        200..=239 => 1,
        _ => 1 + u.below(4),
    };
    for _ in 0..n {
        if m.is_empty() {
            return;
        }
        let at = u.below(m.len());
        match u.u8() % 4 {
            0 => m[at] ^= 1 << (u.u8() % 8),
            1 => m[at] = u.u8(),
            2 => m.truncate(at),
            _ => m.extend_from_slice(u.bytes(16)),
        }
    }
}

fn check_measurement(m: &Measurement) {
    assert!(m.offset.nanos_f64().is_finite(), "offset {m:?}");
    assert!(m.mean_path_delay.nanos_f64().is_finite(), "delay {m:?}");
    assert!(m.raw_path_delay.nanos_f64().is_finite(), "raw delay {m:?}");
}

/// A reported state change is a change, and one the port state machine of
/// clause 9.2.5 (figure 30) and this implementation allow.
fn check_transition(from: PortState, to: PortState) {
    assert_ne!(from, to, "a state change to the same state");
    assert!(
        !matches!(to, PortState::Initializing | PortState::Unknown(_)),
        "{from:?} to {to:?}"
    );
    if to == PortState::Slave {
        assert_eq!(from, PortState::Uncalibrated, "SLAVE entered from {from:?}");
    }
    if to == PortState::PreMaster {
        assert!(
            !matches!(
                from,
                PortState::Master | PortState::Faulty | PortState::Disabled
            ),
            "PRE_MASTER entered from {from:?}"
        );
    }
    if from == PortState::Faulty {
        assert_eq!(to, PortState::Listening, "FAULTY left for {to:?}");
    }
}

/// One port's configuration from the input.
fn port_config(u: &mut Input<'_>, i: usize) -> PortConfig {
    let me = PortIdentity {
        clock_identity: OURS,
        port_number: u16::try_from(i + 1).unwrap_or(1),
    };
    let mut cfg = PortConfig::new(me);
    cfg.port_ds.delay_mechanism = if u.bool() {
        DelayMechanism::P2p
    } else {
        DelayMechanism::E2e
    };
    // The ranges the daemon's configuration accepts (-7..=7).
    cfg.port_ds.log_announce_interval = u.i8_in(-7, 7);
    cfg.port_ds.log_sync_interval = u.i8_in(-7, 7);
    cfg.port_ds.log_min_delay_req_interval = u.i8_in(-7, 7);
    cfg.port_ds.log_min_pdelay_req_interval = u.i8_in(-7, 7);
    cfg.port_ds.announce_receipt_timeout = 2 + u.u8() % 9;
    cfg.port_ds.master_only = u.u8() == 0xFF;
    cfg.sync_receipt_timeout = u.u8() % 4;
    cfg.delay_filter_length = 1 + u.below(16);
    cfg.rng_seed = u64::from(u.u16()) ^ (u64::from(me.port_number) << 32);
    cfg
}

/// Run one input; panics on a broken invariant. Returns what it reached.
pub fn run(data: &[u8]) -> Stats {
    let mut u = Input::new(data);
    let mut default = DefaultDS::new(OURS, 2);
    let flags = u.u8();
    default.two_step_flag = flags & 1 == 0;
    default.slave_only = flags & 0x0E == 0x0E;
    default.priority1 = u.u8();
    default.priority2 = u.u8();
    default.clock_quality.clock_class = match u.u8() {
        0xFF => u.u8(),
        0xFE => 6,
        _ => 248,
    };
    default.domain_number = if u.u8() == 0xFF { u.u8() } else { 0 };
    let configs = [port_config(&mut u, 0), port_config(&mut u, 1)];
    let domain = default.domain_number;
    let slave_only = default.slave_only;
    let mut s = State {
        inst: PtpInstance::new(default, TimePropertiesDS::default(), configs),
        me: configs.map(|c| c.port_ds.port_identity),
        mechanism: configs.map(|c| c.port_ds.delay_mechanism),
        log_announce: configs.map(|c| c.port_ds.log_announce_interval),
        domain,
        slave_only,
        now: u64::from(u.u32()),
        clock_offset: i64::from(u.i32()),
        awaiting: [Vec::new(), Vec::new()],
        last_sent: [[0; 16]; PORTS],
        sent: Vec::new(),
        announce_seq: [[0; PORTS]; CLOCKS],
        sync_seq: [[0; PORTS]; CLOCKS],
        last_state: [PortState::Initializing; PORTS],
        pre_master_since: [None; PORTS],
        slave_before: [false; PORTS],
        in_timeout: false,
        stats: Stats::default(),
    };
    s.inst.enable(s.instant());
    s.drain();

    for _ in 0..MAX_OPS {
        if u.is_empty() {
            break;
        }
        let op = u.u8();
        // Bit 4 names the port of the operations that have one.
        let port = usize::from((op >> 4) & 1);
        s.begin();
        match op % 16 {
            // Arbitrary octets.
            0 => {
                let data = u.bytes(160);
                let rx = u.bool().then(|| s.time_near(&mut u));
                s.receive(port, data, rx);
            }
            // An Announce of one of the foreign clocks (the common case).
            1..=4 => {
                let m = s.announce(&mut u, port);
                s.receive(port, &m, None);
            }
            // Another message, built valid and maybe mutated.
            5 | 6 => {
                let (m, event) = s.build(&mut u, port);
                let rx = if event && u.u8() != 0xFF {
                    Some(s.time_near(&mut u))
                } else {
                    None
                };
                s.receive(port, &m, rx);
            }
            // A mutated linuxptp capture.
            7 => {
                let mut m = TEMPLATES[u.below(TEMPLATES.len())].to_vec();
                if u.bool() && m.len() > 5 {
                    m[4] = s.domain;
                }
                mutate(&mut u, &mut m);
                let rx = Some(s.time_near(&mut u));
                s.receive(port, &m, rx);
            }
            // One of our own messages back.
            8 => s.echo(&mut u, port),
            // Time passes by a little; run the timers.
            9 => {
                s.now = s.now.saturating_add(u64::from(u.u16()) * 1_000);
                s.timeout();
            }
            // Jump to the next deadline (or a bit before or after it).
            10 => {
                if let Some(t) = s.inst.poll_timeout() {
                    let jitter = i64::from(u.i8()) * 1_000;
                    let at = i128::from(t.nanos()) + i128::from(jitter);
                    let at = u64::try_from(at.max(0)).unwrap_or(u64::MAX);
                    s.now = s.now.max(at);
                }
                s.timeout();
            }
            // Transmit timestamps of one port.
            11 => s.timestamps(&mut u, port),
            // The servo's calls.
            12 => {
                let now = s.instant();
                match u.u8() % 4 {
                    0 => s.inst.set_calibrated(now),
                    1 => s.inst.set_uncalibrated(now),
                    2 => {
                        s.clock_offset = s.clock_offset.saturating_add(i64::from(u.i32()));
                        s.inst.clock_stepped();
                    }
                    _ => s.inst.update_current(
                        TimeInterval::from_bits(u.i64()),
                        TimeInterval::from_bits(u.i64()),
                    ),
                }
                s.drain();
            }
            // Management SETs of defaultDS (priorities and clockClass; the
            // domain stays, the harness checks it).
            13 => {
                let now = s.instant();
                let (p1, p2, class) = (u.u8(), u.u8(), u.u8());
                s.inst.change_default_ds(
                    |d| {
                        d.priority1 = p1;
                        d.priority2 = p2;
                        d.clock_quality.clock_class = class;
                    },
                    now,
                );
                s.drain();
            }
            // A state decision out of turn.
            14 => {
                let now = s.instant();
                s.inst.state_decision(now);
                s.drain();
            }
            // A long silence (announce receipt timeouts, qualification,
            // fault recovery).
            _ => {
                s.now = s.now.saturating_add(u64::from(u.u8()) * 1_000_000_000);
                s.timeout();
            }
        }
    }
    s.stats
}
