//! The port options (`[global]` defaults overridden per port section).

use std::collections::BTreeMap;

use crate::config::ConfigDuration;

use super::clock::{CLOCK_OPTIONS, Clock, default_only, local_priority};
use super::out::{Entry, Out, Src, boolean, duration, entry, quote, set};
use super::unicast::{Table, blocker, port_unicast};
use super::values::{c_int, choice, flag, int_in};

/// The options of one port (or of the commented placeholder when
/// `sources` come from `[global]` only).
#[allow(
    clippy::too_many_lines,
    reason = "one arm per ptp4l port option reads best as one table"
)]
pub(super) fn port_options<'a>(
    out: &mut Out,
    clock: &Clock,
    tables: &[Table<'a>],
    sources: &BTreeMap<&'a str, Src<'a>>,
    entries: &mut Vec<Entry>,
    sdo: &mut Option<(i64, Src<'a>)>,
) -> Result<(), (usize, String)> {
    let wrap = |src: Src<'_>| {
        let line = src.setting.line;
        move |m: String| (line, m)
    };
    // What other options depend on.
    let mut transport = 0; // UDPv4
    let mut p2p = false;
    let master_only = !clock.slave_only
        && ["masterOnly", "serverOnly"]
            .iter()
            .filter_map(|n| sources.get(n))
            .any(|m| c_int(&m.setting.value) == Some(1));
    if let Some(src) = sources.get("network_transport") {
        transport = choice(*src, &["UDPv4", "UDPv6", "L2"]).map_err(wrap(*src))?;
        entries.push(entry(
            "transport",
            quote(["udp-ipv4", "udp-ipv6", "ethernet"][transport]),
            *src,
        ));
    }
    if let Some(src) = sources.get("delay_mechanism") {
        match choice(*src, &["E2E", "P2P", "Auto", "NONE", "COMMON_P2P"]).map_err(wrap(*src))? {
            0 => entries.push(entry("delay-mechanism", quote("E2E"), *src)),
            1 => {
                p2p = true;
                entries.push(entry("delay-mechanism", quote("P2P"), *src));
            }
            2 => out.approx(
                *src,
                "statime has no automatic E2E/P2P switch; the port stays E2E \
                 (delay-mechanism = \"E2E\")",
            ),
            _ => out.drop(*src, "statime supports E2E and P2P; the port stays E2E"),
        }
    }
    // The unicast master table first: other options depend on it.
    let transport_kind = [
        crate::config::Transport::UdpIpv4,
        crate::config::Transport::UdpIpv6,
        crate::config::Transport::Ethernet,
    ]
    .get(transport)
    .copied()
    .unwrap_or(crate::config::Transport::UdpIpv4);
    let client = port_unicast(
        out,
        tables,
        sources,
        transport_kind,
        blocker(p2p, clock.transparent),
        entries,
    )?;
    for (name, &src) in sources {
        let e = wrap(src);
        let v = src.setting.value.as_str();
        match *name {
            "network_transport" | "delay_mechanism" => {}
            "masterOnly" | "serverOnly" => {
                if flag(src).map_err(e)? {
                    if clock.slave_only {
                        out.drop(src, "contradicts slaveOnly 1; the clock stays slave-only");
                    } else {
                        entries.push(entry("master-only", boolean(true), src));
                    }
                }
            }
            "logAnnounceInterval" => interval(out, entries, "announce-interval", src)?,
            "logSyncInterval" => interval(out, entries, "sync-interval", src)?,
            "logMinDelayReqInterval" => {
                if p2p {
                    let _ = int_in(src, -128, 127).map_err(e)?;
                    no_effect(out, src, "0", "with P2P");
                } else {
                    interval(out, entries, "delay-interval", src)?;
                }
            }
            "logMinPdelayReqInterval" => {
                if p2p {
                    interval(out, entries, "pdelay-interval", src)?;
                } else {
                    let _ = int_in(src, -128, 127).map_err(e)?;
                    no_effect(out, src, "0", "with E2E");
                }
            }
            "announceReceiptTimeout" => {
                let n = int_in(src, 2, 255).map_err(e)?;
                entries.push(entry("announce-receipt-timeout", n.to_string(), src));
            }
            "syncReceiptTimeout" => {
                let n = int_in(src, 0, 255).map_err(e)?;
                if master_only {
                    no_effect(out, src, "0", "on a masterOnly port");
                } else {
                    entries.push(entry("sync-receipt-timeout", n.to_string(), src));
                }
            }
            "spp" => {
                // -1 (ptp4l's default) leaves the port unauthenticated.
                let n = int_in(src, -1, 255).map_err(e)?;
                if n >= 0 {
                    entries.push(entry("spp", n.to_string(), src));
                }
            }
            "active_key_id" => {
                let n = int_in(src, 0, i64::from(u32::MAX)).map_err(e)?;
                let spp = sources
                    .get("spp")
                    .and_then(|s| c_int(&s.setting.value))
                    .is_some_and(|v| v >= 0);
                if spp && n > 0 {
                    entries.push(entry("active-key-id", n.to_string(), src));
                } else if n != 0 {
                    no_effect(out, src, "0", "without spp");
                }
            }
            "allow_unauth" => {
                if int_in(src, 0, 2).map_err(e)? != 0 {
                    out.drop(
                        src,
                        "statime's authenticated ports accept no unauthenticated message \
                         (management included)",
                    );
                }
            }
            "delayAsymmetry" => nanos(out, entries, "delay-asymmetry", src)?,
            "ingressLatency" => nanos(out, entries, "ingress-latency", src)?,
            "egressLatency" => nanos(out, entries, "egress-latency", src)?,
            "delay_filter_length" => {
                let n = int_in(src, 1, i64::from(i32::MAX)).map_err(e)?;
                let max = i64::try_from(statime::port::MAX_DELAY_FILTER_LENGTH).unwrap_or(16);
                if n <= max {
                    entries.push(entry("delay-filter-length", n.to_string(), src));
                } else {
                    entries.push(entry("delay-filter-length", max.to_string(), src));
                    out.approx(src, format!("statime's filter holds at most {max} samples"));
                }
            }
            "delay_filter" => {
                if choice(src, &["moving_median", "moving_average"]).map_err(e)? == 1 {
                    out.drop(
                        src,
                        "statime filters the path delay with a moving median only",
                    );
                }
            }
            "tsproc_mode" => {
                if choice(src, &["filter", "raw", "filter_weight", "raw_weight"]).map_err(e)? != 0 {
                    out.drop(
                        src,
                        "statime filters the delay and weighs samples in its own servo",
                    );
                }
            }
            "udp_ttl" => {
                let n = int_in(src, 1, 255).map_err(e)?;
                if transport == 2 {
                    no_effect(out, src, "1", "with L2");
                } else {
                    entries.push(entry("multicast-ttl", n.to_string(), src));
                }
            }
            "udp6_scope" => {
                let n = int_in(src, 0, 0x0F).map_err(e)?;
                if transport == 1 {
                    entries.push(entry("udp6-scope", format!("{n:#04x}"), src));
                } else {
                    no_effect(out, src, "0x0E", "without UDPv6");
                }
            }
            "fault_reset_interval" => {
                let d = if v.eq_ignore_ascii_case("ASAP") {
                    None
                } else {
                    match int_in(src, -128, 127).map_err(e)? {
                        -128 => None,
                        n => Some(n),
                    }
                };
                match d {
                    None => {
                        entries.push(entry("fault-reset-interval", quote("1ms"), src));
                        out.approx(
                            src,
                            "statime has no immediate reset; the shortest wait it takes is \
                             written (1 ms)",
                        );
                    }
                    Some(n) if (0..=30).contains(&n) => {
                        let secs = 1i64 << n;
                        entries.push(entry(
                            "fault-reset-interval",
                            duration(ConfigDuration::from_secs(secs)),
                            src,
                        ));
                    }
                    Some(n) if (-29..0).contains(&n) => {
                        let ns = 1_000_000_000i64 >> (-n);
                        entries.push(entry(
                            "fault-reset-interval",
                            duration(ConfigDuration::from_nanos(ns)),
                            src,
                        ));
                    }
                    Some(_) => out.drop(src, "outside 2^-29..2^30 s"),
                }
            }
            "tx_timestamp_timeout" => {
                let n = int_in(src, 1, i64::from(i32::MAX)).map_err(e)?;
                let n = if n > 10_000 {
                    out.approx(src, "statime waits at most 10 s");
                    10_000
                } else {
                    n
                };
                entries.push(entry(
                    "tx-timestamp-timeout",
                    duration(ConfigDuration::from_millis(n)),
                    src,
                ));
            }
            "transportSpecific" => {
                let n = int_in(src, 0, 255).map_err(e)?;
                // The major sdoId is the high nibble of the first octet;
                // ptp4l's value is that nibble.
                let major = n & 0x0F;
                if n > 0x0F {
                    out.approx(src, "only the low 4 bits are the majorSdoId");
                }
                match sdo {
                    None => *sdo = Some((major, src)),
                    Some((m, _)) if *m == major => {}
                    Some(_) => out.drop(
                        src,
                        "statime has one sdo-id for the whole instance; the first port's \
                         is used",
                    ),
                }
            }
            "phc_index" => {
                let n = int_in(src, -1, i64::from(i32::MAX)).map_err(e)?;
                if n >= 0 && clock.hardware {
                    entries.push(entry("hardware-clock", n.to_string(), src));
                } else if n >= 0 {
                    out.drop(
                        src,
                        "has no effect with software time stamps, in ptp4l either",
                    );
                }
            }
            "boundary_clock_jbod" => {
                if flag(src).map_err(e)? {
                    out.approx(
                        src,
                        "statime runs ports on different PHCs without it (with a warning); \
                         keeping those PHCs in step is still up to an external program",
                    );
                }
            }
            "G.8275.portDS.localPriority" => {
                let n = int_in(src, 1, 255).map_err(e)?;
                if let Some(v) = local_priority(out, clock.telecom, src, n) {
                    entries.push(entry("local-priority", v, src));
                }
            }
            "asCapable" => {
                if choice(src, &["auto", "true"]).map_err(e)? == 1 {
                    out.drop(src, "802.1AS asCapable checks are not implemented");
                }
            }
            "BMCA" => {
                if choice(src, &["ptp", "noop"]).map_err(e)? == 1 {
                    out.drop(
                        src,
                        "static roles (BMCA noop, the automotive profile) are not \
                         implemented; the BMCA runs",
                    );
                }
            }
            "ptp_dst_mac" => {
                let v = src.setting.value.as_str();
                if transport == 2 && !v.eq_ignore_ascii_case("01:1B:19:00:00:00") {
                    if crate::config::parse_mac(v).is_none() {
                        return Err(e(format!(
                            "{}: \"{v}\" is not a MAC address (aa:bb:cc:dd:ee:ff)",
                            src.setting.name
                        )));
                    }
                    entries.push(entry("ptp-dst-mac", quote(v), src));
                } else {
                    mac(out, src, "01:1B:19:00:00:00", transport).map_err(e)?;
                }
            }
            "p2p_dst_mac" => mac(out, src, "01:80:C2:00:00:0E", transport).map_err(e)?,
            "neighborPropDelayThresh" => {
                let n = int_in(src, 0, i64::from(i32::MAX)).map_err(e)?;
                // ptp4l's default (20 ms) never bites: leave it out.
                if n != 20_000_000 {
                    entries.push(entry(
                        "neighbor-prop-delay-thresh",
                        duration(ConfigDuration::from_nanos(n)),
                        src,
                    ));
                }
            }
            "min_neighbor_prop_delay" => {
                int_in(src, i64::from(i32::MIN), 0).map_err(e)?;
                default_only(
                    out,
                    src,
                    "-20000000",
                    "802.1AS asCapable check on the peer delay not implemented",
                )
                .map_err(e)?;
            }
            // Converted by port_unicast above.
            "unicast_master_table" | "unicast_req_duration" => {}
            // A port is either a unicast client or a server.
            "unicast_listen" if client => {
                default_only(
                    out,
                    src,
                    "0",
                    "the port is a unicast client (unicast_master_table); statime's port is \
                     either a client or a server",
                )
                .map_err(e)?;
            }
            "unicast_listen" => {
                if flag(src).map_err(e)? {
                    entries.push(entry("unicast-listen", boolean(true), src));
                }
            }
            // A unicast client sends its Delay_Req to its master by unicast
            // anyway.
            "hybrid_e2e" if client => {
                flag(src).map_err(e)?;
            }
            "hybrid_e2e" => default_only(
                out,
                src,
                "0",
                "unicast Delay_Req (hybrid E2E) is not implemented; Delay_Req goes by \
                 multicast",
            )
            .map_err(e)?,
            // A slave-only unicast client serves nothing by multicast.
            "inhibit_multicast_service" if client => {
                flag(src).map_err(e)?;
            }
            "inhibit_multicast_service" => {
                if flag(src).map_err(e)? {
                    entries.push(entry("inhibit-multicast-service", boolean(true), src));
                }
            }
            "net_sync_monitor" => {
                default_only(out, src, "0", "NetSync Monitor is not implemented").map_err(e)?;
            }
            "path_trace_enabled" => {
                if flag(src).map_err(e)? {
                    set(&mut out.top, entry("path-trace", boolean(true), src));
                }
            }
            "follow_up_info" => {
                if flag(src).map_err(e)? {
                    set(&mut out.top, entry("follow-up-info", boolean(true), src));
                }
            }
            "ignore_transport_specific" => default_only(
                out,
                src,
                "0",
                "no equivalent; messages of another sdoId are dropped",
            )
            .map_err(e)?,
            "inhibit_announce" | "ignore_source_id" | "inhibit_delay_req" => default_only(
                out,
                src,
                "0",
                "automotive-profile behaviour not implemented",
            )
            .map_err(e)?,
            "msg_interval_request" | "operLogSyncInterval" | "operLogPdelayReqInterval" => {
                default_only(
                    out,
                    src,
                    "0",
                    "message interval requests (msg_interval_request) are not implemented",
                )
                .map_err(e)?;
            }
            "fault_badpeernet_interval" => {
                default_only(out, src, "16", "no equivalent").map_err(e)?;
            }
            name if name.starts_with("ts2phc.") => out.drop(
                src,
                "a ts2phc(8) option: this looks like a ts2phc configuration, not ptp4l's",
            ),
            name if CLOCK_OPTIONS.contains(&name) => out.drop(
                src,
                "a clock-wide option in a port section; ptp4l reads it only from [global]",
            ),
            _ => out.drop(
                src,
                "unknown to statime-ctl convert (not a linuxptp 3.1.1 ptp4l option it maps)",
            ),
        }
    }
    entries.push(Entry {
        line: clock.timestamping_line,
        key: "timestamping",
        value: quote(if clock.hardware {
            "hardware"
        } else {
            "software"
        }),
        comment: if clock.timestamping_comment.is_empty() {
            "ptp4l's default time_stamping".into()
        } else {
            clock.timestamping_comment.clone()
        },
    });
    Ok(())
}

