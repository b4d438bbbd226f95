//! The messages the test emits: every message type and every TLV statime
//! can write, each in a plausible carrier, with varied header fields.

use statime::time::TimeInterval;
use statime::wire::messages::{
    AnnounceMessage, DelayReqMessage, DelayRespMessage, FollowUpMessage, ManagementAction,
    ManagementMessage, PdelayReqMessage, PdelayRespFollowUpMessage, PdelayRespMessage,
    SignalingMessage, SyncMessage,
};
use statime::wire::tlv::{
    AcknowledgeCancelUnicastTransmissionTlv, AlternateTimeOffsetIndicatorTlv, AuthenticationTlv,
    CancelUnicastTransmissionTlv, FollowUpInformationTlv, GrantUnicastTransmissionTlv,
    OrganizationExtensionTlv, PadTlv, PathTraceTlv, RequestUnicastTransmissionTlv, TlvRepr,
};
use statime::wire::{
    ClockAccuracy, ClockIdentity, ClockQuality, FlagField, Header, Message, MessageBody,
    MessageType, PortIdentity, PtpText, SdoId, TimeSource, Timestamp, TlvSet, TlvType, TlvWriter,
};

use super::expect::{Expect, bytes, hex_id};
use super::pcap::Transport;

/// One frame of the capture.
pub(crate) struct Case {
    /// What the frame shows, for failure messages.
    pub(crate) name: String,
    /// The encapsulation.
    pub(crate) transport: Transport,
    /// The PTP message as statime emitted it.
    pub(crate) ptp: Vec<u8>,
    /// What tshark must decode from it.
    pub(crate) expect: Expect,
}

/// The message kind that carries a TLV: tshark names TLV fields after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Carrier {
    /// Announce: `ptp.v2.an.*`.
    Announce,
    /// Signaling: `ptp.v2.sig.*`.
    Signaling,
    /// Management: `ptp.v2.mm.*`.
    Management,
    /// An IEEE 802.1AS Follow_Up: `ptp.as.fu.*`.
    GptpFollowUp,
    /// Any other message; tshark 4.0 does not dissect TLVs there.
    Other,
}

impl Carrier {
    fn type_and_length(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Announce => Some(("ptp.v2.an.tlvType", "ptp.v2.an.lengthField")),
            Self::Signaling => Some(("ptp.v2.sig.tlv.tlvType", "ptp.v2.sig.tlv.lengthField")),
            Self::Management => Some(("ptp.v2.mm.tlvType", "ptp.v2.mm.lengthField")),
            Self::GptpFollowUp => Some(("ptp.as.fu.tlvType", "ptp.as.fu.lengthField")),
            Self::Other => None,
        }
    }
}

/// One emitted TLV and what tshark must show of it.
pub(crate) struct EmittedTlv {
    carrier: Carrier,
    bytes: Vec<u8>,
    expect: Expect,
}

/// Emit `t` through [`TlvWriter`] (which adds the pad octet of an odd
/// value) and expect its tlvType and lengthField under the carrier's names.
pub(crate) fn emit_tlv<'a, T: TlvRepr<'a>>(carrier: Carrier, t: &T) -> EmittedTlv {
    let mut buf = vec![0u8; t.wire_len()];
    let mut w = TlvWriter::new(&mut buf);
    w.push(t).expect("TLV emits");
    let n = w.len();
    buf.truncate(n);
    assert_eq!(n, t.wire_len(), "wire_len agrees with the writer");
    let mut expect = Expect::default();
    if let Some((ty, len)) = carrier.type_and_length() {
        expect.add(ty, u16::from(t.tlv_type()));
        expect.add(len, n - 4);
    }
    EmittedTlv {
        carrier,
        bytes: buf,
        expect,
    }
}

impl EmittedTlv {
    pub(crate) fn with(mut self, field: &str, value: impl ToString) -> Self {
        self.expect.add(field, value);
        self
    }

    /// The valueField (pad octet included), as octets.
    pub(crate) fn value(&self) -> &[u8] {
        &self.bytes[4..]
    }

