//! bt against upstream's set/dict encodings (test-vectors/user_config.json) and properties.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_config::bt::{self, Value};
use metaless_test_vectors::{Value as Json, load, text};
use proptest::prelude::*;

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

fn b(s: &str) -> Value {
    Value::bytes(s)
}

#[test]
fn upstream_set_encoding() {
    let e = entry("bt_set_and_dict_encoding");
    let items = e["set_input"].as_array().unwrap().iter().map(|x| match x {
        Json::String(s) => b(s),
        Json::Number(n) => Value::Int(n.as_i64().unwrap()),
        _ => panic!("set item"),
    });
    let set = Value::set(items);
    assert_eq!(bt::encode(&set), text(&e, "expected_set").as_bytes());
    assert!(set.is_canonical_set());
}

#[test]
fn upstream_dict_encoding() {
    let e = entry("bt_set_and_dict_encoding");
    // Upstream's test dict, inserted out of order on purpose: the encoder must sort.
    let d = Value::dict([
        (
            b"d".to_vec(),
            Value::dict([(
                b"e".to_vec(),
                Value::dict([(b"f".to_vec(), Value::dict([(b"g".to_vec(), b(""))]))]),
            )]),
        ),
        (
            b"c".to_vec(),
            Value::set([Value::Int(4), b("2"), Value::Int(-3), b("1")]),
        ),
        (b"a".to_vec(), Value::Int(23)),
        (
            b"D".to_vec(),
            Value::dict([
                (b"y".to_vec(), Value::Int(2)),
                (b"x".to_vec(), Value::Int(1)),
            ]),
        ),
        (b"B".to_vec(), b("x")),
    ]);
    let expected = text(&e, "expected_dict").as_bytes();
    assert_eq!(bt::encode(&d), expected);
    assert_eq!(bt::decode(expected).unwrap(), d);
}

#[test]
fn upstream_messages_decode_and_reencode_byte_exact() {
    for id in ["config_message_serialization_seqno10", "config_empty_hash"] {
        let s = text(&entry(id), "serialized_utf8").as_bytes().to_vec();
        assert_eq!(bt::encode(&bt::decode(&s).unwrap()), s, "{id}");
    }
    let s =
        metaless_test_vectors::bytes(&entry("config_message_serialization_seqno12"), "serialized");
    assert_eq!(bt::encode(&bt::decode(&s).unwrap()), s);
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::Int),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
            proptest::collection::btree_map(
                proptest::collection::vec(any::<u8>(), 0..4),
                inner,
                0..4
            )
            .prop_map(Value::Dict),
        ]
    })
}

proptest! {
    #[test]
    fn round_trip(v in value()) {
        let e = bt::encode(&v);
        prop_assert_eq!(bt::decode(&e).unwrap(), v);
    }

    #[test]
    fn accepted_bytes_are_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        if let Ok(v) = bt::decode(&bytes) {
            prop_assert_eq!(bt::encode(&v), bytes);
        }
    }

    #[test]
    fn one_byte_flips_never_panic(v in value(), at in any::<usize>(), x in any::<u8>()) {
        let mut e = bt::encode(&v);
        let i = at % e.len();
        e[i] ^= x | 1;
        if let Ok(w) = bt::decode(&e) {
            prop_assert_eq!(bt::encode(&w), e);
        }
    }
}
