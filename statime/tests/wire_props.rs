//! Property tests of the wire format and the time types.
//!
//! These back the no-panic contract of `statime::wire` (see its module
//! documentation) and run in CI on stable Rust; the `fuzz/` crate covers the
//! same ground under libFuzzer but needs nightly.
//!
//! - `no_panic_*`: arbitrary bytes, arbitrary bytes with a plausible header,
//!   and mutated valid messages go through every parser (message, header,
//!   TLV set, every body, every typed TLV under every tlvType); nothing
//!   panics, and whatever parses re-emits to a fixed point after one round.
//! - `message_round_trip`: for arbitrary headers, bodies of every message
//!   type and TLV suffixes built with `TlvWriter`, `parse(emit(m))` equals
//!   `m` and re-emits byte for byte.
//! - `tlv_round_trip`: every typed TLV survives push, set parse and typed
//!   parse (up to the documented padding of odd values) and re-pushes to
//!   identical bytes.
//! - `time_*`: the saturating and checked arithmetic of `TimeInterval`,
//!   `Duration` and `Time` agrees with an exact integer reference, and
//!   `Timestamp` converts to and from `Time` losslessly.

use fixed::types::{I96F32, U96F32};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

use statime::time::{Duration, Time, TimeInterval};
use statime::wire::messages::{
    AnnounceMessage, DelayReqMessage, DelayRespMessage, FollowUpMessage, ManagementAction,
    ManagementMessage, PdelayReqMessage, PdelayRespFollowUpMessage, PdelayRespMessage,
    SignalingMessage, SyncMessage,
};
use statime::wire::tlv::{
    AcknowledgeCancelUnicastTransmissionTlv, AlternateTimeOffsetIndicatorTlv, AuthenticationTlv,
    CancelUnicastTransmissionTlv, FollowUpInformationTlv, GrantUnicastTransmissionTlv,
    OrganizationExtensionTlv, PadTlv, PathTraceTlv, RequestUnicastTransmissionTlv, Tlv, TlvRepr,
};
use statime::wire::{
    ClockAccuracy, ClockIdentity, ClockQuality, FlagField, Header, Message, MessageBody,
    MessageType, PortIdentity, PtpText, RawTlv, SdoId, TimeSource, Timestamp, TlvSet, TlvType,
    TlvWriter,
};

type TestResult = Result<(), TestCaseError>;

/// Room for any message these strategies build (TLV values stay well below
/// 1 KiB each, at most four of them).
const BUF: usize = 4096;

/// Every tlvType code point of table 52, plus a few unknown ones.
const TLV_CODES: [u16; 30] = [
    0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0007, 0x0008, 0x0009, 0x2000, 0x2001,
    0x2002, 0x2003, 0x4000, 0x4001, 0x8000, 0x8001, 0x8002, 0x8003, 0x8004, 0x8005, 0x8006, 0x8007,
    0x8008, 0x8009, 0x000A, 0x3FFF, 0x7FFF, 0xFFFF,
];

/// The three tlvTypes an organization extension may carry.
const ORG_TYPES: [TlvType; 3] = [
    TlvType::OrganizationExtension,
    TlvType::OrganizationExtensionPropagate,
    TlvType::OrganizationExtensionDoNotPropagate,
];

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn fail(what: &str, e: impl core::fmt::Debug) -> TestCaseError {
    TestCaseError::fail(format!("{what}: {e:?}"))
}

// ---------------------------------------------------------------------------
// Strategies: wire types
// ---------------------------------------------------------------------------

fn timestamp() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        3 => (0..=Timestamp::MAX_SECONDS, 0u32..1_000_000_000)
            .prop_map(|(s, n)| Timestamp::new(s, n).expect("in range")),
        // The raw path keeps invalid nanoseconds (>= 1e9) as received.
        1 => any::<[u8; 10]>().prop_map(|b| Timestamp::from_bytes(&b)),
        1 => (0..=Timestamp::MAX_SECONDS, 1_000_000_000u32..)
            .prop_map(|(s, n)| {
                let [_, _, a, b, c, d, e, f] = s.to_be_bytes();
                let [g, h, i, j] = n.to_be_bytes();
                Timestamp::from_bytes(&[a, b, c, d, e, f, g, h, i, j])
            }),
    ]
}

fn clock_identity() -> impl Strategy<Value = ClockIdentity> {
    any::<[u8; 8]>().prop_map(ClockIdentity)
}

fn port_identity() -> impl Strategy<Value = PortIdentity> {
    (clock_identity(), any::<u16>()).prop_map(|(clock_identity, port_number)| PortIdentity {
        clock_identity,
        port_number,
    })
}

fn clock_quality() -> impl Strategy<Value = ClockQuality> {
    (any::<u8>(), any::<u8>(), any::<u16>()).prop_map(|(c, a, v)| ClockQuality {
        clock_class: c,
        clock_accuracy: ClockAccuracy::from(a),
        offset_scaled_log_variance: v,
    })
}

/// A header; its messageType is set from the body by the caller.
fn header() -> impl Strategy<Value = Header> {
    (
        (
            0u16..0x1000,
            0u8..16,
            any::<u8>(),
            any::<u16>(),
            any::<i64>(),
        ),
        (
            any::<[u8; 4]>(),
            port_identity(),
            any::<u16>(),
            any::<u8>(),
            any::<i8>(),
        ),
    )
        .prop_map(
            |(
                (sdo, minor, domain, flags, correction),
                (specific, port, seq, control, interval),
            )| {
                Header {
                    sdo_id: SdoId::new(sdo).expect("12 bits"),
                    message_type: MessageType::Sync,
                    minor_version: minor,
                    domain_number: domain,
                    flags: FlagField(flags),
                    correction_field: TimeInterval::from_bits(correction),
                    message_type_specific: specific,
                    source_port_identity: port,
                    sequence_id: seq,
                    control_field: control,
                    log_message_interval: interval,
                }
            },
        )
}

fn announce() -> impl Strategy<Value = AnnounceMessage> {
    (
        timestamp(),
        any::<i16>(),
        any::<u8>(),
        clock_quality(),
        any::<u8>(),
        clock_identity(),
        any::<u16>(),
        any::<u8>(),
    )
        .prop_map(|(ts, utc, p1, q, p2, gm, steps, src)| AnnounceMessage {
            origin_timestamp: ts,
            current_utc_offset: utc,
            grandmaster_priority_1: p1,
            grandmaster_clock_quality: q,
            grandmaster_priority_2: p2,
            grandmaster_identity: gm,
            steps_removed: steps,
            time_source: TimeSource::from(src),
        })
}

