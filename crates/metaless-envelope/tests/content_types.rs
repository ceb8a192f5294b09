//! The content types beyond text, parsed from bytes built by hand from the upstream `.proto`
//! field numbers (libsession-util `proto/SessionProtos.proto`, session-desktop
//! `protos/SignalService.proto`) — never from our encoder — and re-encoded byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_envelope::{
    AttachmentPointer, CallError, CallMessage, CallSignal, CommunityInvitation, Content,
    DataExtractionKind, DisappearMode, Disappearing, GroupUpdate, IceCandidate, InfoChangeKind,
    LinkPreview, MemberChangeKind, Message, Profile, Quote, QuotedAttachment, Reaction,
    ReactionAction, ReceiptKind, SecretBytes, TypingAction, VisibleMessage, storage_ttl_ms,
};
use metaless_identity::{Keypair, Seed, SessionId};
use proptest::prelude::*;

// --- a tiny protobuf writer, independent of prost ---------------------------------------

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(field: u64, wire: u64, out: &mut Vec<u8>) {
    varint(field << 3 | wire, out);
}

/// Field `n`, varint.
fn v(n: u64, value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    key(n, 0, &mut out);
    varint(value, &mut out);
    out
}

/// Field `n`, length-delimited.
fn ld(n: u64, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    key(n, 2, &mut out);
    varint(bytes.len() as u64, &mut out);
    out.extend_from_slice(bytes);
    out
}

