//! Real packets from linuxptp 3.1.1 (see `fixtures/ptp4l/README.md`): every
//! fixture must parse, re-emit byte for byte, and decode to the values
//! tshark printed for the same packet.
//!
//! The expected values are not written by hand: each `.bin` has a
//! `.tshark.txt` beside it with tshark's own decode, and this test renders
//! our parse of the bytes under the same field names and formats.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use statime::wire::tlv::{FollowUpInformationTlv, PathTraceTlv, TlvRepr};
use statime::wire::{
    ClockIdentity, Message, MessageBody, MessageType, PortIdentity, Timestamp, TlvType,
};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ptp4l")
}

/// tshark's fields for one packet: name -> every occurrence, in order.
fn read_tshark(path: &Path) -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some((k, v)) = line.split_once('=') {
            map.entry(k.to_owned()).or_default().push(v.to_owned());
        }
    }
    map
}

fn hex_id(id: ClockIdentity) -> String {
    id.0.iter().fold(String::from("0x"), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Our decode of a message under tshark's field names and formats.
struct Rendered(Vec<(String, String)>);

impl Rendered {
    fn add(&mut self, k: &str, v: impl ToString) {
        self.0.push((k.to_owned(), v.to_string()));
    }

    fn timestamp(&mut self, prefix: &str, t: Timestamp) {
        self.add(&format!("{prefix}.seconds"), t.seconds());
        self.add(&format!("{prefix}.nanoseconds"), t.nanoseconds());
    }

    fn port(&mut self, identity_key: &str, number_key: &str, p: PortIdentity) {
        self.add(identity_key, hex_id(p.clock_identity));
        self.add(number_key, p.port_number);
    }
}

fn render(m: &Message<'_>) -> Rendered {
    let mut r = Rendered(Vec::new());
    let h = &m.header;
    r.add("ptp.v2.majorsdoid", format!("0x{:02x}", h.sdo_id.major()));
    r.add("ptp.v2.minorsdoid", h.sdo_id.minor());
    r.add(
        "ptp.v2.messagetype",
        format!("0x{:02x}", u8::from(h.message_type)),
    );
    r.add("ptp.v2.minorversionptp", h.minor_version);
    r.add("ptp.v2.versionptp", 2);
    r.add("ptp.v2.messagelength", m.wire_len());
    r.add("ptp.v2.domainnumber", h.domain_number);
    r.add("ptp.v2.flags", format!("0x{:04x}", h.flags.0));
    r.add("ptp.v2.correction.ns", h.correction_field.nanos_floor());
    r.add("ptp.v2.correction.subns", h.correction_field.subnanos());
    r.port(
        "ptp.v2.clockidentity",
        "ptp.v2.sourceportid",
        h.source_port_identity,
    );
    r.add("ptp.v2.sequenceid", h.sequence_id);
    r.add("ptp.v2.controlfield", h.control_field);
    r.add("ptp.v2.logmessageperiod", h.log_message_interval);
    // With majorSdoId 1 tshark dissects as IEEE 802.1AS, where the
    // originTimestamp of Sync, Pdelay_Req and Announce is reserved: it
    // prints no field for it, so there is nothing to compare.
    let gptp = h.sdo_id.major() == 1;
    match m.body {
        MessageBody::Sync(_) | MessageBody::PdelayReq(_) if gptp => {}
        MessageBody::Sync(b) => r.timestamp("ptp.v2.sdr.origintimestamp", b.origin_timestamp),
        MessageBody::DelayReq(b) => r.timestamp("ptp.v2.sdr.origintimestamp", b.origin_timestamp),
        MessageBody::FollowUp(b) => {
            r.timestamp(
                "ptp.v2.fu.preciseorigintimestamp",
                b.precise_origin_timestamp,
            );
        }
        MessageBody::DelayResp(b) => {
            r.timestamp("ptp.v2.dr.receivetimestamp", b.receive_timestamp);
            r.port(
                "ptp.v2.dr.requestingsourceportidentity",
                "ptp.v2.dr.requestingsourceportid",
                b.requesting_port_identity,
            );
        }
        MessageBody::PdelayReq(b) => r.timestamp("ptp.v2.pdrq.origintimestamp", b.origin_timestamp),
        MessageBody::PdelayResp(b) => {
            r.timestamp(
                "ptp.v2.pdrs.requestreceipttimestamp",
                b.request_receipt_timestamp,
            );
            r.port(
                "ptp.v2.pdrs.requestingportidentity",
                "ptp.v2.pdrs.requestingsourceportid",
                b.requesting_port_identity,
            );
        }
        MessageBody::PdelayRespFollowUp(b) => {
            r.timestamp(
                "ptp.v2.pdfu.responseorigintimestamp",
                b.response_origin_timestamp,
            );
            r.port(
                "ptp.v2.pdfu.requestingportidentity",
                "ptp.v2.pdfu.requestingsourceportid",
                b.requesting_port_identity,
            );
        }
        MessageBody::Announce(b) => {
            if !gptp {
                r.timestamp("ptp.v2.an.origintimestamp", b.origin_timestamp);
            }
            r.add("ptp.v2.an.origincurrentutcoffset", b.current_utc_offset);
            r.add("ptp.v2.an.priority1", b.grandmaster_priority_1);
            let q = b.grandmaster_clock_quality;
            r.add("ptp.v2.an.grandmasterclockclass", q.clock_class);
            r.add(
                "ptp.v2.an.grandmasterclockaccuracy",
                format!("0x{:02x}", u8::from(q.clock_accuracy)),
            );
            r.add(
                "ptp.v2.an.grandmasterclockvariance",
                q.offset_scaled_log_variance,
            );
            r.add("ptp.v2.an.priority2", b.grandmaster_priority_2);
            r.add(
                "ptp.v2.an.grandmasterclockidentity",
                hex_id(b.grandmaster_identity),
            );
            r.add("ptp.v2.an.localstepsremoved", b.steps_removed);
            r.add(
                "ptp.v2.timesource",
                format!("0x{:02x}", u8::from(b.time_source)),
            );
        }
        MessageBody::Signaling(b) => r.port(
            "ptp.v2.sig.targetportidentity",
            "ptp.v2.sig.targetportid",
            b.target_port_identity,
        ),
        MessageBody::Management(b) => {
            r.port(
                "ptp.v2.mm.targetportidentity",
                "ptp.v2.mm.targetportid",
                b.target_port_identity,
            );
            r.add("ptp.v2.mm.startingboundaryhops", b.starting_boundary_hops);
            r.add("ptp.v2.mm.boundaryhops", b.boundary_hops);
            r.add("ptp.v2.mm.action", u8::from(b.action));
        }
        MessageBody::Unknown(_) => panic!("ptp4l sent an unknown message type"),
    }
    render_tlvs(m, &mut r);
    r
}

fn render_tlvs(m: &Message<'_>, r: &mut Rendered) {
    for raw in m.suffix.iter() {
        let t = u16::from(raw.tlv_type);
        let len = raw.value.len();
        match (m.header.message_type, raw.tlv_type) {
            (MessageType::Announce, TlvType::PathTrace) => {
                r.add("ptp.v2.an.tlvType", t);
                r.add("ptp.v2.an.lengthField", len);
                let path = PathTraceTlv::parse(raw).expect("path trace parses");
                for id in path.iter() {
                    r.add("ptp.v2.an.pathsequence", hex_id(id));
                }
            }
            (MessageType::FollowUp, TlvType::OrganizationExtension) => {
                let fu = FollowUpInformationTlv::parse(raw).expect("802.1AS Follow_Up TLV");
                r.add("ptp.as.fu.tlvType", t);
                r.add("ptp.as.fu.lengthField", len);
                r.add("ptp.as.fu.organizationId", 0x0080C2);
                r.add("ptp.as.fu.organizationSubType", 1);
                r.add(
                    "ptp.as.fu.cumulativeScaledRateOffset",
                    fu.cumulative_scaled_rate_offset,
                );
                r.add("ptp.as.fu.gmTimeBaseIndicator", fu.gm_time_base_indicator);
                r.add(
                    "ptp.as.fu.scaledLastGmFreqChange",
                    fu.scaled_last_gm_freq_change,
                );
                let phase = fu.last_gm_phase_change.to_be_bytes()[4..]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":");
                r.add("ptp.as.fu.lastGmPhaseChange", phase);
            }
            (MessageType::Signaling, _) => {
                r.add("ptp.v2.sig.tlv.tlvType", t);
                r.add("ptp.v2.sig.tlv.lengthField", len);
                render_unicast(raw, r);
            }
            (MessageType::Management, _) => {
                r.add("ptp.v2.mm.tlvType", t);
                r.add("ptp.v2.mm.lengthField", len);
                let mut ids = raw
                    .value
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]));
                if raw.tlv_type == TlvType::ManagementErrorStatus {
                    r.add("ptp.v2.mm.managementErrorId", ids.next().expect("error id"));
                }
                r.add("ptp.v2.mm.managementId", ids.next().expect("management id"));
            }
            (ty, tlv) => panic!("unexpected {tlv:?} in {ty:?} from ptp4l"),
        }
    }
}

