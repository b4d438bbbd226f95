//! The slave side of the delay request-response mechanism (IEEE 1588-2019
//! clause 11.3): pairing Sync with Follow_Up, Delay_Req with Delay_Resp,
//! and computing mean path delay and offset from the four timestamps.
//!
//! Everything is expressed as two differences, each with its corrections
//! and the delayAsymmetry (clause 11.6) already applied:
//!
//! - `ms` = t2 - t1 - corrections(Sync, Follow_Up) - asymmetry, the
//!   master-to-slave difference;
//! - `sm` = t4 - t3 - correction(Delay_Resp), the slave-to-master
//!   difference. The asymmetry is already in it: the Delay_Req leaves with
//!   -delayAsymmetry in its correctionField (clause 11.6.3) and the master
//!   copies that into the Delay_Resp (clause 11.3.2).
//!
//! Then meanPathDelay = (ms + sm) / 2 and offsetFromMaster = ms -
//! meanPathDelay (clause 11.3.2). Keeping the differences as [`Duration`]s
//! means a timestamp near the epoch or a large correction cannot underflow
//! anything.

use super::sequence::is_newer;
use crate::time::{Duration, Time, TimeInterval};
use crate::wire::messages::{DelayRespMessage, FollowUpMessage, SyncMessage};
use crate::wire::{Header, PortIdentity};

/// One master-to-slave measurement: a Sync (one-step) or a Sync and its
/// Follow_Up (two-step), reduced to `ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncSample {
    /// sequenceId of the Sync.
    pub sequence_id: u16,
    /// t2: when the Sync was received, by the local clock.
    pub t2: Time,
    /// t2 - t1 - corrections - asymmetry.
    pub ms: Duration,
}

/// Why a message was not used. Counted by the port; never an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Discard {
    /// A Follow_Up, Delay_Resp or Sync older than one already used or waited for.
    Stale,
    /// The same sequenceId as the last one used.
    Duplicate,
    /// A Follow_Up or Delay_Resp with no matching request or Sync.
    Unmatched,
    /// A timestamp with nanoseconds of 1e9 or more (clause 5.3.3).
    InvalidTimestamp,
    /// A second, different message for a sequence already waiting (two
    /// Syncs, two Follow_Ups or two Delay_Resps with one sequenceId): one of
    /// them is forged or corrupted and nothing says which, so the whole
    /// sequence is dropped rather than measured.
    Conflict,
}

#[derive(Clone, Copy, Debug)]
struct PendingSync {
    sequence_id: u16,
    source: PortIdentity,
    t2: Time,
    correction: TimeInterval,
}

#[derive(Clone, Copy, Debug)]
struct EarlyFollowUp {
    sequence_id: u16,
    source: PortIdentity,
    t1: Time,
    correction: TimeInterval,
}

/// Pairs Sync and Follow_Up from the parent (clause 9.5.10, 11.3).
///
/// Handles both arrival orders (a Follow_Up overtaking its Sync is kept
/// until the Sync arrives), drops stale and duplicate messages, and never
/// pairs messages from different senders.
#[derive(Clone, Debug, Default)]
pub struct SyncTracker {
    pending: Option<PendingSync>,
    early: Option<EarlyFollowUp>,
    /// The sequenceIds of the latest samples (a ring): a message for one
    /// of them is a duplicate. Deliberately not a "newer than" window: one
    /// forged message with a sequenceId far ahead must not make the master's
    /// own next messages look old.
    used: [Option<u16>; USED_RING],
    next_used: usize,
}

/// How many recent sequenceIds [`SyncTracker`] remembers.
const USED_RING: usize = 8;

