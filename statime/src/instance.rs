//! A PTP instance (IEEE 1588-2019 clause 6.3, 9.3): the data sets shared by
//! its ports, and the best master clock algorithm run across them. One port
//! makes an ordinary clock; several make a boundary clock.
//!
//! Like [`crate::port::Port`] it is sans-IO: inputs carry the port index,
//! the bytes, the timestamps and `now`; outputs are polled. The servo stays
//! outside: the caller feeds [`InstanceEvent::Measurement`]s to a
//! [`crate::servo::Servo`] and reports lock with
//! [`PtpInstance::set_calibrated`].

use arrayvec::ArrayVec;

use crate::bmca::{self, DataSetUpdate, PortDecisionInput, RecommendedState};
use crate::datasets::{DefaultDS, InstanceDataSets, TimePropertiesDS};
use crate::port::{
    MAX_PATH, Measurement, Port, PortConfig, PortEvent, RxError, Transmit, TxContext,
};
use crate::time::{Instant, Time, TimeInterval};
use crate::wire::tlv::PortState;
use crate::wire::{self, ClockIdentity};

/// What an instance reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceEvent {
    /// A port changed state.
    PortState {
        /// Port index (0-based; the portNumber is index + 1 by convention).
        port: usize,
        /// Old state.
        from: PortState,
        /// New state.
        to: PortState,
    },
    /// The parent or grandmaster changed (clause 9.3.5 S1 or M1/M2 update).
    ParentChanged,
    /// An offset from the parent, measured on the port in SLAVE or
    /// UNCALIBRATED: hand it to the servo.
    Measurement {
        /// The port that measured it.
        port: usize,
        /// The measurement.
        measurement: Measurement,
    },
    /// One complete E2E exchange measured on a port in SLAVE or
    /// UNCALIBRATED (see [`PortEvent::Exchange`]): the sample for
    /// [`crate::servo::KalmanServo`].
    Exchange {
        /// The port that measured it.
        port: usize,
        /// The measurement.
        measurement: Measurement,
    },
}

/// A PTP instance with up to `P` ports, each with a foreign master table of
/// `F` records.
#[derive(Clone, Debug)]
pub struct PtpInstance<const P: usize, const F: usize = 16> {
    ds: InstanceDataSets,
    local_time_properties: TimePropertiesDS,
    ports: ArrayVec<Port<F>, P>,
    events: ArrayVec<InstanceEvent, 32>,
    decision_needed: bool,
    next_port: usize,
}

impl<const P: usize, const F: usize> PtpInstance<P, F> {
    /// An instance with the given defaultDS and the time properties of its
    /// local time source (what it announces as grandmaster). Ports beyond
    /// `P` are ignored; `numberPorts` is set to the ports kept.
    #[must_use]
    pub fn new(
        mut default: DefaultDS,
        local_time_properties: TimePropertiesDS,
        ports: impl IntoIterator<Item = PortConfig>,
    ) -> Self {
        let mut ports: ArrayVec<Port<F>, P> = ports.into_iter().take(P).map(Port::new).collect();
        for p in &mut ports {
            p.set_dataset_comparison(default.dataset_comparison);
        }
        default.number_ports = u16::try_from(ports.len()).unwrap_or(u16::MAX);
        Self {
            ds: InstanceDataSets::new(default, local_time_properties),
            local_time_properties,
            ports,
            events: ArrayVec::new(),
            decision_needed: true,
            next_port: 0,
        }
    }

    /// The instance data sets (defaultDS, currentDS, parentDS,
    /// timePropertiesDS).
    #[must_use]
    pub const fn data_sets(&self) -> &InstanceDataSets {
        &self.ds
    }

    /// The ports.
    #[must_use]
    pub fn ports(&self) -> &[Port<F>] {
        &self.ports
    }

    /// Start every port (INITIALIZING to LISTENING).
    pub fn enable(&mut self, now: Instant) {
        for p in &mut self.ports {
            p.enable(now);
        }
        self.collect(now);
    }

    /// A datagram received on port `port` (see [`Port::handle_receive`]).
    pub fn handle_receive(
        &mut self,
        port: usize,
        data: &[u8],
        rx: Option<Time>,
        now: Instant,
    ) -> Result<(), RxError> {
        let p = self.ports.get_mut(port).ok_or(RxError::NotApplicable)?;
        let r = p.handle_receive(data, rx, now, &self.ds);
        self.collect(now);
        r
    }

    /// The transmit timestamp of an event message sent on port `port`.
    pub fn handle_send_timestamp(&mut self, port: usize, ctx: TxContext, ts: Time, now: Instant) {
        if let Some(p) = self.ports.get_mut(port) {
            p.handle_send_timestamp(ctx, ts, now);
        }
        self.collect(now);
    }

