//! Read cost of the published time: our `Client::now()` beside
//! `clock_gettime(CLOCK_REALTIME)` and beside ClockBound's own client reading
//! the ClockBound-layout segment we write, in the same run.
//!
//! `cargo bench -p bft-overlay --bench read -- --warm-up-time 1 --measurement-time 3`
//!
//! After criterion's report, a plain timing loop (median of 9 rounds of
//! 2·10^6 calls each) prints the same functions side by side with their
//! ratios to clock_gettime(CLOCK_REALTIME).

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bft_overlay::shm::{
    Client, ClockBoundPublisher, Publisher, ReadMode, Snapshot, Status, clock_monotonic_raw_ns,
    clock_realtime_ns,
};
use clock_bound_client::ClockBoundClient;
use criterion::{Criterion, criterion_group};

struct Setup {
    dir: PathBuf,
    ours: PathBuf,
    cb: PathBuf,
    /// Kept alive so the file keeps its writer for the whole run.
    _publisher: Publisher,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn snapshot() -> Snapshot {
    let raw = clock_monotonic_raw_ns().unwrap();
    Snapshot {
        as_of_raw_ns: raw as u64,
        time_at_as_of_ns: clock_realtime_ns().unwrap(),
        freq_offset: 0,
        bound_ns: 10_000,
        max_drift_ppb: 15_000,
        void_after_raw_ns: raw as u64 + 3_600_000_000_000,
        status: Status::Synchronized,
        tai_offset_s: 37,
    }
}

fn setup() -> Setup {
    let dir = std::env::temp_dir().join(format!("bft-shm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ours = dir.join("time");
    let cb = dir.join("shm0");
    let s = snapshot();
    let mut publisher = Publisher::create(&ours).unwrap();
    publisher.publish(&s).unwrap();
    let mut cbp = ClockBoundPublisher::create(&cb).unwrap();
    cbp.publish_snapshot(&s, 0).unwrap();
    Setup {
        dir,
        ours,
        cb,
        _publisher: publisher,
    }
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let mmap = Client::open(&s.ours).unwrap();
    let pread = Client::open_with(&s.ours, ReadMode::Pread).unwrap();
    let mut cbc = ClockBoundClient::new_with_path(s.cb.to_str().unwrap()).unwrap();

    let mut g = c.benchmark_group("read");
    g.bench_function("clock_gettime_realtime", |b| {
        b.iter(|| black_box(clock_realtime_ns()));
    });
    g.bench_function("clock_gettime_monotonic_raw", |b| {
        b.iter(|| black_box(clock_monotonic_raw_ns()));
    });
    g.bench_function("ours_now_mmap", |b| b.iter(|| black_box(mmap.now())));
    g.bench_function("ours_now_pread", |b| b.iter(|| black_box(pread.now())));
    g.bench_function("clock_bound_client_now", |b| {
        b.iter(|| black_box(cbc.now().map(|r| r.clock_status)));
    });
    g.finish();

    // Ours while a writer on another thread publishes at ~1 kHz.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let mut p = Publisher::create(s.dir.join("time-w")).unwrap();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                p.publish(&snapshot()).unwrap();
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(5));
    let busy = Client::open(s.dir.join("time-w")).unwrap();
    let mut g = c.benchmark_group("read_with_1khz_writer");
    g.bench_function("ours_now_mmap", |b| b.iter(|| black_box(busy.now())));
    g.finish();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    drop(s);
}

/// Median ns per call over 9 rounds of `n` calls.
fn per_call(n: u32, mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..9)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(n)
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[4]
}

fn ratios() {
    let s = setup();
    let mmap = Client::open(&s.ours).unwrap();
    let pread = Client::open_with(&s.ours, ReadMode::Pread).unwrap();
    let mut cbc = ClockBoundClient::new_with_path(s.cb.to_str().unwrap()).unwrap();
    let n = 2_000_000;
    let base = per_call(n, || {
        black_box(clock_realtime_ns());
    });
    let rows = [
        ("clock_gettime(CLOCK_REALTIME)", base),
        (
            "clock_gettime(CLOCK_MONOTONIC_RAW)",
            per_call(n, || {
                black_box(clock_monotonic_raw_ns());
            }),
        ),
        (
            "ours now() [mmap]",
            per_call(n, || {
                black_box(mmap.now().ok());
            }),
        ),
        (
            "ours now() [pread]",
            per_call(n / 10, || {
                black_box(pread.now().ok());
            }),
        ),
        (
            "clock-bound-client 2.0.3 now()",
            per_call(n, || {
                black_box(cbc.now().ok().map(|r| r.clock_status));
            }),
        ),
    ];
    println!("\nside by side (median of 9 rounds):");
    println!("{:<36} {:>10} {:>8}", "function", "ns/call", "ratio");
    for (name, ns) in rows {
        println!("{name:<36} {ns:>10.1} {:>7.2}x", ns / base);
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratios();
}
