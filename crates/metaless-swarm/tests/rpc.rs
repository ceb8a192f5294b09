//! Round trips (client build → node parse → verify → node reply → client parse and signature
//! check) and the node's refusals, with the storage server's status codes and texts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

use metaless_identity::{Keypair, Seed};
use metaless_swarm::server::{self, Affected, NodeFailure, ReplyBody, RpcError, SwarmReply};
use metaless_swarm::sig::ExpireMode;
use metaless_swarm::{Delete, Expire, GetExpiries, OxendRequest, Request, Retrieve, Signer, Store};
use metaless_swarm::{
    InfoResponse, RetrieveResponse, StoredMessage, SwarmResults, parse_get_expiries,
    verify_delete_entry, verify_expire_entry, verify_namespace_action_entry, verify_store_entry,
};
use metaless_swarm::{
    MessageHash, Namespace, NamespaceOrAll, NodeList, ServiceNode, SwarmError, SwarmResponse,
    UserPubkey, b64, ttl,
};
use proptest::prelude::*;
use serde_json::{Value, json};

const NOW: u64 = 1_700_000_000_000;
const HF: [u16; 2] = [19, 3];

fn keys(n: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([n; 32]))
}

fn json_body(reply: &server::Reply) -> Value {
    match &reply.body {
        ReplyBody::Json(v) => v.clone(),
        other => panic!("not json: {other:?}"),
    }
}

/// Parses a request body built from `params` and returns the node's error.
fn refuse(method: &str, params: Value) -> RpcError {
    let body = json!({"method": method, "params": params}).to_string();
    match server::parse_request(body.as_bytes()) {
        Err(e) => e,
        Ok(r) => server::verify(&r, NOW).expect_err("request was accepted"),
    }
}

fn params_of(r: &Request) -> serde_json::Map<String, Value> {
    r.to_params().as_object().unwrap().clone()
}

fn with(mut p: serde_json::Map<String, Value>, key: &str, v: Value) -> Value {
    p.insert(key.into(), v);
    Value::Object(p)
}

fn without(mut p: serde_json::Map<String, Value>, key: &str) -> Value {
    p.remove(key);
    Value::Object(p)
}

fn signed_store(k: &Keypair, ns: Namespace, ts: u64) -> Request {
    Request::Store(
        Store::signed(&Signer::session(k), ns, b"hello".to_vec(), ts, 86_400_000).unwrap(),
    )
}

#[test]
fn every_method_round_trips_and_verifies() {
    let k = keys(1);
    let signer = Signer::session(&k);
    let h = MessageHash::compute(&signer.pubkey(), Namespace::Default, b"x");
    let group_keys = keys(2);
    let group = Signer::group(&group_keys);
    let requests = vec![
        signed_store(&k, Namespace::Contacts, NOW),
        Request::Store(
            Store::deposit(
                signer.pubkey(),
                Namespace::Default,
                vec![0; 76_800],
                NOW,
                1_209_600_000,
            )
            .unwrap(),
        ),
        Request::Store(
            Store::signed(&group, Namespace::GroupMessages, b"g".to_vec(), NOW, 10_000).unwrap(),
        ),
        Request::Retrieve(
            Retrieve::signed(&signer, Namespace::Default, Some(h.clone()), NOW).with_max_count(5),
        ),
        Request::Retrieve(
            Retrieve::signed(&group, Namespace::GroupKeys, None, NOW).with_max_size(-3),
        ),
        Request::Retrieve(Retrieve::unsigned(
            signer.pubkey(),
            Namespace::LegacyClosed,
            None,
        )),
        Request::Delete(Delete::signed(&signer, vec![h.clone()], true).unwrap()),
        Request::delete_all(&signer, NamespaceOrAll::All, NOW),
        Request::delete_all(&signer, NamespaceOrAll::One(Namespace::UserGroups), NOW),
        Request::delete_before(&signer, NamespaceOrAll::One(Namespace::Default), NOW - 1000),
        Request::expire_all(&signer, NamespaceOrAll::All, NOW + 1000),
        Request::Expire(
            Expire::signed(
                &signer,
                vec![h.clone()],
                vec![NOW + 5000],
                ExpireMode::Extend,
            )
            .unwrap(),
        ),
        Request::Expire(
            Expire::signed(
                &signer,
                vec![h.clone(), h.clone()],
                vec![NOW + 1, NOW + 2],
                ExpireMode::Set,
            )
            .unwrap(),
        ),
        Request::GetExpiries(GetExpiries::signed(&signer, vec![h.clone()], NOW).unwrap()),
        Request::GetSwarm(signer.pubkey()),
        Request::Info,
        Request::OxendRequest(OxendRequest::get_service_nodes()),
        Request::ActiveNodesBin,
    ];
    for r in &requests {
        let parsed = server::parse_request(&r.to_body()).unwrap();
        assert_eq!(&parsed, r, "{}", r.method());
        server::verify(&parsed, NOW + 1_000).unwrap_or_else(|e| panic!("{}: {e}", r.method()));
    }
    let batch = Request::Batch(requests[..5].to_vec());
    assert_eq!(server::parse_request(&batch.to_body()).unwrap(), batch);
    let seq = Request::Sequence(requests[5..8].to_vec());
    assert_eq!(server::parse_request(&seq.to_body()).unwrap(), seq);
}

