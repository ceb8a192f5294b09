//! Answers in: the transport's result for a request is opened (onion reply) and classified
//! (a [`Fault`], or the destination's status and body), the node's clock is sampled, and the
//! status decides what follows; a success completes the operation as its kind requires.
//!
//! Only the reply fields the client acts on are read, everything else is ignored (nodes add
//! fields over time); `retrieve` replies are read by metaless-swarm's
//! [`RetrieveResponse::parse_tolerant`].

use metaless_onion::{HopError, SnodeReply};
use metaless_swarm::{MessageHash, Namespace, NodeId, UserPubkey};
use metaless_swarm::{Request, RetrieveResponse};
use serde_json::{Map, Value};

use super::Client;
use super::event::{Event, Route};
use super::faults::Fault;
use super::ops::OpKind;
use super::requests::InFlight;
use super::swarm_ops::RawMessage;
use super::verify::Change;
use crate::transport::{HttpResponse, RequestId, TransportError};
use crate::{FailureKind, OpId, limits};

impl Client {
    /// The transport's result for request `id`: no answer, a hop's error, or a reply to open.
    pub(super) fn on_response(
        &mut self,
        now: u64,
        id: RequestId,
        result: Result<HttpResponse, TransportError>,
    ) {
        let Some(fl) = self.requests.take(id) else {
            return;
        };
        let Some(op) = self.ops.get_mut(fl.op) else {
            return;
        };
        op.in_flight = false;
        let is_server = matches!(op.kind, OpKind::Server { .. });
        let resp = match result {
            Ok(resp) if resp.body.len() <= limits::MAX_REPLY_SIZE => resp,
            Ok(_) => return self.fail(now, &fl, Fault::BadReply),
            Err(_) => return self.fail(now, &fl, Fault::Transport),
        };
        if is_server {
            return self.on_server_response(now, &fl, resp);
        }
        match &fl.reply {
            Some(pending) => {
                if resp.status != 200 {
                    let text = String::from_utf8_lossy(&resp.body);
                    return self.fail(
                        now,
                        &fl,
                        Fault::Hop(HopError::from_response(resp.status, &text)),
                    );
                }
                match pending
                    .open(&resp.body)
                    .ok()
                    .and_then(|plain| SnodeReply::parse(&plain).ok())
                {
                    Some(reply) => self.on_rpc(now, &fl, reply.status, &reply.body),
                    None => self.fail(now, &fl, Fault::BadReply),
                }
            }
            None => {
                let text = String::from_utf8_lossy(&resp.body).into_owned();
                self.on_rpc(now, &fl, resp.status, &text);
            }
        }
    }

    /// The destination's answer: status and body as the storage RPC gave them.
    fn on_rpc(&mut self, now: u64, fl: &InFlight, status: u16, body: &str) {
        if let Some(pid) = fl.path {
            self.dir.path_ok(pid);
            for hop in &fl.hops {
                self.dir.clear_strikes(hop);
            }
        }
        let obj = parse_object(body);
        if let Some(t) = obj.as_ref().and_then(network_time) {
            // The node's clock was read somewhere between sending and receiving.
            let mid = fl.started + now.saturating_sub(fl.started) / 2;
            self.clock.sample(t, mid);
        }
        match status {
            200 => self.on_success(now, fl, obj.as_ref(), body),
            421 => self.on_misdirected(now, fl, body),
            406 => self.on_clock_error(now, fl),
            400 | 401 | 403 | 404 | 413 => {
                self.finish(fl.op, now, Some(FailureKind::Rejected { status }))
            }
            _ => self.fail(now, fl, Fault::Destination),
        }
    }

