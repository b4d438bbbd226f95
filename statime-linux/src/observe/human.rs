//! `statime-ctl status`: the snapshot as a short text for a person.

use std::fmt::Write;

use super::snapshot::{OverlayView, PeersView, Snapshot};

/// Nanoseconds with a sign, or `-` when unknown.
fn ns(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |s| format!("{:+.0} ns", s * 1e9))
}

/// A port's unicast negotiation in one line.
fn unicast_line(u: &super::snapshot::UnicastView) -> String {
    let mut line = format!(
        "  unicast {} granted {} denied {} cancelled {} dropped {}",
        u.role, u.granted, u.denied, u.cancelled, u.dropped
    );
    if let Some(n) = u.clients {
        let _ = write!(line, " clients {n} follow-ups lost {}", u.lost_follow_ups);
    }
    let g = |v: Option<i8>| v.map_or_else(|| "-".to_owned(), |l| l.to_string());
    for m in &u.masters {
        let _ = write!(
            line,
            "\n  master  {}{} announce {} sync {} delay_resp {}",
            m.address,
            if m.parent { " (parent)" } else { "" },
            g(m.announce),
            g(m.sync),
            g(m.delay_resp)
        );
    }
    line
}

/// The human summary of `s`: clock, parent, servo, ports, publication and
/// overlay, one topic per line.
#[must_use]
pub fn summary(s: &Snapshot) -> String {
    if let Some(tc) = &s.transparent_clock {
        return transparent_clock(tc);
    }
    let mut o = String::new();
    let c = &s.clock;
    let device = c
        .device
        .as_deref()
        .map_or_else(String::new, |d| format!(" {d}"));
    let _ = writeln!(
        o,
        "clock      {} ({}{device}) domain {} priority1 {} priority2 {} class {}{}",
        c.identity,
        c.kind,
        c.domain,
        c.priority1,
        c.priority2,
        c.clock_class,
        if c.slave_only { " slave-only" } else { "" }
    );
    if c.is_grandmaster {
        let _ = writeln!(o, "master     this clock is the grandmaster");
    } else {
        let p = &s.parent;
        let _ = writeln!(
            o,
            "master     grandmaster {} class {} priority1 {} via {} ({} steps removed)",
            p.grandmaster_identity,
            p.grandmaster_clock_class,
            p.grandmaster_priority1,
            p.parent_port_identity,
            s.current.steps_removed
        );
    }
    let v = &s.servo;
    let freq = v
        .frequency_ppb
        .map_or_else(|| "-".to_owned(), |f| format!("{f:+.0} ppb"));
    let _ = writeln!(
        o,
        "servo      {} offset {} delay {} freq {} ({} samples, {} rejected)",
        if v.state.is_empty() {
            "unlocked"
        } else {
            &v.state
        },
        ns(v.offset_s),
        ns(v.path_delay_s),
        freq,
        v.samples,
        v.rejected
    );
    if let Some(e) = s.true_error_s {
        let _ = writeln!(o, "true error {:+.0} ns (virtual clock)", e * 1e9);
    }
    for p in &s.ports {
        let c = &p.counters;
        let rx: u64 = c.rx.values().sum();
        let tx: u64 = c.tx.values().sum();
        let _ = writeln!(
            o,
            "port {:<5} {} {} {} delay {} rx {} tx {} malformed {} faults {}",
            p.number,
            p.interface,
            p.state,
            p.delay_mechanism,
            ns(p.mean_path_delay_s),
            rx,
            tx,
            c.malformed,
            c.faults
        );
        if let Some(u) = &p.unicast {
            let _ = writeln!(o, "{}", unicast_line(u));
        }
    }
    if let Some(m) = &s.smpte_metadata {
        let _ = writeln!(
            o,
            "smpte      {} fps{} {} local offset {:+} s{} (received {:.1} s ago)",
            m.frame_rate,
            if m.drop_frame { " drop-frame" } else { "" },
            m.locking_status,
            m.current_local_offset,
            if m.daylight_saving[0] { " DST" } else { "" },
            m.age_s
        );
    }
    let pb = &s.publication;
    if let Some(path) = &pb.time_file {
        let _ = writeln!(
            o,
            "published  {} {} bound {}",
            path,
            pb.status.as_deref().unwrap_or("not yet"),
            ns(pb.bound_s)
        );
    }
    let ov = &s.overlay;
    if ov.mode.is_empty() || ov.mode == "off" {
        let _ = write!(o, "overlay    {}", ov.status);
    } else {
        let _ = write!(
            o,
            "overlay    {} {}, following {} ({} switches, {} samples withheld)",
            ov.mode,
            ov.status,
            ov.selected.as_deref().unwrap_or("nobody"),
            ov.switches,
            ov.withheld
        );
        if let Some((lo, hi)) = ov.intersection_s {
            let _ = write!(o, "\n  intersection [{}, {}]", ns(Some(lo)), ns(Some(hi)));
        }
    }
    if let Some(p) = &ov.peers {
        let _ = write!(o, "\n  peers    {}", peers_line(p));
    }
    for src in &s.overlay.sources {
        let _ = write!(
            o,
            "\n  source   {} {} offset {} bound {}",
            src.name,
            src.state,
            ns(Some(src.offset_s)),
            ns(Some(src.bound_s))
        );
    }
    o.push('\n');
    o
}

