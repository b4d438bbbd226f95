//! `statime-ctl validate` end to end: output and exit status of the binary.

use std::path::PathBuf;
use std::process::{Command, Output};

fn validate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
        .arg("validate")
        .args(args)
        .output()
        .expect("run statime-ctl")
}

fn path(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .display()
        .to_string()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn valid_files_print_ok_and_exit_0() {
    let a = path("../config/slave-udp4.toml");
    let b = path("../config/grandmaster.toml");
    let out = validate(&[&a, &b]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{a}: ok\n{b}: ok\n"));
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn an_invalid_file_prints_file_line_key_and_exits_1() {
    let bad = path("testdata/config/unknown-variant.toml");
    let good = path("../config/p2p-l2.toml");
    let out = validate(&[&good, &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), format!("{good}: ok\n"));
    assert_eq!(
        text(&out.stderr),
        format!(
            "{bad}:7:19: port[0].delay-mechanism: unknown variant \"E3E\", expected \"E2E\" or \"P2P\"\n"
        )
    );
}

#[test]
fn an_unreadable_file_exits_2() {
    let missing = path("testdata/config/does-not-exist.toml");
    let bad = path("testdata/config/unknown-key.toml");
    let out = validate(&[&bad, &missing]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{missing}: cannot read: ")), "{err}");
    assert!(
        err.contains(&format!("{bad}:4:1: priorty1: unknown field")),
        "{err}"
    );
}

#[test]
fn a_directory_or_binary_file_is_unreadable_not_a_panic() {
    let dir = path("testdata/config");
    let out = validate(&[&dir]);
    assert_eq!(out.status.code(), Some(2));
    let bin = std::env::temp_dir().join(format!("statime-ctl-bin-{}.toml", std::process::id()));
    std::fs::write(&bin, [0xFFu8, 0xFE, 0x00, 0x80]).expect("write");
    let out = validate(&[&bin.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not UTF-8"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_file(&bin).ok();
}

#[test]
fn warnings_pass_unless_denied() {
    let f = path("testdata/config/warnings.toml");
    let out = validate(&[&f]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), format!("{f}: ok (5 warning(s))\n"));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 5, "{err}");
    assert!(err.lines().all(|l| l.contains(": warning: ")), "{err}");

    let out = validate(&["--deny-warnings", &f]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert!(text(&out.stderr).ends_with("5 warning(s), denied by --deny-warnings\n"));
}

#[test]
fn no_file_is_a_usage_error() {
    let out = validate(&[]);
    assert_eq!(out.status.code(), Some(2), "clap's usage error status");
    assert!(text(&out.stderr).contains("Usage"));
}

#[test]
fn the_decode_subcommand_is_still_there() {
    let out = Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
        .arg("decode")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
}
