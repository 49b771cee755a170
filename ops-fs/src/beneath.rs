//! Opening a path beneath a directory handle: the one place where a guest's path meets
//! the kernel.
//!
//! The path is resolved by the kernel with `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_MAGICLINKS)`, which refuses with `EXDEV` any `..`, symlink or absolute
//! target that would leave the directory, atomically with the lookup. Where the kernel
//! has no `openat2` (older than 5.6, or a seccomp filter that answers `ENOSYS`), or the
//! host asks for it, [`walk`] does the same by hand: one `openat(O_NOFOLLOW)` per
//! component on directory handles it holds, `..` applied to that stack of handles, and
//! each symlink read and expanded in place. Either way the op gets a file descriptor
//! and acts on it, so a swap after the lookup changes nothing.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// Linux's own limit on symlinks followed in one lookup (`MAXSYMLINKS`).
const MAX_SYMLINKS: usize = 40;

/// The longest path the kernel takes (`PATH_MAX`, the NUL included).
const PATH_MAX: usize = 4096;

/// How many `openat` calls one walk makes at most: each `..` opens the names before it
/// again, so a symlink of many `..` deep in a tree would cost that many times its depth.
const MAX_WALK_OPENS: usize = 4096;

/// How many directories one recursive `mkdir` makes at most, retries included.
const MAX_MADE: usize = 1024;

/// How the walk opens a directory on its way: a handle only, never through a symlink.
const DIR_FLAGS: OFlags = OFlags::PATH
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// How paths are resolved beneath a root handle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Resolver {
    /// `openat2(RESOLVE_BENEATH)`, one syscall; falls back to [`Resolver::Walk`] for
    /// good if the kernel answers `ENOSYS`.
    #[default]
    Openat2,
    /// A walk of `openat(O_NOFOLLOW)` calls on directory handles: for kernels or
    /// sandboxes where `openat2` is filtered with another error than `ENOSYS`.
    Walk,
}

/// Set once `openat2` answered `ENOSYS`: it never will work in this process.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// The error of a path that leads out from beneath its root: through `..`, through a
/// symlink, or to a symlink with an absolute target.
#[derive(Debug)]
struct Escape;

impl fmt::Display for Escape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the path leads outside its root")
    }
}

impl std::error::Error for Escape {}

fn escape() -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, Escape)
}

/// Whether `err` says that a path led outside its root.
pub(crate) fn is_escape(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|inner| inner.is::<Escape>())
}

/// Opens `rel` beneath `dir` with `flags` (and `mode` for a file it creates); an empty
/// `rel` is `dir` itself. A final symlink is followed unless `flags` has `NOFOLLOW`.
pub(crate) fn open(
    resolver: Resolver,
    dir: BorrowedFd<'_>,
    rel: &Path,
    flags: OFlags,
    mode: Mode,
) -> io::Result<OwnedFd> {
    let flags = flags | OFlags::CLOEXEC;
    // `openat2` refuses a mode with nothing to create.
    // (`TMPFILE` holds the `DIRECTORY` bit: test it whole.)
    let mode = if flags.contains(OFlags::CREATE) || flags.contains(OFlags::TMPFILE) {
        mode
    } else {
        Mode::empty()
    };
    if resolver == Resolver::Openat2 && !NO_OPENAT2.load(Ordering::Relaxed) {
        let path = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        let how = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        // `EAGAIN` means a rename raced a `..` in the lookup; the kernel asks for a
        // retry, and the walk below cannot be raced that way.
        for _ in 0..4 {
            match rustix::fs::openat2(dir, path, flags, mode, how) {
                Err(Errno::XDEV) => return Err(escape()),
                Err(Errno::AGAIN) => continue,
                Err(Errno::NOSYS) => {
                    NO_OPENAT2.store(true, Ordering::Relaxed);
                    break;
                }
                other => return other.map_err(io::Error::from),
            }
        }
    }
    walk(dir, rel, flags, mode, None).map(|(fd, _)| fd)
}

