//! Tests of the foreign master table (clause 9.3.2.4, 9.3.2.5, 16.2.3).

use super::*;
use crate::wire::{ClockIdentity, MessageType};

const RX: PortIdentity = PortIdentity {
    clock_identity: ClockIdentity([0xAA; 8]),
    port_number: 1,
};

fn pid(c: u8, port: u16) -> PortIdentity {
    PortIdentity {
        clock_identity: ClockIdentity([c; 8]),
        port_number: port,
    }
}

fn flood_pid(i: u32) -> PortIdentity {
    let b = i.to_be_bytes();
    PortIdentity {
        clock_identity: ClockIdentity([0xF0, 0, 0, 0, b[0], b[1], b[2], b[3]]),
        port_number: 1,
    }
}

fn header(sender: PortIdentity, seq: u16) -> Header {
    let mut h = Header::new(MessageType::Announce);
    h.source_port_identity = sender;
    h.sequence_id = seq;
    h.log_message_interval = 1;
    h
}

fn msg(gm: u8, priority1: u8) -> AnnounceMessage {
    AnnounceMessage {
        grandmaster_identity: ClockIdentity([gm; 8]),
        grandmaster_priority_1: priority1,
        steps_removed: 0,
        ..AnnounceMessage::default()
    }
}

fn secs(s: u64) -> Time {
    Time::from_secs_nanos(1000 + s, 0)
}

/// log interval 1: 2 s announces, 8 s window.
fn table<const N: usize>() -> ForeignMasterTable<N> {
    ForeignMasterTable::new(RX, 1)
}

fn feed<const N: usize>(
    t: &mut ForeignMasterTable<N>,
    sender: PortIdentity,
    seq: u16,
    m: &AnnounceMessage,
    now: Time,
) -> AnnounceVerdict {
    t.handle_announce(&header(sender, seq), m, None, now)
}

const fn accepted(qualified: bool) -> AnnounceVerdict {
    AnnounceVerdict::Accepted {
        qualified,
        evicted: None,
    }
}

#[test]
fn window_is_four_announce_intervals() {
    let mut t = table::<4>();
    assert_eq!(t.time_window(), Duration::from_secs(8));
    t.set_log_announce_interval(-2);
    assert_eq!(t.time_window(), Duration::from_secs(1));
    assert_eq!(t.capacity(), 4);
    assert_eq!(t.receiver(), RX);
}

#[test]
fn one_announce_does_not_qualify_two_do() {
    let mut t = table::<4>();
    let m = msg(1, 128);
    assert_eq!(feed(&mut t, pid(1, 1), 0, &m, secs(0)), accepted(false));
    assert!(!t.is_qualified(pid(1, 1), secs(0)));
    assert_eq!(t.erbest(secs(0)), None);
    assert_eq!(feed(&mut t, pid(1, 1), 1, &m, secs(2)), accepted(true));
    assert!(t.is_qualified(pid(1, 1), secs(2)));
    let e = t.erbest(secs(2)).unwrap();
    assert_eq!(e.sender, pid(1, 1));
    assert_eq!(e.receiver, RX);
    assert_eq!(e.sequence_id, 1);
    assert_eq!(t.get(pid(1, 1)).unwrap().last_receipt(), secs(2));
}

#[test]
fn window_edges() {
    let m = msg(1, 128);
    // Second Announce exactly one window after the first: still within.
    let mut t = table::<4>();
    feed(&mut t, pid(1, 1), 0, &m, secs(0));
    assert_eq!(feed(&mut t, pid(1, 1), 1, &m, secs(8)), accepted(true));
    // Qualified while the older one is exactly at the edge, not a
    // nanosecond later.
    assert!(t.is_qualified(pid(1, 1), secs(8)));
    assert!(!t.is_qualified(pid(1, 1), secs(8) + Duration::from_nanos(1)));
    // One nanosecond too late: not qualified.
    let mut t = table::<4>();
    feed(&mut t, pid(1, 1), 0, &m, secs(0));
    let late = secs(8) + Duration::from_nanos(1);
    assert_eq!(feed(&mut t, pid(1, 1), 1, &m, late), accepted(false));
    // A third one qualifies again with the second.
    assert_eq!(feed(&mut t, pid(1, 1), 2, &m, secs(10)), accepted(true));
}

