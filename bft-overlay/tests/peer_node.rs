//! The peer node driven by hand: exchanges, matching, replay, forgery,
//! two-step follow-ups, status, HLC rejection and fan-out.

mod peer_common;

use bft_overlay::peer::wire::{FLAG_TWO_STEP, MESSAGE_LEN};
use bft_overlay::peer::{
    Action, BoundStatus, ConfigError, DropReason, HlcTimestamp, KeyTable, Message, MessageType,
    NodeId, Now, OwnBound, PeerConfig, PeerNode, Transmit,
};
use bft_overlay::{BoundAssumptions, Interval, SourceSample};
use peer_common::{addr, keys_for, node, pair_key, sends, synced};

const A: NodeId = 1;
const B: NodeId = 2;
const C: NodeId = 3;
/// B's clock is 1 ms ahead of true time (A's is exact).
const B_AHEAD: u64 = 1_000_000;
const NO_DRIFT: BoundAssumptions = BoundAssumptions {
    asymmetry_ns: 0,
    max_drift_ppb: 0,
};

fn at(t: u64, ahead: u64) -> Now {
    Now {
        monotonic_ns: t,
        clock_ns: t + ahead,
    }
}

fn config() -> PeerConfig {
    PeerConfig {
        poll_interval_ns: 1_000_000_000,
        fan_out: 1,
        ..PeerConfig::default()
    }
}

fn samples(actions: &[Action]) -> Vec<(NodeId, SourceSample, bool)> {
    actions
        .iter()
        .filter_map(|a| match *a {
            Action::Sample {
                peer,
                sample,
                refined,
            } => Some((peer, sample, refined)),
            _ => None,
        })
        .collect()
}

fn drops(actions: &[Action]) -> Vec<DropReason> {
    actions
        .iter()
        .filter_map(|a| match *a {
            Action::Dropped { reason, .. } => Some(reason),
            _ => None,
        })
        .collect()
}

/// A and B (and C, so fan-out has a choice) with honest bounds; A's first
/// round is due at the returned time.
fn pair(config: PeerConfig) -> (PeerNode, PeerNode, u64) {
    let all = [A, B];
    let mut a = node(A, &all, config);
    let mut b = node(B, &all, config);
    assert!(a.poll(at(0, 0)).is_empty(), "the first poll only schedules");
    let due = a.next_deadline();
    assert!(due < 1_000_000_000, "first round within one interval");
    // Bounds as of the round (they grow by 15 ppm of their age).
    a.set_own_bound(at(due, 0), synced(-50, 50));
    // True time minus B's clock is -1 ms, known to +-100 ns.
    let b_ahead = i64::try_from(B_AHEAD).unwrap();
    b.set_own_bound(at(due, B_AHEAD), synced(-b_ahead - 100, -b_ahead + 100));
    (a, b, due)
}

/// A sends its request at `t`; it reaches B after `out`, B answers `hold`
/// later; the response reaches A after `back`. Returns A's actions.
fn exchange(a: &mut PeerNode, b: &mut PeerNode, t: u64, out: u64, back: u64) -> Vec<Action> {
    let req = sends(&a.poll(at(t, 0)));
    assert_eq!(req.len(), 1);
    let rx = t + out;
    let resp = sends(&b.handle_datagram(at(rx, B_AHEAD), rx + B_AHEAD, addr(A), &req[0].bytes));
    assert_eq!(resp.len(), 1);
    assert_eq!(resp[0].to, addr(A));
    let t4 = rx + back;
    a.handle_datagram(at(t4, 0), t4, addr(B), &resp[0].bytes)
}

#[test]
fn an_exchange_gives_a_sample_that_holds_true_time() {
    let (mut a, mut b, due) = pair(config());
    let actions = exchange(&mut a, &mut b, due, 30_000, 50_000);
    let s = samples(&actions);
    assert_eq!(s.len(), 1, "{actions:?}");
    let (peer, sample, refined) = s[0];
    assert_eq!((peer, refined), (B, false));
    // Path: round trip 80 us, half 40 us; B's bound +-100 ns around -1 ms
    // (B's clock minus true), so true minus A's clock is near 0.
    assert_eq!(sample.path_delay_ns, 40_000);
    assert_eq!(sample.advertised_error_ns, 100);
    assert_eq!(
        sample.offset_ns, -10_000,
        "asymmetry 30/50 us shows as -10 us"
    );
    assert_eq!(sample.measured_at_ns, due, "dated at the request (<= t1)");
    assert!(sample.interval_at(due + 80_000, &NO_DRIFT).contains(0));
    assert_eq!(a.counters().samples, 1);
    assert_eq!(a.counters().requests_sent, 1);
    assert_eq!(b.counters().responses_sent, 1);
}

