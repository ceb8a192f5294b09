//! Recovery-phrase decoding on arbitrary text: never panics, and whatever decodes re-encodes to
//! a phrase that decodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_identity::mnemonic;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(bytes) = mnemonic::decode_bytes(&text) {
        for checksum in [false, true] {
            let Ok(phrase) = mnemonic::encode_bytes(&bytes, checksum) else {
                panic!("decoded {} bytes that do not re-encode", bytes.len());
            };
            let again = mnemonic::decode_bytes(phrase.expose_secret());
            assert_eq!(again.as_deref().map(|b| &b[..]), Ok(&bytes[..]));
        }
    }
    if let Ok(seed) = mnemonic::to_seed(&text) {
        assert_eq!(mnemonic::to_phrase(&seed).to_seed().as_ref(), Ok(&seed));
    }
});
