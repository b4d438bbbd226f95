//! The data plane: one thread, one poll(2) loop over every port's sockets
//! and error queues and the instance's timers (ARCHITECTURE.md principle 4).

use std::fmt;
use std::io::Write;
use std::os::fd::AsRawFd;

use statime::clock::Clock;
use statime::instance::{InstanceEvent, PtpInstance};
use statime::port::{Destination, TxContext};
use statime::servo::{Servo, ServoState};
use statime::steering::{Steering, SteeringReport};
use statime::time::{Duration, Instant};
use statime::unicast::server::{self, Due};
use statime::wire::ClockIdentity;
use statime::wire::tlv::PortState;

use super::auth::{self, PortAuth};
use super::clock::DaemonClock;
use super::log::{Logger, Severity};
use super::management::{self, Management};
use super::overlay::Overlay;
use super::peers::{PeerOutput, Peers};
use super::ptp4l_log::{
    Summary, best_master_line, grand_master_line, local_best_master_line, sample_line, state_line,
    transition_event,
};
use super::publish::TimePublisher;
use super::sys::{Readiness, monotonic_now, poll, stop_requested};
use super::sysync::{SyncDirection, SystemSync};
use crate::clock::{ClockError, SystemClock, UtcOffset};
use crate::config::{Config, Timestamping};
use crate::net::{self, LinkState, NetError, NetOptions, PortSockets, TxTracker};
use crate::observe::snapshot::{PortView, SNAPSHOT_VERSION, Snapshot, servo_state_name};
use crate::observe::{ControlPlane, ControlSettings};

/// Poll tag of the management socket among the port indices.
const MGMT_FD: usize = usize::MAX;
/// Poll tag of the overlay peer socket.
const PEER_FD: usize = usize::MAX - 1;

/// The most ports one instance runs (a boundary clock with 8 ports).
pub const MAX_PORTS: usize = 8;

/// How often the link of every port is checked while all are up (one
/// SIOCGIFFLAGS and one SIOCGIFINDEX per port). A send or receive error
/// that suggests a link change triggers a check at once.
const LINK_CHECK: Duration = Duration::from_secs(1);
/// How often a port whose link is down is checked, so that it comes back
/// within this of its link.
const LINK_RECHECK: Duration = Duration::from_nanos(200_000_000);
/// At most one line per this for a repeating send, receive or clock error.
const ERROR_LOG_PERIOD: Duration = Duration::from_secs(10);

/// At most one log line per period for a repeating condition; the ones in
/// between are counted and the count is told on the next line.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Throttle {
    next: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    /// `Some(n)`: log now, `n` lines were left out since the last one.
    /// `None`: leave this one out.
    fn admit(&mut self, now: Instant, period: Duration) -> Option<u64> {
        if self.next.is_some_and(|t| now < t) {
            self.suppressed = self.suppressed.saturating_add(1);
            return None;
        }
        self.next = Some(now + period);
        Some(std::mem::take(&mut self.suppressed))
    }

    /// `text`, with the count of lines left out before it, if allowed now.
    pub(crate) fn line(&mut self, now: Instant, text: &str) -> Option<String> {
        self.admit(now, ERROR_LOG_PERIOD).map(|n| {
            if n == 0 {
                text.to_owned()
            } else {
                format!("{text} ({n} more like it not logged)")
            }
        })
    }
}

/// Failures of the clock the daemon steers: counted, logged at most once
/// per [`ERROR_LOG_PERIOD`], never fatal. The servo's next sample applies
/// its (absolute) frequency again, which is the retry.
#[derive(Clone, Copy, Debug, Default)]
struct ClockFaults {
    throttle: Throttle,
    failures: u64,
}

impl ClockFaults {
    /// Count a failure of `what`; the line to log, if one is due.
    fn note(&mut self, now: Instant, what: &str, e: &ClockError) -> Option<String> {
        self.failures = self.failures.saturating_add(1);
        let text = format!(
            "clock: could not {what}: {e}; the daemon goes on and retries with the next sample \
             ({} failures so far)",
            self.failures
        );
        self.throttle.line(now, &text)
    }
}

/// One instance event through the servo to `clock`. A clock that refuses
/// the servo's correction does not stop the daemon: the failure is counted
/// in `faults` and the line to log (at most one per [`ERROR_LOG_PERIOD`])
/// returned beside the report, which is then `None` (the sample is not
/// logged or published as applied).
fn steer<C: Clock<Error = ClockError> + ?Sized>(
    steering: &mut Steering,
    faults: &mut ClockFaults,
    e: &InstanceEvent,
    inst: &mut PtpInstance<MAX_PORTS>,
    clock: &mut C,
    now: Instant,
) -> (Option<SteeringReport>, Option<String>) {
    match steering.handle_event(e, inst, clock, now) {
        Ok(report) => (report, None),
        Err(err) => (None, faults.note(now, "apply the servo's correction", &err)),
    }
}

/// Why the daemon could not start or had to stop.
#[derive(Debug)]
pub enum DaemonError {
    /// A port's sockets could not be opened.
    Net(NetError),
    /// The clock could not be opened or steered.
    Clock(ClockError),
    /// The configuration is unusable at run time.
    Config(String),
    /// poll(2) or writing the log failed.
    Io(std::io::Error),
}

impl fmt::Display for DaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Net(e) => write!(f, "{e}"),
            Self::Clock(e) => write!(f, "{e}"),
            Self::Config(e) => write!(f, "{e}"),
            Self::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DaemonError {}

impl From<NetError> for DaemonError {
    fn from(e: NetError) -> Self {
        Self::Net(e)
    }
}

impl From<ClockError> for DaemonError {
    fn from(e: ClockError) -> Self {
        Self::Clock(e)
    }
}

impl From<std::io::Error> for DaemonError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Who waits for a transmit timestamp of a port's event socket.
#[derive(Clone, Copy, Debug)]
enum TxOwner {
    /// A PTP instance's port: (instance, context).
    Instance(usize, TxContext),
    /// A unicast client's Sync: its Follow_Up follows.
    UnicastSync {
        to: net::PeerAddress,
        sequence_id: u16,
        log_interval: i8,
    },
}

/// ITU-T G.8275.1/.2 clockClass of a boundary clock that lost its masters
/// (values as we remember them, docs/profiles.md): 135 while in holdover
/// specification, 165 after; the configured class (248) before it ever
/// followed one and again once it follows one.
struct TelecomHoldover {
    configured_class: u8,
    in_spec: Duration,
    /// It has followed a master (the servo locked to one).
    followed: bool,
    /// When it lost the last one.
    lost_at: Option<Instant>,
}

/// clockClass of a telecom clock in holdover within its specification.
const TELECOM_HOLDOVER_IN_SPEC: u8 = 135;
/// clockClass of a telecom clock in holdover beyond its specification.
const TELECOM_HOLDOVER_OUT_OF_SPEC: u8 = 165;

struct PortIo {
    sockets: PortSockets,
    /// Transmit contexts waiting for their time stamps.
    tx: TxTracker<TxOwner>,
    interface: String,
    number: u16,
    /// Receive stamps are taken this long after the frame crossed the
    /// reference plane (ptp4l `ingressLatency`): subtracted.
    ingress_latency: Duration,
    /// Transmit stamps are taken this long before (ptp4l `egressLatency`): added.
    egress_latency: Duration,
    /// When the link went down; `None` while it is usable. While down the
    /// port's messages are dropped and its sockets left out of poll(2).
    down_since: Option<Instant>,
    /// Messages dropped while the link was down (since it last went down).
    dropped: u64,
    /// Rate limits of the send and receive error lines.
    send_errors: Throttle,
    recv_errors: Throttle,
    /// Rate limit of "cannot open the sockets again" lines.
    reopen_errors: Throttle,
    /// `spp`: the AUTHENTICATION TLV on everything sent and received.
    auth: Option<PortAuth>,
    /// Rate limit of "refused an unauthenticated message" lines.
    auth_errors: Throttle,
    /// A unicast client port's master table and negotiation.
    unicast: Option<super::unicast::UnicastIo>,
    /// A unicast server port's clients.
    server: Option<super::unicast::UnicastServerIo>,
    /// The port serves unicast clients only (`inhibit-multicast-service`).
    inhibit_multicast: bool,
    /// `hybrid-e2e`: Delay_Req by unicast to the parent.
    hybrid_e2e: bool,
    /// Where each foreign master's Announces came from (hybrid E2E), and
    /// who sent a unicast Delay_Req (answered by unicast).
    senders: super::unicast::Senders,
}

impl PortIo {
    fn label(&self) -> String {
        format!("port {} ({})", self.number, self.interface)
    }
}

/// What a run measured, for the lab summary.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    /// Seconds from start until the servo first locked.
    pub time_to_lock: Option<f64>,
    /// True error of a virtual clock, sampled once per second after lock (ns).
    /// Kept only by a run with an end (a `duration`), at most one sample per
    /// second of it: a daemon that runs until it is stopped keeps none (see
    /// `true_error_limit`).
    pub true_errors: Vec<f64>,
    /// Servo samples taken.
    pub samples: u64,
    /// Samples the servo rejected as outliers.
    pub rejected: u64,
}

impl RunSummary {
    /// Add one true-error sample (ns) unless the series already holds
    /// `limit` samples.
    fn record_true_error(&mut self, ns: f64, limit: usize) {
        if self.true_errors.len() < limit {
            self.true_errors.push(ns);
        }
    }
}

