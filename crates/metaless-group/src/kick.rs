//! Kick notices (namespace −11): how an admin tells removed members they were removed. Nodes
//! let revoked sub-accounts still read −11, so the notice reaches them after revocation.
//!
//! The notice is libsession's "simple" multi-recipient encoding: a bt dict `{"#": nonce(24),
//! "e": [entry…]}`, one entry per removed member, `entry_i = XC(key_i, nonce, id_i(33) ‖
//! ascii(generation))` with `key_i` as for key wrapping (§3 of docs/groups.md) under the domain
//! `"SessionGroupKickedMessage"` and the group as sender.

use alloc::vec::Vec;

use metaless_config::bt::{self, Value};
use metaless_identity::{Keypair, SessionId};

use crate::identity::member_x25519;
use crate::limits::MAX_KEY_ENTRIES;
use crate::multi::{decrypt_for_recipient, encrypt_for_recipients};
use crate::{GroupError, GroupId, GroupKeys};

/// The key-wrapping domain of kick notices (upstream `SessionGroupKickedMessage`).
pub const KICKED_DOMAIN: &[u8] = b"SessionGroupKickedMessage";

/// Largest kick notice read (bytes): as many entries as a keys message may hold.
const MAX_KICK_NOTICE: usize = 64 + MAX_KEY_ENTRIES * (33 + 20 + 16 + 4);

fn plaintext(member: &SessionId, generation: u64) -> Vec<u8> {
    let mut p = Vec::with_capacity(33 + 20);
    p.push(member.prefix().byte());
    p.extend_from_slice(member.key());
    p.extend_from_slice(alloc::format!("{generation}").as_bytes());
    p
}

/// The kick notice for `removed` (their `05` ids), removed as of key `generation` (the first
/// generation they do not hold). Store it in namespace −11 of the group.
///
/// ```
/// use metaless_group::{kick_notice, open_kick_notice, GroupKeys};
/// use metaless_identity::{Keypair, Seed};
/// let group = GroupKeys::from_seed([1; 32]);
/// let carol = Keypair::from_seed(&Seed::from_bytes([3; 32]));
/// let notice = kick_notice(&group, &[carol.session_id()], 4, [9; 24])?;
/// assert_eq!(open_kick_notice(&carol, &group.group_id(), &notice)?, 4);
/// let bob = Keypair::from_seed(&Seed::from_bytes([2; 32]));
/// assert!(open_kick_notice(&bob, &group.group_id(), &notice).is_err());
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
pub fn kick_notice(
    group: &GroupKeys,
    removed: &[SessionId],
    generation: u64,
    nonce: [u8; 24],
) -> Result<Vec<u8>, GroupError> {
    if removed.is_empty() || removed.len() > MAX_KEY_ENTRIES {
        return Err(GroupError::TooLarge {
            field: "removed members",
            len: removed.len(),
            max: MAX_KEY_ENTRIES,
        });
    }
    let xs = removed
        .iter()
        .map(member_x25519)
        .collect::<Result<Vec<_>, _>>()?;
    let plains: Vec<Vec<u8>> = removed.iter().map(|m| plaintext(m, generation)).collect();
    let refs: Vec<&[u8]> = plains.iter().map(Vec::as_slice).collect();
    let entries = encrypt_for_recipients(
        group.keypair().x25519_secret(),
        &xs,
        &refs,
        &nonce,
        KICKED_DOMAIN,
    )?;
    Ok(bt::encode(&Value::dict([
        (b"#".to_vec(), Value::Bytes(nonce.to_vec())),
        (
            b"e".to_vec(),
            Value::List(entries.into_iter().map(Value::Bytes).collect()),
        ),
    ])))
}

/// Reads a kick notice of `group` as `me`: the generation from which `me` was removed.
/// [`GroupError::DecryptFailed`] when no entry is for `me` (the notice concerns others),
/// [`GroupError::Malformed`] for bytes that are no notice or an entry naming someone else.
pub fn open_kick_notice(me: &Keypair, group: &GroupId, data: &[u8]) -> Result<u64, GroupError> {
    if data.len() > MAX_KICK_NOTICE {
        return Err(GroupError::TooLarge {
            field: "kick notice",
            len: data.len(),
            max: MAX_KICK_NOTICE,
        });
    }
    let v = bt::decode(data).map_err(|_| GroupError::Malformed("kick notice"))?;
    let d = v.as_dict().ok_or(GroupError::Malformed("kick notice"))?;
    let nonce: [u8; 24] = d
        .get(b"#".as_slice())
        .and_then(Value::as_bytes)
        .and_then(|n| n.try_into().ok())
        .ok_or(GroupError::Malformed("kick notice nonce"))?;
    let entries = d
        .get(b"e".as_slice())
        .and_then(Value::as_list)
        .ok_or(GroupError::Malformed("kick notice entries"))?;
    let sender = group.x25519();
    let plain = entries
        .iter()
        .filter_map(Value::as_bytes)
        .find_map(|e| {
            decrypt_for_recipient(me.x25519_secret(), &sender, &nonce, e, KICKED_DOMAIN).ok()
        })
        .ok_or(GroupError::DecryptFailed)?;
    let id = me.session_id();
    if plain.len() < 34 || plain[0] != id.prefix().byte() || &plain[1..33] != id.key() {
        return Err(GroupError::Malformed("kick notice member"));
    }
    core::str::from_utf8(&plain[33..])
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or(GroupError::Malformed("kick notice generation"))
}