pub(super) fn interval(
    out: &mut Out,
    entries: &mut Vec<Entry>,
    key: &'static str,
    src: Src<'_>,
) -> Result<(), (usize, String)> {
    let n = int_in(src, -128, 127).map_err(|m| (src.setting.line, m))?;
    if (-7..=7).contains(&n) {
        entries.push(entry(key, n.to_string(), src));
    } else {
        out.drop(src, "statime accepts log2 intervals -7..=7");
    }
    Ok(())
}

pub(super) fn nanos(
    out: &mut Out,
    entries: &mut Vec<Entry>,
    key: &'static str,
    src: Src<'_>,
) -> Result<(), (usize, String)> {
    let n =
        int_in(src, i64::from(i32::MIN), i64::from(i32::MAX)).map_err(|m| (src.setting.line, m))?;
    if n.unsigned_abs() < 1_000_000_000 {
        entries.push(entry(key, duration(ConfigDuration::from_nanos(n)), src));
    } else {
        out.drop(src, "statime accepts corrections below 1 s");
    }
    Ok(())
}

/// A value that has no effect in this context, in ptp4l either: silent at
/// ptp4l's `default`, listed otherwise.
pub(super) fn no_effect(out: &mut Out, src: Src<'_>, default: &str, context: &str) {
    let v = &src.setting.value;
    if c_int(v) != c_int(default) {
        out.drop(src, format!("has no effect {context}, in ptp4l either"));
    }
}

/// A destination MAC address: statime's are fixed at IEEE 1588's.
pub(super) fn mac(
    out: &mut Out,
    src: Src<'_>,
    default: &str,
    transport: usize,
) -> Result<(), String> {
    let v = &src.setting.value;
    let octets: Vec<&str> = v.split(':').collect();
    if octets.len() != 6
        || !octets
            .iter()
            .all(|o| o.len() == 2 && o.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(format!(
            "{}: \"{v}\" is not a MAC address (aa:bb:cc:dd:ee:ff)",
            src.setting.name
        ));
    }
    if !v.eq_ignore_ascii_case(default) {
        if transport == 2 {
            out.drop(
                src,
                "statime sends to IEEE 1588's addresses (01-1B-19-00-00-00, peer delay \
                 01-80-C2-00-00-0E); other destinations are not configurable",
            );
        } else {
            out.drop(src, "has no effect without L2, in ptp4l either");
        }
    }
    Ok(())
}
