//! The daemon's state as one value: what the JSON status socket serves,
//! what `statime-ctl status` prints and what the metrics endpoint exports.
//!
//! Times are in seconds (`_s`), frequencies in parts per billion (`_ppb`);
//! identities are printed as linuxptp prints them (`001b19.fffe.000001`,
//! `001b19.fffe.000001-1`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use statime::datasets::InstanceDataSets;
use statime::port::{Port, PortCounters};
use statime::servo::ServoState;
use statime::steering::SteeringReport;
use statime::time::TimeInterval;
use statime::wire::MessageType;
use statime::wire::tlv::{DelayMechanism, PortState};

/// The snapshot format version; bumped when a field changes meaning or goes
/// away (adding fields does not bump it).
pub const SNAPSHOT_VERSION: u32 = 1;

/// Everything the control plane shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// [`SNAPSHOT_VERSION`].
    pub version: u32,
    /// CLOCK_MONOTONIC when the snapshot was taken, seconds.
    pub monotonic_s: f64,
    /// Seconds since the daemon started its ports.
    pub uptime_s: f64,
    /// The local clock: what kind and its defaultDS.
    pub clock: ClockView,
    /// currentDS (IEEE 1588-2019 clause 8.2.2).
    pub current: CurrentView,
    /// parentDS (clause 8.2.3).
    pub parent: ParentView,
    /// timePropertiesDS (clause 8.2.4).
    pub time_properties: TimePropertiesView,
    /// One entry per port, in port-number order.
    pub ports: Vec<PortView>,
    /// The servo and its latest sample.
    pub servo: ServoView,
    /// A virtual clock's true error (clock - truth), seconds; `None` for
    /// real clocks, whose truth nobody here knows.
    pub true_error_s: Option<f64>,
    /// What applications are told (`[observability] time-file`).
    pub publication: PublicationView,
    /// The fault-tolerant overlay.
    pub overlay: OverlayView,
    /// A transparent clock's forwarding (`clock-type = "E2E_TC"` or
    /// `"P2P_TC"`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transparent_clock: Option<TcView>,
    /// The SMPTE ST 2059-2 synchronization metadata last received from the
    /// grandmaster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smpte_metadata: Option<SmpteMetadataView>,
}

/// What a transparent clock forwarded, corrected and dropped (IEEE
/// 1588-2019 clause 11.5).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TcView {
    /// `end-to-end` or `peer-to-peer`.
    pub mode: String,
    /// Messages forwarded (one per egress port), by message name.
    pub forwarded: BTreeMap<String, u64>,
    /// Follow_Ups and Delay_Resps forwarded with a residence time added.
    pub corrected: u64,
    /// One-step Syncs forwarded as two-step with a Follow_Up.
    pub one_step_converted: u64,
    /// Messages dropped, by reason.
    pub dropped: BTreeMap<String, u64>,
    /// Residence times measured.
    pub residence_count: u64,
    /// Their mean, seconds.
    pub residence_mean_s: Option<f64>,
    /// The smallest, seconds.
    pub residence_min_s: Option<f64>,
    /// The largest, seconds.
    pub residence_max_s: Option<f64>,
    /// The grandmaster-to-local rate ratio residence times are scaled by.
    pub rate_ratio: Option<f64>,
    /// The ports.
    pub links: Vec<TcLinkView>,
}

/// One port of a transparent clock.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TcLinkView {
    /// portNumber.
    pub port: u16,
    /// The interface.
    pub interface: String,
    /// The measured link delay (P2P), seconds.
    pub link_delay_s: Option<f64>,
    /// neighborRateRatio (P2P; 1 before it is measured).
    pub neighbor_rate_ratio: f64,
}