impl SyncTracker {
    /// A tracker with nothing pending.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            pending: None,
            early: None,
            used: [None; USED_RING],
            next_used: 0,
        }
    }

    /// Forget everything (on a change of parent or a port reset).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    fn check_fresh(&self, sequence_id: u16) -> Result<(), Discard> {
        if self.used.contains(&Some(sequence_id)) {
            Err(Discard::Duplicate)
        } else {
            Ok(())
        }
    }

    fn mark_used(&mut self, sequence_id: u16) {
        if let Some(slot) = self.used.get_mut(self.next_used % USED_RING) {
            *slot = Some(sequence_id);
        }
        self.next_used = (self.next_used + 1) % USED_RING;
    }

    /// A Sync from the parent received at `t2`, with `asymmetry` the port's
    /// delayAsymmetry. Returns a sample at once for a one-step Sync, or for
    /// a two-step Sync whose Follow_Up came first.
    pub fn sync(
        &mut self,
        header: &Header,
        body: &SyncMessage,
        t2: Time,
        asymmetry: Duration,
    ) -> Result<Option<SyncSample>, Discard> {
        let seq = header.sequence_id;
        self.check_fresh(seq)?;
        let source = header.source_port_identity;
        if !header.flags.two_step() {
            let t1 = body
                .origin_timestamp
                .to_time()
                .ok_or(Discard::InvalidTimestamp)?;
            self.pending = None;
            return Ok(Some(self.finish(
                seq,
                t1,
                t2,
                header.correction_field,
                asymmetry,
            )));
        }
        if let Some(p) = self.pending
            && p.sequence_id == seq
            && p.source == source
        {
            // Two Syncs with one sequenceId: their receive times differ,
            // and which is the master's cannot be told.
            self.pending = None;
            self.mark_used(seq);
            return Err(Discard::Conflict);
        }
        if let Some(early) = self.early
            && early.sequence_id == seq
            && early.source == source
        {
            self.early = None;
            let corr = header.correction_field + early.correction;
            return Ok(Some(self.finish(seq, early.t1, t2, corr, asymmetry)));
        }
        self.pending = Some(PendingSync {
            sequence_id: seq,
            source,
            t2,
            correction: header.correction_field,
        });
        Ok(None)
    }

    /// A Follow_Up from the parent. Returns the sample if it completes the
    /// pending Sync.
    pub fn follow_up(
        &mut self,
        header: &Header,
        body: &FollowUpMessage,
        asymmetry: Duration,
    ) -> Result<Option<SyncSample>, Discard> {
        let seq = header.sequence_id;
        self.check_fresh(seq)?;
        let t1 = body
            .precise_origin_timestamp
            .to_time()
            .ok_or(Discard::InvalidTimestamp)?;
        let source = header.source_port_identity;
        match self.pending {
            Some(p) if p.sequence_id == seq && p.source == source => {
                self.pending = None;
                let corr = p.correction + header.correction_field;
                Ok(Some(self.finish(seq, t1, p.t2, corr, asymmetry)))
            }
            Some(p) if p.source == source && is_newer(p.sequence_id, seq) => Err(Discard::Stale),
            _ if self
                .early
                .is_some_and(|e| e.sequence_id == seq && e.source == source) =>
            {
                if self
                    .early
                    .is_some_and(|e| e.t1 == t1 && e.correction == header.correction_field)
                {
                    return Err(Discard::Duplicate);
                }
                // Two different Follow_Ups for a Sync not yet here.
                self.early = None;
                self.mark_used(seq);
                Err(Discard::Conflict)
            }
            _ => {
                // The Sync may still be on its way (or was lost): keep the
                // Follow_Up until a Sync with this sequenceId arrives.
                self.early = Some(EarlyFollowUp {
                    sequence_id: seq,
                    source,
                    t1,
                    correction: header.correction_field,
                });
                Ok(None)
            }
        }
    }

    fn finish(
        &mut self,
        sequence_id: u16,
        t1: Time,
        t2: Time,
        correction: TimeInterval,
        asymmetry: Duration,
    ) -> SyncSample {
        self.mark_used(sequence_id);
        SyncSample {
            sequence_id,
            t2,
            ms: (t2 - t1) - Duration::from(correction) - asymmetry,
        }
    }
}

/// One slave-to-master measurement: a Delay_Req and its Delay_Resp,
/// reduced to `sm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DelaySample {
    /// sequenceId of the Delay_Req.
    pub sequence_id: u16,
    /// t4 - t3 - correction(Delay_Resp).
    pub sm: Duration,
    /// t3: when the Delay_Req left, by the local clock.
    pub t3: Time,
}

