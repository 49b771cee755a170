//! Open files: `op_open` and the ops on a file rid.
//!
//! An `FsFile` is shared by the sync and the async entries: the async entry lends it
//! to a `spawn_blocking` thread through an `Arc`, with no borrow of `OpState` held
//! while the syscall runs. The `File` sits behind a `Mutex` taken with `try_lock`, so
//! a second op on a rid that one op is using fails at once with `Busy` instead of
//! waiting for it (or, in the sync entry, blocking the host thread on it).

use std::borrow::Cow;
use std::fs::{File, Permissions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::sync::{Mutex, MutexGuard, TryLockError};

use opkit::schemars::JsonSchema;
use opkit::{ErrorClass, NewResource, OpError, Resource, op};
use rustix::fs::{AtFlags, OFlags};
use serde::Deserialize;

use crate::beneath;
use crate::context::{
    FsContext, GuestPath, STATX_FIELDS, guest_mode, invalid_argument, path_error, quoted,
};
use crate::permissions::{Access, FsPermissionCheck};
use crate::stat::FsStat;
use crate::times::timestamps;

/// An open file, held by rid.
#[derive(Debug)]
pub struct FsFile {
    file: Mutex<File>,
    /// The path as the guest named it, for error messages.
    path: String,
    /// Whether the guest may read the file's metadata: not for a file opened for
    /// writing in a write-only root, whose size, owner and times `op_stat` refuses too.
    metadata_visible: bool,
}

impl Resource for FsFile {
    fn name(&self) -> Cow<'_, str> {
        "fsFile".into()
    }
}

impl FsFile {
    /// Wraps an open file; `path` names it in error messages.
    pub fn new(file: File, path: impl Into<String>) -> Self {
        Self {
            file: Mutex::new(file),
            path: path.into(),
            metadata_visible: true,
        }
    }

    /// Refuses what would tell the guest the file's metadata, for a rid opened where
    /// the guest may not read.
    fn check_metadata_visible(&self) -> Result<(), OpError> {
        if self.metadata_visible {
            return Ok(());
        }
        Err(OpError::permission_denied(format!(
            "{}: read access denied: the file was opened in a write-only root, so its \
             metadata and size cannot be read",
            quoted(&self.path)
        )))
    }

    /// The path the file was opened with.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file, if no other op is using it.
    fn lock(&self) -> Result<MutexGuard<'_, File>, OpError> {
        match self.file.try_lock() {
            Ok(file) => Ok(file),
            // A panic in an earlier op cannot leave a `File` half-changed.
            Err(TryLockError::Poisoned(poisoned)) => Ok(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => Err(OpError::new(
                ErrorClass::Busy,
                format!(
                    "{}: another op is using this file; wait for it to finish",
                    quoted(&self.path)
                ),
            )),
        }
    }

    fn error(&self, err: io::Error) -> OpError {
        path_error(&self.path, err)
    }
}

/// How `op_open` opens a file; every flag is `false` when left out. Without options
/// the file is opened for reading.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[schemars(crate = "opkit::schemars")]
pub struct OpenOptions {
    /// Open for reading (needs read access).
    pub read: bool,
    /// Open for writing (needs write access, as every option below does).
    pub write: bool,
    /// Write at the end; excludes `truncate`.
    pub append: bool,
    /// Cut the file to length 0; needs `write`.
    pub truncate: bool,
    /// Create the file if it does not exist; needs `write` or `append`.
    pub create: bool,
    /// Create the file, failing with `AlreadyExists` if it exists; needs `write` or
    /// `append`.
    pub create_new: bool,
    /// The permission bits of a file this call creates, before the runtime's umask
    /// (default `0o666`).
    pub mode: Option<u32>,
}

impl OpenOptions {
    pub(crate) fn read_only() -> Self {
        Self {
            read: true,
            ..Self::default()
        }
    }

