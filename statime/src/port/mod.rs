//! A PTP port (IEEE 1588-2019 clause 9): the state machine of clause 9.2,
//! master and slave roles, the delay mechanisms of clause 11, and the
//! foreign-master bookkeeping the BMCA needs.
//!
//! The port is sans-IO, in the quinn-proto shape:
//!
//! - inputs: [`Port::handle_receive`] (a datagram and, for event messages,
//!   its receive timestamp), [`Port::handle_send_timestamp`] (the transmit
//!   timestamp of an event message it sent), [`Port::handle_timeout`], and
//!   from the instance [`Port::apply_recommendation`] (the BMCA's state
//!   decision) and [`Port::set_calibrated`];
//! - outputs: [`Port::poll_transmit`] writes the next message into a
//!   caller-owned buffer, [`Port::poll_timeout`] says when to call
//!   `handle_timeout`, [`Port::poll_event`] reports state changes and
//!   offset measurements.
//!
//! Call order after any input: drain `poll_transmit`, then `poll_event`,
//! then re-arm the wake-up from `poll_timeout`. Every input carries `now`,
//! a reading of the caller's monotonic clock ([`Instant`]); timestamps are
//! readings of the PTP clock ([`Time`]). The port never reads a clock.

pub mod e2e;
mod filter;
pub mod p2p;
mod receive;
pub mod sequence;
pub mod timers;
pub(crate) mod transmit;

use arrayvec::ArrayVec;

use self::e2e::{DelayTracker, SyncSample, SyncTracker};
pub use self::filter::{MAX_DELAY_FILTER_LENGTH, MedianFilter};
use self::p2p::{PdelayRequester, RateRatioEstimator};
use self::timers::{Rng, Timer, TimerTable};
pub use self::transmit::{Destination, Transmit, TxContext, TxKind};
use self::transmit::{Pending, Sequences};
use crate::bmca::{ForeignAnnounce, ForeignMasterTable, PortDecisionInput, RecommendedState};
use crate::datasets::{InstanceDataSets, PortDS, log_interval_duration};
use crate::time::{Duration, Instant, Time};
use crate::wire::tlv::{
    AlternateTimeOffsetIndicatorTlv, DelayMechanism, PortState, PowerProfileTlv,
};
use crate::wire::{self, ClockIdentity, PortIdentity, PtpText};

/// Port settings beyond its data set.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PortConfig {
    /// The initial portDS: identity, intervals, delay mechanism,
    /// delayAsymmetry, masterOnly, minor version to emit.
    pub port_ds: PortDS,
    /// syncReceiptTimeout in sync intervals; 0 disables it.
    pub sync_receipt_timeout: u8,
    /// How long to wait for a transmit timestamp before the port goes
    /// FAULTY (linuxptp `tx_timestamp_timeout`).
    pub tx_timestamp_timeout: Duration,
    /// How long a FAULTY port waits before re-initialising (linuxptp
    /// `fault_reset_interval`).
    pub fault_reset_interval: Duration,
    /// Path delay median filter length.
    pub delay_filter_length: usize,
    /// Exchanges over which neighborRateRatio is measured (P2P).
    pub rate_ratio_window: u16,
    /// Seed of the randomised intervals (clause 9.5.11.2, 9.2.6.12).
    pub rng_seed: u64,
    /// IEEE 802.1AS asCapable (802.1AS-2020 clause 11.2.2): with a
    /// threshold the port exchanges Announce, Sync and Follow_Up only while
    /// its peer delay is measured, at most this long, and the neighbour
    /// answers (ptp4l `neighborPropDelayThresh`). `None`: always capable.
    pub neighbor_prop_delay_thresh: Option<Duration>,
    /// Pdelay requests in a row without an answer after which the port is
    /// no longer asCapable (802.1AS-2020 allowedLostResponses, default 3).
    pub allowed_lost_responses: u8,
    /// Append the 802.1AS Follow_Up information TLV to every Follow_Up
    /// (802.1AS-2020 clause 11.4.4.3; ptp4l `follow_up_info`).
    pub follow_up_info: bool,
    /// Append a PATH_TRACE TLV to every Announce: the parent's path and
    /// this clock (clause 16.2; ptp4l `path_trace_enabled`).
    pub path_trace: bool,
    /// Append the IEEE C37.238 power profile TLV to every Announce.
    pub power_profile: Option<PowerProfileTlv>,
    /// A unicast port (clause 16.1): everything it writes carries the
    /// unicastFlag (clause 13.3.2.8); the caller sends it to one address
    /// (for a negotiating slave, the parent's: [`crate::unicast`]).
    pub unicast: bool,
    /// In MASTER, send Announce and Sync to the group (clause 9.5.8,
    /// 9.5.9). `false` for a port that serves unicast clients only (ptp4l
    /// `inhibit_multicast_service`): their streams come from
    /// [`crate::unicast::server`]; the port still answers Delay_Req.
    pub multicast_service: bool,
    /// Alternate timescales announced (clause 16.3): an
    /// ALTERNATE_TIME_OFFSET_INDICATOR TLV for each on every Announce.
    pub alternate_timescales: [Option<AlternateTimescale>; MAX_ALTERNATE_TIMESCALES],
}