    /// A TLV type tshark 4.0 does not know (it predates the 2019 code
    /// points PAD 0x8008, AUTHENTICATION 0x8009 and ORGANIZATION_EXTENSION
    /// _PROPAGATE/_DO_NOT_PROPAGATE 0x4000/0x8000): it shows the whole
    /// valueField as data, which must be `value`, assembled by the caller
    /// from the clause that defines the TLV (pad octet included).
    fn opaque(self, value: &[u8]) -> Self {
        let field = match self.carrier {
            Carrier::Announce => "ptp.v2.an.tlv.data",
            Carrier::Signaling => "ptp.v2.sig.tlv.data",
            c => panic!("no opaque TLV data field for {c:?}"),
        };
        self.with(field, bytes(value))
    }
}

/// Emit a whole message and compute what tshark must show of it.
pub(crate) fn build(
    name: &str,
    transport: Transport,
    header: Header,
    body: MessageBody<'_>,
    tlvs: Vec<EmittedTlv>,
) -> Case {
    let mut suffix = Vec::new();
    let mut expect = Expect::default();
    let mut tlv_expect = Expect::default();
    for t in tlvs {
        suffix.extend_from_slice(&t.bytes);
        tlv_expect.extend(t.expect);
    }
    let message = Message {
        header,
        body,
        suffix: TlvSet::parse(&suffix).expect("whole TLVs"),
    };
    let mut ptp = vec![0u8; message.wire_len()];
    let n = message.emit(&mut ptp).expect("message emits");
    assert_eq!(n, ptp.len(), "{name}: emit length");
    // The header's messageType comes from the body on emit.
    let mut h = header;
    h.message_type = body.message_type().expect("known body");
    expect.header(&h, n);
    expect.body(&h, &body);
    expect.extend(tlv_expect);
    Case {
        name: name.to_owned(),
        transport,
        ptp,
        expect,
    }
}

pub(crate) const MASTER: ClockIdentity =
    ClockIdentity([0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x01]);
pub(crate) const SLAVE: ClockIdentity =
    ClockIdentity([0xac, 0xde, 0x48, 0xff, 0xfe, 0x23, 0x45, 0x67]);
pub(crate) const BOUNDARY: ClockIdentity =
    ClockIdentity([0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55]);

pub(crate) fn master_port() -> PortIdentity {
    PortIdentity {
        clock_identity: MASTER,
        port_number: 1,
    }
}

pub(crate) fn slave_port() -> PortIdentity {
    PortIdentity {
        clock_identity: SLAVE,
        port_number: 0x0102,
    }
}

fn ts(seconds: u64, nanoseconds: u32) -> Timestamp {
    Timestamp::new(seconds, nanoseconds).expect("valid timestamp")
}

pub(crate) fn header(
    message_type: MessageType,
    sequence_id: u16,
    log_message_interval: i8,
    flags: impl FnOnce(&mut FlagField),
) -> Header {
    let mut h = Header::new(message_type);
    h.source_port_identity = master_port();
    h.sequence_id = sequence_id;
    h.log_message_interval = log_message_interval;
    flags(&mut h.flags);
    h
}

fn announce_body() -> AnnounceMessage {
    AnnounceMessage {
        origin_timestamp: ts(1_700_000_000, 999_999_999),
        current_utc_offset: 37,
        grandmaster_priority_1: 128,
        grandmaster_clock_quality: ClockQuality {
            clock_class: 6,
            clock_accuracy: ClockAccuracy::Ns100,
            offset_scaled_log_variance: 0x4e5d,
        },
        grandmaster_priority_2: 127,
        grandmaster_identity: BOUNDARY,
        steps_removed: 2,
        time_source: TimeSource::Gnss,
    }
}

const ICV: [u8; 16] = [
    0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
];

/// AUTHENTICATION (clause 16.14.3): immediate processing, no optional
/// fields, a 16-octet ICV (HMAC-SHA256-128).
fn authentication(carrier: Carrier) -> EmittedTlv {
    let t = AuthenticationTlv {
        spp: 2,
        sec_param_indicator: 0,
        key_id: 0x0102_0304,
        trailer: &ICV,
    };
    emit_tlv(carrier, &t)
}

/// The valueField of [`authentication`] by clause 16.14.3: spp,
/// secParamIndicator, keyID, then the ICV (no optional fields).
fn authentication_value() -> Vec<u8> {
    let mut v = vec![2, 0, 0x01, 0x02, 0x03, 0x04];
    v.extend_from_slice(&ICV);
    v
}

