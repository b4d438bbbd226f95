//! What tshark should decode from a message we emitted: tshark field names
//! mapped to every value they take, in order, rendered the way
//! `tshark -T fields` prints them.
//!
//! The values are computed from the same structs the message was emitted
//! from, never copied from tshark's output.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use statime::wire::{ClockIdentity, FlagField, Header, MessageBody, PortIdentity, Timestamp};

/// Field name -> every occurrence in the frame, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Expect(pub(crate) BTreeMap<String, Vec<String>>);

/// An 8-octet clock identity as tshark prints an FT_UINT64 in hex.
pub(crate) fn hex_id(id: ClockIdentity) -> String {
    id.0.iter().fold(String::from("0x"), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Octets as `tshark -T fields` prints FT_BYTES: lower-case hex, no
/// separators.
pub(crate) fn bytes(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

impl Expect {
    /// One more occurrence of `field`.
    pub(crate) fn add(&mut self, field: &str, value: impl ToString) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(value.to_string());
    }

    /// Merge `other`'s occurrences after ours.
    pub(crate) fn extend(&mut self, other: Self) {
        for (k, v) in other.0 {
            self.0.entry(k).or_default().extend(v);
        }
    }

    /// A timestamp under `<prefix>.seconds` and `<prefix>.nanoseconds`.
    pub(crate) fn timestamp(&mut self, prefix: &str, t: Timestamp) {
        self.add(&format!("{prefix}.seconds"), t.seconds());
        self.add(&format!("{prefix}.nanoseconds"), t.nanoseconds());
    }

    /// A port identity as tshark splits it: identity (hex) and number.
    pub(crate) fn port(&mut self, identity: &str, number: &str, p: PortIdentity) {
        self.add(identity, hex_id(p.clock_identity));
        self.add(number, p.port_number);
    }

    /// The common header of a message `length` octets long.
    pub(crate) fn header(&mut self, h: &Header, length: usize) {
        self.add("ptp.v2.majorsdoid", format!("0x{:02x}", h.sdo_id.major()));
        self.add("ptp.v2.minorsdoid", h.sdo_id.minor());
        self.add(
            "ptp.v2.messagetype",
            format!("0x{:02x}", u8::from(h.message_type)),
        );
        self.add("ptp.v2.versionptp", 2);
        self.add("ptp.v2.minorversionptp", h.minor_version);
        self.add("ptp.v2.messagelength", length);
        self.add("ptp.v2.domainnumber", h.domain_number);
        self.flags(h.flags);
        self.correction(h.correction_field.to_bits());
        self.add(
            "ptp.v2.messagetypespecific",
            u32::from_be_bytes(h.message_type_specific),
        );
        self.port(
            "ptp.v2.clockidentity",
            "ptp.v2.sourceportid",
            h.source_port_identity,
        );
        self.add("ptp.v2.sequenceid", h.sequence_id);
        self.add("ptp.v2.controlfield", h.control_field);
        self.add("ptp.v2.logmessageperiod", h.log_message_interval);
    }

    /// flagField, as a whole and bit by bit through our own accessors (so
    /// that a bit we place wrongly shows up under tshark's name for it).
    fn flags(&mut self, f: FlagField) {
        self.add("ptp.v2.flags", format!("0x{:04x}", f.0));
        let bits = [
            ("alternatemaster", f.alternate_master()),
            ("twostep", f.two_step()),
            ("unicast", f.unicast()),
            ("specific1", f.profile_specific_1()),
            ("specific2", f.profile_specific_2()),
            ("security", f.security()),
            ("li61", f.leap61()),
            ("li59", f.leap59()),
            ("utcreasonable", f.current_utc_offset_valid()),
            ("timescale", f.ptp_timescale()),
            ("timetraceable", f.time_traceable()),
            ("frequencytraceable", f.frequency_traceable()),
            ("synchronizationUncertain", f.synchronization_uncertain()),
        ];
        for (name, on) in bits {
            self.add(&format!("ptp.v2.flags.{name}"), u8::from(on));
        }
    }

    /// correctionField: tshark splits the scaled nanoseconds into the
    /// integer part (`ns`, the arithmetic shift right by 16) and the
    /// fraction (`subns`, the low 16 bits / 2^16 as a double).
    ///
    /// tshark 4.0 quirk: `ptp.v2.correction.ns` is declared FT_UINT64
    /// although correctionField is a signed Integer64 (clause 13.3.2.9), so
    /// a negative correction prints as its two's complement: -6 ns shows
    /// as 18446744073709551610. The shift itself is arithmetic, so
    /// comparing with the i64 value reinterpreted as u64 is exact.
    fn correction(&mut self, bits: i64) {
        self.add("ptp.v2.correction.ns", (bits >> 16) as u64);
        self.add("ptp.v2.correction.subns", subns(bits));
    }

    /// The fields of the message body.
    pub(crate) fn body(&mut self, h: &Header, body: &MessageBody<'_>) {
        // With majorSdoId 1 tshark dissects IEEE 802.1AS, where the
        // timestamps of Sync, Pdelay_Req and Announce are reserved.
        let gptp = h.sdo_id.major() == 1;
        match body {
            MessageBody::Sync(m) if gptp => {
                self.add(
                    "ptp.v2.sync.reserved",
                    bytes(&m.origin_timestamp.to_bytes()),
                );
            }
            MessageBody::Sync(m) => {
                self.timestamp("ptp.v2.sdr.origintimestamp", m.origin_timestamp);
            }
            MessageBody::DelayReq(m) => {
                self.timestamp("ptp.v2.sdr.origintimestamp", m.origin_timestamp);
            }
            MessageBody::PdelayReq(_) if gptp => {}
            MessageBody::PdelayReq(m) => {
                self.timestamp("ptp.v2.pdrq.origintimestamp", m.origin_timestamp);
            }
            MessageBody::PdelayResp(m) => {
                self.timestamp(
                    "ptp.v2.pdrs.requestreceipttimestamp",
                    m.request_receipt_timestamp,
                );
                self.port(
                    "ptp.v2.pdrs.requestingportidentity",
                    "ptp.v2.pdrs.requestingsourceportid",
                    m.requesting_port_identity,
                );
            }
            MessageBody::FollowUp(m) => {
                let t = m.precise_origin_timestamp;
                self.timestamp("ptp.v2.fu.preciseorigintimestamp", t);
                // tshark also prints the timestamp as a wrapping 32-bit
                // count of nanoseconds.
                let ns = u128::from(t.seconds()) * 1_000_000_000 + u128::from(t.nanoseconds());
                self.add("ptp.v2.fu.preciseorigintimestamp.32bit", ns as u32);
            }
            MessageBody::DelayResp(m) => {
                self.timestamp("ptp.v2.dr.receivetimestamp", m.receive_timestamp);
                self.port(
                    "ptp.v2.dr.requestingsourceportidentity",
                    "ptp.v2.dr.requestingsourceportid",
                    m.requesting_port_identity,
                );
            }
            MessageBody::PdelayRespFollowUp(m) => {
                self.timestamp(
                    "ptp.v2.pdfu.responseorigintimestamp",
                    m.response_origin_timestamp,
                );
                self.port(
                    "ptp.v2.pdfu.requestingportidentity",
                    "ptp.v2.pdfu.requestingsourceportid",
                    m.requesting_port_identity,
                );
            }
            MessageBody::Announce(m) => {
                if !gptp {
                    self.timestamp("ptp.v2.an.origintimestamp", m.origin_timestamp);
                }
                self.add("ptp.v2.an.origincurrentutcoffset", m.current_utc_offset);
                self.add("ptp.v2.an.priority1", m.grandmaster_priority_1);
                let q = m.grandmaster_clock_quality;
                self.add("ptp.v2.an.grandmasterclockclass", q.clock_class);
                self.add(
                    "ptp.v2.an.grandmasterclockaccuracy",
                    format!("0x{:02x}", u8::from(q.clock_accuracy)),
                );
                self.add(
                    "ptp.v2.an.grandmasterclockvariance",
                    q.offset_scaled_log_variance,
                );
                self.add("ptp.v2.an.priority2", m.grandmaster_priority_2);
                self.add(
                    "ptp.v2.an.grandmasterclockidentity",
                    hex_id(m.grandmaster_identity),
                );
                self.add("ptp.v2.an.localstepsremoved", m.steps_removed);
                self.add(
                    "ptp.v2.timesource",
                    format!("0x{:02x}", u8::from(m.time_source)),
                );
            }
            MessageBody::Signaling(m) => self.port(
                "ptp.v2.sig.targetportidentity",
                "ptp.v2.sig.targetportid",
                m.target_port_identity,
            ),
            MessageBody::Management(m) => {
                self.port(
                    "ptp.v2.mm.targetportidentity",
                    "ptp.v2.mm.targetportid",
                    m.target_port_identity,
                );
                self.add("ptp.v2.mm.startingboundaryhops", m.starting_boundary_hops);
                self.add("ptp.v2.mm.boundaryhops", m.boundary_hops);
                self.add("ptp.v2.mm.action", u8::from(m.action));
            }
            MessageBody::Unknown(_) => {}
        }
    }
}

/// The fraction of a scaled-nanosecond value as tshark prints its double.
pub(crate) fn subns(bits: i64) -> String {
    g15(f64::from((bits & 0xFFFF) as u16) / 65536.0)
}

/// A double as tshark's `-T fields` prints FT_DOUBLE: C's `%.15g` (15
/// significant digits, trailing zeros dropped, exponent form below 1e-4).
pub(crate) fn g15(v: f64) -> String {
    if v == 0.0 {
        return "0".to_owned();
    }
    // Round to 15 significant digits first; the exponent of the rounded
    // value decides the form, as in C.
    let sci = format!("{v:.14e}");
    let (mantissa, exp) = sci.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("integer exponent");
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s.to_owned()
        }
    };
    if (-4..15).contains(&exp) {
        let decimals = usize::try_from(14 - exp).expect("non-negative");
        trim(&format!("{v:.decimals$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.abs())
    }
}

#[test]
fn g15_matches_c() {
    assert_eq!(g15(0.5), "0.5");
    assert_eq!(g15(1.0 / 65536.0), "1.52587890625e-05");
    assert_eq!(g15(65535.0 / 65536.0), "0.999984741210938");
    assert_eq!(g15(f64::from(0x4567) / 65536.0), "0.271102905273438");
    assert_eq!(g15(0.75), "0.75");
}
