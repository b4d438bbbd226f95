//! The virtual network: links between node ports.
//!
//! A link with two endpoints is a cable; with more it is a shared segment
//! (a hub or an ideal switch without transparent clocks): every frame sent
//! by one endpoint reaches every other endpoint, each copy with its own
//! delay and its own loss draw. The delay of one copy is
//!
//! ```text
//! base-ns + jitter + (asymmetry-ns if sent by endpoint 0)
//!                  - (asymmetry-ns if sent to endpoint 0)
//! ```
//!
//! never below zero. By default every copy keeps its own delay, so frames
//! may overtake each other (a Follow_Up may arrive before its Sync), as in
//! clknetsim. With `fifo = true` a link keeps the order per direction and
//! pair of ports, as a cable or a switch queue does: a frame is held until
//! the frame sent before it on the same path has arrived. A link that
//! is down loses every frame sent on it, and every frame in flight that
//! would arrive while it is down.

use crate::rng::Rng;
use crate::scenario::{LinkSpec, Scenario};

/// One copy of a frame to deliver.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hop {
    /// Receiving node.
    pub node: usize,
    /// Receiving port (from 0).
    pub port: usize,
    /// Arrival time, ns.
    pub at_ns: f64,
}

#[derive(Clone, Debug)]
struct Link {
    spec: LinkSpec,
    endpoints: Vec<(usize, usize)>,
    up: bool,
    rng: Rng,
    /// Latest arrival per (sender endpoint, receiver endpoint), for FIFO.
    last_arrival: Vec<f64>,
}

/// All links of a scenario and their state.
#[derive(Clone, Debug)]
pub struct Network {
    links: Vec<Link>,
    /// Frames lost (loss draws and links down).
    pub lost: u64,
    /// Frame copies put on the wire.
    pub sent: u64,
}

impl Network {
    /// The links of `sc` (already validated), with random streams from
    /// `seed`.
    ///
    /// # Panics
    /// If an endpoint does not resolve (the scenario was not validated).
    #[must_use]
    pub fn new(sc: &Scenario, seed: u64) -> Self {
        let links = sc
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| Link {
                spec: l.clone(),
                endpoints: l
                    .endpoints
                    .iter()
                    .map(|e| sc.endpoint(e).expect("validated scenario"))
                    .collect(),
                up: true,
                rng: Rng::derive(seed, "link", i as u64),
                last_arrival: vec![f64::NEG_INFINITY; l.endpoints.len() * l.endpoints.len()],
            })
            .collect();
        Self {
            links,
            lost: 0,
            sent: 0,
        }
    }

    /// The link a port is on.
    #[must_use]
    pub fn link_of(&self, node: usize, port: usize) -> Option<usize> {
        self.links
            .iter()
            .position(|l| l.endpoints.contains(&(node, port)))
    }

    /// The endpoints of link `link`.
    #[must_use]
    pub fn endpoints(&self, link: usize) -> &[(usize, usize)] {
        self.links.get(link).map_or(&[], |l| &l.endpoints)
    }

    /// Number of links.
    #[must_use]
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// No links at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Whether link `link` is up.
    #[must_use]
    pub fn is_up(&self, link: usize) -> bool {
        self.links.get(link).is_some_and(|l| l.up)
    }

    /// Brings link `link` up or down.
    pub fn set_up(&mut self, link: usize, up: bool) {
        if let Some(l) = self.links.get_mut(link) {
            l.up = up;
        }
    }

    /// The copies of a frame sent by `(node, port)` onto the wire at true
    /// time `depart_ns`: one per other endpoint of its link, minus the lost
    /// ones.
    pub fn fanout(&mut self, node: usize, port: usize, depart_ns: f64) -> Vec<Hop> {
        let Some(li) = self.link_of(node, port) else {
            return Vec::new();
        };
        let link = &mut self.links[li];
        let from = (node, port);
        let sender_is_first = link.endpoints.first() == Some(&from);
        let n_ep = link.endpoints.len();
        let from_k = link.endpoints.iter().position(|&e| e == from).unwrap_or(0);
        let mut out = Vec::with_capacity(link.endpoints.len());
        for (k, &to) in link.endpoints.iter().enumerate() {
            if to == from {
                continue;
            }
            self.sent += 1;
            // Draw in a fixed order whether or not the frame is lost, so a
            // loss does not shift the other copies' delays.
            let jitter = link.spec.delay.jitter.sample(&mut link.rng);
            let lost = link.rng.chance(link.spec.loss);
            if !link.up || lost {
                self.lost += 1;
                continue;
            }
            let mut d = link.spec.delay.base_ns + jitter;
            if sender_is_first {
                d += link.spec.asymmetry_ns;
            }
            if k == 0 {
                d -= link.spec.asymmetry_ns;
            }
            let mut at = depart_ns + d.max(0.0);
            if link.spec.fifo {
                let last = &mut link.last_arrival[from_k * n_ep + k];
                at = at.max(*last);
                *last = at;
            }
            out.push(Hop {
                node: to.0,
                port: to.1,
                at_ns: at,
            });
        }
        out
    }
}