#[test]
fn bad_signatures_are_refused_with_upstream_texts() {
    let k = keys(1);
    let other = keys(9);
    let signer = Signer::session(&k);
    let h = MessageHash::compute(&signer.pubkey(), Namespace::Default, b"x");
    let cases: Vec<(Request, &str)> = vec![
        (
            signed_store(&k, Namespace::Contacts, NOW),
            "store signature verification failed",
        ),
        (
            Request::Retrieve(Retrieve::signed(&signer, Namespace::Default, None, NOW)),
            "retrieve signature verification failed",
        ),
        (
            Request::Delete(Delete::signed(&signer, vec![h.clone()], false).unwrap()),
            "delete_msgs signature verification failed",
        ),
        (
            Request::delete_all(&signer, NamespaceOrAll::All, NOW),
            "delete_all signature verification failed",
        ),
        (
            Request::delete_before(&signer, NamespaceOrAll::All, NOW),
            "delete_before signature verification failed",
        ),
        (
            Request::expire_all(&signer, NamespaceOrAll::All, NOW),
            "expire_all signature verification failed",
        ),
        (
            Request::Expire(
                Expire::signed(&signer, vec![h.clone()], vec![NOW], ExpireMode::Set).unwrap(),
            ),
            "expire: signature verification failed",
        ),
        (
            Request::GetExpiries(GetExpiries::signed(&signer, vec![h], NOW).unwrap()),
            "get_expiries signature verification failed",
        ),
    ];
    for (request, text) in cases {
        // Flip one bit of the signature.
        let p = params_of(&request);
        let mut sig = b64::decode(p["signature"].as_str().unwrap().as_bytes()).unwrap();
        sig[10] ^= 1;
        let e = refuse(
            request.method(),
            with(p.clone(), "signature", b64::encode(&sig).into()),
        );
        assert_eq!((e.status, e.text.as_str()), (401, text));
        // Another account's Ed25519 key does not convert to this account's X25519 key.
        let e = refuse(
            request.method(),
            with(
                p,
                "pubkey_ed25519",
                metaless_identity::hex::encode(&other.ed25519_public()).into(),
            ),
        );
        assert_eq!((e.status, e.text.as_str()), (401, text));
    }
}