#[test]
fn responses_must_match_an_outstanding_request() {
    let (mut a, mut b, due) = pair(config());
    let req = sends(&a.poll(at(due, 0)));
    let rx = due + 10_000;
    let resp = sends(&b.handle_datagram(at(rx, B_AHEAD), rx + B_AHEAD, addr(A), &req[0].bytes));
    // The same response twice: the second is a replay.
    let first = a.handle_datagram(at(rx + 10_000, 0), rx + 10_000, addr(B), &resp[0].bytes);
    assert_eq!(samples(&first).len(), 1);
    let again = a.handle_datagram(at(rx + 20_000, 0), rx + 20_000, addr(B), &resp[0].bytes);
    assert_eq!(drops(&again), [DropReason::Duplicate]);
    // B answers the same request again (fresh sequence number, valid MAC):
    // the exchange already has its response.
    let resp2 = sends(&b.handle_datagram(at(rx, B_AHEAD), rx + B_AHEAD, addr(A), &req[0].bytes));
    assert!(
        resp2.is_empty(),
        "B drops the replayed request and answers nothing"
    );
    assert_eq!(b.counters().drops.get(DropReason::Duplicate), 1);
    // A response B makes up for a request A never sent (right key, fresh
    // number, wrong echo): unmatched.
    let mut keys_b = keys_for(B, &[A]);
    let forged = response_from_b(&mut keys_b, 999, 12_345, 1_000_000);
    let d = a.handle_datagram(at(rx + 30_000, 0), rx + 30_000, addr(B), &forged);
    assert_eq!(drops(&d), [DropReason::Unmatched]);
    assert_eq!(a.counters().drops.get(DropReason::Unmatched), 1);
    assert_eq!(a.counters().samples, 1);
}

/// A response as B would sign it, with sequence number `seq`, echoing
/// `echo_seq` and `t1`.
fn response_from_b(keys: &mut KeyTable, echo_seq: u64, t1: u64, seq: u64) -> [u8; MESSAGE_LEN] {
    let m = Message {
        kind: MessageType::Response,
        flags: 0,
        status: BoundStatus::Synchronized,
        sender: B,
        receiver: A,
        key_id: 1,
        hlc: HlcTimestamp::default(),
        seq,
        echo_seq,
        t1,
        t2: t1,
        t3: t1,
        lower_ns: -10,
        upper_ns: 10,
    };
    let mut b = m.emit();
    keys.sign(A, 1, &mut b).unwrap();
    b
}

#[test]
fn a_response_with_a_wrong_t1_echo_is_unmatched() {
    let (mut a, _, due) = pair(config());
    let req = sends(&a.poll(at(due, 0)));
    let (m, _) = Message::parse(&req[0].bytes).unwrap();
    let mut keys_b = keys_for(B, &[A]);
    let wrong = response_from_b(&mut keys_b, m.seq, m.t1 + 1, 5);
    let d = a.handle_datagram(at(due + 1_000, 0), due + 1_000, addr(B), &wrong);
    assert_eq!(drops(&d), [DropReason::Unmatched]);
    let right = response_from_b(&mut keys_b, m.seq, m.t1, 6);
    let d = a.handle_datagram(at(due + 2_000, 0), due + 2_000, addr(B), &right);
    assert_eq!(samples(&d).len(), 1);
}

#[test]
fn forgeries_and_strangers_are_dropped_by_reason() {
    let all = [A, B, C];
    let mut b = node(B, &all, config());
    // C, a member, claims to be A towards B, signing with the C-B key.
    let mut keys_c = KeyTable::new();
    keys_c.insert(B, 1, pair_key(C, B));
    let mut m = Message {
        kind: MessageType::Request,
        flags: 0,
        status: BoundStatus::Synchronized,
        sender: A,
        receiver: B,
        key_id: 1,
        hlc: HlcTimestamp::default(),
        seq: 1,
        echo_seq: 0,
        t1: 5,
        t2: 0,
        t3: 0,
        lower_ns: 0,
        upper_ns: 0,
    };
    let sign = |m: &Message, keys: &KeyTable, peer| {
        let mut x = m.emit();
        keys.sign(peer, 1, &mut x).unwrap();
        x
    };
    let now = at(1_000, B_AHEAD);
    let d = b.handle_datagram(now, 1_000, addr(C), &sign(&m, &keys_c, B));
    assert_eq!(drops(&d), [DropReason::BadMac]);
    // Under a key id the pair does not have.
    m.key_id = 7;
    let d = b.handle_datagram(now, 1_000, addr(C), &sign(&m, &keys_c, B));
    assert_eq!(drops(&d), [DropReason::UnknownKey]);
    // Addressed to someone else.
    m.key_id = 1;
    m.receiver = C;
    let d = b.handle_datagram(now, 1_000, addr(C), &sign(&m, &keys_c, B));
    assert_eq!(drops(&d), [DropReason::NotForUs]);
    // From a node that is not a peer.
    m.receiver = B;
    m.sender = 42;
    let d = b.handle_datagram(now, 1_000, addr(C), &sign(&m, &keys_c, B));
    assert_eq!(drops(&d), [DropReason::UnknownPeer]);
    // Garbage.
    let d = b.handle_datagram(now, 1_000, addr(C), b"hello");
    assert_eq!(drops(&d), [DropReason::Length]);
    let c = b.counters();
    assert_eq!(c.drops.total(), 5);
    assert_eq!(c.accepted, 0);
    assert_eq!(c.responses_sent, 0, "nothing forged is ever answered");
    // C speaking as itself is fine.
    m.sender = C;
    m.seq = 2;
    let d = b.handle_datagram(now, 1_000, addr(C), &sign(&m, &keys_c, B));
    assert_eq!(sends(&d).len(), 1);
}

