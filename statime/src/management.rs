//! PTP management (IEEE 1588-2019 clause 15): answering GET, SET and
//! COMMAND requests from a read-only view of the instance, sans-IO.
//!
//! The caller (a daemon) receives a Management message on a PTP port or on
//! a local socket, builds an [`InstanceView`] of its state and asks a
//! [`Responder`] for the answers:
//!
//! - [`Responder::new`] decides whether the request is for this clock at
//!   all (clause 15.3.1 targetPortIdentity matching; `None` = ignore it);
//! - [`Responder::count`] says how many answers to send: one for an ID of
//!   the clock, one per addressed port for an ID of a port (clause 15.3.2:
//!   a wildcard portNumber addresses every port);
//! - [`Responder::emit`] writes answer `n` (RESPONSE, ACKNOWLEDGE or a
//!   MANAGEMENT_ERROR_STATUS, clause 15.4 and 15.5.4);
//! - [`Responder::change`] is what an accepted SET asks the caller to apply
//!   to the instance data sets; the core itself stays pure.
//!
//! [`forward_plan`] is the boundary clock forwarding decision of clause
//! 15.3.4 (boundaryHops).
//!
//! The answers are shaped like linuxptp's (what `pmc` expects):
//! controlField 4 (clause 13.3.2.13 table 42, the 2008 value for
//! Management), logMessageInterval 0x7F, the requester's
//! sourcePortIdentity as targetPortIdentity, sequenceId copied, and the
//! MANAGEMENT_ERROR_STATUS TLV without displayData.

use crate::datasets::{InstanceDataSets, PortDS};
use crate::wire::messages::{ManagementAction, ManagementMessage};
use crate::wire::tlv::{
    ManagementData, ManagementErrorId, ManagementErrorStatusTlv, ManagementId, ManagementTlv,
    PortPropertiesNpTlv, PortState, TimeStatusNpTlv, TimestampType, TlvWriter,
};
use crate::wire::{
    ClockIdentity, Error, FlagField, Header, Message, MessageBody, MessageType, PortIdentity,
    PtpText, Result, SdoId, TlvSet, TlvType,
};

/// controlField of a Management message (clause 13.3.2.13, table 42: the
/// IEEE 1588-2008 value, which linuxptp sends and 2019 receivers ignore).
pub const CONTROL_FIELD: u8 = 4;

/// Octet offset of boundaryHops in a Management message (header 34 +
/// targetPortIdentity 10 + startingBoundaryHops 1; clause 15.4.1).
pub const BOUNDARY_HOPS_OFFSET: usize = 45;

/// Largest management TLV this module emits (PORT_PROPERTIES_NP with a
/// 255-octet interface name), type and length included.
const MAX_TLV: usize = 4 + 2 + PortPropertiesNpTlv::FIXED_LEN + 1 + 255 + 1;

/// Which requests that change state are honoured (the daemon's
/// configuration; everything read-only is always answered).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ManagementPolicy {
    /// Accept SET for PRIORITY1, PRIORITY2 and DOMAIN (clause 15.5.3.3).
    pub allow_set: bool,
    /// Accept COMMAND (only NULL_MANAGEMENT, clause 15.5.3.1.1, is
    /// implemented; it is acknowledged).
    pub allow_command: bool,
}

/// What a port contributes to the answers beyond its portDS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortView<'a> {
    /// The port's portDS (clause 8.2.15).
    pub port_ds: PortDS,
    /// How the port time-stamps, for PORT_PROPERTIES_NP.
    pub timestamping: TimestampType,
    /// Interface name, for PORT_PROPERTIES_NP (truncated to 255 octets).
    pub interface: &'a str,
}

/// A read-only view of the instance, from which every answer is built.
#[derive(Clone, Copy, Debug)]
pub struct InstanceView<'a> {
    /// defaultDS, currentDS, parentDS, timePropertiesDS.
    pub data_sets: &'a InstanceDataSets,
    /// The ports, in port-number order.
    pub ports: &'a [PortView<'a>],
    /// TIME_STATUS_NP values (servo offset, grandmaster, ...).
    pub time_status: TimeStatusNpTlv,
    /// USER_DESCRIPTION text (clause 15.5.3.1.2), may be empty.
    pub user_description: &'a str,
    /// minorVersionPTP put in the answers' headers (0 like linuxptp 3.1.1,
    /// or 1 for IEEE 1588-2019).
    pub minor_version: u8,
}

