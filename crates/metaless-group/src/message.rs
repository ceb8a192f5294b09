//! The group message cipher (namespace 11).
//!
//! ```text
//! data = zstd(envelope, level 1) if strictly smaller ("z") else envelope ("d")
//! d    = bt {"": 1, "a": sender Ed25519 key, "d"|"z": data, "s": Ed25519(sender, data ‖ group_pk)}
//! d   ‖= 0x00 … so that 24 + 16 + len(d) is a multiple of 256
//! wire = nonce(24) ‖ XChaCha20-Poly1305(group key, nonce, d)
//! ```
//!
//! Receivers accept the older signature over `data` alone too; senders use the new form only.

use alloc::vec::Vec;
use std::io::Read;

use metaless_config::bt::{self, Value};
use metaless_envelope::Content;
use metaless_envelope::proto::session::{Envelope, envelope};
use metaless_identity::{Keypair, SessionId, ed25519_to_x25519_public, verify_ed25519};
use prost::Message as _;
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::keys::{GroupKey, GroupKeyring};
use crate::limits::{MAX_GROUP_MESSAGE, MAX_PLAINTEXT_MESSAGE_SIZE, MESSAGE_PADDING};
use crate::multi::{open, seal};
use crate::{GroupError, GroupId};

/// Nonce and Poly1305 tag around the padded dict.
const OVERHEAD: usize = 24 + 16;

/// Which signature a received message carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureForm {
    /// Over `data ‖ group_pk` (libsession 2025 and later; what we send).
    Current,
    /// Over `data` alone (libsession before 2025).
    Legacy,
}

/// A decrypted group message payload.
#[derive(Clone)]
pub struct GroupPayload {
    /// The sender's standard Session ID (`05 ‖ X25519` of the signing key).
    pub sender: SessionId,
    /// The sender's Ed25519 key, which signed the payload.
    pub sender_ed25519: [u8; 32],
    /// The payload (an Envelope protobuf for real messages), decompressed.
    pub data: Zeroizing<Vec<u8>>,
    /// Which signature form verified.
    pub signature_form: SignatureForm,
    /// Whether the payload travelled zstd-compressed.
    pub compressed: bool,
    /// Generation of the key that decrypted it.
    pub generation: u64,
}

impl core::fmt::Debug for GroupPayload {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GroupPayload")
            .field("sender", &self.sender)
            .field("len", &self.data.len())
            .field("signature_form", &self.signature_form)
            .field("compressed", &self.compressed)
            .field("generation", &self.generation)
            .finish()
    }
}

/// Encrypts `data` for the group under `key`, signed by `sender` (the low layer: the caller
/// chooses the nonce; [`encrypt_content`] is what clients call).
///
/// ```
/// use metaless_group::{decrypt_payload, encrypt_payload, rekey, GroupKeyring, GroupKeys};
/// use metaless_identity::{Keypair, Seed};
/// let group = GroupKeys::from_seed([1; 32]);
/// let (_, key) = rekey(&group, &[], 0, 1)?;
/// let alice = Keypair::from_seed(&Seed::from_bytes([2; 32]));
/// let wire = encrypt_payload(&alice, &group.group_id(), &key, b"hello", true, [0; 24])?;
/// assert_eq!(wire.len() % 256, 0);
/// let mut ring = GroupKeyring::new(group.group_id());
/// ring.insert(&key);
/// let got = decrypt_payload(&ring, &wire)?;
/// assert_eq!(&got.data[..], b"hello");
/// assert_eq!(got.sender, alice.session_id());
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
pub fn encrypt_payload(
    sender: &Keypair,
    group: &GroupId,
    key: &GroupKey,
    data: &[u8],
    compress: bool,
    nonce: [u8; 24],
) -> Result<Vec<u8>, GroupError> {
    if data.len() > MAX_PLAINTEXT_MESSAGE_SIZE {
        return Err(GroupError::TooLarge {
            field: "group message",
            len: data.len(),
            max: MAX_PLAINTEXT_MESSAGE_SIZE,
        });
    }
    let compressed = if compress {
        zstd::bulk::compress(data, 1)
            .ok()
            .filter(|z| z.len() < data.len())
    } else {
        None
    };
    let (tag, body): (&[u8], &[u8]) = match &compressed {
        Some(z) => (b"z", z),
        None => (b"d", data),
    };
    let mut signed = Vec::with_capacity(body.len() + 32);
    signed.extend_from_slice(body);
    signed.extend_from_slice(&group.ed25519());
    let sig = sender.sign(&signed);
    let dict = Value::dict([
        (Vec::new(), Value::Int(1)),
        (
            b"a".to_vec(),
            Value::Bytes(sender.ed25519_public().to_vec()),
        ),
        (tag.to_vec(), Value::Bytes(body.to_vec())),
        (b"s".to_vec(), Value::Bytes(sig.to_vec())),
    ]);
    let mut plain = Zeroizing::new(bt::encode(&dict));
    let rem = (OVERHEAD + plain.len()) % MESSAGE_PADDING;
    if rem != 0 {
        let padded = plain.len() + MESSAGE_PADDING - rem;
        plain.resize(padded, 0);
    }
    let ct = seal(key.expose_secret(), &nonce, &plain)?;
    let mut wire = Vec::with_capacity(24 + ct.len());
    wire.extend_from_slice(&nonce);
    wire.extend_from_slice(&ct);
    Ok(wire)
}

