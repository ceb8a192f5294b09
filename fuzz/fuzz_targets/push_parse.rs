//! Push registration bodies, server replies and push payloads on arbitrary bytes: never panics;
//! what parses re-encodes to something that parses the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_envelope::push::{
    PushKey, PushNotification, PushReply, Subscribe, Unsubscribe, decrypt_payload,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(sub) = Subscribe::from_json(data) {
        let _ = sub.verify(1_700_000_000);
        let again = Subscribe::from_json(sub.to_json().as_bytes()).expect("own encoding parses");
        assert_eq!(again, sub);
    }
    if let Ok(unsub) = Unsubscribe::from_json(data) {
        let _ = unsub.verify(1_700_000_000);
        assert_eq!(Unsubscribe::from_json(unsub.to_json().as_bytes()).as_ref(), Ok(&unsub));
    }
    let _ = PushReply::from_json(data);
    if let Ok(note) = PushNotification::parse(data) {
        assert_eq!(PushNotification::parse(&note.to_plaintext()), Ok(note));
    }
    let _ = decrypt_payload(&PushKey::from_bytes([7; 32]), data);
});
