//! Node signatures on `store`, `expire`, `delete` and `revoke_subaccount` replies.
//!
//! A swarm member answers a change with a `swarm` object: one entry per member that took part,
//! each signed by that member's Ed25519 key over what it did (metaless-swarm's
//! `verify_*_entry` know the signed strings). The client checks them before it reports
//! success:
//!
//! * the entry of the member the request went to must be there and verify, and a `store`
//!   entry must name the hash of the message sent;
//! * every other entry of a member of the account's swarm (as the directory knows it) must
//!   verify too; entries of nodes outside that swarm are ignored (not counted, not trusted);
//! * a bad or missing signature is the destination's fault ([`Fault::Destination`]: a strike,
//!   the operation retried on another member), never a success.
//!
//! What is gained: a member that answers "stored" without storing (or a node on the path that
//! forges the reply — it cannot, the reply is encrypted to the client's ephemeral key, but the
//! destination itself can) has to sign the lie with its own key, and `stored_on` counts only
//! members that signed. Cost: one Ed25519 verification per entry (see `docs/client.md`).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use metaless_swarm::sig::ExpireMode;
use metaless_swarm::{
    MessageHash, Namespace, SUBACCOUNT_TOKEN_LEN, SwarmResults, UserPubkey, verify_delete_entry,
    verify_expire_entry, verify_revocation_entry, verify_store_entry,
};

use super::Client;

/// A reply whose signatures do not check out.
#[derive(Debug)]
pub(super) struct BadSignature;

/// What a change reply's entries are checked against.
pub(super) enum Change<'a> {
    /// A `store` of `data` into `namespace` of the account.
    Store {
        data: &'a [u8],
        namespace: Namespace,
    },
    /// An `expire` (shorten) of `hashes` of the own account.
    Expire { hashes: &'a [MessageHash] },
    /// A `delete` of `hashes` of the own account.
    Delete { hashes: &'a [MessageHash] },
    /// A `revoke_subaccount` (or with `unrevoke`, `unrevoke_subaccount`) signed at
    /// `timestamp_ms`.
    Revocation {
        timestamp_ms: u64,
        tokens: &'a [[u8; SUBACCOUNT_TOKEN_LEN]],
        unrevoke: bool,
    },
}

impl Client {
    /// Checks the signed `swarm` entries of a change reply (parsed once by the caller) from
    /// `dest` for `account`: the
    /// number of swarm members whose entry verified (the destination's included), or
    /// [`BadSignature`].
    pub(super) fn verify_change(
        &self,
        account: &UserPubkey,
        dest: Option<[u8; 32]>,
        reply: Option<&Map<String, Value>>,
        change: &Change<'_>,
    ) -> Result<usize, BadSignature> {
        let results = reply
            .and_then(|top| SwarmResults::from_object(top).ok())
            .ok_or(BadSignature)?;
        let members: BTreeSet<[u8; 32]> = self
            .dir
            .swarm_of(account)
            .map(|(_, m)| m.into_iter().collect())
            .unwrap_or_default();
        let expected = match change {
            Change::Store { data, namespace } => {
                Some(MessageHash::compute(account, *namespace, data))
            }
            _ => None,
        };
        let mut verified = 0usize;
        let mut dest_ok = dest.is_none();
        for (node, entry) in results.successes() {
            let is_dest = Some(*node) == dest;
            if !is_dest && !members.contains(node) {
                continue;
            }
            let ok = match change {
                Change::Store { .. } => verify_store_entry(node, entry)
                    .is_ok_and(|(hash, _, _)| Some(&hash) == expected.as_ref()),
                Change::Expire { hashes } => {
                    verify_expire_entry(node, entry, account, hashes, ExpireMode::Shorten).is_ok()
                }
                Change::Delete { hashes } => {
                    verify_delete_entry(node, entry, account, hashes).is_ok()
                }
                Change::Revocation {
                    timestamp_ms,
                    tokens,
                    unrevoke,
                } => {
                    verify_revocation_entry(node, entry, account, *timestamp_ms, tokens, *unrevoke)
                        .is_ok()
                }
            };
            if !ok {
                return Err(BadSignature);
            }
            dest_ok |= is_dest;
            verified += 1;
        }
        if dest_ok {
            Ok(verified)
        } else {
            Err(BadSignature)
        }
    }
}
