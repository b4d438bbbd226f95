//! `unicast-load`: many unicast PTP clients (IEEE 1588-2019 clause 16.1)
//! against one server, from one process and two UDP sockets.
//!
//! Client `i` has the address `--base + i` (made local to the
//! generator's network namespace by `ip route add local 10.0.0.0/8 dev lo`)
//! and the identity `02:4c:47:<i>:01`, port 1. During the ramp-up the
//! clients ask, evenly spread, for Announce, Sync and Delay_Resp in one
//! Signaling message; once granted each sends one Delay_Req per second,
//! the clients' phases spread evenly over the second; a grant is renewed
//! when a quarter of it is left and a request unanswered for 3 s is sent
//! again. Every datagram received is counted per type; lost and late
//! responses are detected per client (a Delay_Resp missing when the next
//! Delay_Req is due, a Sync without its Follow_Up, gaps in the Sync
//! sequence, Syncs more than `--late-ms` off their 1 s rhythm).
//!
//! After ramp-up and warm-up it measures a steady-state window and prints
//! one `RESULT key=value ...` line (rates per second, fractions of what
//! was expected, its own and the server's CPU use).

mod net;
mod proto;
mod stats;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use crate::net::{Datagram, MAX_SEND, Receiver};
use crate::proto::{ALL, Addresses, DELAY_RESP, Request, Rx};
use crate::stats::{Counters, Histogram, Window};

/// Simulate unicast PTP clients against a server.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "192.168.77.1")]
    server: Ipv4Addr,
    /// Number of clients.
    #[arg(long, short = 'n')]
    clients: u32,
    /// The first client's address.
    #[arg(long, default_value = "10.1.0.0")]
    base: Ipv4Addr,
    /// Seconds over which the clients' first requests are spread
    /// (default: N / 20000, at least 5).
    #[arg(long)]
    ramp: Option<f64>,
    /// Seconds after the ramp-up before the window.
    #[arg(long, default_value_t = 5.0)]
    warmup: f64,
    /// Seconds of the steady-state window.
    #[arg(long, default_value_t = 20.0)]
    window: f64,
    /// durationField of the requests, seconds.
    #[arg(long, default_value_t = 300)]
    grant_duration: u32,
    /// logInterMessagePeriod asked for Announce.
    #[arg(long, default_value_t = 1)]
    log_announce: i8,
    /// PTP domain.
    #[arg(long, default_value_t = 0)]
    domain: u8,
    /// A response this much later than expected counts as late, ms.
    #[arg(long, default_value_t = 100)]
    late_ms: u64,
    /// The server's PID: its CPU time and RSS are sampled over the window.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Socket buffer sizes, octets.
    #[arg(long, default_value_t = 64 << 20)]
    buffer: usize,
    /// Seconds between progress lines (0: none).
    #[arg(long, default_value_t = 5.0)]
    progress: f64,
}

/// One simulated client.
#[derive(Clone, Copy, Default)]
struct Client {
    /// Services granted (bits of `proto`).
    granted: u8,
    /// When the last request went out, ms since start + 1 (0: never).
    requested_ms: u32,
    /// When the shortest grant ends, ms since start.
    grant_until_ms: u32,
    /// Next Delay_Req sequenceId.
    dr_seq: u16,
    /// The Delay_Req awaiting its Delay_Resp: sent at, µs since start.
    dr_outstanding: Option<u64>,
    /// The last Sync's sequenceId and arrival (µs), its Follow_Up not yet seen.
    sync_pending: Option<(u16, u64)>,
    /// The last Sync's sequenceId and arrival, µs.
    last_sync: Option<(u16, u64)>,
    /// A Follow_Up read before its Sync (they come on different sockets,
    /// read one after the other): its sequenceId.
    fu_early: Option<u16>,
}

struct Generator {
    args: Args,
    addrs: Addresses,
    request: Request,
    clients: Vec<Client>,
    start: Instant,
    c: Counters,
    dr_latency: Histogram,
    fu_latency: Histogram,
    sync_interval_err: Histogram,
    out_event: Vec<Datagram>,
    out_general: Vec<Datagram>,
    signaling_seq: u16,
}