/// A transparent clock's status: what it forwarded, corrected and dropped.
fn transparent_clock(tc: &super::snapshot::TcView) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "clock      transparent clock ({})", tc.mode);
    let fwd: Vec<String> = tc
        .forwarded
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(o, "forwarded  {}", fwd.join(", "));
    let _ = writeln!(
        o,
        "corrected  {} (one-step converted {})",
        tc.corrected, tc.one_step_converted
    );
    let _ = writeln!(
        o,
        "residence  mean {} min {} max {} over {}",
        ns(tc.residence_mean_s),
        ns(tc.residence_min_s),
        ns(tc.residence_max_s),
        tc.residence_count
    );
    if let Some(r) = tc.rate_ratio {
        let _ = writeln!(
            o,
            "rate       {:+.3} ppm against the grandmaster",
            (r - 1.0) * 1e6
        );
    }
    for l in &tc.links {
        let _ = writeln!(
            o,
            "port {}     {} link delay {}",
            l.port,
            l.interface,
            ns(l.link_delay_s)
        );
    }
    let dropped: Vec<String> = tc
        .dropped
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        o,
        "dropped    {}",
        if dropped.is_empty() {
            "none".to_owned()
        } else {
            dropped.join(", ")
        }
    );
    o
}

/// `statime-ctl overlay`: one line per source with its interval and state,
/// then the intersection and the selection.
#[must_use]
pub fn overlay_table(ov: &OverlayView) -> String {
    let mut o = String::new();
    if ov.mode.is_empty() || ov.mode == "off" {
        let _ = writeln!(o, "overlay {} (no [overlay] configured)", ov.status);
        return o;
    }
    let _ = writeln!(
        o,
        "{:<12} {:<12} {:>14} {:>12} {:>14} {:>14}",
        "source", "state", "offset", "bound", "earliest", "latest"
    );
    for s in &ov.sources {
        let _ = writeln!(
            o,
            "{:<12} {:<12} {:>14} {:>12} {:>14} {:>14}{}",
            s.name,
            s.state,
            ns(Some(s.offset_s)),
            format!("{:.0} ns", s.bound_s * 1e9),
            ns(Some(s.offset_s - s.bound_s)),
            ns(Some(s.offset_s + s.bound_s)),
            if ov.selected.as_deref() == Some(s.name.as_str()) {
                "  <- followed"
            } else {
                ""
            }
        );
    }
    match ov.intersection_s {
        Some((lo, hi)) => {
            let _ = writeln!(
                o,
                "intersection [{}, {}] (half-width {:.0} ns)",
                ns(Some(lo)),
                ns(Some(hi)),
                (hi - lo) / 2.0 * 1e9
            );
        }
        None => {
            let _ = writeln!(o, "intersection none");
        }
    }
    let _ = writeln!(
        o,
        "{} {}: following {} ({} switches, {} samples withheld)",
        ov.mode,
        ov.status,
        ov.selected.as_deref().unwrap_or("nobody"),
        ov.switches,
        ov.withheld
    );
    if let Some(p) = &ov.peers {
        let _ = writeln!(o, "peers: {}", peers_line(p));
        if let Some(g) = &p.gossip {
            let _ = writeln!(o, "gossip: {}", gossip_line(g));
        }
        for m in &p.members {
            let _ = writeln!(
                o,
                "member {:<6} {:<40} {:<10} {}",
                m.id,
                m.address,
                m.origin,
                m.last_heard_s.map_or_else(
                    || "never heard".to_owned(),
                    |s| format!("heard {s:.1} s ago")
                )
            );
        }
    }
    o
}

/// Membership by gossip in one line.
fn gossip_line(g: &super::snapshot::GossipView) -> String {
    let refused = if g.refused.is_empty() {
        String::new()
    } else {
        let r: Vec<String> = g.refused.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!(" ({})", r.join(", "))
    };
    format!(
        "{} admitted, {} moved, {} expired, {} candidates; {} hints ({} known), {} probes, \
         {} probe answers, {} rate-limited, {} refused{refused}",
        g.admitted,
        g.moved,
        g.expired,
        g.candidates,
        g.hints_received,
        g.hints_known,
        g.probes_sent,
        g.probe_answers_sent,
        g.rate_limited,
        g.refused.values().sum::<u64>()
    )
}

