//! The peer message, version 1: a fixed 128-byte datagram.
//!
//! Every message (request, response, follow-up) has the same length, so a
//! response is never larger than the request that caused it (no
//! amplification). All integers are big-endian; timestamps are unsigned
//! nanoseconds on the sender's clock time scale (the clock its port time
//! stamps with: PTP time, ns since the 1970 epoch), interval ends are signed
//! nanoseconds relative to the sender's clock.
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0 | 4 | magic, ASCII `BFTP` |
//! | 4 | 1 | version, 1 |
//! | 5 | 1 | message type: 1 request, 2 response, 3 follow-up; others kept as [`MessageType::Unknown`] |
//! | 6 | 1 | flags: bit 0 [`FLAG_TWO_STEP`] (a follow-up with the precise `t3` will come); other bits kept |
//! | 7 | 1 | status of the sender's bound: 0 unknown, 1 synchronized, 2 free-running; others kept |
//! | 8 | 8 | sender node id |
//! | 16 | 8 | receiver node id |
//! | 24 | 4 | key id: which key of the sender-receiver pair made the MAC |
//! | 28 | 4 | sender's HLC, logical counter |
//! | 32 | 8 | sender's HLC, physical part, ns |
//! | 40 | 8 | sequence number: per sender, receiver and key, increasing (replay protection) |
//! | 48 | 8 | echoed sequence number: the request's (response, follow-up); 0 in a request |
//! | 56 | 8 | `t1`: the request's origin time (request); echoed (response, follow-up) |
//! | 64 | 8 | `t2`: when the responder received the request (response, follow-up); 0 in a request |
//! | 72 | 8 | `t3`: when the responder sent the response: read before sending (response), the precise transmit time stamp (follow-up); 0 in a request |
//! | 80 | 8 | sender's interval, lower end: its earliest minus its clock, i64 ns |
//! | 88 | 8 | sender's interval, upper end: its latest minus its clock, i64 ns |
//! | 96 | 32 | HMAC-SHA256 over bytes 0..96 with the pair's key |
//!
//! [`Message::parse`] never panics: it checks the length, magic, version
//! and that the interval is not inverted, and keeps every other value (so a
//! parsed message re-emits to the same bytes). It does not check the MAC,
//! which needs the key table ([`crate::peer::keys`]).

use core::fmt;

/// The magic at offset 0.
pub const MAGIC: [u8; 4] = *b"BFTP";
/// The version this crate writes and reads.
pub const VERSION: u8 = 1;
/// The length of every message, MAC included.
pub const MESSAGE_LEN: usize = 128;
/// The length of the authenticated part (everything before the MAC).
pub const BODY_LEN: usize = 96;
/// The length of the MAC (full HMAC-SHA256, not truncated).
pub const MAC_LEN: usize = 32;
/// Flag bit: the responder will send a follow-up carrying the precise
/// transmit time stamp of this response.
pub const FLAG_TWO_STEP: u8 = 0x01;

/// Named byte ranges of the fields (smoltcp style).
mod field {
    use core::ops::Range;
    pub(super) const MAGIC: Range<usize> = 0..4;
    pub(super) const VERSION: usize = 4;
    pub(super) const TYPE: usize = 5;
    pub(super) const FLAGS: usize = 6;
    pub(super) const STATUS: usize = 7;
    pub(super) const SENDER: Range<usize> = 8..16;
    pub(super) const RECEIVER: Range<usize> = 16..24;
    pub(super) const KEY_ID: Range<usize> = 24..28;
    pub(super) const HLC_LOGICAL: Range<usize> = 28..32;
    pub(super) const HLC_PHYSICAL: Range<usize> = 32..40;
    pub(super) const SEQ: Range<usize> = 40..48;
    pub(super) const ECHO_SEQ: Range<usize> = 48..56;
    pub(super) const T1: Range<usize> = 56..64;
    pub(super) const T2: Range<usize> = 64..72;
    pub(super) const T3: Range<usize> = 72..80;
    pub(super) const LOWER: Range<usize> = 80..88;
    pub(super) const UPPER: Range<usize> = 88..96;
    pub(super) const MAC: Range<usize> = 96..128;
}