/// How many true-error samples a run of `duration` keeps: one per second of
/// it (and one for its start), for the summary printed at its end. A daemon
/// without an end (`None`) prints no summary and keeps none: the series
/// would otherwise grow by 8 bytes a second for as long as the daemon runs.
fn true_error_limit(duration: Option<Duration>) -> usize {
    duration.map_or(0, |d| {
        let secs = d.nanos_floor().max(0).saturating_add(999_999_999) / 1_000_000_000;
        usize::try_from(secs)
            .unwrap_or(usize::MAX)
            .saturating_add(1)
    })
}

/// The running daemon.
pub struct Daemon {
    /// The instance of the top-level `domain` (instance index 0).
    instance: PtpInstance<MAX_PORTS>,
    /// `[overlay]`: the other domains' instances and the guard.
    overlay: Option<Overlay>,
    /// `[[overlay.peer]]`: the peer layer's socket and node.
    peers: Option<Peers>,
    ports: Vec<PortIo>,
    clock: DaemonClock,
    steering: Steering,
    summary: Summary,
    summary_interval: Option<Duration>,
    /// `[smpte-metadata]`: the TLV, its interval, when next, sequenceId.
    smpte: Option<(
        statime::wire::tlv::SmpteSyncMetadataTlv,
        Duration,
        Instant,
        u16,
    )>,
    /// SMPTE ST 2059-2 metadata last received from the grandmaster, and when.
    smpte_received: Option<(statime::wire::tlv::SmpteSyncMetadataTlv, Instant)>,
    /// Telecom holdover clockClass (G.8275.x); `None` for other clocks.
    telecom: Option<TelecomHoldover>,
    next_summary: Instant,
    started: Instant,
    next_true_error: Instant,
    /// How many true-error samples this run keeps ([`true_error_limit`]).
    true_error_limit: usize,
    run: RunSummary,
    logger: Logger,
    /// PTP management: local socket and answers on the ports.
    mgmt: Management,
    /// The system clock following the PHC (`[clock] sync-system`).
    system_sync: Option<(SystemSync, SystemClock)>,
    /// The local clock keeps UTC (software time stamps).
    utc_timescale: bool,
    /// The time file for applications (`[observability] time-file`).
    time_publisher: Option<TimePublisher>,
    /// Rate limit of the "rejected outlier" line.
    next_rejected_log: Instant,
    /// The status socket and metrics endpoint, when configured.
    control: Option<ControlPlane>,
    /// The state the control plane shows; kept current only when it runs.
    snapshot: Snapshot,
    /// Something the snapshot shows changed since it was last published.
    snapshot_dirty: bool,
    /// When the snapshot is next published even if nothing changed.
    next_snapshot: Instant,
    /// When the time file is next refreshed while the servo holds over.
    next_holdover_publish: Instant,
    /// When the links of the ports are checked next.
    next_link_check: Instant,
    /// A port's sockets were opened again or its link changed: the poll(2)
    /// set must be rebuilt.
    poll_set_changed: bool,
    /// Failures of the steered clock.
    clock_faults: ClockFaults,
    /// Rate limit of the system clock's sync errors.
    system_sync_errors: Throttle,
}

/// The clock identity of an interface: its MAC address as EUI-64 (as
/// linuxptp derives it).
pub(super) fn identity_of(interface: &str) -> Result<ClockIdentity, DaemonError> {
    let path = format!("/sys/class/net/{interface}/address");
    let text = std::fs::read_to_string(&path).map_err(|_| {
        DaemonError::Config(format!(
            "interface {interface} not found (no {path}); see `ip link`, or set clock-identity"
        ))
    })?;
    let bytes: Vec<u8> = text
        .trim()
        .split(':')
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect();
    let mac: [u8; 6] = bytes.try_into().map_err(|_| {
        DaemonError::Config(format!(
            "interface {interface} has no Ethernet address; set clock-identity in the configuration"
        ))
    })?;
    Ok(ClockIdentity::from_mac(mac))
}

pub(super) fn transport(t: crate::config::Transport) -> net::Transport {
    match t {
        crate::config::Transport::UdpIpv4 => net::Transport::UdpIpv4,
        crate::config::Transport::UdpIpv6 => net::Transport::UdpIpv6,
        crate::config::Transport::Ethernet => net::Transport::Ethernet,
    }
}

/// How far a UTC local clock is behind a parent on the PTP timescale by
/// definition: currentUtcOffset when the parent announces the PTP timescale
/// with a valid offset and the local clock keeps UTC; `None` otherwise.
fn utc_shift(
    tp: &statime::datasets::TimePropertiesDS,
    local_is_utc: bool,
    grandmaster: bool,
) -> Option<Duration> {
    (local_is_utc && !grandmaster && tp.ptp_timescale && tp.current_utc_offset_valid)
        .then(|| Duration::from_secs(i64::from(tp.current_utc_offset)))
}

/// Instance `k` (0: the top-level domain; `k >= 1`: the overlay's
/// `k`-th extra domain), borrowed from the two fields that hold them.
fn instance_at<'a>(
    instance: &'a mut PtpInstance<MAX_PORTS>,
    overlay: &'a mut Option<Overlay>,
    k: usize,
) -> Option<&'a mut PtpInstance<MAX_PORTS>> {
    if k == 0 {
        Some(instance)
    } else {
        overlay
            .as_mut()?
            .extra
            .get_mut(k - 1)
            .map(|x| &mut x.instance)
    }
}

impl Daemon {
    /// Instance `k`, read-only.
    fn instance_ref(&self, k: usize) -> Option<&PtpInstance<MAX_PORTS>> {
        if k == 0 {
            Some(&self.instance)
        } else {
            self.overlay.as_ref()?.extra.get(k - 1).map(|x| &x.instance)
        }
    }

    /// Open every port and the clock as `config` says; `log` receives the
    /// log lines.
    ///
    /// # Errors
    /// A one-line explanation of what is missing (interface, permission,
    /// PHC, hardware time stamping).
    pub fn new(config: &Config, log: Box<dyn Write>) -> Result<Self, DaemonError> {
        let first = config
            .ports
            .first()
            .ok_or_else(|| DaemonError::Config("no [[port]] configured".into()))?;
        let identity = match config.clock_identity {
            Some(id) => id,
            None => identity_of(&first.interface)?,
        };
        let mut ports = Vec::new();
        let mut phc_index = None;
        let sas = match &config.sa_file {
            Some(path) => crate::config::sa_file::load(path)
                .map_err(|e| DaemonError::Config(e.to_string()))?,
            None => Vec::new(),
        };
        for (i, p) in config.ports.iter().enumerate().take(MAX_PORTS) {
            let auth = match p.spp {
                Some(spp) => {
                    let sa = sas.iter().find(|s| s.spp == spp).cloned().ok_or_else(|| {
                        DaemonError::Config(format!(
                            "port {} ({}): spp {spp} is not in the sa-file",
                            i + 1,
                            p.interface
                        ))
                    })?;
                    if sa.key(p.active_key_id).is_none() {
                        return Err(DaemonError::Config(format!(
                            "port {} ({}): active-key-id {} is not in spp {spp} of the sa-file",
                            i + 1,
                            p.interface,
                            p.active_key_id
                        )));
                    }
                    Some(PortAuth::new(sa, p.active_key_id))
                }
                None => None,
            };
            let mode = match p.timestamping {
                Timestamping::Hardware => net::TimestampingMode::Hardware,
                Timestamping::Software => net::TimestampingMode::Software,
            };
            let options = NetOptions {
                multicast_ttl: p.multicast_ttl,
                ipv6_scope: p.udp6_scope,
                primary_mac: p.primary_mac(),
                // A unicast server: 512 octets per client (a Delay_Req and
                // a transmit stamp each), 1 to 64 MiB.
                receive_buffer: p.unicast_listen.then(|| {
                    p.unicast_max_clients
                        .saturating_mul(512)
                        .clamp(1 << 20, 64 << 20)
                }),
                ..NetOptions::default()
            };
            let sockets = PortSockets::open(&p.interface, transport(p.transport), mode, options)?;
            phc_index = phc_index.or(sockets.phc_index());
            ports.push(PortIo {
                sockets,
                // A unicast server has a Sync in flight per client due at
                // once.
                tx: TxTracker::new(if p.unicast_listen { 4096 } else { 64 }),
                interface: p.interface.clone(),
                number: u16::try_from(i + 1).unwrap_or(u16::MAX),
                ingress_latency: Duration::from_nanos_f64(p.ingress_latency.as_secs_f64() * 1e9),
                egress_latency: Duration::from_nanos_f64(p.egress_latency.as_secs_f64() * 1e9),
                down_since: None,
                dropped: 0,
                send_errors: Throttle::default(),
                recv_errors: Throttle::default(),
                reopen_errors: Throttle::default(),
                auth,
                auth_errors: Throttle::default(),
                unicast: super::unicast::UnicastIo::new(p),
                server: super::unicast::UnicastServerIo::new(p),
                inhibit_multicast: p.inhibit_multicast_service,
                hybrid_e2e: p.hybrid_e2e,
                senders: super::unicast::Senders::default(),
            });
        }
        let clock = DaemonClock::from_config(config, phc_index)?;
        let system_sync =
            (config.clock.sync_system && matches!(clock, DaemonClock::Phc(_))).then(|| {
                let utc = config.utc_offset.unwrap_or(37);
                (
                    SystemSync::new(
                        SyncDirection::PhcToSystem,
                        &config.servo_config(),
                        utc,
                        Duration::from_secs(1),
                    ),
                    SystemClock::new(UtcOffset::new(utc)),
                )
            });
        let mgmt = Management::from_config(config).map_err(DaemonError::Config)?;
        let clock_utc_offset = if config.software_timestamping() {
            0
        } else {
            config.utc_offset.unwrap_or(37)
        };
        let time_publisher = match &config.observability.time_file {
            Some(path) => {
                Some(TimePublisher::create(path, clock_utc_offset).map_err(DaemonError::Config)?)
            }
            None => None,
        };
        let default_ds = config.default_ds(identity);
        let mut time_properties = config.time_properties_ds(None);
        if config.software_timestamping() {
            // Software time stamps put CLOCK_REALTIME (UTC) on the wire as
            // is: announce the ARB timescale, as linuxptp does, so that no
            // receiver applies the UTC offset to it.
            time_properties.ptp_timescale = false;
        }
        let port_configs = config.port_configs(identity);
        let overlay = Overlay::new(config, &default_ds, &time_properties, &port_configs);
        let instance = PtpInstance::new(default_ds, time_properties, port_configs);
        let mut servo_config = config.servo_config();
        servo_config.software_timestamping = config.software_timestamping();
        let steering = Steering::new(&servo_config, 0.0);
        let now = monotonic_now();
        let mut snapshot = Snapshot {
            version: SNAPSHOT_VERSION,
            ..Snapshot::default()
        };
        snapshot.clock.kind = match &clock {
            DaemonClock::Virtual(_) => "virtual",
            DaemonClock::System(_) => "system",
            DaemonClock::ObserveOnly(_) => "observe-only",
            DaemonClock::Phc(_) => "phc",
        }
        .to_owned();
        snapshot.clock.device = phc_index
            .filter(|_| matches!(clock, DaemonClock::Phc(_)))
            .map(|i| format!("/dev/ptp{i}"));
        snapshot.publication.time_file = config
            .observability
            .time_file
            .as_ref()
            .map(|p| p.display().to_string());
        snapshot.overlay = overlay.as_ref().map_or_else(
            || crate::observe::snapshot::OverlayView {
                status: "disabled".to_owned(),
                mode: "off".to_owned(),
                ..Default::default()
            },
            Overlay::view,
        );
        let o = &config.observability;
        let control_settings = ControlSettings {
            status_socket: o
                .status_socket
                .clone()
                .map(|p| (p, o.status_socket_permissions)),
            metrics_listen: o.metrics_listen,
        };
        let control = if control_settings.status_socket.is_some()
            || control_settings.metrics_listen.is_some()
        {
            Some(
                ControlPlane::start(&control_settings, snapshot.clone())
                    .map_err(DaemonError::Config)?,
            )
        } else {
            None
        };
        let summary_interval = (config.logging.summary_interval > 0)
            .then(|| statime::datasets::log_interval_duration(config.logging.summary_interval));
        let (peers, peer_warnings) = match overlay {
            Some(_) => {
                Peers::open(config, &clock)?.map_or((None, Vec::new()), |(p, w)| (Some(p), w))
            }
            None => (None, Vec::new()),
        };
        let mut daemon = Self {
            instance,
            overlay,
            peers,
            ports,
            clock,
            steering,
            summary: Summary::default(),
            summary_interval,
            smpte: config.smpte_metadata.tlv().map(|t| {
                let every =
                    statime::datasets::log_interval_duration(config.smpte_metadata.interval);
                (t, every, monotonic_now(), 0)
            }),
            smpte_received: None,
            telecom: (config.dataset_comparison == crate::config::DatasetComparisonName::Telecom
                && !config.slave_only
                && !config.clock_type.is_transparent())
            .then(|| TelecomHoldover {
                configured_class: config.clock_class,
                in_spec: Duration::from_nanos(config.holdover_in_spec.as_nanos()),
                followed: false,
                lost_at: None,
            }),
            next_summary: now,
            started: now,
            next_true_error: now,
            true_error_limit: 0,
            run: RunSummary::default(),
            logger: Logger::new(&config.logging, log),
            mgmt,
            system_sync,
            utc_timescale: config.software_timestamping(),
            time_publisher,
            next_rejected_log: now,
            control,
            snapshot,
            snapshot_dirty: true,
            next_snapshot: now,
            next_holdover_publish: now,
            next_link_check: now,
            poll_set_changed: true,
            clock_faults: ClockFaults::default(),
            system_sync_errors: Throttle::default(),
        };
        for w in peer_warnings {
            daemon.warn(&w);
        }
        Ok(daemon)
    }

