//! The data set comparison algorithm (IEEE 1588-2019 clause 9.3.4,
//! figures 33 and 34).

use core::cmp::Ordering;

use crate::datasets::{DatasetComparison, DefaultDS};
use crate::wire::messages::AnnounceMessage;
use crate::wire::{ClockIdentity, ClockQuality, PortIdentity};

/// What the data set comparison of clause 9.3.4 looks at: the grandmaster
/// attributes, stepsRemoved, and the identities of the port that sent the
/// Announce and of the port that received it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ComparisonDataset {
    /// grandmasterPriority1.
    pub grandmaster_priority1: u8,
    /// grandmasterIdentity.
    pub grandmaster_identity: ClockIdentity,
    /// grandmasterClockQuality.
    pub grandmaster_clock_quality: ClockQuality,
    /// grandmasterPriority2.
    pub grandmaster_priority2: u8,
    /// stepsRemoved of the Announce (0 for D0).
    pub steps_removed: u16,
    /// Identity of the sender: the Announce's sourcePortIdentity, or
    /// `{clockIdentity, 0}` for D0.
    pub sender: PortIdentity,
    /// Identity of the receiver: the portIdentity of the port that received
    /// the Announce, or `{clockIdentity, 0}` for D0.
    pub receiver: PortIdentity,
    /// localPriority (telecom profiles): the receiving port's
    /// portDS.localPriority, or defaultDS.localPriority for D0 (128 when
    /// unused).
    pub local_priority: u8,
    /// Which comparison applies (the instance's).
    pub comparison: DatasetComparison,
}

/// The result of [`ComparisonDataset::compare`]`(a, b)`, read as "A is ...
/// than B" (clause 9.3.4, figures 33 and 34).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DatasetOrdering {
    /// A is better than B (a grandmaster attribute or a stepsRemoved
    /// difference decided).
    Better,
    /// A is better than B by topology only (same grandmaster; the path
    /// decided).
    BetterByTopology,
    /// B is better than A by topology only.
    WorseByTopology,
    /// B is better than A.
    Worse,
    /// "Error-1" of figure 34: the data set with more steps was received by
    /// the port that sent it (an Announce looped back to its sender).
    Error1,
    /// "Error-2" of figure 34: both data sets have the same sender and the
    /// same receiver port number (the same Announce compared with itself).
    Error2,
}

impl DatasetOrdering {
    /// The result with A and B swapped: `compare(b, a)` is always
    /// `compare(a, b).reverse()`.
    #[must_use]
    pub const fn reverse(self) -> Self {
        match self {
            Self::Better => Self::Worse,
            Self::BetterByTopology => Self::WorseByTopology,
            Self::WorseByTopology => Self::BetterByTopology,
            Self::Worse => Self::Better,
            Self::Error1 => Self::Error1,
            Self::Error2 => Self::Error2,
        }
    }

    /// Whether A is better, plainly or by topology.
    #[must_use]
    pub const fn is_better(self) -> bool {
        matches!(self, Self::Better | Self::BetterByTopology)
    }

    /// Whether B is better, plainly or by topology.
    #[must_use]
    pub const fn is_worse(self) -> bool {
        matches!(self, Self::Worse | Self::WorseByTopology)
    }

    /// Whether this is one of the error outcomes.
    #[must_use]
    pub const fn is_error(self) -> bool {
        matches!(self, Self::Error1 | Self::Error2)
    }

    /// As an [`Ordering`] where `Greater` means "A is better"; the error
    /// outcomes are `Equal`.
    #[must_use]
    pub const fn as_ordering(self) -> Ordering {
        match self {
            Self::Better | Self::BetterByTopology => Ordering::Greater,
            Self::Worse | Self::WorseByTopology => Ordering::Less,
            Self::Error1 | Self::Error2 => Ordering::Equal,
        }
    }
}