#[test]
fn qualification_lapses_and_records_age_out() {
    let mut t = table::<4>();
    let m = msg(1, 128);
    feed(&mut t, pid(1, 1), 0, &m, secs(0));
    feed(&mut t, pid(1, 1), 1, &m, secs(2));
    assert!(t.erbest(secs(8)).is_some());
    // At 8 s + 1 ns only the 2 s Announce is in the window.
    let after = secs(8) + Duration::from_nanos(1);
    assert!(t.erbest(after).is_none());
    assert_eq!(t.expire(after), 0, "one Announce still in the window");
    assert_eq!(t.len(), 1);
    assert_eq!(t.expire(secs(10)), 0);
    let gone = secs(10) + Duration::from_nanos(1);
    assert_eq!(t.expire(gone), 1);
    assert!(t.is_empty());
}

#[test]
fn time_going_backwards_counts_as_current() {
    let mut t = table::<4>();
    let m = msg(1, 128);
    feed(&mut t, pid(1, 1), 0, &m, secs(10));
    feed(&mut t, pid(1, 1), 1, &m, secs(11));
    assert!(t.is_qualified(pid(1, 1), secs(0)));
    assert_eq!(t.expire(secs(0)), 0);
}

#[test]
fn duplicate_sequence_id_does_not_count() {
    let mut t = table::<4>();
    let m = msg(1, 128);
    feed(&mut t, pid(1, 1), 7, &m, secs(0));
    assert_eq!(
        feed(&mut t, pid(1, 1), 7, &m, secs(1)),
        AnnounceVerdict::Duplicate
    );
    assert!(!t.is_qualified(pid(1, 1), secs(1)));
    assert_eq!(feed(&mut t, pid(1, 1), 8, &m, secs(2)), accepted(true));
}

#[test]
fn steps_removed_255_dropped() {
    let mut t = table::<4>();
    let mut m = msg(1, 128);
    m.steps_removed = 254;
    assert!(feed(&mut t, pid(1, 1), 0, &m, secs(0)).is_accepted());
    m.steps_removed = 255;
    assert_eq!(
        feed(&mut t, pid(1, 1), 1, &m, secs(1)),
        AnnounceVerdict::StepsRemovedTooLarge
    );
    assert!(
        t.get(pid(1, 1)).is_some(),
        "one such Announce does not drop the record (it ages out instead)"
    );
    assert_eq!(t.expire(secs(100)), 1);
    m.steps_removed = u16::MAX;
    assert_eq!(
        feed(&mut t, pid(2, 1), 0, &m, secs(1)),
        AnnounceVerdict::StepsRemovedTooLarge
    );
    assert!(t.is_empty());
    // A smaller defaultDS.maxStepsRemoved.
    let mut t = table::<4>().with_max_steps_removed(3);
    m.steps_removed = 3;
    assert_eq!(
        feed(&mut t, pid(1, 1), 0, &m, secs(0)),
        AnnounceVerdict::StepsRemovedTooLarge
    );
    m.steps_removed = 2;
    assert!(feed(&mut t, pid(1, 1), 0, &m, secs(0)).is_accepted());
}

#[test]
fn own_clock_dropped() {
    let mut t = table::<4>();
    let m = msg(1, 128);
    for port in [0, 1, 2, 0xFFFF] {
        let sender = PortIdentity {
            clock_identity: RX.clock_identity,
            port_number: port,
        };
        assert_eq!(
            feed(&mut t, sender, 0, &m, secs(0)),
            AnnounceVerdict::OwnClock
        );
    }
    assert!(t.is_empty());
}

#[test]
fn path_trace_loop_dropped() {
    let mut t = table::<4>();
    let m = msg(1, 128);
    let mut path = [0u8; 24];
    path[..8].copy_from_slice(&[0x11; 8]);
    path[8..16].copy_from_slice(&RX.clock_identity.0);
    path[16..].copy_from_slice(&[0x22; 8]);
    let looped = PathTraceTlv::from_bytes(&path).unwrap();
    let clean = PathTraceTlv::from_bytes(&path[16..]).unwrap();
    let h0 = header(pid(1, 1), 0);
    assert!(
        t.handle_announce(&h0, &m, Some(&clean), secs(0))
            .is_accepted()
    );
    let h1 = header(pid(1, 1), 1);
    assert_eq!(
        t.handle_announce(&h1, &m, Some(&looped), secs(1)),
        AnnounceVerdict::PathTraceLoop
    );
    assert_eq!(
        t.len(),
        1,
        "the looped Announce is ignored, the record kept"
    );
    let empty = PathTraceTlv::from_bytes(&[]).unwrap();
    assert!(
        t.handle_announce(&h1, &m, Some(&empty), secs(1))
            .is_accepted()
    );
}

