//! A virtual network for integration tests: instances of the real core,
//! simulated clocks (offset and frequency error, steerable through the
//! `Clock` trait), multicast delivery with per-direction delays, TX
//! timestamps, and optional steering by a servo.
#![allow(dead_code, unreachable_pub)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use statime::clock::Clock;
use statime::instance::{InstanceEvent, PtpInstance};
use statime::port::Measurement;
use statime::steering::{Steering, SteeringReport};
use statime::time::{Duration, Instant, Time};
use statime::wire::tlv::PortState;

/// True time 0 on the PTP timescale, ns (late 2023).
pub const EPOCH_NS: i128 = 1_700_000_000_000_000_000;
/// One second in ns.
pub const S: u64 = 1_000_000_000;

/// A clock with an offset and a frequency error from true time.
#[derive(Debug, Clone)]
pub struct SimClock {
    /// Local minus true time at `at`, ns.
    offset_ns: f64,
    /// True time of `offset_ns`, ns.
    at: u64,
    /// Frequency error of the oscillator, ppb.
    pub error_ppb: f64,
    /// Frequency adjustment applied by the servo, ppb.
    pub adjust_ppb: f64,
    /// Current true time (set by the network before each call).
    pub now_true: u64,
    /// Steps applied.
    pub steps: u32,
}

impl SimClock {
    /// A clock `offset_ns` off true time, running `error_ppb` fast.
    pub fn new(offset_ns: f64, error_ppb: f64) -> Self {
        Self {
            offset_ns,
            at: 0,
            error_ppb,
            adjust_ppb: 0.0,
            now_true: 0,
            steps: 0,
        }
    }

    /// Local minus true time at true time `t`, ns.
    pub fn offset_at(&self, t: u64) -> f64 {
        let dt = t as f64 - self.at as f64;
        self.offset_ns + dt * (self.error_ppb + self.adjust_ppb) * 1e-9
    }

    fn advance(&mut self, t: u64) {
        self.offset_ns = self.offset_at(t);
        self.at = t;
    }

    /// The clock's reading at true time `t`.
    pub fn time_at(&self, t: u64) -> Time {
        let ns = EPOCH_NS + i128::from(t) + self.offset_at(t).round() as i128;
        Time::from_nanos(u64::try_from(ns).expect("positive time"))
    }
}

impl Clock for SimClock {
    type Error = ();
    fn now(&self) -> Result<Time, ()> {
        Ok(self.time_at(self.now_true))
    }
    fn adjust_frequency(&mut self, ppb: f64) -> Result<(), ()> {
        self.advance(self.now_true);
        self.adjust_ppb = ppb;
        Ok(())
    }
    fn step(&mut self, offset: Duration) -> Result<(), ()> {
        self.advance(self.now_true);
        self.offset_ns += offset.nanos_f64();
        self.steps += 1;
        Ok(())
    }
    fn max_frequency_ppb(&self) -> f64 {
        1e6
    }
}

/// One node: an instance with its clock.
pub struct Node {
    pub inst: PtpInstance<2>,
    pub clock: SimClock,
    pub steering: Option<Steering>,
    /// Drop every transmit timestamp (a broken NIC).
    pub lose_tx_timestamps: bool,
    /// Switched off: sends and receives nothing.
    pub down: bool,
    pub measurements: Vec<Measurement>,
    pub exchanges: Vec<Measurement>,
    pub reports: Vec<(u64, SteeringReport)>,
    pub states: Vec<(u64, usize, PortState)>,
}

impl Node {
    pub fn new(inst: PtpInstance<2>, clock: SimClock) -> Self {
        Self {
            inst,
            clock,
            steering: None,
            lose_tx_timestamps: false,
            down: false,
            measurements: Vec::new(),
            exchanges: Vec::new(),
            reports: Vec::new(),
            states: Vec::new(),
        }
    }
}

struct Delivery {
    node: usize,
    port: usize,
    data: Vec<u8>,
    event: bool,
}

