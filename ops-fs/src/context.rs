//! `FsContext`: one runtime's cwd, umask and permissions; and [`GuestPath`], a guest's
//! path located beneath the root that grants it, which every path-taking op acts
//! through.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use opkit::{ErrorClass, OpError};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Statx, StatxFlags};

use crate::beneath::{self, Resolver, is_escape};
use crate::permissions::{Access, FsPermissionCheck, FsPermissions, Root};

/// The umask a runtime starts with when the process's cannot be read.
const DEFAULT_UMASK: u32 = 0o022;

/// What the fs ops of one runtime share, kept in its `OpState`: the permissions `P`
/// they check (shared, never copied) and the runtime's cwd and umask.
///
/// `op_chdir` and `op_umask` change only this value, never the process's cwd or umask,
/// so runtimes in one process do not see each other's changes. Ops take it as
/// `#[state] &FsContext<P>`; the async entries get a clone (an `Arc` and a path).
#[derive(Debug)]
pub struct FsContext<P = FsPermissions> {
    perms: Arc<P>,
    /// Shared, so the state clone an async entry makes copies no path.
    cwd: Arc<Path>,
    umask: u32,
    max_read: u64,
}

// By hand: a derive would ask for `P: Clone`, and the permissions are shared.
impl<P> Clone for FsContext<P> {
    fn clone(&self) -> Self {
        Self {
            perms: Arc::clone(&self.perms),
            cwd: Arc::clone(&self.cwd),
            umask: self.umask,
            max_read: self.max_read,
        }
    }
}

/// How much `op_read_file` and `op_read_text_file` read at most, unless the host says
/// otherwise: a sparse file costs a guest nothing to make and its full size to read.
pub const DEFAULT_MAX_READ: u64 = 256 << 20;

impl<P: FsPermissionCheck> FsContext<P> {
    /// A context with the process's cwd and umask as the starting values.
    pub fn new(perms: P) -> Self {
        Self::shared(Arc::new(perms))
    }

    /// [`Self::new`] with permissions the host keeps a handle to (to look at what a
    /// recording check saw, or to share one between runtimes).
    pub fn shared(perms: Arc<P>) -> Self {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        Self {
            perms,
            cwd: cwd.into(),
            umask: beneath::process_umask().unwrap_or(DEFAULT_UMASK),
            max_read: DEFAULT_MAX_READ,
        }
    }

    /// How many bytes a whole-file read may take (default [`DEFAULT_MAX_READ`]); a
    /// larger file is `ResourceExhausted`, and is read with `op_open` and `op_read`.
    pub fn with_max_read(mut self, bytes: u64) -> Self {
        self.max_read = bytes;
        self
    }

    pub fn max_read(&self) -> u64 {
        self.max_read
    }

