//! Typed views: upstream's seqno-1 UserProfile decoded, and rewrites keep unknown keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_config::bt::{self, Value};
use metaless_config::views::{
    Contact, ConvoInfoVolatile, ReadState, RoomRef, UserGroups, UserProfile,
};
use metaless_config::{Config, ConfigMessage, Kind, encrypt};
use metaless_identity::SessionId;
use metaless_test_vectors::{Value as Json, array, bytes, load, text};

fn entry(id: &str) -> Json {
    let v = load("user_config.json");
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap()
        .clone()
}

#[test]
fn upstream_profile_reads_as_kallie() {
    let e = entry("user_profile_push_seqno1_unwrapped");
    let plain = encrypt::open(
        &bytes(&e, "encrypted"),
        &array::<32>(&e, "ed25519_seed"),
        text(&e, "domain"),
    )
    .unwrap();
    let m = ConfigMessage::parse(&plain, None).unwrap();
    let p = UserProfile::read(m.data());
    assert_eq!(p.name.as_deref(), Some("Kallie"));
    let a = p.avatar.clone().unwrap();
    assert_eq!(a.url, "http://example.org/omg-pic-123.bmp");
    assert_eq!(&a.key, b"secret78901234567890123456789012");
    assert_eq!(p.nts_priority, 9);
    // Writing the same profile back changes nothing: same bytes.
    let mut d = m.data().clone();
    p.write(&mut d);
    assert_eq!(&d, m.data());
}

#[test]
fn rewrites_keep_unknown_keys() {
    // A newer client's keys at top level, in the data and inside a contact entry.
    let id = SessionId::standard([9; 32]);
    let mut contact = bt::Dict::new();
    contact.insert(b"n".to_vec(), Value::bytes("Bob"));
    contact.insert(b"Z".to_vec(), Value::bytes("future"));
    let mut c = bt::Dict::new();
    c.insert(id.to_bytes().to_vec(), Value::Dict(contact));
    let mut data = bt::Dict::new();
    data.insert(b"c".to_vec(), Value::Dict(c));
    data.insert(b"zz".to_vec(), Value::Int(5));
    let serialized = bt::encode(&Value::dict([
        (b"#".to_vec(), Value::Int(3)),
        (b"$".to_vec(), Value::bytes("top-level future")),
        (b"&".to_vec(), Value::Dict(data)),
        (b"<".to_vec(), Value::List(vec![])),
        (b"=".to_vec(), Value::Dict(Default::default())),
    ]));
    let mut cfg = Config::new(Kind::Contacts);
    cfg.merge(&[&serialized]);
    // A fresh (seqno 0, clean) config takes no part in a merge, as upstream: adopted as is.
    assert_eq!(cfg.seqno(), 3);
    assert!(!cfg.needs_push());
    cfg.edit(|d| {
        let mut bob = Contact::get(d, &id).unwrap();
        bob.nickname = Some("Bobby".into());
        bob.approved = true;
        bob.write(d);
    });
    let out = cfg.push();
    assert_eq!(out.seqno, 4);
    let back = ConfigMessage::parse(&out.serialized, None).unwrap();
    assert_eq!(
        back.unknown().get(&b"$"[..]),
        Some(&Value::bytes("top-level future"))
    );
    assert_eq!(back.data().get(&b"zz"[..]), Some(&Value::Int(5)));
    let entry = back.data()[&b"c"[..]].as_dict().unwrap()[&id.to_bytes()[..]]
        .as_dict()
        .unwrap();
    assert_eq!(entry.get(&b"Z"[..]), Some(&Value::bytes("future")));
    let bob = Contact::get(back.data(), &id).unwrap();
    assert_eq!(
        (bob.name.as_deref(), bob.nickname.as_deref(), bob.approved),
        (Some("Bob"), Some("Bobby"), true)
    );
}

#[test]
fn convo_and_groups_round_trip() {
    let mut d = bt::Dict::new();
    let id = SessionId::standard([1; 32]);
    let room = RoomRef::new("https://open.example", [2; 32], "Lobby");
    ConvoInfoVolatile::set_one_to_one(
        &mut d,
        &id,
        ReadState {
            last_read_ms: 1_700_000_000_000,
            unread: true,
        },
    );
    ConvoInfoVolatile::set_community(
        &mut d,
        &room,
        ReadState {
            last_read_ms: 7,
            unread: false,
        },
    );
    let c = ConvoInfoVolatile::read(
        &bt::decode(&bt::encode(&Value::Dict(d)))
            .unwrap()
            .as_dict()
            .unwrap()
            .clone(),
    );
    assert_eq!(
        c.one_to_one[&id.to_bytes()],
        ReadState {
            last_read_ms: 1_700_000_000_000,
            unread: true
        }
    );
    assert_eq!(c.communities[&room].last_read_ms, 7);

    let mut g = bt::Dict::new();
    let entry = metaless_config::views::GroupEntry {
        id: [3; 33],
        secret_seed: Some([4; 32]),
        auth_data: None,
        name: Some("Team".into()),
        removed: 0,
        common: metaless_config::views::GroupCommon {
            priority: 1,
            joined_s: 99,
            ..Default::default()
        },
    };
    entry.write(&mut g);
    let ug = UserGroups::read(&g);
    assert_eq!(ug.groups, vec![entry.clone()]);
    assert!(
        !format!("{:?}", ug.groups[0]).contains("4, 4"),
        "the group seed is not printed"
    );
    assert!(UserGroups::remove_group(&mut g, &[3; 33]));
    // Empty containers are pruned when the message is serialized.
    let mut cfg = Config::new(Kind::UserGroups);
    cfg.edit(|d| entry.write(d));
    cfg.edit(|d| UserGroups::remove_group(d, &[3; 33]));
    assert!(
        ConfigMessage::parse(&cfg.push().serialized, None)
            .unwrap()
            .data()
            .is_empty()
    );
}
