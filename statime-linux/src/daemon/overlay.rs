//! The overlay in the daemon (`[overlay]`): one PTP instance per extra
//! domain, each domain's master a source for the [`bft_overlay::Guard`],
//! and the rule deciding which instance's samples may steer the clock.
//!
//! Instance index 0 is the top-level `domain` (the one management answers
//! for); index `k >= 1` is `[overlay] domains[k - 1]`. Overlay peers
//! (`[[overlay.peer]]`, driven by [`super::peers`]) are sources too, named
//! by their node id: they are intersected and judged like the domains, but
//! never selected, so the servo follows PTP domains only.

use bft_overlay::{
    BoundAssumptions, Event, Guard, GuardConfig, GuardStatus, QuarantineChange, QuarantinePolicy,
    Round, SourceSample, clock_accuracy_ns,
};
use statime::datasets::{DefaultDS, TimePropertiesDS};
use statime::instance::{InstanceEvent, PtpInstance};
use statime::port::PortConfig;
use statime::time::Time;

use super::run::MAX_PORTS;
use crate::config::{Config, OverlayMode};
use crate::observe::snapshot::{OverlayView, SourceView};

/// One extra PTP instance.
pub struct Extra {
    /// Its domainNumber.
    pub domain: u8,
    /// The instance.
    pub instance: PtpInstance<MAX_PORTS>,
}

/// A source of the guard: a PTP instance (by index) or an overlay peer
/// (by node id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceId {
    /// The master of instance `k`'s domain.
    Domain(usize),
    /// The overlay peer with this node id.
    Peer(u64),
}

/// The overlay state of a daemon.
pub struct Overlay {
    mode: OverlayMode,
    /// Domain of each instance index (0 = the top-level domain).
    domains: Vec<u8>,
    /// The instances of the extra domains.
    pub extra: Vec<Extra>,
    guard: Guard<SourceId>,
    /// An instance gave whole E2E exchanges (their own path delay bounds
    /// the offset exactly); its per-Sync samples are then not used.
    exchanges_seen: Vec<bool>,
    last: Option<Round<SourceId>>,
    /// `[overlay] max-age`, ns.
    max_age_ns: u64,
    /// Samples not passed to the servo because their source was not the
    /// selected one.
    pub withheld: u64,
}

/// What the daemon should say after a round.
#[derive(Debug, Default)]
pub struct Said {
    /// Log lines (verdict changes, switches, loss of quorum).
    pub lines: Vec<String>,
    /// In guarded mode the guard stopped following anyone this round: the
    /// clock must hold over (no sample steers it until one is selected).
    pub hold: bool,
}

impl Overlay {
    /// The overlay `config` asks for, with the extra instances built from
    /// the same defaultDS, timePropertiesDS and ports as the top-level one;
    /// `None` when `[overlay] mode = "off"`.
    #[must_use]
    pub fn new(
        config: &Config,
        default_ds: &DefaultDS,
        time_properties: &TimePropertiesDS,
        ports: &[PortConfig],
    ) -> Option<Self> {
        let o = &config.overlay;
        if !o.enabled() {
            return None;
        }
        let extra: Vec<Extra> = o
            .domains
            .iter()
            .filter(|&&d| d != config.domain)
            .map(|&domain| {
                let mut ds = *default_ds;
                ds.domain_number = domain;
                Extra {
                    domain,
                    instance: PtpInstance::new(ds, *time_properties, ports.iter().copied()),
                }
            })
            .collect();
        let mut domains = vec![config.domain];
        domains.extend(extra.iter().map(|e| e.domain));
        let mut guard = Guard::new(GuardConfig {
            faults: usize::from(o.faults),
            assumptions: BoundAssumptions {
                asymmetry_ns: o.asymmetry_bound.as_nanos().unsigned_abs(),
                max_drift_ppb: (o.max_drift * 1000.0).round().max(0.0) as u64,
            },
            max_age_ns: o.max_age.as_nanos().unsigned_abs(),
            // Per-exchange path delays jitter by a factor of two with
            // software time stamps: switch between valid sources only for
            // a much narrower one.
            switch_below_percent: 25,
        });
        // The servo takes samples from PTP instances only: peers cross-check.
        guard.set_followable(|id| matches!(id, SourceId::Domain(_)));
        // Judge each source by its last few samples (sound, and narrower:
        // a liar walking across the edge of the honest bound is seen
        // within a poll or two), and leave a valid selection only for a
        // source that stays much narrower for a few rounds (no churn
        // between narrow sources at the edge of the intersection).
        guard.set_history_depth(o.history_depth);
        guard.set_switch_persistence(o.switch_persistence);
        // Judge each source also at its own exchange's completion, where
        // its interval is not widened by its age (`observe` is followed by
        // `evaluate` in the same tick, so the guard dates the completion).
        guard.set_judge_at_completion(o.judge_at_completion);
        let after = o.quarantine_after.as_nanos();
        guard.set_quarantine((after > 0).then(|| QuarantinePolicy {
            after_ns: after.unsigned_abs(),
            readmit_after_ns: o.readmit_after.as_nanos().unsigned_abs(),
        }));
        Some(Self {
            mode: o.mode,
            exchanges_seen: vec![false; domains.len()],
            max_age_ns: o.max_age.as_nanos().unsigned_abs(),
            domains,
            extra,
            guard,
            last: None,
            withheld: 0,
        })
    }

