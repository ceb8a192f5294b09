//! The exact byte strings that storage requests sign and that nodes sign in their replies
//! (storage server `client_rpc_endpoints.h`, `request_handler.cpp`).
//!
//! Everything is plain concatenation with no separators; integers (timestamps, expiries,
//! namespaces) are written in decimal ASCII; namespace 0 contributes the empty string, `"all"`
//! is written as `all`; hashes are their base64 text; keys in hex where noted.

use alloc::format;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::{MessageHash, Namespace, NamespaceOrAll, UserPubkey};

/// How an `expire` request may move expiries.
///
/// ```
/// use metaless_swarm::sig::ExpireMode;
/// assert_eq!(ExpireMode::Shorten.sig_text(), "shorten");
/// assert_eq!(ExpireMode::Set.sig_text(), "");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ExpireMode {
    /// Set the expiry whatever it was.
    #[default]
    Set,
    /// Only move expiries earlier (`"shorten": true`).
    Shorten,
    /// Only move expiries later (`"extend": true`).
    Extend,
}

impl ExpireMode {
    /// The word this mode contributes to the signed message.
    pub fn sig_text(self) -> &'static str {
        match self {
            Self::Set => "",
            Self::Shorten => "shorten",
            Self::Extend => "extend",
        }
    }
}

struct Msg(Vec<u8>);