/// Alternate timescales a port announces at most.
pub const MAX_ALTERNATE_TIMESCALES: usize = 4;

/// An alternate timescale (IEEE 1588-2019 clause 16.3), such as a local
/// time zone: what its ALTERNATE_TIME_OFFSET_INDICATOR TLV carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AlternateTimescale {
    /// keyField (clause 16.3.3.3).
    pub key: u8,
    /// currentOffset: alternate time minus PTP time, seconds (clause 16.3.3.4).
    pub current_offset: i32,
    /// jumpSeconds: the change of the offset at the next jump (clause 16.3.3.5).
    pub jump_seconds: i32,
    /// timeOfNextJump, PTP seconds below 2^48 (clause 16.3.3.6); 0: none.
    pub time_of_next_jump: u64,
    /// displayName octets (clause 16.3.3.7), `name_len` of them.
    pub name: [u8; 10],
    /// Octets of `name` in use.
    pub name_len: u8,
}

impl AlternateTimescale {
    /// The TLV it is announced as (a name longer than 10 octets is cut).
    #[must_use]
    pub fn tlv(&self) -> AlternateTimeOffsetIndicatorTlv<'_> {
        let n = usize::from(self.name_len).min(self.name.len());
        AlternateTimeOffsetIndicatorTlv {
            key_field: self.key,
            current_offset: self.current_offset,
            jump_seconds: self.jump_seconds,
            time_of_next_jump: self.time_of_next_jump,
            display_name: PtpText::new(&self.name[..n]).unwrap_or_default(),
        }
    }
}

impl PortConfig {
    /// Defaults for a port with this identity (linuxptp's defaults where
    /// the standard leaves a choice).
    #[must_use]
    pub fn new(port_identity: PortIdentity) -> Self {
        Self {
            port_ds: PortDS::new(port_identity),
            sync_receipt_timeout: 0,
            tx_timestamp_timeout: Duration::from_nanos(10_000_000),
            fault_reset_interval: Duration::from_secs(16),
            delay_filter_length: 10,
            rate_ratio_window: 8,
            rng_seed: u64::from(port_identity.port_number)
                ^ u64::from_be_bytes(port_identity.clock_identity.0),
            neighbor_prop_delay_thresh: None,
            allowed_lost_responses: 3,
            follow_up_info: false,
            path_trace: false,
            power_profile: None,
            unicast: false,
            multicast_service: true,
            alternate_timescales: [None; MAX_ALTERNATE_TIMESCALES],
        }
    }
}

/// An offset measurement for the servo (clause 11.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measurement {
    /// offsetFromMaster: local clock minus master clock (positive = ahead).
    pub offset: Duration,
    /// meanPathDelay (E2E) or meanLinkDelay (P2P) after filtering.
    pub mean_path_delay: Duration,
    /// The raw path delay of the latest exchange, before the filter.
    pub raw_path_delay: Duration,
    /// t2: the Sync's receive timestamp by the local PTP clock.
    pub ingress: Time,
    /// When it was taken, by the caller's monotonic clock.
    pub at: Instant,
}

