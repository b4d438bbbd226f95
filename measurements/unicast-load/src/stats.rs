//! Counters, a latency histogram and the steady-state window's report.

use std::time::Instant;

use crate::net::{process_usage, sched_times};

/// Everything counted since the start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Signaling requests sent (first ones, renewals and retries).
    pub(crate) requests: u64,
    /// Requests after the first of a client (renewals, retries).
    pub(crate) re_requests: u64,
    /// Delay_Req sent.
    pub(crate) delay_reqs: u64,
    /// Datagrams the kernel did not take (full send buffer).
    pub(crate) send_failed: u64,
    /// Messages that could not be written (a bug).
    pub(crate) build_errors: u64,
    /// Signaling received.
    pub(crate) signaling: u64,
    /// GRANT TLVs with a nonzero duration.
    pub(crate) granted_tlvs: u64,
    /// GRANT TLVs with duration 0 (denied).
    pub(crate) denied_tlvs: u64,
    /// Clients that hold all three grants (counted when they get them).
    pub(crate) clients_granted: u64,
    /// Announce received.
    pub(crate) announces: u64,
    /// Sync received.
    pub(crate) syncs: u64,
    /// Follow_Up received.
    pub(crate) follow_ups: u64,
    /// Delay_Resp received.
    pub(crate) delay_resps: u64,
    /// Anything else received.
    pub(crate) other: u64,
    /// Datagrams to an address that is not a client's.
    pub(crate) unknown_destination: u64,
    /// Messages without the unicastFlag.
    pub(crate) no_unicast_flag: u64,
    /// Delay_Resp or Signaling naming another client than the one whose
    /// address it was sent to.
    pub(crate) misrouted: u64,
    /// Delay_Req without a Delay_Resp when the client's next was due.
    pub(crate) delay_resp_lost: u64,
    /// Delay_Resp later than the late threshold.
    pub(crate) delay_resp_late: u64,
    /// Delay_Resp for no outstanding Delay_Req (a duplicate, or too late).
    pub(crate) delay_resp_unmatched: u64,
    /// A Sync whose Follow_Up had not come when the next Sync came.
    pub(crate) follow_up_missing: u64,
    /// A Follow_Up with no Sync of its sequenceId waiting.
    pub(crate) follow_up_unmatched: u64,
    /// Syncs missing from a client's sequence.
    pub(crate) sync_gaps: u64,
    /// Syncs more than the late threshold off the 1 s rhythm.
    pub(crate) sync_late: u64,
    /// Datagrams the kernel dropped at the generator's sockets
    /// (SO_RXQ_OVFL).
    pub(crate) rx_dropped: u64,
}

macro_rules! minus {
    ($a:ident, $b:ident, $($f:ident),*) => {
        Counters { $($f: $a.$f.saturating_sub($b.$f)),* }
    };
}

impl Counters {
    /// The counts since `earlier`.
    pub(crate) fn minus(&self, earlier: &Self) -> Self {
        minus!(
            self,
            earlier,
            requests,
            re_requests,
            delay_reqs,
            send_failed,
            build_errors,
            signaling,
            granted_tlvs,
            denied_tlvs,
            clients_granted,
            announces,
            syncs,
            follow_ups,
            delay_resps,
            other,
            unknown_destination,
            no_unicast_flag,
            misrouted,
            delay_resp_lost,
            delay_resp_late,
            delay_resp_unmatched,
            follow_up_missing,
            follow_up_unmatched,
            sync_gaps,
            sync_late,
            rx_dropped
        )
    }
}

/// A histogram of microsecond values: four buckets per power of two.
#[derive(Clone, Debug)]
pub(crate) struct Histogram {
    buckets: [u64; 256],
    count: u64,
    /// The largest value seen.
    pub(crate) max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: [0; 256],
            count: 0,
            max: 0,
        }
    }
}

fn bucket(x: u64) -> usize {
    if x < 4 {
        return x as usize;
    }
    let msb = 63 - x.leading_zeros() as usize;
    msb * 4 + ((x >> (msb - 2)) & 3) as usize
}

fn upper(b: usize) -> u64 {
    if b < 4 {
        return b as u64;
    }
    let (msb, sub) = (b / 4, (b % 4) as u64);
    ((4 + sub + 1) << (msb - 2)) - 1
}

impl Histogram {
    pub(crate) fn add(&mut self, x: u64) {
        if let Some(b) = self.buckets.get_mut(bucket(x)) {
            *b += 1;
        }
        self.count += 1;
        self.max = self.max.max(x);
    }

    /// The upper edge of the bucket holding quantile `q` (0 when empty).
    pub(crate) fn quantile(&self, q: f64) -> u64 {
        let want = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (b, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= want && self.count > 0 {
                return upper(b).min(self.max);
            }
        }
        0
    }
}

/// The steady-state window: what was counted and used when it opened.
pub(crate) struct Window {
    at: Instant,
    counters: Counters,
    own: Option<(f64, u64)>,
    server: Option<(f64, u64)>,
    server_sched: Option<(f64, f64)>,
    served: u64,
}