    /// Log `text` at info (what ptp4l logs at LOG_INFO).
    fn line(&mut self, text: &str) {
        self.logger
            .log(Severity::Info, monotonic_now().nanos(), text);
    }

    /// Log `text` as a warning (an I/O error the daemon survives).
    fn warn(&mut self, text: &str) {
        self.logger
            .log(Severity::Warning, monotonic_now().nanos(), text);
    }

    /// Run until SIGINT/SIGTERM or until `duration` has passed.
    ///
    /// # Errors
    /// poll(2) failures and clock errors that make steering impossible.
    pub fn run(&mut self, duration: Option<Duration>) -> Result<RunSummary, DaemonError> {
        let start = monotonic_now();
        self.started = start;
        self.true_error_limit = true_error_limit(duration);
        self.instance.enable(start);
        if let Some(o) = self.overlay.as_mut() {
            for x in &mut o.extra {
                x.instance.enable(start);
            }
        }
        self.after_input()?;
        let end = duration.map(|d| start + d);
        let mut buf = [0u8; 2048];
        // Every port's sockets, then the management socket tagged with
        // MGMT_FD; rebuilt when a port's sockets are opened again or its
        // link changes (a port whose link is down is left out).
        let mut fds: Vec<(usize, std::os::fd::RawFd)> = Vec::new();
        let mut raw: Vec<std::os::fd::RawFd> = Vec::new();
        let mut ready: Vec<Readiness> = Vec::new();
        let mut touched = Vec::new();
        loop {
            if stop_requested() {
                self.line("stopping on signal");
                break;
            }
            if super::sys::take_reload_request() {
                self.reload();
            }
            let now = monotonic_now();
            if end.is_some_and(|e| now >= e) {
                break;
            }
            if now >= self.next_link_check {
                self.check_links(now);
                self.after_input()?;
            }
            if std::mem::take(&mut self.poll_set_changed) {
                fds = self.poll_set();
                raw = fds.iter().map(|(_, fd)| *fd).collect();
                ready = vec![Readiness::default(); raw.len()];
            }
            let mut deadline = self
                .instance
                .poll_timeout()
                .unwrap_or(now + Duration::from_secs(1));
            if let Some(o) = &self.overlay {
                for x in &o.extra {
                    if let Some(t) = x.instance.poll_timeout() {
                        deadline = deadline.min(t);
                    }
                }
            }
            if let Some(p) = &self.peers {
                deadline = deadline.min(p.deadline());
            }
            for p in &self.ports {
                if let Some(t) = p
                    .server
                    .as_ref()
                    .and_then(super::unicast::UnicastServerIo::next_due)
                {
                    deadline = deadline.min(t);
                }
                if let Some(t) = p.unicast.as_ref().and_then(|u| u.client.poll_timeout()) {
                    deadline = deadline.min(t);
                }
            }
            deadline = deadline
                .min(now + Duration::from_secs(1))
                .min(self.next_link_check);
            if let Some(e) = end {
                deadline = deadline.min(e);
            }
            let wait = (deadline - now).nanos_floor().max(0);
            let timeout_ms = i32::try_from((wait + 999_999) / 1_000_000).unwrap_or(1000);
            ready.fill(Readiness::default());
            if !poll(&raw, timeout_ms, &mut ready)? {
                continue; // a signal: the loop head checks the flag
            }
            let now = monotonic_now();
            touched.clear();
            touched.extend(
                fds.iter()
                    .zip(&ready)
                    .filter(|(_, r)| r.readable || r.error_queue)
                    .map(|((i, _), _)| *i),
            );
            touched.dedup();
            for &i in &touched {
                if i == PEER_FD {
                    self.drain_peers(&mut buf);
                    continue;
                }
                if i == MGMT_FD {
                    let forwards = self.mgmt.serve_socket(&mut self.instance);
                    for f in forwards {
                        self.send_forward(&f);
                    }
                    continue;
                }
                self.drain_port(i, now, &mut buf)?;
            }
            let now = monotonic_now();
            // A transmit timestamp may have arrived after poll(2) returned
            // (the kernel sends later than we asked when the machine is
            // busy): take it before the timers can call it missing.
            for i in 0..self.ports.len() {
                if self.ports[i].down_since.is_none() && !self.ports[i].tx.is_empty() {
                    self.drain_tx_timestamps(i, now);
                }
            }
            self.instance.handle_timeout(now);
            self.serve_unicast(now);
            if let Some(o) = self.overlay.as_mut() {
                for x in &mut o.extra {
                    x.instance.handle_timeout(now);
                }
            }
            self.poll_peers(now);
            self.after_input()?;
            self.periodic(monotonic_now());
        }
        Ok(std::mem::take(&mut self.run))
    }

    /// SIGHUP: read the overlay's keys file again (the rest of the
    /// configuration needs a restart).
    fn reload(&mut self) {
        let Some(p) = self.peers.as_mut() else {
            self.line("SIGHUP: nothing to reload (no overlay peers)");
            return;
        };
        match p.reload_keys() {
            Ok(l) => self.line(&l),
            Err(e) => self.warn(&format!("overlay: keys file not reloaded: {e}")),
        }
    }

    /// The descriptors to poll: every port's sockets whose link is usable,
    /// then the management socket.
    fn poll_set(&self) -> Vec<(usize, std::os::fd::RawFd)> {
        self.ports
            .iter()
            .enumerate()
            .filter(|(_, p)| p.down_since.is_none())
            .flat_map(|(i, p)| p.sockets.sockets().map(move |s| (i, s.as_raw_fd())))
            .chain(self.mgmt.fd().map(|fd| (MGMT_FD, fd)))
            .chain(self.peers.as_ref().map(|p| (PEER_FD, p.fd())))
            .collect()
    }