/// Resolves `rel` beneath `dir` by hand, one component at a time, and opens the result
/// with `flags`. With `make_dirs`, a missing component is created as a directory with
/// that mode (a recursive `mkdir`). Also returns the resolved path relative to `dir`,
/// with no symlink, `.` or `..` left.
///
/// The walk holds one directory handle at a time, whatever the depth: a `..` drops the
/// last name walked and opens the names before it again from `dir`, each with
/// `O_NOFOLLOW`, so it never asks the kernel for a `..` and never leaves `dir`.
pub(crate) fn walk(
    dir: BorrowedFd<'_>,
    rel: &Path,
    flags: OFlags,
    mode: Mode,
    make_dirs: Option<u32>,
) -> io::Result<(OwnedFd, PathBuf)> {
    if rel.as_os_str().len() >= PATH_MAX {
        return Err(Errno::NAMETOOLONG.into());
    }
    let flags = flags | OFlags::CLOEXEC;
    // Components still to walk, the next one last; the names walked into, and the
    // handle of the last of them (none: `dir` itself).
    let mut pending = components(rel)?;
    let mut walked: Vec<OsString> = Vec::new();
    let mut current: Option<OwnedFd> = None;
    let mut links = 0;
    let mut made = 0;
    let mut opens = 0;
    while let Some(name) = pending.pop() {
        opens += 1;
        if name == "." {
            // The end of a path naming a directory: the name before it was opened
            // as one (it was not the last), and the directory is opened below.
            continue;
        }
        if name == ".." {
            walked.pop().ok_or_else(escape)?;
            opens += walked.len();
            if opens > MAX_WALK_OPENS {
                return Err(Errno::LOOP.into());
            }
            current = reopen(dir, &walked)?;
            continue;
        }
        if opens > MAX_WALK_OPENS {
            return Err(Errno::LOOP.into());
        }
        let top = current.as_ref().map_or(dir, |fd| fd.as_fd());
        let last = pending.is_empty();
        let result = if last {
            // The final open never follows on its own: a symlink is expanded below,
            // unless the caller asked for the link itself.
            rustix::fs::openat(top, &*name, flags | OFlags::NOFOLLOW, mode)
        } else {
            rustix::fs::openat(top, &*name, DIR_FLAGS, Mode::empty())
        };
        let failure = match result {
            Ok(fd) if !last => {
                current = Some(fd);
                walked.push(name);
                continue;
            }
            Ok(fd) => {
                // `O_PATH | O_NOFOLLOW` opens a symlink itself instead of failing.
                let is_link = flags.contains(OFlags::PATH)
                    && !flags.contains(OFlags::NOFOLLOW)
                    && FileType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode)
                        == FileType::Symlink;
                if !is_link {
                    walked.push(name);
                    return Ok((fd, walked.iter().collect()));
                }
                Errno::LOOP
            }
            Err(Errno::NOENT) if make_dirs.is_some() => {
                // Another walk may remove what this one makes: give up at some point.
                made += 1;
                if made > MAX_MADE {
                    return Err(Errno::NOENT.into());
                }
                let mode = make_dirs.unwrap_or(0);
                match rustix::fs::mkdirat(top, &*name, Mode::from_raw_mode(mode)) {
                    Ok(()) => {
                        let fd = rustix::fs::openat(top, &*name, DIR_FLAGS, Mode::empty())?;
                        exact_mode(fd.as_fd(), mode)?;
                    }
                    Err(Errno::EXIST) => {}
                    Err(err) => return Err(err.into()),
                }
                // Open what is there now, made by this call or by a racing one.
                pending.push(name);
                continue;
            }
            Err(err) => err,
        };
        let may_be_link = matches!(failure, Errno::LOOP | Errno::NOTDIR)
            && !(last && flags.contains(OFlags::NOFOLLOW));
        if !may_be_link {
            return Err(failure.into());
        }
        let target = match rustix::fs::readlinkat(top, &*name, Vec::new()) {
            Ok(target) => target,
            // What `mkdir -p` says of a file where the last directory would be.
            Err(Errno::INVAL) if last && make_dirs.is_some() => return Err(Errno::EXIST.into()),
            // Not a symlink (a file where a directory was needed): the first error.
            Err(Errno::INVAL | Errno::NOENT) => return Err(failure.into()),
            Err(err) => return Err(err.into()),
        };
        links += 1;
        if links > MAX_SYMLINKS {
            return Err(Errno::LOOP.into());
        }
        let target = Path::new(OsStr::from_bytes(target.as_bytes()));
        if target.has_root() {
            return Err(escape());
        }
        pending.extend(components(target)?);
    }
    // The path ended in `..` or `/`, or in a symlink to a directory already walked:
    // open that directory itself.
    let top = current.as_ref().map_or(dir, |fd| fd.as_fd());
    let fd = rustix::fs::openat(top, ".", flags, mode)?;
    Ok((fd, walked.iter().collect()))
}