fn management() -> impl Strategy<Value = ManagementMessage> {
    (port_identity(), any::<u8>(), any::<u8>(), 0u8..16).prop_map(|(target, start, hops, a)| {
        ManagementMessage {
            target_port_identity: target,
            starting_boundary_hops: start,
            boundary_hops: hops,
            action: ManagementAction::from(a),
        }
    })
}

/// A message body. Reserved message types carry arbitrary octets.
#[derive(Clone, Debug)]
enum BodySpec {
    Known(MessageBody<'static>),
    Reserved(u8, Vec<u8>),
}

fn body() -> impl Strategy<Value = BodySpec> {
    let known = prop_oneof![
        timestamp().prop_map(|t| MessageBody::Sync(SyncMessage {
            origin_timestamp: t
        })),
        timestamp().prop_map(|t| MessageBody::DelayReq(DelayReqMessage {
            origin_timestamp: t
        })),
        timestamp().prop_map(|t| MessageBody::PdelayReq(PdelayReqMessage {
            origin_timestamp: t
        })),
        (timestamp(), port_identity()).prop_map(|(t, p)| MessageBody::PdelayResp(
            PdelayRespMessage {
                request_receipt_timestamp: t,
                requesting_port_identity: p,
            }
        )),
        timestamp().prop_map(|t| MessageBody::FollowUp(FollowUpMessage {
            precise_origin_timestamp: t
        })),
        (timestamp(), port_identity()).prop_map(|(t, p)| MessageBody::DelayResp(
            DelayRespMessage {
                receive_timestamp: t,
                requesting_port_identity: p,
            }
        )),
        (timestamp(), port_identity()).prop_map(|(t, p)| MessageBody::PdelayRespFollowUp(
            PdelayRespFollowUpMessage {
                response_origin_timestamp: t,
                requesting_port_identity: p,
            }
        )),
        announce().prop_map(MessageBody::Announce),
        port_identity().prop_map(|p| MessageBody::Signaling(SignalingMessage {
            target_port_identity: p
        })),
        management().prop_map(MessageBody::Management),
    ];
    prop_oneof![
        10 => known.prop_map(BodySpec::Known),
        1 => (
            prop::sample::select(vec![4u8, 5, 6, 7, 0xE, 0xF]),
            prop::collection::vec(any::<u8>(), 0..64),
        )
            .prop_map(|(t, b)| BodySpec::Reserved(t, b)),
    ]
}

// ---------------------------------------------------------------------------
// Strategies: TLVs
// ---------------------------------------------------------------------------

/// An owned description of one typed TLV, within each type's documented
/// constraints.
#[derive(Clone, Debug)]
enum TlvSpec {
    Request(RequestUnicastTransmissionTlv),
    Grant(GrantUnicastTransmissionTlv),
    Cancel(CancelUnicastTransmissionTlv),
    AckCancel(AcknowledgeCancelUnicastTransmissionTlv),
    /// Clock identities, 8 octets each.
    PathTrace(Vec<u8>),
    Pad(u16),
    AlternateTimeOffset {
        key: u8,
        current: i32,
        jump: i32,
        next: u64,
        name: Vec<u8>,
    },
    Authentication {
        spp: u8,
        indicator: u8,
        key_id: u32,
        trailer: Vec<u8>,
    },
    Organization {
        tlv_type: TlvType,
        id: [u8; 3],
        sub: [u8; 3],
        data: Vec<u8>,
    },
    FollowUpInformation(FollowUpInformationTlv),
    /// An unknown tlvType; `padded` pushes it with `push` (pads odd values),
    /// otherwise with `push_raw` (written as given).
    Raw {
        code: u16,
        value: Vec<u8>,
        padded: bool,
    },
}

fn message_type_nibble() -> impl Strategy<Value = MessageType> {
    (0u8..16).prop_map(MessageType::from)
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

fn tlv() -> impl Strategy<Value = TlvSpec> {
    prop_oneof![
        (message_type_nibble(), any::<i8>(), any::<u32>()).prop_map(|(t, p, d)| TlvSpec::Request(
            RequestUnicastTransmissionTlv {
                message_type: t,
                log_inter_message_period: p,
                duration: d,
            }
        )),
        (
            message_type_nibble(),
            any::<i8>(),
            any::<u32>(),
            any::<bool>()
        )
            .prop_map(|(t, p, d, r)| TlvSpec::Grant(GrantUnicastTransmissionTlv {
                message_type: t,
                log_inter_message_period: p,
                duration: d,
                renewal_invited: r,
            })),
        message_type_nibble()
            .prop_map(|t| TlvSpec::Cancel(CancelUnicastTransmissionTlv { message_type: t })),
        message_type_nibble().prop_map(|t| TlvSpec::AckCancel(
            AcknowledgeCancelUnicastTransmissionTlv { message_type: t }
        )),
        prop::collection::vec(any::<[u8; 8]>(), 0..8)
            .prop_map(|ids| TlvSpec::PathTrace(ids.concat())),
        (0u16..300).prop_map(TlvSpec::Pad),
        (
            any::<u8>(),
            any::<i32>(),
            any::<i32>(),
            0u64..1 << 48,
            bytes(255)
        )
            .prop_map(
                |(key, current, jump, next, name)| TlvSpec::AlternateTimeOffset {
                    key,
                    current,
                    jump,
                    next,
                    name,
                }
            ),
        (any::<u8>(), any::<u8>(), any::<u32>(), bytes(80)).prop_map(
            |(spp, indicator, key_id, trailer)| TlvSpec::Authentication {
                spp,
                indicator,
                key_id,
                trailer,
            }
        ),
        (
            prop::sample::select(ORG_TYPES.to_vec()),
            any::<[u8; 3]>(),
            any::<[u8; 3]>(),
            bytes(80)
        )
            .prop_map(|(tlv_type, id, sub, data)| TlvSpec::Organization {
                tlv_type,
                id,
                sub,
                data,
            }),
        (
            any::<i32>(),
            any::<u16>(),
            -(1i128 << 95)..(1i128 << 95),
            any::<i32>()
        )
            .prop_map(|(rate, base, phase, freq)| TlvSpec::FollowUpInformation(
                FollowUpInformationTlv {
                    cumulative_scaled_rate_offset: rate,
                    gm_time_base_indicator: base,
                    last_gm_phase_change: phase,
                    scaled_last_gm_freq_change: freq,
                }
            )),
        (
            any::<u16>().prop_filter("unknown tlvType", |c| matches!(
                TlvType::from(*c),
                TlvType::Unknown(_)
            )),
            bytes(80),
            any::<bool>()
        )
            .prop_map(|(code, value, padded)| TlvSpec::Raw {
                code,
                value,
                padded,
            }),
    ]
}

/// `v` with the zero octet `TlvWriter::push` appends to an odd value.
fn padded(v: &[u8]) -> Vec<u8> {
    let mut v = v.to_vec();
    if v.len() % 2 == 1 {
        v.push(0);
    }
    v
}

/// Push one typed TLV with `push` into `$buf`, re-parse it as `$t` from a
/// `TlvSet`, check that pushing the parsed value gives the same octets, and
/// return the parsed value (which borrows `$buf`).
macro_rules! push_parse_repush {
    ($t:ident, $value:expr, $buf:expr) => {{
        let mut w = TlvWriter::new($buf);
        w.push(&$value).map_err(|e| fail("push", e))?;
        let first = w.finish();
        let set = TlvSet::parse(first.as_bytes()).map_err(|e| fail("TlvSet::parse", e))?;
        let mut it = set.iter();
        let raw = it.next().ok_or_else(|| fail("no TLV", ()))?;
        prop_assert!(it.next().is_none());
        prop_assert_eq!(raw.received_len(), first.wire_len());
        let parsed = $t::parse(raw).map_err(|e| fail(stringify!($t), e))?;
        let mut second = [0u8; BUF];
        let mut w = TlvWriter::new(&mut second);
        w.push(&parsed).map_err(|e| fail("re-push", e))?;
        prop_assert_eq!(first.as_bytes(), w.finish().as_bytes());
        parsed
    }};
}

impl TlvSpec {
    fn push(&self, w: &mut TlvWriter<'_>) -> statime::wire::Result<()> {
        match self {
            Self::Request(t) => w.push(t),
            Self::Grant(t) => w.push(t),
            Self::Cancel(t) => w.push(t),
            Self::AckCancel(t) => w.push(t),
            Self::PathTrace(p) => w.push(&PathTraceTlv::from_bytes(p).expect("whole ids")),
            Self::Pad(len) => w.push(&PadTlv { len: *len }),
            Self::AlternateTimeOffset {
                key,
                current,
                jump,
                next,
                name,
            } => w.push(&AlternateTimeOffsetIndicatorTlv {
                key_field: *key,
                current_offset: *current,
                jump_seconds: *jump,
                time_of_next_jump: *next,
                display_name: PtpText::new(name).expect("short name"),
            }),
            Self::Authentication {
                spp,
                indicator,
                key_id,
                trailer,
            } => w.push(&AuthenticationTlv {
                spp: *spp,
                sec_param_indicator: *indicator,
                key_id: *key_id,
                trailer,
            }),
            Self::Organization {
                tlv_type,
                id,
                sub,
                data,
            } => w.push(&OrganizationExtensionTlv {
                tlv_type: *tlv_type,
                organization_id: *id,
                organization_sub_type: *sub,
                data,
            }),
            Self::FollowUpInformation(t) => w.push(t),
            Self::Raw {
                code,
                value,
                padded: true,
            } => w.push(&RawTlv {
                tlv_type: TlvType::from(*code),
                value,
            }),
            Self::Raw {
                code,
                value,
                padded: false,
            } => w.push_raw(RawTlv {
                tlv_type: TlvType::from(*code),
                value,
            }),
        }
    }

    /// Check that `raw` (this TLV as found in a parsed message) parses back
    /// to the value pushed, both as its own type and through [`Tlv`].
    fn check_raw(&self, raw: RawTlv<'_>) -> TestResult {
        let typed = Tlv::parse(raw).map_err(|e| fail("Tlv::parse", e))?;
        match self {
            Self::Request(t) => {
                prop_assert_eq!(&RequestUnicastTransmissionTlv::parse(raw), &Ok(*t));
                prop_assert_eq!(typed, Tlv::RequestUnicastTransmission(*t));
            }
            Self::Grant(t) => {
                prop_assert_eq!(&GrantUnicastTransmissionTlv::parse(raw), &Ok(*t));
                prop_assert_eq!(typed, Tlv::GrantUnicastTransmission(*t));
            }
            Self::Cancel(t) => {
                prop_assert_eq!(&CancelUnicastTransmissionTlv::parse(raw), &Ok(*t));
                prop_assert_eq!(typed, Tlv::CancelUnicastTransmission(*t));
            }
            Self::AckCancel(t) => {
                prop_assert_eq!(
                    &AcknowledgeCancelUnicastTransmissionTlv::parse(raw),
                    &Ok(*t)
                );
                prop_assert_eq!(typed, Tlv::AcknowledgeCancelUnicastTransmission(*t));
            }
            Self::PathTrace(p) => {
                let t = PathTraceTlv::parse(raw).map_err(|e| fail("PathTraceTlv", e))?;
                prop_assert_eq!(t.as_bytes(), &p[..]);
                prop_assert_eq!(t.len() * 8, p.len());
                let ids: Vec<ClockIdentity> = t.iter().collect();
                let expect: Vec<ClockIdentity> = p
                    .chunks_exact(8)
                    .map(|c| ClockIdentity(c.try_into().expect("8 octets")))
                    .collect();
                prop_assert_eq!(ids, expect);
                prop_assert_eq!(typed, Tlv::PathTrace(t));
            }
            Self::Pad(len) => {
                let expect = PadTlv { len: len + len % 2 };
                prop_assert_eq!(PadTlv::parse(raw), Ok(expect));
                prop_assert_eq!(typed, Tlv::Pad(expect));
            }
            Self::AlternateTimeOffset {
                key,
                current,
                jump,
                next,
                name,
            } => {
                let expect = AlternateTimeOffsetIndicatorTlv {
                    key_field: *key,
                    current_offset: *current,
                    jump_seconds: *jump,
                    time_of_next_jump: *next,
                    display_name: PtpText::new(name).expect("short name"),
                };
                prop_assert_eq!(AlternateTimeOffsetIndicatorTlv::parse(raw), Ok(expect));
                prop_assert_eq!(typed, Tlv::AlternateTimeOffsetIndicator(expect));
            }
            Self::Authentication {
                spp,
                indicator,
                key_id,
                trailer,
            } => {
                let trailer = padded(trailer);
                let expect = AuthenticationTlv {
                    spp: *spp,
                    sec_param_indicator: *indicator,
                    key_id: *key_id,
                    trailer: &trailer,
                };
                prop_assert_eq!(AuthenticationTlv::parse(raw), Ok(expect));
                prop_assert_eq!(typed, Tlv::Authentication(expect));
            }
            Self::Organization {
                tlv_type,
                id,
                sub,
                data,
            } => {
                let data = padded(data);
                let expect = OrganizationExtensionTlv {
                    tlv_type: *tlv_type,
                    organization_id: *id,
                    organization_sub_type: *sub,
                    data: &data,
                };
                prop_assert_eq!(OrganizationExtensionTlv::parse(raw), Ok(expect));
                prop_assert_eq!(typed, Tlv::OrganizationExtension(expect));
            }
            Self::FollowUpInformation(t) => {
                prop_assert_eq!(&FollowUpInformationTlv::parse(raw), &Ok(*t));
                let Tlv::OrganizationExtension(org) = typed else {
                    return Err(fail("not an organization extension", typed));
                };
                prop_assert_eq!(org.tlv_type, TlvType::OrganizationExtension);
                prop_assert_eq!(org.organization_id, FollowUpInformationTlv::ORGANIZATION_ID);
                prop_assert_eq!(
                    org.organization_sub_type,
                    FollowUpInformationTlv::ORGANIZATION_SUB_TYPE
                );
                prop_assert_eq!(org.data.len(), 22);
            }
            Self::Raw {
                code,
                value,
                padded: pad,
            } => {
                let value = if *pad { padded(value) } else { value.clone() };
                let expect = RawTlv {
                    tlv_type: TlvType::from(*code),
                    value: &value,
                };
                prop_assert_eq!(raw, expect);
                prop_assert_eq!(typed, Tlv::Unknown(expect));
            }
        }
        Ok(())
    }

    /// The value-level round trip of this TLV on its own: push, set parse,
    /// typed parse equals the value (after padding), re-push is identical.
    fn check_alone(&self) -> TestResult {
        let mut buf = [0u8; BUF];
        match self {
            Self::Request(t) => {
                let p = push_parse_repush!(RequestUnicastTransmissionTlv, *t, &mut buf);
                prop_assert_eq!(&p, t);
            }
            Self::Grant(t) => {
                let p = push_parse_repush!(GrantUnicastTransmissionTlv, *t, &mut buf);
                prop_assert_eq!(&p, t);
            }
            Self::Cancel(t) => {
                let p = push_parse_repush!(CancelUnicastTransmissionTlv, *t, &mut buf);
                prop_assert_eq!(&p, t);
            }
            Self::AckCancel(t) => {
                let p = push_parse_repush!(AcknowledgeCancelUnicastTransmissionTlv, *t, &mut buf);
                prop_assert_eq!(&p, t);
            }
            Self::PathTrace(path) => {
                let t = PathTraceTlv::from_bytes(path).expect("whole ids");
                let p = push_parse_repush!(PathTraceTlv, t, &mut buf);
                prop_assert_eq!(p, t);
            }
            Self::Pad(len) => {
                let p = push_parse_repush!(PadTlv, PadTlv { len: *len }, &mut buf);
                prop_assert_eq!(p.len, len + len % 2);
            }
            Self::AlternateTimeOffset {
                key,
                current,
                jump,
                next,
                name,
            } => {
                let t = AlternateTimeOffsetIndicatorTlv {
                    key_field: *key,
                    current_offset: *current,
                    jump_seconds: *jump,
                    time_of_next_jump: *next,
                    display_name: PtpText::new(name).expect("short name"),
                };
                let p = push_parse_repush!(AlternateTimeOffsetIndicatorTlv, t, &mut buf);
                prop_assert_eq!(p, t);
            }
            Self::Authentication {
                spp,
                indicator,
                key_id,
                trailer,
            } => {
                let t = AuthenticationTlv {
                    spp: *spp,
                    sec_param_indicator: *indicator,
                    key_id: *key_id,
                    trailer,
                };
                let p = push_parse_repush!(AuthenticationTlv, t, &mut buf);
                let trailer = padded(trailer);
                prop_assert_eq!(
                    p,
                    AuthenticationTlv {
                        trailer: &trailer,
                        ..t
                    }
                );
            }
            Self::Organization {
                tlv_type,
                id,
                sub,
                data,
            } => {
                let t = OrganizationExtensionTlv {
                    tlv_type: *tlv_type,
                    organization_id: *id,
                    organization_sub_type: *sub,
                    data,
                };
                let p = push_parse_repush!(OrganizationExtensionTlv, t, &mut buf);
                let data = padded(data);
                prop_assert_eq!(p, OrganizationExtensionTlv { data: &data, ..t });
            }
            Self::FollowUpInformation(t) => {
                let p = push_parse_repush!(FollowUpInformationTlv, *t, &mut buf);
                prop_assert_eq!(&p, t);
            }
            Self::Raw { code, value, .. } => {
                let t = RawTlv {
                    tlv_type: TlvType::from(*code),
                    value,
                };
                let p = push_parse_repush!(RawTlv, t, &mut buf);
                let value = padded(value);
                prop_assert_eq!(p, RawTlv { value: &value, ..t });
                // Through the typed dispatch too.
                let p = push_parse_repush!(Tlv, Tlv::Unknown(t), &mut buf);
                prop_assert_eq!(p, Tlv::Unknown(RawTlv { value: &value, ..t }));
            }
        }
        // And every TLV through `Tlv` itself, whatever its type.
        let mut w = TlvWriter::new(&mut buf);
        self.push(&mut w).map_err(|e| fail("push", e))?;
        let set = w.finish();
        let raw = set.iter().next().ok_or_else(|| fail("no TLV", ()))?;
        if let Self::Raw { padded: false, .. } = self {
            // Written unpadded, possibly odd: nothing more to check.
            return Ok(());
        }
        let t = Tlv::parse(raw).map_err(|e| fail("Tlv::parse", e))?;
        let mut again = [0u8; BUF];
        let p = push_parse_repush!(Tlv, t, &mut again);
        prop_assert_eq!(p, t);
        Ok(())
    }
}

/// A whole message: header, body and TLVs.
#[derive(Clone, Debug)]
struct MessageSpec {
    header: Header,
    body: BodySpec,
    tlvs: Vec<TlvSpec>,
}

fn message() -> impl Strategy<Value = MessageSpec> {
    (header(), body(), prop::collection::vec(tlv(), 0..4))
        .prop_map(|(header, body, tlvs)| MessageSpec { header, body, tlvs })
}

impl MessageSpec {
    /// The header as it must parse back: messageType follows the body.
    fn expected_header(&self) -> Header {
        let mut h = self.header;
        h.message_type = match &self.body {
            BodySpec::Known(b) => b.message_type().expect("known body"),
            BodySpec::Reserved(t, _) => MessageType::from(*t),
        };
        h
    }

    /// The TLV suffix octets.
    fn suffix(&self) -> Result<Vec<u8>, TestCaseError> {
        let mut buf = vec![0u8; BUF];
        let mut w = TlvWriter::new(&mut buf);
        for t in &self.tlvs {
            t.push(&mut w).map_err(|e| fail("push", e))?;
        }
        let n = w.len();
        buf.truncate(n);
        Ok(buf)
    }

    /// Emit the message.
    fn emit(&self) -> Result<Vec<u8>, TestCaseError> {
        let suffix = self.suffix()?;
        let body = match &self.body {
            BodySpec::Known(b) => *b,
            BodySpec::Reserved(_, b) => MessageBody::Unknown(b),
        };
        let m = Message {
            header: self.expected_header(),
            body,
            suffix: TlvSet::parse(&suffix).map_err(|e| fail("suffix", e))?,
        };
        let mut out = vec![0u8; m.wire_len()];
        let n = m.emit(&mut out).map_err(|e| fail("emit", e))?;
        prop_assert_eq!(n, out.len());
        // Too small a buffer is an error, not a panic.
        prop_assert!(m.emit(&mut out[..n - 1]).is_err());
        Ok(out)
    }
}

/// Emit a parsed message into a fresh vector.
fn emit(m: &Message<'_>) -> Result<Vec<u8>, TestCaseError> {
    let mut out = vec![0u8; m.wire_len()];
    let n = m.emit(&mut out).map_err(|e| fail("emit", e))?;
    prop_assert_eq!(n, out.len());
    Ok(out)
}

// ---------------------------------------------------------------------------
// No panic: every parser over every input
// ---------------------------------------------------------------------------

/// Re-emit a body that parsed, and check the second parse is a fixed point.
macro_rules! body_fixed_point {
    ($t:ty, $bytes:expr) => {{
        if let Ok(b) = <$t>::parse($bytes) {
            let mut out = [0u8; <$t>::WIRE_LEN];
            b.emit(&mut out).map_err(|e| fail("body emit", e))?;
            prop_assert_eq!(<$t>::parse(&out), Ok(b));
            prop_assert!(b.emit(&mut out[..<$t>::WIRE_LEN - 1]).is_err());
        }
    }};
}

/// Run every body parser over `bytes`.
fn every_body(bytes: &[u8]) -> TestResult {
    body_fixed_point!(SyncMessage, bytes);
    body_fixed_point!(DelayReqMessage, bytes);
    body_fixed_point!(PdelayReqMessage, bytes);
    body_fixed_point!(PdelayRespMessage, bytes);
    body_fixed_point!(FollowUpMessage, bytes);
    body_fixed_point!(DelayRespMessage, bytes);
    body_fixed_point!(PdelayRespFollowUpMessage, bytes);
    body_fixed_point!(AnnounceMessage, bytes);
    body_fixed_point!(SignalingMessage, bytes);
    body_fixed_point!(ManagementMessage, bytes);
    Ok(())
}

/// If `T::parse_value(tlv_type, value)` succeeds, the value pushes, parses
/// again, and re-pushes to the same octets (a fixed point after one round).
macro_rules! typed_fixed_point {
    ($t:ident, $tlv_type:expr, $value:expr) => {{
        if let Ok(t) = $t::parse_value($tlv_type, $value) {
            let (mut a, mut b) = ([0u8; BUF], [0u8; BUF]);
            let first = push_parse_repush!($t, t, &mut a);
            let second = push_parse_repush!($t, first, &mut b);
            prop_assert_eq!(first, second);
        }
    }};
}

/// Run every typed TLV parser over `value` under `tlv_type`.
fn every_typed_tlv(tlv_type: TlvType, value: &[u8]) -> TestResult {
    typed_fixed_point!(Tlv, tlv_type, value);
    typed_fixed_point!(RawTlv, tlv_type, value);
    typed_fixed_point!(RequestUnicastTransmissionTlv, tlv_type, value);
    typed_fixed_point!(GrantUnicastTransmissionTlv, tlv_type, value);
    typed_fixed_point!(CancelUnicastTransmissionTlv, tlv_type, value);
    typed_fixed_point!(AcknowledgeCancelUnicastTransmissionTlv, tlv_type, value);
    typed_fixed_point!(PathTraceTlv, tlv_type, value);
    typed_fixed_point!(PadTlv, tlv_type, value);
    typed_fixed_point!(AlternateTimeOffsetIndicatorTlv, tlv_type, value);
    typed_fixed_point!(AuthenticationTlv, tlv_type, value);
    typed_fixed_point!(OrganizationExtensionTlv, tlv_type, value);
    typed_fixed_point!(FollowUpInformationTlv, tlv_type, value);
    Ok(())
}

/// Whatever parses as a message re-emits, and the re-emitted octets parse
/// to the same message and emit identically. Every TLV parses without panic.
fn message_fixed_point(bytes: &[u8]) -> TestResult {
    let Ok(m) = Message::parse(bytes) else {
        return Ok(());
    };
    prop_assert!(m.wire_len() <= bytes.len());
    let first = emit(&m)?;
    prop_assert_eq!(
        usize::from(u16::from_be_bytes([first[2], first[3]])),
        first.len()
    );
    let again = Message::parse(&first).map_err(|e| fail("re-parse", e))?;
    prop_assert_eq!(again, m);
    prop_assert_eq!(emit(&again)?, first);
    let mut covered = 0;
    for raw in m.suffix {
        covered += raw.received_len();
        let _ = Tlv::parse(raw);
        every_typed_tlv(raw.tlv_type, raw.value)?;
    }
    prop_assert_eq!(covered, m.suffix.wire_len());
    Ok(())
}

/// Every parser over one input.
fn every_parser(bytes: &[u8]) -> TestResult {
    message_fixed_point(bytes)?;

    if let Ok((h, len)) = Header::parse(bytes) {
        // The header is lossless: all 34 octets come back.
        let mut out = [0u8; Header::WIRE_LEN];
        h.emit(len, &mut out).map_err(|e| fail("header emit", e))?;
        prop_assert_eq!(&out[..], &bytes[..Header::WIRE_LEN]);
    }

    every_body(bytes)?;
    every_body(bytes.get(Header::WIRE_LEN..).unwrap_or_default())?;

    if let Ok(set) = TlvSet::parse(bytes) {
        let total: usize = set.iter().map(|t| t.received_len()).sum();
        prop_assert_eq!(total, bytes.len());
        for raw in set {
            let _ = Tlv::parse(raw);
        }
    }

    // Typed TLV parsers: the tlvType from the first two octets, and every
    // code point of table 52, over the rest.
    let (code, value) = match bytes {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => (0, bytes),
    };
    every_typed_tlv(TlvType::from(code), value)?;
    for c in TLV_CODES {
        every_typed_tlv(TlvType::from(c), value)?;
    }
    Ok(())
}

/// Arbitrary octets made more likely to get past the header: versionPTP 2
/// and a messageLength near the real length.
fn plausible_packet() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(any::<u8>(), 34..300),
        0u8..16,
        -4i32..8,
    )
        .prop_map(|(mut b, msg_type, slack)| {
            b[0] = (b[0] & 0xF0) | msg_type;
            b[1] = (b[1] & 0xF0) | 2;
            let len = u16::try_from(i32::try_from(b.len()).unwrap_or(0) - slack).unwrap_or(0);
            b[2..4].copy_from_slice(&len.to_be_bytes());
            b
        })
}

