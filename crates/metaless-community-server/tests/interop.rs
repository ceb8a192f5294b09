//! The client side (metaless-community requests, signer, parsers, DMs) against the local server
//! core, through v4 framing: everything a client does, and each refusal with pysogs' status.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_community::{AuthMode, CommunityError, PostMessage, Reply, Request, auth, dm};
use metaless_community_server::{CommunityCore, Config, HttpReply, HttpRequest, Perms, open_onion};
use metaless_identity::{Keypair, Seed, SessionId, blinding};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const SERVER: [u8; 32] = [0x5e; 32];
const NOW: u64 = 1_700_000_000_000;

struct Party {
    keys: Keypair,
    id: SessionId,
}

fn party(n: u8) -> Party {
    let keys = Keypair::from_seed(&Seed::from_bytes([n; 32]));
    let id = blinding::blind15_id_from_ed25519(&keys.ed25519_public(), &SERVER).unwrap();
    Party { keys, id }
}

fn core() -> CommunityCore {
    let mut c = CommunityCore::new(
        SERVER,
        Config {
            max_upload: 1000,
            ..Config::default()
        },
    );
    c.add_room("lobby", "Lobby", Perms::ALL, 0).unwrap();
    c.add_room("news", "News", Perms::READ_ONLY, 0).unwrap();
    c
}

fn send(core: &mut CommunityCore, who: &Party, req: &Request, rng: &mut ChaCha20Rng) -> Reply {
    let payload = req.to_v4_signed(&who.keys, &SERVER, AuthMode::Blinded15, NOW, rng);
    Reply::from_v4(&open_onion(core, NOW, &payload)).unwrap()
}

#[test]
fn post_read_edit_react_delete() {
    let (mut c, mut rng) = (core(), ChaCha20Rng::from_seed([1; 32]));
    let (alice, bob) = (party(1), party(2));
    let caps = send(&mut c, &alice, &Request::capabilities(&["sogs"]), &mut rng)
        .capabilities()
        .unwrap();
    assert_eq!(
        AuthMode::for_capabilities(&caps.capabilities),
        AuthMode::Blinded15
    );

    let post = PostMessage::signed(&alice.keys, &SERVER, b"hello room".to_vec(), vec![]);
    let posted = send(
        &mut c,
        &alice,
        &Request::post_message("lobby", &post).unwrap(),
        &mut rng,
    )
    .posted()
    .unwrap();
    assert_eq!(posted.session_id, alice.id);

    let recent = send(
        &mut c,
        &bob,
        &Request::messages_recent("lobby", Some(10)).unwrap(),
        &mut rng,
    )
    .messages()
    .unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].verified_data().unwrap().unwrap(), b"hello room");
    let cursor = recent[0].seqno;

    // Bob reacts; Alice edits; a poll since the cursor sees both as updates of message 1.
    let added = send(
        &mut c,
        &bob,
        &Request::add_reaction("lobby", posted.id, "👍").unwrap(),
        &mut rng,
    )
    .reaction_added()
    .unwrap();
    assert!(added.added);
    let again = send(
        &mut c,
        &bob,
        &Request::add_reaction("lobby", posted.id, "👍").unwrap(),
        &mut rng,
    )
    .reaction_added()
    .unwrap();
    assert!(!again.added);
    let edit = PostMessage::signed(&alice.keys, &SERVER, b"hello, room".to_vec(), vec![]);
    send(
        &mut c,
        &alice,
        &Request::edit_message("lobby", posted.id, &edit).unwrap(),
        &mut rng,
    )
    .empty_ok()
    .unwrap();
    // Bob may not edit Alice's post.
    let forged = send(
        &mut c,
        &bob,
        &Request::edit_message("lobby", posted.id, &edit).unwrap(),
        &mut rng,
    );
    assert_eq!(forged.code, 403);
    let since = send(
        &mut c,
        &bob,
        &Request::messages_since("lobby", cursor, None, true).unwrap(),
        &mut rng,
    )
    .messages()
    .unwrap();
    assert_eq!(since.len(), 1);
    assert_eq!(since[0].verified_data().unwrap().unwrap(), b"hello, room");
    assert!(since[0].edited.is_some());
    assert_eq!(since[0].reactions["👍"].count, 1);
    assert_eq!(since[0].reactions["👍"].reactors, [bob.id]);
    let removed = send(
        &mut c,
        &bob,
        &Request::remove_reaction("lobby", posted.id, "👍").unwrap(),
        &mut rng,
    )
    .reaction_removed()
    .unwrap();
    assert!(removed.removed);

    // Bob cannot delete it; Alice can; the deletion arrives as an update.
    assert_eq!(
        send(
            &mut c,
            &bob,
            &Request::delete_message("lobby", posted.id).unwrap(),
            &mut rng
        )
        .code,
        403
    );
    send(
        &mut c,
        &alice,
        &Request::delete_message("lobby", posted.id).unwrap(),
        &mut rng,
    )
    .empty_ok()
    .unwrap();
    let since = send(
        &mut c,
        &bob,
        &Request::messages_since("lobby", removed.seqno, None, false).unwrap(),
        &mut rng,
    )
    .messages()
    .unwrap();
    assert!(since[0].deleted && since[0].data.is_none());
    assert_eq!(since[0].verified_data().unwrap(), None);
    let room = send(&mut c, &bob, &Request::room("lobby").unwrap(), &mut rng)
        .room()
        .unwrap();
    assert_eq!(room.message_sequence, since[0].seqno);
    let info = send(
        &mut c,
        &bob,
        &Request::poll_info("lobby", room.info_updates).unwrap(),
        &mut rng,
    )
    .poll_info()
    .unwrap();
    assert!(info.details.is_none() && info.write);
}

