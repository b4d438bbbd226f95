//! Property tests: emit -> parse -> emit is byte-identical for arbitrary
//! typed management TLVs, and the parsers never panic on arbitrary octets.

extern crate std;

use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;
use crate::wire::tlv::{Tlv, TlvWriter};
use crate::wire::{ClockAccuracy, TimeSource};

fn clock_identity() -> impl Strategy<Value = ClockIdentity> {
    any::<[u8; 8]>().prop_map(ClockIdentity)
}

fn port_identity() -> impl Strategy<Value = PortIdentity> {
    (clock_identity(), any::<u16>()).prop_map(|(clock_identity, port_number)| PortIdentity {
        clock_identity,
        port_number,
    })
}

fn quality() -> impl Strategy<Value = ClockQuality> {
    (any::<u8>(), any::<u8>(), any::<u16>()).prop_map(|(c, a, v)| ClockQuality {
        clock_class: c,
        clock_accuracy: ClockAccuracy::from(a),
        offset_scaled_log_variance: v,
    })
}

fn interval() -> impl Strategy<Value = TimeInterval> {
    any::<i64>().prop_map(TimeInterval::from_bits)
}

fn default_ds() -> impl Strategy<Value = DefaultDataSetTlv> {
    (
        any::<(bool, bool, u16, u8, u8, u8)>(),
        quality(),
        clock_identity(),
    )
        .prop_map(|((t, s, n, p1, p2, d), q, c)| DefaultDataSetTlv {
            two_step_flag: t,
            slave_only: s,
            number_ports: n,
            priority1: p1,
            clock_quality: q,
            priority2: p2,
            clock_identity: c,
            domain_number: d,
        })
}

fn current_ds() -> impl Strategy<Value = CurrentDataSetTlv> {
    (any::<u16>(), interval(), interval()).prop_map(|(s, o, m)| CurrentDataSetTlv {
        steps_removed: s,
        offset_from_master: o,
        mean_path_delay: m,
    })
}

fn parent_ds() -> impl Strategy<Value = ParentDataSetTlv> {
    (
        port_identity(),
        any::<(bool, u16, i32, u8, u8)>(),
        quality(),
        clock_identity(),
    )
        .prop_map(|(p, (st, v, r, p1, p2), q, g)| ParentDataSetTlv {
            parent_port_identity: p,
            parent_stats: st,
            observed_parent_offset_scaled_log_variance: v,
            observed_parent_clock_phase_change_rate: r,
            grandmaster_priority1: p1,
            grandmaster_clock_quality: q,
            grandmaster_priority2: p2,
            grandmaster_identity: g,
        })
}

fn time_properties_ds() -> impl Strategy<Value = TimePropertiesDataSetTlv> {
    (any::<i16>(), any::<[bool; 6]>(), any::<u8>()).prop_map(|(o, f, s)| TimePropertiesDataSetTlv {
        current_utc_offset: o,
        leap61: f[0],
        leap59: f[1],
        current_utc_offset_valid: f[2],
        ptp_timescale: f[3],
        time_traceable: f[4],
        frequency_traceable: f[5],
        time_source: TimeSource::from(s),
    })
}

fn port_ds() -> impl Strategy<Value = PortDataSetTlv> {
    (
        port_identity(),
        any::<(u8, i8, i8, u8, i8, u8, i8)>(),
        interval(),
        0u8..16,
        0u8..16,
    )
        .prop_map(
            |(p, (st, dr, an, to, sy, dm, pd), d, v, mv)| PortDataSetTlv {
                port_identity: p,
                port_state: PortState::from(st),
                log_min_delay_req_interval: dr,
                peer_mean_path_delay: d,
                log_announce_interval: an,
                announce_receipt_timeout: to,
                log_sync_interval: sy,
                delay_mechanism: DelayMechanism::from(dm),
                log_min_pdelay_req_interval: pd,
                version_number: v,
                minor_version_number: mv,
            },
        )
}