/// The valueField of an organization extension (clause 14.3):
/// organizationId, organizationSubType, dataField, pad to even length.
fn organization_value(t: &OrganizationExtensionTlv<'_>) -> Vec<u8> {
    let mut v = [t.organization_id, t.organization_sub_type].concat();
    v.extend_from_slice(t.data);
    if v.len() % 2 == 1 {
        v.push(0);
    }
    v
}

fn pad(carrier: Carrier, len: u16) -> EmittedTlv {
    emit_tlv(carrier, &PadTlv { len })
}

/// PATH_TRACE (clause 16.2) in an Announce: tshark lists every identity.
fn path_trace(path: &[u8]) -> EmittedTlv {
    let trace = PathTraceTlv::from_bytes(path).expect("whole identities");
    let mut t = emit_tlv(Carrier::Announce, &trace);
    for id in trace.iter() {
        t = t.with("ptp.v2.an.pathsequence", hex_id(id));
    }
    t
}

/// ALTERNATE_TIME_OFFSET_INDICATOR (clause 16.3) in an Announce.
fn alternate_time_offset(t: &AlternateTimeOffsetIndicatorTlv<'_>) -> EmittedTlv {
    let name = t.display_name.as_str().expect("UTF-8 name");
    emit_tlv(Carrier::Announce, t)
        .with("ptp.v2.an.atoi.keyField", t.key_field)
        .with("ptp.v2.an.atoi.currentOffset", t.current_offset)
        .with("ptp.v2.an.atoi.jumpSeconds", t.jump_seconds)
        .with(
            "ptp.v2.an.atoi.timeOfNextJump",
            bytes(&t.time_of_next_jump.to_be_bytes()[2..]),
        )
        // tshark 4.0 quirk: it adds displayName twice under the same field
        // name (the PTPText as a whole, then its text), hence two
        // occurrences of the one name we sent.
        .with("ptp.v2.an.atoi.displayName", name)
        .with("ptp.v2.an.atoi.displayName", name)
        .with(
            "ptp.v2.an.atoi.displayName.length",
            t.display_name.bytes().len(),
        )
}

/// ORGANIZATION_EXTENSION with the 2008 code point 0x0003 in an Announce,
/// which tshark 4.0 splits into OUI, subtype and data (pad octet included:
/// it belongs to the valueField, clause 14.1.2).
fn organization_extension(t: &OrganizationExtensionTlv<'_>) -> EmittedTlv {
    assert_eq!(t.tlv_type, TlvType::OrganizationExtension);
    let [a, b, c] = t.organization_id;
    let [d, e, f] = t.organization_sub_type;
    let data = bytes(&organization_value(t)[6..]);
    emit_tlv(Carrier::Announce, t)
        .with(
            "ptp.v2.an.oe.organizationId",
            u32::from_be_bytes([0, a, b, c]),
        )
        .with(
            "ptp.v2.an.oe.organizationSubType",
            format!("0x{:06x}", u32::from_be_bytes([0, d, e, f])),
        )
        .with("ptp.v2.an.oe.dataField", data)
}

/// The dataField of a SMPTE ST 2059-2 synchronization metadata TLV
/// (OUI 68-97-E8, subtype 1): 42 octets.
fn smpte_data() -> Vec<u8> {
    let mut data = Vec::new();
    data.extend_from_slice(&30_000u32.to_be_bytes()); // defaultSystemFrameRate
    data.extend_from_slice(&1_001u32.to_be_bytes());
    data.push(2); // masterLockingStatus: cold locked
    data.push(0x01); // timeAddressFlags: drop frame
    data.extend_from_slice(&3_600i32.to_be_bytes()); // currentLocalOffset
    data.extend_from_slice(&(-3_600i32).to_be_bytes()); // jumpSeconds
    data.extend_from_slice(&[0x00, 0x00, 0x67, 0x5c, 0x12, 0x34]); // timeOfNextJump
    data.extend_from_slice(&[0x00, 0x00, 0x67, 0x5c, 0x00, 0x00]); // timeOfNextJam
    data.extend_from_slice(&[0x00, 0x00, 0x67, 0x00, 0x00, 0x00]); // timeOfPreviousJam
    data.extend_from_slice(&7_200i32.to_be_bytes()); // previousJamLocalOffset
    data.push(0x03); // daylightSaving: current and next
    data.push(0x00); // leapSecondJump
    assert_eq!(data.len(), 42);
    data
}

