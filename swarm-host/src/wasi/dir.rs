//! The preopened directories: [`WasiDir`], a host directory (or files given in memory) loaded
//! once, and [`Image`], every preopen's inodes in one numbering, which all agents share
//! read-only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::fs::{Data, Ino, Inode, Kind};

/// A directory for the agents, preopened under a guest name, as `wasmtime --dir HOST::GUEST`
/// preopens one: a host directory loaded once ([`WasiDir::load`]) or files given in memory
/// ([`WasiDir::from_files`]). Every agent sees the same files and changes only its own view of
/// them (see [`WasiConfig::file_bytes`](super::WasiConfig::file_bytes)).
#[derive(Clone, Debug)]
pub struct WasiDir {
    guest: String,
    /// Its inodes, the root first.
    inodes: Arc<Vec<Inode>>,
}

/// A host directory could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("cannot load {path:?}: {reason}")]
pub struct WasiDirError {
    path: PathBuf,
    reason: String,
}

impl WasiDirError {
    fn new(path: &Path, reason: impl ToString) -> Self {
        Self {
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }
}

impl WasiDir {
    /// Loads the host directory `host`, with everything under it, to be preopened as `guest`
    /// (`.` makes the agents' relative paths start there). Regular files are read whole;
    /// symbolic links are followed (a link to something else, one that leads nowhere, and one
    /// to a directory it lies in, which would loop, are left out, as are sockets and devices).
    pub fn load(host: impl AsRef<Path>, guest: impl Into<String>) -> Result<Self, WasiDirError> {
        let host = host.as_ref();
        let root_meta = std::fs::metadata(host).map_err(|e| WasiDirError::new(host, e))?;
        if !root_meta.is_dir() {
            return Err(WasiDirError::new(host, "not a directory"));
        }
        let mut inodes = vec![Inode::empty_dir(0, 0)];
        set_times(&mut inodes[0], &root_meta);
        // Directories still to read, with their inode numbers and the real paths of the
        // directories they lie in, themselves included.
        let root = std::fs::canonicalize(host).map_err(|e| WasiDirError::new(host, e))?;
        let mut pending = vec![(host.to_owned(), 0 as Ino, 0usize, vec![root])];
        while let Some((path, ino, depth, within)) = pending.pop() {
            if depth > MAX_LOAD_DEPTH {
                return Err(WasiDirError::new(
                    &path,
                    "nested too deeply (a symbolic link loop?)",
                ));
            }
            let read = std::fs::read_dir(&path).map_err(|e| WasiDirError::new(&path, e))?;
            for entry in read {
                let entry = entry.map_err(|e| WasiDirError::new(&path, e))?;
                let child = entry.path();
                let name = entry.file_name().into_string().map_err(|_| {
                    WasiDirError::new(&child, "the name is not UTF-8, which WASI paths must be")
                })?;
                // Follows symbolic links; one leading nowhere is left out.
                let Ok(meta) = std::fs::metadata(&child) else {
                    continue;
                };
                let next = inodes.len() as Ino;
                let mut inode = if meta.is_dir() {
                    let real =
                        std::fs::canonicalize(&child).map_err(|e| WasiDirError::new(&child, e))?;
                    if within.contains(&real) {
                        // A link back up: following it would never end.
                        continue;
                    }
                    let mut inner = within.clone();
                    inner.push(real);
                    pending.push((child.clone(), next, depth + 1, inner));
                    Inode::empty_dir(ino, 0)
                } else if meta.is_file() {
                    let bytes = std::fs::read(&child).map_err(|e| WasiDirError::new(&child, e))?;
                    Inode::new(Kind::File(Data::Shared(bytes.into())), 0)
                } else {
                    continue;
                };
                set_times(&mut inode, &meta);
                inodes.push(inode);
                let Kind::Dir(dir) = &mut inodes[ino as usize].kind else {
                    unreachable!("only directories are read")
                };
                dir.insert(name, next);
            }
        }
        Ok(Self {
            guest: guest.into(),
            inodes: Arc::new(inodes),
        })
    }