    /// Check every port's link (the link monitor; see `net::link`).
    fn check_links(&mut self, now: Instant) {
        for i in 0..self.ports.len() {
            self.check_link(i, now);
        }
        let any_down = self.ports.iter().any(|p| p.down_since.is_some());
        self.next_link_check = now + if any_down { LINK_RECHECK } else { LINK_CHECK };
    }

    /// One port's link. Going down: logged once with the reason, the
    /// port's messages dropped and its sockets left out of poll(2), so it
    /// neither spins nor floods the log; the port itself goes FAULTY at
    /// its next event message, whose transmit timestamp cannot come
    /// (clause 9.2.6.7, FAULT_DETECTED). Coming back: the sockets are
    /// opened again (bound and joined to the multicast groups afresh) and
    /// the fault is cleared at once (clause 9.2.6.10, FAULT_CLEARED: the
    /// port re-initialises to LISTENING) instead of after
    /// fault-reset-interval.
    fn check_link(&mut self, i: usize, now: Instant) {
        let Some(port) = self.ports.get_mut(i) else {
            return;
        };
        let state = port.sockets.link_state();
        if port.down_since.is_none() {
            if state.is_usable() {
                return;
            }
            port.down_since = Some(now);
            port.dropped = 0;
            port.tx.clear();
            self.poll_set_changed = true;
            let text = format!(
                "{}: link down ({state}); its messages are dropped until the link is back",
                port.label()
            );
            self.warn(&text);
        }
        if !(state.is_usable() || state == LinkState::Replaced) {
            return;
        }
        let Some(port) = self.ports.get_mut(i) else {
            return;
        };
        let sockets = match port.sockets.reopen() {
            Ok(s) => s,
            Err(e) => {
                let text = format!(
                    "{}: link up but its sockets could not be opened again: {e}; retrying",
                    port.label()
                );
                if let Some(l) = port.reopen_errors.line(now, &text) {
                    self.warn(&l);
                }
                return;
            }
        };
        port.sockets = sockets;
        port.tx.clear();
        let down_for = port.down_since.take().map_or(0.0, |t| (now - t).secs_f64());
        self.poll_set_changed = true;
        let text = format!(
            "{}: link up after {down_for:.1} s; sockets opened again and multicast groups \
             joined ({} messages dropped while down)",
            port.label(),
            port.dropped
        );
        self.line(&text);
        self.clear_port_fault(i, now);
    }

    /// FAULT_CLEARED for port `i` of every instance. The core offers
    /// re-initialisation only for a whole instance
    /// ([`PtpInstance::enable`]), so an instance is re-initialised when all
    /// of its ports are FAULTY (always the case for an ordinary clock);
    /// otherwise the port recovers by itself after fault-reset-interval.
    fn clear_port_fault(&mut self, i: usize, now: Instant) {
        let count = self.overlay.as_ref().map_or(1, Overlay::instances);
        for k in 0..count {
            let Some(inst) = instance_at(&mut self.instance, &mut self.overlay, k) else {
                continue;
            };
            let ports = inst.ports();
            let faulty = |p: &statime::port::Port| p.state() == PortState::Faulty;
            if ports.get(i).is_some_and(faulty) && ports.iter().all(faulty) {
                inst.enable(now);
            }
        }
    }

    /// Log a send or receive error of port `i` (at most one line per
    /// [`ERROR_LOG_PERIOD`] and kind) and check the link at once if the
    /// error suggests it went away.
    fn port_error(&mut self, i: usize, send: bool, e: &NetError) {
        let now = monotonic_now();
        if e.suggests_link_change() {
            self.next_link_check = now;
        }
        let Some(port) = self.ports.get_mut(i) else {
            return;
        };
        let (throttle, what) = if send {
            (&mut port.send_errors, "send")
        } else {
            (&mut port.recv_errors, "receive")
        };
        if let Some(l) = throttle.line(now, &format!("{what} error: {e}")) {
            self.warn(&l);
        }
    }

    fn drain_port(&mut self, i: usize, now: Instant, buf: &mut [u8]) -> Result<(), DaemonError> {
        // Transmit timestamps first: a response may need them.
        self.drain_tx_timestamps(i, now);
        self.drain_received(i, now, buf)
    }

    /// Hand port `i`'s transmit timestamps waiting in its error queue to
    /// their instances.
    fn drain_tx_timestamps(&mut self, i: usize, now: Instant) {
        loop {
            let Some(port) = self.ports.get_mut(i) else {
                return;
            };
            let Ok(Some(ts)) = port.sockets.recv_tx_timestamp() else {
                break;
            };
            let Some((owner, kts)) = port.tx.resolve(&ts) else {
                continue;
            };
            let egress = port.egress_latency;
            let Some(t) = self.clock.to_ptp(kts) else {
                continue;
            };
            match owner {
                TxOwner::Instance(k, ctx) => {
                    if let Some(inst) = instance_at(&mut self.instance, &mut self.overlay, k) {
                        inst.handle_send_timestamp(i, ctx, t + egress, now);
                    }
                }
                TxOwner::UnicastSync {
                    to,
                    sequence_id,
                    log_interval,
                } => self.unicast_follow_up(i, to, sequence_id, log_interval, t + egress),
            }
        }
    }

    /// Port `i`'s received messages.
    fn drain_received(
        &mut self,
        i: usize,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<(), DaemonError> {
        loop {
            let Some(port) = self.ports.get_mut(i) else {
                return Ok(());
            };
            let r = match port.sockets.recv(buf) {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    self.port_error(i, false, &e);
                    break;
                }
            };
            let ingress = port.ingress_latency;
            let rx = r
                .timestamp
                .and_then(|k| self.clock.to_ptp(k))
                .map(|t| t - ingress);
            let data = buf.get(..r.len).unwrap_or_default();
            // Authentication first: what fails it never reaches the
            // protocol (counted by reason, logged at most every 10 s).
            if let Some(port) = self.ports.get_mut(i)
                && let Some(a) = port.auth.as_mut()
                && let Err(e) = a.check(data)
            {
                let spp = a.spp();
                let text = format!(
                    "{}: dropped a message that failed authentication (spp {spp}): {e}",
                    port.label()
                );
                if let Some(l) = port.auth_errors.line(now, &text) {
                    self.warn(&l);
                }
                continue;
            }
            // A unicast client port takes messages from its table's
            // masters only; their Signaling is the negotiation's.
            if let Some(port) = self.ports.get_mut(i)
                && let Some(u) = port.unicast.as_mut()
            {
                let Some(entry) = u.entry_of(r.source) else {
                    u.foreign = u.foreign.saturating_add(1);
                    continue;
                };
                if let Ok(msg) = statime::wire::Message::parse(data)
                    && let Some(own) = self
                        .instance
                        .ports()
                        .get(i)
                        .map(statime::port::Port::identity)
                {
                    let signaling = matches!(msg.body, statime::wire::MessageBody::Signaling(_));
                    if !signaling && !msg.header.flags.unicast() {
                        // Multicast from a table master (a master may serve
                        // both): the negotiated unicast stream is the one.
                        u.multicast = u.multicast.saturating_add(1);
                        continue;
                    }
                    let lines = u.describe(entry, &msg);
                    let _ = u.client.handle_message(entry, &msg, own, now);
                    for l in lines {
                        self.line(&l);
                    }
                    if signaling {
                        self.after_input()?;
                        continue;
                    }
                }
            }
            // Hybrid E2E: remember where Announces and unicast Delay_Req
            // come from.
            if let Some(port) = self.ports.get_mut(i)
                && let Some(source) = r.source
            {
                port.senders.note(data, source, port.hybrid_e2e);
            }
            // A unicast server answers Signaling itself; the rest (the
            // clients' Delay_Req) is the instance's.
            if let Some(port) = self.ports.get_mut(i)
                && let Some(server) = port.server.as_mut()
                && let Some(source) = r.source
                // messageType first: the clients' Delay_Req (the bulk) are
                // parsed once, by the instance.
                && data.first().is_some_and(|b| b & 0x0F == 0xC)
                && let Ok(msg) = statime::wire::Message::parse(data)
                && matches!(msg.body, statime::wire::MessageBody::Signaling(_))
            {
                let domain_ok =
                    msg.header.domain_number == self.instance.data_sets().default.domain_number;
                if let Some(p) = self.instance.ports().get(i)
                    && domain_ok
                {
                    let mut out = [0u8; 512];
                    let ds = self.instance.data_sets();
                    if let Some(super::unicast::ServerSend::Reply { to, len }) =
                        server.handle_signaling(source, &msg, ds, p.port_ds(), now, &mut out)
                        && port.down_since.is_none()
                    {
                        let len =
                            auth::sign_in_place(port.auth.as_mut(), &mut out, len).unwrap_or(0);
                        if len > 0
                            && let Err(e) = port.sockets.send_unicast(&out[..len], to, false)
                        {
                            self.port_error(i, true, &e);
                        }
                    }
                }
                self.after_input()?;
                continue;
            }
            // Bad input is counted by the port and dropped; with an overlay
            // each domain's messages go to that domain's instance.
            let k = self.overlay.as_ref().map_or(0, |o| o.route(data));
            if let Some(inst) = instance_at(&mut self.instance, &mut self.overlay, k) {
                let _ = inst.handle_receive(i, data, rx, now);
            }
            if management::is_management(data) {
                self.note_smpte_metadata(data, now);
                self.answer_management(i, r.len, buf);
                let data = buf.get(..r.len).unwrap_or_default();
                self.mgmt.relay_answer(data);
                if let Some(f) = self.mgmt.forward(&self.instance, data, Some(i)) {
                    self.send_forward(&f);
                }
            }
            self.after_input()?;
        }
        Ok(())
    }

