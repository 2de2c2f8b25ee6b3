//! One agent's files ([`Fs`]): its view of the image of the preopened directories
//! (`dir.rs`), with an overlay of the inodes it created or changed, kept within a budget.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::abi::errno;
use super::dir::Image;

/// An inode number: the image's inodes first, then each agent's new ones.
pub(crate) type Ino = u32;

/// A file or directory.
#[derive(Clone, Debug)]
pub(crate) struct Inode {
    pub(crate) kind: Kind,
    /// Names that lead to it (a directory counts one).
    pub(crate) nlink: u64,
    /// Times in nanoseconds since the Unix epoch: last access, modification, status change.
    pub(crate) atim: u64,
    pub(crate) mtim: u64,
    pub(crate) ctim: u64,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    File(Data),
    Dir(Dir),
}

/// A directory: its entries by name, and its parent (itself for a preopened root).
#[derive(Clone, Debug)]
pub(crate) struct Dir {
    entries: BTreeMap<String, Ino>,
    /// Its entries' names and [`ENTRY_BYTES`] each, kept as entries come and go: what the
    /// directory costs of a budget, without a walk over its entries at each change.
    entry_bytes: usize,
    pub(crate) parent: Ino,
}

impl Dir {
    /// An empty directory in `parent`.
    pub(crate) fn new(parent: Ino) -> Self {
        Self {
            entries: BTreeMap::new(),
            entry_bytes: 0,
            parent,
        }
    }

    /// Its entries, by name.
    pub(crate) fn entries(&self) -> &BTreeMap<String, Ino> {
        &self.entries
    }

    /// Its entries' names, with [`ENTRY_BYTES`] each.
    pub(crate) fn entry_bytes(&self) -> usize {
        self.entry_bytes
    }

    /// Adds or replaces entry `name`; the inode it named before, if any.
    pub(crate) fn insert(&mut self, name: String, ino: Ino) -> Option<Ino> {
        let bytes = name.len() + ENTRY_BYTES;
        let before = self.entries.insert(name, ino);
        if before.is_none() {
            self.entry_bytes += bytes;
        }
        before
    }

    /// Removes entry `name`; the inode it named, if any.
    pub(crate) fn remove(&mut self, name: &str) -> Option<Ino> {
        let before = self.entries.remove(name);
        if before.is_some() {
            self.entry_bytes -= name.len() + ENTRY_BYTES;
        }
        before
    }

    /// The inodes of its entries, to renumber.
    pub(crate) fn inos_mut(&mut self) -> impl Iterator<Item = &mut Ino> {
        self.entries.values_mut()
    }
}

/// A file's bytes: still the image's, or the agent's own copy.
#[derive(Clone, Debug)]
pub(crate) enum Data {
    Shared(Arc<[u8]>),
    Own(Vec<u8>),
}

impl Data {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Data::Shared(bytes) => bytes,
            Data::Own(bytes) => bytes,
        }
    }
}

impl Inode {
    /// An empty directory in `parent` (itself for a root).
    pub(crate) fn empty_dir(parent: Ino, now: u64) -> Self {
        Self {
            nlink: 2,
            ..Self::new(Kind::Dir(Dir::new(parent)), now)
        }
    }

    pub(crate) fn new(kind: Kind, now: u64) -> Self {
        Self {
            kind,
            nlink: 1,
            atim: now,
            mtim: now,
            ctim: now,
        }
    }

    pub(crate) fn dir(&self) -> Option<&Dir> {
        match &self.kind {
            Kind::Dir(dir) => Some(dir),
            Kind::File(_) => None,
        }
    }

    pub(crate) fn is_dir(&self) -> bool {
        self.dir().is_some()
    }

    /// A file's bytes (none for a directory).
    pub(crate) fn bytes(&self) -> &[u8] {
        match &self.kind {
            Kind::File(data) => data.bytes(),
            Kind::Dir(_) => &[],
        }
    }