impl ComparisonDataset {
    /// The data set of a received Announce (clause 9.3.4): its body, its
    /// header's sourcePortIdentity (`sender`) and the portIdentity of the
    /// port that received it (`receiver`).
    #[must_use]
    pub const fn from_announce(
        announce: &AnnounceMessage,
        sender: PortIdentity,
        receiver: PortIdentity,
    ) -> Self {
        Self {
            grandmaster_priority1: announce.grandmaster_priority_1,
            grandmaster_identity: announce.grandmaster_identity,
            grandmaster_clock_quality: announce.grandmaster_clock_quality,
            grandmaster_priority2: announce.grandmaster_priority_2,
            steps_removed: announce.steps_removed,
            sender,
            receiver,
            local_priority: 128,
            comparison: DatasetComparison::Ieee1588,
        }
    }

    /// The same data set compared the telecom profiles' way with this
    /// localPriority.
    #[must_use]
    pub const fn with_comparison(
        mut self,
        comparison: DatasetComparison,
        local_priority: u8,
    ) -> Self {
        self.comparison = comparison;
        self.local_priority = local_priority;
        self
    }

    /// D0, the data set of this instance (clause 9.3.4 and 9.3.3): the
    /// attributes of defaultDS as grandmaster, stepsRemoved 0, and sender and
    /// receiver both `{clockIdentity, 0}`. A slave-only instance compares
    /// with clockClass 255 ([`DefaultDS::effective_clock_quality`]).
    #[must_use]
    pub fn from_default_ds(ds: &DefaultDS) -> Self {
        let own = PortIdentity {
            clock_identity: ds.clock_identity,
            port_number: 0,
        };
        Self {
            grandmaster_priority1: ds.priority1,
            grandmaster_identity: ds.clock_identity,
            grandmaster_clock_quality: ds.effective_clock_quality(),
            grandmaster_priority2: ds.priority2,
            steps_removed: 0,
            sender: own,
            receiver: own,
            local_priority: ds.local_priority,
            comparison: ds.dataset_comparison,
        }
    }

    /// Compare A (`self`) with B (clause 9.3.4).
    ///
    /// Different grandmasters (figure 33): the lower value wins, in this
    /// order: priority1, clockClass, clockAccuracy, offsetScaledLogVariance,
    /// priority2, grandmasterIdentity. The same grandmaster: see
    /// [`Self::compare_topology`].
    ///
    /// With [`DatasetComparison::Telecom`] (either side), the alternate
    /// comparison of [`Self::compare_telecom`] applies instead.
    #[must_use]
    pub fn compare(&self, b: &Self) -> DatasetOrdering {
        if self.comparison == DatasetComparison::Telecom
            || b.comparison == DatasetComparison::Telecom
        {
            return self.compare_telecom(b);
        }
        if self.grandmaster_identity == b.grandmaster_identity {
            return self.compare_topology(b);
        }
        let qa = &self.grandmaster_clock_quality;
        let qb = &b.grandmaster_clock_quality;
        let order = self
            .grandmaster_priority1
            .cmp(&b.grandmaster_priority1)
            .then(qa.clock_class.cmp(&qb.clock_class))
            .then(u8::from(qa.clock_accuracy).cmp(&u8::from(qb.clock_accuracy)))
            .then(
                qa.offset_scaled_log_variance
                    .cmp(&qb.offset_scaled_log_variance),
            )
            .then(self.grandmaster_priority2.cmp(&b.grandmaster_priority2))
            .then(self.grandmaster_identity.cmp(&b.grandmaster_identity));
        // The identities differ, so `order` is never Equal here.
        if order == Ordering::Less {
            DatasetOrdering::Better
        } else {
            DatasetOrdering::Worse
        }
    }

