//! The config message and its encryption against every upstream entry of
//! test-vectors/user_config.json, plus the refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_config::encrypt::{self, decrypt, encrypt, padded_size};
use metaless_config::{ConfigError, ConfigMessage, message};
use metaless_identity::{Keypair, Seed};
use metaless_test_vectors::{Value as Json, array, bytes, load, text};

fn entry(id: &str) -> Json {
    let v = load("user_config.json");
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("no entry {id}"))
        .clone()
}

#[test]
fn encryption_kat() {
    let e = entry("config_encrypt_kat");
    let key = array::<32>(&e, "key_base");
    let msg = text(&e, "message_utf8").as_bytes();
    let ct = encrypt(msg, &key, text(&e, "domain")).unwrap();
    assert_eq!(ct, bytes(&e, "expected_ciphertext"));
    assert!(ct.ends_with(&bytes(&e, "expected_nonce")));
    assert_eq!(
        decrypt(&ct, &key, text(&e, "domain")).unwrap().as_slice(),
        msg
    );
    // Nonce depends on the domain, not the key.
    let ct2 = encrypt(msg, &key, text(&e, "domain2")).unwrap();
    assert!(ct2.ends_with(&bytes(&e, "expected_nonce_domain2")));
    let other_key: [u8; 32] = metaless_identity::hex::decode_array(
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    )
    .unwrap();
    let ct3 = encrypt(msg, &other_key, text(&e, "domain")).unwrap();
    assert!(ct3.ends_with(&bytes(&e, "expected_nonce")));
    assert_ne!(ct3, ct);
    // Wrong key, wrong domain, tampered, truncated: one error, no detail.
    assert_eq!(
        decrypt(&ct3, &key, text(&e, "domain")).unwrap_err(),
        ConfigError::Decrypt
    );
    assert_eq!(
        decrypt(&ct, &key, text(&e, "domain2")).unwrap_err(),
        ConfigError::Decrypt
    );
    for i in 0..ct.len() {
        let mut t = ct.clone();
        t[i] ^= 0x40;
        assert_eq!(
            decrypt(&t, &key, "test-suite1").unwrap_err(),
            ConfigError::Decrypt,
            "byte {i}"
        );
    }
    for n in 0..ct.len() {
        assert_eq!(
            decrypt(&ct[..n], &key, "test-suite1").unwrap_err(),
            ConfigError::Decrypt
        );
    }
    let big = vec![0u8; metaless_config::limits::MAX_MESSAGE_SIZE + 1];
    assert!(matches!(
        decrypt(&big, &key, "x"),
        Err(ConfigError::TooLarge { .. })
    ));
    assert_eq!(
        encrypt(msg, &key, "0123456789012345678901234").unwrap_err(),
        ConfigError::BadDomain
    );
}

