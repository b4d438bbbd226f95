//! The transport layer over a veth pair between two network namespaces,
//! with software timestamping: UDPv4, UDPv6 and Ethernet.
//!
//! # How the tests reach the namespaces
//! Each test creates two namespaces of its own (`ip netns add`), joins them
//! with a veth pair created directly inside them (so no interface of the
//! host is ever touched), and gives the ends documentation addresses
//! (00:00:5e:00:53:0a/0b, 192.0.2.1-2/24, 2001:db8::1-2/64). The test thread
//! then enters a namespace with `setns(CLONE_NEWNET)` only while it opens
//! sockets there, and returns to its original namespace at once (a guard
//! restores it even on panic). A socket stays in the namespace it was
//! created in, so the rest of the test polls and reads them from anywhere.
//! Network namespaces are per thread and every test runs on its own thread,
//! so the tests run in parallel without seeing each other. A `Lab` guard
//! deletes both namespaces (and with them the veth pair) on drop, also when
//! an assertion fails.
//!
//! Without root the namespace tests are skipped with a printed reason; as
//! root (as in CI) they must run, and a missing `ip` is a failure.
#![allow(unsafe_code)] // setns, geteuid and a raw capture socket through libc; each block says why.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use statime::port::{Destination, TxContext, TxKind};
use statime::time::Time;
use statime_linux::net::{
    KernelTimestamp, NetError, NetOptions, PeerAddress, PortSockets, PtpSocket, Received,
    SocketRole, TimestampSource, TimestampingMode, Transport, TxTimestamp, TxTracker,
    timestamping_info,
};

