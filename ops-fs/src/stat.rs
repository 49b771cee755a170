//! `FsStat`: the metadata `op_stat`, `op_lstat` and `op_fstat` answer with.

use rustix::fs::{FileType, Statx, StatxFlags, StatxTimestamp, makedev};

use opkit::schemars::JsonSchema;
use serde::Serialize;

/// What kind of file an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(crate = "opkit::schemars")]
pub enum FileKind {
    /// A regular file (or one whose kind the file system does not say).
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A block device.
    BlockDevice,
    /// A character device.
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
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(crate = "opkit::schemars")]
pub struct FsStat {
    /// What kind of file it is.
    pub kind: FileKind,
    /// `kind` is `file`.
    pub is_file: bool,
    /// `kind` is `dir`.
    pub is_dir: bool,
    /// `kind` is `symlink` (only `op_lstat` answers one).
    pub is_symlink: bool,
    /// The size in bytes.
    pub size: u64,
    /// The permission bits, `st_mode & 0o7777` (the kind is in `kind`).
    pub mode: u32,
    /// The last modification, in milliseconds since the Unix epoch.
    pub mtime: Option<f64>,
    /// The last access, in milliseconds since the Unix epoch.
    pub atime: Option<f64>,
    /// The last status change, in milliseconds since the Unix epoch.
    pub ctime: Option<f64>,
    /// The creation, in milliseconds since the Unix epoch; often not recorded.
    pub birthtime: Option<f64>,
    /// The device the file is on.
    pub dev: u64,
    /// The inode number.
    pub ino: u64,
    /// The number of hard links.
    pub nlink: u64,
    /// The owner's user id.
    pub uid: u32,
    /// The owner's group id.
    pub gid: u32,
    /// The device a device file stands for (0 for others).
    pub rdev: u64,
    /// The file system's preferred block size for I/O, in bytes.
    pub blksize: u64,
    /// The number of 512-byte blocks allocated.
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
