//! Directories and the runtime's place in the tree: mkdir, read_dir, temp dirs and
//! files, cwd, chdir, umask.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use opkit::schemars::JsonSchema;
use opkit::{OpError, op};
use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};
use rustix::io::Errno;
use serde::Serialize;

use crate::beneath::exact_mode;
use crate::context::{Fd, FsContext, GuestPath, denied, guest_mode, invalid_argument};
use crate::permissions::{Access, FsPermissionCheck};

/// Creates a directory, and with `recursive` its missing parents (an existing
/// directory is then no error). Every directory created gets `mode` (default `0o777`)
/// less the runtime's umask.
#[op(permission = "fs.write")]
pub fn op_mkdir<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
    recursive: Option<bool>,
    mode: Option<u32>,
) -> Result<(), OpError> {
    let mode = ctx.creation_mode(guest_mode(mode.unwrap_or(0o777))?);
    let dir = ctx.path(Access::Write, path)?;
    if recursive.unwrap_or(false) {
        // A write root that does not exist yet is made first, as a missing parent.
        dir.make_root(mode)?;
        let flags = OFlags::PATH | OFlags::DIRECTORY;
        return dir.walk(flags, Some(mode)).map(drop);
    }
    if dir.rel().as_os_str().is_empty() {
        // The root itself, which exists unless it was missing when it was added.
        if dir.root_exists() {
            return Err(dir.error(io::Error::from_raw_os_error(libc::EEXIST)));
        }
        return dir.make_root(mode);
    }
    if dir.rel().file_name().is_none() {
        // `a/..` names a directory that exists.
        return Err(dir.error(io::Error::from_raw_os_error(libc::EEXIST)));
    }
    let (parent, name) = dir.parent()?;
    rustix::fs::mkdirat(&parent, name, Mode::from_raw_mode(mode))
        .map_err(|err| dir.error(err.into()))?;
    // `mkdir(2)` never follows a final symlink, and neither does this open.
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let made = rustix::fs::openat(&parent, name, flags, Mode::empty())
        .map_err(|err| dir.error(err.into()))?;
    exact_mode(made.as_fd(), mode).map_err(|err| dir.error(err))
}

/// One entry of a directory, as `op_read_dir` lists it. A symlink is described
/// itself (`is_symlink`), not followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(crate = "opkit::schemars")]
pub struct DirEntry {
    /// The entry's name, without its directory.
    pub name: String,
    /// A regular file.
    pub is_file: bool,
    /// A directory.
    pub is_dir: bool,
    /// A symbolic link (not followed).
    pub is_symlink: bool,
}

