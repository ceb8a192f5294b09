//! The operation table: everything the client is doing, each entry ready (its `not_before`
//! has passed), in flight (one request out), waiting (for a clock sync) or stalled (too few
//! nodes for a path). App operations (sends, expiries, deletes) carry the [`OpId`] the app got
//! back; internal ones (polls, node fetches, clock syncs) only their table key.

use std::collections::{BTreeMap, BTreeSet};

use metaless_swarm::Request;
use metaless_swarm::{MessageHash, UserPubkey};

use metaless_onion::ServerDestination;

use super::Client;
use super::requests::{delete_body, expire_body, store_body};
use super::swarm_ops::{self, RequestOp, RetrieveOp, StoreOp, SwarmAccount};
use crate::persist::PendingSend;
use crate::{ClientError, FailureKind, limits};

/// Id of an operation the app started (a send, an expiry change, a delete): what
/// [`Client::send`], [`Client::mark_read`] and [`Client::delete`] return, and what
/// [`Event::Delivered`](crate::Event::Delivered), [`Event::Done`](crate::Event::Done) and
/// [`Event::Failed`](crate::Event::Failed) carry. Ids grow from 1 and are unique per client,
/// across restarts when pending sends are resumed from persistence (their ids are kept).
///
/// ```
/// use metaless_client::OpId;
/// let id = OpId::from(7);
/// assert_eq!(id.get(), 7);
/// assert!(OpId::from(1) < OpId::from(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId(u64);

impl OpId {
    /// The number (for storage and the C ABI).
    ///
    /// ```
    /// assert_eq!(metaless_client::OpId::from(3).get(), 3);
    /// ```
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for OpId {
    /// The id with this number (as stored by a [`Persistence`](crate::Persistence) hook).
    fn from(n: u64) -> Self {
        Self(n)
    }
}

/// Key of an operation in the table. App operations and internal ones draw from one counter,
/// so an app operation's key is its [`OpId`]'s number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct OpKey(u64);

impl From<OpId> for OpKey {
    fn from(id: OpId) -> Self {
        Self(id.0)
    }
}

#[derive(Debug)]
pub(super) enum OpKind {
    Send(PendingSend),
    Retrieve,
    Expire {
        hashes: Vec<MessageHash>,
        expiry_ms: u64,
    },
    Delete {
        hashes: Vec<MessageHash>,
    },
    FetchNodes,
    ClockSync {
        node: [u8; 32],
    },
    /// A generic store (any account and namespace).
    SwarmStore(StoreOp),
    /// A generic retrieve, for the app or a subscription.
    SwarmRetrieve(RetrieveOp),
    /// A generic delete by hashes.
    SwarmDelete {
        account: SwarmAccount,
        hashes: Vec<MessageHash>,
    },
    /// A request the app signs (re-signed by its builder on every attempt).
    SwarmRequest(Box<RequestOp>),
    /// An onion v4 request to an HTTP server (the payload framed once, at queue time).
    Server {
        dest: Box<ServerDestination>,
        payload: Vec<u8>,
    },
}

#[derive(Debug)]
pub(super) struct Op {
    pub(super) kind: OpKind,
    /// The app's id, for app operations.
    pub(super) user: Option<OpId>,
    pub(super) attempts: u32,
    /// Not attempted before this local time.
    pub(super) not_before: u64,
    pub(super) in_flight: bool,
    /// Waiting for the node list (too few nodes for a path).
    pub(super) stalled: bool,
    /// Waiting for this clock sync to finish.
    pub(super) waiting: Option<OpKey>,
    pub(super) clock_retries: u32,
    /// Swarm members that failed this operation (tried last).
    pub(super) tried: Vec<[u8; 32]>,
}

impl Op {
    fn new(kind: OpKind, user: Option<OpId>, now: u64) -> Self {
        Self {
            kind,
            user,
            attempts: 0,
            not_before: now,
            in_flight: false,
            stalled: false,
            waiting: None,
            clock_retries: 0,
            tried: Vec::new(),
        }
    }

    fn idle(&self) -> bool {
        !self.in_flight && self.waiting.is_none()
    }
}

/// The table, in key order (the order ready operations are attempted in).
#[derive(Debug)]
pub(super) struct Ops {
    next: u64,
    table: BTreeMap<OpKey, Op>,
}

impl Default for Ops {
    fn default() -> Self {
        Self {
            next: 1,
            table: BTreeMap::new(),
        }
    }
}

impl Ops {
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    pub(super) fn get(&self, key: OpKey) -> Option<&Op> {
        self.table.get(&key)
    }

    pub(super) fn get_mut(&mut self, key: OpKey) -> Option<&mut Op> {
        self.table.get_mut(&key)
    }

