//! A master, a transparent clock and a slave of the real core on a virtual
//! line network (master - TC - slave) in virtual time. The transparent
//! clock holds messages for different times in the two directions (a busy
//! switch: Syncs wait 300 us, Delay_Reqs 20 us) and its own oscillator is
//! off by 30 ppm. Without residence correction the slave would be off by
//! half the difference (140 us) and see the residence as path delay; with
//! it, the slave measures its true offset to the nanosecond and the true
//! wire delay, in E2E and in P2P, from one-step and two-step masters.

mod common;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use common::{S, SimClock};
use statime::datasets::{DefaultDS, TimePropertiesDS};
use statime::instance::{InstanceEvent, PtpInstance};
use statime::port::{Measurement, PortConfig};
use statime::tc::{TcConfig, TcMode, TcTxContext, TransparentClock};
use statime::time::Instant;
use statime::wire::tlv::DelayMechanism;
use statime::wire::{ClockIdentity, MessageType, PortIdentity};

const MASTER: usize = 0;
const TC: usize = 1;
const SLAVE: usize = 2;

fn identity(n: u8) -> ClockIdentity {
    ClockIdentity([0, 0, 0x5e, 0xff, 0xfe, 0, 0x7c, n])
}

fn port(n: u8, k: u16) -> PortConfig {
    let mut c = PortConfig::new(PortIdentity {
        clock_identity: identity(n),
        port_number: k,
    });
    c.port_ds.log_announce_interval = 0;
    c.port_ds.log_sync_interval = 0;
    c.port_ds.log_min_pdelay_req_interval = 0;
    c
}

fn instance(n: u8, priority1: u8, mechanism: DelayMechanism, two_step: bool) -> PtpInstance<2> {
    let mut d = DefaultDS::new(identity(n), 1);
    d.priority1 = priority1;
    d.two_step_flag = two_step;
    let mut p = port(n, 1);
    p.port_ds.delay_mechanism = mechanism;
    PtpInstance::new(d, TimePropertiesDS::default(), [p])
}

enum Ev {
    /// Bytes arriving at (node, port).
    Deliver {
        node: usize,
        port: usize,
        data: Vec<u8>,
    },
    /// The transparent clock's copy leaves its port now (after its hold).
    TcSend {
        port: usize,
        data: Vec<u8>,
        context: Option<TcTxContext>,
    },
}

struct Line {
    now: u64,
    clocks: [SimClock; 3],
    master: PtpInstance<2>,
    tc: TransparentClock<2>,
    slave: PtpInstance<2>,
    /// One-way wire delay master-TC and TC-slave, ns.
    wire: [u64; 2],
    events: BinaryHeap<Reverse<(u64, u64)>>,
    payloads: Vec<Option<Ev>>,
    seq: u64,
    measurements: Vec<Measurement>,
}

/// How long the transparent clock holds a message before it leaves.
fn hold(data: &[u8]) -> u64 {
    match data.first().map(|b| b & 0x0F) {
        Some(0) => 300_000, // Sync
        Some(1) => 20_000,  // Delay_Req
        _ => 50_000,
    }
}

impl Line {
    fn new(master: PtpInstance<2>, tc: TransparentClock<2>, slave: PtpInstance<2>) -> Self {
        Self {
            now: 0,
            clocks: [
                SimClock::new(0.0, 0.0),
                SimClock::new(7_000_000.0, 30_000.0),
                SimClock::new(2_500.0, 0.0),
            ],
            master,
            tc,
            slave,
            wire: [1_200, 800],
            events: BinaryHeap::new(),
            payloads: Vec::new(),
            seq: 0,
            measurements: Vec::new(),
        }
    }

    fn at(&mut self, t: u64, ev: Ev) {
        self.payloads.push(Some(ev));
        self.seq += 1;
        self.events
            .push(Reverse((t, (self.payloads.len() - 1) as u64)));
    }

    /// Where a message sent by `node` on `port` arrives, and when.
    fn deliver(&mut self, node: usize, port: usize, data: &[u8]) {
        let (dst, dport, delay) = match (node, port) {
            (MASTER, _) => (TC, 0, self.wire[0]),
            (TC, 0) => (MASTER, 0, self.wire[0]),
            (TC, _) => (SLAVE, 0, self.wire[1]),
            _ => (TC, 1, self.wire[1]),
        };
        let t = self.now + delay;
        self.at(
            t,
            Ev::Deliver {
                node: dst,
                port: dport,
                data: data.to_vec(),
            },
        );
    }

    fn drain(&mut self) {
        let now = Instant::from_nanos(self.now);
        let mut buf = [0u8; 1500];
        for node in [MASTER, SLAVE] {
            loop {
                let ptp_now = self.clocks[node].time_at(self.now);
                let inst = if node == MASTER {
                    &mut self.master
                } else {
                    &mut self.slave
                };
                let Some((p, r)) = inst.poll_transmit(now, ptp_now, &mut buf) else {
                    break;
                };
                let t = r.expect("fits");
                if let Some(ctx) = t.context {
                    inst.handle_send_timestamp(p, ctx, ptp_now, now);
                }
                let data = buf[..t.len].to_vec();
                self.deliver(node, p, &data);
            }
            let inst = if node == MASTER {
                &mut self.master
            } else {
                &mut self.slave
            };
            while let Some(e) = inst.poll_event() {
                if node == SLAVE
                    && let InstanceEvent::Measurement { measurement, .. } = e
                {
                    self.measurements.push(measurement);
                }
            }
        }
        let ptp_now = self.clocks[TC].time_at(self.now);
        while let Some(r) = self.tc.poll_transmit(now, ptp_now, &mut buf) {
            let t = r.expect("fits");
            let data = buf[..t.len].to_vec();
            // Its own Pdelay messages go at once; forwarded ones are held.
            let own = data.get(20..28) == Some(&identity(9).0[..]);
            let delay = if own { 0 } else { hold(&data) };
            let when = self.now + delay;
            self.at(
                when,
                Ev::TcSend {
                    port: t.port,
                    data,
                    context: t.context,
                },
            );
        }
    }

