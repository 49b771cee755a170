//! What the fuzz targets share.

use std::path::PathBuf;

/// Where a target makes its scratch folders: `$TMPDIR` when it is set, else
/// `/dev/shm` where there is one (creating and removing a tree per input on a disk
/// costs ten times as much), else the system's temporary folder.
pub fn scratch_parent() -> PathBuf {
    if std::env::var_os("TMPDIR").is_some() {
        return std::env::temp_dir();
    }
    let shm = PathBuf::from("/dev/shm");
    match shm.is_dir() {
        true => shm,
        false => std::env::temp_dir(),
    }
}
