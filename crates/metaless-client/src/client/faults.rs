//! Failures and what follows them: whom a failed exchange blames (strikes, blacklist, path
//! drops), the back-off before the operation is retried, a 421 (the account lives in another
//! swarm) and a 406 (the client's clock is off).
//!
//! | fault | blame |
//! |---|---|
//! | no HTTP answer | guard and path (direct requests: the target) |
//! | a hop names a node (`502 Next node not found: X`, …) | X blacklisted |
//! | another hop error (`504 Request time out`, …) | path and destination |
//! | a reply that does not open or parse | path |
//! | a destination 5xx | destination |

use metaless_onion::HopError;
use metaless_swarm::SwarmResponse;

use super::Client;
use super::event::Event;
use super::ops::{OpKey, OpKind};
use super::requests::InFlight;
use crate::FailureKind;

/// The wait before retry number `n` (from 1): `base` doubling per retry, at most `max`.
pub(super) fn backoff_ms(base: u64, max: u64, n: u32) -> u64 {
    base.saturating_mul(1u64 << n.saturating_sub(1).min(20))
        .min(max)
}

/// Failure of one exchange, by where it happened.
pub(super) enum Fault {
    /// No HTTP answer from the first hop (or the direct target).
    Transport,
    /// A hop on the path answered with an error (classified by [`HopError::from_response`]).
    Hop(HopError),
    /// The reply did not decrypt or parse.
    BadReply,
    /// The destination answered with a server error.
    Destination,
    /// The last hop could not reach an HTTP server (an error no hop protocol names): retried,
    /// nobody blamed.
    Server,
}

impl Fault {
    /// The node a hop error names as down, if any.
    fn named_node(&self) -> Option<[u8; 32]> {
        match self {
            Fault::Hop(
                HopError::NextNodeNotFound(k)
                | HopError::NextNodeUnreachable(k)
                | HopError::SnodeNotReady(Some(k)),
            ) => Some(*k),
            _ => None,
        }
    }
}

impl Client {
    /// A failed exchange: blame the right nodes, then retry the operation after a delay.
    pub(super) fn fail(&mut self, now: u64, fl: &InFlight, fault: Fault) {
        self.stats.failures += 1;
        let (node_limit, path_limit, ban) = (
            self.config.node_strikes,
            self.config.path_strikes,
            self.config.blacklist_ms,
        );
        let mut dropped = Vec::new();
        match fault {
            Fault::Transport => match (fl.path, fl.hops.first()) {
                (Some(pid), Some(guard)) => {
                    dropped.extend(self.dir.strike(guard, now, node_limit, ban));
                    dropped.extend(self.dir.strike_path(pid, now, path_limit, node_limit, ban));
                }
                _ => {
                    if let Some(node) = fl.dest {
                        dropped.extend(self.dir.strike(&node, now, node_limit, ban));
                    }
                }
            },
            Fault::Hop(_) => match fault.named_node() {
                // The destination (or a hop) is down: another member will do, and when it is
                // the destination the path is fine.
                Some(k) => dropped.extend(self.dir.ban(&k, now, ban)),
                None => {
                    if let Some(pid) = fl.path {
                        dropped.extend(self.dir.strike_path(pid, now, path_limit, node_limit, ban));
                    }
                    // Unnamed failures (time-outs) may be the destination's fault too.
                    if let Some(d) = fl.dest {
                        dropped.extend(self.dir.strike(&d, now, node_limit, ban));
                    }
                }
            },
            Fault::BadReply => {
                if let Some(pid) = fl.path {
                    dropped.extend(self.dir.strike_path(pid, now, path_limit, node_limit, ban));
                }
            }
            Fault::Destination => {
                if let Some(d) = fl.dest {
                    dropped.extend(self.dir.strike(&d, now, node_limit, ban));
                }
            }
            Fault::Server => {}
        }
        self.stats.paths_dropped += dropped.len() as u64;
        if let Some(d) = fl.dest
            && let Some(op) = self.ops.get_mut(fl.op)
            && !op.tried.contains(&d)
        {
            op.tried.push(d);
        }
        match self.ops.get(fl.op).map(|o| &o.kind) {
            Some(OpKind::Retrieve) if fl.dest == self.inbox.poll_node => {
                self.inbox.poll_node = None;
            }
            Some(OpKind::SwarmRetrieve(r)) => {
                if let Some(sub) = r.sub.and_then(|s| self.subs.map.get_mut(&s))
                    && sub.node == fl.dest
                {
                    sub.node = None;
                }
            }
            _ => {}
        }
        self.retry(fl.op, now, true);
    }

