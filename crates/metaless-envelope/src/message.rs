//! The stored form of a one-to-one message: [`seal_message`] and [`open_message`].
//!
//! What a Session client stores in the recipient's swarm (libsession-util
//! `encode_for_1o1` / `decode_envelope`), outside in:
//!
//! ```text
//! WebSocketMessage { type: REQUEST, request: WebSocketRequestMessage {
//!     verb: "", path: "", body: Envelope {
//!         type: SESSION_MESSAGE, timestamp: sent_at_ms, sourceDevice: 1,
//!         content: sign-then-seal(pad(Content)), proSig: 64-byte decoy },
//!     requestId: 0 } }
//! ```

use alloc::vec::Vec;

use curve25519_dalek::{EdwardsPoint, Scalar};
use metaless_identity::{Keypair, SessionId, X25519Secret};
use prost::Message as _;
use prost::bytes::Bytes;
use prost::encoding::{encode_varint, encoded_len_varint as varint_len};
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::EnvelopeError;
use crate::SenderKeys;
use crate::content::Content;
use crate::limits::MAX_STORED_MESSAGE_LEN;
use crate::padding::{append_padding, check_content_len, padded_len, unpadded_len};
use crate::proto::session as pb;
use crate::sealed::{decrypt_incoming, seal_with};

/// A message opened by [`open_message`]: who sent it (verified), what it says, and when the
/// sender says it was sent.
///
/// ```
/// # use metaless_envelope::{open_message, seal_message, Content};
/// # use metaless_identity::{Keypair, Seed};
/// let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
/// let stored = seal_message(&alice, &bob.session_id(), &Content::text("hi"), 5_000, &mut rand_core::OsRng).unwrap();
/// let received = open_message(&bob, &stored).unwrap();
/// assert_eq!(received.sender, alice.session_id());
/// assert_eq!(received.signed_sent_at_ms, Some(5_000));
/// assert!(received.timestamp_is_signed());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The sender's Session ID, derived from the key the signature verified under.
    pub sender: SessionId,
    /// The sender's Ed25519 key.
    pub sender_ed25519: [u8; 32],
    /// The domain view of the content.
    pub content: Content,
    /// The full protobuf content, for fields the domain view leaves out (feature `proto`).
    #[cfg(feature = "proto")]
    pub raw: pb::Content,
    /// The envelope's timestamp (ms): what Session clients show and use to refer to the message.
    /// The envelope is not signed; see [`Received::signed_sent_at_ms`].
    pub sent_at_ms: u64,
    /// `Content.sigTimestamp`: the sent timestamp inside the signed plaintext, if the sender's
    /// client included it (current clients do).
    pub signed_sent_at_ms: Option<u64>,
}

impl Received {
    /// Whether the envelope's timestamp is covered by the sender's signature (the signed copy is
    /// present and equal).
    pub fn timestamp_is_signed(&self) -> bool {
        self.signed_sent_at_ms == Some(self.sent_at_ms)
    }
}

