//! Codec benchmark: parse and emit of Sync, Follow_Up, Delay_Resp and an
//! Announce carrying a PATH_TRACE TLV, ours side by side with Statime 0.4
//! from crates.io (its codec is public as `statime::fuzz::FuzzMessage`
//! behind its `fuzz` feature), in the same run.
//!
//! This crate is a workspace of its own: depending on both our `statime` and
//! Statime 0.4 (also named `statime`) from a member of the main workspace
//! would make `cargo test -p statime` ambiguous there. Run from /work/main:
//!
//! ```text
//! cargo bench --manifest-path measurements/codec-bench/Cargo.toml --bench codec
//! ```
//!
//! (criterion options after `--`, for example
//! `-- --warm-up-time 1 --measurement-time 3`). The binary:
//! 1. checks that both codecs accept every input and that our emit
//!    reproduces the input bytes;
//! 2. counts heap allocations over 1000 runs of each operation (a counting
//!    global allocator) and asserts that ours makes none;
//! 3. runs the criterion groups `<message>/parse` and `<message>/emit`, each
//!    with the functions `ours` and `statime-0.4`;
//! 4. prints a summary table from a plain timing loop (median of 5 rounds of
//!    `CODEC_BENCH_ITERS` iterations, default 10 000 000, ours and Statime 0.4
//!    interleaved so that machine noise hits both alike). The table is only
//!    printed under `cargo bench` (argument `--bench`), not under
//!    `cargo test --benches`, and `CODEC_BENCH_ITERS=0` skips it.
//!
//! Both sides are measured the same way: parse takes its input through
//! `black_box` and hands the whole `Result` to `black_box` (so the parsed
//! struct is really built); emit writes an already parsed message, read
//! through `black_box`, into a 128-octet stack buffer that is then passed to
//! `black_box`.

// The counting allocator needs `unsafe impl GlobalAlloc`; nothing else here
// uses unsafe code.
#![allow(unsafe_code)]
#![allow(missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::Criterion;
use statime::wire::tlv::PathTraceTlv;
use statime::wire::{Message, TlvWriter};
use statime04::fuzz::FuzzMessage;

/// A `System` allocator that counts allocation calls.
struct CountingAlloc;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees carry over; the only addition is a
// relaxed atomic increment, which neither allocates nor touches the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc`'s
        // contract (non-zero size layout).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was returned by this allocator, that is by `System`,
        // with this `layout`, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` and `layout` come from this allocator (`System`) and
        // `new_size` obeys `GlobalAlloc::realloc`'s contract, as the caller
        // guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Large enough for every message here (the Announce with its PATH_TRACE is
/// 84 octets).
const BUF_LEN: usize = 128;

/// One benchmarked message: its name and its wire bytes.
struct Case {
    name: &'static str,
    bytes: Vec<u8>,
}

/// The inputs: real ptp4l captures (UDPv4, E2E), plus the captured Announce
/// re-emitted by our emitter with a PATH_TRACE TLV of two clock identities.
fn cases() -> Vec<Case> {
    const SYNC: &[u8] = include_bytes!("../../../statime/tests/fixtures/ptp4l/udp4-e2e-sync.bin");
    const FOLLOW_UP: &[u8] =
        include_bytes!("../../../statime/tests/fixtures/ptp4l/udp4-e2e-follow_up.bin");
    const DELAY_RESP: &[u8] =
        include_bytes!("../../../statime/tests/fixtures/ptp4l/udp4-e2e-delay_resp.bin");
    const ANNOUNCE: &[u8] =
        include_bytes!("../../../statime/tests/fixtures/ptp4l/udp4-e2e-announce.bin");
    const PATH: [u8; 16] = [
        0x00, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x53, 0x0a, //
        0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x02,
    ];

    let mut tlv_buf = [0u8; 64];
    let mut writer = TlvWriter::new(&mut tlv_buf);
    let path = PathTraceTlv::from_bytes(&PATH).expect("16 octets: two clock identities");
    writer.push(&path).expect("PATH_TRACE fits");
    let mut announce = Message::parse(ANNOUNCE).expect("ptp4l Announce parses");
    announce.suffix = writer.finish();
    let mut buf = [0u8; BUF_LEN];
    let len = announce
        .emit(&mut buf)
        .expect("Announce with PATH_TRACE emits");
    assert_eq!(len, 64 + 4 + 16);

    vec![
        Case {
            name: "sync",
            bytes: SYNC.to_vec(),
        },
        Case {
            name: "follow_up",
            bytes: FOLLOW_UP.to_vec(),
        },
        Case {
            name: "delay_resp",
            bytes: DELAY_RESP.to_vec(),
        },
        Case {
            name: "announce_path_trace",
            bytes: buf[..len].to_vec(),
        },
    ]
}

#[inline(always)]
fn ours_parse(bytes: &[u8]) {
    let r = Message::parse(black_box(bytes));
    black_box(&r);
}

#[inline(always)]
fn theirs_parse(bytes: &[u8]) {
    let r = FuzzMessage::deserialize(black_box(bytes));
    black_box(&r);
}

#[inline(always)]
fn ours_emit(msg: &Message<'_>, buf: &mut [u8; BUF_LEN]) {
    let r = black_box(msg).emit(buf);
    black_box(r.ok());
    black_box(buf);
}

#[inline(always)]
fn theirs_emit(msg: &FuzzMessage<'_>, buf: &mut [u8; BUF_LEN]) {
    let r = black_box(msg).serialize(buf);
    black_box(r.ok());
    black_box(buf);
}

