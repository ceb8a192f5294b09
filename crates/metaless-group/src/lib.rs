//! Session groups v2 ("03" groups) without I/O: the group identity and swarm account, member
//! sub-account auth data and the storage-RPC signatures it authorises, per-recipient key
//! wrapping, keys messages, the group message cipher, and the info/members configs.
//!
//! Everything takes time (`now_ms`) and randomness as arguments; nothing here opens a socket.
//! `docs/groups.md` has the byte tables.
//!
//! ```
//! use metaless_group::{GroupKeys, MemberAuth, MemberSigner, Permissions};
//! use metaless_identity::{Keypair, Seed};
//! use metaless_swarm::{Namespace, Retrieve, Signer};
//!
//! let group = GroupKeys::generate(&mut rand_core::OsRng);
//! let bob = Keypair::from_seed(&Seed::from_bytes([2; 32]));
//! // The admin issues Bob's auth data (sent to him in the invite) ...
//! let auth = MemberAuth::issue(&group, &bob.session_id(), Permissions::default())?;
//! // ... and Bob signs the group's storage RPC with it.
//! let signer = MemberSigner::new(&bob, group.group_id(), &auth)?;
//! let req = Retrieve::signed(&Signer::delegated(&signer), Namespace::GroupMessages, None, 1_700_000_000_000);
//! assert!(req.auth.unwrap().0.subaccount.is_some());
//! # Ok::<(), metaless_group::GroupError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
extern crate std;

mod configs;
mod error;
mod hash;
mod identity;
mod keys;
mod kick;
pub mod limits;
mod message;
mod multi;
mod subaccount;
mod update;

pub use configs::{GroupInfo, GroupMembers, MAX_DESCRIPTION, MAX_NAME, Member};
pub use error::GroupError;
pub use identity::{GroupId, GroupKeys};
pub use keys::{GroupKey, GroupKeyring, LoadOutcome, key_supplement, rekey};
pub use kick::{KICKED_DOMAIN, kick_notice, open_kick_notice};
pub use message::{
    GroupPayload, ReceivedGroupMessage, SignatureForm, decrypt_content, decrypt_payload,
    encrypt_content, encrypt_payload,
};
pub use multi::{MEMBER_KEY_DOMAIN, decrypt_for_recipient, encrypt_for_recipients, recipient_key};
pub use subaccount::{
    AUTH_DATA_LEN, AdminSigner, MemberAuth, MemberSigner, Permissions, require_permission,
    revocation_token, revoke_members, verify_subaccount_request,
};
pub use update::{
    Invitation, accept_invite, accept_promotion, delete_member_content, info_change, make_invite,
    member_change, verify_update,
};