/// What a port reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortEvent {
    /// The port changed state (clause 9.2.5).
    StateChanged {
        /// Old state.
        from: PortState,
        /// New state.
        to: PortState,
    },
    /// An offset from the parent was measured (SLAVE or UNCALIBRATED): one
    /// per Sync, with the filtered path delay (the sample linuxptp's servos
    /// take).
    Measurement(Measurement),
    /// One complete E2E exchange (a Sync and the Delay_Req after it): offset
    /// and path delay from the same four timestamps, `ingress` at the
    /// midpoint of t2 and t3. The sample a delay-weighting servo wants.
    Exchange(Measurement),
    /// Something the state decision depends on changed (a new or expired
    /// foreign master, a timeout): run the BMCA (clause 9.2.6.9).
    DecisionNeeded,
}

/// Why a received message was not used (counted, never fatal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RxError {
    /// The message did not parse.
    Malformed(wire::Error),
    /// Another domain or sdoId (clause 7.1).
    OtherDomain,
    /// Sent by this clock (our own multicast looped back).
    Own,
    /// Not expected in the port's state or delay mechanism, or not from the parent.
    NotApplicable,
    /// An event message without a receive timestamp.
    NoTimestamp,
    /// Rejected by sequence or identity checks.
    Discarded(e2e::Discard),
    /// The transmit queue is full (a flood of requests).
    QueueFull,
}

/// Counters a port keeps (all saturating).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PortCounters {
    /// Messages received, by messageType (index = type nibble).
    pub rx_by_type: [u64; 16],
    /// Messages sent, by messageType.
    pub tx_by_type: [u64; 16],
    /// Malformed messages.
    pub malformed: u64,
    /// Messages of other domains.
    pub other_domain: u64,
    /// Messages not applicable in the current state.
    pub not_applicable: u64,
    /// Stale, duplicate or unmatched responses.
    pub discarded: u64,
    /// Announces refused by the foreign master table (loops, own clock, table full).
    pub announce_refused: u64,
    /// Transmit timestamps that never arrived.
    pub tx_timestamp_timeouts: u64,
    /// Requests dropped because the transmit queue was full.
    pub queue_overflows: u64,
    /// Events dropped because nobody polled them.
    pub events_dropped: u64,
    /// Times the port went FAULTY.
    pub faults: u64,
}

fn bump(c: &mut u64) {
    *c = c.saturating_add(1);
}

/// A PTP port, generic over the capacity `F` of its foreign master table.
#[derive(Clone, Debug)]
pub struct Port<const F: usize = 16> {
    ds: PortDS,
    config: PortConfig,
    foreign: ForeignMasterTable<F>,
    timers: TimerTable,
    rng: Rng,
    sequences: Sequences,
    pending: ArrayVec<Pending, 16>,
    awaiting_tx: ArrayVec<(TxContext, Instant), 4>,
    sync_rx: SyncTracker,
    delay_rx: DelayTracker,
    pdelay: PdelayRequester,
    rate_ratio: RateRatioEstimator,
    delay_filter: MedianFilter,
    mean_path_delay: Option<Duration>,
    /// The latest unfiltered path delay, reported beside the filtered one.
    raw_path_delay: Option<Duration>,
    last_sync: Option<SyncSample>,
    /// Pdelay_Resp sent and waiting for their timestamp: (sequenceId,
    /// requester, the request's correctionField).
    pdelay_responses: ArrayVec<(u16, PortIdentity, crate::time::TimeInterval), 4>,
    events: ArrayVec<PortEvent, 16>,
    counters: PortCounters,
    /// The path delays of the latest exchanges in a row that were
    /// implausible.
    implausible: ArrayVec<Duration, { receive::IMPLAUSIBLE_BEFORE_RESET }>,
    /// Pdelay requests in a row that went unanswered (802.1AS asCapable).
    lost_responses: u8,
    /// The path of the parent's latest Announce (PATH_TRACE, clause 16.2),
    /// set by the instance on every port; Announces sent carry it plus
    /// this clock.
    upstream_path: ArrayVec<ClockIdentity, MAX_PATH>,
    /// The PATH_TRACE of the latest Announce from the parent on this port.
    parent_path: ArrayVec<ClockIdentity, MAX_PATH>,
}

