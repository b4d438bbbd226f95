//! The gossip message: membership hints, a fixed 256-byte datagram.
//!
//! Its first 56 bytes are the header of every peer message ([`super::wire`]:
//! magic, version 1, type, flags, status, sender, receiver, key id, HLC,
//! sequence number, echoed sequence number) with type code
//! [`GOSSIP_TYPE`]. Instead of the exchange's time stamps and interval it
//! carries up to [`MAX_HINTS`] hints "node X is at address A", IPv4 or
//! IPv6, and its MAC covers bytes `0..224`. Every gossip message has the
//! same length, so the answer to a pull is never larger than the pull (no
//! amplification). A node of an older version drops it by its length.
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0 | 56 | the common header; type 4; flags bit 1 [`FLAG_PULL`] (answer with a gossip of yours) |
//! | 56 | 1 | hint count, 0 to 5 |
//! | 57 | 7 | reserved, zero |
//! | 64 | 160 | five hint slots of 32 bytes (unused slots zero) |
//! | 224 | 32 | HMAC-SHA256 over bytes 0..224 with the pair's key |
//!
//! A hint slot:
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0 | 8 | node id |
//! | 8 | 1 | address family: 4 (IPv4) or 6 (IPv6); others kept as no address |
//! | 9 | 1 | reserved, zero |
//! | 10 | 2 | UDP port |
//! | 12 | 16 | address: IPv4 in the first 4 bytes (the rest zero), or IPv6 |
//! | 28 | 4 | IPv6 scope id (0 for IPv4) |
//!
//! A hint is only a hint: the receiver admits X at A only after X answers,
//! from A, a probe authenticated with the pair key it shares with X
//! ([`super::membership`]). [`Gossip::parse`] never panics.

use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use super::wire::{BoundStatus, HlcTimestamp, KeyId, MAC_LEN, MAGIC, NodeId, VERSION};

/// The message type code of a gossip message (valid only in the 256-byte
/// form; a 128-byte message with this code is an unknown type).
pub const GOSSIP_TYPE: u8 = 4;
/// The length of every gossip message, MAC included.
pub const GOSSIP_LEN: usize = 256;
/// The length of its authenticated part.
pub const GOSSIP_BODY_LEN: usize = 224;
/// The most hints one message carries.
pub const MAX_HINTS: usize = 5;
/// Flag bit: the receiver should answer with a gossip message of its own
/// (push-pull; also how a probe asks for its authenticated answer).
pub const FLAG_PULL: u8 = 0x02;

const HINT_COUNT: usize = 56;
const HINTS: usize = 64;
const SLOT: usize = 32;
const MAC: core::ops::Range<usize> = GOSSIP_BODY_LEN..GOSSIP_LEN;

/// "Node `node` is at `addr`".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hint {
    /// The node.
    pub node: NodeId,
    /// Its address; `None` when the slot's family is unknown.
    pub addr: Option<SocketAddr>,
}

/// One gossip message without its MAC.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Gossip {
    /// The flag byte ([`FLAG_PULL`]; unknown bits kept).
    pub flags: u8,
    /// The status of the sender's bound (informational).
    pub status: BoundStatus,
    /// Who sent it.
    pub sender: NodeId,
    /// Whom it is for.
    pub receiver: NodeId,
    /// Which key of the pair authenticates it.
    pub key_id: KeyId,
    /// The sender's last HLC timestamp (informational, not merged).
    pub hlc: HlcTimestamp,
    /// The sender's sequence number towards the receiver (shared with its
    /// other messages to it, so one replay window covers all).
    pub seq: u64,
    /// The sequence number of the pull this answers; 0 otherwise.
    pub echo_seq: u64,
    /// The hints, at most [`MAX_HINTS`] (more are not emitted).
    pub hints: Vec<Hint>,
}

/// Why [`Gossip::parse`] refused bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GossipError {
    /// Not exactly [`GOSSIP_LEN`] bytes.
    Length(usize),
    /// Not the peer magic.
    Magic,
    /// Another protocol version.
    Version(u8),
    /// Not type [`GOSSIP_TYPE`], or a hint count above [`MAX_HINTS`].
    Malformed,
}

impl fmt::Display for GossipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length(n) => write!(f, "gossip message of {n} bytes, expected {GOSSIP_LEN}"),
            Self::Magic => f.write_str("not a peer message (bad magic)"),
            Self::Version(v) => write!(f, "peer message version {v} not supported"),
            Self::Malformed => f.write_str("malformed gossip message"),
        }
    }
}