/// Opens `names` (a path walked before, with no symlink in it) from `dir` again, one
/// `O_NOFOLLOW` open at a time; `None` is `dir` itself. A name swapped for a symlink
/// since then fails the walk (`ENOTDIR`), never follows it.
fn reopen(dir: BorrowedFd<'_>, names: &[OsString]) -> io::Result<Option<OwnedFd>> {
    let mut current: Option<OwnedFd> = None;
    for name in names {
        let top = current.as_ref().map_or(dir, |fd| fd.as_fd());
        current = Some(rustix::fs::openat(top, &**name, DIR_FLAGS, Mode::empty())?);
    }
    Ok(current)
}

/// The components of `path` as a stack (the first one last), without `.`; but a path
/// that ends in `/` or `/.` (a symlink's target too) keeps one `.` at its end, since
/// it names a directory: what comes before it is opened as one, and a symlink there
/// is followed, as the kernel does (`file/` is `ENOTDIR`).
fn components(path: &Path) -> io::Result<Vec<OsString>> {
    let mut names = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => names.push(name.to_os_string()),
            Component::ParentDir => names.push(OsString::from("..")),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return Err(escape()),
        }
    }
    let bytes = path.as_os_str().as_bytes();
    if bytes.ends_with(b"/") || bytes.ends_with(b"/.") {
        names.push(OsString::from("."));
    }
    names.reverse();
    Ok(names)
}

/// The process's umask, read once from `/proc/self/status` (Linux 4.7+) rather than
/// with `umask(2)`, which can only read it by changing it.
pub(crate) fn process_umask() -> Option<u32> {
    static UMASK: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|line| line.starts_with("Umask:"))?;
        u32::from_str_radix(line.trim_start_matches("Umask:").trim(), 8).ok()
    })
}

/// Gives `fd`, which this call created with `mode`, exactly that mode: the kernel
/// cleared the process's umask bits, which need not be the runtime's. Costs nothing
/// when the two umasks agree on `mode`, the usual case.
pub(crate) fn exact_mode(fd: BorrowedFd<'_>, mode: u32) -> io::Result<()> {
    match process_umask() {
        Some(umask) if mode & umask == 0 => Ok(()),
        _ => set_mode(fd, mode),
    }
}

/// `fd` (any kind of descriptor, `O_PATH` included) with its permission bits set to
/// `mode`: `fchmodat2(AT_EMPTY_PATH)` (Linux 6.6), else through `/proc/self/fd`.
pub(crate) fn set_mode(fd: BorrowedFd<'_>, mode: u32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid descriptor, a NUL-terminated empty path, plain integers.
    let done = unsafe {
        libc::syscall(
            libc::SYS_fchmodat2,
            fd.as_raw_fd(),
            c"".as_ptr(),
            mode,
            libc::AT_EMPTY_PATH,
        )
    };
    if done == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    // Older kernels have no `fchmodat2`, and older seccomp filters answer `EPERM` for
    // a syscall they do not know; a real `EPERM` comes back from the fallback too.
    if !matches!(
        err.raw_os_error(),
        Some(libc::ENOSYS | libc::EINVAL | libc::EPERM)
    ) {
        return Err(err);
    }
    rustix::fs::chmodat(
        rustix::fs::CWD,
        proc_fd_path(fd),
        Mode::from_raw_mode(mode),
        AtFlags::empty(),
    )
    .map_err(io::Error::from)
}

