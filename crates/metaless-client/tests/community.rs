//! `CommunityClient` over real sockets: a community server (`metaless-community-server`) on
//! loopback, reached through 3-hop onion paths over an HTTP testnet of metaless nodes. Join,
//! post text and a file, react, edit, delete, poll (new posts, edits, deletions, reactions),
//! state export/import, blinded DMs both ways; a read-only room refuses a post with the
//! server's 403; a tampered post in a reply is rejected, a truncated reply fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use metaless_client::community::{
    CommunityClient, CommunityClientError, CommunityEvent, CommunityFailure, Post,
};
use metaless_client::http::{HttpTransport, TokioClock, wall_clock_ms};
use metaless_client::{Bootstrap, Client, Config, Driver, Event};
use metaless_community::{CommunityError, CommunityUrl};
use metaless_community_server::Perms;
use metaless_community_server::server::{self, ServerConfig};
use metaless_envelope::{Content, Message};
use metaless_identity::{Keypair, Seed, blinding};
use metaless_node_server::config::TestnetConfig;
use metaless_node_server::testnet::{Testnet, TestnetHandle, TestnetOptions};
use rand_core::SeedableRng;
use serde_json::Value;

type Peer = Driver<HttpTransport, TokioClock>;

const WITHIN: u64 = 20_000;

/// A peer; `instance` varies the nonce stream (two clients of one account must not repeat
/// each other's request nonces: the server refuses a replay with 425).
fn peer(seed: u8, instance: u8, net: &TestnetHandle) -> (Peer, CommunityClient) {
    let nodes = net.nodes().iter().map(|n| n.service_node()).collect();
    let config = Config::testnet(Bootstrap::Nodes(nodes)).with_poll_interval_ms(None);
    let keys = || Keypair::from_seed(&Seed::from_bytes([seed; 32]));
    let driver = Driver::new(
        Client::new(keys(), config, [seed; 32], wall_clock_ms()),
        HttpTransport::default(),
        TokioClock,
    );
    (
        driver,
        CommunityClient::new(keys(), [seed ^ 0xff ^ instance.rotate_left(4); 32]),
    )
}

/// Runs the peer until operation `op` ends; returns its outcome and the updates reported
/// before it.
async fn op(
    p: &mut (Peer, CommunityClient),
    op: Result<metaless_client::OpId, CommunityClientError>,
) -> (CommunityEvent, Vec<CommunityEvent>) {
    let op = op.unwrap();
    let (driver, cc) = p;
    let outcome = cc.wait_op(driver, WITHIN, op).await.expect("no outcome");
    let mut updates = Vec::new();
    while let Some(e) = cc.poll_event() {
        updates.push(e);
    }
    (outcome, updates)
}