fn time_status_np() -> impl Strategy<Value = TimeStatusNpTlv> {
    (
        any::<(i64, i64, i32, i32, u16, i32)>(),
        -(1i128 << 95)..(1i128 << 95),
        clock_identity(),
    )
        .prop_map(|((mo, it, c, s, b, gp), p, g)| TimeStatusNpTlv {
            master_offset: mo,
            ingress_time: it,
            cumulative_scaled_rate_offset: c,
            scaled_last_gm_phase_change: s,
            gm_time_base_indicator: b,
            last_gm_phase_change: p,
            gm_present: gp,
            gm_identity: g,
        })
}

/// A typed data field, built around `text` (owned by the test) where the
/// variant borrows; `pick` chooses the variant and `id` the ID for the
/// variants that go with several.
#[derive(Clone, Debug)]
enum Shape {
    Empty(u16),
    Default(DefaultDataSetTlv),
    Current(CurrentDataSetTlv),
    Parent(ParentDataSetTlv),
    TimeProperties(TimePropertiesDataSetTlv),
    Port(PortDataSetTlv),
    TimeStatus(TimeStatusNpTlv),
    PortProperties(PortIdentity, u8, u8),
    UserDescription,
    Scalar(usize, u8),
    Raw(u16),
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        any::<u16>().prop_map(Shape::Empty),
        default_ds().prop_map(Shape::Default),
        current_ds().prop_map(Shape::Current),
        parent_ds().prop_map(Shape::Parent),
        time_properties_ds().prop_map(Shape::TimeProperties),
        port_ds().prop_map(Shape::Port),
        time_status_np().prop_map(Shape::TimeStatus),
        (port_identity(), any::<u8>(), any::<u8>())
            .prop_map(|(p, s, t)| Shape::PortProperties(p, s, t)),
        Just(Shape::UserDescription),
        (0usize..SCALAR_IDS.len(), any::<u8>()).prop_map(|(i, v)| Shape::Scalar(i, v)),
        any::<u16>().prop_map(Shape::Raw),
    ]
}

const SCALAR_IDS: [ManagementId; 5] = [
    ManagementId::Priority1,
    ManagementId::LogSyncInterval,
    ManagementId::DelayMechanism,
    ManagementId::MasterOnly,
    ManagementId::SynchronizationUncertainNp,
];

/// Raw data keeps its bytes only under an ID that is not typed.
fn raw_id(id: u16) -> ManagementId {
    let id = ManagementId::from(id);
    let typed = id.is_scalar()
        || matches!(
            id,
            ManagementId::DefaultDataSet
                | ManagementId::CurrentDataSet
                | ManagementId::ParentDataSet
                | ManagementId::TimePropertiesDataSet
                | ManagementId::PortDataSet
                | ManagementId::TimeStatusNp
                | ManagementId::PortPropertiesNp
                | ManagementId::UserDescription
        );
    if typed {
        ManagementId::ClockDescription
    } else {
        id
    }
}

fn build<'a>(shape: &Shape, text: &'a [u8]) -> ManagementTlv<'a> {
    let text = PtpText::new(text).unwrap_or_default();
    let typed = |data| {
        ManagementTlv::with_data(data).unwrap_or(ManagementTlv::empty(ManagementId::NullManagement))
    };
    match *shape {
        Shape::Empty(id) => ManagementTlv::empty(ManagementId::from(id)),
        Shape::Default(d) => typed(ManagementData::DefaultDataSet(d)),
        Shape::Current(d) => typed(ManagementData::CurrentDataSet(d)),
        Shape::Parent(d) => typed(ManagementData::ParentDataSet(d)),
        Shape::TimeProperties(d) => typed(ManagementData::TimePropertiesDataSet(d)),
        Shape::Port(d) => typed(ManagementData::PortDataSet(d)),
        Shape::TimeStatus(d) => typed(ManagementData::TimeStatusNp(d)),
        Shape::PortProperties(p, s, t) => {
            typed(ManagementData::PortPropertiesNp(PortPropertiesNpTlv {
                port_identity: p,
                port_state: PortState::from(s),
                timestamping: TimestampType::from(t),
                interface: text,
            }))
        }
        Shape::UserDescription => typed(ManagementData::UserDescription(text)),
        Shape::Scalar(i, value) => ManagementTlv {
            management_id: SCALAR_IDS
                .get(i)
                .copied()
                .unwrap_or(ManagementId::Priority1),
            data: ManagementData::Scalar { value },
        },
        Shape::Raw(id) => ManagementTlv {
            management_id: raw_id(id),
            data: ManagementData::Raw(text.bytes()),
        },
    }
}