#[test]
fn stale_and_future_timestamps() {
    let k = keys(1);
    let signer = Signer::session(&k);
    let h = MessageHash::compute(&signer.pubkey(), Namespace::Default, b"x");
    for (offset, ok) in [
        (-60_000i64, true),
        (-60_001, false),
        (60_000, true),
        (60_001, false),
    ] {
        let ts = NOW.checked_add_signed(offset).unwrap();
        let checks: Vec<(Request, &str)> = vec![
            (
                Request::Retrieve(Retrieve::signed(&signer, Namespace::Default, None, ts)),
                "retrieve timestamp too far from current time",
            ),
            (
                Request::delete_all(&signer, NamespaceOrAll::All, ts),
                "delete_all timestamp too far from current time",
            ),
            (
                Request::GetExpiries(GetExpiries::signed(&signer, vec![h.clone()], ts).unwrap()),
                "get_expiries timestamp too far from current time",
            ),
        ];
        for (r, text) in checks {
            match server::verify(&r, NOW) {
                Ok(()) => assert!(ok, "{text} accepted at {offset}"),
                Err(e) => {
                    assert!(!ok);
                    assert_eq!((e.status, e.text.as_str()), (406, text));
                }
            }
        }
    }
    // Store: a store timestamp more than 10 s ahead is a clock error (406) …
    let future = Request::Store(
        Store::deposit(
            signer.pubkey(),
            Namespace::Default,
            vec![1],
            NOW + 10_001,
            60_000,
        )
        .unwrap(),
    );
    let e = server::verify(&future, NOW).unwrap_err();
    assert_eq!(
        (e.status, e.text.as_str()),
        (406, "Timestamp error: check your clock")
    );
    // … as is an expiry more than 10 s in the past …
    let expired = Request::Store(
        Store::deposit(
            signer.pubkey(),
            Namespace::Default,
            vec![1],
            NOW - 80_000,
            60_000,
        )
        .unwrap(),
    );
    assert_eq!(server::verify(&expired, NOW).unwrap_err().status, 406);
    // … and a signed store whose signature is over a minute old.
    let e = server::verify(&signed_store(&k, Namespace::Contacts, NOW - 61_000), NOW).unwrap_err();
    assert_eq!(
        (e.status, e.text.as_str()),
        (406, "store signature timestamp too far from current time")
    );
    // A recent sig_timestamp rescues an older message timestamp.
    let mut p = params_of(&signed_store(&k, Namespace::Contacts, NOW - 100_000));
    let fresh = Signer::session(&k).auth(&metaless_swarm::sig::store(Namespace::Contacts, NOW));
    p.insert("signature".into(), b64::encode(&fresh.signature).into());
    p.insert("sig_timestamp".into(), NOW.into());
    let r = server::parse_request(
        json!({"method": "store", "params": p})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    server::verify(&r, NOW).unwrap();
    // Expiries more than a minute in the past, and delete_before more than a minute ahead.
    let e = server::verify(
        &Request::Expire(
            Expire::signed(&signer, vec![h], vec![NOW - 60_001], ExpireMode::Set).unwrap(),
        ),
        NOW,
    )
    .unwrap_err();
    assert_eq!(
        (e.status, e.text.as_str()),
        (401, "expire: timestamp should be >= current time")
    );
    let e = server::verify(
        &Request::delete_before(&signer, NamespaceOrAll::All, NOW + 60_001),
        NOW,
    )
    .unwrap_err();
    assert_eq!(
        (e.status, e.text.as_str()),
        (401, "delete_before timestamp too far in the future")
    );
    let e = server::verify(
        &Request::expire_all(&signer, NamespaceOrAll::All, NOW - 60_001),
        NOW,
    )
    .unwrap_err();
    assert_eq!(
        (e.status, e.text.as_str()),
        (406, "expire_all timestamp should be >= current time")
    );
}

/// Upstream widens two windows for requests forwarded between swarm members (`recurse` false):
/// `delete_all`'s timestamp and `expire_all`'s lower bound, to ±70 s. Nothing else changes.
#[test]
fn forwarded_requests_get_the_wider_window_where_upstream_gives_it() {
    let k = keys(1);
    let signer = Signer::session(&k);
    for (offset, client_ok, forwarded_ok) in [
        (-60_000i64, true, true),
        (-65_000, false, true),
        (-70_000, false, true),
        (-70_001, false, false),
        (65_000, false, true),
        (70_001, false, false),
    ] {
        let ts = NOW.checked_add_signed(offset).unwrap();
        let r = Request::delete_all(&signer, NamespaceOrAll::All, ts);
        assert_eq!(
            server::verify(&r, NOW).is_ok(),
            client_ok,
            "client {offset}"
        );
        match server::verify_forwarded(&r, NOW) {
            Ok(()) => assert!(forwarded_ok, "forwarded {offset}"),
            Err(e) => {
                assert!(!forwarded_ok, "forwarded {offset}");
                assert_eq!(
                    (e.status, e.text.as_str()),
                    (406, "delete_all timestamp too far from current time")
                );
            }
        }
    }
    let past = Request::expire_all(&signer, NamespaceOrAll::All, NOW - 65_000);
    assert_eq!(server::verify(&past, NOW).unwrap_err().status, 406);
    server::verify_forwarded(&past, NOW).unwrap();
    let e = server::verify_forwarded(
        &Request::expire_all(&signer, NamespaceOrAll::All, NOW - 70_001),
        NOW,
    )
    .unwrap_err();
    assert_eq!(
        (e.status, e.text.as_str()),
        (406, "expire_all timestamp should be >= current time")
    );
    // The other signed windows stay at ±60 s when forwarded.
    let stale = Request::Retrieve(Retrieve::signed(
        &signer,
        Namespace::Default,
        None,
        NOW - 65_000,
    ));
    assert_eq!(
        server::verify_forwarded(&stale, NOW).unwrap_err().status,
        406
    );
    let stale = signed_store(&k, Namespace::Contacts, NOW - 65_000);
    assert_eq!(
        server::verify_forwarded(&stale, NOW).unwrap_err().status,
        406
    );
    // A forwarded request with a bad signature is still refused.
    let mut p = params_of(&Request::delete_all(&signer, NamespaceOrAll::All, NOW));
    p.insert("signature".into(), b64::encode(&[7u8; 64]).into());
    let forged = server::parse_request(
        json!({"method": "delete_all", "params": p})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        server::verify_forwarded(&forged, NOW).unwrap_err().status,
        401
    );
}

/// The storage server's HTTP layer refuses an oversize body with 413 and the plain-text body
/// `Request body too large` (`https.cpp`/`https_uws.cpp`), the text onion clients match on.
#[test]
fn oversize_body_is_refused_with_the_http_layer_text() {
    let limit = metaless_swarm::limits::MAX_REQUEST_BODY;
    let e = server::parse_request(&vec![b' '; limit + 1]).unwrap_err();
    assert_eq!((e.status, e.text.as_str()), (413, "Request body too large"));
    // At the limit the body is read (and here refused as JSON).
    let e = server::parse_request(&vec![b' '; limit]).unwrap_err();
    assert_eq!((e.status, e.text.as_str()), (400, "invalid json"));
}

#[test]
fn store_rules() {
    let k = keys(1);
    let signer = Signer::session(&k);
    let base = params_of(&Request::Store(
        Store::deposit(
            signer.pubkey(),
            Namespace::Default,
            b"hi".to_vec(),
            NOW,
            60_000,
        )
        .unwrap(),
    ));
    // TTL out of range: 403.
    for ttl in [9_999u64, 14 * 86_400_000 + 1] {
        let e = refuse("store", with(base.clone(), "ttl", ttl.into()));
        assert_eq!(
            (e.status, e.text.as_str()),
            (403, "Provided expiry/TTL is not valid.")
        );
    }
    // A private namespace allows 30 days but needs a signature.
    let e = refuse("store", with(base.clone(), "namespace", 3.into()));
    assert_eq!(
        (e.status, e.text.as_str()),
        (401, "store: signature required to store to namespace 3")
    );
    // Oversize data (base64 longer than 102400 characters): 400.
    let big = b64::encode(&vec![0u8; 76_801]);
    let e = refuse("store", with(base.clone(), "data", big.into()));
    assert_eq!(
        (e.status, e.text.as_str()),
        (
            400,
            "invalid request: Message body exceeds maximum allowed length of 76800 bytes"
        )
    );
    let e = refuse("store", with(base.clone(), "data", "not*base64".into()));
    assert_eq!(
        e.text,
        "invalid request: Invalid 'data' value: not base64 encoded"
    );
    // Unknown (out of range) namespace.
    let e = refuse("store", with(base.clone(), "namespace", 40_000.into()));
    assert_eq!(
        e.text,
        "invalid request: Invalid value given for 'namespace': value out of range"
    );
    let e = refuse("store", with(base.clone(), "namespace", "3".into()));
    assert_eq!(
        e.text,
        "invalid request: Invalid value given for 'namespace': expected 16-bit integer"
    );
    // Field combinations.
    let e = refuse("store", with(base.clone(), "expiry", (NOW + 60_000).into()));
    assert_eq!(
        e.text,
        "invalid request: Cannot specify both 'expiry' and 'ttl'"
    );
    let e = refuse("store", without(base.clone(), "ttl"));
    assert_eq!(
        e.text,
        "invalid request: Required field 'expiry' or 'ttl' missing"
    );
    let e = refuse("store", without(base.clone(), "timestamp"));
    assert_eq!(
        e.text,
        "invalid request: Required field 'timestamp' missing"
    );
    let e = refuse(
        "store",
        with(base.clone(), "pubKey", signer.pubkey().to_hex().into()),
    );
    assert_eq!(
        e.text,
        "invalid request: Cannot specify both 'pubkey' and 'pubKey'"
    );
    let e = refuse("store", with(base.clone(), "pubkey", "05abcd".into()));
    assert_eq!(
        e.text,
        "invalid request: Pubkey must be 66 hex digits (33 bytes) long"
    );
    let e = refuse("store", with(base.clone(), "ttl", "12x".into()));
    assert_eq!(
        e.text,
        "invalid request: Invalid value given for 'ttl': \"12x\""
    );
    let e = refuse("store", with(base.clone(), "ttl", (-5).into()));
    assert_eq!(
        e.text,
        "invalid request: Invalid value given for 'ttl': expected positive integer"
    );
    // Stringified timestamp and ttl are accepted, `pubKey` too.
    let mut alt = base.clone();
    alt.insert("timestamp".into(), NOW.to_string().into());
    alt.insert("ttl".into(), "60000".into());
    let pk = alt.remove("pubkey").unwrap();
    alt.insert("pubKey".into(), pk);
    let r = server::parse_request(
        json!({"method": "store", "params": alt})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    server::verify(&r, NOW).unwrap();
    // Expiry given in seconds is caught.
    let mut no_ttl = base;
    no_ttl.remove("ttl");
    // (Only values under 10^9 ms are caught: the server's "seconds" heuristic.)
    let e = refuse("store", with(no_ttl, "expiry", 999_999_999u64.into()));
    assert_eq!(
        e.text,
        "invalid request: Invalid timestamp for 'expiry': timestamp must be in milliseconds"
    );
}

#[test]
fn retrieve_rules() {
    let k = keys(1);
    let signer = Signer::session(&k);
    let signed = params_of(&Request::Retrieve(Retrieve::signed(
        &signer,
        Namespace::Default,
        None,
        NOW,
    )));
    let e = refuse("retrieve", without(signed.clone(), "signature"));
    assert_eq!(
        (e.status, e.text.as_str()),
        (400, "invalid request: Required field 'signature' missing")
    );
    let e = refuse("retrieve", json!({"pubkey": signer.pubkey().to_hex()}));
    assert_eq!(
        (e.status, e.text.as_str()),
        (401, "retrieve: request signature required")
    );
    let e = refuse(
        "retrieve",
        with(signed.clone(), "last_hash", "short".into()),
    );
    assert_eq!(
        e.text,
        "invalid request: Invalid last_hash: expected base64 (43 chars)"
    );
    let e = refuse(
        "retrieve",
        with(signed.clone(), "last_hash", "!".repeat(43).into()),
    );
    assert_eq!(e.text, "invalid request: Invalid last_hash: not base64");
    let mut both = signed.clone();
    both.insert("last_hash".into(), "A".repeat(43).into());
    let e = refuse("retrieve", with(both, "lastHash", "A".repeat(43).into()));
    assert_eq!(
        e.text,
        "invalid request: Cannot specify both 'last_hash' and 'lastHash'"
    );
    let e = refuse(
        "retrieve",
        with(signed.clone(), "timestamp", 999_999_999u64.into()),
    );
    assert_eq!(
        e.text,
        "invalid request: Invalid timestamp for 'timestamp': timestamp must be in milliseconds"
    );
    let e = refuse("retrieve", with(signed.clone(), "signature", "abc".into()));
    assert_eq!(
        e.text,
        "invalid request: invalid signature: expected base64 encoded Ed25519 signature"
    );
    let e = refuse(
        "retrieve",
        with(signed.clone(), "pubkey_ed25519", "zz".repeat(32).into()),
    );
    assert_eq!(
        e.text,
        "invalid request: invalid pubkey_ed25519: value is not hex"
    );
    let e = refuse(
        "retrieve",
        with(signed.clone(), "pubkey_ed25519", "ab".into()),
    );
    assert_eq!(
        e.text,
        "invalid request: Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey"
    );
    let e = refuse(
        "retrieve",
        with(
            signed.clone(),
            "pubkey",
            format!("03{}", "11".repeat(32)).into(),
        ),
    );
    assert_eq!(
        e.text,
        "invalid request: pubkey_ed25519 is only permitted for 05[...] pubkeys"
    );
    let e = refuse(
        "retrieve",
        with(signed.clone(), "subaccount", "00".repeat(36).into()),
    );
    assert_eq!(
        e.text,
        "invalid request: invalid subaccount: subaccount_sig is required when using subaccount"
    );
    // An unsigned retrieve from a public outbox (−21) is fine.
    let r = server::parse_request(
        json!({"method": "retrieve", "params": {"pubkey": signer.pubkey().to_hex(), "namespace": -21}})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    server::verify(&r, NOW).unwrap();
}

#[test]
fn hash_list_rules() {
    let k = keys(1);
    let signer = Signer::session(&k);
    let h = MessageHash::compute(&signer.pubkey(), Namespace::Default, b"x");
    let del = params_of(&Request::Delete(
        Delete::signed(&signer, vec![h.clone()], false).unwrap(),
    ));
    let e = refuse("delete", with(del.clone(), "messages", json!([])));
    assert_eq!(
        e.text,
        "invalid request: messages does not contain any message hashes"
    );
    let e = refuse("delete", with(del.clone(), "messages", json!(["bad"])));
    assert_eq!(e.text, "invalid request: invalid message hash: bad");
    let e = refuse("delete", with(del, "messages", json!([1])));
    assert_eq!(
        e.text,
        "invalid request: Invalid value given for 'messages': expected string array"
    );
    let exp = params_of(&Request::Expire(
        Expire::signed(&signer, vec![h.clone()], vec![NOW], ExpireMode::Shorten).unwrap(),
    ));
    let e = refuse("expire", with(exp.clone(), "extend", true.into()));
    assert_eq!(
        e.text,
        "invalid request: cannot specify both 'shorten' and 'extend'"
    );
    let e = refuse("expire", with(exp.clone(), "expiry", json!([NOW, NOW])));
    assert_eq!(
        e.text,
        "invalid request: 'expiry' must be a single expiry, or the same length as 'messages'"
    );
    let e = refuse("expire", with(exp, "expiry", json!([])));
    assert_eq!(
        e.text,
        "invalid request: 'expiry' does not contain any expiration timestamps"
    );
    let all = params_of(&Request::delete_all(&signer, NamespaceOrAll::All, NOW));
    let e = refuse("delete_all", with(all.clone(), "namespace", "most".into()));
    assert_eq!(
        e.text,
        "invalid request: Invalid value given for 'namespace': expected integer or \"all\""
    );
    let e = refuse("delete_all", without(all, "timestamp"));
    assert_eq!(
        e.text,
        "invalid request: Required field 'timestamp' missing"
    );
    let e = refuse("oxend_request", json!({"endpoint": "get_info"}));
    assert_eq!(e.text, "invalid request: Invalid oxend endpoint 'get_info'");
    let e = refuse("get_swarm", json!({"pubkey": "05"}));
    assert_eq!(
        e.text,
        "invalid request: Pubkey must be 66 hex digits/33 bytes long"
    );
    let e = refuse("batch", json!({"requests": []}));
    assert_eq!(
        e.text,
        "invalid request: Invalid batch request: no valid \"requests\" field"
    );
    let e = refuse(
        "batch",
        json!({"requests": vec![json!({"method": "info", "params": {}}); 21]}),
    );
    assert_eq!(
        e.text,
        "invalid request: Invalid batch request: subrequest limit exceeded"
    );
    let e = refuse(
        "batch",
        json!({"requests": [{"method": "batch", "params": {}}]}),
    );
    assert_eq!(
        e.text,
        "invalid request: Invalid batch subrequest: subrequests may not contain meta-requests"
    );
    let e = refuse(
        "batch",
        json!({"requests": [{"method": "frob", "params": {}}]}),
    );
    assert_eq!(
        e.text,
        "invalid request: Invalid batch subrequest: invalid method \"frob\""
    );
    let e = refuse("ifelse", json!({}));
    assert_eq!(e.text, "no method ifelse");
}

fn node_keys() -> &'static [Keypair] {
    static KEYS: std::sync::OnceLock<Vec<Keypair>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| (10..16).map(keys).collect())
}

fn test_nodes() -> (&'static [Keypair], NodeList) {
    let ks = node_keys();
    let nodes = ks
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let swarm = if i < 3 { 1 << 62 } else { 3 << 62 };
            ServiceNode::new(k.ed25519_public(), [10, 0, 0, i as u8 + 1], 22021, swarm).unwrap()
        })
        .collect();
    (ks, NodeList { nodes, skipped: 0 })
}