impl TcView {
    /// The view of `tc`, whose ports run on `interfaces`.
    #[must_use]
    pub fn of<const P: usize>(
        tc: &statime::tc::TransparentClock<P>,
        interfaces: &[String],
    ) -> Self {
        let c = tc.counters();
        let forwarded = by_type(&c.forwarded_by_type);
        let dropped: BTreeMap<String, u64> = [
            ("malformed", c.malformed),
            ("other-domain", c.other_domain),
            ("own", c.own),
            ("no-timestamp", c.no_timestamp),
            ("not-forwarded", c.not_forwarded),
            ("loop", c.loops),
            ("unmatched", c.unmatched),
            ("expired", c.expired),
            ("residence-unknown", c.residence_unknown),
            ("queue-full", c.queue_full),
            ("too-long", c.too_long),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let r = tc.residence();
        let known = r.count > 0;
        let p2p = tc.config().mode == statime::tc::TcMode::PeerToPeer;
        Self {
            mode: if p2p { "peer-to-peer" } else { "end-to-end" }.to_owned(),
            forwarded,
            corrected: c.corrected,
            one_step_converted: c.one_step_converted,
            dropped,
            residence_count: r.count,
            residence_mean_s: r.mean_ns().map(|v| v * 1e-9),
            residence_min_s: known.then_some(r.min_ns * 1e-9),
            residence_max_s: known.then_some(r.max_ns * 1e-9),
            rate_ratio: tc.rate_ratio(),
            links: tc
                .ports()
                .iter()
                .enumerate()
                .map(|(i, p)| TcLinkView {
                    port: p.identity().port_number,
                    interface: interfaces.get(i).cloned().unwrap_or_default(),
                    link_delay_s: p
                        .mean_path_delay()
                        .filter(|_| p2p)
                        .map(|d| d.nanos_f64() * 1e-9),
                    neighbor_rate_ratio: p.neighbor_rate_ratio(),
                })
                .collect(),
        }
    }
}

/// The local clock and defaultDS (clause 8.2.1).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClockView {
    /// `virtual`, `system`, `observe-only` or `phc`.
    pub kind: String,
    /// The PHC device when the clock is one, e.g. `/dev/ptp0`.
    pub device: Option<String>,
    /// clockIdentity.
    pub identity: String,
    /// domainNumber.
    pub domain: u8,
    /// priority1.
    pub priority1: u8,
    /// priority2.
    pub priority2: u8,
    /// clockQuality.clockClass.
    pub clock_class: u8,
    /// clockQuality.clockAccuracy (the enumeration value).
    pub clock_accuracy: u8,
    /// clockQuality.offsetScaledLogVariance.
    pub offset_scaled_log_variance: u16,
    /// slaveOnly.
    pub slave_only: bool,
    /// twoStepFlag.
    pub two_step: bool,
    /// This clock is the grandmaster of its domain.
    pub is_grandmaster: bool,
}

/// currentDS.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CurrentView {
    /// stepsRemoved.
    pub steps_removed: u16,
    /// offsetFromMaster, seconds.
    pub offset_from_master_s: f64,
    /// meanDelay, seconds.
    pub mean_path_delay_s: f64,
}

/// parentDS.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ParentView {
    /// parentPortIdentity.
    pub parent_port_identity: String,
    /// grandmasterIdentity.
    pub grandmaster_identity: String,
    /// grandmasterPriority1.
    pub grandmaster_priority1: u8,
    /// grandmasterPriority2.
    pub grandmaster_priority2: u8,
    /// grandmasterClockQuality.clockClass.
    pub grandmaster_clock_class: u8,
    /// grandmasterClockQuality.clockAccuracy.
    pub grandmaster_clock_accuracy: u8,
    /// grandmasterClockQuality.offsetScaledLogVariance.
    pub grandmaster_offset_scaled_log_variance: u16,
}

/// timePropertiesDS.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimePropertiesView {
    /// currentUtcOffset, seconds.
    pub current_utc_offset: i16,
    /// currentUtcOffsetValid.
    pub current_utc_offset_valid: bool,
    /// leap59.
    pub leap59: bool,
    /// leap61.
    pub leap61: bool,
    /// timeTraceable.
    pub time_traceable: bool,
    /// frequencyTraceable.
    pub frequency_traceable: bool,
    /// ptpTimescale.
    pub ptp_timescale: bool,
    /// timeSource (the enumeration value, clause 7.6.2.8).
    pub time_source: u8,
}

