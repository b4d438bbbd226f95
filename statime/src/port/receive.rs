//! What a port does with received messages (IEEE 1588-2019 clause 9.5).

use super::{Measurement, Pending, Port, PortEvent, RxError, bump};
use crate::datasets::InstanceDataSets;
use crate::time::{Duration, Instant, Time, TimeInterval};
use crate::wire::tlv::{DelayMechanism, PathTraceTlv, PortState, TlvRepr};
use crate::wire::{Header, Message, MessageBody, TlvType};

impl<const F: usize> Port<F> {
    /// A received datagram. `rx` is its receive timestamp (required for
    /// event messages), `now` the caller's monotonic time.
    ///
    /// Malformed, foreign-domain and inapplicable messages are counted and
    /// reported as `Err`, never acted on; no single message can fault the
    /// port or step the clock.
    pub fn handle_receive(
        &mut self,
        data: &[u8],
        rx: Option<Time>,
        now: Instant,
        ds: &InstanceDataSets,
    ) -> Result<(), RxError> {
        let msg = Message::parse(data).map_err(|e| {
            bump(&mut self.counters.malformed);
            RxError::Malformed(e)
        })?;
        let h = msg.header;
        bump(&mut self.counters.rx_by_type[usize::from(u8::from(h.message_type) & 0x0F)]);
        if h.domain_number != ds.default.domain_number
            || h.sdo_id.major() != ds.default.sdo_id.major()
        {
            bump(&mut self.counters.other_domain);
            return Err(RxError::OtherDomain);
        }
        if h.source_port_identity.clock_identity == ds.default.clock_identity {
            return Err(RxError::Own);
        }
        if matches!(
            self.ds.port_state,
            PortState::Initializing | PortState::Faulty | PortState::Disabled
        ) {
            return self.not_applicable();
        }
        if !self.as_capable()
            && matches!(
                msg.body,
                MessageBody::Announce(_) | MessageBody::Sync(_) | MessageBody::FollowUp(_)
            )
        {
            // 802.1AS-2020 clause 10.2.4, 11.2.2: time and Announce
            // information are taken only on an asCapable port.
            return self.not_applicable();
        }
        let result = match msg.body {
            MessageBody::Announce(a) => {
                self.announce(&msg, &a, now);
                Ok(())
            }
            MessageBody::Sync(s) => {
                let rx = rx.ok_or(RxError::NoTimestamp)?;
                self.check_parent(&h, ds)?;
                self.arm_sync_receipt(now);
                let asym = Duration::from(self.ds.delay_asymmetry);
                match self.sync_rx.sync(&h, &s, rx, asym) {
                    Ok(Some(sample)) => {
                        self.sync_measured(sample, now);
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(d) => Err(RxError::Discarded(d)),
                }
            }
            MessageBody::FollowUp(f) => {
                self.check_parent(&h, ds)?;
                let asym = Duration::from(self.ds.delay_asymmetry);
                match self.sync_rx.follow_up(&h, &f, asym) {
                    Ok(Some(sample)) => {
                        self.sync_measured(sample, now);
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(d) => Err(RxError::Discarded(d)),
                }
            }
            MessageBody::DelayReq(_) => {
                let rx = rx.ok_or(RxError::NoTimestamp)?;
                if self.ds.port_state != PortState::Master
                    || self.ds.delay_mechanism != DelayMechanism::E2e
                {
                    return self.not_applicable();
                }
                self.queue(Pending::DelayResp {
                    sequence_id: h.sequence_id,
                    requester: h.source_port_identity,
                    receive: rx,
                    correction: h.correction_field,
                    sdo_minor: h.sdo_id.minor(),
                })
            }
            MessageBody::DelayResp(r) => {
                self.check_parent(&h, ds)?;
                match self.delay_rx.response(&h, &r, self.ds.port_identity) {
                    Ok(Some(d)) => {
                        self.delay_measured(&d, now);
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(d) => Err(RxError::Discarded(d)),
                }
            }
            MessageBody::PdelayReq(_) => {
                let rx = rx.ok_or(RxError::NoTimestamp)?;
                if self.ds.delay_mechanism != DelayMechanism::P2p {
                    return self.not_applicable();
                }
                // Two-step responder (clause 11.4.2 c): t2 in the response,
                // the request's correction returned in the Follow_Up.
                self.queue(Pending::PdelayResp {
                    sequence_id: h.sequence_id,
                    requester: h.source_port_identity,
                    request_receipt: rx,
                    correction: TimeInterval::ZERO,
                })?;
                if self.pdelay_responses.is_full() {
                    self.pdelay_responses.remove(0);
                }
                let _ = self.pdelay_responses.try_push((
                    h.sequence_id,
                    h.source_port_identity,
                    h.correction_field,
                ));
                Ok(())
            }
            MessageBody::PdelayResp(r) => {
                let rx = rx.ok_or(RxError::NoTimestamp)?;
                if self.ds.delay_mechanism != DelayMechanism::P2p {
                    return self.not_applicable();
                }
                match self.pdelay.response(&h, &r, rx, self.ds.port_identity) {
                    Ok(Some(s)) => {
                        self.pdelay_measured(&s);
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(d) => Err(RxError::Discarded(d)),
                }
            }
            MessageBody::PdelayRespFollowUp(r) => {
                if self.ds.delay_mechanism != DelayMechanism::P2p {
                    return self.not_applicable();
                }
                match self.pdelay.follow_up(&h, &r, self.ds.port_identity) {
                    Ok(Some(s)) => {
                        self.pdelay_measured(&s);
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(d) => Err(RxError::Discarded(d)),
                }
            }
            // Signaling and management are answered by the layers above.
            MessageBody::Signaling(_) | MessageBody::Management(_) | MessageBody::Unknown(_) => {
                self.not_applicable()
            }
        };
        if let Err(RxError::Discarded(_)) = result {
            bump(&mut self.counters.discarded);
        }
        result
    }

    fn not_applicable(&mut self) -> Result<(), RxError> {
        bump(&mut self.counters.not_applicable);
        Err(RxError::NotApplicable)
    }

    /// Sync, Follow_Up and Delay_Resp count only from the parent, and only
    /// in SLAVE or UNCALIBRATED (clause 9.5.10).
    fn check_parent(&mut self, h: &Header, ds: &InstanceDataSets) -> Result<(), RxError> {
        if matches!(
            self.ds.port_state,
            PortState::Slave | PortState::Uncalibrated
        ) && h.source_port_identity == ds.parent.parent_port_identity
        {
            Ok(())
        } else {
            self.not_applicable()
        }
    }

    fn announce(
        &mut self,
        msg: &Message<'_>,
        a: &crate::wire::messages::AnnounceMessage,
        now: Instant,
    ) {
        let path = msg
            .suffix
            .find(TlvType::PathTrace)
            .and_then(|raw| PathTraceTlv::parse(raw).ok());
        let is_parent = self.foreign.protected() == Some(msg.header.source_port_identity);
        let verdict =
            self.foreign
                .handle_announce(&msg.header, a, path.as_ref(), super::as_time(now));
        if !verdict.is_accepted() {
            bump(&mut self.counters.announce_refused);
            return;
        }
        if is_parent {
            self.parent_path.clear();
            for id in path.iter().flat_map(PathTraceTlv::iter) {
                if self.parent_path.try_push(id).is_err() {
                    break;
                }
            }
        }
        // clause 9.2.6.12: an Announce from the current parent restarts
        // the receipt timeout; any accepted Announce may change Erbest.
        if is_parent
            && matches!(
                self.ds.port_state,
                PortState::Slave | PortState::Uncalibrated
            )
            || matches!(
                self.ds.port_state,
                PortState::Listening | PortState::Passive
            )
        {
            self.arm_announce_receipt(now);
        }
        self.push_event(PortEvent::DecisionNeeded);
    }

    pub(super) fn sync_measured(&mut self, sample: super::e2e::SyncSample, now: Instant) {
        self.last_sync = Some(sample);
        if let Some(mpd) = self.mean_path_delay {
            self.push_event(PortEvent::Measurement(Measurement {
                offset: super::e2e::offset_from_master(sample.ms, mpd),
                mean_path_delay: mpd,
                raw_path_delay: self.raw_path_delay.unwrap_or(mpd),
                ingress: sample.t2,
                at: now,
            }));
        }
    }

    pub(super) fn delay_measured(&mut self, d: &super::e2e::DelaySample, now: Instant) {
        // meanPathDelay pairs this exchange with the latest Sync (clause 11.3.2).
        let Some(sync) = self.last_sync else {
            return;
        };
        // Pair only with a recent Sync: with the Syncs gone (lost, or
        // dropped as conflicting) an old one, perhaps forged, must not go
        // on lending its `ms` to every new exchange.
        let interval = crate::datasets::log_interval_duration(self.ds.log_sync_interval);
        let max_age = MAX_SYNC_AGE.max(interval + interval + interval);
        if (d.t3 - sync.t2).abs() > max_age {
            bump(&mut self.counters.discarded);
            return;
        }
        let raw = super::e2e::mean_path_delay(sync.ms, d.sm);
        // Only once calibrated: before the servo has the frequency, a
        // frequency error makes the delay of a slow exchange look odd.
        if self.ds.port_state == PortState::Slave
            && !plausible_delay(raw, self.delay_filter.median())
        {
            // A forged or corrupted timestamp, or a badly queued exchange:
            // keep it out of the filter and away from the servo. Only a
            // run of them that agree with each other means the path really
            // changed (forged timestamps scatter).
            let run = &mut self.implausible;
            if run.is_full() {
                run.remove(0);
            }
            let _ = run.try_push(raw);
            if !(run.is_full() && consistent(run)) {
                bump(&mut self.counters.discarded);
                return;
            }
            self.delay_filter.reset();
        }
        self.implausible.clear();
        self.raw_path_delay = Some(raw);
        let filtered = self.delay_filter.push(raw);
        self.mean_path_delay = Some(filtered);
        self.push_event(PortEvent::Exchange(Measurement {
            offset: super::e2e::offset_from_master(sync.ms, raw),
            mean_path_delay: filtered,
            raw_path_delay: raw,
            ingress: sync.t2 + (d.t3 - sync.t2).half(),
            at: now,
        }));
    }

    pub(super) fn pdelay_measured(&mut self, s: &super::p2p::PdelaySample) {
        let ratio = self.rate_ratio.update(s).unwrap_or(1.0);
        let raw = s.mean_link_delay(ratio);
        self.raw_path_delay = Some(raw);
        let filtered = self.delay_filter.push(raw);
        self.mean_path_delay = Some(filtered);
        self.ds.mean_link_delay = filtered.saturating_to_interval();
        self.lost_responses = 0;
        if !self.as_capable() {
            // 802.1AS: a port that is not asCapable neither takes nor gives
            // time; what it heard from a master no longer counts.
            self.drop_foreign_masters();
        }
    }

    pub(super) fn pdelay_resp_sent(&mut self, sequence_id: u16, t3: Time) {
        let Some(i) = self
            .pdelay_responses
            .iter()
            .position(|(s, _, _)| *s == sequence_id)
        else {
            return;
        };
        let (seq, requester, correction) = self.pdelay_responses.remove(i);
        let _ = self.queue(Pending::PdelayRespFollowUp {
            sequence_id: seq,
            requester,
            response_origin: t3,
            correction,
        });
    }
}

/// The oldest Sync a Delay_Req/Delay_Resp exchange is paired with (t3 - t2),
/// or three Sync intervals when that is longer.
const MAX_SYNC_AGE: Duration = Duration::from_secs(4);

/// Exchanges with an implausible delay in a row, all within a quarter of
/// each other, after which the path is taken to have changed (the delay
/// filter starts afresh). Forged timestamps scatter and never make such a
/// run.
pub(super) const IMPLAUSIBLE_BEFORE_RESET: usize = 8;

/// Whether the delays agree: their spread is at most a quarter of the
/// smallest plus 2 us.
fn consistent(run: &[Duration]) -> bool {
    let (Some(lo), Some(hi)) = (run.iter().min(), run.iter().max()) else {
        return false;
    };
    *hi - *lo <= lo.abs().half().half() + Duration::from_nanos(2_000)
}

/// Whether a measured mean path delay is plausible: not clearly negative,
/// and at most twice the recent median plus 20 us. An exchange's offset
/// error is bounded by its own path delay, so one with a much longer path
/// than usual (queued, or its timestamps forged: a forgery that shifts the
/// offset must lengthen the path as much) is worth less than none.
fn plausible_delay(raw: Duration, median: Option<Duration>) -> bool {
    if raw < Duration::from_nanos(-1_000) {
        return false;
    }
    median.is_none_or(|m| raw <= m.abs() * 2 + Duration::from_nanos(20_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_plausibility() {
        let us = |n: i64| Duration::from_nanos(n * 1_000);
        assert!(plausible_delay(us(2), None));
        assert!(
            plausible_delay(us(50), None),
            "no history: anything non-negative"
        );
        assert!(!plausible_delay(us(-5), None));
        assert!(plausible_delay(us(23), Some(us(2))), "a queued exchange");
        assert!(!plausible_delay(us(88), Some(us(21))), "a forged exchange");
        assert!(plausible_delay(us(60), Some(us(21))));
        assert!(consistent(&[us(500), us(510), us(480)]), "a longer path");
        assert!(!consistent(&[us(500), us(38_000), us(480)]), "forgeries");
        assert!(
            !plausible_delay(us(20_000), Some(us(20))),
            "20 ms on a 20 us link"
        );
        assert!(!plausible_delay(Duration::from_secs(5), Some(us(2))));
    }
}
