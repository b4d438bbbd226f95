//! The peer delay mechanism (IEEE 1588-2019 clause 11.4): the requester's
//! pairing of Pdelay_Req, Pdelay_Resp and Pdelay_Resp_Follow_Up, the mean
//! link delay, and the neighborRateRatio.
//!
//! Timestamps: t1 = Pdelay_Req sent (local), t2 = Pdelay_Req received
//! (peer), t3 = Pdelay_Resp sent (peer), t4 = Pdelay_Resp received
//! (local). Two-step responders send t2 in the Pdelay_Resp and t3 in the
//! Follow_Up; one-step responders send no timestamps and put the turnaround
//! t3 - t2 into the Pdelay_Resp correctionField (clause 11.4.2).

use super::e2e::Discard;
use super::sequence::is_newer;
use crate::time::{Duration, Time, TimeInterval};
use crate::wire::messages::{PdelayRespFollowUpMessage, PdelayRespMessage};
use crate::wire::{Header, PortIdentity};

/// One completed peer delay exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PdelaySample {
    /// sequenceId of the Pdelay_Req.
    pub sequence_id: u16,
    /// The responding port.
    pub responder: PortIdentity,
    /// t4 - t1: the round trip by the local clock.
    pub round_trip: Duration,
    /// The responder's turnaround (t3 - t2 plus the corrections), by its clock.
    pub turnaround: Duration,
    /// t4, for the rate ratio.
    pub t4: Time,
    /// t3 by the responder's clock, when it sent one (two-step only).
    pub t3: Option<Time>,
}

impl PdelaySample {
    /// meanLinkDelay = ((t4 - t1) * r - turnaround) / 2 (clause 11.4.2),
    /// with `r` the neighborRateRatio (peer frequency / local frequency).
    #[must_use]
    pub fn mean_link_delay(&self, neighbor_rate_ratio: f64) -> Duration {
        let rt = self.round_trip.nanos_f64() * neighbor_rate_ratio;
        (Duration::from_nanos_f64(rt) - self.turnaround).half()
    }
}

#[derive(Clone, Copy, Debug)]
struct Outstanding {
    sequence_id: u16,
    t1: Option<Time>,
    response: Option<Response>,
    /// A Pdelay_Resp_Follow_Up that overtook its Pdelay_Resp: (sender, t3,
    /// correction).
    early_follow_up: Option<(PortIdentity, Time, TimeInterval)>,
}

#[derive(Clone, Copy, Debug)]
struct Response {
    responder: PortIdentity,
    t2: Option<Time>,
    t4: Time,
    correction: TimeInterval,
    two_step: bool,
}

/// The requester side of one port (clause 11.4.2).
#[derive(Clone, Debug, Default)]
pub struct PdelayRequester {
    outstanding: Option<Outstanding>,
}

impl PdelayRequester {
    /// Nothing outstanding.
    #[must_use]
    pub const fn new() -> Self {
        Self { outstanding: None }
    }

    /// Forget the outstanding exchange.
    pub fn reset(&mut self) {
        self.outstanding = None;
    }

    /// A Pdelay_Req with this sequenceId was sent; an unfinished exchange is
    /// abandoned (the caller counts it as lost).
    pub fn sent(&mut self, sequence_id: u16) -> bool {
        let abandoned = self.outstanding.is_some();
        self.outstanding = Some(Outstanding {
            sequence_id,
            t1: None,
            response: None,
            early_follow_up: None,
        });
        abandoned
    }

    /// Its TX timestamp t1.
    pub fn sent_at(&mut self, sequence_id: u16, t1: Time) -> Result<Option<PdelaySample>, Discard> {
        let o = self.outstanding.as_mut().ok_or(Discard::Unmatched)?;
        if o.sequence_id != sequence_id {
            return Err(Discard::Unmatched);
        }
        o.t1 = Some(t1);
        Ok(self.complete(None))
    }