    /// Its size as `filestat` gives it: a file's length; a directory's entries' names.
    pub(crate) fn size(&self) -> u64 {
        match &self.kind {
            Kind::File(data) => data.bytes().len() as u64,
            Kind::Dir(dir) => dir.entry_bytes() as u64,
        }
    }
}

/// What an inode of an agent's overlay costs of its budget, beyond its contents.
pub(crate) const INODE_BYTES: usize = 64;
/// What a directory entry costs, beyond its name.
pub(crate) const ENTRY_BYTES: usize = 16;

/// What `inode`, held in an agent's overlay, costs of its budget: its bytes where they are its
/// own, its entries' names, and [`INODE_BYTES`].
fn cost(inode: &Inode) -> usize {
    INODE_BYTES
        + match &inode.kind {
            Kind::File(Data::Own(bytes)) => bytes.len(),
            Kind::File(Data::Shared(_)) => 0,
            Kind::Dir(dir) => dir.entry_bytes(),
        }
}

/// The longest path, and name, Linux accepts.
const MAX_PATH_BYTES: usize = 4_095;
const MAX_NAME_BYTES: usize = 255;

/// Where a path leads: the directory holding its last name, and that name (`None` where the
/// path names the directory itself, as `.` or `a/..` do).
#[derive(Debug)]
pub(crate) struct Walk {
    pub(crate) dir: Ino,
    pub(crate) name: Option<String>,
    /// Whether the path ends in `/`, so must name a directory.
    pub(crate) trailing_slash: bool,
}

/// One agent's files: the image, and its overlay of the inodes it created or changed.
#[derive(Debug)]
pub(crate) struct Fs {
    image: Arc<Image>,
    overlay: HashMap<Ino, Inode>,
    next: Ino,
    used: usize,
    budget: usize,
    /// Whether a change was refused because the budget was spent.
    pub(crate) full: bool,
}

impl Fs {
    pub(crate) fn new(image: Arc<Image>, budget: usize) -> Self {
        let next = image.inodes.len() as Ino;
        Self {
            image,
            overlay: HashMap::new(),
            next,
            used: 0,
            budget,
            full: false,
        }
    }

    /// Inode `ino` as the agent sees it.
    pub(crate) fn node(&self, ino: Ino) -> &Inode {
        self.overlay
            .get(&ino)
            .unwrap_or_else(|| &self.image.inodes[ino as usize])
    }

    /// The entry `name` of directory `dir`.
    pub(crate) fn entry(&self, dir: Ino, name: &str) -> Option<Ino> {
        self.node(dir).dir()?.entries().get(name).copied()
    }

    /// Walks `path` from directory `start`, which it may not leave: an absolute path or a `..`
    /// above `start` is `EPERM`. Every name but the last must be a directory.
    pub(crate) fn walk(&self, start: Ino, path: &str) -> Result<Walk, i32> {
        if path.is_empty() {
            return Err(errno::NOENT);
        }
        if path.len() > MAX_PATH_BYTES {
            return Err(errno::NAMETOOLONG);
        }
        if path.starts_with('/') {
            return Err(errno::PERM);
        }
        let trailing_slash = path.ends_with('/');
        let names: Vec<&str> = path.split('/').filter(|n| !n.is_empty()).collect();
        let mut dir = start;
        let mut depth = 0usize;
        for (i, name) in names.iter().enumerate() {
            let last = i + 1 == names.len();
            // Each name is checked as it is reached, as the host opens a path a name at a time.
            if name.contains('\0') {
                return Err(errno::INVAL);
            }
            if name.len() > MAX_NAME_BYTES {
                return Err(errno::NAMETOOLONG);
            }
            match *name {
                "." => {}
                ".." => {
                    if depth == 0 {
                        return Err(errno::PERM);
                    }
                    depth -= 1;
                    dir = self
                        .node(dir)
                        .dir()
                        .expect("walked through directories")
                        .parent;
                }
                name if last => {
                    return Ok(Walk {
                        dir,
                        name: Some(name.to_owned()),
                        trailing_slash,
                    });
                }
                name => {
                    let ino = self.entry(dir, name).ok_or(errno::NOENT)?;
                    if !self.node(ino).is_dir() {
                        return Err(errno::NOTDIR);
                    }
                    dir = ino;
                    depth += 1;
                }
            }
        }
        Ok(Walk {
            dir,
            name: None,
            trailing_slash,
        })
    }

