//! The overlay peer layer with real processes (issue 8 item 4): daemons of
//! ours on one switched segment measure each other over authenticated UDP
//! exchanges (`[[overlay.peer]]`, one key per pair).
//!
//! - G, the grandmaster of domain 0 (not an overlay peer);
//! - R (node 1), a reference: grandmaster of a domain of its own with
//!   clockClass 6 and clockAccuracy 0x21, so it states +/-100 ns to its
//!   peers; its virtual clock is true time;
//! - L (node 2), the liar: the same claim, but its virtual clock runs 1 ms
//!   ahead, free (it follows nobody);
//! - A, B, C (nodes 3, 4, 5): slaves of domain 0 in guarded mode, `f = 1`,
//!   each a peer of all the others.
//!
//! A, B and C start with domain 0, R and L as sources (their own bounds
//! are unknown until their guards agree), condemn L, and from then on are
//! sources for each other. The test checks that every honest node marks
//! `peer 2` a falseticker, that every honest node's published time holds
//! CLOCK_REALTIME (true time for virtual clocks), and that a datagram
//! forged by L in R's name towards A (signed with the L-A key) is dropped
//! and counted as `bad-mac`.
//!
//! Safety: every daemon steers a virtual clock only; the segment is a
//! bridge in a namespace of its own, created here and deleted on drop.
//!
//! Needs root and iproute2; in CI (`CI` set) a missing one is a failure,
//! elsewhere the test prints why it skips.

#[allow(dead_code)]
mod interop;

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use bft_overlay::peer::{BoundStatus, HlcTimestamp, Key, KeyTable, Message, MessageType};
use interop::lab::Lab;
use interop::procs::{Proc, statime};
use serde_json::Value;

const LOGS: &str = "[logging]\nlevel = \"info\"\nstdout = true\nsyslog = false\n";
/// Lab node of each overlay node id (node 0 of the lab is G).
const PEER_IDS: [u64; 5] = [1, 2, 3, 4, 5];
const LIAR: u64 = 2;

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

/// The lab node (and so the IPv4 address 192.0.2.(10 + i)) of peer `id`.
fn lab_index(id: u64) -> usize {
    usize::try_from(id).expect("small")
}

fn address(id: u64) -> String {
    format!("192.0.2.{}:3190", 10 + lab_index(id))
}

