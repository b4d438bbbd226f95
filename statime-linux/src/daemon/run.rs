//! The data plane: one thread, one poll(2) loop over every port's sockets
//! and error queues and the instance's timers (ARCHITECTURE.md principle 4).

use std::fmt;
use std::io::Write;
use std::os::fd::AsRawFd;

use statime::clock::Clock;
use statime::instance::{InstanceEvent, PtpInstance};
use statime::port::{Destination, TxContext};
use statime::steering::{Steering, SteeringReport};
use statime::time::{Duration, Instant};
use statime::wire::ClockIdentity;
use statime::wire::tlv::PortState;

use super::clock::DaemonClock;
use super::log::{Logger, Severity};
use super::management::{self, Management};
use super::overlay::Overlay;
use super::ptp4l_log::{
    Summary, best_master_line, grand_master_line, local_best_master_line, sample_line, state_line,
    transition_event,
};
use super::publish::TimePublisher;
use super::sys::{Readiness, monotonic_now, poll, stop_requested};
use super::sysync::{SyncDirection, SystemSync};
use crate::clock::{ClockError, SystemClock, UtcOffset};
use crate::config::{Config, Timestamping};
use crate::net::{self, NetError, NetOptions, PortSockets, TxTracker};
use crate::observe::snapshot::{PortView, SNAPSHOT_VERSION, Snapshot};
use crate::observe::{ControlPlane, ControlSettings};

/// Poll tag of the management socket among the port indices.
const MGMT_FD: usize = usize::MAX;

/// The most ports one instance runs (a boundary clock with 8 ports).
pub const MAX_PORTS: usize = 8;

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

struct PortIo {
    sockets: PortSockets,
    /// Transmit contexts waiting for their time stamps: (instance, context).
    tx: TxTracker<(usize, TxContext)>,
    interface: String,
    number: u16,
    /// Receive stamps are taken this long after the frame crossed the
    /// reference plane (ptp4l `ingressLatency`): subtracted.
    ingress_latency: Duration,
    /// Transmit stamps are taken this long before (ptp4l `egressLatency`): added.
    egress_latency: Duration,
}

/// What a run measured, for the lab summary.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    /// Seconds from start until the servo first locked.
    pub time_to_lock: Option<f64>,
    /// True error of a virtual clock, sampled once per second after lock (ns).
    pub true_errors: Vec<f64>,
    /// Servo samples taken.
    pub samples: u64,
    /// Samples the servo rejected as outliers.
    pub rejected: u64,
}

/// The running daemon.
pub struct Daemon {
    /// The instance of the top-level `domain` (instance index 0).
    instance: PtpInstance<MAX_PORTS>,
    /// `[overlay]`: the other domains' instances and the guard.
    overlay: Option<Overlay>,
    ports: Vec<PortIo>,
    clock: DaemonClock,
    steering: Steering,
    summary: Summary,
    summary_interval: Option<Duration>,
    next_summary: Instant,
    started: Instant,
    next_true_error: Instant,
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
}