/// One port.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PortView {
    /// The PTP domain of the instance the port belongs to.
    pub domain: u8,
    /// portNumber.
    pub number: u16,
    /// The network interface.
    pub interface: String,
    /// portIdentity.
    pub identity: String,
    /// portState as linuxptp spells it (`SLAVE`, `MASTER`, ...).
    pub state: String,
    /// portState as the enumeration value of clause 8.2.15.3.1.
    pub state_code: u8,
    /// `E2E`, `P2P` or another delay mechanism.
    pub delay_mechanism: String,
    /// The filtered mean path (E2E) or link (P2P) delay, once measured.
    pub mean_path_delay_s: Option<f64>,
    /// logAnnounceInterval.
    pub log_announce_interval: i8,
    /// logSyncInterval.
    pub log_sync_interval: i8,
    /// logMinDelayReqInterval.
    pub log_min_delay_req_interval: i8,
    /// Foreign masters currently qualified or being qualified.
    pub foreign_masters: usize,
    /// The port's counters.
    pub counters: CountersView,
    /// Unicast negotiation (IEEE 1588-2019 clause 16.1), on a port that
    /// asks masters for unicast service or serves unicast clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unicast: Option<UnicastView>,
}

/// SMPTE ST 2059-2 synchronization metadata as received.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SmpteMetadataView {
    /// defaultSystemFrameRate, `"30000/1001"`.
    pub frame_rate: String,
    /// masterLockingStatus by name (`"locked"`, ...) or its number.
    pub locking_status: String,
    /// Drop-frame time code.
    pub drop_frame: bool,
    /// Color frame identification.
    pub color_frame: bool,
    /// currentLocalOffset, seconds.
    pub current_local_offset: i32,
    /// jumpSeconds.
    pub jump_seconds: i32,
    /// timeOfNextJump, PTP seconds.
    pub time_of_next_jump: u64,
    /// timeOfNextJam, PTP seconds.
    pub time_of_next_jam: u64,
    /// timeOfPreviousJam, PTP seconds.
    pub time_of_previous_jam: u64,
    /// previousJamLocalOffset, seconds.
    pub previous_jam_local_offset: i32,
    /// The daylightSaving bits: now, after the next jump, at the previous jam.
    pub daylight_saving: [bool; 3],
    /// leapSecondJump.
    pub leap_second_jump: bool,
    /// Seconds since it was received.
    pub age_s: f64,
}

impl SmpteMetadataView {
    /// The view of `t`, received `age_s` ago.
    #[must_use]
    pub fn of(t: &statime::wire::tlv::SmpteSyncMetadataTlv, age_s: f64) -> Self {
        let bit = |v: u8, n: u8| v & (1 << n) != 0;
        Self {
            frame_rate: format!("{}/{}", t.frame_rate_numerator, t.frame_rate_denominator),
            locking_status: crate::config::SMPTE_LOCKING_STATUS
                .get(usize::from(t.master_locking_status))
                .map_or_else(|| t.master_locking_status.to_string(), |s| (*s).to_owned()),
            drop_frame: bit(t.time_address_flags, 0),
            color_frame: bit(t.time_address_flags, 1),
            current_local_offset: t.current_local_offset,
            jump_seconds: t.jump_seconds,
            time_of_next_jump: t.time_of_next_jump,
            time_of_next_jam: t.time_of_next_jam,
            time_of_previous_jam: t.time_of_previous_jam,
            previous_jam_local_offset: t.previous_jam_local_offset,
            daylight_saving: [
                bit(t.daylight_saving, 0),
                bit(t.daylight_saving, 1),
                bit(t.daylight_saving, 2),
            ],
            leap_second_jump: bit(t.leap_second_jump, 0),
            age_s,
        }
    }
}

/// A port's unicast negotiation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnicastView {
    /// `client` (a `unicast-master-table`) or `server` (`unicast-listen`).
    pub role: String,
    /// Client: the table's masters, in table order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masters: Vec<UnicastMasterView>,
    /// Server: clients holding a grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients: Option<usize>,
    /// Requests granted (server) or grants received (client).
    pub granted: u64,
    /// Requests denied (server) or denials received (client).
    pub denied: u64,
    /// Cancels acknowledged (server) or received (client).
    pub cancelled: u64,
    /// Dropped: datagrams from outside the table and multicast from a
    /// table master (client); Delay_Resp to a client without a grant
    /// (server).
    pub dropped: u64,
    /// Server: Follow_Ups never sent because the Sync's transmit stamp was
    /// lost (a full error queue).
    #[serde(default)]
    pub lost_follow_ups: u64,
}