impl Msg {
    fn new(method: &str) -> Self {
        Self(Vec::from(method.as_bytes()))
    }
    fn text(mut self, s: &str) -> Self {
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    fn num(mut self, n: u64) -> Self {
        self.0.extend_from_slice(format!("{n}").as_bytes());
        self
    }
    fn hashes<S: AsRef<str>>(mut self, hashes: &[S]) -> Self {
        for h in hashes {
            self.0.extend_from_slice(h.as_ref().as_bytes());
        }
        self
    }
    fn done(self) -> Vec<u8> {
        self.0
    }
}

/// `"store" ‖ namespace ‖ sig_timestamp` (only stores to non-public namespaces are signed).
///
/// ```
/// use metaless_swarm::{Namespace, sig};
/// assert_eq!(sig::store(Namespace::Other(123), 1700000000000), b"store1231700000000000");
/// assert_eq!(sig::store(Namespace::Default, 5), b"store5");
/// ```
pub fn store(namespace: Namespace, sig_timestamp_ms: u64) -> Vec<u8> {
    Msg::new("store")
        .text(&namespace.sig_text())
        .num(sig_timestamp_ms)
        .done()
}

/// `"retrieve" ‖ namespace ‖ timestamp`.
///
/// ```
/// use metaless_swarm::{Namespace, sig};
/// assert_eq!(sig::retrieve(Namespace::Default, 1700000000000), b"retrieve1700000000000");
/// assert_eq!(sig::retrieve(Namespace::LegacyClosed, 7), b"retrieve-107");
/// ```
pub fn retrieve(namespace: Namespace, timestamp_ms: u64) -> Vec<u8> {
    Msg::new("retrieve")
        .text(&namespace.sig_text())
        .num(timestamp_ms)
        .done()
}

/// `"delete" ‖ hash₀ ‖ hash₁ ‖ …` (in request order).
pub fn delete<S: AsRef<str>>(hashes: &[S]) -> Vec<u8> {
    Msg::new("delete").hashes(hashes).done()
}

/// `"delete_all" ‖ namespace ‖ timestamp` (namespace `""`, `"all"` or decimal).
///
/// ```
/// use metaless_swarm::{NamespaceOrAll, sig};
/// assert_eq!(sig::delete_all(NamespaceOrAll::All, 9), b"delete_allall9");
/// ```
pub fn delete_all(namespace: NamespaceOrAll, timestamp_ms: u64) -> Vec<u8> {
    Msg::new("delete_all")
        .text(&namespace.sig_text())
        .num(timestamp_ms)
        .done()
}

/// `"delete_before" ‖ namespace ‖ before`.
pub fn delete_before(namespace: NamespaceOrAll, before_ms: u64) -> Vec<u8> {
    Msg::new("delete_before")
        .text(&namespace.sig_text())
        .num(before_ms)
        .done()
}

/// `"expire_all" ‖ namespace ‖ expiry`.
pub fn expire_all(namespace: NamespaceOrAll, expiry_ms: u64) -> Vec<u8> {
    Msg::new("expire_all")
        .text(&namespace.sig_text())
        .num(expiry_ms)
        .done()
}

/// `"expire" ‖ ("shorten" | "extend" | "") ‖ expiry₀ ‖ expiry₁ ‖ … ‖ hash₀ ‖ hash₁ ‖ …`
/// (one expiry, or one per hash, exactly as in the request).
///
/// ```
/// use metaless_swarm::sig::{self, ExpireMode};
/// assert_eq!(sig::expire(ExpireMode::Extend, &[10, 20], &["a", "b"]), b"expireextend1020ab");
/// ```
pub fn expire<S: AsRef<str>>(mode: ExpireMode, expiries_ms: &[u64], hashes: &[S]) -> Vec<u8> {
    let mut m = Msg::new("expire").text(mode.sig_text());
    for &e in expiries_ms {
        m = m.num(e);
    }
    m.hashes(hashes).done()
}

/// `"get_expiries" ‖ timestamp ‖ hash₀ ‖ hash₁ ‖ …`.
pub fn get_expiries<S: AsRef<str>>(timestamp_ms: u64, hashes: &[S]) -> Vec<u8> {
    Msg::new("get_expiries")
        .num(timestamp_ms)
        .hashes(hashes)
        .done()
}

/// What a node signs for each stored message: the hash text.
pub fn store_reply(hash: &MessageHash) -> Vec<u8> {
    Vec::from(hash.as_str().as_bytes())
}

/// A node's `delete` reply: `PUBKEY_HEX ‖ requested hashes ‖ deleted hashes (sorted)`.
pub fn delete_reply<A: AsRef<str>, B: AsRef<str>>(
    pubkey: &UserPubkey,
    requested: &[A],
    deleted: &[B],
) -> Vec<u8> {
    Msg::new(&pubkey.to_hex())
        .hashes(requested)
        .hashes(deleted)
        .done()
}

/// A node's `delete_all` / `delete_before` / `expire_all` reply:
/// `PUBKEY_HEX ‖ timestamp (or before, or expiry) ‖ affected hashes (sorted)`.
pub fn action_reply<S: AsRef<str>>(pubkey: &UserPubkey, value_ms: u64, affected: &[S]) -> Vec<u8> {
    Msg::new(&pubkey.to_hex())
        .num(value_ms)
        .hashes(affected)
        .done()
}

/// A node's `expire` reply: `PUBKEY_HEX ‖ expiry (or the applied expiries) ‖ requested hashes ‖
/// updated hashes ‖ (hash ‖ expiry for each unchanged message, sorted by hash)`.
///
/// ```
/// use metaless_swarm::{UserPubkey, sig};
/// let pk = UserPubkey::new(5, [0; 32]);
/// let m = sig::expire_reply(&pk, &[99], &["r"], &["u"], &[("c", 5)]);
/// assert_eq!(m, format!("05{}99ruc5", "00".repeat(32)).into_bytes());
/// ```
pub fn expire_reply<A: AsRef<str>, B: AsRef<str>, C: AsRef<str>>(
    pubkey: &UserPubkey,
    expiries_ms: &[u64],
    requested: &[A],
    updated: &[B],
    unchanged: &[(C, u64)],
) -> Vec<u8> {
    let mut m = Msg::new(&pubkey.to_hex());
    for &e in expiries_ms {
        m = m.num(e);
    }
    let mut m = m.hashes(requested).hashes(updated);
    for (hash, expiry) in unchanged {
        let mut s = alloc::string::String::new();
        let _ = write!(s, "{}{}", hash.as_ref(), expiry);
        m = m.text(&s);
    }
    m.done()
}

fn tokens_msg(
    method: &str,
    timestamp_ms: u64,
    tokens: &[[u8; crate::SUBACCOUNT_TOKEN_LEN]],
) -> Vec<u8> {
    let mut m = Msg::new(method).num(timestamp_ms).done();
    for t in tokens {
        m.extend_from_slice(t);
    }
    m
}

/// `"revoke_subaccount" ‖ timestamp ‖ token₀ ‖ token₁ ‖ …` (tokens as their raw 36 bytes).
///
/// ```
/// let m = metaless_swarm::sig::revoke_subaccount(9, &[[0xaa; 36]]);
/// assert_eq!(&m[..18], b"revoke_subaccount9");
/// assert_eq!(m.len(), 18 + 36);
/// ```
pub fn revoke_subaccount(
    timestamp_ms: u64,
    tokens: &[[u8; crate::SUBACCOUNT_TOKEN_LEN]],
) -> Vec<u8> {
    tokens_msg("revoke_subaccount", timestamp_ms, tokens)
}

/// `"unrevoke_subaccount" ‖ timestamp ‖ token₀ ‖ …`.
pub fn unrevoke_subaccount(
    timestamp_ms: u64,
    tokens: &[[u8; crate::SUBACCOUNT_TOKEN_LEN]],
) -> Vec<u8> {
    tokens_msg("unrevoke_subaccount", timestamp_ms, tokens)
}

/// `"revoked_subaccounts" ‖ timestamp`.
///
/// ```
/// assert_eq!(metaless_swarm::sig::revoked_subaccounts(7), b"revoked_subaccounts7");
/// ```
pub fn revoked_subaccounts(timestamp_ms: u64) -> Vec<u8> {
    Msg::new("revoked_subaccounts").num(timestamp_ms).done()
}

/// A node's `revoke_subaccount` / `unrevoke_subaccount` reply:
/// `PUBKEY_HEX ‖ timestamp ‖ token₀ ‖ token₁ ‖ …` (the request's tokens, raw).
///
/// ```
/// use metaless_swarm::{UserPubkey, sig};
/// let m = sig::revocation_reply(&UserPubkey::new(3, [0; 32]), 5, &[[1; 36]]);
/// assert_eq!(m.len(), 66 + 1 + 36);
/// ```
pub fn revocation_reply(
    pubkey: &UserPubkey,
    timestamp_ms: u64,
    tokens: &[[u8; crate::SUBACCOUNT_TOKEN_LEN]],
) -> Vec<u8> {
    tokens_msg(&pubkey.to_hex(), timestamp_ms, tokens)
}
