//! Running overlay scenarios over their seeds (on several threads) and
//! presenting the figures: the main Markdown table, the table of the
//! scenarios with more liars than `f`, per-scenario details, and the list
//! of requirements a scenario missed.

use std::fmt::Write as _;

use super::engine::{Detection, HonestMiss, RunMetrics, SourceStats, Violation, run};
use super::hist::LogHistogram;
use super::scenario::OverlayScenario;
use crate::stats::{fmt_ns, percentile};

/// The most poll intervals a detection may take (issue 8's requirement).
pub const MAX_DETECTION_POLLS: f64 = 3.0;
/// The largest ratio of the median published half-width to the best honest
/// source's median bound (issue 8's target).
pub const MAX_HALF_WIDTH_RATIO: f64 = 2.0;

/// The figures of one scenario, merged over its seeds.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Seeds run.
    pub seeds: Vec<u64>,
    /// Guard rounds, all seeds.
    pub samples: u64,
    /// Simulated time, all seeds, s.
    pub simulated_s: f64,
    /// Rounds with Agreement.
    pub agreement: u64,
    /// Rounds with too few fresh sources.
    pub too_few: u64,
    /// Rounds with no agreement.
    pub no_agreement: u64,
    /// Agreement rounds with true time outside while at most `f` fresh
    /// intervals missed it.
    pub outside_le_f: u64,
    /// Agreement rounds with true time outside.
    pub outside_any: u64,
    /// The first of the `outside_le_f` rounds.
    pub first_violation: Option<Violation>,
    /// Rounds in which an honest interval missed true time.
    pub honest_misses: u64,
    /// Rounds calling an honest source a falseticker while <= f faulty.
    pub honest_falsetickers: u64,
    /// The first of them.
    pub first_honest_miss: Option<HonestMiss>,
    /// The first Agreement round with true time outside.
    pub first_wrong: Option<Violation>,
    /// Most fresh intervals missing true time in one round.
    pub max_faulty: usize,
    /// Rounds with more than `f` fresh intervals missing true time.
    pub rounds_beyond_f: u64,
    /// Agreement rounds in which a liar's reported interval met no honest
    /// interval.
    pub provable_rounds: u64,
    /// Of those, rounds without a falseticker verdict (must be 0).
    pub provable_missed: u64,
    /// Detected crossings (by true error).
    pub detections: Vec<Detection>,
    /// Crossings undetected after [`MAX_DETECTION_POLLS`] polls.
    pub overdue: u64,
    /// Asymmetry-blind crossings (the definition until 2026-12-07)
    /// detected.
    pub blind_detected: u64,
    /// Asymmetry-blind crossings undetected after
    /// [`MAX_DETECTION_POLLS`] polls.
    pub blind_overdue: u64,
    /// The longest detection of an asymmetry-blind crossing, s.
    pub blind_detect_max_s: f64,
    /// Crossings shorter than that which ended undetected.
    pub brief_undetected: u64,
    /// Crossings undetected at the end of a run.
    pub open: u64,
    /// Largest detection delay from the first crossing, poll intervals.
    pub detect_max_polls: Option<f64>,
    /// 99th percentile of the same.
    pub detect_p99_polls: Option<f64>,
    /// Largest detection delay counted from the start of the last
    /// uninterrupted stretch across the bound, poll intervals.
    pub detect_continuous_max_polls: Option<f64>,
    /// Median detection delay, poll intervals.
    pub detect_median_polls: Option<f64>,
    /// Median published half-width (Agreement rounds from `reset-s`), ns.
    pub half_width_median_ns: Option<f64>,
    /// The honest source with the smallest median bound, and that median,
    /// ns.
    pub best_honest: Option<(usize, f64)>,
    /// `half_width_median_ns / best honest median`.
    pub ratio: Option<f64>,
    /// The (f+1)-th smallest of the honest sources' median bounds, ns:
    /// guarantee 4 of `intersection.md` bounds the half-width by twice the
    /// (f+1)-th narrowest honest interval, so `2 x this / best` is what the
    /// intersection alone can promise for the ratio.
    pub honest_f1_median_ns: Option<f64>,
    /// RMS of the true clock error from `reset-s`, ns.
    pub err_rms_ns: f64,
    /// Max |true clock error| from `reset-s`, ns.
    pub err_max_ns: f64,
    /// Selection changes, all seeds.
    pub switches: u64,
    /// Servo steps, all seeds.
    pub steps: u64,
    /// Samples fed to the servo.
    pub servo_samples: u64,
    /// Agreement rounds following a liar.
    pub liar_selected: u64,
    /// Agreement rounds following a liar whose interval missed true time.
    pub faulty_selected: u64,
    /// BMCA's pick.
    pub bmca_pick: usize,
    /// Agreement rounds following BMCA's pick.
    pub bmca_followed: u64,
    /// Rounds following a falseticker.
    pub falseticker_selected: u64,
    /// Largest |local frequency error|, ppb.
    pub max_freq_error_ppb: f64,
    /// Rounds with |frequency error| above `max-drift`.
    pub drift_breaches: u64,
    /// Exchanges lost.
    pub lost: u64,
    /// Exchanges voided by steps.
    pub voided: u64,
    /// Per source, merged over the seeds.
    pub sources: Vec<SourceStats>,
}

