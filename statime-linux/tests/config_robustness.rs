//! No input makes the configuration reader panic: arbitrary text, TOML
//! with random values in every key, and the value parsers on their own.

use proptest::prelude::*;
use statime_linux::config::{Config, parse_clock_identity, parse_duration};

const KEYS: &[&str] = &[
    "domain",
    "sdo-id",
    "priority1",
    "clock-class",
    "clock-accuracy",
    "slave-only",
    "two-step",
    "clock-identity",
    "utc-offset",
    "minor-ptp-version",
    "port",
    "servo",
    "clock",
];

const PORT_KEYS: &[&str] = &[
    "interface",
    "transport",
    "delay-mechanism",
    "sync-interval",
    "announce-receipt-timeout",
    "delay-asymmetry",
    "hardware-clock",
    "timestamping",
    "tx-timestamp-timeout",
    "delay-filter-length",
    "udp6-scope",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(|v| format!("{v:?}")),
        any::<bool>().prop_map(|v| v.to_string()),
        "[a-zA-Z0-9:./ _-]{0,20}".prop_map(|s| format!("\"{s}\"")),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just("\"E2E\"".to_owned()),
        Just("\"-1.5ms\"".to_owned()),
    ]
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = Config::from_toml(&text, "fuzz.toml");
    }

    #[test]
    fn random_values_in_real_keys_never_panic(
        top in proptest::collection::vec((proptest::sample::select(KEYS), value()), 0..5),
        port in proptest::collection::vec((proptest::sample::select(PORT_KEYS), value()), 0..6),
    ) {
        let mut text = String::new();
        let mut seen = std::collections::BTreeSet::new();
        for (k, v) in &top {
            if seen.insert(*k) {
                text.push_str(&format!("{k} = {v}\n"));
            }
        }
        if !seen.contains("port") {
            text.push_str("[[port]]\n");
            let mut seen = std::collections::BTreeSet::new();
            for (k, v) in &port {
                if seen.insert(*k) {
                    text.push_str(&format!("{k} = {v}\n"));
                }
            }
        }
        match Config::from_toml(&text, "fuzz.toml") {
            Ok(c) => {
                // A valid configuration converts without panicking.
                let id = c.clock_identity.unwrap_or_default();
                let _ = (c.default_ds(id), c.port_configs(id), c.servo_config());
                let _ = c.time_properties_ds(None);
            }
            Err(e) => {
                // Every error is located in the file.
                for d in e.errors() {
                    prop_assert_eq!(&d.origin, "fuzz.toml");
                    prop_assert!(d.position.is_some(), "{}", d);
                }
            }
        }
    }

    #[test]
    fn value_parsers_never_panic(s in "\\PC{0,40}") {
        let _ = parse_duration(&s);
        let _ = parse_clock_identity(&s);
    }
}
