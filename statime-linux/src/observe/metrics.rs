//! The Prometheus/OpenMetrics view of a [`Snapshot`]
//! (`[observability] metrics-listen`).
//!
//! Names carry their base unit (`_seconds`, `_ratio`); counters end in
//! `_total`. A fresh registry is filled from the snapshot on every scrape,
//! so what a scrape shows is exactly one snapshot, never a mix.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use super::snapshot::Snapshot;

/// A transparent clock's counters and residence times.
fn transparent_clock(r: &mut Registry, tc: &super::snapshot::TcView) {
    let forwarded = CounterFamily::default();
    for (message, n) in &tc.forwarded {
        forwarded
            .get_or_create(&vec![("message", message.clone())])
            .inc_by(*n);
    }
    r.register(
        "tc_forwarded_messages",
        "Messages a transparent clock forwarded (one per egress port), by message",
        forwarded,
    );
    let dropped = CounterFamily::default();
    for (reason, n) in &tc.dropped {
        dropped
            .get_or_create(&vec![("reason", reason.clone())])
            .inc_by(*n);
    }
    r.register(
        "tc_dropped_messages",
        "Messages a transparent clock did not forward, by reason",
        dropped,
    );
    r.register(
        "tc_corrected_messages",
        "Follow_Ups and Delay_Resps forwarded with a residence time added",
        prometheus_client::metrics::counter::ConstCounter::new(tc.corrected),
    );
    for (name, help, v) in [
        (
            "tc_residence_mean_seconds",
            "Mean residence time of forwarded event messages",
            tc.residence_mean_s,
        ),
        (
            "tc_residence_max_seconds",
            "Largest residence time of a forwarded event message",
            tc.residence_max_s,
        ),
        (
            "tc_rate_ratio",
            "Grandmaster-to-local rate ratio residence times are scaled by",
            tc.rate_ratio,
        ),
    ] {
        if let Some(v) = v {
            gauge(r, name, help, v);
        }
    }
    let links = GaugeFamily::default();
    for l in &tc.links {
        if let Some(d) = l.link_delay_s {
            links
                .get_or_create(&port_labels(l.port, &l.interface))
                .set(d);
        }
    }
    r.register(
        "tc_link_delay_seconds",
        "Mean link delay a peer-to-peer transparent clock measured on each port",
        links,
    );
}

/// The content type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(&'static str, String)>;
type GaugeFamily = Family<Labels, Gauge<f64, AtomicU64>>;
type CounterFamily = Family<Labels, Counter<u64>>;

fn port_labels(number: u16, interface: &str) -> Labels {
    vec![
        ("port", number.to_string()),
        ("interface", interface.to_owned()),
    ]
}

fn with(mut labels: Labels, key: &'static str, value: impl Into<String>) -> Labels {
    labels.push((key, value.into()));
    labels
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: f64) {
    registry.register(name, help, ConstGauge::new(value));
}