#[test]
fn files_and_batches() {
    let (mut c, mut rng) = (core(), ChaCha20Rng::from_seed([2; 32]));
    let alice = party(1);
    let id = send(
        &mut c,
        &alice,
        &Request::upload_file("lobby", b"file body".to_vec(), Some("my 🎂.txt")).unwrap(),
        &mut rng,
    )
    .uploaded()
    .unwrap();
    let (bytes, name) = send(
        &mut c,
        &alice,
        &Request::download_file("lobby", id).unwrap(),
        &mut rng,
    )
    .file()
    .unwrap();
    assert_eq!(
        (bytes.as_slice(), name.as_deref()),
        (&b"file body"[..], Some("my 🎂.txt"))
    );
    assert_eq!(
        send(
            &mut c,
            &alice,
            &Request::download_file("lobby", id + 1).unwrap(),
            &mut rng
        )
        .code,
        404
    );

    let post = PostMessage::signed(&alice.keys, &SERVER, b"with file".to_vec(), vec![id]);
    let batch = Request::batch(&[
        Request::capabilities(&[]),
        Request::post_message("lobby", &post).unwrap(),
        Request::messages_recent("lobby", None).unwrap(),
        Request::download_file("lobby", id).unwrap(),
        Request::inbox(None),
    ])
    .unwrap();
    let subs = send(&mut c, &alice, &batch, &mut rng).batch().unwrap();
    assert_eq!(subs.len(), 5);
    assert!(
        subs[0]
            .capabilities()
            .unwrap()
            .capabilities
            .contains(&"blind".to_string())
    );
    assert_eq!(subs[1].posted().unwrap().session_id, alice.id);
    assert_eq!(
        subs[2].messages().unwrap()[0]
            .verified_data()
            .unwrap()
            .unwrap(),
        b"with file"
    );
    assert_eq!(subs[3].body, b"file body");
    assert!(subs[4].dms().unwrap().is_empty());

    // A sequence stops at the first failure.
    let seq =
        Request::sequence(&[Request::room("nope").unwrap(), Request::capabilities(&[])]).unwrap();
    let subs = send(&mut c, &alice, &seq, &mut rng).batch().unwrap();
    assert_eq!(subs.len(), 1);
    assert!(matches!(
        subs[0].room(),
        Err(CommunityError::Status { code: 404, .. })
    ));
}

