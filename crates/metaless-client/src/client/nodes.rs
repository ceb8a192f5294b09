//! The node list: fetched at start when none was given, refreshed every `node_refresh_ms`,
//! and again (at most once per `retry_max_ms`) when an operation stalls for want of nodes.
//!
//! No single source is trusted with it. A refresh is a *round*: [`REFRESH_SOURCES`] distinct
//! known nodes are asked (`get_service_nodes`, through an onion path once one can be built,
//! else directly), and only the nodes a majority of the answers list with the same key, IP
//! and port are kept ([`agreed_nodes`]). Without enough known nodes the round asks the
//! configured seeds instead (as many distinct ones as there are, up to three; the app chose
//! them) or takes the app's bootstrap nodes as they are.

use std::collections::BTreeSet;

use metaless_swarm::{NodeId, NodeList, RPC_PATH, SEED_PATH, ServiceNode};
use metaless_swarm::{OxendRequest, Request};

use super::Client;
use super::event::Event;
use super::faults::Fault;
use super::ops::{OpKey, OpKind};
use super::requests::InFlight;
use crate::directory::{agreed_nodes, choose};
use crate::transport::Target;
use crate::{Bootstrap, FailureKind};

/// Distinct sources a refresh asks; a node is kept when a majority of their answers list it.
pub(crate) const REFRESH_SOURCES: usize = 3;

/// Who a round asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Node([u8; 32]),
    Seed(usize),
}

/// One refresh in progress: the answers so far and the sources already asked.
#[derive(Debug)]
struct Round {
    /// Answers needed before the round decides.
    needed: usize,
    /// Whether the round asks known nodes (else seeds or the bootstrap list).
    from_nodes: bool,
    asked: BTreeSet<Source>,
    answers: Vec<Vec<ServiceNode>>,
}

#[derive(Debug)]
pub(super) struct NodeFetch {
    /// When the next fetch starts (local ms).
    pub(super) refresh_due: u64,
    /// When the last one started.
    last_fetch: u64,
    /// The seed asked next (round robin).
    seed_cursor: usize,
    round: Option<Round>,
}

impl NodeFetch {
    pub(super) fn new(refresh_due: u64) -> Self {
        Self {
            refresh_due,
            last_fetch: 0,
            seed_cursor: 0,
            round: None,
        }
    }
}

impl Client {
    /// Starts a refresh round if one is due and none is running: one fetch operation per
    /// source the round needs.
    pub(super) fn fetch_if_due(&mut self, now: u64) {
        if now < self.fetch.refresh_due || self.ops.any(|k| matches!(k, OpKind::FetchNodes)) {
            return;
        }
        self.fetch.refresh_due = now.saturating_add(self.config.node_refresh_ms);
        self.fetch.last_fetch = now;
        let from_nodes = self.dir.usable_count(now) >= REFRESH_SOURCES;
        let needed = match (&self.config.bootstrap, from_nodes) {
            (_, true) => REFRESH_SOURCES,
            (Bootstrap::Seeds(seeds), false) => seeds.len().clamp(1, REFRESH_SOURCES),
            (_, false) => 1,
        };
        self.fetch.round = Some(Round {
            needed,
            from_nodes,
            asked: BTreeSet::new(),
            answers: Vec::new(),
        });
        for _ in 0..needed {
            self.ops.insert_internal(OpKind::FetchNodes, now);
        }
    }

    /// One fetch attempt of the round: a known node not yet asked (through an onion path when
    /// one can be built), else the bootstrap nodes (taken as the list at once), else a seed not
    /// yet asked.
    pub(super) fn attempt_fetch(&mut self, key: OpKey, now: u64) {
        let Some(round) = self.fetch.round.as_ref() else {
            return self.finish(key, now, Some(FailureKind::NoNodes));
        };
        if round.from_nodes {
            let fresh: Vec<[u8; 32]> = self
                .dir
                .usable_nodes(now)
                .into_iter()
                .filter(|k| !round.asked.contains(&Source::Node(*k)))
                .collect();
            let Some(node) = choose(&fresh, &mut self.rng).copied() else {
                return self.out_of_sources(key, now);
            };
            if let Some(r) = self.fetch.round.as_mut() {
                r.asked.insert(Source::Node(node));
            }
            let body = Request::OxendRequest(OxendRequest::get_service_nodes()).to_body();
            // Through a path, so the node asked does not learn who asks, and a man in the
            // middle of the client's link cannot answer for it.
            if self
                .send_onion(key, node, &BTreeSet::from([node]), &body, now)
                .is_ok()
            {
                return;
            }
            let Some(entry) = self.dir.get(&node) else {
                return self.finish(key, now, Some(FailureKind::NoNodes));
            };
            let target = Target {
                node: Some(NodeId::from(node)),
                base_url: self.base_url(&entry.node),
                path: RPC_PATH,
            };
            let fl = self.new_request(key, None, None, Vec::new(), Some(node), now);
            return self.push(fl, target, body);
        }
        match &self.config.bootstrap {
            Bootstrap::Nodes(nodes) if !nodes.is_empty() => {
                let nodes = nodes.clone();
                self.fetch.round = None;
                self.dir.add_nodes(nodes);
                self.nodes_updated(now);
                self.finish(key, now, None);
            }
            Bootstrap::Seeds(seeds) if !seeds.is_empty() => {
                let asked = &round.asked;
                let n = seeds.len();
                let pick = (0..n)
                    .map(|i| (self.fetch.seed_cursor + i) % n)
                    .find(|i| !asked.contains(&Source::Seed(*i)));
                let Some(i) = pick else {
                    return self.out_of_sources(key, now);
                };
                // A round of one seed may ask it again.
                if round.needed > 1
                    && let Some(r) = self.fetch.round.as_mut()
                {
                    r.asked.insert(Source::Seed(i));
                }
                let base = seeds.get(i).cloned().unwrap_or_default();
                self.fetch.seed_cursor = i.wrapping_add(1);
                let fields = OxendRequest::get_service_nodes().params.unwrap_or_default();
                let body = serde_json::json!({"jsonrpc": "2.0", "id": "0", "method": "get_n_service_nodes", "params": fields});
                let target = Target {
                    node: None,
                    base_url: base.trim_end_matches('/').to_owned(),
                    path: SEED_PATH,
                };
                let fl = self.new_request(key, None, None, Vec::new(), None, now);
                self.push(fl, target, body.to_string().into_bytes());
            }
            _ => self.finish(key, now, Some(FailureKind::NoNodes)),
        }
    }

