//! Membership by gossip with real processes (issue 8 item 5): five overlay
//! daemons on one bridge, each configured with ONE seed peer (a chain:
//! node i seeds with node i + 1, node 5 with node 4) and a keys file
//! holding the pair keys of all the nodes it trusts, learn each other's
//! addresses and admit each other only where each answers an
//! authenticated probe.
//!
//! - G (lab node 0): the grandmaster of domain 0, not an overlay node;
//! - nodes 1 and 2: references (grandmasters of domains 10 and 11 with
//!   clockClass 6 and clockAccuracy 0x21: they state +/-100 ns); virtual
//!   clocks on true time;
//! - nodes 3, 4, 5: slaves of domain 0 with virtual clocks off by up to
//!   200 us, overlay in guarded or monitor mode, `f = 1`;
//! - node 6, the liar (lab node 6): no daemon but a helper of this test
//!   holding real pair keys with all five. It answers probes properly (so
//!   it is admitted) and gossips lies: node 4 at an address nobody has,
//!   node 5 at node 3's address, node 3 at the liar's own address, and an
//!   untrusted node 77.
//!
//! Checks: every node admits the other four within 20 s (the time is
//! printed as a figure line); every read of every node's time file holds
//! CLOCK_REALTIME once the guards agree; no node ever binds a node to an
//! address it does not answer from, nor admits node 77; the lies show as
//! refusals in the counters; and the JSON status and `statime-ctl overlay`
//! list the members.
//!
//! Safety: every daemon steers a virtual clock only; the segment is a
//! bridge in a namespace of its own, created here and deleted on drop.
//! Needs root and iproute2; elsewhere the test prints why it skips.

#[allow(dead_code)]
mod interop;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use bft_overlay::peer::{
    BoundStatus, FLAG_PULL, GOSSIP_LEN, Gossip, Hint, HlcTimestamp, Key, KeyTable, gossip,
};
use interop::lab::Lab;
use interop::procs::{Proc, statime};
use serde_json::Value;

const LOGS: &str = "[logging]\nlevel = \"info\"\nstdout = true\nsyslog = false\n";
/// The overlay nodes (node id = lab index).
const NODES: [u64; 5] = [1, 2, 3, 4, 5];
const LIAR: u64 = 6;
const STRANGER: u64 = 77;
/// Where the liar says node 4 is: an address nobody has.
const NOWHERE: &str = "192.0.2.99:3190";

fn port(iface: &str) -> String {
    format!(
        "[[port]]\n\
         interface = \"{iface}\"\n\
         transport = \"udp-ipv4\"\n\
         delay-mechanism = \"E2E\"\n\
         timestamping = \"software\"\n\
         announce-interval = -2\n\
         announce-receipt-timeout = 3\n\
         sync-interval = -3\n\
         delay-interval = -3\n"
    )
}

fn address(id: u64) -> String {
    format!("192.0.2.{}:3190", 10 + id)
}

