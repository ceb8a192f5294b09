//! Requests out: the storage RPC body for each operation, the swarm member it goes to, the
//! onion path and layers around it, and the table of requests in flight.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use metaless_identity::Keypair;
use metaless_onion::{Destination, ONION_PATH, PendingResponse};
use metaless_swarm::sig::ExpireMode;
use metaless_swarm::{Delete, Expire, Request, Signer, Store};
use metaless_swarm::{MessageHash, Namespace, NodeId, ServiceNode, UserPubkey, ttl};

use super::Client;
use super::event::Event;
use super::ops::{OpKey, OpKind};
use crate::FailureKind;
use crate::directory::{PathId, choose};
use crate::persist::PendingSend;
use crate::transport::{RequestId, Target, Transmit};

/// A request handed out and not yet answered.
pub(super) struct InFlight {
    /// The operation it is for.
    pub(super) op: OpKey,
    /// Opens the onion reply (`None` for direct requests).
    pub(super) reply: Option<PendingResponse>,
    /// The path it went through (`None` for direct requests).
    pub(super) path: Option<PathId>,
    /// That path's hops, the guard first.
    pub(super) hops: Vec<[u8; 32]>,
    /// The node meant to answer (`None` for a seed).
    pub(super) dest: Option<[u8; 32]>,
    /// Local time it was handed out.
    pub(super) started: u64,
    /// Local time it times out.
    pub(super) deadline: u64,
}

/// Requests in flight and the transmits not yet taken by the app.
#[derive(Default)]
pub(super) struct Requests {
    next: u64,
    inflight: BTreeMap<RequestId, InFlight>,
    transmits: VecDeque<Transmit>,
}

impl Requests {
    pub(super) fn len(&self) -> usize {
        self.inflight.len()
    }

    pub(super) fn pop_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The operation a request in flight is for.
    pub(super) fn op_of(&self, id: RequestId) -> Option<OpKey> {
        self.inflight.get(&id).map(|f| f.op)
    }

    /// The request with this id, no longer in flight.
    pub(super) fn take(&mut self, id: RequestId) -> Option<InFlight> {
        self.inflight.remove(&id)
    }

    /// Requests whose deadline is at or before `now`.
    pub(super) fn expired(&self, now: u64) -> Vec<RequestId> {
        self.inflight
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|(id, _)| *id)
            .collect()
    }

    pub(super) fn next_deadline(&self) -> Option<u64> {
        self.inflight.values().map(|f| f.deadline).min()
    }

    /// Records a request and queues its transmit; ids count from 1.
    fn add(&mut self, fl: InFlight, to_node: Target, body: Vec<u8>) {
        self.next += 1;
        let id = RequestId::from(self.next);
        let deadline_ms = fl.deadline;
        self.inflight.insert(id, fl);
        self.transmits.push_back(Transmit {
            id,
            to_node,
            body,
            deadline_ms,
        });
    }
}

/// A `store` of a pending send (namespace 0, unsigned) with what is left of its TTL, and the
/// recipient's account; `Expired` once nothing is left.
pub(super) fn store_body(
    p: &PendingSend,
    network_now: u64,
) -> Result<(Vec<u8>, UserPubkey), FailureKind> {
    let account = UserPubkey::new(0x05, *p.to.key());
    // A clock corrected since sealing may leave more than the namespace allows.
    let left = p.expiry_ms.saturating_sub(network_now);
    let remaining = ttl::clamp(Namespace::Default, left).min(left);
    match Store::deposit(
        account,
        Namespace::Default,
        p.data.clone(),
        network_now,
        remaining,
    ) {
        Ok(store) => Ok((Request::Store(store).to_body(), account)),
        Err(_) => Err(FailureKind::Expired),
    }
}

/// A signed `expire` shortening `hashes` to `expiry_ms`.
pub(super) fn expire_body(
    keys: &Keypair,
    hashes: &[MessageHash],
    expiry_ms: u64,
) -> Result<Vec<u8>, FailureKind> {
    let signer = Signer::session(keys);
    Expire::signed(
        &signer,
        hashes.to_vec(),
        vec![expiry_ms],
        ExpireMode::Shorten,
    )
    .map(|e| Request::Expire(e).to_body())
    .map_err(|_| FailureKind::Rejected { status: 400 })
}

/// A signed `delete` of `hashes`.
pub(super) fn delete_body(keys: &Keypair, hashes: &[MessageHash]) -> Result<Vec<u8>, FailureKind> {
    let signer = Signer::session(keys);
    Delete::signed(&signer, hashes.to_vec(), false)
        .map(|d| Request::Delete(d).to_body())
        .map_err(|_| FailureKind::Rejected { status: 400 })
}