/// Both codecs accept every input; our emit reproduces it exactly.
fn check_inputs(cases: &[Case]) {
    for case in cases {
        let ours = Message::parse(&case.bytes)
            .unwrap_or_else(|e| panic!("{}: ours rejects the input: {e}", case.name));
        let theirs = FuzzMessage::deserialize(&case.bytes)
            .unwrap_or_else(|e| panic!("{}: statime 0.4 rejects the input: {e}", case.name));
        let mut buf = [0u8; BUF_LEN];
        let n = ours.emit(&mut buf).expect("ours emits");
        assert_eq!(buf[..n], case.bytes[..], "{}: ours round trip", case.name);
        let mut buf = [0u8; BUF_LEN];
        let n = theirs.serialize(&mut buf).expect("statime 0.4 emits");
        if buf[..n] != case.bytes[..] {
            println!(
                "note: {}: statime 0.4 does not re-emit the input byte for byte",
                case.name
            );
        }
    }
}

/// Allocation calls made by `n` runs of `f`.
fn allocations(n: usize, mut f: impl FnMut()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..n {
        f();
    }
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

fn check_allocations(cases: &[Case]) {
    const N: usize = 1000;
    for case in cases {
        let bytes = &case.bytes[..];
        let msg = Message::parse(bytes).expect("checked");
        let theirs_msg = FuzzMessage::deserialize(bytes).expect("checked");
        let mut buf = [0u8; BUF_LEN];

        let ours_p = allocations(N, || ours_parse(bytes));
        let ours_e = allocations(N, || ours_emit(&msg, &mut buf));
        let theirs_p = allocations(N, || theirs_parse(bytes));
        let theirs_e = allocations(N, || theirs_emit(&theirs_msg, &mut buf));
        println!(
            "{}: allocations during {N} ours parse/emit: {ours_p}/{ours_e}",
            case.name
        );
        println!(
            "{}: allocations during {N} statime-0.4 parse/emit: {theirs_p}/{theirs_e}",
            case.name
        );
        assert_eq!(ours_p, 0, "{}: our parse allocates", case.name);
        assert_eq!(ours_e, 0, "{}: our emit allocates", case.name);
    }
}

fn criterion_groups(c: &mut Criterion, cases: &[Case]) {
    for case in cases {
        let bytes = &case.bytes[..];
        let msg = Message::parse(bytes).expect("checked");
        let theirs_msg = FuzzMessage::deserialize(bytes).expect("checked");

        let mut group = c.benchmark_group(format!("{}/parse", case.name));
        group.bench_function("ours", |b| b.iter(|| ours_parse(bytes)));
        group.bench_function("statime-0.4", |b| b.iter(|| theirs_parse(bytes)));
        group.finish();

        let mut group = c.benchmark_group(format!("{}/emit", case.name));
        let mut buf = [0u8; BUF_LEN];
        group.bench_function("ours", |b| b.iter(|| ours_emit(&msg, &mut buf)));
        group.bench_function("statime-0.4", |b| {
            b.iter(|| theirs_emit(&theirs_msg, &mut buf));
        });
        group.finish();
    }
}

/// Nanoseconds per call of `f` over `iters` calls.
fn time_per_call(iters: u64, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    let elapsed: Duration = start.elapsed();
    elapsed.as_secs_f64() * 1e9 / iters as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Medians (ns) of `rounds` rounds for ours and theirs, interleaved.
fn paired(
    rounds: usize,
    iters: u64,
    mut ours: impl FnMut(),
    mut theirs: impl FnMut(),
) -> (f64, f64) {
    let mut o = Vec::with_capacity(rounds);
    let mut t = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        o.push(time_per_call(iters, &mut ours));
        t.push(time_per_call(iters, &mut theirs));
    }
    (median(o), median(t))
}

fn summary_table(cases: &[Case], iters: u64) {
    const ROUNDS: usize = 5;
    const GOAL_NS: f64 = 30.0;

    println!();
    println!("summary: median of {ROUNDS} rounds x {iters} iterations, ns per call");
    println!(
        "| message | ours parse | statime-0.4 parse | ratio | ours emit | statime-0.4 emit | ratio | ours parse+emit | statime-0.4 parse+emit | ratio | ours parse+emit vs goal {GOAL_NS} ns |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for case in cases {
        let bytes = &case.bytes[..];
        let msg = Message::parse(bytes).expect("checked");
        let theirs_msg = FuzzMessage::deserialize(bytes).expect("checked");
        let mut buf = [0u8; BUF_LEN];
        let mut buf2 = [0u8; BUF_LEN];

        let (op, tp) = paired(ROUNDS, iters, || ours_parse(bytes), || theirs_parse(bytes));
        let (oe, te) = paired(
            ROUNDS,
            iters,
            || ours_emit(&msg, &mut buf),
            || theirs_emit(&theirs_msg, &mut buf2),
        );
        let total = op + oe;
        let theirs_total = tp + te;
        let verdict = if total <= GOAL_NS { "met" } else { "MISSED" };
        println!(
            "| {} | {op:.2} | {tp:.2} | {:.2} | {oe:.2} | {te:.2} | {:.2} | {total:.2} | {theirs_total:.2} | {:.2} | {verdict} |",
            case.name,
            op / tp,
            oe / te,
            total / theirs_total,
        );
    }
    println!("all times ns per call; ratio = ours / statime-0.4 (goal: <= 0.50 for each message)");
}

fn main() {
    let cases = cases();
    check_inputs(&cases);
    check_allocations(&cases);

    let mut c = Criterion::default().configure_from_args();
    criterion_groups(&mut c, &cases);
    c.final_summary();

    let iters: u64 = std::env::var("CODEC_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    if iters > 0 && std::env::args().any(|a| a == "--bench") {
        summary_table(&cases, iters);
    }
}