fn smpte(data: &[u8]) -> OrganizationExtensionTlv<'_> {
    OrganizationExtensionTlv {
        tlv_type: TlvType::OrganizationExtension,
        organization_id: [0x68, 0x97, 0xe8],
        organization_sub_type: [0, 0, 1],
        data,
    }
}

/// The SMPTE TLV in a Management message, where ST 2059-2 sends it and
/// where tshark 4.0 decodes it field by field (in an Announce it shows
/// only the generic organization extension fields).
fn smpte_in_management(t: &OrganizationExtensionTlv<'_>) -> EmittedTlv {
    let d = t.data;
    let be32 = |at: usize| u32::from_be_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]]);
    let be48 = |at: usize| {
        u64::from_be_bytes([
            0,
            0,
            d[at],
            d[at + 1],
            d[at + 2],
            d[at + 3],
            d[at + 4],
            d[at + 5],
        ])
    };
    let [a, b, c] = t.organization_id;
    let [e, f, g] = t.organization_sub_type;
    emit_tlv(Carrier::Management, t)
        // tshark 4.0 quirk: the OUI of an organization extension in a
        // Management message is filed under the Announce field name.
        .with(
            "ptp.v2.an.oe.organizationId",
            u32::from_be_bytes([0, a, b, c]),
        )
        .with(
            "ptp.v2.oe.smpte.SubType",
            format!("0x{:06x}", u32::from_be_bytes([0, e, f, g])),
        )
        .with("ptp.v2.oe.smpte.defaultsystemframerate", bytes(&d[0..8]))
        .with("ptp.v2.oe.smpte.defaultsystemframerate.numerator", be32(0))
        .with(
            "ptp.v2.oe.smpte.defaultsystemframerate.denominator",
            be32(4),
        )
        .with("ptp.v2.oe.smpte.masterlockingstatus", d[8])
        .with(
            "ptp.v2.oe.smpte.timeaddressflags",
            format!("0x{:02x}", d[9]),
        )
        .with("ptp.v2.oe.smpte.currentlocaloffset", be32(10) as i32)
        .with("ptp.v2.oe.smpte.jumpseconds", be32(14) as i32)
        .with("ptp.v2.oe.smpte.timeofnextjump", be48(18))
        .with("ptp.v2.oe.smpte.timeofnextjam", be48(24))
        .with("ptp.v2.oe.smpte.timeofpreviousjam", be48(30))
        .with("ptp.v2.oe.smpte.previousjamlocaloffset", be32(36) as i32)
        .with("ptp.v2.oe.smpte.daylightsaving", format!("0x{:02x}", d[40]))
        .with("ptp.v2.oe.smpte.leapsecondjump", format!("0x{:02x}", d[41]))
}

/// The IEEE 802.1AS Follow_Up information TLV.
fn follow_up_information(t: &FollowUpInformationTlv) -> EmittedTlv {
    let phase = t.last_gm_phase_change.to_be_bytes();
    emit_tlv(Carrier::GptpFollowUp, t)
        .with("ptp.as.fu.organizationId", 0x0080c2)
        .with("ptp.as.fu.organizationSubType", 1)
        // tshark 4.0 quirk: cumulativeScaledRateOffset is declared
        // FT_UINT32 although 802.1AS-2020 (11.4.4.3.6) makes it an
        // Integer32, so a negative offset prints as its two's complement.
        .with(
            "ptp.as.fu.cumulativeScaledRateOffset",
            t.cumulative_scaled_rate_offset as u32,
        )
        .with("ptp.as.fu.gmTimeBaseIndicator", t.gm_time_base_indicator)
        .with("ptp.as.fu.lastGmPhaseChange", bytes(&phase[4..]))
        .with(
            "ptp.as.fu.scaledLastGmFreqChange",
            t.scaled_last_gm_freq_change,
        )
}

fn message_type_hex(t: MessageType) -> String {
    format!("0x{:02x}", u8::from(t))
}

