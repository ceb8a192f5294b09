//! Keyed BLAKE2b as libsodium's `crypto_generichash(out, outlen, msg, key)`: the label is the
//! key, the data the message (argument order matters, see docs/groups.md).

use blake2::Blake2bMac;
use blake2::digest::consts::{U24, U32, U56, U64};
use blake2::digest::{KeyInit, Mac};
use zeroize::Zeroizing;

macro_rules! keyed {
    ($name:ident, $n:ty, $len:expr) => {
        /// Keyed BLAKE2b over the concatenated parts.
        pub(crate) fn $name(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; $len]> {
            // Keys are labels or 32-byte hashes: always within BLAKE2b's 64-byte key limit.
            let mut mac = match <Blake2bMac<$n> as KeyInit>::new_from_slice(key) {
                Ok(mac) => mac,
                Err(_) => unreachable_key(),
            };
            for part in parts {
                Mac::update(&mut mac, part);
            }
            let digest = mac.finalize().into_bytes();
            let mut out = Zeroizing::new([0u8; $len]);
            out.copy_from_slice(&digest);
            out
        }
    };
}

keyed!(h24, U24, 24);
keyed!(h32, U32, 32);
keyed!(h56, U56, 56);
keyed!(h64, U64, 64);

#[cold]
fn unreachable_key() -> ! {
    // Only reached if a caller passed a key over 64 bytes; every key here is a constant
    // label or a 32-byte digest.
    #[allow(clippy::panic)]
    {
        panic!("BLAKE2b key longer than 64 bytes")
    }
}
