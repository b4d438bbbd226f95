//! The daemon's start-up errors users will meet: each is one line naming
//! what is missing, with a non-zero exit, never a panic.

use std::process::Command;

fn statime(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_statime"))
        .args(args)
        .output()
        .expect("statime runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp_config(name: &str, text: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("statime-err-{}-{name}", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn missing_interface() {
    let cfg = temp_config(
        "missing.toml",
        "[[port]]\ninterface = \"nosuchif0\"\ntimestamping = \"software\"\n[clock]\nkind = \"virtual\"\n",
    );
    let (code, err) = statime(&["-c", cfg.to_str().unwrap(), "--duration", "1s"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("nosuchif0") && err.contains("not found"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    std::fs::remove_file(cfg).unwrap();
}

#[test]
fn bad_configuration_names_file_line_and_key() {
    let cfg = temp_config(
        "bad.toml",
        "priority1 = 300\n[[port]]\ninterface = \"lo\"\n",
    );
    let (code, err) = statime(&["-c", cfg.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(":1:") && err.contains("priority1"), "{err}");
    std::fs::remove_file(cfg).unwrap();
}

#[test]
fn missing_configuration_file() {
    let (code, err) = statime(&["-c", "/nonexistent/statime.toml"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("/nonexistent/statime.toml"), "{err}");
}

#[test]
fn hardware_timestamping_on_loopback() {
    let cfg = temp_config(
        "hw.toml",
        "[[port]]\ninterface = \"lo\"\ntimestamping = \"hardware\"\n[clock]\nkind = \"phc\"\n",
    );
    let (code, err) = statime(&["-c", cfg.to_str().unwrap(), "--duration", "1s"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("hardware") && err.contains("software"),
        "{err}"
    );
    std::fs::remove_file(cfg).unwrap();
}

#[test]
fn sigterm_stops_cleanly() {
    // A daemon on the loopback interface of a fresh network namespace would
    // be cleaner, but needs root; loopback traffic never leaves the machine.
    let cfg = temp_config(
        "lo.toml",
        "[[port]]\ninterface = \"lo\"\ntimestamping = \"software\"\n[clock]\nkind = \"virtual\"\n\
         [logging]\nstdout = true\nsyslog = false\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_statime"))
        .args(["-c", cfg.to_str().unwrap(), "--duration", "30s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("statime starts");
    std::thread::sleep(std::time::Duration::from_millis(700));
    if let Ok(Some(status)) = child.try_wait() {
        // Could not open the port here (no permission for 319/320): that is
        // covered by the error tests; nothing to stop.
        let out = child.wait_with_output().unwrap();
        assert!(!status.success(), "exited early but successfully");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
        return;
    }
    let started = std::time::Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "stopped slowly"
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("stopping on signal"));
    std::fs::remove_file(cfg).unwrap();
}