    fn matching(
        &mut self,
        header: &Header,
        requesting: PortIdentity,
        own: PortIdentity,
    ) -> Result<&mut Outstanding, Discard> {
        if requesting != own {
            return Err(Discard::Unmatched);
        }
        let o = self.outstanding.as_mut().ok_or(Discard::Unmatched)?;
        if header.sequence_id != o.sequence_id {
            return Err(if is_newer(o.sequence_id, header.sequence_id) {
                Discard::Stale
            } else {
                Discard::Unmatched
            });
        }
        Ok(o)
    }

    /// A Pdelay_Resp received at `t4`; `own` is this port's identity.
    pub fn response(
        &mut self,
        header: &Header,
        body: &PdelayRespMessage,
        t4: Time,
        own: PortIdentity,
    ) -> Result<Option<PdelaySample>, Discard> {
        let o = self.matching(header, body.requesting_port_identity, own)?;
        if o.response.is_some() {
            // A second responder on the link (clause 11.4.4: more than one
            // Pdelay_Resp means the link is not point to point).
            return Err(Discard::Duplicate);
        }
        let two_step = header.flags.two_step();
        let t2 = if two_step {
            Some(
                body.request_receipt_timestamp
                    .to_time()
                    .ok_or(Discard::InvalidTimestamp)?,
            )
        } else {
            None
        };
        o.response = Some(Response {
            responder: header.source_port_identity,
            t2,
            t4,
            correction: header.correction_field,
            two_step,
        });
        if !two_step {
            return Ok(self.complete(None));
        }
        // The Follow_Up may have overtaken this response.
        let early = o
            .early_follow_up
            .filter(|(sender, _, _)| *sender == header.source_port_identity)
            .map(|(_, t3, c)| (t3, c));
        Ok(early.and_then(|f| self.complete(Some(f))))
    }

    /// A Pdelay_Resp_Follow_Up (two-step responders).
    pub fn follow_up(
        &mut self,
        header: &Header,
        body: &PdelayRespFollowUpMessage,
        own: PortIdentity,
    ) -> Result<Option<PdelaySample>, Discard> {
        let t3 = body
            .response_origin_timestamp
            .to_time()
            .ok_or(Discard::InvalidTimestamp)?;
        let o = self.matching(header, body.requesting_port_identity, own)?;
        let Some(r) = o.response else {
            // Overtook its Pdelay_Resp: keep it until the response arrives.
            if o.early_follow_up.is_some() {
                return Err(Discard::Duplicate);
            }
            o.early_follow_up = Some((header.source_port_identity, t3, header.correction_field));
            return Ok(None);
        };
        if !r.two_step || r.responder != header.source_port_identity {
            return Err(Discard::Unmatched);
        }
        Ok(self.complete(Some((t3, header.correction_field))))
    }

    fn complete(&mut self, follow_up: Option<(Time, TimeInterval)>) -> Option<PdelaySample> {
        let o = self.outstanding?;
        let (t1, r) = (o.t1?, o.response?);
        let (turnaround, t3) = match (r.two_step, r.t2, follow_up) {
            (false, _, _) => (Duration::from(r.correction), None),
            (true, Some(t2), Some((t3, c_fup))) => (
                (t3 - t2) + Duration::from(r.correction) + Duration::from(c_fup),
                Some(t3),
            ),
            // Two-step and the Follow_Up has not come yet.
            (true, _, _) => return None,
        };
        self.outstanding = None;
        Some(PdelaySample {
            sequence_id: o.sequence_id,
            responder: r.responder,
            round_trip: r.t4 - t1,
            turnaround,
            t4: r.t4,
            t3,
        })
    }
}

/// neighborRateRatio (clause 11.4.2 note, IEEE 802.1AS 10.2.5.7): the ratio
/// of the peer's clock frequency to ours, measured over consecutive
/// two-step exchanges as (t3_n - t3_0) / (t4_n - t4_0).
///
/// The estimate is taken over a span of `window` exchanges so timestamp
/// noise is divided by the span; it restarts when the responder changes.
#[derive(Clone, Debug)]
pub struct RateRatioEstimator {
    window: u16,
    first: Option<(PortIdentity, Time, Time, u16)>,
    ratio: Option<f64>,
}

