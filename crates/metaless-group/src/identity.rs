//! The group's identity: an Ed25519 key pair whose public key, prefixed `03`, is the group id
//! and the account whose swarm holds the group's namespaces.

use core::fmt;
use core::str::FromStr;

use metaless_identity::{Keypair, Seed, SessionId, SessionIdPrefix, ed25519_to_x25519_public, hex};
use metaless_swarm::UserPubkey;
use rand_core::CryptoRngCore;

use crate::GroupError;

/// A group's public identity: `03 ‖ group_pk`. Its X25519 form is what members' keys are
/// wrapped against.
///
/// ```
/// use metaless_group::GroupId;
/// let id: GroupId = "03c50cb3ae956947a8de19135b5be2685ff348afc63fc34a837aca12bc5c1f5625".parse()?;
/// assert_eq!(id.swarm_pubkey().prefix(), 0x03);
/// assert!("05c50cb3ae956947a8de19135b5be2685ff348afc63fc34a837aca12bc5c1f5625".parse::<GroupId>().is_err());
/// # Ok::<(), metaless_group::GroupError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId {
    ed25519: [u8; 32],
    x25519: [u8; 32],
}

impl GroupId {
    /// The id of the group whose Ed25519 public key is `ed25519` (refused if the key has no
    /// X25519 form: small order or not on the curve).
    ///
    /// ```
    /// use metaless_group::{GroupId, GroupKeys};
    /// let keys = GroupKeys::from_seed([7; 32]);
    /// assert_eq!(GroupId::from_ed25519(keys.group_id().ed25519())?, keys.group_id());
    /// assert!(GroupId::from_ed25519([0; 32]).is_err());
    /// # Ok::<(), metaless_group::GroupError>(())
    /// ```
    pub fn from_ed25519(ed25519: [u8; 32]) -> Result<Self, GroupError> {
        let x25519 = ed25519_to_x25519_public(&ed25519).map_err(|_| GroupError::InvalidGroupId)?;
        Ok(Self { ed25519, x25519 })
    }

    /// Parses the 33-byte form (`0x03 ‖ key`).
    ///
    /// ```
    /// use metaless_group::{GroupId, GroupKeys};
    /// let id = GroupKeys::from_seed([7; 32]).group_id();
    /// assert_eq!(GroupId::from_bytes(&id.to_bytes())?, id);
    /// # Ok::<(), metaless_group::GroupError>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GroupError> {
        match bytes {
            [0x03, key @ ..] if key.len() == 32 => {
                let mut ed = [0u8; 32];
                ed.copy_from_slice(key);
                Self::from_ed25519(ed)
            }
            _ => Err(GroupError::InvalidGroupId),
        }
    }

    /// The group's Ed25519 public key (verifies admin signatures).
    pub fn ed25519(&self) -> [u8; 32] {
        self.ed25519
    }

    /// The group's X25519 public key (member key wrapping).
    pub fn x25519(&self) -> [u8; 32] {
        self.x25519
    }

    /// The 33-byte form `0x03 ‖ key`.
    pub fn to_bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = 0x03;
        out[1..].copy_from_slice(&self.ed25519);
        out
    }

    /// The account the group's swarm is found by and its storage RPC addresses.
    pub fn swarm_pubkey(&self) -> UserPubkey {
        UserPubkey::new(0x03, self.ed25519)
    }

    /// The group id as a [`SessionId`] (prefix `03`).
    ///
    /// ```
    /// use metaless_group::GroupKeys;
    /// let id = GroupKeys::from_seed([7; 32]).group_id();
    /// assert_eq!(id.session_id()?.to_string(), id.to_string());
    /// # Ok::<(), metaless_group::GroupError>(())
    /// ```
    pub fn session_id(&self) -> Result<SessionId, GroupError> {
        SessionId::new(SessionIdPrefix::Group, self.ed25519).map_err(|_| GroupError::InvalidGroupId)
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.to_bytes()))
    }
}

impl fmt::Debug for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupId({self})")
    }
}

impl FromStr for GroupId {
    type Err = GroupError;
    fn from_str(s: &str) -> Result<Self, GroupError> {
        let bytes = hex::decode(s).map_err(|_| GroupError::InvalidGroupId)?;
        Self::from_bytes(&bytes)
    }
}

/// The group's secret: its 32-byte Ed25519 seed and the keys derived from it. Held by admins
/// only; whoever holds it can sign configs, keys messages and sub-account tokens.
///
/// ```
/// use metaless_group::GroupKeys;
/// let keys = GroupKeys::from_seed([0x11; 32]);
/// assert_eq!(keys.group_id().to_string().len(), 66);
/// assert!(!format!("{keys:?}").contains("1111"));
/// ```
pub struct GroupKeys {
    seed: Seed,
    keys: Keypair,
    id: GroupId,
}

impl GroupKeys {
    /// The group keys of a 32-byte Ed25519 seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let seed = Seed::from_bytes(seed);
        let keys = Keypair::from_seed(&seed);
        let id = GroupId {
            ed25519: keys.ed25519_public(),
            x25519: keys.x25519_public(),
        };
        Self { seed, keys, id }
    }

    /// A new group: a random seed.
    ///
    /// ```
    /// use metaless_group::GroupKeys;
    /// let a = GroupKeys::generate(&mut rand_core::OsRng);
    /// let b = GroupKeys::generate(&mut rand_core::OsRng);
    /// assert_ne!(a.group_id(), b.group_id());
    /// ```
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rng.fill_bytes(&mut seed[..]);
        Self::from_seed(*seed)
    }

    /// The group's public id.
    pub fn group_id(&self) -> GroupId {
        self.id
    }

    /// The group's Ed25519/X25519 key pair (signs as the group; `metaless_swarm::Signer::group`
    /// takes it for admin storage RPC).
    pub fn keypair(&self) -> &Keypair {
        &self.keys
    }

    /// The 32-byte seed (what a promotion message carries; keep it secret).
    pub fn expose_seed(&self) -> &[u8; 32] {
        self.seed.expose_secret()
    }

    /// Signs `message` as the group (Ed25519 under the group key).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.keys.sign(message)
    }
}

impl fmt::Debug for GroupKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupKeys")
            .field("group_id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The X25519 key of a standard (`05`) Session ID, refused for other prefixes.
pub(crate) fn member_x25519(member: &SessionId) -> Result<[u8; 32], GroupError> {
    if member.prefix() != SessionIdPrefix::Standard {
        return Err(GroupError::InvalidMemberId);
    }
    Ok(*member.key())
}