    /// What `walk` names, if it exists: a name with a trailing slash must be a directory.
    pub(crate) fn lookup(&self, walk: &Walk) -> Result<Option<Ino>, i32> {
        let Some(name) = &walk.name else {
            return Ok(Some(walk.dir));
        };
        match self.entry(walk.dir, name) {
            Some(ino) if walk.trailing_slash && !self.node(ino).is_dir() => Err(errno::NOTDIR),
            found => Ok(found),
        }
    }

    /// Changes inode `ino`, copying it into the overlay, if the overlay's cost afterwards,
    /// with `ino` costing `after`, is within the budget; `ENOSPC` otherwise.
    fn change<R>(
        &mut self,
        ino: Ino,
        after: usize,
        f: impl FnOnce(&mut Inode) -> R,
    ) -> Result<R, i32> {
        let before = self.overlay.get(&ino).map_or(0, cost);
        self.reserve(after.saturating_sub(before))?;
        let inode = self
            .overlay
            .entry(ino)
            .or_insert_with(|| self.image.inodes[ino as usize].clone());
        let r = f(inode);
        self.used = self.used - before + cost(inode);
        Ok(r)
    }

    /// Checks that `bytes` more fit the budget.
    fn reserve(&mut self, bytes: usize) -> Result<(), i32> {
        if self
            .used
            .checked_add(bytes)
            .is_none_or(|total| total > self.budget)
        {
            self.full = true;
            return Err(errno::NOSPC);
        }
        Ok(())
    }

    /// What `ino` would cost with `delta` more bytes of entries.
    fn cost_with(&self, ino: Ino, delta: isize) -> usize {
        cost(self.node(ino)).saturating_add_signed(delta)
    }

    /// Sets the times of `ino` that are given.
    pub(crate) fn set_times(
        &mut self,
        ino: Ino,
        atim: Option<u64>,
        mtim: Option<u64>,
        now: u64,
    ) -> Result<(), i32> {
        let after = self.cost_with(ino, 0);
        self.change(ino, after, |inode| {
            if let Some(t) = atim {
                inode.atim = t;
            }
            if let Some(t) = mtim {
                inode.mtim = t;
            }
            inode.ctim = now;
        })
    }

    /// How many bytes a write at `offset` of file `ino` may put there within the budget.
    pub(crate) fn writable(&self, ino: Ino, offset: u64) -> u64 {
        let len = self.node(ino).bytes().len() as u64;
        let before = self.overlay.get(&ino).map_or(0, cost) as u64;
        // The longest the file may be: what the budget leaves beside the rest of the overlay.
        let longest =
            (self.budget as u64 + before).saturating_sub(self.used as u64 + INODE_BYTES as u64);
        if longest < len {
            0
        } else {
            longest.saturating_sub(offset)
        }
    }

    /// Writes `bytes` at `offset` of file `ino`, zero-filling any gap: as many as the budget
    /// lets it (a short count), `ENOSPC` when none fit.
    pub(crate) fn write(
        &mut self,
        ino: Ino,
        offset: u64,
        bytes: &[u8],
        now: u64,
    ) -> Result<usize, i32> {
        if offset > i64::MAX as u64 {
            return Err(errno::INVAL);
        }
        if bytes.is_empty() {
            return Ok(0);
        }
        if offset + bytes.len() as u64 > i64::MAX as u64 {
            return Err(errno::FBIG);
        }
        let len = self.node(ino).bytes().len() as u64;
        let fits = self.writable(ino, offset).min(bytes.len() as u64) as usize;
        if fits < bytes.len() {
            self.full = true;
        }
        if fits == 0 {
            return Err(errno::NOSPC);
        }
        let end = offset + fits as u64;
        let after = INODE_BYTES + end.max(len) as usize;
        self.change(ino, after, |inode| {
            let data = own(inode);
            if (data.len() as u64) < end {
                data.resize(end as usize, 0);
            }
            data[offset as usize..end as usize].copy_from_slice(&bytes[..fits]);
            inode.mtim = now;
            inode.ctim = now;
        })?;
        Ok(fits)
    }