    /// Answer a management message received on port `i` (the first `len`
    /// octets of `buf`) by multicast on the same port, as ptp4l does.
    fn answer_management(&mut self, i: usize, len: usize, buf: &[u8]) {
        let Some(port) = self.instance.ports().get(i) else {
            return;
        };
        let receiver = port.identity();
        let data = buf.get(..len).unwrap_or_default();
        let answers = self.mgmt.answers(&mut self.instance, data, receiver);
        let mut scratch = [0u8; 1500];
        for a in answers {
            if let Some(p) = self.ports.get_mut(i)
                && p.down_since.is_none()
                && let Some(out) = auth::outgoing(p.auth.as_mut(), &a, &mut scratch)
                && let Err(e) = p.sockets.send(out, Destination::Primary, false)
            {
                self.port_error(i, true, &e);
            }
        }
    }

    /// Send a forwarded management message on the ports its plan names.
    fn send_forward(&mut self, f: &management::Forward) {
        let mut scratch = [0u8; 1500];
        for i in f.plan.port_indices() {
            if let Some(p) = self.ports.get_mut(i)
                && p.down_since.is_none()
                && let Some(out) = auth::outgoing(p.auth.as_mut(), &f.data, &mut scratch)
                && let Err(e) = p.sockets.send(out, Destination::Primary, false)
            {
                self.port_error(i, true, &e);
            }
        }
    }

    /// Unicast negotiation of every unicast client port: follow BMCA's
    /// parent, ask for what is due, send the Signaling messages.
    fn unicast_round(&mut self, now: Instant) {
        let ds = self.instance.data_sets();
        let mut failed = Vec::new();
        for (i, port) in self.ports.iter_mut().enumerate() {
            let Some(u) = port.unicast.as_mut() else {
                continue;
            };
            let Some(p) = self.instance.ports().get(i) else {
                continue;
            };
            let parent = matches!(p.state(), PortState::Slave | PortState::Uncalibrated)
                .then_some(ds.parent.parent_port_identity);
            u.client.set_parent(parent, now);
            u.client.handle_timeout(now);
            let mut buf = [0u8; 512];
            let minor = p.port_ds().minor_version_number;
            while let Some(r) = u.client.poll_transmit(p.identity(), ds, minor, &mut buf) {
                let Ok(t) = r else { continue };
                let Some(to) = u.address(t.entry) else {
                    continue;
                };
                if port.down_since.is_some() {
                    port.dropped = port.dropped.saturating_add(1);
                    continue;
                }
                let Some(len) = auth::sign_in_place(port.auth.as_mut(), &mut buf, t.len) else {
                    continue;
                };
                let data = buf.get(..len).unwrap_or_default();
                if let Err(e) = port.sockets.send_unicast(data, to, false) {
                    failed.push((i, e));
                }
            }
        }
        for (i, e) in failed {
            self.port_error(i, true, &e);
        }
    }

    /// The Announce and Sync due to the unicast clients of every server
    /// port that is MASTER (clause 16.1: a grant is served by a master).
    fn serve_unicast(&mut self, now: Instant) {
        let ds = self.instance.data_sets();
        let mut failed = Vec::new();
        for (i, port) in self.ports.iter_mut().enumerate() {
            let Some(server) = port.server.as_mut() else {
                continue;
            };
            let Some(p) = self.instance.ports().get(i) else {
                continue;
            };
            let serving = p.state() == PortState::Master && port.down_since.is_none();
            let mut buf = [0u8; 512];
            while let Some((to, due)) = server.poll(now) {
                if !serving {
                    continue;
                }
                let (written, event, owner) = match due {
                    Due::Announce {
                        sequence_id,
                        log_interval,
                    } => (
                        server::write_announce(
                            ds,
                            p.port_ds(),
                            sequence_id,
                            log_interval,
                            &mut buf,
                        ),
                        false,
                        None,
                    ),
                    Due::Sync {
                        sequence_id,
                        log_interval,
                    } => (
                        server::write_sync(ds, p.port_ds(), sequence_id, log_interval, &mut buf),
                        true,
                        Some(TxOwner::UnicastSync {
                            to,
                            sequence_id,
                            log_interval,
                        }),
                    ),
                };
                let Ok(len) = written else { continue };
                let Some(len) = auth::sign_in_place(port.auth.as_mut(), &mut buf, len) else {
                    continue;
                };
                match port.sockets.send_unicast(&buf[..len], to, event) {
                    Ok(out) => {
                        if let (Some(id), Some(owner)) = (out.tx_id, owner)
                            && let Some(TxOwner::UnicastSync { .. }) = port.tx.record(id, owner)
                        {
                            server.lost_follow_ups = server.lost_follow_ups.saturating_add(1);
                        }
                    }
                    Err(e) => failed.push((i, e)),
                }
            }
        }
        for (i, e) in failed {
            self.port_error(i, true, &e);
        }
    }

    /// G.8275.x: announce the holdover clockClass while this clock, having
    /// followed a master, is its own grandmaster; the configured one again
    /// once it follows one.
    fn telecom_holdover(&mut self, now: Instant) {
        let locked = matches!(
            self.steering.servo().state(),
            ServoState::Locked | ServoState::LockedStable
        );
        let Some(t) = self.telecom.as_mut() else {
            return;
        };
        let ds = self.instance.data_sets();
        let own = ds.default.clock_identity;
        let class = ds.default.clock_quality.clock_class;
        let want = if ds.parent.grandmaster_identity == own {
            if !t.followed {
                return;
            }
            let lost = *t.lost_at.get_or_insert(now);
            if now - lost < t.in_spec {
                TELECOM_HOLDOVER_IN_SPEC
            } else {
                TELECOM_HOLDOVER_OUT_OF_SPEC
            }
        } else {
            t.followed |= locked;
            t.lost_at = None;
            t.configured_class
        };
        if want == class {
            return;
        }
        let why = match want {
            TELECOM_HOLDOVER_IN_SPEC => "lost every master, in holdover specification",
            TELECOM_HOLDOVER_OUT_OF_SPEC => "in holdover beyond its specification",
            _ => "following a master again",
        };
        self.instance
            .change_default_ds(|d| d.clock_quality.clock_class = want, now);
        self.line(&format!("telecom: clockClass {class} -> {want} ({why})"));
        self.snapshot_dirty = true;
    }

    /// SMPTE ST 2059-2 metadata in a Management COMMAND from the
    /// grandmaster: kept for `statime-ctl status`.
    fn note_smpte_metadata(&mut self, data: &[u8], now: Instant) {
        use statime::wire::tlv::{SmpteSyncMetadataTlv, TlvRepr};
        use statime::wire::{Message, MessageBody, TlvType};
        let Ok(m) = Message::parse(data) else {
            return;
        };
        let MessageBody::Management(mm) = m.body else {
            return;
        };
        let ds = self.instance.data_sets();
        if mm.action != statime::wire::messages::ManagementAction::Command
            || m.header.domain_number != ds.default.domain_number
            || m.header.source_port_identity.clock_identity != ds.parent.grandmaster_identity
            || ds.parent.grandmaster_identity == ds.default.clock_identity
        {
            return;
        }
        if let Some(t) = m
            .suffix
            .find(TlvType::OrganizationExtension)
            .and_then(|raw| SmpteSyncMetadataTlv::parse(raw).ok())
        {
            self.smpte_received = Some((t, now));
            self.snapshot_dirty = true;
        }
    }

    /// SMPTE ST 2059-2: the synchronization metadata, by multicast on every
    /// MASTER port, while this clock is the grandmaster.
    fn send_smpte_metadata(&mut self, now: Instant) {
        let Some((tlv, every, next, sequence)) = self.smpte.as_mut() else {
            return;
        };
        if now < *next {
            return;
        }
        *next = now + *every;
        let ds = self.instance.data_sets();
        if ds.parent.grandmaster_identity != ds.default.clock_identity {
            return;
        }
        let seq = *sequence;
        *sequence = sequence.wrapping_add(1);
        let tlv = *tlv;
        let mut failed = Vec::new();
        for (i, io) in self.ports.iter_mut().enumerate() {
            let Some(p) = self.instance.ports().get(i) else {
                continue;
            };
            if p.state() != PortState::Master || io.down_since.is_some() || io.inhibit_multicast {
                continue;
            }
            let mut buf = [0u8; 256];
            let Ok(len) =
                statime::management::write_smpte_metadata(ds, p.port_ds(), seq, &tlv, &mut buf)
            else {
                continue;
            };
            let Some(len) = auth::sign_in_place(io.auth.as_mut(), &mut buf, len) else {
                continue;
            };
            if let Err(e) = io.sockets.send(&buf[..len], Destination::Primary, false) {
                failed.push((i, e));
            }
        }
        for (i, e) in failed {
            self.port_error(i, true, &e);
        }
    }

    /// The Follow_Up of a unicast client's Sync that left at `origin`.
    fn unicast_follow_up(
        &mut self,
        i: usize,
        to: net::PeerAddress,
        sequence_id: u16,
        log_interval: i8,
        origin: statime::time::Time,
    ) {
        let ds = self.instance.data_sets();
        let (Some(port), Some(p)) = (self.ports.get_mut(i), self.instance.ports().get(i)) else {
            return;
        };
        let mut buf = [0u8; 512];
        let Ok(len) =
            server::write_follow_up(ds, p.port_ds(), sequence_id, log_interval, origin, &mut buf)
        else {
            return;
        };
        let Some(len) = auth::sign_in_place(port.auth.as_mut(), &mut buf, len) else {
            return;
        };
        if let Err(e) = port.sockets.send_unicast(&buf[..len], to, false) {
            self.port_error(i, true, &e);
        }
    }