#[test]
fn two_step_follow_up_refines_the_sample() {
    let cfg = PeerConfig {
        tx_timestamps: true,
        ..config()
    };
    let (mut a, mut b, due) = pair(cfg);
    let req = sends(&a.poll(at(due, 0)));
    let h1 = req[0]
        .tx_handle
        .expect("a request asks for its transmit stamp");
    // The request leaves 5 us after the poll that built it.
    assert!(
        a.tx_timestamp(at(due + 6_000, 0), h1, due + 5_000)
            .is_empty()
    );
    let rx = due + 25_000;
    let resp = sends(&b.handle_datagram(
        at(rx + 2_000, B_AHEAD),
        rx + B_AHEAD,
        addr(A),
        &req[0].bytes,
    ));
    let (rm, _) = Message::parse(&resp[0].bytes).unwrap();
    assert!(rm.flags & FLAG_TWO_STEP != 0);
    let h3 = resp[0]
        .tx_handle
        .expect("a two-step response asks for its stamp");
    // The response leaves 10 us after B read its clock for t3.
    let left = rx + 12_000;
    let t4 = left + 25_000;
    let first = samples(&a.handle_datagram(at(t4, 0), t4, addr(B), &resp[0].bytes));
    assert_eq!(first.len(), 1);
    let fu = sends(&b.tx_timestamp(at(left + 1_000, B_AHEAD), h3, left + B_AHEAD));
    assert_eq!(fu.len(), 1);
    assert_eq!(fu[0].tx_handle, None);
    let (fm, _) = Message::parse(&fu[0].bytes).unwrap();
    assert_eq!(fm.kind, MessageType::FollowUp);
    let second =
        samples(&a.handle_datagram(at(t4 + 30_000, 0), t4 + 30_000, addr(B), &fu[0].bytes));
    assert_eq!(second.len(), 1);
    let (coarse, fine) = (first[0].1, second[0].1);
    assert!(second[0].2, "marked refined");
    // The true paths are 20 us out (due + 5 to due + 25) and 25 us back
    // (due + 37 to due + 62): a round trip of 45 us. With t3 read 10 us
    // before the response left, the first sample sees 55 us; the
    // follow-up's precise t3 gives the true 45 us.
    assert_eq!(coarse.path_delay_ns, 27_500);
    assert_eq!(fine.path_delay_ns, 22_500);
    for s in [coarse, fine] {
        assert!(s.interval_at(t4, &NO_DRIFT).contains(0), "{s:?}");
    }
    assert_eq!(b.counters().follow_ups_sent, 1);
    // A second follow-up for the same exchange is unmatched.
    let dup = b.tx_timestamp(at(left + 2_000, B_AHEAD), h3, left + B_AHEAD);
    assert!(dup.is_empty(), "the handle was used up");
}

#[test]
fn a_peer_with_unknown_status_is_live_but_not_a_source() {
    let (mut a, mut b, due) = pair(config());
    b.set_own_bound(
        at(0, B_AHEAD),
        OwnBound {
            interval: Interval::point(0),
            status: BoundStatus::Unknown,
        },
    );
    let actions = exchange(&mut a, &mut b, due, 10_000, 10_000);
    assert!(samples(&actions).is_empty());
    assert!(actions.contains(&Action::NotSource {
        peer: B,
        status: BoundStatus::Unknown
    }));
    assert_eq!(a.counters().not_source, 1);
    assert_eq!(a.counters().drops.total(), 0);
}