#[derive(Clone, Copy, Debug)]
struct Outstanding {
    sequence_id: u16,
    t3: Option<Time>,
    response: Option<(Time, TimeInterval)>,
}

/// Tracks the outstanding Delay_Req and matches its Delay_Resp (clause
/// 11.3.2, 9.5.11): the response must name our port identity and carry the
/// request's sequenceId, and come from the parent (checked by the caller).
/// The TX timestamp and the response may arrive in either order.
#[derive(Clone, Debug, Default)]
pub struct DelayTracker {
    outstanding: Option<Outstanding>,
}

impl DelayTracker {
    /// A tracker with no request outstanding.
    #[must_use]
    pub const fn new() -> Self {
        Self { outstanding: None }
    }

    /// Forget the outstanding request.
    pub fn reset(&mut self) {
        self.outstanding = None;
    }

    /// A Delay_Req with this sequenceId was handed to the network. A
    /// previous unanswered request is abandoned.
    pub fn sent(&mut self, sequence_id: u16) {
        self.outstanding = Some(Outstanding {
            sequence_id,
            t3: None,
            response: None,
        });
    }

    /// The TX timestamp t3 of the Delay_Req with this sequenceId.
    pub fn sent_at(&mut self, sequence_id: u16, t3: Time) -> Result<Option<DelaySample>, Discard> {
        let o = self.outstanding.as_mut().ok_or(Discard::Unmatched)?;
        if o.sequence_id != sequence_id {
            return Err(Discard::Unmatched);
        }
        o.t3 = Some(t3);
        Ok(self.complete())
    }

    /// A Delay_Resp from the parent; `own` is this port's identity.
    pub fn response(
        &mut self,
        header: &Header,
        body: &DelayRespMessage,
        own: PortIdentity,
    ) -> Result<Option<DelaySample>, Discard> {
        if body.requesting_port_identity != own {
            return Err(Discard::Unmatched);
        }
        let o = self.outstanding.as_mut().ok_or(Discard::Unmatched)?;
        let seq = header.sequence_id;
        if seq != o.sequence_id {
            return Err(if is_newer(o.sequence_id, seq) {
                Discard::Stale
            } else {
                Discard::Unmatched
            });
        }
        let t4 = body
            .receive_timestamp
            .to_time()
            .ok_or(Discard::InvalidTimestamp)?;
        if let Some(first) = o.response {
            if first == (t4, header.correction_field) {
                return Err(Discard::Duplicate);
            }
            // Two different answers to one request: drop the exchange.
            self.outstanding = None;
            return Err(Discard::Conflict);
        }
        o.response = Some((t4, header.correction_field));
        Ok(self.complete())
    }

    fn complete(&mut self) -> Option<DelaySample> {
        let o = self.outstanding?;
        let (t3, (t4, corr)) = (o.t3?, o.response?);
        self.outstanding = None;
        Some(DelaySample {
            sequence_id: o.sequence_id,
            sm: (t4 - t3) - Duration::from(corr),
            t3,
        })
    }
}

/// meanPathDelay = (ms + sm) / 2 (clause 11.3.2).
#[must_use]
pub fn mean_path_delay(ms: Duration, sm: Duration) -> Duration {
    (ms + sm).half()
}