    fn after_input(&mut self) -> Result<(), DaemonError> {
        self.unicast_round(monotonic_now());
        let mut buf = [0u8; 1500];
        let count = self.overlay.as_ref().map_or(1, Overlay::instances);
        for k in 0..count {
            loop {
                let now = monotonic_now();
                let ptp_now = match self.clock.now() {
                    Ok(t) => t,
                    Err(e) => {
                        // The messages stay queued in the port; the next
                        // input or timer tries again.
                        if let Some(l) = self.clock_faults.note(now, "read the clock", &e) {
                            self.warn(&l);
                        }
                        break;
                    }
                };
                let Some(inst) = instance_at(&mut self.instance, &mut self.overlay, k) else {
                    break;
                };
                let Some((i, result)) = inst.poll_transmit(now, ptp_now, &mut buf) else {
                    break;
                };
                let Ok(t) = result else {
                    continue;
                };
                let Some(port) = self.ports.get_mut(i) else {
                    continue;
                };
                if port.down_since.is_some() {
                    // The link is down: the message is lost as it would be
                    // on the wire; an event message's missing transmit
                    // timestamp faults the port.
                    port.dropped = port.dropped.saturating_add(1);
                    continue;
                }
                // Where it goes: a unicast client's parent, a unicast
                // client of ours (a Delay_Resp), or the group.
                let mut to = None;
                if let Some(u) = port.unicast.as_mut() {
                    // A unicast client sends only to its parent (Delay_Req).
                    match u.parent_address() {
                        Some(a) => to = Some(a),
                        None => {
                            u.no_parent = u.no_parent.saturating_add(1);
                            continue;
                        }
                    }
                } else if let Some(server) = port.server.as_mut()
                    && buf.first().is_some_and(|b| b & 0x0F == 0x9)
                    && let Some(id) = buf.get(44..54).and_then(|b| <&[u8; 10]>::try_from(b).ok())
                {
                    // A Delay_Resp: to the requester if it is our unicast
                    // client (marked unicast, clause 16.1), else to the group
                    // unless the port serves unicast only.
                    let requester = statime::wire::PortIdentity::from_bytes(id);
                    match server.delay_resp_to(requester, now) {
                        Some((a, log_interval)) => {
                            to = Some(a);
                            // flagField octet 0 bit 2 (unicastFlag) and
                            // logMessageInterval: the granted period.
                            if let Some(flags) = buf.get_mut(6) {
                                *flags |= 0x04;
                            }
                            if let Some(period) = buf.get_mut(33) {
                                *period = log_interval.to_ne_bytes()[0];
                            }
                        }
                        None if port.inhibit_multicast => continue,
                        None => {}
                    }
                }
                if to.is_none() && port.unicast.is_none() {
                    // Hybrid E2E: a Delay_Resp to a unicast Delay_Req goes
                    // back by unicast; a hybrid slave's Delay_Req goes to
                    // its parent.
                    let ds = self.instance.data_sets();
                    to = port
                        .senders
                        .route(&buf, port.hybrid_e2e, ds.parent.parent_port_identity);
                    if to.is_some()
                        && let Some(flags) = buf.get_mut(6)
                    {
                        *flags |= 0x04;
                    }
                }
                let Some(len) = auth::sign_in_place(port.auth.as_mut(), &mut buf, t.len) else {
                    continue;
                };
                let data = buf.get(..len).unwrap_or_default();
                let sent = match to {
                    Some(a) => port.sockets.send_unicast(data, a, t.event),
                    None => port.sockets.send(data, t.destination, t.event),
                };
                match sent {
                    Ok(out) => {
                        if let (Some(id), Some(ctx)) = (out.tx_id, t.context) {
                            port.tx.record(id, TxOwner::Instance(k, ctx));
                        }
                    }
                    Err(e) => self.port_error(i, true, &e),
                }
            }
        }
        for k in 0..count {
            while let Some(e) = instance_at(&mut self.instance, &mut self.overlay, k)
                .and_then(PtpInstance::poll_event)
            {
                self.handle_instance_event(k, e)?;
                self.snapshot_dirty = true;
            }
        }
        if self.snapshot_dirty {
            self.publish_snapshot(monotonic_now());
        }
        Ok(())
    }

    /// One event of instance `k`: the overlay sees every measurement; the
    /// servo only those of the instance it may follow.
    fn handle_instance_event(&mut self, k: usize, e: InstanceEvent) -> Result<(), DaemonError> {
        let e = self.utc_correct(k, e);
        if k == 0 {
            self.mgmt.note_event(&e);
        }
        let now = monotonic_now();
        let accuracy = self.instance_ref(k).map_or(0xFE, |inst| {
            u8::from(
                inst.data_sets()
                    .parent
                    .grandmaster_clock_quality
                    .clock_accuracy,
            )
        });
        if let Some(o) = self.overlay.as_mut() {
            let now_ns = now.nanos();
            let local_now = self.clock.now().ok();
            if o.observe(k, &e, accuracy, now_ns, local_now) {
                self.overlay_round(now);
            }
        }
        let steers = self.overlay.as_ref().is_none_or(|o| o.steers(k));
        let is_sample = matches!(
            e,
            InstanceEvent::Measurement { .. } | InstanceEvent::Exchange { .. }
        );
        let report = if steers || matches!(e, InstanceEvent::PortState { .. }) {
            let Some(inst) = instance_at(&mut self.instance, &mut self.overlay, k) else {
                return Ok(());
            };
            let (report, complaint) = steer(
                &mut self.steering,
                &mut self.clock_faults,
                &e,
                inst,
                &mut self.clock,
                now,
            );
            if let Some(l) = complaint {
                self.warn(&l);
            }
            report
        } else {
            if is_sample && let Some(o) = self.overlay.as_mut() {
                o.withheld = o.withheld.saturating_add(1);
            }
            None
        };
        if let (Some(r), Some(o)) = (&report, self.overlay.as_mut()) {
            o.note_frequency(now.nanos(), r.frequency_ppb);
            if r.stepped {
                // Every other instance's time base moved with the clock.
                o.clock_stepped();
                if let Some(p) = self.peers.as_mut() {
                    p.clock_stepped(&self.clock);
                }
                for (j, x) in o.extra.iter_mut().enumerate() {
                    if j + 1 != k {
                        x.instance.clock_stepped();
                    }
                }
                if k != 0 {
                    self.instance.clock_stepped();
                }
            }
            if r.state.is_locked() {
                // Ports of sources the intersection vouches for are
                // calibrated; a falseticker's port stays UNCALIBRATED.
                for j in 0..o.instances() {
                    let verdict = o.is_truechimer(j);
                    let inst = if j == 0 {
                        Some(&mut self.instance)
                    } else {
                        o.extra.get_mut(j - 1).map(|x| &mut x.instance)
                    };
                    match (inst, verdict) {
                        (Some(i), Some(true)) if j != k => i.set_calibrated(now),
                        (Some(i), Some(false)) => i.set_uncalibrated(now),
                        _ => {}
                    }
                }
            }
        }
        self.log_event(k, &e, report);
        Ok(())
    }

    /// One round of the guard after a new sample (of a domain or a peer):
    /// log its verdicts, hold the clock over when it lost its selection,
    /// publish the intersection and state it to the overlay peers.
    fn overlay_round(&mut self, now: Instant) {
        let Some(o) = self.overlay.as_mut() else {
            return;
        };
        let said = o.evaluate(now.nanos());
        let interval = o.published_interval();
        for l in said.lines {
            self.line(&l);
        }
        if said.hold {
            match self.steering.holdover(&mut self.clock) {
                Ok(ppb) => self.line(&format!(
                    "overlay: clock in holdover at {ppb:+.0} ppb until a source is selected"
                )),
                Err(e) => {
                    if let Some(l) = self.clock_faults.note(now, "hold the clock over", &e) {
                        self.warn(&l);
                    }
                }
            }
        }
        self.publish_intersection(interval);
        if let Some(p) = self.peers.as_mut() {
            p.round(&self.clock, interval);
        }
    }

    /// The accuracy this node states to its peers as a grandmaster with a
    /// primary reference: its top-level instance follows nobody, its
    /// clockClass is 6, 7, 13 or 14 (IEEE 1588-2019 table 4: synchronized
    /// to, or in holdover within specification of, a primary reference)
    /// and its clockAccuracy is known; `None` otherwise.
    fn reference_accuracy(&self) -> Option<u64> {
        let ds = self.instance.data_sets();
        let q = ds.default.effective_clock_quality();
        let grandmaster = ds.parent.grandmaster_identity == ds.default.clock_identity;
        (grandmaster && matches!(q.clock_class, 6 | 7 | 13 | 14))
            .then(|| bft_overlay::clock_accuracy_ns(u8::from(q.clock_accuracy)))
            .flatten()
    }

    /// The peer socket is readable (or has transmit stamps).
    fn drain_peers(&mut self, buf: &mut [u8]) {
        let reference = self.reference_accuracy();
        let Some(p) = self.peers.as_mut() else {
            return;
        };
        p.reference_ns = reference;
        let out = p.drain(&self.clock, buf);
        self.peer_output(out);
    }

    /// The peer layer's timers, when due.
    fn poll_peers(&mut self, now: Instant) {
        let reference = self.reference_accuracy();
        let Some(p) = self.peers.as_mut().filter(|p| p.deadline() <= now) else {
            return;
        };
        p.reference_ns = reference;
        let out = p.poll(&self.clock);
        self.peer_output(out);
    }