/// The OpenMetrics text of `s`.
#[must_use]
pub fn render(s: &Snapshot) -> String {
    let mut root = Registry::default();
    let r = root.sub_registry_with_prefix("statime");
    if let Some(tc) = &s.transparent_clock {
        transparent_clock(r, tc);
    }

    gauge(
        r,
        "uptime_seconds",
        "Seconds since the daemon started its ports",
        s.uptime_s,
    );
    if let Some(v) = s.servo.offset_s {
        gauge(
            r,
            "offset_from_master_seconds",
            "Latest offset from the master (local minus master) the servo used",
            v,
        );
    }
    if let Some(v) = s.servo.path_delay_s {
        gauge(
            r,
            "mean_path_delay_seconds",
            "Mean path delay of the latest servo sample",
            v,
        );
    }
    if let Some(v) = s.servo.frequency_ppb {
        gauge(
            r,
            "frequency_adjustment_ratio",
            "Frequency adjustment applied to the clock (positive: sped up), as a ratio",
            v * 1e-9,
        );
    }
    gauge(
        r,
        "servo_state",
        "Servo state as ptp4l's s-code: 0 unlocked or holdover, 1 stepping, 2 locked, 3 locked and stable",
        f64::from(s.servo.state_code),
    );
    r.register(
        "servo_samples",
        "Samples the servo used",
        prometheus_client::metrics::counter::ConstCounter::new(s.servo.samples),
    );
    r.register(
        "servo_rejected_samples",
        "Samples the servo refused as outliers",
        prometheus_client::metrics::counter::ConstCounter::new(s.servo.rejected),
    );
    gauge(
        r,
        "steps_removed",
        "currentDS.stepsRemoved: boundary clocks between this clock and the grandmaster",
        f64::from(s.current.steps_removed),
    );
    gauge(
        r,
        "current_offset_from_master_seconds",
        "currentDS.offsetFromMaster",
        s.current.offset_from_master_s,
    );
    gauge(
        r,
        "current_mean_delay_seconds",
        "currentDS.meanDelay",
        s.current.mean_path_delay_s,
    );
    gauge(
        r,
        "grandmaster_clock_class",
        "parentDS.grandmasterClockQuality.clockClass",
        f64::from(s.parent.grandmaster_clock_class),
    );
    r.register(
        "grandmaster",
        "The grandmaster and parent this clock follows (or itself)",
        Info::new(vec![
            (
                "grandmaster_identity",
                s.parent.grandmaster_identity.clone(),
            ),
            (
                "parent_port_identity",
                s.parent.parent_port_identity.clone(),
            ),
            ("clock_class", s.parent.grandmaster_clock_class.to_string()),
            (
                "clock_accuracy",
                format!("0x{:02x}", s.parent.grandmaster_clock_accuracy),
            ),
            ("domain", s.clock.domain.to_string()),
            ("clock_identity", s.clock.identity.clone()),
        ]),
    );
    gauge(
        r,
        "is_grandmaster",
        "1 when this clock is the grandmaster of its domain",
        f64::from(u8::from(s.clock.is_grandmaster)),
    );
    if let Some(v) = s.true_error_s {
        gauge(
            r,
            "virtual_clock_true_error_seconds",
            "A virtual clock's true error against its truth (labs and tests only)",
            v,
        );
    }
    if let Some(b) = s.publication.bound_s {
        gauge(
            r,
            "published_bound_seconds",
            "Half-width of the interval last published to applications",
            b,
        );
    }

    let state = GaugeFamily::default();
    let delay = GaugeFamily::default();
    let rx = CounterFamily::default();
    let tx = CounterFamily::default();
    let dropped = CounterFamily::default();
    let malformed = CounterFamily::default();
    let tx_timeouts = CounterFamily::default();
    let faults = CounterFamily::default();
    let unauthenticated = CounterFamily::default();
    let unicast_clients = GaugeFamily::default();
    let unicast_negotiation = CounterFamily::default();
    let unicast_dropped = CounterFamily::default();
    let unicast_granted = GaugeFamily::default();
    for p in &s.ports {
        let l = port_labels(p.number, &p.interface);
        state
            .get_or_create(&with(l.clone(), "state", p.state.clone()))
            .set(f64::from(p.state_code));
        if let Some(d) = p.mean_path_delay_s {
            delay.get_or_create(&l).set(d);
        }
        for (t, &n) in &p.counters.rx {
            rx.get_or_create(&with(l.clone(), "message_type", t.clone()))
                .inc_by(n);
        }
        for (t, &n) in &p.counters.tx {
            tx.get_or_create(&with(l.clone(), "message_type", t.clone()))
                .inc_by(n);
        }
        let c = &p.counters;
        for (reason, n) in [
            ("other_domain", c.other_domain),
            ("not_applicable", c.not_applicable),
            ("discarded", c.discarded),
            ("announce_refused", c.announce_refused),
            ("queue_overflow", c.queue_overflows),
            ("events_dropped", c.events_dropped),
        ] {
            dropped
                .get_or_create(&with(l.clone(), "reason", reason))
                .inc_by(n);
        }
        malformed.get_or_create(&l).inc_by(c.malformed);
        tx_timeouts
            .get_or_create(&l)
            .inc_by(c.tx_timestamp_timeouts);
        faults.get_or_create(&l).inc_by(c.faults);
        for (reason, &n) in &c.unauthenticated {
            unauthenticated
                .get_or_create(&with(l.clone(), "reason", reason.clone()))
                .inc_by(n);
        }
        if let Some(u) = &p.unicast {
            let role = with(l.clone(), "role", u.role.clone());
            if let Some(n) = u.clients {
                #[allow(clippy::cast_precision_loss, reason = "a client count")]
                unicast_clients.get_or_create(&l).set(n as f64);
            }
            for (outcome, n) in [
                ("granted", u.granted),
                ("denied", u.denied),
                ("cancelled", u.cancelled),
            ] {
                unicast_negotiation
                    .get_or_create(&with(role.clone(), "outcome", outcome))
                    .inc_by(n);
            }
            unicast_dropped.get_or_create(&role).inc_by(u.dropped);
            for m in &u.masters {
                let at = with(l.clone(), "address", m.address.clone());
                for (kind, g) in [
                    ("announce", m.announce),
                    ("sync", m.sync),
                    ("delay_resp", m.delay_resp),
                ] {
                    unicast_granted
                        .get_or_create(&with(at.clone(), "message_type", kind))
                        .set(if g.is_some() { 1.0 } else { 0.0 });
                }
            }
        }
    }
    r.register(
        "unicast_clients",
        "Unicast clients holding a grant on a port with unicast-listen",
        unicast_clients,
    );
    r.register(
        "unicast_negotiation",
        "Unicast negotiation outcomes (IEEE 1588-2019 clause 16.1): requests granted, denied or cancelled (server), grants, denials and cancels received (client)",
        unicast_negotiation,
    );
    r.register(
        "unicast_dropped",
        "Datagrams dropped by unicast rules: from outside the master table or multicast from a table master (client), Delay_Resp to a client without a grant (server)",
        unicast_dropped,
    );
    r.register(
        "unicast_master_granted",
        "1 while the master at address grants this client port the message type",
        unicast_granted,
    );
    r.register(
        "port_state",
        "portState as the clause 8.2.15.3.1 value (9 SLAVE, 6 MASTER, 8 UNCALIBRATED, 4 LISTENING, 7 PASSIVE, 2 FAULTY ...); the state label names it",
        state,
    );
    r.register(
        "port_mean_path_delay_seconds",
        "The port's filtered mean path (E2E) or link (P2P) delay",
        delay,
    );
    r.register("messages_received", "PTP messages received", rx);
    r.register("messages_sent", "PTP messages sent", tx);
    r.register(
        "messages_malformed",
        "Malformed PTP messages received, counted and dropped",
        malformed,
    );
    r.register(
        "messages_dropped",
        "Well-formed PTP messages dropped, by reason",
        dropped,
    );
    r.register(
        "tx_timestamp_timeouts",
        "Transmit time stamps that never arrived",
        tx_timeouts,
    );
    r.register("port_faults", "Times a port went FAULTY", faults);
    r.register(
        "messages_unauthenticated",
        "Messages dropped because their AUTHENTICATION TLV was missing or wrong (ports with spp), by reason",
        unauthenticated,
    );

    let sources = GaugeFamily::default();
    for src in &s.overlay.sources {
        sources
            .get_or_create(&vec![
                ("source", src.name.clone()),
                ("state", src.state.clone()),
            ])
            .set(1.0);
    }
    r.register(
        "overlay_source_state",
        "1 for each overlay source in the state its label names (truechimer, falseticker, quarantined)",
        sources,
    );

    if let Some(p) = &s.overlay.peers {
        let datagrams = CounterFamily::default();
        for (kind, v) in [
            ("request", p.requests_sent),
            ("response", p.responses_sent),
            ("follow-up", p.follow_ups_sent),
        ] {
            datagrams
                .get_or_create(&vec![("type", kind.to_owned())])
                .inc_by(v);
        }
        r.register(
            "overlay_peer_datagrams_sent",
            "Datagrams the overlay peer layer sent, by type",
            datagrams,
        );
        let dropped = CounterFamily::default();
        for (reason, &v) in &p.drops {
            dropped
                .get_or_create(&vec![("reason", reason.clone())])
                .inc_by(v);
        }
        r.register(
            "overlay_peer_datagrams_dropped",
            "Datagrams received on the overlay peer socket and dropped, by reason (bad-mac, duplicate, unknown-peer ...)",
            dropped,
        );
        for (name, help, v) in [
            (
                "overlay_peer_datagrams_accepted",
                "Peer datagrams that authenticated and were fresh",
                p.accepted,
            ),
            (
                "overlay_peer_samples",
                "Peer measurements given to the guard",
                p.samples,
            ),
            (
                "overlay_peer_exchanges_lost",
                "Requests to peers that got no response in time",
                p.lost,
            ),
            (
                "overlay_peer_hlc_rejected",
                "Peer HLC timestamps rejected as too far ahead",
                p.hlc_rejected,
            ),
        ] {
            let c: Counter<u64> = Counter::default();
            c.inc_by(v);
            r.register(name, help, c);
        }
        gauge(
            r,
            "overlay_peer_own_bound_seconds",
            "Half-width of the bound this node states to its peers (NaN: unknown)",
            p.own_bound_s.unwrap_or(f64::NAN),
        );
        peer_membership(r, p);
    }

    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &root);
    out
}