impl Client {
    /// Sends `payload` for operation `key` to a member of `account`'s swarm through a path
    /// that avoids the whole swarm; stalls the operation when no member or path can be had.
    pub(super) fn send_to_swarm(
        &mut self,
        key: OpKey,
        account: UserPubkey,
        payload: Vec<u8>,
        now: u64,
    ) {
        let Some(op) = self.ops.get(key) else {
            return;
        };
        let tried = op.tried.clone();
        let is_retrieve = matches!(op.kind, OpKind::Retrieve);
        // Polls keep to the member that worked (its last hash goes with it).
        let prefer = match &op.kind {
            OpKind::SwarmRetrieve(r) => r
                .sub
                .and_then(|s| self.subs.map.get(&s))
                .and_then(|s| s.node),
            _ if account == self.me => self.inbox.poll_node,
            _ => None,
        };
        let Some((members, dest)) = self.pick_member(&account, &tried, prefer, now) else {
            return self.stall(key, now);
        };
        // The retrieve was signed for `poll_node`'s last hash; if another member was picked,
        // rebuild it with that member's.
        let payload = if is_retrieve && Some(dest) != self.inbox.poll_node {
            self.inbox.poll_node = Some(dest);
            let network_now = self.clock.now(now);
            self.inbox
                .retrieve_body(&self.keys, Some(dest), network_now)
        } else {
            payload
        };
        let avoid: BTreeSet<[u8; 32]> = members.into_iter().chain([dest]).collect();
        if self.send_onion(key, dest, &avoid, &payload, now).is_err() {
            self.stall(key, now);
        }
    }

    /// A swarm member of `account` to talk to (untried ones first), and all members.
    fn pick_member(
        &mut self,
        account: &UserPubkey,
        tried: &[[u8; 32]],
        prefer: Option<[u8; 32]>,
        now: u64,
    ) -> Option<(Vec<[u8; 32]>, [u8; 32])> {
        let (_, members) = self.dir.swarm_of(account)?;
        let mut usable: Vec<[u8; 32]> = members
            .iter()
            .filter(|m| self.dir.usable(m, now))
            .copied()
            .collect();
        if usable.is_empty() {
            // Every member is blacklisted: better to try one again than to give up.
            usable = members
                .iter()
                .filter(|m| self.dir.get(m).is_some())
                .copied()
                .collect();
        }
        let fresh: Vec<[u8; 32]> = usable
            .iter()
            .filter(|m| !tried.contains(m))
            .copied()
            .collect();
        let pool = if fresh.is_empty() { &usable } else { &fresh };
        let dest = match prefer.filter(|p| pool.contains(p)) {
            Some(p) => p,
            None => *choose(pool, &mut self.rng)?,
        };
        Some((members, dest))
    }

    /// `scheme://ip:port` of a service node.
    pub(super) fn base_url(&self, node: &ServiceNode) -> String {
        let scheme = if self.config.https { "https" } else { "http" };
        format!("{scheme}://{}:{}", node.ip_string(), node.storage_port)
    }

    /// Builds an onion request to `dest` through a path avoiding `avoid` and queues it.
    pub(super) fn send_onion(
        &mut self,
        key: OpKey,
        dest: [u8; 32],
        avoid: &BTreeSet<[u8; 32]>,
        payload: &[u8],
        now: u64,
    ) -> Result<(), NoPath> {
        let (hops, paths) = (self.config.hops, self.config.paths);
        let found = match self.dir.path_for(avoid, hops, paths, now, &mut self.rng) {
            Some(found) => Some(found),
            // A small network may not have enough nodes outside the destination's swarm.
            None => self
                .dir
                .path_for(&BTreeSet::from([dest]), hops, paths, now, &mut self.rng),
        };
        let (pid, fresh) = found.ok_or(NoPath)?;
        let path = self.dir.path(pid).ok_or(NoPath)?.hops.clone();
        if fresh {
            self.stats.paths_built += 1;
            self.events.push_back(Event::PathRebuilt {
                hops: path.iter().copied().map(NodeId::from).collect(),
            });
        }
        let hops: Vec<metaless_onion::Hop> = path
            .iter()
            .filter_map(|k| self.dir.get(k).map(|e| e.hop.clone()))
            .collect();
        let dest_hop = self.dir.get(&dest).ok_or(NoPath)?.hop.clone();
        let built = metaless_onion::build(
            &hops,
            &Destination::ServiceNode(dest_hop),
            payload,
            self.config.enc,
            &mut self.rng,
        )
        .map_err(|_| NoPath)?;
        let guard = self.dir.get(&built.first_hop).ok_or(NoPath)?;
        let target = Target {
            node: Some(NodeId::from(built.first_hop)),
            base_url: self.base_url(&guard.node),
            path: ONION_PATH,
        };
        let fl = self.new_request(key, Some(built.pending), Some(pid), path, Some(dest), now);
        self.push(fl, target, built.body);
        Ok(())
    }

    /// The bookkeeping of a request for `key` handed out at `now`.
    pub(super) fn new_request(
        &self,
        key: OpKey,
        reply: Option<PendingResponse>,
        path: Option<PathId>,
        hops: Vec<[u8; 32]>,
        dest: Option<[u8; 32]>,
        now: u64,
    ) -> InFlight {
        InFlight {
            op: key,
            reply,
            path,
            hops,
            dest,
            started: now,
            deadline: now.saturating_add(self.config.request_timeout_ms),
        }
    }

    /// Hands a request to the app: its operation is in flight until the answer or deadline.
    pub(super) fn push(&mut self, fl: InFlight, to_node: Target, body: Vec<u8>) {
        if let Some(op) = self.ops.get_mut(fl.op) {
            op.in_flight = true;
        }
        self.stats.requests += 1;
        self.requests.add(fl, to_node, body);
    }
}

/// No onion request could be built now (no path, or a node missing from the list).
#[derive(Debug)]
pub(super) struct NoPath;
