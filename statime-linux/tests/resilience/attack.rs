//! The attacker: a UDPv4 packet generator that runs in its own network
//! namespace (the test binary re-executes itself there, see
//! [`run_child`]) and only ever sends to the lab's addresses (192.0.2.0/24
//! and the PTP group 224.0.1.129, whose route the lab points at the
//! attacker's veth).
//!
//! It sniffs the grandmaster's real messages (a plain UDP socket on 319
//! and 320 joined to 224.0.1.129) and builds, per [`Kind`], malformed
//! packets, mutated copies of the master's packets (its identity and
//! current sequence ids, with flipped bits) and hostile but well-formed
//! messages with the wire API. Rates and durations are bounded here.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use statime::time::TimeInterval;
use statime::wire::messages::{
    AnnounceMessage, DelayRespMessage, FollowUpMessage, PdelayRespMessage, SyncMessage,
};
use statime::wire::{
    ClockAccuracy, ClockIdentity, ClockQuality, Header, Message, MessageBody, MessageType,
    PortIdentity, TimeSource, Timestamp, TlvSet,
};

/// The PTP primary multicast group (clause C.3).
pub(crate) const PTP_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 1, 129);
/// Highest rate the generator accepts (packets/s).
pub(crate) const MAX_RATE: u64 = 20_000;
/// Longest run the generator accepts.
pub(crate) const MAX_SECONDS: u64 = 60;
/// Largest UDP payload that fits a 1500-octet MTU.
const MAX_PAYLOAD: usize = 1472;

/// What to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// A valid message cut short (1 octet .. length - 1).
    Truncated,
    /// A valid message followed by up to a full MTU of junk.
    Oversized,
    /// versionPTP other than 2.
    WrongVersion,
    /// A domainNumber other than 0.
    WrongDomain,
    /// messageLength that disagrees with the datagram.
    BadLength,
    /// An Announce with a TLV whose lengthField overruns or is odd.
    BadTlv,
    /// Random octets (half of them with versionPTP 2).
    Random,
    /// An empty datagram.
    ZeroLength,
    /// The master's last Sync with flipped bits (timestamp, correction,
    /// sequenceId).
    MutSync,
    /// The master's last Follow_Up with flipped bits.
    MutFollowUp,
    /// The master's last Announce with flipped bits anywhere in the body.
    MutAnnounce,
    /// The same with a fresh sequenceId, bits flipped only in
    /// priority1 .. grandmasterIdentity.
    MutAnnounceGm,
    /// The same with a fresh sequenceId, bits flipped only in
    /// stepsRemoved.
    MutAnnounceSteps,
    /// The same, bits flipped only in sequenceId .. currentUtcOffset
    /// (header tail and originTimestamp).
    MutAnnounceHeader,
    /// The master's last Delay_Resp (or one built from the slave's last
    /// Delay_Req) with flipped bits, also in requestingPortIdentity.
    MutDelayResp,
    /// A zero-length datagram to 319 (single).
    Zero319,
    /// A zero-length datagram to 320 (single).
    Zero320,
    /// A one-step Sync from the master's identity with originTimestamp 0
    /// and the next sequenceId (single).
    OneStepSync,
    /// A Pdelay_Resp to the slave's (E2E) event port (single).
    PdelayResp,
    /// The master's last Announce with a fresh sequenceId and
    /// stepsRemoved 255 (single).
    StepsRemoved255,
    /// The master's last Announce with a fresh sequenceId and another
    /// grandmasterIdentity (single).
    StrayGrandmaster,
    /// Announces from many fake masters with priority1 0.
    FakeMasters,
}

