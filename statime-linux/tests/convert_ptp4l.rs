//! `statime-ctl convert`: linuxptp ptp4l configuration files to
//! statime.toml(5).
//!
//! - option by option: a ptp4l setting becomes the statime value it should
//!   (read back through our own `Config` parser and validation);
//! - what is not carried over is named, and ptp4l defaults that statime
//!   shares are dropped silently;
//! - values ptp4l itself refuses are errors naming the file and line;
//! - every example configuration Debian's linuxptp ships converts to a file
//!   our validation accepts, with the expected list of dropped options for
//!   gPTP.cfg, G.8275.1.cfg, G.8275.2.cfg and UNICAST-SLAVE.cfg;
//! - `[unicast_master_table]` sections become the `unicast-master-table`
//!   of the ports that name them, case by case;
//! - the `statime-ctl convert` binary end to end (stdout, stderr, --output,
//!   exit status).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use statime_linux::config::{
    Config, DelayMechanism, LogLevel, ServoKind, TimeSourceName, Timestamping, Transport,
};
use statime_linux::ptp4l_conf::{Conversion, Fate, Remark, convert_str};

/// Where Debian's linuxptp package puts its example configurations.
const DEBIAN_CONFIGS: &str = "/usr/share/doc/linuxptp/configs";

/// Converts `[global]` + `options` with one port `veth0` and reads the
/// result back; fails the test on any error or warning.
fn convert_global(options: &str) -> (Config, Conversion) {
    let text = format!("[global]\n{options}\n[veth0]\n");
    let conv = convert_str(&text, "t.cfg").unwrap_or_else(|e| panic!("{options}: {e}"));
    let config = Config::from_toml(&conv.toml, "out.toml")
        .unwrap_or_else(|e| panic!("{options}: {e}\n{}", conv.toml));
    let warnings = config.warnings();
    assert!(
        warnings.is_empty(),
        "{options}: warnings {warnings:?}\n{}",
        conv.toml
    );
    (config, conv)
}

fn fates(conv: &Conversion) -> Vec<(Fate, String)> {
    conv.remarks
        .iter()
        .map(|r| (r.fate, r.option.clone()))
        .collect()
}

type Probe = fn(&Config) -> String;

/// ptp4l option(s) -> the statime value read back from the converted file.
const MAPPINGS: &[(&str, Probe, &str)] = &[
    ("priority1 77", |c| c.priority1.to_string(), "77"),
    ("priority2 99", |c| c.priority2.to_string(), "99"),
    ("domainNumber 24", |c| c.domain.to_string(), "24"),
    ("clockClass 6", |c| c.clock_class.to_string(), "6"),
    ("clockAccuracy 0x21", |c| c.clock_accuracy.to_string(), "33"),
    (
        "offsetScaledLogVariance 0x4E5D",
        |c| c.offset_scaled_log_variance.to_string(),
        "20061",
    ),
    // strtol base 0: a leading 0 is octal.
    ("priority1 010", |c| c.priority1.to_string(), "8"),
    ("slaveOnly 1", |c| c.slave_only.to_string(), "true"),
    ("clientOnly 1", |c| c.slave_only.to_string(), "true"),
    ("twoStepFlag 0", |c| c.two_step.to_string(), "false"),
    ("time_stamping onestep", |c| c.two_step.to_string(), "false"),
    (
        "time_stamping software",
        |c| c.ports[0].timestamping.name().into(),
        "software",
    ),
    (
        "time_stamping hardware",
        |c| c.ports[0].timestamping.name().into(),
        "hardware",
    ),
    (
        "maxStepsRemoved 10",
        |c| c.max_steps_removed.to_string(),
        "10",
    ),
    (
        "utc_offset 37",
        |c| format!("{:?}", c.utc_offset),
        "Some(37)",
    ),
    (
        "clockIdentity 001b19.fffe.000001",
        |c| format!("{:?}", c.clock_identity.map(|i| i.0)),
        "Some([0, 27, 25, 255, 254, 0, 0, 1])",
    ),
    (
        "clockIdentity 000000.0000.000000",
        |c| format!("{:?}", c.clock_identity),
        "None",
    ),
    (
        "timeSource 0x20",
        |c| format!("{:?}", c.time_source),
        "Gnss",
    ),
    (
        "transportSpecific 0x1",
        |c| format!("{:#x}", c.sdo_id),
        "0x100",
    ),
    (
        "network_transport L2",
        |c| c.ports[0].transport.name().into(),
        "ethernet",
    ),
    (
        "network_transport UDPv6\nudp6_scope 0x02",
        |c| format!("{} {}", c.ports[0].transport.name(), c.ports[0].udp6_scope),
        "udp-ipv6 2",
    ),
    (
        "delay_mechanism P2P\nlogMinPdelayReqInterval -2",
        |c| {
            format!(
                "{} {}",
                c.ports[0].delay_mechanism.name(),
                c.ports[0].pdelay_interval
            )
        },
        "P2P -2",
    ),
    (
        "logAnnounceInterval -3",
        |c| c.ports[0].announce_interval.to_string(),
        "-3",
    ),
    (
        "logSyncInterval -4",
        |c| c.ports[0].sync_interval.to_string(),
        "-4",
    ),
    (
        "logMinDelayReqInterval -4",
        |c| c.ports[0].delay_interval.to_string(),
        "-4",
    ),
    (
        "announceReceiptTimeout 5",
        |c| c.ports[0].announce_receipt_timeout.to_string(),
        "5",
    ),
    (
        "syncReceiptTimeout 3",
        |c| c.ports[0].sync_receipt_timeout.to_string(),
        "3",
    ),
    (
        "delayAsymmetry -250",
        |c| c.ports[0].delay_asymmetry.as_nanos().to_string(),
        "-250",
    ),
    (
        "ingressLatency 180",
        |c| c.ports[0].ingress_latency.as_nanos().to_string(),
        "180",
    ),
    (
        "egressLatency 0x10",
        |c| c.ports[0].egress_latency.as_nanos().to_string(),
        "16",
    ),
    (
        "tx_timestamp_timeout 100",
        |c| c.ports[0].tx_timestamp_timeout.as_nanos().to_string(),
        "100000000",
    ),
    // log2 seconds in ptp4l, a duration in statime.
    (
        "fault_reset_interval 2",
        |c| c.ports[0].fault_reset_interval.as_nanos().to_string(),
        "4000000000",
    ),
    (
        "fault_reset_interval -1",
        |c| c.ports[0].fault_reset_interval.as_nanos().to_string(),
        "500000000",
    ),
    (
        "delay_filter_length 5",
        |c| c.ports[0].delay_filter_length.to_string(),
        "5",
    ),
    ("udp_ttl 4", |c| c.ports[0].multicast_ttl.to_string(), "4"),
    (
        "masterOnly 1",
        |c| c.ports[0].master_only.to_string(),
        "true",
    ),
    (
        "serverOnly 1",
        |c| c.ports[0].master_only.to_string(),
        "true",
    ),
    // Seconds as ptp4l's %lf, exponent notation too.
    (
        "step_threshold 1.5",
        |c| c.servo.step_threshold.as_nanos().to_string(),
        "1500000000",
    ),
    (
        "first_step_threshold 2e-5",
        |c| c.servo.first_step_threshold.as_nanos().to_string(),
        "20000",
    ),
    (
        "max_frequency 500000",
        |c| c.servo.max_frequency.to_string(),
        "500000",
    ),
    ("clock_servo pi", |c| format!("{:?}", c.servo.kind), "Pi"),
    (
        "clock_servo linreg",
        |c| format!("{:?}", c.servo.kind),
        "Kalman",
    ),
    (
        "pi_proportional_const 0.5\npi_integral_const 0.125",
        |c| {
            format!(
                "{} {}",
                c.servo.pi.proportional_const, c.servo.pi.integral_const
            )
        },
        "0.5 0.125",
    ),
    (
        "servo_offset_threshold 30\nservo_num_offset_values 5",
        |c| {
            format!(
                "{} {}",
                c.servo.stable_offset_threshold.as_nanos(),
                c.servo.stable_sample_count
            )
        },
        "30 5",
    ),
    (
        "free_running 1",
        |c| c.clock.observe_only.to_string(),
        "true",
    ),
    (
        "logging_level 7",
        |c| format!("{:?}", c.logging.level),
        "Debug",
    ),
    (
        "logging_level 4",
        |c| format!("{:?}", c.logging.level),
        "Warn",
    ),
    (
        "verbose 1\nuse_syslog 0",
        |c| format!("{} {}", c.logging.stdout, c.logging.syslog),
        "true false",
    ),
    (
        "summary_interval 2",
        |c| c.logging.summary_interval.to_string(),
        "2",
    ),
    (
        "uds_address /run/ptp4l-test",
        |c| format!("{:?}", c.observability.management_socket),
        "Some(\"/run/ptp4l-test\")",
    ),
];

