//! Links: link, symlink, read_link, realpath.

use std::path::Path;

use opkit::{OpError, op};

use crate::context::{FsContext, invalid_argument, path_error, paths_error};
use crate::permissions::Access;
use crate::resolve::Follow;

/// Makes `to` a new hard link to the file `from` (a symlink `from` is linked itself,
/// not followed). Needs read and write access to both paths: the link shares the
/// file, so it must not make a read-only file writable or bring a file into view.
#[op(permission = "fs.read+fs.write")]
pub fn op_link(#[state] ctx: &FsContext, from: &str, to: &str) -> Result<(), OpError> {
    let both = [Access::Read, Access::Write];
    let source = ctx.check_with(&both, from, Follow::No)?;
    let target = ctx.check_with(&both, to, Follow::No)?;
    std::fs::hard_link(&source, &target).map_err(|err| paths_error(from, to, err))
}

/// Creates a symlink at `path` whose target is `target`, stored as given. Needs write
/// access to `path` only: the target is not touched, and every op that follows the
/// link later checks where it leads.
#[op(permission = "fs.write")]
pub fn op_symlink(#[state] ctx: &FsContext, target: &str, path: &str) -> Result<(), OpError> {
    if target.is_empty() || target.contains('\0') {
        return Err(invalid_argument(
            "a symlink target cannot be empty or contain NUL",
        ));
    }
    let resolved = ctx.check_nofollow(Access::Write, path)?;
    std::os::unix::fs::symlink(Path::new(target), &resolved)
        .map_err(|err| paths_error(path, target, err))
}

/// The target of a symlink, as stored.
#[op(permission = "fs.read")]
pub fn op_read_link(#[state] ctx: &FsContext, path: &str) -> Result<String, OpError> {
    let resolved = ctx.check_nofollow(Access::Read, path)?;
    let target = std::fs::read_link(&resolved).map_err(|err| path_error(path, err))?;
    Ok(target.to_string_lossy().into_owned())
}

/// The absolute path of an existing file with every symlink, `.` and `..` resolved
/// (relative paths start at the runtime's cwd).
#[op(permission = "fs.read")]
pub fn op_realpath(#[state] ctx: &FsContext, path: &str) -> Result<String, OpError> {
    let resolved = ctx.check(Access::Read, path)?;
    std::fs::symlink_metadata(&resolved).map_err(|err| path_error(path, err))?;
    Ok(resolved.to_string_lossy().into_owned())
}