/// `fd` (`O_PATH` included) with these access and modification times:
/// `utimensat(AT_EMPTY_PATH)` (Linux 5.8), else through `/proc/self/fd`.
pub(crate) fn set_times(fd: BorrowedFd<'_>, times: &rustix::fs::Timestamps) -> io::Result<()> {
    match rustix::fs::utimensat(fd, "", times, AtFlags::EMPTY_PATH) {
        Err(Errno::INVAL | Errno::NOSYS) => {
            rustix::fs::utimensat(rustix::fs::CWD, proc_fd_path(fd), times, AtFlags::empty())
                .map_err(io::Error::from)
        }
        other => other.map_err(io::Error::from),
    }
}

/// `/proc/self/fd/N`: the magic link to what `fd` is open on, for the few calls that
/// take no `AT_EMPTY_PATH` on older kernels.
pub(crate) fn proc_fd_path(fd: BorrowedFd<'_>) -> PathBuf {
    use std::os::fd::AsRawFd;
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root() -> (tempfile::TempDir, OwnedFd) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("root/a/b")).unwrap();
        std::fs::write(tmp.path().join("root/a/b/f"), "in").unwrap();
        std::fs::write(tmp.path().join("secret"), "out").unwrap();
        let fd = rustix::fs::open(
            tmp.path().join("root"),
            OFlags::PATH | OFlags::DIRECTORY,
            Mode::empty(),
        )
        .unwrap();
        (tmp, fd)
    }

    fn read(fd: OwnedFd) -> String {
        std::io::read_to_string(std::fs::File::from(fd)).unwrap()
    }

    #[test]
    fn both_resolvers_stay_beneath_and_agree() {
        let (tmp, root) = root();
        let r = tmp.path().join("root");
        symlink("a/b", r.join("in")).unwrap();
        symlink("../secret", r.join("up")).unwrap();
        symlink(tmp.path().join("root/a/b/f"), r.join("abs")).unwrap();
        symlink("a/../a/b/f", r.join("dots")).unwrap();
        symlink("loop2", r.join("loop1")).unwrap();
        symlink("loop1", r.join("loop2")).unwrap();
        for resolver in [Resolver::Openat2, Resolver::Walk] {
            let open = |rel: &str| {
                open(
                    resolver,
                    root.as_fd(),
                    Path::new(rel),
                    OFlags::RDONLY,
                    Mode::empty(),
                )
            };
            assert_eq!(read(open("a/b/f").unwrap()), "in");
            assert_eq!(read(open("in/f").unwrap()), "in");
            assert_eq!(read(open("dots").unwrap()), "in");
            assert_eq!(read(open("a/b/../b/./f").unwrap()), "in");
            for outside in ["../secret", "up", "a/../../secret", "abs"] {
                let err = open(outside).unwrap_err();
                assert!(is_escape(&err), "{resolver:?} {outside}: {err}");
            }
            let err = open("loop1").unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::ELOOP), "{resolver:?}");
            let err = open("a/b/f/x").unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::ENOTDIR), "{resolver:?}");
            let err = open("a/missing").unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{resolver:?}");
            // The link itself with `NOFOLLOW`, its target without.
            let flags = OFlags::PATH | OFlags::NOFOLLOW;
            let link = super::open(
                resolver,
                root.as_fd(),
                Path::new("up"),
                flags,
                Mode::empty(),
            );
            let kind = FileType::from_raw_mode(rustix::fs::fstat(link.unwrap()).unwrap().st_mode);
            assert_eq!(kind, FileType::Symlink);
        }
    }

    #[test]
    fn the_walk_reports_where_it_ended_and_can_make_directories() {
        let (tmp, root) = root();
        symlink("a/b", tmp.path().join("root/in")).unwrap();
        let walk_to = |rel: &str, make_dirs| {
            let flags = OFlags::PATH | OFlags::DIRECTORY;
            walk(
                root.as_fd(),
                Path::new(rel),
                flags,
                Mode::empty(),
                make_dirs,
            )
        };
        assert_eq!(walk_to("in/../b/..", None).unwrap().1, Path::new("a"));
        let made = Some(0o755);
        assert_eq!(walk_to("in/x/y", made).unwrap().1, Path::new("a/b/x/y"));
        assert!(tmp.path().join("root/a/b/x/y").is_dir());
        assert!(is_escape(&walk_to("../z", made).unwrap_err()));
        assert!(!tmp.path().join("z").exists());
    }
}