fn emit<'a, T: TlvRepr<'a>>(t: &T, buf: &mut [u8]) -> usize {
    let mut w = TlvWriter::new(buf);
    w.push(t).expect("emits");
    w.len()
}

proptest! {
    #[test]
    fn management_emit_parse_emit(s in shape(), text in proptest::collection::vec(any::<u8>(), 0..40)) {
        let mut text = text;
        // Raw data must be an even number of octets to be byte-exact
        // (an odd one gains the TLV's pad octet).
        if matches!(s, Shape::Raw(_)) && text.len() % 2 == 1 {
            text.push(0);
        }
        let t = build(&s, &text);
        let mut first = [0u8; 300];
        let n = emit(&t, &mut first);
        let set = TlvSet::parse(&first[..n]).unwrap();
        let raw = set.iter().next().unwrap();
        let parsed = ManagementTlv::parse(raw).unwrap();
        // Empty raw data is indistinguishable from no data.
        if t.data != ManagementData::Raw(&[]) {
            prop_assert_eq!(parsed, t);
        }
        let mut second = [0u8; 300];
        let m = emit(&parsed, &mut second);
        prop_assert_eq!(&first[..n], &second[..m]);
        prop_assert_eq!(Tlv::parse(raw), Ok(Tlv::Management(parsed)));
    }

    #[test]
    fn error_status_emit_parse_emit(
        e in any::<u16>(),
        id in any::<u16>(),
        text in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
    ) {
        let t = ManagementErrorStatusTlv {
            management_error_id: ManagementErrorId::from(e),
            management_id: ManagementId::from(id),
            display_data: text.as_deref().and_then(PtpText::new),
        };
        let mut first = [0u8; 100];
        let n = emit(&t, &mut first);
        let set = TlvSet::parse(&first[..n]).unwrap();
        let raw = set.iter().next().unwrap();
        let parsed = ManagementErrorStatusTlv::parse(raw).unwrap();
        prop_assert_eq!(parsed, t);
        let mut second = [0u8; 100];
        let m = emit(&parsed, &mut second);
        prop_assert_eq!(&first[..n], &second[..m]);
        prop_assert_eq!(Tlv::parse(raw), Ok(Tlv::ManagementErrorStatus(parsed)));
    }

    #[test]
    fn parsers_never_panic(value in proptest::collection::vec(any::<u8>(), 0..80)) {
        // Bias the managementId towards the typed ones.
        let mut v: Vec<u8> = value;
        if let Some(first) = v.first_mut() {
            *first &= 0xE0;
        }
        if let Ok(t) = ManagementTlv::parse_value(TlvType::Management, &v) {
            // Whatever parses re-emits, and re-parses to the same value.
            let mut out = [0u8; 200];
            let n = emit(&t, &mut out);
            let set = TlvSet::parse(&out[..n]).unwrap();
            let again = ManagementTlv::parse(set.iter().next().unwrap()).unwrap();
            if !matches!(t.data, ManagementData::Raw(_)) {
                prop_assert_eq!(again, t);
            }
        }
        let _ = ManagementErrorStatusTlv::parse_value(TlvType::ManagementErrorStatus, &v);
        let _ = Tlv::parse_value(TlvType::Management, &v);
        let _ = Tlv::parse_value(TlvType::ManagementErrorStatus, &v);
    }

    #[test]
    fn typed_ids_never_panic(id in prop_oneof![
        Just(0x0002u16), Just(0x2000), Just(0x2001), Just(0x2002), Just(0x2003),
        Just(0x2004), Just(0x2005), Just(0x6000), Just(0xC000), Just(0xC004),
    ], data in proptest::collection::vec(any::<u8>(), 0..60)) {
        let mut v = id.to_be_bytes().to_vec();
        v.extend_from_slice(&data);
        let _ = ManagementTlv::parse_value(TlvType::Management, &v);
    }
}