/// One unicast master table entry as the client sees it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnicastMasterView {
    /// Its address.
    pub address: String,
    /// The port identity its messages carry, once heard.
    pub identity: Option<String>,
    /// The selected parent (Sync and Delay_Resp asked of it).
    pub parent: bool,
    /// Granted logInterMessagePeriod of Announce, Sync and Delay_Resp
    /// (`None`: not granted).
    pub announce: Option<i8>,
    /// Sync.
    pub sync: Option<i8>,
    /// Delay_Resp.
    pub delay_resp: Option<i8>,
}

/// A port's counters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CountersView {
    /// Messages received, by message type (`sync`, `announce`, ...); types
    /// never seen are left out.
    pub rx: BTreeMap<String, u64>,
    /// Messages sent, by message type.
    pub tx: BTreeMap<String, u64>,
    /// Malformed messages (counted and dropped).
    pub malformed: u64,
    /// Messages of other domains.
    pub other_domain: u64,
    /// Messages not applicable in the port's state.
    pub not_applicable: u64,
    /// Stale, duplicate or unmatched responses.
    pub discarded: u64,
    /// Announces the foreign master table refused.
    pub announce_refused: u64,
    /// Transmit time stamps that never arrived.
    pub tx_timestamp_timeouts: u64,
    /// Transmit requests dropped on a full queue.
    pub queue_overflows: u64,
    /// Port events dropped.
    pub events_dropped: u64,
    /// Times the port went FAULTY.
    pub faults: u64,
    /// With `spp`: messages accepted after authentication.
    #[serde(default)]
    pub authenticated: u64,
    /// With `spp`: messages dropped because authentication failed, by
    /// reason (`missing`, `bad_icv`, `replayed`, `unknown_key`, ...).
    #[serde(default)]
    pub unauthenticated: BTreeMap<String, u64>,
}

/// The servo.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServoView {
    /// `unlocked`, `stepping`, `locked`, `locked-stable` or `holdover`.
    pub state: String,
    /// ptp4l's s0..s3 code of the state.
    pub state_code: u8,
    /// The latest sample's offset from the master (local - master), seconds.
    pub offset_s: Option<f64>,
    /// The frequency adjustment applied, ppb (positive: the clock is sped up).
    pub frequency_ppb: Option<f64>,
    /// The latest sample's path delay, seconds.
    pub path_delay_s: Option<f64>,
    /// Samples the servo used.
    pub samples: u64,
    /// Samples it refused as outliers.
    pub rejected: u64,
    /// Seconds from start until the servo first locked.
    pub time_to_lock_s: Option<f64>,
}

/// The time published to applications.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PublicationView {
    /// The time file, when configured.
    pub time_file: Option<String>,
    /// `synchronized` or `unknown` as last published; `None` before the
    /// first publication.
    pub status: Option<String>,
    /// Half-width of the published interval at publication, seconds.
    pub bound_s: Option<f64>,
}

/// The overlay.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OverlayView {
    /// `disabled` without an `[overlay]`; otherwise `agreement`, `too few
    /// sources (HAVE of NEED)`, `no agreement (...)` or `starting`.
    pub status: String,
    /// `off`, `monitor` or `guarded`.
    pub mode: String,
    /// One entry per source.
    pub sources: Vec<SourceView>,
    /// The source the clock follows (guarded mode).
    pub selected: Option<String>,
    /// How many times the selection changed.
    pub switches: u64,
    /// Samples withheld from the servo (not from the selected source).
    pub withheld: u64,
    /// The intersection, relative to the local clock: (lower, upper),
    /// seconds; `None` without agreement.
    pub intersection_s: Option<(f64, f64)>,
    /// The peer layer, when `[[overlay.peer]]` are configured.
    #[serde(default)]
    pub peers: Option<PeersView>,
}

