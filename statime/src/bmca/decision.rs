//! Ebest and the state decision algorithm (IEEE 1588-2019 clause 9.3.2.2
//! and 9.3.3, figure 26), with slave-only (clause 9.2.2.1) and master-only
//! (clause 9.2.2.2) ports, and the data set updates of clause 9.3.5.

use super::{ComparisonDataset, DatasetOrdering, ForeignAnnounce};
use crate::datasets::{DefaultDS, InstanceDataSets, PortDS, TimePropertiesDS};
use crate::wire::tlv::PortState;

/// What the state decision needs to know about one port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortDecisionInput {
    /// portDS.portState.
    pub state: PortState,
    /// The port's Erbest ([`super::ForeignMasterTable::erbest`]).
    pub erbest: Option<ForeignAnnounce>,
    /// portDS.masterOnly (clause 9.2.2.2).
    pub master_only: bool,
}

impl PortDecisionInput {
    /// The input of a port in `state` whose Erbest is `erbest`.
    #[must_use]
    pub const fn new(state: PortState, erbest: Option<ForeignAnnounce>) -> Self {
        Self {
            state,
            erbest,
            master_only: false,
        }
    }

    /// The input of the port described by `ds` whose Erbest is `erbest`.
    #[must_use]
    pub const fn from_port_ds(ds: &PortDS, erbest: Option<ForeignAnnounce>) -> Self {
        Self {
            state: ds.port_state,
            erbest,
            master_only: ds.master_only,
        }
    }

    /// Whether the state decision applies to the port: not in
    /// INITIALIZING, FAULTY or DISABLED (clause 9.2.6.8), nor in a state
    /// this implementation does not know.
    #[must_use]
    pub const fn takes_part(&self) -> bool {
        !matches!(
            self.state,
            PortState::Initializing
                | PortState::Faulty
                | PortState::Disabled
                | PortState::Unknown(_)
        )
    }

    /// The Erbest the decision uses: none for a port that does not take
    /// part, and none for a master-only port, whose Announces are left out
    /// of Ebest and of its own decision (clause 9.2.2.2).
    #[must_use]
    pub fn effective_erbest(&self) -> Option<&ForeignAnnounce> {
        if self.takes_part() && !self.master_only {
            self.erbest.as_ref()
        } else {
            None
        }
    }
}

/// The state decision code of a port (clause 9.3.3, figure 26).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RecommendedState {
    /// M1: MASTER; this clock (clockClass 1 to 127) beats the port's Erbest.
    M1,
    /// M2: MASTER; this clock beats Ebest and is the grandmaster.
    M2,
    /// M3: MASTER; Ebest is elsewhere and this port's path is not merely
    /// a topological alternative to it.
    M3,
    /// P1: PASSIVE; this clock (clockClass 1 to 127) is beaten by the
    /// port's Erbest.
    P1,
    /// P2: PASSIVE; Ebest beats this port's Erbest by topology only
    /// (a redundant path to the same grandmaster).
    P2,
    /// S1: SLAVE of Ebest, which this port received.
    S1(ForeignAnnounce),
    /// LISTENING: no Erbest while LISTENING (figure 26), or a master or
    /// passive code suppressed because the clock is slave-only (clause
    /// 9.2.2.1).
    Listening,
}

impl RecommendedState {
    /// The port state the code leads to (MASTER is reached through
    /// PRE_MASTER, SLAVE through UNCALIBRATED, by the port state machine
    /// of clause 9.2.5).
    #[must_use]
    pub const fn port_state(&self) -> PortState {
        match self {
            Self::M1 | Self::M2 | Self::M3 => PortState::Master,
            Self::P1 | Self::P2 => PortState::Passive,
            Self::S1(_) => PortState::Slave,
            Self::Listening => PortState::Listening,
        }
    }

    /// The update of the instance's data sets that goes with this code
    /// (clause 9.3.5, tables 30 to 33).
    #[must_use]
    pub const fn data_set_update(&self) -> DataSetUpdate {
        match self {
            Self::M1 | Self::M2 => DataSetUpdate::Grandmaster,
            Self::S1(ebest) => DataSetUpdate::Slave(*ebest),
            Self::M3 | Self::P1 | Self::P2 | Self::Listening => DataSetUpdate::Unchanged,
        }
    }
}

/// The update of the instance data sets a state decision calls for
/// (clause 9.3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DataSetUpdate {
    /// M3, P1, P2 (tables 31 and 32), or no decision: nothing changes.
    Unchanged,
    /// M1 or M2 (table 30): this instance is the grandmaster.
    Grandmaster,
    /// S1 (table 33): the sender of this Ebest is the parent.
    Slave(ForeignAnnounce),
}

impl DataSetUpdate {
    /// Apply the update to `ds`; `local` is the time properties of the
    /// local time source, used when this instance becomes grandmaster.
    pub fn apply(&self, ds: &mut InstanceDataSets, local: &TimePropertiesDS) {
        match self {
            Self::Unchanged => {}
            Self::Grandmaster => ds.apply_grandmaster_update(local),
            Self::Slave(e) => ds.apply_slave_update(&e.message, e.sender, e.time_properties()),
        }
    }
}