    /// A 200: the operation completed (or, for a body it cannot use, failed at the
    /// destination).
    fn on_success(
        &mut self,
        now: u64,
        fl: &InFlight,
        obj: Option<&Map<String, Value>>,
        body: &str,
    ) {
        let Some(op) = self.ops.get(fl.op) else {
            return;
        };
        let via = Route {
            path: fl.hops.iter().copied().map(NodeId::from).collect(),
            destination: NodeId::from(fl.dest.unwrap_or_default()),
        };
        match &op.kind {
            OpKind::Send(p) => {
                let account = UserPubkey::new(0x05, *p.to.key());
                let (id, data) = (p.id, p.data.clone());
                self.on_stored(now, fl, obj, account, Namespace::Default, &data, id, via);
            }
            OpKind::SwarmStore(s) => {
                let (account, namespace, data) =
                    (s.account.pubkey(&self.me), s.namespace, s.data.clone());
                let Some(id) = op.user else {
                    return self.finish(fl.op, now, None);
                };
                self.on_stored(now, fl, obj, account, namespace, &data, id, via);
            }
            OpKind::SwarmRetrieve(r) => {
                let (sub, account, namespace) = (r.sub, r.account.pubkey(&self.me), r.namespace);
                let user = op.user;
                let Some(Ok(got)) = obj.map(RetrieveResponse::tolerant_from_object) else {
                    return self.fail(now, fl, Fault::Destination);
                };
                let messages = RawMessage::from_stored(got.response.messages);
                let more = got.response.more;
                self.ops.remove(fl.op);
                match (sub, user) {
                    (Some(sub), _) => {
                        self.take_sub_messages(sub, now, messages, &via);
                        self.schedule_sub(sub, now, more);
                    }
                    (None, Some(id)) => self.events.push_back(Event::Retrieved {
                        id,
                        account,
                        namespace,
                        messages,
                        more,
                        via,
                    }),
                    (None, None) => {}
                }
            }
            OpKind::SwarmDelete { account, hashes } => {
                let account = account.pubkey(&self.me);
                let change = Change::Delete { hashes };
                if self.verify_change(&account, fl.dest, obj, &change).is_err() {
                    self.stats.bad_signatures += 1;
                    return self.fail(now, fl, Fault::Destination);
                }
                if let Some(id) = op.user {
                    self.events.push_back(Event::Done { id });
                }
                self.finish(fl.op, now, None);
            }
            OpKind::SwarmRequest(r) => {
                let change = match &r.sent {
                    Some(Request::RevokeSubaccount(x)) => Change::Revocation {
                        timestamp_ms: x.timestamp_ms,
                        tokens: &x.tokens,
                        unrevoke: false,
                    },
                    Some(Request::UnrevokeSubaccount(x)) => Change::Revocation {
                        timestamp_ms: x.timestamp_ms,
                        tokens: &x.tokens,
                        unrevoke: true,
                    },
                    _ => return self.fail(now, fl, Fault::BadReply),
                };
                if self
                    .verify_change(&r.account, fl.dest, obj, &change)
                    .is_err()
                {
                    self.stats.bad_signatures += 1;
                    return self.fail(now, fl, Fault::Destination);
                }
                if let Some(id) = op.user {
                    self.events.push_back(Event::Done { id });
                }
                self.finish(fl.op, now, None);
            }
            // Server answers never come through the storage-RPC dispatch.
            OpKind::Server { .. } => self.fail(now, fl, Fault::BadReply),
            OpKind::Retrieve => {
                let Some(Ok(got)) = obj.map(RetrieveResponse::tolerant_from_object) else {
                    return self.fail(now, fl, Fault::Destination);
                };
                self.take_messages(now, got.response.messages, via);
                self.ops.remove(fl.op);
                self.stats.inbox_polls += u64::from(!got.response.more);
                self.schedule_poll(now, got.response.more);
            }
            OpKind::Expire { hashes, .. } | OpKind::Delete { hashes } => {
                let change = match &op.kind {
                    OpKind::Expire { .. } => Change::Expire { hashes },
                    _ => Change::Delete { hashes },
                };
                if self.verify_change(&self.me, fl.dest, obj, &change).is_err() {
                    self.stats.bad_signatures += 1;
                    return self.fail(now, fl, Fault::Destination);
                }
                if let Some(id) = op.user {
                    self.events.push_back(Event::Done { id });
                }
                self.finish(fl.op, now, None);
            }
            OpKind::FetchNodes => self.on_node_list(now, fl, body),
            OpKind::ClockSync { .. } => self.finish(fl.op, now, None),
        }
    }

