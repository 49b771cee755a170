//! `FsPermissions`: the read and write roots a runtime's fs ops may touch, each held
//! open as a handle that every path is resolved beneath; and [`FsPermissionCheck`],
//! what the ops ask, which a host may implement with rules of its own on top.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use rustix::fs::{FileType, Mode, OFlags};

use crate::beneath::Resolver;

/// The kind of access an op needs on a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading contents or metadata, listing, resolving.
    Read,
    /// Creating, changing or removing.
    Write,
}

impl Access {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The directories a runtime may read and write. Deny by default:
/// `FsPermissions::default()` allows nothing.
///
/// Each root is resolved when it is added (relative to the process's cwd, symlinks
/// followed) and opened once as a handle; every path an fs op names is then resolved
/// by the kernel *beneath* that handle, so no `..`, symlink or swap between a check
/// and a use can leave it. A path belongs to the root its spelling starts with (the
/// resolved root, or the root as it was named): `..` and symlinks may move about
/// inside that root but never out of it, not even into another root. A write root
/// grants write access only: reading below it needs a read root too (`allow_all` adds
/// both). A root may also be a single file.
///
/// ```
/// use opkit_fs::{Access, FsPermissions};
///
/// let dir = tempfile::tempdir().unwrap();
/// let root = dir.path().canonicalize().unwrap();
/// let perms = FsPermissions::default().allow_read(&root);
/// assert!(perms.allows(Access::Read, &root.join("a.txt")));
/// assert!(!perms.allows(Access::Write, &root.join("a.txt")));
/// assert!(!perms.allows(Access::Read, root.parent().unwrap()));
/// assert!(!FsPermissions::default().allows(Access::Read, &root));
/// ```
#[derive(Debug, Clone, Default)]
pub struct FsPermissions {
    roots: Arc<[Arc<Root>]>,
    resolver: Resolver,
    /// Held by `op_rename` from its check to its syscall: the check asks where the
    /// destination is, and no other rename of these permissions may move it meanwhile.
    renames: Arc<Mutex<()>>,
}

/// One root: where it is, what it grants, and its handle.
#[derive(Debug)]
pub(crate) struct Root {
    /// The resolved path, then the path as named when it differs; both absolute and
    /// clean (no `.`, `..`, repeated or trailing `/`), so that a prefix of a clean path
    /// can be matched byte by byte.
    names: Vec<PathBuf>,
    read: bool,
    write: bool,
    /// Opened when the root is added, or on first use if it did not exist then.
    handle: OnceLock<OwnedFd>,
    /// Set for a root that was missing when it was added and lies inside another
    /// root: the guest could put anything at its path (a symlink, a directory of a
    /// write-only root), so it is never opened.
    sealed: AtomicBool,
}

impl Root {
    fn new(given: &Path, read: bool, write: bool) -> Self {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let given: PathBuf = cwd.join(given).components().collect();
        let (resolved, sealed) = resolve_root(&given);
        let mut names = vec![resolved];
        if given != names[0] {
            names.push(given);
        }
        let root = Self {
            names,
            read,
            write,
            handle: OnceLock::new(),
            sealed: AtomicBool::new(sealed),
        };
        let _ = root.handle();
        root
    }

    /// Whether the root may still be opened (or made) if it is missing.
    pub(crate) fn is_sealed(&self) -> bool {
        self.sealed.load(Ordering::Relaxed)
    }

    /// The resolved path.
    pub(crate) fn path(&self) -> &Path {
        &self.names[0]
    }

    pub(crate) fn grants(&self, access: Access) -> bool {
        match access {
            Access::Read => self.read,
            Access::Write => self.write,
        }
    }

    /// The root's handle, opening it if it was missing until now.
    pub(crate) fn handle(&self) -> io::Result<BorrowedFd<'_>> {
        if let Some(fd) = self.handle.get() {
            return Ok(fd.as_fd());
        }
        if self.sealed.load(Ordering::Relaxed) {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        // What is outside every root is the host's: only a symlink at the root's own
        // name (which would stand for something else than the resolved path) is
        // refused.
        let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::open(self.path(), flags, Mode::empty())?;
        // `O_PATH | O_NOFOLLOW` opens a symlink itself: that is no root.
        if FileType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode) == FileType::Symlink {
            return Err(io::Error::from_raw_os_error(libc::ELOOP));
        }
        // Two threads may open it at once; one handle is kept, the other closed.
        let _ = self.handle.set(fd);
        match self.handle.get() {
            Some(fd) => Ok(fd.as_fd()),
            None => Err(io::Error::from(io::ErrorKind::NotFound)),
        }
    }

    /// Where the rest of `path` (absolute and clean) starts after the name of this
    /// root it starts with, if any.
    fn prefix_of(&self, path: &Path) -> Option<usize> {
        let path = path.as_os_str().as_bytes();
        self.names.iter().find_map(|name| {
            let name = name.as_os_str().as_bytes();
            let rest = path.strip_prefix(name)?;
            match rest.first() {
                None => Some(path.len()),
                Some(b'/') => Some(name.len() + 1),
                // `/` as a root: every path continues it.
                Some(_) if name.ends_with(b"/") => Some(name.len()),
                Some(_) => None,
            }
        })
    }
}

