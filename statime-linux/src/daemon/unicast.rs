//! A unicast client port (IEEE 1588-2019 clause 16.1, 17.5): the
//! addresses of its unicast master table beside the core's negotiation
//! state ([`statime::unicast::UnicastClient`]).
//!
//! The data plane (`run.rs`) takes a port's datagrams only from the table's
//! addresses (others are counted and dropped), hands each to the client
//! (identities, grants, cancels) and the non-Signaling ones to the PTP
//! instance as usual, sends what the instance writes to the selected
//! parent's address, and sends the client's Signaling messages to the
//! entry each names.

use statime::unicast::{ClientConfig, UnicastClient};
use statime::wire::tlv::{Tlv, TlvRepr};
use statime::wire::{Message, MessageBody, MessageType};

use crate::config::MAX_UNICAST_MASTERS;
use crate::config::PortSettings;
use crate::net::PeerAddress;

/// One port's unicast master table and negotiation.
pub(super) struct UnicastIo {
    pub(super) client: UnicastClient<MAX_UNICAST_MASTERS>,
    masters: Vec<PeerAddress>,
    /// Datagrams from an address outside the table, dropped.
    pub(super) foreign: u64,
    /// Multicast messages from a table master, dropped (the unicast
    /// stream is the negotiated one).
    pub(super) multicast: u64,
    /// Messages the instance wrote while no parent was selected, dropped.
    pub(super) no_parent: u64,
}

impl UnicastIo {
    /// The unicast side of port `p`, if it has a unicast master table.
    pub(super) fn new(p: &PortSettings) -> Option<Self> {
        let masters = p.unicast_masters();
        if masters.is_empty() {
            return None;
        }
        let config = ClientConfig {
            duration: p.unicast_request_duration,
            log_announce_interval: p.announce_interval,
            log_sync_interval: p.sync_interval,
            log_delay_resp_interval: p.delay_interval,
            log_query_interval: p.unicast_query_interval,
        };
        Some(Self {
            client: UnicastClient::new(config, masters.len()),
            masters,
            foreign: 0,
            multicast: 0,
            no_parent: 0,
        })
    }

    /// The table entry that sent from `source` (the address; the UDP
    /// source port is not compared).
    pub(super) fn entry_of(&self, source: Option<PeerAddress>) -> Option<usize> {
        let s = source?;
        self.masters.iter().position(|m| same_node(*m, s))
    }

    /// Entry `entry`'s address.
    pub(super) fn address(&self, entry: usize) -> Option<PeerAddress> {
        self.masters.get(entry).copied()
    }

    /// The selected parent's address, where the instance's messages go.
    pub(super) fn parent_address(&self) -> Option<PeerAddress> {
        self.client.parent().and_then(|e| self.address(e))
    }

    /// Log lines for the negotiation TLVs of `msg`, received from `entry`.
    pub(super) fn describe(&self, entry: usize, msg: &Message<'_>) -> Vec<String> {
        if !matches!(msg.body, MessageBody::Signaling(_)) {
            return Vec::new();
        }
        let from = self.address(entry).map_or_else(String::new, show);
        msg.suffix
            .iter()
            .filter_map(|raw| match Tlv::parse(raw).ok()? {
                Tlv::GrantUnicastTransmission(g) if g.duration == 0 => {
                    Some(format!("unicast: {from} denied {}", name(g.message_type)))
                }
                Tlv::GrantUnicastTransmission(g) => Some(format!(
                    "unicast: {from} granted {} every 2^{} s for {} s",
                    name(g.message_type),
                    g.log_inter_message_period,
                    g.duration
                )),
                Tlv::CancelUnicastTransmission(c) => Some(format!(
                    "unicast: {from} cancelled {}",
                    name(c.message_type)
                )),
                _ => None,
            })
            .collect()
    }
}

fn name(t: MessageType) -> &'static str {
    match t {
        MessageType::Announce => "Announce",
        MessageType::Sync => "Sync",
        MessageType::DelayResp => "Delay_Resp",
        _ => "another message type",
    }
}

/// An address as an operator writes it.
pub(super) fn show(a: PeerAddress) -> String {
    match a {
        PeerAddress::V4(s) => s.ip().to_string(),
        PeerAddress::V6(s) => s.ip().to_string(),
        PeerAddress::Ethernet(m) => m
            .iter()
            .map(|o| format!("{o:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    }
}

fn same_node(a: PeerAddress, b: PeerAddress) -> bool {
    match (a, b) {
        (PeerAddress::V4(x), PeerAddress::V4(y)) => x.ip() == y.ip(),
        (PeerAddress::V6(x), PeerAddress::V6(y)) => x.ip() == y.ip(),
        (PeerAddress::Ethernet(x), PeerAddress::Ethernet(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddrV4};

    use super::*;

    fn port(table: &[&str]) -> PortSettings {
        let mut p = PortSettings::new("eth0".to_owned());
        p.unicast_master_table = table.iter().map(|s| (*s).to_owned()).collect();
        p
    }

    #[test]
    fn entries_are_matched_by_address_not_source_port() {
        let u = UnicastIo::new(&port(&["192.0.2.1", "192.0.2.7"])).expect("a table");
        let from = |ip: [u8; 4], port: u16| {
            Some(PeerAddress::V4(SocketAddrV4::new(Ipv4Addr::from(ip), port)))
        };
        assert_eq!(u.entry_of(from([192, 0, 2, 7], 320)), Some(1));
        assert_eq!(u.entry_of(from([192, 0, 2, 1], 319)), Some(0));
        assert_eq!(u.entry_of(from([192, 0, 2, 9], 319)), None);
        assert_eq!(u.entry_of(None), None);
        assert_eq!(u.parent_address(), None, "no parent before BMCA");
        assert!(UnicastIo::new(&port(&[])).is_none(), "multicast port");
    }
}
