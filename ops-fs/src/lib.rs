//! opkit-fs: the file-system ops of opkit, each written once as an `#[op]` function
//! with a sync and a blocking async entry, checked against [`FsPermissions`] or a
//! host's own [`FsPermissionCheck`].
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
//!
//! The ops that take a path are generic over [`FsPermissionCheck`] (`op_stat::<P>`,
//! with `FsContext<P>` in the runtime's state); [`extension`] and [`extension_with`]
//! use `FsPermissions`, [`extension_for`] a host's own type, whose
//! [`check`](FsPermissionCheck::check) says which root grants each access. The path
//! is resolved beneath that root whatever the rule, so a host's type can narrow what
//! a guest reaches, never widen it past a root's handle.

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
pub use permissions::{Access, FsPermissionCheck, FsPermissions, Grant};
pub use stat::{FileKind, FsStat};
pub use tree::{op_copy_file, op_remove, op_rename};

use std::sync::Arc;

use opkit::{Extension, OpDecl};

opkit::extension!(
    fs,
    parameters = [P: FsPermissionCheck],
    ops = [
        op_open::<P>,
        op_read,
        op_write,
        op_seek,
        op_fstat,
        op_ftruncate,
        op_fsync,
        op_fdatasync,
        op_futime,
        op_stat::<P>,
        op_lstat::<P>,
        op_exists::<P>,
        op_chmod::<P>,
        op_chown::<P>,
        op_utime::<P>,
        op_truncate::<P>,
        op_mkdir::<P>,
        op_read_dir::<P>,
        op_make_temp_dir::<P>,
        op_make_temp_file::<P>,
        op_cwd::<P>,
        op_chdir::<P>,
        op_umask::<P>,
        op_copy_file::<P>,
        op_rename::<P>,
        op_remove::<P>,
        op_link::<P>,
        op_symlink::<P>,
        op_read_link::<P>,
        op_realpath::<P>,
        op_read_file::<P>,
        op_read_text_file::<P>,
        op_write_file::<P>,
        op_write_text_file::<P>,
    ]
);

/// The `fs` extension: every op of this crate, with a fresh [`FsContext`] (the
/// process's cwd and umask, these permissions) in each runtime built with it.
pub fn extension(perms: FsPermissions) -> Extension {
    extension_for(perms)
}

/// [`extension`] with permissions of the host's own type: the ops ask `perms` (shared
/// by every runtime built with the extension) which root grants each access.
pub fn extension_for<P: FsPermissionCheck>(perms: P) -> Extension {
    let perms = Arc::new(perms);
    fs::<P>().with_state(move |state| {
        state.put(FsContext::shared(Arc::clone(&perms)));
    })
}

/// The `fs` extension with a context of the host's choosing (a starting cwd or umask,
/// permissions of its own type); each runtime gets its own copy.
pub fn extension_with<P: FsPermissionCheck>(ctx: FsContext<P>) -> Extension {
    fs::<P>().with_state(move |state| {
        state.put(ctx.clone());
    })
}

/// Every entry of every op of this crate, in the order the README lists them: what a
/// host renders the op reference from. The metadata is the same whatever the
/// permissions type.
pub fn op_decls() -> Vec<OpDecl> {
    fs::<FsPermissions>().decls().to_vec()
}
