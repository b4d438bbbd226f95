//! The best master clock algorithm (IEEE 1588-2019 clause 9.3), as pure
//! functions: no I/O, no clock reads (every time comes in as `now`), no
//! allocation.
//!
//! The pieces, in the order a PTP Instance uses them:
//!
//! 1. Every port keeps a [`ForeignMasterTable`] (clause 9.3.2.4, 9.5.3) and
//!    feeds it each received Announce with
//!    [`ForeignMasterTable::handle_announce`]. The table drops Announces from
//!    this clock, with too many steps, or whose PATH_TRACE shows a loop
//!    (clause 16.2.3); it qualifies a foreign master after
//!    [`FOREIGN_MASTER_THRESHOLD`] Announces within
//!    [`FOREIGN_MASTER_TIME_WINDOW`] announce intervals (clause 9.3.2.5);
//!    it has a fixed capacity and a flood of new identities cannot push out
//!    a qualified master.
//! 2. At each state decision event (clause 9.2.6.8), every port computes
//!    its Erbest with [`ForeignMasterTable::erbest`]; [`ebest`] picks the
//!    best of them (clause 9.3.2.2), comparing with
//!    [`ComparisonDataset::compare`] (clause 9.3.4, figures 33 and 34).
//! 3. [`decide`] runs the state decision algorithm (clause 9.3.3, figure
//!    26) for every port and returns each port's [`RecommendedState`] and
//!    the [`DataSetUpdate`] of clause 9.3.5 for the instance's data sets.

mod compare;
mod decision;
mod foreign;

pub use compare::{ComparisonDataset, DatasetOrdering};
pub use decision::{
    DataSetUpdate, PortDecisionInput, RecommendedState, decide, ebest, state_decision,
};
pub use foreign::{
    AnnounceVerdict, FOREIGN_MASTER_THRESHOLD, FOREIGN_MASTER_TIME_WINDOW, ForeignMasterRecord,
    ForeignMasterTable,
};

use crate::datasets::{DatasetComparison, TimePropertiesDS};
use crate::wire::messages::AnnounceMessage;
use crate::wire::{FlagField, Header, PortIdentity};

/// A received Announce as the BMCA keeps it (clause 9.3.2.4): the body,
/// the header fields the comparison and the S1 update need, and the
/// identity of the port that received it. Erbest and Ebest are values of
/// this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ForeignAnnounce {
    /// The Announce body (clause 13.5).
    pub message: AnnounceMessage,
    /// The header's sourcePortIdentity: the foreign master's port.
    pub sender: PortIdentity,
    /// The portIdentity of the port that received it.
    pub receiver: PortIdentity,
    /// The header's flagField (time properties, clause 13.3.2.8).
    pub flags: FlagField,
    /// The header's sequenceId.
    pub sequence_id: u16,
    /// The header's logMessageInterval (the sender's logAnnounceInterval).
    pub log_message_interval: i8,
    /// The receiving port's localPriority (telecom profiles; 128 unused).
    pub local_priority: u8,
    /// The comparison the receiving instance runs.
    pub comparison: DatasetComparison,
}

impl ForeignAnnounce {
    /// The record of an Announce with `header` and `message`, received by
    /// the port `receiver`.
    #[must_use]
    pub const fn new(header: &Header, message: &AnnounceMessage, receiver: PortIdentity) -> Self {
        Self {
            message: *message,
            sender: header.source_port_identity,
            receiver,
            flags: header.flags,
            sequence_id: header.sequence_id,
            log_message_interval: header.log_message_interval,
            local_priority: 128,
            comparison: DatasetComparison::Ieee1588,
        }
    }

    /// Its data set for the comparison of clause 9.3.4.
    #[must_use]
    pub const fn dataset(&self) -> ComparisonDataset {
        ComparisonDataset::from_announce(&self.message, self.sender, self.receiver)
            .with_comparison(self.comparison, self.local_priority)
    }

    /// Compare with `other` (clause 9.3.4): "self is ... than other".
    #[must_use]
    pub fn compare(&self, other: &Self) -> DatasetOrdering {
        self.dataset().compare(&other.dataset())
    }

    /// The timePropertiesDS it announces (clause 9.3.5 table 33).
    #[must_use]
    pub fn time_properties(&self) -> TimePropertiesDS {
        TimePropertiesDS::from_announce(&self.message, self.flags)
    }
}
