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