/// The longest PATH_TRACE kept (clause 16.2 bounds it by the Announce's
/// size; eight hops cover any real gPTP domain).
pub const MAX_PATH: usize = 8;

/// The foreign master table runs on PTP-independent time: map the
/// monotonic clock onto [`Time`] one to one.
fn as_time(now: Instant) -> Time {
    Time::from_nanos(now.nanos())
}

impl<const F: usize> Port<F> {
    /// A port in state INITIALIZING; call [`Port::enable`] to start it.
    #[must_use]
    pub fn new(config: PortConfig) -> Self {
        let ds = config.port_ds;
        Self {
            ds,
            foreign: ForeignMasterTable::new(ds.port_identity, ds.log_announce_interval),
            timers: TimerTable::default(),
            rng: Rng::new(config.rng_seed),
            sequences: Sequences::default(),
            pending: ArrayVec::new(),
            awaiting_tx: ArrayVec::new(),
            sync_rx: SyncTracker::new(),
            delay_rx: DelayTracker::new(),
            pdelay: PdelayRequester::new(),
            rate_ratio: RateRatioEstimator::new(config.rate_ratio_window),
            delay_filter: MedianFilter::new(config.delay_filter_length),
            mean_path_delay: None,
            raw_path_delay: None,
            last_sync: None,
            pdelay_responses: ArrayVec::new(),
            events: ArrayVec::new(),
            counters: PortCounters::default(),
            implausible: ArrayVec::new_const(),
            lost_responses: 0,
            upstream_path: ArrayVec::new_const(),
            parent_path: ArrayVec::new_const(),
            config,
        }
    }

    /// The port's data set (clause 8.2.15).
    #[must_use]
    pub const fn port_ds(&self) -> &PortDS {
        &self.ds
    }

    /// The current state.
    #[must_use]
    pub const fn state(&self) -> PortState {
        self.ds.port_state
    }

    /// The port's identity.
    #[must_use]
    pub const fn identity(&self) -> PortIdentity {
        self.ds.port_identity
    }

    /// The counters.
    #[must_use]
    pub const fn counters(&self) -> &PortCounters {
        &self.counters
    }

    /// The foreign master table (for status views).
    #[must_use]
    pub const fn foreign_masters(&self) -> &ForeignMasterTable<F> {
        &self.foreign
    }

    /// The filtered mean path (or link) delay, once measured.
    #[must_use]
    pub const fn mean_path_delay(&self) -> Option<Duration> {
        self.mean_path_delay
    }

    /// IEEE 802.1AS asCapable (802.1AS-2020 clause 11.2.2): always true
    /// without [`PortConfig::neighbor_prop_delay_thresh`]; with it, true
    /// while the peer delay is measured, within the threshold, and the
    /// neighbour answers.
    #[must_use]
    pub fn as_capable(&self) -> bool {
        let Some(thresh) = self.config.neighbor_prop_delay_thresh else {
            return true;
        };
        self.lost_responses <= self.config.allowed_lost_responses
            && self.mean_path_delay.is_some_and(|d| d <= thresh)
    }

    /// The path this port's Announces carry before this clock (PATH_TRACE,
    /// clause 16.2): the parent's, set by the instance.
    pub fn set_upstream_path(&mut self, path: impl IntoIterator<Item = ClockIdentity>) {
        self.upstream_path.clear();
        for id in path {
            if self.upstream_path.try_push(id).is_err() {
                break;
            }
        }
    }