fn render_unicast(raw: statime::wire::RawTlv<'_>, r: &mut Rendered) {
    use statime::wire::tlv::{GrantUnicastTransmissionTlv, RequestUnicastTransmissionTlv};
    let (message_type, period, duration) = match raw.tlv_type {
        TlvType::RequestUnicastTransmission => {
            let t = RequestUnicastTransmissionTlv::parse(raw).expect("request parses");
            (t.message_type, t.log_inter_message_period, t.duration)
        }
        TlvType::GrantUnicastTransmission => {
            let t = GrantUnicastTransmissionTlv::parse(raw).expect("grant parses");
            r.add("ptp.v2.sig.tlv.renewalInvited", u8::from(t.renewal_invited));
            (t.message_type, t.log_inter_message_period, t.duration)
        }
        other => panic!("unexpected signaling TLV {other:?}"),
    };
    r.add(
        "ptp.v2.sig.tlv.messageType",
        format!("0x{:02x}", u8::from(message_type)),
    );
    r.add("ptp.v2.sig.tlv.logInterMessagePeriod", period);
    r.add("ptp.v2.sig.tlv.durationField", duration);
}

/// Compare our rendering with tshark's; returns the number of fields checked.
fn compare(name: &str, ours: &Rendered, tshark: &BTreeMap<String, Vec<String>>) -> usize {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (k, v) in &ours.0 {
        let n = seen.entry(k).or_default();
        let theirs = tshark
            .get(k)
            .and_then(|vals| vals.get(*n))
            .unwrap_or_else(|| panic!("{name}: tshark has no occurrence {n} of {k}"));
        assert_eq!(v, theirs, "{name}: field {k} (occurrence {n})");
        *n += 1;
    }
    ours.0.len()
}