impl Generator {
    fn now_us(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn queue(&mut self, i: u32, event: bool, write: impl FnOnce(&mut [u8]) -> Option<usize>) {
        let mut data = [0u8; MAX_SEND];
        let Some(len) = write(&mut data) else {
            self.c.build_errors += 1;
            return;
        };
        let d = Datagram {
            src: self.addrs.ip(i),
            dst: SocketAddrV4::new(self.args.server, if event { 319 } else { 320 }),
            len,
            data,
        };
        if event {
            self.out_event.push(d);
        } else {
            self.out_general.push(d);
        }
    }

    fn send_request(&mut self, i: u32, now_ms: u32) {
        let seq = self.signaling_seq;
        self.signaling_seq = seq.wrapping_add(1);
        let (domain, r) = (self.args.domain, self.request);
        self.queue(i, false, |b| {
            proto::write_request(i, seq, domain, &r, b).ok()
        });
        if let Some(c) = self.clients.get_mut(i as usize) {
            if c.requested_ms != 0 {
                self.c.re_requests += 1;
            }
            c.requested_ms = now_ms.saturating_add(1);
        }
        self.c.requests += 1;
    }

    /// Client `i`'s once-a-second turn.
    fn tick(&mut self, i: u32, now_us: u64) {
        let now_ms = u32::try_from(now_us / 1000).unwrap_or(u32::MAX);
        let Some(c) = self.clients.get(i as usize).copied() else {
            return;
        };
        if c.requested_ms == 0 {
            return; // not reached by the ramp-up yet
        }
        let quarter = self.args.grant_duration.saturating_mul(250);
        let all = c.granted & ALL == ALL;
        let waited = now_ms.saturating_sub(c.requested_ms - 1);
        let renew = !all || c.grant_until_ms.saturating_sub(now_ms) < quarter;
        if renew && waited > 3000 {
            self.send_request(i, now_ms);
        }
        if c.granted & DELAY_RESP != 0 && c.grant_until_ms > now_ms {
            if c.dr_outstanding.is_some() {
                self.c.delay_resp_lost += 1;
            }
            let seq = c.dr_seq;
            let domain = self.args.domain;
            self.queue(i, true, |b| proto::write_delay_req(i, seq, domain, b).ok());
            self.c.delay_reqs += 1;
            if let Some(c) = self.clients.get_mut(i as usize) {
                c.dr_seq = seq.wrapping_add(1);
                c.dr_outstanding = Some(now_us);
            }
        }
    }

    fn receive(&mut self, data: &[u8], dst: Option<Ipv4Addr>, now_us: u64) {
        let Some(i) = dst.and_then(|d| self.addrs.index(d)) else {
            self.c.unknown_destination += 1;
            return;
        };
        let (rx, unicast) = proto::parse(data);
        if !unicast {
            self.c.no_unicast_flag += 1;
        }
        let late_us = self.args.late_ms * 1000;
        let now_ms = u32::try_from(now_us / 1000).unwrap_or(u32::MAX);
        let Some(c) = self.clients.get_mut(i as usize) else {
            return;
        };
        match rx {
            Rx::Grants {
                granted,
                denied,
                duration,
                target,
            } => {
                self.c.signaling += 1;
                self.c.granted_tlvs += u64::from(granted.count_ones());
                self.c.denied_tlvs += u64::from(denied.count_ones());
                if proto::index_of(target) != Some(i) {
                    self.c.misrouted += 1;
                }
                if granted != 0 {
                    let was_all = c.granted & ALL == ALL;
                    c.granted |= granted;
                    c.granted &= !denied;
                    let until = now_ms.saturating_add(duration.saturating_mul(1000));
                    c.grant_until_ms = if was_all || c.grant_until_ms == 0 {
                        until
                    } else {
                        c.grant_until_ms.min(until)
                    };
                    if !was_all && c.granted & ALL == ALL {
                        self.c.clients_granted += 1;
                    }
                } else {
                    c.granted &= !denied;
                }
            }
            Rx::Announce => self.c.announces += 1,
            Rx::Sync(seq) => {
                self.c.syncs += 1;
                if c.sync_pending.is_some() {
                    self.c.follow_up_missing += 1;
                }
                if let Some((last, at)) = c.last_sync {
                    let gap = seq.wrapping_sub(last);
                    if gap > 1 && gap < 0x8000 {
                        self.c.sync_gaps += u64::from(gap - 1);
                    }
                    let dt = now_us.saturating_sub(at);
                    let err = dt.abs_diff(1_000_000);
                    self.sync_interval_err.add(err);
                    if gap == 1 && err > late_us {
                        self.c.sync_late += 1;
                    }
                }
                c.last_sync = Some((seq, now_us));
                match c.fu_early.take() {
                    Some(s) if s == seq => self.fu_latency.add(0),
                    Some(_) => {
                        self.c.follow_up_unmatched += 1;
                        c.sync_pending = Some((seq, now_us));
                    }
                    None => c.sync_pending = Some((seq, now_us)),
                }
            }
            Rx::FollowUp(seq) => {
                self.c.follow_ups += 1;
                match c.sync_pending.take() {
                    Some((s, at)) if s == seq => self.fu_latency.add(now_us.saturating_sub(at)),
                    // Its Sync may still be unread on the event socket.
                    None if c.fu_early.is_none() => c.fu_early = Some(seq),
                    _ => self.c.follow_up_unmatched += 1,
                }
            }
            Rx::DelayResp {
                sequence_id,
                requester,
            } => {
                self.c.delay_resps += 1;
                if proto::index_of(requester) != Some(i) {
                    self.c.misrouted += 1;
                }
                match c.dr_outstanding {
                    Some(at) if c.dr_seq.wrapping_sub(1) == sequence_id => {
                        c.dr_outstanding = None;
                        let l = now_us.saturating_sub(at);
                        self.dr_latency.add(l);
                        if l > late_us {
                            self.c.delay_resp_late += 1;
                        }
                    }
                    _ => self.c.delay_resp_unmatched += 1,
                }
            }
            Rx::Other => self.c.other += 1,
        }
    }

    fn clients_with(&self, mask: u8) -> u64 {
        self.clients
            .iter()
            .filter(|c| c.granted & mask == mask)
            .count() as u64
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("unicast-load: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> std::io::Result<()> {
    let n = args.clients.max(1);
    let addrs = Addresses::new(args.base, n)
        .ok_or_else(|| std::io::Error::other("too many clients from that base address"))?;
    let event = net::open(319, args.buffer)?;
    let general = net::open(320, args.buffer)?;
    let ramp = args.ramp.unwrap_or((f64::from(n) / 20_000.0).max(5.0));
    let window_start = ramp + args.warmup;
    let end = window_start + args.window;
    let request = Request {
        mask: ALL,
        log_announce: args.log_announce,
        log_sync: 0,
        log_delay_resp: 0,
        duration: args.grant_duration,
    };
    let progress = args.progress;
    let server_pid = args.server_pid;
    eprintln!(
        "unicast-load: {n} clients {}..{} -> {}, ramp {ramp:.1} s, warm-up {:.1} s, window {:.1} s",
        addrs.ip(0),
        addrs.ip(n - 1),
        args.server,
        args.warmup,
        args.window
    );
    let mut g = Generator {
        args,
        addrs,
        request,
        clients: vec![Client::default(); n as usize],
        start: Instant::now(),
        c: Counters::default(),
        dr_latency: Histogram::default(),
        fu_latency: Histogram::default(),
        sync_interval_err: Histogram::default(),
        out_event: Vec::with_capacity(4096),
        out_general: Vec::with_capacity(4096),
        signaling_seq: 0,
    };
    let mut rx_event = Receiver::new();
    let mut rx_general = Receiver::new();
    let (mut ramp_next, mut tick_next) = (0u64, 0u64);
    let mut window: Option<Window> = None;
    let mut last_progress = (0.0f64, Counters::default());
    let n64 = u64::from(n);
    loop {
        let t = g.start.elapsed().as_secs_f64();
        if t >= end {
            break;
        }
        let now_us = g.now_us();
        let now_ms = u32::try_from(now_us / 1000).unwrap_or(u32::MAX);
        // Ramp-up: client k's first request at k/N of the ramp.
        let ramp_target = ((t / ramp * f64::from(n)) as u64).min(n64);
        while ramp_next < ramp_target {
            g.send_request(u32::try_from(ramp_next).unwrap_or(0), now_ms);
            ramp_next += 1;
        }
        // Each client's turn once a second, at phase i/N.
        let tick_target = (t * f64::from(n)) as u64;
        while tick_next < tick_target {
            g.tick(u32::try_from(tick_next % n64).unwrap_or(0), now_us);
            tick_next += 1;
        }
        let queued = (g.out_event.len() + g.out_general.len()) as u64;
        let sent_e = net::send_batch(event.as_fd(), &g.out_event)?;
        let sent_g = net::send_batch(general.as_fd(), &g.out_general)?;
        g.c.send_failed += queued - (sent_e + sent_g) as u64;
        g.out_event.clear();
        g.out_general.clear();

        if window.is_none() && t >= window_start {
            window = Some(Window::open(&g.c, server_pid, g.clients_with(ALL)));
            g.dr_latency = Histogram::default();
            g.fu_latency = Histogram::default();
            g.sync_interval_err = Histogram::default();
            eprintln!("unicast-load: window opens at {t:.1} s");
        }
        net::wait_readable([event.as_fd(), general.as_fd()], 1)?;
        for _ in 0..64 {
            let now_us = g.now_us();
            let a = rx_event.recv_batch(event.as_fd(), |d, dst| g.receive(d, dst, now_us))?;
            let now_us = g.now_us();
            let b = rx_general.recv_batch(general.as_fd(), |d, dst| g.receive(d, dst, now_us))?;
            if a + b == 0 {
                break;
            }
        }
        g.c.rx_dropped = u64::from(rx_event.dropped) + u64::from(rx_general.dropped);
        if progress > 0.0 && t - last_progress.0 >= progress {
            let d = g.c.minus(&last_progress.1);
            let dt = t - last_progress.0;
            eprintln!(
                "t={t:6.1}s granted-clients {:>8} rx/s: sync {:>9.0} fu {:>9.0} ann {:>9.0} dresp {:>9.0} sig {:>7.0} | tx/s: dreq {:>9.0} req {:>7.0} | lost dresp {} fu {} sync-gaps {} | rx-drops {} send-fail {}",
                g.c.clients_granted,
                d.syncs as f64 / dt,
                d.follow_ups as f64 / dt,
                d.announces as f64 / dt,
                d.delay_resps as f64 / dt,
                d.signaling as f64 / dt,
                d.delay_reqs as f64 / dt,
                d.requests as f64 / dt,
                d.delay_resp_lost,
                d.follow_up_missing,
                d.sync_gaps,
                d.rx_dropped,
                d.send_failed
            );
            last_progress = (t, g.c);
        }
    }
    let Some(w) = window else {
        return Err(std::io::Error::other("the run ended before the window"));
    };
    let now_clients = g.clients_with(ALL);
    let announce_per_s = 2f64.powi(-i32::from(g.args.log_announce));
    let r = w.close(&g.c, server_pid, n, now_clients, announce_per_s);
    println!(
        "{} dresp_lat_us_p50={} dresp_lat_us_p99={} dresp_lat_us_max={} fu_lat_us_p50={} fu_lat_us_p99={} fu_lat_us_max={} sync_interval_err_us_p99={} sync_interval_err_us_max={}",
        r.line(),
        g.dr_latency.quantile(0.5),
        g.dr_latency.quantile(0.99),
        g.dr_latency.max,
        g.fu_latency.quantile(0.5),
        g.fu_latency.quantile(0.99),
        g.fu_latency.max,
        g.sync_interval_err.quantile(0.99),
        g.sync_interval_err.max,
    );
    Ok(())
}
