//! `CallMessage` decoding and the call state machine on arbitrary bytes: never panics, a valid
//! message round-trips through `Content`, and feeding it to either side of a call is safe.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_envelope::{Call, CallMessage, Content, Message};

fuzz_target!(|data: &[u8]| {
    let Ok(message) = CallMessage::decode(data) else {
        return;
    };
    let content = Content::new(Message::Call(message.clone()));
    assert_eq!(
        Content::decode(&content.encode(1)).map(|c| c.message),
        Ok(Message::Call(message.clone()))
    );
    let mut caller = Call::outgoing(message.uuid.clone(), "v=0", 1_000);
    let _ = caller.handle(&message, 2_000);
    let _ = caller.handle_own_device(&message);
    caller.handle_timeout(100_000);
    while caller.poll_transmit().is_some() || caller.poll_event().is_some() {}
    if let Ok(mut callee) = Call::incoming(&message, 1_000, 2_000) {
        let _ = callee.handle(&message, 3_000);
        let _ = callee.answer("v=0", 4_000);
        callee.hang_up();
        while callee.poll_transmit().is_some() || callee.poll_event().is_some() {}
    }
});
