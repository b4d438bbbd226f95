//! Foreign master records and Announce qualification (IEEE 1588-2019
//! clause 9.3.2.4, 9.3.2.5, 9.5.3 and the path trace check of 16.2.3).

use arrayvec::ArrayVec;

use super::ForeignAnnounce;
use crate::datasets::{DatasetComparison, log_interval_duration};
use crate::time::{Duration, Time};
use crate::wire::messages::AnnounceMessage;
use crate::wire::tlv::PathTraceTlv;
use crate::wire::{Header, PortIdentity};

/// FOREIGN_MASTER_THRESHOLD (clause 9.3.2.4.6): Announces from one foreign
/// master needed within the time window before it is qualified.
pub const FOREIGN_MASTER_THRESHOLD: usize = 2;

/// FOREIGN_MASTER_TIME_WINDOW (clause 9.3.2.4.6), in announce intervals of
/// the receiving port.
pub const FOREIGN_MASTER_TIME_WINDOW: i64 = 4;

/// What [`ForeignMasterTable::handle_announce`] did with an Announce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnnounceVerdict {
    /// Recorded. `qualified` tells whether its sender is now qualified;
    /// `evicted` names the (unqualified) foreign master whose record made
    /// room for a new one.
    Accepted {
        /// Whether the sender is qualified after this Announce.
        qualified: bool,
        /// The record evicted to make room, if any.
        evicted: Option<PortIdentity>,
    },
    /// The same sequenceId as the sender's last Announce: a duplicate,
    /// which must not count twice towards qualification.
    Duplicate,
    /// Sent by this clock (sourcePortIdentity.clockIdentity is ours,
    /// clause 9.3.2.5 a).
    OwnClock,
    /// stepsRemoved is maxStepsRemoved (255 by default) or more (clause
    /// 9.3.2.5 d). Ignored; the sender's record, if any, is kept (it ages
    /// out if the sender really changed).
    StepsRemovedTooLarge,
    /// The PATH_TRACE TLV contains this clock's identity: the Announce went
    /// round a loop (clause 16.2.3). Ignored; the sender's record is kept.
    PathTraceLoop,
    /// A known sender announced different grandmaster or time properties:
    /// held until its very next Announce (sequenceId one more) repeats them
    /// with nothing contrary in between (one stray or forged Announce, or a
    /// flood of them interleaved with the sender's own, cannot change what
    /// this sender stands for).
    Unconfirmed,
    /// A copy of another sender's latest Announce (the same non-zero
    /// originTimestamp, sequenceId and contents under another
    /// sourcePortIdentity): a forgery or a reflection, never a second
    /// master.
    Copy,
    /// A new foreign master, but every record is qualified or protected;
    /// the Announce was dropped.
    TableFull,
}

impl AnnounceVerdict {
    /// Whether the Announce was recorded.
    #[must_use]
    pub const fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted { .. })
    }
}

/// One foreign master record (clause 9.3.2.4.2): the most recent Announce
/// of one sender and when the latest [`FOREIGN_MASTER_THRESHOLD`] of its
/// Announces arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ForeignMasterRecord {
    announce: ForeignAnnounce,
    /// Receipt times, newest first; `None` where fewer arrived.
    receipts: [Option<Time>; FOREIGN_MASTER_THRESHOLD],
    /// Changed contents waiting for a second Announce that repeats them.
    pending: Option<ForeignAnnounce>,
}

/// Whether two Announces of one sender say the same about the grandmaster
/// and the time properties (everything but timestamps and sequence).
fn same_contents(a: &ForeignAnnounce, b: &ForeignAnnounce) -> bool {
    let strip = |f: &ForeignAnnounce| {
        let mut m = f.message;
        m.origin_timestamp = crate::wire::Timestamp::default();
        (m, f.flags, f.log_message_interval)
    };
    strip(a) == strip(b)
}