#[test]
fn wrong_swarm_reply_carries_the_right_swarm() {
    let (_, nodes) = test_nodes();
    let mut key = [0u8; 32];
    key[31] = 1;
    let account = UserPubkey::new(5, key); // space 1: nearest is 1<<62 (0 would tie, going to 3<<62)
    assert!(server::check_swarm(&account, 1 << 62, &nodes, NOW, HF).is_ok());
    let reply = server::check_swarm(&account, 3 << 62, &nodes, NOW, HF).unwrap_err();
    assert_eq!(reply.status, 421);
    let parsed = SwarmResponse::parse(&reply.body_bytes()).unwrap();
    assert_eq!(parsed.swarm_id, Some(1 << 62));
    assert_eq!(parsed.nodes.len(), 3);
    assert_eq!(parsed.network_time_ms, Some(NOW));
    assert_eq!(parsed.hf, Some(HF));
    assert_eq!(
        parsed.nodes,
        nodes
            .swarm(1 << 62)
            .into_iter()
            .cloned()
            .collect::<Vec<_>>()
    );
    // No swarms at all.
    let e = server::check_swarm(&account, 1, &NodeList::default(), NOW, HF).unwrap_err();
    assert_eq!(
        (e.status, e.body_bytes()),
        (500, b"No swarms known!".to_vec())
    );
    // get_swarm gives the same swarm with 200.
    let r = server::get_swarm_reply(&account, &nodes, NOW, HF);
    assert_eq!(r.status, 200);
    assert_eq!(
        SwarmResponse::parse(&r.body_bytes()).unwrap().swarm_id,
        Some(1 << 62)
    );
    let none = server::get_swarm_reply(&account, &NodeList::default(), NOW, HF);
    assert_eq!(json_body(&none)["swarm"], "ffffffffffffffff");
}