/// The overlay's membership: admitted members by origin and, with
/// gossip, what membership by gossip did (`statime_overlay_peer_gossip_*`).
fn peer_membership(r: &mut Registry, p: &super::snapshot::PeersView) {
    let members = GaugeFamily::default();
    for origin in ["configured", "learned"] {
        let n = p.members.iter().filter(|m| m.origin == origin).count();
        #[allow(clippy::cast_precision_loss)]
        members
            .get_or_create(&vec![("origin", origin.to_owned())])
            .set(n as f64);
    }
    r.register(
        "overlay_peer_members",
        "Admitted overlay members, by origin (configured seeds, learned by gossip)",
        members,
    );
    let Some(g) = &p.gossip else {
        return;
    };
    #[allow(clippy::cast_precision_loss)]
    gauge(
        r,
        "overlay_peer_gossip_candidates",
        "Claimed member addresses waiting for or under a probe",
        g.candidates as f64,
    );
    for (name, help, v) in [
        (
            "overlay_peer_gossip_hints_received",
            "Membership hints received (gossiped, or a trusted node's own source address)",
            g.hints_received,
        ),
        (
            "overlay_peer_gossip_hints_known",
            "Hints naming a member at the address it is admitted at",
            g.hints_known,
        ),
        (
            "overlay_peer_gossip_sent",
            "Gossip datagrams sent (pushes, answers, probes)",
            g.gossip_sent,
        ),
        (
            "overlay_peer_gossip_received",
            "Gossip datagrams that authenticated",
            g.gossip_received,
        ),
        (
            "overlay_peer_gossip_probes_sent",
            "Probes sent to claimed member addresses",
            g.probes_sent,
        ),
        (
            "overlay_peer_gossip_probe_answers_sent",
            "Answers to other nodes' probes, sent to addresses not yet verified",
            g.probe_answers_sent,
        ),
        (
            "overlay_peer_gossip_admissions",
            "Members admitted by a verified probe",
            g.admitted,
        ),
        (
            "overlay_peer_gossip_moves",
            "Learned members re-bound to a new, verified address",
            g.moved,
        ),
        (
            "overlay_peer_gossip_expiries",
            "Learned members dropped for silence",
            g.expired,
        ),
        (
            "overlay_peer_gossip_rate_limited",
            "Probes and answers held back by the per-round budget",
            g.rate_limited,
        ),
    ] {
        let c: Counter<u64> = Counter::default();
        c.inc_by(v);
        r.register(name, help, c);
    }
    let refused = CounterFamily::default();
    for (reason, &v) in &g.refused {
        refused
            .get_or_create(&vec![("reason", reason.clone())])
            .inc_by(v);
    }
    r.register(
        "overlay_peer_gossip_refused",
        "Membership hints and admissions refused, by reason (untrusted, wrong-source, unanswered ...)",
        refused,
    );
}

