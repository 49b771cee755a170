//! Ops that move entries around the tree: copy_file, rename, remove.

use std::ffi::OsStr;
use std::fs::{File, Permissions};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};

use opkit::{ErrorClass, OpError, op};
use rustix::fs::{AtFlags, Dir, FileType, OFlags, SeekFrom};
use rustix::io::Errno;

use crate::context::{FsContext, GUEST_MODE_BITS, invalid_argument, paths_error, quoted};
use crate::permissions::{Access, FsPermissionCheck};

/// How deep `op_remove` goes into a tree; each level holds one descriptor.
const MAX_REMOVE_DEPTH: usize = 256;

/// Copies a file's contents and permission bits to `to` (created or truncated) and
/// returns how many bytes were copied. Both paths follow symlinks. The copy gets
/// exactly the source's permission bits, as Deno's and Node's `copyFile` do: the
/// runtime's umask does not apply (setuid and setgid are dropped). Holes of a sparse
/// file stay holes.
#[op(permission = "fs.read+fs.write")]
pub fn op_copy_file<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    from: &str,
    to: &str,
) -> Result<u64, OpError> {
    let error = |err| paths_error(from, to, err);
    let source = ctx.path(Access::Read, from)?;
    let source = source.open_file_or(OFlags::RDONLY, 0, error)?;
    let meta = source.metadata().map_err(error)?;
    // Setuid and setgid do not pass to the copy, as `cp` drops them for a new owner.
    let mode = meta.mode() & GUEST_MODE_BITS;
    let target = ctx.path(Access::Write, to)?;
    // Not truncated on open: copying a file onto itself must not empty it first.
    let target = target.open_file_or(OFlags::WRONLY | OFlags::CREATE, mode, error)?;
    let target_meta = target.metadata().map_err(error)?;
    if (target_meta.dev(), target_meta.ino()) == (meta.dev(), meta.ino()) {
        return Err(invalid_argument(format!(
            "{} -> {}: the source and the destination are the same file",
            quoted(from),
            quoted(to)
        )));
    }
    target.set_len(0).map_err(error)?;
    copy_sparse(&source, &target, meta.len()).map_err(error)?;
    target
        .set_permissions(Permissions::from_mode(mode))
        .map_err(error)?;
    Ok(meta.len())
}

/// Copies the first `len` bytes of `source` into the empty `target`, skipping holes
/// (`SEEK_DATA`/`SEEK_HOLE`), so a sparse file stays sparse.
fn copy_sparse(source: &File, target: &File, len: u64) -> io::Result<()> {
    let mut pos = 0;
    while pos < len {
        let data = match rustix::fs::seek(source, SeekFrom::Data(pos)) {
            Ok(data) => data,
            // No data after `pos`: the rest is a hole.
            Err(Errno::NXIO) => break,
            // A file system without hole reporting: all of it is data.
            Err(Errno::INVAL | Errno::OPNOTSUPP) => pos,
            Err(err) => return Err(err.into()),
        };
        let hole = rustix::fs::seek(source, SeekFrom::Hole(data)).unwrap_or(len);
        copy_range(source, target, data, hole.min(len))?;
        pos = hole;
    }
    // A trailing hole, or a file that shrank while it was copied: the size it had.
    target.set_len(len)
}

/// Copies bytes `start..end` at the same offsets, in the kernel where it can.
fn copy_range(source: &File, target: &File, start: u64, end: u64) -> io::Result<()> {
    let (mut from, mut to) = (start, start);
    while from < end {
        let chunk = usize::try_from(end - from)
            .unwrap_or(usize::MAX)
            .min(1 << 30);
        match rustix::fs::copy_file_range(source, Some(&mut from), target, Some(&mut to), chunk) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(Errno::XDEV | Errno::NOSYS | Errno::INVAL | Errno::OPNOTSUPP) => {
                return copy_by_hand(source, target, from, end);
            }
            Err(Errno::INTR) => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

fn copy_by_hand(source: &File, target: &File, mut from: u64, end: u64) -> io::Result<()> {
    let mut buf = vec![0; 64 << 10];
    while from < end {
        let want = usize::try_from(end - from)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let read = source.read_at(&mut buf[..want], from)?;
        if read == 0 {
            break;
        }
        target.write_all_at(&buf[..read], from)?;
        from += read as u64;
    }
    Ok(())
}

/// Renames a file or directory, replacing `to` if it is a file (or an empty directory
/// when `from` is one). A symlink is renamed itself. Needs write access to both paths,
/// and read access to `from` too when `to` lands in a directory that can be read, so
/// that a rename cannot bring what a write-only root holds into view.
#[op(permission = "fs.write")]
pub fn op_rename<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    from: &str,
    to: &str,
) -> Result<(), OpError> {
    let roots = ctx.permissions().roots();
    // Where the destination is decides what the source needs, and no other rename of
    // these permissions may move the destination in between.
    let _renaming = roots.rename_lock();
    let target = ctx.path(Access::Write, to)?;
    let (target_dir, target_name) = target.parent()?;
    let readable = roots
        .can_read_in(target_dir.as_fd())
        .map_err(|err| target.error(err))?;
    let source = if readable {
        // Resolved beneath a read root too, so what it names really is readable.
        ctx.path_for(&[Access::Read, Access::Write], from)
            .map_err(|err| match err.class() {
                ErrorClass::PermissionDenied => OpError::permission_denied(format!(
                    "{}: read access denied: the destination {} can be read, so the \
                     source must be readable too",
                    quoted(from),
                    quoted(to)
                )),
                _ => err,
            })?
    } else {
        ctx.path(Access::Write, from)?
    };
    let (source_dir, source_name) = source.parent()?;
    if target.dir_only() && !source.dir_only() {
        // `g/` names a directory: only a directory may be renamed there.
        let stat = rustix::fs::statat(&source_dir, source_name, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|err| source.error(err.into()))?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
            return Err(paths_error(
                from,
                to,
                io::Error::from_raw_os_error(libc::ENOTDIR),
            ));
        }
    }
    rustix::fs::renameat(&source_dir, source_name, &target_dir, target_name)
        .map_err(|err| paths_error(from, to, err.into()))
}