    /// Sets the length of file `ino`, cutting it or zero-filling it.
    pub(crate) fn set_size(&mut self, ino: Ino, size: u64, now: u64) -> Result<(), i32> {
        if size > i64::MAX as u64 {
            return Err(errno::INVAL);
        }
        let len = self.node(ino).bytes().len() as u64;
        if size == len {
            return self.set_times(ino, None, Some(now), now);
        }
        let size = usize::try_from(size).map_err(|_| errno::FBIG)?;
        self.change(ino, INODE_BYTES.saturating_add(size), |inode| {
            own(inode).resize(size, 0);
            inode.mtim = now;
            inode.ctim = now;
        })
    }

    /// Adds `name` to directory `dir`, leading to `ino`.
    fn add_entry(&mut self, dir: Ino, name: &str, ino: Ino, now: u64) -> Result<(), i32> {
        self.alive(dir)?;
        // A name replaced costs nothing more.
        let added = match self.entry(dir, name) {
            Some(_) => 0,
            None => (name.len() + ENTRY_BYTES) as isize,
        };
        let after = self.cost_with(dir, added);
        self.change(dir, after, |inode| {
            let Kind::Dir(d) = &mut inode.kind else {
                unreachable!("entries are added to directories")
            };
            d.insert(name.to_owned(), ino);
            inode.mtim = now;
            inode.ctim = now;
        })
    }

    /// Takes `name` out of directory `dir`, whatever the budget: a removal never fails for
    /// want of room.
    fn remove_entry(&mut self, dir: Ino, name: &str, now: u64) {
        let after = self.cost_with(dir, -((name.len() + ENTRY_BYTES) as isize));
        self.budget_exempt(dir, after, |inode| {
            let Kind::Dir(d) = &mut inode.kind else {
                unreachable!("entries are taken from directories")
            };
            d.remove(name);
            inode.mtim = now;
            inode.ctim = now;
        });
    }

    /// `ENOENT` if directory `dir` was removed (a descriptor may still have it open).
    pub(crate) fn alive(&self, dir: Ino) -> Result<(), i32> {
        if self.node(dir).nlink == 0 {
            return Err(errno::NOENT);
        }
        Ok(())
    }

    /// Makes a new empty file or directory as `name` in `dir`, which does not hold the name.
    pub(crate) fn create(
        &mut self,
        dir: Ino,
        name: &str,
        is_dir: bool,
        now: u64,
    ) -> Result<Ino, i32> {
        self.alive(dir)?;
        // The directory's new entry (copying it into the overlay if it is the image's) and
        // the new inode, reserved at once.
        let before = self.overlay.get(&dir).map_or(0, cost);
        let after = self.cost_with(dir, (name.len() + ENTRY_BYTES) as isize);
        self.reserve(after.saturating_sub(before) + INODE_BYTES)?;
        let ino = self.next;
        self.next += 1;
        self.add_entry(dir, name, ino, now)?;
        let inode = if is_dir {
            Inode::empty_dir(dir, now)
        } else {
            Inode::new(Kind::File(Data::Own(Vec::new())), now)
        };
        self.used += cost(&inode);
        self.overlay.insert(ino, inode);
        Ok(ino)
    }

    /// Takes `name` out of `dir`; the inode it led to goes once nothing leads to it and, as
    /// `open` says, no descriptor has it open.
    pub(crate) fn unlink(
        &mut self,
        dir: Ino,
        name: &str,
        now: u64,
        open: impl Fn(Ino) -> bool,
    ) -> Result<(), i32> {
        let ino = self.entry(dir, name).ok_or(errno::NOENT)?;
        self.remove_entry(dir, name, now);
        self.drop_link(ino, now, open);
        Ok(())
    }