/// The overlay peer layer: this node's part and its counters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PeersView {
    /// This node's id.
    pub node_id: u64,
    /// The address the peer socket listens on.
    pub listen: String,
    /// Configured peers.
    pub peers: usize,
    /// What this node tells its peers of its own time: `synchronized` or
    /// `unknown`.
    pub own_status: String,
    /// Where that comes from: `intersection` (the guard's), `reference`
    /// (a grandmaster stating its clockAccuracy) or `none`.
    pub own_basis: String,
    /// Half-width of the bound this node states, seconds, when known.
    pub own_bound_s: Option<f64>,
    /// Requests sent.
    pub requests_sent: u64,
    /// Responses sent.
    pub responses_sent: u64,
    /// Follow-ups (precise transmit stamps) sent.
    pub follow_ups_sent: u64,
    /// Datagrams that authenticated and were fresh.
    pub accepted: u64,
    /// Samples given to the guard (refinements included).
    pub samples: u64,
    /// Requests that got no response in time.
    pub lost: u64,
    /// Responses from peers that stated no usable bound.
    pub not_source: u64,
    /// Peer HLC timestamps rejected as too far ahead.
    pub hlc_rejected: u64,
    /// Authenticated datagrams from another address than the peer's.
    pub address_mismatch: u64,
    /// Datagrams that could not be sent.
    pub send_errors: u64,
    /// Received datagrams dropped, all reasons.
    pub dropped: u64,
    /// Received datagrams dropped, by reason (`bad-mac`, `duplicate`, ...).
    pub drops: BTreeMap<String, u64>,
    /// The admitted members, configured (seeds) and learned, by id.
    #[serde(default)]
    pub members: Vec<MemberView>,
    /// Membership by gossip, when `[overlay] gossip` is on.
    #[serde(default)]
    pub gossip: Option<GossipView>,
}

/// One admitted overlay member.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    /// Its node id.
    pub id: u64,
    /// The address it is reached at (`ip:port`).
    pub address: String,
    /// `configured` (a seed) or `learned` (admitted by a verified probe).
    pub origin: String,
    /// Seconds since its last authenticated, fresh message (`None`:
    /// never heard from).
    pub last_heard_s: Option<f64>,
}

/// Membership by gossip: its counters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GossipView {
    /// Hints received (gossiped, or a trusted node's own source address).
    pub hints_received: u64,
    /// Hints naming a member at the address it is admitted at.
    pub hints_known: u64,
    /// Gossip datagrams sent (pushes, answers, probes).
    pub gossip_sent: u64,
    /// Gossip datagrams that authenticated.
    pub gossip_received: u64,
    /// Probes sent to claimed addresses.
    pub probes_sent: u64,
    /// Answers to other nodes' probes, sent to addresses not yet verified.
    pub probe_answers_sent: u64,
    /// Members admitted by a verified probe.
    pub admitted: u64,
    /// Learned members re-bound to a new, verified address.
    pub moved: u64,
    /// Learned members dropped for silence.
    pub expired: u64,
    /// Probes and answers held back by the per-round budget.
    pub rate_limited: u64,
    /// Candidates (claimed addresses waiting for or under a probe).
    pub candidates: usize,
    /// Hints and admissions refused, by reason (`untrusted`,
    /// `wrong-source`, `unanswered`, ...).
    pub refused: BTreeMap<String, u64>,
}

/// One overlay source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceView {
    /// Its name.
    pub name: String,
    /// `truechimer`, `falseticker`, `unjudged` (no intersection or too old)
    /// or `quarantined`.
    pub state: String,
    /// Its interval's midpoint: the source's time minus the local clock's,
    /// seconds.
    pub offset_s: f64,
    /// Its interval's half-width, seconds.
    pub bound_s: f64,
}

fn secs(i: TimeInterval) -> f64 {
    i.to_duration().secs_f64()
}

/// linuxptp's lower-case name of a message type (for counters and labels).
#[must_use]
pub fn message_type_name(nibble: u8) -> &'static str {
    match MessageType::from(nibble) {
        MessageType::Sync => "sync",
        MessageType::DelayReq => "delay_req",
        MessageType::PdelayReq => "pdelay_req",
        MessageType::PdelayResp => "pdelay_resp",
        MessageType::FollowUp => "follow_up",
        MessageType::DelayResp => "delay_resp",
        MessageType::PdelayRespFollowUp => "pdelay_resp_follow_up",
        MessageType::Announce => "announce",
        MessageType::Signaling => "signaling",
        MessageType::Management => "management",
        _ => "reserved",
    }
}