/// One change to a valid message's octets.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(Index, u8),
    SetByte(Index, u8),
    Truncate(Index),
    Extend(Vec<u8>),
    MessageLength(u16),
    MessageLengthDelta(i8),
    TlvLength(Index, u16),
    TlvLengthDelta(Index, i8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::SetByte(i, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => bytes(16).prop_map(Mutation::Extend),
        1 => any::<u16>().prop_map(Mutation::MessageLength),
        2 => any::<i8>().prop_map(Mutation::MessageLengthDelta),
        1 => (any::<Index>(), any::<u16>()).prop_map(|(i, l)| Mutation::TlvLength(i, l)),
        2 => (any::<Index>(), -8i8..8).prop_map(|(i, d)| Mutation::TlvLengthDelta(i, d)),
    ]
}

/// Octet offsets of the lengthFields of a valid message's TLVs.
fn tlv_length_offsets(bytes: &[u8]) -> Vec<usize> {
    let Ok(m) = Message::parse(bytes) else {
        return Vec::new();
    };
    let mut at = Header::WIRE_LEN + m.body.wire_len();
    m.suffix
        .iter()
        .map(|t| {
            let here = at + 2;
            at += t.wire_len();
            here
        })
        .collect()
}

fn add_u16(b: &mut [u8], at: usize, delta: i8) {
    if let Some(f) = b.get_mut(at..at + 2) {
        let v = u16::from_be_bytes([f[0], f[1]]).wrapping_add_signed(i16::from(delta));
        f.copy_from_slice(&v.to_be_bytes());
    }
}