#[test]
fn swarm_replies_verify_on_the_client() {
    let (node_keys, _) = test_nodes();
    let k = keys(1);
    let signer = Signer::session(&k);
    let account = signer.pubkey();
    let store = Store::signed(
        &signer,
        Namespace::Contacts,
        b"cfg".to_vec(),
        NOW,
        86_400_000,
    )
    .unwrap();
    let hash = store.message_hash();

    // store: own entry plus one peer and one failure.
    let mut reply = SwarmReply::new();
    reply.add_own_store(&node_keys[0], &hash, store.expiry_ms, false, NOW);
    reply.add(
        &node_keys[1].ed25519_public(),
        server::store_entry(&node_keys[1], &hash, store.expiry_ms, true),
    );
    reply.add_failure(&node_keys[2].ed25519_public(), &NodeFailure::Timeout);
    let r = reply.finish(NOW, HF);
    assert_eq!(r.status, 200);
    let parsed = SwarmResults::parse(&r.body_bytes()).unwrap();
    assert_eq!(parsed.hash.as_deref(), Some(hash.as_str()));
    assert_eq!(parsed.successes().count(), 2);
    for (node, entry) in parsed.successes() {
        let (h, expiry, _) = verify_store_entry(node, entry).unwrap();
        assert_eq!((h, expiry), (hash.clone(), store.expiry_ms));
        // A signature from the wrong node is refused.
        assert_eq!(
            verify_store_entry(&[0x42; 32], entry),
            Err(SwarmError::BadSignature)
        );
    }

    // All failed: 500.
    let mut reply = SwarmReply::new();
    reply.add_failure(&node_keys[0].ed25519_public(), &NodeFailure::QueryFailure);
    assert_eq!(reply.finish(NOW, HF).status, 500);

    // delete, with required and nothing deleted: 404.
    let h2 = MessageHash::compute(&account, Namespace::Default, b"zz");
    let del = Delete::signed(&signer, vec![hash.clone(), h2.clone()], true).unwrap();
    let mut reply = SwarmReply::new();
    reply.add(
        &node_keys[0].ed25519_public(),
        server::delete_entry(&node_keys[0], &account, &del.messages, vec![]),
    );
    assert_eq!(reply.finish_delete(true, NOW, HF).status, 404);
    let mut reply = SwarmReply::new();
    let entry = server::delete_entry(
        &node_keys[0],
        &account,
        &del.messages,
        vec![h2.as_str().into(), hash.as_str().into()],
    );
    reply.add(&node_keys[0].ed25519_public(), entry);
    let r = reply.finish_delete(true, NOW, HF);
    assert_eq!(r.status, 200);
    let parsed = SwarmResults::parse(&r.body_bytes()).unwrap();
    let (node, entry) = parsed.successes().next().unwrap();
    let mut deleted = verify_delete_entry(node, entry, &account, &del.messages).unwrap();
    let mut expected = vec![hash.as_str().to_string(), h2.as_str().to_string()];
    expected.sort();
    deleted.sort();
    assert_eq!(deleted, expected);

    // delete_all over every namespace.
    let affected = Affected::All(vec![
        (Namespace::Contacts, h2.as_str().into()),
        (Namespace::Default, hash.as_str().into()),
    ]);
    let entry = server::namespace_action_entry(&node_keys[1], "deleted", &account, NOW, affected);
    assert!(entry["deleted"].is_object());
    let entry = entry.as_object().unwrap().clone();
    let hashes = verify_namespace_action_entry(
        &node_keys[1].ed25519_public(),
        &entry,
        "deleted",
        &account,
        NOW,
    )
    .unwrap();
    assert_eq!(hashes.len(), 2);
    assert!(
        verify_namespace_action_entry(
            &node_keys[1].ed25519_public(),
            &entry,
            "deleted",
            &account,
            NOW + 1
        )
        .is_err()
    );

    // expire with shorten: one updated, one unchanged.
    let exp = Expire::signed(
        &signer,
        vec![hash.clone(), h2.clone()],
        vec![NOW + 60_000],
        ExpireMode::Shorten,
    )
    .unwrap();
    let targets = server::expire_targets(&exp, NOW);
    let entry = server::expire_entry(
        &node_keys[2],
        &exp,
        &targets,
        vec![(hash.as_str().into(), NOW + 60_000)],
        vec![(h2.as_str().into(), NOW + 30_000)],
    );
    assert_eq!(entry["unchanged"][h2.as_str()], NOW + 30_000);
    let entry = entry.as_object().unwrap().clone();
    let (updated, unchanged) = verify_expire_entry(
        &node_keys[2].ed25519_public(),
        &entry,
        &account,
        &exp.messages,
        exp.mode,
    )
    .unwrap();
    assert_eq!(updated, vec![hash.as_str().to_string()]);
    assert_eq!(unchanged.get(h2.as_str()), Some(&(NOW + 30_000)));
    // Per-message expiries: the reply lists the applied ones.
    let exp2 = Expire::signed(
        &signer,
        vec![hash.clone(), h2.clone()],
        vec![NOW + 1, NOW + 2],
        ExpireMode::Set,
    )
    .unwrap();
    let entry = server::expire_entry(
        &node_keys[2],
        &exp2,
        &server::expire_targets(&exp2, NOW),
        vec![(h2.as_str().into(), NOW + 2)],
        vec![],
    );
    assert_eq!(entry["expiry"], json!([NOW + 2]));
    assert!(entry.get("unchanged").is_none());
    let entry = entry.as_object().unwrap().clone();
    verify_expire_entry(
        &node_keys[2].ed25519_public(),
        &entry,
        &account,
        &exp2.messages,
        exp2.mode,
    )
    .unwrap();
}

