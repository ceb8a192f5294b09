//! Arbitrary bytes through the strict bencode reader: no panic, and whatever is accepted
//! re-encodes to exactly the input (one canonical encoding per value).
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_config::bt;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = bt::decode(data) {
        assert_eq!(bt::encode(&v), data);
    }
});