/// A root's path resolved, symlinks followed; for one that does not exist yet, its
/// deepest existing ancestor resolved and the rest as named. Sealed (never opened)
/// when the rest cannot be taken as named: it climbs with `..`, or no ancestor
/// resolves.
fn resolve_root(given: &Path) -> (PathBuf, bool) {
    if let Ok(resolved) = std::fs::canonicalize(given) {
        return (resolved, false);
    }
    for ancestor in given.ancestors().skip(1) {
        let Ok(resolved) = std::fs::canonicalize(ancestor) else {
            continue;
        };
        let rest = given.strip_prefix(ancestor).unwrap_or(given);
        let climbs = rest.components().any(|part| part == Component::ParentDir);
        return (resolved.join(rest), climbs);
    }
    (given.to_path_buf(), true)
}

/// The device and inode of what `fd` is open on.
fn inode(fd: BorrowedFd<'_>) -> io::Result<(u64, u64)> {
    let stat = rustix::fs::fstat(fd)?;
    Ok((stat.st_dev, stat.st_ino))
}

/// The root a path is resolved beneath, and where the rest of the path starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Located<'a> {
    pub(crate) root: &'a Root,
    pub(crate) rest: usize,
}

/// What the fs ops ask before they touch a path: which root, if any, grants an access
/// to it. The ops are generic over it (`op_stat::<P>`); [`FsPermissions`] is the
/// implementation this crate ships, and a host plugs in its own with
/// [`extension_for`](crate::extension_for) to add rules (a prompt, an audit log,
/// narrower roots for some accesses) without giving up how a path is resolved.
///
/// Whatever the rules, a path is only ever resolved by the kernel beneath the handle
/// of the root in the [`Grant`], and a `Grant` can only come from
/// [`FsPermissions::grant`]: a host narrows what is allowed by granting from roots
/// of its choosing, or by refusing, but cannot let a guest out of a root.
///
/// ```
/// use std::path::Path;
/// use opkit_fs::{Access, FsPermissionCheck, FsPermissions, Grant};
///
/// /// The host's roots, with writes refused after hours.
/// struct OfficeHours {
///     roots: FsPermissions,
///     open: bool,
/// }
///
/// impl FsPermissionCheck for OfficeHours {
///     fn roots(&self) -> &FsPermissions {
///         &self.roots
///     }
///
///     fn check(&self, access: Access, path: &Path) -> Option<Grant<'_>> {
///         if access == Access::Write && !self.open {
///             return None;
///         }
///         self.roots.grant(access, path)
///     }
/// }
///
/// let dir = tempfile::tempdir().unwrap();
/// let root = dir.path().canonicalize().unwrap();
/// let closed = OfficeHours { roots: FsPermissions::default().allow_all(&root), open: false };
/// assert!(closed.check(Access::Read, &root.join("a")).is_some());
/// assert!(closed.check(Access::Write, &root.join("a")).is_none());
/// ```
pub trait FsPermissionCheck: Send + Sync + 'static {
    /// Every root that [`check`](Self::check) may grant from, with the accesses each
    /// grants. Besides `check`, the ops ask it what no single path answers: whether a
    /// directory lies in a readable root (`op_rename` needs a readable source when the
    /// destination can be read), how a `..` in a path is read, and which renames to
    /// keep apart. A `check` that grants more than these roots do can make `op_rename`
    /// move a write-only file into view.
    fn roots(&self) -> &FsPermissions;

    /// The root beneath which `path` is resolved for `access`, or `None` to refuse
    /// it (`PermissionDenied`, "the path is outside the .. roots"). Asked for every
    /// path an op names (twice for a path that needs both accesses), before anything
    /// is opened. `path` is absolute (made so against the runtime's cwd) and clean of
    /// `.` and repeated `/`; a `..` that only the tree can resolve is left in, since
    /// the kernel resolves it beneath the granted root. So a rule on the spelling is
    /// no fence: a symlink below a prefix can lead anywhere in its root. To confine a
    /// guest to a directory, grant from a root there.
    ///
    /// By default, what [`roots`](Self::roots) grants.
    fn check(&self, access: Access, path: &Path) -> Option<Grant<'_>> {
        self.roots().grant(access, path)
    }
}

impl FsPermissionCheck for FsPermissions {
    fn roots(&self) -> &FsPermissions {
        self
    }
}

/// A root of an [`FsPermissions`] that grants an access to a path: what the path is
/// then resolved beneath. Made only by [`FsPermissions::grant`].
#[derive(Debug, Clone, Copy)]
pub struct Grant<'a> {
    pub(crate) located: Located<'a>,
    pub(crate) resolver: Resolver,
}

impl Grant<'_> {
    /// The root the path is resolved beneath (its resolved path).
    pub fn root(&self) -> &Path {
        self.located.root.path()
    }
}