    /// Compare foreign masters the instance's way (telecom profiles: with
    /// this port's portDS.localPriority).
    pub fn set_dataset_comparison(&mut self, comparison: crate::datasets::DatasetComparison) {
        self.foreign
            .set_comparison(comparison, self.ds.local_priority);
    }

    /// Whether this port's Announces carry a PATH_TRACE TLV
    /// ([`PortConfig::path_trace`]).
    #[must_use]
    pub const fn appends_path_trace(&self) -> bool {
        self.config.path_trace
    }

    /// The PATH_TRACE of the parent's latest Announce on this port (empty
    /// without one).
    #[must_use]
    pub fn parent_path(&self) -> &[ClockIdentity] {
        &self.parent_path
    }

    /// The measured neighborRateRatio (P2P), 1.0 before it is known.
    #[must_use]
    pub fn neighbor_rate_ratio(&self) -> f64 {
        self.rate_ratio.ratio_or_one()
    }

    /// INITIALIZING (or FAULTY/DISABLED) to LISTENING (clause 9.2.5, table 27).
    pub fn enable(&mut self, now: Instant) {
        self.ds.port_enable = true;
        self.reset_protocol();
        self.set_state(PortState::Listening, now);
    }

    /// Any state to DISABLED (DESIGNATED_DISABLED).
    pub fn disable(&mut self, now: Instant) {
        self.ds.port_enable = false;
        self.reset_protocol();
        self.set_state(PortState::Disabled, now);
    }

    /// Forget every foreign master (the port is no longer asCapable): the
    /// state decision runs again without them.
    pub(super) fn drop_foreign_masters(&mut self) {
        if !self.foreign.is_empty() {
            self.foreign.clear();
            self.foreign.protect(None);
            self.push_event(PortEvent::DecisionNeeded);
        }
    }

    fn reset_protocol(&mut self) {
        self.lost_responses = 0;
        self.foreign.clear();
        self.foreign.protect(None);
        self.sync_rx.reset();
        self.delay_rx.reset();
        self.pdelay.reset();
        self.delay_filter.reset();
        self.mean_path_delay = None;
        self.raw_path_delay = None;
        self.last_sync = None;
        self.pending.clear();
        self.awaiting_tx.clear();
        self.pdelay_responses.clear();
    }

    /// The input of this port to the state decision (clause 9.3.3).
    #[must_use]
    pub fn decision_input(&self, now: Instant) -> PortDecisionInput {
        PortDecisionInput::from_port_ds(&self.ds, self.erbest(now))
    }

    /// Erbest: the best qualified foreign master seen on this port
    /// (clause 9.3.2.3).
    #[must_use]
    pub fn erbest(&self, now: Instant) -> Option<ForeignAnnounce> {
        self.foreign.erbest(as_time(now))
    }

    /// Apply the state decision for this port (clause 9.3.3, 9.2.5).
    ///
    /// `steps_removed` is currentDS.stepsRemoved after the data set update,
    /// used for the PRE_MASTER qualification time of M3.
    pub fn apply_recommendation(
        &mut self,
        rec: RecommendedState,
        steps_removed: u16,
        now: Instant,
    ) {
        let state = self.ds.port_state;
        match rec {
            RecommendedState::M1 | RecommendedState::M2 => {
                if state != PortState::Master {
                    self.set_state(PortState::Master, now);
                }
            }
            RecommendedState::M3 => {
                if !matches!(state, PortState::Master | PortState::PreMaster) {
                    self.set_state(PortState::PreMaster, now);
                    let n = i64::from(steps_removed) + 1;
                    self.timers
                        .set(Timer::Qualification, now + self.ds.announce_interval() * n);
                }
            }
            RecommendedState::P1 | RecommendedState::P2 => {
                if state != PortState::Passive {
                    self.set_state(PortState::Passive, now);
                }
            }
            RecommendedState::S1(parent) => {
                let same_parent = self.foreign.protected() == Some(parent.sender);
                self.foreign.protect(Some(parent.sender));
                if matches!(state, PortState::Slave | PortState::Uncalibrated) && same_parent {
                    return;
                }
                self.sync_rx.reset();
                self.delay_rx.reset();
                self.last_sync = None;
                if self.ds.delay_mechanism != DelayMechanism::P2p {
                    self.delay_filter.reset();
                    self.mean_path_delay = None;
                }
                self.set_state(PortState::Uncalibrated, now);
            }
            RecommendedState::Listening => {
                if state != PortState::Listening {
                    self.set_state(PortState::Listening, now);
                }
            }
        }
    }

