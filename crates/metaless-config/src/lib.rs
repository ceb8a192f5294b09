//! Session config messages without I/O: strict bencode, signed/compressed/padded/encrypted config messages, merge, and typed views (UserProfile, Contacts, ConvoInfoVolatile, UserGroups).
#![forbid(unsafe_code)]
