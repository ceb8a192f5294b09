//! `AttachmentPointer`: where an attachment is, how big, and the key that opens it.
//!
//! Field numbers follow upstream's `AttachmentPointer` (libsession-util
//! `proto/SessionProtos.proto`; session-desktop names field 1 `deprecated_id` and reserves 5).
//! Encrypting, uploading and the URL fragment are `metaless-attachment`'s business; this type only
//! carries the fields.

use alloc::string::String;
use alloc::vec::Vec;

use crate::proto::session as pb;
use crate::secret::SecretBytes;

/// `AttachmentPointer.flags` bit for a voice message.
///
/// ```
/// assert_eq!(metaless_envelope::ATTACHMENT_FLAG_VOICE_MESSAGE, 1);
/// ```
pub const ATTACHMENT_FLAG_VOICE_MESSAGE: u32 = pb::attachment_pointer::Flags::VoiceMessage as u32;

/// One attachment of a visible message (`DataMessage.attachments`, field 2), a quote's thumbnail
/// or a link preview's image. Every field is kept exactly as received so a pointer round-trips.
///
/// ```
/// use metaless_envelope::{AttachmentPointer, SecretBytes};
/// let mut photo = AttachmentPointer::new("http://filev2.getsession.org/file/123", SecretBytes::new(vec![9; 32]), 1000);
/// photo.content_type = Some("image/jpeg".into());
/// assert_eq!(photo.id, 123); // desktop's legacy id: the URL's last segment as a number
/// assert!(!photo.is_voice_message());
/// assert!(!format!("{photo:?}").contains("9, 9")); // the key is never printed
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttachmentPointer {
    /// Field 1 (`fixed64`, required upstream): legacy numeric file id.
    pub id: u64,
    /// Field 2: MIME type.
    pub content_type: Option<String>,
    /// Field 3: the key that decrypts the blob (64 bytes legacy, 32 bytes for 'S' streams).
    pub key: Option<SecretBytes>,
    /// Field 4: plaintext length before padding.
    pub size: Option<u32>,
    /// Field 5: inline thumbnail (libsession only; desktop reserves the number).
    pub thumbnail: Option<Vec<u8>>,
    /// Field 6: SHA-256 of the encrypted blob (legacy scheme).
    pub digest: Option<Vec<u8>>,
    /// Field 7: file name.
    pub file_name: Option<String>,
    /// Field 8: flags ([`ATTACHMENT_FLAG_VOICE_MESSAGE`]).
    pub flags: Option<u32>,
    /// Field 9: image or video width.
    pub width: Option<u32>,
    /// Field 10: image or video height.
    pub height: Option<u32>,
    /// Field 11: caption.
    pub caption: Option<String>,
    /// Field 101: download URL (with its optional `#p=…&d` fragment).
    pub url: Option<String>,
}

impl AttachmentPointer {
    /// A pointer to the blob at `url`, opened by `key`, `size` plaintext bytes long; `id` is set
    /// the way desktop sets it (the URL's last path segment as a number, else 0).
    pub fn new(url: impl Into<String>, key: SecretBytes, size: u32) -> Self {
        let url = url.into();
        Self {
            id: legacy_id(&url),
            key: Some(key),
            size: Some(size),
            url: Some(url),
            ..Self::default()
        }
    }

    /// Whether the voice-message flag is set.
    ///
    /// ```
    /// let mut p = metaless_envelope::AttachmentPointer::default();
    /// p.flags = Some(metaless_envelope::ATTACHMENT_FLAG_VOICE_MESSAGE);
    /// assert!(p.is_voice_message());
    /// ```
    pub fn is_voice_message(&self) -> bool {
        self.flags.unwrap_or(0) & ATTACHMENT_FLAG_VOICE_MESSAGE != 0
    }

    pub(crate) fn to_raw(&self) -> pb::AttachmentPointer {
        pb::AttachmentPointer {
            id: self.id,
            content_type: self.content_type.clone(),
            key: self.key.as_ref().map(SecretBytes::to_vec),
            size: self.size,
            thumbnail: self.thumbnail.clone(),
            digest: self.digest.clone(),
            file_name: self.file_name.clone(),
            flags: self.flags,
            width: self.width,
            height: self.height,
            caption: self.caption.clone(),
            url: self.url.clone(),
        }
    }

    pub(crate) fn from_raw(raw: &pb::AttachmentPointer) -> Self {
        Self {
            id: raw.id,
            content_type: raw.content_type.clone(),
            key: raw.key.as_deref().map(SecretBytes::from),
            size: raw.size,
            thumbnail: raw.thumbnail.clone(),
            digest: raw.digest.clone(),
            file_name: raw.file_name.clone(),
            flags: raw.flags,
            width: raw.width,
            height: raw.height,
            caption: raw.caption.clone(),
            url: raw.url.clone(),
        }
    }
}

/// Desktop's legacy id: the last path segment of the URL (fragment and query cut) as a `u64`, or 0.
fn legacy_id(url: &str) -> u64 {
    let path = url.split(['#', '?']).next().unwrap_or("");
    path.rsplit('/')
        .next()
        .and_then(|segment| segment.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::legacy_id;

    #[test]
    fn legacy_ids() {
        assert_eq!(
            legacy_id("http://filev2.getsession.org/file/1234#p=ab"),
            1234
        );
        assert_eq!(legacy_id("http://x/file/abc"), 0);
        assert_eq!(legacy_id(""), 0);
        assert_eq!(legacy_id("http://x/file/99999999999999999999999"), 0);
    }
}
