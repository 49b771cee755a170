//! Path resolution: the one place where a guest's path becomes the path a syscall
//! uses.
//!
//! A path is made absolute against the runtime's own cwd, then walked one component
//! at a time: `..` pops the last component of what is already resolved (which holds
//! no symlink, so the pop is exact), and every symlink met on the way is replaced by
//! its target. The result names the same file the kernel would reach, but as a
//! symlink-free absolute path, so the permission check and the syscall see the same
//! string. Components that do not exist yet (the file `open` will create) are kept as
//! written; a `..` after one pops it, which is what the kernel does once it exists.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Linux's own limit on symlinks followed in one lookup (`MAXSYMLINKS`).
const MAX_SYMLINKS: usize = 40;

/// Whether the last component is followed when it is a symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// `stat`, `open`, `chmod`: the op acts on what the link points to.
    Yes,
    /// `lstat`, `remove`, `rename`, `symlink`, `read_link`: the op acts on the link.
    No,
}

/// Why a path could not be resolved.
#[derive(Debug)]
pub enum ResolveError {
    /// More than [`MAX_SYMLINKS`] symlinks: a loop, or a chain too long to check.
    Loop,
    /// A symlink could not be read.
    Io(io::Error),
}

/// `path` made absolute against `cwd`, with every symlink replaced by its target
/// (the last one only with [`Follow::Yes`]) and no `.` or `..` left.
pub fn resolve(cwd: &Path, path: &Path, follow: Follow) -> Result<PathBuf, ResolveError> {
    let mut pending: VecDeque<OsString> = VecDeque::new();
    push_components(&mut pending, &cwd.join(path), false);
    let mut resolved = PathBuf::from("/");
    let mut links = 0;
    while let Some(name) = pending.pop_front() {
        if name == ".." {
            resolved.pop();
            continue;
        }
        resolved.push(&name);
        if pending.is_empty() && follow == Follow::No {
            break;
        }
        // Anything but a readable symlink (a file, a directory, a missing entry, a
        // parent that is not a directory) stays as written: the syscall reports it.
        let is_symlink = std::fs::symlink_metadata(&resolved)
            .map(|meta| meta.file_type().is_symlink())
            .unwrap_or(false);
        if !is_symlink {
            continue;
        }
        links += 1;
        if links > MAX_SYMLINKS {
            return Err(ResolveError::Loop);
        }
        let target = std::fs::read_link(&resolved).map_err(ResolveError::Io)?;
        resolved.pop();
        if target.is_absolute() {
            resolved = PathBuf::from("/");
        }
        push_components(&mut pending, &target, true);
    }
    Ok(resolved)
}

/// Queues the components of `path` (at the front for a symlink's target, which is
/// walked before what followed the link).
fn push_components(pending: &mut VecDeque<OsString>, path: &Path, front: bool) {
    let names = path.components().filter_map(|component| match component {
        Component::Normal(name) => Some(name.to_os_string()),
        Component::ParentDir => Some(OsString::from("..")),
        Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
    });
    if front {
        for name in names.collect::<Vec<_>>().into_iter().rev() {
            pending.push_front(name);
        }
    } else {
        pending.extend(names);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn dir() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        (tmp, root)
    }

    #[test]
    fn dot_dot_and_missing_components_resolve_lexically_after_the_real_part() {
        let (_tmp, root) = dir();
        std::fs::create_dir(root.join("a")).unwrap();
        let got = resolve(&root, Path::new("a/./missing/../b.txt"), Follow::Yes).unwrap();
        assert_eq!(got, root.join("a/b.txt"));
        let got = resolve(&root.join("a"), Path::new("../../x"), Follow::Yes).unwrap();
        assert_eq!(got, root.parent().unwrap().join("x"));
        let got = resolve(&root, Path::new("/../.."), Follow::Yes).unwrap();
        assert_eq!(got, PathBuf::from("/"));
    }

    #[test]
    fn symlinks_are_replaced_by_their_targets() {
        let (_tmp, root) = dir();
        std::fs::create_dir(root.join("real")).unwrap();
        symlink("real", root.join("rel")).unwrap();
        symlink(root.join("real"), root.join("abs")).unwrap();
        symlink("../..", root.join("real/up")).unwrap();
        let got = resolve(&root, Path::new("rel/f"), Follow::Yes).unwrap();
        assert_eq!(got, root.join("real/f"));
        let got = resolve(&root, Path::new("abs"), Follow::Yes).unwrap();
        assert_eq!(got, root.join("real"));
        let got = resolve(&root, Path::new("abs"), Follow::No).unwrap();
        assert_eq!(got, root.join("abs"));
        // `..` after a symlink leaves the link's target, not the link's parent.
        let got = resolve(&root, Path::new("rel/up/x"), Follow::Yes).unwrap();
        assert_eq!(got, root.parent().unwrap().join("x"));
        let got = resolve(&root, Path::new("rel/up"), Follow::No).unwrap();
        assert_eq!(got, root.join("real/up"));
    }

    #[test]
    fn loops_are_reported() {
        let (_tmp, root) = dir();
        symlink("b", root.join("a")).unwrap();
        symlink("a", root.join("b")).unwrap();
        assert!(matches!(
            resolve(&root, Path::new("a"), Follow::Yes),
            Err(ResolveError::Loop)
        ));
        assert_eq!(
            resolve(&root, Path::new("a"), Follow::No).unwrap(),
            root.join("a")
        );
    }
}
