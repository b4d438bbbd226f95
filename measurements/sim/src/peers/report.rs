//! Seeds and threads, and the Markdown tables of `ptp-sim peers`.

use std::fmt::Write as _;

use super::engine::{PeersMetrics, run};
use super::scenario::PeersScenario;

/// Run every scenario with its seeds (or `seeds` when not empty) for its
/// duration (or `duration_s`), on up to `threads` threads. The result is
/// in scenario then seed order, whatever the thread count.
///
/// # Panics
/// When a simulation thread panics.
#[must_use]
pub fn run_all(
    scenarios: &[PeersScenario],
    seeds: &[u64],
    duration_s: Option<f64>,
    threads: usize,
) -> Vec<PeersMetrics> {
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
    let mut results: Vec<Option<PeersMetrics>> = vec![None; jobs.len()];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let jobs = &jobs;
                scope.spawn(move || {
                    (t..jobs.len())
                        .step_by(threads)
                        .map(|j| {
                            let (k, seed) = jobs[j];
                            (j, run(&scenarios[k], seed, duration_s))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (j, r) in h.join().expect("a peers simulation thread panicked") {
                results[j] = Some(r);
            }
        }
    });
    results.into_iter().flatten().collect()
}

fn us(ns: Option<f64>) -> String {
    ns.map_or_else(|| "-".into(), |v| format!("{:.1}", v / 1e3))
}

fn polls(p: Option<f64>) -> String {
    p.map_or_else(|| "-".into(), |v| format!("{v:.1}"))
}

/// The load table: datagrams sent per node per second against `k`.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn load_table(runs: &[PeersMetrics]) -> String {
    let mut s = String::from(
        "| scenario | seed | N | m | k | f | liars | refs | sim s | wall s | req/node/s | resp/node/s | follow-up/node/s | sent/node/s mean | sent/node/s max | mean / k | most req in 1 interval | most sent in 1 interval |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in runs {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} |",
            r.name,
            r.seed,
            r.nodes,
            r.degree,
            r.fan_out,
            r.faults,
            r.liars,
            r.references,
            r.simulated_s,
            r.wall_s,
            r.requests_per_node_s,
            r.responses_per_node_s,
            r.follow_ups_per_node_s,
            r.sent_mean_per_s,
            r.sent_max_per_s,
            r.sent_mean_per_s / r.fan_out as f64,
            r.max_requests_in_interval,
            r.max_sent_in_interval,
        );
    }
    s
}

/// The bounds table: published half-widths, containment, detection.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn bounds_table(runs: &[PeersMetrics]) -> String {
    let mut s = String::from(
        "| scenario | seed | k | liars | agreement % | half-width p50 us | p90 | p99 | max | abs clock error p99 us | max | outside, <= f faulty | outside, any | outside, <= f liar peers | aged bound misses | nodes with > f liar peers | nodes ever outside (<= f liar peers) | detection p50 polls | p99 | max | undetected (at <= f) | misjudged pairs: all / > f liar peers / holding truth |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in runs {
        let agreement = if r.follower_rounds == 0 {
            "-".into()
        } else {
            format!(
                "{:.2}",
                100.0 * r.follower_agreement as f64 / r.follower_rounds as f64
            )
        };
        let detection = |q: f64| {
            if r.liar_pairs == 0 {
                "-".into()
            } else {
                polls(r.detection_quantile(q))
            }
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {} | {:.1} | {} / {} | {} | {} | {} / {} | {} | {} ({}) | {} | {} | {} | {} / {} ({}) | {} / {} / {} |",
            r.name,
            r.seed,
            r.fan_out,
            r.liars,
            agreement,
            us(r.half_widths.quantile(0.5)),
            us(r.half_widths.quantile(0.9)),
            us(r.half_widths.quantile(0.99)),
            r.half_width_max_ns as f64 / 1e3,
            us(r.clock_errors.quantile(0.99)),
            r.clock_error_max_ns / 1e3,
            r.outside_le_f,
            r.agreement_rounds,
            r.outside_any,
            r.outside_le_f_liar_peers,
            r.aged_misses,
            r.aged_checks,
            r.nodes_beyond_f,
            r.nodes_ever_outside,
            r.nodes_ever_outside_le_f,
            detection(0.5),
            detection(0.99),
            detection(1.0),
            r.undetected,
            r.liar_pairs,
            r.undetected_le_f,
            r.misjudged_pairs,
            r.misjudged_pairs_beyond_f,
            r.misjudged_pairs_holding_truth,
        );
    }
    s
}

/// The requirements a run missed: a node sent more than `k` requests in
/// one poll interval, or true time fell outside an intersection while at
/// most `f` fresh intervals missed it.
#[must_use]
pub fn failures(r: &PeersMetrics) -> Vec<String> {
    let mut out = Vec::new();
    if r.max_requests_in_interval as usize > r.fan_out {
        out.push(format!(
            "a node sent {} requests in one interval (k = {})",
            r.max_requests_in_interval, r.fan_out
        ));
    }
    if r.outside_le_f > 0 {
        out.push(format!(
            "{} rounds with true time outside the intersection and at most f faulty intervals",
            r.outside_le_f
        ));
    }
    out
}

/// Free-text details per run: totals, losses, drops, reference figures.
#[must_use]
pub fn details(runs: &[PeersMetrics]) -> String {
    let mut s = String::new();
    for r in runs {
        let _ = writeln!(
            s,
            "- {} seed {}: {} events; sent {} requests, {} responses, {} follow-ups; \
             {} exchanges lost, {} datagrams lost on the wire, {} dropped by receivers; \
             max-age {:.0} s, two-step {}; {} follower rounds after warm-up ({} in agreement), \
             {} followers never synchronized; {} bounds checked at publication ({} missed), \
             {} as aged ({} missed); {} misjudged rounds; drops by reason: {}.",
            r.name,
            r.seed,
            r.events,
            r.totals[0],
            r.totals[1],
            r.totals[2],
            r.lost_exchanges,
            r.wire_losses,
            r.dropped,
            r.max_age_s,
            r.two_step,
            r.follower_rounds,
            r.follower_agreement,
            r.never_synced,
            r.published_checks,
            r.published_misses,
            r.aged_checks,
            r.aged_misses,
            r.misjudged_rounds,
            if r.drops.is_empty() {
                "none".into()
            } else {
                r.drops
                    .iter()
                    .map(|(n, c)| format!("{n} {c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        );
    }
    s
}
