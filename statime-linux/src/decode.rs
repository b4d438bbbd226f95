//! Human-readable decoding of PTP messages, for `statime-ctl decode`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use statime::wire::tlv::{Tlv, TlvRepr};
use statime::wire::{Error, Header, Message, MessageBody, MessageType};

/// The name of a message type as in IEEE 1588-2019 table 36.
#[must_use]
pub fn type_name(t: MessageType) -> String {
    match t {
        MessageType::Sync => "Sync".into(),
        MessageType::DelayReq => "Delay_Req".into(),
        MessageType::PdelayReq => "Pdelay_Req".into(),
        MessageType::PdelayResp => "Pdelay_Resp".into(),
        MessageType::FollowUp => "Follow_Up".into(),
        MessageType::DelayResp => "Delay_Resp".into(),
        MessageType::PdelayRespFollowUp => "Pdelay_Resp_Follow_Up".into(),
        MessageType::Announce => "Announce".into(),
        MessageType::Signaling => "Signaling".into(),
        MessageType::Management => "Management".into(),
        MessageType::Unknown(x) => format!("reserved-type-{x:#x}"),
    }
}

fn flag_names(h: &Header) -> String {
    let f = h.flags;
    let names = [
        (f.two_step(), "twoStep"),
        (f.unicast(), "unicast"),
        (f.alternate_master(), "alternateMaster"),
        (f.leap61(), "leap61"),
        (f.leap59(), "leap59"),
        (f.current_utc_offset_valid(), "utcValid"),
        (f.ptp_timescale(), "ptpTimescale"),
        (f.time_traceable(), "timeTraceable"),
        (f.frequency_traceable(), "freqTraceable"),
        (f.synchronization_uncertain(), "syncUncertain"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect();
    if set.is_empty() {
        "-".into()
    } else {
        set.join(",")
    }
}

/// One line describing a message: type, sequence, source and the body's
/// key fields, then the TLV types.
#[must_use]
pub fn summary(m: &Message<'_>) -> String {
    let h = &m.header;
    let mut s = format!(
        "{} seq {} domain {} sdo {:#05x} v2.{} from {} flags {} corr {} ns interval {}",
        type_name(h.message_type),
        h.sequence_id,
        h.domain_number,
        h.sdo_id.get(),
        h.minor_version,
        h.source_port_identity,
        flag_names(h),
        h.correction_field.0,
        h.log_message_interval,
    );
    let _ = match m.body {
        MessageBody::Sync(b) => write!(s, " origin {}", b.origin_timestamp),
        MessageBody::DelayReq(b) => write!(s, " origin {}", b.origin_timestamp),
        MessageBody::PdelayReq(b) => write!(s, " origin {}", b.origin_timestamp),
        MessageBody::FollowUp(b) => write!(s, " precise-origin {}", b.precise_origin_timestamp),
        MessageBody::DelayResp(b) => write!(
            s,
            " receive {} for {}",
            b.receive_timestamp, b.requesting_port_identity
        ),
        MessageBody::PdelayResp(b) => write!(
            s,
            " request-receipt {} for {}",
            b.request_receipt_timestamp, b.requesting_port_identity
        ),
        MessageBody::PdelayRespFollowUp(b) => write!(
            s,
            " response-origin {} for {}",
            b.response_origin_timestamp, b.requesting_port_identity
        ),
        MessageBody::Announce(b) => write!(
            s,
            " gm {} prio {}/{} class {} acc {:#04x} var {:#06x} steps {} utc-offset {}",
            b.grandmaster_identity,
            b.grandmaster_priority_1,
            b.grandmaster_priority_2,
            b.grandmaster_clock_quality.clock_class,
            u8::from(b.grandmaster_clock_quality.clock_accuracy),
            b.grandmaster_clock_quality.offset_scaled_log_variance,
            b.steps_removed,
            b.current_utc_offset,
        ),
        MessageBody::Signaling(b) => write!(s, " to {}", b.target_port_identity),
        MessageBody::Management(b) => write!(
            s,
            " {:?} to {} hops {}/{}",
            b.action, b.target_port_identity, b.boundary_hops, b.starting_boundary_hops
        ),
        MessageBody::Unknown(b) => write!(s, " body {} octets", b.len()),
    };
    for raw in m.suffix.iter() {
        let _ = write!(s, " [TLV {:?}, {} octets]", raw.tlv_type, raw.value.len());
    }
    s
}

/// Indented lines with every TLV decoded, for `--verbose`.
#[must_use]
pub fn tlv_details(m: &Message<'_>) -> Vec<String> {
    m.suffix
        .iter()
        .map(|raw| match Tlv::parse(raw) {
            Ok(Tlv::Unknown(r)) => format!("    {:?}: {:02x?}", r.tlv_type, r.value),
            Ok(t) => format!("    {t:?}"),
            Err(e) => format!("    {:?}: malformed ({e})", raw.tlv_type),
        })
        .collect()
}

/// Counts of decoded and rejected messages, by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Messages parsed, by type name.
    pub parsed: BTreeMap<String, u64>,
    /// Messages rejected, by error.
    pub malformed: BTreeMap<String, u64>,
}

impl Tally {
    /// Record the outcome of one parse.
    pub fn count(&mut self, outcome: Result<&Message<'_>, Error>) {
        let (map, key) = match outcome {
            Ok(m) => (&mut self.parsed, type_name(m.header.message_type)),
            Err(e) => (&mut self.malformed, e.to_string()),
        };
        *map.entry(key).or_default() += 1;
    }

    /// Total malformed messages.
    #[must_use]
    pub fn malformed_total(&self) -> u64 {
        self.malformed.values().sum()
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parsed: u64 = self.parsed.values().sum();
        write!(f, "{parsed} PTP messages")?;
        for (k, v) in &self.parsed {
            write!(f, ", {v} {k}")?;
        }
        write!(f, "; {} malformed", self.malformed_total())?;
        for (k, v) in &self.malformed {
            write!(f, ", {v} {k}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use statime::wire::messages::SyncMessage;
    use statime::wire::{Timestamp, TlvSet};

    #[test]
    fn summary_line() {
        let mut header = Header::new(MessageType::Sync);
        header.flags.set_two_step(true);
        header.sequence_id = 7;
        let m = Message {
            header,
            body: MessageBody::Sync(SyncMessage {
                origin_timestamp: Timestamp::new(5, 42).unwrap(),
            }),
            suffix: TlvSet::EMPTY,
        };
        let line = summary(&m);
        assert!(
            line.starts_with("Sync seq 7 domain 0 sdo 0x000 v2.1"),
            "{line}"
        );
        assert!(line.contains("flags twoStep"), "{line}");
        assert!(line.ends_with("origin 5.000000042"), "{line}");
        let mut t = Tally::default();
        t.count(Ok(&m));
        t.count(Err(Error::Truncated));
        assert_eq!(
            t.to_string(),
            "1 PTP messages, 1 Sync; 1 malformed, 1 truncated"
        );
    }
}
