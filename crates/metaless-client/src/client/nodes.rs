//! The node list: fetched at start when none was given, refreshed every `node_refresh_ms`,
//! and again (at most once per `retry_max_ms`) when an operation stalls for want of nodes.
//! The list is public, so it is fetched directly, not through an onion path: from a known
//! node (`get_service_nodes`), else from the bootstrap nodes or a seed
//! (`get_n_service_nodes`).

use metaless_swarm::rpc::{OxendRequest, Request};
use metaless_swarm::{NodeList, RPC_PATH, SEED_PATH};

use super::Client;
use super::event::Event;
use super::faults::Fault;
use super::ops::{OpKey, OpKind};
use super::requests::InFlight;
use crate::directory::choose;
use crate::transport::Target;
use crate::{Bootstrap, FailureKind};

#[derive(Debug)]
pub(super) struct NodeFetch {
    /// When the next fetch starts (local ms).
    pub(super) refresh_due: u64,
    /// When the last one started.
    last_fetch: u64,
    /// The seed asked next (round robin).
    seed_cursor: usize,
}

impl NodeFetch {
    pub(super) fn new(refresh_due: u64) -> Self {
        Self {
            refresh_due,
            last_fetch: 0,
            seed_cursor: 0,
        }
    }
}

impl Client {
    /// Starts a node fetch if one is due and none is running.
    pub(super) fn fetch_if_due(&mut self, now: u64) {
        if now >= self.fetch.refresh_due && !self.ops.any(|k| matches!(k, OpKind::FetchNodes)) {
            self.fetch.refresh_due = now.saturating_add(self.config.node_refresh_ms);
            self.fetch.last_fetch = now;
            self.ops.insert_internal(OpKind::FetchNodes, now);
        }
    }

    /// One node fetch attempt: a known usable node, else the bootstrap nodes (taken as the
    /// list at once), else the next seed.
    pub(super) fn attempt_fetch(&mut self, key: OpKey, now: u64) {
        let usable = self.dir.usable_nodes(now);
        if let Some(node) = choose(&usable, &mut self.rng).copied()
            && let Some(entry) = self.dir.get(&node)
        {
            // The node list is public: ask a known node directly.
            let target = Target {
                node: Some(node),
                base_url: self.base_url(&entry.node),
                path: RPC_PATH,
            };
            let body = Request::OxendRequest(OxendRequest::get_service_nodes()).to_body();
            let fl = self.new_request(key, None, None, Vec::new(), Some(node), now);
            return self.push(fl, target, body);
        }
        match &self.config.bootstrap {
            Bootstrap::Nodes(nodes) if !nodes.is_empty() => {
                let nodes = nodes.clone();
                self.dir.add_nodes(nodes);
                self.nodes_updated(now);
                self.finish(key, now, None);
            }
            Bootstrap::Seeds(seeds) if !seeds.is_empty() => {
                let base = seeds
                    .get(self.fetch.seed_cursor % seeds.len())
                    .cloned()
                    .unwrap_or_default();
                self.fetch.seed_cursor = self.fetch.seed_cursor.wrapping_add(1);
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

    /// A node list answer: taken when it has more nodes than a path has hops.
    pub(super) fn on_node_list(&mut self, now: u64, fl: &InFlight, body: &str) {
        match NodeList::from_get_service_nodes(body.as_bytes()) {
            Ok(list) if list.nodes.len() > self.config.hops => {
                let dropped = self.dir.replace_nodes(list.nodes);
                self.stats.paths_dropped += dropped.len() as u64;
                self.nodes_updated(now);
                self.fetch.refresh_due = now.saturating_add(self.config.node_refresh_ms);
                self.finish(fl.op, now, None);
            }
            _ => self.fail(now, fl, Fault::Destination),
        }
    }

    /// A fetch failed for good: tell the app if no node is known, try again later.
    pub(super) fn fetch_failed(&mut self, now: u64) {
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
        let soonest = self
            .fetch
            .last_fetch
            .saturating_add(self.config.retry_max_ms)
            .max(now);
        self.fetch.refresh_due = self.fetch.refresh_due.min(soonest);
    }
}
