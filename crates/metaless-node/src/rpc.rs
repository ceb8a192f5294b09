//! Storage RPC as the node answers it (`/storage_rpc/v1` and onion destinations).
//!
//! Every network rule is metaless-swarm's [`server`] module: request parsing and its 400
//! texts, the swarm check (421), TTL, clock and signature checks, message hashes, the reply
//! shapes and the node's reply signatures. This module only connects those rules to the node's
//! [`Storage`] and to swarm replication (a change a client asked for is replayed on the
//! swarm's other members).

use serde_json::{Value, json};

use metaless_identity::Keypair;
use metaless_swarm::StoredMessage as WireMessage;
use metaless_swarm::server::{self, Affected, NodeFailure, Reply, ReplyBody, RpcError, SwarmReply};
use metaless_swarm::sig::ExpireMode;
use metaless_swarm::{
    Delete, Expire, GetExpiries, NamespaceAction, OxendEndpoint, OxendRequest, Request, Retrieve,
    Store,
};
use metaless_swarm::{
    MessageHash, Namespace, NamespaceOrAll, UserPubkey, b64, oxend_service_nodes_json,
};

use crate::NodeError;
use crate::network::{NetworkMap, NodeInfo};
use crate::storage::{ExpiryMode, NewMessage, OWNER_LEN, Storage, StoreOutcome};

/// Version reported by `info`: the storage-server release whose behaviour this node follows.
pub const NODE_VERSION: [u16; 3] = [2, 10, 0];
/// Hardfork version reported in `hf`.
pub const HARDFORK: [u16; 2] = [19, 3];

/// How long a delete or expiry change is retried on a peer that missed it (the longest TTL,
/// 30 days: by then every message it could touch is gone).
const CHANGE_RETRY_MS: u64 = 30 * 24 * 3_600_000;

/// The network's message hash ([`MessageHash::compute`]) of a message for the account `owner`
/// (prefix byte ‖ 32-byte key), as text.
///
/// ```
/// let h = metaless_node::rpc::message_hash(&[5u8; 33], 0, b"hi");
/// assert_eq!(h.len(), 43);
/// assert_ne!(h, metaless_node::rpc::message_hash(&[5u8; 33], 1, b"hi"));
/// ```
pub fn message_hash(owner: &[u8; OWNER_LEN], namespace: i16, data: &[u8]) -> String {
    let hash = MessageHash::compute(&account(owner), Namespace::from_i16(namespace), data);
    hash.as_str().to_owned()
}

/// Anyone may store ([`Namespace::is_public_inbox`]).
///
/// ```
/// assert!(metaless_node::rpc::is_public_inbox(0));
/// assert!(metaless_node::rpc::is_public_inbox(-10));
/// assert!(!metaless_node::rpc::is_public_inbox(2));
/// ```
pub fn is_public_inbox(ns: i16) -> bool {
    Namespace::from_i16(ns).is_public_inbox()
}

/// One message, anyone may retrieve ([`Namespace::is_public_outbox`]).
///
/// ```
/// assert!(metaless_node::rpc::is_public_outbox(-21));
/// assert!(!metaless_node::rpc::is_public_outbox(-11));
/// ```
pub fn is_public_outbox(ns: i16) -> bool {
    Namespace::from_i16(ns).is_public_outbox()
}

fn account(owner: &[u8; OWNER_LEN]) -> UserPubkey {
    let (prefix, key) = owner.split_at(1);
    let mut k = [0u8; 32];
    k.copy_from_slice(key);
    UserPubkey::new(prefix.first().copied().unwrap_or(0), k)
}

/// Account IDs in logs and observations: first two bytes and last byte, like upstream.
pub(crate) fn obfuscate(pubkey: &UserPubkey) -> String {
    let h = pubkey.to_hex();
    format!(
        "{}…{}",
        h.get(..4).unwrap_or(""),
        h.get(h.len().saturating_sub(2)..).unwrap_or("")
    )
}

/// Storage times are signed (SQLite integers); wire times are unsigned.
fn ms_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn ms_u64(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0)
}

fn ns_filter(namespace: NamespaceOrAll) -> Option<i16> {
    match namespace {
        NamespaceOrAll::All => None,
        NamespaceOrAll::One(ns) => Some(ns.value()),
    }
}

fn strings(hashes: &[MessageHash]) -> Vec<String> {
    hashes.iter().map(|h| h.as_str().to_owned()).collect()
}

/// A storage failure answered as upstream answers an exception in a handler.
fn request_failed(e: NodeError) -> Reply {
    tracing::error!("storage failed: {e}");
    RpcError::new(500, "request failed").into()
}