/// One multicast segment: every (node, port 0) hears every other.
pub struct Net {
    pub nodes: Vec<Node>,
    delay: Box<dyn Fn(usize, usize) -> u64>,
    queue: BinaryHeap<Reverse<(u64, usize)>>,
    deliveries: Vec<Option<Delivery>>,
    pub now: u64,
}

impl Net {
    pub fn new(nodes: Vec<Node>, delay: impl Fn(usize, usize) -> u64 + 'static) -> Self {
        Self {
            nodes,
            delay: Box::new(delay),
            queue: BinaryHeap::new(),
            deliveries: Vec::new(),
            now: 0,
        }
    }

    pub fn start(&mut self) {
        for n in &mut self.nodes {
            n.inst.enable(Instant::ZERO);
        }
        for i in 0..self.nodes.len() {
            self.drain(i);
        }
    }

    fn drain(&mut self, i: usize) {
        let now = Instant::from_nanos(self.now);
        let mut buf = [0u8; 256];
        loop {
            let node = &mut self.nodes[i];
            let ptp_now = node.clock.time_at(self.now);
            let Some((port, r)) = node.inst.poll_transmit(now, ptp_now, &mut buf) else {
                break;
            };
            let t = r.expect("message fits");
            if node.down {
                continue;
            }
            if let Some(ctx) = t.context
                && !node.lose_tx_timestamps
            {
                node.inst.handle_send_timestamp(port, ctx, ptp_now, now);
            }
            for dst in 0..self.nodes.len() {
                if dst == i {
                    continue;
                }
                let at = self.now + (self.delay)(i, dst);
                self.deliveries.push(Some(Delivery {
                    node: dst,
                    port: 0,
                    data: buf[..t.len].to_vec(),
                    event: t.event,
                }));
                self.queue.push(Reverse((at, self.deliveries.len() - 1)));
            }
        }
        let node = &mut self.nodes[i];
        node.clock.now_true = self.now;
        while let Some(e) = node.inst.poll_event() {
            if let Some(steering) = node.steering.as_mut() {
                let report = steering
                    .handle_event(&e, &mut node.inst, &mut node.clock, now)
                    .expect("simulated clock never fails");
                if let Some(r) = report {
                    node.reports.push((self.now, r));
                }
            }
            match e {
                InstanceEvent::Measurement { measurement, .. } => {
                    node.measurements.push(measurement);
                }
                InstanceEvent::Exchange { measurement, .. } => node.exchanges.push(measurement),
                InstanceEvent::PortState { port, to, .. } => node.states.push((self.now, port, to)),
                InstanceEvent::ParentChanged => {}
            }
        }
    }

    pub fn run_until(&mut self, end_ns: u64) {
        loop {
            let next_delivery = self.queue.peek().map(|Reverse((t, _))| *t);
            let next_timer = self
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(i, n)| n.inst.poll_timeout().map(|t| (t.nanos(), i)))
                .min();
            let next = match (next_delivery, next_timer) {
                (Some(d), Some((t, _))) => d.min(t),
                (Some(d), None) => d,
                (None, Some((t, _))) => t,
                (None, None) => break,
            };
            if next > end_ns {
                break;
            }
            self.now = next.max(self.now);
            if next_delivery == Some(next) {
                let Reverse((_, idx)) = self.queue.pop().expect("peeked");
                let d = self.deliveries[idx].take().expect("delivered once");
                let node = &mut self.nodes[d.node];
                if !node.down {
                    let rx = d.event.then(|| node.clock.time_at(self.now));
                    let _ = node.inst.handle_receive(
                        d.port,
                        &d.data,
                        rx,
                        Instant::from_nanos(self.now),
                    );
                    self.drain(d.node);
                }
            } else if let Some((_, i)) = next_timer {
                self.nodes[i]
                    .inst
                    .handle_timeout(Instant::from_nanos(self.now));
                self.drain(i);
            }
        }
        self.now = end_ns;
    }

    pub fn state(&self, node: usize) -> PortState {
        self.nodes[node].inst.ports()[0].state()
    }
}