/// One scenario's runs and their summary.
#[derive(Clone, Debug)]
pub struct ScenarioOutcome {
    /// The scenario.
    pub scenario: OverlayScenario,
    /// One run per seed, in seed order.
    pub runs: Vec<RunMetrics>,
    /// The merged figures.
    pub summary: Summary,
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut w = v.to_vec();
    Some(percentile(&mut w, 0.5))
}

impl Summary {
    /// Merges the runs of `sc`.
    #[must_use]
    pub fn of(sc: &OverlayScenario, runs: &[RunMetrics]) -> Self {
        let mut s = Self {
            seeds: runs.iter().map(|r| r.seed).collect(),
            bmca_pick: runs.first().map_or(0, |r| r.bmca_pick),
            ..Self::default()
        };
        let mut half = LogHistogram::new();
        let mut bounds = vec![LogHistogram::new(); sc.sources.len()];
        let (mut sum_sq, mut count) = (0.0, 0u64);
        s.sources = vec![
            SourceStats {
                min_slack: f64::INFINITY,
                ..SourceStats::default()
            };
            sc.sources.len()
        ];
        for r in runs {
            s.samples += r.samples;
            s.simulated_s += r.simulated_s;
            s.agreement += r.agreement;
            s.too_few += r.too_few;
            s.no_agreement += r.no_agreement;
            s.outside_le_f += r.outside_le_f;
            s.outside_any += r.outside_any;
            if s.first_violation.is_none() {
                s.first_violation = r.first_violation;
            }
            s.honest_misses += r.honest_misses;
            s.honest_falsetickers += r.honest_falsetickers;
            if s.first_honest_miss.is_none() {
                s.first_honest_miss = r.first_honest_miss;
            }
            if s.first_wrong.is_none() {
                s.first_wrong = r.first_wrong;
            }
            s.max_faulty = s.max_faulty.max(r.max_faulty);
            s.rounds_beyond_f += r.rounds_beyond_f;
            s.provable_rounds += r.provable_rounds;
            s.provable_missed += r.provable_missed;
            s.detections.extend_from_slice(&r.detections);
            s.overdue += r.overdue;
            s.brief_undetected += r.brief_undetected;
            s.open += r.open;
            s.blind_detected += r.blind_detected;
            s.blind_overdue += r.blind_overdue;
            s.blind_detect_max_s = s.blind_detect_max_s.max(r.blind_detect_max_s);
            half.merge(&r.half_widths);
            for (b, rb) in bounds.iter_mut().zip(&r.source_bounds) {
                b.merge(rb);
            }
            sum_sq += r.err_sum_sq;
            count += r.err_count;
            s.err_max_ns = s.err_max_ns.max(r.err_max);
            s.switches += r.switches;
            s.steps += r.steps;
            s.servo_samples += r.servo_samples;
            s.liar_selected += r.liar_selected;
            s.faulty_selected += r.faulty_selected;
            s.bmca_followed += r.bmca_followed;
            s.falseticker_selected += r.falseticker_selected;
            s.max_freq_error_ppb = s.max_freq_error_ppb.max(r.max_freq_error_ppb);
            s.drift_breaches += r.drift_breaches;
            s.lost += r.lost;
            s.voided += r.voided;
            for (a, b) in s.sources.iter_mut().zip(&r.sources) {
                a.exchanges += b.exchanges;
                a.bias_sum += b.bias_sum;
                a.path_sum += b.path_sum;
                a.min_slack = a.min_slack.min(b.min_slack);
                a.misses += b.misses;
                a.selected += b.selected;
            }
        }
        #[allow(clippy::cast_precision_loss)]
        if count > 0 {
            s.err_rms_ns = (sum_sq / count as f64).sqrt();
        }
        let polls: Vec<f64> = s
            .detections
            .iter()
            .map(|d| d.delay_s / sc.poll_interval_s)
            .collect();
        s.detect_max_polls = polls.iter().copied().reduce(f64::max);
        s.detect_p99_polls = if polls.is_empty() {
            None
        } else {
            Some(percentile(&mut polls.clone(), 0.99))
        };
        s.detect_continuous_max_polls = s
            .detections
            .iter()
            .map(|d| d.continuous_s / sc.poll_interval_s)
            .reduce(f64::max);
        s.detect_median_polls = median(&polls);
        s.half_width_median_ns = half.quantile(0.5);
        s.best_honest = bounds
            .iter()
            .enumerate()
            .filter(|(i, _)| sc.sources[*i].liar.is_none())
            .filter_map(|(i, b)| b.quantile(0.5).map(|m| (i, m)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let mut medians: Vec<f64> = bounds
            .iter()
            .enumerate()
            .filter(|(i, _)| sc.sources[*i].liar.is_none())
            .filter_map(|(_, b)| b.quantile(0.5))
            .collect();
        medians.sort_by(f64::total_cmp);
        s.honest_f1_median_ns = medians.get(sc.faults).copied();
        s.ratio = match (s.half_width_median_ns, s.best_honest) {
            (Some(h), Some((_, b))) if b > 0.0 => Some(h / b),
            _ => None,
        };
        s
    }

    /// Rounds with status Unknown (too few sources or no agreement).
    #[must_use]
    pub const fn unknown(&self) -> u64 {
        self.too_few + self.no_agreement
    }

    /// `count` as a fraction of the rounds.
    #[must_use]
    pub fn frac(&self, count: u64) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        if self.samples == 0 {
            0.0
        } else {
            count as f64 / self.samples as f64
        }
    }
}

impl ScenarioOutcome {
    /// The containment requirements this scenario missed (empty: all met):
    /// no round with true time outside while at most `f` intervals missed
    /// it, no honest interval missing true time (the bound's assumptions
    /// held), no falseticker followed, and every liar whose reported
    /// interval met no honest interval called a falseticker in that very
    /// round (while at most `f` were faulty). See also
    /// [`detection_misses`](Self::detection_misses) and
    /// [`targets_missed`](Self::targets_missed).
    #[must_use]
    pub fn failures(&self) -> Vec<String> {
        let s = &self.summary;
        let mut out = Vec::new();
        if s.outside_le_f > 0 {
            out.push(format!(
                "{} rounds with true time outside while <= f faulty",
                s.outside_le_f
            ));
        }
        if s.honest_misses > 0 {
            out.push(format!(
                "{} rounds with an honest interval missing true time",
                s.honest_misses
            ));
        }
        if s.honest_falsetickers > 0 {
            out.push(format!(
                "{} rounds calling an honest source a falseticker",
                s.honest_falsetickers
            ));
        }
        if s.falseticker_selected > 0 {
            out.push(format!(
                "{} rounds following a falseticker",
                s.falseticker_selected
            ));
        }
        if s.provable_missed > 0 {
            out.push(format!(
                "{} rounds with a provable falseticker not called one",
                s.provable_missed
            ));
        }
        out
    }