#[test]
fn plain_replies_parse_on_the_client() {
    let msgs = vec![StoredMessage {
        hash: "h".into(),
        timestamp_ms: NOW,
        expiry_ms: NOW + 1,
        data: vec![0, 1, 255],
    }];
    let r = server::retrieve_reply(&msgs, true, NOW, HF);
    let parsed = RetrieveResponse::parse(&r.body_bytes()).unwrap();
    assert_eq!(parsed.messages, msgs);
    assert!(parsed.more);
    let info = InfoResponse::parse(&server::info_reply([2, 11, 0], NOW, HF).body_bytes()).unwrap();
    assert_eq!(
        (info.version, info.timestamp_ms, info.hf),
        ([2, 11, 0], NOW, Some(HF))
    );
    let ex =
        parse_get_expiries(&server::get_expiries_reply(&[("a".into(), 5)]).body_bytes()).unwrap();
    assert_eq!(ex.get("a"), Some(&5));
    // The onion form double-encodes JSON by default.
    let onion: Value =
        serde_json::from_slice(&server::info_reply([1, 2, 3], 7, HF).onion_plaintext(false))
            .unwrap();
    assert_eq!(onion["status"], 200);
    let inner: Value = serde_json::from_str(onion["body"].as_str().unwrap()).unwrap();
    assert_eq!(inner["version"], json!([1, 2, 3]));
}