/// Read one sample's value out of OpenMetrics text: the line whose name and
/// labels start with `selector` (e.g. `statime_port_state{port="1"`).
/// For tests and `statime-ctl`.
#[must_use]
pub fn sample_value(text: &str, selector: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            l.starts_with(selector)
                && l.as_bytes()
                    .get(selector.len())
                    .is_some_and(|&b| b == b' ' || b == b'{' || b == b',' || b == b'}')
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_transparent_clock_has_its_own_metrics() {
        let mut tc = super::super::snapshot::TcView {
            mode: "end-to-end".to_owned(),
            corrected: 7,
            residence_mean_s: Some(2.5e-4),
            ..Default::default()
        };
        tc.forwarded.insert("sync".to_owned(), 5);
        tc.dropped.insert("loop".to_owned(), 2);
        tc.links.push(super::super::snapshot::TcLinkView {
            port: 1,
            interface: "eth0".to_owned(),
            link_delay_s: Some(1e-6),
            neighbor_rate_ratio: 1.0,
        });
        let s = Snapshot {
            transparent_clock: Some(tc),
            ..Snapshot::default()
        };
        let text = render(&s);
        for line in [
            "statime_tc_forwarded_messages_total{message=\"sync\"} 5",
            "statime_tc_dropped_messages_total{reason=\"loop\"} 2",
            "statime_tc_corrected_messages_total 7",
            "statime_tc_residence_mean_seconds 0.00025",
            "statime_tc_link_delay_seconds{port=\"1\",interface=\"eth0\"} 0.000001",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }

    use super::*;
    use crate::observe::snapshot::{PortView, SourceView};

    fn snapshot() -> Snapshot {
        let mut s = Snapshot::default();
        s.servo.offset_s = Some(-1.5e-8);
        s.servo.frequency_ppb = Some(2500.0);
        s.servo.path_delay_s = Some(4.0e-6);
        s.servo.state_code = 2;
        s.servo.samples = 42;
        s.current.steps_removed = 1;
        s.parent.grandmaster_identity = "001b19.fffe.000001".into();
        s.parent.grandmaster_clock_class = 6;
        let mut p = PortView {
            number: 1,
            interface: "eth0".into(),
            state: "SLAVE".into(),
            state_code: 9,
            ..PortView::default()
        };
        p.counters.rx.insert("sync".into(), 17);
        p.counters.malformed = 3;
        p.unicast = Some(crate::observe::snapshot::UnicastView {
            role: "client".into(),
            masters: vec![crate::observe::snapshot::UnicastMasterView {
                address: "192.0.2.10".into(),
                parent: true,
                announce: Some(0),
                sync: Some(-4),
                ..Default::default()
            }],
            granted: 5,
            denied: 1,
            ..Default::default()
        });
        s.ports.push(p);
        s.overlay.sources.push(SourceView {
            name: "domain-1".into(),
            state: "falseticker".into(),
            ..SourceView::default()
        });
        s
    }

    #[test]
    fn names_carry_units_and_values_match() {
        let t = render(&snapshot());
        let v = |sel: &str| sample_value(&t, sel).unwrap_or_else(|| panic!("{sel} in\n{t}"));
        assert_eq!(v("statime_offset_from_master_seconds"), -1.5e-8);
        assert_eq!(v("statime_mean_path_delay_seconds"), 4.0e-6);
        assert!((v("statime_frequency_adjustment_ratio") - 2.5e-6).abs() < 1e-15);
        assert_eq!(v("statime_steps_removed"), 1.0);
        assert_eq!(v("statime_servo_samples_total"), 42.0);
        assert_eq!(
            v("statime_port_state{port=\"1\",interface=\"eth0\",state=\"SLAVE\"}"),
            9.0
        );
        assert_eq!(
            v(
                "statime_messages_received_total{port=\"1\",interface=\"eth0\",message_type=\"sync\"}"
            ),
            17.0
        );
        assert_eq!(
            v("statime_messages_malformed_total{port=\"1\",interface=\"eth0\"}"),
            3.0
        );
        assert_eq!(
            v(
                "statime_unicast_negotiation_total{port=\"1\",interface=\"eth0\",role=\"client\",outcome=\"granted\"}"
            ),
            5.0
        );
        assert_eq!(
            v(
                "statime_unicast_master_granted{port=\"1\",interface=\"eth0\",address=\"192.0.2.10\",message_type=\"sync\"}"
            ),
            1.0
        );
        assert_eq!(
            v(
                "statime_unicast_master_granted{port=\"1\",interface=\"eth0\",address=\"192.0.2.10\",message_type=\"delay_resp\"}"
            ),
            0.0
        );
        assert_eq!(
            v("statime_overlay_source_state{source=\"domain-1\",state=\"falseticker\"}"),
            1.0
        );
        assert!(t.contains("grandmaster_identity=\"001b19.fffe.000001\""));
        assert!(t.contains("clock_class=\"6\""));
        assert!(t.trim_end().ends_with("# EOF"));
        // Nothing the endpoint shows without a unit in a time metric.
        for line in t.lines().filter(|l| l.starts_with("# TYPE")) {
            let name = line.split(' ').nth(2).unwrap_or_default();
            if name.contains("delay") || name.contains("offset") {
                assert!(name.ends_with("_seconds"), "{name}");
            }
        }
    }

    #[test]
    fn gossip_membership_has_its_metrics() {
        use crate::observe::snapshot::{GossipView, MemberView, PeersView};
        let mut s = snapshot();
        let member = |id, origin: &str| MemberView {
            id,
            address: "192.0.2.1:320".into(),
            origin: origin.into(),
            ..MemberView::default()
        };
        let mut refused = std::collections::BTreeMap::new();
        refused.insert("wrong-source".to_owned(), 4);
        refused.insert("unanswered".to_owned(), 2);
        s.overlay.peers = Some(PeersView {
            members: vec![
                member(1, "configured"),
                member(2, "learned"),
                member(3, "learned"),
            ],
            gossip: Some(GossipView {
                hints_received: 30,
                hints_known: 20,
                gossip_sent: 11,
                gossip_received: 12,
                probes_sent: 5,
                probe_answers_sent: 6,
                admitted: 2,
                moved: 1,
                expired: 3,
                rate_limited: 7,
                candidates: 4,
                refused,
            }),
            ..PeersView::default()
        });
        let t = render(&s);
        let v = |sel: &str| sample_value(&t, sel).unwrap_or_else(|| panic!("{sel} in\n{t}"));
        assert_eq!(
            v("statime_overlay_peer_members{origin=\"configured\"}"),
            1.0
        );
        assert_eq!(v("statime_overlay_peer_members{origin=\"learned\"}"), 2.0);
        assert_eq!(v("statime_overlay_peer_gossip_candidates"), 4.0);
        assert_eq!(v("statime_overlay_peer_gossip_hints_received_total"), 30.0);
        assert_eq!(v("statime_overlay_peer_gossip_hints_known_total"), 20.0);
        assert_eq!(v("statime_overlay_peer_gossip_sent_total"), 11.0);
        assert_eq!(v("statime_overlay_peer_gossip_received_total"), 12.0);
        assert_eq!(v("statime_overlay_peer_gossip_probes_sent_total"), 5.0);
        assert_eq!(
            v("statime_overlay_peer_gossip_probe_answers_sent_total"),
            6.0
        );
        assert_eq!(v("statime_overlay_peer_gossip_admissions_total"), 2.0);
        assert_eq!(v("statime_overlay_peer_gossip_moves_total"), 1.0);
        assert_eq!(v("statime_overlay_peer_gossip_expiries_total"), 3.0);
        assert_eq!(v("statime_overlay_peer_gossip_rate_limited_total"), 7.0);
        assert_eq!(
            v("statime_overlay_peer_gossip_refused_total{reason=\"wrong-source\"}"),
            4.0
        );
        assert_eq!(
            v("statime_overlay_peer_gossip_refused_total{reason=\"unanswered\"}"),
            2.0
        );
        // Without gossip: the members, no gossip family.
        if let Some(p) = &mut s.overlay.peers {
            p.gossip = None;
        }
        let t = render(&s);
        assert_eq!(
            sample_value(&t, "statime_overlay_peer_members{origin=\"learned\"}"),
            Some(2.0)
        );
        assert!(!t.contains("statime_overlay_peer_gossip_"), "{t}");
    }

    #[test]
    fn selector_needs_a_whole_name() {
        let t = "a_total 1\na 2\n";
        assert_eq!(sample_value(t, "a"), Some(2.0));
        assert_eq!(sample_value(t, "a_total"), Some(1.0));
        assert_eq!(sample_value(t, "b"), None);
    }
}