    /// Starts the runtime in `cwd` instead (resolved, symlinks followed, against the
    /// process's cwd). Permissions are still checked on every path used later.
    pub fn with_cwd(mut self, cwd: impl AsRef<Path>) -> Self {
        let cwd = self.cwd.join(cwd.as_ref());
        // A cwd that cannot be resolved (missing, a symlink loop) is kept as named:
        // every path below it is then resolved, and refused, the same way.
        self.cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd).into();
        self
    }

    /// Starts the runtime with this umask instead of the process's.
    pub fn with_umask(mut self, umask: u32) -> Self {
        self.umask = umask & 0o777;
        self
    }

    pub fn permissions(&self) -> &P {
        &self.perms
    }

    /// Whether the permissions grant `access` on `path` (absolute and clean).
    pub(crate) fn allows(&self, access: Access, path: &Path) -> bool {
        self.perms.check(access, path).is_some()
    }

    /// The runtime's cwd: absolute, symlinks resolved when it was set.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    pub fn umask(&self) -> u32 {
        self.umask
    }

    /// Reads the whole file at `path` as `op_read_file` does: granted by a read root,
    /// resolved beneath its handle by the kernel (so a symlink swapped in after any
    /// earlier check still cannot lead out), and at most [`max_read`](Self::max_read)
    /// bytes. For a host's own reads on a guest's behalf, such as a script's modules.
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, OpError> {
        crate::contents::read_whole(self, path)
    }

    pub(crate) fn set_cwd(&mut self, cwd: PathBuf) {
        self.cwd = cwd.into();
    }

    pub(crate) fn set_umask(&mut self, umask: u32) {
        self.umask = umask & 0o777;
    }

    /// `mode` with this runtime's umask applied, as a creation would get it.
    pub(crate) fn creation_mode(&self, mode: u32) -> u32 {
        mode & 0o7777 & !self.umask
    }

    /// Locates `path` beneath the root that grants `access`.
    pub(crate) fn path<'a>(
        &'a self,
        access: Access,
        path: &'a str,
    ) -> Result<GuestPath<'a>, OpError> {
        self.path_for(&[access], path)
    }

    /// Locates `path` beneath a root that grants every access in `accesses`: for each
    /// access the widest root that grants it, then the narrowest of those, which must
    /// lie inside the others, so that what is resolved beneath it is inside them all.
    pub(crate) fn path_for<'a>(
        &'a self,
        accesses: &[Access],
        path: &'a str,
    ) -> Result<GuestPath<'a>, OpError> {
        if path.is_empty() {
            return Err(path_error(path, io::Error::from(io::ErrorKind::NotFound)));
        }
        if path.contains('\0') {
            return Err(OpError::type_error(format!(
                "{}: a path cannot contain a NUL byte",
                quoted(path)
            )));
        }
        let abs = if path.starts_with('/') {
            Cow::Borrowed(Path::new(path))
        } else {
            Cow::Owned(self.cwd.join(path))
        };
        // Clean, so that roots match byte by byte.
        let abs = match Spelling::of(abs.as_os_str().as_bytes()) {
            Spelling::Clean => abs,
            Spelling::Unclean => Cow::Owned(abs.components().collect()),
            Spelling::DotDot => Cow::Owned(self.apply_known_parents(&abs)),
        };
        let first = accesses.first().copied().unwrap_or(Access::Read);
        let mut base = None;
        for &access in accesses {
            let grant = self
                .perms
                .check(access, &abs)
                .ok_or_else(|| denied(access, path))?;
            base = match base {
                None => Some(grant),
                Some(other) => {
                    let (outer, inner) = if grant.located.rest < other.located.rest {
                        (grant, other)
                    } else {
                        (other, grant)
                    };
                    if !inner.root().starts_with(outer.root()) {
                        return Err(denied(access, path));
                    }
                    Some(inner)
                }
            };
        }
        let grant = base.ok_or_else(|| denied(first, path))?;
        Ok(GuestPath {
            dir_only: path.ends_with('/') || path.ends_with("/."),
            resolver: grant.resolver,
            root: grant.located.root,
            rest: grant.located.rest,
            abs,
            guest: path,
            access: first,
        })
    }
}

/// What an absolute path needs before its root can be matched byte by byte.
#[derive(Debug, PartialEq, Eq)]
enum Spelling {
    /// Nothing: no `.`, `..` or repeated `/`.
    Clean,
    /// `.` or repeated `/` to drop.
    Unclean,
    /// `..` to apply.
    DotDot,
}

impl Spelling {
    /// One pass over the bytes (this runs on every call).
    fn of(path: &[u8]) -> Self {
        let mut spelling = Self::Clean;
        let mut before = 0;
        for (i, &byte) in path.iter().enumerate() {
            match (before, byte) {
                (b'.', b'.') => return Self::DotDot,
                (b'/', b'/') => spelling = Self::Unclean,
                (b'/', b'.') if matches!(path.get(i + 1), None | Some(b'/')) => {
                    spelling = Self::Unclean;
                }
                _ => {}
            }
            before = byte;
        }
        spelling
    }
}

impl<P: FsPermissionCheck> FsContext<P> {
    /// `path` (absolute) with each `..` applied to the spelling where what it climbs
    /// out of is known to be a real directory: a part of the cwd (symlink-free when it
    /// was set), a root, or what lies above the roots. The first `..` inside a root
    /// past the cwd, and everything after it, is left to the kernel, which resolves it
    /// beneath the root as it finds the tree (`link/..` is the link target's parent).
    /// Either way the result is resolved beneath a root: this decides what a path
    /// means, not whether it stays inside.
    fn apply_known_parents(&self, path: &Path) -> PathBuf {
        let mut applied = PathBuf::from("/");
        let mut components = path.components();
        while let Some(component) = components.next() {
            match component {
                Component::ParentDir
                    if self.cwd.starts_with(&applied)
                        || !self.perms.roots().strictly_inside_a_root(&applied) =>
                {
                    applied.pop();
                }
                Component::ParentDir => {
                    applied.push("..");
                    applied.extend(components);
                    break;
                }
                Component::Normal(name) => applied.push(name),
                Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            }
        }
        applied
    }
}