/// A node's identity in the overlay (configured, unique per deployment).
pub type NodeId = u64;

/// Which key of a node pair authenticated a message.
pub type KeyId = u32;

/// The kind of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// Opens an exchange: carries `t1`.
    Request,
    /// Answers a request: echoes `t1`, carries `t2` and `t3`.
    Response,
    /// After a two-step response: the precise `t3`, once its transmit time
    /// stamp is known.
    FollowUp,
    /// A code this version does not know (kept so it can be logged).
    Unknown(u8),
}

impl MessageType {
    /// The code on the wire.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Request => 1,
            Self::Response => 2,
            Self::FollowUp => 3,
            Self::Unknown(x) => x,
        }
    }

    /// The type of a wire code.
    #[must_use]
    pub const fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Request,
            2 => Self::Response,
            3 => Self::FollowUp,
            x => Self::Unknown(x),
        }
    }
}

/// What the sender says of its own bound (ClockBound's statuses, in part).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoundStatus {
    /// The sender has no bound: its interval means nothing, and it is not a
    /// time source (it still answers and is still a live peer).
    Unknown,
    /// The sender's bound comes from an agreement of its sources.
    Synchronized,
    /// The sender is holding over: its bound grows with its drift but is
    /// still sound.
    FreeRunning,
    /// A code this version does not know; treated as [`Self::Unknown`].
    Other(u8),
}

impl BoundStatus {
    /// The code on the wire.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::Synchronized => 1,
            Self::FreeRunning => 2,
            Self::Other(x) => x,
        }
    }

    /// The status of a wire code.
    #[must_use]
    pub const fn from_code(code: u8) -> Self {
        match code {
            0 => Self::Unknown,
            1 => Self::Synchronized,
            2 => Self::FreeRunning,
            x => Self::Other(x),
        }
    }

    /// Whether a peer with this status can be a time source (its interval
    /// claims to hold true time).
    #[must_use]
    pub const fn is_source(self) -> bool {
        matches!(self, Self::Synchronized | Self::FreeRunning)
    }
}

/// A hybrid logical clock timestamp (Kulkarni et al. 2014): a physical part
/// in ns and a logical counter. Ordered by physical part, then counter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HlcTimestamp {
    /// The physical part, ns on the clock time scale.
    pub physical_ns: u64,
    /// The logical counter: events at the same physical part.
    pub logical: u32,
}

/// One peer message without its MAC (the authenticated content).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Message {
    /// Request, response or follow-up.
    pub kind: MessageType,
    /// The flag byte ([`FLAG_TWO_STEP`]; unknown bits kept).
    pub flags: u8,
    /// The status of the sender's bound.
    pub status: BoundStatus,
    /// Who sent it.
    pub sender: NodeId,
    /// Whom it is for.
    pub receiver: NodeId,
    /// Which key of the pair authenticates it.
    pub key_id: KeyId,
    /// The sender's HLC at transmit.
    pub hlc: HlcTimestamp,
    /// The sender's sequence number towards the receiver under `key_id`.
    pub seq: u64,
    /// The request's sequence number (response, follow-up); 0 in a request.
    pub echo_seq: u64,
    /// The request's origin time (echoed in response and follow-up).
    pub t1: u64,
    /// The responder's receive time of the request.
    pub t2: u64,
    /// The responder's transmit time of the response.
    pub t3: u64,
    /// The sender's earliest minus its clock, ns.
    pub lower_ns: i64,
    /// The sender's latest minus its clock, ns (`>= lower_ns`).
    pub upper_ns: i64,
}

/// Why [`Message::parse`] refused bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WireError {
    /// Not exactly [`MESSAGE_LEN`] bytes.
    Length(usize),
    /// The first four bytes are not [`MAGIC`].
    Magic,
    /// A version this crate does not read.
    Version(u8),
    /// The interval's lower end exceeds its upper end.
    InvertedInterval,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length(n) => write!(f, "peer message of {n} bytes, expected {MESSAGE_LEN}"),
            Self::Magic => f.write_str("not a peer message (bad magic)"),
            Self::Version(v) => write!(f, "peer message version {v} not supported"),
            Self::InvertedInterval => f.write_str("peer message with an inverted interval"),
        }
    }
}