impl Kind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "truncated" => Self::Truncated,
            "oversized" => Self::Oversized,
            "wrong-version" => Self::WrongVersion,
            "wrong-domain" => Self::WrongDomain,
            "bad-length" => Self::BadLength,
            "bad-tlv" => Self::BadTlv,
            "random" => Self::Random,
            "zero-length" => Self::ZeroLength,
            "mut-sync" => Self::MutSync,
            "mut-follow-up" => Self::MutFollowUp,
            "mut-announce" => Self::MutAnnounce,
            "mut-announce-gm" => Self::MutAnnounceGm,
            "mut-announce-steps" => Self::MutAnnounceSteps,
            "mut-announce-header" => Self::MutAnnounceHeader,
            "mut-delay-resp" => Self::MutDelayResp,
            "zero-319" => Self::Zero319,
            "zero-320" => Self::Zero320,
            "one-step-sync" => Self::OneStepSync,
            "pdelay-resp" => Self::PdelayResp,
            "steps-removed-255" => Self::StepsRemoved255,
            "stray-grandmaster" => Self::StrayGrandmaster,
            "fake-masters" => Self::FakeMasters,
            _ => return None,
        })
    }

    fn is_mutation(self) -> bool {
        matches!(
            self,
            Self::MutSync
                | Self::MutFollowUp
                | Self::MutAnnounce
                | Self::MutAnnounceGm
                | Self::MutAnnounceSteps
                | Self::MutAnnounceHeader
                | Self::MutDelayResp
        )
    }
}

/// A small deterministic generator (xorshift64*).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n` > 0; modulo bias is irrelevant here).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.next() as u8;
        }
    }

    fn flip_bits(&mut self, buf: &mut [u8], range: std::ops::Range<usize>) {
        let range = range.start.min(buf.len())..range.end.min(buf.len());
        if range.is_empty() {
            return;
        }
        for _ in 0..=self.below(3) {
            let i = range.start + self.below(range.len());
            if let Some(b) = buf.get_mut(i) {
                *b ^= 1 << self.below(8);
            }
        }
    }
}

/// The lab's addresses, from the environment the parent sets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Addrs {
    pub(crate) master: Ipv4Addr,
    pub(crate) slave: Ipv4Addr,
    pub(crate) me: Ipv4Addr,
}

/// The latest messages seen from the master (by messageType) and from
/// the slave (its Delay_Req), and how many of each.
struct Sniffer {
    event: UdpSocket,
    general: UdpSocket,
    from_master: BTreeMap<u8, Vec<u8>>,
    slave_delay_req: Option<Vec<u8>>,
    seen: BTreeMap<&'static str, u64>,
}

fn type_name(t: u8) -> &'static str {
    match t {
        0 => "sync",
        1 => "delay-req",
        8 => "follow-up",
        9 => "delay-resp",
        0xb => "announce",
        _ => "other",
    }
}

impl Sniffer {
    fn open(addrs: Addrs) -> std::io::Result<Self> {
        let open = |port| -> std::io::Result<UdpSocket> {
            let s = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))?;
            s.join_multicast_v4(&PTP_GROUP, &addrs.me)?;
            s.set_nonblocking(true)?;
            Ok(s)
        };
        Ok(Self {
            event: open(319)?,
            general: open(320)?,
            from_master: BTreeMap::new(),
            slave_delay_req: None,
            seen: BTreeMap::new(),
        })
    }

    fn poll(&mut self, addrs: Addrs) {
        let mut buf = [0u8; 2048];
        for sock in [&self.event, &self.general] {
            while let Ok((n, from)) = sock.recv_from(&mut buf) {
                let data = buf.get(..n).unwrap_or_default();
                let std::net::SocketAddr::V4(from) = from else {
                    continue;
                };
                let Some(t) = data.first().map(|b| b & 0x0f) else {
                    continue;
                };
                if *from.ip() == addrs.master {
                    *self.seen.entry(type_name(t)).or_default() += 1;
                    self.from_master.insert(t, data.to_vec());
                } else if *from.ip() == addrs.slave && t == 1 {
                    *self.seen.entry("slave-delay-req").or_default() += 1;
                    self.slave_delay_req = Some(data.to_vec());
                }
            }
        }
    }

    fn master(&self, t: MessageType) -> Option<&Vec<u8>> {
        self.from_master.get(&u8::from(t))
    }

    /// The master's last Delay_Resp, or one built from the slave's last
    /// Delay_Req and the master's last Follow_Up.
    fn delay_resp(&self) -> Option<Vec<u8>> {
        if let Some(d) = self.master(MessageType::DelayResp) {
            return Some(d.clone());
        }
        let req = Message::parse(self.slave_delay_req.as_ref()?).ok()?;
        let fu = Message::parse(self.master(MessageType::FollowUp)?).ok()?;
        let MessageBody::FollowUp(f) = fu.body else {
            return None;
        };
        let mut h = fu.header;
        h.sequence_id = req.header.sequence_id;
        emit(
            h,
            MessageBody::DelayResp(DelayRespMessage {
                receive_timestamp: f.precise_origin_timestamp,
                requesting_port_identity: req.header.source_port_identity,
            }),
        )
    }

    /// The master's port identity, from anything it sent.
    fn master_port(&self) -> Option<PortIdentity> {
        let any = self.from_master.values().next()?;
        Message::parse(any)
            .ok()
            .map(|m| m.header.source_port_identity)
    }
}