/// Ebest (clause 9.3.2.2): the best of the Erbests of the ports that take
/// part in the decision (master-only ports excluded), compared with
/// [`ComparisonDataset::compare`]. On a tie (an error outcome, which
/// distinct ports cannot produce) the first port wins.
#[must_use]
pub fn ebest(ports: &[PortDecisionInput]) -> Option<ForeignAnnounce> {
    let mut best: Option<&ForeignAnnounce> = None;
    for e in ports.iter().filter_map(PortDecisionInput::effective_erbest) {
        if best.is_none_or(|b| e.compare(b).is_better()) {
            best = Some(e);
        }
    }
    best.copied()
}

/// Whether D0 is better (plainly or by topology) than `e`; an absent `e`
/// is beaten by anything. A slave-only D0 beats nothing that exists: it
/// can never be a grandmaster, whatever its priority1 says.
fn d0_beats(d0: &ComparisonDataset, slave_only: bool, e: Option<&ForeignAnnounce>) -> bool {
    match e {
        None => true,
        Some(_) if slave_only => false,
        Some(e) => d0.compare(&e.dataset()).is_better(),
    }
}

/// Figure 26 without the slave-only rule.
fn decision_code(
    default_ds: &DefaultDS,
    ebest: Option<&ForeignAnnounce>,
    port: &PortDecisionInput,
) -> Option<RecommendedState> {
    if !port.takes_part() {
        return None;
    }
    let erbest = port.effective_erbest();
    if erbest.is_none() && port.state == PortState::Listening {
        return Some(RecommendedState::Listening);
    }
    let d0 = ComparisonDataset::from_default_ds(default_ds);
    let class = d0.grandmaster_clock_quality.clock_class;
    Some(if (1..=127).contains(&class) {
        if d0_beats(&d0, default_ds.slave_only, erbest) {
            RecommendedState::M1
        } else {
            RecommendedState::P1
        }
    } else if d0_beats(&d0, default_ds.slave_only, ebest) {
        RecommendedState::M2
    } else if let Some(eb) = ebest.filter(|&eb| erbest == Some(eb)) {
        RecommendedState::S1(*eb)
    } else if ebest
        .zip(erbest)
        .is_some_and(|(eb, er)| eb.compare(er) == DatasetOrdering::BetterByTopology)
    {
        RecommendedState::P2
    } else {
        RecommendedState::M3
    })
}

/// The state decision algorithm for one port (clause 9.3.3, figure 26).
///
/// `ebest` is [`ebest`] over all ports of the instance. Returns `None` for
/// a port that does not take part ([`PortDecisionInput::takes_part`]).
/// Otherwise, in order:
///
/// 1. no Erbest and the port is LISTENING: stay LISTENING;
/// 2. D0's clockClass is 1 to 127: M1 if D0 beats Erbest, else P1;
/// 3. M2 if D0 beats Ebest;
/// 4. S1 if Ebest is this port's Erbest;
/// 5. P2 if Ebest beats Erbest by topology only;
/// 6. else M3.
///
/// "Beats" means better or better by topology; an absent data set is
/// beaten by anything. A slave-only clock (`default_ds.slave_only`, clause
/// 9.2.2.1) compares with clockClass 255, its D0 beats no foreign master
/// (so a priority1 set below the master's cannot keep it from following),
/// and it gets LISTENING instead of any M or P code. A master-only port
/// has no Erbest (clause 9.2.2.2), so it never gets S1 or P1/P2.
#[must_use]
pub fn state_decision(
    default_ds: &DefaultDS,
    ebest: Option<&ForeignAnnounce>,
    port: &PortDecisionInput,
) -> Option<RecommendedState> {
    let code = decision_code(default_ds, ebest, port)?;
    Some(if default_ds.slave_only {
        match code {
            RecommendedState::S1(_) | RecommendedState::Listening => code,
            _ => RecommendedState::Listening,
        }
    } else {
        code
    })
}

/// Run the state decision for every port of an ordinary or boundary clock
/// (clause 9.3.3): compute Ebest, then each port's code into `out`
/// (`out[i]` for `ports[i]`, `None` where the port does not take part;
/// extra entries of either slice are ignored), and return the update of
/// the instance data sets (clause 9.3.5).
///
/// The update is [`DataSetUpdate::Slave`] if some port got S1,
/// [`DataSetUpdate::Grandmaster`] if some port got M1 or M2 (for a
/// slave-only clock, before that code was turned into LISTENING: the
/// clock has then lost its master and is its own parent again), and
/// [`DataSetUpdate::Unchanged`] otherwise.
pub fn decide(
    default_ds: &DefaultDS,
    ports: &[PortDecisionInput],
    out: &mut [Option<RecommendedState>],
) -> DataSetUpdate {
    let ebest = ebest(ports);
    let mut update = DataSetUpdate::Unchanged;
    for (port, slot) in ports.iter().zip(out.iter_mut()) {
        let code = decision_code(default_ds, ebest.as_ref(), port);
        match (code.map(|c| c.data_set_update()), update) {
            (Some(u @ DataSetUpdate::Slave(_)), _)
            | (Some(u @ DataSetUpdate::Grandmaster), DataSetUpdate::Unchanged) => update = u,
            _ => {}
        }
        *slot = state_decision(default_ds, ebest.as_ref(), port);
    }
    update
}

#[cfg(test)]
#[path = "decision_tests.rs"]
mod tests;
