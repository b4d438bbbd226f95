//! The daemon as a transparent clock (`clock-type = "E2E_TC"` or
//! `"P2P_TC"`; IEEE 1588-2019 clause 6.5.4, 6.5.5, 11.5): the same poll(2)
//! data plane as an ordinary clock, driving [`statime::tc::TransparentClock`]
//! instead of a PTP instance. It forwards every port's messages to the
//! others with residence times in the correctionField and steers no clock:
//! residence times are differences of time stamps taken by one clock (the
//! system clock with software time stamps, the ports' PTP hardware clock
//! otherwise, which must then be the same for every port).

use std::io::Write;
use std::os::fd::AsRawFd;

use statime::port::Destination;
use statime::tc::{TcConfig, TcCounters, TcMode, TcTxContext, TransparentClock};
use statime::time::{Duration, Instant, Time};
use statime::wire::{MessageType, SdoId};

use super::log::{Logger, Severity};
use super::run::{DaemonError, MAX_PORTS, Throttle, identity_of, transport};
use super::sys::{Readiness, monotonic_now, poll, stop_requested};
use crate::config::{ClockType, Config, Timestamping};
use crate::net::{self, NetOptions, PortSockets, TxTracker};
use crate::observe::snapshot::{SNAPSHOT_VERSION, Snapshot, TcView};
use crate::observe::{ControlPlane, ControlSettings};

struct TcPort {
    sockets: PortSockets,
    tx: TxTracker<TcTxContext>,
    label: String,
    ingress_latency: Duration,
    egress_latency: Duration,
    send_errors: Throttle,
    recv_errors: Throttle,
}

/// The running transparent clock.
pub struct TcDaemon {
    tc: TransparentClock<MAX_PORTS>,
    ports: Vec<TcPort>,
    logger: Logger,
    summary_interval: Duration,
    next_summary: Instant,
    /// The status socket and metrics endpoint, when configured.
    control: Option<ControlPlane>,
    next_snapshot: Instant,
    started: Instant,
}

/// How often the control plane's snapshot is refreshed.
const SNAPSHOT_PERIOD: Duration = Duration::from_secs(1);

/// The figures a run ends with (for labs and tests).
#[derive(Clone, Copy, Debug, Default)]
pub struct TcSummary {
    /// What was forwarded and dropped.
    pub counters: TcCounters,
    /// Residence times measured.
    pub residence: statime::tc::ResidenceStats,
}

fn kind(t: ClockType) -> TcMode {
    if t == ClockType::P2pTransparent {
        TcMode::PeerToPeer
    } else {
        TcMode::EndToEnd
    }
}

impl TcDaemon {
    /// Open every port as `config` says.
    ///
    /// # Errors
    /// A one-line explanation of what is missing (interface, permission,
    /// hardware time stamping, ports on different PTP hardware clocks).
    pub fn new(config: &Config, log: Box<dyn Write>) -> Result<Self, DaemonError> {
        let first = config
            .ports
            .first()
            .ok_or_else(|| DaemonError::Config("no [[port]] configured".into()))?;
        if config.ports.len() < 2 {
            return Err(DaemonError::Config(format!(
                "a transparent clock forwards between ports, but only {} is configured: add a \
                 [[port]] or -i INTERFACE",
                config.ports.len()
            )));
        }
        let identity = match config.clock_identity {
            Some(id) => id,
            None => identity_of(&first.interface)?,
        };
        let mut ports = Vec::new();
        let mut phc: Option<(u32, String)> = None;
        for p in config.ports.iter().take(MAX_PORTS) {
            let mode = match p.timestamping {
                Timestamping::Hardware => net::TimestampingMode::Hardware,
                Timestamping::Software => net::TimestampingMode::Software,
            };
            let options = NetOptions {
                multicast_ttl: p.multicast_ttl,
                ipv6_scope: p.udp6_scope,
                primary_mac: p.primary_mac(),
                ..NetOptions::default()
            };
            let sockets = PortSockets::open(&p.interface, transport(p.transport), mode, options)?;
            if p.timestamping == Timestamping::Hardware
                && let Some(index) = sockets.phc_index()
            {
                match &phc {
                    Some((other, iface)) if *other != index => {
                        return Err(DaemonError::Config(format!(
                            "a transparent clock measures residence times with one clock, but \
                             {iface} stamps with /dev/ptp{other} and {} with /dev/ptp{index}; \
                             use ports of one NIC or timestamping = \"software\"",
                            p.interface
                        )));
                    }
                    Some(_) => {}
                    None => phc = Some((index, p.interface.clone())),
                }
            }
            let number = ports.len() + 1;
            ports.push(TcPort {
                sockets,
                tx: TxTracker::new(64),
                label: format!("port {number} ({})", p.interface),
                ingress_latency: Duration::from_nanos_f64(p.ingress_latency.as_secs_f64() * 1e9),
                egress_latency: Duration::from_nanos_f64(p.egress_latency.as_secs_f64() * 1e9),
                send_errors: Throttle::default(),
                recv_errors: Throttle::default(),
            });
        }
        let mut tc = TcConfig::new(kind(config.clock_type), identity);
        tc.domain_number = config.domain;
        tc.sdo_id = SdoId::new(config.sdo_id).unwrap_or(SdoId::from_parts(0, 0));
        tc.increment_steps_removed = config.tc_spanning_tree;
        tc.syntonize = config.tc_syntonize;
        tc.tx_timestamp_timeout =
            Duration::from_nanos_f64(first.tx_timestamp_timeout.as_secs_f64() * 1e9);
        let tc = TransparentClock::new(tc, config.port_configs(identity));
        let summary_interval = if config.logging.summary_interval > 0 {
            statime::datasets::log_interval_duration(config.logging.summary_interval)
        } else {
            Duration::from_secs(60)
        };
        let o = &config.observability;
        let settings = ControlSettings {
            status_socket: o
                .status_socket
                .clone()
                .map(|p| (p, o.status_socket_permissions)),
            metrics_listen: o.metrics_listen,
        };
        let control = if settings.status_socket.is_some() || settings.metrics_listen.is_some() {
            Some(ControlPlane::start(&settings, Snapshot::default()).map_err(DaemonError::Config)?)
        } else {
            None
        };
        let now = monotonic_now();
        Ok(Self {
            tc,
            ports,
            logger: Logger::new(&config.logging, log),
            summary_interval,
            next_summary: now,
            control,
            next_snapshot: now,
            started: now,
        })
    }