    /// The detection requirement this scenario missed, with at most `f`
    /// liars: every liar whose true error crossed the bound (its own bound
    /// around its true error meets no honest interval) called a
    /// falseticker within [`MAX_DETECTION_POLLS`] polls of the first
    /// crossing.
    #[must_use]
    pub fn detection_misses(&self) -> Vec<String> {
        let s = &self.summary;
        let mut out = Vec::new();
        if !self.scenario.beyond_f() {
            if let Some(d) = s.detect_max_polls
                && d > MAX_DETECTION_POLLS
            {
                out.push(format!(
                    "detection took up to {d:.2} polls ({} of {} crossings over {MAX_DETECTION_POLLS})",
                    s.overdue,
                    s.detections.len()
                ));
            } else if s.overdue > 0 {
                out.push(format!(
                    "{} crossings undetected after {MAX_DETECTION_POLLS} polls",
                    s.overdue
                ));
            }
        }
        out
    }

    /// The targets this scenario missed: with at most `f` liars, a median
    /// half-width above [`MAX_HALF_WIDTH_RATIO`] times the best honest
    /// source's median bound. A target, not a guarantee: with `n = 2f + 1`
    /// the intersection may be as wide as the widest honest interval.
    #[must_use]
    pub fn targets_missed(&self) -> Vec<String> {
        let s = &self.summary;
        let mut out = Vec::new();
        if !self.scenario.beyond_f()
            && let Some(r) = s.ratio
            && r > MAX_HALF_WIDTH_RATIO
        {
            out.push(format!("half-width ratio {r:.2} > {MAX_HALF_WIDTH_RATIO}"));
        }
        out
    }
}

/// Runs every scenario over its seeds (or `seeds` when not empty), for
/// `samples` rounds each (or the scenario's own), on up to `threads`
/// threads. Results do not depend on the thread count.
#[must_use]
pub fn run_all(
    scenarios: &[OverlayScenario],
    seeds: &[u64],
    samples: Option<u64>,
    threads: usize,
) -> Vec<ScenarioOutcome> {
    let jobs: Vec<(usize, u64)> = scenarios
        .iter()
        .enumerate()
        .flat_map(|(k, sc)| {
            let list = if seeds.is_empty() {
                sc.seeds.clone()
            } else {
                seeds.to_vec()
            };
            list.into_iter().map(move |seed| (k, seed))
        })
        .collect();
    let threads = threads.clamp(1, jobs.len().max(1));
    let mut results: Vec<Option<RunMetrics>> = vec![None; jobs.len()];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let jobs = &jobs;
                scope.spawn(move || {
                    (t..jobs.len())
                        .step_by(threads)
                        .map(|j| {
                            let (k, seed) = jobs[j];
                            let sc = &scenarios[k];
                            (j, run(sc, seed, samples.unwrap_or(sc.samples)))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (j, r) in h.join().expect("an overlay simulation thread panicked") {
                results[j] = Some(r);
            }
        }
    });
    scenarios
        .iter()
        .enumerate()
        .map(|(k, sc)| {
            let runs: Vec<RunMetrics> = jobs
                .iter()
                .zip(&results)
                .filter(|((jk, _), _)| *jk == k)
                .filter_map(|(_, r)| r.clone())
                .collect();
            ScenarioOutcome {
                summary: Summary::of(sc, &runs),
                scenario: sc.clone(),
                runs,
            }
        })
        .collect()
}

fn pct(x: f64) -> String {
    let p = x * 100.0;
    if p == 0.0 {
        "0".into()
    } else if p < 0.01 {
        // Two significant digits for the rare events.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let digits = (-p.log10()).ceil() as usize + 1;
        format!("{p:.digits$} %")
    } else {
        format!("{p:.2} %")
    }
}

fn polls(d: Option<f64>) -> String {
    d.map_or_else(|| "-".into(), |v| format!("{v:.2}"))
}

/// The main table: every scenario.
#[must_use]
pub fn main_table(outcomes: &[ScenarioOutcome]) -> String {
    let mut t = String::new();
    t.push_str(
        "| scenario | n | f | liars (kind x count) | samples | truth outside, <= f faulty | \
         truth outside, all | Unknown | detection, polls: max / p99 / median (max of last stretch) | half-width median | best honest median | \
         ratio | clock error RMS / max | switches | requirements |\n",
    );
    t.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for o in outcomes {
        let sc = &o.scenario;
        let s = &o.summary;
        let mut fails = o.failures();
        fails.extend(o.detection_misses());
        let targets = o.targets_missed();
        let _ = writeln!(
            t,
            "| {} | {} | {} | {}{}{} | {} | {} | {} | {} | {} / {} / {} ({}) | {} | {} | {} | {} / {} | {} | {} |",
            sc.name,
            sc.sources.len(),
            sc.faults,
            sc.liar_summary(),
            if sc.sources[s.bmca_pick].liar.is_some() {
                "; BMCA's pick lies"
            } else {
                ""
            },
            if sc.beyond_f() { " **(f+1)**" } else { "" },
            s.samples,
            s.outside_le_f,
            s.outside_any,
            pct(s.frac(s.unknown())),
            polls(s.detect_max_polls),
            polls(s.detect_p99_polls),
            polls(s.detect_median_polls),
            polls(s.detect_continuous_max_polls),
            s.half_width_median_ns.map_or_else(|| "-".into(), fmt_ns),
            s.best_honest.map_or_else(|| "-".into(), |(_, b)| fmt_ns(b)),
            s.ratio.map_or_else(|| "-".into(), |r| format!("{r:.2}")),
            fmt_ns(s.err_rms_ns),
            fmt_ns(s.err_max_ns),
            s.switches,
            match (fails.is_empty(), targets.is_empty()) {
                (true, true) => "met".to_owned(),
                (true, false) => format!("met; target missed: {}", targets.join("; ")),
                (false, _) => format!("MISSED: {}", fails.join("; ")),
            },
        );
    }
    t
}

/// What a scenario with more than `f` liars showed.
#[must_use]
pub fn outcome_word(s: &Summary) -> &'static str {
    let unknown = s.frac(s.unknown());
    let wrong = s.frac(s.outside_any);
    if wrong >= 0.5 {
        "confident WRONG answer (undetectable majority)"
    } else if unknown >= 0.99 {
        "Unknown (the guard proves > f faults)"
    } else if wrong == 0.0 && unknown < 0.01 {
        "correct (the liars cancel out)"
    } else {
        "mixed"
    }
}

/// The table of the scenarios with more than `f` liars.
#[must_use]
pub fn beyond_f_table(outcomes: &[ScenarioOutcome]) -> String {
    let mut t = String::new();
    t.push_str(
        "| scenario | n | f | liars | samples | Unknown (too few / no agreement) | \
         truth outside while Synchronized | truth inside, Synchronized | outcome |\n",
    );
    t.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for o in outcomes.iter().filter(|o| o.scenario.beyond_f()) {
        let sc = &o.scenario;
        let s = &o.summary;
        let inside = s.agreement.saturating_sub(s.outside_any);
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} ({} / {}) | {} | {} | {} |",
            sc.name,
            sc.sources.len(),
            sc.faults,
            sc.liar_summary(),
            s.samples,
            pct(s.frac(s.unknown())),
            pct(s.frac(s.too_few)),
            pct(s.frac(s.no_agreement)),
            pct(s.frac(s.outside_any)),
            pct(s.frac(inside)),
            outcome_word(s),
        );
    }
    t
}

