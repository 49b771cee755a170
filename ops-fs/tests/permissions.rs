//! The permission model: escape attempts refused with `PermissionDenied` naming the
//! op and the path, and the same operations inside the roots allowed.
//!
//! Layout of every fixture (all in one temp dir `T`):
//!
//! ```text
//! T/root/            read + write root, the runtime's cwd
//! T/ro/file          read-only root
//! T/wo/              write-only root
//! T/outside/secret.txt
//! ```

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;

use common::{BOTH, Entry, Fixture};
use opkit::{ErrorClass, OpError};
use opkit_fs::{FsContext, FsPermissions};
use serde_json::{Value, json};

/// The fixture above, with a few symlinks in the root:
/// `out_dir -> ../outside`, `out_file -> T/outside/secret.txt` (absolute),
/// `chain -> chain2 -> out_dir`, `loop1 -> loop2 -> loop1`, `in_link -> a/b`.
fn sandbox(entry: Entry) -> Fixture {
    let fx = Fixture::with_perms(entry, |t| {
        for dir in ["root/a/b", "ro", "wo", "outside"] {
            std::fs::create_dir_all(t.join(dir)).unwrap();
        }
        FsPermissions::default()
            .allow_all(t.join("root"))
            .allow_read(t.join("ro"))
            .allow_write(t.join("wo"))
    });
    let t = &fx.root;
    std::fs::write(t.join("outside/secret.txt"), "secret").unwrap();
    std::fs::write(t.join("ro/file"), "read only").unwrap();
    std::fs::write(t.join("root/f"), "inside").unwrap();
    symlink("../outside", t.join("root/out_dir")).unwrap();
    symlink(t.join("outside/secret.txt"), t.join("root/out_file")).unwrap();
    symlink("chain2", t.join("root/chain")).unwrap();
    symlink("out_dir", t.join("root/chain2")).unwrap();
    symlink("loop2", t.join("root/loop1")).unwrap();
    symlink("loop1", t.join("root/loop2")).unwrap();
    symlink("a/b", t.join("root/in_link")).unwrap();
    fx.sync("op_chdir", json!(["root"])).unwrap();
    fx
}

fn t(fx: &Fixture, rel: &str) -> String {
    fx.path(rel).to_str().unwrap().to_owned()
}

fn assert_denied(err: &OpError, op: &str, path: &str) {
    assert_eq!(err.class(), ErrorClass::PermissionDenied, "{op}: {err}");
    assert_eq!(err.op(), Some(op), "{err}");
    assert!(
        err.message().starts_with(&format!("'{path}': ")),
        "names the path '{path}': {err}"
    );
}