fn by_type(counts: &[u64; 16]) -> BTreeMap<String, u64> {
    (0u8..16)
        .zip(counts)
        .filter(|&(_, &n)| n > 0)
        .map(|(t, &n)| {
            let name = message_type_name(t);
            let name = if name == "reserved" {
                format!("reserved_{t:x}")
            } else {
                name.to_owned()
            };
            (name, n)
        })
        .collect()
}

impl From<&PortCounters> for CountersView {
    fn from(c: &PortCounters) -> Self {
        Self {
            rx: by_type(&c.rx_by_type),
            tx: by_type(&c.tx_by_type),
            malformed: c.malformed,
            other_domain: c.other_domain,
            not_applicable: c.not_applicable,
            discarded: c.discarded,
            announce_refused: c.announce_refused,
            tx_timestamp_timeouts: c.tx_timestamp_timeouts,
            queue_overflows: c.queue_overflows,
            events_dropped: c.events_dropped,
            faults: c.faults,
            // The daemon's, not the core's: filled in by the daemon.
            authenticated: 0,
            unauthenticated: BTreeMap::new(),
        }
    }
}

/// linuxptp's name of a delay mechanism.
#[must_use]
pub fn delay_mechanism_name(d: DelayMechanism) -> String {
    match d {
        DelayMechanism::E2e => "E2E".into(),
        DelayMechanism::P2p => "P2P".into(),
        DelayMechanism::CommonP2p => "COMMON_P2P".into(),
        DelayMechanism::Special => "SPECIAL".into(),
        DelayMechanism::NoMechanism => "NO_MECHANISM".into(),
        other => format!("0x{:02x}", u8::from(other)),
    }
}

/// The lower-case name of a servo state.
#[must_use]
pub const fn servo_state_name(s: ServoState) -> &'static str {
    match s {
        ServoState::Unlocked => "unlocked",
        ServoState::Stepping => "stepping",
        ServoState::Locked => "locked",
        ServoState::LockedStable => "locked-stable",
        ServoState::Holdover => "holdover",
    }
}

impl PortView {
    /// The view of `port`, numbered `number`, on `interface`.
    #[must_use]
    pub fn of<const F: usize>(port: &Port<F>, interface: &str, domain: u8) -> Self {
        let ds = port.port_ds();
        let state: PortState = port.state();
        Self {
            domain,
            number: ds.port_identity.port_number,
            interface: interface.to_owned(),
            identity: ds.port_identity.to_string(),
            state: state.name().to_owned(),
            state_code: u8::from(state),
            delay_mechanism: delay_mechanism_name(ds.delay_mechanism),
            mean_path_delay_s: port
                .mean_path_delay()
                .map(statime::time::Duration::secs_f64),
            log_announce_interval: ds.log_announce_interval,
            log_sync_interval: ds.log_sync_interval,
            log_min_delay_req_interval: ds.log_min_delay_req_interval,
            foreign_masters: port.foreign_masters().len(),
            counters: CountersView::from(port.counters()),
            unicast: None,
        }
    }
}

impl Snapshot {
    /// Fill the data-set parts from the instance's data sets.
    pub fn set_data_sets(&mut self, ds: &InstanceDataSets) {
        let d = &ds.default;
        self.clock.identity = d.clock_identity.to_string();
        self.clock.domain = d.domain_number;
        self.clock.priority1 = d.priority1;
        self.clock.priority2 = d.priority2;
        self.clock.clock_class = d.clock_quality.clock_class;
        self.clock.clock_accuracy = u8::from(d.clock_quality.clock_accuracy);
        self.clock.offset_scaled_log_variance = d.clock_quality.offset_scaled_log_variance;
        self.clock.slave_only = d.slave_only;
        self.clock.two_step = d.two_step_flag;
        self.clock.is_grandmaster = ds.parent.grandmaster_identity == d.clock_identity;
        self.current = CurrentView {
            steps_removed: ds.current.steps_removed,
            offset_from_master_s: secs(ds.current.offset_from_master),
            mean_path_delay_s: secs(ds.current.mean_delay),
        };
        let p = &ds.parent;
        self.parent = ParentView {
            parent_port_identity: p.parent_port_identity.to_string(),
            grandmaster_identity: p.grandmaster_identity.to_string(),
            grandmaster_priority1: p.grandmaster_priority1,
            grandmaster_priority2: p.grandmaster_priority2,
            grandmaster_clock_class: p.grandmaster_clock_quality.clock_class,
            grandmaster_clock_accuracy: u8::from(p.grandmaster_clock_quality.clock_accuracy),
            grandmaster_offset_scaled_log_variance: p
                .grandmaster_clock_quality
                .offset_scaled_log_variance,
        };
        let t = &ds.time_properties;
        self.time_properties = TimePropertiesView {
            current_utc_offset: t.current_utc_offset,
            current_utc_offset_valid: t.current_utc_offset_valid,
            leap59: t.leap59,
            leap61: t.leap61,
            time_traceable: t.time_traceable,
            frequency_traceable: t.frequency_traceable,
            ptp_timescale: t.ptp_timescale,
            time_source: u8::from(t.time_source),
        };
    }