/// The clock identity of an interface: its MAC address as EUI-64 (as
/// linuxptp derives it).
fn identity_of(interface: &str) -> Result<ClockIdentity, DaemonError> {
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

fn transport(t: crate::config::Transport) -> net::Transport {
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
        for (i, p) in config.ports.iter().enumerate().take(MAX_PORTS) {
            let mode = match p.timestamping {
                Timestamping::Hardware => net::TimestampingMode::Hardware,
                Timestamping::Software => net::TimestampingMode::Software,
            };
            let options = NetOptions {
                multicast_ttl: p.multicast_ttl,
                ipv6_scope: p.udp6_scope,
                ..NetOptions::default()
            };
            let sockets = PortSockets::open(&p.interface, transport(p.transport), mode, options)?;
            phc_index = phc_index.or(sockets.phc_index());
            ports.push(PortIo {
                sockets,
                tx: TxTracker::new(64),
                interface: p.interface.clone(),
                number: u16::try_from(i + 1).unwrap_or(u16::MAX),
                ingress_latency: Duration::from_nanos_f64(p.ingress_latency.as_secs_f64() * 1e9),
                egress_latency: Duration::from_nanos_f64(p.egress_latency.as_secs_f64() * 1e9),
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
        Ok(Self {
            instance,
            overlay,
            ports,
            clock,
            steering,
            summary: Summary::default(),
            summary_interval,
            next_summary: now,
            started: now,
            next_true_error: now,
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
        })
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
        self.instance.enable(start);
        if let Some(o) = self.overlay.as_mut() {
            for x in &mut o.extra {
                x.instance.enable(start);
            }
        }
        self.after_input()?;
        let end = duration.map(|d| start + d);
        let mut buf = [0u8; 2048];
        // The descriptors are fixed for the daemon's life: every port's
        // sockets, then the management socket tagged with MGMT_FD.
        let fds: Vec<(usize, std::os::fd::RawFd)> = self
            .ports
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.sockets.sockets().map(move |s| (i, s.as_raw_fd())))
            .chain(self.mgmt.fd().map(|fd| (MGMT_FD, fd)))
            .collect();
        let raw: Vec<_> = fds.iter().map(|(_, fd)| *fd).collect();
        let mut ready = vec![Readiness::default(); raw.len()];
        let mut touched = Vec::with_capacity(fds.len());
        loop {
            if stop_requested() {
                self.line("stopping on signal");
                break;
            }
            let now = monotonic_now();
            if end.is_some_and(|e| now >= e) {
                break;
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
            deadline = deadline.min(now + Duration::from_secs(1));
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
            for &i in &touched {
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
            self.instance.handle_timeout(now);
            if let Some(o) = self.overlay.as_mut() {
                for x in &mut o.extra {
                    x.instance.handle_timeout(now);
                }
            }
            self.after_input()?;
            self.periodic(monotonic_now());
        }
        Ok(std::mem::take(&mut self.run))
    }

    fn drain_port(&mut self, i: usize, now: Instant, buf: &mut [u8]) -> Result<(), DaemonError> {
        // Transmit timestamps first: a response may need them.
        loop {
            let Some(port) = self.ports.get_mut(i) else {
                return Ok(());
            };
            let Ok(Some(ts)) = port.sockets.recv_tx_timestamp() else {
                break;
            };
            let Some(((k, ctx), kts)) = port.tx.resolve(&ts) else {
                continue;
            };
            let egress = port.egress_latency;
            if let Some(t) = self.clock.to_ptp(kts)
                && let Some(inst) = instance_at(&mut self.instance, &mut self.overlay, k)
            {
                inst.handle_send_timestamp(i, ctx, t + egress, now);
            }
        }
        loop {
            let Some(port) = self.ports.get_mut(i) else {
                return Ok(());
            };
            let r = match port.sockets.recv(buf) {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    self.warn(&format!("receive error: {e}"));
                    break;
                }
            };
            let ingress = port.ingress_latency;
            let rx = r
                .timestamp
                .and_then(|k| self.clock.to_ptp(k))
                .map(|t| t - ingress);
            let data = buf.get(..r.len).unwrap_or_default();
            // Bad input is counted by the port and dropped; with an overlay
            // each domain's messages go to that domain's instance.
            let k = self.overlay.as_ref().map_or(0, |o| o.route(data));
            if let Some(inst) = instance_at(&mut self.instance, &mut self.overlay, k) {
                let _ = inst.handle_receive(i, data, rx, now);
            }
            if management::is_management(data) {
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
        for a in answers {
            if let Some(p) = self.ports.get(i)
                && let Err(e) = p.sockets.send(&a, Destination::Primary, false)
            {
                self.warn(&format!("send error: {e}"));
            }
        }
    }

    /// Send a forwarded management message on the ports its plan names.
    fn send_forward(&mut self, f: &management::Forward) {
        for i in f.plan.port_indices() {
            if let Some(p) = self.ports.get(i)
                && let Err(e) = p.sockets.send(&f.data, Destination::Primary, false)
            {
                let text = format!("send error: {e}");
                self.warn(&text);
            }
        }
    }

    fn after_input(&mut self) -> Result<(), DaemonError> {
        let mut buf = [0u8; 1500];
        let count = self.overlay.as_ref().map_or(1, Overlay::instances);
        for k in 0..count {
            loop {
                let now = monotonic_now();
                let ptp_now = self.clock.now()?;
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
                let data = buf.get(..t.len).unwrap_or_default();
                match port.sockets.send(data, t.destination, t.event) {
                    Ok(out) => {
                        if let (Some(id), Some(ctx)) = (out.tx_id, t.context) {
                            port.tx.record(id, (k, ctx));
                        }
                    }
                    Err(e) => {
                        let text = format!("send error: {e}");
                        self.warn(&text);
                    }
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
            if o.observe(k, &e, accuracy, now_ns) {
                let said = o.evaluate(now_ns);
                let interval = o.published_interval();
                for l in said.lines {
                    self.line(&l);
                }
                self.publish_intersection(interval);
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
            self.steering.handle_event(&e, inst, &mut self.clock, now)?
        } else {
            if is_sample && let Some(o) = self.overlay.as_mut() {
                o.withheld = o.withheld.saturating_add(1);
            }
            None
        };
        if let (Some(r), Some(o)) = (&report, self.overlay.as_mut()) {
            if r.stepped {
                // Every other instance's time base moved with the clock.
                o.clock_stepped();
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
        let domain = self.instance.data_sets().default.domain_number;
        s.ports = self
            .instance
            .ports()
            .iter()
            .zip(&self.ports)
            .map(|(port, io)| PortView::of(port, &io.interface, domain))
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
        }
        s.true_error_s = self.clock.true_error().map(Duration::secs_f64);
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
                Err(e) => Some(format!("CLOCK_REALTIME follows the PHC: {e}")),
            };
            if let Some(t) = text {
                self.line(&t);
            }
        }
        if let Some(interval) = self.summary_interval
            && now >= self.next_summary
        {
            self.next_summary = now + interval;
            if let Some(l) = self.summary.take_line() {
                self.line(&l);
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
                self.run.true_errors.push(err.nanos_f64());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use statime::datasets::TimePropertiesDS;

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