/// A reply body as `batch`/`sequence` embed it (`{"code", "body"}`).
fn embedded_body(body: ReplyBody) -> Value {
    match body {
        ReplyBody::Json(v) => v,
        ReplyBody::Text(t) => Value::String(t),
        ReplyBody::Binary(b) => Value::String(b64::encode(&b)),
    }
}

/// Everything one RPC needs from its node.
pub(crate) struct RpcCtx<'a> {
    pub now_ms: i64,
    pub me: &'a NodeInfo,
    pub keypair: &'a Keypair,
    pub map: &'a NetworkMap,
    pub storage: &'a mut dyn Storage,
    /// Request was forwarded by a swarm peer: answer flat, do not replicate again.
    pub forwarded: bool,
    /// `{"method","params"}` bodies to replay on each swarm peer after a successful change,
    /// with the time (ms) after which a failed replay is no longer worth retrying.
    pub replicate: Vec<(Vec<u8>, u64)>,
    /// Whether observation records are kept: only then are the two strings below built.
    pub observe: bool,
    /// Method and (abbreviated) account of the last request, for observation records.
    pub seen_method: Option<String>,
    pub seen_account: Option<String>,
}

impl RpcCtx<'_> {
    fn now(&self) -> u64 {
        ms_u64(self.now_ms)
    }

    /// Answers one JSON request body.
    pub(crate) fn handle_bytes(&mut self, body: &[u8]) -> Reply {
        match server::parse_request(body) {
            Ok(request) => {
                // Two allocations per delivered request, for a record nobody keeps otherwise.
                if self.observe {
                    self.seen_method = Some(request.method().to_owned());
                    let touched = match &request {
                        Request::GetSwarm(pk) => Some(pk),
                        other => other.swarm_pubkey(),
                    };
                    self.seen_account = touched.map(obfuscate);
                }
                self.answer(&request)
            }
            Err(e) => e.into(),
        }
    }

    fn answer(&mut self, request: &Request) -> Reply {
        let now = self.now();
        let nodes = self.map.node_list();
        match request {
            Request::Info => server::info_reply(NODE_VERSION, now, HARDFORK),
            Request::GetSwarm(pk) => server::get_swarm_reply(pk, nodes, now, HARDFORK),
            Request::OxendRequest(o) => self.oxend(o),
            Request::ActiveNodesBin => Reply {
                status: 200,
                body: ReplyBody::Binary(nodes.to_active_nodes_bin()),
            },
            Request::Batch(subs) => self.batch(subs, false),
            Request::Sequence(subs) => self.batch(subs, true),
            _ => self.account_request(request).unwrap_or_else(|r| r),
        }
    }

    /// A request about one account: swarm check, then the method's checks, then the work.
    fn account_request(&mut self, request: &Request) -> Result<Reply, Reply> {
        let now = self.now();
        let unknown = || RpcError::new(400, format!("no method {}", request.method()));
        let pubkey = request.swarm_pubkey().ok_or_else(unknown)?;
        server::check_swarm(
            pubkey,
            self.me.swarm_id,
            self.map.node_list(),
            now,
            HARDFORK,
        )?;
        let owner = pubkey.to_bytes();
        // The revocation list is the node's: looked up once, then checked where upstream
        // checks it (after the method's timestamp rules, not for the unrevocable namespaces).
        let revoked = match request.subaccount() {
            Some(sub) => self
                .storage
                .subaccount_revoked(&owner, &sub.token)
                .map_err(request_failed)?,
            None => false,
        };
        server::verify_with_revocations(request, now, self.forwarded, &|_, _| revoked)?;
        match request {
            Request::Store(s) => Ok(self.store(request, s)),
            Request::Retrieve(r) => self.retrieve(r),
            Request::Delete(d) => self.delete(request, d),
            Request::DeleteAll(a) => {
                let touched = self.storage.delete_all(&owner, ns_filter(a.namespace));
                self.namespace_action(request, a, "deleted", touched)
            }
            Request::DeleteBefore(a) => {
                let touched =
                    self.storage
                        .delete_before(&owner, ns_filter(a.namespace), ms_i64(a.value_ms));
                self.namespace_action(request, a, "deleted", touched)
            }
            Request::ExpireAll(a) => {
                let touched = self.storage.update_all_expiries(
                    &owner,
                    ns_filter(a.namespace),
                    ms_i64(a.value_ms),
                );
                self.namespace_action(request, a, "updated", touched)
            }
            Request::Expire(e) => self.expire(request, e),
            Request::GetExpiries(g) => self.get_expiries(g),
            Request::RevokeSubaccount(r) => {
                self.storage
                    .revoke_subaccounts(&owner, &r.tokens, self.now_ms)
                    .map_err(request_failed)?;
                let entry = server::revocation_entry(
                    self.keypair,
                    &r.pubkey,
                    r.timestamp_ms,
                    &r.tokens,
                    None,
                );
                Ok(self.change_reply(request, entry, false))
            }
            Request::UnrevokeSubaccount(r) => {
                let count = self
                    .storage
                    .unrevoke_subaccounts(&owner, &r.tokens)
                    .map_err(request_failed)?;
                let entry = server::revocation_entry(
                    self.keypair,
                    &r.pubkey,
                    r.timestamp_ms,
                    &r.tokens,
                    Some(count),
                );
                Ok(self.change_reply(request, entry, false))
            }
            Request::RevokedSubaccounts(r) => {
                let tokens = self.storage.revoked_subaccounts(&owner).map_err(|e| {
                    let text = format!(
                        "Internal Server Error. Could not retrieve revoked_subaccounts for {}",
                        obfuscate(&r.pubkey)
                    );
                    tracing::error!("{text}: {e}");
                    Reply::from(RpcError::new(500, text))
                })?;
                Ok(server::revoked_subaccounts_reply(&tokens, now, HARDFORK))
            }
            _ => Err(unknown().into()),
        }
    }

    /// Queues a client's change for the swarm's other members (none: nothing to encode).
    fn queue_replication(&mut self, request: &Request) {
        let me = &self.me.pubkey_ed25519;
        if self
            .map
            .swarm_members(self.me.swarm_id)
            .any(|n| &n.pubkey_ed25519 != me)
        {
            // A store is owed until its message expires; other changes for the longest TTL.
            let until = match request {
                Request::Store(s) => s.expiry_ms,
                _ => self.now().saturating_add(CHANGE_RETRY_MS),
            };
            self.replicate.push((request.to_body(), until));
        }
    }

    /// This node's part of a change: flat when a peer forwarded it; for a client, under
    /// `swarm.<own key>` and replayed on the swarm's other members.
    fn change_reply(&mut self, request: &Request, entry: Value, delete_required: bool) -> Reply {
        if self.forwarded {
            return Reply::json(200, entry);
        }
        self.queue_replication(request);
        let mut reply = SwarmReply::new();
        reply.add(&self.me.pubkey_ed25519, entry);
        reply.finish_delete(delete_required, self.now(), HARDFORK)
    }

    fn store(&mut self, request: &Request, s: &Store) -> Reply {
        let now = self.now();
        let hash = s.message_hash();
        let msg = NewMessage {
            owner: s.pubkey.to_bytes(),
            namespace: s.namespace.value(),
            hash: hash.as_str().to_owned(),
            timestamp_ms: ms_i64(s.timestamp_ms),
            expiry_ms: ms_i64(s.expiry_ms),
            data: s.data.clone(),
            replace_namespace: s.namespace.is_public_outbox(),
        };
        // A peer's late replay of a store must not bring back a message deleted here: it is
        // answered as already stored, so the peer's retry queue lets it go.
        let stored = if self.forwarded {
            self.storage.store_unless_deleted(&msg)
        } else {
            self.storage.store(&msg)
        };
        let mut reply = SwarmReply::new();
        match stored {
            Ok((outcome, expiry)) => {
                let already = outcome != StoreOutcome::New;
                let expiry = ms_u64(expiry);
                if self.forwarded {
                    return Reply::json(
                        200,
                        server::store_entry(self.keypair, &hash, expiry, already),
                    );
                }
                self.queue_replication(request);
                reply.add_own_store(self.keypair, &hash, expiry, already, now);
            }
            Err(e) => {
                tracing::error!(
                    "could not store a message for {}: {e}",
                    obfuscate(&s.pubkey)
                );
                reply.add_failure(&self.me.pubkey_ed25519, &NodeFailure::QueryFailure);
            }
        }
        reply.finish(now, HARDFORK)
    }

    fn retrieve(&mut self, r: &Retrieve) -> Result<Reply, Reply> {
        let (max_count, max_size) = server::retrieve_limits(r);
        let (messages, more) = self
            .storage
            .retrieve(
                &r.pubkey.to_bytes(),
                r.namespace.value(),
                r.last_hash.as_ref().map(MessageHash::as_str),
                max_count.map(|c| usize::try_from(c).unwrap_or(usize::MAX)),
                Some(usize::try_from(max_size).unwrap_or(usize::MAX)),
                self.now_ms,
            )
            .map_err(|e| {
                let text = format!(
                    "Internal Server Error. Could not retrieve messages for {}",
                    obfuscate(&r.pubkey)
                );
                tracing::error!("{text}: {e}");
                Reply::from(RpcError::new(500, text))
            })?;
        let messages: Vec<WireMessage> = messages
            .into_iter()
            .map(|m| WireMessage {
                hash: m.hash,
                timestamp_ms: ms_u64(m.timestamp_ms),
                expiry_ms: ms_u64(m.expiry_ms),
                data: m.data,
            })
            .collect();
        Ok(server::retrieve_reply(
            &messages,
            more,
            self.now(),
            HARDFORK,
        ))
    }

    fn delete(&mut self, request: &Request, d: &Delete) -> Result<Reply, Reply> {
        let deleted = self
            .storage
            .delete_by_hash(&d.pubkey.to_bytes(), &strings(&d.messages))
            .map_err(request_failed)?;
        let entry = server::delete_entry(self.keypair, &d.pubkey, &d.messages, deleted);
        Ok(self.change_reply(request, entry, d.required))
    }

    fn namespace_action(
        &mut self,
        request: &Request,
        a: &NamespaceAction,
        key: &str,
        touched: Result<Vec<(i16, String)>, NodeError>,
    ) -> Result<Reply, Reply> {
        let touched = touched.map_err(request_failed)?;
        let affected = match a.namespace {
            NamespaceOrAll::All => Affected::All(
                touched
                    .into_iter()
                    .map(|(ns, h)| (Namespace::from_i16(ns), h))
                    .collect(),
            ),
            NamespaceOrAll::One(_) => Affected::One(touched.into_iter().map(|(_, h)| h).collect()),
        };
        let entry =
            server::namespace_action_entry(self.keypair, key, &a.pubkey, a.value_ms, affected);
        Ok(self.change_reply(request, entry, false))
    }

    fn expire(&mut self, request: &Request, e: &Expire) -> Result<Reply, Reply> {
        let owner = e.pubkey.to_bytes();
        let targets = server::expire_targets(e, self.now());
        let hashes = strings(&e.messages);
        // A sub-account without delete access only extends (the request's own mode still
        // decides the reply's `unchanged` list, as upstream).
        let mode = match server::expire_mode(e) {
            ExpireMode::Set => ExpiryMode::Any,
            ExpireMode::Shorten => ExpiryMode::ShortenOnly,
            ExpireMode::Extend => ExpiryMode::ExtendOnly,
        };
        let applied: Vec<i64> = targets.iter().copied().map(ms_i64).collect();
        let updated = self
            .storage
            .update_expiry(&owner, &hashes, &applied, mode)
            .map_err(request_failed)?;
        let unchanged = if e.mode == ExpireMode::Set {
            Vec::new()
        } else {
            let rest: Vec<String> = hashes
                .iter()
                .filter(|h| !updated.iter().any(|(u, _)| u == *h))
                .cloned()
                .collect();
            if rest.is_empty() {
                Vec::new()
            } else {
                let found = self
                    .storage
                    .get_expiries(&owner, &rest)
                    .map_err(request_failed)?;
                found.into_iter().map(|(h, x)| (h, ms_u64(x))).collect()
            }
        };
        let updated = updated.into_iter().map(|(h, x)| (h, ms_u64(x))).collect();
        let entry = server::expire_entry(self.keypair, e, &targets, updated, unchanged);
        Ok(self.change_reply(request, entry, false))
    }

    fn get_expiries(&mut self, g: &GetExpiries) -> Result<Reply, Reply> {
        let found = self
            .storage
            .get_expiries(&g.pubkey.to_bytes(), &g.messages)
            .map_err(request_failed)?;
        let found: Vec<(String, u64)> = found.into_iter().map(|(h, x)| (h, ms_u64(x))).collect();
        Ok(server::get_expiries_reply(&found))
    }

    fn oxend(&self, o: &OxendRequest) -> Reply {
        match o.endpoint {
            OxendEndpoint::GetServiceNodes => Reply::json(
                200,
                oxend_service_nodes_json(&self.map.node_list().nodes, self.now(), HARDFORK),
            ),
            // No oxend stands behind a testnet node: upstream's answer when oxend gives no text.
            OxendEndpoint::OnsResolve => RpcError::new(400, "Unknown oxend error").into(),
        }
    }

    /// `batch` runs every sub-request; `sequence` stops after the first that is not 2xx.
    fn batch(&mut self, subs: &[Request], sequence: bool) -> Reply {
        let mut results = Vec::with_capacity(subs.len());
        for sub in subs {
            let r = self.answer(sub);
            let failed = !(200..300).contains(&r.status);
            results.push(json!({ "code": r.status, "body": embedded_body(r.body) }));
            if sequence && failed {
                break;
            }
        }
        Reply::json(200, json!({ "results": results }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metaless_identity::hex;

    #[test]
    fn account_bytes_round_trip() {
        let mut owner = [7u8; OWNER_LEN];
        owner[0] = 3;
        let pk = account(&owner);
        assert_eq!(pk.to_bytes(), owner);
        assert_eq!(obfuscate(&pk), "0307…07");
        assert_eq!(hex::encode(&pk.to_bytes()).len(), 66);
    }
}