/// A change an accepted SET asks the caller to apply (clause 15.5.3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// defaultDS.priority1 (PRIORITY1, clause 15.5.3.3.2).
    Priority1(u8),
    /// defaultDS.priority2 (PRIORITY2, clause 15.5.3.3.3).
    Priority2(u8),
    /// defaultDS.domainNumber (DOMAIN, clause 15.5.3.3.4).
    Domain(u8),
}

/// What the answers carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// The value of the managementId (GET, or SET after the change).
    Data,
    /// An accepted SET: its value (also the answer's data).
    Set(Change),
    /// An accepted COMMAND: ACKNOWLEDGE without data.
    Ack,
    /// MANAGEMENT_ERROR_STATUS.
    Error(ManagementErrorId),
}

/// The answers to one Management request (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub struct Responder<'v> {
    view: &'v InstanceView<'v>,
    receiver: PortIdentity,
    sdo_id: SdoId,
    sequence_id: u16,
    requester: PortIdentity,
    target_port: u16,
    starting_boundary_hops: u8,
    action: ManagementAction,
    id: ManagementId,
    outcome: Outcome,
}

/// Whether `id` is about one port (clause 15.5.3.7, 15.5.3.8, and
/// linuxptp's port IDs), so that each addressed port answers for itself.
#[must_use]
pub fn is_port_scoped(id: ManagementId) -> bool {
    matches!(
        id,
        ManagementId::PortDataSet
            | ManagementId::LogAnnounceInterval
            | ManagementId::AnnounceReceiptTimeout
            | ManagementId::LogSyncInterval
            | ManagementId::VersionNumber
            | ManagementId::DelayMechanism
            | ManagementId::LogMinPdelayReqInterval
            | ManagementId::PortPropertiesNp
    )
}

/// Whether GET of `id` is answered with data.
#[must_use]
pub fn is_supported_get(id: ManagementId) -> bool {
    is_port_scoped(id)
        || matches!(
            id,
            ManagementId::NullManagement
                | ManagementId::UserDescription
                | ManagementId::DefaultDataSet
                | ManagementId::CurrentDataSet
                | ManagementId::ParentDataSet
                | ManagementId::TimePropertiesDataSet
                | ManagementId::Priority1
                | ManagementId::Priority2
                | ManagementId::Domain
                | ManagementId::SlaveOnly
                | ManagementId::ClockAccuracy
                | ManagementId::TimeStatusNp
        )
}

/// Whether a targetPortIdentity's clockIdentity names this clock (clause
/// 15.3.1: its own identity or all ones).
fn addresses_clock(target: PortIdentity, own: ClockIdentity) -> bool {
    target.clock_identity == ClockIdentity::ALL || target.clock_identity == own
}

/// The managementId and dataField of the request's management TLV;
/// `None` if it has none. The data field is `None` when it does not parse
/// (a GET ignores it; a SET answers WRONG_LENGTH).
fn request_tlv<'a>(suffix: &TlvSet<'a>) -> Option<(ManagementId, Option<ManagementData<'a>>)> {
    let raw = suffix.find(TlvType::Management)?;
    let id_bytes = raw.value.first_chunk::<2>()?;
    let id = ManagementId::from(u16::from_be_bytes(*id_bytes));
    let data = raw
        .value
        .get(2..)
        .and_then(|d| ManagementData::parse(id, d).ok());
    Some((id, data))
}

fn decide(
    action: ManagementAction,
    id: ManagementId,
    data: Option<ManagementData<'_>>,
    policy: ManagementPolicy,
) -> Outcome {
    let unknown = matches!(id, ManagementId::Unknown(_));
    match action {
        ManagementAction::Get if is_supported_get(id) => Outcome::Data,
        ManagementAction::Get if unknown => Outcome::Error(ManagementErrorId::NoSuchId),
        ManagementAction::Get => Outcome::Error(ManagementErrorId::NotSupported),
        ManagementAction::Set if unknown => Outcome::Error(ManagementErrorId::NoSuchId),
        ManagementAction::Set => {
            let make: fn(u8) -> Change = match id {
                ManagementId::Priority1 => Change::Priority1,
                ManagementId::Priority2 => Change::Priority2,
                ManagementId::Domain => Change::Domain,
                _ => return Outcome::Error(ManagementErrorId::NotSetable),
            };
            if !policy.allow_set {
                return Outcome::Error(ManagementErrorId::NotSetable);
            }
            match data {
                // Domain numbers above 127 are reserved (clause 7.1, table 2).
                Some(ManagementData::Scalar { value })
                    if id == ManagementId::Domain && value > 127 =>
                {
                    Outcome::Error(ManagementErrorId::WrongValue)
                }
                Some(ManagementData::Scalar { value }) => Outcome::Set(make(value)),
                _ => Outcome::Error(ManagementErrorId::WrongLength),
            }
        }
        ManagementAction::Command if !policy.allow_command => {
            Outcome::Error(ManagementErrorId::NotSupported)
        }
        ManagementAction::Command if id == ManagementId::NullManagement => Outcome::Ack,
        ManagementAction::Command if unknown => Outcome::Error(ManagementErrorId::NoSuchId),
        _ => Outcome::Error(ManagementErrorId::NotSupported),
    }
}

