//! Session groups v2 (03 groups) without I/O: group identity, keys messages, sub-account tokens, group message cipher, info/members configs.
#![forbid(unsafe_code)]
