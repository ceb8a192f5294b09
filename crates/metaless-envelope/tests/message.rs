//! The stored message form: exact wire layout, round trips, and every way it can be wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_envelope::proto::{session as pb, websocket as ws};
use metaless_envelope::{
    Content, DataExtractionKind, DisappearMode, Disappearing, EnvelopeError, Message, OVERHEAD,
    ReceiptKind, SenderKeys, TypingAction, encrypt_for_recipient,
    encrypt_for_recipient_deterministic, limits, open_envelope, open_message, padding,
    seal_message,
};
use metaless_identity::{Keypair, Seed, SessionId};
use proptest::prelude::*;
use prost::Message as _;
use rand::SeedableRng;

fn keys(byte: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([byte; 32]))
}

fn rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(7)
}

/// Wraps a raw ciphertext the way session-desktop did (verb/path set, no sourceDevice, no
/// proSig), built with the generated types only.
fn desktop_wrap(ciphertext: Vec<u8>, sent_at_ms: u64) -> Vec<u8> {
    let envelope = pb::Envelope {
        r#type: 6,
        timestamp: sent_at_ms,
        content: Some(ciphertext),
        ..Default::default()
    };
    ws::WebSocketMessage {
        r#type: Some(1),
        request: Some(ws::WebSocketRequestMessage {
            verb: Some("PUT".into()),
            path: Some("/api/v1/message".into()),
            body: Some(envelope.encode_to_vec()),
            request_id: Some(0),
            ..Default::default()
        }),
        response: None,
    }
    .encode_to_vec()
}

