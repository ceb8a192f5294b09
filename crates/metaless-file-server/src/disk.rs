//! Files on disk: `<dir>/<id>` holds the bytes, `<dir>/<id>.meta` the line
//! `size uploaded_ms expires_ms`. Written to a temporary name and renamed, so a crash never
//! leaves half a file under a real id.

use std::fs;
use std::path::{Path, PathBuf};

use crate::core::{Meta, Store, StoreError, valid_id};

/// A [`Store`] in a directory.
///
/// ```
/// use metaless_file_server::{DiskStore, Meta, Store};
/// let dir = tempfile::tempdir().unwrap();
/// let mut s = DiskStore::open(dir.path()).unwrap();
/// let meta = Meta { size: 2, uploaded_ms: 1, expires_ms: 10 };
/// s.put("abc", b"hi", meta).unwrap();
/// assert_eq!(DiskStore::open(dir.path()).unwrap().get("abc").unwrap(), Some((b"hi".to_vec(), meta)));
/// assert_eq!(s.purge(10).unwrap(), 1);
/// assert_eq!(s.get("abc").unwrap(), None);
/// ```
#[derive(Debug)]
pub struct DiskStore {
    dir: PathBuf,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl DiskStore {
    /// Opens (creating) `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        fs::create_dir_all(dir).map_err(err)?;
        Ok(Self { dir: dir.into() })
    }

    fn path(&self, id: &str, ext: &str) -> Result<PathBuf, StoreError> {
        if !valid_id(id) {
            return Err(StoreError("invalid id".into()));
        }
        Ok(self.dir.join(format!("{id}{ext}")))
    }

    fn write_atomic(path: &Path, data: &[u8]) -> Result<(), StoreError> {
        let tmp = path.with_extension("tmp");
        fs::write(&tmp, data).map_err(err)?;
        fs::rename(&tmp, path).map_err(err)
    }
}

fn parse_meta(text: &str) -> Option<Meta> {
    let mut it = text.split_whitespace().map(|p| p.parse::<u64>());
    let size = it.next()?.ok()?;
    let uploaded_ms = it.next()?.ok()?;
    let expires_ms = it.next()?.ok()?;
    Some(Meta {
        size,
        uploaded_ms,
        expires_ms,
    })
}

impl Store for DiskStore {
    fn put(&mut self, id: &str, data: &[u8], meta: Meta) -> Result<(), StoreError> {
        Self::write_atomic(&self.path(id, "")?, data)?;
        self.set_meta(id, meta)
    }

    fn get(&self, id: &str) -> Result<Option<(Vec<u8>, Meta)>, StoreError> {
        let Some(meta) = self.meta(id)? else {
            return Ok(None);
        };
        match fs::read(self.path(id, "")?) {
            Ok(data) => Ok(Some((data, meta))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    fn meta(&self, id: &str) -> Result<Option<Meta>, StoreError> {
        match fs::read_to_string(self.path(id, ".meta")?) {
            Ok(text) => Ok(parse_meta(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    fn set_meta(&mut self, id: &str, m: Meta) -> Result<(), StoreError> {
        let line = format!("{} {} {}\n", m.size, m.uploaded_ms, m.expires_ms);
        Self::write_atomic(&self.path(id, ".meta")?, line.as_bytes())
    }

    fn purge(&mut self, now_ms: u64) -> Result<usize, StoreError> {
        let mut n = 0;
        for entry in fs::read_dir(&self.dir).map_err(err)? {
            let entry = entry.map_err(err)?;
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".meta")) else {
                continue;
            };
            let expired = self.meta(id)?.is_none_or(|m| m.expires_ms <= now_ms);
            if expired {
                let _ = fs::remove_file(self.path(id, "")?);
                let _ = fs::remove_file(self.path(id, ".meta")?);
                n += 1;
            }
        }
        Ok(n)
    }
}