#[test]
fn tolerant_retrieve_skips_malformed_entries_and_keeps_the_rest() {
    let good = |n: u8| StoredMessage {
        hash: MessageHash::compute(&UserPubkey::new(5, [n; 32]), Namespace::Default, &[n])
            .to_string(),
        timestamp_ms: NOW,
        expiry_ms: NOW + u64::from(n),
        data: vec![n, 0, 255],
    };
    let wire = |m: &StoredMessage| {
        json!({"hash": m.hash, "timestamp": m.timestamp_ms, "expiration": m.expiry_ms,
            "data": b64::encode(&m.data)})
    };
    let (a, b) = (good(1), good(2));
    let mut bad_data = wire(&a);
    bad_data["data"] = json!("not base64!");
    let mut no_expiry = wire(&b);
    no_expiry.as_object_mut().unwrap().remove("expiration");
    let mut not_a_hash = wire(&b);
    not_a_hash["hash"] = json!("h");
    let body = json!({
        "messages": [wire(&a), bad_data, 7, no_expiry, not_a_hash, wire(&b)],
        "more": true, "t": NOW, "hf": HF,
    })
    .to_string();
    let r = RetrieveResponse::parse_tolerant(body.as_bytes()).unwrap();
    assert_eq!(
        r.response.messages,
        vec![a.clone(), b.clone()],
        "good entries kept, in order"
    );
    assert_eq!(r.skipped, 4);
    assert!(r.response.more);
    assert_eq!(
        (r.response.network_time_ms, r.response.hf),
        (Some(NOW), Some(HF))
    );
    // The strict parser refuses the same body; both agree on a clean one.
    assert!(RetrieveResponse::parse(body.as_bytes()).is_err());
    let clean = server::retrieve_reply(&[a, b], false, NOW, HF).body_bytes();
    let tolerant = RetrieveResponse::parse_tolerant(&clean).unwrap();
    assert_eq!(tolerant.skipped, 0);
    assert_eq!(tolerant.response, RetrieveResponse::parse(&clean).unwrap());
}