fn mutate(mut b: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    let tlv_lengths = tlv_length_offsets(&b);
    for m in mutations {
        match m {
            Mutation::FlipBit(i, bit) if !b.is_empty() => {
                let i = i.index(b.len());
                b[i] ^= 1 << bit;
            }
            Mutation::SetByte(i, v) if !b.is_empty() => {
                let i = i.index(b.len());
                b[i] = *v;
            }
            Mutation::Truncate(i) => {
                let n = i.index(b.len() + 1);
                b.truncate(n);
            }
            Mutation::Extend(more) => b.extend_from_slice(more),
            Mutation::MessageLength(l) => {
                if let Some(f) = b.get_mut(2..4) {
                    f.copy_from_slice(&l.to_be_bytes());
                }
            }
            Mutation::MessageLengthDelta(d) => add_u16(&mut b, 2, *d),
            Mutation::TlvLength(i, l) if !tlv_lengths.is_empty() => {
                let at = tlv_lengths[i.index(tlv_lengths.len())];
                if let Some(f) = b.get_mut(at..at + 2) {
                    f.copy_from_slice(&l.to_be_bytes());
                }
            }
            Mutation::TlvLengthDelta(i, d) if !tlv_lengths.is_empty() => {
                add_u16(&mut b, tlv_lengths[i.index(tlv_lengths.len())], *d);
            }
            _ => {}
        }
    }
    b
}

