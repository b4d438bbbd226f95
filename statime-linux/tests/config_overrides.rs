//! ptp4l-style command-line overrides: `-i`, `-4/-6/-2`, `-E/-P`, `-H/-S`,
//! `-s`, `-m`, `-q`, `-l`.

use statime_linux::config::{
    Config, ConfigErrorKind, DelayMechanism, LogLevel, Overrides, Timestamping, Transport,
};

#[test]
fn no_file_and_flags_only_like_ptp4l() {
    // ptp4l -i eth0 -2 -P -S -s -m
    let mut c = Config::default();
    assert_eq!(
        c.validate().map_err(|e| e.kind()),
        Err(ConfigErrorKind::Invalid),
        "no port yet"
    );
    let o = Overrides {
        interfaces: vec!["eth0".into()],
        transport: Some(Transport::Ethernet),
        delay_mechanism: Some(DelayMechanism::P2p),
        timestamping: Some(Timestamping::Software),
        slave_only: true,
        log_stdout: true,
        ..Overrides::default()
    };
    assert!(!o.is_empty());
    c.apply_overrides(&o).expect("valid");
    assert_eq!(c.ports.len(), 1);
    let p = &c.ports[0];
    assert_eq!(p.interface, "eth0");
    assert_eq!(p.transport, Transport::Ethernet);
    assert_eq!(p.delay_mechanism, DelayMechanism::P2p);
    assert_eq!(p.timestamping, Timestamping::Software);
    assert!(c.slave_only);
    assert!(c.logging.stdout);
    assert!(c.logging.syslog);
}

#[test]
fn flags_win_over_the_file_on_every_port() {
    let mut c = Config::parse_str(
        "[[port]]\ninterface = \"eth0\"\ntransport = \"udp-ipv6\"\nudp6-scope = 2\n\
         [[port]]\ninterface = \"eth1\"\ndelay-mechanism = \"P2P\"\n",
        "bc.toml",
    )
    .expect("parses");
    c.apply_overrides(&Overrides {
        transport: Some(Transport::UdpIpv4),
        delay_mechanism: Some(DelayMechanism::E2e),
        no_syslog: true,
        log_level: Some(LogLevel::Debug),
        domain: Some(7),
        ..Overrides::default()
    })
    .expect("valid");
    assert!(c.ports.iter().all(|p| p.transport == Transport::UdpIpv4));
    assert!(
        c.ports
            .iter()
            .all(|p| p.delay_mechanism == DelayMechanism::E2e)
    );
    assert!(!c.logging.syslog);
    assert_eq!(c.logging.level, LogLevel::Debug);
    assert_eq!(c.domain, 7);
    // The file's udp6-scope is now unused: a warning located in the file;
    // -q without -m silences the daemon: a warning naming the flag.
    let w: Vec<String> = c.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        w,
        [
            "bc.toml:4:14: warning: port[0].udp6-scope: has no effect unless transport = \"udp-ipv6\"",
            "command line (-q): warning: logging.syslog: with stdout = false too, the daemon logs nothing",
        ]
    );
}

#[test]
fn dash_i_keeps_a_configured_port_and_appends_new_ones() {
    let mut c = Config::parse_str(
        "[[port]]\ninterface = \"eth0\"\ntimestamping = \"software\"\n",
        "f.toml",
    )
    .expect("parses");
    c.apply_overrides(&Overrides {
        interfaces: vec!["eth0".into(), "eth1".into()],
        timestamping: Some(Timestamping::Software),
        ..Overrides::default()
    })
    .expect("valid");
    let names: Vec<&str> = c.ports.iter().map(|p| p.interface.as_str()).collect();
    assert_eq!(names, ["eth0", "eth1"]);
    assert_eq!(c.number_ports(), 2);
}

#[test]
fn a_file_without_ports_is_completed_by_dash_i() {
    let dir = std::env::temp_dir().join(format!("statime-config-ovr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("global.toml");
    std::fs::write(&path, "domain = 3\n").expect("write");
    let e = Config::load(&path).expect_err("no port");
    assert_eq!(e.kind(), ConfigErrorKind::Invalid);
    let c = Config::load_with_overrides(
        &path,
        &Overrides {
            interfaces: vec!["eth0".into()],
            ..Overrides::default()
        },
    )
    .expect("valid with -i");
    assert_eq!(c.domain, 3);
    assert_eq!(c.ports[0].interface, "eth0");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_override_that_breaks_the_file_is_reported_against_both() {
    let mut c = Config::parse_str(
        "clock-class = 6\n[[port]]\ninterface = \"eth0\"\nmaster-only = true\n",
        "gm.toml",
    )
    .expect("parses");
    let e = c
        .apply_overrides(&Overrides {
            slave_only: true,
            ..Overrides::default()
        })
        .expect_err("-s contradicts class 6 and master-only");
    let got: Vec<String> = e.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "gm.toml:1:15: clock-class: class 6 means a clock that never follows another, \
             which contradicts slave-only = true",
            "gm.toml:4:15: port[0].master-only: contradicts slave-only = true: a port cannot be both",
        ]
    );
}

#[test]
fn errors_about_flag_values_name_the_flag() {
    // A port added by -i with software time stamps and a one-step file.
    let mut c = Config::parse_str("two-step = false\n", "os.toml").expect("parses");
    let e = c
        .apply_overrides(&Overrides {
            interfaces: vec!["eth9".into()],
            timestamping: Some(Timestamping::Software),
            ..Overrides::default()
        })
        .expect_err("one-step with software time stamps");
    let got: Vec<String> = e.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "command line (-S): port[0].timestamping: two-step = false (one-step) needs hardware \
          time stamps that the NIC inserts into Sync; set timestamping = \"hardware\" or \
          two-step = true"
        ]
    );
    // And a bad -i name.
    let mut c = Config::default();
    let e = c
        .apply_overrides(&Overrides {
            interfaces: vec!["a/b".into()],
            ..Overrides::default()
        })
        .expect_err("bad name");
    assert_eq!(
        e.to_string(),
        "command line (-i a/b): port[0].interface: \"a/b\" is not a Linux interface name \
         (at most 15 bytes, no '/', ':' or blanks)"
    );
}

#[test]
fn defaults_without_a_file_name_their_origin() {
    let e = Config::default().validate().expect_err("no port");
    assert_eq!(
        e.to_string(),
        "<defaults>: port: no [[port]]: name at least one interface (a [[port]] table with \
         interface = \"eth0\", or -i eth0 on the command line)"
    );
}

#[test]
fn running_without_a_file() {
    let c = Config::from_overrides(&Overrides {
        interfaces: vec!["eth0".into()],
        timestamping: Some(Timestamping::Software),
        ..Overrides::default()
    })
    .expect("valid");
    assert_eq!(c.ports[0].interface, "eth0");
    assert_eq!(c.origin(), None);
    let e = Config::from_overrides(&Overrides::default()).expect_err("no port");
    assert_eq!(e.kind(), ConfigErrorKind::Invalid);
}