fn text(post: &Post) -> &str {
    post.text().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn community_room_through_onion_paths() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(31);
    let net = Testnet::start(
        TestnetConfig::generate(3, 1, 0, &mut rng),
        TestnetOptions::default(),
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = ServerConfig::new(Keypair::from_seed(&Seed::from_bytes([40; 32])));
    config
        .rooms
        .push(("news".into(), "News".into(), Perms::READ_ONLY));
    let srv = server::spawn(listener, config).unwrap();
    let lobby = CommunityUrl::parse(&srv.url("lobby")).unwrap();
    let news = srv.community_url("news").unwrap();

    let mut alice = peer(1, 0, &net);
    let mut bob = peer(2, 0, &net);
    let alice15 = alice.1.blinded_id(&lobby).unwrap();
    assert_eq!(
        alice15,
        blinding::blind15_id_from_ed25519(
            &Keypair::from_seed(&Seed::from_bytes([1; 32])).ed25519_public(),
            &srv.x25519()
        )
        .unwrap()
    );

    // Polling before joining is refused locally.
    let now = alice.0.now();
    assert!(matches!(
        alice.1.poll(alice.0.client(), now, &lobby),
        Err(CommunityClientError::NotJoined)
    ));

    // Join: capabilities and room info in one batch.
    for p in [&mut alice, &mut bob] {
        let now = p.0.now();
        let r = p.1.join(p.0.client(), now, &lobby);
        match op(p, r).await.0 {
            CommunityEvent::Joined {
                room,
                info,
                capabilities,
                ..
            } => {
                assert_eq!(room.token, "lobby");
                assert!(info.read && info.write && info.upload);
                assert!(
                    capabilities.iter().any(|c| c == "blind"),
                    "{capabilities:?}"
                );
            }
            other => panic!("join: {other:?}"),
        }
    }

    // Alice posts text, uploads a file and posts a message referencing it.
    let now = alice.0.now();
    let r = alice.1.post(
        alice.0.client(),
        now,
        &lobby,
        &Content::text("hello lobby"),
        vec![],
    );
    let CommunityEvent::Posted { message: first, .. } = op(&mut alice, r).await.0 else {
        panic!("post")
    };
    let now = alice.0.now();
    let r = alice.1.upload(
        alice.0.client(),
        now,
        &lobby,
        b"file bytes".to_vec(),
        Some("notes.txt"),
    );
    let CommunityEvent::Uploaded {
        file, url, pointer, ..
    } = op(&mut alice, r).await.0
    else {
        panic!("upload")
    };
    assert_eq!(url, format!("http://{}/room/lobby/file/{file}", srv.addr()));
    assert_eq!((pointer.id, pointer.size), (file, Some(10)));
    assert!(pointer.key.is_none(), "room files are not encrypted");
    let now = alice.0.now();
    let with_file = Content::text("see file").with_attachment(*pointer.clone());
    let r = alice
        .1
        .post(alice.0.client(), now, &lobby, &with_file, vec![file]);
    let CommunityEvent::Posted {
        message: second, ..
    } = op(&mut alice, r).await.0
    else {
        panic!("post with file")
    };
    assert!(second > first);

    // Bob polls: both posts, from Alice's blinded id, signatures checked.
    let now = bob.0.now();
    let r = bob.1.poll(bob.0.client(), now, &lobby);
    let (outcome, updates) = op(&mut bob, r).await;
    let posts: Vec<&Post> = updates
        .iter()
        .filter_map(|e| match e {
            CommunityEvent::Post { post, .. } => Some(&**post),
            _ => None,
        })
        .collect();
    assert_eq!(posts.len(), 2, "{updates:?}");
    assert_eq!((posts[0].id, text(posts[0])), (first, "hello lobby"));
    assert_eq!((posts[1].id, text(posts[1])), (second, "see file"));
    assert!(posts.iter().all(|p| p.sender == alice15));
    match &posts[1].content.message {
        Message::Visible(v) => assert_eq!(v.attachments, [*pointer.clone()]),
        other => panic!("no attachment: {other:?}"),
    }
    let CommunityEvent::Polled { seqno, .. } = outcome else {
        panic!("poll: {outcome:?}")
    };
    assert_eq!(seqno, posts[1].seqno);
    assert_eq!(bob.1.seqno(&lobby), Some(seqno));

    // Bob downloads the file.
    let now = bob.0.now();
    let r = bob.1.download(bob.0.client(), now, &lobby, file);
    match op(&mut bob, r).await.0 {
        CommunityEvent::Downloaded {
            bytes, filename, ..
        } => {
            assert_eq!(bytes, b"file bytes");
            assert_eq!(filename.as_deref(), Some("notes.txt"));
        }
        other => panic!("download: {other:?}"),
    }

    // Reactions (the emoji path travels inside a /batch): added once, the second is no change.
    for changed in [true, false] {
        let now = bob.0.now();
        let r = bob.1.react(bob.0.client(), now, &lobby, first, "👍", true);
        match op(&mut bob, r).await.0 {
            CommunityEvent::Reacted { changed: c, .. } => assert_eq!(c, changed),
            other => panic!("react: {other:?}"),
        }
    }
    // Alice edits her second post and deletes her first; Bob cannot delete Alice's post.
    let now = bob.0.now();
    let r = bob.1.delete(bob.0.client(), now, &lobby, second);
    match op(&mut bob, r).await.0 {
        CommunityEvent::Failed {
            error: CommunityFailure::Status { code: 403, .. },
            ..
        } => {}
        other => panic!("foreign delete: {other:?}"),
    }
    let now = alice.0.now();
    let r = alice.1.edit(
        alice.0.client(),
        now,
        &lobby,
        second,
        &Content::text("see file (edited)"),
    );
    assert!(matches!(
        op(&mut alice, r).await.0,
        CommunityEvent::Done { .. }
    ));
    let saved = bob.1.export_state();
    let now = alice.0.now();
    let r = alice.1.delete(alice.0.client(), now, &lobby, first);
    assert!(matches!(
        op(&mut alice, r).await.0,
        CommunityEvent::Done { .. }
    ));

    // Bob's next poll: the deletion and the edit, no new post.
    let now = bob.0.now();
    let r = bob.1.poll(bob.0.client(), now, &lobby);
    let (_, updates) = op(&mut bob, r).await;
    assert!(
        updates
            .iter()
            .any(|e| matches!(e, CommunityEvent::Deleted { message, .. } if *message == first)),
        "{updates:?}"
    );
    assert!(
        updates
            .iter()
            .any(|e| matches!(e, CommunityEvent::Edited { post, .. }
            if post.id == second && text(post) == "see file (edited)" && post.edited.is_some())),
        "{updates:?}"
    );
    assert!(
        !updates
            .iter()
            .any(|e| matches!(e, CommunityEvent::Post { .. }))
    );

    // The state saved before the edit, in a fresh client: the same updates, nothing re-posted.
    let mut bob2 = peer(2, 1, &net);
    bob2.1.import_state(&saved).unwrap();
    assert_eq!(bob2.1.rooms().len(), 1);
    let now = bob2.0.now();
    let r = bob2.1.poll(bob2.0.client(), now, &lobby);
    let (outcome, again) = op(&mut bob2, r).await;
    assert!(
        matches!(outcome, CommunityEvent::Polled { .. }),
        "{outcome:?}"
    );
    assert_eq!(again, updates);

    // A reader from seqno 0, one update per poll: told there is more.
    let mut carol = peer(3, 0, &net);
    carol.1.resume(&lobby, 0);
    let now = carol.0.now();
    let r = carol.1.poll_up_to(carol.0.client(), now, &lobby, 1);
    let (outcome, one) = op(&mut carol, r).await;
    assert!(
        matches!(outcome, CommunityEvent::Polled { more: true, .. }),
        "{outcome:?}"
    );
    assert_eq!(one.len(), 1, "{one:?}");

    // Alice reacts, Bob sees a reaction update on a post he knows.
    let now = alice.0.now();
    let r = alice
        .1
        .react(alice.0.client(), now, &lobby, second, "🎉", true);
    assert!(matches!(
        op(&mut alice, r).await.0,
        CommunityEvent::Reacted { changed: true, .. }
    ));
    let now = bob.0.now();
    let r = bob.1.poll(bob.0.client(), now, &lobby);
    let (_, updates) = op(&mut bob, r).await;
    match updates.as_slice() {
        [
            CommunityEvent::Reactions {
                message, reactions, ..
            },
        ] => {
            assert_eq!(*message, second);
            assert_eq!(reactions["🎉"].count, 1);
        }
        other => panic!("reaction update: {other:?}"),
    }

    // A blinded DM from Bob to the poster's blinded id; Alice learns Bob's real id.
    let now = bob.0.now();
    let r = bob.1.send_dm(
        bob.0.client(),
        now,
        &lobby,
        &alice15,
        &Content::text("psst"),
    );
    assert!(matches!(
        op(&mut bob, r).await.0,
        CommunityEvent::DmSent { .. }
    ));
    let now = alice.0.now();
    let r = alice.1.poll_dms(alice.0.client(), now, &lobby);
    let (outcome, dms) = op(&mut alice, r).await;
    assert!(matches!(outcome, CommunityEvent::DmsPolled { .. }));
    match dms.as_slice() {
        [CommunityEvent::Dm(dm)] => {
            assert!(!dm.outgoing);
            assert_eq!(dm.to, alice15);
            assert_eq!(
                dm.sender,
                Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id()
            );
            assert_eq!(dm.content.as_text(), Some("psst"));
        }
        other => panic!("inbox: {other:?}"),
    }
    // Polled again: nothing new (the inbox id moved on).
    let now = alice.0.now();
    let r = alice.1.poll_dms(alice.0.client(), now, &lobby);
    assert!(op(&mut alice, r).await.1.is_empty());
    // Bob's outbox holds his copy, which he opens too.
    let now = bob.0.now();
    let r = bob.1.poll_dms(bob.0.client(), now, &lobby);
    match op(&mut bob, r).await.1.as_slice() {
        [CommunityEvent::Dm(dm)] => {
            assert!(dm.outgoing);
            assert_eq!(dm.content.as_text(), Some("psst"));
        }
        other => panic!("outbox: {other:?}"),
    }

    // A tampered DM in a real inbox reply: rejected without detail, the inbox id moves on.
    let now = bob.0.now();
    let r = bob.1.send_dm(
        bob.0.client(),
        now,
        &lobby,
        &alice15,
        &Content::text("second"),
    );
    assert!(matches!(
        op(&mut bob, r).await.0,
        CommunityEvent::DmSent { .. }
    ));
    let now = alice.0.now();
    let id = alice.1.poll_dms(alice.0.client(), now, &lobby).unwrap();
    let reply = alice
        .0
        .wait_for(
            WITHIN,
            |e| matches!(e, Event::ServerResponse { id: d, .. } if *d == id),
        )
        .await
        .unwrap();
    let tampered = tamper_sub(&reply, 0, |m| {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut data = b64.decode(m["message"].as_str().unwrap()).unwrap();
        let last = data.len() - 1;
        data[last] ^= 1;
        m["message"] = Value::String(b64.encode(data));
    });
    assert!(alice.1.handle_event(&tampered));
    let mut seen = Vec::new();
    while let Some(e) = alice.1.poll_event() {
        seen.push(e);
    }
    assert!(
        matches!(
            seen.as_slice(),
            [
                CommunityEvent::DmRejected {
                    reason: CommunityError::Decrypt,
                    ..
                },
                CommunityEvent::DmsPolled { .. }
            ]
        ),
        "{seen:?}"
    );

    // A read-only room: joined (we may read), a post refused with the server's 403.
    let now = alice.0.now();
    let r = alice.1.join(alice.0.client(), now, &news);
    match op(&mut alice, r).await.0 {
        CommunityEvent::Joined { info, .. } => assert!(info.read && !info.write),
        other => panic!("join news: {other:?}"),
    }
    let now = alice.0.now();
    let r = alice
        .1
        .post(alice.0.client(), now, &news, &Content::text("no"), vec![]);
    match op(&mut alice, r).await.0 {
        CommunityEvent::Failed {
            error: CommunityFailure::Status { code: 403, .. },
            ..
        } => {}
        other => panic!("read-only post: {other:?}"),
    }

    // A tampered post in a real reply: rejected, never reported as a post; the seqno moves on.
    let now = alice.0.now();
    let r = alice.1.post(
        alice.0.client(),
        now,
        &lobby,
        &Content::text("genuine"),
        vec![],
    );
    let CommunityEvent::Posted { message: third, .. } = op(&mut alice, r).await.0 else {
        panic!("post")
    };
    let (reply, poll) = raw_poll(&mut bob, &lobby).await;
    let tampered = tamper_batch(&reply, |m| {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut data = b64.decode(m["data"].as_str().unwrap()).unwrap();
        data[2] ^= 1;
        m["data"] = Value::String(b64.encode(data));
    });
    let mut tampered_bob = peer(2, 2, &net);
    tampered_bob.1.import_state(&bob.1.export_state()).unwrap();
    // The same op id in a client that did not send it is not ours.
    assert!(!tampered_bob.1.handle_event(&tampered));
    assert!(bob.1.handle_event(&tampered));
    let mut seen = Vec::new();
    while let Some(e) = bob.1.poll_event() {
        seen.push(e);
    }
    assert!(
        matches!(seen.as_slice(), [CommunityEvent::Rejected { message, reason: CommunityError::BadSignature, .. },
            CommunityEvent::Polled { id, .. }] if *message == third && *id == poll),
        "{seen:?}"
    );

    // A truncated reply: the operation fails with a malformed reply, the state stays.
    let before = bob.1.seqno(&lobby);
    let (reply, _) = raw_poll(&mut bob, &lobby).await;
    let Event::ServerResponse { id, mut response } = reply else {
        unreachable!()
    };
    response.body.truncate(response.body.len() / 2);
    assert!(bob.1.handle_event(&Event::ServerResponse { id, response }));
    assert!(matches!(
        bob.1.poll_event(),
        Some(CommunityEvent::Failed { error: CommunityFailure::Reply(_), id: i }) if i == id
    ));
    assert_eq!(bob.1.seqno(&lobby), before);

    drop((alice, bob, bob2, carol, tampered_bob));
    srv.shutdown().await;
    net.shutdown().await;
}

/// Sends a poll and returns the client's raw answer event without handing it over.
async fn raw_poll(
    p: &mut (Peer, CommunityClient),
    url: &CommunityUrl,
) -> (Event, metaless_client::OpId) {
    let now = p.0.now();
    let id = p.1.poll(p.0.client(), now, url).unwrap();
    let event =
        p.0.wait_for(
            WITHIN,
            |e| matches!(e, Event::ServerResponse { id: d, .. } if *d == id),
        )
        .await
        .expect("no reply");
    (event, id)
}

/// The poll reply with `change` applied to every message of its `messages` sub-reply.
fn tamper_batch(event: &Event, change: impl Fn(&mut Value)) -> Event {
    tamper_sub(event, 1, change)
}

/// A batch reply with `change` applied to every element of sub-reply `index`'s list.
fn tamper_sub(event: &Event, index: usize, change: impl Fn(&mut Value)) -> Event {
    let Event::ServerResponse { id, response } = event else {
        panic!("not a server response")
    };
    let mut batch: Value = serde_json::from_slice(&response.body).unwrap();
    for m in batch[index]["body"].as_array_mut().unwrap() {
        change(m);
    }
    let mut response = response.clone();
    response.body = serde_json::to_vec(&batch).unwrap();
    Event::ServerResponse { id: *id, response }
}

// ---- Replies crafted by hand (no network): how updates are classified, what is refused. ----

mod crafted {
    use super::*;
    use metaless_client::ServerResponse;
    use metaless_community::PostMessage;
    use metaless_envelope::padding;
    use serde_json::json;

    const SERVER_PK: [u8; 32] = [9; 32];

    fn url() -> CommunityUrl {
        CommunityUrl::new("http://127.0.0.1:9", "lobby", SERVER_PK).unwrap()
    }

    /// A client with no network (requests queue, nothing is sent) and a community client.
    fn offline() -> (Client, CommunityClient) {
        let keys = || Keypair::from_seed(&Seed::from_bytes([5; 32]));
        let config = Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None);
        (
            Client::new(keys(), config, [5; 32], 1_000),
            CommunityClient::new(keys(), [6; 32]),
        )
    }

    fn answer(id: metaless_client::OpId, status: u16, body: &Value) -> Event {
        Event::ServerResponse {
            id,
            response: ServerResponse {
                status,
                headers: Default::default(),
                body: serde_json::to_vec(body).unwrap(),
            },
        }
    }

    fn sub(code: u16, body: Value) -> Value {
        json!({"code": code, "headers": {"content-type": "application/json"}, "body": body})
    }

    /// A message object as a server sends it, signed by `poster` (seed byte).
    fn message(poster: u8, id: u64, seqno: u64, text: &str, edited: Option<f64>) -> Value {
        let keys = Keypair::from_seed(&Seed::from_bytes([poster; 32]));
        let data = padding::pad(&Content::text(text).encode(1)).unwrap();
        let post = PostMessage::signed(&keys, &SERVER_PK, data, vec![]);
        let b64 = base64::engine::general_purpose::STANDARD;
        let sender = blinding::blind15_id_from_ed25519(&keys.ed25519_public(), &SERVER_PK).unwrap();
        json!({"id": id, "session_id": sender.to_string(), "posted": 1.0, "edited": edited,
            "seqno": seqno, "data": b64.encode(&post.data), "signature": b64.encode(post.signature)})
    }

    fn poll_info() -> Value {
        json!({"token": "lobby", "read": true, "write": true})
    }

    fn drain(cc: &mut CommunityClient) -> Vec<CommunityEvent> {
        std::iter::from_fn(|| cc.poll_event()).collect()
    }

    fn polled(
        client: &mut Client,
        cc: &mut CommunityClient,
        messages: Value,
    ) -> Vec<CommunityEvent> {
        let id = cc.poll(client, 1_000, &url()).unwrap();
        let reply = json!([sub(200, poll_info()), sub(200, messages)]);
        assert!(cc.handle_event(&answer(id, 200, &reply)));
        drain(cc)
    }

    #[test]
    fn updates_are_classified_against_the_ids_seen() {
        let (mut client, mut cc) = offline();
        cc.resume(&url(), 0);
        let first = polled(
            &mut client,
            &mut cc,
            json!([message(1, 1, 1, "a", None), message(2, 2, 2, "b", None)]),
        );
        assert!(
            matches!(&first[..], [CommunityEvent::Post { post: a, .. }, CommunityEvent::Post { post: b, .. },
            CommunityEvent::Polled { seqno: 2, more: false, .. }] if a.id == 1 && b.id == 2 && text(b) == "b")
        );
        // 1 unchanged (a reaction), 2 edited, 3 new, 4 deleted.
        let mut reacted = message(1, 1, 3, "a", None);
        reacted["reactions"] = json!({"👍": {"index": 0, "count": 2, "reactors": []}});
        let next = polled(
            &mut client,
            &mut cc,
            json!([
                reacted,
                message(2, 2, 4, "b2", Some(5.0)),
                message(1, 3, 5, "c", None),
                {"id": 4, "session_id": format!("15{}", "22".repeat(32)), "posted": 1.0, "seqno": 6, "data": null, "deleted": true},
            ]),
        );
        match &next[..] {
            [
                CommunityEvent::Reactions {
                    message: 1,
                    reactions,
                    seqno: 3,
                    ..
                },
                CommunityEvent::Edited { post: edited, .. },
                CommunityEvent::Post { post: new, .. },
                CommunityEvent::Deleted {
                    message: 4,
                    seqno: 6,
                    ..
                },
                CommunityEvent::Polled { seqno: 6, .. },
            ] => {
                assert_eq!(reactions["👍"].count, 2);
                assert_eq!((edited.id, text(edited)), (2, "b2"));
                assert_eq!(new.id, 3);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(cc.seqno(&url()), Some(6));
    }

    #[test]
    fn forged_and_malformed_posts_are_rejected() {
        let (mut client, mut cc) = offline();
        cc.resume(&url(), 0);
        // Claimed by poster 3, signed by poster 1.
        let mut forged = message(1, 1, 1, "mine", None);
        forged["session_id"] = message(3, 1, 1, "x", None)["session_id"].clone();
        // Signed correctly over bytes that are not a padded Content.
        let keys = Keypair::from_seed(&Seed::from_bytes([1; 32]));
        let junk = PostMessage::signed(&keys, &SERVER_PK, vec![0xff, 0x80], vec![]);
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut not_content = message(1, 2, 2, "x", None);
        not_content["data"] = json!(b64.encode(&junk.data));
        not_content["signature"] = json!(b64.encode(junk.signature));
        // No signature at all.
        let mut unsigned = message(1, 3, 3, "x", None);
        unsigned.as_object_mut().unwrap().remove("signature");
        let got = polled(&mut client, &mut cc, json!([forged, not_content, unsigned]));
        match &got[..] {
            [
                CommunityEvent::Rejected {
                    message: 1,
                    reason: CommunityError::BadSignature,
                    ..
                },
                CommunityEvent::Rejected {
                    message: 2,
                    reason: CommunityError::MalformedReply { .. },
                    ..
                },
                CommunityEvent::Rejected {
                    message: 3,
                    reason: CommunityError::BadSignature,
                    ..
                },
                CommunityEvent::Polled { seqno: 3, .. },
            ] => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refusals_and_broken_replies_fail_the_operation() {
        let (mut client, mut cc) = offline();
        let u = url();
        // A room we may not read: the sub-reply's 403 is the join's failure.
        let id = cc.join(&mut client, 1_000, &u).unwrap();
        let reply = json!([
            sub(200, json!({"capabilities": ["blind", "sogs"]})),
            sub(403, json!("no"))
        ]);
        assert!(cc.handle_event(&answer(id, 200, &reply)));
        assert!(matches!(
            drain(&mut cc)[..],
            [CommunityEvent::Failed {
                error: CommunityFailure::Status { code: 403, .. },
                ..
            }]
        ));
        assert!(cc.rooms().is_empty());
        // A batch of the wrong length, an outer 502, a post answered 200 instead of 201.
        cc.resume(&u, 0);
        let id = cc.poll(&mut client, 1_000, &u).unwrap();
        assert!(cc.handle_event(&answer(id, 200, &json!([sub(200, poll_info())]))));
        assert!(matches!(
            drain(&mut cc)[..],
            [CommunityEvent::Failed {
                error: CommunityFailure::Reply(CommunityError::MalformedReply { .. }),
                ..
            }]
        ));
        let id = cc.poll(&mut client, 1_000, &u).unwrap();
        assert!(cc.handle_event(&answer(id, 502, &json!("bad gateway"))));
        assert!(matches!(
            drain(&mut cc)[..],
            [CommunityEvent::Failed {
                error: CommunityFailure::Status { code: 502, .. },
                ..
            }]
        ));
        let id = cc
            .post(&mut client, 1_000, &u, &Content::text("x"), vec![])
            .unwrap();
        assert!(cc.handle_event(&answer(id, 200, &message(5, 1, 1, "x", None))));
        assert!(matches!(
            drain(&mut cc)[..],
            [CommunityEvent::Failed {
                error: CommunityFailure::Status { code: 200, .. },
                ..
            }]
        ));
        // The path failing is the network's failure; an answer to an op not ours is left alone.
        let id = cc.delete(&mut client, 1_000, &u, 1).unwrap();
        assert!(cc.handle_event(&Event::Failed {
            id,
            kind: metaless_client::FailureKind::Unreachable
        }));
        assert!(matches!(
            drain(&mut cc)[..],
            [CommunityEvent::Failed {
                error: CommunityFailure::Network(_),
                ..
            }]
        ));
        assert!(
            !cc.handle_event(&answer(id, 200, &json!({}))),
            "answered twice"
        );
        assert_eq!(cc.pending(), 0);
        // Refused before sending: bad emoji, bad limit, a DM to a 05 id.
        assert!(cc.react(&mut client, 1_000, &u, 1, "a/b", true).is_err());
        assert!(cc.poll_up_to(&mut client, 1_000, &u, 0).is_err());
        let unblinded = Keypair::from_seed(&Seed::from_bytes([7; 32])).session_id();
        assert!(matches!(
            cc.send_dm(&mut client, 1_000, &u, &unblinded, &Content::text("x")),
            Err(CommunityClientError::Community(_))
        ));
    }

    #[test]
    fn state_round_trips_and_garbage_is_refused_whole() {
        let (mut client, mut cc) = offline();
        cc.resume(&url(), 0);
        polled(
            &mut client,
            &mut cc,
            json!([message(1, 7, 9, "a", Some(2.5))]),
        );
        let saved = cc.export_state();
        let (_, mut back) = offline();
        back.import_state(&saved).unwrap();
        assert_eq!(back.seqno(&url()), Some(9));
        assert_eq!(back.export_state(), saved);
        // The id is known with its edit time: the same version again is a reaction update.
        let again = polled(
            &mut client,
            &mut back,
            json!([message(1, 7, 10, "a", Some(2.5))]),
        );
        assert!(
            matches!(again[0], CommunityEvent::Reactions { message: 7, .. }),
            "{again:?}"
        );
        for bad in [
            &b"not json"[..],
            br#"{"rooms":7}"#,
            br#"{"servers":[{"url":"http://h:1","pubkey":"zz"}]}"#,
            br#"{"rooms":[{"server":"http://nowhere:1","room":"lobby","seqno":1}]}"#,
            br#"{"servers":[{"url":"http://h:1","pubkey":"0909090909090909090909090909090909090909090909090909090909090909"}],"rooms":[{"server":"http://h:1","room":"../x"}]}"#,
            br#"{"servers":[{"url":"http://h:1","pubkey":"0909090909090909090909090909090909090909090909090909090909090909"}],"rooms":[{"server":"http://h:1","room":"r","seqno":-1}]}"#,
        ] {
            let (_, mut fresh) = offline();
            assert!(matches!(fresh.import_state(bad), Err(CommunityClientError::State(_))), "{}", String::from_utf8_lossy(bad));
            assert!(fresh.rooms().is_empty(), "nothing half-imported");
        }
        // Oversize: more seen ids for a room than the client ever keeps.
        let known: Vec<serde_json::Value> = (0..=metaless_client::community::MAX_KNOWN_PER_ROOM
            as u64)
            .map(|i| json!([i, null]))
            .collect();
        let huge = json!({
            "servers": [{"url": "http://h:1", "pubkey": "09".repeat(32)}],
            "rooms": [{"server": "http://h:1", "room": "r", "known": known}],
        })
        .to_string();
        let (_, mut fresh) = offline();
        assert!(matches!(
            fresh.import_state(huge.as_bytes()),
            Err(CommunityClientError::State(_))
        ));
        assert!(fresh.rooms().is_empty(), "nothing half-imported");
    }
}