#[test]
fn stored_bytes_have_the_upstream_layout() {
    let (alice, bob) = (keys(1), keys(2));
    let sent_at_ms = 1_754_971_101_000;
    let stored = seal_message(
        &alice,
        &bob.session_id(),
        &Content::text("hello"),
        sent_at_ms,
        &mut rng(),
    )
    .unwrap();

    // WebSocketMessage: field 1 varint REQUEST(1), field 2 length-delimited request.
    assert_eq!(&stored[..3], &[0x08, 0x01, 0x12]);
    let wrapper = ws::WebSocketMessage::decode(stored.as_slice()).unwrap();
    assert_eq!(
        wrapper.encode_to_vec(),
        stored,
        "canonical encoding, nothing unknown"
    );
    let request = wrapper.request.unwrap();
    assert_eq!(request.verb.as_deref(), Some(""));
    assert_eq!(request.path.as_deref(), Some(""));
    assert_eq!(request.request_id, Some(0));
    assert!(request.headers.is_empty());
    let body = request.body.unwrap();

    // Envelope: type 6, timestamp, sourceDevice 1, content, proSig, in field-number order.
    assert_eq!(&body[..3], &[0x08, 0x06, 0x28]);
    let envelope = pb::Envelope::decode(body.as_slice()).unwrap();
    assert_eq!(envelope.encode_to_vec(), body);
    assert_eq!(envelope.r#type, pb::envelope::Type::SessionMessage as i32);
    assert_eq!(envelope.timestamp, sent_at_ms);
    assert_eq!(envelope.source_device, Some(1));
    assert_eq!(envelope.source, None);
    assert_eq!(envelope.server_timestamp, None);
    let pro_sig = envelope.pro_sig.unwrap();
    assert_eq!(pro_sig.len(), 64);
    let r: [u8; 32] = pro_sig[..32].try_into().unwrap();
    assert!(
        curve25519_dalek::edwards::CompressedEdwardsY(r)
            .decompress()
            .is_some()
    );

    // Content: one padding block (the Content is far below 159 bytes) plus the 144 overhead.
    let ciphertext = envelope.content.unwrap();
    assert_eq!(ciphertext.len(), padding::PADDING_BLOCK + OVERHEAD);
    let opened = metaless_envelope::decrypt_incoming(&bob, &ciphertext).unwrap();
    let content = pb::Content::decode(padding::unpad(&opened.plaintext).unwrap()).unwrap();
    assert_eq!(content.data_message.unwrap().body.as_deref(), Some("hello"));
    assert_eq!(content.sig_timestamp, Some(sent_at_ms));
    assert_eq!(content.expiration_type, None);
}

#[test]
fn desktop_wrapped_messages_open() {
    let (alice, bob) = (keys(1), keys(2));
    let content = Content::text("from desktop").to_proto(77).encode_to_vec();
    let padded = padding::pad(&content).unwrap();
    let ciphertext =
        encrypt_for_recipient_deterministic(&alice, &bob.session_id(), &padded).unwrap();
    let received = open_message(&bob, &desktop_wrap(ciphertext, 77)).unwrap();
    assert_eq!(received.content, Content::text("from desktop"));
    assert_eq!(received.sender, alice.session_id());
    assert_eq!(received.sent_at_ms, 77);
    assert!(received.timestamp_is_signed());
}

#[test]
fn every_common_message_kind_round_trips() {
    let (alice, bob) = (keys(1), keys(2));
    let after_read = Disappearing::new(DisappearMode::AfterRead, 86_400);
    let cases = [
        Content::text(""),
        Content::text("ünïcødé ✓").disappearing(Disappearing::new(DisappearMode::AfterSend, 30)),
        Content::new(Message::DisappearingSettingsUpdate).disappearing(after_read),
        Content::new(Message::DisappearingSettingsUpdate),
        Content::new(Message::Receipt {
            kind: ReceiptKind::Read,
            timestamps_ms: vec![1, 2, u64::MAX],
        }),
        Content::new(Message::Receipt {
            kind: ReceiptKind::Delivery,
            timestamps_ms: vec![],
        }),
        Content::new(Message::Typing {
            action: TypingAction::Started,
            timestamp_ms: 0,
        }),
        Content::new(Message::Typing {
            action: TypingAction::Stopped,
            timestamp_ms: 5,
        }),
        Content::new(Message::Unsend {
            timestamp_ms: 9,
            author: alice.session_id(),
        }),
        Content::new(Message::MessageRequestResponse { approved: true }),
        Content::new(Message::DataExtraction {
            kind: DataExtractionKind::Screenshot,
            timestamp_ms: Some(3),
        }),
        Content::new(Message::DataExtraction {
            kind: DataExtractionKind::MediaSaved,
            timestamp_ms: None,
        }),
    ];
    for content in cases {
        let stored = seal_message(&alice, &bob.session_id(), &content, 1234, &mut rng()).unwrap();
        let received = open_message(&bob, &stored).unwrap();
        assert_eq!(received.content, content);
        assert_eq!(received.sent_at_ms, 1234);
    }
}

#[test]
fn required_proto2_fields_are_always_written() {
    // TypingMessage.action STARTED is the enum's zero: it must still be on the wire, or a
    // Session client's parser refuses the whole Content.
    let typing = Content::new(Message::Typing {
        action: TypingAction::Started,
        timestamp_ms: 0,
    });
    let bytes = typing.to_proto(1).encode_to_vec();
    // Content field 6 (typingMessage), length 4: timestamp(1)=0, action(2)=0.
    assert!(
        bytes
            .windows(6)
            .any(|w| w == [0x32, 0x04, 0x08, 0x00, 0x10, 0x00]),
        "{bytes:02x?}"
    );
    // Turning disappearing off is explicit: expirationType(12)=0, expirationTimer(13)=0.
    let off = Content::new(Message::DisappearingSettingsUpdate)
        .to_proto(1)
        .encode_to_vec();
    assert!(
        off.windows(4).any(|w| w == [0x60, 0x00, 0x68, 0x00]),
        "{off:02x?}"
    );
}

#[test]
fn disappearing_fields_are_encoded_as_upstream_numbers() {
    let content = Content::text("x").disappearing(Disappearing::new(DisappearMode::AfterSend, 300));
    let bytes = content.to_proto(1).encode_to_vec();
    // expirationType(12) = DELETE_AFTER_SEND(2), expirationTimer(13) = 300 (varint ac 02).
    assert!(
        bytes
            .windows(5)
            .any(|w| w == [0x60, 0x02, 0x68, 0xac, 0x02]),
        "{bytes:02x?}"
    );
    let read = Content::text("x")
        .disappearing(Disappearing::new(DisappearMode::AfterRead, 1))
        .to_proto(1);
    assert_eq!(read.expiration_type, Some(1));
}

#[test]
fn sealed_to_someone_else() {
    let (alice, bob, carol) = (keys(1), keys(2), keys(3));
    let stored = seal_message(
        &alice,
        &carol.session_id(),
        &Content::text("for carol"),
        1,
        &mut rng(),
    )
    .unwrap();
    assert_eq!(
        open_message(&bob, &stored),
        Err(EnvelopeError::WrongRecipient)
    );
    assert_eq!(
        open_message(&alice, &stored),
        Err(EnvelopeError::WrongRecipient)
    );
    assert!(open_message(&carol, &stored).is_ok());
}

#[test]
fn every_flipped_ciphertext_byte_is_refused() {
    let (alice, bob) = (keys(1), keys(2));
    let sealed =
        encrypt_for_recipient(&alice, &bob.session_id(), b"some message text", &mut rng()).unwrap();
    for index in 0..sealed.len() {
        for bit in [0x01u8, 0x80] {
            let mut broken = sealed.clone();
            broken[index] ^= bit;
            assert_eq!(
                metaless_envelope::decrypt_incoming(&bob, &broken),
                Err(EnvelopeError::WrongRecipient),
                "byte {index} bit {bit:#x}"
            );
        }
    }
}

#[test]
fn every_flipped_stored_byte_is_refused_or_only_changes_unsigned_metadata() {
    let (alice, bob) = (keys(1), keys(2));
    let content = Content::text("hello there");
    let stored = seal_message(&alice, &bob.session_id(), &content, 1_000, &mut rng()).unwrap();
    let mut refused = 0;
    for index in 0..stored.len() {
        let mut broken = stored.clone();
        broken[index] ^= 0x01;
        match open_message(&bob, &broken) {
            Err(_) => refused += 1,
            // Unauthenticated upstream too: the envelope timestamp, the decoy proSig, the
            // wrapper's verb/path/requestId. What was signed must come through unchanged.
            Ok(received) => {
                assert_eq!(received.sender, alice.session_id(), "byte {index}");
                assert_eq!(received.content, content, "byte {index}");
                assert_eq!(received.signed_sent_at_ms, Some(1_000), "byte {index}");
            }
        }
    }
    // Every byte of the ciphertext itself at least.
    assert!(
        refused >= padding::PADDING_BLOCK + OVERHEAD,
        "{refused} of {}",
        stored.len()
    );
}

#[test]
fn truncated_at_every_length() {
    let (alice, bob) = (keys(1), keys(2));
    let stored = seal_message(
        &alice,
        &bob.session_id(),
        &Content::text("truncate me"),
        1,
        &mut rng(),
    )
    .unwrap();
    for len in 0..stored.len() {
        assert!(open_message(&bob, &stored[..len]).is_err(), "len {len}");
    }
    let sealed = encrypt_for_recipient(&alice, &bob.session_id(), b"abc", &mut rng()).unwrap();
    for len in 0..sealed.len() {
        let expected = if len < OVERHEAD {
            EnvelopeError::CiphertextTooShort { len }
        } else {
            EnvelopeError::WrongRecipient
        };
        assert_eq!(
            metaless_envelope::decrypt_incoming(&bob, &sealed[..len]),
            Err(expected)
        );
    }
}

#[test]
fn invalid_protobuf_inside_a_valid_seal() {
    let (alice, bob) = (keys(1), keys(2));
    // 0xff is a field-31 tag of wire type 7, which does not exist.
    let padded = padding::pad(&[0xff, 0xff, 0x01]).unwrap();
    let ciphertext = encrypt_for_recipient(&alice, &bob.session_id(), &padded, &mut rng()).unwrap();
    assert_eq!(
        open_message(&bob, &desktop_wrap(ciphertext, 1)),
        Err(EnvelopeError::InvalidContent)
    );
}

#[test]
fn padding_without_terminator() {
    let (alice, bob) = (keys(1), keys(2));
    let mut unterminated = Content::text("x").to_proto(1).encode_to_vec();
    unterminated.resize(160, 0);
    let ciphertext =
        encrypt_for_recipient(&alice, &bob.session_id(), &unterminated, &mut rng()).unwrap();
    assert_eq!(
        open_message(&bob, &desktop_wrap(ciphertext, 1)),
        Err(EnvelopeError::BadPadding)
    );
    let empty = encrypt_for_recipient(&alice, &bob.session_id(), b"", &mut rng()).unwrap();
    assert_eq!(
        open_message(&bob, &desktop_wrap(empty, 1)),
        Err(EnvelopeError::BadPadding)
    );
}

#[test]
fn unpadded_content_is_let_through_as_clients_do() {
    let (alice, bob) = (keys(1), keys(2));
    // Ends in the sigTimestamp varint, whose last byte is non-zero.
    let bare = Content::text("no padding").to_proto(300).encode_to_vec();
    assert_ne!(bare.last(), Some(&0));
    let ciphertext = encrypt_for_recipient(&alice, &bob.session_id(), &bare, &mut rng()).unwrap();
    assert_eq!(
        open_message(&bob, &desktop_wrap(ciphertext, 300))
            .unwrap()
            .content,
        Content::text("no padding")
    );
}

#[test]
fn envelope_shapes_upstream_refuses() {
    let (alice, bob) = (keys(1), keys(2));
    let padded = padding::pad(&Content::text("x").to_proto(1).encode_to_vec()).unwrap();
    let ciphertext = encrypt_for_recipient(&alice, &bob.session_id(), &padded, &mut rng()).unwrap();
    let base = pb::Envelope {
        r#type: 6,
        timestamp: 1,
        content: Some(ciphertext.clone()),
        ..Default::default()
    };
    assert!(open_envelope(&bob, &base.encode_to_vec()).is_ok());

    let group = pb::Envelope {
        r#type: 7,
        ..base.clone()
    };
    assert_eq!(
        open_envelope(&bob, &group.encode_to_vec()),
        Err(EnvelopeError::NotAnEnvelope)
    );
    let no_content = pb::Envelope {
        content: None,
        ..base.clone()
    };
    assert_eq!(
        open_envelope(&bob, &no_content.encode_to_vec()),
        Err(EnvelopeError::NotAnEnvelope)
    );
    // Missing required timestamp: content field alone, after type.
    let mut no_timestamp = vec![0x08, 0x06, 0x42];
    prost::encoding::encode_varint(ciphertext.len() as u64, &mut no_timestamp);
    no_timestamp.extend_from_slice(&ciphertext);
    assert_eq!(
        open_envelope(&bob, &no_timestamp),
        Err(EnvelopeError::NotAnEnvelope)
    );
    // Missing required type.
    let mut no_type = vec![0x28, 0x01, 0x42];
    prost::encoding::encode_varint(ciphertext.len() as u64, &mut no_type);
    no_type.extend_from_slice(&ciphertext);
    assert_eq!(
        open_envelope(&bob, &no_type),
        Err(EnvelopeError::NotAnEnvelope)
    );
    // A wrapper without a request, or a request without a body.
    let empty_request = ws::WebSocketMessage {
        r#type: Some(1),
        request: Some(Default::default()),
        response: None,
    };
    assert_eq!(
        open_message(&bob, &empty_request.encode_to_vec()),
        Err(EnvelopeError::NotAnEnvelope)
    );
    // A bare envelope is not the stored form.
    assert_eq!(
        open_message(&bob, &base.encode_to_vec()),
        Err(EnvelopeError::NotAnEnvelope)
    );
}

#[test]
fn oversize_is_refused_before_work() {
    let (alice, bob) = (keys(1), keys(2));
    let huge = vec![0u8; limits::MAX_STORED_MESSAGE_LEN + 1];
    assert!(matches!(
        open_message(&bob, &huge),
        Err(EnvelopeError::TooLarge { .. })
    ));
    assert!(matches!(
        open_envelope(&bob, &huge),
        Err(EnvelopeError::TooLarge { .. })
    ));
    let too_long = Content::text("a".repeat(limits::MAX_CONTENT_LEN));
    assert!(matches!(
        seal_message(&alice, &bob.session_id(), &too_long, 1, &mut rng()),
        Err(EnvelopeError::TooLarge {
            what: "content",
            ..
        })
    ));
    assert!(matches!(
        encrypt_for_recipient(
            &alice,
            &bob.session_id(),
            &vec![0u8; limits::MAX_PLAINTEXT_LEN + 1],
            &mut rng()
        ),
        Err(EnvelopeError::TooLarge { .. })
    ));
    assert!(matches!(
        metaless_envelope::decrypt_incoming(&bob, &vec![0u8; limits::MAX_CIPHERTEXT_LEN + 1]),
        Err(EnvelopeError::TooLarge { .. })
    ));
}

#[test]
fn only_standard_recipients() {
    let alice = keys(1);
    let blinded: SessionId = format!(
        "25{}",
        metaless_identity::hex::encode(&alice.ed25519_public())
    )
    .parse()
    .unwrap();
    assert_eq!(
        seal_message(&alice, &blinded, &Content::text("x"), 1, &mut rng()),
        Err(EnvelopeError::InvalidRecipient)
    );
    // A small-order X25519 key (all zeros) gives an all-zero shared secret: refused like libsodium.
    let zero = SessionId::standard([0u8; 32]);
    assert_eq!(
        seal_message(&alice, &zero, &Content::text("x"), 1, &mut rng()),
        Err(EnvelopeError::InvalidRecipient)
    );
}

#[test]
fn errors_do_not_leak_plaintext_or_ids() {
    let (alice, bob) = (keys(1), keys(2));
    let stored = seal_message(
        &alice,
        &bob.session_id(),
        &Content::text("secret words"),
        1,
        &mut rng(),
    )
    .unwrap();
    let err = open_message(&keys(3), &stored).unwrap_err().to_string();
    assert!(!err.contains("secret"));
    assert!(!err.contains(&alice.session_id().to_string()[2..20]));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn text_of_any_size_round_trips(len in 0usize..=256 * 1024, fill in any::<u8>(), sent_at_ms in any::<u64>()) {
        let (alice, bob) = (keys(1), keys(2));
        let body: String = std::iter::repeat_n(char::from(b'a' + fill % 26), len).collect();
        let content = Content::text(body);
        let stored = seal_message(&alice, &bob.session_id(), &content, sent_at_ms, &mut rng()).unwrap();
        let received = open_message(&bob, &stored).unwrap();
        prop_assert_eq!(received.content, content);
        prop_assert_eq!(received.sent_at_ms, sent_at_ms);
        prop_assert_eq!(received.sender, alice.session_id());
    }

    #[test]
    fn raw_bytes_of_any_size_round_trip(data in proptest::collection::vec(any::<u8>(), 0..=256 * 1024)) {
        let (alice, bob) = (keys(4), keys(5));
        let sealed = encrypt_for_recipient(&alice, &bob.session_id(), &data, &mut rng()).unwrap();
        prop_assert_eq!(sealed.len(), data.len() + OVERHEAD);
        let opened = metaless_envelope::decrypt_incoming(&bob, &sealed).unwrap();
        prop_assert_eq!(opened.plaintext, data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let bob = keys(2);
        prop_assert!(open_message(&bob, &data).is_err());
        prop_assert!(open_envelope(&bob, &data).is_err());
        prop_assert!(metaless_envelope::decrypt_incoming(&bob, &data).is_err());
        let _ = Content::decode(&data);
    }

    #[test]
    fn random_content_round_trips(body in ".{0,300}", timer in 0u32..1_000_000, after_send in any::<bool>()) {
        let (alice, bob) = (keys(1), keys(2));
        let mode = if after_send { DisappearMode::AfterSend } else { DisappearMode::AfterRead };
        let content = Content::text(body).disappearing(Disappearing::new(mode, timer));
        let stored = seal_message(&alice, &bob.session_id(), &content, 1, &mut rng()).unwrap();
        prop_assert_eq!(open_message(&bob, &stored).unwrap().content, content);
    }
}

#[test]
fn stored_form_is_canonical_protobuf_across_varint_boundaries() {
    let (alice, bob) = (keys(1), keys(2));
    // Text lengths whose ciphertext / envelope / request lengths cross 1-, 2- and 3-byte varints.
    for len in [0usize, 100, 130, 16_000, 16_300, 16_500, 2_097_000 / 16] {
        for sent_at_ms in [0u64, 127, 128, 1_754_971_101_000, u64::MAX] {
            let content = Content::text("b".repeat(len));
            let stored =
                seal_message(&alice, &bob.session_id(), &content, sent_at_ms, &mut rng()).unwrap();
            let wrapper = ws::WebSocketMessage::decode(stored.as_slice()).unwrap();
            assert_eq!(wrapper.encode_to_vec(), stored, "len {len} ts {sent_at_ms}");
            let body = wrapper.request.unwrap().body.unwrap();
            let envelope = pb::Envelope::decode(body.as_slice()).unwrap();
            assert_eq!(envelope.encode_to_vec(), body);
            assert_eq!(envelope.timestamp, sent_at_ms);
            assert_eq!(open_message(&bob, &stored).unwrap().content, content);
        }
    }
}

#[test]
fn the_sender_key_cache_refuses_exactly_what_open_message_refuses() {
    let (alice, bob, carol) = (keys(1), keys(2), keys(3));
    let stored = seal_message(
        &alice,
        &bob.session_id(),
        &Content::text("through the cache"),
        1,
        &mut rng(),
    )
    .unwrap();
    let mut cache = SenderKeys::default();
    // Alice's key is remembered first: every case below runs with the cache warm.
    assert_eq!(
        cache.open_message(&bob, &stored).unwrap().sender,
        alice.session_id()
    );
    let mut cases: Vec<(String, Vec<u8>, &Keypair)> =
        vec![("wrong recipient".into(), stored.clone(), &carol)];
    for cut in [0, 1, stored.len() / 2, stored.len() - 1] {
        cases.push((format!("truncated to {cut}"), stored[..cut].to_vec(), &bob));
    }
    for i in (0..stored.len()).step_by(7) {
        let mut bad = stored.clone();
        bad[i] ^= 0x40;
        cases.push((format!("byte {i} flipped"), bad, &bob));
    }
    let mut refused = 0;
    for (what, bytes, me) in &cases {
        let plain = open_message(me, bytes);
        assert_eq!(cache.open_message(me, bytes), plain, "{what}");
        refused += usize::from(plain.is_err());
    }
    assert!(
        refused > cases.len() / 2,
        "only {refused} of {} refused",
        cases.len()
    );
    assert_eq!(cache.len(), 1, "a refused key was remembered");
}