    /// The accesses these options need: `read` needs read access, anything that can
    /// change the file needs write access.
    fn accesses(&self) -> &'static [Access] {
        let writes = self.write || self.append || self.truncate || self.create || self.create_new;
        match (self.read, writes) {
            (true, true) => &[Access::Read, Access::Write],
            (false, true) => &[Access::Write],
            // Options that ask for nothing are refused by `validate`.
            (_, false) => &[Access::Read],
        }
    }

    /// The `open(2)` flags of these options (`NOFOLLOW` aside: a final symlink is
    /// followed, beneath the root).
    fn flags(&self) -> OFlags {
        let writes = self.write || self.append;
        let mut flags = match (self.read, writes) {
            (true, true) => OFlags::RDWR,
            (false, true) => OFlags::WRONLY,
            _ => OFlags::RDONLY,
        };
        if self.append {
            flags |= OFlags::APPEND;
        }
        if self.create_new {
            flags |= OFlags::CREATE | OFlags::EXCL;
        } else {
            if self.create {
                flags |= OFlags::CREATE;
            }
            if self.truncate {
                flags |= OFlags::TRUNC;
            }
        }
        flags
    }

    pub(crate) fn validate(&self) -> Result<(), OpError> {
        if !(self.read || self.write || self.append) {
            return Err(invalid_argument(
                "open options need at least one of `read`, `write` and `append`",
            ));
        }
        let writes = self.write || self.append;
        if (self.truncate || self.create || self.create_new) && !writes {
            return Err(invalid_argument(
                "`truncate`, `create` and `create_new` need `write` or `append`",
            ));
        }
        if self.truncate && self.append {
            return Err(invalid_argument(
                "`truncate` and `append` exclude each other",
            ));
        }
        if let Some(mode) = self.mode {
            guest_mode(mode)?;
        }
        Ok(())
    }
}

/// Opens the file `path` names as `options` say. A file this call creates gets exactly
/// `mode & !umask` of the runtime: when the process's umask, which the kernel applies,
/// would clear other bits, the file is created exclusively (so that this call knows it
/// made it) and given its mode with an `fchmod`.
pub(crate) fn open_checked<P: FsPermissionCheck>(
    ctx: &FsContext<P>,
    path: &GuestPath<'_>,
    options: &OpenOptions,
) -> Result<File, OpError> {
    let mode = ctx.creation_mode(options.mode.unwrap_or(0o666));
    let flags = options.flags();
    let creates = flags.contains(OFlags::CREATE);
    if !creates || beneath::process_umask().is_some_and(|umask| mode & umask == 0) {
        return path.open_file(flags, mode);
    }
    let exclusive = flags | OFlags::EXCL;
    let created = if flags.contains(OFlags::EXCL) {
        path.open_file(exclusive, mode)?
    } else {
        // Open the file if it exists, else create it exclusively; retry if another
        // process races us.
        let mut attempts = 0;
        loop {
            match path.open_file(flags - OFlags::CREATE, mode) {
                Err(err) if err.class() == ErrorClass::NotFound => {}
                existing => return existing,
            }
            match path.open_file(exclusive, mode) {
                Ok(file) => break file,
                Err(err) if err.class() == ErrorClass::AlreadyExists && attempts < 3 => {
                    attempts += 1;
                }
                Err(err) => return Err(err),
            }
        }
    };
    created
        .set_permissions(Permissions::from_mode(mode))
        .map_err(|err| path.error(err))?;
    Ok(created)
}

/// Opens a file and returns its rid. `options` (all `false` when left out):
/// `read`, `write`, `append`, `truncate`, `create`, `create_new`, and `mode` for a new
/// file (default `0o666`, less the runtime's umask). Without options the file is
/// opened for reading. Needs read access to read and write access for anything else.
#[op(permission = "fs.read|fs.write")]
pub fn op_open<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
    options: Option<OpenOptions>,
) -> Result<NewResource<FsFile>, OpError> {
    let options = options.unwrap_or_else(OpenOptions::read_only);
    options.validate()?;
    let guest = ctx.path_for(options.accesses(), path)?;
    let file = open_checked(ctx, &guest, &options)?;
    let mut file = FsFile::new(file, path);
    file.metadata_visible = options.read || guest.root_grants(Access::Read);
    Ok(NewResource(file))
}