/// Per-scenario details: the BMCA pick, whom the clock followed, the
/// assumptions, the crossings.
#[must_use]
pub fn details(outcomes: &[ScenarioOutcome]) -> String {
    let mut t = String::new();
    for o in outcomes {
        let sc = &o.scenario;
        let s = &o.summary;
        let pick = &sc.sources[s.bmca_pick];
        let _ = writeln!(
            t,
            "- **{}** (seeds {:?}): {}",
            sc.name, s.seeds, sc.description
        );
        let _ = writeln!(
            t,
            "  - {} rounds over {:.0} s simulated; Agreement {}, too few {}, no agreement {}; \
             {} exchanges lost, {} voided by {} steps; {} servo samples",
            s.samples,
            s.simulated_s,
            pct(s.frac(s.agreement)),
            pct(s.frac(s.too_few)),
            pct(s.frac(s.no_agreement)),
            s.lost,
            s.voided,
            s.steps,
            s.servo_samples,
        );
        let _ = writeln!(
            t,
            "  - truth outside: {} rounds with <= f faulty, {} in all; most intervals missing \
             truth in one round: {} ({} rounds beyond f); honest intervals missing truth: {}; \
             honest sources called falsetickers (<= f faulty): {}",
            s.outside_le_f,
            s.outside_any,
            s.max_faulty,
            s.rounds_beyond_f,
            s.honest_misses,
            s.honest_falsetickers,
        );
        for (what, v) in [
            ("first violation (<= f faulty)", s.first_violation),
            ("first confident wrong answer", s.first_wrong),
        ] {
            if let Some(v) = v {
                let _ = writeln!(
                    t,
                    "  - {what}: seed {}, round {}, t = {:.3} s, truth {:.0} ns outside \
                     [{}, {}] ns with {} intervals missing it",
                    v.seed, v.round, v.t_s, v.truth_ns, v.lower_ns, v.upper_ns, v.faulty
                );
            }
        }
        if let Some(h) = s.first_honest_miss {
            let _ = writeln!(
                t,
                "  - first honest miss: seed {}, round {}, t = {:.3} s, `{}` missed truth by {} \
                 while the local clock ran {:.2} ppm off",
                h.seed,
                h.round,
                h.t_s,
                sc.sources[h.source].id,
                fmt_ns(h.by_ns),
                h.freq_error_ppb / 1000.0
            );
        }
        let _ = writeln!(
            t,
            "  - BMCA would pick `{}` ({}); the guard followed it in {} of the Agreement rounds; \
             it followed a liar in {} (one whose interval missed truth: {}); a falseticker: {}",
            pick.id,
            pick.liar.as_ref().map_or("honest".to_owned(), |l| format!(
                "a liar: {}",
                l.kind_name()
            )),
            pct(if s.agreement == 0 {
                0.0
            } else {
                #[allow(clippy::cast_precision_loss)]
                let v = s.bmca_followed as f64 / s.agreement as f64;
                v
            }),
            s.liar_selected,
            s.faulty_selected,
            s.falseticker_selected,
        );
        let _ = writeln!(
            t,
            "  - local clock: max |frequency error| {:.2} ppm (guard assumes {} ppm; {} rounds \
             above); true error RMS {} / max {}; {} selection switches",
            s.max_freq_error_ppb / 1000.0,
            sc.guard.max_drift_ppm,
            s.drift_breaches,
            fmt_ns(s.err_rms_ns),
            fmt_ns(s.err_max_ns),
            s.switches,
        );
        if s.provable_rounds > 0 {
            let _ = writeln!(
                t,
                "  - provable falsetickers (reported interval meets no honest one): {} rounds, \
                 {} of them not called falseticker",
                s.provable_rounds, s.provable_missed
            );
        }
        if !s.detections.is_empty() || s.overdue > 0 || s.brief_undetected > 0 || s.open > 0 {
            let cross: Vec<f64> = s
                .detections
                .iter()
                .map(|d| d.error_at_cross_ns.abs())
                .collect();
            let det: Vec<f64> = s
                .detections
                .iter()
                .map(|d| d.error_at_detect_ns.abs())
                .collect();
            let _ = writeln!(
                t,
                "  - crossings by true error: {} detected (delay from the first crossing max {} / \
                 p99 {} / median {} polls; from the start of the last uninterrupted stretch \
                 across the bound max {} polls; liar's true error at crossing median {}, at \
                 detection median {}), {} undetected after 3 polls, {} shorter flickers \
                 undetected, {} open at the end",
                s.detections.len(),
                polls(s.detect_max_polls),
                polls(s.detect_p99_polls),
                polls(s.detect_median_polls),
                polls(s.detect_continuous_max_polls),
                median(&cross).map_or_else(|| "-".into(), fmt_ns),
                median(&det).map_or_else(|| "-".into(), fmt_ns),
                s.overdue,
                s.brief_undetected,
                s.open,
            );
        }
        if s.blind_detected > 0 || s.blind_overdue > 0 {
            let _ = writeln!(
                t,
                "  - asymmetry-blind crossings (the definition until 2026-12-07: the liar's \
                 bound around its true error, ignoring its exchange's asymmetry): {} detected, \
                 the longest after {:.2} polls, {} undetected after 3 polls",
                s.blind_detected,
                s.blind_detect_max_s / sc.poll_interval_s,
                s.blind_overdue,
            );
        }
        let per: Vec<String> = sc
            .sources
            .iter()
            .zip(&s.sources)
            .map(|(spec, st)| {
                #[allow(clippy::cast_precision_loss)]
                let k = st.exchanges.max(1) as f64;
                let role = match (&spec.liar, &spec.attack) {
                    (Some(l), _) => l.kind_name(),
                    (None, Some(_)) => "honest, one-way delay attack",
                    (None, None) => "honest",
                };
                format!(
                    "`{}` ({role}): offset error mean {}, path delay mean {}, min slack {}, \
                     {} fresh misses, followed {}",
                    spec.id,
                    fmt_ns(st.bias_sum / k),
                    fmt_ns(st.path_sum / k),
                    if st.min_slack.is_finite() {
                        fmt_ns(st.min_slack)
                    } else {
                        "-".into()
                    },
                    st.misses,
                    pct(if s.agreement == 0 {
                        0.0
                    } else {
                        #[allow(clippy::cast_precision_loss)]
                        let v = st.selected as f64 / s.agreement as f64;
                        v
                    }),
                )
            })
            .collect();
        let _ = writeln!(t, "  - sources: {}", per.join("; "));
        if let (Some(h), Some((i, b))) = (s.half_width_median_ns, s.best_honest) {
            let _ = writeln!(
                t,
                "  - published half-width median {} vs best honest source `{}` median bound {} \
                 (ratio {:.2}); the (f+1)-th narrowest honest median bound is {}, so the \
                 intersection alone promises a ratio of at most {}",
                fmt_ns(h),
                sc.sources[i].id,
                fmt_ns(b),
                h / b,
                s.honest_f1_median_ns.map_or_else(|| "-".into(), fmt_ns),
                s.honest_f1_median_ns
                    .map_or_else(|| "-".into(), |x| format!("{:.2}", 2.0 * x / b)),
            );
        }
    }
    t
}
