//! `[unicast_master_table]` sections and the port options that use them
//! (`unicast_master_table`, `unicast_req_duration`): a port's table
//! becomes its `unicast-master-table`, `unicast-query-interval` and
//! `unicast-request-duration`.
//!
//! ptp4l reads a table section line by line (config.c,
//! `parse_unicast_mtab_line`): `table_id N` (1..=INT_MAX, each once) starts
//! a table, `logQueryInterval N` (-128..=127) and `peer_address ADDR`
//! belong to it, and every other line is `TRANSPORT ADDRESS` (`UDPv4`,
//! `UDPv6`, `L2`; an unknown transport is taken as a local socket path).
//! A line before `table_id` and an address that is not one of its
//! transport are errors; a port naming a table that does not exist does
//! not start. Entries of another transport than the port's only give ptp4l
//! a warning (it cannot reach them either).

use std::collections::BTreeMap;

use crate::config::{MAX_UNICAST_MASTERS, Transport, parse_mac, parse_unicast_address};

use super::out::{Entry, Out, Src, entry, quote};
use super::values::{c_int, int_in};
use super::{Ptp4lConfig, SectionKind};

/// The section name remarks about table lines carry.
pub(super) const TABLE: &str = "unicast_master_table";

/// ptp4l's `unicast_req_duration` default (seconds); statime's is 300.
const PTP4L_REQ_DURATION: i64 = 3600;

/// statime's `unicast-request-duration` range.
const DURATION_RANGE: (i64, i64) = (10, 86_400);

/// statime's `unicast-query-interval` range.
const QUERY_RANGE: (i64, i64) = (-3, 6);

/// One `TRANSPORT ADDRESS` line.
#[derive(Clone, Copy, Debug)]
pub(super) struct Address<'a> {
    /// `Some` for UDPv4, UDPv6, L2; `None` for a transport statime lacks.
    pub(super) transport: Option<Transport>,
    pub(super) src: Src<'a>,
}

/// One `[unicast_master_table]`.
#[derive(Clone, Debug)]
pub(super) struct Table<'a> {
    pub(super) id: i64,
    /// The `table_id` line.
    pub(super) id_src: Src<'a>,
    pub(super) query: Option<(i64, Src<'a>)>,
    pub(super) peer: Option<Src<'a>>,
    pub(super) addresses: Vec<Address<'a>>,
}

impl<'a> Table<'a> {
    /// Every line of the table, in file order.
    fn lines(&self) -> Vec<Src<'a>> {
        let mut v = vec![self.id_src];
        v.extend(self.query.map(|(_, s)| s));
        v.extend(self.peer);
        v.extend(self.addresses.iter().map(|a| a.src));
        v.sort_by_key(|s| s.setting.line);
        v
    }
}

/// The transport names of ptp4l's `network_transport` (case-insensitive,
/// as ptp4l's `strcasecmp`).
fn transport_of(name: &str) -> Option<Transport> {
    [
        ("UDPv4", Transport::UdpIpv4),
        ("UDPv6", Transport::UdpIpv6),
        ("L2", Transport::Ethernet),
    ]
    .into_iter()
    .find(|(n, _)| n.eq_ignore_ascii_case(name))
    .map(|(_, t)| t)
}

const fn transport_name(t: Transport) -> &'static str {
    match t {
        Transport::UdpIpv4 => "UDPv4",
        Transport::UdpIpv6 => "UDPv6",
        Transport::Ethernet => "L2",
    }
}