impl ForeignMasterRecord {
    /// The most recent Announce of this foreign master.
    #[must_use]
    pub const fn announce(&self) -> &ForeignAnnounce {
        &self.announce
    }

    /// foreignMasterPortIdentity.
    #[must_use]
    pub const fn sender(&self) -> PortIdentity {
        self.announce.sender
    }

    /// When its most recent Announce arrived.
    #[must_use]
    pub const fn last_receipt(&self) -> Time {
        match self.receipts[0] {
            Some(t) => t,
            None => Time::EPOCH,
        }
    }

    /// Announces of the record received within `window` before `now`
    /// (foreignMasterAnnounceMessages of clause 9.3.2.4.2, counted up to
    /// the threshold). A receipt time after `now` counts as current.
    #[must_use]
    pub fn announces_within(&self, now: Time, window: Duration) -> usize {
        self.receipts
            .iter()
            .flatten()
            .filter(|&&t| now - t <= window)
            .count()
    }

    /// Whether the record is qualified at `now` (clause 9.3.2.5 c):
    /// [`FOREIGN_MASTER_THRESHOLD`] Announces within `window`.
    #[must_use]
    pub fn is_qualified(&self, now: Time, window: Duration) -> bool {
        self.announces_within(now, window) >= FOREIGN_MASTER_THRESHOLD
    }

    fn record(&mut self, now: Time) {
        self.receipts.rotate_right(1);
        self.receipts[0] = Some(now);
    }
}

/// The foreign master records of one port (clause 9.3.2.4, 9.5.3), at most
/// `N` of them.
///
/// # Capacity and eviction
///
/// The table never grows beyond `N` records. When an Announce arrives from
/// a new sender and the table is full:
///
/// 1. records with no Announce in the time window are removed;
/// 2. if it is still full, the victim is the record that is **not
///    qualified** and **not protected** ([`Self::protect`]) whose last
///    Announce is the oldest (ties: the worse data set);
/// 3. if there is no such record (every record is qualified or protected)
///    the new Announce is dropped ([`AnnounceVerdict::TableFull`]).
///
/// So a flood of Announces from fresh identities (each new sender starts
/// unqualified) can only displace other unqualified records: a qualified
/// master, and above all the selected one, keeps its record for as long as
/// it keeps announcing. The oldest-first choice among unqualified records
/// also lets a slow flood (fewer than `N` new identities per announce
/// interval) coexist with a new real master qualifying.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignMasterTable<const N: usize> {
    receiver: PortIdentity,
    log_announce_interval: i8,
    max_steps_removed: u16,
    protected: Option<PortIdentity>,
    records: ArrayVec<ForeignMasterRecord, N>,
    comparison: DatasetComparison,
    local_priority: u8,
}

impl<const N: usize> ForeignMasterTable<N> {
    /// An empty table for the port `receiver` (its portIdentity), whose
    /// portDS.logAnnounceInterval is `log_announce_interval`; the time
    /// window is [`FOREIGN_MASTER_TIME_WINDOW`] of its announce intervals.
    /// maxStepsRemoved is 255 until [`Self::with_max_steps_removed`].
    #[must_use]
    pub const fn new(receiver: PortIdentity, log_announce_interval: i8) -> Self {
        Self {
            receiver,
            log_announce_interval,
            max_steps_removed: 255,
            protected: None,
            records: ArrayVec::new_const(),
            comparison: DatasetComparison::Ieee1588,
            local_priority: 128,
        }
    }

    /// The instance's data set comparison and this port's localPriority
    /// (telecom profiles): every record, old and new, compares with them.
    pub fn set_comparison(&mut self, comparison: DatasetComparison, local_priority: u8) {
        self.comparison = comparison;
        self.local_priority = local_priority;
        for r in &mut self.records {
            r.announce.comparison = comparison;
            r.announce.local_priority = local_priority;
        }
    }

