//! Property tests of the hybrid logical clock.
//!
//! True time advances; our bound `[t - below, t + above]` holds it (fixed
//! margins per run, so `latest` never goes back); the local clock is
//! anywhere. Events are local reads, messages from honest peers (HLC at
//! most true time plus their width) and messages from liars (HLC beyond
//! our latest plus what they may lead by).
//!
//! Laws: every output is above the one before; the physical part is never
//! behind `earliest` and never ahead of `latest` (plus the largest lead an
//! accepted peer had, when peers are merged); a liar's timestamp is
//! rejected and moves nothing; an accepted timestamp is below our next.

use bft_overlay::peer::{Hlc, HlcTimestamp};
use proptest::prelude::*;

const MAX_LEAD: u64 = 50_000;

#[derive(Clone, Debug)]
enum Ev {
    /// Time passes by this much, then a local read with the local clock
    /// this far from true time.
    Local { dt: u64, clock_err: i64 },
    /// An honest peer's message: its HLC is `behind` below true time plus
    /// its width (what it may be ahead, at most). Honest widths stay within
    /// the configured maximum lead (the operator sets it above them).
    Honest {
        dt: u64,
        width: u64,
        behind: u64,
        logical: u32,
    },
    /// A liar: beyond our latest + min(width, MAX_LEAD) by `beyond + 1`.
    Liar { width: u64, beyond: u64 },
}

fn event() -> impl Strategy<Value = Ev> {
    prop_oneof![
        4 => (0u64..2_000, -1_000_000i64..1_000_000)
            .prop_map(|(dt, clock_err)| Ev::Local { dt, clock_err }),
        3 => (0u64..2_000, 0u64..=MAX_LEAD, 0u64..100_000, any::<u32>())
            .prop_map(|(dt, width, behind, logical)| Ev::Honest { dt, width, behind, logical }),
        1 => (0u64..200_000, 0u64..u64::MAX / 4)
            .prop_map(|(width, beyond)| Ev::Liar { width, beyond }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn hlc_laws(
        below in 0u64..10_000,
        above in 0u64..10_000,
        events in proptest::collection::vec(event(), 1..200),
        local_only in any::<bool>(),
    ) {
        let mut h = Hlc::new(MAX_LEAD);
        let mut t: u64 = 1_000_000_000_000;
        let mut prev = HlcTimestamp::default();
        let mut lead_seen: u64 = 0;
        for ev in events {
            let (earliest, latest) = (t - below, t + above);
            match ev {
                Ev::Local { dt, clock_err } => {
                    t += dt;
                    let (earliest, latest) = (t - below, t + above);
                    let local = t.saturating_add_signed(clock_err);
                    let out = h.now(earliest, latest, local);
                    prop_assert!(out > prev, "{out:?} after {prev:?}");
                    prop_assert!(out.physical_ns >= earliest);
                    prop_assert!(out.physical_ns <= latest + lead_seen, "{out:?} latest {latest}");
                    prev = out;
                }
                Ev::Honest { dt, width, behind, logical } if !local_only => {
                    t += dt;
                    let (earliest, latest) = (t - below, t + above);
                    let remote = HlcTimestamp {
                        physical_ns: (t + width).saturating_sub(behind),
                        logical,
                    };
                    // An honest peer is never refused.
                    let out = h.receive(earliest, latest, t, remote, width);
                    prop_assert!(out.is_ok(), "{remote:?} refused, latest {latest}");
                    let out = out.unwrap();
                    prop_assert!(out > prev && out > remote);
                    lead_seen = lead_seen.max(remote.physical_ns.saturating_sub(latest));
                    prop_assert!(lead_seen <= MAX_LEAD);
                    prop_assert!(out.physical_ns >= earliest);
                    prev = out;
                }
                Ev::Liar { width, beyond } if !local_only => {
                    let remote = HlcTimestamp {
                        physical_ns: latest + width.min(MAX_LEAD) + 1 + beyond,
                        logical: 0,
                    };
                    let before = h.last();
                    let rejected = h.receive(earliest, latest, t, remote, width);
                    prop_assert!(rejected.is_err());
                    prop_assert_eq!(h.last(), before, "a liar moved the clock");
                }
                _ => {}
            }
        }
    }
}