#[test]
fn a_far_future_hlc_is_reported_and_not_adopted() {
    let (mut a, _, due) = pair(config());
    let req = sends(&a.poll(at(due, 0)));
    let (m, _) = Message::parse(&req[0].bytes).unwrap();
    let before = a.hlc();
    let mut keys_b = keys_for(B, &[A]);
    let mut resp = Message::parse(&response_from_b(&mut keys_b, m.seq, m.t1, 3))
        .unwrap()
        .0;
    // B's HLC a second ahead of true time; its bound is +-10 ns.
    resp.hlc = HlcTimestamp {
        physical_ns: due + 1_000_000_000,
        logical: 0,
    };
    let mut bytes = resp.emit();
    keys_b.sign(A, 1, &mut bytes).unwrap();
    let actions = a.handle_datagram(at(due + 100, 0), due + 100, addr(B), &bytes);
    assert!(
        actions
            .iter()
            .any(|x| matches!(x, Action::HlcRejected { peer: B, .. }))
    );
    assert_eq!(a.counters().hlc_rejected, 1);
    assert!(
        a.hlc()
            < HlcTimestamp {
                physical_ns: due + 1_000,
                logical: 0
            }
    );
    assert!(a.hlc() >= before);
    // The HLC service stays within A's bound.
    let h = a.hlc_now(at(due + 200, 0));
    assert!(h.physical_ns <= due + 200 + 50);
}

#[test]
fn a_lost_response_is_reported_at_the_timeout() {
    let (mut a, _, due) = pair(config());
    let req = sends(&a.poll(at(due, 0)));
    assert_eq!(req.len(), 1);
    let timeout = a.config().response_timeout_ns;
    assert_eq!(a.next_deadline(), due + timeout);
    let r = a.poll(at(due + timeout, 0));
    assert_eq!(r, [Action::Lost { peer: B, seq: 1 }]);
    assert_eq!(a.counters().lost, 1);
    assert_eq!(a.next_deadline(), due + a.config().poll_interval_ns);
}

#[test]
fn a_negative_round_trip_is_dropped() {
    let (mut a, _, due) = pair(config());
    let req = sends(&a.poll(at(due, 0)));
    let (m, _) = Message::parse(&req[0].bytes).unwrap();
    let mut keys_b = keys_for(B, &[A]);
    let mut resp = Message::parse(&response_from_b(&mut keys_b, m.seq, m.t1, 3))
        .unwrap()
        .0;
    // B claims it held the request for 1 ms, in an exchange of 10 us.
    resp.t2 = m.t1;
    resp.t3 = m.t1 + 1_000_000;
    let mut bytes = resp.emit();
    keys_b.sign(A, 1, &mut bytes).unwrap();
    let d = a.handle_datagram(at(due + 10_000, 0), due + 10_000, addr(B), &bytes);
    assert_eq!(drops(&d), [DropReason::NegativeDelay]);
}

#[test]
fn fan_out_sends_k_requests_per_round_and_covers_every_peer() {
    let all: Vec<NodeId> = (1..=11).collect();
    let k = 3;
    let mut a = node(
        1,
        &all,
        PeerConfig {
            fan_out: k,
            ..config()
        },
    );
    a.poll(at(0, 0));
    let mut seen = std::collections::BTreeMap::<NodeId, u32>::new();
    let mut t = a.next_deadline();
    // 20 rounds of 3 = 60 requests over 10 peers.
    for _ in 0..20 {
        let s: Vec<Transmit> = sends(&a.poll(at(t, 0)));
        assert_eq!(s.len(), k);
        for x in s {
            *seen.entry(x.peer).or_default() += 1;
        }
        t = a.next_deadline();
        // Lost requests are reported at their timeout, between rounds.
        a.poll(at(t, 0));
        t = a.next_deadline();
    }
    assert_eq!(seen.len(), 10);
    assert!(seen.values().all(|&n| (5..=7).contains(&n)), "{seen:?}");
    assert_eq!(a.counters().requests_sent, 60);
}

#[test]
fn bad_configurations_are_refused() {
    let keys = keys_for(A, &[B]);
    let cfg = PeerConfig {
        node_id: A,
        ..config()
    };
    assert!(PeerNode::new(cfg, keys.clone(), [(C, addr(C))]).is_err());
    assert!(PeerNode::new(cfg, keys.clone(), [(A, addr(A))]).is_err());
    let zero = PeerConfig {
        poll_interval_ns: 0,
        ..cfg
    };
    assert_eq!(
        PeerNode::new(zero, keys.clone(), [(B, addr(B))]).err(),
        Some(ConfigError::ZeroInterval)
    );
    let no_wait = PeerConfig {
        response_timeout_ns: 0,
        ..cfg
    };
    assert_eq!(
        PeerNode::new(no_wait, keys.clone(), [(B, addr(B))]).err(),
        Some(ConfigError::ZeroTimeout)
    );
    assert!(PeerNode::new(cfg, keys, [(B, addr(B))]).is_ok());
}
