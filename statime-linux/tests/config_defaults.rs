//! The defaults are linuxptp's, and a configuration reaches the core's
//! types (defaultDS, timePropertiesDS, PortConfig, ServoConfig) intact.

use std::path::PathBuf;

use statime::datasets::{DefaultDS, InstanceType, TimePropertiesDS};
use statime::port::PortConfig;
use statime::servo::{ServoAlgorithm, ServoConfig};
use statime::time::{Duration, TimeInterval};
use statime::wire::tlv::DelayMechanism as CoreDelay;
use statime::wire::{ClockAccuracy, ClockIdentity, PortIdentity, SdoId, TimeSource};
use statime_linux::config::{
    ClockKind, Config, ConfigDuration, DelayMechanism, HardwareClock, LogFormat, LogLevel,
    ServoKind, TimeSourceName, Timestamping, Transport,
};

const ID: ClockIdentity = ClockIdentity([0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x01]);

fn minimal() -> Config {
    Config::from_toml("[[port]]\ninterface = \"eth0\"\n", "minimal.toml").expect("valid")
}

#[test]
fn instance_defaults_are_linuxptps() {
    let c = minimal();
    assert_eq!(c.domain, 0);
    assert_eq!(c.sdo_id, 0);
    assert_eq!(c.priority1, 128);
    assert_eq!(c.priority2, 128);
    assert_eq!(c.clock_class, 248);
    assert_eq!(c.clock_accuracy, 0xFE);
    assert_eq!(c.offset_scaled_log_variance, 0xFFFF);
    assert!(!c.slave_only);
    assert!(c.two_step);
    assert_eq!(c.time_source, TimeSourceName::InternalOscillator);
    assert_eq!(c.clock_identity, None);
    assert_eq!(c.utc_offset, None);
    assert!(c.ptp_timescale);
    assert_eq!(c.minor_ptp_version, 1);
    assert_eq!(c.max_steps_removed, 255);
    assert!(c.warnings().is_empty());
}

#[test]
fn port_defaults_are_linuxptps() {
    let c = minimal();
    let p = &c.ports[0];
    assert_eq!(p.interface, "eth0");
    assert_eq!(p.transport, Transport::UdpIpv4);
    assert_eq!(p.delay_mechanism, DelayMechanism::E2e);
    assert_eq!(p.announce_interval, 1);
    assert_eq!(p.sync_interval, 0);
    assert_eq!(p.delay_interval, 0);
    assert_eq!(p.pdelay_interval, 0);
    assert_eq!(p.announce_receipt_timeout, 3);
    assert_eq!(p.sync_receipt_timeout, 0);
    assert_eq!(p.delay_asymmetry, ConfigDuration::ZERO);
    assert_eq!(p.ingress_latency, ConfigDuration::ZERO);
    assert_eq!(p.egress_latency, ConfigDuration::ZERO);
    assert_eq!(p.timestamping, Timestamping::Hardware);
    assert_eq!(p.hardware_clock, HardwareClock::Auto);
    assert!(!p.master_only);
    assert_eq!(p.udp6_scope, 0x0E);
    assert_eq!(p.multicast_ttl, 1);
    assert_eq!(p.tx_timestamp_timeout, ConfigDuration::from_millis(10));
    assert_eq!(p.fault_reset_interval, ConfigDuration::from_secs(16));
    assert_eq!(p.delay_filter_length, 10);
}

#[test]
fn other_section_defaults() {
    let c = minimal();
    assert_eq!(c.servo.step_threshold, ConfigDuration::ZERO);
    assert_eq!(
        c.servo.first_step_threshold,
        ConfigDuration::from_micros(20)
    );
    assert!((c.servo.max_frequency - 900_000_000.0).abs() < 1e-6);
    assert!(c.servo.pi.proportional_const.abs() < f64::EPSILON);
    assert!(c.servo.pi.integral_const.abs() < f64::EPSILON);
    assert_eq!(c.clock.kind, ClockKind::Auto);
    assert_eq!(c.clock_kind(), ClockKind::Phc, "hardware time stamps: PHC");
    assert!(!c.clock.observe_only);
    assert_eq!(c.logging.level, LogLevel::Info);
    assert_eq!(c.logging.format, LogFormat::Default);
    assert_eq!(c.logging.summary_interval, 0);
    assert!(!c.logging.stdout);
    assert!(c.logging.syslog);
    assert_eq!(c.observability.status_socket, None);
    assert_eq!(c.observability.metrics_listen, None);
    assert_eq!(c.observability.management_socket, None);
}