#[test]
fn every_ptp4l_fixture_matches_tshark() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("fixture directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "expected the full fixture set, found {}",
        files.len()
    );
    let mut types = std::collections::BTreeSet::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap();
        let msg = Message::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        types.insert(u8::from(msg.header.message_type));

        let tshark = read_tshark(&path.with_extension("tshark.txt"));
        let checked = compare(&name, &render(&msg), &tshark);
        assert!(checked >= 15, "{name}: only {checked} fields compared");

        let mut out = vec![0u8; bytes.len()];
        let len = msg
            .emit(&mut out)
            .unwrap_or_else(|e| panic!("{name}: emit {e}"));
        assert_eq!(out[..len], bytes[..len], "{name}: re-emitted bytes differ");
        assert_eq!(len, msg.wire_len());
    }
    // Every message type ptp4l sends: all ten of clause 13.
    assert_eq!(
        types.into_iter().collect::<Vec<_>>(),
        vec![0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xB, 0xC, 0xD]
    );
}

#[test]
fn ptp4l_quirks_are_accepted() {
    // 3.1.1 speaks 2008: minorVersionPTP 0 and the legacy controlField values.
    let bytes = std::fs::read(fixture_dir().join("udp4-e2e-delay_req.bin")).unwrap();
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.header.minor_version, 0);
    assert_eq!(
        m.header.control_field,
        MessageType::DelayReq.legacy_control_field()
    );
    assert_eq!(m.header.log_message_interval, 0x7F);

    // gPTP: majorSdoId 1.
    let bytes = std::fs::read(fixture_dir().join("gptp-sync.bin")).unwrap();
    assert_eq!(Message::parse(&bytes).unwrap().header.sdo_id.major(), 1);
}
