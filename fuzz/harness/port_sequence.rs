//! The `port_sequence` harness: one `PtpInstance` with one port of the
//! statime core, driven by a sequence of operations decoded from the fuzz
//! input (received datagrams of every kind, hostile or built to be valid
//! and then mutated, timer expiries, transmit timestamps, servo and
//! management calls).
//!
//! Shared by `fuzz/fuzz_targets/port_sequence.rs` (libFuzzer, nightly) and
//! `statime/tests/fuzz_regressions.rs` (replay of `fuzz/regressions/
//! port_sequence/`, stable). [`run`] panics when an invariant breaks:
//!
//! - nothing panics and no call loops forever (libFuzzer's `-timeout`);
//! - the port state is always one of the nine states of clause 9.2.5, and
//!   a slave-only clock never becomes MASTER or PRE_MASTER;
//! - after `handle_timeout(now)` no timer is left due at `now` (else the
//!   event loop would spin);
//! - every message the instance writes fits the buffer, re-parses with
//!   `Message::parse` to exactly its length, carries the port's identity
//!   and domain, is an event message exactly when `Transmit::event` says
//!   so, goes to the peer-delay group exactly for the peer-delay messages,
//!   asks for a transmit timestamp only for event messages of the matching
//!   kind, and never belongs to the other delay mechanism;
//! - every reported offset and path delay is finite, and
//!   `neighborRateRatio` stays within 1 ± 1000 ppm.

#![allow(dead_code, unreachable_pub)]

#[path = "input.rs"]
mod input;

use input::Input;
use statime::datasets::{DefaultDS, TimePropertiesDS};
use statime::instance::{InstanceEvent, PtpInstance};
use statime::port::{Destination, Measurement, PortConfig, TxContext, TxKind};
use statime::time::{Duration, Instant, Time, TimeInterval};
use statime::wire::tlv::{DelayMechanism, PortState};
use statime::wire::{ClockIdentity, Message, MessageType, PortIdentity};

/// Operations per input (each is a few octets; libFuzzer's inputs are
/// capped by `-max_len` anyway).
const MAX_OPS: usize = 512;
/// Our clock.
const OURS: ClockIdentity = ClockIdentity([0x00, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x53, 0x01]);
/// The PTP time at monotonic 0 (late 2023), ns.
const BASE_NS: u64 = 1_700_000_000_000_000_000;

/// linuxptp captures, the templates of the "mutated capture" operation.
const TEMPLATES: [&[u8]; 14] = [
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-e2e-announce.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-e2e-sync.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-e2e-follow_up.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-e2e-delay_req.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-e2e-delay_resp.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-p2p-announce.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-p2p-sync.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-p2p-follow_up.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-p2p-pdelay_req.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-p2p-pdelay_resp.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/l2-p2p-pdelay_resp_follow_up.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/gptp-announce.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/gptp-follow_up.bin"),
    include_bytes!("../../statime/tests/fixtures/ptp4l/mgmt-get-default_data_set.bin"),
];