    /// The alternate data set comparison of the telecom profiles (ITU-T
    /// G.8275.1 clause 6.7.x, figure 3; G.8275.2 the same): the lower value
    /// wins, in this order: clockClass, clockAccuracy,
    /// offsetScaledLogVariance, priority2, localPriority. priority1 is not
    /// looked at. On a tie, a grandmaster-capable class (1 to 127) goes to
    /// the topology ([`Self::compare_topology`]); otherwise the lower
    /// grandmasterIdentity wins, and the same identity goes to the
    /// topology.
    #[must_use]
    pub fn compare_telecom(&self, b: &Self) -> DatasetOrdering {
        let qa = &self.grandmaster_clock_quality;
        let qb = &b.grandmaster_clock_quality;
        let order = qa
            .clock_class
            .cmp(&qb.clock_class)
            .then(u8::from(qa.clock_accuracy).cmp(&u8::from(qb.clock_accuracy)))
            .then(
                qa.offset_scaled_log_variance
                    .cmp(&qb.offset_scaled_log_variance),
            )
            .then(self.grandmaster_priority2.cmp(&b.grandmaster_priority2))
            .then(self.local_priority.cmp(&b.local_priority));
        match order {
            Ordering::Less => DatasetOrdering::Better,
            Ordering::Greater => DatasetOrdering::Worse,
            Ordering::Equal if qa.clock_class <= 127 => self.compare_topology(b),
            Ordering::Equal => match self.grandmaster_identity.cmp(&b.grandmaster_identity) {
                Ordering::Less => DatasetOrdering::Better,
                Ordering::Greater => DatasetOrdering::Worse,
                Ordering::Equal => self.compare_topology(b),
            },
        }
    }