impl<'v> Responder<'v> {
    /// Prepare the answers to `request`, received by the port (or local
    /// socket) `receiver`; `None` when it is to be ignored: not a
    /// Management message, not a GET, SET or COMMAND (clause 15.4.1.6), no
    /// management TLV, another domain (clause 7.1) or another clock
    /// (clause 15.3.1).
    #[must_use]
    pub fn new(
        request: &Message<'_>,
        view: &'v InstanceView<'v>,
        policy: ManagementPolicy,
        receiver: PortIdentity,
    ) -> Option<Self> {
        let MessageBody::Management(body) = request.body else {
            return None;
        };
        if !matches!(
            body.action,
            ManagementAction::Get | ManagementAction::Set | ManagementAction::Command
        ) {
            return None;
        }
        let default = &view.data_sets.default;
        if request.header.domain_number != default.domain_number
            || !addresses_clock(body.target_port_identity, default.clock_identity)
        {
            return None;
        }
        let (id, data) = request_tlv(&request.suffix)?;
        Some(Self {
            view,
            receiver,
            sdo_id: request.header.sdo_id,
            sequence_id: request.header.sequence_id,
            requester: request.header.source_port_identity,
            target_port: body.target_port_identity.port_number,
            starting_boundary_hops: body.starting_boundary_hops,
            action: body.action,
            id,
            outcome: decide(body.action, id, data, policy),
        })
    }

    /// The requested managementId.
    #[must_use]
    pub const fn management_id(&self) -> ManagementId {
        self.id
    }

    /// The change an accepted SET asks for; the caller applies it to the
    /// instance before or after sending the answer.
    #[must_use]
    pub const fn change(&self) -> Option<Change> {
        match self.outcome {
            Outcome::Set(c) => Some(c),
            _ => None,
        }
    }