    /// Use defaultDS.maxStepsRemoved (clause 8.2.1.5.4): Announces with
    /// this many steps or more are dropped.
    #[must_use]
    pub const fn with_max_steps_removed(mut self, max_steps_removed: u8) -> Self {
        self.max_steps_removed = max_steps_removed as u16;
        self
    }

    /// Change the port's logAnnounceInterval (and so the time window).
    pub const fn set_log_announce_interval(&mut self, log_announce_interval: i8) {
        self.log_announce_interval = log_announce_interval;
    }

    /// The portIdentity of the port the table belongs to.
    #[must_use]
    pub const fn receiver(&self) -> PortIdentity {
        self.receiver
    }

    /// FOREIGN_MASTER_TIME_WINDOW as a duration: 4 announce intervals of
    /// the receiving port (clause 9.3.2.4.6).
    #[must_use]
    pub fn time_window(&self) -> Duration {
        log_interval_duration(self.log_announce_interval) * FOREIGN_MASTER_TIME_WINDOW
    }

    /// Protect the record of `sender` (the current parent) from eviction,
    /// even while it is not qualified; `None` protects nothing. Its record
    /// still ages out ([`Self::expire`]).
    pub const fn protect(&mut self, sender: Option<PortIdentity>) {
        self.protected = sender;
    }

    /// The protected sender, if any.
    #[must_use]
    pub const fn protected(&self) -> Option<PortIdentity> {
        self.protected
    }

    /// Take in an Announce received at `now` (clause 9.3.2.5, 9.5.3), with
    /// the PATH_TRACE TLV it carried if the path trace option is on
    /// (clause 16.2).
    ///
    /// Checks, in order: sent by this clock; path trace loop; stepsRemoved
    /// of maxStepsRemoved or more; duplicate sequenceId. Otherwise the
    /// sender's record is created or refreshed (see the type's
    /// documentation for what happens when the table is full).
    pub fn handle_announce(
        &mut self,
        header: &Header,
        message: &AnnounceMessage,
        path_trace: Option<&PathTraceTlv<'_>>,
        now: Time,
    ) -> AnnounceVerdict {
        let mut announce = ForeignAnnounce::new(header, message, self.receiver);
        announce.comparison = self.comparison;
        announce.local_priority = self.local_priority;
        let own = self.receiver.clock_identity;
        if announce.sender.clock_identity == own {
            return AnnounceVerdict::OwnClock;
        }
        // Such Announces are not qualified (clause 9.3.2.5, 16.2.3), but a
        // single one (perhaps forged) must not drop the sender's record: if
        // the sender really changed, its record ages out of the window.
        if path_trace.is_some_and(|p| p.contains(&own)) {
            return AnnounceVerdict::PathTraceLoop;
        }
        if message.steps_removed >= self.max_steps_removed {
            return AnnounceVerdict::StepsRemovedTooLarge;
        }
        let window = self.time_window();
        if let Some(rec) = self
            .records
            .iter_mut()
            .find(|r| r.sender() == announce.sender)
        {
            // Only the last sequenceId counts as a duplicate: a forged copy
            // with a jumped sequenceId must not make the sender's own later
            // Announces look old (that would starve its record).
            if announce.sequence_id == rec.announce.sequence_id {
                return AnnounceVerdict::Duplicate;
            }
            if !same_contents(&rec.announce, &announce) {
                let confirmed = rec.pending.is_some_and(|p| {
                    same_contents(&p, &announce)
                        && announce.sequence_id == p.sequence_id.wrapping_add(1)
                });
                if !confirmed {
                    rec.pending = Some(announce);
                    return AnnounceVerdict::Unconfirmed;
                }
            }
            rec.pending = None;
            rec.announce = announce;
            rec.record(now);
            return AnnounceVerdict::Accepted {
                qualified: rec.is_qualified(now, window),
                evicted: None,
            };
        }
        if announce.message.origin_timestamp != crate::wire::Timestamp::default()
            && self.records.iter().any(|r| {
                r.announce.sequence_id == announce.sequence_id
                    && r.announce.message.origin_timestamp == announce.message.origin_timestamp
                    && same_contents(&r.announce, &announce)
            })
        {
            return AnnounceVerdict::Copy;
        }
        let mut evicted = None;
        if self.records.is_full() {
            self.expire(now);
        }
        if self.records.is_full() {
            let Some(victim) = self.victim(now) else {
                return AnnounceVerdict::TableFull;
            };
            evicted = Some(self.records.swap_remove(victim).sender());
        }
        let mut rec = ForeignMasterRecord {
            announce,
            receipts: [None; FOREIGN_MASTER_THRESHOLD],
            pending: None,
        };
        rec.record(now);
        let qualified = rec.is_qualified(now, window);
        if self.records.try_push(rec).is_err() {
            // Only when N is 0.
            return AnnounceVerdict::TableFull;
        }
        AnnounceVerdict::Accepted { qualified, evicted }
    }