    /// A node list answer: kept for the round; once the round has all its answers, the nodes
    /// a majority agrees on replace the directory (when there are more of them than a path has
    /// hops).
    pub(super) fn on_node_list(&mut self, now: u64, fl: &InFlight, body: &str) {
        let list = match NodeList::from_get_service_nodes(body.as_bytes()) {
            Ok(list) if !list.nodes.is_empty() => list,
            _ => return self.fail(now, fl, Fault::Destination),
        };
        let Some(round) = self.fetch.round.as_mut() else {
            return self.finish(fl.op, now, None);
        };
        round.answers.push(list.nodes);
        if round.answers.len() < round.needed {
            return self.finish(fl.op, now, None);
        }
        self.decide_round(fl.op, now);
    }

    /// A fetch found no source left to ask: the round decides with the answers it has when
    /// they can still make a quorum, else it is abandoned.
    fn out_of_sources(&mut self, key: OpKey, now: u64) {
        match &self.fetch.round {
            Some(r) if r.answers.len() > r.needed / 2 => self.decide_round(key, now),
            _ => self.finish(key, now, Some(FailureKind::NoNodes)),
        }
    }

    /// The round ends: the nodes a majority of the round's sources agree on (a quorum of
    /// `needed / 2 + 1` answers, so a missing answer counts against every node).
    fn decide_round(&mut self, key: OpKey, now: u64) {
        let Some(round) = self.fetch.round.take() else {
            return self.finish(key, now, None);
        };
        let quorum = round.needed / 2 + 1;
        let agreed = agreed_nodes(&round.answers, quorum);
        // The round's other fetches are done with.
        let others: Vec<OpKey> = self
            .ops
            .iter()
            .filter(|(k, op)| *k != key && matches!(op.kind, OpKind::FetchNodes))
            .map(|(k, _)| k)
            .collect();
        for k in others {
            self.ops.remove(k);
        }
        if agreed.len() > self.config.hops {
            let dropped = self.dir.replace_nodes(agreed);
            self.stats.paths_dropped += dropped.len() as u64;
            self.nodes_updated(now);
            self.fetch.refresh_due = now.saturating_add(self.config.node_refresh_ms);
            self.finish(key, now, None);
        } else {
            self.finish(key, now, Some(FailureKind::NoNodes));
        }
    }

    /// A fetch failed for good: tell the app if no node is known, try again later.
    /// The round is abandoned (its other fetches too; their answers are ignored).
    pub(super) fn fetch_failed(&mut self, now: u64) {
        self.fetch.round = None;
        let others: Vec<OpKey> = self
            .ops
            .iter()
            .filter(|(_, op)| matches!(op.kind, OpKind::FetchNodes))
            .map(|(k, _)| k)
            .collect();
        for k in others {
            self.ops.remove(k);
        }
        if self.dir.len() == 0 {
            self.events.push_back(Event::NoNodes);
        }
        self.fetch.refresh_due = now.saturating_add(self.config.retry_max_ms);
    }

    /// New nodes: report them and wake the operations that stalled for want of nodes.
    pub(super) fn nodes_updated(&mut self, now: u64) {
        self.events.push_back(Event::NodesUpdated {
            count: self.dir.usable_count(now),
        });
        for op in self.ops.values_mut() {
            if op.stalled {
                op.stalled = false;
                op.not_before = now;
            }
        }
    }

    /// No path or swarm can be formed now: wait for the node list (fetching it) and retry.
    pub(super) fn stall(&mut self, key: OpKey, now: u64) {
        if let Some(op) = self.ops.get_mut(key) {
            op.stalled = true;
            op.not_before = now.saturating_add(self.config.retry_max_ms);
        }
        // Fetch the node list again, at most once per `retry_max_ms`.
        let soonest = self.fetch_soonest(now);
        self.fetch.refresh_due = self.fetch.refresh_due.min(soonest);
    }

    /// The soonest a node-list refresh may start again (one per `retry_max_ms`).
    pub(super) fn fetch_soonest(&self, now: u64) -> u64 {
        self.fetch
            .last_fetch
            .saturating_add(self.config.retry_max_ms)
            .max(now)
    }
}