/// The peer layer in one line: who this node is, what it tells its peers,
/// and what it counted.
fn peers_line(p: &PeersView) -> String {
    let own = match p.own_bound_s {
        Some(b) => format!("{} +/-{:.0} ns ({})", p.own_status, b * 1e9, p.own_basis),
        None => p.own_status.clone(),
    };
    let reasons = if p.drops.is_empty() {
        String::new()
    } else {
        let r: Vec<String> = p.drops.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!(" ({})", r.join(", "))
    };
    format!(
        "node {} on {}, {} peers, states {own}; {} requests, {} responses, {} accepted, \
         {} samples, {} lost, {} dropped{reasons}, {} HLC rejected",
        p.node_id,
        p.listen,
        p.members.len().max(p.peers),
        p.requests_sent,
        p.responses_sent,
        p.accepted,
        p.samples,
        p.lost,
        p.dropped,
        p.hlc_rejected
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::snapshot::{PortView, SourceView};

    #[test]
    fn overlay_table_marks_the_followed_source() {
        let ov = OverlayView {
            status: "agreement".into(),
            mode: "guarded".into(),
            sources: vec![
                SourceView {
                    name: "domain 1".into(),
                    state: "falseticker".into(),
                    offset_s: 1e-3,
                    bound_s: 20e-6,
                },
                SourceView {
                    name: "domain 2".into(),
                    state: "truechimer".into(),
                    offset_s: 2e-6,
                    bound_s: 18e-6,
                },
            ],
            selected: Some("domain 2".into()),
            switches: 1,
            withheld: 40,
            intersection_s: Some((-10e-6, 12e-6)),
            peers: None,
        };
        let t = overlay_table(&ov);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[1].starts_with("domain 1     falseticker"), "{t}");
        assert!(
            lines[1].contains("+1000000 ns") && !lines[1].contains("followed"),
            "{t}"
        );
        assert!(lines[2].ends_with("<- followed"), "{t}");
        assert!(
            lines[2].contains("-16000 ns") && lines[2].contains("+20000 ns"),
            "{t}"
        );
        assert_eq!(
            lines[3],
            "intersection [-10000 ns, +12000 ns] (half-width 11000 ns)"
        );
        assert!(
            lines[4].starts_with("guarded agreement: following domain 2"),
            "{t}"
        );
    }

    #[test]
    fn unicast_ports_show_their_masters_or_clients() {
        use crate::observe::snapshot::{UnicastMasterView, UnicastView};
        let client = UnicastView {
            role: "client".into(),
            masters: vec![
                UnicastMasterView {
                    address: "192.0.2.10".into(),
                    identity: Some("020000.fffe.000001-1".into()),
                    parent: true,
                    announce: Some(0),
                    sync: Some(-4),
                    delay_resp: Some(-4),
                },
                UnicastMasterView {
                    address: "192.0.2.11".into(),
                    announce: Some(0),
                    ..UnicastMasterView::default()
                },
            ],
            granted: 4,
            ..UnicastView::default()
        };
        let t = unicast_line(&client);
        assert_eq!(
            t,
            "  unicast client granted 4 denied 0 cancelled 0 dropped 0\n  \
             master  192.0.2.10 (parent) announce 0 sync -4 delay_resp -4\n  \
             master  192.0.2.11 announce 0 sync - delay_resp -"
        );
        let server = UnicastView {
            role: "server".into(),
            clients: Some(12),
            granted: 36,
            ..UnicastView::default()
        };
        assert_eq!(
            unicast_line(&server),
            "  unicast server granted 36 denied 0 cancelled 0 dropped 0 clients 12 follow-ups lost 0"
        );
        // Older snapshots (no `unicast`) still parse; a multicast port
        // writes none.
        let json = serde_json::to_string(&PortView::default()).expect("json");
        assert!(!json.contains("unicast"), "{json}");
        let p = PortView {
            unicast: Some(server),
            ..PortView::default()
        };
        let back: PortView =
            serde_json::from_str(&serde_json::to_string(&p).expect("json")).expect("parse");
        assert_eq!(back, p);
    }

    #[test]
    fn a_slave_summary_names_master_servo_and_ports() {
        let mut s = Snapshot::default();
        s.clock.identity = "020000.fffe.000002".into();
        s.clock.kind = "virtual".into();
        s.parent.grandmaster_identity = "020000.fffe.000001".into();
        s.parent.parent_port_identity = "020000.fffe.000001-1".into();
        s.current.steps_removed = 1;
        s.servo.state = "locked".into();
        s.servo.offset_s = Some(-12e-9);
        s.servo.frequency_ppb = Some(-49_998.0);
        s.servo.path_delay_s = Some(35e-6);
        s.overlay.status = "disabled".into();
        s.ports.push(PortView {
            number: 1,
            interface: "veth1".into(),
            state: "SLAVE".into(),
            delay_mechanism: "E2E".into(),
            ..PortView::default()
        });
        let t = summary(&s);
        assert!(t.contains("grandmaster 020000.fffe.000001"), "{t}");
        assert!(
            t.contains("servo      locked offset -12 ns delay +35000 ns freq -49998 ppb"),
            "{t}"
        );
        assert!(t.contains("port 1     veth1 SLAVE E2E"), "{t}");
        assert!(t.ends_with("overlay    disabled\n"), "{t}");
    }
}