/// Decrypts a group message with the keyring (newest key first), verifies the sender's
/// signature (either form) and decompresses.
///
/// Errors: [`GroupError::DecryptFailed`] when no key opens it (tampered, wrong group, a key
/// we never got, i.e. after removal); [`GroupError::BadSignature`] for a bad sender
/// signature; [`GroupError::Malformed`] for a bad inner structure;
/// [`GroupError::Decompress`] for a bad or oversize `z` payload.
pub fn decrypt_payload(ring: &GroupKeyring, wire: &[u8]) -> Result<GroupPayload, GroupError> {
    if wire.len() < OVERHEAD {
        return Err(GroupError::Malformed("group message length"));
    }
    if wire.len() > MAX_GROUP_MESSAGE {
        return Err(GroupError::TooLarge {
            field: "group message",
            len: wire.len(),
            max: MAX_GROUP_MESSAGE,
        });
    }
    let mut nonce = [0u8; 24];
    nonce.copy_from_slice(&wire[..24]);
    let (plain, generation) = ring
        .iter()
        .find_map(|k| {
            open(k.expose_secret(), &nonce, &wire[24..])
                .ok()
                .map(|p| (p, k.generation()))
        })
        .ok_or(GroupError::DecryptFailed)?;
    let end = plain.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    let inner = &plain[..end];
    if inner.first() != Some(&b'd') || inner.last() != Some(&b'e') {
        return Err(GroupError::Malformed("group message dict"));
    }
    let Ok(Value::Dict(d)) = bt::decode(inner) else {
        return Err(GroupError::Malformed("group message dict"));
    };
    if d.get(b"".as_slice()).and_then(Value::as_int) != Some(1) {
        return Err(GroupError::Malformed("group message version"));
    }
    let sender_ed25519: [u8; 32] = d
        .get(b"a".as_slice())
        .and_then(Value::as_bytes)
        .and_then(|a| a.try_into().ok())
        .ok_or(GroupError::Malformed("group message sender"))?;
    let sig: [u8; 64] = d
        .get(b"s".as_slice())
        .and_then(Value::as_bytes)
        .and_then(|s| s.try_into().ok())
        .ok_or(GroupError::Malformed("group message signature"))?;
    let (body, compressed) = match (
        d.get(b"d".as_slice()).and_then(Value::as_bytes),
        d.get(b"z".as_slice()).and_then(Value::as_bytes),
    ) {
        (Some(b), None) if !b.is_empty() => (b, false),
        (None, Some(z)) if !z.is_empty() => (z, true),
        _ => return Err(GroupError::Malformed("group message data")),
    };
    let mut signed = Vec::with_capacity(body.len() + 32);
    signed.extend_from_slice(body);
    signed.extend_from_slice(&ring.group().ed25519());
    let signature_form = if verify_ed25519(&sender_ed25519, &signed, &sig).is_ok() {
        SignatureForm::Current
    } else if verify_ed25519(&sender_ed25519, body, &sig).is_ok() {
        SignatureForm::Legacy
    } else {
        return Err(GroupError::BadSignature);
    };
    let x = ed25519_to_x25519_public(&sender_ed25519)
        .map_err(|_| GroupError::Malformed("group message sender"))?;
    let data = if compressed {
        Zeroizing::new(decompress(body)?)
    } else {
        Zeroizing::new(body.to_vec())
    };
    Ok(GroupPayload {
        sender: SessionId::standard(x),
        sender_ed25519,
        data,
        signature_form,
        compressed,
        generation,
    })
}