/// offsetFromMaster = ms - meanPathDelay (clause 11.3.2): positive when
/// the local clock is ahead of the master.
#[must_use]
pub fn offset_from_master(ms: Duration, mean_path_delay: Duration) -> Duration {
    ms - mean_path_delay
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ClockIdentity, MessageType, Timestamp};

    const MASTER: PortIdentity = PortIdentity {
        clock_identity: ClockIdentity([1; 8]),
        port_number: 1,
    };
    const OTHER: PortIdentity = PortIdentity {
        clock_identity: ClockIdentity([2; 8]),
        port_number: 1,
    };
    const ME: PortIdentity = PortIdentity {
        clock_identity: ClockIdentity([3; 8]),
        port_number: 1,
    };

    fn header(t: MessageType, seq: u16, src: PortIdentity, two_step: bool, corr_ns: i64) -> Header {
        let mut h = Header::new(t);
        h.sequence_id = seq;
        h.source_port_identity = src;
        h.flags.set_two_step(two_step);
        h.correction_field = TimeInterval::from_nanos(corr_ns);
        h
    }

    fn ts(s: u64, ns: u32) -> Timestamp {
        Timestamp::new(s, ns).unwrap()
    }

    fn t(s: u64, ns: u32) -> Time {
        Time::from_secs_nanos(s, ns)
    }

    const NO_ASYM: Duration = Duration::ZERO;

    #[test]
    fn one_step_sync() {
        let mut st = SyncTracker::new();
        let h = header(MessageType::Sync, 1, MASTER, false, 30);
        let body = SyncMessage {
            origin_timestamp: ts(100, 0),
        };
        let s = st.sync(&h, &body, t(100, 1000), NO_ASYM).unwrap().unwrap();
        assert_eq!(s.ms, Duration::from_nanos(970));
        assert_eq!(s.sequence_id, 1);
        assert_eq!(
            st.sync(&h, &body, t(100, 1000), NO_ASYM),
            Err(Discard::Duplicate)
        );
    }

    #[test]
    fn two_step_in_order_and_reversed() {
        let mut st = SyncTracker::new();
        let sync = SyncMessage::default();
        let fup = FollowUpMessage {
            precise_origin_timestamp: ts(50, 500),
        };
        let h = header(MessageType::Sync, 7, MASTER, true, 10);
        assert_eq!(st.sync(&h, &sync, t(50, 2000), NO_ASYM), Ok(None));
        let hf = header(MessageType::FollowUp, 7, MASTER, false, 5);
        let s = st.follow_up(&hf, &fup, NO_ASYM).unwrap().unwrap();
        assert_eq!(s.ms, Duration::from_nanos(2000 - 500 - 15));

        // Follow_Up overtakes its Sync.
        let hf = header(MessageType::FollowUp, 8, MASTER, false, 0);
        assert_eq!(st.follow_up(&hf, &fup, NO_ASYM), Ok(None));
        let h = header(MessageType::Sync, 8, MASTER, true, 0);
        let s = st.sync(&h, &sync, t(50, 900), NO_ASYM).unwrap().unwrap();
        assert_eq!(s.ms, Duration::from_nanos(400));
    }

    #[test]
    fn mismatches_are_discarded() {
        let mut st = SyncTracker::new();
        let sync = SyncMessage::default();
        let fup = FollowUpMessage {
            precise_origin_timestamp: ts(50, 0),
        };
        st.sync(
            &header(MessageType::Sync, 10, MASTER, true, 0),
            &sync,
            t(50, 100),
            NO_ASYM,
        )
        .unwrap();
        // A Follow_Up from another sender never completes our Sync.
        let other = header(MessageType::FollowUp, 10, OTHER, false, 0);
        assert_eq!(st.follow_up(&other, &fup, NO_ASYM), Ok(None));
        // A stale Follow_Up of the same sender.
        let stale = header(MessageType::FollowUp, 9, MASTER, false, 0);
        assert_eq!(st.follow_up(&stale, &fup, NO_ASYM), Err(Discard::Stale));
        // The right one completes it.
        let ok = header(MessageType::FollowUp, 10, MASTER, false, 0);
        assert!(st.follow_up(&ok, &fup, NO_ASYM).unwrap().is_some());
        // A repeat of a sequence just used is a duplicate.
        assert_eq!(st.follow_up(&ok, &fup, NO_ASYM), Err(Discard::Duplicate));
        // An older Sync merely waits for its Follow_Up (a replayed pair
        // gives a sample that is wrong by the replay delay, which the
        // servo's outlier gate sees): staleness is no longer judged by a
        // "newer than the last" window, which one forged sequenceId far
        // ahead would turn against every later real message.
        let old_sync = header(MessageType::Sync, 3, MASTER, true, 0);
        assert_eq!(st.sync(&old_sync, &sync, t(51, 0), NO_ASYM), Ok(None));
        let far = header(MessageType::Sync, 10 + 16_384, MASTER, true, 0);
        let far_fup = header(MessageType::FollowUp, 10 + 16_384, MASTER, false, 0);
        assert_eq!(st.sync(&far, &sync, t(51, 0), NO_ASYM), Ok(None));
        assert!(st.follow_up(&far_fup, &fup, NO_ASYM).unwrap().is_some());
        let next = header(MessageType::Sync, 12, MASTER, true, 0);
        let next_fup = header(MessageType::FollowUp, 12, MASTER, false, 0);
        assert_eq!(st.sync(&next, &sync, t(52, 0), NO_ASYM), Ok(None));
        assert!(
            st.follow_up(&next_fup, &fup, NO_ASYM).unwrap().is_some(),
            "the master's next sequence still measures"
        );
        // Invalid nanoseconds are refused, not turned into time.
        let bad = FollowUpMessage {
            precise_origin_timestamp: Timestamp::from_bytes(&[
                0, 0, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF,
            ]),
        };
        let h = header(MessageType::FollowUp, 11, MASTER, false, 0);
        assert_eq!(
            st.follow_up(&h, &bad, NO_ASYM),
            Err(Discard::InvalidTimestamp)
        );
    }

    #[test]
    fn delay_request_response() {
        let mut dt = DelayTracker::new();
        dt.sent(4);
        assert_eq!(dt.sent_at(4, t(10, 0)), Ok(None));
        let resp = DelayRespMessage {
            receive_timestamp: ts(10, 700),
            requesting_port_identity: ME,
        };
        let wrong_port = DelayRespMessage {
            requesting_port_identity: OTHER,
            ..resp
        };
        let h = header(MessageType::DelayResp, 4, MASTER, false, 20);
        assert_eq!(dt.response(&h, &wrong_port, ME), Err(Discard::Unmatched));
        let old = header(MessageType::DelayResp, 3, MASTER, false, 0);
        assert_eq!(dt.response(&old, &resp, ME), Err(Discard::Stale));
        let s = dt.response(&h, &resp, ME).unwrap().unwrap();
        assert_eq!(s.sm, Duration::from_nanos(680));
        assert_eq!(dt.response(&h, &resp, ME), Err(Discard::Unmatched));

        // Response before the TX timestamp.
        dt.sent(5);
        let h = header(MessageType::DelayResp, 5, MASTER, false, 0);
        assert_eq!(dt.response(&h, &resp, ME), Ok(None));
        assert_eq!(dt.response(&h, &resp, ME), Err(Discard::Duplicate));
        let s = dt.sent_at(5, t(10, 100)).unwrap().unwrap();
        assert_eq!(s.sm, Duration::from_nanos(600));
        assert_eq!(dt.sent_at(6, t(10, 0)), Err(Discard::Unmatched));
    }

    /// The four timestamps of clause 11.3 with a known offset, delay and
    /// asymmetry give back exactly that offset and delay.
    #[test]
    fn offset_and_delay_with_asymmetry() {
        // Slave clock = master + 1000 ns. Master-to-slave 600 ns, slave-to-master
        // 400 ns: mean 500, asymmetry +100 (clause 11.6: t_ms = mean + asym).
        let offset = 1000i64;
        let (d_ms, d_sm) = (600i64, 400i64);
        let asym = Duration::from_nanos(100);
        let t1 = 1_000_000i64;
        let t2 = t1 + d_ms + offset;
        let t3 = t2 + 50_000;
        let t4 = t3 - offset + d_sm;
        let ms = Duration::from_nanos(t2 - t1) - asym;
        // The Delay_Req carried -asym; the Delay_Resp returns it.
        let sm = Duration::from_nanos(t4 - t3) + asym;
        let mpd = mean_path_delay(ms, sm);
        assert_eq!(mpd, Duration::from_nanos(500));
        assert_eq!(offset_from_master(ms, mpd), Duration::from_nanos(offset));

        // The same through the trackers, with corrections (e.g. a transparent
        // clock's residence time of 30 ns on Sync and 20 ns on the request).
        let mut st = SyncTracker::new();
        let h = header(MessageType::Sync, 1, MASTER, false, 30);
        let body = SyncMessage {
            origin_timestamp: ts(0, t1 as u32),
        };
        let s = st
            .sync(&h, &body, t(0, (t2 + 30) as u32), asym)
            .unwrap()
            .unwrap();
        let mut dt = DelayTracker::new();
        dt.sent(1);
        dt.sent_at(1, t(0, t3 as u32)).unwrap();
        let resp = DelayRespMessage {
            receive_timestamp: ts(0, (t4 + 20) as u32),
            requesting_port_identity: ME,
        };
        // Correction: the request's -100 ns returned, plus 20 ns residence.
        let h = header(MessageType::DelayResp, 1, MASTER, false, 20 - 100);
        let d = dt.response(&h, &resp, ME).unwrap().unwrap();
        let mpd = mean_path_delay(s.ms, d.sm);
        assert_eq!(mpd, Duration::from_nanos(500));
        assert_eq!(offset_from_master(s.ms, mpd), Duration::from_nanos(offset));
    }

    #[test]
    fn conflicting_copies_drop_the_sequence() {
        let sync = SyncMessage::default();
        let fup = FollowUpMessage {
            precise_origin_timestamp: ts(50, 0),
        };
        // A second Sync with the pending sequenceId (a forged copy arriving
        // later): no sample for that sequence, not even with the real
        // Follow_Up.
        let mut st = SyncTracker::new();
        let h = header(MessageType::Sync, 20, MASTER, true, 0);
        assert_eq!(st.sync(&h, &sync, t(50, 1000), NO_ASYM), Ok(None));
        assert_eq!(
            st.sync(&h, &sync, t(50, 90_000), NO_ASYM),
            Err(Discard::Conflict)
        );
        let hf = header(MessageType::FollowUp, 20, MASTER, false, 0);
        assert!(st.follow_up(&hf, &fup, NO_ASYM).is_err());
        // The next sequence measures normally.
        let h = header(MessageType::Sync, 21, MASTER, true, 0);
        assert_eq!(st.sync(&h, &sync, t(51, 1000), NO_ASYM), Ok(None));
        let hf = header(MessageType::FollowUp, 21, MASTER, false, 0);
        let fup21 = FollowUpMessage {
            precise_origin_timestamp: ts(51, 0),
        };
        assert!(st.follow_up(&hf, &fup21, NO_ASYM).unwrap().is_some());

        // Two different early Follow_Ups: dropped; an identical copy is a
        // mere duplicate.
        let mut st = SyncTracker::new();
        let hf = header(MessageType::FollowUp, 30, MASTER, false, 0);
        assert_eq!(st.follow_up(&hf, &fup, NO_ASYM), Ok(None));
        assert_eq!(st.follow_up(&hf, &fup, NO_ASYM), Err(Discard::Duplicate));
        let forged = FollowUpMessage {
            precise_origin_timestamp: ts(49, 999_000_000),
        };
        assert_eq!(st.follow_up(&hf, &forged, NO_ASYM), Err(Discard::Conflict));
        let h = header(MessageType::Sync, 30, MASTER, true, 0);
        assert!(st.sync(&h, &sync, t(50, 1000), NO_ASYM).is_err());

        // Two different Delay_Resps to one Delay_Req: no sample.
        let mut dt = DelayTracker::new();
        dt.sent(5);
        let hr = header(MessageType::DelayResp, 5, MASTER, false, 0);
        let resp = |s, ns| DelayRespMessage {
            receive_timestamp: ts(s, ns),
            requesting_port_identity: ME,
        };
        assert_eq!(dt.response(&hr, &resp(60, 500), ME), Ok(None));
        assert_eq!(
            dt.response(&hr, &resp(60, 500), ME),
            Err(Discard::Duplicate)
        );
        assert_eq!(dt.response(&hr, &resp(61, 500), ME), Err(Discard::Conflict));
        assert_eq!(dt.sent_at(5, t(60, 100)), Err(Discard::Unmatched));
    }
}