    /// Counts an attempt and schedules the next one: at once, or after `retry_base_ms`
    /// doubled per attempt up to `retry_max_ms`. Sends retry until their TTL runs out; other
    /// operations fail `Unreachable` after `max_attempts`.
    pub(super) fn retry(&mut self, key: OpKey, now: u64, backoff: bool) {
        let (base, max, limit) = (
            self.config.retry_base_ms,
            self.config.retry_max_ms,
            self.config.max_attempts,
        );
        let Some(op) = self.ops.get_mut(key) else {
            return;
        };
        op.attempts = op.attempts.saturating_add(1);
        let unlimited = matches!(op.kind, OpKind::Send(_));
        if !unlimited && op.attempts >= limit {
            return self.finish(key, now, Some(FailureKind::Unreachable));
        }
        let wait = if backoff {
            backoff_ms(base, max, op.attempts)
        } else {
            0
        };
        op.not_before = now.saturating_add(wait);
    }

    /// 421: the swarm in the body replaces the request's account's swarm (that account only:
    /// the body is not trusted to name it), and the operation is retried at once. Only members
    /// already in the directory are taken; a body naming none of them is a destination failure
    /// and brings the next node-list refresh forward.
    pub(super) fn on_misdirected(&mut self, now: u64, fl: &InFlight, body: &str) {
        let Some(account) = self.ops.get(fl.op).and_then(|op| self.op_account(&op.kind)) else {
            return self.fail(now, fl, Fault::Destination);
        };
        match SwarmResponse::parse(body.as_bytes()) {
            Ok(swarm) if !swarm.nodes.is_empty() => {
                let swarm_id = swarm
                    .swarm_id
                    .or_else(|| swarm.nodes.first().map(|n| n.swarm_id))
                    .unwrap_or(u64::MAX);
                if self.dir.set_swarm(account, swarm_id, swarm.nodes) == 0 {
                    // Only nodes no refresh confirmed: not used; refresh soon to learn them.
                    let soonest = self.fetch_soonest(now);
                    self.fetch.refresh_due = self.fetch.refresh_due.min(soonest);
                    return self.fail(now, fl, Fault::Destination);
                }
                self.events
                    .push_back(Event::SwarmChanged { account, swarm_id });
                if account == self.me {
                    self.inbox.poll_node = None;
                }
                if let Some(OpKind::SwarmRetrieve(r)) = self.ops.get(fl.op).map(|o| &o.kind)
                    && let Some(sub) = r.sub.and_then(|s| self.subs.map.get_mut(&s))
                {
                    sub.node = None;
                }
                if let Some(op) = self.ops.get_mut(fl.op) {
                    op.tried.clear();
                }
                self.retry(fl.op, now, false);
            }
            _ => self.fail(now, fl, Fault::Destination),
        }
    }

    /// 406: the node thinks the client's clock is off. An `info` to that node re-estimates the
    /// offset and the operation waits for it, at most twice; then it fails `Clock`.
    pub(super) fn on_clock_error(&mut self, now: u64, fl: &InFlight) {
        let Some(op) = self.ops.get(fl.op) else {
            return;
        };
        let (Some(node), false) = (fl.dest, matches!(op.kind, OpKind::ClockSync { .. })) else {
            return self.finish(fl.op, now, Some(FailureKind::Clock));
        };
        if op.clock_retries >= 2 {
            return self.finish(fl.op, now, Some(FailureKind::Clock));
        }
        let existing = self
            .ops
            .iter()
            .find(|(_, o)| matches!(o.kind, OpKind::ClockSync { node: n } if n == node))
            .map(|(k, _)| k);
        let sync = match existing {
            Some(k) => k,
            None => self.ops.insert_internal(OpKind::ClockSync { node }, now),
        };
        if let Some(op) = self.ops.get_mut(fl.op) {
            op.clock_retries += 1;
            op.waiting = Some(sync);
            op.not_before = now;
        }
    }
}
