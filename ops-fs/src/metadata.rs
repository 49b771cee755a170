//! Ops on a path's metadata: stat, lstat, exists, chmod, chown, utime, truncate.
//!
//! The ops that change metadata open the path (`O_PATH`, following a final symlink
//! beneath the root) and change what they opened, through `AT_EMPTY_PATH`.

use std::os::fd::AsFd;

use opkit::{ErrorClass, OpError, op};
use rustix::fs::{AtFlags, Gid, Mode, OFlags, Uid};

use crate::beneath::{set_mode, set_times};
use crate::context::{FsContext, guest_mode};
use crate::permissions::{Access, FsPermissionCheck};
use crate::stat::FsStat;
use crate::times::timestamps;

/// The metadata of a file, following a final symlink.
#[op(permission = "fs.read")]
pub fn op_stat<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
) -> Result<FsStat, OpError> {
    let stat = ctx.path(Access::Read, path)?.stat(true)?;
    Ok(FsStat::from_statx(&stat))
}

/// The metadata of a file; a final symlink is described itself, not followed.
#[op(permission = "fs.read")]
pub fn op_lstat<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
) -> Result<FsStat, OpError> {
    let stat = ctx.path(Access::Read, path)?.stat(false)?;
    Ok(FsStat::from_statx(&stat))
}

/// Whether a path names an existing file, following symlinks: `false` when it or a
/// parent is missing (or a parent is not a directory), an error for anything else.
#[op(permission = "fs.read")]
pub fn op_exists<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
) -> Result<bool, OpError> {
    match ctx.path(Access::Read, path)?.stat(true) {
        Ok(_) => Ok(true),
        Err(err)
            if matches!(
                err.class(),
                ErrorClass::NotFound | ErrorClass::NotADirectory
            ) =>
        {
            Ok(false)
        }
        Err(err) => Err(err),
    }
}

/// Sets the permission bits of a file (and the sticky bit: at most `0o1777`; setuid
/// and setgid are refused), following symlinks. The umask does not apply.
#[op(permission = "fs.write")]
pub fn op_chmod<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
    mode: u32,
) -> Result<(), OpError> {
    let mode = guest_mode(mode)?;
    let path = ctx.path(Access::Write, path)?;
    let fd = path.open(OFlags::PATH, Mode::empty())?;
    set_mode(fd.as_fd(), mode).map_err(|err| path.error(err))
}

/// Sets the owner and/or group of a file, following symlinks; a left-out id is kept.
#[op(permission = "fs.write")]
pub fn op_chown<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
    uid: Option<u32>,
    gid: Option<u32>,
) -> Result<(), OpError> {
    let path = ctx.path(Access::Write, path)?;
    let fd = path.open(OFlags::PATH, Mode::empty())?;
    // `u32::MAX` is `-1`, which `chown(2)` reads as "keep", like a left-out id.
    let uid = uid.filter(|&id| id != u32::MAX).map(Uid::from_raw);
    let gid = gid.filter(|&id| id != u32::MAX).map(Gid::from_raw);
    rustix::fs::chownat(&fd, "", uid, gid, AtFlags::EMPTY_PATH)
        .map_err(|err| path.error(err.into()))
}

/// Sets the access and modification times of a file, in milliseconds since the
/// epoch, following symlinks.
#[op(permission = "fs.write")]
pub fn op_utime<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
    atime: f64,
    mtime: f64,
) -> Result<(), OpError> {
    let times = timestamps(atime, mtime)?;
    let path = ctx.path(Access::Write, path)?;
    let fd = path.open(OFlags::PATH, Mode::empty())?;
    set_times(fd.as_fd(), &times).map_err(|err| path.error(err))
}

/// Truncates or extends a file to `len` bytes (default `0`).
#[op(permission = "fs.write")]
pub fn op_truncate<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
    len: Option<u64>,
) -> Result<(), OpError> {
    let path = ctx.path(Access::Write, path)?;
    let file = path.open_file(OFlags::WRONLY, 0)?;
    file.set_len(len.unwrap_or(0))
        .map_err(|err| path.error(err))
}