#[test]
fn blinded_dms_through_the_inbox() {
    let (mut c, mut rng) = (core(), ChaCha20Rng::from_seed([3; 32]));
    let (alice, bob) = (party(1), party(2));
    let wire = dm::encrypt(&alice.keys, &SERVER, &bob.id, b"psst", &mut rng).unwrap();
    let sent = send(
        &mut c,
        &alice,
        &Request::send_dm(&bob.id, &wire).unwrap(),
        &mut rng,
    )
    .dm_sent()
    .unwrap();
    assert_eq!((sent.sender, sent.recipient), (alice.id, bob.id));
    let inbox = send(&mut c, &bob, &Request::inbox(None), &mut rng)
        .dms()
        .unwrap();
    assert_eq!(inbox.len(), 1);
    let opened = dm::decrypt(
        &bob.keys,
        &SERVER,
        &inbox[0].sender,
        &inbox[0].recipient,
        &inbox[0].data().unwrap(),
    )
    .unwrap();
    assert_eq!(
        (&opened.message[..], opened.sender),
        (&b"psst"[..], alice.keys.session_id())
    );
    // Nothing new since: 304, an empty list.
    let since = send(&mut c, &bob, &Request::inbox(Some(inbox[0].id)), &mut rng);
    assert_eq!(since.code, 304);
    assert!(since.dms().unwrap().is_empty());
    // Alice reads her outbox copy.
    let outbox = send(&mut c, &alice, &Request::outbox(None), &mut rng)
        .dms()
        .unwrap();
    let own = dm::decrypt(
        &alice.keys,
        &SERVER,
        &outbox[0].sender,
        &outbox[0].recipient,
        &outbox[0].data().unwrap(),
    )
    .unwrap();
    assert_eq!(&own.message[..], b"psst");
    assert_eq!(
        send(&mut c, &bob, &Request::clear_inbox(), &mut rng)
            .inbox_cleared()
            .unwrap(),
        1
    );
}

fn raw(
    core: &mut CommunityCore,
    req: &Request,
    headers: Vec<(String, String)>,
    now_ms: u64,
) -> HttpReply {
    core.handle(
        now_ms,
        &HttpRequest {
            method: req.method(),
            path: req.path(),
            headers,
            body: req.body().bytes(),
        },
    )
}