#[test]
fn erbest_is_best_qualified() {
    let mut t = table::<8>();
    // A much better master that is not qualified is ignored.
    feed(&mut t, pid(1, 1), 0, &msg(1, 0), secs(0));
    for seq in 0..2 {
        feed(&mut t, pid(2, 1), seq, &msg(2, 100), secs(u64::from(seq)));
        feed(&mut t, pid(3, 1), seq, &msg(3, 50), secs(u64::from(seq)));
        feed(&mut t, pid(4, 1), seq, &msg(4, 200), secs(u64::from(seq)));
    }
    assert_eq!(t.erbest(secs(1)).unwrap().sender, pid(3, 1));
    feed(&mut t, pid(1, 1), 1, &msg(1, 0), secs(2));
    assert_eq!(t.erbest(secs(2)).unwrap().sender, pid(1, 1));
    // The latest Announce of a master is the one compared, once a second
    // Announce confirms the change (one alone is held as unconfirmed).
    assert_eq!(
        feed(&mut t, pid(1, 1), 2, &msg(1, 255), secs(3)),
        AnnounceVerdict::Unconfirmed
    );
    assert_eq!(t.erbest(secs(3)).unwrap().sender, pid(1, 1));
    assert!(feed(&mut t, pid(1, 1), 3, &msg(1, 255), secs(3)).is_accepted());
    assert_eq!(t.erbest(secs(3)).unwrap().sender, pid(3, 1));
    assert_eq!(t.iter().count(), 4);
    assert!(t.remove(pid(3, 1)));
    assert!(!t.remove(pid(3, 1)));
    assert_eq!(t.erbest(secs(3)).unwrap().sender, pid(2, 1));
    t.clear();
    assert!(t.is_empty());
}

#[test]
fn eviction_takes_oldest_unqualified() {
    let mut t = table::<3>();
    let m = msg(9, 128);
    // Qualified real master.
    feed(&mut t, pid(1, 1), 0, &m, secs(0));
    feed(&mut t, pid(1, 1), 1, &m, secs(1));
    feed(&mut t, pid(2, 1), 0, &m, secs(2));
    feed(&mut t, pid(3, 1), 0, &m, secs(3));
    assert_eq!(
        feed(&mut t, pid(4, 1), 0, &m, secs(4)),
        AnnounceVerdict::Accepted {
            qualified: false,
            evicted: Some(pid(2, 1))
        }
    );
    assert!(t.get(pid(1, 1)).is_some());
    // Same age: the worse data set goes.
    let mut t = table::<3>();
    feed(&mut t, pid(1, 1), 0, &m, secs(0));
    feed(&mut t, pid(1, 1), 1, &m, secs(1));
    feed(&mut t, pid(2, 1), 0, &msg(2, 10), secs(2));
    feed(&mut t, pid(3, 1), 0, &msg(3, 20), secs(2));
    let v = feed(&mut t, pid(4, 1), 0, &m, secs(3));
    assert_eq!(
        v,
        AnnounceVerdict::Accepted {
            qualified: false,
            evicted: Some(pid(3, 1))
        }
    );
}

#[test]
fn expired_records_make_room_first() {
    let mut t = table::<2>();
    let m = msg(9, 128);
    feed(&mut t, pid(1, 1), 0, &m, secs(0));
    feed(&mut t, pid(1, 1), 1, &m, secs(1));
    feed(&mut t, pid(2, 1), 0, &m, secs(1));
    feed(&mut t, pid(2, 1), 1, &m, secs(2));
    // Both qualified: a newcomer is dropped.
    assert_eq!(
        feed(&mut t, pid(3, 1), 0, &m, secs(3)),
        AnnounceVerdict::TableFull
    );
    // Master 1 stops; once its last Announce is out of the window its
    // record is removed for the newcomer (no eviction reported).
    feed(&mut t, pid(2, 1), 2, &m, secs(9));
    assert_eq!(feed(&mut t, pid(3, 1), 0, &m, secs(10)), accepted(false));
    assert!(t.get(pid(1, 1)).is_none());
}