/// Removes a file, a symlink (not what it points to) or an empty directory; with
/// `recursive`, a directory and everything in it (symlinks inside are removed, never
/// followed), at most 256 levels deep.
#[op(permission = "fs.write")]
pub fn op_remove<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
    recursive: Option<bool>,
) -> Result<(), OpError> {
    let entry = ctx.path(Access::Write, path)?;
    let (dir, name) = entry.parent()?;
    let error = |err: io::Error| entry.error(err);
    let stat = rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|err| error(err.into()))?;
    let removed = if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
        rustix::fs::unlinkat(&dir, name, AtFlags::empty()).map_err(io::Error::from)
    } else if recursive.unwrap_or(false) {
        remove_tree(dir.as_fd(), name, 0)
    } else {
        rustix::fs::unlinkat(&dir, name, AtFlags::REMOVEDIR).map_err(io::Error::from)
    };
    removed.map_err(error)
}

/// Removes the directory `name` in `parent` and everything in it, by handle: each
/// directory is opened with `O_NOFOLLOW` beneath its parent's handle, so an entry
/// swapped for a symlink meanwhile is unlinked, never followed.
fn remove_tree(parent: BorrowedFd<'_>, name: &OsStr, depth: usize) -> io::Result<()> {
    if depth >= MAX_REMOVE_DEPTH {
        return Err(io::Error::other(format!(
            "the tree is deeper than {MAX_REMOVE_DEPTH} levels; remove it in parts"
        )));
    }
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = match rustix::fs::openat(parent, name, flags, rustix::fs::Mode::empty()) {
        Ok(fd) => fd,
        // Removed meanwhile, by another op: what this one wanted.
        Err(Errno::NOENT) if depth > 0 => return Ok(()),
        // Swapped for a symlink or a file since it was looked at: unlink that.
        Err(Errno::NOTDIR | Errno::LOOP) => {
            return rustix::fs::unlinkat(parent, name, AtFlags::empty()).map_err(io::Error::from);
        }
        Err(err) => return Err(err.into()),
    };
    let mut dir = Dir::new(fd)?;
    // The names first, then the removals: a listing is not changed under its reader.
    let mut entries = Vec::new();
    while let Some(entry) = dir.read() {
        let entry = entry?;
        let child = entry.file_name().to_bytes();
        if child != b"." && child != b".." {
            entries.push((child.to_vec(), entry.file_type()));
        }
    }
    let handle = dir.fd()?;
    for (child, kind) in entries {
        let child = OsStr::from_bytes(&child);
        let kind = match kind {
            FileType::Unknown => match rustix::fs::statat(handle, child, AtFlags::SYMLINK_NOFOLLOW)
            {
                Ok(stat) => FileType::from_raw_mode(stat.st_mode),
                Err(Errno::NOENT) => continue,
                Err(err) => return Err(err.into()),
            },
            kind => kind,
        };
        if kind == FileType::Directory {
            remove_tree(handle, child, depth + 1)?;
        } else {
            match rustix::fs::unlinkat(handle, child, AtFlags::empty()) {
                // Swapped for a directory since the listing: remove that instead.
                Err(Errno::ISDIR) => remove_tree(handle, child, depth + 1)?,
                Err(Errno::NOENT) => {}
                other => other?,
            }
        }
    }
    rustix::fs::unlinkat(parent, name, AtFlags::REMOVEDIR).map_err(io::Error::from)
}