fn signed_headers(
    who: &Party,
    req: &Request,
    ts: u64,
    nonce: [u8; 16],
    mode: AuthMode,
) -> Vec<(String, String)> {
    auth::sign(
        &who.keys,
        &SERVER,
        mode,
        req.method(),
        req.path(),
        req.body().bytes(),
        ts,
        nonce,
    )
    .pairs()
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[test]
fn refusals_match_pysogs() {
    let mut c = core();
    let alice = party(1);
    let post = PostMessage::signed(&alice.keys, &SERVER, b"x".to_vec(), vec![]);
    let req = Request::post_message("lobby", &post).unwrap();
    let ts = NOW / 1000;

    // Tampered signature: 401.
    let mut h = signed_headers(&alice, &req, ts, [1; 16], AuthMode::Blinded15);
    let sig = &mut h[3].1;
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    sig.replace_range(0..1, flipped);
    let r = raw(&mut c, &req, h, NOW);
    assert_eq!(
        (r.status, r.body.as_slice()),
        (
            401,
            &b"Invalid authentication: X-SOGS-Signature verification failed"[..]
        )
    );
    // Tampered body under a good signature: 401 too.
    let h = signed_headers(&alice, &req, ts, [2; 16], AuthMode::Blinded15);
    let other = Request::post_message(
        "lobby",
        &PostMessage::signed(&alice.keys, &SERVER, b"y".to_vec(), vec![]),
    )
    .unwrap();
    assert_eq!(raw(&mut c, &other, h, NOW).status, 401);

    // Replayed nonce: 425 the second time.
    let h = signed_headers(&alice, &req, ts, [3; 16], AuthMode::Blinded15);
    assert_eq!(raw(&mut c, &req, h.clone(), NOW).status, 201);
    let r = raw(&mut c, &req, h, NOW);
    assert_eq!(
        (r.status, r.body.as_slice()),
        (
            425,
            &b"Invalid authentication: X-SOGS-Nonce cannot be reused"[..]
        )
    );

    // Stale (and future) timestamps: 425.
    for t in [ts - 86_401, ts + 86_401] {
        let h = signed_headers(&alice, &req, t, [4; 16], AuthMode::Blinded15);
        let r = raw(&mut c, &req, h, NOW);
        assert_eq!(
            (r.status, r.body.as_slice()),
            (
                425,
                &b"Invalid authentication: X-SOGS-Timestamp is too far from current time"[..]
            )
        );
    }
    // Just inside the window is fine.
    let h = signed_headers(&alice, &req, ts - 86_400, [5; 16], AuthMode::Blinded15);
    assert_eq!(raw(&mut c, &req, h, NOW).status, 201);

    // Wrong room permission: posting to a read-only room, reading a room closed to us.
    let ro = Request::post_message("news", &post).unwrap();
    let h = signed_headers(&alice, &ro, ts, [6; 16], AuthMode::Blinded15);
    assert_eq!(raw(&mut c, &ro, h, NOW).status, 403);
    c.set_permissions(
        "lobby",
        alice.id,
        Perms {
            read: false,
            write: false,
            upload: false,
        },
    )
    .unwrap();
    let read = Request::messages_recent("lobby", None).unwrap();
    let h = signed_headers(&alice, &read, ts, [7; 16], AuthMode::Blinded15);
    let r = raw(&mut c, &read, h, NOW);
    assert_eq!(
        (r.status, r.body.as_slice()),
        (
            403,
            &b"This endpoint requires room message 'read' permission"[..]
        )
    );
    c.set_permissions(
        "lobby",
        alice.id,
        Perms {
            read: true,
            write: true,
            upload: false,
        },
    )
    .unwrap();
    let up = Request::upload_file("lobby", vec![1; 10], None).unwrap();
    let h = signed_headers(&alice, &up, ts, [8; 16], AuthMode::Blinded15);
    assert_eq!(raw(&mut c, &up, h, NOW).status, 403);

    // Oversize upload: 413.
    c.set_permissions("lobby", alice.id, Perms::ALL).unwrap();
    let big = Request::upload_file("lobby", vec![1; 1001], None).unwrap();
    let h = signed_headers(&alice, &big, ts, [9; 16], AuthMode::Blinded15);
    assert_eq!(raw(&mut c, &big, h, NOW).status, 413);

    // Unblinded on a blind-only server: 400 with the text desktop switches on.
    let h = signed_headers(&alice, &req, ts, [10; 16], AuthMode::Unblinded);
    let r = raw(&mut c, &req, h, NOW);
    assert_eq!(
        (r.status, r.body.as_slice()),
        (
            400,
            &b"Invalid authentication: this server requires the use of blinded ids"[..]
        )
    );
    // Half the headers: 400; none on a write: 401.
    let mut h = signed_headers(&alice, &req, ts, [11; 16], AuthMode::Blinded15);
    h.truncate(2);
    assert_eq!(
        raw(&mut c, &req, h, NOW).body,
        b"Invalid authentication headers: missing 2/4 required X-SOGS-* headers"
    );
    assert_eq!(raw(&mut c, &req, vec![], NOW).status, 401);
    // Banned: 403 before the signature is looked at.
    c.ban(alice.id).unwrap();
    let h = signed_headers(&alice, &req, ts, [12; 16], AuthMode::Blinded15);
    assert_eq!(raw(&mut c, &req, h, NOW).body, b"Banned");
}

#[test]
fn unblinded_server_accepts_00_keys() {
    let mut c = CommunityCore::new(
        SERVER,
        Config {
            require_blind: false,
            ..Config::default()
        },
    );
    c.add_room("lobby", "Lobby", Perms::ALL, 0).unwrap();
    let alice = party(1);
    let caps = Request::capabilities(&[]);
    let h = signed_headers(&alice, &caps, NOW / 1000, [1; 16], AuthMode::Unblinded);
    let r = raw(&mut c, &caps, h, NOW);
    assert_eq!(r.status, 200);
    let caps: metaless_community::Capabilities = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        AuthMode::for_capabilities(&caps.capabilities),
        AuthMode::Unblinded
    );
    // The inbox needs a blinded key.
    let inbox = Request::inbox(None);
    let h = signed_headers(&alice, &inbox, NOW / 1000, [2; 16], AuthMode::Unblinded);
    assert_eq!(
        raw(&mut c, &inbox, h, NOW).body,
        b"This endpoint requires blinded pubkeys be used"
    );
}