    /// One name fewer leads to `ino`.
    fn drop_link(&mut self, ino: Ino, now: u64, open: impl Fn(Ino) -> bool) {
        let after = self.cost_with(ino, 0);
        // Within the budget whatever it costs: a removal never fails for want of room.
        self.budget_exempt(ino, after, |inode| {
            inode.nlink = inode
                .nlink
                .saturating_sub(if inode.is_dir() { 2 } else { 1 });
            inode.ctim = now;
            // A removed directory leads nowhere, not even to its old parent.
            if let Kind::Dir(d) = &mut inode.kind
                && inode.nlink == 0
            {
                d.parent = ino;
            }
        });
        self.release(ino, &open);
    }

    /// Changes `ino` whatever the budget.
    fn budget_exempt(&mut self, ino: Ino, after: usize, f: impl FnOnce(&mut Inode)) {
        let budget = std::mem::replace(&mut self.budget, usize::MAX);
        let _ = self.change(ino, after, f);
        self.budget = budget;
    }

    /// Forgets `ino` if no name leads to it and no descriptor has it open.
    pub(crate) fn release(&mut self, ino: Ino, open: impl Fn(Ino) -> bool) {
        if self.node(ino).nlink == 0
            && !open(ino)
            && let Some(inode) = self.overlay.remove(&ino)
        {
            self.used -= cost(&inode);
        }
    }

    /// Adds `name` in `dir` for the existing file `ino`.
    pub(crate) fn link(&mut self, dir: Ino, name: &str, ino: Ino, now: u64) -> Result<(), i32> {
        self.add_entry(dir, name, ino, now)?;
        let after = self.cost_with(ino, 0);
        self.budget_exempt(ino, after, |inode| {
            inode.nlink += 1;
            inode.ctim = now;
        });
        Ok(())
    }

    /// Moves `from_name` of `from_dir` to `to_name` of `to_dir`, replacing what is there as
    /// `rename(2)` does.
    pub(crate) fn rename(
        &mut self,
        from_dir: Ino,
        from_name: &str,
        to_dir: Ino,
        to_name: &str,
        now: u64,
        open: impl Fn(Ino) -> bool,
    ) -> Result<(), i32> {
        let ino = self.entry(from_dir, from_name).ok_or(errno::NOENT)?;
        self.alive(to_dir)?;
        let is_dir = self.node(ino).is_dir();
        let target = self.entry(to_dir, to_name);
        // As rename(2): a target that holds the source is not empty, whatever else.
        if let Some(target) = target
            && target != ino
            && self.node(target).is_dir()
            && self.is_within(from_dir, target)
        {
            return Err(errno::NOTEMPTY);
        }
        if is_dir && self.is_within(to_dir, ino) {
            return Err(errno::INVAL);
        }
        if let Some(target) = target {
            if target == ino {
                return Ok(());
            }
            match (is_dir, self.node(target).dir()) {
                (true, None) => return Err(errno::NOTDIR),
                (false, Some(_)) => return Err(errno::ISDIR),
                (true, Some(d)) if !d.entries().is_empty() => return Err(errno::NOTEMPTY),
                _ => {}
            }
        }
        self.add_entry(to_dir, to_name, ino, now)?;
        if (from_dir, from_name) != (to_dir, to_name) {
            self.remove_entry(from_dir, from_name, now);
        }
        if is_dir && from_dir != to_dir {
            let after = self.cost_with(ino, 0);
            self.budget_exempt(ino, after, |inode| {
                if let Kind::Dir(d) = &mut inode.kind {
                    d.parent = to_dir;
                }
            });
        }
        if let Some(target) = target {
            self.drop_link(target, now, &open);
        }
        let after = self.cost_with(ino, 0);
        self.budget_exempt(ino, after, |inode| inode.ctim = now);
        Ok(())
    }