/// Reads every `[unicast_master_table]` section.
///
/// # Errors
/// What ptp4l refuses when it reads the file: (line, message).
pub(super) fn tables(conf: &Ptp4lConfig) -> Result<Vec<Table<'_>>, (usize, String)> {
    let mut tables: Vec<Table<'_>> = Vec::new();
    for sec in &conf.sections {
        if sec.kind != SectionKind::UnicastMasterTable {
            continue;
        }
        // ptp4l starts each section without a table: table_id comes first.
        let mut current: Option<usize> = None;
        for s in &sec.settings {
            let src = Src {
                setting: s,
                section: Some(TABLE),
            };
            let err = |m: String| (s.line, m);
            if s.name == "table_id" {
                let id = int_in(src, 1, i64::from(i32::MAX)).map_err(err)?;
                if let Some(t) = tables.iter().find(|t| t.id == id) {
                    return Err(err(format!(
                        "table_id: {id} is already taken (line {})",
                        t.id_src.setting.line
                    )));
                }
                tables.push(Table {
                    id,
                    id_src: src,
                    query: None,
                    peer: None,
                    addresses: Vec::new(),
                });
                current = Some(tables.len() - 1);
                continue;
            }
            let Some(table) = current.and_then(|i| tables.get_mut(i)) else {
                return Err(err(format!(
                    "{}: missing table_id (ptp4l wants \"table_id N\" first in a \
                     [unicast_master_table] section)",
                    s.name
                )));
            };
            match s.name.as_str() {
                "logQueryInterval" => {
                    let n = int_in(src, i64::from(i8::MIN), i64::from(i8::MAX)).map_err(err)?;
                    table.query = Some((n, src));
                }
                "peer_address" => table.peer = Some(src),
                name => {
                    let transport = transport_of(name);
                    let v = s.value.as_str();
                    let ok = match transport {
                        Some(Transport::UdpIpv4) => v.parse::<std::net::Ipv4Addr>().is_ok(),
                        Some(Transport::UdpIpv6) => v.parse::<std::net::Ipv6Addr>().is_ok(),
                        Some(Transport::Ethernet) => parse_mac(v).is_some(),
                        // ptp4l takes it as a local socket path.
                        None => true,
                    };
                    if !ok {
                        return Err(err(format!(
                            "{name}: \"{v}\" is not a{} address",
                            match transport {
                                Some(Transport::Ethernet) => " MAC (aa:bb:cc:dd:ee:ff)",
                                Some(Transport::UdpIpv6) => "n IPv6",
                                _ => "n IPv4",
                            }
                        )));
                    }
                    table.addresses.push(Address { transport, src });
                }
            }
        }
    }
    Ok(tables)
}

/// The table a port's options select: `(table, the unicast_master_table
/// option)`; `None` without one (or `unicast_master_table 0`).
///
/// # Errors
/// A value ptp4l refuses, or a table that does not exist (ptp4l does not
/// start the port).
pub(super) fn selected<'t, 'a>(
    tables: &'t [Table<'a>],
    sources: &BTreeMap<&'a str, Src<'a>>,
) -> Result<Option<(&'t Table<'a>, Src<'a>)>, (usize, String)> {
    let Some(src) = sources.get("unicast_master_table").copied() else {
        return Ok(None);
    };
    let line = src.setting.line;
    let id = int_in(src, 0, i64::from(i32::MAX)).map_err(|m| (line, m))?;
    if id == 0 {
        return Ok(None);
    }
    match tables.iter().find(|t| t.id == id) {
        Some(t) => Ok(Some((t, src))),
        None => Err((
            line,
            format!(
                "unicast_master_table: no [unicast_master_table] section has table_id {id} \
                 (ptp4l does not start the port)"
            ),
        )),
    }
}

/// What a port with a table becomes.
#[derive(Debug, Default)]
pub(super) struct Client {
    /// The `unicast-master-table` entries (empty: the port stays multicast).
    pub(super) masters: Vec<String>,
}

/// Converts the unicast client options of one port whose transport is
/// `transport`: appends the unicast keys to `entries` and names what is
/// not carried over. `blocker` is why this port cannot be a unicast
/// client in statime (P2P, a transparent clock), if it cannot. Returns
/// whether the port became a unicast client.
pub(super) fn port_unicast<'a>(
    out: &mut Out,
    tables: &[Table<'a>],
    sources: &BTreeMap<&'a str, Src<'a>>,
    transport: Transport,
    blocker: Option<&str>,
    entries: &mut Vec<Entry>,
) -> Result<bool, (usize, String)> {
    let duration = sources.get("unicast_req_duration").copied();
    if let Some(d) = duration {
        int_in(d, DURATION_RANGE.0, i64::from(i32::MAX)).map_err(|m| (d.setting.line, m))?;
    }
    let Some((table, option)) = selected(tables, sources)? else {
        if let Some(d) = duration {
            super::port::no_effect(
                out,
                d,
                &PTP4L_REQ_DURATION.to_string(),
                "without unicast_master_table",
            );
        }
        return Ok(false);
    };
    if let Some(reason) = blocker {
        out.drop(option, reason.to_owned());
        if let Some(d) = duration {
            out.drop(d, "the port's unicast_master_table is not carried over");
        }
        return Ok(false);
    }
    let client = masters(out, table, transport);
    if client.masters.is_empty() {
        out.drop(
            option,
            format!(
                "table_id {} has no {} master, the port's transport; the port stays multicast",
                table.id,
                transport_name(transport)
            ),
        );
        if let Some(d) = duration {
            out.drop(d, "the port's unicast_master_table is not carried over");
        }
        return Ok(false);
    }
    let list: Vec<String> = client.masters.iter().map(|m| quote(m)).collect();
    entries.push(entry(
        "unicast-master-table",
        format!("[{}]", list.join(", ")),
        option,
    ));
    // The table's query interval (ptp4l's default 0 is statime's too).
    if let Some((n, src)) = table.query
        && n != 0
    {
        let clamped = n.clamp(QUERY_RANGE.0, QUERY_RANGE.1);
        if clamped != n {
            out.approx(
                src,
                format!(
                    "statime's unicast-query-interval is {}..={}: {clamped} is written",
                    QUERY_RANGE.0, QUERY_RANGE.1
                ),
            );
        }
        entries.push(entry("unicast-query-interval", clamped.to_string(), src));
    }
    match duration {
        Some(d) => {
            let n = c_int(&d.setting.value).unwrap_or(PTP4L_REQ_DURATION);
            let written = n.min(DURATION_RANGE.1);
            if written != n {
                out.approx(
                    d,
                    format!(
                        "statime asks for at most {} s: unicast-request-duration = {written}",
                        DURATION_RANGE.1
                    ),
                );
            }
            entries.push(entry("unicast-request-duration", written.to_string(), d));
        }
        None => entries.push(Entry {
            line: 0,
            key: "unicast-request-duration",
            value: PTP4L_REQ_DURATION.to_string(),
            comment: "ptp4l's default unicast_req_duration (statime's is 300)".into(),
        }),
    }
    Ok(true)
}

