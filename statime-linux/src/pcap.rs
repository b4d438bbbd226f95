//! A reader for classic libpcap capture files, and the extraction of PTP
//! payloads from the frames they hold.
//!
//! Supported: both byte orders, microsecond and nanosecond timestamps, link
//! types Ethernet (1, with 802.1Q/802.1ad tags), raw IP (101), Linux cooked
//! capture v1 (113) and v2 (276). A PTP payload is the UDP payload on port
//! 319 or 320 (IPv4 or IPv6), or the Ethernet payload of ethertype 0x88F7.
//! Damaged records end the file with an error naming the offset; damaged
//! frames inside are reported as not PTP, never as a panic.

use std::fmt;

/// One captured record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Capture time, seconds since the Unix epoch.
    pub ts_sec: u32,
    /// Sub-second part of the capture time, in nanoseconds.
    pub ts_nsec: u32,
    /// Frame length on the wire (may exceed the captured bytes).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

/// Why a capture file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PcapError {
    /// Not a classic pcap file (pcapng files must be converted with
    /// `editcap -F pcap`).
    BadMagic(u32),
    /// The file ends inside the global header or a record.
    Truncated {
        /// Byte offset of the damaged structure.
        offset: usize,
    },
    /// A link type this reader does not handle.
    UnsupportedLinkType(u32),
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic(m) if *m == 0x0A0D_0D0A => f.write_str(
                "this is a pcapng file; convert it with `editcap -F pcap IN OUT` (or capture with `tshark -F pcap`)",
            ),
            Self::BadMagic(m) => write!(f, "not a pcap file (magic {m:#010x})"),
            Self::Truncated { offset } => write!(f, "file truncated at byte {offset}"),
            Self::UnsupportedLinkType(l) => write!(
                f,
                "link type {l} not supported (Ethernet, raw IP and Linux cooked captures are)"
            ),
        }
    }
}

impl std::error::Error for PcapError {}

/// Link-layer types understood by [`ptp_payload`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// DLT_EN10MB.
    Ethernet,
    /// DLT_RAW: the frame starts with an IPv4 or IPv6 header.
    RawIp,
    /// DLT_LINUX_SLL (16-byte header).
    LinuxSll,
    /// DLT_LINUX_SLL2 (20-byte header).
    LinuxSll2,
}

/// A parsed capture file.
#[derive(Debug)]
pub struct Capture<'a> {
    /// The file's link type.
    pub link_type: LinkType,
    big_endian: bool,
    nanos: bool,
    rest: &'a [u8],
    offset: usize,
}

impl<'a> Capture<'a> {
    /// Parse the global header.
    pub fn new(file: &'a [u8]) -> Result<Self, PcapError> {
        let head = file
            .first_chunk::<24>()
            .ok_or(PcapError::Truncated { offset: 0 })?;
        let magic = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let (big_endian, nanos) = match magic {
            0xA1B2_C3D4 => (false, false),
            0xA1B2_3C4D => (false, true),
            0xD4C3_B2A1 => (true, false),
            0x4D3C_B2A1 => (true, true),
            other => return Err(PcapError::BadMagic(other)),
        };
        let word = |b: [u8; 4]| {
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let link = word([head[20], head[21], head[22], head[23]]) & 0x0FFF_FFFF;
        let link_type = match link {
            1 => LinkType::Ethernet,
            101 | 12 | 14 => LinkType::RawIp,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            other => return Err(PcapError::UnsupportedLinkType(other)),
        };
        Ok(Self {
            link_type,
            big_endian,
            nanos,
            rest: &file[24..],
            offset: 24,
        })
    }

    fn word(&self, b: [u8; 4]) -> u32 {
        if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }
}

impl<'a> Iterator for Capture<'a> {
    type Item = Result<Record<'a>, PcapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let offset = self.offset;
        let Some((h, tail)) = self.rest.split_first_chunk::<16>() else {
            self.rest = &[];
            return Some(Err(PcapError::Truncated { offset }));
        };
        let ts_sec = self.word([h[0], h[1], h[2], h[3]]);
        let frac = self.word([h[4], h[5], h[6], h[7]]);
        let incl = self.word([h[8], h[9], h[10], h[11]]) as usize;
        let orig_len = self.word([h[12], h[13], h[14], h[15]]);
        let Some((data, rest)) = tail.split_at_checked(incl) else {
            self.rest = &[];
            return Some(Err(PcapError::Truncated { offset }));
        };
        self.rest = rest;
        self.offset = offset + 16 + incl;
        let ts_nsec = if self.nanos {
            frac
        } else {
            frac.saturating_mul(1000)
        };
        Some(Ok(Record {
            ts_sec,
            ts_nsec,
            orig_len,
            data,
        }))
    }
}

/// How a PTP payload was carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP over IPv4, with the destination port.
    Udp4(u16),
    /// UDP over IPv6, with the destination port.
    Udp6(u16),
    /// Ethernet, ethertype 0x88F7.
    Ethernet,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Udp4(p) => write!(f, "UDPv4:{p}"),
            Self::Udp6(p) => write!(f, "UDPv6:{p}"),
            Self::Ethernet => f.write_str("L2"),
        }
    }
}

/// PTP event and general UDP ports (IEEE 1588-2019 annex C/D).
const PTP_PORTS: [u16; 2] = [319, 320];
/// The PTP ethertype (IEEE 1588-2019 annex F).
const ETHERTYPE_PTP: u16 = 0x88F7;

