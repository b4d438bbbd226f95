//! The AUTHENTICATION TLV between real daemons (IEEE 1588-2019 clause
//! 16.14, immediate processing), in network namespaces on one bridge:
//!
//! - a grandmaster signing with key 1 (HMAC-SHA256-128) and a slave signing
//!   with key 2 (HMAC-SHA256) of the same association lock as usual, and
//!   every message the grandmaster sends verifies with Python's own `hmac`
//!   module (an independent implementation) over the octets the standard
//!   names;
//! - a slave whose key 1 has another secret (key 2 is the same) never
//!   follows the grandmaster and counts its messages as `bad_icv`;
//! - from a fourth namespace: unsigned Announces of a better grandmaster
//!   (priority1 0), a signed Announce with one octet changed, and copies of
//!   the grandmaster's own signed Follow_Ups; the slave keeps its
//!   grandmaster and counts each kind (`missing`, `bad_icv`, `replayed`).
//!
//! Virtual clocks only; needs root and iproute2 (CI installs them), and
//! python3.

#[allow(dead_code)]
mod interop;

use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use interop::lab::Lab;
use interop::procs::statime;
use serde_json::Value;

const KEY1_HEX: &str = "00112233445566778899aabbccddeeff";
const KEY2: &str = "a-plain-text-secret-for-key-two!";

fn sa_file(key1_hex: &str) -> String {
    format!(
        "# test security associations (linuxptp sa_file format)\n\
         [security_association]\n\
         spp 1\n\
         seqid_window 3\n\
         1 SHA256-128 HEX:{key1_hex}\n\
         2 SHA256 ASCII:{KEY2}\n"
    )
}

fn config(iface: &str, top: &str, sa: &str, key: u32, socket: &str) -> String {
    format!(
        "{top}\nsa-file = \"{sa}\"\n\n\
         [[port]]\ninterface = \"{iface}\"\ntransport = \"udp-ipv4\"\n\
         timestamping = \"software\"\nannounce-interval = -2\nsync-interval = -3\n\
         delay-interval = -3\nspp = 1\nactive-key-id = {key}\n\n\
         [clock]\nkind = \"virtual\"\n\n\
         [logging]\nlevel = \"info\"\nstdout = true\nsyslog = false\n\n\
         [observability]\nstatus-socket = \"{socket}\"\n"
    )
}

fn counter(v: &Value, reason: &str) -> u64 {
    v.pointer(&format!("/ports/0/counters/unauthenticated/{reason}"))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// The observer and attacker, in Python: capture the grandmaster's
/// general messages for a while, check their ICV with `hmac`, then send
/// the forgeries. Prints one JSON object.
const PYTHON: &str = r#"
import hashlib, hmac, json, socket, struct, sys, time
iface_ip, gm_ident, key_hex = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3]
key = bytes.fromhex(key_hex)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 320))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton("224.0.1.129") + socket.inet_aton(iface_ip))
s.settimeout(0.5)
seen = {"checked": 0, "good": 0, "types": {}}
announce = None
follow_ups = []
end = time.time() + 4
while time.time() < end:
    try:
        m = s.recv(2048)
    except socket.timeout:
        continue
    if len(m) < 44 or m[20:28] != gm_ident:
        continue
    n = struct.unpack(">H", m[2:4])[0]
    m = m[:n]
    t = m[0] & 0x0F
    seen["types"][t] = seen["types"].get(t, 0) + 1
    # The AUTHENTICATION TLV is last: type 0x8009, length 6 + 16.
    tlv = m[-(10 + 16):]
    seen["checked"] += 1
    if tlv[0:2] == b"\x80\x09" and struct.unpack(">H", tlv[2:4])[0] == 22 and tlv[4] == 1 \
            and struct.unpack(">I", tlv[6:10])[0] == 1:
        icv = hmac.new(key, m[:-16], hashlib.sha256).digest()[:16]
        if hmac.compare_digest(icv, m[-16:]):
            seen["good"] += 1
    if t == 0xB and announce is None:
        announce = m
    if t == 0x8:
        follow_ups.append(m)