    /// The ports (indices into [`InstanceView::ports`]) addressed by the
    /// request's portNumber (0xFFFF: all).
    fn addressed_ports(&self) -> impl Iterator<Item = (usize, &'v PortView<'v>)> + use<'v> {
        let target = self.target_port;
        self.view
            .ports
            .iter()
            .enumerate()
            .filter(move |(_, p)| target == 0xFFFF || p.port_ds.port_identity.port_number == target)
    }

    fn per_port(&self) -> bool {
        self.outcome == Outcome::Data && is_port_scoped(self.id)
    }

    /// How many answers to send: one per addressed port for a port's data
    /// (none if no port matches), otherwise one.
    #[must_use]
    pub fn count(&self) -> usize {
        if self.per_port() {
            self.addressed_ports().count()
        } else {
            1
        }
    }

    /// Write answer `n` (`0..self.count()`) into `buf` and return its
    /// length. Fails with [`Error::InvalidValue`] for `n` out of range and
    /// [`Error::BufferTooSmall`] if `buf` is too short.
    pub fn emit(&self, n: usize, buf: &mut [u8]) -> Result<usize> {
        let (source, port) = if self.per_port() {
            let (_, p) = self.addressed_ports().nth(n).ok_or(Error::InvalidValue)?;
            (p.port_ds.port_identity, Some(p))
        } else if n == 0 {
            (self.receiver, None)
        } else {
            return Err(Error::InvalidValue);
        };
        let mut tlv_buf = [0u8; MAX_TLV];
        let mut w = TlvWriter::new(&mut tlv_buf);
        let action = match self.action {
            ManagementAction::Command => ManagementAction::Acknowledge,
            _ => ManagementAction::Response,
        };
        match self.outcome {
            Outcome::Error(e) => w.push(&ManagementErrorStatusTlv {
                management_error_id: e,
                management_id: self.id,
                display_data: None,
            })?,
            Outcome::Ack => w.push(&ManagementTlv::empty(self.id))?,
            Outcome::Set(c) => {
                let value = match c {
                    Change::Priority1(v) | Change::Priority2(v) | Change::Domain(v) => v,
                };
                w.push(&ManagementTlv {
                    management_id: self.id,
                    data: ManagementData::Scalar { value },
                })?;
            }
            Outcome::Data => {
                let data = self.data(port).ok_or(Error::InvalidValue)?;
                w.push(&ManagementTlv {
                    management_id: self.id,
                    data,
                })?;
            }
        }
        let default = &self.view.data_sets.default;
        let header = Header {
            sdo_id: self.sdo_id,
            minor_version: self.view.minor_version,
            domain_number: default.domain_number,
            flags: FlagField::default(),
            source_port_identity: source,
            sequence_id: self.sequence_id,
            control_field: CONTROL_FIELD,
            log_message_interval: 0x7F,
            ..Header::new(MessageType::Management)
        };
        // Clause 15.3.3: the answer may travel back as far as the request
        // was allowed to come. linuxptp 3.1.1 answers a request of
        // startingBoundaryHops/boundaryHops 1/1 with 1/1 (the fixtures).
        let body = ManagementMessage {
            target_port_identity: self.requester,
            starting_boundary_hops: self.starting_boundary_hops,
            boundary_hops: self.starting_boundary_hops,
            action,
        };
        let msg = Message {
            header,
            body: MessageBody::Management(body),
            suffix: w.finish(),
        };
        msg.emit(buf)
    }

    /// The dataField of a GET answer (clause 15.5.3); `port` is the
    /// answering port for port-scoped IDs.
    fn data(&self, port: Option<&'v PortView<'v>>) -> Option<ManagementData<'v>> {
        let ds = self.view.data_sets;
        let scalar = |value: u8| Some(ManagementData::Scalar { value });
        let pds = port.map(|p| &p.port_ds);
        match self.id {
            ManagementId::NullManagement => Some(ManagementData::Empty),
            ManagementId::UserDescription => {
                let b = self.view.user_description.as_bytes();
                let b = b.get(..b.len().min(128)).unwrap_or_default();
                PtpText::new(b).map(ManagementData::UserDescription)
            }
            ManagementId::DefaultDataSet => {
                Some(ManagementData::DefaultDataSet(ds.default.to_tlv()))
            }
            ManagementId::CurrentDataSet => {
                Some(ManagementData::CurrentDataSet(ds.current.to_tlv()))
            }
            ManagementId::ParentDataSet => Some(ManagementData::ParentDataSet(ds.parent.to_tlv())),
            ManagementId::TimePropertiesDataSet => Some(ManagementData::TimePropertiesDataSet(
                ds.time_properties.to_tlv(),
            )),
            ManagementId::TimeStatusNp => Some(ManagementData::TimeStatusNp(self.view.time_status)),
            ManagementId::Priority1 => scalar(ds.default.priority1),
            ManagementId::Priority2 => scalar(ds.default.priority2),
            ManagementId::Domain => scalar(ds.default.domain_number),
            ManagementId::SlaveOnly => scalar(u8::from(ds.default.slave_only)),
            ManagementId::ClockAccuracy => {
                scalar(u8::from(ds.default.to_tlv().clock_quality.clock_accuracy))
            }
            ManagementId::PortDataSet => Some(ManagementData::PortDataSet(pds?.to_tlv())),
            ManagementId::LogAnnounceInterval => scalar(pds?.log_announce_interval as u8),
            ManagementId::AnnounceReceiptTimeout => scalar(pds?.announce_receipt_timeout),
            ManagementId::LogSyncInterval => scalar(pds?.log_sync_interval as u8),
            // Same octet as in PORT_DATA_SET: minorVersionNumber in the high
            // nibble (clause 15.5.3.7.1), versionNumber in the low one.
            ManagementId::VersionNumber => {
                let p = pds?;
                scalar((p.minor_version_number << 4) | (p.version_number & 0x0F))
            }
            ManagementId::DelayMechanism => scalar(u8::from(pds?.delay_mechanism)),
            ManagementId::LogMinPdelayReqInterval => scalar(pds?.log_min_pdelay_req_interval as u8),
            ManagementId::PortPropertiesNp => {
                let p = port?;
                let name = p.interface.as_bytes();
                let name = name.get(..name.len().min(255)).unwrap_or_default();
                Some(ManagementData::PortPropertiesNp(PortPropertiesNpTlv {
                    port_identity: p.port_ds.port_identity,
                    port_state: p.port_ds.port_state,
                    timestamping: p.timestamping,
                    interface: PtpText::new(name)?,
                }))
            }
            _ => None,
        }
    }
}

