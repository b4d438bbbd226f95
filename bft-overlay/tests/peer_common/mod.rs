//! Helpers shared by the peer-layer tests: pair keys, addresses, nodes.
#![allow(dead_code, unreachable_pub, reason = "each test binary uses a part")]

use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use bft_overlay::Interval;
use bft_overlay::peer::{
    Action, BoundStatus, Key, KeyTable, NodeId, OwnBound, PeerConfig, PeerNode, Transmit,
};

/// The key shared by `a` and `b` (the same from both ends, distinct per
/// pair).
pub fn pair_key(a: NodeId, b: NodeId) -> Key {
    let (lo, hi) = (a.min(b), a.max(b));
    let mut k = [0u8; 32];
    k[..8].copy_from_slice(&lo.to_be_bytes());
    k[8..16].copy_from_slice(&hi.to_be_bytes());
    k[16..].copy_from_slice(b"pair-key-tests..");
    Key::new(k)
}

/// A loopback address per node (values only: nothing is sent).
pub fn addr(id: NodeId) -> SocketAddr {
    let last = u8::try_from(id % 250).unwrap_or(0) + 1;
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 9, last)), 3199)
}

/// The keys node `me` shares with each of `peers` (key id 1).
pub fn keys_for(me: NodeId, peers: &[NodeId]) -> KeyTable {
    let mut t = KeyTable::new();
    for &p in peers {
        if p != me {
            t.insert(p, 1, pair_key(me, p));
        }
    }
    t
}

/// Node `me` of the full mesh `all`.
pub fn node(me: NodeId, all: &[NodeId], config: PeerConfig) -> PeerNode {
    let peers: Vec<NodeId> = all.iter().copied().filter(|&p| p != me).collect();
    PeerNode::new(
        PeerConfig {
            node_id: me,
            ..config
        },
        keys_for(me, &peers),
        peers.iter().map(|&p| (p, addr(p))),
    )
    .unwrap()
}

/// A synchronized bound `[lower, upper]` (true time minus clock).
pub fn synced(lower: i64, upper: i64) -> OwnBound {
    OwnBound {
        interval: Interval::new(lower, upper).unwrap(),
        status: BoundStatus::Synchronized,
    }
}

/// The datagrams among `actions`.
pub fn sends(actions: &[Action]) -> Vec<Transmit> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(t) => Some(*t),
            _ => None,
        })
        .collect()
}