#[test]
fn padded_sizes() {
    let e = entry("config_padded_size");
    let cases = e["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 24);
    for c in cases {
        let (s, o, x) = (
            c["size"].as_u64().unwrap(),
            c["overhead"].as_u64().unwrap(),
            c["expected"].as_u64().unwrap(),
        );
        assert_eq!(padded_size(s as usize, o as usize) as u64, x, "{c}");
    }
}

#[test]
fn serialization_and_hash_seqno10_and_12() {
    let e10 = entry("config_message_serialization_seqno10");
    let s10 = text(&e10, "serialized_utf8").as_bytes();
    let m10 = ConfigMessage::parse(s10, None).unwrap();
    assert_eq!(m10.seqno(), 10);
    assert_eq!(m10.hash(), array::<32>(&e10, "expected_hash"));
    assert_eq!(m10.serialize(None), s10);

    let e12 = entry("config_message_serialization_seqno12");
    let s12 = bytes(&e12, "serialized");
    let m12 = ConfigMessage::parse(&s12, None).unwrap();
    assert_eq!(m12.seqno(), 12);
    assert_eq!(m12.hash(), array::<32>(&e12, "expected_hash"));
    assert_eq!(m12.serialize(None), s12);
    // Its lags are seqno 10 (the message above) and 11.
    let lag_seqnos: Vec<i64> = m12.lagged().keys().map(|k| k.0).collect();
    assert_eq!(lag_seqnos, [10, 11]);
    assert!(m12.lagged().contains_key(&(10, m10.hash())));
    // A merge of 10 and 12 is 12 itself: 10 is inside 12's lags.
    let (m, which) = ConfigMessage::merge(vec![m10, m12.clone()], None);
    assert_eq!(which, Some(1));
    assert_eq!(m, m12);
}

#[test]
fn signature() {
    let e = entry("config_message_signature");
    let sk = bytes(&e, "ed25519_sk64");
    let keys = Keypair::from_seed(&Seed::from_bytes(sk[..32].try_into().unwrap()));
    assert_eq!(keys.ed25519_public(), sk[32..]);
    let signing = text(&e, "signing_value_utf8").as_bytes();
    let unsigned = [signing, b"e"].concat();
    let m = ConfigMessage::parse(&unsigned, None).unwrap();
    let signed = m.serialize(Some(&keys));
    let sig = bytes(&e, "expected_signature");
    assert_eq!(signed, [signing, b"1:~64:", &sig, b"e"].concat());
    let pk = keys.ed25519_public();
    let back = ConfigMessage::parse(&signed, Some(&pk)).unwrap();
    assert_eq!(back.signature().unwrap()[..], sig[..]);
    assert_eq!(
        back.serialize(None),
        signed,
        "a parsed signed message re-serializes with its signature"
    );
    // Missing, wrong key, tampered signature, tampered body.
    assert_eq!(
        ConfigMessage::parse(&unsigned, Some(&pk)).unwrap_err(),
        ConfigError::MissingSignature
    );
    let other = Keypair::from_seed(&Seed::from_bytes([3; 32])).ed25519_public();
    assert_eq!(
        ConfigMessage::parse(&signed, Some(&other)).unwrap_err(),
        ConfigError::BadSignature
    );
    let mut t = signed.clone();
    let n = t.len();
    t[n - 2] ^= 1;
    assert_eq!(
        ConfigMessage::parse(&t, Some(&pk)).unwrap_err(),
        ConfigError::BadSignature
    );
    let t = String::from_utf8(signed.clone()).ok();
    assert!(t.is_none()); // binary signature; tamper the seqno instead
    let mut t = signed.clone();
    t[5] = b'2'; // seqno 10 -> 20
    assert_eq!(
        ConfigMessage::parse(&t, Some(&pk)).unwrap_err(),
        ConfigError::BadSignature
    );
}

#[test]
fn empty_hash() {
    let e = entry("config_empty_hash");
    let s = text(&e, "serialized_utf8").as_bytes();
    assert_eq!(ConfigMessage::new().serialize(None), s);
    assert_eq!(
        ConfigMessage::new().hash(),
        array::<32>(&e, "expected_hash")
    );
    assert_eq!(message::hash(s), array::<32>(&e, "expected_hash"));
}

#[test]
fn user_profile_seqno1_decrypts_and_parses() {
    let e = entry("user_profile_push_seqno1_unwrapped");
    let seed = array::<32>(&e, "ed25519_seed");
    let plain = encrypt::open(&bytes(&e, "encrypted"), &seed, text(&e, "domain")).unwrap();
    assert_eq!(plain, bytes(&e, "expected_decrypted_unpadded"));
    let m = ConfigMessage::parse(&plain, None).unwrap();
    assert_eq!(m.seqno(), 1);
    assert_eq!(m.data()[&b"n"[..]].as_bytes(), Some(&b"Kallie"[..]));
    assert_eq!(m.data()[&b"+"[..]].as_int(), Some(9));
    // Its lag is the empty seqno-0 message.
    let empty = array::<32>(&entry("config_empty_hash"), "expected_hash");
    assert!(m.lagged().contains_key(&(0, empty)));
    // Merged into a fresh object, it is adopted as is.
    let (r, which) = ConfigMessage::merge(vec![ConfigMessage::new(), m.clone()], None);
    assert_eq!((which, r), (Some(1), m));
    // Re-sealing the same bytes gives the same stored bytes (nonce = hash of plaintext).
    let again = encrypt::seal(&plain, &seed, "UserProfile", None).unwrap();
    assert_eq!(again, bytes(&e, "encrypted"));
}

#[test]
fn malformed_messages_refused() {
    let cases: &[&[u8]] = &[
        b"le",                               // not a dict
        b"d1:&dee",                          // no seqno
        b"d1:!i1e1:#i1e1:&dee",              // key before '#'
        b"d1:#1:x1:&dee",                    // seqno not int
        b"d1:#i1ee",                         // no data
        b"d1:#i1e1:&d1:adeee",               // empty nested dict
        b"d1:#i1e1:&d1:alee",                // empty set
        b"d1:#i1e1:&d1:ali2ei1eeee",         // unsorted set
        b"d1:#i1e1:&de1:<li1ee1:=dee",       // lag not a list
        b"d1:#i1e1:&de1:<lli1e0:deee1:=dee", // lag seqno >= current
        b"d1:#i1e1:&de1:=d1:a1:xee",         // bad diff mode
        b"d1:#i1e1:&de1:=d1:ali1eeee",       // set diff not [added, removed]
        b"d1:#i1e1:&de1:=de1:\x7fi0ee",      // key after '~'
        b"d1:#i1e1:&de1:=de1:~3:abce",       // short signature
    ];
    for c in cases {
        assert!(
            ConfigMessage::parse(c, None).is_err(),
            "{:?}",
            String::from_utf8_lossy(c)
        );
    }
    assert!(matches!(
        ConfigMessage::parse(b"d1:#i1e", None),
        Err(ConfigError::Bencode(_))
    ));
}

#[test]
fn unknown_keys_survive_increment_and_merge() {
    let m =
        ConfigMessage::parse(b"d1:#i1e1:$i7e1:&d1:ai1ee1:<le1:=d1:a0:e1:}3:xyze", None).unwrap();
    let mut n = m.increment(None);
    n.data_mut()
        .insert(b"b".to_vec(), metaless_config::bt::Value::Int(2));
    let s = n.serialize(None);
    let back = ConfigMessage::parse(&s, None).unwrap();
    assert_eq!(back.unknown(), m.unknown());
    assert!(s.windows(6).any(|w| w == b"1:$i7e"));
    assert!(s.windows(8).any(|w| w == b"1:}3:xyz"));
}

#[test]
fn pipeline_refusals() {
    let seed = [5u8; 32];
    // Not a config after decryption.
    let ct = encrypt::encrypt(&encrypt::pad(b"xyz"), &seed, "UserProfile").unwrap();
    assert_eq!(
        encrypt::open(&ct, &seed, "UserProfile").unwrap_err(),
        ConfigError::NotAConfig
    );
    let ct = encrypt::encrypt(&encrypt::pad(b"m123"), &seed, "UserProfile").unwrap();
    assert_eq!(
        encrypt::open(&ct, &seed, "UserProfile").unwrap_err(),
        ConfigError::Multipart
    );
    let ct = encrypt::encrypt(&encrypt::pad(b"zgarbage"), &seed, "UserProfile").unwrap();
    assert_eq!(
        encrypt::open(&ct, &seed, "UserProfile").unwrap_err(),
        ConfigError::Decompress
    );
    // A zstd bomb beyond the limit.
    let bomb = [
        b"d".as_slice(),
        &vec![b'a'; metaless_config::limits::BT_MAX_LEN + 10],
    ]
    .concat();
    let z = encrypt::compress(&bomb, 3);
    assert!(z.len() < 76_000);
    let ct = encrypt::encrypt(&encrypt::pad(&z), &seed, "UserProfile").unwrap();
    assert_eq!(
        encrypt::open(&ct, &seed, "UserProfile").unwrap_err(),
        ConfigError::Decompress
    );
    // Compressed round trip.
    let mut m = ConfigMessage::new().increment(None);
    for i in 0..200u32 {
        m.data_mut().insert(
            format!("key{i}").into_bytes(),
            metaless_config::bt::Value::bytes("same value"),
        );
    }
    let s = m.serialize(None);
    let ct = encrypt::seal(&s, &seed, "Contacts", Some(1)).unwrap();
    assert!(ct.len() < s.len());
    assert_eq!(encrypt::open(&ct, &seed, "Contacts").unwrap(), s);
    // Oversize push refused.
    let mut m = ConfigMessage::new().increment(None);
    for i in 0..2000u32 {
        m.data_mut().insert(
            format!("k{i}").into_bytes(),
            metaless_config::bt::Value::Bytes(vec![(i % 251) as u8; 40]),
        );
    }
    assert!(matches!(
        encrypt::seal(&m.serialize(None), &seed, "Contacts", None),
        Err(ConfigError::TooLarge { .. })
    ));
}

#[test]
fn user_profile_push_432_bytes_byte_exact() {
    let e = entry("user_profile_push_seqno0_wrapped");
    let seed = array::<32>(&e, "ed25519_seed");
    let keys = Keypair::from_seed(&Seed::from_bytes(seed));
    let m = ConfigMessage::new();
    let serialized = m.serialize(None);
    assert_eq!(serialized, text(&e, "serialized_utf8").as_bytes());
    let ct = encrypt::seal(&serialized, &seed, text(&e, "domain"), Some(1)).unwrap();
    assert_eq!(ct.len(), 256);
    let push =
        metaless_config::wrap::wrap(&keys, &ct, 0, metaless_config::Kind::UserProfile).unwrap();
    let expected = bytes(&e, "expected_push");
    assert_eq!(expected.len(), 432);
    assert_eq!(push, expected);
    // And back: unwrap, open, parse.
    let inner =
        metaless_config::wrap::unwrap_all(&keys, &expected, metaless_config::Kind::UserProfile);
    assert_eq!(inner, ct);
    let plain = encrypt::open(&inner, &seed, "UserProfile").unwrap();
    assert_eq!(ConfigMessage::parse(&plain, None).unwrap(), m);
    // Someone else cannot unwrap it; a tampered wrapper is refused.
    let other = Keypair::from_seed(&Seed::from_bytes([9; 32]));
    assert_eq!(
        metaless_config::wrap::unwrap(&other, &expected, metaless_config::Kind::UserProfile)
            .unwrap_err(),
        ConfigError::BadWrapper
    );
    let mut t = expected.clone();
    t[200] ^= 1;
    assert_eq!(
        metaless_config::wrap::unwrap(&keys, &t, metaless_config::Kind::UserProfile).unwrap_err(),
        ConfigError::BadWrapper
    );
}
