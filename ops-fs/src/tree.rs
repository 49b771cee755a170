//! Ops that move entries around the tree: copy_file, rename, remove.

use opkit::{OpError, op};

use crate::context::{FsContext, path_error, paths_error, quoted};
use crate::permissions::Access;

/// Copies a file's contents and permission bits to `to` (created or truncated) and
/// returns how many bytes were copied. Both paths follow symlinks. The copy gets
/// exactly the source's permission bits, as Deno's and Node's `copyFile` do: the
/// runtime's umask does not apply.
#[op(permission = "fs.read+fs.write")]
pub fn op_copy_file(#[state] ctx: &FsContext, from: &str, to: &str) -> Result<u64, OpError> {
    let source = ctx.check(Access::Read, from)?;
    let target = ctx.check(Access::Write, to)?;
    std::fs::copy(&source, &target).map_err(|err| paths_error(from, to, err))
}

/// Renames a file or directory, replacing `to` if it is a file (or an empty directory
/// when `from` is one). A symlink is renamed itself. Needs write access to both paths,
/// and read access to `from` too when anything at or below `to` is readable, so that
/// a rename cannot bring what a write-only root holds into view.
#[op(permission = "fs.read+fs.write")]
pub fn op_rename(#[state] ctx: &FsContext, from: &str, to: &str) -> Result<(), OpError> {
    let source = ctx.check_nofollow(Access::Write, from)?;
    let target = ctx.check_nofollow(Access::Write, to)?;
    let perms = ctx.permissions();
    // Everything below a readable `source` is readable too (roots are prefixes), so
    // checking `source` itself covers a directory's contents.
    if perms.reads_within(&target) && !perms.allows(Access::Read, &source) {
        return Err(OpError::permission_denied(format!(
            "{}: read access denied: the destination {} can be read, so the source \
             must be readable too",
            quoted(from),
            quoted(to)
        )));
    }
    std::fs::rename(&source, &target).map_err(|err| paths_error(from, to, err))
}

/// Removes a file, a symlink (not what it points to) or an empty directory; with
/// `recursive`, a directory and everything in it (symlinks inside are removed, never
/// followed).
#[op(permission = "fs.write")]
pub fn op_remove(
    #[state] ctx: &FsContext,
    path: &str,
    recursive: Option<bool>,
) -> Result<(), OpError> {
    let resolved = ctx.check_nofollow(Access::Write, path)?;
    let error = |err| path_error(path, err);
    let meta = std::fs::symlink_metadata(&resolved).map_err(error)?;
    if !meta.is_dir() {
        std::fs::remove_file(&resolved).map_err(error)
    } else if recursive.unwrap_or(false) {
        std::fs::remove_dir_all(&resolved).map_err(error)
    } else {
        std::fs::remove_dir(&resolved).map_err(error)
    }
}