#[test]
fn each_option_maps_to_its_statime_value() {
    for (options, probe, expected) in MAPPINGS {
        let (config, conv) = convert_global(options);
        assert_eq!(probe(&config), *expected, "{options}\n{}", conv.toml);
        // Carried over exactly: no remark about it.
        let named: Vec<_> = conv
            .remarks
            .iter()
            .filter(|r| r.fate == Fate::NotCarried)
            .collect();
        assert!(named.is_empty(), "{options}: {named:?}");
    }
}

#[test]
fn what_ptp4l_does_by_default_the_output_does_too() {
    let (c, conv) = convert_global("");
    // ptp4l's servo, log lines, time stamps and delay mechanism.
    assert_eq!(c.servo.kind, ServoKind::Pi);
    assert_eq!(c.logging.format, statime_linux::config::LogFormat::Ptp4l);
    assert_eq!(c.logging.level, LogLevel::Info);
    assert_eq!(c.ports.len(), 1);
    assert_eq!(c.ports[0].interface, "veth0");
    assert_eq!(c.ports[0].timestamping, Timestamping::Hardware);
    assert_eq!(c.ports[0].transport, Transport::UdpIpv4);
    assert_eq!(c.ports[0].delay_mechanism, DelayMechanism::E2e);
    assert_eq!(c.time_source, TimeSourceName::InternalOscillator);
    assert!(conv.remarks.is_empty(), "{:?}", conv.remarks);
    assert!(conv.toml.contains("# Every option was carried over."));
    // The header names the source file.
    assert!(conv.toml.contains("\n# t.cfg\n"), "{}", conv.toml);
}