#[test]
fn tolerant_retrieve_refuses_what_is_not_a_retrieve_reply() {
    let whole = server::retrieve_reply(
        &[StoredMessage {
            hash: "A".repeat(43),
            timestamp_ms: NOW,
            expiry_ms: NOW + 1,
            data: vec![1],
        }],
        false,
        NOW,
        HF,
    )
    .body_bytes();
    for cut in [1, whole.len() / 2, whole.len() - 1] {
        assert_eq!(
            RetrieveResponse::parse_tolerant(&whole[..cut]),
            Err(SwarmError::InvalidJson),
            "truncated at {cut}"
        );
    }
    for body in [&b"not json"[..], b"[1, 2]", b"\"42\"", b""] {
        assert_eq!(
            RetrieveResponse::parse_tolerant(body),
            Err(SwarmError::InvalidJson)
        );
    }
    assert_eq!(
        RetrieveResponse::parse_tolerant(b"{}"),
        Err(SwarmError::MissingField("messages"))
    );
    assert_eq!(
        RetrieveResponse::parse_tolerant(br#"{"messages": {}}"#),
        Err(SwarmError::InvalidField("messages"))
    );
    assert_eq!(
        RetrieveResponse::parse_tolerant(br#"{"messages": [], "more": "yes"}"#),
        Err(SwarmError::InvalidField("more"))
    );
}

#[test]
fn ttl_defaults_feed_valid_stores() {
    let k = keys(3);
    for ns in Namespace::KNOWN {
        let l = ttl::limits(ns);
        if ns.is_public_inbox() {
            assert!(
                Store::deposit(Signer::session(&k).pubkey(), ns, vec![], NOW, l.default_ms).is_ok()
            );
        } else {
            let s = Store::signed(&Signer::session(&k), ns, vec![], NOW, l.default_ms).unwrap();
            server::verify(&Request::Store(s), NOW).unwrap();
        }
        assert!(Store::signed(&Signer::session(&k), ns, vec![], NOW, l.max_ms + 1).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_account_maps_to_exactly_one_swarm(
        key in any::<[u8; 32]>(),
        swarms in proptest::collection::btree_set(any::<u64>(), 1..12),
    ) {
        let (ks, _) = test_nodes();
        let ids: Vec<u64> = swarms.into_iter().collect();
        let nodes = NodeList {
            nodes: ids
                .iter()
                .enumerate()
                .map(|(i, &id)| ServiceNode::new(ks[i % ks.len()].ed25519_public(), [1, 1, 1, 1], 1, id).unwrap())
                .collect(),
            skipped: 0,
        };
        let account = UserPubkey::new(5, key);
        let (id, members) = nodes.swarm_for(&account).unwrap();
        prop_assert!(!members.is_empty());
        // Exactly one swarm accepts the account; every other answers 421 naming that one.
        let accepting: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|&s| server::check_swarm(&account, s, &nodes, NOW, HF).is_ok())
            .collect();
        prop_assert_eq!(accepting, vec![id]);
        // Stable: the same answer whatever the node order.
        let mut reversed = nodes.clone();
        reversed.nodes.reverse();
        prop_assert_eq!(reversed.swarm_for(&account).map(|(i, _)| i), Some(id));
    }

    #[test]
    fn parse_never_panics(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = server::parse_request(&body);
    }

    #[test]
    fn truncated_bodies_are_refused(cut in 0usize..400) {
        let body = signed_store(&node_keys()[0], Namespace::Contacts, NOW).to_body();
        let cut = cut % body.len();
        let e = server::parse_request(&body[..cut]).unwrap_err();
        prop_assert_eq!(e.status, 400);
    }

    #[test]
    fn any_flipped_byte_is_caught(pos in 0usize..1000, bit in 0u8..8) {
        let request = Request::Retrieve(Retrieve::signed(&Signer::session(&node_keys()[1]), Namespace::Default, None, NOW));
        let mut body = request.to_body();
        let pos = pos % body.len();
        body[pos] ^= 1 << bit;
        // Either the body no longer parses, or it parses to a different request that fails
        // verification, or (a flip in JSON whitespace/escaping) it is the same request.
        if let Ok(r) = server::parse_request(&body)
            && r != request
        {
                prop_assert!(server::verify(&r, NOW).is_err());
        }
    }
}
