//! Recovery phrases against upstream's known answers (test-vectors/mnemonic.json), round trips
//! and every error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use metaless_identity::{IdentityError, RecoveryPhrase, Seed, hex, limits, mnemonic};
use proptest::prelude::*;
use serde_json::Value;

fn vectors() -> Value {
    metaless_test_vectors::load("mnemonic.json")
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap()
}

#[test]
fn forty_eight_word_vector_pins_the_list() {
    let v = vectors();
    let cases = v["no_checksum"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let bytes = hex::decode(str_of(&case["bytes_hex"])).unwrap();
        let words: Vec<&str> = case["words"]
            .as_array()
            .unwrap()
            .iter()
            .map(str_of)
            .collect();
        let phrase = mnemonic::encode_bytes(&bytes, false).unwrap();
        assert_eq!(phrase.expose_secret(), words.join(" "));
        assert_eq!(
            &mnemonic::decode_bytes(&words.join(" ")).unwrap()[..],
            &bytes[..]
        );
    }
}

#[test]
fn word_indices_example() {
    let v = vectors();
    let case = &v["indices_example"];
    let bytes = hex::decode(str_of(&case["bytes_hex"])).unwrap();
    let list = mnemonic::word_list();
    let expected: Vec<&str> = case["word_indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| list[usize::try_from(i.as_u64().unwrap()).unwrap()])
        .collect();
    assert_eq!(
        mnemonic::encode_bytes(&bytes, false)
            .unwrap()
            .expose_secret(),
        expected.join(" ")
    );
}

#[test]
fn checksum_phrases_match_upstream() {
    let v = vectors();
    let cases = v["with_checksum"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let bytes = hex::decode(str_of(&case["bytes_hex"])).unwrap();
        let expected = str_of(&case["phrase"]);
        let seed = Seed::from_slice(&bytes).unwrap();
        let phrase = mnemonic::to_phrase(&seed);
        assert_eq!(phrase.expose_secret(), expected);
        assert_eq!(
            mnemonic::encode_bytes(&bytes, true)
                .unwrap()
                .expose_secret(),
            expected
        );
        if let Some(at) = case["checksum_repeats_index"].as_u64() {
            let words: Vec<&str> = phrase.words().collect();
            assert_eq!(words.last(), words.get(usize::try_from(at).unwrap()));
        }
        assert_eq!(mnemonic::to_seed(expected).unwrap(), seed);
        assert_eq!(&mnemonic::decode_bytes(expected).unwrap()[..], &bytes[..]);
    }
}

#[test]
fn upstream_round_trips() {
    let v = vectors();
    for hex_seed in v["round_trip_hex"]["cases"].as_array().unwrap() {
        let bytes = hex::decode(str_of(hex_seed)).unwrap();
        let phrase = mnemonic::encode_bytes(&bytes, true).unwrap();
        assert_eq!(
            &mnemonic::decode_bytes(phrase.expose_secret()).unwrap()[..],
            &bytes[..]
        );
    }
}

#[test]
fn typos_past_the_prefix_and_case_are_accepted() {
    let v = vectors();
    let cases = v["accepted_spellings"].as_array().unwrap();
    assert!(cases.len() >= 4);
    for case in cases {
        let bytes = hex::decode(str_of(&case["bytes_hex"])).unwrap();
        let seed = mnemonic::to_seed(str_of(&case["phrase"])).unwrap();
        assert_eq!(seed, Seed::from_slice(&bytes).unwrap());
    }
}

#[test]
fn upstream_rejects() {
    let v = vectors();
    let cases = v["rejects"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for case in cases {
        let phrase = str_of(&case["phrase"]);
        let err = mnemonic::decode_bytes(phrase).unwrap_err();
        let expected = match str_of(&case["error"]) {
            "BadChecksum" => IdentityError::BadChecksum,
            "InvalidPhrase" => IdentityError::InvalidPhrase,
            "UnknownWord" => IdentityError::UnknownWord {
                position: usize::try_from(case["position"].as_u64().unwrap()).unwrap(),
            },
            "WrongWordCount" => IdentityError::WrongWordCount(
                usize::try_from(case["count"].as_u64().unwrap()).unwrap(),
            ),
            other => panic!("unknown error kind {other}"),
        };
        assert_eq!(err, expected, "{phrase}");
    }
}

#[test]
fn seed_phrases_have_thirteen_or_twenty_five_words() {
    let legacy = Seed::from_legacy([0xa5; 16]);
    let full = Seed::from_bytes([0xa5; 32]);
    assert_eq!(mnemonic::to_phrase(&legacy).word_count(), 13);
    assert_eq!(mnemonic::to_phrase(&full).word_count(), 25);
    // The 13 words are exactly the encoding of the first half.
    assert_eq!(
        mnemonic::to_phrase(&legacy),
        mnemonic::encode_bytes(&[0xa5; 16], true).unwrap()
    );
}

#[test]
fn phrases_without_checksum_restore_seeds() {
    let bytes16 = [0x11u8; 16];
    let bytes32 = [0x22u8; 32];
    let twelve = mnemonic::encode_bytes(&bytes16, false).unwrap();
    let twenty_four = mnemonic::encode_bytes(&bytes32, false).unwrap();
    assert_eq!(twelve.word_count(), 12);
    assert_eq!(twenty_four.word_count(), 24);
    assert_eq!(
        mnemonic::to_seed(twelve.expose_secret()).unwrap(),
        Seed::from_legacy(bytes16)
    );
    assert_eq!(
        mnemonic::to_seed(twenty_four.expose_secret()).unwrap(),
        Seed::from_bytes(bytes32)
    );
}

#[test]
fn whitespace_between_words_is_free() {
    let phrase = mnemonic::to_phrase(&Seed::from_legacy([0x33; 16]));
    let messy = format!("  {}\n", phrase.expose_secret().replace(' ', " \t\n "));
    assert_eq!(
        mnemonic::to_seed(&messy).unwrap(),
        Seed::from_legacy([0x33; 16])
    );
}

#[test]
fn every_error_variant() {
    // WrongWordCount: counts no seed has, valid decode counts that are not seed counts, too many.
    for n in [0usize, 1, 2, 5, 11, 14, 23, 26] {
        let phrase = vec!["abbey"; n].join(" ");
        assert_eq!(
            mnemonic::to_seed(&phrase).err(),
            Some(IdentityError::WrongWordCount(n)),
            "{n}"
        );
    }
    assert_eq!(
        mnemonic::to_seed(&vec!["abbey"; 48].join(" ")).err(),
        Some(IdentityError::WrongWordCount(48))
    );
    let too_many = limits::MAX_PHRASE_WORDS + 3;
    assert_eq!(
        mnemonic::decode_bytes(&vec!["abbey"; too_many].join(" ")).err(),
        Some(IdentityError::WrongWordCount(too_many))
    );
    assert_eq!(
        mnemonic::decode_bytes("").err(),
        Some(IdentityError::WrongWordCount(0))
    );
    assert_eq!(
        mnemonic::decode_bytes("abbey").err(),
        Some(IdentityError::WrongWordCount(1))
    );

    // UnknownWord: first bad word wins, even with a bad checksum later.
    let good = mnemonic::to_phrase(&Seed::from_legacy([0x44; 16]));
    let mut words: Vec<String> = good.words().map(str::to_owned).collect();
    words[4] = "qqqq".into();
    words[12] = "zzzz".into();
    assert_eq!(
        mnemonic::to_seed(&words.join(" ")).err(),
        Some(IdentityError::UnknownWord { position: 4 })
    );
    // Too short to have a prefix, and non-ASCII letters, are unknown words.
    assert_eq!(
        mnemonic::decode_bytes("ab abbey abbey").err(),
        Some(IdentityError::UnknownWord { position: 0 })
    );
    assert_eq!(
        mnemonic::decode_bytes("abbey äbbey abbey").err(),
        Some(IdentityError::UnknownWord { position: 1 })
    );

    // BadChecksum: every other word in place of the checksum word fails.
    let words: Vec<&str> = good.words().collect();
    let checksum = words[12];
    let list = mnemonic::word_list();
    let mut rejected = 0;
    for candidate in list.iter().filter(|w| w[..3] != checksum[..3]) {
        let mut bad = words.clone();
        bad[12] = candidate;
        assert_eq!(
            mnemonic::to_seed(&bad.join(" ")).err(),
            Some(IdentityError::BadChecksum)
        );
        rejected += 1;
    }
    assert_eq!(rejected, 1625);

    // InvalidPhrase: a triple above u32::MAX anywhere.
    assert_eq!(
        mnemonic::to_seed(&format!("{} abbey abbey zoom", ["abbey"; 9].join(" "))).err(),
        Some(IdentityError::InvalidPhrase)
    );

    // WrongLength from the byte encoder.
    for (len, expected) in [
        (0usize, 4usize),
        (3, 4),
        (15, 16),
        (17, 20),
        (65, 64),
        (68, 64),
    ] {
        assert_eq!(
            mnemonic::encode_bytes(&vec![0; len], true).err(),
            Some(IdentityError::WrongLength {
                expected,
                actual: len
            })
        );
    }
}

#[test]
fn phrase_is_a_secret_type() {
    fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    assert_zeroize_on_drop::<RecoveryPhrase>();
    let phrase = mnemonic::to_phrase(&Seed::from_legacy([0x55; 16]));
    let debug = format!("{phrase:?}");
    assert_eq!(debug, "RecoveryPhrase(<redacted>)");
    for word in phrase.words() {
        assert!(!debug.contains(word));
    }
    let decoded = mnemonic::decode_bytes(phrase.expose_secret()).unwrap();
    fn is_zeroizing<T: zeroize::Zeroize>(_: &zeroize::Zeroizing<T>) {}
    is_zeroizing(&decoded);
}

#[test]
fn error_display_does_not_echo_words() {
    let err = mnemonic::to_seed(
        "abbey abbey qqqsecret abbey abbey abbey abbey abbey abbey abbey abbey abbey",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("qqq"), "{text}");
    assert_eq!(err, IdentityError::UnknownWord { position: 2 });
}

proptest! {
    #[test]
    fn legacy_seed_round_trips(bytes in any::<[u8; 16]>()) {
        let seed = Seed::from_legacy(bytes);
        let phrase = mnemonic::to_phrase(&seed);
        prop_assert_eq!(phrase.word_count(), 13);
        prop_assert_eq!(mnemonic::to_seed(phrase.expose_secret()).unwrap(), seed);
    }

    #[test]
    fn full_seed_round_trips(bytes in any::<[u8; 32]>()) {
        prop_assume!(bytes[16..] != [0u8; 16]);
        let seed = Seed::from_bytes(bytes);
        let phrase = mnemonic::to_phrase(&seed);
        prop_assert_eq!(phrase.word_count(), 25);
        prop_assert_eq!(phrase.to_seed().unwrap(), Seed::from_bytes(bytes));
    }

    #[test]
    fn byte_strings_round_trip(chunks in 1usize..=16, fill in any::<u8>(), checksum in any::<bool>()) {
        let bytes: Vec<u8> = (0..chunks * 4).map(|i| fill.wrapping_mul(31).wrapping_add(i as u8)).collect();
        let phrase = mnemonic::encode_bytes(&bytes, checksum).unwrap();
        prop_assert_eq!(phrase.word_count(), chunks * 3 + usize::from(checksum));
        prop_assert_eq!(&mnemonic::decode_bytes(phrase.expose_secret()).unwrap()[..], &bytes[..]);
    }

    #[test]
    fn changing_one_data_word_prefix_is_caught(bytes in any::<[u8; 16]>(), at in 0usize..12, shift in 1usize..1626) {
        let phrase = mnemonic::to_phrase(&Seed::from_legacy(bytes));
        let list = mnemonic::word_list();
        let mut words: Vec<&str> = phrase.words().collect();
        let index = list.iter().position(|w| *w == words[at]).unwrap();
        words[at] = list[(index + shift) % 1626];
        // Either the changed word makes a triple overflow, or the checksum (or, rarely, a CRC
        // collision) notices; it never silently decodes to the original seed.
        match mnemonic::to_seed(&words.join(" ")) {
            Ok(other) => prop_assert_ne!(other, Seed::from_legacy(bytes)),
            Err(e) => prop_assert!(matches!(e, IdentityError::BadChecksum | IdentityError::InvalidPhrase)),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = mnemonic::decode_bytes(&text);
        let _ = mnemonic::to_seed(&text);
    }

    #[test]
    fn wordlike_text_never_panics(words in proptest::collection::vec("[a-zA-Z]{1,8}", 0..30)) {
        let text = words.join(" ");
        let _ = mnemonic::decode_bytes(&text);
        let _ = mnemonic::to_seed(&text);
    }
}