    /// The instance a received message belongs to, by its domainNumber
    /// (octet 4 of the common header); unknown domains go to instance 0,
    /// which counts and drops them.
    #[must_use]
    pub fn route(&self, data: &[u8]) -> usize {
        data.get(4)
            .and_then(|d| self.domains.iter().position(|x| x == d))
            .unwrap_or(0)
    }

    /// The number of instances (1 + extra domains).
    #[must_use]
    pub fn instances(&self) -> usize {
        self.domains.len()
    }

    /// The domain of instance `k`.
    #[must_use]
    pub fn domain(&self, k: usize) -> u8 {
        self.domains.get(k).copied().unwrap_or(0)
    }

    /// Record a measurement of instance `k` (with the grandmaster clock
    /// accuracy code it advertises) as a source sample; true when it was
    /// one. `local_now` is the local PTP clock read at `now_ns` (`None`
    /// when it could not be read).
    ///
    /// The sample is dated `now - 2 x (local_now - ingress)`: never later
    /// than the Sync's arrival t2 (for an exchange `ingress` is the
    /// midpoint of t2 and t3, and t3 <= now), so the drift term of the
    /// bound also covers what the local clock did during the exchange and
    /// since. Dating it at completion let the servo's slew between t2 and
    /// now escape the bound (seen in the overlay simulator on
    /// sub-microsecond paths). Without a clock reading the sample is dated
    /// one max-age back, the most pessimistic date the guard still uses.
    pub fn observe(
        &mut self,
        k: usize,
        e: &InstanceEvent,
        accuracy: u8,
        now_ns: u64,
        local_now: Option<Time>,
    ) -> bool {
        let (m, delay) = match *e {
            InstanceEvent::Exchange { measurement, .. } => {
                if let Some(seen) = self.exchanges_seen.get_mut(k) {
                    *seen = true;
                }
                (measurement, measurement.raw_path_delay)
            }
            InstanceEvent::Measurement { measurement, .. }
                if !self.exchanges_seen.get(k).copied().unwrap_or(false) =>
            {
                (measurement, measurement.mean_path_delay)
            }
            _ => return false,
        };
        let sample = SourceSample {
            offset_ns: i64::try_from(-m.offset.nanos_floor()).unwrap_or(i64::MAX),
            path_delay_ns: i64::try_from(delay.nanos_floor()).unwrap_or(i64::MAX),
            advertised_error_ns: clock_accuracy_ns(accuracy).unwrap_or(0),
            measured_at_ns: measured_at(now_ns, local_now, m.ingress, self.max_age_ns),
        };
        self.guard.observe(SourceId::Domain(k), sample);
        true
    }

    /// Record a measurement of overlay peer `peer` (from the peer layer,
    /// already dated on the monotonic time line).
    pub fn observe_peer(&mut self, peer: u64, sample: SourceSample) {
        self.guard.observe(SourceId::Peer(peer), sample);
    }

    /// The name of a source in logs and the snapshot: `domain D` or
    /// `peer N`.
    #[must_use]
    pub fn name(&self, id: SourceId) -> String {
        match id {
            SourceId::Domain(k) => format!("domain {}", self.domain(k)),
            SourceId::Peer(p) => format!("peer {p}"),
        }
    }

