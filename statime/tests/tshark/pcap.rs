//! A minimal classic libpcap writer (LINKTYPE_ETHERNET) and the link, IP and
//! UDP encapsulations PTP uses (IEEE 1588-2019 annexes C, D and E), with
//! every checksum computed so that tshark's checksum validation can be on.

use std::net::{Ipv4Addr, Ipv6Addr};

/// How a PTP message is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    /// UDP over IPv4 (annex C), to 224.0.1.129 or, for peer delay
    /// messages, 224.0.0.107.
    Udp4,
    /// UDP over IPv6 (annex D), to ff0e::181 or, for peer delay messages,
    /// ff02::6b.
    Udp6,
    /// IEEE 802.3 (annex E), ethertype 0x88F7, to 01-1B-19-00-00-00.
    L2,
    /// IEEE 802.3 to 01-80-C2-00-00-0E: peer delay messages and every
    /// IEEE 802.1AS (gPTP) frame.
    L2PeerDelay,
}

const SRC_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x0a];
const SRC_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const SRC_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x0a);

/// The one's-complement sum of big-endian 16-bit words (RFC 1071), not yet
/// complemented.
fn ones_complement_sum(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for w in &mut chunks {
        acc += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    !(acc as u16)
}

/// A UDP header and payload with its checksum computed over `pseudo`.
fn udp(port: u16, payload: &[u8], pseudo: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + payload.len()).expect("UDP datagram fits");
    let mut d = Vec::with_capacity(usize::from(len));
    d.extend_from_slice(&port.to_be_bytes());
    d.extend_from_slice(&port.to_be_bytes());
    d.extend_from_slice(&len.to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(payload);
    let sum = fold(ones_complement_sum(ones_complement_sum(0, pseudo), &d));
    // A computed checksum of 0 is sent as all ones (RFC 768, RFC 8200 8.1).
    let sum = if sum == 0 { 0xFFFF } else { sum };
    d[6..8].copy_from_slice(&sum.to_be_bytes());
    d
}

fn ethernet(dst: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&SRC_MAC);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// The Ethernet frame carrying `ptp` (a whole PTP message) over `transport`.
/// `event` selects UDP port 319 rather than 320; `peer_delay` the
/// link-local peer delay addresses.
pub(crate) fn frame(transport: Transport, event: bool, peer_delay: bool, ptp: &[u8]) -> Vec<u8> {
    let port = if event { 319 } else { 320 };
    match transport {
        Transport::Udp4 => {
            let dst = if peer_delay {
                Ipv4Addr::new(224, 0, 0, 107)
            } else {
                Ipv4Addr::new(224, 0, 1, 129)
            };
            let udp_len = u16::try_from(8 + ptp.len()).expect("fits");
            let mut pseudo = Vec::new();
            pseudo.extend_from_slice(&SRC_V4.octets());
            pseudo.extend_from_slice(&dst.octets());
            pseudo.extend_from_slice(&[0, 17]);
            pseudo.extend_from_slice(&udp_len.to_be_bytes());
            let datagram = udp(port, ptp, &pseudo);
            let total = u16::try_from(20 + datagram.len()).expect("fits");
            let mut ip = vec![0x45, 0xb8]; // version 4, IHL 5, DSCP EF
            ip.extend_from_slice(&total.to_be_bytes());
            ip.extend_from_slice(&[0x00, 0x00, 0x40, 0x00]); // id 0, DF
            ip.extend_from_slice(&[1, 17, 0, 0]); // TTL 1, UDP, checksum
            ip.extend_from_slice(&SRC_V4.octets());
            ip.extend_from_slice(&dst.octets());
            let sum = fold(ones_complement_sum(0, &ip));
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
            ip.extend_from_slice(&datagram);
            let o = dst.octets();
            ethernet([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]], 0x0800, &ip)
        }
        Transport::Udp6 => {
            let dst = if peer_delay {
                Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x6b)
            } else {
                Ipv6Addr::new(0xff0e, 0, 0, 0, 0, 0, 0, 0x181)
            };
            let udp_len = u32::try_from(8 + ptp.len()).expect("fits");
            let mut pseudo = Vec::new();
            pseudo.extend_from_slice(&SRC_V6.octets());
            pseudo.extend_from_slice(&dst.octets());
            pseudo.extend_from_slice(&udp_len.to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, 17]);
            let datagram = udp(port, ptp, &pseudo);
            let payload_len = u16::try_from(datagram.len()).expect("fits");
            let mut ip = vec![0x6b, 0x80, 0x00, 0x00]; // version 6, traffic class EF
            ip.extend_from_slice(&payload_len.to_be_bytes());
            ip.extend_from_slice(&[17, 1]); // next header UDP, hop limit 1
            ip.extend_from_slice(&SRC_V6.octets());
            ip.extend_from_slice(&dst.octets());
            ip.extend_from_slice(&datagram);
            let o = dst.octets();
            ethernet([0x33, 0x33, o[12], o[13], o[14], o[15]], 0x86dd, &ip)
        }
        Transport::L2 => ethernet([0x01, 0x1b, 0x19, 0x00, 0x00, 0x00], 0x88f7, ptp),
        Transport::L2PeerDelay => ethernet([0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e], 0x88f7, ptp),
    }
}

/// A classic pcap file (microsecond timestamps, native byte order as written
/// by the magic number) holding `frames`, one second apart.
pub(crate) fn file(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
    out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    out.extend_from_slice(&65535u32.to_le_bytes()); // snaplen
    out.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
    for (i, f) in frames.iter().enumerate() {
        let secs = 1_700_000_000 + u32::try_from(i).expect("few frames");
        let len = u32::try_from(f.len()).expect("small frame");
        out.extend_from_slice(&secs.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes()); // captured
        out.extend_from_slice(&len.to_le_bytes()); // original
        out.extend_from_slice(f);
    }
    out
}

#[test]
fn ipv4_header_checksum_known_answer() {
    // RFC 1071 style check: a header with its checksum in place sums to 0.
    let f = frame(Transport::Udp4, true, false, &[0u8; 44]);
    let ip = &f[14..34];
    assert_eq!(fold(ones_complement_sum(0, ip)), 0);
}
