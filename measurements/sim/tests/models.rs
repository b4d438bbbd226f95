//! The random distributions, the clock model and the network model.

use statime::clock::Clock;
use statime::time::Duration;
use statime_sim::clock::{EPOCH_NS, SimClock};
use statime_sim::network::Network;
use statime_sim::rng::{Dist, Rng};
use statime_sim::scenario::Scenario;

fn moments(n: usize, mut f: impl FnMut() -> f64) -> (f64, f64) {
    let v: Vec<f64> = (0..n).map(|_| f()).collect();
    let mean = v.iter().sum::<f64>() / n as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
    (mean, var)
}

#[test]
fn uniform_moments() {
    let mut r = Rng::new(42);
    let (m, v) = moments(200_000, || r.uniform());
    assert!((m - 0.5).abs() < 0.005, "mean {m}");
    assert!((v - 1.0 / 12.0).abs() < 0.002, "var {v}");
}

#[test]
fn exponential_moments() {
    let mut r = Rng::new(1);
    let (m, v) = moments(200_000, || r.exponential(100.0));
    assert!((m - 100.0).abs() < 1.5, "mean {m}");
    assert!((v.sqrt() - 100.0).abs() < 2.0, "sd {}", v.sqrt());
    assert!((0..1000).all(|_| r.exponential(5.0) >= 0.0));
}

#[test]
fn normal_moments() {
    let mut r = Rng::new(2);
    let (m, v) = moments(200_000, || r.normal());
    assert!(m.abs() < 0.01, "mean {m}");
    assert!((v - 1.0).abs() < 0.02, "var {v}");
}

#[test]
fn dist_samples() {
    let mut r = Rng::new(3);
    let c = Dist::Constant { ns: 7.0 };
    assert!((c.sample(&mut r) - 7.0).abs() < 1e-12);
    let u = Dist::Uniform {
        min_ns: 10.0,
        max_ns: 30.0,
    };
    let (m, _) = moments(100_000, || u.sample(&mut r));
    assert!((m - 20.0).abs() < 0.2);
    // Truncated normal: never negative; mean above the untruncated one.
    let n = Dist::Normal {
        mean_ns: 0.0,
        sd_ns: 10.0,
    };
    let (m, _) = moments(100_000, || n.sample(&mut r));
    assert!(m > 5.0 && m < 11.0, "mean {m}");
    assert!(
        Dist::Uniform {
            min_ns: 5.0,
            max_ns: 1.0
        }
        .validate()
        .is_err()
    );
    assert!(Dist::Exponential { mean_ns: -1.0 }.validate().is_err());
}

#[test]
fn clock_frequency_and_step() {
    // +100 ppm, no wander: after 10 s the clock is 1 ms ahead.
    let mut c = SimClock::new(0.0, 0.0, 100_000.0, 0.0, 500_000.0, Rng::new(0));
    assert!((c.error_at(10e9) - 1e6).abs() < 1e-3);
    // Adjust by -100 ppm: the phase stops moving.
    c.adjust_frequency(-100_000.0).unwrap();
    assert!((c.error_at(20e9) - 1e6).abs() < 1e-3);
    assert!(c.frequency_error_ppb().abs() < 1e-9);
    // A step of -1 ms brings it to true time.
    c.step(Duration::from_nanos(-1_000_000)).unwrap();
    assert!(c.error_at(25e9).abs() < 1e-3);
    // The reading is EPOCH + t + x, with sub-ns resolution.
    let t = c.read(30e9, 0.25, 0.0);
    let expect = statime::time::Time::from_nanos(EPOCH_NS + 30_000_000_000);
    assert!(((t - expect).nanos_f64() - 0.25).abs() < 1e-6);
    // Granularity floors the reading.
    let g = c.read(30e9 + 13.0, 0.0, 8.0);
    assert_eq!((g - expect).nanos_f64(), 8.0);
    // The adjustment is clamped to the clock's limit.
    c.adjust_frequency(1e9).unwrap();
    assert!((c.adjustment_ppb() - 500_000.0).abs() < 1e-9);
    assert_eq!(c.steps(), 1);
}

#[test]
fn clock_wander_is_a_random_walk() {
    // 1 ppb/sqrt(s): after 400 s the frequency has moved by N(0, 20 ppb).
    let mut finals = Vec::new();
    for seed in 0..200 {
        let mut c = SimClock::new(0.0, 0.0, 0.0, 1.0, 500_000.0, Rng::new(seed));
        c.advance(400e9 + 0.5);
        finals.push(c.frequency_error_ppb());
    }
    let (m, v) = moments(finals.len(), {
        let mut it = finals.iter();
        move || *it.next().unwrap()
    });
    assert!(m.abs() < 5.0, "mean {m}");
    assert!((v.sqrt() - 20.0).abs() < 4.0, "sd {}", v.sqrt());
}

fn link_scenario(link: &str) -> Scenario {
    let text = format!(
        r#"
duration-s = 10
[[node]]
id = "a"
[[node]]
id = "b"
[[node]]
id = "c"
[[link]]
endpoints = ["a", "b", "c"]
{link}
"#
    );
    Scenario::parse(&text, "test.toml".as_ref(), "t").unwrap()
}

#[test]
fn network_delay_asymmetry_and_fanout() {
    let sc = link_scenario("delay = { base-ns = 1000 }\nasymmetry-ns = 100");
    let mut net = Network::new(&sc, 1);
    // From the first endpoint: +asymmetry to everyone.
    let hops = net.fanout(0, 0, 0.0);
    assert_eq!(hops.len(), 2);
    assert!(hops.iter().all(|h| (h.at_ns - 1100.0).abs() < 1e-9));
    // To the first endpoint: -asymmetry; between the others: base.
    let hops = net.fanout(1, 0, 50.0);
    let to_a = hops.iter().find(|h| h.node == 0).unwrap();
    let to_c = hops.iter().find(|h| h.node == 2).unwrap();
    assert!((to_a.at_ns - 950.0).abs() < 1e-9);
    assert!((to_c.at_ns - 1050.0).abs() < 1e-9);
    // A link down loses everything.
    net.set_up(0, false);
    assert!(net.fanout(0, 0, 0.0).is_empty());
    assert_eq!(net.lost, 2);
}

#[test]
fn network_jitter_and_loss() {
    let sc = link_scenario(
        "delay = { base-ns = 100, jitter = { kind = \"exponential\", mean-ns = 100 } }\nloss = 0.25",
    );
    let mut net = Network::new(&sc, 9);
    let mut delays = Vec::new();
    for _ in 0..20_000 {
        delays.extend(net.fanout(0, 0, 0.0).iter().map(|h| h.at_ns));
    }
    let lost = net.lost as f64 / net.sent as f64;
    assert!((lost - 0.25).abs() < 0.01, "loss {lost}");
    let mean = delays.iter().sum::<f64>() / delays.len() as f64;
    assert!((mean - 200.0).abs() < 2.0, "mean delay {mean}");
    assert!(delays.iter().all(|&d| d >= 100.0));
}

#[test]
fn network_fifo_keeps_order() {
    let sc = link_scenario(
        "delay = { base-ns = 100, jitter = { kind = \"exponential\", mean-ns = 1000 } }\nfifo = true",
    );
    let mut net = Network::new(&sc, 5);
    let mut last = f64::NEG_INFINITY;
    for k in 0..1000 {
        let h = net.fanout(0, 0, f64::from(k))[0];
        assert!(h.at_ns >= last);
        last = h.at_ns;
    }
}