    /// The servo now applies `ppb` (from `now_ns` on): the guard widens
    /// the intervals by the range of the settings over max-age.
    pub fn note_frequency(&mut self, now_ns: u64, ppb: f64) {
        // Float to integer: saturating; the guard adds 1 ppb for rounding.
        #[allow(clippy::cast_possible_truncation)]
        self.guard.note_local_frequency(now_ns, ppb.round() as i64);
    }

    /// Intersect, classify and select at `now_ns`; the lines to log.
    pub fn evaluate(&mut self, now_ns: u64) -> Said {
        let round = self.guard.evaluate(now_ns);
        let mut said = Said::default();
        for ev in &round.events {
            let line = match *ev {
                Event::BecameFalseticker { id, reason, .. } => {
                    format!("overlay: {} is a falseticker: {reason}", self.name(id))
                }
                Event::BecameTruechimer { id, .. } => {
                    format!("overlay: {} is a truechimer", self.name(id))
                }
            };
            said.lines.push(line);
        }
        for q in &round.quarantine {
            let line = match *q {
                QuarantineChange::Quarantined {
                    id,
                    falseticker_since,
                } => format!(
                    "overlay: {} quarantined: a falseticker for {:.0} s; never followed until it \
                     agrees again for {:.0} s",
                    self.name(id),
                    now_ns.saturating_sub(falseticker_since) as f64 / 1e9,
                    self.guard
                        .quarantine_policy()
                        .map_or(0.0, |p| p.readmit_after_ns as f64 / 1e9)
                ),
                QuarantineChange::Readmitted { id, quarantined_at } => format!(
                    "overlay: {} re-admitted after {:.0} s in quarantine: it agreed long enough",
                    self.name(id),
                    now_ns.saturating_sub(quarantined_at) as f64 / 1e9
                ),
            };
            said.lines.push(line);
        }
        said.hold = self.mode == OverlayMode::Guarded
            && round.selected.is_none()
            && matches!(round.switched, Some(Some(_)));
        if let Some(from) = round.switched {
            let describe =
                |s: Option<SourceId>| s.map_or_else(|| "nobody".to_owned(), |k| self.name(k));
            said.lines.push(format!(
                "overlay: following {} instead of {} ({} switches)",
                describe(round.selected),
                describe(from),
                self.guard.switches()
            ));
        }
        let lost = |r: &Round<SourceId>| r.status != GuardStatus::Agreement;
        if lost(&round) && !self.last.as_ref().is_some_and(lost) {
            said.lines.push(format!(
                "overlay: no quorum ({}): holding over",
                status_text(round.status)
            ));
        }
        self.last = Some(round);
        said
    }

    /// Whether samples of instance `k` may steer the clock now.
    #[must_use]
    pub fn steers(&self, k: usize) -> bool {
        match self.mode {
            OverlayMode::Off | OverlayMode::Monitor => k == 0,
            OverlayMode::Guarded => self.guard.selected() == Some(SourceId::Domain(k)),
        }
    }

    /// The clock was stepped: every stored offset is stale.
    pub fn clock_stepped(&mut self) {
        self.guard.clear_samples();
    }

    /// Verdict of instance `k` in the last round: `Some(true)` truechimer,
    /// `Some(false)` falseticker, `None` unknown.
    #[must_use]
    pub fn is_truechimer(&self, k: usize) -> Option<bool> {
        self.last
            .as_ref()?
            .sources
            .iter()
            .find(|s| s.id == SourceId::Domain(k))?
            .verdict
            .map(|v| v.is_truechimer())
    }

    /// The last round's intersection as (offset of true time from the
    /// local clock at the midpoint, half-width), ns; `None` without
    /// agreement.
    #[must_use]
    pub fn published_interval(&self) -> Option<(i64, u64)> {
        let x = self.last.as_ref()?.intersection?;
        Some((x.midpoint(), x.half_width()))
    }

