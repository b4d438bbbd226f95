//! The overlay scale simulator (issue 8, "Verify / Scale") on the small
//! scenario `measurements/scenarios/peers/peers-n50-k2-liars.toml` (50
//! nodes, 16 peers each, k = 2, f = 1), 90 simulated seconds, with and
//! without its liars: the fan-out bound on messages, containment with no
//! liars, liars detected. The 1,000-node runs are in
//! `measurements/reports/2026-12-07-peers-scale/`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use statime_sim::peers::{
    PeersMetrics, PeersScenario, bounds_table, failures, load_table, overlay_graph, run,
};

const DURATION_S: f64 = 90.0;

fn scenario_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/peers/peers-n50-k2-liars.toml")
}

/// The run's tables, for assertion messages.
fn brief(r: &PeersMetrics) -> String {
    let one = [r.clone()];
    format!("\n{}\n{}", load_table(&one), bounds_table(&one))
}

fn scenario() -> PeersScenario {
    PeersScenario::load(&scenario_path()).unwrap()
}

fn honest_run() -> &'static PeersMetrics {
    static RUN: OnceLock<PeersMetrics> = OnceLock::new();
    RUN.get_or_init(|| {
        let mut sc = scenario();
        sc.liars.clear();
        sc.name = "peers-n50-k2".into();
        let r = run(&sc, 1, Some(DURATION_S));
        println!("{}", brief(&r));
        r
    })
}

fn liar_run() -> &'static PeersMetrics {
    static RUN: OnceLock<PeersMetrics> = OnceLock::new();
    RUN.get_or_init(|| {
        let r = run(&scenario(), 1, Some(DURATION_S));
        println!("{}", brief(&r));
        r
    })
}

#[test]
fn the_overlay_graph_is_regular_and_symmetric() {
    for (n, m) in [(50, 16), (1000, 24), (7, 4)] {
        let g = overlay_graph(n, m, 3);
        for (i, peers) in g.iter().enumerate() {
            assert_eq!(peers.len(), m, "node {i}");
            assert!(!peers.contains(&i));
            let mut dedup = peers.clone();
            dedup.dedup();
            assert_eq!(dedup.len(), m, "node {i}: a peer twice");
            for &p in peers {
                assert!(g[p].contains(&i), "{i} -> {p} but not back");
            }
        }
    }
}

#[test]
fn messages_per_node_stay_within_the_fan_out() {
    for r in [honest_run(), liar_run()] {
        let k = r.fan_out as f64;
        // No node ever sends more than k requests in one poll interval.
        assert!(
            r.max_requests_in_interval as usize <= r.fan_out,
            "{}",
            brief(r)
        );
        // Every response answers a request, every follow-up a response.
        assert!(r.totals[1] <= r.totals[0]);
        assert!(r.totals[2] <= r.totals[1]);
        // Per node per second: k requests, about k responses and as many
        // follow-ups (two-step): 3k, whatever m.
        assert!((r.requests_per_node_s - k).abs() < 0.05, "{}", brief(r));
        assert!(r.sent_mean_per_s <= 3.0 * k + 0.05, "{}", brief(r));
        assert!(r.sent_mean_per_s >= 3.0 * k * 0.97, "{}", brief(r));
        // The busiest node answers more requests (its peers' rounds come in
        // bursts), but on the whole it stays O(k).
        assert!(r.sent_max_per_s <= 3.0 * k * 1.5, "{}", brief(r));
        assert!(failures(r).is_empty(), "{:?}", failures(r));
    }
}

#[test]
fn with_no_liars_true_time_is_always_inside() {
    let r = honest_run();
    assert_eq!(r.liars, 0);
    assert!(r.agreement_rounds > 3_000, "{}", brief(r));
    assert_eq!(r.outside_any, 0, "{}", brief(r));
    assert_eq!(r.published_misses, 0, "{}", brief(r));
    assert_eq!(r.aged_misses, 0, "{}", brief(r));
    assert!(r.aged_checks > 3_000);
    assert_eq!(r.misjudged_pairs, 0);
    assert_eq!(r.never_synced, 0);
    // After the warm-up every follower agrees at every evaluation.
    assert_eq!(r.follower_agreement, r.follower_rounds);
    assert!(
        r.half_width_max_ns > 0 && r.half_width_max_ns < 1_000_000,
        "{}",
        brief(r)
    );
}

#[test]
fn liars_are_detected_and_bounds_hold_within_f() {
    let r = liar_run();
    assert_eq!(r.liars, 2);
    // The guarantee: never outside while at most f fresh intervals missed.
    assert_eq!(r.outside_le_f, 0, "{}", brief(r));
    assert!(r.liar_pairs >= 16, "{}", brief(r));
    // Every honest node with at most f liars among its peers found them.
    assert_eq!(r.undetected_le_f, 0, "{}", brief(r));
    assert!(r.detection_polls.len() as u64 + r.undetected == r.liar_pairs);
    // The 1 ms liar at the first sample of it (one peer in m / k = 8 per
    // poll), the 20 ppm one once its lie outgrows the intervals.
    let p50 = r.detection_quantile(0.5).unwrap();
    assert!(p50 <= 20.0, "p50 {p50} polls");
    // Honest peers judged falseticker (reported, not asserted): by nodes
    // whose intersection was wrong (more than f faulty intervals: two
    // liars, or a liar and a peer it had misled), or because the honest
    // peer had been misled itself.
}

#[test]
fn runs_are_deterministic() {
    let mut sc = scenario();
    sc.nodes = 20;
    sc.degree = 8;
    sc.warm_up_s = 5.0;
    let a = run(&sc, 7, Some(20.0));
    let b = run(&sc, 7, Some(20.0));
    assert_eq!(a.totals, b.totals);
    assert_eq!(a.events, b.events);
    assert_eq!(a.half_widths, b.half_widths);
    assert_eq!(a.detection_polls, b.detection_polls);
    assert_eq!(a.agreement_rounds, b.agreement_rounds);
}

#[test]
fn bad_files_name_the_key() {
    let file = Path::new("x.toml");
    let base = std::fs::read_to_string(scenario_path()).unwrap();
    let e = PeersScenario::parse(&base.replace("degree = 16", "degree = 15"), file, "x")
        .unwrap_err()
        .to_string();
    assert!(e.contains("`degree`"), "{e}");
    let e = PeersScenario::parse(&base.replace("offset-ns = 1e6", "rate-ppb = 1"), file, "x")
        .unwrap_err()
        .to_string();
    assert!(e.contains("offset-ns"), "{e}");
    let e = PeersScenario::parse(&format!("{base}\nbogus = 1\n"), file, "x")
        .unwrap_err()
        .to_string();
    assert!(e.contains("bogus"), "{e}");
    let ok = PeersScenario::parse(&base, file, "x").unwrap();
    assert_eq!(ok.liar_count(), 2);
    assert_eq!(ok.reference_count(), 10);
    assert!((ok.max_age_s() - 11.0).abs() < 1e-9);
}
