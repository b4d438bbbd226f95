//! The transport layer's error reporting and capability queries on the
//! host, touching nothing: a missing interface, invalid names, `lo`'s
//! timestamping capabilities, hardware timestamping refused on `lo` (the
//! capability check fails before any device is configured), and the
//! permission errors of an unprivileged user.
//!
//! The permission test runs as whoever runs the tests when that is not
//! root; as root it re-runs itself under `setpriv` as `nobody` with no
//! capabilities (so CI, which runs as root, checks the messages too).
#![allow(unsafe_code)] // geteuid through libc.

use std::process::Command;

use statime_linux::net::{
    NetError, NetOptions, PortSockets, TimestampingMode, Transport, timestamping_info,
};

const TRANSPORTS: [Transport; 3] = [Transport::UdpIpv4, Transport::UdpIpv6, Transport::Ethernet];

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn missing_interface_names_the_fix() {
    for transport in TRANSPORTS {
        for mode in [TimestampingMode::Software, TimestampingMode::Hardware] {
            let err = PortSockets::open("nosuchif9", transport, mode, NetOptions::default())
                .expect_err("no such interface");
            assert!(matches!(err, NetError::InterfaceNotFound { .. }), "{err:?}");
            assert_eq!(
                err.to_string(),
                "interface nosuchif9 not found; see `ip link`"
            );
        }
    }
    let err = timestamping_info("nosuchif9").unwrap_err();
    assert_eq!(
        err.to_string(),
        "interface nosuchif9 not found; see `ip link`"
    );
}

#[test]
fn invalid_interface_names() {
    for name in ["", "sixteen-chars-xx", "eth0/1", "eth 0", "a\0b"] {
        let err = PortSockets::open(
            name,
            Transport::UdpIpv4,
            TimestampingMode::Software,
            NetOptions::default(),
        )
        .expect_err("invalid name");
        assert!(
            matches!(err, NetError::InvalidInterfaceName { .. }),
            "{err:?}"
        );
        assert!(!err.to_string().contains('\n'));
        assert!(timestamping_info(name).is_err());
    }
}

#[test]
fn loopback_has_software_timestamps_and_no_phc() {
    let info = timestamping_info("lo").expect("lo always exists");
    assert!(info.supports_software(), "{info:?}");
    assert!(!info.supports_hardware(), "{info:?}");
    assert_eq!(info.phc_index, None);
    assert_eq!(info.phc_path(), None);
}

#[test]
fn hardware_timestamping_on_loopback_is_refused_clearly() {
    for transport in TRANSPORTS {
        let err = PortSockets::open(
            "lo",
            transport,
            TimestampingMode::Hardware,
            NetOptions::default(),
        )
        .expect_err("lo has no hardware timestamps");
        assert!(
            matches!(err, NetError::HardwareTimestampingUnsupported { .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("NIC lo does not support hardware timestamping for PTP"),
            "{err}"
        );
        assert!(
            err.to_string()
                .ends_with("use `timestamping = \"software\"`")
        );
    }
}

const CHILD_ENV: &str = "STATIME_NET_TEST_UNPRIVILEGED";

#[test]
fn permission_errors_without_privileges() {
    if is_root() {
        if std::env::var_os(CHILD_ENV).is_some() {
            panic!("setpriv did not drop root");
        }
        let exe = std::env::current_exe().expect("test binary");
        let out = Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--",
            ])
            .arg(exe)
            .args([
                "--exact",
                "permission_errors_without_privileges",
                "--nocapture",
            ])
            .env(CHILD_ENV, "1")
            .output()
            .expect("setpriv (util-linux) must be installed to test as root");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "unprivileged run failed:\n{text}");
        assert!(text.contains("1 passed"), "{text}");
        eprintln!("unprivileged run:\n{text}");
        return;
    }
    // Unprivileged from here.
    let unprivileged_start =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(1024);
    if unprivileged_start > 319 {
        let err = PortSockets::open(
            "lo",
            Transport::UdpIpv4,
            TimestampingMode::Software,
            NetOptions::default(),
        )
        .expect_err("port 319 is privileged");
        assert!(matches!(err, NetError::PermissionDenied { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("run as root"), "{text}");
        // Kernels before 5.7 also refuse SO_BINDTODEVICE (CAP_NET_RAW).
        assert!(
            text.contains("CAP_NET_BIND_SERVICE") || text.contains("CAP_NET_RAW"),
            "{text}"
        );
        eprintln!("{text}");
    } else {
        eprintln!("port 319 is unprivileged here (ip_unprivileged_port_start); bind check skipped");
    }
    let err = PortSockets::open(
        "lo",
        Transport::Ethernet,
        TimestampingMode::Software,
        NetOptions::default(),
    )
    .expect_err("AF_PACKET needs CAP_NET_RAW");
    assert!(matches!(err, NetError::PermissionDenied { .. }), "{err}");
    assert!(err.to_string().contains("CAP_NET_RAW"), "{err}");
    eprintln!("{err}");
}