fn emit(header: Header, body: MessageBody<'_>) -> Option<Vec<u8>> {
    let m = Message {
        header,
        body,
        suffix: TlvSet::EMPTY,
    };
    let mut buf = vec![0u8; m.wire_len()];
    let n = m.emit(&mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}

fn ts(seconds: u64, nanoseconds: u32) -> Timestamp {
    Timestamp::new(seconds, nanoseconds).unwrap_or_default()
}

fn header(t: MessageType, port: PortIdentity, seq: u16, log_interval: i8) -> Header {
    let mut h = Header::new(t);
    h.minor_version = 0;
    h.source_port_identity = port;
    h.sequence_id = seq;
    h.log_message_interval = log_interval;
    h
}

fn announce(port: PortIdentity, seq: u16, priority_1: u8) -> Option<Vec<u8>> {
    emit(
        header(MessageType::Announce, port, seq, 0),
        MessageBody::Announce(AnnounceMessage {
            origin_timestamp: ts(1_790_000_000, 0),
            current_utc_offset: 37,
            grandmaster_priority_1: priority_1,
            grandmaster_clock_quality: ClockQuality {
                clock_class: 6,
                clock_accuracy: ClockAccuracy::Ns100,
                offset_scaled_log_variance: 0x4e5d,
            },
            grandmaster_priority_2: 0,
            grandmaster_identity: port.clock_identity,
            steps_removed: 0,
            time_source: TimeSource::Gnss,
        }),
    )
}

/// Valid messages in the master's name, the raw material of the
/// structural kinds: the sniffed ones, else ones built here.
fn templates(sniffer: &Sniffer, fallback: PortIdentity) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = sniffer.from_master.values().cloned().collect();
    let port = sniffer.master_port().unwrap_or(fallback);
    let two_step = |mut h: Header| {
        h.flags.set_two_step(true);
        h
    };
    out.extend(
        [
            emit(
                two_step(header(MessageType::Sync, port, 1, -3)),
                MessageBody::Sync(SyncMessage::default()),
            ),
            emit(
                header(MessageType::FollowUp, port, 1, -3),
                MessageBody::FollowUp(FollowUpMessage {
                    precise_origin_timestamp: ts(1_790_000_000, 5),
                }),
            ),
            announce(port, 1, 10),
        ]
        .into_iter()
        .flatten(),
    );
    out
}

