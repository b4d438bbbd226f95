//! PTP management for the daemon (IEEE 1588-2019 clause 15): a Unix
//! datagram socket for `pmc -u -s PATH` and the answers to management
//! messages that arrive on the PTP ports. The answers themselves come from
//! the sans-IO [`statime::management`].
//!
//! - Local socket (`[observability] management-socket`): bound with
//!   `socket(AF_UNIX, SOCK_DGRAM)`, non-blocking, mode
//!   `management-socket-permissions`, polled by the data-plane loop. Each
//!   request is answered to the sender's own socket path (pmc binds
//!   `/var/run/pmc.PID`). The answering "port" is `clockIdentity/0`, as
//!   ptp4l's UDS port.
//! - PTP ports: a GET/SET/COMMAND for this clock received on port `i` is
//!   answered on port `i` by multicast to the primary address through the
//!   general socket (what ptp4l does; `pmc -4` listens on the multicast
//!   group).
//! - SET is refused (NOT_SETABLE) and COMMAND answered NOT_SUPPORTED: the
//!   core instance offers no way to change defaultDS at run time yet.
//! - Forwarding (clause 15.3.4, [`statime::management::forward_plan`]): a
//!   management message with boundaryHops > 0 that is not for this clock
//!   alone goes out on every other port in the topology with boundaryHops
//!   one less; a request from the local socket goes out on every such port
//!   (so `pmc -u -b 1` reaches the neighbours, as with ptp4l), and the
//!   RESPONSE and ACKNOWLEDGE messages that come back from the network are
//!   relayed to the local client that asked last.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use statime::datasets::PortDS;
use statime::instance::{InstanceEvent, PtpInstance};
use statime::management::{
    Change, ForwardPlan, InstanceView, ManagementPolicy, PortView, Responder, forward_plan,
};
use statime::wire::messages::ManagementAction;
use statime::wire::tlv::{TimeStatusNpTlv, TimestampType};
use statime::wire::{Message, MessageBody, MessageType, PortIdentity};

use crate::config::{Config, Timestamping};

/// Largest management message accepted or sent.
const MAX_MESSAGE: usize = 1500;

/// The management endpoint of a running daemon.
pub struct Management {
    socket: Option<(UnixDatagram, PathBuf)>,
    policy: ManagementPolicy,
    minor_version: u8,
    ports: Vec<(String, TimestampType)>,
    last_offset_ns: i64,
    last_ingress_ns: i64,
    /// The local client that last sent a request to forward: answers from
    /// the network are relayed to it.
    last_client: Option<PathBuf>,
    user_description: String,
}

/// A management message to send on other ports.
#[derive(Clone, Debug)]
pub struct Forward {
    /// The message, boundaryHops already rewritten.
    pub data: Vec<u8>,
    /// Where.
    pub plan: ForwardPlan,
}

/// Bind the management socket at `path` with file mode `mode`; a stale
/// socket file left by an earlier run is replaced.
fn bind(path: &Path, mode: u32) -> io::Result<UnixDatagram> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if meta.file_type().is_socket() {
            std::fs::remove_file(path)?;
        }
    }
    let socket = UnixDatagram::bind(path)?;
    socket.set_nonblocking(true)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(socket)
}

/// Whether `data` is a Management message (messageType 0xD), looked up
/// without parsing the rest.
#[must_use]
pub fn is_management(data: &[u8]) -> bool {
    data.first()
        .is_some_and(|b| MessageType::from(b & 0x0F) == MessageType::Management)
}

