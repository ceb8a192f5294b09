//! Session communities (SOGS) without I/O: URLs, X-SOGS-* request signing, typed endpoints and replies, blinded DMs.
#![forbid(unsafe_code)]