/// Field `n`, fixed64.
fn f64le(n: u64, value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    key(n, 1, &mut out);
    out.extend_from_slice(&value.to_le_bytes());
    out
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

const SENT: u64 = 1_700_000_000_123;

/// `Content { <payload> , sigTimestamp(15) = SENT }`.
fn content(payload: Vec<u8>) -> Vec<u8> {
    cat(&[payload, v(15, SENT)])
}

fn data(parts: &[Vec<u8>]) -> Vec<u8> {
    ld(1, &cat(parts))
}

fn id(byte: u8) -> SessionId {
    Keypair::from_seed(&Seed::from_bytes([byte; 32])).session_id()
}

/// Parses `bytes`, checks the view, and checks our encoder gives back exactly `bytes`.
fn check(bytes: &[u8], expected: &Content) {
    let parsed = Content::decode(bytes).unwrap();
    assert_eq!(&parsed, expected);
    assert_eq!(
        parsed.encode(SENT),
        bytes,
        "re-encoding differs from the upstream-shaped bytes"
    );
}

fn attachment_bytes() -> Vec<u8> {
    cat(&[
        f64le(1, 4242),
        ld(2, b"image/jpeg"),
        ld(3, &[0x11; 32]),
        v(4, 12345),
        ld(6, &[0x22; 32]),
        ld(7, b"cat.jpg"),
        v(8, 1),
        v(9, 640),
        v(10, 480),
        ld(11, b"a cat"),
        ld(101, b"http://filev2.getsession.org/file/4242#p=abcd"),
    ])
}

fn attachment() -> AttachmentPointer {
    AttachmentPointer {
        id: 4242,
        content_type: Some("image/jpeg".into()),
        key: Some(SecretBytes::new(vec![0x11; 32])),
        size: Some(12345),
        thumbnail: None,
        digest: Some(vec![0x22; 32]),
        file_name: Some("cat.jpg".into()),
        flags: Some(1),
        width: Some(640),
        height: Some(480),
        caption: Some("a cat".into()),
        url: Some("http://filev2.getsession.org/file/4242#p=abcd".into()),
    }
}

#[test]
fn attachment_with_every_field() {
    let bytes = content(data(&[ld(1, b"look"), ld(2, &attachment_bytes())]));
    let expected = Content::text("look").with_attachment(attachment());
    check(&bytes, &expected);
    let Message::Visible(visible) = &expected.message else {
        panic!()
    };
    assert!(visible.attachments[0].is_voice_message());
    // libsession's thumbnail field (5) too.
    let bytes = content(data(&[ld(2, &cat(&[f64le(1, 1), ld(5, b"thumb")]))]));
    let parsed = Content::decode(&bytes).unwrap();
    let Message::Visible(visible) = &parsed.message else {
        panic!()
    };
    assert_eq!(
        visible.attachments[0].thumbnail.as_deref(),
        Some(&b"thumb"[..])
    );
    assert_eq!(visible.body, None);
    assert_eq!(parsed.encode(SENT), bytes);
}

#[test]
fn attachment_key_is_not_printed() {
    let shown = format!("{:?}", attachment());
    assert!(!shown.contains("17, 17"), "{shown}");
    assert!(shown.contains("SecretBytes(32 bytes)"));
}

#[test]
fn profile_on_a_text_message() {
    let bob = id(2);
    let bytes = content(data(&[
        ld(1, b"hi"),
        ld(6, &[0x33; 32]),
        ld(
            101,
            &cat(&[
                ld(1, b"Alice"),
                ld(2, b"http://filev2.getsession.org/file/9"),
                v(3, 1_700_000_000),
            ]),
        ),
    ]));
    let profile = Profile {
        display_name: Some("Alice".into()),
        picture_url: Some("http://filev2.getsession.org/file/9".into()),
        key: Some(SecretBytes::new(vec![0x33; 32])),
        updated_s: Some(1_700_000_000),
    };
    check(&bytes, &Content::text("hi").with_profile(profile));
    let _ = bob;
}

#[test]
fn profile_name_only_and_key_only() {
    let bytes = content(data(&[ld(1, b"x"), ld(101, &ld(1, b"Al"))]));
    let only_name = Profile {
        display_name: Some("Al".into()),
        ..Profile::default()
    };
    check(&bytes, &Content::text("x").with_profile(only_name));
    let bytes = content(data(&[ld(1, b"x"), ld(6, &[1; 32])]));
    let only_key = Profile {
        key: Some(SecretBytes::new(vec![1; 32])),
        ..Profile::default()
    };
    check(&bytes, &Content::text("x").with_profile(only_key));
}

#[test]
fn quote_reply_desktop_and_libsession_shapes() {
    let bob = id(2);
    // Desktop: id + author only.
    let bytes = content(data(&[
        ld(1, b"yes"),
        ld(
            8,
            &cat(&[v(1, 1_699_999_999_000), ld(2, bob.to_string().as_bytes())]),
        ),
    ]));
    check(
        &bytes,
        &Content::text("yes").with_quote(Quote::new(1_699_999_999_000, bob)),
    );
    // libsession: with the quoted text and a quoted attachment.
    let bytes = content(data(&[
        ld(1, b"yes"),
        ld(
            8,
            &cat(&[
                v(1, 5),
                ld(2, bob.to_string().as_bytes()),
                ld(3, b"question?"),
                ld(4, &cat(&[ld(1, b"audio/aac"), ld(2, b"v.aac"), v(4, 1)])),
            ]),
        ),
    ]));
    let quote = Quote {
        timestamp_ms: 5,
        author: bob,
        text: Some("question?".into()),
        attachments: vec![QuotedAttachment {
            content_type: Some("audio/aac".into()),
            file_name: Some("v.aac".into()),
            thumbnail: None,
            flags: Some(1),
        }],
    };
    check(&bytes, &Content::text("yes").with_quote(quote));
}

#[test]
fn link_preview() {
    let bytes = content(data(&[
        ld(1, b"see https://getsession.org"),
        ld(
            10,
            &cat(&[ld(1, b"https://getsession.org"), ld(2, b"Session")]),
        ),
    ]));
    let expected = Content::new(Message::Visible(Box::new(VisibleMessage {
        body: Some("see https://getsession.org".into()),
        previews: vec![LinkPreview {
            url: "https://getsession.org".into(),
            title: Some("Session".into()),
            image: None,
        }],
        ..VisibleMessage::default()
    })));
    check(&bytes, &expected);
}

#[test]
fn reaction_add_and_remove() {
    let bob = id(2);
    for (action, number) in [(ReactionAction::React, 0), (ReactionAction::Remove, 1)] {
        let bytes = content(data(&[ld(
            11,
            &cat(&[
                v(1, 77),
                ld(2, bob.to_string().as_bytes()),
                ld(3, "❤️".as_bytes()),
                v(4, number),
            ]),
        )]));
        let expected = Content::new(Message::Reaction(Reaction {
            timestamp_ms: 77,
            author: bob,
            emoji: "❤️".into(),
            action,
        }));
        check(&bytes, &expected);
    }
}

#[test]
fn community_invitation() {
    let bytes = content(data(&[ld(
        102,
        &cat(&[
            ld(1, b"https://open.getsession.org/s?public_key=ab"),
            ld(3, b"S"),
        ]),
    )]));
    check(
        &bytes,
        &Content::new(Message::CommunityInvitation(CommunityInvitation {
            url: "https://open.getsession.org/s?public_key=ab".into(),
            name: "S".into(),
        })),
    );
}

#[test]
fn expiration_timer_update() {
    // dataMessage{flags=EXPIRATION_TIMER_UPDATE}, expirationType=DELETE_AFTER_SEND, timer=3600.
    let bytes = cat(&[data(&[v(4, 2)]), v(12, 2), v(13, 3600), v(15, SENT)]);
    let expected = Content::new(Message::DisappearingSettingsUpdate)
        .disappearing(Disappearing::new(DisappearMode::AfterSend, 3600));
    check(&bytes, &expected);
    // Turning it off says UNKNOWN / 0 explicitly.
    let off = cat(&[data(&[v(4, 2)]), v(12, 0), v(13, 0), v(15, SENT)]);
    check(&off, &Content::new(Message::DisappearingSettingsUpdate));
}

#[test]
fn read_and_delivery_receipts() {
    let bytes = content(ld(5, &cat(&[v(1, 1), v(2, 10), v(2, 20)])));
    check(
        &bytes,
        &Content::new(Message::Receipt {
            kind: ReceiptKind::Read,
            timestamps_ms: vec![10, 20],
        }),
    );
    // Packed repeated field (what a proto3-style encoder may send) parses too.
    let packed = content(ld(5, &cat(&[v(1, 0), ld(2, &[10, 20])])));
    assert_eq!(
        Content::decode(&packed).unwrap().message,
        Message::Receipt {
            kind: ReceiptKind::Delivery,
            timestamps_ms: vec![10, 20]
        }
    );
}

#[test]
fn typing_started_and_stopped_with_short_ttl() {
    for (action, number) in [(TypingAction::Started, 0), (TypingAction::Stopped, 1)] {
        let bytes = content(ld(6, &cat(&[v(1, 99), v(2, number)])));
        let expected = Content::new(Message::Typing {
            action,
            timestamp_ms: 99,
        });
        check(&bytes, &expected);
        assert_eq!(storage_ttl_ms(&expected), 20_000);
    }
}

#[test]
fn unsend_request() {
    let bob = id(2);
    let bytes = content(ld(9, &cat(&[v(1, 55), ld(2, bob.to_string().as_bytes())])));
    check(
        &bytes,
        &Content::new(Message::Unsend {
            timestamp_ms: 55,
            author: bob,
        }),
    );
}

#[test]
fn data_extraction_notifications() {
    let bytes = content(ld(8, &cat(&[v(1, 1), v(2, 66)])));
    check(
        &bytes,
        &Content::new(Message::DataExtraction {
            kind: DataExtractionKind::Screenshot,
            timestamp_ms: Some(66),
        }),
    );
    let bytes = content(ld(8, &v(1, 2)));
    check(
        &bytes,
        &Content::new(Message::DataExtraction {
            kind: DataExtractionKind::MediaSaved,
            timestamp_ms: None,
        }),
    );
}

#[test]
fn message_request_response_with_profile() {
    let bytes = content(ld(
        10,
        &cat(&[
            v(1, 1),
            ld(2, &[0x44; 32]),
            ld(3, &cat(&[ld(1, b"Bob"), v(3, 12)])),
        ]),
    ));
    let profile = Profile {
        display_name: Some("Bob".into()),
        picture_url: None,
        key: Some(SecretBytes::new(vec![0x44; 32])),
        updated_s: Some(12),
    };
    check(
        &bytes,
        &Content::new(Message::MessageRequestResponse { approved: true }).with_profile(profile),
    );
}

// --- call signalling ----------------------------------------------------------------------

const UUID: &str = "0b8f2c5e-7f8a-4c1e-9d3b-6a2e1f0c9b7d";

fn call(parts: &[Vec<u8>]) -> Vec<u8> {
    content(ld(3, &cat(parts)))
}

#[test]
fn every_call_message_type() {
    let uuid = ld(5, UUID.as_bytes());
    let cases = [
        (call(&[v(1, 6), uuid.clone()]), CallSignal::PreOffer),
        (
            call(&[v(1, 1), ld(2, b"v=0 offer"), uuid.clone()]),
            CallSignal::Offer {
                sdp: "v=0 offer".into(),
            },
        ),
        (
            call(&[v(1, 2), ld(2, b"v=0 answer"), uuid.clone()]),
            CallSignal::Answer {
                sdp: "v=0 answer".into(),
            },
        ),
        (
            call(&[v(1, 3), ld(2, b"v=0 prov"), uuid.clone()]),
            CallSignal::ProvisionalAnswer {
                sdp: "v=0 prov".into(),
            },
        ),
        (
            call(&[
                v(1, 4),
                ld(2, b"candidate:1"),
                ld(2, b"candidate:2"),
                v(3, 0),
                v(3, 1),
                ld(4, b"0"),
                ld(4, b"1"),
                uuid.clone(),
            ]),
            CallSignal::IceCandidates(vec![
                IceCandidate {
                    candidate: "candidate:1".into(),
                    sdp_m_line_index: 0,
                    sdp_mid: "0".into(),
                },
                IceCandidate {
                    candidate: "candidate:2".into(),
                    sdp_m_line_index: 1,
                    sdp_mid: "1".into(),
                },
            ]),
        ),
        (call(&[v(1, 5), uuid.clone()]), CallSignal::EndCall),
    ];
    for (bytes, signal) in cases {
        let expected = Content::new(Message::Call(CallMessage::new(UUID, signal)));
        let parsed = Content::decode(&bytes).unwrap();
        assert_eq!(parsed, expected);
        assert_eq!(storage_ttl_ms(&parsed), 5 * 60 * 1000);
        // prost writes repeated uint32 packed (field 3 as one length-delimited run); libprotobuf
        // writes proto2 repeated scalars unpacked. Both parse; compare the rest byte for byte.
        if !matches!(
            expected.message,
            Message::Call(CallMessage {
                signal: CallSignal::IceCandidates(_),
                ..
            })
        ) {
            assert_eq!(parsed.encode(SENT), bytes);
        } else {
            assert_eq!(Content::decode(&parsed.encode(SENT)).unwrap(), expected);
        }
    }
}

#[test]
fn invalid_call_messages_are_typed_errors_and_not_recognised() {
    let uuid = ld(5, UUID.as_bytes());
    let cases: [(Vec<u8>, CallError); 6] = [
        (cat(&[v(1, 1), uuid.clone()]), CallError::MissingSdp(1)),
        (
            cat(&[v(1, 2), ld(2, b"a"), ld(2, b"b"), uuid.clone()]),
            CallError::MissingSdp(2),
        ),
        (cat(&[v(1, 4), uuid.clone()]), CallError::MissingSdp(4)),
        (
            cat(&[v(1, 4), ld(2, b"c"), v(3, 0), uuid.clone()]),
            CallError::MismatchedCandidates,
        ),
        (cat(&[v(1, 5)]), CallError::EmptyUuid),
        (cat(&[v(1, 9), uuid.clone()]), CallError::UnknownType(9)),
    ];
    for (inner, error) in cases {
        assert_eq!(CallMessage::decode(&inner), Err(error));
        let parsed = Content::decode(&content(ld(3, &inner))).unwrap();
        assert!(matches!(parsed.message, Message::Other(_)));
    }
    assert_eq!(CallMessage::decode(&[0xff]), Err(CallError::Malformed));
}

// --- group updates ------------------------------------------------------------------------

fn group_id() -> SessionId {
    let group = Keypair::from_seed(&Seed::from_bytes([3; 32]));
    format!(
        "03{}",
        metaless_identity::hex::encode(&group.ed25519_public())
    )
    .parse()
    .unwrap()
}

fn group(inner: Vec<u8>) -> Vec<u8> {
    content(data(&[ld(120, &inner)]))
}

#[test]
fn every_group_update_sub_message() {
    let (alice, bob) = (id(1), id(2));
    let sig = [0x5a; 64];
    let cases = [
        (
            ld(
                1,
                &cat(&[
                    ld(1, group_id().to_string().as_bytes()),
                    ld(2, b"Friends"),
                    ld(3, &[0x77; 100]),
                    ld(4, &sig),
                ]),
            ),
            GroupUpdate::Invite {
                group_id: group_id(),
                name: "Friends".into(),
                member_auth_data: SecretBytes::new(vec![0x77; 100]),
                admin_signature: sig,
            },
        ),
        (
            ld(2, &cat(&[v(1, 1), ld(2, b"New name"), ld(4, &sig)])),
            GroupUpdate::InfoChange {
                kind: InfoChangeKind::Name,
                updated_name: Some("New name".into()),
                updated_expiration_s: None,
                admin_signature: sig,
            },
        ),
        (
            ld(2, &cat(&[v(1, 3), v(3, 86400), ld(4, &sig)])),
            GroupUpdate::InfoChange {
                kind: InfoChangeKind::DisappearingMessages,
                updated_name: None,
                updated_expiration_s: Some(86400),
                admin_signature: sig,
            },
        ),
        (
            ld(
                3,
                &cat(&[
                    v(1, 1),
                    ld(2, alice.to_string().as_bytes()),
                    ld(2, bob.to_string().as_bytes()),
                    v(3, 1),
                    ld(4, &sig),
                ]),
            ),
            GroupUpdate::MemberChange {
                kind: MemberChangeKind::Added,
                members: vec![alice, bob],
                history_shared: Some(true),
                admin_signature: sig,
            },
        ),
        (
            ld(4, &cat(&[ld(1, &[0x99; 32]), ld(2, b"Friends")])),
            GroupUpdate::Promote {
                group_seed: SecretBytes::new(vec![0x99; 32]),
                name: "Friends".into(),
            },
        ),
        (ld(5, &[]), GroupUpdate::MemberLeft),
        (
            ld(6, &v(1, 1)),
            GroupUpdate::InviteResponse { approved: true },
        ),
        (
            ld(
                7,
                &cat(&[
                    ld(1, bob.to_string().as_bytes()),
                    ld(2, b"hash1"),
                    ld(3, &sig),
                ]),
            ),
            GroupUpdate::DeleteMemberContent {
                members: vec![bob],
                message_hashes: vec!["hash1".into()],
                admin_signature: Some(sig),
            },
        ),
        (ld(8, &[]), GroupUpdate::MemberLeftNotification),
    ];
    for (inner, update) in cases {
        check(&group(inner), &Content::new(Message::GroupUpdate(update)));
    }
    assert_eq!(MemberChangeKind::Promoted.number(), 3);
    assert_eq!(InfoChangeKind::DisappearingMessages.number(), 3);
}

#[test]
fn malformed_group_updates_stay_raw() {
    let sig = [1u8; 64];
    let bad = [
        // 63-byte admin signature
        ld(
            1,
            &cat(&[
                ld(1, group_id().to_string().as_bytes()),
                ld(2, b"n"),
                ld(3, &[0; 100]),
                ld(4, &[0; 63]),
            ]),
        ),
        // an 05 id where the group's 03 id belongs
        ld(
            1,
            &cat(&[
                ld(1, id(1).to_string().as_bytes()),
                ld(2, b"n"),
                ld(3, &[0; 100]),
                ld(4, &sig),
            ]),
        ),
        // 31-byte seed
        ld(4, &cat(&[ld(1, &[0; 31]), ld(2, b"n")])),
        // unknown member-change type
        ld(3, &cat(&[v(1, 9), ld(4, &sig)])),
        // garbage member id
        ld(3, &cat(&[v(1, 1), ld(2, b"05zz"), ld(4, &sig)])),
        // two sub-messages at once
        cat(&[ld(5, &[]), ld(8, &[])]),
        // none
        Vec::new(),
    ];
    for inner in bad {
        let parsed = Content::decode(&group(inner)).unwrap();
        assert!(matches!(parsed.message, Message::Other(_)), "{parsed:?}");
    }
}

#[test]
fn other_malformed_payloads_stay_raw() {
    let cases = [
        // reaction whose author is not a Session ID
        content(data(&[ld(
            11,
            &cat(&[v(1, 1), ld(2, b"nobody"), ld(3, b"x"), v(4, 0)]),
        )])),
        // reaction without an emoji
        content(data(&[ld(
            11,
            &cat(&[v(1, 1), ld(2, id(1).to_string().as_bytes()), v(4, 0)]),
        )])),
        // quote with a bad author
        content(data(&[ld(1, b"x"), ld(8, &cat(&[v(1, 1), ld(2, b"05")]))])),
        // body and reaction together
        content(data(&[
            ld(1, b"x"),
            ld(
                11,
                &cat(&[
                    v(1, 1),
                    ld(2, id(1).to_string().as_bytes()),
                    ld(3, b"x"),
                    v(4, 0),
                ]),
            ),
        ])),
        // sync copy
        content(data(&[ld(1, b"x"), ld(105, id(1).to_string().as_bytes())])),
        // unknown flags
        content(data(&[ld(1, b"x"), v(4, 8)])),
    ];
    for bytes in cases {
        let parsed = Content::decode(&bytes).unwrap();
        assert!(matches!(parsed.message, Message::Other(_)), "{parsed:?}");
        assert_eq!(parsed.profile, None);
    }
    // truncated bytes are an error, not a panic
    let full = content(data(&[ld(2, &attachment_bytes())]));
    for cut in 1..full.len() {
        let _ = Content::decode(&full[..cut]);
    }
}

// --- round trips --------------------------------------------------------------------------

fn any_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ]{0,20}"
}