/// What must not change, whatever was attempted.
fn assert_outside_untouched(fx: &Fixture) {
    let names: Vec<_> = std::fs::read_dir(fx.path("outside"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["secret.txt"]);
    assert_eq!(
        std::fs::read_to_string(fx.path("outside/secret.txt")).unwrap(),
        "secret"
    );
    let meta = std::fs::metadata(fx.path("outside/secret.txt")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::nlink(&meta), 1);
    assert_eq!(
        std::fs::read_to_string(fx.path("ro/file")).unwrap(),
        "read only"
    );
    assert_eq!(std::fs::read_dir(fx.path("ro")).unwrap().count(), 1);
}

/// `(op, args, the path the error must name)`: each one tries to leave the roots.
fn escapes(fx: &Fixture) -> Vec<(&'static str, Value, String)> {
    let secret = t(fx, "outside/secret.txt");
    let ro_file = t(fx, "ro/file");
    let root = t(fx, "root");
    vec![
        // `..` chains.
        (
            "op_read_file",
            json!(["../outside/secret.txt"]),
            "../outside/secret.txt".into(),
        ),
        (
            "op_stat",
            json!(["a/b/../../../outside/secret.txt"]),
            "a/b/../../../outside/secret.txt".into(),
        ),
        (
            "op_read_text_file",
            json!(["a/../../outside/secret.txt"]),
            "a/../../outside/secret.txt".into(),
        ),
        ("op_read_dir", json!([".."]), "..".into()),
        (
            "op_exists",
            json!(["../outside/secret.txt"]),
            "../outside/secret.txt".into(),
        ),
        // Absolute paths.
        ("op_stat", json!([secret]), secret.clone()),
        ("op_read_file", json!(["/etc/passwd"]), "/etc/passwd".into()),
        ("op_read_dir", json!(["/"]), "/".into()),
        ("op_open", json!([secret]), secret.clone()),
        // Symlinks pointing outside: a directory, a file (absolute), a chain.
        (
            "op_read_text_file",
            json!(["out_dir/secret.txt"]),
            "out_dir/secret.txt".into(),
        ),
        ("op_stat", json!(["out_file"]), "out_file".into()),
        ("op_open", json!(["out_file"]), "out_file".into()),
        ("op_read_dir", json!(["chain"]), "chain".into()),
        ("op_realpath", json!(["out_file"]), "out_file".into()),
        (
            "op_write_text_file",
            json!(["out_file", "pwned"]),
            "out_file".into(),
        ),
        (
            "op_truncate",
            json!(["out_dir/secret.txt"]),
            "out_dir/secret.txt".into(),
        ),
        ("op_chmod", json!(["out_file", 0o777]), "out_file".into()),
        ("op_utime", json!(["out_file", 0, 0]), "out_file".into()),
        ("op_chown", json!(["out_file", 0, 0]), "out_file".into()),
        (
            "op_remove",
            json!(["out_dir/secret.txt"]),
            "out_dir/secret.txt".into(),
        ),
        (
            "op_mkdir",
            json!(["out_dir/new", true]),
            "out_dir/new".into(),
        ),
        // Symlink loops cannot be checked, so they are refused.
        ("op_stat", json!(["loop1"]), "loop1".into()),
        ("op_read_file", json!(["loop1/x"]), "loop1/x".into()),
        // Rename, link and copy with one end outside.
        (
            "op_rename",
            json!(["f", "../outside/f"]),
            "../outside/f".into(),
        ),
        (
            "op_rename",
            json!(["../outside/secret.txt", "stolen"]),
            "../outside/secret.txt".into(),
        ),
        ("op_rename", json!(["f", "out_dir/f"]), "out_dir/f".into()),
        (
            "op_link",
            json!(["f", "../outside/f"]),
            "../outside/f".into(),
        ),
        (
            "op_link",
            json!(["../outside/secret.txt", "stolen"]),
            "../outside/secret.txt".into(),
        ),
        (
            "op_link",
            json!(["out_dir/secret.txt", "stolen"]),
            "out_dir/secret.txt".into(),
        ),
        (
            "op_copy_file",
            json!(["out_file", "stolen"]),
            "out_file".into(),
        ),
        (
            "op_copy_file",
            json!(["f", "../outside/copy"]),
            "../outside/copy".into(),
        ),
        (
            "op_symlink",
            json!(["/etc", "../outside/link"]),
            "../outside/link".into(),
        ),
        (
            "op_make_temp_file",
            json!(["../outside"]),
            "../outside".into(),
        ),
        ("op_make_temp_dir", json!(["out_dir"]), "out_dir".into()),
        // Writes through the read-only root, and a hard link that would make a
        // read-only file writable.
        ("op_write_text_file", json!([ro_file, "x"]), ro_file.clone()),
        (
            "op_open",
            json!([ro_file, {"read": true, "write": true}]),
            ro_file.clone(),
        ),
        ("op_remove", json!(["../ro/file"]), "../ro/file".into()),
        ("op_mkdir", json!(["../ro/new"]), "../ro/new".into()),
        (
            "op_chmod",
            json!(["../ro/file", 0o666]),
            "../ro/file".into(),
        ),
        (
            "op_rename",
            json!(["../ro/file", "taken"]),
            "../ro/file".into(),
        ),
        (
            "op_link",
            json!(["../ro/file", "alias"]),
            "../ro/file".into(),
        ),
        (
            "op_copy_file",
            json!(["f", "../ro/copy"]),
            "../ro/copy".into(),
        ),
        // Reads through the write-only root, and renames that would bring what it
        // holds into view.
        ("op_read_dir", json!(["../wo"]), "../wo".into()),
        ("op_stat", json!(["../wo"]), "../wo".into()),
        (
            "op_rename",
            json!(["../wo/upload", "taken"]),
            "../wo/upload".into(),
        ),
        (
            "op_rename",
            json!(["../wo/dir", "a/dir"]),
            "../wo/dir".into(),
        ),
        // A root itself: its entry is in its parent, outside every root, so it is
        // neither removed, renamed nor replaced.
        ("op_remove", json!([".", true]), ".".into()),
        ("op_remove", json!(["a/..", true]), "a/..".into()),
        ("op_remove", json!(["../wo", true]), "../wo".into()),
        ("op_rename", json!([".", "../wo/root"]), ".".into()),
        ("op_rename", json!(["a/b", "../wo"]), "../wo".into()),
        ("op_symlink", json!(["/etc", root]), root.clone()),
        ("op_link", json!(["f", "."]), ".".into()),
    ]
}

/// What the escapes must leave in place: both roots, and the root's contents.
fn assert_roots_in_place(fx: &Fixture) {
    for root in ["root", "wo"] {
        let meta = std::fs::symlink_metadata(fx.path(root)).unwrap();
        assert!(meta.is_dir(), "{root} is still a directory");
    }
    assert_eq!(
        std::fs::read_to_string(fx.path("root/f")).unwrap(),
        "inside"
    );
    assert!(fx.path("root/a/b").is_dir());
}

#[tokio::test(flavor = "current_thread")]
async fn escape_attempts_are_refused_through_both_entries() {
    for entry in BOTH {
        let fx = sandbox(entry);
        let attempts = escapes(&fx);
        assert!(attempts.len() >= 15);
        for (op, args, path) in attempts {
            let err = fx.err(op, args.clone()).await;
            assert_denied(&err, op, &path);
        }
        let err = fx.err("op_stat", json!(["loop1"])).await;
        assert_eq!(err.code(), Some("ELOOP"));
        let err = fx
            .err("op_read_file", json!(["../outside/secret.txt"]))
            .await;
        assert_eq!(
            err.to_string(),
            "PermissionDenied: op_read_file: '../outside/secret.txt': read access denied: the path is outside the read roots"
        );
        assert_outside_untouched(&fx);
        assert_roots_in_place(&fx);
    }
}

/// A write root gives no read access, and a rename must not give it either: moving a
/// file or a directory out of a write-only root to where it can be read needs read
/// access to it. Renames inside the write-only root (write, then rename into place)
/// and into it still work.
#[tokio::test(flavor = "current_thread")]
async fn a_rename_does_not_bring_write_only_entries_into_view() {
    for entry in BOTH {
        let fx = sandbox(entry);
        fx.ok("op_write_text_file", json!(["../wo/upload", "private"]))
            .await;
        fx.ok("op_mkdir", json!(["../wo/dir"])).await;
        fx.ok("op_write_text_file", json!(["../wo/dir/f", "private"]))
            .await;
        let err = fx.err("op_rename", json!(["../wo/upload", "taken"])).await;
        assert_eq!(
            err.to_string(),
            "PermissionDenied: op_rename: '../wo/upload': read access denied: the destination 'taken' can be read, so the source must be readable too"
        );
        for (from, to) in [("../wo/dir", "a/dir"), ("../wo/dir/f", "a/f")] {
            let err = fx.err("op_rename", json!([from, to])).await;
            assert_denied(&err, "op_rename", from);
            let err = fx.err("op_read_file", json!([to])).await;
            assert_eq!(err.class(), ErrorClass::NotFound, "{to}: {err}");
        }
        assert_eq!(
            std::fs::read_to_string(fx.path("wo/dir/f")).unwrap(),
            "private"
        );

        fx.ok("op_rename", json!(["../wo/upload", "../wo/final"]))
            .await;
        fx.ok("op_rename", json!(["f", "../wo/f"])).await;
        assert_eq!(
            std::fs::read_to_string(fx.path("wo/final")).unwrap(),
            "private"
        );
        assert_eq!(std::fs::read_to_string(fx.path("wo/f")).unwrap(), "inside");
        assert_outside_untouched(&fx);
    }
}

/// A root that is missing when it is added, inside another root, is never opened:
/// the guest could put anything at its path. Neither a directory renamed there nor a
/// symlink to the outside makes anything readable through it.
#[tokio::test(flavor = "current_thread")]
async fn a_missing_root_inside_another_root_is_never_opened() {
    for entry in BOTH {
        let fx = Fixture::with_perms(entry, |t| {
            std::fs::create_dir_all(t.join("w/secret/inner")).unwrap();
            std::fs::create_dir_all(t.join("outside")).unwrap();
            std::fs::write(t.join("w/secret/inner/f"), "private").unwrap();
            std::fs::write(t.join("outside/f"), "outside").unwrap();
            FsPermissions::default()
                .allow_write(t.join("w"))
                .allow_read(t.join("w/pub/inner"))
                .allow_all(t.join("w/link"))
        });
        fx.ok("op_rename", json!(["w/secret", "w/pub"])).await;
        let err = fx.err("op_read_text_file", json!(["w/pub/inner/f"])).await;
        assert_eq!(err.class(), ErrorClass::NotFound, "{err}");
        let outside = t(&fx, "outside");
        fx.ok("op_symlink", json!([outside, "w/link"])).await;
        let err = fx.err("op_read_text_file", json!(["w/link/f"])).await;
        assert_eq!(err.class(), ErrorClass::NotFound, "{err}");
        // Writing goes through `w`, beneath which the symlink leads out.
        let err = fx
            .err("op_write_text_file", json!(["w/link/new", "x"]))
            .await;
        assert_denied(&err, "op_write_text_file", "w/link/new");
        assert!(!fx.path("outside/new").exists());
    }
}

/// A missing root named through a symlinked parent is resolved through its deepest
/// existing ancestor when it is added, so it is seen to lie inside the other root,
/// and never opened: neither a symlink the guest puts at its path nor a directory it
/// renames there gives access through it. Nor is it made by a recursive `mkdir`.
#[tokio::test(flavor = "current_thread")]
async fn a_missing_root_behind_a_symlinked_parent_is_sealed_too() {
    for entry in BOTH {
        let fx = Fixture::with_perms(entry, |t| {
            for dir in ["w/d", "outside", "r"] {
                std::fs::create_dir_all(t.join(dir)).unwrap();
            }
            std::fs::write(t.join("w/d/secret"), "private").unwrap();
            std::fs::write(t.join("outside/secret"), "outside").unwrap();
            symlink(t.join("w"), t.join("alias")).unwrap();
            FsPermissions::default()
                .allow_write(t.join("w"))
                .allow_all(t.join("alias/sub/outside"))
                .allow_read(t.join("alias/pub"))
                .allow_read(t.join("r"))
                .allow_write(t.join("r/new"))
        });
        let top = t(&fx, "");
        fx.ok("op_symlink", json!([top, "w/sub"])).await;
        let err = fx
            .err("op_read_text_file", json!(["alias/sub/outside/secret"]))
            .await;
        assert_eq!(err.class(), ErrorClass::NotFound, "{err}");
        let err = fx
            .err(
                "op_write_text_file",
                json!(["alias/sub/outside/planted", "x"]),
            )
            .await;
        assert_eq!(err.class(), ErrorClass::NotFound, "{err}");
        assert!(!fx.path("outside/planted").exists());
        fx.ok("op_rename", json!(["w/d", "w/pub"])).await;
        let err = fx
            .err("op_read_text_file", json!(["alias/pub/secret"]))
            .await;
        assert_eq!(err.class(), ErrorClass::NotFound, "{err}");
        let err = fx.err("op_mkdir", json!(["r/new/x", true])).await;
        assert_eq!(err.class(), ErrorClass::NotFound, "{err}");
        assert!(
            !fx.path("r/new").exists(),
            "nothing made in the read-only root"
        );
    }
}

/// A read root inside a write-only root: what the write-only part holds cannot be
/// renamed into the readable part, however the paths are spelled, and moving the read
/// root itself does not help either. Readability is decided by where the destination
/// directory is, by inode, not by its spelling.
#[tokio::test(flavor = "current_thread")]
async fn a_rename_into_a_nested_read_root_needs_read_access_however_spelled() {
    for entry in BOTH {
        let fx = Fixture::with_perms(entry, |t| {
            std::fs::create_dir_all(t.join("w/pub")).unwrap();
            std::fs::write(t.join("w/secret"), "private").unwrap();
            FsPermissions::default()
                .allow_write(t.join("w"))
                .allow_read(t.join("w/pub"))
        });
        fx.ok("op_mkdir", json!(["w/x"])).await;
        fx.ok("op_symlink", json!(["pub", "w/l"])).await;
        for (from, to) in [
            ("w/secret", "w/pub/leak"),
            ("w/pub/../secret", "w/pub/leak"),
            ("w/secret", "w/x/../pub/leak"),
            ("w/secret", "w/l/leak"),
        ] {
            let err = fx.err("op_rename", json!([from, to])).await;
            assert_denied(&err, "op_rename", from);
        }
        // The read root itself can be moved through the write root; what then lands in
        // it needs read access all the same.
        fx.ok("op_rename", json!(["w/pub", "w/moved"])).await;
        let err = fx
            .err("op_rename", json!(["w/secret", "w/moved/leak"]))
            .await;
        assert_denied(&err, "op_rename", "w/secret");
        let err = fx.err("op_read_text_file", json!(["w/pub/leak"])).await;
        assert_eq!(err.class(), ErrorClass::NotFound, "{err}");
        assert_eq!(
            std::fs::read_to_string(fx.path("w/secret")).unwrap(),
            "private"
        );
        // Renames that land outside the readable part need no read access.
        fx.ok("op_rename", json!(["w/secret", "w/x/kept"])).await;
    }
}

/// A root's own entry is in its parent directory, outside every root: the root cannot
/// be removed and then replaced by a symlink, nor renamed or replaced otherwise. What
/// it holds can, and `op_mkdir` of an existing root is still no error.
#[tokio::test(flavor = "current_thread")]
async fn a_root_itself_cannot_be_removed_renamed_or_replaced() {
    for entry in BOTH {
        let fx = sandbox(entry);
        let root = t(&fx, "root");
        let err = fx.err("op_remove", json!([".", true])).await;
        assert_eq!(
            err.to_string(),
            "PermissionDenied: op_remove: '.': write access denied: the path is a write root, which cannot itself be removed, renamed or replaced"
        );
        let err = fx.err("op_symlink", json!(["/etc", root])).await;
        assert_denied(&err, "op_symlink", &root);
        let err = fx.err("op_rename", json!(["a", root])).await;
        assert_denied(&err, "op_rename", &root);
        assert_roots_in_place(&fx);
        assert_eq!(
            fx.ok("op_read_text_file", json!([format!("{root}/f")]))
                .await,
            json!("inside")
        );

        fx.ok("op_mkdir", json!([".", true])).await;
        fx.ok("op_mkdir", json!(["../wo", true])).await;
        fx.ok("op_remove", json!(["a", true])).await;
        fx.ok("op_rename", json!(["f", "g"])).await;
        assert!(!fx.path("root/a").exists());
        assert!(fx.path("root/g").is_file());
        assert_outside_untouched(&fx);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_same_operations_inside_the_roots_are_allowed() {
    for entry in BOTH {
        let fx = sandbox(entry);
        let f = t(&fx, "root/f");
        assert_eq!(
            fx.ok("op_read_text_file", json!(["f"])).await,
            json!("inside")
        );
        assert_eq!(
            fx.ok("op_read_text_file", json!(["a/b/../../f"])).await,
            json!("inside")
        );
        // `..` inside a root is the kernel's: after a missing entry it is `NotFound`,
        // after a symlink it climbs out of the link's target.
        let err = fx.err("op_read_text_file", json!(["missing/../f"])).await;
        assert_eq!(
            (err.class(), err.code()),
            (ErrorClass::NotFound, Some("ENOENT"))
        );
        assert_eq!(
            fx.ok("op_read_text_file", json!(["in_link/../../f"])).await,
            json!("inside")
        );
        assert_eq!(
            fx.ok("op_read_text_file", json!([f])).await,
            json!("inside")
        );
        assert_eq!(
            fx.ok("op_read_text_file", json!(["../ro/file"])).await,
            json!("read only")
        );
        fx.ok("op_write_text_file", json!(["in_link/new.txt", "via link"]))
            .await;
        assert_eq!(
            std::fs::read_to_string(fx.path("root/a/b/new.txt")).unwrap(),
            "via link"
        );
        fx.ok("op_write_text_file", json!(["../wo/out.txt", "w"]))
            .await;
        assert_eq!(std::fs::read_to_string(fx.path("wo/out.txt")).unwrap(), "w");
        fx.ok("op_mkdir", json!(["../wo/d/e", true])).await;
        fx.ok("op_copy_file", json!(["../ro/file", "copied"])).await;
        assert_eq!(
            std::fs::read_to_string(fx.path("root/copied")).unwrap(),
            "read only"
        );
        fx.ok("op_rename", json!(["copied", "a/renamed"])).await;
        fx.ok("op_link", json!(["a/renamed", "a/hard"])).await;
        fx.ok("op_symlink", json!(["/etc/passwd", "a/dangerous"]))
            .await;
        assert_eq!(
            fx.ok("op_realpath", json!(["in_link"])).await,
            json!(t(&fx, "root/a/b"))
        );
        // Acting on a link itself stays inside even when its target does not.
        assert_eq!(
            fx.ok("op_read_link", json!(["out_file"])).await,
            json!(t(&fx, "outside/secret.txt"))
        );
        assert_eq!(
            fx.ok("op_lstat", json!(["out_dir"])).await["kind"],
            json!("symlink")
        );
        assert_eq!(
            fx.ok("op_lstat", json!(["loop1"])).await["kind"],
            json!("symlink")
        );
        fx.ok("op_rename", json!(["out_file", "out_file2"])).await;
        fx.ok("op_remove", json!(["out_file2"])).await;
        fx.ok("op_remove", json!(["out_dir"])).await;
        let err = fx.err("op_read_file", json!(["a/dangerous"])).await;
        assert_denied(&err, "op_read_file", "a/dangerous");
        let temp = fx.ok("op_make_temp_file", json!(["a"])).await;
        let listed = fx.ok("op_read_dir", json!(["a"])).await;
        let mut names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        let temp_name = temp.as_str().unwrap().trim_start_matches("a/");
        names.retain(|name| *name != temp_name);
        assert_eq!(names, ["b", "dangerous", "hard", "renamed"]);
        assert_outside_untouched(&fx);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn chdir_cannot_leave_the_read_roots() {
    let fx = sandbox(Entry::Sync);
    for path in ["..", "out_dir", "/", "../wo"] {
        let err = fx.sync("op_chdir", json!([path])).unwrap_err();
        assert_denied(&err, "op_chdir", path);
    }
    fx.sync("op_chdir", json!(["in_link"])).unwrap();
    assert_eq!(
        fx.sync("op_cwd", json!([])).unwrap(),
        json!(t(&fx, "root/a/b"))
    );
    fx.sync("op_chdir", json!(["../../../ro"])).unwrap();
    assert_eq!(
        fx.ok("op_read_text_file", json!(["file"])).await,
        json!("read only")
    );
}

/// A directory the runtime has `chdir`ed into is replaced by a symlink to the outside
/// after that check. Relative paths resolve through the runtime's cwd again on every
/// call, so the swap is seen and refused.
#[tokio::test(flavor = "current_thread")]
async fn a_symlink_swapped_in_after_a_check_is_refused() {
    for entry in BOTH {
        let fx = sandbox(entry);
        std::fs::write(fx.path("outside/here.txt"), "outside").unwrap();
        std::fs::create_dir(fx.path("root/work")).unwrap();
        std::fs::write(fx.path("root/work/here.txt"), "inside").unwrap();
        fx.sync("op_chdir", json!(["work"])).unwrap();
        assert_eq!(
            fx.ok("op_read_text_file", json!(["here.txt"])).await,
            json!("inside")
        );

        std::fs::rename(fx.path("root/work"), fx.path("root/old")).unwrap();
        symlink(fx.path("outside"), fx.path("root/work")).unwrap();
        let err = fx.err("op_read_text_file", json!(["here.txt"])).await;
        assert_denied(&err, "op_read_text_file", "here.txt");
        let err = fx.err("op_write_text_file", json!(["new.txt", "x"])).await;
        assert_denied(&err, "op_write_text_file", "new.txt");
        assert!(!fx.path("outside/new.txt").exists());
        std::fs::remove_file(fx.path("outside/here.txt")).unwrap();
        assert_outside_untouched(&fx);
    }
}

/// A rid keeps the file it was opened on: swapping its path for a symlink to the
/// outside afterwards does not redirect the rid (ops on a rid check nothing).
#[tokio::test(flavor = "current_thread")]
async fn an_open_rid_is_not_redirected_by_a_swap() {
    for entry in BOTH {
        let fx = sandbox(entry);
        let rid = fx.ok("op_open", json!(["f"])).await;
        std::fs::rename(fx.path("root/f"), fx.path("root/f.old")).unwrap();
        symlink(fx.path("outside/secret.txt"), fx.path("root/f")).unwrap();
        let (n, bufs) = fx
            .call_bufs("op_read", json!([rid]), vec![vec![0; 16]])
            .await;
        assert_eq!(&bufs[0][..n.unwrap().as_u64().unwrap() as usize], b"inside");
        let err = fx.err("op_open", json!(["f"])).await;
        assert_denied(&err, "op_open", "f");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn default_permissions_allow_nothing() {
    for entry in BOTH {
        let fx = Fixture::with_perms(entry, |_| FsPermissions::default());
        std::fs::write(fx.path("f"), "x").unwrap();
        for (op, args, path) in [
            ("op_stat", json!(["f"]), "f"),
            ("op_read_dir", json!(["."]), "."),
            ("op_write_text_file", json!(["g", "x"]), "g"),
            ("op_mkdir", json!(["d"]), "d"),
            ("op_remove", json!(["f"]), "f"),
        ] {
            let err = fx.err(op, args).await;
            assert_denied(&err, op, path);
        }
        assert_denied(&fx.sync("op_cwd", json!([])).unwrap_err(), "op_cwd", ".");
        assert_eq!(std::fs::read_dir(&fx.root).unwrap().count(), 1);
    }
}

/// A write root does not grant reading: `open` for read and write needs both.
#[tokio::test(flavor = "current_thread")]
async fn write_roots_do_not_grant_reading() {
    for entry in BOTH {
        let fx = Fixture::with_perms(entry, |root| FsPermissions::default().allow_write(root));
        fx.ok("op_write_text_file", json!(["w.txt", "x"])).await;
        let rid = fx.ok("op_open", json!(["w.txt", {"write": true}])).await;
        // A rid opened for writing tells nothing a stat would not: no metadata, no
        // size by seeking to the end. Writing and seeking from the start work.
        let err = fx.err("op_fstat", json!([rid])).await;
        assert_denied(&err, "op_fstat", "w.txt");
        let err = fx.err("op_seek", json!([rid, 0, 2])).await;
        assert_denied(&err, "op_seek", "w.txt");
        let err = fx.err("op_seek", json!([rid, 0, 1])).await;
        assert_denied(&err, "op_seek", "w.txt");
        assert_eq!(fx.ok("op_seek", json!([rid, 0, 0])).await, json!(0));
        let (written, _) = fx
            .call_bufs("op_write", json!([rid]), vec![b"y".to_vec()])
            .await;
        assert_eq!(written.unwrap(), json!(1));
        let err = fx
            .err("op_open", json!(["w.txt", {"read": true, "write": true}]))
            .await;
        assert_denied(&err, "op_open", "w.txt");
        let err = fx
            .err("op_open", json!(["w.txt", {"read": true, "write": true}]))
            .await;
        assert_denied(&err, "op_open", "w.txt");
        let err = fx.err("op_read_file", json!(["w.txt"])).await;
        assert_denied(&err, "op_read_file", "w.txt");
        assert_eq!(std::fs::read_to_string(fx.path("w.txt")).unwrap(), "y");
    }
}

/// A root may be a single file: it is read, stat'ed and resolved as itself, and has
/// nothing below it.
#[tokio::test(flavor = "current_thread")]
async fn a_file_can_be_a_root() {
    for entry in BOTH {
        let fx = Fixture::with_perms(entry, |t| {
            std::fs::write(t.join("hosts"), "127.0.0.1 localhost").unwrap();
            FsPermissions::default().allow_read(t.join("hosts"))
        });
        let hosts = t(&fx, "hosts");
        assert_eq!(
            fx.ok("op_read_text_file", json!([hosts])).await,
            json!("127.0.0.1 localhost")
        );
        assert_eq!(fx.ok("op_stat", json!([hosts])).await["size"], json!(19));
        assert_eq!(fx.ok("op_realpath", json!([hosts])).await, json!(hosts));
        let err = fx.err("op_stat", json!([format!("{hosts}/x")])).await;
        assert_eq!(err.class(), ErrorClass::NotADirectory, "{err}");
        let err = fx.err("op_write_text_file", json!([hosts, "x"])).await;
        assert_denied(&err, "op_write_text_file", &hosts);
    }
}

/// A root named through a symlink stands for its target, resolved when added.
#[tokio::test(flavor = "current_thread")]
async fn roots_are_resolved_when_added() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    std::fs::create_dir(base.join("real")).unwrap();
    std::fs::write(base.join("real/f"), "real").unwrap();
    symlink("real", base.join("alias")).unwrap();
    let perms = FsPermissions::default().allow_read(base.join("alias"));
    assert_eq!(perms.read_roots(), [base.join("real")]);
    let ctx = FsContext::new(perms).with_cwd(Path::new(&base));
    let rt = opkit::Runtime::new([opkit_fs::extension_with(ctx)]).unwrap();
    for entry in BOTH {
        let (out, _) =
            common::call(&rt, entry, "op_read_text_file", json!(["alias/f"]), vec![]).await;
        assert_eq!(out.unwrap(), json!("real"));
        let (out, _) =
            common::call(&rt, entry, "op_read_text_file", json!(["real/f"]), vec![]).await;
        assert_eq!(out.unwrap(), json!("real"));
    }
}

/// A recursive mkdir into a write root that does not exist yet creates the root but
/// not its missing parents, which are outside every root.
#[tokio::test(flavor = "current_thread")]
async fn recursive_mkdir_creates_nothing_above_a_write_root() {
    for entry in BOTH {
        let fx = Fixture::with_perms(entry, |t| {
            FsPermissions::default()
                .allow_write(t.join("up/root"))
                .allow_write(t.join("exists/root"))
        });
        std::fs::create_dir(fx.path("exists")).unwrap();
        let err = fx.err("op_mkdir", json!(["up/root/d", true])).await;
        assert_eq!(
            err.to_string(),
            "PermissionDenied: op_mkdir: 'up/root/d': write access denied: a missing parent is outside the write roots"
        );
        assert!(!fx.path("up").exists());
        fx.ok("op_mkdir", json!(["exists/root/d/e", true])).await;
        assert!(fx.path("exists/root/d/e").is_dir());
    }
}