    fn run_until(&mut self, end: u64) {
        self.drain();
        loop {
            let timers = [
                self.master.poll_timeout(),
                self.tc.poll_timeout(),
                self.slave.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .map(Instant::nanos)
            .min()
            .unwrap_or(u64::MAX);
            let next_ev = self.events.peek().map_or(u64::MAX, |Reverse((t, _))| *t);
            let t = timers.min(next_ev);
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            let now = Instant::from_nanos(self.now);
            if next_ev <= timers {
                let Reverse((_, i)) = self.events.pop().expect("an event");
                match self.payloads[i as usize].take().expect("once") {
                    Ev::Deliver { node, port, data } => {
                        let rx = self.clocks[node].time_at(self.now);
                        let _ = match node {
                            MASTER => self.master.handle_receive(port, &data, Some(rx), now),
                            SLAVE => self.slave.handle_receive(port, &data, Some(rx), now),
                            _ => self
                                .tc
                                .handle_receive(port, &data, Some(rx), now)
                                .map_err(|_| statime::port::RxError::NotApplicable),
                        };
                    }
                    Ev::TcSend {
                        port,
                        data,
                        context,
                    } => {
                        if let Some(ctx) = context {
                            let ts = self.clocks[TC].time_at(self.now);
                            self.tc.handle_send_timestamp(port, ctx, ts, now);
                        }
                        self.deliver(TC, port, &data);
                    }
                }
            } else {
                self.master.handle_timeout(now);
                self.tc.handle_timeout(now);
                self.slave.handle_timeout(now);
            }
            self.drain();
        }
    }
}

fn transparent(mode: TcMode) -> TransparentClock<2> {
    let mut c = TcConfig::new(mode, identity(9));
    c.syntonize = true;
    let mut t = TransparentClock::new(c, [port(9, 1), port(9, 2)]);
    t.enable(Instant::ZERO);
    t
}

fn run(mechanism: DelayMechanism, mode: TcMode, two_step: bool) -> Line {
    let mut line = Line::new(
        instance(1, 100, mechanism, two_step),
        transparent(mode),
        instance(2, 128, mechanism, true),
    );
    line.master.enable(Instant::ZERO);
    line.slave.enable(Instant::ZERO);
    line.run_until(40 * S);
    line
}

/// The slave's last measurements: offset exact, delay as expected.
fn assert_exact(line: &Line, delay_ns: f64) {
    let ms = &line.measurements;
    assert!(ms.len() >= 20, "only {} measurements", ms.len());
    // After the rate ratio is known (syntonization needs a few Syncs).
    for m in &ms[ms.len() - 10..] {
        let off = m.offset.nanos_f64();
        let d = m.mean_path_delay.nanos_f64();
        assert!(
            (off - 2_500.0).abs() < 2.0,
            "offset {off} ns, expected 2500"
        );
        assert!(
            (d - delay_ns).abs() < 2.0,
            "delay {d} ns, expected {delay_ns}"
        );
    }
    let c = line.tc.counters();
    assert!(c.corrected >= 20, "{c:?}");
    assert_eq!(c.loops, 0);
    assert_eq!(c.residence_unknown, 0);
    let r = line.tc.residence();
    // Syncs held 300 us, Delay_Reqs 20 us, by a clock 30 ppm fast.
    assert!(r.max_ns > 299_000.0 && r.max_ns < 301_000.0, "{r:?}");
}

#[test]
fn e2e_through_a_transparent_clock_two_step() {
    let line = run(DelayMechanism::E2e, TcMode::EndToEnd, true);
    // The residence is not path delay: the slave sees only the wires.
    assert_exact(&line, 2_000.0);
    let c = line.tc.counters();
    assert!(c.forwarded_by_type[usize::from(u8::from(MessageType::DelayResp))] >= 20);
}

#[test]
fn e2e_through_a_transparent_clock_one_step_master() {
    let line = run(DelayMechanism::E2e, TcMode::EndToEnd, false);
    assert_exact(&line, 2_000.0);
    assert!(line.tc.counters().one_step_converted >= 20);
}

#[test]
fn p2p_through_a_transparent_clock() {
    let line = run(DelayMechanism::P2p, TcMode::PeerToPeer, true);
    // The slave measures its own link; the master's link delay reaches it
    // in the Follow_Up.
    assert_exact(&line, 800.0);
    let link = line.tc.ports()[0].mean_path_delay().expect("measured");
    // The TC measures the master's link by its own (30 ppm fast) clock.
    assert!((link.nanos_f64() - 1_200.0).abs() < 1.0, "{link:?}");
    let c = line.tc.counters();
    assert_eq!(
        c.forwarded_by_type[usize::from(u8::from(MessageType::DelayReq))],
        0
    );
    assert!(c.forwarded_by_type[usize::from(u8::from(MessageType::Announce))] >= 20);
}
