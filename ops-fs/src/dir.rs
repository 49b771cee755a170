//! Directories and the runtime's place in the tree: mkdir, read_dir, temp dirs and
//! files, cwd, chdir, umask.

use std::fs::Permissions;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use opkit::{OpError, op};
use serde::Serialize;

use crate::context::{FsContext, denied, invalid_argument, path_error};
use crate::permissions::Access;

/// Creates a directory, and with `recursive` its missing parents (an existing
/// directory is then no error). Every directory created gets `mode` (default `0o777`)
/// less the runtime's umask.
#[op(permission = "fs.write")]
pub fn op_mkdir(
    #[state] ctx: &FsContext,
    path: &str,
    recursive: Option<bool>,
    mode: Option<u32>,
) -> Result<(), OpError> {
    let mode = mode.unwrap_or(0o777);
    if mode > 0o7777 {
        return Err(invalid_argument(
            "`mode` takes permission bits, at most 0o7777",
        ));
    }
    // `mkdir(2)` does not follow a final symlink (it fails with `EEXIST`), so neither
    // does the check.
    let resolved = ctx.check_new_dir(path)?;
    let mode = ctx.creation_mode(mode);
    let made = if recursive.unwrap_or(false) {
        let may_create = |dir: &Path| ctx.permissions().allows(Access::Write, dir);
        mkdir_all(&resolved, mode, &may_create)
    } else {
        mkdir_one(&resolved, mode)
    };
    made.map_err(|err| path_error(path, err))
}

/// One `mkdir(2)`, then a `chmod` to exactly `mode` (the process's umask, which the
/// kernel applied too, is not the runtime's).
fn mkdir_one(path: &Path, mode: u32) -> io::Result<()> {
    std::fs::DirBuilder::new().mode(mode).create(path)?;
    std::fs::set_permissions(path, Permissions::from_mode(mode))
}

/// Creates `path` and its missing parents. A missing parent above every write root
/// (the root itself does not exist yet) is not created: `PermissionDenied`.
fn mkdir_all(path: &Path, mode: u32, may_create: &dyn Fn(&Path) -> bool) -> io::Result<()> {
    if !may_create(path) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "write access denied: a missing parent is outside the write roots",
        ));
    }
    match mkdir_one(path, mode) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            let Some(parent) = path.parent() else {
                return Err(err);
            };
            mkdir_all(parent, mode, may_create)?;
            match mkdir_one(path, mode) {
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
                other => other,
            }
        }
        Err(err) => Err(err),
    }
}

/// One entry of a directory, as `op_read_dir` lists it. A symlink is described
/// itself (`is_symlink`), not followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirEntry {
    pub name: String,
    pub is_file: bool,
    pub is_dir: bool,
    pub is_symlink: bool,
}