    /// The local clock was stepped: measurements in flight straddle the
    /// step and would mix two timescales, so forget them (the path delay
    /// filter keeps its history: delays do not change with a step).
    pub fn clock_stepped(&mut self) {
        self.sync_rx.reset();
        self.delay_rx.reset();
        self.pdelay.reset();
        self.last_sync = None;
    }

    /// UNCALIBRATED to SLAVE: the servo has locked to the new parent
    /// (MASTER_CLOCK_SELECTED, clause 9.2.5).
    pub fn set_calibrated(&mut self, now: Instant) {
        if self.ds.port_state == PortState::Uncalibrated {
            self.set_state(PortState::Slave, now);
        }
    }

    /// SLAVE back to UNCALIBRATED (SYNCHRONIZATION_FAULT, clause 9.2.5):
    /// the servo lost lock (for example it had to step the clock).
    pub fn set_uncalibrated(&mut self, now: Instant) {
        if self.ds.port_state == PortState::Slave {
            self.set_state(PortState::Uncalibrated, now);
        }
    }

    fn push_event(&mut self, e: PortEvent) {
        if self.events.try_push(e).is_err() {
            bump(&mut self.counters.events_dropped);
        }
    }

    fn queue(&mut self, p: Pending) -> Result<(), RxError> {
        self.pending.try_push(p).map_err(|_| {
            bump(&mut self.counters.queue_overflows);
            RxError::QueueFull
        })
    }

    fn set_state(&mut self, to: PortState, now: Instant) {
        let from = self.ds.port_state;
        self.ds.port_state = to;
        if from != to {
            self.push_event(PortEvent::StateChanged { from, to });
        }
        // What was queued for the role the port leaves is not sent (clause
        // 9.2.5: Announce, Sync and Delay_Resp only in MASTER, Delay_Req
        // only in SLAVE or UNCALIBRATED).
        self.pending.retain(|p| match p {
            Pending::Announce | Pending::Sync | Pending::DelayResp { .. } => {
                to == PortState::Master
            }
            Pending::DelayReq => matches!(to, PortState::Slave | PortState::Uncalibrated),
            _ => true,
        });
        // Every timer is re-derived from the new state.
        self.timers.stop_all();
        let p2p = self.ds.delay_mechanism == DelayMechanism::P2p;
        match to {
            PortState::Listening
            | PortState::Passive
            | PortState::Uncalibrated
            | PortState::Slave => {
                self.arm_announce_receipt(now);
                if matches!(to, PortState::Uncalibrated | PortState::Slave) {
                    self.arm_sync_receipt(now);
                    if self.ds.delay_mechanism == DelayMechanism::E2e {
                        self.arm_delay_req(now);
                    }
                }
            }
            PortState::Master => {
                self.timers.set(Timer::Announce, now);
                self.timers.set(Timer::Sync, now);
            }
            PortState::Faulty => {
                self.timers
                    .set(Timer::FaultRecovery, now + self.config.fault_reset_interval);
            }
            _ => {}
        }
        if p2p
            && !matches!(
                to,
                PortState::Faulty | PortState::Disabled | PortState::Initializing
            )
        {
            self.timers.set(Timer::PdelayReq, now);
        }
        if let Some(deadline) = self.awaiting_tx.iter().map(|(_, d)| *d).min() {
            self.timers.set(Timer::TxTimestamp, deadline);
        }
    }

