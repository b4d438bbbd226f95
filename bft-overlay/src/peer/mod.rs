//! The peer layer: overlay nodes measure each other with authenticated
//! four-timestamp exchanges, sans-IO.
//!
//! Each node is a [`PeerNode`]. It opens no socket and reads no clock: the
//! daemon's poll loop owns the UDP socket and the clocks and drives it,
//! in the style of quinn-proto and ntpd-rs:
//!
//! - [`PeerNode::handle_datagram`]`(now, rx_timestamp, from, bytes)` for
//!   every datagram received on the peer socket;
//! - [`PeerNode::poll`]`(now)` when [`PeerNode::next_deadline`] has passed
//!   (and once at start);
//! - [`PeerNode::tx_timestamp`]`(now, handle, ts)` when the transmit time
//!   stamp of a datagram sent with a [`TxHandle`] is known;
//! - [`PeerNode::set_own_bound`] whenever the node's own bound changes (the
//!   guard's intersection), so that every message carries it.
//!
//! Each call returns [`Action`]s: datagrams to send ([`Transmit`], with a
//! handle when a transmit time stamp is wanted), samples for the
//! [`Guard`](crate::Guard) (the peer's [`NodeId`] is the source id), and
//! reports (drops by reason, lost exchanges, rejected HLCs).
//!
//! Every message is authenticated with HMAC-SHA256 under a key shared by
//! the two nodes only ([`keys`]), carries a sequence number checked against
//! a sliding window ([`replay`]), the sender's current bound and its hybrid
//! logical clock ([`hlc`]). Each poll round a node sends requests to `k`
//! peers chosen by a rotating, seeded order ([`fanout`]) and answers every
//! valid request. An exchange gives a [`SourceSample`](crate::SourceSample)
//! ([`exchange`]).
//!
//! With [`PeerNode::with_membership`] the configured peers are only seeds:
//! members tell each other whom they know in gossip messages ([`gossip`]),
//! and a trusted node (one the key table has a key for) is admitted at an
//! address only after it answers, from there, a probe authenticated with
//! the pair key ([`membership`]).
//!
//! The protocol, its wire layouts ([`wire`], [`gossip`]) and its limits are
//! written up in `docs/algorithm/peer-protocol.md`.

mod node;

pub mod exchange;
pub mod fanout;
pub mod gossip;
pub mod hlc;
pub mod keys;
pub mod membership;
pub mod replay;
pub mod wire;

pub use exchange::{Exchange, ExchangeError};
pub use fanout::{FanOut, XorShift};
pub use gossip::{FLAG_PULL, GOSSIP_LEN, Gossip, GossipError, Hint, MAX_HINTS};
pub use hlc::{Hlc, HlcRejected};
pub use keys::{AuthError, KEY_LEN, Key, KeyTable};
pub use membership::{
    Family, MemberEvent, Membership, MembershipConfig, MembershipCounters, Refusal, RefusalCounts,
};
pub use node::{
    Action, ConfigError, DropCounts, DropReason, GossipTransmit, MemberInfo, Now, OwnBound,
    PeerConfig, PeerCounters, PeerNode, Transmit, TxHandle,
};
pub use replay::{ReplayError, ReplayWindow};
pub use wire::{BoundStatus, HlcTimestamp, KeyId, MESSAGE_LEN, Message, MessageType, NodeId};