/// Lists a directory's entries (without `.` and `..`), sorted by name. A name that is
/// not UTF-8 is given with U+FFFD in place of the bad bytes.
#[op(permission = "fs.read")]
pub fn op_read_dir(#[state] ctx: &FsContext, path: &str) -> Result<Vec<DirEntry>, OpError> {
    let resolved = ctx.check(Access::Read, path)?;
    let error = |err| path_error(path, err);
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(&resolved).map_err(error)? {
        let entry = entry.map_err(error)?;
        let file_type = entry.file_type().map_err(error)?;
        entries.push(DirEntry {
            name: entry.file_name().to_string_lossy().into_owned(),
            is_file: file_type.is_file(),
            is_dir: file_type.is_dir(),
            is_symlink: file_type.is_symlink(),
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// Where and how a temp entry is made: the directory as the guest names it and
/// resolved, the checked name parts, and the mode less the runtime's umask.
struct TempPlan {
    dir: String,
    resolved: PathBuf,
    prefix: String,
    suffix: String,
    mode: u32,
}

impl TempPlan {
    fn new(
        ctx: &FsContext,
        dir: Option<String>,
        prefix: Option<String>,
        suffix: Option<String>,
        mode: u32,
    ) -> Result<Self, OpError> {
        let (prefix, suffix) = (name_part("prefix", prefix)?, name_part("suffix", suffix)?);
        let dir = dir.unwrap_or_else(|| std::env::temp_dir().to_string_lossy().into_owned());
        let resolved = ctx.check(Access::Write, &dir)?;
        Ok(TempPlan {
            dir,
            resolved,
            prefix,
            suffix,
            mode: ctx.creation_mode(mode),
        })
    }

    fn builder(&self) -> tempfile::Builder<'_, '_> {
        let mut builder = tempfile::Builder::new();
        builder
            .prefix(&self.prefix)
            .suffix(&self.suffix)
            .permissions(Permissions::from_mode(self.mode));
        builder
    }

    fn error(&self, err: std::io::Error) -> OpError {
        path_error(&self.dir, err)
    }
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

/// The path of a new temp entry as the guest would name it: `dir` as given, joined
/// with the new name.
fn guest_path(dir: &str, made: &Path) -> String {
    let name = made.file_name().unwrap_or_default();
    Path::new(dir).join(name).to_string_lossy().into_owned()
}

/// Creates a new, empty directory with a unique name in `dir` (default: the system's
/// temp directory) and returns its path. The name is `prefix`, random characters, then
/// `suffix`; the mode is `0o700` less the runtime's umask.
#[op(permission = "fs.write")]
pub fn op_make_temp_dir(
    #[state] ctx: &FsContext,
    dir: Option<String>,
    prefix: Option<String>,
    suffix: Option<String>,
) -> Result<String, OpError> {
    let plan = TempPlan::new(ctx, dir, prefix, suffix, 0o700)?;
    let made = plan
        .builder()
        .tempdir_in(&plan.resolved)
        .map_err(|err| plan.error(err))?
        .keep();
    std::fs::set_permissions(&made, Permissions::from_mode(plan.mode))
        .map_err(|err| plan.error(err))?;
    Ok(guest_path(&plan.dir, &made))
}

/// Creates a new, empty file with a unique name in `dir` (default: the system's temp
/// directory) and returns its path. The name is `prefix`, random characters, then
/// `suffix`; the mode is `0o600` less the runtime's umask.
#[op(permission = "fs.write")]
pub fn op_make_temp_file(
    #[state] ctx: &FsContext,
    dir: Option<String>,
    prefix: Option<String>,
    suffix: Option<String>,
) -> Result<String, OpError> {
    let plan = TempPlan::new(ctx, dir, prefix, suffix, 0o600)?;
    let (file, made) = plan
        .builder()
        .tempfile_in(&plan.resolved)
        .map_err(|err| plan.error(err))?
        .keep()
        .map_err(|err| plan.error(err.error))?;
    file.set_permissions(Permissions::from_mode(plan.mode))
        .map_err(|err| plan.error(err))?;
    Ok(guest_path(&plan.dir, &made))
}

/// The runtime's current directory (absolute, symlinks resolved). Needs read access to
/// it, since the path itself tells where the runtime is.
#[op(sync, permission = "fs.read")]
pub fn op_cwd(#[state] ctx: &FsContext) -> Result<String, OpError> {
    if !ctx.permissions().allows(Access::Read, ctx.cwd()) {
        return Err(denied(Access::Read, "."));
    }
    Ok(ctx.cwd().to_string_lossy().into_owned())
}

/// Changes the runtime's current directory, against which relative paths resolve.
/// The process's cwd, and other runtimes', do not change.
#[op(sync, permission = "fs.read")]
pub fn op_chdir(#[state] ctx: &mut FsContext, path: &str) -> Result<(), OpError> {
    let resolved = ctx.check(Access::Read, path)?;
    let meta = std::fs::metadata(&resolved).map_err(|err| path_error(path, err))?;
    if !meta.is_dir() {
        return Err(path_error(
            path,
            io::Error::from_raw_os_error(libc::ENOTDIR),
        ));
    }
    ctx.set_cwd(resolved);
    Ok(())
}

/// Returns the runtime's umask and, given `mask`, replaces it. The umask clears
/// permission bits of what this runtime's ops create; the process's umask does not
/// change.
#[op(sync)]
pub fn op_umask(#[state] ctx: &mut FsContext, mask: Option<u32>) -> Result<u32, OpError> {
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