/// zstd decompression capped at [`MAX_PLAINTEXT_MESSAGE_SIZE`] (a bomb stops at the cap).
fn decompress(z: &[u8]) -> Result<Vec<u8>, GroupError> {
    let decoder = zstd::stream::read::Decoder::new(z).map_err(|_| GroupError::Decompress)?;
    let mut out = Vec::new();
    decoder
        .take(MAX_PLAINTEXT_MESSAGE_SIZE as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| GroupError::Decompress)?;
    if out.len() > MAX_PLAINTEXT_MESSAGE_SIZE || out.is_empty() {
        return Err(GroupError::Decompress);
    }
    Ok(out)
}

/// A received group message.
#[derive(Debug, Clone)]
pub struct ReceivedGroupMessage {
    /// The sender's `05` Session ID.
    pub sender: SessionId,
    /// The message.
    pub content: Content,
    /// The sender's timestamp (Envelope `timestamp`, ms).
    pub sent_at_ms: u64,
    /// Which signature form verified.
    pub signature_form: SignatureForm,
    /// Generation of the key that decrypted it.
    pub generation: u64,
}

/// Builds the group message for `content` the way Session clients do: an Envelope (type
/// `CLOSED_GROUP_MESSAGE`, source device 1, `timestamp = sent_at_ms`, the unpadded Content,
/// 64 random bytes of decoy Pro signature), compressed when smaller, encrypted with the
/// keyring's current key. Returns the bytes to store (base64 them into `data`) in namespace 11.
///
/// ```
/// use metaless_envelope::Content;
/// use metaless_group::{decrypt_content, encrypt_content, rekey, GroupKeyring, GroupKeys};
/// use metaless_identity::{Keypair, Seed};
/// let group = GroupKeys::from_seed([1; 32]);
/// let (_, key) = rekey(&group, &[], 0, 1)?;
/// let mut ring = GroupKeyring::new(group.group_id());
/// ring.insert(&key);
/// let alice = Keypair::from_seed(&Seed::from_bytes([2; 32]));
/// let wire = encrypt_content(&alice, &ring, &Content::text("hi all"), 1_700_000_000_000, &mut rand_core::OsRng)?;
/// let got = decrypt_content(&ring, &wire)?;
/// assert_eq!(got.content.as_text(), Some("hi all"));
/// assert_eq!(got.sent_at_ms, 1_700_000_000_000);
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
pub fn encrypt_content(
    sender: &Keypair,
    ring: &GroupKeyring,
    content: &Content,
    sent_at_ms: u64,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, GroupError> {
    let key = ring.current()?;
    let mut pro_sig = alloc::vec![0u8; 64];
    rng.fill_bytes(&mut pro_sig);
    let env = Envelope {
        r#type: envelope::Type::ClosedGroupMessage as i32,
        source: None,
        source_device: Some(1),
        timestamp: sent_at_ms,
        content: Some(content.encode(sent_at_ms)),
        server_timestamp: None,
        pro_sig: Some(pro_sig),
    };
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut nonce);
    encrypt_payload(
        sender,
        &ring.group(),
        &key,
        &env.encode_to_vec(),
        true,
        nonce,
    )
}

/// Decrypts a stored group message and parses its Envelope and Content.
pub fn decrypt_content(
    ring: &GroupKeyring,
    wire: &[u8],
) -> Result<ReceivedGroupMessage, GroupError> {
    let payload = decrypt_payload(ring, wire)?;
    let env = Envelope::decode(&payload.data[..])
        .map_err(|_| GroupError::Malformed("group message envelope"))?;
    if env.r#type != envelope::Type::ClosedGroupMessage as i32 {
        return Err(GroupError::Malformed("group message envelope type"));
    }
    let raw = env
        .content
        .ok_or(GroupError::Malformed("group message content"))?;
    // Senders do not pad; accept padded content from ones that do.
    let content = Content::decode(&raw).or_else(|_| {
        metaless_envelope::padding::unpad(&raw)
            .map_err(|_| GroupError::Malformed("group message content"))
            .and_then(|u| {
                Content::decode(u).map_err(|_| GroupError::Malformed("group message content"))
            })
    })?;
    Ok(ReceivedGroupMessage {
        sender: payload.sender,
        content,
        sent_at_ms: env.timestamp,
        signature_form: payload.signature_form,
        generation: payload.generation,
    })
}
