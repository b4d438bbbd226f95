//! Network namespaces joined by a veth pair (two nodes) or by a bridge in
//! a namespace of its own (three or more nodes). Every interface is created
//! inside a namespace of the lab, so no interface of the host is touched,
//! and all traffic stays inside. [`Lab`] deletes its namespaces (and with
//! them the veths and the bridge) on drop, also when a test panics.
//!
//! The scratch directory (configurations, logs, sockets) is removed unless
//! the test panics or `INTEROP_KEEP_LOGS` is set.
//!
//! Namespace names carry the test process id, a counter and a tag, so
//! tests running in parallel never collide.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// One PTP node: a namespace with one interface.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// The network namespace.
    pub(crate) ns: String,
    /// The interface inside it.
    pub(crate) iface: String,
    /// Its (universal, IANA documentation range) MAC address.
    pub(crate) mac: [u8; 6],
}

impl Node {
    /// The clock identity both ptp4l and our daemon derive from the MAC
    /// (EUI-48 to EUI-64), in linuxptp's spelling: `00005e.fffe.00530a`.
    pub(crate) fn clock_identity(&self) -> String {
        let m = self.mac;
        format!(
            "{:02x}{:02x}{:02x}.fffe.{:02x}{:02x}{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// Namespaces, their nodes, and a scratch directory for configurations,
/// logs and Unix sockets.
pub(crate) struct Lab {
    base: String,
    namespaces: Vec<String>,
    /// The nodes, in creation order.
    pub(crate) nodes: Vec<Node>,
    /// Scratch directory (short path: Unix socket paths must fit 108 bytes).
    pub(crate) dir: PathBuf,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `ip` ({e}); install iproute2"));
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

fn ip_output(args: &[&str]) -> String {
    Command::new("ip")
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|o| format!("{o:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl Lab {
    fn empty(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let base = format!("stiop-{}-{n}-{tag}", std::process::id());
        let dir = std::env::temp_dir().join(&base);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Self {
            base,
            namespaces: Vec::new(),
            nodes: Vec::new(),
            dir,
        }
    }

    fn add_namespace(&mut self, name: &str) {
        // A leftover of an earlier run with the same process id would make
        // `add` fail: remove it first.
        let _ = Command::new("ip").args(["netns", "del", name]).output();
        ip(&["netns", "add", name]);
        self.namespaces.push(name.to_owned());
    }

    fn new_node(&mut self) -> Node {
        let i = self.nodes.len();
        let ns = format!("{}-n{i}", self.base);
        self.add_namespace(&ns);
        let last = 0x0a + u8::try_from(i).expect("few nodes");
        let node = Node {
            ns,
            iface: format!("ptp{i}"),
            mac: [0x00, 0x00, 0x5e, 0x00, 0x53, last],
        };
        self.nodes.push(node.clone());
        node
    }

    /// Addresses, DAD off, link up; then wait until the link has its
    /// carrier and IPv6 its link-local address.
    fn configure(node: &Node, index: usize) {
        let (ns, ifc) = (node.ns.as_str(), node.iface.as_str());
        ip(&["-n", ns, "link", "set", "lo", "up"]);
        ip(&["-n", ns, "link", "set", ifc, "address", &mac_text(node.mac)]);
        // No duplicate address detection and no router solicitations.
        for (key, value) in [("accept_dad", 0), ("router_solicitations", 0)] {
            ip(&[
                "netns",
                "exec",
                ns,
                "sh",
                "-c",
                &format!("echo {value} > /proc/sys/net/ipv6/conf/{ifc}/{key}"),
            ]);
        }
        ip(&[
            "-n",
            ns,
            "addr",
            "add",
            &format!("192.0.2.{}/24", 10 + index),
            "dev",
            ifc,
        ]);
        ip(&[
            "-n",
            ns,
            "addr",
            "add",
            &format!("2001:db8::{:x}/64", 10 + index),
            "dev",
            ifc,
            "nodad",
        ]);
        ip(&["-n", ns, "link", "set", ifc, "up"]);
    }

    fn wait_up(&self) {
        for node in &self.nodes {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let link = ip_output(&["-n", &node.ns, "-o", "link", "show", "dev", &node.iface]);
                let addr = ip_output(&[
                    "-n",
                    &node.ns,
                    "-o",
                    "-6",
                    "addr",
                    "show",
                    "dev",
                    &node.iface,
                ]);
                if link.contains("state UP")
                    && addr.contains("fe80::")
                    && !addr.contains("tentative")
                {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} in {} not up: {link} {addr}",
                    node.iface,
                    node.ns
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Two nodes joined by a veth pair.
    pub(crate) fn pair(tag: &str) -> Self {
        let mut lab = Self::empty(tag);
        let a = lab.new_node();
        let b = lab.new_node();
        ip(&[
            "-n", &a.ns, "link", "add", &a.iface, "type", "veth", "peer", "name", &b.iface,
            "netns", &b.ns,
        ]);
        Self::configure(&a, 0);
        Self::configure(&b, 1);
        lab.wait_up();
        lab
    }

    /// A line of three namespaces, `a - middle - b`: `nodes[0]` and
    /// `nodes[1]` joined by one veth pair, `nodes[3]` (the middle
    /// namespace's second interface) and `nodes[2]` by another. For a
    /// transparent or boundary clock between two others.
    #[allow(dead_code)] // used by transparent_clock.rs only
    pub(crate) fn line(tag: &str) -> Self {
        let mut lab = Self::empty(tag);
        let a = lab.new_node();
        let m = lab.new_node();
        let b = lab.new_node();
        let m2 = Node {
            ns: m.ns.clone(),
            iface: "ptp1b".to_owned(),
            mac: [0x00, 0x00, 0x5e, 0x00, 0x53, 0x1b],
        };
        lab.nodes.push(m2.clone());
        ip(&[
            "-n", &a.ns, "link", "add", &a.iface, "type", "veth", "peer", "name", &m.iface,
            "netns", &m.ns,
        ]);
        ip(&[
            "-n", &b.ns, "link", "add", &b.iface, "type", "veth", "peer", "name", &m2.iface,
            "netns", &m2.ns,
        ]);
        Self::configure(&a, 0);
        Self::configure(&m, 1);
        Self::configure(&b, 2);
        Self::configure(&m2, 3);
        lab.wait_up();
        lab
    }

    /// `count` nodes, each joined by a veth to a bridge in a namespace of
    /// its own (no STP, no forwarding delay, no multicast snooping).
    pub(crate) fn bridged(tag: &str, count: usize) -> Self {
        let mut lab = Self::empty(tag);
        let br_ns = format!("{}-br", lab.base);
        lab.add_namespace(&br_ns);
        ip(&[
            "-n",
            &br_ns,
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
            "mcast_snooping",
            "0",
        ]);
        ip(&["-n", &br_ns, "link", "set", "br0", "up"]);
        for i in 0..count {
            let node = lab.new_node();
            let port = format!("brp{i}");
            ip(&[
                "-n",
                &node.ns,
                "link",
                "add",
                &node.iface,
                "type",
                "veth",
                "peer",
                "name",
                &port,
                "netns",
                &br_ns,
            ]);
            ip(&["-n", &br_ns, "link", "set", &port, "master", "br0"]);
            ip(&["-n", &br_ns, "link", "set", &port, "up"]);
            Self::configure(&node, i);
        }
        lab.wait_up();
        lab
    }

    /// Let the bridge of [`Self::bridged`] forward frames to
    /// 01-80-C2-00-00-0E (the non-forwardable PTP address that ITU-T
    /// G.8275.1 and IEEE 802.1AS use; a Linux bridge drops link-local
    /// groups unless its group_fwd_mask has their bit).
    #[allow(dead_code)] // used by telecom_interop.rs only
    pub(crate) fn forward_ptp_link_local(&self) {
        let br_ns = format!("{}-br", self.base);
        ip(&[
            "-n",
            &br_ns,
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "group_fwd_mask",
            "0x4000",
        ]);
    }

    /// Node `i`.
    pub(crate) fn node(&self, i: usize) -> &Node {
        self.nodes.get(i).expect("no such node")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        if std::thread::panicking() || std::env::var_os("INTEROP_KEEP_LOGS").is_some() {
            eprintln!("interop: logs kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