    /// ANNOUNCE_RECEIPT_TIMEOUT: announceReceiptTimeout intervals plus a
    /// random part of up to one interval (clause 9.2.6.12, so that ports
    /// that lost the same master do not all take over at once).
    fn arm_announce_receipt(&mut self, now: Instant) {
        let interval = self.ds.announce_interval();
        let random = self.rng.below(interval);
        let at = now + self.ds.announce_receipt_timeout_interval() + random;
        self.timers.set(Timer::AnnounceReceipt, at);
    }

    fn arm_sync_receipt(&mut self, now: Instant) {
        let n = self.config.sync_receipt_timeout;
        if n > 0 {
            let at = now + self.ds.sync_interval() * i64::from(n);
            self.timers.set(Timer::SyncReceipt, at);
        }
    }

    /// Delay_Req at intervals uniform in [0, 2 * 2^logMinDelayReqInterval]
    /// (clause 9.5.11.2).
    fn arm_delay_req(&mut self, now: Instant) {
        let mean = log_interval_duration(self.ds.log_min_delay_req_interval);
        let wait = self.rng.below(mean * 2);
        self.timers.set(Timer::DelayReq, now + wait);
    }

    /// The earliest timer deadline (clause 9.2.6 events).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.earliest()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<PortEvent> {
        if self.events.is_empty() {
            None
        } else {
            Some(self.events.remove(0))
        }
    }

    /// Run the timers due at `now`. `slave_only` is defaultDS.slaveOnly.
    pub fn handle_timeout(&mut self, now: Instant, slave_only: bool) {
        while let Some(t) = self.timers.pop_expired(now) {
            match t {
                Timer::Announce => {
                    if self.ds.port_state == PortState::Master {
                        if self.as_capable() && self.config.multicast_service {
                            let _ = self.queue(Pending::Announce);
                        }
                        self.timers
                            .set(Timer::Announce, now + self.ds.announce_interval());
                    }
                }
                Timer::Sync => {
                    if self.ds.port_state == PortState::Master {
                        if self.as_capable() && self.config.multicast_service {
                            let _ = self.queue(Pending::Sync);
                        }
                        self.timers.set(Timer::Sync, now + self.ds.sync_interval());
                    }
                }
                Timer::DelayReq => {
                    if matches!(
                        self.ds.port_state,
                        PortState::Slave | PortState::Uncalibrated
                    ) {
                        let _ = self.queue(Pending::DelayReq);
                        self.arm_delay_req(now);
                    }
                }
                Timer::PdelayReq => {
                    let _ = self.queue(Pending::PdelayReq);
                    let interval = log_interval_duration(self.ds.log_min_pdelay_req_interval);
                    self.timers.set(Timer::PdelayReq, now + interval);
                }
                Timer::AnnounceReceipt | Timer::SyncReceipt => {
                    // ANNOUNCE_RECEIPT_TIMEOUT_EXPIRES (clause 9.2.6.12):
                    // the parent is gone. A slave-only clock keeps listening;
                    // any other becomes master until the BMCA says otherwise.
                    self.foreign.clear();
                    self.foreign.protect(None);
                    if slave_only {
                        self.set_state(PortState::Listening, now);
                    } else {
                        self.set_state(PortState::Master, now);
                    }
                    self.push_event(PortEvent::DecisionNeeded);
                }
                Timer::Qualification => {
                    if self.ds.port_state == PortState::PreMaster {
                        self.set_state(PortState::Master, now);
                    }
                }
                Timer::FaultRecovery => {
                    if self.ds.port_state == PortState::Faulty {
                        self.enable(now);
                        self.push_event(PortEvent::DecisionNeeded);
                    }
                }
                Timer::TxTimestamp => self.check_tx_timeouts(now),
            }
        }
    }

    fn check_tx_timeouts(&mut self, now: Instant) {
        let before = self.awaiting_tx.len();
        self.awaiting_tx.retain(|(_, deadline)| *deadline > now);
        if self.awaiting_tx.len() < before {
            // A transmit timestamp never came (clause 9.2.6.7 FAULT_DETECTED):
            // the port cannot measure; go FAULTY and recover later.
            bump(&mut self.counters.tx_timestamp_timeouts);
            bump(&mut self.counters.faults);
            self.reset_protocol();
            self.set_state(PortState::Faulty, now);
        } else if let Some(d) = self.awaiting_tx.iter().map(|(_, d)| *d).min() {
            self.timers.set(Timer::TxTimestamp, d);
        }
    }

    /// Write the next message to send into `buf`, if there is one.
    ///
    /// `ptp_now` is read only for a one-step Sync, whose originTimestamp it
    /// becomes. Returns `Some(Err(_))` if `buf` is too small (the message is
    /// dropped).
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        ptp_now: Time,
        ds: &InstanceDataSets,
        buf: &mut [u8],
    ) -> Option<Result<Transmit, wire::Error>> {
        if self.pending.is_empty() {
            return None;
        }
        let p = self.pending.remove(0);
        let cx = transmit::Context {
            ds,
            port: &self.ds,
            sequences: &mut self.sequences,
            one_step: !ds.default.two_step_flag,
            ptp_now,
            follow_up_info: self.config.follow_up_info,
            path: self
                .config
                .path_trace
                .then_some(self.upstream_path.as_slice()),
            power_profile: self.config.power_profile,
            unicast: self.config.unicast,
            alternate_timescales: &self.config.alternate_timescales,
        };
        let result = transmit::write(p, cx, buf);
        if let Ok(t) = &result {
            if let Some(&first) = buf.first() {
                bump(&mut self.counters.tx_by_type[usize::from(first & 0x0F)]);
            }
            if let Some(ctx) = t.context {
                self.sent(ctx, now);
            }
        }
        Some(result)
    }

    fn sent(&mut self, ctx: TxContext, now: Instant) {
        match ctx.kind {
            TxKind::DelayReq => self.delay_rx.sent(ctx.sequence_id),
            TxKind::PdelayReq => {
                if self.pdelay.sent(ctx.sequence_id) {
                    // The previous request was never answered in full.
                    self.lost_responses = self.lost_responses.saturating_add(1);
                }
            }
            TxKind::Sync | TxKind::PdelayResp => {}
        }
        let deadline = now + self.config.tx_timestamp_timeout;
        if self.awaiting_tx.is_full() {
            // Keep the newest; an older one has certainly timed out by now.
            self.awaiting_tx.remove(0);
        }
        let _ = self.awaiting_tx.try_push((ctx, deadline));
        let earliest = self
            .awaiting_tx
            .iter()
            .map(|(_, d)| *d)
            .min()
            .unwrap_or(deadline);
        self.timers.set(Timer::TxTimestamp, earliest);
    }

    /// The transmit timestamp of an event message this port sent.
    pub fn handle_send_timestamp(&mut self, ctx: TxContext, timestamp: Time, now: Instant) {
        let Some(i) = self.awaiting_tx.iter().position(|(c, _)| *c == ctx) else {
            bump(&mut self.counters.discarded);
            return;
        };
        self.awaiting_tx.remove(i);
        match self.awaiting_tx.iter().map(|(_, d)| *d).min() {
            Some(d) => self.timers.set(Timer::TxTimestamp, d),
            None => self.timers.stop(Timer::TxTimestamp),
        }
        match ctx.kind {
            TxKind::Sync => {
                // The egress timestamp is the origin (clause 9.5.9.3).
                let _ = self.queue(Pending::FollowUp {
                    sequence_id: ctx.sequence_id,
                    origin: timestamp,
                });
            }
            TxKind::DelayReq => {
                if let Ok(Some(d)) = self.delay_rx.sent_at(ctx.sequence_id, timestamp) {
                    self.delay_measured(&d, now);
                }
            }
            TxKind::PdelayReq => {
                if let Ok(Some(s)) = self.pdelay.sent_at(ctx.sequence_id, timestamp) {
                    self.pdelay_measured(&s);
                }
            }
            TxKind::PdelayResp => self.pdelay_resp_sent(ctx.sequence_id, timestamp),
        }
    }
}