#[test]
fn port_sections_override_global_port_options() {
    let text = "[global]\nlogSyncInterval -3\nnetwork_transport L2\n\
                [eth1]\nlogSyncInterval 1\nmasterOnly 1\n[eth2]\n";
    let conv = convert_str(text, "bc.cfg").expect("converts");
    assert_eq!(conv.ports, 2);
    let c = Config::from_toml(&conv.toml, "bc.toml").expect("valid");
    let got: Vec<_> = c
        .ports
        .iter()
        .map(|p| {
            (
                p.interface.as_str(),
                p.sync_interval,
                p.master_only,
                p.transport,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("eth1", 1, true, Transport::Ethernet),
            ("eth2", -3, false, Transport::Ethernet)
        ]
    );
    assert!(conv.toml.contains("# [eth1] logSyncInterval 1 (line 5)"));
}

/// ptp4l option -> (fate, option) expected among the remarks (None: no
/// remark at all).
const REMARKS: &[(&str, Option<(Fate, &str)>)] = &[
    ("hybrid_e2e 1", Some((Fate::NotCarried, "hybrid_e2e"))),
    ("unicast_listen 1", None),
    ("inhibit_multicast_service 0", None),
    ("dscp_event 46", Some((Fate::NotCarried, "dscp_event"))),
    ("dscp_event 0", None),
    ("BMCA noop", Some((Fate::NotCarried, "BMCA"))),
    ("BMCA ptp", None),
    (
        "clock_servo ntpshm",
        Some((Fate::NotCarried, "clock_servo")),
    ),
    (
        "clock_servo linreg",
        Some((Fate::Approximated, "clock_servo")),
    ),
    (
        "delay_mechanism Auto",
        Some((Fate::Approximated, "delay_mechanism")),
    ),
    // Transparent clocks are carried (clock-type = "E2E_TC").
    ("clock_type E2E_TC", None),
    ("tc_spanning_tree 1", None),
    ("clock_type BC", None),
    ("message_tag [ptp4l.0.config]", None),
    ("userDescription rack 3;lab", None),
    ("dataset_comparison G.8275.x", None),
    (
        "dataset_comparison G.8275.x\nG.8275.portDS.localPriority 200",
        None,
    ),
    // localPriority only matters with the telecom BMCA, in ptp4l too.
    ("G.8275.portDS.localPriority 128", None),
    (
        "G.8275.portDS.localPriority 200",
        Some((Fate::NotCarried, "G.8275.portDS.localPriority")),
    ),
    ("ptp_dst_mac 01:1B:19:00:00:00", None),
    // Carried on Ethernet (802.1AS sends everything there).
    ("network_transport L2\nptp_dst_mac 01:80:C2:00:00:0E", None),
    (
        "max_frequency 0",
        Some((Fate::Approximated, "max_frequency")),
    ),
    (
        "logging_level 5",
        Some((Fate::Approximated, "logging_level")),
    ),
    (
        "fault_reset_interval ASAP",
        Some((Fate::Approximated, "fault_reset_interval")),
    ),
    (
        "logSyncInterval -8",
        Some((Fate::NotCarried, "logSyncInterval")),
    ),
    // No effect with E2E, in ptp4l either: silent at the default only.
    ("logMinPdelayReqInterval 0", None),
    (
        "logMinPdelayReqInterval 2",
        Some((Fate::NotCarried, "logMinPdelayReqInterval")),
    ),
    // slaveOnly overrides the class in ptp4l as in statime.
    (
        "slaveOnly 1\nclockClass 6",
        Some((Fate::NotCarried, "clockClass")),
    ),
    (
        "slaveOnly 1\nmasterOnly 1",
        Some((Fate::NotCarried, "masterOnly")),
    ),
    (
        "twoStepFlag 0\ntime_stamping software",
        Some((Fate::NotCarried, "twoStepFlag")),
    ),
    ("gmCapable 1", None),
    (
        "time_stamping software\nphc_index 0",
        Some((Fate::NotCarried, "phc_index")),
    ),
    ("gmCapable 0", Some((Fate::NotCarried, "gmCapable"))),
    ("delay_mechanism P2P\nneighborPropDelayThresh 800", None),
    (
        "ts2phc.pulsewidth 100000000",
        Some((Fate::NotCarried, "ts2phc.pulsewidth")),
    ),
    (
        "no_such_option 1",
        Some((Fate::NotCarried, "no_such_option")),
    ),
    // The summary ptp4l prints when Sync is faster than the summary interval.
    (
        "logSyncInterval -3",
        Some((Fate::Approximated, "summary_interval")),
    ),
    ("logSyncInterval -3\nsummary_interval 1", None),
];

#[test]
fn options_that_do_not_carry_over_are_named() {
    for (options, expected) in REMARKS {
        let (_, conv) = convert_global(options);
        let got = fates(&conv);
        match expected {
            None => assert!(got.is_empty(), "{options}: {got:?}"),
            Some((fate, option)) => assert_eq!(
                got,
                [(*fate, (*option).to_owned())],
                "{options}\n{}",
                conv.toml
            ),
        }
        // Each remark is in the header of the TOML too.
        for r in &conv.remarks {
            assert!(
                conv.toml.contains(&r.to_string()),
                "{options}: {r} not in\n{}",
                conv.toml
            );
        }
    }
}

#[test]
fn remark_format() {
    let (_, conv) = convert_global("hybrid_e2e 1");
    assert_eq!(
        conv.remarks,
        [Remark {
            fate: Fate::NotCarried,
            section: None,
            option: "hybrid_e2e".into(),
            value: "1".into(),
            line: 2,
            reason: conv.remarks[0].reason.clone(),
        }]
    );
    let text = conv.remarks[0].to_string();
    assert!(
        text.starts_with("not carried over: hybrid_e2e = 1 (unicast Delay_Req"),
        "{text}"
    );
    let conv = convert_str("[global]\n[eth1]\nnet_sync_monitor 1\n", "t.cfg").expect("ok");
    assert_eq!(
        conv.remarks[0].to_string(),
        "not carried over: [eth1] net_sync_monitor = 1 (NetSync Monitor is not implemented)"
    );
}

/// Text -> (line, start of the message) of the error.
const ERRORS: &[(&str, usize, &str)] = &[
    (
        "[global]\npriority1 300\n",
        2,
        "priority1: 300 is out of ptp4l's range 0..=255",
    ),
    (
        "[global]\n\npriority1 128 # comment\n",
        3,
        "priority1: \"128 # comment\" is not an integer",
    ),
    (
        "[global]\npriority1\n",
        2,
        "option \"priority1\" has no value",
    ),
    (
        "priority1 128\n",
        1,
        "option \"priority1\" is outside any section",
    ),
    (
        "# ptp4l\n[global\n",
        2,
        "section header \"[global\" has no closing ']'",
    ),
    ("[]\n", 1, "empty section name"),
    (
        "[global]\n[a-very-long-interface]\n",
        2,
        "port section [a-very-long-interface] is not an interface statime can use",
    ),
    (
        "[global]\n\n[eth0:1]\n",
        3,
        "port section [eth0:1] is not an interface statime can use",
    ),
    (
        "[global]\nnetwork_transport UDPv5\n",
        2,
        "network_transport: \"UDPv5\" is not one of UDPv4, UDPv6, L2",
    ),
    (
        "[global]\nstep_threshold -1\n",
        2,
        "step_threshold: -1 is out of ptp4l's range",
    ),
    (
        "[eth0]\nptp_dst_mac 01:1B:19\n",
        2,
        "ptp_dst_mac: \"01:1B:19\" is not a MAC address",
    ),
    (
        "[global]\nclockIdentity 12345\n",
        2,
        "clockIdentity: invalid clock identity",
    ),
    // Unicast master tables, as ptp4l's config_read and port start see them.
    (
        "[global]\nunicast_master_table 2\n[eth0]\n",
        2,
        "unicast_master_table: no [unicast_master_table] section has table_id 2",
    ),
    (
        "[unicast_master_table]\nUDPv4 192.0.2.1\n",
        2,
        "UDPv4: missing table_id",
    ),
    (
        "[unicast_master_table]\ntable_id 0\n",
        2,
        "table_id: 0 is out of ptp4l's range 1..=2147483647",
    ),
    (
        "[unicast_master_table]\ntable_id 1\n[unicast_master_table]\ntable_id 1\n",
        4,
        "table_id: 1 is already taken (line 2)",
    ),
    (
        "[unicast_master_table]\ntable_id 1\nUDPv4 192.0.2.300\n",
        3,
        "UDPv4: \"192.0.2.300\" is not an IPv4 address",
    ),
    (
        "[unicast_master_table]\ntable_id 1\nL2 00:11:22\n",
        3,
        "L2: \"00:11:22\" is not a MAC (aa:bb:cc:dd:ee:ff) address",
    ),
    (
        "[unicast_master_table]\ntable_id 1\nlogQueryInterval 200\n",
        3,
        "logQueryInterval: 200 is out of ptp4l's range -128..=127",
    ),
    (
        "[global]\nunicast_req_duration 5\n",
        2,
        "unicast_req_duration: 5 is out of ptp4l's range 10..=2147483647",
    ),
];

#[test]
fn values_ptp4l_refuses_are_errors_with_file_and_line() {
    for (text, line, message) in ERRORS {
        let e = convert_str(text, "bad.cfg").expect_err(text);
        assert_eq!(e.origin, "bad.cfg");
        assert_eq!(e.line, *line, "{text}: {e}");
        assert!(e.message.starts_with(message), "{text}: {e}");
        assert!(
            e.to_string()
                .starts_with(&format!("bad.cfg:{line}: {message}")),
            "{e}"
        );
    }
}

fn debian_configs() -> Option<Vec<PathBuf>> {
    let Ok(dir) = std::fs::read_dir(DEBIAN_CONFIGS) else {
        eprintln!("skipping: {DEBIAN_CONFIGS} is absent (apt-get install linuxptp)");
        return None;
    };
    let mut files: Vec<PathBuf> = dir
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.cfg in {DEBIAN_CONFIGS}");
    Some(files)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Converts a Debian file; without a port section, adds `[veth0]` to the
/// ptp4l text first, as a user would.
fn convert_with_port(path: &Path) -> (Conversion, Config) {
    let origin = path.display().to_string();
    let mut text = read(path);
    let first = convert_str(&text, &origin).unwrap_or_else(|e| panic!("{e}"));
    if first.ports == 0 {
        assert!(
            first
                .of(Fate::Note)
                .any(|n| n.reason.contains("no port section")),
            "{origin}: the missing port is not said"
        );
        assert!(first.toml.contains("\n# [[port]]\n"), "{}", first.toml);
        text.push_str("\n[veth0]\n");
    }
    let conv = convert_str(&text, &origin).unwrap_or_else(|e| panic!("{e}"));
    assert!(conv.ports >= 1);
    let config = Config::from_toml(&conv.toml, &origin)
        .unwrap_or_else(|e| panic!("{origin}: {e}\n{}", conv.toml));
    // One warning is expected: a clock the converter made slave-only for
    // its unicast client ports (UNICAST-SLAVE.cfg has two) serves time on
    // none of its ports, which statime points out.
    let forced = conv
        .of(Fate::Note)
        .any(|n| n.reason.contains("needs slave-only = true"));
    let warnings: Vec<_> = config
        .warnings()
        .into_iter()
        .filter(|w| !(forced && w.to_string().contains("is not a boundary clock")))
        .collect();
    assert!(warnings.is_empty(), "{origin}: {warnings:?}\n{}", conv.toml);
    (conv, config)
}

#[test]
fn every_debian_example_converts_and_validates() {
    let Some(files) = debian_configs() else {
        return;
    };
    for path in &files {
        let (conv, _) = convert_with_port(path);
        let name = path.display().to_string();
        assert!(conv.toml.starts_with("# Converted by statime-ctl convert"));
        assert!(
            conv.toml.contains(&format!("\n# {name}\n")),
            "{}",
            conv.toml
        );
        // Every remark names an option that is really in the file, on its
        // line (or is ptp4l's default, line 0).
        let source = read(path);
        let lines: Vec<&str> = source.lines().collect();
        for r in conv.remarks.iter().filter(|r| r.fate != Fate::Note) {
            if r.line == 0 {
                assert!(r.value.contains("ptp4l's default"), "{name}: {r}");
                continue;
            }
            let line = lines[r.line - 1].trim_start();
            assert!(
                line.starts_with(&r.option) && line.contains(&r.value),
                "{name}:{}: {line:?} vs {r}",
                r.line
            );
        }
    }
}

#[test]
fn the_commented_placeholder_is_the_port_a_section_would_give() {
    let Some(files) = debian_configs() else {
        return;
    };
    let path = files
        .iter()
        .find(|p| p.ends_with("gPTP.cfg"))
        .expect("gPTP.cfg ships with linuxptp");
    let text = read(path);
    let conv = convert_str(&text, "gPTP.cfg").expect("converts");
    assert_eq!(conv.ports, 0);
    // Uncomment the placeholder table and name the interface.
    let mut toml = String::new();
    let mut inside = false;
    for line in conv.toml.lines() {
        if line == "# [[port]]" {
            inside = true;
        } else if line.is_empty() {
            inside = false;
        }
        let line = if inside {
            line.strip_prefix("# ")
                .unwrap_or(line)
                .replace("\"eth0\"", "\"veth0\"")
        } else {
            line.to_owned()
        };
        toml.push_str(&line);
        toml.push('\n');
    }
    let by_hand = Config::from_toml(&toml, "by-hand.toml").expect("valid");
    let with_section = convert_str(&format!("{text}\n[veth0]\n"), "gPTP.cfg").expect("ok");
    let from_section = Config::from_toml(&with_section.toml, "s.toml").expect("valid");
    assert_eq!(by_hand.ports, from_section.ports);
    assert_eq!(by_hand.ports[0].sync_interval, -3);
}

fn remark_set(conv: &Conversion) -> BTreeSet<(Fate, Option<String>, String)> {
    conv.remarks
        .iter()
        .filter(|r| r.fate != Fate::Note)
        .map(|r| (r.fate, r.section.clone(), r.option.clone()))
        .collect()
}

fn set_of(items: &[(Fate, Option<&str>, &str)]) -> BTreeSet<(Fate, Option<String>, String)> {
    items
        .iter()
        .map(|(f, s, o)| (*f, s.map(str::to_owned), (*o).to_owned()))
        .collect()
}

fn debian(name: &str) -> Option<(Conversion, Config)> {
    let files = debian_configs()?;
    let path = files
        .iter()
        .find(|p| p.file_name().is_some_and(|n| n == name))
        .unwrap_or_else(|| panic!("{name} ships with linuxptp"));
    Some(convert_with_port(path))
}

#[test]
fn gptp_cfg() {
    use Fate::{Approximated, NotCarried};
    let Some((conv, c)) = debian("gPTP.cfg") else {
        return;
    };
    assert_eq!(
        remark_set(&conv),
        set_of(&[
            (NotCarried, None, "assume_two_step"),
            (Approximated, None, "summary_interval"),
        ]),
        "{}",
        conv.toml
    );
    // What does carry over.
    assert_eq!((c.priority1, c.priority2, c.sdo_id), (248, 248, 0x100));
    let p = &c.ports[0];
    assert_eq!(p.transport, Transport::Ethernet);
    assert_eq!(p.delay_mechanism, DelayMechanism::P2p);
    assert_eq!((p.announce_interval, p.sync_interval), (0, -3));
    assert_eq!(p.sync_receipt_timeout, 3);
    // The 802.1AS parts.
    assert!(c.follow_up_info && c.path_trace);
    assert_eq!(
        p.neighbor_prop_delay_thresh
            .map(statime_linux::config::ConfigDuration::as_nanos),
        Some(800)
    );
    assert_eq!(p.primary_mac(), [0x01, 0x80, 0xC2, 0x00, 0x00, 0x0E]);
}

#[test]
fn g8275_1_cfg() {
    use Fate::Approximated;
    let Some((conv, c)) = debian("G.8275.1.cfg") else {
        return;
    };
    assert_eq!(
        remark_set(&conv),
        set_of(&[(Approximated, None, "summary_interval")]),
        "{}",
        conv.toml
    );
    let p = &c.ports[0];
    assert_eq!(p.transport, Transport::Ethernet);
    assert_eq!(
        (p.announce_interval, p.sync_interval, p.delay_interval),
        (-3, -4, -4)
    );
    assert_eq!(c.max_steps_removed, 255);
    assert!(!p.master_only);
    // The alternate BMCA and its priorities carry over.
    assert_eq!(
        c.dataset_comparison,
        statime_linux::config::DatasetComparisonName::Telecom
    );
    assert_eq!((c.local_priority, p.local_priority), (128, 128));
    assert_eq!(p.primary_mac(), [0x01, 0x80, 0xC2, 0x00, 0x00, 0x0E]);
}

#[test]
fn unicast_slave_cfg() {
    use Fate::{NotCarried, Note};
    let Some((conv, c)) = debian("UNICAST-SLAVE.cfg") else {
        return;
    };
    // Tables 1 and 2 are carried over; table 3 (P2P, peer_address) is used
    // by no port.
    let table = Some("unicast_master_table");
    assert_eq!(
        remark_set(&conv),
        set_of(&[
            (NotCarried, table, "table_id"),
            (NotCarried, table, "logQueryInterval"),
            (NotCarried, table, "peer_address"),
            (NotCarried, table, "UDPv4"),
        ]),
        "{}",
        conv.toml
    );
    let unused: Vec<usize> = conv
        .remarks
        .iter()
        .filter(|r| r.section.as_deref() == table)
        .map(|r| r.line)
        .collect();
    let source = read(&PathBuf::from(DEBIAN_CONFIGS).join("UNICAST-SLAVE.cfg"));
    let lines: Vec<&str> = source.lines().collect();
    let table_3 = lines
        .iter()
        .position(|l| l.starts_with("table_id") && l.ends_with('3'))
        .expect("table 3")
        + 1;
    assert_eq!(unused, [table_3, table_3 + 1, table_3 + 2, table_3 + 3]);
    // No slaveOnly in the file: the converter makes the clock slave-only.
    assert!(c.slave_only);
    assert_eq!(conv.of(Note).count(), 1, "{:?}", conv.remarks);
    assert!(
        conv.of(Note)
            .any(|n| n.reason.contains("needs slave-only = true")),
        "{:?}",
        conv.remarks
    );
    let ports: Vec<_> = c
        .ports
        .iter()
        .map(|p| {
            (
                p.interface.as_str(),
                p.transport,
                p.unicast_master_table.clone(),
                p.unicast_query_interval,
                p.unicast_request_duration,
            )
        })
        .collect();
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        ports,
        [
            (
                "eth0",
                Transport::UdpIpv4,
                strings(&["192.168.1.11", "192.168.2.22", "192.168.3.33"]),
                2,
                60
            ),
            (
                "eth1",
                Transport::Ethernet,
                strings(&["00:11:22:33:44:55"]),
                2,
                60
            )
        ]
    );
    // Each key names where it came from.
    assert!(
        conv.toml
            .contains("# [unicast_master_table] logQueryInterval 2 (line"),
        "{}",
        conv.toml
    );
    assert!(
        conv.toml.contains("# [eth0] unicast_master_table 1 (line"),
        "{}",
        conv.toml
    );
}

#[test]
fn g8275_2_cfg() {
    use Fate::NotCarried;
    let Some((conv, c)) = debian("G.8275.2.cfg") else {
        return;
    };
    // As shipped, the table is commented out: a unicast server
    // (unicast_listen, inhibit_multicast_service) in the telecom comparison.
    assert_eq!(
        remark_set(&conv),
        set_of(&[
            (NotCarried, None, "hybrid_e2e"),
            (NotCarried, None, "unicast_req_duration"),
        ]),
        "{}",
        conv.toml
    );
    assert!(!c.slave_only);
    assert!(c.ports[0].unicast_master_table.is_empty());
    assert!(c.ports[0].unicast_listen && c.ports[0].inhibit_multicast_service);
    assert_eq!(
        c.dataset_comparison,
        statime_linux::config::DatasetComparisonName::Telecom
    );

    // Customised for slave operation as its comment says: the table and
    // the [eth0] section uncommented.
    let path = PathBuf::from(DEBIAN_CONFIGS).join("G.8275.2.cfg");
    let text: String = read(&path)
        .lines()
        .map(|l| {
            let t = l.trim_start_matches('#');
            if t.starts_with('[')
                || [
                    "table_id",
                    "logQueryInterval",
                    "UDPv4",
                    "unicast_master_table",
                ]
                .iter()
                .any(|k| t.starts_with(k))
            {
                format!("{t}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert!(text.contains("\n[eth0]\n"), "{text}");
    let conv = convert_str(&text, "G.8275.2-slave.cfg").expect("converts");
    let c =
        Config::from_toml(&conv.toml, "out.toml").unwrap_or_else(|e| panic!("{e}\n{}", conv.toml));
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    // A unicast client sends Delay_Req to its master by unicast and serves
    // nothing by multicast: hybrid_e2e and inhibit_multicast_service are
    // what it does anyway; serving clients (unicast_listen) is not done.
    assert_eq!(
        remark_set(&conv),
        set_of(&[(NotCarried, None, "unicast_listen")]),
        "{}",
        conv.toml
    );
    assert!(
        c.slave_only,
        "masterOnly 0 and no slaveOnly: set for the client"
    );
    let p = &c.ports[0];
    assert_eq!(p.interface, "eth0");
    assert_eq!(p.unicast_master_table, ["192.168.1.11"]);
    assert_eq!(
        (p.unicast_query_interval, p.unicast_request_duration),
        (2, 60)
    );
    assert_eq!(p.announce_interval, 0);
    // With the profile added, the same file is a valid G.8275.2 slave
    // except for the domain ptp4l's file leaves at 0.
    let with_profile = format!("profile = \"g.8275.2\"\ndomain = 44\n{}", conv.toml);
    let g = Config::from_toml(&with_profile, "g.toml")
        .unwrap_or_else(|e| panic!("{e}\n{with_profile}"));
    assert_eq!(g.ports[0].sync_interval, -4);
}

/// ptp4l text -> what the first port's unicast keys become (table,
/// query interval, request duration) and the remarks expected, as
/// (fate, option).
type UnicastCase = (
    &'static str,
    &'static [&'static str],
    i8,
    u32,
    &'static [(Fate, &'static str)],
);

const UNICAST: &[UnicastCase] = &[
    // The section the port's table_id names; ptp4l's default duration
    // (3600 s, statime's is 300) is written.
    (
        "[global]\nslaveOnly 1\n[unicast_master_table]\ntable_id 7\nUDPv4 192.0.2.1\n\
         UDPv4 192.0.2.2\n[eth0]\nunicast_master_table 7\n",
        &["192.0.2.1", "192.0.2.2"],
        0,
        3600,
        &[],
    ),
    // Per-port duration over the global one; query interval clamped.
    (
        "[global]\nslaveOnly 1\nunicast_req_duration 60\n[unicast_master_table]\ntable_id 1\n\
         logQueryInterval 9\nUDPv4 192.0.2.1\n[eth0]\nunicast_master_table 1\n\
         unicast_req_duration 120\n",
        &["192.0.2.1"],
        6,
        120,
        &[(Fate::Approximated, "logQueryInterval")],
    ),
    // Durations beyond statime's 86400 s.
    (
        "[global]\nslaveOnly 1\nunicast_master_table 1\nunicast_req_duration 100000\n\
         [unicast_master_table]\ntable_id 1\nUDPv4 192.0.2.1\n[eth0]\n",
        &["192.0.2.1"],
        0,
        86400,
        &[(Fate::Approximated, "unicast_req_duration")],
    ),
    // IPv6 and L2 masters on a UDPv6 port: the L2 one is named; so are a
    // multicast address, a duplicate and a transport statime lacks.
    (
        "[global]\nslaveOnly 1\nnetwork_transport UDPv6\n[unicast_master_table]\ntable_id 1\n\
         UDPv6 2001:db8::1\nL2 00:11:22:33:44:55\nUDPv6 ff0e::181\nUDPv6 2001:db8::1\n\
         UDS /run/ptp\n[eth0]\nunicast_master_table 1\n",
        &["2001:db8::1"],
        0,
        3600,
        &[
            (Fate::NotCarried, "L2"),
            (Fate::NotCarried, "UDPv6"),
            (Fate::NotCarried, "UDS"),
        ],
    ),
    // More than statime's 8 masters.
    (
        "[global]\nslaveOnly 1\n[unicast_master_table]\ntable_id 1\nUDPv4 192.0.2.1\n\
         UDPv4 192.0.2.2\nUDPv4 192.0.2.3\nUDPv4 192.0.2.4\nUDPv4 192.0.2.5\nUDPv4 192.0.2.6\n\
         UDPv4 192.0.2.7\nUDPv4 192.0.2.8\nUDPv4 192.0.2.9\n[eth0]\nunicast_master_table 1\n",
        &[
            "192.0.2.1",
            "192.0.2.2",
            "192.0.2.3",
            "192.0.2.4",
            "192.0.2.5",
            "192.0.2.6",
            "192.0.2.7",
            "192.0.2.8",
        ],
        0,
        3600,
        &[(Fate::NotCarried, "UDPv4")],
    ),
    // A table with no master of the port's transport: a multicast port.
    (
        "[global]\nslaveOnly 1\n[unicast_master_table]\ntable_id 1\nL2 00:11:22:33:44:55\n\
         [eth0]\nunicast_master_table 1\n",
        &[],
        0,
        300,
        &[
            (Fate::NotCarried, "L2"),
            (Fate::NotCarried, "unicast_master_table"),
        ],
    ),
    // P2P unicast (peer_address) is not supported: the table stays out.
    (
        "[global]\nslaveOnly 1\ndelay_mechanism P2P\n[unicast_master_table]\ntable_id 1\n\
         peer_address 192.0.2.1\nUDPv4 192.0.2.1\n[eth0]\nunicast_master_table 1\n",
        &[],
        0,
        300,
        &[(Fate::NotCarried, "unicast_master_table")],
    ),
    // A duration without a table has no effect, in ptp4l either; a table
    // no port uses is named line by line.
    (
        "[global]\nunicast_req_duration 60\n[unicast_master_table]\ntable_id 1\n\
         logQueryInterval 1\nUDPv4 192.0.2.1\n[eth0]\n",
        &[],
        0,
        300,
        &[
            (Fate::NotCarried, "unicast_req_duration"),
            (Fate::NotCarried, "table_id"),
            (Fate::NotCarried, "logQueryInterval"),
            (Fate::NotCarried, "UDPv4"),
        ],
    ),
    // unicast_master_table 0 is ptp4l's "none"; ptp4l's default duration
    // is silent.
    (
        "[global]\nunicast_master_table 0\nunicast_req_duration 3600\n[eth0]\n",
        &[],
        0,
        300,
        &[],
    ),
    // A transparent clock negotiates nothing.
    (
        "[global]\nclock_type E2E_TC\n[unicast_master_table]\ntable_id 1\nUDPv4 192.0.2.1\n\
         [eth0]\nunicast_master_table 1\n",
        &[],
        0,
        300,
        &[(Fate::NotCarried, "unicast_master_table")],
    ),
];

#[test]
fn unicast_master_tables_carry_over() {
    for (text, masters, query, duration, expected) in UNICAST {
        let conv = convert_str(text, "u.cfg").unwrap_or_else(|e| panic!("{text}: {e}"));
        let c = Config::from_toml(&conv.toml, "out.toml")
            .unwrap_or_else(|e| panic!("{text}: {e}\n{}", conv.toml));
        assert!(
            c.warnings().is_empty(),
            "{text}: {:?}\n{}",
            c.warnings(),
            conv.toml
        );
        let p = &c.ports[0];
        assert_eq!(p.unicast_master_table, *masters, "{text}\n{}", conv.toml);
        assert_eq!(
            (p.unicast_query_interval, p.unicast_request_duration),
            (*query, *duration),
            "{text}\n{}",
            conv.toml
        );
        let got: BTreeSet<(Fate, String)> = conv
            .remarks
            .iter()
            .filter(|r| r.fate != Fate::Note)
            .map(|r| (r.fate, r.option.clone()))
            .collect();
        let want: BTreeSet<(Fate, String)> = expected
            .iter()
            .map(|(f, o)| (*f, (*o).to_owned()))
            .collect();
        assert_eq!(got, want, "{text}\n{}", conv.toml);
    }
}

#[test]
fn a_unicast_client_is_made_slave_only() {
    let text = "[global]\nclockClass 248\n[unicast_master_table]\ntable_id 1\nUDPv4 192.0.2.1\n\
                [eth0]\nunicast_master_table 1\n";
    let conv = convert_str(text, "u.cfg").expect("converts");
    let c = Config::from_toml(&conv.toml, "out.toml").expect("valid");
    assert!(c.slave_only);
    assert!(
        conv.toml.lines().any(|l| l.starts_with("slave-only = true")
            && l.contains("# a unicast client (unicast_master_table) must be slave-only")),
        "{}",
        conv.toml
    );
    let notes: Vec<_> = conv.of(Fate::Note).collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    // Said once; not at all when the file is slave-only already.
    let conv = convert_str(&format!("[global]\nslaveOnly 1\n{}", &text[9..]), "u.cfg").unwrap();
    assert_eq!(conv.of(Fate::Note).count(), 0, "{:?}", conv.remarks);
    // Without a table, masters stay possible.
    let conv = convert_str("[global]\nunicast_listen 1\n[eth0]\n", "u.cfg").unwrap();
    assert!(!conv.toml.contains("slave-only"), "{}", conv.toml);
}

// ---------------------------------------------------------------------
// The binary.

fn ctl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
        .args(args)
        .output()
        .expect("run statime-ctl")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("statime-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

#[test]
fn cli_writes_toml_to_stdout_and_remarks_to_stderr() {
    let cfg = temp("slave.cfg");
    std::fs::write(
        &cfg,
        "# a slave\n[global]\nslaveOnly 1\ntime_stamping software\nhybrid_e2e 1\n\
         dscp_event 46\n\n[veth0]\nlogSyncInterval -1\n",
    )
    .expect("write");
    let name = cfg.display().to_string();
    let out = ctl(&["convert", &name]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let toml = text(&out.stdout);
    let c = Config::from_toml(&toml, "stdout").expect("stdout is a valid statime.toml");
    assert!(c.slave_only);
    assert_eq!(c.ports[0].timestamping, Timestamping::Software);
    assert_eq!(c.ports[0].sync_interval, -1);
    assert_eq!(
        text(&out.stderr),
        format!(
            "{name}:5: not carried over: hybrid_e2e = 1 (unicast Delay_Req (hybrid E2E) is not \
             implemented; Delay_Req goes by multicast)\n\
             {name}:6: not carried over: dscp_event = 46 (statime does not mark DSCP)\n\
             {name}: approximated: summary_interval = 0 (ptp4l's default) (ptp4l prints one \
             summary line per 2^0 s because logSyncInterval -1 is shorter; statime summarises \
             only with summary-interval above 0 and prints every sample here)\n"
        )
    );

    // --output: the same TOML in the file, nothing on stdout.
    let dest = temp("slave.toml");
    let dest_name = dest.display().to_string();
    let out2 = ctl(&["convert", &name, "--output", &dest_name]);
    assert_eq!(out2.status.code(), Some(0));
    assert_eq!(text(&out2.stdout), "");
    assert_eq!(std::fs::read_to_string(&dest).expect("written"), toml);
    assert_eq!(text(&out2.stderr), text(&out.stderr));
    // And statime-ctl validate accepts the file.
    let v = ctl(&["validate", &dest_name]);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v.stderr));
    assert_eq!(text(&v.stdout), format!("{dest_name}: ok\n"));
}

#[test]
fn cli_converts_unicast_slave_cfg_to_a_file_validate_accepts() {
    let Some(files) = debian_configs() else {
        return;
    };
    let path = files
        .iter()
        .find(|p| p.ends_with("UNICAST-SLAVE.cfg"))
        .expect("shipped");
    let dest = temp("unicast-slave.toml");
    let dest_name = dest.display().to_string();
    let out = ctl(&["convert", &path.display().to_string(), "-o", &dest_name]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Valid; the one warning is that a slave-only clock (the converter
    // made it one for its unicast client ports) serves time on neither.
    let v = ctl(&["validate", &dest_name]);
    let said = format!("{}{}", text(&v.stdout), text(&v.stderr));
    assert_eq!(v.status.code(), Some(0), "{said}");
    assert!(
        said.contains(&format!("{dest_name}: ok (1 warning(s))")),
        "{said}"
    );
    assert!(said.contains("is not a boundary clock"), "{said}");
}

#[test]
fn cli_malformed_file_gives_file_line_and_exit_1() {
    let cfg = temp("broken.cfg");
    std::fs::write(&cfg, "[global]\npriority1 128\ndomainNumber twenty\n").expect("write");
    let name = cfg.display().to_string();
    let out = ctl(&["convert", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        format!(
            "{name}:3: domainNumber: \"twenty\" is not an integer (ptp4l allows comments only \
             on lines of their own)\n"
        )
    );
    let missing = temp("missing.cfg").display().to_string();
    let out = ctl(&["convert", &missing]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with(&format!("{missing}: cannot read: ")),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn cli_on_a_debian_example() {
    let Some(files) = debian_configs() else {
        return;
    };
    let path = files
        .iter()
        .find(|p| p.ends_with("G.8275.1.cfg"))
        .expect("shipped");
    let name = path.display().to_string();
    let out = ctl(&["convert", &name]);
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    let conv = convert_str(&read(path), &name).expect("ok");
    assert_eq!(lines.len(), conv.remarks.len(), "{err}");
    for (l, r) in lines.iter().zip(&conv.remarks) {
        let expected = if r.line == 0 {
            format!("{name}: {r}")
        } else {
            format!("{name}:{}: {r}", r.line)
        };
        assert_eq!(*l, expected);
    }
    assert!(err.contains(": approximated: summary_interval"), "{err}");
    assert_eq!(text(&out.stdout), conv.toml);
}

// ---------------------------------------------------------------------
// docs/migrating-from-ptp4l.md: every row is what the converter does.

/// The backticked spans of a table cell.
fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

#[test]
fn migration_table_matches_the_converter() {
    let doc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/migrating-from-ptp4l.md");
    let text = read(&doc);
    let mut rows = 0;
    for line in text.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let ptp4l = code_spans(cells[0]);
        // The option a row is about: its first span, or for a row that
        // spells out a [unicast_master_table] section, the first line of
        // the section after table_id.
        let option = ptp4l
            .iter()
            .filter_map(|s| s.split_whitespace().next())
            .find(|o| !o.starts_with('[') && *o != "table_id")
            .expect("option");
        let conv = convert_str(
            &format!("[global]\n{}\n[veth0]\n", ptp4l.join("\n")),
            "doc.cfg",
        )
        .unwrap_or_else(|e| panic!("{line}: {e}"));
        let remarks: Vec<&Remark> = conv.remarks.iter().filter(|r| r.option == option).collect();
        if cells[1].trim() == "—" {
            // Not carried over: the converter names it.
            assert!(!remarks.is_empty(), "{line}\nno remark:\n{}", conv.toml);
        } else {
            let expected = code_spans(cells[1])[0];
            let key_value = expected
                .strip_prefix('[')
                .and_then(|r| r.split_once("] "))
                .map_or(expected, |(_, kv)| kv);
            assert!(
                conv.toml.lines().any(|l| l.starts_with(key_value)),
                "{line}\n{key_value} not in:\n{}",
                conv.toml
            );
            assert!(
                remarks.iter().all(|r| r.fate != Fate::NotCarried),
                "{line}: {remarks:?}"
            );
        }
        rows += 1;
    }
    assert!(rows >= 90, "only {rows} rows");
}

#[test]
fn authentication_options_carry_over() {
    // sa_file and spp/active_key_id (linuxptp 4.x): the same sa_file serves
    // both daemons, so the path is kept as it is; the file is read when the
    // daemon starts, not here.
    let text = "[global]\nsa_file /etc/linuxptp/sa.conf\nspp 2\nactive_key_id 7\n[veth0]\n";
    let conv = convert_str(text, "t.cfg").unwrap();
    let c = Config::parse_str(&conv.toml, "out.toml").unwrap();
    c.validate_offline().unwrap();
    assert_eq!(
        c.sa_file.as_deref(),
        Some(Path::new("/etc/linuxptp/sa.conf"))
    );
    assert_eq!((c.ports[0].spp, c.ports[0].active_key_id), (Some(2), 7));
    assert!(conv.remarks.is_empty(), "{:?}", conv.remarks);
    // ptp4l's spp -1 is "off"; allow_unauth has no counterpart.
    let conv = convert_str("[global]\nspp -1\nallow_unauth 1\n[veth0]\n", "t.cfg").unwrap();
    let c = Config::parse_str(&conv.toml, "out.toml").unwrap();
    assert_eq!(c.ports[0].spp, None);
    assert!(
        fates(&conv).contains(&(Fate::NotCarried, "allow_unauth".to_owned())),
        "{:?}",
        conv.remarks
    );
}
