//! Arbitrary bytes as a stored config message and as a serialized one: the unwrap / decrypt /
//! inflate pipeline and the message parser never panic; whatever parses re-serializes to bytes
//! that parse to the same message, and merging it with a fresh config never panics. The same
//! bytes as a saved dump (`Config::from_dump`, read back from an app's disk) never panic either,
//! and what loads dumps again to bytes that load to the same state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_config::{Config, ConfigMessage, Kind, push};
use metaless_identity::{Keypair, Seed};

fuzz_target!(|data: &[u8]| {
    let seed = Seed::from_bytes([1; 32]);
    let me = Keypair::from_seed(&seed);
    let _ = push::open_user(&me, &seed, Kind::UserProfile, data);
    let _ = push::open(&[[2; 32]], Kind::GroupInfo, data);
    if let Ok(m) = ConfigMessage::parse(data, None) {
        let again = m.serialize(None);
        let back = ConfigMessage::parse(&again, None).expect("re-serialization parses");
        assert_eq!(back.data(), m.data());
        assert_eq!(back.serialize(None), again);
        let mut c = Config::new(Kind::Contacts);
        let _ = c.merge(&[data]);
        let _ = c.push();
    }
    if let Ok(c) = Config::from_dump(Kind::Contacts, data) {
        let again = Config::from_dump(Kind::Contacts, &c.dump()).expect("a dump loads");
        assert_eq!(again.data(), c.data());
        assert_eq!(again.needs_push(), c.needs_push());
    }
});