impl RateRatioEstimator {
    /// An estimator that refreshes every `window` exchanges (at least 1).
    #[must_use]
    pub fn new(window: u16) -> Self {
        Self {
            window: window.max(1),
            first: None,
            ratio: None,
        }
    }

    /// Feed a completed exchange; returns the current estimate.
    pub fn update(&mut self, s: &PdelaySample) -> Option<f64> {
        let Some(t3) = s.t3 else {
            return self.ratio;
        };
        match self.first {
            Some((peer, t3_0, t4_0, n)) if peer == s.responder => {
                let n = n.saturating_add(1);
                if n >= self.window {
                    let local = (s.t4 - t4_0).nanos_f64();
                    let remote = (t3 - t3_0).nanos_f64();
                    if local > 0.0 && remote > 0.0 {
                        let r = remote / local;
                        // A ratio beyond ±1000 ppm is no real oscillator pair.
                        if (r - 1.0).abs() < 1e-3 {
                            self.ratio = Some(r);
                        }
                    }
                    self.first = Some((s.responder, t3, s.t4, 0));
                } else {
                    self.first = Some((peer, t3_0, t4_0, n));
                }
            }
            _ => {
                self.first = Some((s.responder, t3, s.t4, 0));
                self.ratio = None;
            }
        }
        self.ratio
    }