fn request(t: &RequestUnicastTransmissionTlv) -> EmittedTlv {
    let log = t.log_inter_message_period;
    emit_tlv(Carrier::Signaling, t)
        .with(
            "ptp.v2.sig.tlv.messageType",
            message_type_hex(t.message_type),
        )
        .with("ptp.v2.sig.tlv.logInterMessagePeriod", log)
        .with("ptp.v2.sig.tlv.logInterMessagePeriod.period", log)
        .with("ptp.v2.sig.tlv.logInterMessagePeriod.rate", log)
        .with("ptp.v2.sig.tlv.durationField", t.duration)
}

fn grant(t: &GrantUnicastTransmissionTlv) -> EmittedTlv {
    let log = t.log_inter_message_period;
    emit_tlv(Carrier::Signaling, t)
        .with(
            "ptp.v2.sig.tlv.messageType",
            message_type_hex(t.message_type),
        )
        .with("ptp.v2.sig.tlv.logInterMessagePeriod", log)
        .with("ptp.v2.sig.tlv.logInterMessagePeriod.period", log)
        .with("ptp.v2.sig.tlv.logInterMessagePeriod.rate", log)
        .with("ptp.v2.sig.tlv.durationField", t.duration)
        .with("ptp.v2.sig.tlv.renewalInvited", u8::from(t.renewal_invited))
}