/// The PTP message carried by a frame, if any.
#[must_use]
pub fn ptp_payload(link: LinkType, frame: &[u8]) -> Option<(Transport, &[u8])> {
    match link {
        LinkType::Ethernet => {
            let (mut ethertype, mut rest) = (be16(frame, 12)?, frame.get(14..)?);
            while matches!(ethertype, 0x8100 | 0x88A8) {
                ethertype = be16(rest, 2)?;
                rest = rest.get(4..)?;
            }
            by_ethertype(ethertype, rest)
        }
        LinkType::LinuxSll => by_ethertype(be16(frame, 14)?, frame.get(16..)?),
        LinkType::LinuxSll2 => by_ethertype(be16(frame, 0)?, frame.get(20..)?),
        LinkType::RawIp => match frame.first()? >> 4 {
            4 => by_ethertype(0x0800, frame),
            6 => by_ethertype(0x86DD, frame),
            _ => None,
        },
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_be_bytes([s[0], s[1]]))
}

fn by_ethertype(ethertype: u16, payload: &[u8]) -> Option<(Transport, &[u8])> {
    match ethertype {
        ETHERTYPE_PTP => Some((Transport::Ethernet, payload)),
        0x0800 => {
            let ihl = usize::from(payload.first()? & 0x0F) * 4;
            if *payload.get(9)? != 17 || ihl < 20 {
                return None;
            }
            let total = usize::from(be16(payload, 2)?);
            let ip = payload.get(..total.min(payload.len()))?;
            udp(ip.get(ihl..)?).map(|(port, p)| (Transport::Udp4(port), p))
        }
        0x86DD => {
            // Extension headers are not followed: PTP senders use none.
            if *payload.get(6)? != 17 {
                return None;
            }
            udp(payload.get(40..)?).map(|(port, p)| (Transport::Udp6(port), p))
        }
        _ => None,
    }
}

fn udp(seg: &[u8]) -> Option<(u16, &[u8])> {
    let dst = be16(seg, 2)?;
    let src = be16(seg, 0)?;
    if !PTP_PORTS.contains(&dst) && !PTP_PORTS.contains(&src) {
        return None;
    }
    let len = usize::from(be16(seg, 4)?);
    let end = if len >= 8 {
        len.min(seg.len())
    } else {
        seg.len()
    };
    Some((dst, seg.get(8..end)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap(link: u32, frames: &[&[u8]]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
        f.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0]);
        f.extend_from_slice(&link.to_le_bytes());
        for (i, fr) in frames.iter().enumerate() {
            f.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
            f.extend_from_slice(&5u32.to_le_bytes());
            f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
            f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
            f.extend_from_slice(fr);
        }
        f
    }

    fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x01, 0x1b, 0x19, 0, 0, 0, 0, 0, 0x5e, 0, 0x53, 0x0a];
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn ipv4_udp(dport: u16, payload: &[u8]) -> Vec<u8> {
        let total = (20 + 8 + payload.len()) as u16;
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 1, 17, 0, 0, 192, 0, 2, 10, 224, 0, 1, 129,
        ];
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&dport.to_be_bytes());
        ip.extend_from_slice(&dport.to_be_bytes());
        ip.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        ip.extend_from_slice(&[0, 0]);
        ip.extend_from_slice(payload);
        ip
    }

    #[test]
    fn reads_records_and_payloads() {
        let l2 = eth(0x88F7, b"ptp-l2");
        let udp = eth(0x0800, &ipv4_udp(319, b"ptp-udp"));
        let mut tagged = eth(0x8100, &[0, 5]);
        tagged.extend_from_slice(&0x88F7u16.to_be_bytes());
        tagged.extend_from_slice(b"vlan");
        let other = eth(0x0800, &ipv4_udp(53, b"dns"));
        let file = pcap(1, &[&l2, &udp, &tagged, &other]);
        let cap = Capture::new(&file).unwrap();
        assert_eq!(cap.link_type, LinkType::Ethernet);
        let got: Vec<_> = cap
            .map(|r| {
                let r = r.unwrap();
                assert_eq!(r.ts_nsec, 5000);
                ptp_payload(LinkType::Ethernet, r.data)
            })
            .collect();
        assert_eq!(got[0], Some((Transport::Ethernet, &b"ptp-l2"[..])));
        assert_eq!(got[1], Some((Transport::Udp4(319), &b"ptp-udp"[..])));
        assert_eq!(got[2], Some((Transport::Ethernet, &b"vlan"[..])));
        assert_eq!(got[3], None);
    }

    #[test]
    fn errors() {
        assert_eq!(
            Capture::new(&[0; 10]).unwrap_err(),
            PcapError::Truncated { offset: 0 }
        );
        let mut f = pcap(1, &[b"abcdef"]);
        f.truncate(f.len() - 1);
        let mut cap = Capture::new(&f).unwrap();
        assert_eq!(cap.next(), Some(Err(PcapError::Truncated { offset: 24 })));
        assert_eq!(cap.next(), None);
        let ng = [0x0A, 0x0D, 0x0D, 0x0A].repeat(6);
        assert!(
            Capture::new(&ng)
                .unwrap_err()
                .to_string()
                .contains("pcapng")
        );
        assert_eq!(
            Capture::new(&pcap(105, &[])).unwrap_err(),
            PcapError::UnsupportedLinkType(105)
        );
        // Damaged frames are simply not PTP.
        for n in 0..40 {
            let udp = eth(0x0800, &ipv4_udp(320, b"x"));
            let _ = ptp_payload(LinkType::Ethernet, &udp[..n.min(udp.len())]);
        }
    }
}
