//! Result codes and the error carried to the context.
//!
//! Numbers are part of the ABI: each is fixed, written out explicitly, and never reused for a
//! different meaning (a retired code stays listed in `docs/ffi.md`; a test checks the header,
//! this enum and that table agree). Codes are grouped by tens: 0–19 caller mistakes and the
//! boundary itself, 20s identity, 30s crypto and decoding, 40s onion, 50s swarm, 60s client,
//! 90s transport.
//!
//! ```
//! use metaless_ffi::metaless_result;
//! assert_eq!(metaless_result::METALESS_RESULT_OK as u32, 0);
//! assert_eq!(metaless_result::METALESS_RESULT_DECRYPT_FAILED as u32, 30);
//! ```

use std::ffi::{CStr, c_char};

use metaless_client::{ClientError, ErrorKind as ClientErrorKind};
use metaless_envelope::EnvelopeError;
use metaless_identity::IdentityError;
use metaless_onion::OnionError;
use metaless_swarm::SwarmError;

use crate::guard::ffi_guard;

/// What a function did. `METALESS_RESULT_OK` is 0; every other value is a failure whose
/// log-safe description `metaless_context_last_error` returns.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum metaless_result {
    /// Success.
    METALESS_RESULT_OK = 0,
    /// A required pointer was NULL (a context, a handle, an output, or input bytes with a
    /// non-zero length).
    METALESS_RESULT_NULL_POINTER = 1,
    /// A buffer has the wrong length: a key that is not 32 bytes, an output buffer too small.
    METALESS_RESULT_INVALID_LENGTH = 2,
    /// Text input is not UTF-8.
    METALESS_RESULT_INVALID_UTF8 = 3,
    /// A numeric argument is outside its documented set (an encryption type, a mode).
    METALESS_RESULT_INVALID_ARGUMENT = 4,
    /// The handle holds no such value (the next hop of a delivered layer, the reply of a
    /// forwarded one, a reply already taken).
    METALESS_RESULT_NOT_AVAILABLE = 5,
    /// A bug: a panic was caught at the boundary. Free the handles involved; do not reuse them.
    METALESS_RESULT_PANIC = 6,
    /// A failure with no more specific code; the message says what.
    METALESS_RESULT_FAILED = 7,
    /// Not a valid Session ID (66 hex digits with a known prefix), or a prefix not allowed here.
    METALESS_RESULT_INVALID_SESSION_ID = 20,
    /// A public key that is not a valid curve point, or a weak (small-order) key.
    METALESS_RESULT_INVALID_KEY = 21,
    /// A recovery phrase with an unknown word, a wrong word count or a bad checksum.
    METALESS_RESULT_INVALID_MNEMONIC = 22,
    /// Blinding with this server key is impossible.
    METALESS_RESULT_BLINDING_FAILED = 23,
    /// Decryption failed: wrong key, or the bytes were altered. Deliberately no detail.
    METALESS_RESULT_DECRYPT_FAILED = 30,
    /// A signature does not verify.
    METALESS_RESULT_BAD_SIGNATURE = 31,
    /// The bytes do not parse as what they should be.
    METALESS_RESULT_MALFORMED = 32,
    /// An input is larger than the documented limit.
    METALESS_RESULT_TOO_LARGE = 33,
    /// An onion path with no hops or more than `METALESS_MAX_HOPS`.
    METALESS_RESULT_INVALID_PATH = 40,
    /// An onion destination (host, port, protocol or target) is invalid.
    METALESS_RESULT_INVALID_DESTINATION = 41,
    /// A namespace outside -32768..=32767.
    METALESS_RESULT_UNKNOWN_NAMESPACE = 50,
    /// The client has too many operations pending; wait for events.
    METALESS_RESULT_CLIENT_BUSY = 60,
    /// The client's persistence failed; the operation was not accepted.
    METALESS_RESULT_CLIENT_PERSISTENCE = 61,
    /// The client's bootstrap (node list) is unusable.
    METALESS_RESULT_CLIENT_BOOTSTRAP = 62,
    /// The client does not know that message.
    METALESS_RESULT_UNKNOWN_MESSAGE = 63,
    /// A transport gave no answer before its deadline.
    METALESS_RESULT_TRANSPORT_TIMEOUT = 90,
    /// A transport could not reach the node.
    METALESS_RESULT_TRANSPORT_UNREACHABLE = 91,
}