proptest! {
    #![proptest_config(config(3000))]

    /// Arbitrary octets never make any parser panic.
    #[test]
    fn no_panic_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        every_parser(&bytes)?;
    }

    /// Arbitrary octets behind a plausible header never make any parser panic.
    #[test]
    fn no_panic_plausible_packets(bytes in plausible_packet()) {
        every_parser(&bytes)?;
    }

    /// Valid messages with flipped bits, cut or extended, or with rewritten
    /// messageLength and TLV lengthFields never make any parser panic, and
    /// reach a fixed point after one emit.
    #[test]
    fn no_panic_mutated_messages(
        spec in message(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let valid = spec.emit()?;
        let bytes = mutate(valid, &mutations);
        every_parser(&bytes)?;
        if let Some(tlvs) = bytes.get(Header::WIRE_LEN..) {
            every_parser(tlvs)?;
        }
    }
}

// ---------------------------------------------------------------------------
// Round trips of valid messages and TLVs
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(4000))]

    /// `parse(emit(m))` is `m`, field by field, and emits the same octets.
    #[test]
    fn message_round_trip(spec in message()) {
        let bytes = spec.emit()?;
        let suffix = spec.suffix()?;
        let m = Message::parse(&bytes).map_err(|e| fail("parse", e))?;
        prop_assert_eq!(m.header, spec.expected_header());
        prop_assert_eq!(m.wire_len(), bytes.len());
        match &spec.body {
            BodySpec::Known(b) => {
                prop_assert_eq!(&m.body, b);
                prop_assert_eq!(m.suffix.as_bytes(), &suffix[..]);
                let mut n = 0;
                for (raw, t) in m.suffix.iter().zip(&spec.tlvs) {
                    t.check_raw(raw)?;
                    n += 1;
                }
                prop_assert_eq!(n, spec.tlvs.len());
                prop_assert_eq!(m.suffix.iter().count(), spec.tlvs.len());
            }
            BodySpec::Reserved(_, b) => {
                // A reserved type's body is everything after the header.
                let mut all = b.clone();
                all.extend_from_slice(&suffix);
                prop_assert_eq!(m.body, MessageBody::Unknown(&all));
                prop_assert!(m.suffix.is_empty());
            }
        }
        prop_assert_eq!(emit(&m)?, bytes);
    }

    /// Every typed TLV: push, set parse and typed parse give the value back
    /// (odd values gain the zero pad octet), and re-push is identical.
    #[test]
    fn tlv_round_trip(t in tlv()) {
        t.check_alone()?;
    }

    /// Several TLVs in one set come back in order.
    #[test]
    fn tlv_set_round_trip(tlvs in prop::collection::vec(tlv(), 0..6)) {
        let spec = MessageSpec {
            header: Header::new(MessageType::Signaling),
            body: BodySpec::Known(MessageBody::Signaling(SignalingMessage::default())),
            tlvs,
        };
        let bytes = spec.suffix()?;
        let set = TlvSet::parse(&bytes).map_err(|e| fail("TlvSet::parse", e))?;
        prop_assert_eq!(set.iter().count(), spec.tlvs.len());
        for (raw, t) in set.iter().zip(&spec.tlvs) {
            t.check_raw(raw)?;
        }
    }
}