impl core::error::Error for GossipError {}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        x.copy_from_slice(s);
    }
    u64::from_be_bytes(x)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        x.copy_from_slice(s);
    }
    u32::from_be_bytes(x)
}

fn parse_slot(s: &[u8]) -> Hint {
    let node = u64_at(s, 0);
    let port = u16::from_be_bytes([s[10], s[11]]);
    let mut a = [0u8; 16];
    a.copy_from_slice(&s[12..28]);
    let addr = match s[8] {
        4 => Some(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3])),
            port,
        )),
        6 => Some(SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::from(a),
            port,
            0,
            u32_at(s, 28),
        ))),
        _ => None,
    };
    Hint { node, addr }
}

fn emit_slot(h: &Hint, s: &mut [u8]) {
    s[..8].copy_from_slice(&h.node.to_be_bytes());
    match h.addr {
        Some(SocketAddr::V4(a)) => {
            s[8] = 4;
            s[10..12].copy_from_slice(&a.port().to_be_bytes());
            s[12..16].copy_from_slice(&a.ip().octets());
        }
        Some(SocketAddr::V6(a)) => {
            s[8] = 6;
            s[10..12].copy_from_slice(&a.port().to_be_bytes());
            s[12..28].copy_from_slice(&a.ip().octets());
            s[28..32].copy_from_slice(&a.scope_id().to_be_bytes());
        }
        None => {}
    }
}

impl Gossip {
    /// The fields of `bytes` and their MAC (not verified).
    ///
    /// # Errors
    ///
    /// [`GossipError`] when the length, magic, version, type or hint count
    /// is wrong. Never panics.
    pub fn parse(bytes: &[u8]) -> Result<(Self, [u8; MAC_LEN]), GossipError> {
        let b: &[u8; GOSSIP_LEN] = bytes
            .try_into()
            .map_err(|_| GossipError::Length(bytes.len()))?;
        if b[0..4] != MAGIC {
            return Err(GossipError::Magic);
        }
        if b[4] != VERSION {
            return Err(GossipError::Version(b[4]));
        }
        let count = usize::from(b[HINT_COUNT]);
        if b[5] != GOSSIP_TYPE || count > MAX_HINTS {
            return Err(GossipError::Malformed);
        }
        let hints = (0..count)
            .map(|i| parse_slot(&b[HINTS + i * SLOT..HINTS + (i + 1) * SLOT]))
            .collect();
        let mut mac = [0u8; MAC_LEN];
        mac.copy_from_slice(&b[MAC]);
        Ok((
            Self {
                flags: b[6],
                status: BoundStatus::from_code(b[7]),
                sender: u64_at(b, 8),
                receiver: u64_at(b, 16),
                key_id: u32_at(b, 24),
                hlc: HlcTimestamp {
                    physical_ns: u64_at(b, 32),
                    logical: u32_at(b, 28),
                },
                seq: u64_at(b, 40),
                echo_seq: u64_at(b, 48),
                hints,
            },
            mac,
        ))
    }

    /// The message as bytes, with the MAC field zero (fill it with
    /// [`set_mac`]); hints beyond [`MAX_HINTS`] are left out.
    #[must_use]
    pub fn emit(&self) -> [u8; GOSSIP_LEN] {
        let mut b = [0u8; GOSSIP_LEN];
        b[0..4].copy_from_slice(&MAGIC);
        b[4] = VERSION;
        b[5] = GOSSIP_TYPE;
        b[6] = self.flags;
        b[7] = self.status.code();
        b[8..16].copy_from_slice(&self.sender.to_be_bytes());
        b[16..24].copy_from_slice(&self.receiver.to_be_bytes());
        b[24..28].copy_from_slice(&self.key_id.to_be_bytes());
        b[28..32].copy_from_slice(&self.hlc.logical.to_be_bytes());
        b[32..40].copy_from_slice(&self.hlc.physical_ns.to_be_bytes());
        b[40..48].copy_from_slice(&self.seq.to_be_bytes());
        b[48..56].copy_from_slice(&self.echo_seq.to_be_bytes());
        let n = self.hints.len().min(MAX_HINTS);
        b[HINT_COUNT] = u8::try_from(n).unwrap_or(0);
        for (i, h) in self.hints.iter().take(n).enumerate() {
            emit_slot(h, &mut b[HINTS + i * SLOT..HINTS + (i + 1) * SLOT]);
        }
        b
    }