impl FsPermissions {
    /// Permissions that allow nothing (the same as `default()`).
    pub fn deny_all() -> Self {
        Self::default()
    }

    /// Allows reading below `root`.
    pub fn allow_read(self, root: impl AsRef<Path>) -> Self {
        self.add(root.as_ref(), true, false)
    }

    /// Allows writing below `root` (not reading: add a read root for that).
    pub fn allow_write(self, root: impl AsRef<Path>) -> Self {
        self.add(root.as_ref(), false, true)
    }

    /// Allows reading and writing below `root`.
    pub fn allow_all(self, root: impl AsRef<Path>) -> Self {
        self.add(root.as_ref(), true, true)
    }

    /// Resolves paths with `resolver` instead of `openat2` (see [`Resolver`]).
    pub fn resolve_with(self, resolver: Resolver) -> Self {
        Self { resolver, ..self }
    }

    /// The resolved read roots.
    pub fn read_roots(&self) -> Vec<PathBuf> {
        self.roots_for(Access::Read)
    }

    /// The resolved write roots.
    pub fn write_roots(&self) -> Vec<PathBuf> {
        self.roots_for(Access::Write)
    }

    fn roots_for(&self, access: Access) -> Vec<PathBuf> {
        let roots = self.roots.iter().filter(|root| root.grants(access));
        roots.map(|root| root.path().to_path_buf()).collect()
    }

    /// Whether `path` (absolute) is spelled below a root for `access`: the first check
    /// of every op. Where it then leads is checked by the kernel, beneath the root.
    pub fn allows(&self, access: Access, path: &Path) -> bool {
        self.locate(access, path).is_some()
    }

    /// The root that grants `access` on `path` (absolute and clean), if any: the
    /// widest, so that `..` has the most room inside it. What
    /// [`FsPermissionCheck::check`] answers by default.
    pub fn grant(&self, access: Access, path: &Path) -> Option<Grant<'_>> {
        let located = self.locate(access, path)?;
        Some(Grant {
            located,
            resolver: self.resolver,
        })
    }

    /// Whether the directory `dir` lies at or below a read root's handle, where it is
    /// now: its `..` chain is walked up to `/` and compared with the roots' inodes.
    pub(crate) fn can_read_in(&self, dir: BorrowedFd<'_>) -> io::Result<bool> {
        let mut read_roots = Vec::new();
        for root in self.roots.iter().filter(|root| root.read) {
            if let Ok(handle) = root.handle() {
                read_roots.push(inode(handle)?);
            }
        }
        let up = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let mut at = inode(dir)?;
        let mut parent = rustix::fs::openat(dir, "..", up, Mode::empty())?;
        loop {
            if read_roots.contains(&at) {
                return Ok(true);
            }
            let above = inode(parent.as_fd())?;
            if above == at {
                // `/`, whose `..` is itself.
                return Ok(false);
            }
            at = above;
            parent = rustix::fs::openat(&parent, "..", up, Mode::empty())?;
        }
    }

    /// The lock `op_rename` holds from its check to its syscall.
    pub(crate) fn rename_lock(&self) -> MutexGuard<'_, ()> {
        self.renames
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `path` lies below a root, not at one.
    pub(crate) fn strictly_inside_a_root(&self, path: &Path) -> bool {
        let names = self.roots.iter().flat_map(|root| &root.names);
        names
            .into_iter()
            .any(|name| path != name && path.starts_with(name))
    }

    /// The widest root that grants `access` on `path` (absolute and clean): the one
    /// with the shortest name, so that `..` has the most room inside it.
    pub(crate) fn locate(&self, access: Access, path: &Path) -> Option<Located<'_>> {
        self.roots
            .iter()
            .filter(|root| root.grants(access))
            .filter_map(|root| {
                let rest = root.prefix_of(path)?;
                Some(Located { root, rest })
            })
            .min_by_key(|located| located.rest)
    }

    fn add(self, given: &Path, read: bool, write: bool) -> Self {
        let mut root = Root::new(given, read, write);
        let mut roots: Vec<Arc<Root>> = Vec::with_capacity(self.roots.len() + 1);
        for old in self.roots.iter() {
            if old.path() == root.path() {
                // The same directory named twice: one root with both grants.
                root.read |= old.read;
                root.write |= old.write;
                for name in &old.names {
                    if !root.names.contains(name) {
                        root.names.push(name.clone());
                    }
                }
            } else {
                roots.push(Arc::clone(old));
            }
        }
        roots.push(Arc::new(root));
        // A missing root inside another one is never opened (see `Root::sealed`); the
        // roots may come in any order, so every pair is looked at again.
        for inner in roots.iter().filter(|root| root.handle.get().is_none()) {
            let nested = roots.iter().any(|outer| {
                !Arc::ptr_eq(outer, inner)
                    && outer.names.iter().any(|outer| {
                        inner
                            .names
                            .iter()
                            .any(|name| name != outer && name.starts_with(outer))
                    })
            });
            if nested {
                inner.sealed.store(true, Ordering::Relaxed);
            }
        }
        Self {
            roots: roots.into(),
            ..self
        }
    }
}