// ---------------------------------------------------------------------------
// Time types
// ---------------------------------------------------------------------------

fn interval_bits() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -(1i64 << 20)..(1i64 << 20),
        prop::sample::select(vec![
            i64::MIN,
            i64::MIN + 1,
            -1,
            0,
            1,
            i64::MAX - 1,
            i64::MAX
        ]),
    ]
}

fn duration_bits() -> impl Strategy<Value = i128> {
    prop_oneof![
        any::<i128>(),
        any::<i64>().prop_map(i128::from),
        prop::sample::select(vec![
            i128::MIN,
            i128::MIN + 1,
            -1,
            0,
            1,
            i128::MAX - 1,
            i128::MAX
        ]),
    ]
}

/// Time bits (nanoseconds * 2^32) that fit in `i128`, which covers every
/// time a wire timestamp can express (below 2^79 ns) by far.
fn time_bits() -> impl Strategy<Value = u128> {
    prop_oneof![
        0..=i128::MAX as u128,
        any::<u64>().prop_map(u128::from),
        prop::sample::select(vec![0, 1, i128::MAX as u128 - 1, i128::MAX as u128]),
    ]
}

/// Any time bits, including the top half of the range.
fn any_time_bits() -> impl Strategy<Value = u128> {
    prop_oneof![
        any::<u128>(),
        time_bits(),
        prop::sample::select(vec![u128::MAX, u128::MAX - 1, 1 << 127]),
    ]
}