    /// Hand the control plane a fresh snapshot (when it runs).
    fn publish(&mut self, now: Instant) {
        let Some(control) = &self.control else {
            return;
        };
        let interfaces: Vec<String> = self
            .ports
            .iter()
            .map(|p| p.sockets.interface().to_owned())
            .collect();
        let snapshot = Snapshot {
            version: SNAPSHOT_VERSION,
            monotonic_s: now.nanos() as f64 * 1e-9,
            uptime_s: (now - self.started).secs_f64(),
            transparent_clock: Some(TcView::of(&self.tc, &interfaces)),
            ..Snapshot::default()
        };
        control.publish(snapshot);
    }

    fn line(&mut self, severity: Severity, text: &str) {
        self.logger.log(severity, monotonic_now().nanos(), text);
    }

    /// Run until SIGINT/SIGTERM or until `duration` has passed.
    ///
    /// # Errors
    /// poll(2) failures.
    pub fn run(&mut self, duration: Option<Duration>) -> Result<TcSummary, DaemonError> {
        let start = monotonic_now();
        self.started = start;
        self.tc.enable(start);
        self.next_summary = start + self.summary_interval;
        let mode = match self.tc.config().mode {
            TcMode::EndToEnd => "end-to-end",
            TcMode::PeerToPeer => "peer-to-peer",
        };
        let labels: Vec<String> = self.ports.iter().map(|p| p.label.clone()).collect();
        let text = format!(
            "transparent clock ({mode}, domain {}) forwarding between {}",
            self.tc.config().domain_number,
            labels.join(", ")
        );
        self.line(Severity::Info, &text);
        self.transmit();
        let end = duration.map(|d| start + d);
        let mut buf = [0u8; 2048];
        let fds: Vec<(usize, std::os::fd::RawFd)> = self
            .ports
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.sockets.sockets().map(move |s| (i, s.as_raw_fd())))
            .collect();
        let raw: Vec<std::os::fd::RawFd> = fds.iter().map(|(_, fd)| *fd).collect();
        let mut ready = vec![Readiness::default(); raw.len()];
        let mut touched = Vec::new();
        loop {
            if stop_requested() {
                self.line(Severity::Info, "stopping on signal");
                break;
            }
            let now = monotonic_now();
            if end.is_some_and(|e| now >= e) {
                break;
            }
            let mut deadline = self
                .tc
                .poll_timeout()
                .unwrap_or(now + Duration::from_secs(1))
                .min(now + Duration::from_secs(1))
                .min(self.next_summary)
                .min(self.next_snapshot);
            if let Some(e) = end {
                deadline = deadline.min(e);
            }
            let wait = (deadline - now).nanos_floor().max(0);
            let timeout_ms = i32::try_from((wait + 999_999) / 1_000_000).unwrap_or(1000);
            ready.fill(Readiness::default());
            if !poll(&raw, timeout_ms, &mut ready)? {
                continue;
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
                self.drain_tx_timestamps(i, now);
                self.drain_received(i, now, &mut buf);
            }
            let now = monotonic_now();
            for i in 0..self.ports.len() {
                if !self.ports[i].tx.is_empty() {
                    self.drain_tx_timestamps(i, now);
                }
            }
            self.tc.handle_timeout(now);
            self.transmit();
            if now >= self.next_snapshot {
                self.next_snapshot = now + SNAPSHOT_PERIOD;
                self.publish(now);
            }
            if now >= self.next_summary {
                self.next_summary = now + self.summary_interval;
                let text = self.summary_line();
                self.line(Severity::Info, &text);
            }
        }
        let text = self.summary_line();
        self.line(Severity::Info, &text);
        self.publish(monotonic_now());
        Ok(TcSummary {
            counters: *self.tc.counters(),
            residence: *self.tc.residence(),
        })
    }

    /// What was forwarded, the residence times, and what was dropped, in
    /// one line.
    fn summary_line(&self) -> String {
        let c = self.tc.counters();
        let f = |t: MessageType| c.forwarded_by_type[usize::from(u8::from(t) & 0x0F)];
        let r = self.tc.residence();
        let mut text = format!(
            "tc: forwarded sync {} follow_up {} delay_req {} delay_resp {} announce {}; \
             corrected {}; residence",
            f(MessageType::Sync),
            f(MessageType::FollowUp),
            f(MessageType::DelayReq),
            f(MessageType::DelayResp),
            f(MessageType::Announce),
            c.corrected,
        );
        match r.mean_ns() {
            Some(mean) => text.push_str(&format!(
                " mean {mean:.0} ns min {:.0} ns max {:.0} ns over {}",
                r.min_ns, r.max_ns, r.count
            )),
            None => text.push_str(" none yet"),
        }
        if let Some(ratio) = self.tc.rate_ratio() {
            text.push_str(&format!("; rate ratio {:+.3} ppm", (ratio - 1.0) * 1e6));
        }
        for (i, p) in self.tc.ports().iter().enumerate() {
            if let Some(d) = p
                .mean_path_delay()
                .filter(|_| self.tc.config().mode == TcMode::PeerToPeer)
            {
                text.push_str(&format!("; link {} delay {:.0} ns", i + 1, d.nanos_f64()));
            }
        }
        text.push_str(&format!(
            "; dropped unmatched {} expired {} residence_unknown {} loops {} other_domain {} \
             malformed {} not_forwarded {} queue_full {}",
            c.unmatched,
            c.expired,
            c.residence_unknown,
            c.loops,
            c.other_domain,
            c.malformed,
            c.not_forwarded,
            c.queue_full
        ));
        text
    }

    fn drain_tx_timestamps(&mut self, i: usize, now: Instant) {
        let Some(port) = self.ports.get_mut(i) else {
            return;
        };
        while let Ok(Some(ts)) = port.sockets.recv_tx_timestamp() {
            let Some((ctx, kts)) = port.tx.resolve(&ts) else {
                continue;
            };
            self.tc
                .handle_send_timestamp(i, ctx, kts.time + port.egress_latency, now);
        }
    }

    fn drain_received(&mut self, i: usize, now: Instant, buf: &mut [u8]) {
        loop {
            let Some(port) = self.ports.get_mut(i) else {
                return;
            };
            let r = match port.sockets.recv(buf) {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    let text = format!("{}: receive error: {e}", port.label);
                    if let Some(l) = port.recv_errors.line(now, &text) {
                        self.line(Severity::Warning, &l);
                    }
                    break;
                }
            };
            let rx: Option<Time> = r.timestamp.map(|k| k.time - port.ingress_latency);
            let data = buf.get(..r.len).unwrap_or_default();
            // Counted by the transparent clock when dropped.
            let _ = self.tc.handle_receive(i, data, rx, now);
            self.transmit();
        }
    }

    /// Send everything the transparent clock has queued.
    fn transmit(&mut self) {
        let mut buf = [0u8; statime::tc::MAX_FORWARD_LEN];
        loop {
            let now = monotonic_now();
            let Some(result) = self.tc.poll_transmit(now, Time::EPOCH, &mut buf) else {
                break;
            };
            let Ok(t) = result else {
                continue;
            };
            let Some(port) = self.ports.get_mut(t.port) else {
                continue;
            };
            let data = buf.get(..t.len).unwrap_or_default();
            let destination = if t.destination == Destination::PeerDelay {
                Destination::PeerDelay
            } else {
                Destination::Primary
            };
            match port.sockets.send(data, destination, t.event) {
                Ok(out) => {
                    if let (Some(id), Some(ctx)) = (out.tx_id, t.context) {
                        port.tx.record(id, ctx);
                    }
                }
                Err(e) => {
                    let text = format!("{}: send error: {e}", port.label);
                    if let Some(l) = port.send_errors.line(now, &text) {
                        self.line(Severity::Warning, &l);
                    }
                }
            }
        }
    }
}