impl core::error::Error for WireError {}

fn u32_at(b: &[u8; MESSAGE_LEN], r: core::ops::Range<usize>) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[r]);
    u32::from_be_bytes(x)
}

fn u64_at(b: &[u8; MESSAGE_LEN], r: core::ops::Range<usize>) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[r]);
    u64::from_be_bytes(x)
}

fn i64_at(b: &[u8; MESSAGE_LEN], r: core::ops::Range<usize>) -> i64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[r]);
    i64::from_be_bytes(x)
}

impl Message {
    /// The fields of `bytes` and their MAC (not verified).
    ///
    /// # Errors
    ///
    /// [`WireError`] when the length, magic or version is wrong or the
    /// interval is inverted. Never panics.
    pub fn parse(bytes: &[u8]) -> Result<(Self, [u8; MAC_LEN]), WireError> {
        let b: &[u8; MESSAGE_LEN] = bytes
            .try_into()
            .map_err(|_| WireError::Length(bytes.len()))?;
        if b[field::MAGIC] != MAGIC {
            return Err(WireError::Magic);
        }
        if b[field::VERSION] != VERSION {
            return Err(WireError::Version(b[field::VERSION]));
        }
        let lower_ns = i64_at(b, field::LOWER);
        let upper_ns = i64_at(b, field::UPPER);
        if lower_ns > upper_ns {
            return Err(WireError::InvertedInterval);
        }
        let mut mac = [0u8; MAC_LEN];
        mac.copy_from_slice(&b[field::MAC]);
        Ok((
            Self {
                kind: MessageType::from_code(b[field::TYPE]),
                flags: b[field::FLAGS],
                status: BoundStatus::from_code(b[field::STATUS]),
                sender: u64_at(b, field::SENDER),
                receiver: u64_at(b, field::RECEIVER),
                key_id: u32_at(b, field::KEY_ID),
                hlc: HlcTimestamp {
                    physical_ns: u64_at(b, field::HLC_PHYSICAL),
                    logical: u32_at(b, field::HLC_LOGICAL),
                },
                seq: u64_at(b, field::SEQ),
                echo_seq: u64_at(b, field::ECHO_SEQ),
                t1: u64_at(b, field::T1),
                t2: u64_at(b, field::T2),
                t3: u64_at(b, field::T3),
                lower_ns,
                upper_ns,
            },
            mac,
        ))
    }

    /// The message as bytes, with the MAC field zero (fill it with
    /// [`set_mac`]).
    #[must_use]
    pub fn emit(&self) -> [u8; MESSAGE_LEN] {
        let mut b = [0u8; MESSAGE_LEN];
        b[field::MAGIC].copy_from_slice(&MAGIC);
        b[field::VERSION] = VERSION;
        b[field::TYPE] = self.kind.code();
        b[field::FLAGS] = self.flags;
        b[field::STATUS] = self.status.code();
        b[field::SENDER].copy_from_slice(&self.sender.to_be_bytes());
        b[field::RECEIVER].copy_from_slice(&self.receiver.to_be_bytes());
        b[field::KEY_ID].copy_from_slice(&self.key_id.to_be_bytes());
        b[field::HLC_LOGICAL].copy_from_slice(&self.hlc.logical.to_be_bytes());
        b[field::HLC_PHYSICAL].copy_from_slice(&self.hlc.physical_ns.to_be_bytes());
        b[field::SEQ].copy_from_slice(&self.seq.to_be_bytes());
        b[field::ECHO_SEQ].copy_from_slice(&self.echo_seq.to_be_bytes());
        b[field::T1].copy_from_slice(&self.t1.to_be_bytes());
        b[field::T2].copy_from_slice(&self.t2.to_be_bytes());
        b[field::T3].copy_from_slice(&self.t3.to_be_bytes());
        b[field::LOWER].copy_from_slice(&self.lower_ns.to_be_bytes());
        b[field::UPPER].copy_from_slice(&self.upper_ns.to_be_bytes());
        b
    }

    /// Whether the two-step flag is set.
    #[must_use]
    pub const fn two_step(&self) -> bool {
        self.flags & FLAG_TWO_STEP != 0
    }
}