    pub(super) fn remove(&mut self, key: OpKey) -> Option<Op> {
        self.table.remove(&key)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (OpKey, &Op)> {
        self.table.iter().map(|(k, op)| (*k, op))
    }

    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut Op> {
        self.table.values_mut()
    }

    /// Whether some operation is of a kind.
    pub(super) fn any(&self, is: impl Fn(&OpKind) -> bool) -> bool {
        self.table.values().any(|op| is(&op.kind))
    }

    /// How many operations are of a kind.
    pub(super) fn count(&self, is: impl Fn(&OpKind) -> bool) -> usize {
        self.table.values().filter(|op| is(&op.kind)).count()
    }

    /// A fresh app id (the counter moves even if the caller then refuses the operation).
    pub(super) fn new_id(&mut self) -> OpId {
        let id = OpId(self.next);
        self.next += 1;
        id
    }

    /// Adds an app operation under an id from [`new_id`](Self::new_id).
    pub(super) fn insert_app(&mut self, id: OpId, kind: OpKind, now: u64) {
        self.table
            .insert(OpKey::from(id), Op::new(kind, Some(id), now));
    }

    /// Adds an internal operation (no app id).
    pub(super) fn insert_internal(&mut self, kind: OpKind, now: u64) -> OpKey {
        let key = OpKey::from(self.new_id());
        self.table.insert(key, Op::new(kind, None, now));
        key
    }

    /// A send found in persistence at start-up, under its own id; later ids come after it.
    pub(super) fn resume(&mut self, pending: PendingSend, now: u64) {
        let id = pending.id;
        self.next = self.next.max(id.get().saturating_add(1));
        self.insert_app(id, OpKind::Send(pending), now);
    }

    /// Idle operations whose time has come, in key order.
    pub(super) fn ready(&self, now: u64) -> Vec<OpKey> {
        self.iter()
            .filter(|(_, op)| op.idle() && op.not_before <= now)
            .map(|(k, _)| k)
            .collect()
    }

    /// When the next idle operation becomes ready.
    pub(super) fn next_ready(&self) -> Option<u64> {
        self.table
            .values()
            .filter(|op| op.idle())
            .map(|op| op.not_before)
            .min()
    }
}

impl Client {
    /// Adds an app operation and starts what is ready.
    pub(super) fn queue(&mut self, kind: OpKind, now: u64) -> Result<OpId, ClientError> {
        if self.ops.len() >= limits::MAX_PENDING_OPS {
            return Err(ClientError::Busy {
                max: limits::MAX_PENDING_OPS,
            });
        }
        let id = self.ops.new_id();
        self.ops.insert_app(id, kind, now);
        self.drive(now);
        Ok(id)
    }

    /// The account whose swarm an operation talks to (none for node fetches and clock syncs).
    pub(super) fn op_account(&self, kind: &OpKind) -> Option<UserPubkey> {
        match kind {
            OpKind::Send(p) => Some(UserPubkey::new(0x05, *p.to.key())),
            OpKind::Retrieve | OpKind::Expire { .. } | OpKind::Delete { .. } => Some(self.me),
            OpKind::SwarmStore(s) => Some(s.account.pubkey(&self.me)),
            OpKind::SwarmRetrieve(r) => Some(r.account.pubkey(&self.me)),
            OpKind::SwarmDelete { account, .. } => Some(account.pubkey(&self.me)),
            OpKind::SwarmRequest(r) => Some(r.account),
            OpKind::FetchNodes | OpKind::ClockSync { .. } | OpKind::Server { .. } => None,
        }
    }

    /// Sends one request for an operation: its body for the kind, then to a swarm member
    /// through a path (or, for a node fetch, directly).
    pub(super) fn attempt(&mut self, key: OpKey, now: u64) {
        let Some(op) = self.ops.get_mut(key) else {
            return;
        };
        op.stalled = false;
        let network_now = self.clock.now(now);
        let built = match &op.kind {
            OpKind::FetchNodes => return self.attempt_fetch(key, now),
            OpKind::ClockSync { node } => {
                let node = *node;
                let avoid = BTreeSet::from([node]);
                if self
                    .send_onion(key, node, &avoid, &Request::Info.to_body(), now)
                    .is_err()
                {
                    self.finish(key, now, None);
                }
                return;
            }
            OpKind::Send(p) => store_body(p, network_now),
            OpKind::Retrieve => Ok((
                self.inbox
                    .retrieve_body(&self.keys, self.inbox.poll_node, network_now),
                self.me,
            )),
            OpKind::Expire { hashes, expiry_ms } => {
                expire_body(&self.keys, hashes, *expiry_ms).map(|body| (body, self.me))
            }
            OpKind::Delete { hashes } => {
                delete_body(&self.keys, hashes).map(|body| (body, self.me))
            }
            OpKind::SwarmStore(s) => swarm_ops::store_body(&self.keys, &self.me, s, network_now),
            OpKind::SwarmRetrieve(r) => {
                let last = r.last_hash.clone();
                Ok(swarm_ops::retrieve_body(
                    &self.keys,
                    &self.me,
                    r,
                    last,
                    network_now,
                ))
            }
            OpKind::SwarmDelete { account, hashes } => {
                swarm_ops::delete_body(&self.keys, &self.me, account, hashes)
            }
            OpKind::Server { .. } => return self.attempt_server(key, now),
            OpKind::SwarmRequest(_) => return self.attempt_request(key, now),
        };
        match built {
            Ok((payload, account)) => self.send_to_swarm(key, account, payload, now),
            Err(failure) => self.finish(key, now, Some(failure)),
        }
    }

    /// Ends an operation: removes it, reports failure or completion as its kind requires.
    pub(super) fn finish(&mut self, key: OpKey, now: u64, failure: Option<FailureKind>) {
        let Some(op) = self.ops.remove(key) else {
            return;
        };
        match &op.kind {
            OpKind::Send(p) => {
                let failed = self.store.remove_pending(p.id).is_err();
                self.stats.persist_errors += u64::from(failed);
            }
            OpKind::Retrieve => self.schedule_poll(now, false),
            OpKind::SwarmRetrieve(RetrieveOp { sub: Some(sub), .. }) => {
                self.schedule_sub(*sub, now, false)
            }
            OpKind::FetchNodes if failure.is_some() => self.fetch_failed(now),
            OpKind::ClockSync { .. } => {
                for other in self.ops.values_mut() {
                    if other.waiting == Some(key) {
                        other.waiting = None;
                        other.not_before = now;
                    }
                }
            }
            _ => {}
        }
        if let (Some(kind), Some(id)) = (failure, op.user) {
            self.events.push_back(crate::Event::Failed { id, kind });
        }
    }
}