/// Encodes, pads, signs, seals and wraps `content`: the exact bytes a Session client stores in
/// `to`'s swarm (namespace 0) for a one-to-one message sent at `sent_at_ms`.
///
/// ```
/// use metaless_envelope::{seal_message, Content, EnvelopeError};
/// use metaless_identity::{Keypair, Seed};
/// let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
/// let one = seal_message(&alice, &bob.session_id(), &Content::text("hi"), 1, &mut rand_core::OsRng).unwrap();
/// let two = seal_message(&alice, &bob.session_id(), &Content::text("hello"), 1, &mut rand_core::OsRng).unwrap();
/// assert_eq!(one.len(), two.len()); // padding hides the exact length
/// assert_ne!(one, two);
/// ```
pub fn seal_message(
    sender: &Keypair,
    to: &SessionId,
    content: &Content,
    sent_at_ms: u64,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, EnvelopeError> {
    seal_proto(sender, to, &content.to_raw(sent_at_ms), sent_at_ms, rng)
}

/// [`seal_message`] for a protobuf `Content` built by hand (feature `proto`; sent exactly as given: nothing,
/// not even `sigTimestamp`, is filled in).
///
/// ```
/// use metaless_envelope::{open_message, seal_proto, proto::session as pb};
/// use metaless_identity::{Keypair, Seed};
/// let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
/// let raw = pb::Content { call_message: Some(Default::default()), ..Default::default() };
/// let stored = seal_proto(&alice, &bob.session_id(), &raw, 9, &mut rand_core::OsRng).unwrap();
/// assert_eq!(open_message(&bob, &stored).unwrap().raw, raw);
/// ```
pub fn seal_proto(
    sender: &Keypair,
    to: &SessionId,
    content: &pb::Content,
    sent_at_ms: u64,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, EnvelopeError> {
    let recipient = match to.prefix() {
        metaless_identity::SessionIdPrefix::Standard => to.key(),
        _ => return Err(EnvelopeError::InvalidRecipient),
    };
    let content_len = content.encoded_len();
    check_content_len(content_len)?;

    let mut ephemeral = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(ephemeral.as_mut());
    let ephemeral = X25519Secret::from_bytes(*ephemeral);
    let decoy = decoy_signature(rng);

    // The wrappers are written around the ciphertext in one buffer (field order and encodings
    // exactly as prost / libprotobuf write the same structs; `tests/message.rs` decodes and
    // re-encodes to check), so the ciphertext is produced in place and never copied.
    let layout = StoredLayout::new(sent_at_ms, padded_len(content_len));
    let mut out = Vec::with_capacity(layout.total);
    layout.write_head(&mut out);
    let mut out = seal_with(
        sender,
        recipient,
        ephemeral,
        out,
        padded_len(content_len),
        |buf| {
            content
                .encode(buf)
                .map_err(|_| EnvelopeError::InvalidContent)?;
            append_padding(content_len, buf);
            Ok(())
        },
    )?;
    layout.write_tail(&mut out, &decoy);
    Ok(out)
}

/// Byte counts of the stored form around a ciphertext of known length:
///
/// ```text
/// WebSocketMessage  08 01 12 len(req)
///   request         0a 00 12 00 1a len(env)          verb "", path "", body =
///     Envelope      08 06 28 ts 38 01 42 len(ct)     type 6, timestamp, sourceDevice 1, content =
///                   <ciphertext>
///                   5a 40 <decoy proSig>             proSig
///   request tail    20 00                            requestId 0
/// ```
struct StoredLayout {
    sent_at_ms: u64,
    ciphertext: usize,
    envelope: usize,
    request: usize,
    total: usize,
}

impl StoredLayout {
    fn new(sent_at_ms: u64, padded: usize) -> Self {
        let ciphertext = padded + crate::sealed::OVERHEAD;
        let envelope = 2
            + 1
            + varint_len(sent_at_ms)
            + 2
            + 1
            + varint_len(ciphertext as u64)
            + ciphertext
            + 2
            + 64;
        let request = 2 + 2 + 1 + varint_len(envelope as u64) + envelope + 2;
        let total = 2 + 1 + varint_len(request as u64) + request;
        Self {
            sent_at_ms,
            ciphertext,
            envelope,
            request,
            total,
        }
    }

    fn write_head(&self, out: &mut Vec<u8>) {
        // WebSocketMessage.type = REQUEST; .request = (length-delimited)
        out.extend_from_slice(&[0x08, 0x01, 0x12]);
        encode_varint(self.request as u64, out);
        // request.verb = ""; .path = ""; .body = (length-delimited)
        out.extend_from_slice(&[0x0a, 0x00, 0x12, 0x00, 0x1a]);
        encode_varint(self.envelope as u64, out);
        // Envelope.type = SESSION_MESSAGE; .timestamp
        out.extend_from_slice(&[0x08, 0x06, 0x28]);
        encode_varint(self.sent_at_ms, out);
        // Envelope.sourceDevice = 1; .content = (length-delimited)
        out.extend_from_slice(&[0x38, 0x01, 0x42]);
        encode_varint(self.ciphertext as u64, out);
    }

    fn write_tail(&self, out: &mut Vec<u8>, decoy: &[u8; 64]) {
        // Envelope.proSig (64 bytes)
        out.extend_from_slice(&[0x5a, 0x40]);
        out.extend_from_slice(decoy);
        // request.requestId = 0
        out.extend_from_slice(&[0x20, 0x00]);
        debug_assert_eq!(out.len(), self.total);
    }
}

/// A Session Pro signature slot filled with a decoy, as upstream does for senders without Pro:
/// `R = r·B` for a random scalar `r` and a random scalar `s`, so it looks like any signature
/// and verifies against nothing.
fn decoy_signature(rng: &mut (impl RngCore + CryptoRng)) -> [u8; 64] {
    let mut wide = Zeroizing::new([0u8; 64]);
    rng.fill_bytes(wide.as_mut());
    let r = Scalar::from_bytes_mod_order_wide(&wide);
    rng.fill_bytes(wide.as_mut());
    let s = Scalar::from_bytes_mod_order_wide(&wide);
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(EdwardsPoint::mul_base(&r).compress().as_bytes());
    out[32..].copy_from_slice(s.as_bytes());
    out
}

/// Only the envelope fields we need, with presence (the generated type cannot tell a missing
/// proto2 `required` field from a zero one; upstream refuses envelopes missing them). Decoded
/// from a [`Bytes`] buffer, `content` is a view into it, not a copy.
#[derive(Clone, PartialEq, prost::Message)]
struct EnvelopeFields {
    #[prost(int32, optional, tag = "1")]
    kind: Option<i32>,
    #[prost(uint64, optional, tag = "5")]
    timestamp: Option<u64>,
    #[prost(bytes = "bytes", optional, tag = "8")]
    content: Option<Bytes>,
}

/// `WebSocketMessage.request.body`, and nothing else, as a view into the input.
#[derive(Clone, PartialEq, prost::Message)]
struct WrapperFields {
    #[prost(message, optional, tag = "2")]
    request: Option<RequestFields>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct RequestFields {
    #[prost(bytes = "bytes", optional, tag = "3")]
    body: Option<Bytes>,
}

/// Unwraps, opens and verifies a stored one-to-one message addressed to `me`.
///
/// ```
/// use metaless_envelope::{open_message, seal_message, Content, EnvelopeError};
/// use metaless_identity::{Keypair, Seed};
/// let alice = Keypair::from_seed(&Seed::from_bytes([1u8; 32]));
/// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
/// let stored = seal_message(&alice, &bob.session_id(), &Content::text("hi"), 1, &mut rand_core::OsRng).unwrap();
/// assert_eq!(open_message(&bob, &stored).unwrap().content, Content::text("hi"));
/// assert_eq!(open_message(&alice, &stored), Err(EnvelopeError::WrongRecipient));
/// assert_eq!(open_message(&bob, b"not a message"), Err(EnvelopeError::NotAnEnvelope));
/// ```
pub fn open_message(me: &Keypair, stored: &[u8]) -> Result<Received, EnvelopeError> {
    open_message_with(me, stored, None)
}

/// [`open_message`], checking the sender key through `keys` when given.
pub(crate) fn open_message_with(
    me: &Keypair,
    stored: &[u8],
    keys: Option<&mut SenderKeys>,
) -> Result<Received, EnvelopeError> {
    if stored.len() > MAX_STORED_MESSAGE_LEN {
        return Err(EnvelopeError::TooLarge {
            what: "stored message",
            len: stored.len(),
            max: MAX_STORED_MESSAGE_LEN,
        });
    }
    // One copy of the input; the body and the ciphertext inside are views into it.
    let wrapper = WrapperFields::decode(Bytes::copy_from_slice(stored))
        .map_err(|_| EnvelopeError::NotAnEnvelope)?;
    let body = wrapper
        .request
        .and_then(|request| request.body)
        .ok_or(EnvelopeError::NotAnEnvelope)?;
    open_envelope_bytes(me, body, keys)
}

/// [`open_message`] for a bare serialized `Envelope` (no `WebSocketMessage` around it).
///
/// ```
/// use metaless_envelope::{open_envelope, EnvelopeError};
/// use metaless_identity::{Keypair, Seed};
/// let bob = Keypair::from_seed(&Seed::from_bytes([2u8; 32]));
/// // type SESSION_MESSAGE and a timestamp, but no content
/// assert_eq!(open_envelope(&bob, &[0x08, 0x06, 0x28, 0x01]), Err(EnvelopeError::NotAnEnvelope));
/// ```
pub fn open_envelope(me: &Keypair, envelope: &[u8]) -> Result<Received, EnvelopeError> {
    if envelope.len() > MAX_STORED_MESSAGE_LEN {
        return Err(EnvelopeError::TooLarge {
            what: "envelope",
            len: envelope.len(),
            max: MAX_STORED_MESSAGE_LEN,
        });
    }
    open_envelope_bytes(me, Bytes::copy_from_slice(envelope), None)
}

fn open_envelope_bytes(
    me: &Keypair,
    envelope: Bytes,
    keys: Option<&mut SenderKeys>,
) -> Result<Received, EnvelopeError> {
    let fields = EnvelopeFields::decode(envelope).map_err(|_| EnvelopeError::NotAnEnvelope)?;
    let (Some(kind), Some(sent_at_ms), Some(ciphertext)) =
        (fields.kind, fields.timestamp, fields.content)
    else {
        return Err(EnvelopeError::NotAnEnvelope);
    };
    if kind != pb::envelope::Type::SessionMessage as i32 {
        return Err(EnvelopeError::NotAnEnvelope);
    }
    let opened = match keys {
        Some(keys) => keys.decrypt_incoming(me, &ciphertext)?,
        None => decrypt_incoming(me, &ciphertext)?,
    };
    let mut plaintext = opened.plaintext;
    plaintext.truncate(unpadded_len(&plaintext)?);
    let (content, raw) = Content::decode_with_raw(&plaintext)?;
    Ok(Received {
        sender: opened.sender,
        sender_ed25519: opened.sender_ed25519,
        content,
        signed_sent_at_ms: raw.sig_timestamp,
        #[cfg(feature = "proto")]
        raw,
        sent_at_ms,
    })
}