/// One packet of `kind`: payload and destination port, or `None` when its
/// raw material has not been sniffed yet.
fn build(kind: Kind, rng: &mut Rng, sniffer: &Sniffer, base: &[Vec<u8>]) -> Option<(Vec<u8>, u16)> {
    let port_of = |p: &[u8]| {
        if p.first().is_some_and(|b| b & 0x0f < 4) {
            319
        } else {
            320
        }
    };
    let pick = |rng: &mut Rng| base.get(rng.below(base.len())).cloned();
    let out = match kind {
        Kind::Truncated => {
            let t = pick(rng)?;
            let port = port_of(&t);
            let n = 1 + rng.below(t.len().saturating_sub(1));
            (t.get(..n).unwrap_or_default().to_vec(), port)
        }
        Kind::Oversized => {
            let mut t = pick(rng)?;
            let port = port_of(&t);
            let total = t.len() + 1 + rng.below(MAX_PAYLOAD - t.len());
            let start = t.len();
            t.resize(total, 0);
            rng.fill(t.get_mut(start..).unwrap_or_default());
            if rng.below(2) == 0 {
                // Claim the junk as part of the message (TLV garbage).
                let len = u16::try_from(total).unwrap_or(u16::MAX).to_be_bytes();
                t.get_mut(2..4).unwrap_or_default().copy_from_slice(&len);
            }
            (t, port)
        }
        Kind::WrongVersion => {
            let mut t = pick(rng)?;
            let v = [0u8, 1, 3, 4, 7, 15][rng.below(6)];
            if let Some(b) = t.get_mut(1) {
                *b = (*b & 0xf0) | v;
            }
            let port = port_of(&t);
            (t, port)
        }
        Kind::WrongDomain => {
            let mut t = pick(rng)?;
            if let Some(b) = t.get_mut(4) {
                *b = 1 + rng.below(255) as u8;
            }
            let port = port_of(&t);
            (t, port)
        }
        Kind::BadLength => {
            let mut t = pick(rng)?;
            let actual = t.len();
            let claim = match rng.below(4) {
                0 => 0,
                1 => 1 + rng.below(33),
                2 => actual + 1 + rng.below(1000),
                _ => rng.next() as u16 as usize,
            };
            let claim = if claim == actual { actual + 2 } else { claim };
            let bytes = (claim as u16).to_be_bytes();
            t.get_mut(2..4).unwrap_or_default().copy_from_slice(&bytes);
            let port = port_of(&t);
            (t, port)
        }
        Kind::BadTlv => {
            let port = sniffer.master_port().unwrap_or_default();
            let mut t = announce(port, rng.next() as u16, 10)?;
            let tlv_type = [0x0008u16, 0x0003, 0x8008, 0x2004, rng.next() as u16][rng.below(5)];
            let value_len = rng.below(32);
            let claimed: u16 = match rng.below(4) {
                0 => u16::MAX,
                1 => value_len as u16 + 2 + rng.below(200) as u16,
                2 => (value_len as u16) | 1,
                _ => 0,
            };
            t.extend_from_slice(&tlv_type.to_be_bytes());
            if rng.below(5) > 0 {
                t.extend_from_slice(&claimed.to_be_bytes());
                let start = t.len();
                t.resize(start + value_len, 0);
                rng.fill(t.get_mut(start..).unwrap_or_default());
            }
            let len = (t.len() as u16).to_be_bytes();
            t.get_mut(2..4).unwrap_or_default().copy_from_slice(&len);
            (t, 320)
        }
        Kind::Random => {
            let mut t = vec![0u8; 1 + rng.below(MAX_PAYLOAD)];
            rng.fill(&mut t);
            if rng.below(2) == 0
                && let Some(b) = t.get_mut(1)
            {
                *b = (*b & 0xf0) | 2;
            }
            let port = if rng.below(2) == 0 { 319 } else { 320 };
            (t, port)
        }
        Kind::ZeroLength => (Vec::new(), if rng.below(2) == 0 { 319 } else { 320 }),
        Kind::MutSync | Kind::MutFollowUp => {
            let t = if kind == Kind::MutSync {
                MessageType::Sync
            } else {
                MessageType::FollowUp
            };
            let mut p = sniffer.master(t)?.clone();
            match rng.below(3) {
                0 => rng.flip_bits(&mut p, 34..44),
                1 => rng.flip_bits(&mut p, 8..16),
                _ => rng.flip_bits(&mut p, 30..32),
            }
            (p, if kind == Kind::MutSync { 319 } else { 320 })
        }
        Kind::MutAnnounceGm | Kind::MutAnnounceSteps | Kind::MutAnnounceHeader => {
            let mut p = sniffer.master(MessageType::Announce)?.clone();
            if kind == Kind::MutAnnounceHeader {
                rng.flip_bits(&mut p, 30..46);
            } else {
                // A fresh sequenceId: not a duplicate of the last one.
                if let Some(seq) = p.get_mut(30..32) {
                    let next =
                        u16::from_be_bytes([seq[0], seq[1]]).wrapping_add(1 + rng.below(8) as u16);
                    seq.copy_from_slice(&next.to_be_bytes());
                }
                if kind == Kind::MutAnnounceGm {
                    rng.flip_bits(&mut p, 47..61);
                } else {
                    rng.flip_bits(&mut p, 61..63);
                }
            }
            (p, 320)
        }
        Kind::MutAnnounce => {
            let mut p = sniffer.master(MessageType::Announce)?.clone();
            if rng.below(2) == 0 {
                // priority1 .. grandmasterIdentity
                rng.flip_bits(&mut p, 47..61);
            } else {
                rng.flip_bits(&mut p, 30..64);
            }
            (p, 320)
        }
        Kind::MutDelayResp => {
            let mut p = sniffer.delay_resp()?;
            match rng.below(4) {
                0 => rng.flip_bits(&mut p, 34..44),
                1 => rng.flip_bits(&mut p, 8..16),
                2 => rng.flip_bits(&mut p, 30..32),
                _ => rng.flip_bits(&mut p, 44..54),
            }
            (p, 320)
        }
        Kind::Zero319 => (Vec::new(), 319),
        Kind::Zero320 => (Vec::new(), 320),
        Kind::OneStepSync => {
            let sync = Message::parse(sniffer.master(MessageType::Sync)?).ok()?;
            let mut h = sync.header;
            h.flags.set_two_step(false);
            h.sequence_id = h.sequence_id.wrapping_add(1);
            h.correction_field = TimeInterval::ZERO;
            let p = emit(h, MessageBody::Sync(SyncMessage::default()))?;
            (p, 319)
        }
        Kind::PdelayResp => {
            let port = sniffer.master_port()?;
            let requesting = sniffer
                .slave_delay_req
                .as_ref()
                .and_then(|r| Message::parse(r).ok())
                .map(|m| m.header.source_port_identity)
                .unwrap_or_default();
            let mut h = header(MessageType::PdelayResp, port, rng.next() as u16, 0x7f);
            h.flags.set_two_step(true);
            let p = emit(
                h,
                MessageBody::PdelayResp(PdelayRespMessage {
                    request_receipt_timestamp: ts(1_790_000_000, 1),
                    requesting_port_identity: requesting,
                }),
            )?;
            (p, 319)
        }
        Kind::StepsRemoved255 | Kind::StrayGrandmaster => {
            let mut p = sniffer.master(MessageType::Announce)?.clone();
            if let Some(seq) = p.get_mut(30..32) {
                let next = u16::from_be_bytes([seq[0], seq[1]]).wrapping_add(1);
                seq.copy_from_slice(&next.to_be_bytes());
            }
            if kind == Kind::StepsRemoved255 {
                p.get_mut(61..63)?.copy_from_slice(&255u16.to_be_bytes());
            } else {
                // Another identity, same priorities and quality.
                *p.get_mut(60)? ^= 0x01;
            }
            (p, 320)
        }
        Kind::FakeMasters => return None,
    };
    Some(out)
}