/// Every case, in capture order.
pub(crate) fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    let udp4 = Transport::Udp4;

    // --- Event messages -------------------------------------------------

    // One-step Sync: nonzero originTimestamp beyond 32-bit seconds, a
    // correction with a sub-nanosecond fraction, 2019 header.
    let mut h = header(MessageType::Sync, 0xBEEF, -3, |f| {
        f.set_ptp_timescale(true);
        f.set_current_utc_offset_valid(true);
        f.set_time_traceable(true);
        f.set_frequency_traceable(true);
    });
    h.correction_field = TimeInterval::from_bits((1_234_567 << 16) | 0x8000);
    let body = MessageBody::Sync(SyncMessage {
        origin_timestamp: ts(0x0001_2345_6789, 123_456_789),
    });
    cases.push(build("sync one-step", udp4, h, body, vec![]));

    // Two-step Sync with a negative correction (-5.25 ns), over UDPv6.
    let mut h = header(MessageType::Sync, 0, 0, |f| f.set_two_step(true));
    h.correction_field = TimeInterval::from_bits(-((5 << 16) | 0x4000));
    h.domain_number = 127;
    let body = MessageBody::Sync(SyncMessage::default());
    cases.push(build(
        "sync two-step udp6",
        Transport::Udp6,
        h,
        body,
        vec![],
    ));

    // Sync with an AUTHENTICATION TLV. tshark 4.0 dissects no TLVs after
    // Sync, Delay_Req, Pdelay_* or a 1588 Follow_Up (it neither shows nor
    // flags them); messageLength is what covers them here, and the same
    // TLVs are checked octet for octet in Announce and Signaling below.
    let h = header(MessageType::Sync, 1, -7, |f| {
        f.set_ptp_timescale(true);
        f.set_synchronization_uncertain(true);
    });
    let body = MessageBody::Sync(SyncMessage {
        origin_timestamp: ts(1_700_000_001, 1),
    });
    cases.push(build(
        "sync + AUTHENTICATION",
        udp4,
        h,
        body,
        vec![authentication(Carrier::Other)],
    ));

    // Delay_Req padded with a PAD TLV, 2008-style header (minor version 0,
    // legacy controlField), logMessageInterval 0x7F.
    let mut h = header(MessageType::DelayReq, 0xFFFF, 0x7F, |_| {});
    h.minor_version = 0;
    h.control_field = MessageType::DelayReq.legacy_control_field();
    h.source_port_identity = slave_port();
    let body = MessageBody::DelayReq(DelayReqMessage {
        origin_timestamp: ts(1_700_000_002, 500_000_000),
    });
    cases.push(build(
        "delay_req + PAD",
        udp4,
        h,
        body,
        vec![pad(Carrier::Other, 10)],
    ));

    // Delay_Req over IEEE 802.3, unicast, with a nonzero minorSdoId.
    let mut h = header(MessageType::DelayReq, 7, 0x7F, |f| f.set_unicast(true));
    h.sdo_id = SdoId::from_parts(0, 0x34);
    h.domain_number = 24;
    h.source_port_identity = slave_port();
    let body = MessageBody::DelayReq(DelayReqMessage::default());
    cases.push(build("delay_req l2", Transport::L2, h, body, vec![]));

    // Peer delay, 1588 profile over IEEE 802.3.
    let mut h = header(MessageType::PdelayReq, 300, 0, |_| {});
    h.source_port_identity = slave_port();
    let body = MessageBody::PdelayReq(PdelayReqMessage {
        origin_timestamp: ts(42, 7),
    });
    cases.push(build(
        "pdelay_req l2",
        Transport::L2PeerDelay,
        h,
        body,
        vec![],
    ));

    let mut h = header(MessageType::PdelayResp, 300, 0x7F, |f| f.set_two_step(true));
    h.correction_field = TimeInterval::from_bits(0x0000_0001_0000_0001);
    let body = MessageBody::PdelayResp(PdelayRespMessage {
        request_receipt_timestamp: ts(1_700_000_003, 999_999_999),
        requesting_port_identity: slave_port(),
    });
    cases.push(build(
        "pdelay_resp l2",
        Transport::L2PeerDelay,
        h,
        body,
        vec![],
    ));

    // --- General messages -----------------------------------------------

    let mut h = header(MessageType::PdelayRespFollowUp, 300, 0x7F, |_| {});
    h.correction_field = TimeInterval::from_bits(-1);
    let body = MessageBody::PdelayRespFollowUp(PdelayRespFollowUpMessage {
        response_origin_timestamp: ts(1_700_000_004, 4),
        requesting_port_identity: slave_port(),
    });
    cases.push(build("pdelay_resp_follow_up udp4", udp4, h, body, vec![]));

    let mut h = header(MessageType::FollowUp, 0xBEEF, -3, |f| {
        f.set_ptp_timescale(true);
    });
    h.correction_field = TimeInterval::from_nanos(1_000);
    let body = MessageBody::FollowUp(FollowUpMessage {
        precise_origin_timestamp: ts(Timestamp::MAX_SECONDS, 999_999_999),
    });
    cases.push(build("follow_up udp4", udp4, h, body, vec![]));

    let mut h = header(MessageType::DelayResp, 0xFFFF, -4, |f| f.set_unicast(true));
    h.correction_field = TimeInterval::MAX;
    h.minor_version = 0;
    h.control_field = MessageType::DelayResp.legacy_control_field();
    let body = MessageBody::DelayResp(DelayRespMessage {
        receive_timestamp: ts(1_700_000_005, 5),
        requesting_port_identity: slave_port(),
    });
    cases.push(build("delay_resp udp6", Transport::Udp6, h, body, vec![]));

    // Announce without TLVs, most flags set, a negative UTC offset and a
    // default clock quality.
    let mut h = header(MessageType::Announce, 12, 1, |f| {
        f.set_leap61(true);
        f.set_current_utc_offset_valid(true);
        f.set_ptp_timescale(true);
        f.set_time_traceable(true);
        f.set_frequency_traceable(true);
        f.set_alternate_master(true);
        f.set_profile_specific_1(true);
        f.set_profile_specific_2(true);
    });
    // messageTypeSpecific (clause 13.3.2.10) is carried as is.
    h.message_type_specific = [0x00, 0x00, 0x01, 0x2c];
    let mut body = announce_body();
    body.current_utc_offset = -2;
    body.grandmaster_clock_quality = ClockQuality::default();
    body.time_source = TimeSource::InternalOscillator;
    cases.push(build(
        "announce",
        udp4,
        h,
        MessageBody::Announce(body),
        vec![],
    ));

    let announce = |seq: u16, domain: u8, tlvs: Vec<EmittedTlv>, name: &str| {
        let mut h = header(MessageType::Announce, seq, 0, |f| f.set_leap59(true));
        h.domain_number = domain;
        build(name, udp4, h, MessageBody::Announce(announce_body()), tlvs)
    };
    let path: Vec<u8> = [MASTER, BOUNDARY].iter().flat_map(|c| c.0).collect();
    cases.push(announce(
        13,
        0,
        vec![path_trace(&path)],
        "announce + PATH_TRACE",
    ));

    // The odd-length display name makes the writer add a pad octet.
    let atoi = AlternateTimeOffsetIndicatorTlv {
        key_field: 1,
        current_offset: 3600,
        jump_seconds: -3600,
        time_of_next_jump: 0x0000_675c_1234,
        display_name: PtpText::new(b"CET").expect("short"),
    };
    cases.push(announce(
        14,
        1,
        vec![alternate_time_offset(&atoi)],
        "announce + ALTERNATE_TIME_OFFSET_INDICATOR",
    ));

    cases.push(announce(
        15,
        2,
        vec![authentication(Carrier::Announce).opaque(&authentication_value())],
        "announce + AUTHENTICATION",
    ));

    // Generic organization extensions: the 2008 code point (with an odd
    // data length, so padded) and the 2019 do-not-propagate and propagate
    // code points, under a neutral OUI.
    let org2008 = OrganizationExtensionTlv {
        tlv_type: TlvType::OrganizationExtension,
        organization_id: [0xac, 0xde, 0x48],
        organization_sub_type: [0x12, 0x34, 0x56],
        data: &[1, 2, 3],
    };
    let no_propagate = OrganizationExtensionTlv {
        tlv_type: TlvType::OrganizationExtensionDoNotPropagate,
        organization_id: [0xac, 0xde, 0x48],
        organization_sub_type: [0x00, 0x00, 0x07],
        data: &[0xde, 0xad, 0xbe, 0xef],
    };
    let propagate = OrganizationExtensionTlv {
        tlv_type: TlvType::OrganizationExtensionPropagate,
        organization_id: [0xac, 0xde, 0x48],
        organization_sub_type: [0x00, 0x00, 0x08],
        data: &[],
    };
    cases.push(announce(
        16,
        3,
        vec![
            organization_extension(&org2008),
            emit_tlv(Carrier::Announce, &no_propagate).opaque(&organization_value(&no_propagate)),
            emit_tlv(Carrier::Announce, &propagate).opaque(&organization_value(&propagate)),
        ],
        "announce + ORGANIZATION_EXTENSION x3",
    ));

    // The SMPTE ST 2059-2 TLV in an Announce: generic decoding.
    let data = smpte_data();
    cases.push(announce(
        17,
        127,
        vec![organization_extension(&smpte(&data))],
        "announce + SMPTE organization extension",
    ));

    // Several TLVs in one Announce, AUTHENTICATION last (clause 16.14.1).
    cases.push(announce(
        18,
        0,
        vec![
            path_trace(&MASTER.0),
            alternate_time_offset(&AlternateTimeOffsetIndicatorTlv {
                key_field: 0,
                current_offset: -18_000,
                jump_seconds: 0,
                time_of_next_jump: 0,
                display_name: PtpText::new(b"EST5").expect("short"),
            }),
            pad(Carrier::Announce, 6).opaque(&[0; 6]),
            authentication(Carrier::Announce).opaque(&authentication_value()),
        ],
        "announce + PATH_TRACE + ALTERNATE_TIME_OFFSET_INDICATOR + PAD + AUTHENTICATION",
    ));

    // --- IEEE 802.1AS (majorSdoId 1) over IEEE 802.3 ----------------------

    let gptp = |message_type: MessageType, seq: u16, log: i8, two_step: bool| {
        let mut h = header(message_type, seq, log, |f| f.set_two_step(two_step));
        h.sdo_id = SdoId::GPTP;
        h
    };
    let h = gptp(MessageType::Sync, 99, -3, true);
    let body = MessageBody::Sync(SyncMessage::default());
    cases.push(build("gptp sync", Transport::L2PeerDelay, h, body, vec![]));

    let mut h = gptp(MessageType::FollowUp, 99, -3, false);
    h.correction_field = TimeInterval::from_bits(0x0000_0000_0123_4567);
    let fui = FollowUpInformationTlv {
        cumulative_scaled_rate_offset: -2048,
        gm_time_base_indicator: 3,
        last_gm_phase_change: -0x1_0000_0002,
        scaled_last_gm_freq_change: 16,
    };
    let body = MessageBody::FollowUp(FollowUpMessage {
        precise_origin_timestamp: ts(1_700_000_006, 600_000_000),
    });
    cases.push(build(
        "gptp follow_up + Follow_Up information",
        Transport::L2PeerDelay,
        h,
        body,
        vec![follow_up_information(&fui)],
    ));

    let mut h = gptp(MessageType::PdelayReq, 15, 0, false);
    h.minor_version = 0;
    let body = MessageBody::PdelayReq(PdelayReqMessage::default());
    cases.push(build(
        "gptp pdelay_req",
        Transport::L2PeerDelay,
        h,
        body,
        vec![],
    ));

    let mut h = gptp(MessageType::Announce, 12, 0, false);
    h.flags.set_ptp_timescale(true);
    let mut body = announce_body();
    body.steps_removed = 1;
    cases.push(build(
        "gptp announce + PATH_TRACE",
        Transport::L2PeerDelay,
        h,
        MessageBody::Announce(body),
        vec![path_trace(&[MASTER.0, BOUNDARY.0].concat())],
    ));

    // --- Signaling: unicast negotiation (clause 16.1) ---------------------

    let target = slave_port();
    let sig = |seq: u16, tlvs: Vec<EmittedTlv>, name: &str| {
        let h = header(MessageType::Signaling, seq, 0x7F, |f| f.set_unicast(true));
        let body = MessageBody::Signaling(SignalingMessage {
            target_port_identity: target,
        });
        build(name, udp4, h, body, tlvs)
    };
    cases.push(sig(
        1,
        vec![
            request(&RequestUnicastTransmissionTlv {
                message_type: MessageType::Announce,
                log_inter_message_period: 1,
                duration: 300,
            }),
            request(&RequestUnicastTransmissionTlv {
                message_type: MessageType::Sync,
                log_inter_message_period: -4,
                duration: 60,
            }),
            request(&RequestUnicastTransmissionTlv {
                message_type: MessageType::PdelayResp,
                log_inter_message_period: 0,
                duration: u32::MAX,
            }),
        ],
        "signaling REQUEST_UNICAST_TRANSMISSION x3",
    ));
    cases.push(sig(
        2,
        vec![
            grant(&GrantUnicastTransmissionTlv {
                message_type: MessageType::DelayResp,
                log_inter_message_period: -2,
                duration: 60,
                renewal_invited: true,
            }),
            // A denial: duration 0.
            grant(&GrantUnicastTransmissionTlv {
                message_type: MessageType::Announce,
                log_inter_message_period: 0,
                duration: 0,
                renewal_invited: false,
            }),
        ],
        "signaling GRANT_UNICAST_TRANSMISSION + denial",
    ));
    let cancel = CancelUnicastTransmissionTlv {
        message_type: MessageType::Sync,
    };
    let ack = AcknowledgeCancelUnicastTransmissionTlv {
        message_type: MessageType::Announce,
    };
    cases.push(sig(
        3,
        vec![
            emit_tlv(Carrier::Signaling, &cancel).with(
                "ptp.v2.sig.tlv.messageType",
                message_type_hex(cancel.message_type),
            ),
            emit_tlv(Carrier::Signaling, &ack).with(
                "ptp.v2.sig.tlv.messageType",
                message_type_hex(ack.message_type),
            ),
        ],
        "signaling CANCEL + ACKNOWLEDGE_CANCEL_UNICAST_TRANSMISSION",
    ));
    // PAD and AUTHENTICATION in a Signaling message, where tshark 4.0
    // shows unknown TLVs as data.
    cases.push(sig(
        4,
        vec![
            emit_tlv(Carrier::Signaling, &cancel).with(
                "ptp.v2.sig.tlv.messageType",
                message_type_hex(cancel.message_type),
            ),
            pad(Carrier::Signaling, 2).opaque(&[0; 2]),
            authentication(Carrier::Signaling).opaque(&authentication_value()),
        ],
        "signaling CANCEL + PAD + AUTHENTICATION",
    ));

    // --- Management ---------------------------------------------------

    // The SMPTE TLV where ST 2059-2 sends it: a Management message to all
    // ports, whose only TLV is the organization extension.
    let mut h = header(MessageType::Management, 1, 0x7F, |_| {});
    h.control_field = MessageType::Management.legacy_control_field();
    h.domain_number = 127;
    let body = MessageBody::Management(ManagementMessage {
        target_port_identity: PortIdentity::ALL,
        starting_boundary_hops: 0,
        boundary_hops: 0,
        action: ManagementAction::Command,
    });
    cases.push(build(
        "management COMMAND + SMPTE organization extension",
        udp4,
        h,
        body,
        vec![smpte_in_management(&smpte(&data))],
    ));

    cases.extend(super::management::cases());

    cases
}
