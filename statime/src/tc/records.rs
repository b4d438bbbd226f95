//! What a transparent clock remembers about the event messages it forwarded
//! until their Follow_Up or Delay_Resp has gone out (IEEE 1588-2019 clause
//! 11.5.2): a fixed table, oldest evicted first.

use crate::time::{Duration, Instant, Time, TimeInterval};
use crate::wire::PortIdentity;

/// Records kept at once.
const RECORDS: usize = 16;

/// The longest Follow_Up or Delay_Resp (with its TLVs) held while a
/// residence time is awaited.
pub(super) const HELD_LEN: usize = 256;

/// Which event message a record is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Sync,
    DelayReq,
}

/// The forwarded copy on one egress port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Egress {
    /// Not sent there (the ingress port).
    NotSent,
    /// Sent; its transmit timestamp is due by then.
    Awaiting(Instant),
    /// The residence time by this port.
    Residence(Duration),
    /// Its Follow_Up or Delay_Resp went out.
    Done,
    /// Not sent (queue full) or its transmit timestamp never came.
    Lost,
}

/// A Follow_Up or Delay_Resp waiting for residence times: its octets and
/// the port it arrived on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Held {
    len: u16,
    port: u8,
    bytes: [u8; HELD_LEN],
}

impl Held {
    /// `None` when `data` is longer than [`HELD_LEN`].
    pub(super) fn from_bytes(data: &[u8], port: usize) -> Option<Self> {
        let mut bytes = [0u8; HELD_LEN];
        bytes.get_mut(..data.len())?.copy_from_slice(data);
        Some(Self {
            len: u16::try_from(data.len()).ok()?,
            port: u8::try_from(port).ok()?,
            bytes,
        })
    }

    pub(super) fn bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    pub(super) fn port(&self) -> usize {
        usize::from(self.port)
    }
}

/// One forwarded Sync or Delay_Req.
#[derive(Clone, Debug)]
pub(super) struct Record<const P: usize> {
    pub(super) kind: Kind,
    pub(super) generation: u16,
    pub(super) ingress: u8,
    pub(super) source: PortIdentity,
    pub(super) sequence_id: u16,
    /// The event message's own correctionField.
    pub(super) correction: TimeInterval,
    pub(super) ingress_time: Time,
    pub(super) at: Instant,
    /// P2P: the ingress link's delay (plus its asymmetry) when the Sync came.
    pub(super) link_delay: Duration,
    pub(super) egress: [Egress; P],
    pub(super) held: Option<Held>,
}

impl<const P: usize> Record<P> {
    /// Nothing is left to send or wait for.
    pub(super) fn finished(&self) -> bool {
        self.held.is_some()
            && self
                .egress
                .iter()
                .all(|e| matches!(e, Egress::NotSent | Egress::Done | Egress::Lost))
    }
}

/// The table of records.
#[derive(Clone, Debug)]
pub(super) struct RecordTable<const P: usize> {
    slots: [Option<Record<P>>; RECORDS],
    generation: u16,
}

impl<const P: usize> RecordTable<P> {
    pub(super) fn new() -> Self {
        Self {
            slots: [const { None }; RECORDS],
            generation: 0,
        }
    }

    pub(super) const fn len(&self) -> usize {
        RECORDS
    }

    /// Store `r` in a free slot, or in the oldest one (then `true`: a
    /// record was evicted). Returns the slot and the record's generation.
    pub(super) fn insert(&mut self, mut r: Record<P>) -> (usize, u16, bool) {
        self.generation = self.generation.wrapping_add(1);
        r.generation = self.generation;
        let free = self.slots.iter().position(Option::is_none);
        let (slot, evicted) = free.map_or_else(
            || {
                let oldest = self
                    .slots
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| s.as_ref().map(|s| (i, s.at)))
                    .min_by_key(|(_, at)| *at)
                    .map_or(0, |(i, _)| i);
                (oldest, true)
            },
            |i| (i, false),
        );
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some(r);
        }
        (slot, self.generation, evicted)
    }

    pub(super) fn find(&self, kind: Kind, source: PortIdentity, seq: u16) -> Option<&Record<P>> {
        self.slots
            .iter()
            .flatten()
            .find(|r| r.kind == kind && r.source == source && r.sequence_id == seq)
    }

    pub(super) fn position(&self, kind: Kind, source: PortIdentity, seq: u16) -> Option<usize> {
        self.slots.iter().position(|r| {
            r.as_ref()
                .is_some_and(|r| r.kind == kind && r.source == source && r.sequence_id == seq)
        })
    }

    pub(super) fn slot_mut(&mut self, slot: usize) -> Option<&mut Record<P>> {
        self.slots.get_mut(slot)?.as_mut()
    }

    /// The record in `slot` if it is still the one of `generation`.
    pub(super) fn get_mut(&mut self, slot: u8, generation: u16) -> Option<&mut Record<P>> {
        self.slot_mut(usize::from(slot))
            .filter(|r| r.generation == generation)
    }

    pub(super) fn free(&mut self, slot: usize) {
        if let Some(s) = self.slots.get_mut(slot) {
            *s = None;
        }
    }

    /// Give up transmit timestamps past their deadline and forget records
    /// older than `lifetime`. Returns (records forgotten before their
    /// Follow_Up/Delay_Resp went out, timestamps given up).
    pub(super) fn expire(&mut self, now: Instant, lifetime: Duration) -> (u64, u64) {
        let mut expired = 0;
        let mut unknown = 0;
        for s in &mut self.slots {
            let Some(r) = s else {
                continue;
            };
            for e in &mut r.egress {
                if let Egress::Awaiting(d) = *e
                    && d <= now
                {
                    *e = Egress::Lost;
                    unknown += 1;
                }
            }
            if now.saturating_since(r.at) >= lifetime {
                if !r.finished() {
                    expired += 1;
                }
                *s = None;
            }
        }
        (expired, unknown)
    }

    /// The earliest transmit-timestamp deadline or record expiry.
    pub(super) fn deadline(&self, lifetime: Duration) -> Option<Instant> {
        self.slots
            .iter()
            .flatten()
            .flat_map(|r| {
                r.egress
                    .iter()
                    .filter_map(|e| match e {
                        Egress::Awaiting(d) => Some(*d),
                        _ => None,
                    })
                    .chain(core::iter::once(r.at + lifetime))
            })
            .min()
    }
}