/// Write the SMPTE ST 2059-2 synchronization metadata message: a
/// Management message (clause 15) from `port`, actionField COMMAND to
/// every port of every clock, carrying `metadata` in place of a
/// MANAGEMENT TLV, as ST 2059-2 grandmasters send it.
///
/// # Errors
/// [`Error::BufferTooSmall`] when `buf` is too small.
pub fn write_smpte_metadata(
    ds: &InstanceDataSets,
    port: &PortDS,
    sequence_id: u16,
    metadata: &crate::wire::tlv::SmpteSyncMetadataTlv,
    buf: &mut [u8],
) -> Result<usize> {
    let mut tlv_buf = [0u8; 52];
    let mut w = TlvWriter::new(&mut tlv_buf);
    w.push(metadata)?;
    let header = Header {
        sdo_id: ds.default.sdo_id,
        minor_version: port.minor_version_number,
        domain_number: ds.default.domain_number,
        source_port_identity: port.port_identity,
        sequence_id,
        control_field: CONTROL_FIELD,
        log_message_interval: 0x7F,
        ..Header::new(MessageType::Management)
    };
    Message {
        header,
        body: MessageBody::Management(ManagementMessage {
            target_port_identity: PortIdentity::ALL,
            starting_boundary_hops: 0,
            boundary_hops: 0,
            action: ManagementAction::Command,
        }),
        suffix: w.finish(),
    }
    .emit(buf)
}

/// Answer `request` with its first answer only (enough for every ID of
/// the clock and for a single-port instance); see [`Responder`] for the
/// general case. `None`: ignore the request (or no port matches).
pub fn respond(
    request: &Message<'_>,
    view: &InstanceView<'_>,
    policy: ManagementPolicy,
    receiver: PortIdentity,
    buf: &mut [u8],
) -> Option<Result<usize>> {
    let r = Responder::new(request, view, policy, receiver)?;
    (r.count() > 0).then(|| r.emit(0, buf))
}

/// Where a boundary clock forwards a Management message (clause 15.3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForwardPlan {
    /// boundaryHops to put in the forwarded copies (one less).
    pub boundary_hops: u8,
    /// Bit `i` set: send a copy on port index `i`.
    pub ports: u32,
}

impl ForwardPlan {
    /// The port indices to send a copy on.
    pub fn port_indices(&self) -> impl Iterator<Item = usize> + use<> {
        let mask = self.ports;
        (0..32usize).filter(move |i| mask & (1 << i) != 0)
    }

    /// Rewrite boundaryHops in the received octets `packet` for forwarding;
    /// false if the packet is too short.
    pub fn rewrite(&self, packet: &mut [u8]) -> bool {
        match packet.get_mut(BOUNDARY_HOPS_OFFSET) {
            Some(b) => {
                *b = self.boundary_hops;
                true
            }
            None => false,
        }
    }
}

/// Whether a port in `state` takes part in forwarding: it is in the
/// topology (MASTER, PRE_MASTER, SLAVE, UNCALIBRATED; as linuxptp).
fn forwards(state: PortState) -> bool {
    matches!(
        state,
        PortState::Master | PortState::PreMaster | PortState::Slave | PortState::Uncalibrated
    )
}

/// The forwarding decision of clause 15.3.4 for a Management message
/// (any action: requests travel out, answers travel back) received on
/// port index `ingress` (`None`: from a local management client).
///
/// It is forwarded when boundaryHops is not zero and the message is not
/// addressed to this clock alone (targetPortIdentity.clockIdentity is all
/// ones or another clock), on every other port in the topology, with
/// boundaryHops one less. Messages this clock sent itself are never
/// forwarded. `None`: do not forward.
#[must_use]
pub fn forward_plan(
    request: &Message<'_>,
    view: &InstanceView<'_>,
    ingress: Option<usize>,
) -> Option<ForwardPlan> {
    let MessageBody::Management(body) = request.body else {
        return None;
    };
    let own = view.data_sets.default.clock_identity;
    if body.boundary_hops == 0
        || body.target_port_identity.clock_identity == own
        || request.header.source_port_identity.clock_identity == own
        || request.header.domain_number != view.data_sets.default.domain_number
    {
        return None;
    }
    if let Some(i) = ingress
        && !view
            .ports
            .get(i)
            .is_some_and(|p| forwards(p.port_ds.port_state))
    {
        return None;
    }
    let ports = view
        .ports
        .iter()
        .enumerate()
        .take(32)
        .filter(|(i, p)| Some(*i) != ingress && forwards(p.port_ds.port_state))
        .fold(0u32, |m, (i, _)| m | (1 << i));
    (ports != 0).then_some(ForwardPlan {
        boundary_hops: body.boundary_hops - 1,
        ports,
    })
}

#[cfg(test)]
#[path = "management_tests.rs"]
mod tests;