/// Reads into the buffer from the file's position and returns how many bytes were
/// read (`0` at the end of the file).
#[op]
pub fn op_read(#[resource] rid: &FsFile, #[buffer] buf: &mut [u8]) -> Result<usize, OpError> {
    let mut file = rid.lock()?;
    loop {
        match file.read(buf) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            other => return other.map_err(|err| rid.error(err)),
        }
    }
}

/// Writes the buffer at the file's position (the end with `append`) and returns how
/// many bytes were written, which may be fewer than given.
#[op]
pub fn op_write(#[resource] rid: &FsFile, #[buffer] data: &[u8]) -> Result<usize, OpError> {
    let mut file = rid.lock()?;
    loop {
        match file.write(data) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            other => return other.map_err(|err| rid.error(err)),
        }
    }
}

/// Moves the file's position and returns the new one. `whence`: `0` from the start
/// (`offset` must not be negative), `1` from the current position, `2` from the end.
/// A rid opened for writing in a write-only root seeks from the start only.
#[op]
pub fn op_seek(#[resource] rid: &FsFile, offset: i64, whence: u8) -> Result<u64, OpError> {
    let from = match whence {
        0 => SeekFrom::Start(
            u64::try_from(offset)
                .map_err(|_| invalid_argument(format!("cannot seek to {offset} from the start")))?,
        ),
        // After an append, the current position is the size.
        1 => {
            rid.check_metadata_visible()?;
            SeekFrom::Current(offset)
        }
        2 => {
            rid.check_metadata_visible()?;
            SeekFrom::End(offset)
        }
        _ => {
            return Err(invalid_argument(format!(
                "`whence` is 0 (start), 1 (current) or 2 (end), not {whence}"
            )));
        }
    };
    rid.lock()?.seek(from).map_err(|err| rid.error(err))
}

/// The metadata of an open file.
#[op]
pub fn op_fstat(#[resource] rid: &FsFile) -> Result<FsStat, OpError> {
    rid.check_metadata_visible()?;
    let file = rid.lock()?;
    let stat = rustix::fs::statx(&*file, "", AtFlags::EMPTY_PATH, STATX_FIELDS)
        .map_err(|err| rid.error(err.into()))?;
    Ok(FsStat::from_statx(&stat))
}

/// Truncates or extends an open file to `len` bytes (default `0`).
#[op]
pub fn op_ftruncate(#[resource] rid: &FsFile, len: Option<u64>) -> Result<(), OpError> {
    rid.lock()?
        .set_len(len.unwrap_or(0))
        .map_err(|err| rid.error(err))
}

/// Flushes an open file's data and metadata to the device (`fsync`).
#[op]
pub fn op_fsync(#[resource] rid: &FsFile) -> Result<(), OpError> {
    rid.lock()?.sync_all().map_err(|err| rid.error(err))
}

/// Flushes an open file's data to the device, and only the metadata needed to read it
/// back (`fdatasync`).
#[op]
pub fn op_fdatasync(#[resource] rid: &FsFile) -> Result<(), OpError> {
    rid.lock()?.sync_data().map_err(|err| rid.error(err))
}

/// Sets an open file's access and modification times, in milliseconds since the
/// epoch.
#[op]
pub fn op_futime(#[resource] rid: &FsFile, atime: f64, mtime: f64) -> Result<(), OpError> {
    let times = timestamps(atime, mtime)?;
    let file = rid.lock()?;
    rustix::fs::futimens(&*file, &times).map_err(|err| rid.error(err.into()))
}
