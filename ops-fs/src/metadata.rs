//! Ops on a path's metadata: stat, lstat, exists, chmod, chown, utime, truncate.

use std::fs::Permissions;
use std::io;
use std::os::unix::fs::PermissionsExt;

use opkit::{OpError, op};

use crate::context::{FsContext, invalid_argument, path_error};
use crate::file::{OpenOptions, open_checked};
use crate::permissions::Access;
use crate::stat::FsStat;
use crate::times::file_time;

/// The metadata of a file, following a final symlink.
#[op(permission = "fs.read")]
pub fn op_stat(#[state] ctx: &FsContext, path: &str) -> Result<FsStat, OpError> {
    let resolved = ctx.check(Access::Read, path)?;
    let meta = std::fs::metadata(&resolved).map_err(|err| path_error(path, err))?;
    Ok(FsStat::from(&meta))
}

/// The metadata of a file; a final symlink is described itself, not followed.
#[op(permission = "fs.read")]
pub fn op_lstat(#[state] ctx: &FsContext, path: &str) -> Result<FsStat, OpError> {
    let resolved = ctx.check_nofollow(Access::Read, path)?;
    let meta = std::fs::symlink_metadata(&resolved).map_err(|err| path_error(path, err))?;
    Ok(FsStat::from(&meta))
}

/// Whether a path names an existing file, following symlinks: `false` when it or a
/// parent is missing (or a parent is not a directory), an error for anything else.
#[op(permission = "fs.read")]
pub fn op_exists(#[state] ctx: &FsContext, path: &str) -> Result<bool, OpError> {
    let resolved = ctx.check(Access::Read, path)?;
    match std::fs::metadata(&resolved) {
        Ok(_) => Ok(true),
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(false)
        }
        Err(err) => Err(path_error(path, err)),
    }
}

/// Sets the permission bits of a file (at most `0o7777`), following symlinks. The
/// umask does not apply.
#[op(permission = "fs.write")]
pub fn op_chmod(#[state] ctx: &FsContext, path: &str, mode: u32) -> Result<(), OpError> {
    if mode > 0o7777 {
        return Err(invalid_argument(
            "`mode` takes permission bits, at most 0o7777",
        ));
    }
    let resolved = ctx.check(Access::Write, path)?;
    std::fs::set_permissions(&resolved, Permissions::from_mode(mode))
        .map_err(|err| path_error(path, err))
}

/// Sets the owner and/or group of a file, following symlinks; a left-out id is kept.
#[op(permission = "fs.write")]
pub fn op_chown(
    #[state] ctx: &FsContext,
    path: &str,
    uid: Option<u32>,
    gid: Option<u32>,
) -> Result<(), OpError> {
    let resolved = ctx.check(Access::Write, path)?;
    std::os::unix::fs::chown(&resolved, uid, gid).map_err(|err| path_error(path, err))
}

/// Sets the access and modification times of a file, in milliseconds since the
/// epoch, following symlinks.
#[op(permission = "fs.write")]
pub fn op_utime(
    #[state] ctx: &FsContext,
    path: &str,
    atime: f64,
    mtime: f64,
) -> Result<(), OpError> {
    let (atime, mtime) = (file_time(atime)?, file_time(mtime)?);
    let resolved = ctx.check(Access::Write, path)?;
    filetime::set_file_times(&resolved, atime, mtime).map_err(|err| path_error(path, err))
}

/// Truncates or extends a file to `len` bytes (default `0`).
#[op(permission = "fs.write")]
pub fn op_truncate(#[state] ctx: &FsContext, path: &str, len: Option<u64>) -> Result<(), OpError> {
    let resolved = ctx.check(Access::Write, path)?;
    let options = OpenOptions {
        write: true,
        ..OpenOptions::default()
    };
    let file = open_checked(ctx, &resolved, &options).map_err(|err| path_error(path, err))?;
    file.set_len(len.unwrap_or(0))
        .map_err(|err| path_error(path, err))
}