    /// The comparison of two data sets with the same grandmaster (clause
    /// 9.3.4, figure 34).
    ///
    /// - stepsRemoved differ by more than 1: fewer steps is plainly better.
    /// - They differ by exactly 1: the data set with more steps is looked at.
    ///   If its receiver's portIdentity is lower than its sender's, the other
    ///   one is plainly better; if higher, better by topology; if equal,
    ///   error-1.
    /// - They are equal: the lower sender portIdentity is better by topology;
    ///   with the same sender, the lower receiver portNumber; with that equal
    ///   too, error-2.
    #[must_use]
    pub fn compare_topology(&self, b: &Self) -> DatasetOrdering {
        let sa = u32::from(self.steps_removed);
        let sb = u32::from(b.steps_removed);
        if sa + 1 < sb {
            return DatasetOrdering::Better;
        }
        if sb + 1 < sa {
            return DatasetOrdering::Worse;
        }
        match sa.cmp(&sb) {
            // A has one step more: look at A's receiver and sender.
            Ordering::Greater => match self.receiver.cmp(&self.sender) {
                Ordering::Less => DatasetOrdering::Worse,
                Ordering::Greater => DatasetOrdering::WorseByTopology,
                Ordering::Equal => DatasetOrdering::Error1,
            },
            // B has one step more: look at B's receiver and sender.
            Ordering::Less => match b.receiver.cmp(&b.sender) {
                Ordering::Less => DatasetOrdering::Better,
                Ordering::Greater => DatasetOrdering::BetterByTopology,
                Ordering::Equal => DatasetOrdering::Error1,
            },
            Ordering::Equal => match self
                .sender
                .cmp(&b.sender)
                .then(self.receiver.port_number.cmp(&b.receiver.port_number))
            {
                Ordering::Less => DatasetOrdering::BetterByTopology,
                Ordering::Greater => DatasetOrdering::WorseByTopology,
                Ordering::Equal => DatasetOrdering::Error2,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ClockAccuracy;

    fn pid(c: u8, port: u16) -> PortIdentity {
        PortIdentity {
            clock_identity: ClockIdentity([c; 8]),
            port_number: port,
        }
    }

    /// A data set of grandmaster 0x50.., sent by clock 0x20 port 1,
    /// received by clock 0x30 port 1, 1 step.
    fn base() -> ComparisonDataset {
        ComparisonDataset {
            grandmaster_priority1: 128,
            grandmaster_identity: ClockIdentity([0x50; 8]),
            grandmaster_clock_quality: ClockQuality {
                clock_class: 248,
                clock_accuracy: ClockAccuracy::Us1,
                offset_scaled_log_variance: 0x4000,
            },
            grandmaster_priority2: 128,
            steps_removed: 1,
            sender: pid(0x20, 1),
            receiver: pid(0x30, 1),
            local_priority: 128,
            comparison: DatasetComparison::Ieee1588,
        }
    }

    fn telecom(local_priority: u8) -> ComparisonDataset {
        base().with_comparison(DatasetComparison::Telecom, local_priority)
    }

    #[test]
    fn telecom_ignores_priority1() {
        let mut a = telecom(128);
        a.grandmaster_priority1 = 200;
        let mut b = other_gm(0x60).with_comparison(DatasetComparison::Telecom, 128);
        b.grandmaster_priority1 = 1;
        // IEEE 1588 would take B on priority1; the telecom comparison goes
        // on to the identity (class 248 is not grandmaster-capable).
        check(&a, &b, DatasetOrdering::Better);
        let (mut a2, mut b2) = (a, b);
        a2.comparison = DatasetComparison::Ieee1588;
        b2.comparison = DatasetComparison::Ieee1588;
        check(&a2, &b2, DatasetOrdering::Worse);
    }

    #[test]
    fn telecom_order_class_accuracy_variance_priority2_local_priority() {
        let a = telecom(128);
        let mut b = other_gm(0x60).with_comparison(DatasetComparison::Telecom, 128);
        b.grandmaster_clock_quality.clock_class = 6;
        check(&a, &b, DatasetOrdering::Worse);
        let mut b = other_gm(0x60).with_comparison(DatasetComparison::Telecom, 128);
        b.grandmaster_clock_quality.clock_accuracy = ClockAccuracy::Ns100;
        check(&a, &b, DatasetOrdering::Worse);
        let mut b = other_gm(0x60).with_comparison(DatasetComparison::Telecom, 128);
        b.grandmaster_clock_quality.offset_scaled_log_variance = 0x1000;
        check(&a, &b, DatasetOrdering::Worse);
        let mut b = other_gm(0x60).with_comparison(DatasetComparison::Telecom, 128);
        b.grandmaster_priority2 = 10;
        check(&a, &b, DatasetOrdering::Worse);
        // localPriority after priority2, before the identity.
        let b = other_gm(0x60).with_comparison(DatasetComparison::Telecom, 50);
        check(&a, &b, DatasetOrdering::Worse);
        let b = other_gm(0x60).with_comparison(DatasetComparison::Telecom, 200);
        check(&a, &b, DatasetOrdering::Better);
    }

    #[test]
    fn telecom_grandmaster_capable_class_goes_to_topology() {
        let mut a = telecom(128);
        a.grandmaster_clock_quality.clock_class = 6;
        let mut b = other_gm(0x10).with_comparison(DatasetComparison::Telecom, 128);
        b.grandmaster_clock_quality.clock_class = 6;
        b.steps_removed = 3;
        // Equal attributes, class 6: fewer steps wins, not the lower
        // identity (B's 0x10.. is lower).
        check(&a, &b, DatasetOrdering::Better);
    }

    /// Check `compare(a, b) == expected` and the reverse.
    #[track_caller]
    fn check(a: &ComparisonDataset, b: &ComparisonDataset, expected: DatasetOrdering) {
        assert_eq!(a.compare(b), expected, "compare(a, b)");
        assert_eq!(b.compare(a), expected.reverse(), "compare(b, a)");
    }

    /// A second grandmaster, otherwise identical to `base`.
    fn other_gm(id: u8) -> ComparisonDataset {
        ComparisonDataset {
            grandmaster_identity: ClockIdentity([id; 8]),
            ..base()
        }
    }

    #[test]
    fn priority1_decides_first() {
        let mut a = other_gm(0x60);
        a.grandmaster_priority1 = 127;
        // Every later field favours B.
        a.grandmaster_clock_quality.clock_class = 255;
        a.grandmaster_priority2 = 255;
        check(&a, &base(), DatasetOrdering::Better);
        a.grandmaster_priority1 = 129;
        a.grandmaster_clock_quality.clock_class = 0;
        check(&a, &base(), DatasetOrdering::Worse);
    }

    #[test]
    fn clock_class_decides() {
        let mut a = other_gm(0x60);
        a.grandmaster_clock_quality.clock_class = 6;
        a.grandmaster_clock_quality.clock_accuracy = ClockAccuracy::UnknownAccuracy;
        check(&a, &base(), DatasetOrdering::Better);
        a.grandmaster_clock_quality.clock_class = 249;
        a.grandmaster_clock_quality.clock_accuracy = ClockAccuracy::Ps1;
        check(&a, &base(), DatasetOrdering::Worse);
    }

    #[test]
    fn clock_accuracy_decides() {
        let mut a = other_gm(0x60);
        a.grandmaster_clock_quality.clock_accuracy = ClockAccuracy::Ns100;
        a.grandmaster_clock_quality.offset_scaled_log_variance = 0xFFFF;
        check(&a, &base(), DatasetOrdering::Better);
        a.grandmaster_clock_quality.clock_accuracy = ClockAccuracy::Unknown(0x80);
        a.grandmaster_clock_quality.offset_scaled_log_variance = 0;
        check(&a, &base(), DatasetOrdering::Worse);
    }

    #[test]
    fn variance_decides() {
        let mut a = other_gm(0x60);
        a.grandmaster_clock_quality.offset_scaled_log_variance = 0x3FFF;
        a.grandmaster_priority2 = 255;
        check(&a, &base(), DatasetOrdering::Better);
        a.grandmaster_clock_quality.offset_scaled_log_variance = 0x4001;
        a.grandmaster_priority2 = 0;
        check(&a, &base(), DatasetOrdering::Worse);
    }

    #[test]
    fn priority2_decides() {
        let mut a = other_gm(0x60);
        a.grandmaster_priority2 = 127;
        check(&a, &base(), DatasetOrdering::Better);
        a.grandmaster_priority2 = 129;
        check(&a, &base(), DatasetOrdering::Worse);
    }

    #[test]
    fn identity_decides_last() {
        // Everything equal but the grandmaster identity; steps, senders and
        // receivers that would favour the other side are ignored.
        let mut a = other_gm(0x40);
        a.steps_removed = 9;
        a.sender = pid(0xFF, 9);
        check(&a, &base(), DatasetOrdering::Better);
        let mut a = other_gm(0x60);
        a.steps_removed = 0;
        a.sender = pid(0x00, 0);
        check(&a, &base(), DatasetOrdering::Worse);
    }

    #[test]
    fn same_gm_steps_differ_by_more_than_one() {
        // Grandmaster attributes differ but are ignored for the same identity.
        let mut a = base();
        a.grandmaster_priority1 = 255;
        a.steps_removed = 3;
        let mut b = base();
        b.steps_removed = 1;
        check(&a, &b, DatasetOrdering::Worse);
        check(&b, &a, DatasetOrdering::Better);
        // Near the top of the range, no overflow.
        a.steps_removed = u16::MAX;
        b.steps_removed = u16::MAX - 2;
        check(&a, &b, DatasetOrdering::Worse);
    }

    #[test]
    fn same_gm_one_more_step_receiver_below_sender() {
        // A has one step more and its receiver < its sender: B plainly better.
        let mut a = base();
        a.steps_removed = 2;
        a.receiver = pid(0x10, 1);
        a.sender = pid(0x20, 1);
        check(&a, &base(), DatasetOrdering::Worse);
        // Mirror: B has one step more.
        check(&base(), &a, DatasetOrdering::Better);
    }

    #[test]
    fn same_gm_one_more_step_receiver_above_sender() {
        let mut a = base();
        a.steps_removed = 2;
        a.receiver = pid(0x30, 1);
        a.sender = pid(0x20, 1);
        check(&a, &base(), DatasetOrdering::WorseByTopology);
        check(&base(), &a, DatasetOrdering::BetterByTopology);
        // Same clock, only the port numbers differ.
        a.receiver = pid(0x20, 2);
        check(&a, &base(), DatasetOrdering::WorseByTopology);
        a.receiver = pid(0x20, 0);
        check(&a, &base(), DatasetOrdering::Worse);
    }

    #[test]
    fn same_gm_one_more_step_error1() {
        let mut a = base();
        a.steps_removed = 2;
        a.receiver = a.sender;
        check(&a, &base(), DatasetOrdering::Error1);
        check(&base(), &a, DatasetOrdering::Error1);
        // The data set with fewer steps does not matter for error-1.
        let mut b = base();
        b.receiver = b.sender;
        a.receiver = pid(0x30, 1);
        check(&a, &b, DatasetOrdering::WorseByTopology);
    }

    #[test]
    fn same_gm_equal_steps_sender_decides() {
        let mut a = base();
        a.sender = pid(0x10, 5);
        // A receiver port number that would favour B is ignored.
        a.receiver = pid(0x30, 9);
        check(&a, &base(), DatasetOrdering::BetterByTopology);
        a.sender = pid(0x20, 2);
        check(&a, &base(), DatasetOrdering::WorseByTopology);
        a.sender = pid(0x20, 0);
        check(&a, &base(), DatasetOrdering::BetterByTopology);
    }

    #[test]
    fn same_gm_equal_steps_receiver_port_decides() {
        let mut a = base();
        a.receiver = pid(0x30, 2);
        check(&a, &base(), DatasetOrdering::WorseByTopology);
        a.receiver = pid(0x30, 0);
        check(&a, &base(), DatasetOrdering::BetterByTopology);
        // Only the port number counts, not the receiver clock identity.
        a.receiver = pid(0x00, 1);
        check(&a, &base(), DatasetOrdering::Error2);
    }

    #[test]
    fn same_gm_error2() {
        check(&base(), &base(), DatasetOrdering::Error2);
    }

    #[test]
    fn d0_from_default_ds() {
        let mut ds = DefaultDS::new(ClockIdentity([0x70; 8]), 1);
        ds.priority1 = 100;
        ds.priority2 = 101;
        let d0 = ComparisonDataset::from_default_ds(&ds);
        assert_eq!(d0.steps_removed, 0);
        assert_eq!(d0.sender, pid(0x70, 0));
        assert_eq!(d0.receiver, pid(0x70, 0));
        assert_eq!(d0.grandmaster_priority1, 100);
        assert_eq!(d0.grandmaster_priority2, 101);
        assert_eq!(d0.grandmaster_identity, ClockIdentity([0x70; 8]));
        ds.slave_only = true;
        let d0 = ComparisonDataset::from_default_ds(&ds);
        assert_eq!(d0.grandmaster_clock_quality.clock_class, 255);
        // D0 against our own grandmaster coming back one step away: D0 wins.
        let mut e = base();
        e.grandmaster_identity = ds.clock_identity;
        e.receiver = pid(0x70, 1);
        e.sender = pid(0x71, 1);
        check(&d0, &e, DatasetOrdering::Better);
        e.sender = pid(0x69, 1);
        check(&d0, &e, DatasetOrdering::BetterByTopology);
    }

    #[test]
    fn from_announce() {
        let msg = AnnounceMessage {
            grandmaster_priority_1: 1,
            grandmaster_priority_2: 2,
            grandmaster_identity: ClockIdentity([3; 8]),
            steps_removed: 4,
            ..AnnounceMessage::default()
        };
        let d = ComparisonDataset::from_announce(&msg, pid(5, 5), pid(6, 6));
        assert_eq!(d.grandmaster_priority1, 1);
        assert_eq!(d.grandmaster_priority2, 2);
        assert_eq!(d.grandmaster_identity, ClockIdentity([3; 8]));
        assert_eq!(d.steps_removed, 4);
        assert_eq!(d.sender, pid(5, 5));
        assert_eq!(d.receiver, pid(6, 6));
    }

    #[test]
    fn ordering_helpers() {
        use DatasetOrdering::*;
        for o in [
            Better,
            BetterByTopology,
            WorseByTopology,
            Worse,
            Error1,
            Error2,
        ] {
            assert_eq!(o.reverse().reverse(), o);
            assert_eq!(o.as_ordering(), o.reverse().as_ordering().reverse());
            assert_eq!(
                u8::from(o.is_better()) + u8::from(o.is_worse()) + u8::from(o.is_error()),
                1
            );
        }
        assert_eq!(Better.as_ordering(), Ordering::Greater);
        assert_eq!(WorseByTopology.as_ordering(), Ordering::Less);
        assert_eq!(Error1.as_ordering(), Ordering::Equal);
    }
}