/// The key shared by `a` and `b` (the same for both orders).
fn pair_key(a: u64, b: u64) -> [u8; 32] {
    let (lo, hi) = (a.min(b), a.max(b));
    let mut k = [0u8; 32];
    for (i, byte) in k.iter_mut().enumerate() {
        *byte = u8::try_from((lo * 31 + hi * 7 + i as u64 * 13) % 251).expect("byte");
    }
    k
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The keys file of `id`, mode 0600.
fn keys_file(lab: &Lab, id: u64) -> String {
    let mut text = format!("# node {id}: PEER-ID KEY-ID KEY\n");
    for &p in PEER_IDS.iter().filter(|&&p| p != id) {
        text.push_str(&format!("{p} 1 hex:{}\n", hex(&pair_key(id, p))));
    }
    let path = lab.dir.join(format!("node{id}.keys"));
    std::fs::write(&path, text).expect("keys file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path.display().to_string()
}

/// A falseticker, or one quarantined for staying one.
fn condemned(state: Option<&str>) -> bool {
    matches!(state, Some("falseticker" | "quarantined"))
}

fn overlay_section(lab: &Lab, id: u64, mode: &str) -> String {
    let mut s = format!(
        "[overlay]\nmode = \"{mode}\"\nfaults = 1\nmax-drift = 50.0\nnode-id = {id}\n\
         peer-poll-interval = \"500ms\"\nfan-out = 4\nkeys-file = \"{}\"\n\
         quarantine-after = \"6s\"\nreadmit-after = \"60s\"\n",
        keys_file(lab, id)
    );
    for &p in PEER_IDS.iter().filter(|&&p| p != id) {
        s.push_str(&format!(
            "\n[[overlay.peer]]\nid = {p}\naddress = \"{}\"\n",
            address(p)
        ));
    }
    s
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

fn source_state(v: &Value, name: &str) -> Option<String> {
    v.pointer("/overlay/sources")?
        .as_array()?
        .iter()
        .find(|s| s.get("name").and_then(Value::as_str) == Some(name))?
        .get("state")?
        .as_str()
        .map(str::to_owned)
}

fn realtime_ns() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(d.as_nanos()).expect("fits")
}

/// A request claiming to come from R (node 1) to A (node 3), signed with
/// the key L shares with A: what a member can do to impersonate another.
fn forged_request(seq: u64) -> [u8; 128] {
    let m = Message {
        kind: MessageType::Request,
        flags: 0,
        status: BoundStatus::Synchronized,
        sender: 1,
        receiver: 3,
        key_id: 1,
        hlc: HlcTimestamp::default(),
        seq,
        echo_seq: 0,
        t1: u64::try_from(realtime_ns()).expect("after 1970"),
        t2: 0,
        t3: 0,
        lower_ns: -100,
        upper_ns: 100,
    };
    let mut bytes = m.emit();
    let mut keys = KeyTable::new();
    keys.insert(3, 1, Key::new(pair_key(LIAR, 3)));
    keys.sign(3, 1, &mut bytes).expect("signed");
    bytes
}

/// Run inside a namespace by [`send_forged`]: sends the datagrams given in
/// the environment. Does nothing when run as an ordinary test.
#[test]
#[ignore = "a helper run by overlay_peers_cross_check_and_condemn_a_liar inside a namespace"]
fn forge_helper() {
    let (Ok(to), Ok(data)) = (std::env::var("FORGE_TO"), std::env::var("FORGE_DATAGRAMS")) else {
        return;
    };
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").expect("bind");
    for d in data.split(',') {
        let bytes: Vec<u8> = (0..d.len() / 2)
            .map(|i| u8::from_str_radix(&d[2 * i..2 * i + 2], 16).expect("hex"))
            .collect();
        sock.send_to(&bytes, &to).expect("send");
    }
}

fn send_forged(ns: &str, to: &str, datagrams: &[[u8; 128]]) {
    let data: Vec<String> = datagrams.iter().map(|d| hex(d)).collect();
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(exe)
        .args(["forge_helper", "--exact", "--ignored", "--nocapture"])
        .env("FORGE_TO", to)
        .env("FORGE_DATAGRAMS", data.join(","))
        .output()
        .expect("run the forging helper");
    assert!(
        out.status.success(),
        "forge helper: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn overlay_peers_cross_check_and_condemn_a_liar() {
    if !interop::environment_ready() {
        return;
    }
    let lab = Lab::bridged("peers", 6);
    let mut procs: Vec<(u64, Proc)> = Vec::new();
    let g = format!(
        "domain = 0\npriority1 = 10\n\n{}\n[clock]\nkind = \"virtual\"\n\n{LOGS}",
        port(&lab.node(0).iface)
    );
    procs.push((0, statime(&lab, lab.node(0), "gm", &g, "70s")));
    // R and L: grandmasters of domains nobody else runs, claiming a
    // primary reference within 100 ns.
    for (id, domain, clock) in [(1, 10, ""), (LIAR, 11, "initial-offset = \"+1ms\"\n")] {
        let toml = format!(
            "domain = {domain}\npriority1 = 10\nclock-class = 6\nclock-accuracy = 0x21\n\n{}\n\
             [clock]\nkind = \"virtual\"\n{clock}\n{LOGS}\n{}\n{}",
            port(&lab.node(lab_index(id)).iface),
            observability(&lab, id),
            overlay_section(&lab, id, "monitor")
        );
        procs.push((
            id,
            statime(
                &lab,
                lab.node(lab_index(id)),
                &format!("node{id}"),
                &toml,
                "70s",
            ),
        ));
    }
    // A guarded (its servo may follow domain 0 only, never a peer), B
    // and C in monitor mode (their servo follows domain 0 as the BMCA
    // decides); all three publish their guard's intersection.
    for (id, mode, clock) in [
        (
            3,
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
        let toml = format!(
            "domain = 0\nslave-only = true\n\n{}\n[clock]\nkind = \"virtual\"\n{clock}\n{LOGS}\n\
             {}\n{}",
            port(&lab.node(lab_index(id)).iface),
            observability(&lab, id),
            overlay_section(&lab, id, mode)
        );
        procs.push((
            id,
            statime(
                &lab,
                lab.node(lab_index(id)),
                &format!("node{id}"),
                &toml,
                "70s",
            ),
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
    let honest_followers = [3u64, 4, 5];
    let honest = [1u64, 3, 4, 5];

    // Until every follower agrees, has condemned the liar and locked, and
    // every honest node has all other honest peers as truechimers.
    let mut condemned_after: Vec<Option<f64>> = vec![None; 6];
    let deadline = started + Duration::from_secs(40);
    loop {
        let mut done = true;
        for &id in &honest {
            let v = status(&socket(&lab, id));
            let ok = v.as_ref().is_some_and(|v| {
                let liar = condemned(source_state(v, "peer 2").as_deref());
                if liar && condemned_after[lab_index(id)].is_none() {
                    condemned_after[lab_index(id)] = Some(started.elapsed().as_secs_f64());
                }
                let peers_true = honest.iter().filter(|&&p| p != id).all(|p| {
                    source_state(v, &format!("peer {p}")).as_deref() == Some("truechimer")
                });
                let agreed =
                    v.pointer("/overlay/status").and_then(Value::as_str) == Some("agreement");
                let locked = id == 1
                    || v.pointer("/servo/state")
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.starts_with("locked"));
                liar && peers_true && agreed && locked
            });
            done &= ok;
        }
        if done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the peers never settled; condemned after {condemned_after:?}\n{}\n{}",
            honest
                .iter()
                .map(|&id| format!("node {id}: {:#?}", status(&socket(&lab, id))))
                .collect::<Vec<_>>()
                .join("\n"),
            logs(&procs)
        );
        thread::sleep(Duration::from_millis(250));
    }
    let settled_after = started.elapsed().as_secs_f64();

    // For 8 s: the liar stays condemned, the followers follow domain 0,
    // and every read of each honest node's time file holds true time.
    let clients: Vec<(u64, bft_overlay::shm::Client)> = honest
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
    let mut worst_error = 0f64;
    let (mut checks, mut following) = (0usize, 0usize);
    let end = Instant::now() + Duration::from_secs(8);
    while Instant::now() < end {
        for &id in &honest {
            let v = status(&socket(&lab, id)).expect("status");
            assert!(
                condemned(source_state(&v, "peer 2").as_deref()),
                "node {id}: {v:#}"
            );
            if honest_followers.contains(&id) {
                // The selection is domain 0, or nobody while its midpoint
                // is outside the intersection: never a peer.
                let selected = v.pointer("/overlay/selected").and_then(Value::as_str);
                assert!(
                    matches!(selected, None | Some("domain 0")),
                    "node {id} follows {selected:?}: {v:#}"
                );
                checks += 1;
                following += usize::from(selected.is_some());
                let e = v
                    .pointer("/true_error_s")
                    .and_then(Value::as_f64)
                    .expect("true error");
                worst_error = worst_error.max(e.abs());
            }
        }
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
        thread::sleep(Duration::from_millis(250));
    }

    // A forgery: L signs a request in R's name to A with its own L-A key.
    let forged: Vec<[u8; 128]> = (0..3).map(|i| forged_request(u64::MAX / 2 + i)).collect();
    let before = status(&socket(&lab, 3)).expect("status");
    let bad_mac = |v: &Value| {
        v.pointer("/overlay/peers/drops/bad-mac")
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let bad_before = bad_mac(&before);
    send_forged(&lab.node(lab_index(LIAR)).ns, &address(3), &forged);
    let deadline = Instant::now() + Duration::from_secs(5);
    let after = loop {
        let v = status(&socket(&lab, 3)).expect("status");
        if bad_mac(&v) >= bad_before + 3 {
            break v;
        }
        assert!(Instant::now() < deadline, "forgeries not counted: {v:#}");
        thread::sleep(Duration::from_millis(100));
    };
    let peers_a = after.pointer("/overlay/peers").expect("peers view");
    assert_eq!(peers_a["own_status"], "synchronized", "{peers_a:#}");
    assert_eq!(peers_a["own_basis"], "intersection", "{peers_a:#}");
    let r = status(&socket(&lab, 1)).expect("status of R");
    assert_eq!(
        r.pointer("/overlay/peers/own_basis"),
        Some(&Value::from("reference"))
    );
    let log_a = procs
        .iter()
        .find(|(id, _)| *id == 3)
        .map(|(_, p)| p.log())
        .unwrap_or_default();
    assert!(
        log_a.contains("overlay: peer 2 is a falseticker"),
        "node 3 log:\n{log_a}"
    );
    // A falseticker for more than quarantine-after (6 s): quarantined, and
    // not let back (it never agrees).
    assert!(
        log_a.contains("overlay: peer 2 quarantined: a falseticker for"),
        "node 3 log:\n{log_a}"
    );
    assert!(
        !log_a.contains("peer 2 re-admitted"),
        "node 3 log:\n{log_a}"
    );
    assert!(
        log_a.contains("overlay: dropped a datagram claiming to be from node 1: bad-mac"),
        "node 3 log:\n{log_a}"
    );
    let table = ctl(&["overlay", "-s", &socket(&lab, 3)]);
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("peer 2") && l.contains("quarantined")),
        "{table}"
    );
    assert!(table.contains("peers: node 3"), "{table}");
    let human = ctl(&["status", "-s", &socket(&lab, 3)]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("peers    node 3"), "{text}");

    widths.sort_unstable();
    let accepted = peers_a["accepted"].as_u64().unwrap_or(0);
    let dropped = peers_a["dropped"].as_u64().unwrap_or(0);
    println!(
        "overlay peers: settled after {settled_after:.1} s; peer 2 condemned after {} s \
         (nodes 1, 3, 4, 5); followers' worst true error {:.1} us; published half-width \
         median {} ns, max {} ns over {} reads; node 3 accepted {accepted} datagrams, dropped \
         {dropped} ({} bad-mac, the forged 3 included); domain 0 selected in {following} of \
         {checks} follower checks",
        [1usize, 3, 4, 5]
            .iter()
            .map(|&i| condemned_after[i].map_or("-".to_owned(), |t| format!("{t:.1}")))
            .collect::<Vec<_>>()
            .join("/"),
        worst_error * 1e6,
        widths[widths.len() / 2],
        widths[widths.len() - 1],
        widths.len(),
        bad_mac(&after)
    );
    println!("{table}");
    assert!(
        worst_error < 100e-6,
        "true error up to {worst_error} s while following domain 0"
    );
    drop(procs);
}
