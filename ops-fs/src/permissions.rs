//! `FsPermissions`: the read and write roots a runtime's fs ops may touch.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::resolve::{Follow, resolve};

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

/// The directories a runtime may read and write, below which every path an fs op
/// names must resolve. Deny by default: `FsPermissions::default()` allows nothing.
///
/// Roots are resolved when they are added (relative to the process's cwd, symlinks
/// followed), so a root that is itself a symlink stands for its target. A write root
/// grants write access only: reading below it needs a read root too (`allow_all`
/// adds both).
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
    read: Arc<[PathBuf]>,
    write: Arc<[PathBuf]>,
}

impl FsPermissions {
    /// Permissions that allow nothing (the same as `default()`).
    pub fn deny_all() -> Self {
        Self::default()
    }

    /// Allows reading below `root`.
    pub fn allow_read(self, root: impl AsRef<Path>) -> Self {
        let read = add_root(&self.read, root.as_ref());
        Self { read, ..self }
    }

    /// Allows writing below `root` (not reading: add a read root for that).
    pub fn allow_write(self, root: impl AsRef<Path>) -> Self {
        let write = add_root(&self.write, root.as_ref());
        Self { write, ..self }
    }

    /// Allows reading and writing below `root`.
    pub fn allow_all(self, root: impl AsRef<Path>) -> Self {
        let root = root.as_ref();
        self.allow_read(root).allow_write(root)
    }

    /// The resolved read roots.
    pub fn read_roots(&self) -> &[PathBuf] {
        &self.read
    }

    /// The resolved write roots.
    pub fn write_roots(&self) -> &[PathBuf] {
        &self.write
    }

    /// Whether `resolved` (an absolute, symlink-free path, as the ops' resolver makes
    /// it) lies below a root for `access`.
    pub fn allows(&self, access: Access, resolved: &Path) -> bool {
        let roots = match access {
            Access::Read => &self.read,
            Access::Write => &self.write,
        };
        roots.iter().any(|root| resolved.starts_with(root))
    }

    /// Whether `resolved` lies strictly below a root for `access`: what an op that
    /// removes, renames or replaces the entry itself needs, since doing that to a root
    /// would change its parent directory, which is outside the root.
    pub(crate) fn allows_entry(&self, access: Access, resolved: &Path) -> bool {
        let roots = match access {
            Access::Read => &self.read,
            Access::Write => &self.write,
        };
        roots
            .iter()
            .any(|root| resolved != root.as_path() && resolved.starts_with(root))
    }

    /// Whether anything at or below `resolved` can be read: it lies below a read root,
    /// or a read root lies below it.
    pub(crate) fn reads_within(&self, resolved: &Path) -> bool {
        self.read
            .iter()
            .any(|root| resolved.starts_with(root) || root.starts_with(resolved))
    }
}

fn add_root(roots: &[PathBuf], root: &Path) -> Arc<[PathBuf]> {
    // A root that cannot be resolved (a symlink loop) is kept unresolved: it then
    // matches only paths that resolve to exactly it, which no resolved path can be.
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let resolved = resolve(&cwd, root, Follow::Yes).unwrap_or_else(|_| root.to_path_buf());
    roots.iter().cloned().chain([resolved]).collect()
}