out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
out.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(iface_ip))
out.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
dst = ("224.0.1.129", 320)
sent = {"unsigned": 0, "tampered": 0, "replayed": 0}
if announce is not None:
    # An unsigned Announce of a better grandmaster: priority1 0, another
    # identity, no AUTHENTICATION TLV (messageLength 64).
    fake = bytearray(announce[:64])
    fake[2:4] = struct.pack(">H", 64)
    fake[20:28] = bytes.fromhex("02000000fffe000001")[:8]
    fake[47] = 0
    fake[53:61] = bytes.fromhex("02000000fffe0000")
    for i in range(12):
        fake[30:32] = struct.pack(">H", 1000 + i)
        out.sendto(bytes(fake), dst); sent["unsigned"] += 1
        time.sleep(0.25)
    # The grandmaster's signed Announce with priority1 changed.
    bad = bytearray(announce)
    bad[47] = 0
    for i in range(5):
        out.sendto(bytes(bad), dst); sent["tampered"] += 1
        time.sleep(0.1)
for m in follow_ups[:5]:
    out.sendto(m, dst); sent["replayed"] += 1
    time.sleep(0.05)
print(json.dumps({"seen": seen, "sent": sent, "follow_ups": len(follow_ups)}))
"#;

fn python(ns: &str, args: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", ns, "python3", "-c", PYTHON])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run python3")
}

fn ipv4(ns: &str, iface: &str) -> String {
    let o = Command::new("ip")
        .args(["-n", ns, "-4", "-o", "addr", "show", "dev", iface])
        .output()
        .expect("ip addr");
    let text = String::from_utf8_lossy(&o.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|a| a.split('/').next())
        .unwrap_or_else(|| panic!("no IPv4 address on {iface}: {text}"))
        .to_owned()
}

