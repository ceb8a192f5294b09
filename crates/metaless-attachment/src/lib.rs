//! Session attachments without I/O: the 'S' stream cipher and the legacy AES-CBC+HMAC scheme,
//! file-server requests and URLs.
//!
//! * 'S' stream format (current): [`encrypt`] / [`decrypt`] one-shot, [`encrypt_in_place`] /
//!   [`decrypt_in_place`] without a second copy, and the chunked [`KeyDeriver`] +
//!   [`Encryptor`] / [`Decryptor`] for files of any size; [`io`] wraps them over
//!   `std::io::{Read, Write}`.
//! * Legacy scheme (still produced by older clients): [`decrypt_legacy`] always,
//!   [`encrypt_legacy`] on request.
//! * Profile pictures: 'S' under [`Domain::ProfilePic`], or desktop's legacy AES-256-GCM
//!   ([`decrypt_profile_legacy`], [`encrypt_profile_legacy`]); [`decrypt_profile_pic`] picks.
//! * File server: [`FileServer`] (default, testnet and potato keys as constants),
//!   [`FileRequest`] (upload `POST /file`, download `GET /file/<id>`, extend, info) as onion v4
//!   values, reply parsers, and [`FileUrl`] for download URLs and their `#p=…&d` fragments.
//!
//! Byte tables and limits: `docs/attachments.md` and [`limits`].
//!
//! ```
//! use metaless_attachment::{decrypt, encrypt, Domain, FileServer, FileUrl};
//! let seed = metaless_identity::Seed::from_bytes([1; 32]);
//! let (blob, key) = encrypt(&seed, b"cat picture", Domain::Attachment, false).unwrap();
//! let url = FileServer::default_server().download_url("abc", true);
//! let parsed = FileUrl::parse(&url).unwrap();
//! assert!(parsed.is_stream());
//! assert_eq!(decrypt(&blob, &key).unwrap(), b"cat picture");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

mod avatar;
mod error;
mod file_server;
pub mod io;
mod key;
mod legacy;
pub mod limits;
mod secretstream;
mod stream;
mod url;

pub use avatar::{
    decrypt_profile_legacy, decrypt_profile_pic, encrypt_profile_legacy,
    encrypt_profile_legacy_random,
};
pub use error::{AttachmentError, IoKind};
pub use file_server::{
    Download, FileMeta, FileRequest, FileServer, download_reply_parts, format_http_date,
    parse_download_reply, parse_http_date, parse_meta_reply, parse_upload_reply,
    upload_reply_parts,
};
pub use key::{AttachmentKey, Domain, KeyDeriver, StreamKeys};
pub use legacy::{
    LegacyBlob, LegacyKey, decrypt_legacy, encrypt_legacy, encrypt_legacy_random,
    legacy_padded_size,
};
pub use stream::{
    Decryptor, Encryptor, STREAM_MARKER, decrypt, decrypt_in_place, decrypted_max_size, encrypt,
    encrypt_in_place, encrypted_padding, encrypted_size,
};
pub use url::{FileUrl, Scheme, StreamFlag};