    /// The record to evict for a newcomer: unqualified, unprotected, oldest
    /// last Announce, then the worse data set.
    fn victim(&self, now: Time) -> Option<usize> {
        let window = self.time_window();
        let mut best: Option<(usize, &ForeignMasterRecord)> = None;
        for (i, rec) in self.records.iter().enumerate() {
            if rec.is_qualified(now, window) || Some(rec.sender()) == self.protected {
                continue;
            }
            let replace = match best {
                None => true,
                Some((_, cur)) => match rec.last_receipt().cmp(&cur.last_receipt()) {
                    core::cmp::Ordering::Less => true,
                    core::cmp::Ordering::Greater => false,
                    core::cmp::Ordering::Equal => rec.announce.compare(&cur.announce).is_worse(),
                },
            };
            if replace {
                best = Some((i, rec));
            }
        }
        best.map(|(i, _)| i)
    }

    /// Remove the records with no Announce within the time window before
    /// `now` (clause 9.3.2.4.2: records are kept for the window only), and
    /// return how many were removed.
    pub fn expire(&mut self, now: Time) -> usize {
        let window = self.time_window();
        let before = self.records.len();
        self.records.retain(|r| r.announces_within(now, window) > 0);
        before - self.records.len()
    }

    /// Erbest (clause 9.3.2.3): the best Announce of a qualified foreign
    /// master at `now`, compared with [`ForeignAnnounce::compare`]; `None`
    /// when no foreign master is qualified.
    #[must_use]
    pub fn erbest(&self, now: Time) -> Option<ForeignAnnounce> {
        let window = self.time_window();
        let mut best: Option<&ForeignAnnounce> = None;
        for rec in self.records.iter().filter(|r| r.is_qualified(now, window)) {
            if best.is_none_or(|b| rec.announce.compare(b).is_better()) {
                best = Some(&rec.announce);
            }
        }
        best.copied()
    }

    /// Whether `sender` is a qualified foreign master at `now`.
    #[must_use]
    pub fn is_qualified(&self, sender: PortIdentity, now: Time) -> bool {
        let window = self.time_window();
        self.get(sender)
            .is_some_and(|r| r.is_qualified(now, window))
    }

    /// The record of `sender`, if any.
    #[must_use]
    pub fn get(&self, sender: PortIdentity) -> Option<&ForeignMasterRecord> {
        self.records.iter().find(|r| r.sender() == sender)
    }

    /// Remove the record of `sender`; whether there was one.
    pub fn remove(&mut self, sender: PortIdentity) -> bool {
        match self.records.iter().position(|r| r.sender() == sender) {
            Some(i) => {
                self.records.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Remove every record (when the port leaves the states that listen to
    /// Announces, e.g. DISABLED or FAULTY).
    pub fn clear(&mut self) {
        self.records.clear();
    }

    /// The records, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &ForeignMasterRecord> {
        self.records.iter()
    }

    /// Number of records.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there is no record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The capacity, `N`.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        N
    }
}

#[cfg(test)]
#[path = "foreign_tests.rs"]
mod tests;