/// The message types a built message may have.
const TYPES: [MessageType; 10] = [
    MessageType::Announce,
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

fn peer(n: u8) -> ClockIdentity {
    ClockIdentity([0x00, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x77, n])
}

/// What the harness remembers between operations.
struct State {
    inst: PtpInstance<1, 4>,
    me: PortIdentity,
    domain: u8,
    mechanism: DelayMechanism,
    slave_only: bool,
    /// Monotonic now, ns.
    now: u64,
    /// The local PTP clock minus (BASE_NS + now), ns.
    clock_offset: i64,
    /// Transmit timestamps the instance waits for.
    awaiting: Vec<TxContext>,
    /// sequenceId of the latest message we sent, by messageType.
    last_sent: [u16; 16],
    /// The latest messages we sent (for echoes).
    sent: Vec<Vec<u8>>,
    /// Per built-message source: the next sequenceId.
    peer_seq: [u16; 8],
    /// What happened, for coverage of the replay tests.
    pub stats: Stats,
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
    /// Complete exchanges reported.
    pub exchanges: u64,
    /// States the port was seen in (bit = PortState code).
    pub states: u16,
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

    /// Drain the outputs of the instance and check them.
    fn drain(&mut self) {
        let now = self.instant();
        let ptp_now = self.ptp_now();
        let mut buf = [0u8; 1500];
        let mut n = 0;
        while let Some((port, r)) = self.inst.poll_transmit(now, ptp_now, &mut buf) {
            n += 1;
            assert!(n <= 64, "poll_transmit never runs dry");
            assert_eq!(port, 0, "a message from a port that does not exist");
            let t = r.expect("a message the instance writes fits 1500 octets");
            self.stats.sent += 1;
            let bytes = &buf[..t.len];
            let msg = Message::parse(bytes).expect("a message the instance writes parses");
            assert_eq!(msg.wire_len(), t.len, "messageLength is the written length");
            let h = msg.header;
            assert_eq!(h.source_port_identity, self.me, "sent with our identity");
            assert_eq!(h.domain_number, self.domain, "sent in our domain");
            assert_eq!(t.event, h.message_type.is_event(), "event flag {t:?} {h:?}");
            let pdelay = matches!(
                h.message_type,
                MessageType::PdelayReq | MessageType::PdelayResp | MessageType::PdelayRespFollowUp
            );
            assert_eq!(
                t.destination == Destination::PeerDelay,
                pdelay,
                "destination of {:?}",
                h.message_type
            );
            match self.mechanism {
                DelayMechanism::E2e => assert!(
                    !matches!(
                        h.message_type,
                        MessageType::PdelayReq
                            | MessageType::PdelayResp
                            | MessageType::PdelayRespFollowUp
                    ),
                    "an E2E port sent {:?}",
                    h.message_type
                ),
                _ => assert!(
                    !matches!(
                        h.message_type,
                        MessageType::DelayReq | MessageType::DelayResp
                    ),
                    "a P2P port sent {:?}",
                    h.message_type
                ),
            }
            if let Some(ctx) = t.context {
                assert!(t.event, "a timestamp asked for a general message");
                let expected = match ctx.kind {
                    TxKind::Sync => MessageType::Sync,
                    TxKind::DelayReq => MessageType::DelayReq,
                    TxKind::PdelayReq => MessageType::PdelayReq,
                    TxKind::PdelayResp => MessageType::PdelayResp,
                };
                assert_eq!(h.message_type, expected, "context {ctx:?}");
                assert_eq!(ctx.sequence_id, h.sequence_id, "context {ctx:?}");
                if self.awaiting.len() >= 8 {
                    self.awaiting.remove(0);
                }
                self.awaiting.push(ctx);
            }
            self.last_sent[usize::from(u8::from(h.message_type) & 0x0F)] = h.sequence_id;
            if self.sent.len() >= 8 {
                self.sent.remove(0);
            }
            self.sent.push(bytes.to_vec());
        }
        while let Some(e) = self.inst.poll_event() {
            match e {
                InstanceEvent::Measurement { port, measurement } => {
                    assert_eq!(port, 0);
                    check_measurement(&measurement);
                    self.stats.measurements += 1;
                }
                InstanceEvent::Exchange { port, measurement } => {
                    assert_eq!(port, 0);
                    check_measurement(&measurement);
                    self.stats.exchanges += 1;
                }
                InstanceEvent::PortState { port, .. } => assert_eq!(port, 0),
                InstanceEvent::ParentChanged => {}
            }
        }
        self.check_port();
    }

    fn check_port(&mut self) {
        let port = &self.inst.ports()[0];
        let state = port.state();
        let code = u8::from(state);
        assert!(
            !matches!(state, PortState::Unknown(_)) && (1..=9).contains(&code),
            "invalid port state {state:?}"
        );
        self.stats.states |= 1 << code;
        if self.slave_only {
            assert!(
                !matches!(state, PortState::Master | PortState::PreMaster),
                "a slave-only clock in {state:?}"
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
    }

    fn receive(&mut self, data: &[u8], rx: Option<Time>) {
        let now = self.instant();
        self.stats.received += 1;
        if self.inst.handle_receive(0, data, rx, now).is_ok() {
            self.stats.accepted += 1;
        }
        self.drain();
    }

    fn timeout(&mut self) {
        let now = self.instant();
        self.inst.handle_timeout(now);
        if let Some(t) = self.inst.poll_timeout() {
            assert!(
                t > now,
                "a timer still due after handle_timeout: {t:?} <= {now:?}"
            );
        }
        self.drain();
    }

    /// A message built from the input: valid unless the input says
    /// otherwise, with fields chosen so that the exchanges can complete.
    fn build(&mut self, u: &mut Input<'_>) -> (Vec<u8>, bool) {
        let message_type = TYPES[u.below(TYPES.len())];
        let src = u.u8();
        let source = match src % 8 {
            0..=3 => PortIdentity {
                clock_identity: peer(src % 8 + 1),
                port_number: 1,
            },
            4 => self.me,
            5 => PortIdentity {
                clock_identity: OURS,
                port_number: 2,
            },
            6 => PortIdentity {
                clock_identity: peer(1),
                port_number: u.u16(),
            },
            _ => PortIdentity {
                clock_identity: ClockIdentity(u.array()),
                port_number: u.u16(),
            },
        };
        let seq_slot = usize::from(src % 8);
        let seq = match u.u8() % 4 {
            // The sender's own counter, so that Sync and Follow_Up pair.
            0 | 1 => {
                let s = self.peer_seq[seq_slot];
                if message_type == MessageType::FollowUp
                    || message_type == MessageType::Announce
                    || message_type == MessageType::Sync
                {
                    if message_type != MessageType::FollowUp {
                        self.peer_seq[seq_slot] = s.wrapping_add(1);
                        s
                    } else {
                        s.wrapping_sub(1)
                    }
                } else {
                    s
                }
            }
            // Answering what we sent last.
            2 => {
                let asked = match message_type {
                    MessageType::DelayResp => MessageType::DelayReq,
                    MessageType::PdelayResp | MessageType::PdelayRespFollowUp => {
                        MessageType::PdelayReq
                    }
                    other => other,
                };
                self.last_sent[usize::from(u8::from(asked) & 0x0F)]
            }
            _ => u.u16(),
        };
        let domain = if u.u8() == 0xFF { u.u8() } else { self.domain };
        let flags = match u.u8() % 4 {
            0 => 0x0200, // twoStepFlag
            1 => 0,
            2 => u.u16(),
            _ => 0x0208, // twoStep + unicast
        };
        let correction: i64 = match u.u8() % 4 {
            0 => i64::from(u.i32()) << 16,
            1 => u.i64(),
            _ => 0,
        };
        let log_interval = if u.bool() { u.i8() } else { 0 };
        let minor_version = if u.u8() == 0xFF { u.u8() & 0x0F } else { 1 };

        let mut m = Vec::with_capacity(80);
        m.push(u8::from(message_type) & 0x0F);
        m.push((minor_version << 4) | 2);
        m.extend_from_slice(&[0, 0]); // length, set below
        m.push(domain);
        m.push(0);
        m.extend_from_slice(&flags.to_be_bytes());
        m.extend_from_slice(&correction.to_be_bytes());
        m.extend_from_slice(&[0; 4]);
        put_port(&mut m, source);
        m.extend_from_slice(&seq.to_be_bytes());
        m.push(0);
        m.push(log_interval.to_be_bytes()[0]);
        let ts = self.time_near(u);
        put_time(&mut m, ts);
        let requester = if u.u8() < 0xF0 { self.me } else { source };
        match message_type {
            MessageType::Announce => {
                m.extend_from_slice(&37i16.to_be_bytes());
                m.push(0);
                m.push(u.u8()); // grandmasterPriority1
                m.push(u.u8()); // clockClass
                m.push(u.u8()); // clockAccuracy
                m.extend_from_slice(&u.u16().to_be_bytes());
                m.push(u.u8()); // grandmasterPriority2
                let gm = match u.u8() % 4 {
                    0 | 1 => source.clock_identity,
                    2 => OURS,
                    _ => ClockIdentity(u.array()),
                };
                m.extend_from_slice(&gm.0);
                m.extend_from_slice(&u16::from(u.u8() % 4).to_be_bytes());
                m.push(0xA0);
                if u.u8() == 0xFF {
                    // A PATH_TRACE TLV, possibly holding our identity.
                    m.extend_from_slice(&8u16.to_be_bytes());
                    m.extend_from_slice(&8u16.to_be_bytes());
                    m.extend_from_slice(&if u.bool() { OURS.0 } else { u.array() });
                }
            }
            MessageType::DelayResp
            | MessageType::PdelayResp
            | MessageType::PdelayRespFollowUp
            | MessageType::PdelayReq => {
                if message_type == MessageType::PdelayReq {
                    m.extend_from_slice(&[0; 10]);
                } else {
                    put_port(&mut m, requester);
                }
            }
            MessageType::Signaling => {
                put_port(
                    &mut m,
                    PortIdentity {
                        clock_identity: ClockIdentity::ALL,
                        port_number: 0xFFFF,
                    },
                );
                m.truncate(44);
                let tlv = u.bytes(24);
                m.extend_from_slice(tlv);
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
                // managementTLV: type 1, length 2, managementId.
                m.extend_from_slice(&1u16.to_be_bytes());
                m.extend_from_slice(&2u16.to_be_bytes());
                m.extend_from_slice(&u.u16().to_be_bytes());
            }
            _ => {}
        }
        let len = u16::try_from(m.len()).unwrap_or(u16::MAX);
        m[2..4].copy_from_slice(&len.to_be_bytes());
        mutate(u, &mut m);
        (m, message_type.is_event())
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

/// Run one input; panics on a broken invariant. Returns what it reached.
pub fn run(data: &[u8]) -> Stats {
    let mut u = Input::new(data);
    let mechanism = if u.bool() {
        DelayMechanism::P2p
    } else {
        DelayMechanism::E2e
    };
    let mut default = DefaultDS::new(OURS, 1);
    default.two_step_flag = u.bool();
    default.slave_only = u.bool();
    default.priority1 = u.u8();
    default.domain_number = if u.bool() { u.u8() } else { 0 };
    let me = PortIdentity {
        clock_identity: OURS,
        port_number: 1,
    };
    let mut cfg = PortConfig::new(me);
    cfg.port_ds.delay_mechanism = mechanism;
    // The ranges the daemon's configuration accepts (-7..=7).
    cfg.port_ds.log_announce_interval = u.i8_in(-7, 7);
    cfg.port_ds.log_sync_interval = u.i8_in(-7, 7);
    cfg.port_ds.log_min_delay_req_interval = u.i8_in(-7, 7);
    cfg.port_ds.log_min_pdelay_req_interval = u.i8_in(-7, 7);
    cfg.port_ds.announce_receipt_timeout = 2 + u.u8() % 9;
    cfg.port_ds.delay_asymmetry = TimeInterval::from_nanos(i64::from(u.i16()));
    cfg.port_ds.master_only = u.u8() == 0xFF;
    cfg.sync_receipt_timeout = u.u8() % 4;
    cfg.delay_filter_length = 1 + u.below(16);
    cfg.rate_ratio_window = 1 + u16::from(u.u8() % 16);
    cfg.rng_seed = u.u64();
    let domain = default.domain_number;
    let slave_only = default.slave_only;
    let mut s = State {
        inst: PtpInstance::new(default, TimePropertiesDS::default(), [cfg]),
        me,
        domain,
        mechanism,
        slave_only,
        now: u64::from(u.u32()),
        clock_offset: i64::from(u.i32()),
        awaiting: Vec::new(),
        last_sent: [0; 16],
        sent: Vec::new(),
        peer_seq: [0; 8],
        stats: Stats::default(),
    };
    s.inst.enable(s.instant());
    s.drain();

    for _ in 0..MAX_OPS {
        if u.is_empty() {
            break;
        }
        match u.u8() % 16 {
            // Arbitrary octets, as an event or a general message.
            0 => {
                let data = u.bytes(160);
                let rx = u.bool().then(|| s.time_near(&mut u));
                s.receive(data, rx);
            }
            // A built message (the common case).
            1..=6 => {
                let (m, event) = s.build(&mut u);
                let rx = if event && u.u8() != 0xFF {
                    Some(s.time_near(&mut u))
                } else {
                    None
                };
                s.receive(&m, rx);
            }
            // A mutated linuxptp capture.
            7 => {
                let mut m = TEMPLATES[u.below(TEMPLATES.len())].to_vec();
                if u.bool() && m.len() > 5 {
                    m[4] = s.domain;
                }
                mutate(&mut u, &mut m);
                let rx = Some(s.time_near(&mut u));
                s.receive(&m, rx);
            }
            // One of our own messages looped back, maybe mutated.
            8 => {
                if !s.sent.is_empty() {
                    let mut m = s.sent[u.below(s.sent.len())].clone();
                    mutate(&mut u, &mut m);
                    let rx = Some(s.time_near(&mut u));
                    s.receive(&m, rx);
                }
            }
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
            // Transmit timestamps: of every message waiting for one, of one
            // of them (newest first), or made up.
            11 => {
                let mode = u.u8();
                let now = s.instant();
                if mode == 0 {
                    for ctx in std::mem::take(&mut s.awaiting) {
                        let ts = s.ptp_now();
                        s.inst.handle_send_timestamp(0, ctx, ts, now);
                    }
                } else {
                    let ctx = if !s.awaiting.is_empty() && mode < 0xF0 {
                        let i = s.awaiting.len() - 1 - u.below(s.awaiting.len());
                        s.awaiting.remove(i)
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
                    let ts = s.time_near(&mut u);
                    s.inst.handle_send_timestamp(0, ctx, ts, now);
                }
                s.drain();
            }
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
            // Management SETs of defaultDS (priorities, and a clockClass
            // that makes M3/P1 decisions possible: PRE_MASTER, PASSIVE; the
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
            // A long silence (announce receipt timeouts, fault recovery).
            _ => {
                s.now = s.now.saturating_add(u64::from(u.u8()) * 1_000_000_000);
                s.timeout();
            }
        }
    }
    s.stats
}
