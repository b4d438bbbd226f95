//! Matching transmit timestamps from the error queue to the messages they
//! belong to.
//!
//! With `SOF_TIMESTAMPING_OPT_ID` the kernel numbers every datagram sent on
//! a timestamping socket (0, 1, 2, ... from when the option was set) and
//! returns that number in `sock_extended_err.ee_data` beside the timestamp.
//! [`super::PortSockets::send`] reports the number of each send; the daemon
//! records it here with the message's [`TxContext`] and resolves the
//! timestamps [`super::PortSockets::recv_tx_timestamp`] returns.

use std::collections::VecDeque;

use statime::port::TxContext;

use super::{KernelTimestamp, TxTimestamp};

/// A bounded table of sent event messages waiting for their transmit
/// timestamps, keyed by the kernel's OPT_ID counter.
///
/// Generic over the context so tests and other users can attach their own;
/// the daemon uses [`TxContext`].
#[derive(Clone, Debug)]
pub struct TxTracker<C = TxContext> {
    pending: VecDeque<(u32, C)>,
    capacity: usize,
}

impl<C: Copy> TxTracker<C> {
    /// Room for `capacity` outstanding timestamps (at least 1). When full,
    /// recording evicts the oldest entry, whose timestamp is presumably
    /// lost (the port's transmit-timestamp timeout handles that).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            pending: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Remember that the datagram numbered `id` carried `context`. An
    /// older entry with the same id (left over from before a counter
    /// reset) is replaced. Returns the context evicted to make room, if any.
    pub fn record(&mut self, id: u32, context: C) -> Option<C> {
        // Ids grow by one per datagram: only an id at or below the newest
        // (the counter was reset, or wrapped) can repeat one kept. Checking
        // that first keeps recording O(1) with thousands outstanding.
        if self.pending.back().is_some_and(|(last, _)| id <= *last) {
            self.pending.retain(|(i, _)| *i != id);
        }
        let evicted = if self.pending.len() >= self.capacity {
            self.pending.pop_front().map(|(_, c)| c)
        } else {
            None
        };
        self.pending.push_back((id, context));
        evicted
    }

    /// The context of a transmit timestamp, removing its entry. A
    /// timestamp without an id (a kernel or simulator that ignores
    /// OPT_ID) resolves to the oldest entry. `None` for a timestamp that
    /// nobody waits for (e.g. of a general message on an Ethernet port).
    pub fn resolve(&mut self, ts: &TxTimestamp) -> Option<(C, KernelTimestamp)> {
        // From the newest: a stamp belongs to a recent datagram, while the
        // oldest entries may be stamps the kernel dropped (a full error
        // queue) that only eviction removes.
        let index = match ts.id {
            Some(id) => self.pending.iter().rposition(|(i, _)| *i == id)?,
            None => 0,
        };
        self.pending.remove(index).map(|(_, c)| (c, ts.timestamp))
    }

    /// Forget the entry of `id` (e.g. when the port gave up waiting).
    pub fn forget(&mut self, id: u32) -> Option<C> {
        let index = self.pending.iter().position(|(i, _)| *i == id)?;
        self.pending.remove(index).map(|(_, c)| c)
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Outstanding entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// No entries are outstanding.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

impl<C: Copy> Default for TxTracker<C> {
    /// Room for 32 outstanding timestamps: far more than one port has in
    /// flight (a Sync, a Delay_Req or Pdelay_Req and a Pdelay_Resp).
    fn default() -> Self {
        Self::new(32)
    }
}

#[cfg(test)]
mod tests {
    use statime::port::TxKind;
    use statime::time::Time;

    use super::super::TimestampSource;
    use super::*;

    fn ts(id: Option<u32>, ns: u64) -> TxTimestamp {
        TxTimestamp {
            id,
            timestamp: KernelTimestamp {
                time: Time::from_nanos(ns),
                source: TimestampSource::Software,
            },
        }
    }

    fn ctx(seq: u16) -> TxContext {
        TxContext {
            kind: TxKind::Sync,
            sequence_id: seq,
        }
    }

    #[test]
    fn resolves_by_id_out_of_order() {
        let mut t = TxTracker::new(4);
        t.record(0, ctx(10));
        t.record(1, ctx(11));
        let (c, k) = t.resolve(&ts(Some(1), 5)).unwrap();
        assert_eq!(c, ctx(11));
        assert_eq!(k.time, Time::from_nanos(5));
        assert_eq!(t.resolve(&ts(Some(0), 6)).unwrap().0, ctx(10));
        assert!(t.resolve(&ts(Some(0), 6)).is_none());
        assert!(t.is_empty());
    }

    #[test]
    fn unknown_ids_are_ignored_and_table_is_bounded() {
        let mut t = TxTracker::new(2);
        assert!(t.record(0, ctx(0)).is_none());
        assert!(t.record(1, ctx(1)).is_none());
        assert_eq!(t.record(2, ctx(2)), Some(ctx(0)));
        assert_eq!(t.len(), 2);
        assert!(t.resolve(&ts(Some(7), 1)).is_none());
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn a_server_with_lost_stamps_evicts_them_and_still_resolves_new_ones() {
        // A unicast server: thousands of Syncs outstanding, every tenth
        // stamp dropped by the kernel. The lost ones are evicted as the
        // table fills; every delivered one resolves to its own datagram.
        let mut t: TxTracker<u32> = TxTracker::new(4096);
        let mut evicted = 0;
        for id in 0..20_000u32 {
            if t.record(id, id).is_some() {
                evicted += 1;
            }
            if id % 10 != 0 {
                let got = t.resolve(&ts(Some(id), u64::from(id)));
                assert_eq!(got.map(|(c, _)| c), Some(id));
            }
        }
        assert_eq!(t.len(), 2_000, "only the 2,000 lost stamps wait");
        assert_eq!(evicted, 0, "2,000 lost ones fit in 4,096");
        // A counter reset reuses ids: the old entry is replaced.
        assert!(t.record(10, 99).is_none());
        assert_eq!(t.resolve(&ts(Some(10), 0)).map(|(c, _)| c), Some(99));
    }

    #[test]
    fn missing_id_takes_oldest_and_reused_id_replaces() {
        let mut t = TxTracker::new(8);
        t.record(5, ctx(1));
        t.record(6, ctx(2));
        t.record(5, ctx(3));
        assert_eq!(t.len(), 2);
        assert_eq!(t.resolve(&ts(None, 1)).unwrap().0, ctx(2));
        assert_eq!(t.forget(5), Some(ctx(3)));
        assert!(t.resolve(&ts(None, 1)).is_none());
        t.record(1, ctx(9));
        t.clear();
        assert!(t.is_empty());
        assert_eq!(TxTracker::<TxContext>::default().capacity, 32);
    }
}