impl Management {
    /// The endpoint `config` asks for (no socket without
    /// `management-socket`).
    ///
    /// # Errors
    /// The socket cannot be bound (directory missing, permission).
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let o = &config.observability;
        let socket = match &o.management_socket {
            Some(path) => Some((
                bind(path, o.management_socket_permissions)
                    .map_err(|e| format!("management-socket {}: {e}", path.display()))?,
                path.clone(),
            )),
            None => None,
        };
        let ports = config
            .ports
            .iter()
            .map(|p| {
                let ts = match p.timestamping {
                    Timestamping::Hardware => TimestampType::Hardware,
                    Timestamping::Software => TimestampType::Software,
                };
                (p.interface.clone(), ts)
            })
            .collect();
        let minor_version = config.minor_ptp_version;
        Ok(Self {
            socket,
            policy: ManagementPolicy {
                allow_set: config.observability.management_allow_set,
                allow_command: false,
            },
            minor_version,
            ports,
            last_offset_ns: 0,
            last_ingress_ns: 0,
            last_client: None,
            user_description: config.user_description.clone().unwrap_or_default(),
        })
    }

    /// The socket to poll, if any.
    #[must_use]
    pub fn fd(&self) -> Option<RawFd> {
        self.socket.as_ref().map(|(s, _)| s.as_raw_fd())
    }

    /// Remember the last measurement for TIME_STATUS_NP.
    pub fn note_event(&mut self, e: &InstanceEvent) {
        if let InstanceEvent::Measurement { measurement, .. } = e {
            self.last_offset_ns = i64::try_from(measurement.offset.nanos_floor()).unwrap_or(0);
            let ingress = measurement.ingress;
            let ns = ingress
                .secs()
                .saturating_mul(1_000_000_000)
                .saturating_add(u128::from(ingress.subsec_nanos()));
            self.last_ingress_ns = i64::try_from(ns).unwrap_or(i64::MAX);
        }
    }

    /// Build the view of `instance` and hand it to `f`.
    fn with_view<const P: usize, T>(
        &self,
        instance: &PtpInstance<P>,
        f: impl FnOnce(&InstanceView<'_>) -> T,
    ) -> T {
        let ds = instance.data_sets();
        let ports: Vec<PortView<'_>> = instance
            .ports()
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (iface, ts) = self
                    .ports
                    .get(i)
                    .map_or(("", TimestampType::Software), |(n, t)| (n.as_str(), *t));
                let port_ds: PortDS = *p.port_ds();
                PortView {
                    port_ds,
                    timestamping: ts,
                    interface: iface,
                }
            })
            .collect();
        let own = ds.default.clock_identity;
        let gm = ds.parent.grandmaster_identity;
        let view = InstanceView {
            data_sets: ds,
            ports: &ports,
            time_status: TimeStatusNpTlv {
                master_offset: if gm == own { 0 } else { self.last_offset_ns },
                ingress_time: if gm == own { 0 } else { self.last_ingress_ns },
                gm_present: i32::from(gm != own),
                gm_identity: gm,
                ..TimeStatusNpTlv::default()
            },
            user_description: &self.user_description,
            minor_version: self.minor_version,
        };
        f(&view)
    }

    /// The answers to the management message `data` received by
    /// `receiver`; empty if it is not for us or not a request.
    pub fn answers<const P: usize>(
        &self,
        instance: &mut PtpInstance<P>,
        data: &[u8],
        receiver: PortIdentity,
    ) -> Vec<Vec<u8>> {
        let Ok(msg) = Message::parse(data) else {
            return Vec::new();
        };
        let (out, change) = self.with_view(instance, |view| {
            let Some(r) = Responder::new(&msg, view, self.policy, receiver) else {
                return (Vec::new(), None);
            };
            let mut out = Vec::new();
            for n in 0..r.count() {
                let mut buf = [0u8; MAX_MESSAGE];
                if let Ok(len) = r.emit(n, &mut buf)
                    && let Some(b) = buf.get(..len)
                {
                    out.push(b.to_vec());
                }
            }
            (out, r.change())
        });
        if let Some(c) = change {
            let now = super::sys::monotonic_now();
            instance.change_default_ds(
                |ds| match c {
                    Change::Priority1(v) => ds.priority1 = v,
                    Change::Priority2(v) => ds.priority2 = v,
                    Change::Domain(v) => ds.domain_number = v,
                },
                now,
            );
        }
        out
    }

    /// Where the management message `data`, received on port index
    /// `ingress` (`None`: from the local socket), is forwarded; the copy
    /// with boundaryHops rewritten.
    pub fn forward<const P: usize>(
        &self,
        instance: &PtpInstance<P>,
        data: &[u8],
        ingress: Option<usize>,
    ) -> Option<Forward> {
        let msg = Message::parse(data).ok()?;
        let plan = self.with_view(instance, |view| forward_plan(&msg, view, ingress))?;
        let mut copy = data.to_vec();
        plan.rewrite(&mut copy)
            .then_some(Forward { data: copy, plan })
    }

    /// Relay a RESPONSE or ACKNOWLEDGE received from the network to the
    /// local client that last had a request forwarded.
    pub fn relay_answer(&self, data: &[u8]) {
        let (Some((socket, _)), Some(client)) = (&self.socket, &self.last_client) else {
            return;
        };
        let Ok(msg) = Message::parse(data) else {
            return;
        };
        if let MessageBody::Management(m) = msg.body
            && matches!(
                m.action,
                ManagementAction::Response | ManagementAction::Acknowledge
            )
        {
            let _ = socket.send_to(data, client);
        }
    }

    /// Answer every request queued on the local socket; return those to
    /// forward on the ports.
    pub fn serve_socket<const P: usize>(&mut self, instance: &mut PtpInstance<P>) -> Vec<Forward> {
        let mut forwards = Vec::new();
        let Some((socket, _)) = &self.socket else {
            return forwards;
        };
        let receiver = PortIdentity {
            clock_identity: instance.data_sets().default.clock_identity,
            port_number: 0,
        };
        let mut buf = [0u8; MAX_MESSAGE];
        let mut client = None;
        // Bounded, so that a flood cannot starve the PTP ports.
        for _ in 0..64 {
            let Ok((len, from)) = socket.recv_from(&mut buf) else {
                break;
            };
            let Some(path) = from.as_pathname() else {
                continue; // an unbound sender cannot be answered
            };
            let data = buf.get(..len).unwrap_or_default();
            for answer in self.answers(instance, data, receiver) {
                let _ = socket.send_to(&answer, path);
            }
            if let Some(f) = self.forward(instance, data, None) {
                forwards.push(f);
                client = Some(path.to_path_buf());
            }
        }
        if client.is_some() {
            self.last_client = client;
        }
        forwards
    }
}

impl Drop for Management {
    fn drop(&mut self) {
        if let Some((_, path)) = &self.socket {
            let _ = std::fs::remove_file(path);
        }
    }
}