    /// Record a servo sample (rejected samples only count).
    pub fn note_report(&mut self, r: &SteeringReport) {
        if r.rejected {
            self.servo.rejected = self.servo.rejected.saturating_add(1);
            return;
        }
        self.servo.samples = self.servo.samples.saturating_add(1);
        self.servo.state = servo_state_name(r.state).to_owned();
        self.servo.state_code = r.state.ptp4l_code();
        self.servo.offset_s = Some(r.offset.secs_f64());
        self.servo.frequency_ppb = Some(r.frequency_ppb);
        self.servo.path_delay_s = Some(r.path_delay.secs_f64());
    }

    /// The snapshot as one line of JSON (the status socket's format).
    #[must_use]
    pub fn to_json_line(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_else(|e| {
            // Serialising plain data cannot fail; say so rather than panic.
            format!("{{\"error\":\"{e}\"}}")
        });
        s.push('\n');
        s
    }

    /// A port is SLAVE and this clock is not the grandmaster.
    #[must_use]
    pub fn is_following(&self) -> bool {
        !self.clock.is_grandmaster && self.ports.iter().any(|p| p.state == "SLAVE")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_by_type_name_the_types_seen() {
        let mut c = PortCounters::default();
        c.rx_by_type[0] = 3;
        c.rx_by_type[0xB] = 2;
        c.rx_by_type[0x5] = 1;
        c.tx_by_type[0x1] = 4;
        c.malformed = 7;
        let v = CountersView::from(&c);
        let rx: Vec<_> = v.rx.iter().map(|(k, &n)| (k.as_str(), n)).collect();
        assert_eq!(rx, [("announce", 2), ("reserved_5", 1), ("sync", 3)]);
        assert_eq!(v.tx.get("delay_req"), Some(&4));
        assert_eq!(v.tx.len(), 1);
        assert_eq!(v.malformed, 7);
    }

    #[test]
    fn json_round_trips() {
        let mut s = Snapshot {
            version: SNAPSHOT_VERSION,
            monotonic_s: 12.5,
            true_error_s: Some(-3e-9),
            ..Snapshot::default()
        };
        s.servo.offset_s = Some(1.25e-7);
        s.ports.push(PortView {
            number: 1,
            interface: "eth0".into(),
            state: "SLAVE".into(),
            ..PortView::default()
        });
        let line = s.to_json_line();
        assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
        let back: Snapshot = serde_json::from_str(&line).unwrap();
        assert_eq!(back, s);
        assert!(line.contains("\"monotonic_s\":12.5"));
        assert!(line.contains("\"offset_s\":1.25e-7"));
    }

    #[test]
    fn floats_survive_json_bit_for_bit() {
        // The value that once came back one unit in the last place off when
        // serde_json parsed without `float_roundtrip`: tools comparing a
        // snapshot with a metrics scrape need the exact value.
        let mut s = Snapshot::default();
        for v in [-5.617944367346354e-8, -5.6179443673463544e-8, 1e-9 / 3.0] {
            s.servo.offset_s = Some(v);
            let back: Snapshot = serde_json::from_str(&s.to_json_line()).unwrap();
            assert_eq!(back.servo.offset_s.map(f64::to_bits), Some(v.to_bits()));
        }
    }
}