#[test]
fn defaults_equal_the_cores() {
    let c = minimal();
    assert_eq!(c.default_ds(ID), DefaultDS::new(ID, 1));
    assert_eq!(c.time_properties_ds(None), TimePropertiesDS::default());
    let port = PortIdentity {
        clock_identity: ID,
        port_number: 1,
    };
    assert_eq!(c.port_configs(ID), vec![PortConfig::new(port)]);
    assert_eq!(c.servo_config(), ServoConfig::default());
    assert_eq!(ServoKind::default(), ServoKind::Kalman);
}

#[test]
fn software_time_stamps_reach_the_servo_and_pick_the_system_clock() {
    let c = Config::from_toml(
        "[[port]]\ninterface = \"eth0\"\ntimestamping = \"software\"\n",
        "sw.toml",
    )
    .expect("valid");
    assert!(c.servo_config().software_timestamping);
    assert_eq!(c.clock_kind(), ClockKind::System);
}

#[test]
fn kernel_utc_offset_is_used_unless_configured() {
    let c = minimal();
    let tp = c.time_properties_ds(Some(37));
    assert_eq!(tp.current_utc_offset, 37);
    assert!(tp.current_utc_offset_valid);
    let c = Config::from_toml("utc-offset = 36\n[[port]]\ninterface = \"e\"\n", "u.toml")
        .expect("valid");
    let tp = c.time_properties_ds(Some(37));
    assert_eq!(tp.current_utc_offset, 36);
    assert!(tp.current_utc_offset_valid);
}

#[test]
fn every_key_reaches_the_core_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/config/all-keys.toml");
    let c = Config::load(&path).expect("valid");
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    assert_eq!(c.origin(), Some(path.display().to_string().as_str()));
    assert_eq!(c.clock_identity, Some(ID));

    let ds = c.default_ds(c.clock_identity.unwrap_or_default());
    assert_eq!(ds.clock_identity, ID);
    assert_eq!(ds.number_ports, 2);
    assert_eq!(ds.instance_type, InstanceType::BoundaryClock);
    assert_eq!(ds.domain_number, 24);
    assert_eq!(ds.sdo_id, SdoId::GPTP);
    assert_eq!(ds.priority1, 1);
    assert_eq!(ds.priority2, 2);
    assert_eq!(ds.clock_quality.clock_class, 6);
    assert_eq!(ds.clock_quality.clock_accuracy, ClockAccuracy::Ns100);
    assert_eq!(ds.clock_quality.offset_scaled_log_variance, 0x4E5D);
    assert!(!ds.slave_only);
    assert!(!ds.two_step_flag);
    assert_eq!(ds.max_steps_removed, 32);

    let tp = c.time_properties_ds(None);
    assert_eq!(tp.time_source, TimeSource::Gnss);
    assert_eq!(tp.current_utc_offset, 37);
    assert!(tp.current_utc_offset_valid);
    assert!(tp.time_traceable && tp.frequency_traceable && tp.ptp_timescale);

    let ports = c.port_configs(ID);
    assert_eq!(ports.len(), 2);
    let p0 = &ports[0];
    assert_eq!(p0.port_ds.port_identity.port_number, 1);
    assert_eq!(p0.port_ds.port_identity.clock_identity, ID);
    assert_eq!(p0.port_ds.delay_mechanism, CoreDelay::P2p);
    assert_eq!(p0.port_ds.log_announce_interval, 0);
    assert_eq!(p0.port_ds.log_sync_interval, -3);
    assert_eq!(p0.port_ds.log_min_pdelay_req_interval, -1);
    assert_eq!(p0.port_ds.announce_receipt_timeout, 4);
    assert_eq!(p0.port_ds.minor_version_number, 0);
    assert_eq!(p0.port_ds.delay_asymmetry, TimeInterval::from_nanos(-1500));
    assert!(!p0.port_ds.master_only);
    assert_eq!(p0.sync_receipt_timeout, 5);
    assert_eq!(p0.tx_timestamp_timeout, Duration::from_nanos(20_000_000));
    assert_eq!(p0.fault_reset_interval, Duration::from_secs(4));
    assert_eq!(p0.delay_filter_length, 5);
    assert_eq!(p0.rate_ratio_window, 16);
    let p1 = &ports[1];
    assert_eq!(p1.port_ds.port_identity.port_number, 2);
    assert_eq!(p1.port_ds.delay_mechanism, CoreDelay::E2e);
    assert_eq!(p1.port_ds.log_min_delay_req_interval, 2);
    assert!(p1.port_ds.master_only);
    assert_eq!(c.port_config(2, ID), None);

    // The Linux-side port settings stay on the configuration.
    let s0 = &c.ports[0];
    assert_eq!(s0.transport, Transport::Ethernet);
    assert_eq!(s0.ingress_latency, ConfigDuration::from_nanos(100));
    assert_eq!(s0.egress_latency, ConfigDuration::from_nanos(250));
    assert_eq!(s0.hardware_clock, HardwareClock::Index(1));
    let s1 = &c.ports[1];
    assert_eq!(s1.transport, Transport::UdpIpv6);
    assert_eq!(s1.udp6_scope, 2);
    assert_eq!(s1.multicast_ttl, 4);
    assert_eq!(s1.hardware_clock, HardwareClock::Index(1));

    let servo = c.servo_config();
    assert_eq!(servo.algorithm, ServoAlgorithm::Pi);
    assert!((servo.step_threshold - 0.001).abs() < 1e-12);
    assert!((servo.first_step_threshold - 0.001).abs() < 1e-12);
    assert!((servo.max_frequency_ppb - 500_000.0).abs() < 1e-9);
    assert!((servo.stable_offset_threshold - 100e-9).abs() < 1e-15);
    assert_eq!(servo.stable_sample_count, 20);
    assert!(!servo.software_timestamping);
    assert!((servo.pi.proportional_const - 0.5).abs() < 1e-12);
    assert!((servo.pi.integral_const - 0.1).abs() < 1e-12);

    assert_eq!(c.clock_kind(), ClockKind::Phc);
    assert!(c.clock.observe_only && c.clock.sync_system);
    assert_eq!(c.logging.level, LogLevel::Debug);
    assert_eq!(c.logging.format, LogFormat::Json);
    assert_eq!(c.logging.summary_interval, 4);
    assert_eq!(c.observability.status_socket_permissions, 0o600);
    assert_eq!(
        c.observability.metrics_listen,
        Some("[::1]:9975".parse().expect("address"))
    );
}