/// Lists a directory's entries (without `.` and `..`), sorted by name. A name that is
/// not UTF-8 is given with U+FFFD in place of the bad bytes.
#[op(permission = "fs.read")]
pub fn op_read_dir<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
) -> Result<Vec<DirEntry>, OpError> {
    let dir = ctx.path(Access::Read, path)?;
    let fd = dir.open(OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
    let error = |err: Errno| dir.error(err.into());
    let mut listing = Dir::new(fd.into_owned().map_err(|err| dir.error(err))?).map_err(error)?;
    let mut entries = Vec::new();
    while let Some(entry) = listing.read() {
        let entry = entry.map_err(error)?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let kind = match entry.file_type() {
            // Some file systems leave the type out of the listing.
            FileType::Unknown => {
                let handle = listing.fd().map_err(error)?;
                let stat = rustix::fs::statat(handle, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(error)?;
                FileType::from_raw_mode(stat.st_mode)
            }
            kind => kind,
        };
        entries.push(DirEntry {
            name: String::from_utf8_lossy(name).into_owned(),
            is_file: kind == FileType::RegularFile,
            is_dir: kind == FileType::Directory,
            is_symlink: kind == FileType::Symlink,
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// Where and how a temp entry is made: the directory as the guest names it and its
/// handle, the checked name parts, and the mode less the runtime's umask.
struct TempPlan<'a> {
    dir: GuestPath<'a>,
    handle: Fd<'a>,
    prefix: String,
    suffix: String,
    mode: u32,
}

/// How many names a temp op tries before it gives up (each taken name is a retry).
const TEMP_ATTEMPTS: usize = 64;

impl<'a> TempPlan<'a> {
    fn new<P: FsPermissionCheck>(
        ctx: &'a FsContext<P>,
        dir: &'a str,
        prefix: Option<String>,
        suffix: Option<String>,
        mode: u32,
    ) -> Result<Self, OpError> {
        let (prefix, suffix) = (name_part("prefix", prefix)?, name_part("suffix", suffix)?);
        let dir = ctx.path(Access::Write, dir)?;
        let handle = dir.open(OFlags::PATH | OFlags::DIRECTORY, Mode::empty())?;
        Ok(TempPlan {
            dir,
            handle,
            prefix,
            suffix,
            mode: ctx.creation_mode(mode),
        })
    }

    /// Makes a new entry with `make` under fresh random names until one is free, and
    /// returns the guest's path of it.
    fn make(
        &self,
        make: impl Fn(BorrowedFd<'_>, &str) -> Result<(), Errno>,
    ) -> Result<String, OpError> {
        for _ in 0..TEMP_ATTEMPTS {
            let name = format!(
                "{}{}{}",
                self.prefix,
                random_name().map_err(|err| self.dir.error(err))?,
                self.suffix
            );
            match make(self.handle.as_fd(), &name) {
                Ok(()) => {
                    return Ok(Path::new(self.dir.guest())
                        .join(name)
                        .to_string_lossy()
                        .into_owned());
                }
                Err(Errno::EXIST) => continue,
                Err(err) => return Err(self.dir.error(err.into())),
            }
        }
        Err(self.dir.error(io::Error::from_raw_os_error(libc::EEXIST)))
    }
}

/// Ten random characters of `[A-Za-z0-9]` from the kernel's generator.
fn random_name() -> io::Result<String> {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0_u8; 10];
    rustix::rand::getrandom(&mut bytes, rustix::rand::GetRandomFlags::empty())?;
    Ok(bytes
        .iter()
        .map(|b| char::from(CHARS[usize::from(*b) % CHARS.len()]))
        .collect())
}

/// A prefix or suffix of a temp name: no `/` (which would leave the directory) and no
/// NUL.
fn name_part(what: &str, part: Option<String>) -> Result<String, OpError> {
    let part = part.unwrap_or_default();
    if part.contains(['/', '\0']) {
        return Err(invalid_argument(format!(
            "a temp name {what} cannot contain '/' or NUL: '{part}'"
        )));
    }
    Ok(part)
}

/// The directory a temp op makes its entry in: `dir`, or the system's temp directory.
fn temp_dir(dir: Option<String>) -> String {
    dir.unwrap_or_else(|| std::env::temp_dir().to_string_lossy().into_owned())
}

/// Creates a new, empty directory with a unique name in `dir` (default: the system's
/// temp directory) and returns its path. The name is `prefix`, random characters, then
/// `suffix`; the mode is `0o700` less the runtime's umask.
#[op(permission = "fs.write")]
pub fn op_make_temp_dir<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    dir: Option<String>,
    prefix: Option<String>,
    suffix: Option<String>,
) -> Result<String, OpError> {
    let dir = temp_dir(dir);
    let plan = TempPlan::new(ctx, &dir, prefix, suffix, 0o700)?;
    plan.make(|dir, name| {
        rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(plan.mode))?;
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let made = rustix::fs::openat(dir, name, flags, Mode::empty())?;
        exact_mode(made.as_fd(), plan.mode)
            .map_err(|err| Errno::from_io_error(&err).unwrap_or(Errno::IO))
    })
}

/// Creates a new, empty file with a unique name in `dir` (default: the system's temp
/// directory) and returns its path. The name is `prefix`, random characters, then
/// `suffix`; the mode is `0o600` less the runtime's umask.
#[op(permission = "fs.write")]
pub fn op_make_temp_file<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    dir: Option<String>,
    prefix: Option<String>,
    suffix: Option<String>,
) -> Result<String, OpError> {
    let dir = temp_dir(dir);
    let plan = TempPlan::new(ctx, &dir, prefix, suffix, 0o600)?;
    plan.make(|dir, name| {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let file = rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(plan.mode))?;
        rustix::fs::fchmod(&file, Mode::from_raw_mode(plan.mode))
    })
}

/// The runtime's current directory (absolute, symlinks resolved). Needs read access to
/// it, since the path itself tells where the runtime is.
#[op(sync, permission = "fs.read")]
pub fn op_cwd<P: FsPermissionCheck>(#[state] ctx: &FsContext<P>) -> Result<String, OpError> {
    if !ctx.allows(Access::Read, ctx.cwd()) {
        return Err(denied(Access::Read, "."));
    }
    Ok(ctx.cwd().to_string_lossy().into_owned())
}

/// Changes the runtime's current directory, against which relative paths resolve.
/// The process's cwd, and other runtimes', do not change.
#[op(sync, permission = "fs.read")]
pub fn op_chdir<P: FsPermissionCheck>(
    #[state] ctx: &mut FsContext<P>,
    path: &str,
) -> Result<(), OpError> {
    let dir = ctx.path(Access::Read, path)?;
    let (_, resolved) = dir.walk(OFlags::PATH | OFlags::DIRECTORY, None)?;
    ctx.set_cwd(resolved);
    Ok(())
}

/// Returns the runtime's umask and, given `mask`, replaces it. The umask clears
/// permission bits of what this runtime's ops create; the process's umask does not
/// change.
#[op(sync)]
pub fn op_umask<P: FsPermissionCheck>(
    #[state] ctx: &mut FsContext<P>,
    mask: Option<u32>,
) -> Result<u32, OpError> {
    let old = ctx.umask();
    if let Some(mask) = mask {
        if mask > 0o777 {
            return Err(invalid_argument(
                "a umask has permission bits, at most 0o777",
            ));
        }
        ctx.set_umask(mask);
    }
    Ok(old)
}