/// A guest's path, located beneath the root it is spelled in: what the op acts on.
pub(crate) struct GuestPath<'a> {
    resolver: Resolver,
    root: &'a Root,
    /// The path made absolute against the cwd and clean, as spelled.
    abs: Cow<'a, Path>,
    /// Where the rest of `abs` after the root's name starts.
    rest: usize,
    guest: &'a str,
    access: Access,
    /// The path ends in `/` or `/.`: it must name a directory, as the kernel reads
    /// it (`f/` is `ENOTDIR` for a file, and a symlink there is followed).
    dir_only: bool,
}

/// A descriptor an op acts on: a root's own handle, or one opened beneath it.
pub(crate) enum Fd<'a> {
    Root(BorrowedFd<'a>),
    Opened(OwnedFd),
}

impl Fd<'_> {
    /// A descriptor of its own (a root's handle is duplicated).
    pub(crate) fn into_owned(self) -> io::Result<OwnedFd> {
        match self {
            Self::Root(fd) => fd.try_clone_to_owned(),
            Self::Opened(fd) => Ok(fd),
        }
    }
}

impl AsFd for Fd<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Self::Root(fd) => *fd,
            Self::Opened(fd) => fd.as_fd(),
        }
    }
}

/// `statx` of everything `FsStat` reports.
pub(crate) const STATX_FIELDS: StatxFlags = StatxFlags::BASIC_STATS.union(StatxFlags::BTIME);