#[test]
fn protected_record_survives_while_unqualified() {
    let mut t = table::<2>();
    let m = msg(9, 128);
    feed(&mut t, pid(1, 1), 0, &m, secs(0));
    t.protect(Some(pid(1, 1)));
    assert_eq!(t.protected(), Some(pid(1, 1)));
    for i in 0..1000 {
        feed(&mut t, flood_pid(i), 0, &m, secs(1));
        assert!(t.get(pid(1, 1)).is_some());
        assert!(t.len() <= 2);
    }
    t.protect(None);
    feed(&mut t, flood_pid(5000), 0, &m, secs(2));
    assert!(
        t.get(pid(1, 1)).is_none(),
        "oldest unqualified goes once unprotected"
    );
}

#[test]
fn zero_capacity() {
    let mut t = table::<0>();
    assert_eq!(
        feed(&mut t, pid(1, 1), 0, &msg(1, 1), secs(0)),
        AnnounceVerdict::TableFull
    );
    assert!(t.erbest(secs(0)).is_none());
}

/// 20,000 fake identities, each announcing once (and a second wave each
/// announcing twice, so they qualify), interleaved with a real master
/// announcing every 2 s: the table stays at its capacity, the real master
/// stays qualified and selected.
#[test]
fn flood_of_20000_identities_keeps_real_master() {
    const N: usize = 16;
    let mut t = table::<N>();
    let real = pid(0x01, 1);
    // The real master is worse than every fake, so only eviction policy
    // (not the comparison) keeps it.
    let real_msg = msg(0x01, 250);
    let fake_msg = msg(0x02, 0);
    feed(&mut t, real, 0, &real_msg, secs(0));
    feed(&mut t, real, 1, &real_msg, secs(2));
    assert!(t.is_qualified(real, secs(2)));
    let mut seq = 2u16;
    let mut now_ns = 2_000_000_000u64;
    for i in 0..20_000u32 {
        // 1,000 fakes per 2 s announce interval.
        now_ns += 2_000_000;
        let now = Time::from_nanos(1_000_000_000_000 + now_ns);
        if i % 1000 == 0 {
            feed(&mut t, real, seq, &real_msg, now);
            seq = seq.wrapping_add(1);
        }
        let v = feed(&mut t, flood_pid(i), 0, &fake_msg, now);
        assert!(v.is_accepted(), "a fake can take an unqualified slot");
        assert!(t.len() <= N);
        assert!(t.is_qualified(real, now), "real master lost at fake {i}");
    }
    let now = Time::from_nanos(1_000_000_000_000 + now_ns);
    assert_eq!(t.erbest(now).unwrap().sender, real);
    assert_eq!(t.len(), N);

    // Second wave: each fake announces twice in a row and qualifies. They
    // fill the table, but never take the real master's record.
    let mut qualified_fakes = 0;
    for i in 20_000..40_000u32 {
        now_ns += 2_000_000;
        let now = Time::from_nanos(1_000_000_000_000 + now_ns);
        if i % 1000 == 0 {
            feed(&mut t, real, seq, &real_msg, now);
            seq = seq.wrapping_add(1);
        }
        feed(&mut t, flood_pid(i), 0, &fake_msg, now);
        if let AnnounceVerdict::Accepted {
            qualified: true, ..
        } = feed(&mut t, flood_pid(i), 1, &fake_msg, now)
        {
            qualified_fakes += 1;
        }
        assert!(t.len() <= N);
        assert!(t.get(real).is_some(), "real master evicted at fake {i}");
        assert!(t.is_qualified(real, now));
    }
    assert!(qualified_fakes >= N - 1);
}