    /// A directory of the files given, each as a `/`-separated path under it and its bytes,
    /// with the directories those paths name; to be preopened as `guest`.
    pub fn from_files<P: AsRef<str>, B: Into<Vec<u8>>>(
        guest: impl Into<String>,
        files: impl IntoIterator<Item = (P, B)>,
    ) -> Result<Self, WasiDirError> {
        let mut inodes = vec![Inode::empty_dir(0, 0)];
        for (path, bytes) in files {
            let path = path.as_ref();
            let bad = |reason| WasiDirError::new(Path::new(path), reason);
            let names: Vec<&str> = path.split('/').filter(|n| !n.is_empty()).collect();
            let Some((file, dirs)) = names.split_last() else {
                return Err(bad("an empty path"));
            };
            if names.iter().any(|n| matches!(*n, "." | "..")) {
                return Err(bad("`.` and `..` are not names"));
            }
            let mut at: Ino = 0;
            for name in dirs {
                let next = inodes.len() as Ino;
                let Kind::Dir(dir) = &mut inodes[at as usize].kind else {
                    return Err(bad("a file's path runs through another file"));
                };
                at = match dir.entries().get(*name) {
                    Some(&ino) => ino,
                    None => {
                        dir.insert((*name).to_owned(), next);
                        inodes.push(Inode::empty_dir(at, 0));
                        next
                    }
                };
            }
            let next = inodes.len() as Ino;
            let Kind::Dir(dir) = &mut inodes[at as usize].kind else {
                return Err(bad("a file's path runs through another file"));
            };
            if dir.insert((*file).to_owned(), next).is_some() {
                return Err(bad("given twice, or as a directory too"));
            }
            let bytes: Vec<u8> = bytes.into();
            inodes.push(Inode::new(Kind::File(Data::Shared(bytes.into())), 0));
        }
        Ok(Self {
            guest: guest.into(),
            inodes: Arc::new(inodes),
        })
    }

    /// The name the agents see it under.
    pub fn guest(&self) -> &str {
        &self.guest
    }
}

/// How deep [`WasiDir::load`] goes, which ends a loop of symbolic links.
const MAX_LOAD_DEPTH: usize = 64;

fn set_times(inode: &mut Inode, meta: &std::fs::Metadata) {
    let nanos = |t: std::io::Result<SystemTime>| {
        t.ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    };
    inode.mtim = nanos(meta.modified());
    inode.atim = nanos(meta.accessed());
    inode.ctim = inode.mtim;
}

/// Every preopened directory's inodes in one numbering, shared by all agents.
#[derive(Debug, Default)]
pub(crate) struct Image {
    pub(crate) inodes: Vec<Inode>,
    /// Each preopen's guest name and root, in preopen order.
    pub(crate) roots: Vec<(String, Ino)>,
    /// Each file's path (the preopen's guest name, then the path under it).
    pub(crate) paths: HashMap<Ino, String>,
}

impl Image {
    pub(crate) fn new(dirs: &[WasiDir]) -> Self {
        let mut image = Image::default();
        for dir in dirs {
            let base = image.inodes.len() as Ino;
            image.roots.push((dir.guest.clone(), base));
            image.inodes.extend(dir.inodes.iter().map(|inode| {
                let mut inode = inode.clone();
                if let Kind::Dir(dir) = &mut inode.kind {
                    dir.parent += base;
                    dir.inos_mut().for_each(|ino| *ino += base);
                }
                inode
            }));
            let mut pending = vec![(dir.guest.trim_end_matches('/').to_owned(), base)];
            while let Some((path, ino)) = pending.pop() {
                let Kind::Dir(d) = &image.inodes[ino as usize].kind else {
                    image.paths.insert(ino, path);
                    continue;
                };
                pending.extend(d.entries().iter().map(|(n, i)| (format!("{path}/{n}"), *i)));
            }
        }
        image
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn a_loaded_directory_follows_links_but_not_loops() {
        let root = std::env::temp_dir().join(format!("swarm-wasidir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/file"), b"bytes").unwrap();
        std::os::unix::fs::symlink("sub/file", root.join("link")).unwrap();
        std::os::unix::fs::symlink(".", root.join("sub/self")).unwrap();
        std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
        let dir = WasiDir::load(&root, "d").unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        let image = Image::new(&[dir]);
        let mut names: Vec<_> = image.paths.values().cloned().collect();
        names.sort();
        assert_eq!(names, ["d/link", "d/sub/file"]);
    }
}
