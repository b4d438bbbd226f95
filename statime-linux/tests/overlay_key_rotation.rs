//! Key rotation without a restart (issue 8 item 4): two overlay nodes in a
//! pair of network namespaces measure each other while their keys file is
//! rewritten and the daemons get SIGHUP, in the three steps of a rotation:
//!
//! 1. both add key 2 as `receive-only` (accepted, not yet sent with);
//! 2. node 1 sends with key 2 (key 1 receive-only), then node 2 does;
//! 3. both drop key 1.
//!
//! Exchanges never stop and no message is dropped for its MAC. Then the
//! failure cases: a keys file that does not parse is refused with its
//! line and the keys in use are kept (exchanges go on); a node given a key
//! its peer does not have drops the peer's messages (counted as bad-mac or
//! unknown-key), as an attacker without the key would be.
//!
//! Virtual clocks only; needs root and iproute2 (CI runs it as root).

#[allow(dead_code)]
mod interop;

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use interop::lab::Lab;
use interop::procs::{self, Proc};
use serde_json::Value;

fn key(n: u8) -> String {
    (0..32u8)
        .map(|i| format!("{:02x}", i.wrapping_mul(7).wrapping_add(n.wrapping_mul(31))))
        .collect()
}

fn write_keys(path: &std::path::Path, peer: u64, lines: &[(u32, u8, bool)]) {
    let mut text = String::from("# PEER-ID KEY-ID KEY [receive-only]\n");
    for &(id, k, receive_only) in lines {
        text.push_str(&format!(
            "{peer} {id} hex:{}{}\n",
            key(k),
            if receive_only { " receive-only" } else { "" }
        ));
    }
    std::fs::write(path, text).expect("keys file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

fn config(lab: &Lab, me: u64, peer: u64, iface: &str) -> String {
    let peer_ip = format!("192.0.2.{}", 10 + peer - 1);
    format!(
        "slave-only = true\n\n[[port]]\ninterface = \"{iface}\"\ntimestamping = \"software\"\n\n\
         [clock]\nkind = \"virtual\"\n\n\
         [logging]\nlevel = \"info\"\nstdout = true\nsyslog = false\n\n\
         [observability]\nstatus-socket = \"{}\"\n\n\
         [overlay]\nmode = \"monitor\"\nfaults = 0\nnode-id = {me}\npeer-poll-interval = \"250ms\"\n\
         gossip = false\nkeys-file = \"{}\"\n\n[[overlay.peer]]\nid = {peer}\naddress = \"{peer_ip}:3190\"\n",
        socket(lab, me),
        keys_path(lab, me).display()
    )
}

fn socket(lab: &Lab, me: u64) -> String {
    lab.dir.join(format!("n{me}.sock")).display().to_string()
}

fn keys_path(lab: &Lab, me: u64) -> std::path::PathBuf {
    lab.dir.join(format!("n{me}.keys"))
}

fn status(sock: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
        .args(["status", "--json", "-s", sock])
        .stdin(Stdio::null())
        .output()
        .expect("statime-ctl");
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// (authenticated messages accepted, MAC drops) of a node. (No node has a
/// bound here, so exchanges are accepted but yield no source samples.)
fn counts(sock: &str) -> (u64, u64) {
    let v = status(sock);
    let p = &v["overlay"]["peers"];
    let samples = p["accepted"].as_u64().unwrap_or(0);
    let drops = ["bad-mac", "unknown-key"]
        .iter()
        .map(|k| p["drops"][*k].as_u64().unwrap_or(0))
        .sum();
    (samples, drops)
}

fn hup(p: &Proc) {
    let ok = Command::new("kill")
        .args(["-HUP", &p.pid().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -HUP");
}

#[test]
fn keys_rotate_on_sighup_without_losing_an_exchange() {
    if !interop::environment_ready() {
        return;
    }
    let lab = Lab::pair("keyrot");
    let (a, b) = (lab.node(0), lab.node(1));
    write_keys(&keys_path(&lab, 1), 2, &[(1, 1, false)]);
    write_keys(&keys_path(&lab, 2), 1, &[(1, 1, false)]);
    let mut n1 = procs::statime(&lab, a, "n1", &config(&lab, 1, 2, &a.iface), "40s");
    let mut n2 = procs::statime(&lab, b, "n2", &config(&lab, 2, 1, &b.iface), "40s");
    let (s1, s2) = (socket(&lab, 1), socket(&lab, 2));
    let ctx = |n1: &Proc, n2: &Proc| {
        format!(
            "\nnode 1:\n{}\nnode 2:\n{}\nnode 1 status: {}",
            procs::tail(&n1.log(), 15),
            procs::tail(&n2.log(), 15),
            status(&socket(&lab, 1))["overlay"]
        )
    };
    thread::sleep(Duration::from_secs(4));
    // Each step: both keep measuring each other, nothing dropped for its MAC.
    let mut last = (counts(&s1).0, counts(&s2).0);
    let mut step = |name: &str, n1: &Proc, n2: &Proc| {
        thread::sleep(Duration::from_millis(2500));
        let (c1, c2) = (counts(&s1), counts(&s2));
        assert!(
            c1.0 >= last.0 + 3 && c2.0 >= last.1 + 3,
            "{name}: exchanges stalled: node 1 {} -> {}, node 2 {} -> {}{}",
            last.0,
            c1.0,
            last.1,
            c2.0,
            ctx(n1, n2)
        );
        assert_eq!((c1.1, c2.1), (0, 0), "{name}: MAC drops{}", ctx(n1, n2));
        last = (c1.0, c2.0);
    };
    step("key 1", &n1, &n2);
    write_keys(&keys_path(&lab, 1), 2, &[(1, 1, false), (2, 2, true)]);
    write_keys(&keys_path(&lab, 2), 1, &[(1, 1, false), (2, 2, true)]);
    hup(&n1);
    hup(&n2);
    step("key 2 receive-only", &n1, &n2);
    write_keys(&keys_path(&lab, 1), 2, &[(1, 1, true), (2, 2, false)]);
    hup(&n1);
    step("node 1 sends with key 2", &n1, &n2);
    write_keys(&keys_path(&lab, 2), 1, &[(1, 1, true), (2, 2, false)]);
    hup(&n2);
    step("both send with key 2", &n1, &n2);
    write_keys(&keys_path(&lab, 1), 2, &[(2, 2, false)]);
    write_keys(&keys_path(&lab, 2), 1, &[(2, 2, false)]);
    hup(&n1);
    hup(&n2);
    step("key 1 gone", &n1, &n2);
    // A file that does not parse: refused, the keys in use kept.
    std::fs::write(keys_path(&lab, 1), "2 2 hex:nothex\n").expect("write");
    hup(&n1);
    step("bad file refused", &n1, &n2);
    assert!(
        n1.log().contains("keys file not reloaded") && n1.log().contains("n1.keys:1:"),
        "no refusal naming the line{}",
        ctx(&n1, &n2)
    );
    // Node 2 gets a key node 1 does not have: node 1's messages fail there.
    write_keys(&keys_path(&lab, 2), 1, &[(3, 3, false)]);
    hup(&n2);
    thread::sleep(Duration::from_millis(2500));
    let (_, drops) = counts(&s2);
    assert!(
        drops > 0,
        "node 2 accepted node 1 without its key{}",
        ctx(&n1, &n2)
    );
    assert!(
        n2.log().contains("overlay: keys reloaded from"),
        "{}",
        ctx(&n1, &n2)
    );
    n1.stop();
    n2.stop();
    interop::figures(&format!(
        "overlay key rotation: 5 steps by SIGHUP, exchanges never stalled (node 1 accepted {} messages, node 2 {}), \
         0 MAC drops while both had the key; {drops} drops at node 2 once only it had a new key",
        last.0, last.1
    ));
}