/// What the window measured.
pub(crate) struct Report {
    fields: Vec<(&'static str, String)>,
}

impl Report {
    /// `RESULT key=value ...`.
    pub(crate) fn line(&self) -> String {
        let mut s = String::from("RESULT");
        for (k, v) in &self.fields {
            s.push(' ');
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        }
        s
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

impl Window {
    /// Open the window now: `served` clients hold all three grants.
    pub(crate) fn open(c: &Counters, server_pid: Option<u32>, served: u64) -> Self {
        Self {
            at: Instant::now(),
            counters: *c,
            own: process_usage(std::process::id()),
            server: server_pid.and_then(process_usage),
            server_sched: server_pid.and_then(sched_times),
            served,
        }
    }

    /// Close it: the rates, fractions and CPU use over the window.
    /// `announce_per_s` is the Announce rate granted to each client.
    pub(crate) fn close(
        &self,
        c: &Counters,
        server_pid: Option<u32>,
        clients: u32,
        served_now: u64,
        announce_per_s: f64,
    ) -> Report {
        let dt = self.at.elapsed().as_secs_f64();
        let d = c.minus(&self.counters);
        let rate = |n: u64| n as f64 / dt;
        let own = process_usage(std::process::id());
        let server = server_pid.and_then(process_usage);
        let cpu = |a: Option<(f64, u64)>, b: Option<(f64, u64)>| match (a, b) {
            (Some((x, _)), Some((y, _))) => 100.0 * (y - x) / dt,
            _ => f64::NAN,
        };
        let gen_cpu = cpu(self.own, own);
        let srv_cpu = cpu(self.server, server);
        let srv_rss = server.map_or(0, |(_, r)| r);
        let sched = match (self.server_sched, server_pid.and_then(sched_times)) {
            (Some((r0, w0)), Some((r1, w1))) => (100.0 * (r1 - r0) / dt, 100.0 * (w1 - w0) / dt),
            _ => (f64::NAN, f64::NAN),
        };
        let served = self.served as f64;
        let (sync, fu, ann, dresp, sig, dreq) = (
            rate(d.syncs),
            rate(d.follow_ups),
            rate(d.announces),
            rate(d.delay_resps),
            rate(d.signaling),
            rate(d.delay_reqs),
        );
        let server_tx = sync + fu + ann + dresp + sig;
        let exchanges = fu.min(dresp);
        let cores = srv_cpu / 100.0;
        let mut fields: Vec<(&'static str, String)> = Vec::new();
        let mut put = |k: &'static str, v: String| fields.push((k, v));
        put("clients", clients.to_string());
        put("served_start", self.served.to_string());
        put("served_end", served_now.to_string());
        put("window_s", format!("{dt:.1}"));
        put("sync_ps", format!("{sync:.0}"));
        put("fu_ps", format!("{fu:.0}"));
        put("ann_ps", format!("{ann:.0}"));
        put("dresp_ps", format!("{dresp:.0}"));
        put("sig_ps", format!("{sig:.0}"));
        put("dreq_ps", format!("{dreq:.0}"));
        put("server_tx_ps", format!("{server_tx:.0}"));
        put("sync_frac", format!("{:.4}", ratio(sync, served)));
        put("fu_frac", format!("{:.4}", ratio(fu, served)));
        put(
            "ann_frac",
            format!("{:.4}", ratio(ann, served * announce_per_s)),
        );
        put("dresp_frac", format!("{:.4}", ratio(dresp, dreq)));
        put("exchanges_ps", format!("{exchanges:.0}"));
        put("srv_cpu_pct", format!("{srv_cpu:.1}"));
        put("gen_cpu_pct", format!("{gen_cpu:.1}"));
        put("srv_main_run_pct", format!("{:.1}", sched.0));
        put("srv_main_runq_wait_pct", format!("{:.1}", sched.1));
        put("srv_rss_kb", srv_rss.to_string());
        put(
            "exchanges_per_core",
            format!("{:.0}", ratio(exchanges, cores)),
        );
        put(
            "srv_pkts_per_core",
            format!("{:.0}", ratio(server_tx + dreq, cores)),
        );
        put("dresp_lost", d.delay_resp_lost.to_string());
        put("dresp_late", d.delay_resp_late.to_string());
        put("dresp_unmatched", d.delay_resp_unmatched.to_string());
        put("fu_missing", d.follow_up_missing.to_string());
        put("fu_unmatched", d.follow_up_unmatched.to_string());
        put("sync_gaps", d.sync_gaps.to_string());
        put("sync_late", d.sync_late.to_string());
        put("denied", d.denied_tlvs.to_string());
        put("re_requests", d.re_requests.to_string());
        put("misrouted", d.misrouted.to_string());
        put("no_unicast_flag", d.no_unicast_flag.to_string());
        put("unknown_dst", d.unknown_destination.to_string());
        put("other", d.other.to_string());
        put("gen_rx_dropped", d.rx_dropped.to_string());
        put("gen_send_failed", d.send_failed.to_string());
        Report { fields }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_bucket_edges() {
        let mut h = Histogram::default();
        for x in 1..=1000 {
            h.add(x);
        }
        let p50 = h.quantile(0.5);
        assert!((500..=640).contains(&p50), "{p50}");
        assert_eq!(h.quantile(1.0), 1000);
        assert_eq!(Histogram::default().quantile(0.5), 0);
        for x in [0, 3, 4, 5, 7, 8, 100, 1 << 40] {
            assert!(upper(bucket(x)) >= x, "{x}");
        }
    }

    #[test]
    fn counters_subtract() {
        let a = Counters {
            syncs: 10,
            delay_reqs: 4,
            ..Counters::default()
        };
        let b = Counters {
            syncs: 25,
            delay_reqs: 9,
            ..a
        };
        let d = b.minus(&a);
        assert_eq!((d.syncs, d.delay_reqs, d.requests), (15, 5, 0));
    }
}