    /// A 200 to a store (a send or a generic store): counted as stored only when enough
    /// members signed it, else retried.
    #[allow(clippy::too_many_arguments)]
    fn on_stored(
        &mut self,
        now: u64,
        fl: &InFlight,
        obj: Option<&Map<String, Value>>,
        account: UserPubkey,
        namespace: Namespace,
        data: &[u8],
        id: OpId,
        via: Route,
    ) {
        // Only members that signed the store count; a bad signature is a node fault.
        let change = Change::Store { data, namespace };
        let Ok(stored_on) = self.verify_change(&account, fl.dest, obj, &change) else {
            self.stats.bad_signatures += 1;
            return self.fail(now, fl, Fault::Destination);
        };
        // Durability: enough members must hold it (all of a smaller swarm); else try
        // again (another member first) without blaming the node, until the TTL.
        let swarm_size = self.dir.swarm_of(&account).map_or(1, |(_, m)| m.len());
        if stored_on < self.config.min_replicas.min(swarm_size.max(1)) {
            if let (Some(d), Some(op)) = (fl.dest, self.ops.get_mut(fl.op))
                && !op.tried.contains(&d)
            {
                op.tried.push(d);
            }
            return self.retry(fl.op, now, true);
        }
        let hash = obj
            .and_then(store_hash)
            .and_then(|h| MessageHash::parse(&h).ok())
            .unwrap_or_else(|| MessageHash::compute(&account, namespace, data));
        self.events.push_back(Event::Delivered {
            id,
            hash,
            via,
            stored_on,
        });
        self.finish(fl.op, now, None);
    }
}

/// The reply as one JSON object, by metaless-swarm's capped reader: parsed once here, then read
/// for the clock, the signed member entries and the messages.
fn parse_object(body: &str) -> Option<Map<String, Value>> {
    metaless_swarm::parse_reply_object(body.as_bytes()).ok()
}

/// The node's clock (`t`, ms) from any JSON reply body (`timestamp` in an `info` reply).
fn network_time(body: &Map<String, Value>) -> Option<u64> {
    body.get("t")
        .and_then(Value::as_u64)
        .or_else(|| body.get("timestamp").and_then(Value::as_u64))
}

/// The hash a `store` reply names (top level, as upstream adds it).
fn store_hash(body: &Map<String, Value>) -> Option<String> {
    body.get("hash").and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use metaless_swarm::StoredMessage;

    #[test]
    fn retrieve_reads_good_entries_and_counts_bad_ones() {
        let h = "A".repeat(43);
        let body = format!(
            r#"{{"messages":[{{"hash":"{h}","expiration":5,"data":"aGk=","timestamp":1}},{{"hash":"x","expiration":1,"data":"aGk="}},{{"hash":"{h}"}}],"more":true,"t":77}}"#
        );
        let obj = parse_object(&body).unwrap();
        let r = RetrieveResponse::tolerant_from_object(&obj).unwrap();
        assert_eq!(
            r.response.messages,
            vec![StoredMessage {
                hash: h,
                timestamp_ms: 1,
                expiry_ms: 5,
                data: b"hi".to_vec()
            }]
        );
        assert_eq!(r.skipped, 2);
        assert!(r.response.more);
        assert_eq!(network_time(&obj), Some(77));
    }

    #[test]
    fn non_objects_are_refused() {
        assert!(parse_object("[1]").is_none());
        assert!(parse_object("not json").is_none());
        assert!(RetrieveResponse::tolerant_from_object(&parse_object("{}").unwrap()).is_err());
        // Over swarm's reply cap: refused before parsing, however well-formed.
        let huge = format!(
            r#"{{"t":1,"pad":"{}"}}"#,
            "a".repeat(metaless_swarm::limits::MAX_RESPONSE_BODY)
        );
        assert!(parse_object(&huge).is_none());
    }

    #[test]
    fn store_hash_and_info_time_are_read_from_the_top_level() {
        let store = parse_object(r#"{"hash":"h","swarm":{},"t":9}"#).unwrap();
        assert_eq!(store_hash(&store).as_deref(), Some("h"));
        assert_eq!(network_time(&store), Some(9));
        let info = parse_object(r#"{"version":[2,11,0],"timestamp":5}"#).unwrap();
        assert_eq!(network_time(&info), Some(5));
        assert_eq!(store_hash(&info), None);
    }
}
