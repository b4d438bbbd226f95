//! `statime-ctl decode` end to end: the binary on the embedded sample, on a
//! capture file written here, and on bad input.

use std::path::PathBuf;
use std::process::Command;

fn ctl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
}

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../statime/tests/fixtures/ptp4l")
        .join(name);
    std::fs::read(p).expect("fixture")
}

/// A classic little-endian Ethernet pcap holding the given L2 PTP payloads.
fn l2_pcap(payloads: &[Vec<u8>]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
    f.extend_from_slice(&[
        2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 1, 0, 0, 0,
    ]);
    for p in payloads {
        let mut frame = vec![
            0x01, 0x1b, 0x19, 0, 0, 0, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x0a, 0x88, 0xf7,
        ];
        frame.extend_from_slice(p);
        let len = u32::try_from(frame.len()).unwrap();
        f.extend_from_slice(&1_795_325_906u32.to_le_bytes());
        f.extend_from_slice(&250u32.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(&frame);
    }
    f
}

fn temp_file(name: &str, data: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("statime-ctl-{}-{name}", std::process::id()));
    std::fs::write(&p, data).unwrap();
    p
}

#[test]
fn embedded_sample() {
    let out = ctl().arg("decode").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("udp4-e2e-announce: Announce seq 12 domain 0"),
        "{text}"
    );
    assert!(
        text.contains("gm 00005e.fffe.00530a prio 10/128 class 248"),
        "{text}"
    );
    assert!(text.contains("[TLV PathTrace, 8 octets]"), "{text}");
    assert!(text.contains("malformed: truncated"), "{text}");
    assert!(
        text.trim_end().ends_with("1 malformed, 1 truncated"),
        "{text}"
    );
}

#[test]
fn capture_file_with_a_broken_packet() {
    let mut bad_length = fixture("l2-e2e-sync.bin");
    bad_length[3] = 200; // messageLength beyond the frame
    let pcap = l2_pcap(&[
        fixture("l2-e2e-sync.bin"),
        fixture("l2-e2e-follow_up.bin"),
        bad_length,
        fixture("gptp-follow_up.bin"),
    ]);
    let path = temp_file("l2.pcap", &pcap);
    let out = ctl()
        .args(["decode", "--verbose"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("#1 1795325906.000250000 L2 Sync seq"),
        "{text}"
    );
    assert!(lines[1].contains("Follow_Up"), "{text}");
    assert!(
        lines[2].contains("#3") && lines[2].contains("malformed: length field"),
        "{text}"
    );
    assert!(lines[3].contains("sdo 0x100"), "{text}");
    assert!(
        lines[4].contains("FollowUpInformation") || lines[4].contains("OrganizationExtension"),
        "{text}"
    );
    assert!(text.contains("3 PTP messages"), "{text}");

    let strict = ctl()
        .args(["decode", "--strict"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(2));
    std::fs::remove_file(path).unwrap();
}

#[test]
fn unreadable_inputs_name_the_file() {
    let out = ctl()
        .args(["decode", "/nonexistent/capture.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("/nonexistent/capture.pcap"), "{err}");

    let ng = temp_file("x.pcapng", &[0x0A, 0x0D, 0x0D, 0x0A].repeat(8));
    let out = ctl().arg("decode").arg(&ng).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("pcapng") && err.contains("editcap"), "{err}");
    std::fs::remove_file(ng).unwrap();
}

#[test]
fn raw_message_files() {
    let path = temp_file("announce.bin", &fixture("udp4-e2e-announce.bin"));
    let out = ctl().args(["decode", "--raw"]).arg(&path).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Announce seq 12"), "{text}");
    std::fs::remove_file(path).unwrap();
}
