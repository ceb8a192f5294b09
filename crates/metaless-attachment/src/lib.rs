//! Session attachments without I/O: the 'S' stream cipher and the legacy AES-CBC+HMAC scheme, file-server requests and URLs.
#![forbid(unsafe_code)]
