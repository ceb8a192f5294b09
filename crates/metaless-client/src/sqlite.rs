//! [`Persistence`] in one SQLite file (feature `sqlite`).

use std::path::Path;

use metaless_identity::{Seed, SessionId};
use metaless_swarm::{MessageHash, NodeId};
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
";

/// A SQLite-backed store. The seed is stored as is: protect the file (the OS keychain is the
/// place for the seed in a real app; this store is for the rest).
///
/// ```
/// use metaless_client::{Persistence, SqliteStore};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("client.db");
/// let mut store = SqliteStore::open(&path).unwrap();
/// let hash: metaless_swarm::MessageHash = "A".repeat(43).parse().unwrap();
/// let node = metaless_swarm::NodeId::new([7; 32]);
/// store.save_last_hash(&node, &hash).unwrap();
/// drop(store);
/// let again = SqliteStore::open(&path).unwrap();
/// assert_eq!(again.last_hashes().unwrap(), vec![(node, hash)]);
/// ```
#[derive(Debug)]
pub struct SqliteStore {
    db: Connection,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, PersistError> {
        let db = Connection::open(path).map_err(err)?;
        db.execute_batch(SCHEMA).map_err(err)?;
        Ok(Self { db })
    }

    /// An in-memory database (tests).
    pub fn in_memory() -> Result<Self, PersistError> {
        let db = Connection::open_in_memory().map_err(err)?;
        db.execute_batch(SCHEMA).map_err(err)?;
        Ok(Self { db })
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
        let bytes: Option<Zeroizing<Vec<u8>>> = self
            .db
            .query_row("SELECT bytes FROM seed WHERE k = 0", [], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .optional()
            .map_err(err)?
            .map(Zeroizing::new);
        bytes
            .map(|b| {
                Seed::from_slice(&b).map_err(|_| PersistError("stored seed is invalid".into()))
            })
            .transpose()
    }

    fn save_seed(&mut self, seed: &Seed) -> Result<(), PersistError> {
        self.db
            .execute(
                "INSERT OR REPLACE INTO seed (k, bytes) VALUES (0, ?1)",
                params![&seed.expose_secret()[..]],
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use metaless_identity::Keypair;

    /// A storage hash of 43 `c`s.
    fn h(c: char) -> MessageHash {
        MessageHash::parse(&c.to_string().repeat(43)).unwrap()
    }

    #[test]
    fn everything_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let to = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
        {
            let mut s = SqliteStore::open(&path).unwrap();
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
        let s = SqliteStore::open(&path).unwrap();
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