    /// Run the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let slave_only = self.ds.default.slave_only;
        for p in &mut self.ports {
            p.handle_timeout(now, slave_only);
        }
        self.collect(now);
    }

    /// The earliest deadline of any port.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.ports.iter().filter_map(Port::poll_timeout).min()
    }

    /// Write the next message of any port into `buf`, with its port index.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        ptp_now: Time,
        buf: &mut [u8],
    ) -> Option<(usize, Result<Transmit, wire::Error>)> {
        let n = self.ports.len();
        for k in 0..n {
            let i = (self.next_port + k) % n;
            let Some(p) = self.ports.get_mut(i) else {
                continue;
            };
            if let Some(r) = p.poll_transmit(now, ptp_now, &self.ds, buf) {
                self.next_port = (i + 1) % n;
                return Some((i, r));
            }
        }
        None
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<InstanceEvent> {
        if self.events.is_empty() {
            None
        } else {
            Some(self.events.remove(0))
        }
    }

    /// The servo has locked on the parent: UNCALIBRATED to SLAVE.
    pub fn set_calibrated(&mut self, now: Instant) {
        for p in &mut self.ports {
            p.set_calibrated(now);
        }
        self.collect(now);
    }

    /// The local clock was stepped: every port drops the measurements in
    /// flight (see [`Port::clock_stepped`]).
    pub fn clock_stepped(&mut self) {
        for p in &mut self.ports {
            p.clock_stepped();
        }
    }

    /// The servo lost lock: SLAVE back to UNCALIBRATED.
    pub fn set_uncalibrated(&mut self, now: Instant) {
        for p in &mut self.ports {
            p.set_uncalibrated(now);
        }
        self.collect(now);
    }

    /// Change defaultDS (a management SET of PRIORITY1, PRIORITY2 or DOMAIN,
    /// clause 15.5.3.3) and run the state decision at once, so that the
    /// change reaches the Announces and the BMCA (clause 9.2.6.9).
    pub fn change_default_ds(&mut self, change: impl FnOnce(&mut DefaultDS), now: Instant) {
        change(&mut self.ds.default);
        if self.ds.parent.grandmaster_identity == self.ds.default.clock_identity {
            // As grandmaster the parentDS mirrors defaultDS (table 30).
            self.ds
                .apply_grandmaster_update(&self.local_time_properties);
        }
        self.state_decision(now);
        self.collect(now);
    }

    /// Record the servo's view in currentDS (clause 8.2.2.3, 8.2.2.4).
    pub fn update_current(&mut self, offset_from_master: TimeInterval, mean_delay: TimeInterval) {
        self.ds.current.offset_from_master = offset_from_master;
        self.ds.current.mean_delay = mean_delay;
    }

    /// Gather port events; run the state decision when one asked for it.
    fn collect(&mut self, now: Instant) {
        for i in 0..self.ports.len() {
            while let Some(e) = self.ports.get_mut(i).and_then(Port::poll_event) {
                match e {
                    PortEvent::StateChanged { from, to } => {
                        self.push(InstanceEvent::PortState { port: i, from, to });
                    }
                    PortEvent::Measurement(m) => {
                        self.push(InstanceEvent::Measurement {
                            port: i,
                            measurement: m,
                        });
                    }
                    PortEvent::Exchange(m) => {
                        self.push(InstanceEvent::Exchange {
                            port: i,
                            measurement: m,
                        });
                    }
                    PortEvent::DecisionNeeded => self.decision_needed = true,
                }
            }
        }
        self.propagate_path();
        if self.decision_needed {
            self.decision_needed = false;
            self.state_decision(now);
            // The decision may have changed port states: report those too.
            for i in 0..self.ports.len() {
                while let Some(e) = self.ports.get_mut(i).and_then(Port::poll_event) {
                    if let PortEvent::StateChanged { from, to } = e {
                        self.push(InstanceEvent::PortState { port: i, from, to });
                    }
                }
            }
        }
    }

    /// PATH_TRACE (clause 16.2.3): every port's Announces carry the path
    /// of the parent's Announce (none as grandmaster), then this clock.
    fn propagate_path(&mut self) {
        if !self.ports.iter().any(Port::appends_path_trace) {
            return;
        }
        let path: ArrayVec<ClockIdentity, MAX_PATH> = self
            .ports
            .iter()
            .find(|p| matches!(p.state(), PortState::Slave | PortState::Uncalibrated))
            .map(|p| p.parent_path().iter().copied().collect())
            .unwrap_or_default();
        for p in &mut self.ports {
            p.set_upstream_path(path.iter().copied());
        }
    }

    fn push(&mut self, e: InstanceEvent) {
        if self.events.is_full() {
            self.events.remove(0);
        }
        let _ = self.events.try_push(e);
    }

    /// The state decision event (clause 9.2.6.9): BMCA across all ports,
    /// data set update, and the recommended state applied to each port.
    pub fn state_decision(&mut self, now: Instant) {
        let inputs: ArrayVec<PortDecisionInput, P> =
            self.ports.iter().map(|p| p.decision_input(now)).collect();
        let mut recs: ArrayVec<Option<RecommendedState>, P> = inputs.iter().map(|_| None).collect();
        let before = (self.ds.parent, self.ds.current.steps_removed);
        let update = bmca::decide(&self.ds.default, &inputs, &mut recs);
        if update != DataSetUpdate::Unchanged {
            update.apply(&mut self.ds, &self.local_time_properties);
        }
        if (self.ds.parent, self.ds.current.steps_removed) != before {
            self.push(InstanceEvent::ParentChanged);
        }
        let steps = self.ds.current.steps_removed;
        for (p, rec) in self.ports.iter_mut().zip(recs) {
            if let Some(rec) = rec {
                p.apply_recommendation(rec, steps, now);
            }
        }
    }
}