    /// Whether directory `dir` is `ancestor` or lies under it.
    fn is_within(&self, mut dir: Ino, ancestor: Ino) -> bool {
        loop {
            if dir == ancestor {
                return true;
            }
            let parent = self.node(dir).dir().map_or(dir, |d| d.parent);
            if parent == dir {
                return false;
            }
            dir = parent;
        }
    }

    /// The files the agent created, changed, moved or linked, by guest path (`GUEST/a/b`), in
    /// path order: every file its view holds that the image does not hold the same at the
    /// same path.
    pub(crate) fn changed_files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = Vec::new();
        for (guest, root) in &self.image.roots {
            let mut pending = vec![(guest.trim_end_matches('/').to_owned(), *root)];
            while let Some((path, dir)) = pending.pop() {
                let Some(d) = self.node(dir).dir() else {
                    continue;
                };
                for (name, &ino) in d.entries().iter().rev() {
                    let child = format!("{path}/{name}");
                    match &self.node(ino).kind {
                        Kind::Dir(_) => pending.push((child, ino)),
                        // Changed, new, or the image's under another name.
                        Kind::File(data) => {
                            if matches!(data, Data::Own(_))
                                || self.image.paths.get(&ino) != Some(&child)
                            {
                                files.push((child, data.bytes().to_vec()));
                            }
                        }
                    }
                }
            }
        }
        files.sort();
        files
    }

    /// The file at guest path `path` (`GUEST/a/b`), as the agent sees it.
    pub(crate) fn read_path(&self, path: &str) -> Option<Vec<u8>> {
        self.image.roots.iter().find_map(|(guest, root)| {
            let guest = guest.trim_end_matches('/');
            let rest = path.strip_prefix(guest)?;
            let rest = if guest.is_empty() {
                rest
            } else {
                rest.strip_prefix('/')?
            };
            let ino = self.lookup(&self.walk(*root, rest).ok()?).ok()??;
            match &self.node(ino).kind {
                Kind::File(data) => Some(data.bytes().to_vec()),
                Kind::Dir(_) => None,
            }
        })
    }
}