#[test]
fn kalman_settings_reach_the_core() {
    let c = Config::from_toml(
        "[[port]]\ninterface = \"eth0\"\n[servo.kalman]\ntimestamp-noise = \"8ns\"\n\
         outlier-floor = 2e-7\nreacquire-after = 8\n",
        "k.toml",
    )
    .expect("valid");
    let k = c.servo_config().kalman;
    assert!((k.timestamp_noise - 8e-9).abs() < 1e-18);
    assert!((k.outlier_floor - 200e-9).abs() < 1e-18);
    assert_eq!(k.reacquire_after, 8);
}

#[test]
fn virtual_clock_settings() {
    let c = Config::from_toml(
        "[[port]]\ninterface = \"veth0\"\ntimestamping = \"software\"\n\
         [clock]\nkind = \"virtual\"\ninitial-offset = 1000000\nfrequency-error = 50\n",
        "v.toml",
    )
    .expect("valid");
    assert_eq!(c.clock_kind(), ClockKind::Virtual);
    assert_eq!(c.clock.initial_offset, ConfigDuration::from_millis(1));
    assert!((c.clock.frequency_error - 50.0).abs() < 1e-12);
    let c2 = Config::from_toml(
        "[[port]]\ninterface = \"veth0\"\ntimestamping = \"software\"\n\
         [clock]\nkind = \"virtual\"\ninitial-offset = \"-2.5ms\"\n",
        "v.toml",
    )
    .expect("valid");
    assert_eq!(c2.clock.initial_offset, ConfigDuration::from_micros(-2500));
}

#[test]
fn ptp4l_transport_names_are_accepted() {
    for (name, t) in [
        ("UDPv4", Transport::UdpIpv4),
        ("UDPv6", Transport::UdpIpv6),
        ("L2", Transport::Ethernet),
        ("udp-ipv6", Transport::UdpIpv6),
    ] {
        let c = Config::from_toml(
            &format!("[[port]]\ninterface = \"eth0\"\ntransport = \"{name}\"\n"),
            "t.toml",
        )
        .expect("valid");
        assert_eq!(c.ports[0].transport, t, "{name}");
    }
}