fn interval(bits: i64) -> TimeInterval {
    TimeInterval::from_bits(bits)
}

fn duration(bits: i128) -> Duration {
    Duration::from_fixed_nanos(I96F32::from_bits(bits))
}

fn time(bits: u128) -> Time {
    Time::from_fixed_nanos(U96F32::from_bits(bits))
}

fn dbits(d: Duration) -> i128 {
    d.fixed_nanos().to_bits()
}

fn tbits(t: Time) -> u128 {
    t.fixed_nanos().to_bits()
}

/// `t + d` exactly, or `None` outside `0..=u128::MAX`.
fn time_add_ref(t: u128, d: i128) -> Option<u128> {
    if d >= 0 {
        t.checked_add(d.unsigned_abs())
    } else {
        t.checked_sub(d.unsigned_abs())
    }
}

/// `a - b` exactly, or `None` outside the `i128` range.
fn time_diff_ref(a: u128, b: u128) -> Option<i128> {
    if a >= b {
        i128::try_from(a - b).ok()
    } else {
        let m = b - a;
        if m == 1 << 127 {
            Some(i128::MIN)
        } else {
            i128::try_from(m).ok().map(|v| -v)
        }
    }
}

/// `t - d` exactly, or `None` outside `0..=u128::MAX`.
fn time_sub_ref(t: u128, d: i128) -> Option<u128> {
    if d >= 0 {
        t.checked_sub(d.unsigned_abs())
    } else {
        t.checked_add(d.unsigned_abs())
    }
}

/// Time arithmetic agrees with exact `u128`/`i128` reference arithmetic.
fn check_time_ops(t: u128, d: i128, u: u128) -> TestResult {
    let (tt, dd, uu) = (time(t), duration(d), time(u));
    let sum = time_add_ref(t, d);
    prop_assert_eq!(tt.checked_add(dd).map(tbits), sum);
    let sat = sum.unwrap_or(if d < 0 { 0 } else { u128::MAX });
    prop_assert_eq!(tbits(tt + dd), sat);

    let sub = time_sub_ref(t, d);
    prop_assert_eq!(tt.checked_sub(dd).map(tbits), sub);
    let sat = sub.unwrap_or(if d > 0 { 0 } else { u128::MAX });
    prop_assert_eq!(tbits(tt - dd), sat);

    let diff = time_diff_ref(t, u);
    prop_assert_eq!(tt.checked_duration_since(uu).map(dbits), diff);
    let sat = diff.unwrap_or(if t < u { i128::MIN } else { i128::MAX });
    prop_assert_eq!(dbits(tt - uu), sat);
    Ok(())
}

