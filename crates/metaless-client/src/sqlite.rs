//! [`Persistence`] in one SQLite file (feature `sqlite`).

use std::path::Path;

use metaless_cipher::xchacha20poly1305;
use metaless_identity::{Seed, SessionId};
use metaless_swarm::{MessageHash, NodeId};
use rand_core::{OsRng, RngCore};
use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use crate::OpId;
use crate::persist::{PendingSend, PersistError, Persistence};

fn err(e: rusqlite::Error) -> PersistError {
    PersistError(format!("sqlite: {e}"))
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS seed (k INTEGER PRIMARY KEY CHECK (k = 0), bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pending (id INTEGER PRIMARY KEY, recipient BLOB NOT NULL, data BLOB NOT NULL, expiry INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS last_hash (node BLOB PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen (hash TEXT PRIMARY KEY, expiry INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_expiry ON seen (expiry);
CREATE TABLE IF NOT EXISTS contact (key BLOB PRIMARY KEY);
CREATE TABLE IF NOT EXISTS request (seq INTEGER PRIMARY KEY, sender BLOB NOT NULL, hash TEXT NOT NULL, UNIQUE (sender, hash));
";

/// The key a [`SqliteStore`] seals the account seed with: 32 bytes the app keeps somewhere
/// safer than the database file — the OS keystore (Keychain, Android Keystore, Secret Service,
/// DPAPI) is that place; the store never writes it. Zeroized on drop, never printed.
///
/// ```
/// let key = metaless_client::StoreKey::from_bytes([7; 32]);
/// assert_eq!(format!("{key:?}"), "StoreKey(..)");
/// ```
pub struct StoreKey(Zeroizing<[u8; 32]>);

impl StoreKey {
    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A fresh random key from the OS generator, for an app to put in its keystore.
    ///
    /// ```
    /// let a = metaless_client::StoreKey::generate();
    /// let b = metaless_client::StoreKey::generate();
    /// assert_ne!(a.expose_secret(), b.expose_secret());
    /// ```
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// The key's bytes, to hand to the keystore.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl core::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

/// How a [`SqliteStore`] keeps the account seed on disk. There is no default: keeping it in
/// plaintext is a choice the app makes by name.
#[derive(Debug)]
pub enum SeedProtection {
    /// Sealed with XChaCha20-Poly1305 under the app's key (a fresh 24-byte nonce per write).
    /// A plaintext seed already in the file is sealed when the store opens.
    Key(StoreKey),
    /// Stored as is — for tests, or where the whole disk is protected some other way.
    Plaintext,
}

/// Version byte of a sealed seed row: `0x01 ‖ nonce (24) ‖ ciphertext ‖ tag (16)`. A plaintext
/// row is the bare 16- or 32-byte seed, so the two never collide.
const SEALED_V1: u8 = 0x01;
const NONCE_LEN: usize = 24;
/// Binds a sealed row to its place, so a ciphertext copied from another table or store format
/// does not open as a seed.
const SEED_AAD: &[u8] = b"metaless-client sqlite seed v1";

fn seal_seed(key: &StoreKey, seed: &[u8]) -> Result<Vec<u8>, PersistError> {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let mut row = Vec::with_capacity(1 + NONCE_LEN + seed.len() + 16);
    row.push(SEALED_V1);
    row.extend_from_slice(&nonce);
    row.extend_from_slice(seed);
    let tag = xchacha20poly1305::seal_in_place_detached(
        &key.0,
        &nonce,
        SEED_AAD,
        &mut row[1 + NONCE_LEN..],
    )
    .map_err(|_| PersistError("could not seal the seed".into()))?;
    row.extend_from_slice(&tag);
    Ok(row)
}

fn open_seed(key: &StoreKey, row: &[u8]) -> Result<Zeroizing<Vec<u8>>, PersistError> {
    let body = row
        .strip_prefix(&[SEALED_V1])
        .filter(|b| b.len() > NONCE_LEN)
        .ok_or_else(|| {
            PersistError("the stored seed is not in a sealed format this version reads".into())
        })?;
    let (nonce, sealed) = body.split_at(NONCE_LEN);
    let nonce: &[u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| PersistError("the stored seed's nonce is truncated".into()))?;
    xchacha20poly1305::open(&key.0, nonce, SEED_AAD, sealed)
        .map(Zeroizing::new)
        .map_err(|_| {
            PersistError(
                "the stored seed does not open with this StoreKey (wrong key, or the file was altered)"
                    .into(),
            )
        })
}

/// A plaintext seed row: the bare 16-byte (legacy) or 32-byte seed.
fn is_plaintext_seed(row: &[u8]) -> bool {
    row.len() == 16 || row.len() == 32
}

/// A SQLite-backed store. The account seed is sealed under an app-supplied [`StoreKey`]
/// unless the app opens it with [`SeedProtection::Plaintext`]; the rest (pending sealed
/// envelopes and their recipients, message hashes, poll positions) is stored as is, so protect
/// the file as you would a message database.
///
/// ```
/// use metaless_client::{Persistence, SeedProtection, SqliteStore, StoreKey};
/// use metaless_identity::Seed;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("client.db");
/// let key = || SeedProtection::Key(StoreKey::from_bytes([7; 32])); // from the OS keystore
/// let mut store = SqliteStore::open(&path, key()).unwrap();
/// store.save_seed(&Seed::from_bytes([9; 32])).unwrap();
/// drop(store);
/// let again = SqliteStore::open(&path, key()).unwrap();
/// assert_eq!(again.seed().unwrap().unwrap().expose_secret(), &[9; 32]);
/// // Another key does not open it.
/// let wrong = SqliteStore::open(&path, SeedProtection::Key(StoreKey::from_bytes([8; 32]))).unwrap();
/// assert!(wrong.seed().is_err());
/// ```
#[derive(Debug)]
pub struct SqliteStore {
    db: Connection,
    protection: SeedProtection,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, keeping the seed as `protection`
    /// says. With a key, a plaintext seed left by an earlier version is sealed now.
    pub fn open(path: &Path, protection: SeedProtection) -> Result<Self, PersistError> {
        let db = Connection::open(path).map_err(err)?;
        db.execute_batch(SCHEMA).map_err(err)?;
        let mut store = Self { db, protection };
        store.seal_plaintext_seed()?;
        Ok(store)
    }

    /// An in-memory database (tests); nothing reaches a disk, so the seed is kept as is.
    pub fn in_memory() -> Result<Self, PersistError> {
        let db = Connection::open_in_memory().map_err(err)?;
        db.execute_batch(SCHEMA).map_err(err)?;
        Ok(Self {
            db,
            protection: SeedProtection::Plaintext,
        })
    }

    fn seed_row(&self) -> Result<Option<Zeroizing<Vec<u8>>>, PersistError> {
        Ok(self
            .db
            .query_row("SELECT bytes FROM seed WHERE k = 0", [], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .optional()
            .map_err(err)?
            .map(Zeroizing::new))
    }

    fn seal_plaintext_seed(&mut self) -> Result<(), PersistError> {
        if !matches!(self.protection, SeedProtection::Key(_)) {
            return Ok(());
        }
        match self.seed_row()? {
            Some(row) if is_plaintext_seed(&row) => {
                let seed = Seed::from_slice(&row)
                    .map_err(|_| PersistError("stored seed is invalid".into()))?;
                self.save_seed(&seed)
            }
            _ => Ok(()),
        }
    }
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Persistence for SqliteStore {
    fn seed(&self) -> Result<Option<Seed>, PersistError> {
        let Some(row) = self.seed_row()? else {
            return Ok(None);
        };
        let bytes = match (&self.protection, is_plaintext_seed(&row)) {
            (_, true) => row,
            (SeedProtection::Key(key), false) => open_seed(key, &row)?,
            (SeedProtection::Plaintext, false) => {
                return Err(PersistError(
                    "the stored seed is sealed: open the store with SeedProtection::Key and the app's StoreKey"
                        .into(),
                ));
            }
        };
        Seed::from_slice(&bytes)
            .map(Some)
            .map_err(|_| PersistError("stored seed is invalid".into()))
    }

    fn save_seed(&mut self, seed: &Seed) -> Result<(), PersistError> {
        let bytes = seed.expose_secret();
        let row = match &self.protection {
            SeedProtection::Key(key) => seal_seed(key, bytes)?,
            SeedProtection::Plaintext => bytes.to_vec(),
        };
        let row = Zeroizing::new(row);
        self.db
            .execute(
                "INSERT OR REPLACE INTO seed (k, bytes) VALUES (0, ?1)",
                params![&row[..]],
            )
            .map_err(err)?;
        Ok(())
    }

    fn pending(&self) -> Result<Vec<PendingSend>, PersistError> {
        let mut stmt = self
            .db
            .prepare("SELECT id, recipient, data, expiry FROM pending ORDER BY id")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, to, data, expiry) = row.map_err(err)?;
            let to = SessionId::from_bytes(&to)
                .map_err(|_| PersistError("stored recipient is invalid".into()))?;
            out.push(PendingSend {
                id: OpId::from(u64_of(id)),
                to,
                data,
                expiry_ms: u64_of(expiry),
            });
        }
        Ok(out)
    }

    fn save_pending(&mut self, send: &PendingSend) -> Result<(), PersistError> {
        self.db
            .execute(
                "INSERT OR REPLACE INTO pending (id, recipient, data, expiry) VALUES (?1, ?2, ?3, ?4)",
                params![i64_of(send.id.get()), &send.to.to_bytes()[..], &send.data, i64_of(send.expiry_ms)],
            )
            .map_err(err)?;
        Ok(())
    }

    fn remove_pending(&mut self, id: OpId) -> Result<(), PersistError> {
        self.db
            .execute(
                "DELETE FROM pending WHERE id = ?1",
                params![i64_of(id.get())],
            )
            .map_err(err)?;
        Ok(())
    }

    fn last_hashes(&self) -> Result<Vec<(NodeId, MessageHash)>, PersistError> {
        let mut stmt = self
            .db
            .prepare("SELECT node, hash FROM last_hash")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (node, hash) = row.map_err(err)?;
            // A row that is not a node key and a storage hash was not written by this store.
            if let (Ok(node), Ok(hash)) = (
                <[u8; 32]>::try_from(node.as_slice()),
                MessageHash::parse(&hash),
            ) {
                out.push((NodeId::from(node), hash));
            }
        }
        Ok(out)
    }

    fn save_last_hash(&mut self, node: &NodeId, hash: &MessageHash) -> Result<(), PersistError> {
        self.db
            .execute(
                "INSERT OR REPLACE INTO last_hash (node, hash) VALUES (?1, ?2)",
                params![&node.as_bytes()[..], hash.as_str()],
            )
            .map_err(err)?;
        Ok(())
    }

    fn seen(&self) -> Result<Vec<(MessageHash, u64)>, PersistError> {
        let mut stmt = self
            .db
            .prepare("SELECT hash, expiry FROM seen")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (hash, expiry) = row.map_err(err)?;
            if let Ok(hash) = MessageHash::parse(&hash) {
                out.push((hash, u64_of(expiry)));
            }
        }
        Ok(out)
    }

    fn save_seen(&mut self, hashes: &[(MessageHash, u64)]) -> Result<(), PersistError> {
        let tx = self.db.transaction().map_err(err)?;
        {
            let mut stmt = tx
                .prepare("INSERT OR REPLACE INTO seen (hash, expiry) VALUES (?1, ?2)")
                .map_err(err)?;
            for (hash, expiry) in hashes {
                stmt.execute(params![hash.as_str(), i64_of(*expiry)])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn prune_seen(&mut self, before_ms: u64) -> Result<(), PersistError> {
        self.db
            .execute(
                "DELETE FROM seen WHERE expiry < ?1",
                params![i64_of(before_ms)],
            )
            .map_err(err)?;
        Ok(())
    }

    fn contacts(&self) -> Result<Vec<[u8; 32]>, PersistError> {
        let mut stmt = self.db.prepare("SELECT key FROM contact").map_err(err)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            // A row that is no 32-byte key was not written by this store.
            if let Ok(key) = <[u8; 32]>::try_from(row.map_err(err)?.as_slice()) {
                out.push(key);
            }
        }
        Ok(out)
    }

    fn save_contact(&mut self, key: &[u8; 32]) -> Result<(), PersistError> {
        self.db
            .execute(
                "INSERT OR IGNORE INTO contact (key) VALUES (?1)",
                params![&key[..]],
            )
            .map_err(err)?;
        Ok(())
    }

    fn requests(&self) -> Result<Vec<([u8; 32], MessageHash)>, PersistError> {
        let mut stmt = self
            .db
            .prepare("SELECT sender, hash FROM request ORDER BY seq")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (sender, hash) = row.map_err(err)?;
            if let (Ok(sender), Ok(hash)) = (
                <[u8; 32]>::try_from(sender.as_slice()),
                MessageHash::parse(&hash),
            ) {
                out.push((sender, hash));
            }
        }
        Ok(out)
    }

    fn save_request(&mut self, from: &[u8; 32], hash: &MessageHash) -> Result<(), PersistError> {
        self.db
            .execute(
                "INSERT OR IGNORE INTO request (sender, hash) VALUES (?1, ?2)",
                params![&from[..], hash.as_str()],
            )
            .map_err(err)?;
        Ok(())
    }

    fn remove_requests(&mut self, from: &[u8; 32]) -> Result<(), PersistError> {
        self.db
            .execute("DELETE FROM request WHERE sender = ?1", params![&from[..]])
            .map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metaless_identity::Keypair;

    /// A storage hash of 43 `c`s.
    fn h(c: char) -> MessageHash {
        MessageHash::parse(&c.to_string().repeat(43)).unwrap()
    }

    fn key(byte: u8) -> SeedProtection {
        SeedProtection::Key(StoreKey::from_bytes([byte; 32]))
    }

    fn raw_seed_row(path: &Path) -> Vec<u8> {
        Connection::open(path)
            .unwrap()
            .query_row("SELECT bytes FROM seed WHERE k = 0", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_keyed_store_never_writes_the_seed_in_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        SqliteStore::open(&path, key(1))
            .unwrap()
            .save_seed(&Seed::from_bytes([9; 32]))
            .unwrap();
        let row = raw_seed_row(&path);
        assert_eq!(row.len(), 1 + NONCE_LEN + 32 + 16);
        assert_eq!(row[0], SEALED_V1);
        assert!(
            !row.windows(8).any(|w| w == [9; 8]),
            "seed bytes visible in the row"
        );
        let file = std::fs::read(&path).unwrap();
        assert!(
            !file.windows(16).any(|w| w == [9; 16]),
            "seed bytes visible in the file"
        );
        let again = SqliteStore::open(&path, key(1)).unwrap();
        assert_eq!(again.seed().unwrap().unwrap().expose_secret(), &[9; 32]);
    }

    #[test]
    fn each_write_uses_a_fresh_nonce() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut s = SqliteStore::open(&path, key(1)).unwrap();
        s.save_seed(&Seed::from_bytes([9; 32])).unwrap();
        let first = raw_seed_row(&path);
        s.save_seed(&Seed::from_bytes([9; 32])).unwrap();
        assert_ne!(first, raw_seed_row(&path));
    }

    #[test]
    fn wrong_key_tampered_row_and_missing_key_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        SqliteStore::open(&path, key(1))
            .unwrap()
            .save_seed(&Seed::from_bytes([9; 32]))
            .unwrap();
        let wrong = SqliteStore::open(&path, key(2)).unwrap().seed();
        assert!(
            wrong
                .unwrap_err()
                .0
                .contains("does not open with this StoreKey")
        );
        let plain = SqliteStore::open(&path, SeedProtection::Plaintext)
            .unwrap()
            .seed();
        assert!(plain.unwrap_err().0.contains("sealed"));

        let mut row = raw_seed_row(&path);
        let last = row.len() - 1;
        row[last] ^= 1;
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE seed SET bytes = ?1 WHERE k = 0", params![row])
            .unwrap();
        assert!(SqliteStore::open(&path, key(1)).unwrap().seed().is_err());

        // Truncated to the bare version byte and nonce.
        Connection::open(&path)
            .unwrap()
            .execute(
                "UPDATE seed SET bytes = ?1 WHERE k = 0",
                params![&row[..25]],
            )
            .unwrap();
        assert!(SqliteStore::open(&path, key(1)).unwrap().seed().is_err());
    }

    #[test]
    fn opening_with_a_key_seals_a_plaintext_seed_left_by_an_earlier_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        SqliteStore::open(&path, SeedProtection::Plaintext)
            .unwrap()
            .save_seed(&Seed::from_bytes([9; 32]))
            .unwrap();
        assert_eq!(raw_seed_row(&path), vec![9; 32]);
        let s = SqliteStore::open(&path, key(1)).unwrap();
        assert_eq!(raw_seed_row(&path)[0], SEALED_V1);
        assert_eq!(s.seed().unwrap().unwrap().expose_secret(), &[9; 32]);
    }

    #[test]
    fn everything_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let to = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
        {
            let mut s = SqliteStore::open(&path, SeedProtection::Plaintext).unwrap();
            s.save_seed(&Seed::from_bytes([9; 32])).unwrap();
            s.save_pending(&PendingSend {
                id: OpId::from(4),
                to,
                data: vec![1, 2, 3],
                expiry_ms: 77,
            })
            .unwrap();
            s.save_pending(&PendingSend {
                id: OpId::from(5),
                to,
                data: vec![4],
                expiry_ms: 78,
            })
            .unwrap();
            s.remove_pending(OpId::from(5)).unwrap();
            s.save_seen(&[(h('a'), 10), (h('b'), 20)]).unwrap();
            s.prune_seen(15).unwrap();
            s.save_last_hash(&NodeId::new([1; 32]), &h('1')).unwrap();
            s.save_last_hash(&NodeId::new([1; 32]), &h('2')).unwrap();
        }
        let s = SqliteStore::open(&path, SeedProtection::Plaintext).unwrap();
        assert_eq!(s.seed().unwrap().unwrap().expose_secret(), &[9; 32]);
        assert_eq!(
            s.pending().unwrap(),
            vec![PendingSend {
                id: OpId::from(4),
                to,
                data: vec![1, 2, 3],
                expiry_ms: 77
            }]
        );
        assert_eq!(s.seen().unwrap(), vec![(h('b'), 20)]);
        assert_eq!(
            s.last_hashes().unwrap(),
            vec![(NodeId::new([1; 32]), h('2'))]
        );
    }
}
