//! opkit-fs: the file-system ops of opkit, each written once as an `#[op]` function
//! with a sync and a blocking async entry, checked against [`FsPermissions`].
//!
//! ```
//! use opkit::Runtime;
//! use opkit_fs::{FsContext, FsPermissions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let dir = tempfile::tempdir().unwrap();
//! let perms = FsPermissions::default().allow_all(dir.path());
//! let rt = Runtime::new([opkit_fs::extension_with(FsContext::new(perms).with_cwd(dir.path()))])
//!     .unwrap();
//!
//! rt.call_sync("op_write_text_file_sync", br#"["a.txt", "hi"]"#, &mut []).unwrap();
//! let out = rt.call_async("op_read_text_file_async", br#"["a.txt"]"#, vec![]).await;
//! assert_eq!(out.result.unwrap(), br#""hi""#);
//!
//! let err = rt.call_sync("op_stat_sync", br#"["../elsewhere"]"#, &mut []).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "PermissionDenied: op_stat: '../elsewhere': read access denied: the path is outside the read roots"
//! );
//! # }
//! ```
//!
//! # Permissions
//!
//! Every root is opened once, as a handle, when it is added to [`FsPermissions`]. A
//! guest's path is made absolute against the runtime's own cwd (kept in
//! [`FsContext`], changed by `op_chdir` only for that runtime) and must be spelled
//! below a root that grants the access the op needs (`fs.read` or `fs.write`). The rest
//! of the path is then resolved by the kernel *beneath that root's handle*
//! (`openat2(RESOLVE_BENEATH)`, or a walk of `O_NOFOLLOW` opens where the kernel has
//! no `openat2`), and the op acts on the descriptor it got, never on a string resolved
//! again: `..` and symlinks may move about inside the root, but any that would lead
//! out of it, and any symlink with an absolute target, is refused with
//! `PermissionDenied`, whenever it is swapped in. Ops that act on an entry itself
//! (`op_lstat`, `op_remove`, `op_rename`, `op_symlink`, `op_read_link`, `op_link`,
//! `op_mkdir`) open its parent beneath the root and use the last name with the `*at`
//! calls; those that remove, rename or replace it need it strictly below a write root,
//! so a root itself stays where it is. `op_rename` also needs read access to `from`
//! when `to` is readable. Ops on an open rid check nothing: the check happened at
//! `op_open`.

mod beneath;
mod contents;
mod context;
mod dir;
mod file;
mod links;
mod metadata;
mod permissions;
mod stat;
mod times;
mod tree;

pub use beneath::Resolver;
pub use contents::{op_read_file, op_read_text_file, op_write_file, op_write_text_file};
pub use context::{DEFAULT_MAX_READ, FsContext};
pub use dir::{
    DirEntry, op_chdir, op_cwd, op_make_temp_dir, op_make_temp_file, op_mkdir, op_read_dir,
    op_umask,
};
pub use file::{
    FsFile, OpenOptions, op_fdatasync, op_fstat, op_fsync, op_ftruncate, op_futime, op_open,
    op_read, op_seek, op_write,
};
pub use links::{op_link, op_read_link, op_realpath, op_symlink};
pub use metadata::{op_chmod, op_chown, op_exists, op_lstat, op_stat, op_truncate, op_utime};
pub use permissions::{Access, FsPermissions};
pub use stat::{FileKind, FsStat};
pub use tree::{op_copy_file, op_remove, op_rename};

use opkit::{Extension, OpDecl};

opkit::extension!(
    fs,
    ops = [
        op_open,
        op_read,
        op_write,
        op_seek,
        op_fstat,
        op_ftruncate,
        op_fsync,
        op_fdatasync,
        op_futime,
        op_stat,
        op_lstat,
        op_exists,
        op_chmod,
        op_chown,
        op_utime,
        op_truncate,
        op_mkdir,
        op_read_dir,
        op_make_temp_dir,
        op_make_temp_file,
        op_cwd,
        op_chdir,
        op_umask,
        op_copy_file,
        op_rename,
        op_remove,
        op_link,
        op_symlink,
        op_read_link,
        op_realpath,
        op_read_file,
        op_read_text_file,
        op_write_file,
        op_write_text_file,
    ]
);

/// The `fs` extension: every op of this crate, with a fresh [`FsContext`] (the
/// process's cwd and umask, these permissions) in each runtime built with it.
pub fn extension(perms: FsPermissions) -> Extension {
    fs().with_state(move |state| {
        state.put(FsContext::new(perms.clone()));
    })
}

/// The `fs` extension with a context of the host's choosing (a starting cwd or umask);
/// each runtime gets its own copy.
pub fn extension_with(ctx: FsContext) -> Extension {
    fs().with_state(move |state| {
        state.put(ctx.clone());
    })
}

/// Every entry of every op of this crate, in the order the README lists them: what a
/// host renders the op reference from.
pub fn op_decls() -> Vec<OpDecl> {
    fs().decls().to_vec()
}