proptest! {
    #![proptest_config(config(4000))]

    /// TimeInterval: saturating operators and checked methods agree with
    /// `i128` arithmetic clamped to (or rejected outside) the `i64` range.
    #[test]
    fn time_interval_ops(a in interval_bits(), b in interval_bits(), ns in any::<i64>()) {
        let clamp = |v: i128| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX });
        let (x, y) = (interval(a), interval(b));
        let sum = i128::from(a) + i128::from(b);
        let diff = i128::from(a) - i128::from(b);
        prop_assert_eq!((x + y).to_bits(), clamp(sum));
        prop_assert_eq!((x - y).to_bits(), clamp(diff));
        prop_assert_eq!((-x).to_bits(), clamp(-i128::from(a)));
        prop_assert_eq!(x.checked_add(y).map(TimeInterval::to_bits), i64::try_from(sum).ok());
        prop_assert_eq!(x.checked_sub(y).map(TimeInterval::to_bits), i64::try_from(diff).ok());
        prop_assert_eq!(i128::from(x.nanos_floor()), i128::from(a).div_euclid(1 << 16));
        prop_assert_eq!(i128::from(x.subnanos()), i128::from(a).rem_euclid(1 << 16));
        prop_assert_eq!(
            TimeInterval::from_nanos(ns).to_bits(),
            clamp(i128::from(ns) * (1 << 16))
        );
        // Widening to Duration is exact, and narrowing it back too.
        let d = x.to_duration();
        prop_assert_eq!(dbits(d), i128::from(a) << 16);
        prop_assert_eq!(d.to_interval(), Some(x));
        prop_assert_eq!(d.saturating_to_interval(), x);
        prop_assert_eq!(x.cmp(&y), a.cmp(&b));
    }

    /// Duration: saturating operators and checked methods agree with `i128`
    /// arithmetic.
    #[test]
    fn duration_ops(a in duration_bits(), b in duration_bits(), k in any::<i64>(), ns in any::<i64>(), s in any::<i64>()) {
        let (x, y) = (duration(a), duration(b));
        prop_assert_eq!(dbits(x + y), a.saturating_add(b));
        prop_assert_eq!(dbits(x - y), a.saturating_sub(b));
        prop_assert_eq!(dbits(-x), a.saturating_neg());
        prop_assert_eq!(dbits(x.abs()), a.saturating_abs());
        prop_assert_eq!(dbits(x * k), a.saturating_mul(i128::from(k)));
        prop_assert_eq!(dbits(x.half()), a >> 1);
        prop_assert_eq!(x.checked_add(y).map(dbits), a.checked_add(b));
        prop_assert_eq!(x.checked_sub(y).map(dbits), a.checked_sub(b));
        let mut z = x;
        z += y;
        prop_assert_eq!(z, x + y);
        z = x;
        z -= y;
        prop_assert_eq!(z, x - y);
        prop_assert_eq!(x.nanos_floor(), a >> 32);
        prop_assert_eq!(dbits(Duration::from_nanos(ns)), i128::from(ns) << 32);
        prop_assert_eq!(
            dbits(Duration::from_secs(s)),
            (i128::from(s) * 1_000_000_000) << 32
        );
        let narrow = i64::try_from(a >> 16).ok();
        prop_assert_eq!(x.to_interval().map(TimeInterval::to_bits), narrow);
        let sat = narrow.unwrap_or(if a < 0 { i64::MIN } else { i64::MAX });
        prop_assert_eq!(x.saturating_to_interval().to_bits(), sat);
        prop_assert_eq!(x.cmp(&y), a.cmp(&b));
        // Floating point never panics and NaN is zero.
        let f = x.nanos_f64();
        let _ = x.secs_f64();
        let back = Duration::from_nanos_f64(f);
        prop_assert!(f.is_finite());
        prop_assert!(back.nanos_f64().is_finite());
        prop_assert_eq!(Duration::from_nanos_f64(f64::NAN), Duration::ZERO);
    }

    /// Time +/- Duration and Time - Time agree with exact reference
    /// arithmetic for times below 2^127 bits (2^95 ns).
    #[test]
    fn time_ops(t in time_bits(), d in duration_bits(), u in time_bits()) {
        check_time_ops(t, d, u)?;
    }

    /// Within 2^64 ns of each other and of the epoch, the results are exact.
    #[test]
    fn time_ops_exact(t in any::<u64>(), d in any::<i64>(), u in any::<u64>()) {
        let (t, u) = (u128::from(t) << 32, u128::from(u) << 32);
        check_time_ops(t, i128::from(d) << 32, u)?;
    }

    /// No time operation panics, whatever the operands.
    #[test]
    fn time_ops_never_panic(t in any_time_bits(), d in duration_bits(), u in any_time_bits()) {
        let (tt, dd, uu) = (time(t), duration(d), time(u));
        let _ = (tt + dd, tt - dd, tt - uu);
        let _ = (tt.checked_add(dd), tt.checked_sub(dd), tt.checked_duration_since(uu));
        let _ = (tt.secs(), tt.subsec_nanos(), tt.subnano_bits());
        let _ = Timestamp::from_time(tt);
        prop_assert_eq!(tt.cmp(&uu), t.cmp(&u));
    }

    /// Timestamp <-> Time: valid timestamps round-trip exactly; times whose
    /// seconds fit 48 bits become timestamps truncated to the nanosecond.
    #[test]
    fn timestamp_time(ts in timestamp(), t in any_time_bits(), secs in any::<u64>(), nanos in any::<u32>()) {
        match ts.to_time() {
            Some(time) => {
                prop_assert!(ts.is_valid());
                prop_assert_eq!(Timestamp::from_time(time), Some(ts));
                prop_assert_eq!(time.secs(), u128::from(ts.seconds()));
                prop_assert_eq!(time.subsec_nanos(), ts.nanoseconds());
                prop_assert_eq!(time.subnano_bits(), 0);
            }
            None => prop_assert!(!ts.is_valid()),
        }
        prop_assert_eq!(Timestamp::from_bytes(&ts.to_bytes()), ts);

        let tt = time(t);
        let whole_ns = t >> 32;
        let expect_secs = whole_ns / 1_000_000_000;
        prop_assert_eq!(tt.secs(), expect_secs);
        prop_assert_eq!(u128::from(tt.subsec_nanos()), whole_ns % 1_000_000_000);
        match Timestamp::from_time(tt) {
            Some(ts) => {
                prop_assert!(expect_secs <= u128::from(Timestamp::MAX_SECONDS));
                prop_assert_eq!(ts.to_time().map(tbits), Some(whole_ns << 32));
            }
            None => prop_assert!(expect_secs > u128::from(Timestamp::MAX_SECONDS)),
        }

        // Time::from_secs_nanos carries nanoseconds into the seconds.
        let exact = u128::from(secs) * 1_000_000_000 + u128::from(nanos);
        prop_assert_eq!(tbits(Time::from_secs_nanos(secs, nanos)), exact << 32);
        prop_assert_eq!(tbits(Time::from_nanos(secs)), u128::from(secs) << 32);
    }
}

/// `Time` arithmetic over the whole range, including the top half
/// (2^127 bits or more), where an earlier version went through `i128`
/// and saturated the wrong way.
#[test]
fn time_ops_top_half_of_range() {
    let one_ns = Duration::from_nanos(1);
    assert_eq!(Time::MAX.checked_add(Duration::ZERO), Some(Time::MAX));
    assert!(Time::MAX - one_ns < Time::MAX);
    assert_ne!(Time::MAX - one_ns, Time::EPOCH);
    assert_eq!(Time::MAX - Time::MAX, Duration::ZERO);
    let below = time(i128::MAX as u128);
    assert_eq!(
        tbits(below + duration(1)),
        1 << 127,
        "2^127 - 1 bits + 1 bit"
    );
    let mut runner = proptest::test_runner::TestRunner::new(config(2000));
    runner
        .run(
            &(any_time_bits(), duration_bits(), any_time_bits()),
            |(t, d, u)| check_time_ops(t, d, u),
        )
        .unwrap();
}
