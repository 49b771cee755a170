//! `FsStat`: the metadata `op_stat`, `op_lstat` and `op_fstat` answer with.

use rustix::fs::{FileType, Statx, StatxFlags, StatxTimestamp, makedev};

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
    pub(crate) fn of(file_type: FileType) -> Self {
        match file_type {
            FileType::Symlink => Self::Symlink,
            FileType::Directory => Self::Dir,
            FileType::Fifo => Self::Fifo,
            FileType::Socket => Self::Socket,
            FileType::BlockDevice => Self::BlockDevice,
            FileType::CharacterDevice => Self::CharDevice,
            FileType::RegularFile | FileType::Unknown => Self::File,
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

impl FsStat {
    /// What `statx` reported. A time the file system did not fill in is `null`.
    pub(crate) fn from_statx(stat: &Statx) -> Self {
        let kind = FileKind::of(FileType::from_raw_mode(stat.stx_mode.into()));
        let has = |field: StatxFlags| StatxFlags::from_bits_retain(stat.stx_mask).contains(field);
        let time = |field, t: &StatxTimestamp| {
            has(field).then(|| t.tv_sec as f64 * 1000.0 + f64::from(t.tv_nsec) / 1e6)
        };
        Self {
            kind,
            is_file: kind == FileKind::File,
            is_dir: kind == FileKind::Dir,
            is_symlink: kind == FileKind::Symlink,
            size: stat.stx_size,
            mode: u32::from(stat.stx_mode) & 0o7777,
            mtime: time(StatxFlags::MTIME, &stat.stx_mtime),
            atime: time(StatxFlags::ATIME, &stat.stx_atime),
            ctime: time(StatxFlags::CTIME, &stat.stx_ctime),
            birthtime: time(StatxFlags::BTIME, &stat.stx_btime),
            dev: makedev(stat.stx_dev_major, stat.stx_dev_minor),
            ino: stat.stx_ino,
            nlink: u64::from(stat.stx_nlink),
            uid: stat.stx_uid,
            gid: stat.stx_gid,
            rdev: makedev(stat.stx_rdev_major, stat.stx_rdev_minor),
            blksize: u64::from(stat.stx_blksize),
            blocks: stat.stx_blocks,
        }
    }
}