    /// Peer samples to the guard (a round each batch), warnings to the log.
    fn peer_output(&mut self, out: PeerOutput) {
        for w in &out.warnings {
            self.warn(w);
        }
        for l in &out.lines {
            self.line(l);
        }
        if out.samples.is_empty() {
            return;
        }
        if let Some(o) = self.overlay.as_mut() {
            for &(peer, sample) in &out.samples {
                o.observe_peer(peer, sample);
            }
        }
        self.overlay_round(monotonic_now());
        self.snapshot_dirty = true;
    }

    /// Publish the overlay's intersection (`None`: no agreement, Unknown).
    fn publish_intersection(&mut self, interval: Option<(i64, u64)>) {
        let Some(p) = self.time_publisher.as_mut() else {
            return;
        };
        let pb = &mut self.snapshot.publication;
        let done = match interval {
            Some((mid, half)) => p
                .publish_interval(
                    &self.clock,
                    i128::from(mid),
                    half.saturating_add(1),
                    bft_overlay::shm::Status::Synchronized,
                )
                .map(|()| ("synchronized", Some(half as f64 / 1e9))),
            None => p
                .publish_interval(
                    &self.clock,
                    0,
                    u64::MAX / 4,
                    bft_overlay::shm::Status::Unknown,
                )
                .map(|()| ("unknown", None)),
        };
        if let Some((status, bound)) = done {
            pb.status = Some(status.to_owned());
            pb.bound_s = bound;
        }
    }

    /// Bring the snapshot up to date and hand it to the control plane.
    fn publish_snapshot(&mut self, now: Instant) {
        self.snapshot_dirty = false;
        self.next_snapshot = now + Duration::from_secs(1);
        let Some(control) = &self.control else {
            return;
        };
        let s = &mut self.snapshot;
        s.monotonic_s = now.nanos() as f64 / 1e9;
        s.uptime_s = (now - self.started).secs_f64();
        s.set_data_sets(self.instance.data_sets());
        s.smpte_metadata = self.smpte_received.as_ref().map(|(t, at)| {
            crate::observe::snapshot::SmpteMetadataView::of(t, (now - *at).nanos_f64() / 1e9)
        });
        let domain = self.instance.data_sets().default.domain_number;
        s.ports = self
            .instance
            .ports()
            .iter()
            .zip(&self.ports)
            .map(|(port, io)| {
                let mut v = PortView::of(port, &io.interface, domain);
                v.unicast = io.unicast.as_ref().map(|u| u.view(now)).or_else(|| {
                    io.server
                        .as_ref()
                        .map(super::unicast::UnicastServerIo::view)
                });
                if let Some(a) = &io.auth {
                    v.counters.authenticated = a.verified;
                    v.counters.unauthenticated = a
                        .rejected_by_reason()
                        .into_iter()
                        .map(|(k, n)| (k.to_owned(), n))
                        .collect();
                }
                v
            })
            .collect();
        if let Some(o) = &self.overlay {
            for x in &o.extra {
                s.ports.extend(
                    x.instance
                        .ports()
                        .iter()
                        .zip(&self.ports)
                        .map(|(port, io)| PortView::of(port, &io.interface, x.domain)),
                );
            }
            s.overlay = o.view();
            s.overlay.peers = self.peers.as_ref().map(Peers::view);
        }
        s.true_error_s = self.clock.true_error().map(Duration::secs_f64);
        // The servo's state as it is now, not as of its last sample: a
        // lost parent puts it into holdover without a sample.
        let servo_state = self.steering.servo().state();
        s.servo.state = servo_state_name(servo_state).to_owned();
        s.servo.state_code = servo_state.ptp4l_code();
        s.servo.time_to_lock_s = self.run.time_to_lock;
        control.publish(s.clone());
    }