    /// Whether the pull flag is set.
    #[must_use]
    pub const fn pull(&self) -> bool {
        self.flags & FLAG_PULL != 0
    }
}

/// The authenticated part of an emitted gossip message (bytes `0..224`).
#[must_use]
pub fn body(bytes: &[u8; GOSSIP_LEN]) -> &[u8] {
    &bytes[..GOSSIP_BODY_LEN]
}

/// Write `mac` into the MAC field of `bytes`.
pub fn set_mac(bytes: &mut [u8; GOSSIP_LEN], mac: &[u8; MAC_LEN]) {
    bytes[MAC].copy_from_slice(mac);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Gossip {
        Gossip {
            flags: FLAG_PULL,
            status: BoundStatus::Synchronized,
            sender: 0x0102_0304_0506_0708,
            receiver: 9,
            key_id: 0x2122_2324,
            hlc: HlcTimestamp {
                physical_ns: 0x3132_3334_3536_3738,
                logical: 7,
            },
            seq: 0x5152_5354_5556_5758,
            echo_seq: 3,
            hints: alloc::vec![
                Hint {
                    node: 5,
                    addr: Some("192.0.2.15:3190".parse().unwrap()),
                },
                Hint {
                    node: 6,
                    addr: Some("[fe80::1%4]:319".parse().unwrap()),
                },
            ],
        }
    }

    #[test]
    fn fields_sit_where_the_table_says() {
        let g = sample();
        let mut b = g.emit();
        set_mac(&mut b, &[0xAB; MAC_LEN]);
        assert_eq!(&b[..8], &[b'B', b'F', b'T', b'P', 1, 4, 2, 1]);
        assert_eq!(&b[8..16], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&b[16..24], &9u64.to_be_bytes());
        assert_eq!(b[56], 2);
        assert!(b[57..64].iter().all(|&x| x == 0));
        // Slot 0: node 5 at 192.0.2.15:3190.
        assert_eq!(&b[64..72], &5u64.to_be_bytes());
        assert_eq!(&b[72..76], &[4, 0, 0x0C, 0x76]);
        assert_eq!(&b[76..80], &[192, 0, 2, 15]);
        assert!(b[80..96].iter().all(|&x| x == 0));
        // Slot 1: node 6 at [fe80::1%4]:319.
        assert_eq!(&b[96..104], &6u64.to_be_bytes());
        assert_eq!(&b[104..108], &[6, 0, 0x01, 0x3F]);
        assert_eq!(&b[108..110], &[0xfe, 0x80]);
        assert_eq!(b[123], 1);
        assert_eq!(&b[124..128], &[0, 0, 0, 4]);
        assert!(b[128..224].iter().all(|&x| x == 0));
        assert_eq!(&b[224..], &[0xAB; 32]);
        let (back, mac) = Gossip::parse(&b).unwrap();
        assert_eq!(back, g);
        assert_eq!(mac, [0xAB; 32]);
    }

    #[test]
    fn bad_bytes_are_refused_not_panicked_on() {
        let b = sample().emit();
        assert_eq!(Gossip::parse(&b[..128]), Err(GossipError::Length(128)));
        let mut x = b;
        x[0] = b'X';
        assert_eq!(Gossip::parse(&x), Err(GossipError::Magic));
        let mut x = b;
        x[4] = 2;
        assert_eq!(Gossip::parse(&x), Err(GossipError::Version(2)));
        let mut x = b;
        x[5] = 1;
        assert_eq!(Gossip::parse(&x), Err(GossipError::Malformed));
        let mut x = b;
        x[56] = 6;
        assert_eq!(Gossip::parse(&x), Err(GossipError::Malformed));
        let mut x = b;
        x[72] = 9;
        let (g, _) = Gossip::parse(&x).unwrap();
        assert_eq!(g.hints[0].addr, None);
        // Hints beyond five are not emitted.
        let mut many = sample();
        many.hints = (0..9)
            .map(|n| Hint {
                node: n,
                addr: None,
            })
            .collect();
        let (g, _) = Gossip::parse(&many.emit()).unwrap();
        assert_eq!(g.hints.len(), MAX_HINTS);
    }
}
