//! A long capture stopped with SIGINT (Ctrl-C) keeps every sample it saw:
//! the series file holds them, the manifest says "interrupted", and the
//! wrapped command was stopped.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn sigint_stops_cleanly_and_keeps_the_samples() {
    let dir = std::env::temp_dir().join(format!("measure-ctrlc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let log = dir.join("ptp4l.log");
    let mut f = std::fs::File::create(&log).expect("log");
    for i in 0..5 {
        writeln!(
            f,
            "ptp4l[{i}.0]: master offset {} s2 freq +1 path delay 100",
            i * 10
        )
        .expect("write");
    }
    let run = dir.join("run");
    let marker = dir.join("wrapped-stopped");
    // The wrapped command notes that it was interrupted (as run.sh cleans up on SIGINT).
    let wrap = format!(
        "trap 'touch {}; exit 130' INT; while :; do sleep 0.1; done",
        marker.display()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_measure"))
        .args(["capture", "--setup", "ctrlc", "--progress", "0.5", "--out"])
        .arg(&run)
        .arg("--wrap")
        .arg(&wrap)
        .arg("--source")
        .arg(format!("p=log:{}", log.display()))
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("measure runs");
    std::thread::sleep(Duration::from_millis(1500));
    // Lines written while the capture runs are captured too.
    for i in 5..8 {
        writeln!(
            f,
            "ptp4l[{i}.0]: master offset {} s2 freq +1 path delay 100",
            i * 10
        )
        .expect("write");
    }
    f.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(1000));
    let status = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
    let t0 = Instant::now();
    let out = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "measure did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
        .expect("stderr");
    assert!(out.success(), "{err}");
    assert!(
        err.contains("p: 8 samples, offset 70 ns"),
        "progress shows samples and offset: {err}"
    );
    let csv = std::fs::read_to_string(run.join("data/p.csv")).expect("series");
    assert_eq!(csv.lines().count(), 9, "{csv}");
    let manifest = std::fs::read_to_string(run.join("run.toml")).expect("manifest");
    assert!(manifest.contains("status = \"interrupted\""), "{manifest}");
    assert!(manifest.contains("samples = 8"), "{manifest}");
    assert!(marker.exists(), "the wrapped command got SIGINT");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