    /// The metrics endpoint's bound address (port 0 resolved), when it runs.
    #[must_use]
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.control.as_ref().and_then(ControlPlane::metrics_addr)
    }

    /// With software time stamps the local clock keeps UTC (as linuxptp's
    /// CLOCK_REALTIME does). A parent that serves the PTP timescale (TAI)
    /// with a valid currentUtcOffset is then TAI - UTC ahead of us by
    /// definition, not by error: remove that from the measured offset
    /// (IEEE 1588-2019 clause 7.2.3, 8.2.4.2; linuxptp's `clock_utc_correct`).
    fn utc_correct(&self, k: usize, e: InstanceEvent) -> InstanceEvent {
        let Some(inst) = self.instance_ref(k) else {
            return e;
        };
        let ds = inst.data_sets();
        let grandmaster = ds.parent.grandmaster_identity == ds.default.clock_identity;
        let Some(shift) = utc_shift(&ds.time_properties, self.utc_timescale, grandmaster) else {
            return e;
        };
        match e {
            InstanceEvent::Measurement {
                port,
                mut measurement,
            } => {
                measurement.offset += shift;
                InstanceEvent::Measurement { port, measurement }
            }
            InstanceEvent::Exchange {
                port,
                mut measurement,
            } => {
                measurement.offset += shift;
                InstanceEvent::Exchange { port, measurement }
            }
            other => other,
        }
    }

    fn log_event(&mut self, k: usize, e: &InstanceEvent, report: Option<SteeringReport>) {
        // The top-level domain's lines are exactly ptp4l's; the overlay's
        // other domains say which domain they are about.
        let prefix = match &self.overlay {
            Some(o) if k != 0 => format!("domain {}: ", o.domain(k)),
            _ => String::new(),
        };
        match *e {
            InstanceEvent::PortState { port, from, to } => {
                let (number, iface) = self
                    .ports
                    .get(port)
                    .map_or((0, String::new()), |p| (p.number, p.interface.clone()));
                let text = state_line(number, &iface, from, to, transition_event(from, to));
                self.line(&format!("{prefix}{text}"));
                // ptp4l names the local clock when it becomes grandmaster
                // (a clock that is grandmaster from the start sees no
                // parent change): OpenShift's checks look for these lines.
                let own = self
                    .instance_ref(k)
                    .map(PtpInstance::data_sets)
                    .filter(|ds| ds.parent.grandmaster_identity == ds.default.clock_identity)
                    .map(|ds| ds.default.clock_identity);
                if to == PortState::Master
                    && let Some(own) = own
                {
                    self.line(&format!("{prefix}{}", local_best_master_line(own)));
                    self.line(&format!("{prefix}{}", grand_master_line(number, &iface)));
                }
            }
            InstanceEvent::ParentChanged => {
                let Some(ds) = self.instance_ref(k).map(PtpInstance::data_sets) else {
                    return;
                };
                let gm = ds.parent.grandmaster_identity;
                // Becoming grandmaster is announced with the MASTER state
                // line above.
                if gm != ds.default.clock_identity {
                    let text = best_master_line(gm);
                    self.line(&format!("{prefix}{text}"));
                }
            }
            InstanceEvent::Measurement { .. } | InstanceEvent::Exchange { .. } => {}
        }
        if let Some(r) = &report {
            self.snapshot.note_report(r);
        }
        if let Some(r) = report.filter(|r| r.rejected) {
            // An outlier the servo refused (a forged or disturbed sample):
            // counted, logged at most once per second, never published.
            self.run.rejected += 1;
            let now = monotonic_now();
            if now >= self.next_rejected_log {
                self.next_rejected_log = now + Duration::from_secs(1);
                let text = format!(
                    "rejected outlier: offset {} ns path delay {} ns ({} so far)",
                    r.offset.nanos_floor(),
                    r.path_delay.nanos_floor(),
                    self.run.rejected
                );
                self.line(&text);
            }
            return;
        }
        if let Some(r) = report {
            if self.overlay.is_none()
                && let Some(p) = self.time_publisher.as_mut()
                && p.publish(&self.clock, &r).is_some()
            {
                let pb = &mut self.snapshot.publication;
                pb.status = Some(
                    if r.state.is_locked() {
                        "synchronized"
                    } else {
                        "unknown"
                    }
                    .to_owned(),
                );
                pb.bound_s = Some(r.path_delay.abs().secs_f64());
            }
            self.run.samples += 1;
            if r.state.is_locked() && self.run.time_to_lock.is_none() {
                self.run.time_to_lock = Some((monotonic_now() - self.started).secs_f64());
            }
            if self.summary_interval.is_some() {
                self.summary.add(&r);
            } else {
                self.line(&sample_line(&r));
            }
        }
    }

    fn periodic(&mut self, now: Instant) {
        if let (Some((sync, system)), DaemonClock::Phc(phc)) =
            (self.system_sync.as_mut(), &self.clock)
            && now >= sync.next_due()
        {
            let text = match sync.tick(phc.device(), system, now) {
                Ok(Some(r)) => Some(format!(
                    "CLOCK_REALTIME phc offset {:>9} s{} delay {:>6}",
                    r.offset.nanos_floor(),
                    r.state.ptp4l_code(),
                    r.delay.nanos_floor()
                )),
                Ok(None) => None,
                Err(e) => self
                    .system_sync_errors
                    .line(now, &format!("CLOCK_REALTIME follows the PHC: {e}")),
            };
            if let Some(t) = text {
                self.line(&t);
            }
        }
        self.send_smpte_metadata(now);
        self.telecom_holdover(now);
        if let Some(interval) = self.summary_interval
            && now >= self.next_summary
        {
            self.next_summary = now + interval;
            if let Some(l) = self.summary.take_line() {
                self.line(&l);
            }
            let servers: Vec<String> = self
                .ports
                .iter()
                .filter_map(|p| {
                    let s = p.server.as_ref()?;
                    let d = s.decisions;
                    Some(format!(
                        "{}: unicast clients {}, requests granted {} denied {}, cancels {}, \
                         Delay_Resp refused {}, Follow_Up lost {}, new clients refused while \
                         behind {}",
                        p.label(),
                        s.clients(),
                        d.granted,
                        d.denied,
                        d.cancelled,
                        s.refused_delay_resp,
                        s.lost_follow_ups,
                        s.refused_behind
                    ))
                })
                .collect();
            for l in servers {
                self.line(&l);
            }
        }
        // Holding over without an overlay: keep the time file honest and
        // fresh (FreeRunning, the bound growing with the drift allowance)
        // instead of letting it go stale.
        if self.overlay.is_none()
            && now >= self.next_holdover_publish
            && self.steering.servo().state() == ServoState::Holdover
        {
            self.next_holdover_publish = now + Duration::from_secs(1);
            if let Some(p) = self.time_publisher.as_mut()
                && p.refresh_holdover(&self.clock).is_some()
            {
                self.snapshot.publication.status = Some("free-running".to_owned());
                self.snapshot_dirty = true;
            }
        }
        if now >= self.next_snapshot {
            self.publish_snapshot(now);
        }
        if now >= self.next_true_error {
            self.next_true_error = now + Duration::from_secs(1);
            if self.run.time_to_lock.is_some()
                && let Some(err) = self.clock.true_error()
            {
                self.run
                    .record_true_error(err.nanos_f64(), self.true_error_limit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use statime::datasets::{DefaultDS, TimePropertiesDS};
    use statime::port::{Measurement, PortConfig};
    use statime::servo::{ServoAlgorithm, ServoConfig};
    use statime::time::Time;
    use statime::wire::PortIdentity;

    /// A clock that refuses every adjustment while `failing` is set and
    /// records what it was told otherwise.
    struct FailingClock {
        failing: bool,
        calls: u32,
        frequency_ppb: Option<f64>,
    }

    impl FailingClock {
        fn refuse(&mut self) -> Result<(), ClockError> {
            self.calls += 1;
            if self.failing {
                Err(ClockError::Os {
                    operation: "adjust",
                    clock: "/dev/ptp9".into(),
                    errno: libc::ENODEV,
                })
            } else {
                Ok(())
            }
        }
    }

    impl Clock for FailingClock {
        type Error = ClockError;
        fn now(&self) -> Result<Time, ClockError> {
            Ok(Time::from_secs_nanos(1_000, 0))
        }
        fn adjust_frequency(&mut self, ppb: f64) -> Result<(), ClockError> {
            self.refuse()?;
            self.frequency_ppb = Some(ppb);
            Ok(())
        }
        fn step(&mut self, _offset: Duration) -> Result<(), ClockError> {
            self.refuse()
        }
        fn max_frequency_ppb(&self) -> f64 {
            500_000.0
        }
    }

    fn instance() -> PtpInstance<MAX_PORTS> {
        let identity = ClockIdentity([0, 0, 0x5e, 0xff, 0xfe, 0, 0x53, 1]);
        let port = PortConfig::new(PortIdentity {
            clock_identity: identity,
            port_number: 1,
        });
        PtpInstance::new(
            DefaultDS::new(identity, 1),
            TimePropertiesDS::default(),
            [port],
        )
    }

    fn measurement(n: u64, offset_ns: i64) -> InstanceEvent {
        let at = Instant::from_nanos(1_000_000_000 + n * 125_000_000);
        InstanceEvent::Measurement {
            port: 0,
            measurement: Measurement {
                offset: Duration::from_nanos(offset_ns),
                mean_path_delay: Duration::from_nanos(2_000),
                raw_path_delay: Duration::from_nanos(2_000),
                ingress: Time::from_nanos(1_000_000_000_000 + n * 125_000_000),
                at,
            },
        }
    }

    /// Issue 9, "the PHC or clock steering call fails": the daemon's
    /// steering path logs (rate-limited), keeps going, and the servo's next
    /// sample after the clock recovers reaches the clock.
    #[test]
    fn a_failing_clock_is_logged_retried_and_survived() {
        let config = ServoConfig {
            algorithm: ServoAlgorithm::Pi,
            ..ServoConfig::default()
        };
        let mut steering = Steering::new(&config, 0.0);
        let mut faults = ClockFaults::default();
        let mut inst = instance();
        let mut clock = FailingClock {
            failing: true,
            calls: 0,
            frequency_ppb: None,
        };
        let mut lines = Vec::new();
        let mut reports = 0;
        // 5 s of samples at 8/s with the clock refusing everything.
        for n in 0..40 {
            let now = Instant::from_nanos(1_000_000_000 + n * 125_000_000);
            let e = measurement(n, 1_000);
            let (report, line) = steer(&mut steering, &mut faults, &e, &mut inst, &mut clock, now);
            reports += usize::from(report.is_some());
            lines.extend(line);
        }
        // Each sample is either reported (the PI servo's first one changes
        // nothing) or refused, counted and not reported as applied.
        assert_eq!(faults.failures, u64::from(clock.calls));
        assert!(faults.failures >= 38, "{} failures", faults.failures);
        assert_eq!(reports + clock.calls as usize, 40);
        assert_eq!(lines.len(), 1, "one line per 10 s: {lines:?}");
        assert!(
            lines[0].starts_with("clock: could not apply the servo's correction: ")
                && lines[0].contains("retries with the next sample"),
            "{}",
            lines[0]
        );
        // Losing the parent with the clock still failing: holdover's
        // frequency cannot be set either; still no panic, counted.
        let lost = InstanceEvent::PortState {
            port: 0,
            from: PortState::Slave,
            to: PortState::Listening,
        };
        let before = faults.failures;
        let gained = InstanceEvent::PortState {
            port: 0,
            from: PortState::Listening,
            to: PortState::Uncalibrated,
        };
        let now = Instant::from_nanos(7_000_000_000);
        let _ = steer(
            &mut steering,
            &mut faults,
            &gained,
            &mut inst,
            &mut clock,
            now,
        );
        let (r, _) = steer(
            &mut steering,
            &mut faults,
            &lost,
            &mut inst,
            &mut clock,
            now,
        );
        assert!(r.is_none());
        assert_eq!(
            faults.failures,
            before + 1,
            "the holdover frequency failed too"
        );
        // The clock comes back: the next samples are applied.
        clock.failing = false;
        let _ = steer(
            &mut steering,
            &mut faults,
            &gained,
            &mut inst,
            &mut clock,
            now,
        );
        let mut last = None;
        for n in 100..140 {
            let now = Instant::from_nanos(1_000_000_000 + n * 125_000_000);
            let (report, line) = steer(
                &mut steering,
                &mut faults,
                &measurement(n, 1_000),
                &mut inst,
                &mut clock,
                now,
            );
            assert!(line.is_none(), "{line:?}");
            last = report.or(last);
        }
        let last = last.expect("samples are applied again");
        assert_eq!(clock.frequency_ppb, Some(last.frequency_ppb));
        // A failure after 10 quiet seconds is logged again, with the count.
        clock.failing = true;
        let now = Instant::from_nanos(30_000_000_000);
        let (_, line) = steer(
            &mut steering,
            &mut faults,
            &measurement(200, 1_000),
            &mut inst,
            &mut clock,
            now,
        );
        let line = line.expect("logged again after the period");
        assert!(line.contains("more like it not logged"), "{line}");
    }

    #[test]
    fn the_true_error_series_is_bounded_by_the_run() {
        // A daemon without an end: a year of once-a-second samples keeps
        // nothing (it once kept them all, 8 bytes a second).
        let limit = true_error_limit(None);
        let mut s = RunSummary::default();
        for i in 0..366 * 86_400 {
            s.record_true_error(f64::from(i), limit);
        }
        assert!(s.true_errors.is_empty());
        assert_eq!(s.true_errors.capacity(), 0);
        // A 10.5 s run keeps one sample per second of it, then no more.
        let limit = true_error_limit(Some(Duration::from_nanos(10_500_000_000)));
        assert_eq!(limit, 12);
        let mut s = RunSummary::default();
        for i in 0..1000 {
            s.record_true_error(f64::from(i), limit);
        }
        assert_eq!(s.true_errors, (0..12).map(f64::from).collect::<Vec<_>>());
        assert_eq!(true_error_limit(Some(Duration::from_secs(300))), 301);
        assert_eq!(true_error_limit(Some(Duration::from_secs(-1))), 1);
    }

    #[test]
    fn throttle_admits_one_line_per_period_and_counts_the_rest() {
        let mut t = Throttle::default();
        let at = |ms: u64| Instant::from_nanos(ms * 1_000_000);
        assert_eq!(t.line(at(0), "x").as_deref(), Some("x"));
        for ms in 1..100 {
            assert!(t.line(at(ms * 10), "x").is_none());
        }
        assert_eq!(
            t.line(at(10_000), "x").as_deref(),
            Some("x (99 more like it not logged)")
        );
        assert!(t.line(at(10_001), "x").is_none());
    }

    #[test]
    fn utc_shift_only_for_a_tai_parent_and_a_utc_clock() {
        let mut tp = TimePropertiesDS {
            current_utc_offset: 37,
            current_utc_offset_valid: true,
            ptp_timescale: true,
            ..TimePropertiesDS::default()
        };
        assert_eq!(utc_shift(&tp, true, false), Some(Duration::from_secs(37)));
        assert_eq!(
            utc_shift(&tp, false, false),
            None,
            "a TAI clock (PHC) needs no shift"
        );
        assert_eq!(
            utc_shift(&tp, true, true),
            None,
            "the grandmaster follows nobody"
        );
        tp.current_utc_offset_valid = false;
        assert_eq!(
            utc_shift(&tp, true, false),
            None,
            "an offset not marked valid is not used"
        );
        tp.current_utc_offset_valid = true;
        tp.ptp_timescale = false;
        assert_eq!(
            utc_shift(&tp, true, false),
            None,
            "ARB (ptp4l -S) is served as is"
        );
    }
}