impl metaless_result {
    /// The C name of the code, as a static NUL-terminated string.
    ///
    /// ```
    /// use metaless_ffi::metaless_result;
    /// assert_eq!(metaless_result::METALESS_RESULT_TOO_LARGE.name().to_str(), Ok("METALESS_RESULT_TOO_LARGE"));
    /// ```
    pub fn name(self) -> &'static CStr {
        use metaless_result::*;
        match self {
            METALESS_RESULT_OK => c"METALESS_RESULT_OK",
            METALESS_RESULT_NULL_POINTER => c"METALESS_RESULT_NULL_POINTER",
            METALESS_RESULT_INVALID_LENGTH => c"METALESS_RESULT_INVALID_LENGTH",
            METALESS_RESULT_INVALID_UTF8 => c"METALESS_RESULT_INVALID_UTF8",
            METALESS_RESULT_INVALID_ARGUMENT => c"METALESS_RESULT_INVALID_ARGUMENT",
            METALESS_RESULT_NOT_AVAILABLE => c"METALESS_RESULT_NOT_AVAILABLE",
            METALESS_RESULT_PANIC => c"METALESS_RESULT_PANIC",
            METALESS_RESULT_FAILED => c"METALESS_RESULT_FAILED",
            METALESS_RESULT_INVALID_SESSION_ID => c"METALESS_RESULT_INVALID_SESSION_ID",
            METALESS_RESULT_INVALID_KEY => c"METALESS_RESULT_INVALID_KEY",
            METALESS_RESULT_INVALID_MNEMONIC => c"METALESS_RESULT_INVALID_MNEMONIC",
            METALESS_RESULT_BLINDING_FAILED => c"METALESS_RESULT_BLINDING_FAILED",
            METALESS_RESULT_DECRYPT_FAILED => c"METALESS_RESULT_DECRYPT_FAILED",
            METALESS_RESULT_BAD_SIGNATURE => c"METALESS_RESULT_BAD_SIGNATURE",
            METALESS_RESULT_MALFORMED => c"METALESS_RESULT_MALFORMED",
            METALESS_RESULT_TOO_LARGE => c"METALESS_RESULT_TOO_LARGE",
            METALESS_RESULT_INVALID_PATH => c"METALESS_RESULT_INVALID_PATH",
            METALESS_RESULT_INVALID_DESTINATION => c"METALESS_RESULT_INVALID_DESTINATION",
            METALESS_RESULT_UNKNOWN_NAMESPACE => c"METALESS_RESULT_UNKNOWN_NAMESPACE",
            METALESS_RESULT_CLIENT_BUSY => c"METALESS_RESULT_CLIENT_BUSY",
            METALESS_RESULT_CLIENT_PERSISTENCE => c"METALESS_RESULT_CLIENT_PERSISTENCE",
            METALESS_RESULT_CLIENT_BOOTSTRAP => c"METALESS_RESULT_CLIENT_BOOTSTRAP",
            METALESS_RESULT_UNKNOWN_MESSAGE => c"METALESS_RESULT_UNKNOWN_MESSAGE",
            METALESS_RESULT_TRANSPORT_TIMEOUT => c"METALESS_RESULT_TRANSPORT_TIMEOUT",
            METALESS_RESULT_TRANSPORT_UNREACHABLE => c"METALESS_RESULT_TRANSPORT_UNREACHABLE",
        }
    }

    /// Every code, in numeric order (for tests and the documentation table).
    ///
    /// ```
    /// use metaless_ffi::metaless_result;
    /// assert_eq!(metaless_result::ALL[0], metaless_result::METALESS_RESULT_OK);
    /// ```
    pub const ALL: [metaless_result; 25] = {
        use metaless_result::*;
        [
            METALESS_RESULT_OK,
            METALESS_RESULT_NULL_POINTER,
            METALESS_RESULT_INVALID_LENGTH,
            METALESS_RESULT_INVALID_UTF8,
            METALESS_RESULT_INVALID_ARGUMENT,
            METALESS_RESULT_NOT_AVAILABLE,
            METALESS_RESULT_PANIC,
            METALESS_RESULT_FAILED,
            METALESS_RESULT_INVALID_SESSION_ID,
            METALESS_RESULT_INVALID_KEY,
            METALESS_RESULT_INVALID_MNEMONIC,
            METALESS_RESULT_BLINDING_FAILED,
            METALESS_RESULT_DECRYPT_FAILED,
            METALESS_RESULT_BAD_SIGNATURE,
            METALESS_RESULT_MALFORMED,
            METALESS_RESULT_TOO_LARGE,
            METALESS_RESULT_INVALID_PATH,
            METALESS_RESULT_INVALID_DESTINATION,
            METALESS_RESULT_UNKNOWN_NAMESPACE,
            METALESS_RESULT_CLIENT_BUSY,
            METALESS_RESULT_CLIENT_PERSISTENCE,
            METALESS_RESULT_CLIENT_BOOTSTRAP,
            METALESS_RESULT_UNKNOWN_MESSAGE,
            METALESS_RESULT_TRANSPORT_TIMEOUT,
            METALESS_RESULT_TRANSPORT_UNREACHABLE,
        ]
    };
}