/// A file's bytes as its own, copied out of the image if they were the image's.
fn own(inode: &mut Inode) -> &mut Vec<u8> {
    let Kind::File(data) = &mut inode.kind else {
        unreachable!("only files have bytes")
    };
    if let Data::Shared(bytes) = data {
        *data = Data::Own(bytes.to_vec());
    }
    match data {
        Data::Own(bytes) => bytes,
        Data::Shared(_) => unreachable!("just copied"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasi::WasiDir;

    #[test]
    fn a_directorys_entry_bytes_follow_its_entries() {
        let mut dir = Dir::new(0);
        let walk = |dir: &Dir| -> usize {
            dir.entries()
                .keys()
                .map(|name| name.len() + ENTRY_BYTES)
                .sum()
        };
        assert_eq!(dir.insert("alpha".to_owned(), 1), None);
        assert_eq!(dir.insert("be".to_owned(), 2), None);
        assert_eq!(
            dir.insert("alpha".to_owned(), 3),
            Some(1),
            "a name replaced"
        );
        assert_eq!(dir.entry_bytes(), walk(&dir));
        assert_eq!(dir.entry_bytes(), 5 + 2 + 2 * ENTRY_BYTES);
        assert_eq!(dir.remove("missing"), None);
        assert_eq!(dir.remove("alpha"), Some(3));
        assert_eq!(dir.entry_bytes(), walk(&dir));
        assert_eq!(dir.remove("be"), Some(2));
        assert_eq!(dir.entry_bytes(), 0);
    }

    fn view(budget: usize) -> Fs {
        let dir = WasiDir::from_files(
            "data",
            [("a.txt", b"hello".to_vec()), ("sub/b", vec![7; 100])],
        )
        .unwrap();
        Fs::new(Arc::new(Image::new(&[dir])), budget)
    }

    #[test]
    fn walks_stay_inside_their_start() {
        let fs = view(1 << 20);
        let root = fs.image.roots[0].1;
        let sub = fs.entry(root, "sub").unwrap();
        assert_eq!(fs.walk(root, "/etc").unwrap_err(), errno::PERM);
        assert_eq!(fs.walk(root, "..").unwrap_err(), errno::PERM);
        assert_eq!(fs.walk(sub, "../a.txt").unwrap_err(), errno::PERM);
        assert_eq!(fs.walk(root, "a.txt/x").unwrap_err(), errno::NOTDIR);
        assert_eq!(fs.walk(root, "nope/x").unwrap_err(), errno::NOENT);
        let walk = fs.walk(root, "sub/../a.txt").unwrap();
        assert_eq!((walk.dir, walk.name.as_deref()), (root, Some("a.txt")));
        let walk = fs.walk(root, "a.txt/").unwrap();
        assert_eq!(fs.lookup(&walk).unwrap_err(), errno::NOTDIR);
        assert_eq!(
            fs.lookup(&fs.walk(root, "./sub/.").unwrap()).unwrap(),
            Some(sub)
        );
    }

    #[test]
    fn writes_copy_image_files_and_keep_to_the_budget() {
        let mut fs = view(INODE_BYTES + 8);
        let root = fs.image.roots[0].1;
        let a = fs.entry(root, "a.txt").unwrap();
        // The whole file becomes the agent's: 5 bytes, then 3 more fit, the rest does not.
        assert_eq!(fs.write(a, 5, b"!!!!!", 0), Ok(3));
        assert!(fs.full);
        assert_eq!(fs.node(a).bytes(), b"hello!!!");
        assert_eq!(fs.write(a, 8, b"x", 0), Err(errno::NOSPC));
        // Another agent's view is the image's.
        assert_eq!(Fs::new(Arc::clone(&fs.image), 0).node(a).bytes(), b"hello");
        assert_eq!(
            fs.changed_files(),
            vec![("data/a.txt".into(), b"hello!!!".to_vec())]
        );
        // Cutting the file frees room.
        fs.set_size(a, 1, 0).unwrap();
        assert_eq!(fs.write(a, 1, b"1234567", 0), Ok(7));
        assert_eq!(fs.read_path("data/a.txt").unwrap(), b"h1234567");
        // A write past the end zero-fills the gap.
        let mut fs = view(1 << 20);
        let b = fs.create(root, "new", false, 0).unwrap();
        assert_eq!(fs.write(b, 3, b"x", 0), Ok(1));
        assert_eq!(fs.node(b).bytes(), b"\0\0\0x");
    }

    #[test]
    fn unlinked_files_free_their_budget_once_closed() {
        let mut fs = view(1 << 20);
        let root = fs.image.roots[0].1;
        let f = fs.create(root, "f", false, 0).unwrap();
        fs.write(f, 0, &[1; 1000], 0).unwrap();
        let used = fs.used;
        fs.unlink(root, "f", 0, |ino| ino == f).unwrap();
        assert_eq!(fs.entry(root, "f"), None);
        // Still open: kept.
        assert_eq!(fs.node(f).bytes().len(), 1000);
        fs.release(f, |_| false);
        assert!(fs.used < used - 1000);
        assert!(fs.changed_files().is_empty());
    }

    #[test]
    fn renames_follow_rename_2() {
        let mut fs = view(1 << 20);
        let root = fs.image.roots[0].1;
        let sub = fs.entry(root, "sub").unwrap();
        assert_eq!(
            fs.rename(root, "sub", sub, "x", 0, |_| false),
            Err(errno::INVAL)
        );
        assert_eq!(
            fs.rename(root, "sub", root, "a.txt", 0, |_| false),
            Err(errno::NOTDIR)
        );
        assert_eq!(
            fs.rename(root, "a.txt", root, "sub", 0, |_| false),
            Err(errno::ISDIR)
        );
        fs.rename(root, "a.txt", sub, "b", 0, |_| false).unwrap();
        assert_eq!(fs.entry(root, "a.txt"), None);
        assert_eq!(fs.read_path("data/sub/b").unwrap(), b"hello");
        let d = fs.create(root, "d", true, 0).unwrap();
        fs.rename(root, "sub", d, "moved", 0, |_| false).unwrap();
        let moved = fs.entry(d, "moved").unwrap();
        assert_eq!(fs.node(moved).dir().unwrap().parent, d);
    }

    #[test]
    fn a_rename_onto_a_directory_holding_the_source_is_not_empty() {
        let mut fs = view(1 << 20);
        let root = fs.image.roots[0].1;
        let sub = fs.entry(root, "sub").unwrap();
        assert_eq!(
            fs.rename(sub, "b", root, "sub", 0, |_| false),
            Err(errno::NOTEMPTY)
        );
    }

    #[test]
    fn removed_directories_take_no_new_entries() {
        let mut fs = view(1 << 20);
        let root = fs.image.roots[0].1;
        let d = fs.create(root, "d", true, 0).unwrap();
        let x = fs.create(d, "x", true, 0).unwrap();
        // x stays open while it and d are removed.
        let open = |ino| ino == x;
        fs.unlink(d, "x", 0, open).unwrap();
        fs.unlink(root, "d", 0, open).unwrap();
        assert_eq!(fs.alive(x), Err(errno::NOENT));
        assert_eq!(fs.create(x, "f", false, 0), Err(errno::NOENT));
        fs.create(root, "e", true, 0).unwrap();
        assert_eq!(fs.rename(root, "e", x, "e", 0, open), Err(errno::NOENT));
        assert_eq!(fs.walk(x, "..").unwrap_err(), errno::PERM);
    }

    #[test]
    fn guest_values_past_the_limits_are_refused_without_panics() {
        let mut fs = view(1 << 20);
        let root = fs.image.roots[0].1;
        let a = fs.entry(root, "a.txt").unwrap();
        assert_eq!(fs.set_size(a, u64::MAX, 0), Err(errno::INVAL));
        assert_eq!(fs.set_size(a, i64::MAX as u64, 0), Err(errno::NOSPC));
        assert_eq!(fs.write(a, u64::MAX, b"x", 0), Err(errno::INVAL));
        assert_eq!(fs.write(a, i64::MAX as u64, b"xy", 0), Err(errno::FBIG));
        assert_eq!(fs.walk(root, "a\0b").unwrap_err(), errno::INVAL);
        let long = "n".repeat(256);
        assert_eq!(fs.walk(root, &long).unwrap_err(), errno::NAMETOOLONG);
        assert_eq!(
            fs.walk(root, &"d/".repeat(2_048)).unwrap_err(),
            errno::NAMETOOLONG
        );
    }

    #[test]
    fn a_creation_keeps_to_the_budget_with_its_directory_copied() {
        // The image's directory costs its entries once copied: here more than the budget.
        let files: Vec<_> = (0..100).map(|i| (format!("f{i:03}"), vec![1])).collect();
        let dir = WasiDir::from_files("big", files).unwrap();
        let mut fs = Fs::new(Arc::new(Image::new(&[dir])), 1_000);
        let root = fs.image.roots[0].1;
        assert_eq!(fs.create(root, "new", false, 0), Err(errno::NOSPC));
        assert!(fs.full && fs.used <= fs.budget);
    }

    #[test]
    fn moved_and_linked_image_files_are_handed_back() {
        let mut fs = view(1 << 20);
        let root = fs.image.roots[0].1;
        let sub = fs.entry(root, "sub").unwrap();
        let a = fs.entry(root, "a.txt").unwrap();
        fs.link(sub, "a-link", a, 0).unwrap();
        fs.rename(root, "sub", root, "moved", 0, |_| false).unwrap();
        let paths: Vec<_> = fs.changed_files().into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["data/moved/a-link", "data/moved/b"]);
    }
}