    /// The latest estimate, or 1.0 before there is one.
    #[must_use]
    pub fn ratio_or_one(&self) -> f64 {
        self.ratio.unwrap_or(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ClockIdentity, MessageType, Timestamp};

    const PEER: PortIdentity = PortIdentity {
        clock_identity: ClockIdentity([1; 8]),
        port_number: 2,
    };
    const ME: PortIdentity = PortIdentity {
        clock_identity: ClockIdentity([3; 8]),
        port_number: 1,
    };

    fn header(t: MessageType, seq: u16, two_step: bool, corr_ns: i64) -> Header {
        let mut h = Header::new(t);
        h.sequence_id = seq;
        h.source_port_identity = PEER;
        h.flags.set_two_step(two_step);
        h.correction_field = TimeInterval::from_nanos(corr_ns);
        h
    }

    fn ts(ns: u64) -> Timestamp {
        Timestamp::new(ns / 1_000_000_000, (ns % 1_000_000_000) as u32).unwrap()
    }

    fn t(ns: u64) -> Time {
        Time::from_nanos(ns)
    }

    #[test]
    fn two_step_exchange() {
        // Link delay 300 ns each way; the peer's clock is 5 us ahead.
        let (t1, t4) = (1_000_000u64, 1_000_000 + 300 + 2_000 + 300);
        let (t2, t3) = (1_000_300 + 5_000, 1_002_300 + 5_000);
        let mut r = PdelayRequester::new();
        assert!(!r.sent(9));
        assert_eq!(r.sent_at(9, t(t1)), Ok(None));
        let resp = PdelayRespMessage {
            request_receipt_timestamp: ts(t2),
            requesting_port_identity: ME,
        };
        assert_eq!(
            r.response(
                &header(MessageType::PdelayResp, 9, true, 0),
                &resp,
                t(t4),
                ME
            ),
            Ok(None)
        );
        let fup = PdelayRespFollowUpMessage {
            response_origin_timestamp: ts(t3),
            requesting_port_identity: ME,
        };
        let s = r
            .follow_up(
                &header(MessageType::PdelayRespFollowUp, 9, false, 0),
                &fup,
                ME,
            )
            .unwrap()
            .unwrap();
        assert_eq!(s.mean_link_delay(1.0), Duration::from_nanos(300));
        assert_eq!(s.responder, PEER);
    }

    #[test]
    fn follow_up_overtaking_the_response() {
        let mut r = PdelayRequester::new();
        r.sent(3);
        r.sent_at(3, t(1_000_000)).unwrap();
        let fup = PdelayRespFollowUpMessage {
            response_origin_timestamp: ts(1_002_300 + 5_000),
            requesting_port_identity: ME,
        };
        let hf = header(MessageType::PdelayRespFollowUp, 3, false, 0);
        assert_eq!(r.follow_up(&hf, &fup, ME), Ok(None));
        assert_eq!(r.follow_up(&hf, &fup, ME), Err(Discard::Duplicate));
        let resp = PdelayRespMessage {
            request_receipt_timestamp: ts(1_000_300 + 5_000),
            requesting_port_identity: ME,
        };
        let s = r
            .response(
                &header(MessageType::PdelayResp, 3, true, 0),
                &resp,
                t(1_002_600),
                ME,
            )
            .unwrap()
            .expect("completed by the early Follow_Up");
        assert_eq!(s.mean_link_delay(1.0), Duration::from_nanos(300));
    }

    #[test]
    fn one_step_exchange_uses_correction() {
        let mut r = PdelayRequester::new();
        r.sent(1);
        r.sent_at(1, t(10_000)).unwrap();
        let resp = PdelayRespMessage {
            request_receipt_timestamp: Timestamp::default(),
            requesting_port_identity: ME,
        };
        // Turnaround 4000 ns in the correction; round trip 4600 -> 300 each way.
        let s = r
            .response(
                &header(MessageType::PdelayResp, 1, false, 4000),
                &resp,
                t(14_600),
                ME,
            )
            .unwrap()
            .unwrap();
        assert_eq!(s.mean_link_delay(1.0), Duration::from_nanos(300));
    }

    #[test]
    fn rejects_foreign_and_stale() {
        let mut r = PdelayRequester::new();
        r.sent(5);
        let not_mine = PdelayRespMessage {
            request_receipt_timestamp: ts(1),
            requesting_port_identity: PEER,
        };
        let h = header(MessageType::PdelayResp, 5, true, 0);
        assert_eq!(r.response(&h, &not_mine, t(1), ME), Err(Discard::Unmatched));
        let mine = PdelayRespMessage {
            requesting_port_identity: ME,
            ..not_mine
        };
        let old = header(MessageType::PdelayResp, 4, true, 0);
        assert_eq!(r.response(&old, &mine, t(1), ME), Err(Discard::Stale));
        // A Follow_Up of an older sequenceId is stale.
        let fup = PdelayRespFollowUpMessage {
            response_origin_timestamp: ts(2),
            requesting_port_identity: ME,
        };
        assert_eq!(
            r.follow_up(
                &header(MessageType::PdelayRespFollowUp, 4, false, 0),
                &fup,
                ME
            ),
            Err(Discard::Stale)
        );
        assert_eq!(r.response(&h, &mine, t(1), ME), Ok(None));
        // A second responder on the same request.
        assert_eq!(r.response(&h, &mine, t(1), ME), Err(Discard::Duplicate));
        assert!(r.sent(6), "the unfinished exchange is reported abandoned");
    }

    #[test]
    fn rate_ratio() {
        // Peer runs 50 ppm fast: its t3 advances 1.00005 s per local second.
        let mut est = RateRatioEstimator::new(4);
        let mut last = None;
        for n in 0..9u64 {
            let t4 = 1_000_000_000 * (n + 1);
            let t3 = 500 + (t4 as f64 * 1.000_05) as u64;
            let s = PdelaySample {
                sequence_id: n as u16,
                responder: PEER,
                round_trip: Duration::from_nanos(600),
                turnaround: Duration::from_nanos(0),
                t4: t(t4),
                t3: Some(t(t3)),
            };
            last = est.update(&s);
        }
        let r = last.expect("estimate after a window");
        assert!((r - 1.000_05).abs() < 1e-9, "{r}");
        // With the ratio, a 1 ms round trip (peer-timed turnaround 0.99995 ms
        // scaled) gives the true delay.
        let s = PdelaySample {
            sequence_id: 0,
            responder: PEER,
            round_trip: Duration::from_nanos(1_000_600),
            turnaround: Duration::from_nanos_f64(1_000_000.0 * 1.000_05),
            t4: t(0),
            t3: None,
        };
        let d = s.mean_link_delay(r).nanos_f64();
        assert!((d - 300.0).abs() < 0.1, "{d}");
    }
}