/// The authenticated part of an emitted message (bytes `0..96`).
#[must_use]
pub fn body(bytes: &[u8; MESSAGE_LEN]) -> &[u8] {
    &bytes[..BODY_LEN]
}

/// Write `mac` into the MAC field of `bytes`.
pub fn set_mac(bytes: &mut [u8; MESSAGE_LEN], mac: &[u8; MAC_LEN]) {
    bytes[field::MAC].copy_from_slice(mac);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Message {
        Message {
            kind: MessageType::Response,
            flags: FLAG_TWO_STEP,
            status: BoundStatus::Synchronized,
            sender: 0x0102_0304_0506_0708,
            receiver: 0x1112_1314_1516_1718,
            key_id: 0x2122_2324,
            hlc: HlcTimestamp {
                physical_ns: 0x3132_3334_3536_3738,
                logical: 0x4142_4344,
            },
            seq: 0x5152_5354_5556_5758,
            echo_seq: 0x6162_6364_6566_6768,
            t1: 0x7172_7374_7576_7778,
            t2: 0x8182_8384_8586_8788,
            t3: 0x9192_9394_9596_9798,
            lower_ns: -2,
            upper_ns: 0x0000_0000_0000_0100,
        }
    }

    #[test]
    fn fields_sit_where_the_table_says() {
        let m = sample();
        let mut b = m.emit();
        set_mac(&mut b, &[0xAB; MAC_LEN]);
        let expected: [u8; MESSAGE_LEN] = {
            let mut e = [0u8; MESSAGE_LEN];
            e[..8].copy_from_slice(&[b'B', b'F', b'T', b'P', 1, 2, 1, 1]);
            e[8..16].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
            e[16..24].copy_from_slice(&[0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]);
            e[24..28].copy_from_slice(&[0x21, 0x22, 0x23, 0x24]);
            e[28..32].copy_from_slice(&[0x41, 0x42, 0x43, 0x44]);
            e[32..40].copy_from_slice(&[0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38]);
            e[40..48].copy_from_slice(&[0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58]);
            e[48..56].copy_from_slice(&[0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68]);
            e[56..64].copy_from_slice(&[0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78]);
            e[64..72].copy_from_slice(&[0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88]);
            e[72..80].copy_from_slice(&[0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98]);
            e[80..88].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]);
            e[88..96].copy_from_slice(&[0, 0, 0, 0, 0, 0, 1, 0]);
            e[96..].copy_from_slice(&[0xAB; MAC_LEN]);
            e
        };
        assert_eq!(b, expected);
        let (parsed, mac) = Message::parse(&b).unwrap();
        assert_eq!(parsed, m);
        assert_eq!(mac, [0xAB; MAC_LEN]);
        assert!(parsed.two_step());
        assert_eq!(body(&b), &b[..BODY_LEN]);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let b = sample().emit();
        assert_eq!(Message::parse(&b[..127]), Err(WireError::Length(127)));
        assert_eq!(Message::parse(&[]), Err(WireError::Length(0)));
        let mut long = [0u8; MESSAGE_LEN + 1];
        long[..MESSAGE_LEN].copy_from_slice(&b);
        assert_eq!(Message::parse(&long), Err(WireError::Length(129)));
        let mut x = b;
        x[0] = b'X';
        assert_eq!(Message::parse(&x), Err(WireError::Magic));
        let mut x = b;
        x[4] = 2;
        assert_eq!(Message::parse(&x), Err(WireError::Version(2)));
        let mut m = sample();
        m.lower_ns = 5;
        m.upper_ns = 4;
        assert_eq!(Message::parse(&m.emit()), Err(WireError::InvertedInterval));
    }

    #[test]
    fn unknown_codes_are_kept() {
        let mut m = sample();
        m.kind = MessageType::Unknown(9);
        m.status = BoundStatus::Other(200);
        m.flags = 0xF0;
        let (p, _) = Message::parse(&m.emit()).unwrap();
        assert_eq!(p, m);
        assert!(!p.two_step());
        assert!(!p.status.is_source());
        for c in 0..=u8::MAX {
            assert_eq!(MessageType::from_code(c).code(), c);
            assert_eq!(BoundStatus::from_code(c).code(), c);
        }
    }
}
