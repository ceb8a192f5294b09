//! Unpadding and `Content` decoding on arbitrary bytes: never panics, and the domain view of
//! whatever decodes survives its own re-encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_envelope::{Content, Message, padding};

fuzz_target!(|data: &[u8]| {
    let _ = Content::decode(data);
    let Ok(unpadded) = padding::unpad(data) else {
        return;
    };
    let Ok(content) = Content::decode(unpadded) else {
        return;
    };
    let bytes = content.encode(42);
    let Ok((again, raw)) = Content::decode_raw(&bytes) else {
        panic!("our own encoding does not decode");
    };
    assert_eq!(raw.sig_timestamp, Some(42));
    assert_eq!(again.disappearing, content.disappearing);
    if !matches!(content.message, Message::Other(_)) {
        assert_eq!(again.message, content.message);
    }
    let padded = padding::pad(&bytes).expect("decoded content is within the limit");
    assert_eq!(padding::unpad(&padded), Ok(&bytes[..]));
});