impl<'a> GuestPath<'a> {
    /// The path as the guest wrote it.
    pub(crate) fn guest(&self) -> &'a str {
        self.guest
    }

    /// The rest of the path beneath the root; empty for the root itself.
    pub(crate) fn rel(&self) -> &Path {
        let bytes = self.abs.as_os_str().as_bytes();
        Path::new(OsStr::from_bytes(
            bytes.get(self.rest..).unwrap_or_default(),
        ))
    }

    /// Whether the path ends in `/` or `/.`, and so must name a directory.
    pub(crate) fn dir_only(&self) -> bool {
        self.dir_only
    }

    /// Whether the root the path is resolved beneath grants `access`.
    pub(crate) fn root_grants(&self, access: Access) -> bool {
        self.root.grants(access)
    }

    fn root_handle(&self) -> Result<BorrowedFd<'a>, OpError> {
        self.root.handle().map_err(|err| self.error(err))
    }

    /// Opens what the path names with `flags` (following a final symlink unless they
    /// have `NOFOLLOW`), beneath the root.
    pub(crate) fn open(&self, flags: OFlags, mode: Mode) -> Result<Fd<'a>, OpError> {
        self.try_open(flags, mode).map_err(|err| self.error(err))
    }

    fn try_open(&self, flags: OFlags, mode: Mode) -> io::Result<Fd<'a>> {
        let flags = if !self.dir_only {
            flags
        } else if flags.contains(OFlags::CREATE) {
            return Err(io::Error::from_raw_os_error(libc::EISDIR));
        } else {
            (flags | OFlags::DIRECTORY) - OFlags::NOFOLLOW
        };
        let root = self.root.handle()?;
        let rel = self.rel();
        let only_path = (flags - OFlags::NOFOLLOW - OFlags::CLOEXEC) == OFlags::PATH;
        if rel.as_os_str().is_empty() && only_path {
            return Ok(Fd::Root(root));
        }
        match beneath::open(self.resolver, root, rel, flags, mode) {
            Ok(fd) => Ok(Fd::Opened(fd)),
            // A root that is a file has no `.` to open: reopen its own handle.
            Err(err) if rel.as_os_str().is_empty() && err.raw_os_error() == Some(libc::ENOTDIR) => {
                let proc_path = beneath::proc_fd_path(root);
                let fd = rustix::fs::open(proc_path, flags | OFlags::CLOEXEC, mode)?;
                Ok(Fd::Opened(fd))
            }
            Err(err) => Err(err),
        }
    }

    /// Opens the path as a `File` (what `op_open` and the content ops hold).
    pub(crate) fn open_file(&self, flags: OFlags, mode: u32) -> Result<File, OpError> {
        self.open_file_or(flags, mode, |err| path_error(self.guest, err))
    }

    /// [`Self::open_file`] with the errors that are not about the sandbox described
    /// by `describe`, for ops that name two paths in their errors.
    pub(crate) fn open_file_or(
        &self,
        flags: OFlags,
        mode: u32,
        describe: impl FnOnce(io::Error) -> OpError,
    ) -> Result<File, OpError> {
        let fd = self
            .try_open(flags, Mode::from_raw_mode(mode))
            .and_then(Fd::into_owned);
        fd.map(File::from)
            .map_err(|err| self.error_or(err, describe))
    }

    /// Whether the root exists (it may have been missing when it was added).
    pub(crate) fn root_exists(&self) -> bool {
        self.root.handle().is_ok()
    }

    /// The metadata of what the path names, following a final symlink with `follow`.
    pub(crate) fn stat(&self, follow: bool) -> Result<Statx, OpError> {
        let statx = |fd: BorrowedFd<'_>, name: &OsStr, flags: AtFlags| {
            rustix::fs::statx(fd, name, flags, STATX_FIELDS).map_err(|err| self.error(err.into()))
        };
        match self.entry_name() {
            // A directory by its spelling: the open below checks and follows.
            _ if self.dir_only => {}
            // A name in the root itself needs no lookup of ours: one `statx` that does
            // not follow the name. Only a symlink there takes the long way.
            Some((parent, name)) if parent.as_os_str().is_empty() => {
                let root = self.root_handle()?;
                let stat = statx(root, name, AtFlags::SYMLINK_NOFOLLOW)?;
                if !follow || FileType::from_raw_mode(stat.stx_mode.into()) != FileType::Symlink {
                    return Ok(stat);
                }
            }
            Some(_) if !follow => {
                let (parent, name) = self.parent()?;
                return statx(parent.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW);
            }
            _ => {}
        }
        let fd = self.open(OFlags::PATH, Mode::empty())?;
        statx(fd.as_fd(), OsStr::new(""), AtFlags::EMPTY_PATH)
    }

    /// The entry's parent beneath the root and its name, when the path ends in one.
    pub(crate) fn entry_name(&self) -> Option<(&Path, &OsStr)> {
        let rel = self.rel();
        let bytes = rel.as_os_str().as_bytes();
        let (parent, name) = match bytes.iter().rposition(|&b| b == b'/') {
            _ if bytes.is_empty() || bytes.ends_with(b"/") => {
                return Some((rel.parent()?, rel.file_name()?));
            }
            Some(slash) => (&bytes[..slash], &bytes[slash + 1..]),
            None => (&b""[..], bytes),
        };
        (name != b"..").then(|| {
            (
                Path::new(OsStr::from_bytes(parent)),
                OsStr::from_bytes(name),
            )
        })
    }

    /// The directory that holds the entry the path names, opened beneath the root, and
    /// the entry's name: for ops on the entry itself (a link, not its target). A root
    /// itself has no entry here: removing, renaming or replacing it would change its
    /// parent directory, which is outside the root.
    pub(crate) fn parent(&self) -> Result<(Fd<'a>, &OsStr), OpError> {
        let Some((parent, name)) = self.entry_name() else {
            return Err(if self.rel().as_os_str().is_empty() {
                OpError::permission_denied(format!(
                    "{}: {} access denied: the path is a {} root, which cannot itself \
                     be removed, renamed or replaced",
                    quoted(self.guest),
                    self.access,
                    self.access
                ))
            } else {
                // It names a directory by its child, which may be the root: refused
                // like one, with the reason.
                OpError::permission_denied(format!(
                    "{}: {} access denied: the path ends in '..', which names no entry of \
                     its own; name the directory itself",
                    quoted(self.guest),
                    self.access
                ))
            });
        };
        let root = self.root_handle()?;
        let dir = if parent.as_os_str().is_empty() {
            Fd::Root(root)
        } else {
            let flags = OFlags::PATH | OFlags::DIRECTORY;
            let fd = beneath::open(self.resolver, root, parent, flags, Mode::empty())
                .map_err(|err| self.error(err))?;
            Fd::Opened(fd)
        };
        if self.dir_only {
            // `d/` names a directory: anything else there is `ENOTDIR`.
            match rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) if FileType::from_raw_mode(stat.st_mode) != FileType::Directory => {
                    return Err(self.error(io::Error::from_raw_os_error(libc::ENOTDIR)));
                }
                _ => {}
            }
        }
        Ok((dir, name))
    }

    /// [`Self::parent`] for an entry about to be made that is no directory (a symlink,
    /// a hard link): a path ending in `/` cannot name one, `ENOENT` as the kernel says.
    pub(crate) fn new_entry(&self) -> Result<(Fd<'a>, &OsStr), OpError> {
        if self.dir_only {
            return Err(self.error(io::Error::from_raw_os_error(libc::ENOENT)));
        }
        self.parent()
    }

    /// Walks the path by hand (see [`beneath::walk`]), creating missing directories
    /// with `make_dirs`; returns the handle and the resolved absolute path.
    pub(crate) fn walk(
        &self,
        flags: OFlags,
        make_dirs: Option<u32>,
    ) -> Result<(OwnedFd, PathBuf), OpError> {
        let flags = if self.dir_only {
            flags | OFlags::DIRECTORY
        } else {
            flags
        };
        if self.rel().as_os_str().is_empty() && make_dirs.is_none() {
            // The root itself, which may be a file.
            let fd = self.open(flags, Mode::empty())?;
            let fd = fd.into_owned().map_err(|err| self.error(err))?;
            return Ok((fd, self.root.path().to_path_buf()));
        }
        let root = self.root_handle()?;
        let (fd, rel) = beneath::walk(root, self.rel(), flags, Mode::empty(), make_dirs)
            .map_err(|err| self.error(err))?;
        let path = if rel.as_os_str().is_empty() {
            self.root.path().to_path_buf()
        } else {
            self.root.path().join(rel)
        };
        Ok((fd, path))
    }

    /// Creates the root itself, which did not exist when it was added: what a
    /// recursive `mkdir` does for a missing parent. Its own parent must exist.
    pub(crate) fn make_root(&self, mode: u32) -> Result<(), OpError> {
        if self.root.handle().is_ok() {
            return Ok(());
        }
        if self.root.is_sealed() {
            // Inside another root, where the guest could have put anything.
            return Err(self.error(io::Error::from(io::ErrorKind::NotFound)));
        }
        use std::os::unix::fs::DirBuilderExt;
        match std::fs::DirBuilder::new()
            .mode(mode)
            .create(self.root.path())
        {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(OpError::permission_denied(format!(
                    "{}: write access denied: a missing parent is outside the write roots",
                    quoted(self.guest)
                )));
            }
            Err(err) => return Err(self.error(err)),
        }
        let root = self.root_handle()?;
        beneath::exact_mode(root, mode).map_err(|err| self.error(err))
    }

    /// An `io::Error` of this path as the guest sees it: a lookup that left the root
    /// is `PermissionDenied`, like a path spelled outside it.
    pub(crate) fn error(&self, err: io::Error) -> OpError {
        self.error_or(err, |err| path_error(self.guest, err))
    }

    /// [`Self::error`], with the errors that are not about the sandbox described by
    /// `describe`.
    fn error_or(&self, err: io::Error, describe: impl FnOnce(io::Error) -> OpError) -> OpError {
        if is_escape(&err) {
            return OpError::permission_denied(format!(
                "{}: {} access denied: the path leads outside its {} root through '..' \
                 or a symlink",
                quoted(self.guest),
                self.access,
                self.access
            ));
        }
        if err.raw_os_error() == Some(libc::ELOOP) {
            return OpError::permission_denied(format!(
                "{}: cannot check access: too many levels of symbolic links",
                quoted(self.guest)
            ))
            .with_code("ELOOP");
        }
        describe(err)
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

/// The mode bits a guest may set: permissions and the sticky bit. Setuid and setgid
/// are not a guest's to give: a host that runs as root would hand out its own rights.
pub(crate) const GUEST_MODE_BITS: u32 = 0o1777;

/// `mode` as a guest passed it, checked against [`GUEST_MODE_BITS`].
pub(crate) fn guest_mode(mode: u32) -> Result<u32, OpError> {
    if mode & !GUEST_MODE_BITS != 0 {
        return Err(invalid_argument(format!(
            "`mode` takes permission bits and the sticky bit, at most 0o1777 (setuid and \
             setgid are refused), not {mode:#o}"
        )));
    }
    Ok(mode)
}

/// A `TypeError` for an argument that decoded but makes no sense.
pub(crate) fn invalid_argument(message: impl Into<String>) -> OpError {
    OpError::new(ErrorClass::TypeError, message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_that_need_cleaning_are_found() {
        for (path, spelling) in [
            ("/a/b", Spelling::Clean),
            ("/a/.b/c.", Spelling::Clean),
            ("/", Spelling::Clean),
            ("/a//b", Spelling::Unclean),
            ("/a/./b", Spelling::Unclean),
            ("/a/.", Spelling::Unclean),
            ("/a/../b", Spelling::DotDot),
            ("/a/b..", Spelling::DotDot),
        ] {
            assert_eq!(Spelling::of(path.as_bytes()), spelling, "{path}");
        }
    }
}