fn any_attachment() -> impl Strategy<Value = AttachmentPointer> {
    (
        any::<u64>(),
        proptest::option::of(any_text()),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any_text()),
    )
        .prop_map(|(id, content_type, key, size, url)| AttachmentPointer {
            id,
            content_type,
            key: key.map(SecretBytes::new),
            size,
            url,
            ..AttachmentPointer::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn visible_messages_round_trip(
        body in proptest::option::of(any_text()),
        attachments in proptest::collection::vec(any_attachment(), 1..4),
        quote_ts in proptest::option::of(any::<u64>()),
        name in proptest::option::of(any_text()),
    ) {
        let visible = VisibleMessage {
            body,
            attachments,
            quote: quote_ts.map(|ts| Quote::new(ts, id(3))),
            previews: Vec::new(),
        };
        let mut content = Content::new(Message::Visible(Box::new(visible)));
        if name.is_some() {
            content = content.with_profile(Profile { display_name: name, ..Profile::default() });
        }
        prop_assert_eq!(Content::decode(&content.encode(9)).unwrap(), content);
    }

    #[test]
    fn call_messages_round_trip(
        uuid in "[a-f0-9-]{1,36}",
        sdp in any_text(),
        candidates in proptest::collection::vec((any_text(), any::<u32>(), any_text()), 1..5),
        which in 0u8..6,
    ) {
        let signal = match which {
            0 => CallSignal::PreOffer,
            1 => CallSignal::Offer { sdp },
            2 => CallSignal::Answer { sdp },
            3 => CallSignal::ProvisionalAnswer { sdp },
            4 => CallSignal::IceCandidates(candidates.into_iter().map(|(candidate, sdp_m_line_index, sdp_mid)| IceCandidate { candidate, sdp_m_line_index, sdp_mid }).collect()),
            _ => CallSignal::EndCall,
        };
        let content = Content::new(Message::Call(CallMessage::new(uuid, signal)));
        prop_assert_eq!(Content::decode(&content.encode(9)).unwrap(), content);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(content) = Content::decode(&bytes)
            && !matches!(content.message, Message::Other(_))
        {
            prop_assert_eq!(Content::decode(&content.encode(1)).unwrap(), content);
        }
        let _ = CallMessage::decode(&bytes);
    }
}
