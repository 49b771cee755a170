//! `FsContext`: one runtime's cwd, umask and permissions, and the checks every
//! path-taking op starts with.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use opkit::{ErrorClass, OpError};

use crate::permissions::{Access, FsPermissions};
use crate::resolve::{Follow, ResolveError, resolve};

/// The umask a runtime starts with when the process's cannot be read.
const DEFAULT_UMASK: u32 = 0o022;

/// What the fs ops of one runtime share, kept in its `OpState`.
///
/// `op_chdir` and `op_umask` change only this value, never the process's cwd or umask,
/// so runtimes in one process do not see each other's changes. Ops take it as
/// `#[state] &FsContext`; the async entries get a clone (an `Arc` and a path).
#[derive(Debug, Clone)]
pub struct FsContext {
    perms: Arc<FsPermissions>,
    cwd: PathBuf,
    umask: u32,
}

impl FsContext {
    /// A context with the process's cwd and umask as the starting values.
    pub fn new(perms: FsPermissions) -> Self {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        Self {
            perms: Arc::new(perms),
            cwd,
            umask: process_umask().unwrap_or(DEFAULT_UMASK),
        }
    }

    /// Starts the runtime in `cwd` instead (resolved, symlinks followed, against the
    /// process's cwd). Permissions are still checked on every path used later.
    pub fn with_cwd(mut self, cwd: impl AsRef<Path>) -> Self {
        let cwd = resolve(&self.cwd, cwd.as_ref(), Follow::Yes).unwrap_or_else(|_| {
            // An unresolvable cwd (a symlink loop) is kept as given: every path below
            // it fails to resolve the same way, so nothing escapes through it.
            self.cwd.join(cwd.as_ref())
        });
        self.cwd = cwd;
        self
    }

    /// Starts the runtime with this umask instead of the process's.
    pub fn with_umask(mut self, umask: u32) -> Self {
        self.umask = umask & 0o777;
        self
    }

    pub fn permissions(&self) -> &FsPermissions {
        &self.perms
    }

    /// The runtime's cwd: absolute, symlinks resolved when it was set.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    pub fn umask(&self) -> u32 {
        self.umask
    }

    pub(crate) fn set_cwd(&mut self, cwd: PathBuf) {
        self.cwd = cwd;
    }

    pub(crate) fn set_umask(&mut self, umask: u32) {
        self.umask = umask & 0o777;
    }

    /// `mode` with this runtime's umask applied, as a creation would get it.
    pub(crate) fn creation_mode(&self, mode: u32) -> u32 {
        mode & 0o7777 & !self.umask
    }

    /// Resolves `path` (following a final symlink) and checks `access` on the result,
    /// which is the path the syscall must use.
    pub(crate) fn check(&self, access: Access, path: &str) -> Result<PathBuf, OpError> {
        self.check_with(&[access], path, Follow::Yes)
    }

    /// Resolves `path` without following a final symlink, for ops that act on the entry
    /// itself (the link, not its target). Write access then needs the entry strictly
    /// below a write root: removing, renaming or replacing a root would change its
    /// parent directory, which is outside every root.
    pub(crate) fn check_nofollow(&self, access: Access, path: &str) -> Result<PathBuf, OpError> {
        self.check_with(&[access], path, Follow::No)
    }

    /// Resolves `path` and checks every access in `accesses` on it; with
    /// [`Follow::No`], write access needs the entry strictly below a write root, as
    /// [`Self::check_nofollow`] says.
    pub(crate) fn check_with(
        &self,
        accesses: &[Access],
        path: &str,
        follow: Follow,
    ) -> Result<PathBuf, OpError> {
        let resolved = self.resolve_path(path, follow)?;
        for &access in accesses {
            if !self.perms.allows(access, &resolved) {
                return Err(denied(access, path));
            }
            let acts_on_entry = follow == Follow::No && access == Access::Write;
            if acts_on_entry && !self.perms.allows_entry(access, &resolved) {
                return Err(OpError::permission_denied(format!(
                    "{}: write access denied: the path is a write root, which cannot itself \
                     be removed, renamed or replaced",
                    quoted(path)
                )));
            }
        }
        Ok(resolved)
    }

    /// For `op_mkdir`: `path` resolved without following a final symlink, at or below
    /// a write root. Unlike [`Self::check_nofollow`], the root itself passes: `mkdir`
    /// never replaces an entry, so at most it creates a root that is missing (as a
    /// recursive `mkdir` does for a missing parent).
    pub(crate) fn check_new_dir(&self, path: &str) -> Result<PathBuf, OpError> {
        let resolved = self.resolve_path(path, Follow::No)?;
        if !self.perms.allows(Access::Write, &resolved) {
            return Err(denied(Access::Write, path));
        }
        Ok(resolved)
    }

    /// `path` as the syscall must use it; no access checked yet.
    fn resolve_path(&self, path: &str, follow: Follow) -> Result<PathBuf, OpError> {
        if path.is_empty() {
            return Err(path_error(path, io::Error::from(io::ErrorKind::NotFound)));
        }
        if path.contains('\0') {
            return Err(OpError::type_error(format!(
                "{}: a path cannot contain a NUL byte",
                quoted(path)
            )));
        }
        resolve(&self.cwd, Path::new(path), follow).map_err(|err| match err {
            ResolveError::Loop => OpError::permission_denied(format!(
                "{}: cannot check access: too many levels of symbolic links",
                quoted(path)
            ))
            .with_code("ELOOP"),
            ResolveError::Io(err) => path_error(path, err),
        })
    }
}

/// The `PermissionDenied` of a path outside the roots. The message names the path as
/// the guest wrote it, not what it resolved to.
pub(crate) fn denied(access: Access, path: &str) -> OpError {
    OpError::permission_denied(format!(
        "{}: {access} access denied: the path is outside the {access} roots",
        quoted(path)
    ))
}

/// An `io::Error` about `path`, keeping the class and the errno code.
pub(crate) fn path_error(path: &str, err: io::Error) -> OpError {
    OpError::from(err).context(quoted(path))
}

/// An `io::Error` about two paths (`rename`, `link`, `copy_file`).
pub(crate) fn paths_error(from: &str, to: &str, err: io::Error) -> OpError {
    OpError::from(err).context(format_args!("{} -> {}", quoted(from), quoted(to)))
}

pub(crate) fn quoted(path: &str) -> impl std::fmt::Display + '_ {
    struct Quoted<'a>(&'a str);
    impl std::fmt::Display for Quoted<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "'{}'", self.0)
        }
    }
    Quoted(path)
}

/// A `TypeError` for an argument that decoded but makes no sense.
pub(crate) fn invalid_argument(message: impl Into<String>) -> OpError {
    OpError::new(ErrorClass::TypeError, message.into())
}

/// The process's umask, read from `/proc/self/status` (Linux 4.7+) rather than with
/// `umask(2)`, which can only read it by changing it.
fn process_umask() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("Umask:"))?;
    u32::from_str_radix(line.trim_start_matches("Umask:").trim(), 8).ok()
}