/// The entries of `table` a port of `transport` can use, in order; the
/// others are named.
fn masters(out: &mut Out, table: &Table<'_>, transport: Transport) -> Client {
    let mut client = Client::default();
    let mut seen = Vec::new();
    if let Some(p) = table.peer {
        out.drop(
            p,
            "the peer delay partner of a P2P unicast port; statime negotiates unicast \
             service with E2E only",
        );
    }
    for a in &table.addresses {
        let v = a.src.setting.value.as_str();
        let Some(t) = a.transport else {
            out.drop(
                a.src,
                format!(
                    "not a transport statime has (UDPv4, UDPv6, L2); ptp4l takes it as a \
                     local socket and warns of the mismatch with the port's {}",
                    transport_name(transport)
                ),
            );
            continue;
        };
        if t != transport {
            out.drop(
                a.src,
                format!(
                    "a {} master in the table of a {} port: ptp4l warns of the mismatch and \
                     cannot reach it either",
                    transport_name(t),
                    transport_name(transport)
                ),
            );
            continue;
        }
        match parse_unicast_address(transport, v) {
            Err(e) => out.drop(a.src, format!("{e}: statime asks unicast masters only")),
            Ok(addr) if seen.contains(&addr) => out.drop(a.src, "listed twice in the table"),
            Ok(_) if client.masters.len() >= MAX_UNICAST_MASTERS => out.drop(
                a.src,
                format!("statime's table holds at most {MAX_UNICAST_MASTERS} masters"),
            ),
            Ok(addr) => {
                seen.push(addr);
                client.masters.push(v.to_owned());
            }
        }
    }
    client
}

/// The lines of the tables no port uses: named as not carried over.
pub(super) fn unused_tables(out: &mut Out, tables: &[Table<'_>], used: &[i64]) {
    for t in tables.iter().filter(|t| !used.contains(&t.id)) {
        for src in t.lines() {
            if src.setting.name == "peer_address" {
                out.drop(
                    src,
                    "the peer delay partner of a P2P unicast port; statime negotiates \
                     unicast service with E2E only",
                );
            } else {
                out.drop(
                    src,
                    format!(
                        "no port names table_id {} in its unicast_master_table",
                        t.id
                    ),
                );
            }
        }
    }
}

/// The transport a port's options give (ptp4l's default UDPv4; a value
/// ptp4l refuses is reported by the port conversion).
pub(super) fn port_transport(sources: &BTreeMap<&str, Src<'_>>) -> Transport {
    sources
        .get("network_transport")
        .and_then(|s| transport_of(&s.setting.value))
        .unwrap_or(Transport::UdpIpv4)
}

/// Why a port cannot be a unicast client in statime, if it cannot.
pub(super) const fn blocker(p2p: bool, transparent: bool) -> Option<&'static str> {
    if transparent {
        Some("a transparent clock negotiates no unicast service in statime")
    } else if p2p {
        Some(
            "statime negotiates unicast service with delay_mechanism E2E only; the port \
             stays multicast",
        )
    } else {
        None
    }
}

/// Whether the port will be a unicast client (the same decision as
/// [`port_unicast`], without remarks).
pub(super) fn is_client<'a>(
    tables: &[Table<'a>],
    sources: &BTreeMap<&'a str, Src<'a>>,
    transparent: bool,
) -> bool {
    let p2p = sources
        .get("delay_mechanism")
        .is_some_and(|s| s.setting.value.eq_ignore_ascii_case("P2P"));
    if blocker(p2p, transparent).is_some() {
        return false;
    }
    let Ok(Some((table, _))) = selected(tables, sources) else {
        return false;
    };
    let transport = port_transport(sources);
    let mut scratch = Out::default();
    !masters(&mut scratch, table, transport).masters.is_empty()
}