#[test]
fn authenticated_daemons_lock_and_refuse_forgeries_replays_and_wrong_keys() {
    if !interop::environment_ready() {
        return;
    }
    if Command::new("python3").arg("-V").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "python3 is missing");
        eprintln!("skipping: python3 is missing");
        return;
    }
    let lab = Lab::bridged("auth", 4);
    let good = lab.dir.join("sa.conf");
    let wrong = lab.dir.join("sa-wrong.conf");
    std::fs::write(&good, sa_file(KEY1_HEX)).unwrap();
    std::fs::write(&wrong, sa_file("ffeeddccbbaa99887766554433221100")).unwrap();
    let sock = |n: &str| lab.dir.join(format!("{n}.sock")).display().to_string();
    let (gm_sock, slave_sock, stranger_sock) = (sock("gm"), sock("slave"), sock("stranger"));
    let gm_node = lab.node(0);
    let mut gm = statime(
        &lab,
        gm_node,
        "gm",
        &config(
            &gm_node.iface,
            "priority1 = 10",
            &good.display().to_string(),
            1,
            &gm_sock,
        ),
        "90s",
    );
    let slave_cfg = config(
        &lab.node(1).iface,
        "slave-only = true",
        &good.display().to_string(),
        2,
        &slave_sock,
    );
    let slave_cfg = slave_cfg.replace(
        "kind = \"virtual\"\n",
        "kind = \"virtual\"\ninitial-offset = \"+300us\"\nfrequency-error = 20.0\n",
    );
    let mut slave = statime(&lab, lab.node(1), "slave", &slave_cfg, "90s");
    let mut stranger = statime(
        &lab,
        lab.node(3),
        "stranger",
        &config(
            &lab.node(3).iface,
            "slave-only = true",
            &wrong.display().to_string(),
            1,
            &stranger_sock,
        ),
        "90s",
    );

    // The slave locks on the signed grandmaster.
    let deadline = Instant::now() + Duration::from_secs(40);
    let locked = loop {
        if let Some(v) = interop::wire::status(&slave_sock)
            && v.pointer("/servo/state")
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with("locked"))
        {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "the authenticated slave never locked\nslave:\n{}\ngm:\n{}",
            slave.log(),
            gm.log()
        );
        thread::sleep(Duration::from_millis(500));
    };
    let authenticated = locked
        .pointer("/ports/0/counters/authenticated")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    assert!(authenticated > 20, "{locked:#}");
    let gm_status = interop::wire::status(&gm_sock).expect("gm status");
    let gm_ident_hex = gm_node.clock_identity().replace('.', "");

    // Observe and attack from node 2.
    let atk = lab.node(2);
    let out = python(
        &atk.ns,
        &[&ipv4(&atk.ns, &atk.iface), &gm_ident_hex, KEY1_HEX],
    );
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("python's JSON");
    let checked = report["seen"]["checked"].as_u64().unwrap_or(0);
    let good_icv = report["seen"]["good"].as_u64().unwrap_or(0);
    assert!(checked >= 20, "too few grandmaster messages seen: {report}");
    assert_eq!(
        good_icv, checked,
        "every grandmaster message must verify with Python's hmac: {report}"
    );
    assert_eq!(report["sent"]["unsigned"], 12, "{report}");
    thread::sleep(Duration::from_secs(2));

    let after = interop::wire::status(&slave_sock).expect("slave status");
    let grandmaster = after
        .pointer("/parent/grandmaster_identity")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let gm_identity = gm_status
        .pointer("/clock/identity")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    assert!(
        !gm_identity.is_empty() && grandmaster == gm_identity,
        "the slave must keep its grandmaster {gm_identity}, not {grandmaster}: {after:#}"
    );
    assert!(
        after
            .pointer("/servo/state")
            .and_then(Value::as_str)
            .is_some_and(|s| s.starts_with("locked")),
        "{after:#}"
    );
    let (missing, bad_icv, replayed) = (
        counter(&after, "missing"),
        counter(&after, "bad_icv"),
        counter(&after, "replayed"),
    );
    assert!(missing >= 12, "unsigned Announces: {missing}: {after:#}");
    assert!(bad_icv >= 5, "tampered Announces: {bad_icv}: {after:#}");
    let copies = report["sent"]["replayed"].as_u64().unwrap_or(0);
    assert!(copies >= 3, "{report}");
    assert!(
        replayed >= copies,
        "replayed Follow_Ups: {replayed} of {copies}: {after:#}"
    );

    // The stranger with the wrong secret for key 1 never follows anyone.
    let s = interop::wire::status(&stranger_sock).expect("stranger status");
    let state = s
        .pointer("/ports/0/state")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert_ne!(state, "SLAVE", "{s:#}");
    assert_ne!(state, "UNCALIBRATED", "{s:#}");
    let stranger_bad = counter(&s, "bad_icv");
    assert!(stranger_bad > 50, "{s:#}");
    // (Its `authenticated` count is the slave's Delay_Reqs: key 2 is the
    // same secret in both files, and messages of another port are
    // verified before the protocol ignores them.)
    let log = slave.log();
    assert!(
        log.contains("dropped a message that failed authentication"),
        "{log}"
    );
    let refusal_lines = log
        .lines()
        .filter(|l| l.contains("failed authentication"))
        .count();
    interop::figures(&format!(
        "authentication: slave locked with {authenticated} authenticated messages; Python verified \
         {good_icv} of {checked} grandmaster messages; refused missing {missing}, bad_icv {bad_icv}, \
         replayed {replayed}; stranger refused {stranger_bad} (bad_icv); {refusal_lines} log lines \
         about refusals"
    ));
    assert!(
        refusal_lines <= 3,
        "refusals are rate-limited: {refusal_lines}\n{log}"
    );
    slave.stop();
    gm.stop();
    stranger.stop();
}