#[test]
fn one_changed_announce_is_held_until_confirmed() {
    let mut t = table::<4>();
    for seq in 0..2 {
        feed(&mut t, pid(1, 1), seq, &msg(1, 128), secs(u64::from(seq)));
    }
    // A forged or stray Announce from the same sender naming a better
    // grandmaster changes nothing...
    assert_eq!(
        feed(&mut t, pid(1, 1), 2, &msg(7, 0), secs(2)),
        AnnounceVerdict::Unconfirmed
    );
    let best = t.erbest(secs(2)).unwrap();
    assert_eq!(best.message.grandmaster_priority_1, 128);
    // ...and the sender's real Announces keep it qualified.
    assert!(feed(&mut t, pid(1, 1), 3, &msg(1, 128), secs(3)).is_accepted());
    // A change announced twice in a row is adopted.
    feed(&mut t, pid(1, 1), 4, &msg(1, 100), secs(4));
    assert!(feed(&mut t, pid(1, 1), 5, &msg(1, 100), secs(5)).is_accepted());
    assert_eq!(
        t.erbest(secs(5)).unwrap().message.grandmaster_priority_1,
        100
    );
}

#[test]
fn a_change_needs_the_very_next_announce_and_nothing_contrary() {
    let mut t = table::<8>();
    let real = msg(1, 128);
    let forged = msg(1, 0);
    feed(&mut t, pid(1, 1), 10, &real, secs(0));
    feed(&mut t, pid(1, 1), 11, &real, secs(1));
    // A forged change, then a repeat that skips a sequenceId: still held.
    assert_eq!(
        feed(&mut t, pid(1, 1), 12, &forged, secs(2)),
        AnnounceVerdict::Unconfirmed
    );
    assert_eq!(
        feed(&mut t, pid(1, 1), 14, &forged, secs(2)),
        AnnounceVerdict::Unconfirmed
    );
    // The sender's own Announce in between resets the pending change.
    assert!(feed(&mut t, pid(1, 1), 15, &real, secs(3)).is_accepted());
    assert_eq!(
        feed(&mut t, pid(1, 1), 16, &forged, secs(3)),
        AnnounceVerdict::Unconfirmed
    );
    assert!(feed(&mut t, pid(1, 1), 17, &real, secs(4)).is_accepted());
    assert_eq!(
        feed(&mut t, pid(1, 1), 18, &forged, secs(4)),
        AnnounceVerdict::Unconfirmed
    );
    assert_eq!(t.get(pid(1, 1)).unwrap().announce().message, real);
    // A real change: two consecutive Announces with the new contents.
    assert!(feed(&mut t, pid(1, 1), 19, &forged, secs(5)).is_accepted());
    assert_eq!(t.get(pid(1, 1)).unwrap().announce().message, forged);
}

#[test]
fn a_jumped_sequence_id_does_not_starve_the_sender() {
    let mut t = table::<8>();
    let m = msg(1, 128);
    feed(&mut t, pid(1, 1), 100, &m, secs(0));
    assert_eq!(
        feed(&mut t, pid(1, 1), 100, &m, secs(1)),
        AnnounceVerdict::Duplicate
    );
    // A forged copy 16384 ahead, then the sender's own next Announce.
    assert!(feed(&mut t, pid(1, 1), 100 + 16384, &m, secs(1)).is_accepted());
    assert!(feed(&mut t, pid(1, 1), 101, &m, secs(2)).is_accepted());
}

#[test]
fn copies_of_another_senders_announce_are_refused() {
    let mut t = table::<8>();
    let mut m = msg(1, 128);
    m.origin_timestamp = crate::wire::Timestamp::new(1_700_000_000, 123_456_789).unwrap();
    feed(&mut t, pid(1, 1), 7, &m, secs(0));
    // The same Announce under a mutated sender identity.
    assert_eq!(
        feed(&mut t, pid(9, 1), 7, &m, secs(0)),
        AnnounceVerdict::Copy
    );
    assert!(t.get(pid(9, 1)).is_none());
    // Another master with the same contents but its own clock and
    // sequence is a master.
    assert!(feed(&mut t, pid(9, 1), 8, &m, secs(0)).is_accepted());
    // Zero timestamps (allowed by clause 13.5.2.1) are never taken as copies.
    let z = msg(2, 128);
    feed(&mut t, pid(2, 1), 3, &z, secs(0));
    assert!(feed(&mut t, pid(3, 1), 3, &z, secs(0)).is_accepted());
}