/// The C name of a result code (`"METALESS_RESULT_OK"`, …) as a static NUL-terminated string,
/// or `"METALESS_RESULT_UNKNOWN"` for a number that is not a code. Never NULL; never free it.
#[unsafe(no_mangle)]
pub extern "C" fn metaless_result_name(code: u32) -> *const c_char {
    ffi_guard(|| {
        metaless_result::ALL
            .iter()
            .find(|r| **r as u32 == code)
            .map_or(c"METALESS_RESULT_UNKNOWN", |r| r.name())
            .as_ptr()
    })
}

/// A failure on its way to the context: a code and a log-safe, one-line message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FfiError {
    pub(crate) code: metaless_result,
    pub(crate) message: String,
}

impl FfiError {
    pub(crate) fn new(code: metaless_result, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn null(what: &str) -> Self {
        Self::new(
            metaless_result::METALESS_RESULT_NULL_POINTER,
            format!("{what}: null pointer"),
        )
    }

    pub(crate) fn length(what: &str, expected: usize, actual: usize) -> Self {
        Self::new(
            metaless_result::METALESS_RESULT_INVALID_LENGTH,
            format!("{what}: expected {expected} bytes, got {actual}"),
        )
    }

    pub(crate) fn argument(what: &str, why: &str) -> Self {
        Self::new(
            metaless_result::METALESS_RESULT_INVALID_ARGUMENT,
            format!("{what}: {why}"),
        )
    }

    pub(crate) fn not_available(what: &str) -> Self {
        Self::new(
            metaless_result::METALESS_RESULT_NOT_AVAILABLE,
            format!("{what}: not available on this handle"),
        )
    }

    /// Prefixes the message with the argument or step it concerns.
    pub(crate) fn context(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

/// Maps a crate error to its code; the message is the error's `Display`, which every crate
/// keeps free of keys, plaintext and full Session IDs.
macro_rules! from_error {
    ($ty:ty, |$e:ident| $code:expr) => {
        impl From<$ty> for FfiError {
            fn from($e: $ty) -> Self {
                use metaless_result::*;
                let code = $code;
                FfiError::new(code, $e.to_string())
            }
        }
    };
}

from_error!(IdentityError, |e| match e {
    IdentityError::WrongLength { .. } => METALESS_RESULT_INVALID_LENGTH,
    IdentityError::NotHex { .. }
    | IdentityError::UnknownPrefix(_)
    | IdentityError::UnexpectedPrefix(_) => METALESS_RESULT_INVALID_SESSION_ID,
    IdentityError::InvalidPoint => METALESS_RESULT_INVALID_KEY,
    IdentityError::BadSignature => METALESS_RESULT_BAD_SIGNATURE,
    IdentityError::UnknownWord { .. }
    | IdentityError::WrongWordCount(_)
    | IdentityError::BadChecksum
    | IdentityError::InvalidPhrase => METALESS_RESULT_INVALID_MNEMONIC,
    IdentityError::BlindingFailed => METALESS_RESULT_BLINDING_FAILED,
    _ => METALESS_RESULT_FAILED,
});

from_error!(OnionError, |e| match e {
    OnionError::Wire(_)
    | OnionError::InvalidJson(_)
    | OnionError::MissingEphemeralKey
    | OnionError::UnknownEncType
    | OnionError::InvalidV4(_) => METALESS_RESULT_MALFORMED,
    OnionError::TooLarge { .. } => METALESS_RESULT_TOO_LARGE,
    OnionError::InvalidKey | OnionError::WeakKey => METALESS_RESULT_INVALID_KEY,
    OnionError::Decrypt => METALESS_RESULT_DECRYPT_FAILED,
    OnionError::PathLength { .. } => METALESS_RESULT_INVALID_PATH,
    OnionError::InvalidDestination(_) => METALESS_RESULT_INVALID_DESTINATION,
    _ => METALESS_RESULT_FAILED,
});

from_error!(EnvelopeError, |e| match e {
    EnvelopeError::NotAnEnvelope
    | EnvelopeError::CiphertextTooShort { .. }
    | EnvelopeError::BadPadding
    | EnvelopeError::InvalidContent => METALESS_RESULT_MALFORMED,
    EnvelopeError::WrongRecipient => METALESS_RESULT_DECRYPT_FAILED,
    EnvelopeError::BadSignature => METALESS_RESULT_BAD_SIGNATURE,
    EnvelopeError::InvalidSenderKey => METALESS_RESULT_INVALID_KEY,
    EnvelopeError::InvalidRecipient => METALESS_RESULT_INVALID_SESSION_ID,
    EnvelopeError::TooLarge { .. } => METALESS_RESULT_TOO_LARGE,
    _ => METALESS_RESULT_FAILED,
});

from_error!(SwarmError, |e| match e {
    SwarmError::UnknownNamespace(_) => METALESS_RESULT_UNKNOWN_NAMESPACE,
    SwarmError::InvalidPubkey => METALESS_RESULT_INVALID_SESSION_ID,
    SwarmError::TooLarge { .. } => METALESS_RESULT_TOO_LARGE,
    SwarmError::BadSignature => METALESS_RESULT_BAD_SIGNATURE,
    SwarmError::InvalidNode(_) => METALESS_RESULT_INVALID_KEY,
    SwarmError::InvalidJson
    | SwarmError::MissingField(_)
    | SwarmError::InvalidField(_)
    | SwarmError::InvalidMessageHash => METALESS_RESULT_MALFORMED,
    _ => METALESS_RESULT_FAILED,
});

from_error!(ClientError, |e| match e.kind() {
    ClientErrorKind::TooLarge => METALESS_RESULT_TOO_LARGE,
    ClientErrorKind::InvalidRecipient => METALESS_RESULT_INVALID_SESSION_ID,
    ClientErrorKind::Persistence => METALESS_RESULT_CLIENT_PERSISTENCE,
    ClientErrorKind::Busy => METALESS_RESULT_CLIENT_BUSY,
    ClientErrorKind::UnknownMessage => METALESS_RESULT_UNKNOWN_MESSAGE,
    ClientErrorKind::Bootstrap => METALESS_RESULT_CLIENT_BOOTSTRAP,
    _ => METALESS_RESULT_FAILED,
});

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_are_distinct_and_sorted() {
        let numbers: Vec<u32> = metaless_result::ALL.iter().map(|r| *r as u32).collect();
        let unique: BTreeSet<u32> = numbers.iter().copied().collect();
        assert_eq!(unique.len(), numbers.len());
        assert!(numbers.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn names_round_trip_through_the_export() {
        for code in metaless_result::ALL {
            // SAFETY: the export returns a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(metaless_result_name(code as u32)) };
            assert_eq!(name, code.name());
            assert!(name.to_bytes().starts_with(b"METALESS_RESULT_"));
        }
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(metaless_result_name(12345)) };
        assert_eq!(unknown.to_str(), Ok("METALESS_RESULT_UNKNOWN"));
    }

    #[test]
    fn decryption_failures_carry_no_detail() {
        let e = FfiError::from(EnvelopeError::WrongRecipient);
        assert_eq!(e.code, metaless_result::METALESS_RESULT_DECRYPT_FAILED);
        let e = FfiError::from(OnionError::Decrypt);
        assert_eq!(e.code, metaless_result::METALESS_RESULT_DECRYPT_FAILED);
        assert_eq!(e.message, "decryption failed");
    }
}