/// The key shared by `a` and `b` (the same for both orders).
fn pair_key(a: u64, b: u64) -> [u8; 32] {
    let (lo, hi) = (a.min(b), a.max(b));
    let mut k = [0u8; 32];
    for (i, byte) in k.iter_mut().enumerate() {
        *byte = u8::try_from((lo * 37 + hi * 11 + i as u64 * 17) % 251).expect("byte");
    }
    k
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The keys file of `id`: the other overlay nodes and the liar, mode 0600.
fn keys_file(lab: &Lab, id: u64) -> String {
    let mut text = format!("# node {id}: PEER-ID KEY-ID KEY\n");
    for p in NODES.iter().copied().chain([LIAR]).filter(|&p| p != id) {
        text.push_str(&format!("{p} 1 hex:{}\n", hex(&pair_key(id, p))));
    }
    let path = lab.dir.join(format!("node{id}.keys"));
    std::fs::write(&path, text).expect("keys file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path.display().to_string()
}

fn seed(id: u64) -> u64 {
    if id == 5 { 4 } else { id + 1 }
}

fn overlay_section(lab: &Lab, id: u64, mode: &str) -> String {
    format!(
        "[overlay]\nmode = \"{mode}\"\nfaults = 1\nmax-drift = 50.0\nnode-id = {id}\n\
         peer-poll-interval = \"500ms\"\nfan-out = 4\nkeys-file = \"{}\"\n\
         quarantine-after = \"6s\"\nreadmit-after = \"60s\"\n\n\
         [[overlay.peer]]\nid = {}\naddress = \"{}\"\n",
        keys_file(lab, id),
        seed(id),
        address(seed(id))
    )
}

fn observability(lab: &Lab, id: u64) -> String {
    format!(
        "[observability]\nstatus-socket = \"{}\"\ntime-file = \"{}\"\n",
        socket(lab, id),
        lab.dir.join(format!("time{id}")).display()
    )
}

fn socket(lab: &Lab, id: u64) -> String {
    lab.dir.join(format!("s{id}.sock")).display().to_string()
}

fn ctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run statime-ctl")
}

fn status(socket: &str) -> Option<Value> {
    let o = ctl(&["status", "--json", "-s", socket]);
    o.status
        .success()
        .then(|| serde_json::from_slice(&o.stdout).ok())
        .flatten()
}

/// The members in a status: id to (address, origin).
fn members(v: &Value) -> BTreeMap<u64, (String, String)> {
    v.pointer("/overlay/peers/members")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| {
                    Some((
                        m.get("id")?.as_u64()?,
                        (
                            m.get("address")?.as_str()?.to_owned(),
                            m.get("origin")?.as_str()?.to_owned(),
                        ),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn refused(v: &Value, reason: &str) -> u64 {
    v.pointer(&format!("/overlay/peers/gossip/refused/{reason}"))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

fn realtime_ns() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(d.as_nanos()).expect("fits")
}

fn sock_addr(text: &str) -> std::net::SocketAddr {
    text.parse().expect("address")
}

/// The liar's lies, told to `to`.
fn lies() -> Vec<Hint> {
    vec![
        Hint {
            node: 4,
            addr: Some(sock_addr(NOWHERE)),
        },
        Hint {
            node: 5,
            addr: Some(sock_addr(&address(3))),
        },
        Hint {
            node: 3,
            addr: Some(sock_addr(&address(LIAR))),
        },
        Hint {
            node: STRANGER,
            addr: Some(sock_addr("192.0.2.77:3190")),
        },
    ]
}

fn signed(to: u64, seq: u64, flags: u8, echo_seq: u64) -> [u8; GOSSIP_LEN] {
    let g = Gossip {
        flags,
        status: BoundStatus::Unknown,
        sender: LIAR,
        receiver: to,
        key_id: 1,
        hlc: HlcTimestamp::default(),
        seq,
        echo_seq,
        hints: lies(),
    };
    let mut bytes = g.emit();
    let mut keys = KeyTable::new();
    keys.insert(to, 1, Key::new(pair_key(LIAR, to)));
    let mac = keys.mac_of(to, 1, gossip::body(&bytes)).expect("key");
    gossip::set_mac(&mut bytes, &mac);
    bytes
}

/// Run inside the liar's namespace by the test: for `LIAR_SECONDS`, push
/// lies to every node every 500 ms and answer every authenticated probe
/// (a pull addressed to the liar) with lies, to its source. Does nothing
/// when run as an ordinary test.
#[test]
#[ignore = "a helper run by overlay_membership_by_gossip inside a namespace"]
fn liar_helper() {
    let Ok(secs) = std::env::var("LIAR_SECONDS") else {
        return;
    };
    let secs: u64 = secs.parse().expect("seconds");
    let sock = std::net::UdpSocket::bind("0.0.0.0:3190").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let mut seq = u64::try_from(realtime_ns()).expect("after 1970");
    let end = Instant::now() + Duration::from_secs(secs);
    let mut next_push = Instant::now();
    let mut buf = [0u8; 512];
    while Instant::now() < end {
        if Instant::now() >= next_push {
            next_push += Duration::from_millis(500);
            for to in NODES {
                seq += 1;
                let _ = sock.send_to(&signed(to, seq, FLAG_PULL, 0), address(to));
            }
        }
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let Ok((g, mac)) = Gossip::parse(&buf[..n]) else {
            continue;
        };
        if g.receiver != LIAR || !NODES.contains(&g.sender) || !g.pull() {
            continue;
        }
        let mut keys = KeyTable::new();
        keys.insert(g.sender, 1, Key::new(pair_key(LIAR, g.sender)));
        if keys
            .verify_of(g.sender, g.key_id, &buf[..224], &mac)
            .is_err()
        {
            continue;
        }
        seq += 1;
        let _ = sock.send_to(&signed(g.sender, seq, 0, g.seq), from);
    }
}

/// The liar helper as a child process in namespace `ns` (killed on drop).
struct Liar(Child);

impl Liar {
    fn start(ns: &str, seconds: u64) -> Self {
        let exe = std::env::current_exe().expect("test binary");
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(exe)
            .args(["liar_helper", "--exact", "--ignored", "--nocapture"])
            .env("LIAR_SECONDS", seconds.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the liar");
        Self(child)
    }
}

impl Drop for Liar {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn overlay_membership_by_gossip() {
    if !interop::environment_ready() {
        return;
    }
    let lab = Lab::bridged("members", 7);
    let mut procs: Vec<(u64, Proc)> = Vec::new();
    let g = format!(
        "domain = 0\npriority1 = 10\n\n{}\n[clock]\nkind = \"virtual\"\n\n{LOGS}",
        port(&lab.node(0).iface)
    );
    procs.push((0, statime(&lab, lab.node(0), "gm", &g, "60s")));
    let _liar = Liar::start(&lab.node(6).ns, 60);
    for (id, domain) in [(1u64, 10u8), (2, 11)] {
        let idx = usize::try_from(id).expect("small");
        let toml = format!(
            "domain = {domain}\npriority1 = 10\nclock-class = 6\nclock-accuracy = 0x21\n\n{}\n\
             [clock]\nkind = \"virtual\"\n\n{LOGS}\n{}\n{}",
            port(&lab.node(idx).iface),
            observability(&lab, id),
            overlay_section(&lab, id, "monitor")
        );
        procs.push((
            id,
            statime(&lab, lab.node(idx), &format!("node{id}"), &toml, "60s"),
        ));
    }
    for (id, mode, clock) in [
        (
            3u64,
            "guarded",
            "initial-offset = \"+200us\"\nfrequency-error = 5.0\n",
        ),
        (
            4,
            "monitor",
            "initial-offset = \"-150us\"\nfrequency-error = -3.0\n",
        ),
        (5, "monitor", "initial-offset = \"+50us\"\n"),
    ] {
        let idx = usize::try_from(id).expect("small");
        let toml = format!(
            "domain = 0\nslave-only = true\n\n{}\n[clock]\nkind = \"virtual\"\n{clock}\n{LOGS}\n\
             {}\n{}",
            port(&lab.node(idx).iface),
            observability(&lab, id),
            overlay_section(&lab, id, mode)
        );
        procs.push((
            id,
            statime(&lab, lab.node(idx), &format!("node{id}"), &toml, "60s"),
        ));
    }
    let started = Instant::now();
    let logs = |procs: &[(u64, Proc)]| -> String {
        procs
            .iter()
            .map(|(_, p)| p.describe())
            .collect::<Vec<_>>()
            .join("\n")
    };

    // Every node admits the other four, each at its own address.
    let mut admitted_after: BTreeMap<u64, f64> = BTreeMap::new();
    let deadline = started + Duration::from_secs(20);
    while admitted_after.len() < NODES.len() {
        for id in NODES {
            if admitted_after.contains_key(&id) {
                continue;
            }
            let Some(v) = status(&socket(&lab, id)) else {
                continue;
            };
            let m = members(&v);
            if NODES
                .iter()
                .filter(|&&p| p != id)
                .all(|p| m.get(p).is_some_and(|(a, _)| *a == address(*p)))
            {
                admitted_after.insert(id, started.elapsed().as_secs_f64());
            }
        }
        assert!(
            Instant::now() < deadline,
            "membership never converged; admitted after {admitted_after:?}\n{}\n{}",
            NODES
                .iter()
                .map(|&id| format!(
                    "node {id}: {:#?}",
                    status(&socket(&lab, id)).and_then(|v| v.pointer("/overlay/peers").cloned())
                ))
                .collect::<Vec<_>>()
                .join("\n"),
            logs(&procs)
        );
        thread::sleep(Duration::from_millis(100));
    }
    let converged = admitted_after.values().copied().fold(0.0, f64::max);

    // The guards agree (domain 0, the references and the peers).
    let deadline = started + Duration::from_secs(45);
    loop {
        let agreed = NODES.iter().all(|&id| {
            status(&socket(&lab, id)).is_some_and(|v| {
                v.pointer("/overlay/status").and_then(Value::as_str) == Some("agreement")
            })
        });
        if agreed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the guards never agreed\n{}",
            logs(&procs)
        );
        thread::sleep(Duration::from_millis(250));
    }
    let agreed_after = started.elapsed().as_secs_f64();

    // For 6 s: every read of every time file holds CLOCK_REALTIME, and no
    // node holds a lie.
    let clients: Vec<(u64, bft_overlay::shm::Client)> = NODES
        .iter()
        .map(|&id| {
            let path = lab.dir.join(format!("time{id}"));
            (
                id,
                bft_overlay::shm::Client::open(&path).expect("the time file exists"),
            )
        })
        .collect();
    let mut widths: Vec<i128> = Vec::new();
    let end = Instant::now() + Duration::from_secs(6);
    let mut last: BTreeMap<u64, Value> = BTreeMap::new();
    while Instant::now() < end {
        for (id, client) in &clients {
            let before = realtime_ns();
            let t = client.now().expect("readable");
            let after = realtime_ns();
            assert_eq!(
                t.status,
                bft_overlay::shm::Status::Synchronized,
                "node {id}"
            );
            assert!(
                t.earliest <= after && t.latest >= before,
                "node {id}: [{}, {}] misses CLOCK_REALTIME [{before}, {after}]",
                t.earliest,
                t.latest
            );
            widths.push((i128::from(t.latest) - i128::from(t.earliest)) / 2);
        }
        for id in NODES {
            let v = status(&socket(&lab, id)).expect("status");
            for (m, (addr, _)) in members(&v) {
                let expected = address(m);
                assert_eq!(addr, expected, "node {id} binds {m} to {addr}: {v:#}");
                assert_ne!(m, STRANGER, "node {id} admitted the stranger");
            }
            last.insert(id, v);
        }
        thread::sleep(Duration::from_millis(250));
    }

    // The lies were heard and refused.
    let total = |reason: &str| last.values().map(|v| refused(v, reason)).sum::<u64>();
    assert!(
        total("untrusted") > 0,
        "no refusal of node 77: {:#?}",
        last.values()
            .map(|v| v.pointer("/overlay/peers/gossip").cloned())
            .collect::<Vec<_>>()
    );
    assert!(
        total("unanswered") > 0,
        "no failed probe: {:#?}",
        last.values()
            .map(|v| v.pointer("/overlay/peers/gossip").cloned())
            .collect::<Vec<_>>()
    );
    let log3 = procs
        .iter()
        .find(|(id, _)| *id == 3)
        .map(|(_, p)| p.log())
        .unwrap_or_default();
    assert!(
        log3.contains("overlay: peer 5 admitted at 192.0.2.15:3190"),
        "node 3 log:\n{log3}"
    );
    let table = ctl(&["overlay", "-s", &socket(&lab, 3)]);
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("member 5") && l.contains("learned")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("member 4") && l.contains("configured")),
        "{table}"
    );
    assert!(table.contains("gossip: "), "{table}");

    widths.sort_unstable();
    let counters: Vec<String> = NODES
        .iter()
        .map(|id| {
            let g = last[id].pointer("/overlay/peers/gossip").cloned();
            let n = |k: &str| {
                g.as_ref()
                    .and_then(|g| g.get(k))
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
            };
            format!(
                "{id}: {} hints/{} probes/{} admitted/{} refused",
                n("hints_received"),
                n("probes_sent"),
                n("admitted"),
                g.as_ref()
                    .and_then(|g| g.get("refused"))
                    .and_then(Value::as_object)
                    .map_or(0, |r| r.values().filter_map(Value::as_u64).sum::<u64>())
            )
        })
        .collect();
    interop::figures(&format!(
        "overlay membership: 5 nodes seeded in a chain all admitted the other four after \
         {converged:.1} s (per node {}); guards agreed after {agreed_after:.1} s; published \
         half-width median {} ns, max {} ns over {} reads; refusals of the liar's hints: {} \
         untrusted, {} unanswered, {} pinned; counters {}",
        admitted_after
            .iter()
            .map(|(id, t)| format!("{id}: {t:.1}"))
            .collect::<Vec<_>>()
            .join(", "),
        widths[widths.len() / 2],
        widths[widths.len() - 1],
        widths.len(),
        total("untrusted"),
        total("unanswered"),
        total("pinned"),
        counters.join("; ")
    ));
    println!("{table}");
    drop(procs);
}

/// `[overlay] gossip` and `max-members`: defaults, ranges, and `faults`
/// counted against the trusted nodes of the keys file (no root needed).
#[test]
fn gossip_keys_are_validated() {
    use statime_linux::config::Config;
    let dir = std::env::temp_dir().join(format!("statime-gossip-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let keys = dir.join("peers.keys");
    std::fs::write(
        &keys,
        format!(
            "2 1 hex:{}\n3 1 hex:{}\n",
            hex(&pair_key(1, 2)),
            hex(&pair_key(1, 3))
        ),
    )
    .expect("keys");
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let text = |extra: &str| {
        format!(
            "slave-only = true\n[[port]]\ninterface = \"eth0\"\ntimestamping = \"software\"\n\
             [clock]\nkind = \"virtual\"\n[overlay]\nmode = \"monitor\"\nnode-id = 1\n\
             keys-file = \"{}\"\n{extra}\n[[overlay.peer]]\nid = 2\naddress = \"192.0.2.12:3190\"\n",
            keys.display()
        )
    };
    let errors = |extra: &str| -> Vec<String> {
        match Config::from_toml(&text(extra), "t.toml") {
            Ok(_) => Vec::new(),
            Err(e) => e.errors().iter().map(ToString::to_string).collect(),
        }
    };
    // One seed and two trusted nodes: with `domain`, 3 sources for f = 1.
    let c = Config::from_toml(&text(""), "t.toml").expect("valid");
    assert!(c.overlay.gossip);
    assert_eq!(c.overlay.max_members, 64);
    // Without gossip only the seed counts: too few.
    let e = errors("gossip = false");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("overlay.faults"), "{e:?}");
    // max-members caps what gossip may bring.
    let e = errors("max-members = 1");
    assert!(e.iter().any(|l| l.contains("overlay.faults")), "{e:?}");
    let e = errors("max-members = 0");
    assert!(
        e.iter()
            .any(|l| l.starts_with("t.toml:11:15: overlay.max-members: 0 is out of range 1..=240")),
        "{e:?}"
    );
    let e = errors("max-members = 241");
    assert!(e.iter().any(|l| l.contains("overlay.max-members")), "{e:?}");
    let w = Config::from_toml(
        &text("faults = 0\ngossip = false\nmax-members = 8"),
        "t.toml",
    )
    .expect("valid")
    .warnings();
    assert!(
        w.iter().any(|d| d
            .to_string()
            .contains("overlay.max-members: has no effect without gossip")),
        "{w:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