/// What one attacker run did, printed as `attack:` lines for the parent.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) sent: BTreeMap<String, u64>,
    pub(crate) unavailable: BTreeMap<String, u64>,
    pub(crate) send_errors: u64,
    pub(crate) seconds: f64,
    pub(crate) sniffed: BTreeMap<String, u64>,
}

impl Report {
    pub(crate) fn total(&self) -> u64 {
        self.sent.values().sum()
    }

    fn print(&self) {
        println!("attack: seconds {:.3}", self.seconds);
        println!("attack: send-errors {}", self.send_errors);
        for (k, n) in &self.sent {
            println!("attack: sent {k} {n}");
        }
        for (k, n) in &self.unavailable {
            println!("attack: unavailable {k} {n}");
        }
        for (k, n) in &self.sniffed {
            println!("attack: sniffed {k} {n}");
        }
    }

    /// Parse the `attack:` lines of a child's output.
    pub(crate) fn parse(text: &str) -> Self {
        let mut r = Self::default();
        for l in text.lines() {
            let tok: Vec<&str> = l.split_whitespace().collect();
            match tok.as_slice() {
                ["attack:", "seconds", s] => r.seconds = s.parse().unwrap_or(0.0),
                ["attack:", "send-errors", n] => r.send_errors = n.parse().unwrap_or(0),
                ["attack:", what, k, n] => {
                    let n = n.parse().unwrap_or(0);
                    let map = match *what {
                        "sent" => &mut r.sent,
                        "unavailable" => &mut r.unavailable,
                        "sniffed" => &mut r.sniffed,
                        _ => continue,
                    };
                    map.insert((*k).to_owned(), n);
                }
                _ => {}
            }
        }
        r
    }
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

fn kind_name(k: Kind) -> String {
    format!("{k:?}")
}

/// The attacker's main, in the attacker namespace. Reads
/// `RESILIENCE_ATTACK` (comma-separated kinds), `RESILIENCE_RATE`
/// (packets/s), `RESILIENCE_SECONDS`, `RESILIENCE_FAKES` (fake master
/// count), `RESILIENCE_MASTER`, `RESILIENCE_SLAVE`, `RESILIENCE_ME`
/// (IPv4 addresses) and `RESILIENCE_SEED`.
pub(crate) fn run_child(kinds: &str) {
    let addr = |k: &str| -> Ipv4Addr {
        env(k)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{k} missing"))
    };
    let addrs = Addrs {
        master: addr("RESILIENCE_MASTER"),
        slave: addr("RESILIENCE_SLAVE"),
        me: addr("RESILIENCE_ME"),
    };
    // Only the lab's documentation prefix and the PTP group.
    for a in [addrs.master, addrs.slave, addrs.me] {
        assert_eq!(a.octets()[..3], [192, 0, 2], "{a} is not a lab address");
    }
    let kinds: Vec<Kind> = kinds
        .split(',')
        .map(|k| Kind::parse(k.trim()).unwrap_or_else(|| panic!("unknown kind {k}")))
        .collect();
    let rate: u64 = env("RESILIENCE_RATE")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
        .min(MAX_RATE);
    let seconds: f64 = env("RESILIENCE_SECONDS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0f64)
        .clamp(0.0, MAX_SECONDS as f64);
    let fakes: usize = env("RESILIENCE_FAKES")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
        .min(20_000);
    let mut rng = Rng::new(
        env("RESILIENCE_SEED")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0x5eed),
    );
    let fallback = PortIdentity {
        clock_identity: ClockIdentity([0, 0, 0x5e, 0xff, 0xfe, 0, 0x53, 0x0a]),
        port_number: 1,
    };

    let mut sniffer = Sniffer::open(addrs).expect("sniffer sockets on 319/320");
    let tx = UdpSocket::bind(SocketAddrV4::new(addrs.me, 0)).expect("send socket");
    tx.set_multicast_ttl_v4(1).expect("multicast ttl");
    tx.set_multicast_loop_v4(false).expect("multicast loop");

    // Learn the master's current messages first (Announce is 1/s; Sync,
    // Follow_Up and the Delay_Req/Resp exchange 8/s).
    let need_sync = kinds.iter().any(|k| {
        k.is_mutation()
            || matches!(
                k,
                Kind::OneStepSync
                    | Kind::PdelayResp
                    | Kind::StepsRemoved255
                    | Kind::StrayGrandmaster
            )
    });
    let deadline = Instant::now() + Duration::from_millis(if need_sync { 2_500 } else { 300 });
    while Instant::now() < deadline {
        sniffer.poll(addrs);
        let have_all = [
            MessageType::Sync,
            MessageType::FollowUp,
            MessageType::Announce,
        ]
        .iter()
        .all(|t| sniffer.master(*t).is_some())
            && sniffer.delay_resp().is_some();
        if have_all && !kinds.contains(&Kind::OneStepSync) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    if kinds.contains(&Kind::OneStepSync) {
        // Send right after a fresh Sync, so that the next sequenceId is
        // the one the slave waits for.
        sniffer.from_master.remove(&u8::from(MessageType::Sync));
        let deadline = Instant::now() + Duration::from_secs(2);
        while sniffer.master(MessageType::Sync).is_none() && Instant::now() < deadline {
            sniffer.poll(addrs);
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let base = templates(&sniffer, fallback);

    let mut report = Report::default();
    let start = Instant::now();
    let mut sent: u64 = 0;
    let mut turn = 0usize;
    let mut fake_count: u64 = 0;
    let single = seconds <= 0.0;
    let total_for_single = kinds.len() as u64;
    loop {
        let elapsed = start.elapsed().as_secs_f64();
        if single {
            if sent >= total_for_single {
                break;
            }
        } else if elapsed >= seconds {
            break;
        }
        sniffer.poll(addrs);
        let due = if single {
            total_for_single
        } else {
            (elapsed * rate as f64) as u64
        };
        let mut batch = 0;
        while sent < due && batch < 512 {
            batch += 1;
            sent += 1;
            let kind = kinds[turn % kinds.len()];
            turn += 1;
            let (payload, port, to) = if kind == Kind::FakeMasters {
                // Round robin over the fakes: each announces rate/fakes
                // times a second, with its own rising sequenceId.
                let n = fakes.max(1) as u64;
                let (i, seq) = (fake_count % n, fake_count / n);
                fake_count += 1;
                let id = (i as u32 + 1).to_be_bytes();
                let port = PortIdentity {
                    clock_identity: ClockIdentity([
                        0x02, 0xfa, 0x4e, 0xff, 0xfe, id[1], id[2], id[3],
                    ]),
                    port_number: 1,
                };
                let Some(p) = announce(port, seq as u16, 0) else {
                    continue;
                };
                (p, 320, addrs.slave)
            } else {
                let Some((payload, port)) = build(kind, &mut rng, &sniffer, &base) else {
                    *report.unavailable.entry(kind_name(kind)).or_default() += 1;
                    continue;
                };
                // Structural garbage also goes to the group (both daemons);
                // forgeries and single packets only to the slave.
                let structural = !kind.is_mutation()
                    && !matches!(
                        kind,
                        Kind::Zero319
                            | Kind::Zero320
                            | Kind::OneStepSync
                            | Kind::PdelayResp
                            | Kind::StepsRemoved255
                            | Kind::StrayGrandmaster
                    );
                let to = if structural && rng.below(10) == 0 {
                    PTP_GROUP
                } else {
                    addrs.slave
                };
                (payload, port, to)
            };
            match tx.send_to(&payload, SocketAddrV4::new(to, port)) {
                Ok(_) => *report.sent.entry(kind_name(kind)).or_default() += 1,
                Err(_) => report.send_errors += 1,
            }
        }
        if !single {
            std::thread::sleep(Duration::from_micros(500));
        }
    }
    report.seconds = start.elapsed().as_secs_f64();
    report.sniffed = sniffer
        .seen
        .iter()
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect();
    report.print();
}

#[test]
fn generator_builds_every_kind() {
    // Without sniffed input only the structural kinds have material.
    let addrs = Addrs {
        master: Ipv4Addr::new(192, 0, 2, 10),
        slave: Ipv4Addr::new(192, 0, 2, 11),
        me: Ipv4Addr::LOCALHOST,
    };
    let _ = addrs;
    let sniffer = Sniffer {
        event: UdpSocket::bind("127.0.0.1:0").unwrap(),
        general: UdpSocket::bind("127.0.0.1:0").unwrap(),
        from_master: BTreeMap::new(),
        slave_delay_req: None,
        seen: BTreeMap::new(),
    };
    let base = templates(&sniffer, PortIdentity::default());
    assert_eq!(base.len(), 3);
    for b in &base {
        Message::parse(b).expect("templates are valid");
    }
    let mut rng = Rng::new(1);
    for kind in [
        Kind::Truncated,
        Kind::Oversized,
        Kind::WrongVersion,
        Kind::WrongDomain,
        Kind::BadLength,
        Kind::BadTlv,
        Kind::Random,
        Kind::ZeroLength,
    ] {
        for _ in 0..200 {
            let (p, port) = build(kind, &mut rng, &sniffer, &base).expect("structural");
            assert!(p.len() <= MAX_PAYLOAD && (port == 319 || port == 320));
            if matches!(
                kind,
                Kind::WrongVersion | Kind::WrongDomain | Kind::BadLength | Kind::Truncated
            ) {
                assert!(
                    Message::parse(&p).is_err() || kind == Kind::WrongDomain,
                    "{kind:?} parsed: {p:02x?}"
                );
            }
        }
    }
    assert!(build(Kind::MutSync, &mut rng, &sniffer, &base).is_none());
    // A TLV that overruns the message, or an odd or truncated TLV header,
    // makes the whole message invalid (clause 14.1.1); only well-formed
    // suffixes (lengthField even and equal to what follows) may parse.
    for _ in 0..2_000 {
        let (p, _) = build(Kind::BadTlv, &mut rng, &sniffer, &base).expect("bad TLV");
        if Message::parse(&p).is_ok() {
            let tlv = p.get(64..).unwrap_or_default();
            let len = tlv
                .get(2..4)
                .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])));
            assert_eq!(len, Some(tlv.len() - 4), "accepted bad TLV {tlv:02x?}");
        }
    }
}