const MAC_A: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x53, 0x0a];
const MAC_B: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x53, 0x0b];
const IF_A: &str = "ptpa0";
const IF_B: &str = "ptpb0";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn run(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running as root but `ip` cannot run ({e}); install iproute2"));
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ip_output(args: &[&str]) -> String {
    Command::new("ip")
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Two namespaces joined by a veth pair; deleted on drop.
struct Lab {
    a: String,
    b: String,
}

impl Lab {
    /// `None` (with the reason printed) when not root.
    fn new(tag: &str) -> Option<Self> {
        if !is_root() {
            eprintln!("skipping: network-namespace tests need root (CI runs them as root)");
            return None;
        }
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let base = format!("statime-net-{}-{tag}-{n}", std::process::id());
        let lab = Self {
            a: format!("{base}-a"),
            b: format!("{base}-b"),
        };
        for ns in [&lab.a, &lab.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
            run(&["netns", "add", ns]);
        }
        run(&[
            "-n", &lab.a, "link", "add", IF_A, "type", "veth", "peer", "name", IF_B, "netns",
            &lab.b,
        ]);
        for (ns, ifname, mac, n) in [(&lab.a, IF_A, MAC_A, 1), (&lab.b, IF_B, MAC_B, 2)] {
            let mac = mac
                .iter()
                .map(|o| format!("{o:02x}"))
                .collect::<Vec<_>>()
                .join(":");
            run(&["-n", ns, "link", "set", ifname, "address", &mac]);
            // No duplicate address detection: the link-local address is usable
            // as soon as the link is up.
            run(&[
                "netns",
                "exec",
                ns,
                "sh",
                "-c",
                &format!("echo 0 > /proc/sys/net/ipv6/conf/{ifname}/accept_dad"),
            ]);
            run(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("192.0.2.{n}/24"),
                "dev",
                ifname,
            ]);
            run(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("2001:db8::{n}/64"),
                "dev",
                ifname,
                "nodad",
            ]);
            run(&["-n", ns, "link", "set", "lo", "up"]);
            run(&["-n", ns, "link", "set", ifname, "up"]);
        }
        // The kernel reports the carrier (operstate UP) asynchronously, up to
        // about a second later, and IPv6 configures the link-local address
        // only then: wait for both.
        for (ns, ifname) in [(&lab.a, IF_A), (&lab.b, IF_B)] {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let link = ip_output(&["-n", ns, "-o", "link", "show", "dev", ifname]);
                let addr = ip_output(&["-n", ns, "-o", "-6", "addr", "show", "dev", ifname]);
                if link.contains("state UP")
                    && addr.contains("fe80::")
                    && !addr.contains("tentative")
                {
                    break;
                }
                assert!(Instant::now() < deadline, "{ifname} not up: {link} {addr}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Some(lab)
    }

    fn in_ns<T>(&self, ns: &str, f: impl FnOnce() -> T) -> T {
        let _guard = NsGuard::enter(ns);
        f()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// The test thread inside a named namespace until drop.
struct NsGuard {
    original: File,
}

fn setns(fd: &impl AsRawFd) {
    // SAFETY: `fd` is an open namespace file; setns only changes the calling
    // thread's network namespace.
    let rc = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
}

impl NsGuard {
    fn enter(ns: &str) -> Self {
        let original = File::open("/proc/thread-self/ns/net").expect("own namespace");
        let target = File::open(format!("/var/run/netns/{ns}")).expect("namespace file");
        setns(&target);
        Self { original }
    }
}

impl Drop for NsGuard {
    fn drop(&mut self) {
        // No assertion here: a panic while unwinding would abort the run.
        // SAFETY: as in `setns`.
        let rc = unsafe { libc::setns(self.original.as_raw_fd(), libc::CLONE_NEWNET) };
        if rc != 0 {
            eprintln!("could not return to the original namespace");
        }
    }
}

/// A raw ETH_P_ALL socket on the receiving interface, to check what went
/// on the wire (destination MAC, IP group and UDP port).
struct Capture {
    fd: OwnedFd,
}

impl Capture {
    fn open(ifname: &str) -> Self {
        let proto = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: socket(2) with integer arguments.
        let raw =
            unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, libc::c_int::from(proto)) };
        assert!(
            raw >= 0,
            "capture socket: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: `raw` is a new descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let name = std::ffi::CString::new(ifname).unwrap();
        // SAFETY: `name` is a valid NUL-terminated string.
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        assert!(index > 0);
        // SAFETY: sockaddr_ll is plain data; zero is valid.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto;
        sll.sll_ifindex = index as i32;
        // SAFETY: `sll` is a live sockaddr_ll of the given size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                std::ptr::from_ref(&sll).cast(),
                size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        assert_eq!(rc, 0, "capture bind: {}", std::io::Error::last_os_error());
        Self { fd }
    }

    /// The captured frame whose payload ends with `payload`.
    fn find(&self, payload: &[u8]) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut buf = [0u8; 2048];
        loop {
            // SAFETY: `buf` is a live writable buffer of its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n > 0 {
                let frame = &buf[..n as usize];
                if frame.len() >= 14 + payload.len() && frame.ends_with(payload) {
                    return frame.to_vec();
                }
                continue;
            }
            assert!(Instant::now() < deadline, "frame not captured");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn realtime_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

fn ns_of(t: Time) -> i128 {
    t.secs() as i128 * 1_000_000_000 + i128::from(t.subsec_nanos())
}

/// A PTP message of `kind` and `len` octets with sequenceId `seq`.
fn message(kind: u8, len: usize, seq: u16) -> Vec<u8> {
    let mut m = vec![0u8; len];
    m[0] = kind;
    m[1] = 0x12;
    m[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    m[30..32].copy_from_slice(&seq.to_be_bytes());
    m
}

fn wait_recv(port: &PortSockets, role: SocketRole, buf: &mut [u8]) -> Received {
    let socket = port.sockets().find(|s| s.role() == role).expect("socket");
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if let Some(r) = port.recv_from(role, buf).expect("recv") {
            return r;
        }
        assert!(Instant::now() < deadline, "no message on {role:?} socket");
        socket.poll(Duration::from_millis(200)).expect("poll");
    }
}

fn wait_tx(port: &PortSockets) -> TxTimestamp {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if let Some(t) = port.recv_tx_timestamp().expect("error queue") {
            return t;
        }
        assert!(Instant::now() < deadline, "no transmit timestamp");
        let ready = port
            .event_socket()
            .poll(Duration::from_millis(200))
            .expect("poll");
        let _ = ready;
    }
}

fn software(ts: Option<KernelTimestamp>) -> i128 {
    let ts = ts.expect("a timestamp");
    assert_eq!(ts.source, TimestampSource::Software);
    ns_of(ts.time)
}

/// Everything one transport must do, from `tx` to `rx`.
fn exchange(
    transport: Transport,
    tx: &PortSockets,
    rx: &PortSockets,
    capture: &Capture,
    from: PeerAddress,
) {
    let mut tracker = TxTracker::new(8);
    let mut buf = [0u8; 1500];
    let event_role = rx.event_socket().role();
    let general_role = rx.general_socket().map_or(event_role, PtpSocket::role);

    // Two back-to-back Syncs: ids in order, timestamps ordered.
    let before = realtime_ns();
    let mut sends = Vec::new();
    for seq in [100u16, 101] {
        let sync = message(0x00, 44, seq);
        let out = tx.send(&sync, Destination::Primary, true).expect("send");
        let id = out.tx_id.expect("event sends are timestamped");
        tracker.record(
            id,
            TxContext {
                kind: TxKind::Sync,
                sequence_id: seq,
            },
        );
        sends.push((id, sync));
    }
    assert_eq!(sends[1].0, sends[0].0.wrapping_add(1));

    let mut rx_times = Vec::new();
    for (_, sync) in &sends {
        let r = wait_recv(rx, event_role, &mut buf);
        assert_eq!(&buf[..r.len], &sync[..], "payload intact");
        assert!(r.event && !r.truncated);
        assert_eq!(r.source, Some(from), "sender address");
        let t = software(r.timestamp);
        assert!(
            (t - realtime_ns()).abs() < 1_000_000_000,
            "RX stamp near CLOCK_REALTIME"
        );
        assert!(t >= before - 1_000_000, "RX stamp after the send started");
        rx_times.push(t);
    }
    assert!(rx_times[0] <= rx_times[1], "RX stamps ordered");

    let mut tx_times = Vec::new();
    for (id, _) in &sends {
        let t = wait_tx(tx);
        assert_eq!(t.id, Some(*id), "OPT_ID order");
        let (ctx, ts) = tracker.resolve(&t).expect("tracked");
        assert_eq!(ctx.kind, TxKind::Sync);
        tx_times.push(software(Some(ts)));
    }
    assert!(tx_times[0] <= tx_times[1], "TX stamps ordered");
    eprintln!(
        "{transport:?}: TX->RX over veth {} ns and {} ns",
        rx_times[0] - tx_times[0],
        rx_times[1] - tx_times[1]
    );
    for (t_tx, t_rx) in tx_times.iter().zip(&rx_times) {
        // Same kernel clock on both ends of a veth: leaving precedes arriving.
        assert!(*t_tx <= t_rx + 1_000_000, "TX {t_tx} after RX {t_rx}");
        assert!(
            t_rx - t_tx < 100_000_000,
            "one veth hop takes far less than 100 ms"
        );
        assert!(*t_tx >= before - 1_000_000);
    }
    assert!(tracker.is_empty());

    let frame = capture.find(&sends[0].1);
    check_wire(transport, &frame, Destination::Primary, true);

    // A general message: general port / same socket, no timestamp needed.
    let announce = message(0x0b, 64, 7);
    let out = tx
        .send(&announce, Destination::Primary, false)
        .expect("send general");
    let r = wait_recv(rx, general_role, &mut buf);
    assert_eq!(&buf[..r.len], &announce[..]);
    assert!(!r.event);
    check_wire(
        transport,
        &capture.find(&announce),
        Destination::Primary,
        false,
    );
    match transport {
        Transport::Ethernet => {
            // One socket: the kernel stamps general messages too; nobody waits.
            let id = out.tx_id.expect("Ethernet socket numbers every send");
            let t = wait_tx(tx);
            assert_eq!(t.id, Some(id));
            assert!(tracker.resolve(&t).is_none());
        }
        _ => {
            assert_eq!(out.tx_id, None);
            assert_eq!(r.timestamp, None, "general UDP socket does not timestamp");
        }
    }

    // Peer delay goes to its own group / MAC.
    let pdelay = message(0x02, 54, 9);
    let out = tx
        .send(&pdelay, Destination::PeerDelay, true)
        .expect("send pdelay");
    let id = out.tx_id.expect("id");
    tracker.record(
        id,
        TxContext {
            kind: TxKind::PdelayReq,
            sequence_id: 9,
        },
    );
    let r = wait_recv(rx, event_role, &mut buf);
    assert_eq!(&buf[..r.len], &pdelay[..]);
    let t_rx = software(r.timestamp);
    let t = wait_tx(tx);
    let (ctx, ts) = tracker.resolve(&t).expect("pdelay stamp tracked");
    assert_eq!(ctx.kind, TxKind::PdelayReq);
    assert!(software(Some(ts)) <= t_rx + 1_000_000);
    check_wire(
        transport,
        &capture.find(&pdelay),
        Destination::PeerDelay,
        true,
    );

    // Nothing else is queued.
    assert!(tx.recv_tx_timestamp().unwrap().is_none());
    assert!(rx.recv(&mut buf).unwrap().is_none());
}

fn check_wire(transport: Transport, frame: &[u8], dest: Destination, event: bool) {
    let port: u16 = if event { 319 } else { 320 };
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    match transport {
        Transport::UdpIpv4 => {
            let (mac, ip) = match dest {
                Destination::Primary => ([0x01, 0x00, 0x5e, 0x00, 0x01, 0x81], [224, 0, 1, 129]),
                Destination::PeerDelay => ([0x01, 0x00, 0x5e, 0x00, 0x00, 0x6b], [224, 0, 0, 107]),
            };
            assert_eq!(&frame[..6], &mac);
            assert_eq!(ethertype, 0x0800);
            assert_eq!(&frame[30..34], &ip);
            assert_eq!(frame[14 + 8], 1, "TTL 1");
            let ihl = usize::from(frame[14] & 0x0f) * 4;
            assert_eq!(
                u16::from_be_bytes([frame[14 + ihl + 2], frame[14 + ihl + 3]]),
                port
            );
        }
        Transport::UdpIpv6 => {
            let (mac, ip): ([u8; 6], std::net::Ipv6Addr) = match dest {
                Destination::Primary => {
                    ([0x33, 0x33, 0, 0, 0x01, 0x81], "ff0e::181".parse().unwrap())
                }
                Destination::PeerDelay => {
                    ([0x33, 0x33, 0, 0, 0, 0x6b], "ff02::6b".parse().unwrap())
                }
            };
            assert_eq!(&frame[..6], &mac);
            assert_eq!(ethertype, 0x86dd);
            assert_eq!(&frame[38..54], &ip.octets());
            assert_eq!(frame[14 + 7], 1, "hop limit 1");
            assert_eq!(
                u16::from_be_bytes([frame[14 + 40 + 2], frame[14 + 40 + 3]]),
                port
            );
        }
        Transport::Ethernet => {
            let mac = match dest {
                Destination::Primary => [0x01, 0x1b, 0x19, 0, 0, 0],
                Destination::PeerDelay => [0x01, 0x80, 0xc2, 0, 0, 0x0e],
            };
            assert_eq!(&frame[..6], &mac);
            assert_eq!(&frame[6..12], &MAC_A);
            assert_eq!(ethertype, 0x88f7);
        }
    }
}

fn open(lab: &Lab, ns_a: bool, transport: Transport) -> PortSockets {
    let (ns, ifname) = if ns_a { (&lab.a, IF_A) } else { (&lab.b, IF_B) };
    lab.in_ns(ns, || {
        PortSockets::open(
            ifname,
            transport,
            TimestampingMode::Software,
            NetOptions::default(),
        )
    })
    .unwrap_or_else(|e| panic!("open {transport:?} on {ifname}: {e}"))
}

fn run_transport(tag: &str, transport: Transport, from: PeerAddress) {
    let Some(lab) = Lab::new(tag) else { return };
    let a = open(&lab, true, transport);
    let b = open(&lab, false, transport);
    assert!(a.sockets().all(|s| s.as_fd().as_raw_fd() >= 0));
    let capture = lab.in_ns(&lab.b, || Capture::open(IF_B));
    exchange(transport, &a, &b, &capture, from);
}

#[test]
fn udp_ipv4_software_timestamps() {
    let from = PeerAddress::V4("192.0.2.1:319".parse().unwrap());
    run_transport("u4", Transport::UdpIpv4, from);
}

#[test]
fn ethernet_software_timestamps() {
    run_transport("l2", Transport::Ethernet, PeerAddress::Ethernet(MAC_A));
}

#[test]
fn udp_ipv6_software_timestamps() {
    let Some(lab) = Lab::new("u6") else { return };
    let a = open(&lab, true, Transport::UdpIpv6);
    let b = open(&lab, false, Transport::UdpIpv6);
    let capture = lab.in_ns(&lab.b, || Capture::open(IF_B));
    // The kernel picks the source address; learn it from a first message.
    let probe = message(0x00, 44, 1);
    a.send(&probe, Destination::Primary, true).unwrap();
    let mut buf = [0u8; 1500];
    let r = wait_recv(&b, SocketRole::Event, &mut buf);
    let Some(PeerAddress::V6(src)) = r.source else {
        panic!("IPv6 source expected, got {:?}", r.source)
    };
    let link_local: std::net::Ipv6Addr = "fe80::200:5eff:fe00:530a".parse().unwrap();
    let global: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
    assert!(
        *src.ip() == link_local || *src.ip() == global,
        "source {src}"
    );
    assert_eq!(src.port(), 319);
    let _ = wait_tx(&a);
    let _ = capture.find(&probe);
    // Peer delay to FF02::6B may come from the link-local address; accept
    // any of A's addresses by comparing the IP only per message below.
    exchange_v6(&a, &b, &capture, *src.ip(), [link_local, global]);
}

fn exchange_v6(
    a: &PortSockets,
    b: &PortSockets,
    capture: &Capture,
    primary_src: std::net::Ipv6Addr,
    allowed: [std::net::Ipv6Addr; 2],
) {
    let from = PeerAddress::V6(std::net::SocketAddrV6::new(primary_src, 319, 0, 0));
    // `exchange` compares the full source; the scope id of a global source
    // is 0 and that of a link-local source is the interface index.
    let from = match from {
        PeerAddress::V6(s) if s.ip().is_unicast_link_local() => {
            PeerAddress::V6(std::net::SocketAddrV6::new(*s.ip(), 319, 0, b.ifindex()))
        }
        other => other,
    };
    assert!(allowed.contains(&primary_src));
    exchange(Transport::UdpIpv6, a, b, capture, from);
}

#[test]
fn reverse_direction_udp_ipv4() {
    let Some(lab) = Lab::new("rev") else { return };
    let a = open(&lab, true, Transport::UdpIpv4);
    let b = open(&lab, false, Transport::UdpIpv4);
    let mut buf = [0u8; 1500];
    let out = b
        .send(&message(0x01, 44, 3), Destination::Primary, true)
        .unwrap();
    assert_eq!(out.tx_id, Some(0), "ids start at 0 on a new socket");
    let r = wait_recv(&a, SocketRole::Event, &mut buf);
    assert_eq!(
        r.source,
        Some(PeerAddress::V4("192.0.2.2:319".parse().unwrap()))
    );
    assert_eq!(wait_tx(&b).id, Some(0));
}

#[test]
fn hardware_timestamping_on_veth_is_unsupported() {
    let Some(lab) = Lab::new("hw") else { return };
    for transport in [Transport::UdpIpv4, Transport::UdpIpv6, Transport::Ethernet] {
        let err = lab
            .in_ns(&lab.a, || {
                PortSockets::open(
                    IF_A,
                    transport,
                    TimestampingMode::Hardware,
                    NetOptions::default(),
                )
            })
            .expect_err("veth has no hardware timestamping");
        assert!(
            matches!(err, NetError::HardwareTimestampingUnsupported { .. }),
            "{err}"
        );
        let text = err.to_string();
        assert!(text.contains("use `timestamping = \"software\"`"), "{text}");
        assert!(text.contains(IF_A), "{text}");
    }
}

#[test]
fn veth_reports_software_capabilities_and_no_phc() {
    let Some(lab) = Lab::new("info") else { return };
    let info = lab
        .in_ns(&lab.a, || timestamping_info(IF_A))
        .expect("ts info");
    assert!(info.supports_software(), "{info:?}");
    assert!(!info.supports_hardware(), "{info:?}");
    assert_eq!(info.phc_index, None);
    let port = open(&lab, true, Transport::UdpIpv4);
    assert_eq!(port.phc_index(), None);
    assert_eq!(port.hardware_config(), None);
    assert_eq!(port.ifindex(), lab.in_ns(&lab.a, || if_index(IF_A)));
}

fn if_index(name: &str) -> u32 {
    let name = std::ffi::CString::new(name).unwrap();
    // SAFETY: `name` is a valid NUL-terminated string.
    unsafe { libc::if_nametoindex(name.as_ptr()) }
}

#[test]
fn missing_interface_inside_a_namespace() {
    let Some(lab) = Lab::new("missing") else {
        return;
    };
    // The host's interface names do not exist in a fresh namespace.
    let err = lab
        .in_ns(&lab.a, || {
            PortSockets::open(
                IF_B,
                Transport::Ethernet,
                TimestampingMode::Software,
                NetOptions::default(),
            )
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("interface {IF_B} not found; see `ip link`")
    );
}

#[test]
fn two_ports_share_the_udp_ports() {
    // A boundary clock opens 319/320 once per interface: SO_REUSEADDR plus
    // SO_BINDTODEVICE make that work. Here: the veth end and lo in one ns.
    let Some(lab) = Lab::new("bc") else { return };
    let first = open(&lab, true, Transport::UdpIpv4);
    let second = lab.in_ns(&lab.a, || {
        PortSockets::open(
            "lo",
            Transport::UdpIpv4,
            TimestampingMode::Software,
            NetOptions::default(),
        )
    });
    assert!(second.is_ok(), "{:?}", second.err().map(|e| e.to_string()));
    drop(first);
}