    /// The view for the snapshot.
    #[must_use]
    pub fn view(&self) -> OverlayView {
        let Some(r) = &self.last else {
            return OverlayView {
                status: "starting".into(),
                mode: mode_name(self.mode).into(),
                ..OverlayView::default()
            };
        };
        let sources = r
            .sources
            .iter()
            .map(|s| SourceView {
                name: self.name(s.id),
                state: match s.verdict {
                    _ if s.quarantined => "quarantined",
                    Some(v) if v.is_truechimer() => "truechimer",
                    Some(_) => "falseticker",
                    None => "unjudged",
                }
                .into(),
                offset_s: s.interval.midpoint() as f64 / 1e9,
                bound_s: s.interval.half_width() as f64 / 1e9,
            })
            .collect();
        OverlayView {
            status: status_text(r.status),
            mode: mode_name(self.mode).into(),
            sources,
            selected: r.selected.map(|k| self.name(k)),
            switches: self.guard.switches(),
            withheld: self.withheld,
            intersection_s: r
                .intersection
                .map(|x| (x.lower() as f64 / 1e9, x.upper() as f64 / 1e9)),
            peers: None,
        }
    }
}

/// When a sample measured with its Sync received at local time `ingress`
/// (or the t2/t3 midpoint) counts as taken, on the monotonic time line:
/// `now - 2 x (local_now - ingress)`, which is at or before t2; one
/// `max_age` back (the oldest date the guard still uses) when the clock
/// could not be read or the reading is before `ingress` (a step, or a
/// clock going backwards).
fn measured_at(now_ns: u64, local_now: Option<Time>, ingress: Time, max_age_ns: u64) -> u64 {
    let pessimistic = now_ns.saturating_sub(max_age_ns);
    let Some(local_now) = local_now else {
        return pessimistic;
    };
    let since = (local_now - ingress).nanos_floor();
    if since < 0 {
        return pessimistic;
    }
    let back = u64::try_from(since.saturating_mul(2)).unwrap_or(u64::MAX);
    // An exchange that took longer than max-age gives a sample the guard
    // drops as stale: right, its drift term would be unknown.
    now_ns.saturating_sub(back)
}

fn mode_name(m: OverlayMode) -> &'static str {
    match m {
        OverlayMode::Off => "off",
        OverlayMode::Monitor => "monitor",
        OverlayMode::Guarded => "guarded",
    }
}

fn status_text(s: GuardStatus) -> String {
    match s {
        GuardStatus::Agreement => "agreement".into(),
        GuardStatus::TooFewSources { have, need } => {
            format!("too few sources ({have} of {need})")
        }
        GuardStatus::NoAgreement => "no agreement (more than f faulty)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_AGE: u64 = 4_000_000_000;

    #[test]
    fn a_sample_is_dated_no_later_than_its_sync() {
        // Sync received (t2) at local 1000.000 s, Delay_Req sent (t3) at
        // 1000.200 s: ingress = 1000.100 s. The exchange completes at local
        // 1000.300 s, monotonic 50 s.
        let ingress = Time::from_nanos(1_000_100_000_000);
        let local_now = Time::from_nanos(1_000_300_000_000);
        let now = 50_000_000_000;
        let at = measured_at(now, Some(local_now), ingress, MAX_AGE);
        // now - 2 x 200 ms = 49.6 s, which is t2 minus 100 ms (t2 is 300 ms
        // before now): at or before t2.
        assert_eq!(at, 49_600_000_000);
        assert!(at <= now - 300_000_000);
    }

    #[test]
    fn without_a_reading_or_with_a_clock_behind_ingress_it_is_one_max_age_old() {
        let ingress = Time::from_nanos(1_000_000_000_000);
        let now = 50_000_000_000;
        assert_eq!(measured_at(now, None, ingress, MAX_AGE), now - MAX_AGE);
        let behind = Time::from_nanos(999_000_000_000);
        assert_eq!(
            measured_at(now, Some(behind), ingress, MAX_AGE),
            now - MAX_AGE
        );
    }

    #[test]
    fn an_exchange_longer_than_half_max_age_gives_a_stale_sample() {
        let ingress = Time::from_nanos(1_000_000_000_000);
        let local_now = Time::from_nanos(1_003_000_000_000);
        let now = 50_000_000_000;
        let at = measured_at(now, Some(local_now), ingress, MAX_AGE);
        assert_eq!(at, 44_000_000_000);
        assert!(now - at > MAX_AGE);
        // Early in the monotonic time line it saturates at zero.
        assert_eq!(measured_at(1_000, Some(local_now), ingress, MAX_AGE), 0);
    }
}
