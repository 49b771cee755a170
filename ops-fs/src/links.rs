//! Links: link, symlink, read_link, realpath.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;

use opkit::{OpError, op};
use rustix::fs::{AtFlags, OFlags};

use crate::context::{FsContext, invalid_argument, paths_error};
use crate::permissions::{Access, FsPermissionCheck};

/// Makes `to` a new hard link to the file `from` (a symlink `from` is linked itself,
/// not followed). Needs read and write access to both paths: the link shares the
/// file, so it must not make a read-only file writable or bring a file into view.
#[op(permission = "fs.read+fs.write")]
pub fn op_link<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    from: &str,
    to: &str,
) -> Result<(), OpError> {
    let both = [Access::Read, Access::Write];
    let (source, target) = (ctx.path_for(&both, from)?, ctx.path_for(&both, to)?);
    let (source_dir, source_name) = source.parent()?;
    let (target_dir, target_name) = target.new_entry()?;
    rustix::fs::linkat(
        &source_dir,
        source_name,
        &target_dir,
        target_name,
        AtFlags::empty(),
    )
    .map_err(|err| paths_error(from, to, err.into()))
}

/// Creates a symlink at `path` whose target is `target`, stored as given. Needs write
/// access to `path` only: the target is not touched, and every op that follows the
/// link later resolves it beneath the root `path` is in (an absolute target, or one
/// that leads out of that root, is then refused).
#[op(permission = "fs.write")]
pub fn op_symlink<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    target: &str,
    path: &str,
) -> Result<(), OpError> {
    if target.is_empty() || target.contains('\0') {
        return Err(invalid_argument(
            "a symlink target cannot be empty or contain NUL",
        ));
    }
    let link = ctx.path(Access::Write, path)?;
    let (dir, name) = link.new_entry()?;
    rustix::fs::symlinkat(target, &dir, name).map_err(|err| paths_error(path, target, err.into()))
}

/// The target of a symlink, as stored.
#[op(permission = "fs.read")]
pub fn op_read_link<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
) -> Result<String, OpError> {
    let link = ctx.path(Access::Read, path)?;
    if link.entry_name().is_none() {
        // A root, or a path ending in `..`: a directory, not a link.
        return Err(link.error(io::Error::from_raw_os_error(libc::EINVAL)));
    }
    let (dir, name) = link.parent()?;
    let target =
        rustix::fs::readlinkat(&dir, name, Vec::new()).map_err(|err| link.error(err.into()))?;
    Ok(OsStr::from_bytes(target.as_bytes())
        .to_string_lossy()
        .into_owned())
}

/// The absolute path of an existing file with every symlink, `.` and `..` resolved
/// (relative paths start at the runtime's cwd).
#[op(permission = "fs.read")]
pub fn op_realpath<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
) -> Result<String, OpError> {
    let (_, resolved) = ctx.path(Access::Read, path)?.walk(OFlags::PATH, None)?;
    Ok(resolved.to_string_lossy().into_owned())
}
