//! `FsStat`: the metadata `op_stat`, `op_lstat` and `op_fstat` answer with.

use std::fs::{FileType, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// What kind of file an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    Fifo,
    Socket,
    BlockDevice,
    CharDevice,
}

impl FileKind {
    pub fn of(file_type: FileType) -> Self {
        if file_type.is_symlink() {
            Self::Symlink
        } else if file_type.is_dir() {
            Self::Dir
        } else if file_type.is_fifo() {
            Self::Fifo
        } else if file_type.is_socket() {
            Self::Socket
        } else if file_type.is_block_device() {
            Self::BlockDevice
        } else if file_type.is_char_device() {
            Self::CharDevice
        } else {
            Self::File
        }
    }
}

/// The metadata of a file. Times are milliseconds since the Unix epoch (with the
/// sub-millisecond part as a fraction), `null` where the platform or file system does
/// not record one (`birthtime` often).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FsStat {
    pub kind: FileKind,
    pub is_file: bool,
    pub is_dir: bool,
    pub is_symlink: bool,
    pub size: u64,
    /// The permission bits, `st_mode & 0o7777` (the kind is in `kind`).
    pub mode: u32,
    pub mtime: Option<f64>,
    pub atime: Option<f64>,
    /// The last status change.
    pub ctime: Option<f64>,
    pub birthtime: Option<f64>,
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub blksize: u64,
    pub blocks: u64,
}

impl From<&Metadata> for FsStat {
    fn from(meta: &Metadata) -> Self {
        let kind = FileKind::of(meta.file_type());
        Self {
            kind,
            is_file: kind == FileKind::File,
            is_dir: kind == FileKind::Dir,
            is_symlink: kind == FileKind::Symlink,
            size: meta.len(),
            mode: meta.mode() & 0o7777,
            mtime: meta.modified().ok().map(epoch_ms),
            atime: meta.accessed().ok().map(epoch_ms),
            ctime: Some(meta.ctime() as f64 * 1000.0 + meta.ctime_nsec() as f64 / 1e6),
            birthtime: meta.created().ok().map(epoch_ms),
            dev: meta.dev(),
            ino: meta.ino(),
            nlink: meta.nlink(),
            uid: meta.uid(),
            gid: meta.gid(),
            rdev: meta.rdev(),
            blksize: meta.blksize(),
            blocks: meta.blocks(),
        }
    }
}

/// Milliseconds since the epoch, negative before it.
pub(crate) fn epoch_ms(time: SystemTime) -> f64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_secs() as f64 * 1000.0 + f64::from(after.subsec_nanos()) / 1e6,
        Err(before) => {
            let before = before.duration();
            -(before.as_secs() as f64 * 1000.0 + f64::from(before.subsec_nanos()) / 1e6)
        }
    }
}
