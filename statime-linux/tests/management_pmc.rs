//! PTP management against linuxptp's `pmc` (3.1.1): our daemon answers
//! GET over its Unix management socket (`pmc -u -s PATH`) and over UDPv4
//! from another network namespace (`pmc -4 -i IFACE`), and the values pmc
//! prints match the daemon's configuration and state (IEEE 1588-2019
//! clause 15; linuxptp's TIME_STATUS_NP and PORT_PROPERTIES_NP). A SET is
//! refused (SET is not enabled).
//!
//! Safety: the daemon steers a virtual clock only; pmc never adjusts a
//! clock. All traffic stays on a veth pair between two namespaces created
//! here and deleted on drop.
//!
//! Needs root, `ip` and `pmc` (Debian's linuxptp). In CI (`CI` set) a
//! missing one is a failure; elsewhere the test prints why it skips.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn ready() -> bool {
    let missing = if !is_root() {
        Some("root (network namespaces)")
    } else if !have("ip") {
        Some("`ip` (iproute2)")
    } else if !have("pmc") {
        Some("`pmc` (apt-get install -y linuxptp)")
    } else {
        None
    };
    match missing {
        Some(what) if in_ci() => panic!("management_pmc needs {what}"),
        Some(what) => {
            eprintln!("skipping management_pmc: needs {what}");
            false
        }
        None => true,
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces joined by a veth pair; deleted on drop.
struct Net {
    ns: [String; 2],
    iface: [String; 2],
    dir: PathBuf,
}

impl Net {
    fn new() -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("{}{n}", std::process::id());
        let net = Self {
            ns: [format!("smgmt{id}a"), format!("smgmt{id}b")],
            iface: [format!("mgm{id}a"), format!("mgm{id}b")],
            dir: std::env::temp_dir().join(format!("statime-mgmt-{id}")),
        };
        let _ = std::fs::remove_dir_all(&net.dir);
        std::fs::create_dir_all(&net.dir).expect("temp dir");
        for ns in &net.ns {
            ip(&["netns", "add", ns]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        let [a, b] = &net.iface;
        ip(&["link", "add", a, "type", "veth", "peer", "name", b]);
        for (i, (ns, iface)) in net.ns.iter().zip(&net.iface).enumerate() {
            ip(&["link", "set", iface, "netns", ns]);
            let mac = format!("02:00:5e:00:53:0{}", i + 1);
            ip(&["-n", ns, "link", "set", iface, "address", &mac]);
            let addr = format!("192.0.2.{}/24", i + 1);
            ip(&["-n", ns, "addr", "add", &addr, "dev", iface]);
            ip(&["-n", ns, "link", "set", iface, "up"]);
        }
        net
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in &self.ns {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The daemon, killed on drop.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM (`ip netns exec` execs the daemon: the child's pid is its
    /// pid) and wait up to 5 s for a clean exit.
    fn stop(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run pmc in `ns` with `args` and the command `cmd`.
fn pmc(ns: &str, args: &[&str], cmd: &str) -> Output {
    Command::new("ip")
        .args(["netns", "exec", ns, "pmc"])
        .args(args)
        .arg(cmd)
        .stdin(Stdio::null())
        .output()
        .expect("run pmc")
}

/// The `name value` lines pmc printed for the first RESPONSE.
fn fields(out: &Output) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(&out.stdout);
    let mut map = HashMap::new();
    let mut inside = false;
    for line in text.lines() {
        if line.contains(" RESPONSE MANAGEMENT ") {
            if inside {
                break;
            }
            inside = true;
            continue;
        }
        if inside && line.starts_with("\t\t") {
            let mut words = line.split_whitespace();
            if let Some(k) = words.next() {
                map.insert(k.to_owned(), words.collect::<Vec<_>>().join(" "));
            }
        }
    }
    map
}

fn check(map: &HashMap<String, String>, expected: &[(&str, &str)], what: &str, raw: &Output) {
    for (k, v) in expected {
        assert_eq!(
            map.get(*k).map(String::as_str),
            Some(*v),
            "{what}: field {k}; pmc printed:\n{}",
            String::from_utf8_lossy(&raw.stdout)
        );
    }
}

const IDENTITY: &str = "02005e.fffe.005301";

fn config(iface: &str, socket: &Path) -> String {
    format!(
        "domain = 3\n\
         priority1 = 77\n\
         priority2 = 99\n\
         user-description = \"lab gm;statime;rack 3\"\n\
         \n\
         [[port]]\n\
         interface = \"{iface}\"\n\
         transport = \"udp-ipv4\"\n\
         delay-mechanism = \"E2E\"\n\
         timestamping = \"software\"\n\
         announce-interval = -2\n\
         announce-receipt-timeout = 2\n\
         sync-interval = -1\n\
         \n\
         [clock]\n\
         kind = \"virtual\"\n\
         \n\
         [logging]\n\
         level = \"info\"\n\
         stdout = true\n\
         syslog = false\n\
         \n\
         [observability]\n\
         management-socket = \"{}\"\n\
         management-socket-permissions = 0o600\n",
        socket.display()
    )
}

/// Our daemon in the first namespace with `toml`, for `duration`.
fn start_daemon(net: &Net, toml: &str, duration: &str) -> Daemon {
    let cfg = net.dir.join("statime.toml");
    std::fs::write(&cfg, toml).expect("write config");
    let log = net.dir.join("statime.log");
    let out = std::fs::File::create(&log).expect("log");
    let child = Command::new("ip")
        .args(["netns", "exec", &net.ns[0], env!("CARGO_BIN_EXE_statime")])
        .args(["-c", &cfg.display().to_string(), "--duration", duration])
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("log"))
        .stderr(out)
        .spawn()
        .expect("start statime");
    Daemon { child, log }
}

#[test]
fn pmc_queries_our_daemon() {
    if !ready() {
        return;
    }
    let net = Net::new();
    let socket = net.dir.join("management");
    let toml = config(&net.iface[0], &socket);
    assert!(toml.contains("kind = \"virtual\""));
    let mut daemon = start_daemon(&net, &toml, "50s");

    let uds = socket.display().to_string();
    let local = ["-u", "-b", "0", "-d", "3", "-s", uds.as_str()];
    // Wait for the socket and for the port to become MASTER.
    let deadline = Instant::now() + Duration::from_secs(15);
    let (port, port_raw) = loop {
        let o = pmc(&net.ns[0], &local, "GET PORT_DATA_SET");
        let m = fields(&o);
        if m.get("portState").is_some_and(|s| s == "MASTER") {
            break (m, o);
        }
        assert!(
            Instant::now() < deadline,
            "no MASTER port over the management socket; pmc: {}\ndaemon log:\n{}",
            String::from_utf8_lossy(&o.stdout),
            daemon.log()
        );
        thread::sleep(Duration::from_millis(250));
    };
    let mode = std::fs::metadata(&socket).map(|m| {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode() & 0o777
    });
    assert_eq!(mode.ok(), Some(0o600), "socket permissions");
    let port_id = format!("{IDENTITY}-1");
    check(
        &port,
        &[
            ("portIdentity", port_id.as_str()),
            ("portState", "MASTER"),
            ("logMinDelayReqInterval", "0"),
            ("logAnnounceInterval", "-2"),
            ("announceReceiptTimeout", "2"),
            ("logSyncInterval", "-1"),
            ("delayMechanism", "1"),
            // pmc prints the whole octet: minorVersionNumber 1 << 4 | 2.
            ("versionNumber", "18"),
        ],
        "PORT_DATA_SET",
        &port_raw,
    );

    let expectations: [(&str, Vec<(&str, &str)>); 6] = [
        (
            "DEFAULT_DATA_SET",
            vec![
                ("twoStepFlag", "1"),
                ("slaveOnly", "0"),
                ("numberPorts", "1"),
                ("priority1", "77"),
                ("clockClass", "248"),
                ("clockAccuracy", "0xfe"),
                ("offsetScaledLogVariance", "0xffff"),
                ("priority2", "99"),
                ("clockIdentity", IDENTITY),
                ("domainNumber", "3"),
            ],
        ),
        (
            "CURRENT_DATA_SET",
            vec![
                ("stepsRemoved", "0"),
                ("offsetFromMaster", "0.0"),
                ("meanPathDelay", "0.0"),
            ],
        ),
        (
            "PARENT_DATA_SET",
            vec![
                ("parentPortIdentity", "02005e.fffe.005301-0"),
                ("grandmasterPriority1", "77"),
                ("gm.ClockClass", "248"),
                ("gm.ClockAccuracy", "0xfe"),
                ("gm.OffsetScaledLogVariance", "0xffff"),
                ("grandmasterPriority2", "99"),
                ("grandmasterIdentity", IDENTITY),
            ],
        ),
        (
            "TIME_PROPERTIES_DATA_SET",
            vec![
                ("leap61", "0"),
                ("leap59", "0"),
                ("ptpTimescale", "0"),
                ("timeTraceable", "0"),
                ("frequencyTraceable", "0"),
                ("timeSource", "0xa0"),
            ],
        ),
        (
            "TIME_STATUS_NP",
            vec![
                ("master_offset", "0"),
                ("gmPresent", "false"),
                ("gmIdentity", IDENTITY),
            ],
        ),
        (
            "PORT_PROPERTIES_NP",
            vec![
                ("portIdentity", port_id.as_str()),
                ("portState", "MASTER"),
                ("timestamping", "SOFTWARE"),
                ("interface", net.iface[0].as_str()),
            ],
        ),
    ];
    for (id, expected) in &expectations {
        let o = pmc(&net.ns[0], &local, &format!("GET {id}"));
        let m = fields(&o);
        check(&m, expected, id, &o);
    }

    let o = pmc(&net.ns[0], &local, "GET USER_DESCRIPTION");
    check(
        &fields(&o),
        &[("userDescription", "lab gm;statime;rack 3")],
        "USER_DESCRIPTION",
        &o,
    );

    // SET is not enabled: refused with MANAGEMENT_ERROR_STATUS, no change.
    let o = pmc(&net.ns[0], &local, "SET PRIORITY1 50");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("MANAGEMENT_ERROR_STATUS") && !text.contains("RESPONSE MANAGEMENT PRIORITY1"),
        "SET PRIORITY1 must be refused; pmc printed:\n{text}"
    );
    let o = pmc(&net.ns[0], &local, "GET PRIORITY1");
    check(
        &fields(&o),
        &[("priority1", "77")],
        "PRIORITY1 after SET",
        &o,
    );

    // pmc over UDPv4 from the other namespace: answered on the network.
    let iface_b = net.iface[1].clone();
    let remote = ["-4", "-i", iface_b.as_str(), "-b", "1", "-d", "3"];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = pmc(&net.ns[1], &remote, "GET CURRENT_DATA_SET");
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        if text.contains(&format!("{IDENTITY}-1 seq"))
            && text.contains("RESPONSE MANAGEMENT CURRENT_DATA_SET")
        {
            check(
                &fields(&o),
                &[("stepsRemoved", "0")],
                "CURRENT_DATA_SET over UDPv4",
                &o,
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no answer over UDPv4; pmc printed:\n{text}\ndaemon log:\n{}",
            daemon.log()
        );
        thread::sleep(Duration::from_millis(250));
    }
    assert!(daemon.stop(), "the daemon stops on SIGTERM");
    assert!(!socket.exists(), "the daemon removes its socket on exit");
}

#[test]
fn pmc_set_when_enabled() {
    if !ready() {
        return;
    }
    let net = Net::new();
    let socket = net.dir.join("management");
    let toml = config(&net.iface[0], &socket).replace(
        "management-socket-permissions = 0o600\n",
        "management-socket-permissions = 0o600\nmanagement-allow-set = true\n",
    );
    assert!(toml.contains("management-allow-set = true"));
    let mut daemon = start_daemon(&net, &toml, "30s");
    let uds = socket.display().to_string();
    let local = ["-u", "-b", "0", "-d", "3", "-s", uds.as_str()];
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let o = pmc(&net.ns[0], &local, "GET PRIORITY1");
        if fields(&o).get("priority1").is_some_and(|p| p == "77") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "daemon not answering:\n{}",
            daemon.log()
        );
        thread::sleep(Duration::from_millis(250));
    }
    let o = pmc(&net.ns[0], &local, "SET PRIORITY1 50");
    check(
        &fields(&o),
        &[("priority1", "50")],
        "SET PRIORITY1 answer",
        &o,
    );
    // The change is in defaultDS and, as grandmaster, in parentDS.
    let o = pmc(&net.ns[0], &local, "GET DEFAULT_DATA_SET");
    check(
        &fields(&o),
        &[("priority1", "50")],
        "DEFAULT_DATA_SET after SET",
        &o,
    );
    let o = pmc(&net.ns[0], &local, "GET PARENT_DATA_SET");
    check(
        &fields(&o),
        &[("grandmasterPriority1", "50")],
        "PARENT_DATA_SET after SET",
        &o,
    );
    assert!(daemon.stop(), "the daemon stops on SIGTERM");
}

/// pmc over IEEE 802.3 (`pmc -2`) from the other namespace, against a daemon
/// whose port runs the Ethernet transport: management is answered on L2 too.
#[test]
fn pmc_over_layer_2() {
    if !ready() {
        return;
    }
    let net = Net::new();
    let socket = net.dir.join("management");
    let toml = config(&net.iface[0], &socket)
        .replace("transport = \"udp-ipv4\"", "transport = \"ethernet\"");
    assert!(toml.contains("transport = \"ethernet\""));
    let daemon = start_daemon(&net, &toml, "30s");
    let iface_b = net.iface[1].clone();
    let remote = ["-2", "-i", iface_b.as_str(), "-b", "1", "-d", "3"];
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let o = pmc(&net.ns[1], &remote, "GET DEFAULT_DATA_SET");
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        if text.contains("RESPONSE MANAGEMENT DEFAULT_DATA_SET") {
            check(
                &fields(&o),
                &[
                    ("clockIdentity", IDENTITY),
                    ("priority1", "77"),
                    ("domainNumber", "3"),
                ],
                "DEFAULT_DATA_SET over L2",
                &o,
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no answer over L2; pmc printed:\n{text}\ndaemon log:\n{}",
            daemon.log()
        );
        thread::sleep(Duration::from_millis(250));
    }
}

/// Three namespaces in a line, A - B - C: B has two interfaces (one to A,
/// one to C). Deleted on drop.
struct Chain {
    ns: [String; 3],
    /// (A's, B's to A), (B's to C, C's).
    iface: [String; 4],
    dir: PathBuf,
}

impl Chain {
    fn new() -> Self {
        let id = format!("{}c", std::process::id());
        let chain = Self {
            ns: [
                format!("smgmt{id}a"),
                format!("smgmt{id}b"),
                format!("smgmt{id}c"),
            ],
            iface: [
                format!("mgm{id}a"),
                format!("mgm{id}b"),
                format!("mgm{id}d"),
                format!("mgm{id}e"),
            ],
            dir: std::env::temp_dir().join(format!("statime-mgmt-{id}")),
        };
        let _ = std::fs::remove_dir_all(&chain.dir);
        std::fs::create_dir_all(&chain.dir).expect("temp dir");
        for ns in &chain.ns {
            ip(&["netns", "add", ns]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        // (interface, namespace index, address)
        let plan = [
            (0, 0, "192.0.2.1/24"),
            (1, 1, "192.0.2.2/24"),
            (2, 1, "198.51.100.2/24"),
            (3, 2, "198.51.100.3/24"),
        ];
        for pair in chain.iface.chunks(2) {
            ip(&[
                "link", "add", &pair[0], "type", "veth", "peer", "name", &pair[1],
            ]);
        }
        for (i, n, addr) in plan {
            let (iface, ns) = (&chain.iface[i], &chain.ns[n]);
            ip(&["link", "set", iface, "netns", ns]);
            let mac = format!("02:00:5e:00:55:0{}", i + 1);
            ip(&["-n", ns, "link", "set", iface, "address", &mac]);
            ip(&["-n", ns, "addr", "add", addr, "dev", iface]);
            ip(&["-n", ns, "link", "set", iface, "up"]);
        }
        chain
    }

    fn start(&self, which: usize, toml: &str) -> Daemon {
        let cfg = self.dir.join(format!("statime{which}.toml"));
        std::fs::write(&cfg, toml).expect("write config");
        let log = self.dir.join(format!("statime{which}.log"));
        let out = std::fs::File::create(&log).expect("log");
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns[which],
                env!("CARGO_BIN_EXE_statime"),
            ])
            .args(["-c", &cfg.display().to_string(), "--duration", "60s"])
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("start statime");
        Daemon { child, log }
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        for ns in &self.ns {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn port_section(iface: &str) -> String {
    format!(
        "[[port]]\n\
         interface = \"{iface}\"\n\
         transport = \"udp-ipv4\"\n\
         timestamping = \"software\"\n\
         announce-interval = -2\n\
         announce-receipt-timeout = 2\n"
    )
}

const CLOCK_AND_LOGS: &str = "[clock]\nkind = \"virtual\"\n\n\
    [logging]\nlevel = \"info\"\nstdout = true\nsyslog = false\n";

/// The clock identities of every DEFAULT_DATA_SET RESPONSE pmc printed.
fn responders(out: &Output) -> Vec<String> {
    let text = String::from_utf8_lossy(&out.stdout);
    let mut ids: Vec<String> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("clockIdentity"))
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// boundaryHops (clause 15.3.4): the boundary clock B answers for itself
/// and forwards with boundaryHops one less to its other port, where C
/// answers; C's answer travels back through B. `pmc -b 0` reaches B
/// only; `-b 1` reaches C too, over UDPv4 from A and over B's local
/// socket.
#[test]
fn boundary_clock_forwards_management_by_boundary_hops() {
    if !ready() {
        return;
    }
    let chain = Chain::new();
    let socket = chain.dir.join("management");
    let bc = format!(
        "priority1 = 100\n\n{}\n{}\n{CLOCK_AND_LOGS}\n\
         [observability]\nmanagement-socket = \"{}\"\n",
        port_section(&chain.iface[1]),
        port_section(&chain.iface[2]),
        socket.display()
    );
    let c = format!(
        "slave-only = true\n\n{}\n{CLOCK_AND_LOGS}",
        port_section(&chain.iface[3])
    );
    let b_daemon = chain.start(1, &bc);
    let c_daemon = chain.start(2, &c);
    let b_id = "02005e.fffe.005502";
    let c_id = "02005e.fffe.005504";

    let from_a = |hops: &str| {
        let args = ["-4", "-i", chain.iface[0].as_str(), "-b", hops];
        pmc(&chain.ns[0], &args, "GET DEFAULT_DATA_SET")
    };
    // Until C follows B (its port is SLAVE and B's ports are MASTER).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = from_a("1");
        if responders(&o) == [b_id, c_id] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pmc -b 1 from A never saw both B and C; pmc printed:\n{}\nB log:\n{}\nC log:\n{}",
            String::from_utf8_lossy(&o.stdout),
            b_daemon.log(),
            c_daemon.log()
        );
        thread::sleep(Duration::from_millis(300));
    }
    for _ in 0..3 {
        let o = from_a("0");
        assert_eq!(
            responders(&o),
            [b_id],
            "boundaryHops 0 must stop at B; pmc printed:\n{}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
    // Over B's local socket: -b 0 is B alone, -b 1 reaches C through B.
    let uds = socket.display().to_string();
    let local = |hops: &str| {
        let args = ["-u", "-b", hops, "-s", uds.as_str()];
        pmc(&chain.ns[1], &args, "GET DEFAULT_DATA_SET")
    };
    assert_eq!(responders(&local("0")), [b_id]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = local("1");
        if responders(&o) == [b_id, c_id] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pmc -u -b 1 never saw C through B; pmc printed:\n{}",
            String::from_utf8_lossy(&o.stdout)
        );
        thread::sleep(Duration::from_millis(300));
    }
}
