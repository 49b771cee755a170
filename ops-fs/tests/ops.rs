//! Every op on a real temp dir, through both entries where it has both, asserting on
//! contents and metadata.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use common::{BOTH, Fixture};
use serde_json::{Value, json};

fn mode_of(path: &std::path::Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

fn rid(value: &Value) -> u64 {
    value.as_u64().unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn open_write_seek_read_and_close_a_file() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        let file = fx
            .ok(
                "op_open",
                json!(["a.txt", {"read": true, "write": true, "create": true, "mode": 0o640}]),
            )
            .await;
        let file = rid(&file);
        let (written, bufs) = fx
            .call_bufs("op_write", json!([file]), vec![b"hello world".to_vec()])
            .await;
        assert_eq!(written.unwrap(), json!(11));
        assert_eq!(bufs, [b"hello world".to_vec()], "the buffer comes back");
        assert_eq!(
            std::fs::read(fx.path("a.txt")).unwrap(),
            b"hello world",
            "{entry:?}"
        );
        assert_eq!(mode_of(&fx.path("a.txt")), 0o640);

        assert_eq!(fx.ok("op_seek", json!([file, 6, 0])).await, json!(6));
        let (read, bufs) = fx
            .call_bufs("op_read", json!([file]), vec![vec![0; 8]])
            .await;
        assert_eq!(read.unwrap(), json!(5));
        assert_eq!(&bufs[0][..5], b"world");
        let (read, _) = fx
            .call_bufs("op_read", json!([file]), vec![vec![0; 8]])
            .await;
        assert_eq!(read.unwrap(), json!(0), "end of file");
        assert_eq!(fx.ok("op_seek", json!([file, -5, 2])).await, json!(6));
        assert_eq!(fx.ok("op_seek", json!([file, -1, 1])).await, json!(5));
        assert_eq!(
            fx.ok("op_seek", json!({"rid": file, "offset": 0, "whence": 0}))
                .await,
            json!(0)
        );

        let stat = fx.ok("op_fstat", json!([file])).await;
        assert_eq!(stat["size"], json!(11));
        assert_eq!(stat["kind"], json!("file"));
        assert_eq!(stat["mode"], json!(0o640));
        let ino = std::fs::metadata(fx.path("a.txt")).unwrap().ino();
        assert_eq!(stat["ino"], json!(ino));

        fx.ok("op_ftruncate", json!([file, 5])).await;
        assert_eq!(std::fs::read(fx.path("a.txt")).unwrap(), b"hello");
        fx.ok("op_fsync", json!([file])).await;
        fx.ok("op_fdatasync", json!([file])).await;
        fx.ok("op_futime", json!([file, 1_000_000.5, 2_000_000_000_123.0]))
            .await;
        let meta = std::fs::metadata(fx.path("a.txt")).unwrap();
        assert_eq!((meta.atime(), meta.atime_nsec()), (1_000, 500_000));
        assert_eq!(
            (meta.mtime(), meta.mtime_nsec()),
            (2_000_000_000, 123_000_000)
        );
        fx.ok("op_ftruncate", json!([file])).await;
        assert_eq!(std::fs::metadata(fx.path("a.txt")).unwrap().len(), 0);

        let listed = fx.sync("op_resources", json!([])).unwrap();
        assert_eq!(listed, json!([{"rid": file, "name": "fsFile"}]));
        fx.sync("op_close", json!([file])).unwrap();
        assert_eq!(fx.sync("op_resources", json!([])).unwrap(), json!([]));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn open_options_append_truncate_and_create_new() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::write(fx.path("log"), "one\n").unwrap();
        let file = fx.ok("op_open", json!(["log", {"append": true}])).await;
        let (n, _) = fx
            .call_bufs("op_write", json!([file]), vec![b"two\n".to_vec()])
            .await;
        assert_eq!(n.unwrap(), json!(4));
        assert_eq!(
            std::fs::read_to_string(fx.path("log")).unwrap(),
            "one\ntwo\n"
        );

        let file = fx
            .ok("op_open", json!(["log", {"write": true, "truncate": true}]))
            .await;
        assert_eq!(std::fs::read_to_string(fx.path("log")).unwrap(), "");
        let (_, _) = fx
            .call_bufs("op_write", json!([file]), vec![b"x".to_vec()])
            .await;
        assert_eq!(std::fs::read_to_string(fx.path("log")).unwrap(), "x");

        // Without options: read only.
        let file = fx.ok("op_open", json!(["log"])).await;
        let (n, bufs) = fx
            .call_bufs("op_read", json!([file]), vec![vec![0; 4]])
            .await;
        assert_eq!((n.unwrap(), &bufs[0][..1]), (json!(1), &b"x"[..]));
        let err = fx
            .call_bufs("op_write", json!([file]), vec![b"y".to_vec()])
            .await
            .0
            .unwrap_err();
        assert_eq!(err.code(), Some("EBADF"), "{err}");

        fx.ok(
            "op_open",
            json!(["new", {"write": true, "create_new": true, "mode": 0o777}]),
        )
        .await;
        assert_eq!(mode_of(&fx.path("new")), 0o755, "umask 022 applied");
        // `create` on an existing file keeps its mode.
        std::fs::set_permissions(fx.path("log"), std::fs::Permissions::from_mode(0o604)).unwrap();
        fx.ok("op_open", json!(["log", {"write": true, "create": true}]))
            .await;
        assert_eq!(mode_of(&fx.path("log")), 0o604);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn stat_and_lstat_describe_files_dirs_and_symlinks() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::write(fx.path("f"), "12345").unwrap();
        std::fs::set_permissions(fx.path("f"), std::fs::Permissions::from_mode(0o604)).unwrap();
        std::fs::create_dir(fx.path("d")).unwrap();
        std::os::unix::fs::symlink("f", fx.path("link")).unwrap();
        let meta = std::fs::metadata(fx.path("f")).unwrap();

        let stat = fx.ok("op_stat", json!(["f"])).await;
        assert_eq!(stat["kind"], json!("file"));
        assert_eq!(
            (
                stat["is_file"].clone(),
                stat["is_dir"].clone(),
                stat["is_symlink"].clone()
            ),
            (json!(true), json!(false), json!(false))
        );
        assert_eq!(stat["size"], json!(5));
        assert_eq!(stat["mode"], json!(0o604));
        assert_eq!(stat["dev"], json!(meta.dev()));
        assert_eq!(stat["ino"], json!(meta.ino()));
        assert_eq!(stat["nlink"], json!(1));
        assert_eq!(stat["uid"], json!(meta.uid()));
        assert_eq!(stat["gid"], json!(meta.gid()));
        let mtime_ms = meta.mtime() as f64 * 1000.0 + meta.mtime_nsec() as f64 / 1e6;
        // serde_json parses floats to within one ulp.
        assert!(
            (stat["mtime"].as_f64().unwrap() - mtime_ms).abs() < 1e-3,
            "{stat}"
        );
        assert!(stat["atime"].is_number() && stat["ctime"].is_number());
        assert!(stat["birthtime"].is_number() || stat["birthtime"].is_null());

        let via_link = fx.ok("op_stat", json!(["link"])).await;
        assert_eq!(via_link["ino"], json!(meta.ino()), "stat follows the link");
        let link = fx.ok("op_lstat", json!(["link"])).await;
        assert_eq!(link["kind"], json!("symlink"));
        assert_eq!(link["is_symlink"], json!(true));
        assert_eq!(link["size"], json!(1), "the target's length");
        assert_ne!(link["ino"], json!(meta.ino()));

        let dir = fx.ok("op_stat", json!([fx.path("d")])).await;
        assert_eq!(
            (dir["kind"].clone(), dir["is_dir"].clone()),
            (json!("dir"), json!(true))
        );
        let file = fx.ok("op_lstat", json!(["f"])).await;
        assert_eq!(file, stat);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn exists_answers_true_and_false() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::write(fx.path("f"), "").unwrap();
        assert_eq!(fx.ok("op_exists", json!(["f"])).await, json!(true));
        assert_eq!(fx.ok("op_exists", json!(["."])).await, json!(true));
        assert_eq!(fx.ok("op_exists", json!(["nope"])).await, json!(false));
        assert_eq!(
            fx.ok("op_exists", json!(["f/under-a-file"])).await,
            json!(false)
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn mkdir_plain_recursive_and_with_mode() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        fx.ok("op_mkdir", json!(["a"])).await;
        assert!(fx.path("a").is_dir());
        assert_eq!(mode_of(&fx.path("a")), 0o755, "0o777 less the umask");
        fx.ok(
            "op_mkdir",
            json!({"path": "a/b/c/d", "recursive": true, "mode": 0o750}),
        )
        .await;
        assert!(fx.path("a/b/c/d").is_dir());
        for made in ["a/b", "a/b/c", "a/b/c/d"] {
            assert_eq!(mode_of(&fx.path(made)), 0o750, "{made}");
        }
        // Recursive over an existing directory is no error.
        fx.ok("op_mkdir", json!(["a/b", true])).await;
        fx.ok("op_mkdir", json!(["e", false, 0o700])).await;
        assert_eq!(mode_of(&fx.path("e")), 0o700);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn chmod_chown_utime_and_truncate_change_metadata() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::write(fx.path("f"), "0123456789").unwrap();
        fx.ok("op_chmod", json!(["f", 0o600])).await;
        assert_eq!(mode_of(&fx.path("f")), 0o600);
        fx.ok("op_chmod", json!(["f", 0o1755])).await;
        assert_eq!(mode_of(&fx.path("f")), 0o1755, "the sticky bit kept");
        // Setuid and setgid are not a guest's to give, here nor on a new file.
        for mode in [0o4755, 0o2755] {
            let err = fx.err("op_chmod", json!(["f", mode])).await;
            assert!(
                err.message().contains("setuid and setgid are refused"),
                "{err}"
            );
            let err = fx
                .err(
                    "op_write_text_file",
                    json!({"path": "g", "text": "", "mode": mode}),
                )
                .await;
            assert!(
                err.message().contains("setuid and setgid are refused"),
                "{err}"
            );
        }
        std::fs::set_permissions(fx.path("f"), std::fs::Permissions::from_mode(0o4755)).unwrap();
        fx.ok("op_copy_file", json!(["f", "copy"])).await;
        assert_eq!(
            mode_of(&fx.path("copy")),
            0o755,
            "setuid dropped from a copy"
        );
        assert_eq!(mode_of(&fx.path("f")), 0o4755);

        let uid = std::fs::metadata(fx.path("f")).unwrap().uid();
        // The tests run as root, which can give a file away; anyone can chown to
        // their own ids.
        let (new_uid, new_gid) = if uid == 0 {
            (1234, 5678)
        } else {
            (uid, std::fs::metadata(fx.path("f")).unwrap().gid())
        };
        fx.ok("op_chown", json!(["f", new_uid, new_gid])).await;
        let meta = std::fs::metadata(fx.path("f")).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (new_uid, new_gid));
        fx.ok("op_chown", json!({"path": "f", "gid": new_gid}))
            .await;
        assert_eq!(
            std::fs::metadata(fx.path("f")).unwrap().uid(),
            new_uid,
            "uid kept"
        );

        fx.ok("op_utime", json!(["f", 1_500.25, -2_000.0])).await;
        let meta = std::fs::metadata(fx.path("f")).unwrap();
        assert_eq!((meta.atime(), meta.atime_nsec()), (1, 500_250_000));
        assert_eq!((meta.mtime(), meta.mtime_nsec()), (-2, 0));
        let stat = fx.ok("op_stat", json!(["f"])).await;
        assert_eq!(stat["atime"], json!(1_500.25));
        assert_eq!(stat["mtime"], json!(-2_000.0));

        fx.ok("op_truncate", json!(["f", 4])).await;
        assert_eq!(std::fs::read(fx.path("f")).unwrap(), b"0123");
        fx.ok("op_truncate", json!(["f", 6])).await;
        assert_eq!(std::fs::read(fx.path("f")).unwrap(), b"0123\0\0");
        fx.ok("op_truncate", json!(["f"])).await;
        assert_eq!(std::fs::read(fx.path("f")).unwrap(), b"");
    }
}

/// `op_copy_file` gives the copy exactly the source's permission bits, as Deno's and
/// Node's `copyFile` do: unlike what the other ops create, the runtime's umask does
/// not apply, whether the copy is new or replaces a file.
#[tokio::test(flavor = "current_thread")]
async fn copy_file_keeps_the_source_mode_whatever_the_umask() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        fx.sync("op_umask", json!([0o077])).unwrap();
        std::fs::write(fx.path("src"), "x").unwrap();
        std::fs::set_permissions(fx.path("src"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(fx.path("old"), "").unwrap();
        std::fs::set_permissions(fx.path("old"), std::fs::Permissions::from_mode(0o600)).unwrap();
        fx.ok("op_copy_file", json!(["src", "new"])).await;
        fx.ok("op_copy_file", json!(["src", "old"])).await;
        assert_eq!(mode_of(&fx.path("new")), 0o755);
        assert_eq!(mode_of(&fx.path("old")), 0o755);
        fx.ok(
            "op_write_text_file",
            json!(["made", "x", null, null, null, 0o755]),
        )
        .await;
        assert_eq!(mode_of(&fx.path("made")), 0o700, "a created file gets it");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn copy_rename_and_remove() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::write(fx.path("src"), "payload").unwrap();
        std::fs::set_permissions(fx.path("src"), std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(fx.ok("op_copy_file", json!(["src", "dst"])).await, json!(7));
        assert_eq!(std::fs::read_to_string(fx.path("dst")).unwrap(), "payload");
        assert_eq!(mode_of(&fx.path("dst")), 0o640, "permissions copied");

        fx.ok("op_rename", json!(["dst", "moved"])).await;
        assert!(!fx.path("dst").exists());
        assert_eq!(
            std::fs::read_to_string(fx.path("moved")).unwrap(),
            "payload"
        );
        std::fs::create_dir(fx.path("dir")).unwrap();
        fx.ok("op_rename", json!({"from": "moved", "to": "dir/inside"}))
            .await;
        assert!(fx.path("dir/inside").is_file());

        // A symlink is renamed itself, and removed itself.
        std::os::unix::fs::symlink("src", fx.path("link")).unwrap();
        fx.ok("op_rename", json!(["link", "link2"])).await;
        assert_eq!(
            std::fs::read_link(fx.path("link2")).unwrap().to_str(),
            Some("src")
        );
        fx.ok("op_remove", json!(["link2"])).await;
        assert!(fx.path("src").is_file(), "the target stays");
        assert!(std::fs::symlink_metadata(fx.path("link2")).is_err());

        fx.ok("op_remove", json!(["src"])).await;
        assert!(!fx.path("src").exists());
        std::fs::create_dir(fx.path("empty")).unwrap();
        fx.ok("op_remove", json!(["empty"])).await;
        assert!(!fx.path("empty").exists());
        std::fs::create_dir_all(fx.path("tree/a/b")).unwrap();
        std::fs::write(fx.path("tree/a/b/f"), "x").unwrap();
        fx.ok("op_remove", json!(["tree", true])).await;
        assert!(!fx.path("tree").exists());
    }
}

#[tokio::test(flavor = "current_thread")]
async fn read_dir_lists_names_and_kinds_sorted() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::create_dir(fx.path("d")).unwrap();
        std::fs::write(fx.path("d/b.txt"), "").unwrap();
        std::fs::create_dir(fx.path("d/a")).unwrap();
        std::os::unix::fs::symlink("b.txt", fx.path("d/c")).unwrap();
        let listed = fx.ok("op_read_dir", json!(["d"])).await;
        assert_eq!(
            listed,
            json!([
                {"name": "a", "is_file": false, "is_dir": true, "is_symlink": false},
                {"name": "b.txt", "is_file": true, "is_dir": false, "is_symlink": false},
                {"name": "c", "is_file": false, "is_dir": false, "is_symlink": true},
            ])
        );
        assert_eq!(fx.ok("op_read_dir", json!(["d/a"])).await, json!([]));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn link_symlink_read_link_and_realpath() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::create_dir(fx.path("d")).unwrap();
        std::fs::write(fx.path("d/f"), "shared").unwrap();
        fx.ok("op_link", json!(["d/f", "hard"])).await;
        let (a, b) = (
            std::fs::metadata(fx.path("d/f")).unwrap(),
            std::fs::metadata(fx.path("hard")).unwrap(),
        );
        assert_eq!((a.ino(), a.nlink()), (b.ino(), 2));
        let stat = fx.ok("op_stat", json!(["hard"])).await;
        assert_eq!(stat["nlink"], json!(2));

        fx.ok("op_symlink", json!(["d/f", "soft"])).await;
        assert_eq!(std::fs::read_to_string(fx.path("soft")).unwrap(), "shared");
        assert_eq!(fx.ok("op_read_link", json!(["soft"])).await, json!("d/f"));
        fx.ok("op_symlink", json!({"target": "d", "path": "dirlink"}))
            .await;

        let real = fx.ok("op_realpath", json!(["dirlink/../soft"])).await;
        assert_eq!(real, json!(fx.path("d/f").to_str().unwrap()));
        let real = fx.ok("op_realpath", json!(["./d/./f"])).await;
        assert_eq!(real, json!(fx.path("d/f").to_str().unwrap()));
        assert_eq!(
            fx.ok("op_realpath", json!(["."])).await,
            json!(fx.root.to_str().unwrap())
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn make_temp_dir_and_file() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::create_dir(fx.path("tmp")).unwrap();
        let dir = fx
            .ok("op_make_temp_dir", json!(["tmp", "pre-", ".d"]))
            .await;
        let dir = dir.as_str().unwrap();
        assert!(dir.starts_with("tmp/pre-") && dir.ends_with(".d"), "{dir}");
        assert!(fx.path(dir).is_dir());
        assert_eq!(mode_of(&fx.path(dir)), 0o700);
        assert_eq!(std::fs::read_dir(fx.path(dir)).unwrap().count(), 0);

        let file = fx
            .ok("op_make_temp_file", json!({"dir": "tmp", "suffix": ".txt"}))
            .await;
        let file = file.as_str().unwrap();
        assert!(file.starts_with("tmp/") && file.ends_with(".txt"), "{file}");
        assert_eq!(std::fs::read(fx.path(file)).unwrap(), b"");
        assert_eq!(mode_of(&fx.path(file)), 0o600);

        let other = fx.ok("op_make_temp_file", json!(["tmp"])).await;
        assert_ne!(other.as_str().unwrap(), file, "unique names");
        // The default directory is the system's, outside this runtime's roots.
        let err = fx.err("op_make_temp_dir", json!([])).await;
        assert_eq!(err.class(), opkit::ErrorClass::PermissionDenied);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn read_and_write_whole_files() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        let (out, bufs) = fx
            .call_bufs("op_write_file", json!(["bin"]), vec![vec![0, 1, 2, 255]])
            .await;
        assert_eq!(out.unwrap(), Value::Null);
        assert_eq!(bufs, [vec![0, 1, 2, 255]]);
        assert_eq!(std::fs::read(fx.path("bin")).unwrap(), [0, 1, 2, 255]);
        assert_eq!(mode_of(&fx.path("bin")), 0o644);
        assert_eq!(
            fx.ok("op_read_file", json!(["bin"])).await,
            json!([0, 1, 2, 255])
        );

        let (out, _) = fx
            .call_bufs(
                "op_write_file",
                json!({"path": "bin", "append": true}),
                vec![vec![7, 8]],
            )
            .await;
        out.unwrap();
        assert_eq!(std::fs::read(fx.path("bin")).unwrap(), [0, 1, 2, 255, 7, 8]);

        // Replacing truncates.
        fx.call_bufs("op_write_file", json!(["bin"]), vec![vec![9]])
            .await
            .0
            .unwrap();
        assert_eq!(std::fs::read(fx.path("bin")).unwrap(), [9]);

        fx.call_bufs(
            "op_write_file",
            json!({"path": "private", "mode": 0o600, "create_new": true}),
            vec![b"s".to_vec()],
        )
        .await
        .0
        .unwrap();
        assert_eq!(mode_of(&fx.path("private")), 0o600);

        fx.ok("op_write_text_file", json!(["t.txt", "héllo\n"]))
            .await;
        fx.ok("op_write_text_file", json!(["t.txt", "more", true]))
            .await;
        assert_eq!(
            std::fs::read_to_string(fx.path("t.txt")).unwrap(),
            "héllo\nmore"
        );
        assert_eq!(
            fx.ok("op_read_text_file", json!(["t.txt"])).await,
            json!("héllo\nmore")
        );
        assert_eq!(
            fx.ok("op_read_file", json!(["t.txt"]))
                .await
                .as_array()
                .unwrap()
                .len(),
            11
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn cwd_chdir_and_umask_belong_to_the_runtime() {
    let fx = Fixture::new(common::Entry::Sync);
    let process_cwd = std::env::current_dir().unwrap();
    assert_eq!(
        fx.sync("op_cwd", json!([])).unwrap(),
        json!(fx.root.to_str().unwrap())
    );
    std::fs::create_dir_all(fx.path("a/b")).unwrap();
    std::fs::write(fx.path("a/b/f"), "in b").unwrap();
    fx.sync("op_chdir", json!(["a/b"])).unwrap();
    assert_eq!(
        fx.sync("op_cwd", json!([])).unwrap(),
        json!(fx.path("a/b").to_str().unwrap())
    );
    assert_eq!(
        std::env::current_dir().unwrap(),
        process_cwd,
        "the process stays"
    );
    // Relative paths now start at a/b, through both entries.
    assert_eq!(
        fx.ok("op_read_text_file", json!(["f"])).await,
        json!("in b")
    );
    let out = fx
        .rt
        .call_async("op_read_text_file_async", br#"["f"]"#, vec![])
        .await;
    assert_eq!(out.result.unwrap(), br#""in b""#);
    fx.sync("op_chdir", json!([".."])).unwrap();
    assert_eq!(
        fx.sync("op_cwd", json!([])).unwrap(),
        json!(fx.path("a").to_str().unwrap())
    );

    let process_umask_before = std::fs::read_to_string("/proc/self/status").unwrap();
    assert_eq!(fx.sync("op_umask", json!([])).unwrap(), json!(0o022));
    assert_eq!(fx.sync("op_umask", json!([0o077])).unwrap(), json!(0o022));
    assert_eq!(fx.sync("op_umask", json!([])).unwrap(), json!(0o077));
    fx.ok("op_mkdir", json!(["private"])).await;
    assert_eq!(mode_of(&fx.path("a/private")), 0o700);
    let out = fx
        .rt
        .call_async("op_write_text_file_async", br#"["p.txt", "x"]"#, vec![])
        .await;
    out.result.unwrap();
    assert_eq!(mode_of(&fx.path("a/p.txt")), 0o600);
    let umask_line = |status: &str| {
        status
            .lines()
            .find(|l| l.starts_with("Umask:"))
            .map(str::to_owned)
    };
    assert_eq!(
        umask_line(&std::fs::read_to_string("/proc/self/status").unwrap()),
        umask_line(&process_umask_before),
        "the process's umask stays"
    );

    // Another runtime on the same table has its own cwd and umask.
    let other = opkit::Runtime::with_table(fx.rt.table().clone());
    let out = other.call_sync("op_umask_sync", b"[]", &mut []).unwrap();
    assert_eq!(out, b"18", "0o022 as the extension set it, not 0o077");
    let out = other.call_sync("op_cwd_sync", b"[]", &mut []).unwrap();
    assert_eq!(out, json!(fx.root.to_str().unwrap()).to_string().as_bytes());
}

/// A sparse file stays sparse: its holes are not written as zeros. Copying a file onto
/// itself is refused before anything is truncated.
#[tokio::test(flavor = "current_thread")]
async fn copy_file_keeps_holes_and_refuses_a_copy_onto_itself() {
    use std::os::unix::fs::{FileExt, MetadataExt};
    for entry in BOTH {
        let fx = Fixture::new(entry);
        let sparse = std::fs::File::create(fx.path("sparse")).unwrap();
        sparse.set_len(32 << 20).unwrap();
        sparse.write_all_at(b"head", 0).unwrap();
        sparse.write_all_at(b"middle", 16 << 20).unwrap();
        drop(sparse);
        let copied = fx.ok("op_copy_file", json!(["sparse", "copy"])).await;
        assert_eq!(copied, json!(32 << 20));
        let (from, to) = (fx.path("sparse"), fx.path("copy"));
        assert_eq!(std::fs::read(&from).unwrap(), std::fs::read(&to).unwrap());
        let (source, copy) = (from.metadata().unwrap(), to.metadata().unwrap());
        assert_eq!(copy.len(), 32 << 20);
        // 512-byte blocks: two data extents, nowhere near the 65,536 of a full copy.
        assert!(
            copy.blocks() <= source.blocks().max(64),
            "the copy has {} blocks, the source {}",
            copy.blocks(),
            source.blocks()
        );

        let err = fx.err("op_copy_file", json!(["copy", "./copy"])).await;
        assert_eq!(err.class(), opkit::ErrorClass::TypeError, "{err}");
        assert!(err.message().contains("the same file"), "{err}");
        assert_eq!(
            to.metadata().unwrap().len(),
            32 << 20,
            "nothing was truncated"
        );
    }
}

/// A symlink whose target is absolute is refused when followed, even into its own
/// root: it is resolved beneath the root, where an absolute target has no meaning. A
/// relative target to the same file works, and the link itself can be read.
#[tokio::test(flavor = "current_thread")]
async fn symlinks_with_absolute_targets_are_refused_when_followed() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::write(fx.path("f"), "inside").unwrap();
        let absolute = fx.path("f").to_str().unwrap().to_owned();
        fx.ok("op_symlink", json!([absolute, "abs"])).await;
        fx.ok("op_symlink", json!(["f", "rel"])).await;
        let err = fx.err("op_read_text_file", json!(["abs"])).await;
        assert_eq!(err.class(), opkit::ErrorClass::PermissionDenied, "{err}");
        assert_eq!(
            err.message(),
            "'abs': read access denied: the path leads outside its read root through '..' or a symlink"
        );
        assert_eq!(
            fx.ok("op_read_text_file", json!(["rel"])).await,
            json!("inside")
        );
        assert_eq!(fx.ok("op_read_link", json!(["abs"])).await, json!(absolute));
        assert_eq!(
            fx.ok("op_lstat", json!(["abs"])).await["kind"],
            json!("symlink")
        );
    }
}

/// A recursive remove walks by handle and stops at a depth a guest cannot use to
/// exhaust the host's descriptors; what is left can be removed in parts.
#[tokio::test(flavor = "current_thread")]
async fn recursive_remove_is_bounded_in_depth() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        let deep = std::iter::repeat_n("d", 300).collect::<Vec<_>>().join("/");
        fx.ok("op_mkdir", json!([deep, true])).await;
        let err = fx.err("op_remove", json!(["d", true])).await;
        assert!(err.message().contains("deeper than 256 levels"), "{err}");
        let half = std::iter::repeat_n("d", 150).collect::<Vec<_>>().join("/");
        fx.ok("op_remove", json!([half, true])).await;
        fx.ok("op_remove", json!(["d", true])).await;
        assert!(!fx.path("d").exists());
    }
}

/// A path that ends in `/` or `/.` names a directory, with either resolver: a file
/// there is `ENOTDIR`, a new file cannot be made there, and a symlink there is
/// followed rather than removed.
#[tokio::test(flavor = "current_thread")]
async fn a_trailing_slash_names_a_directory() {
    use opkit::ErrorClass;
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::write(fx.path("f"), "file").unwrap();
        std::fs::create_dir(fx.path("d")).unwrap();
        std::os::unix::fs::symlink("d", fx.path("l")).unwrap();
        for (op, args) in [
            ("op_read_text_file", json!(["f/"])),
            ("op_read_text_file", json!(["f/."])),
            ("op_stat", json!(["f/"])),
            ("op_remove", json!(["f/"])),
            ("op_remove", json!(["l/"])),
            ("op_realpath", json!(["f/"])),
            ("op_rename", json!(["f", "g/"])),
        ] {
            let err = fx.err(op, args.clone()).await;
            assert_eq!(err.code(), Some("ENOTDIR"), "{op}({args}): {err}");
        }
        let err = fx.err("op_write_text_file", json!(["new/", "x"])).await;
        assert_eq!(err.class(), ErrorClass::IsADirectory, "{err}");
        assert!(!fx.path("new").exists());
        for (op, args) in [
            ("op_symlink", json!(["d", "s/"])),
            ("op_link", json!(["f", "h/"])),
        ] {
            let err = fx.err(op, args.clone()).await;
            assert_eq!(err.code(), Some("ENOENT"), "{op}({args}): {err}");
        }
        assert!(!fx.path("s").exists() && !fx.path("h").exists() && !fx.path("g").exists());
        let rid = fx.ok("op_open", json!(["d/"])).await;
        fx.sync("op_close", json!([rid])).unwrap();
        assert_eq!(fx.ok("op_lstat", json!(["l/"])).await["kind"], json!("dir"));
        assert_eq!(fx.ok("op_stat", json!(["d/."])).await["kind"], json!("dir"));
        fx.ok("op_mkdir", json!(["e/"])).await;
        fx.ok("op_remove", json!(["e/"])).await;
        assert!(fx.path("l").is_symlink() && fx.path("f").is_file());
    }
}

/// A whole-file read takes at most the context's limit: a sparse file that costs
/// nothing to make is refused, not read into memory, and a rid reads it in parts.
#[tokio::test(flavor = "current_thread")]
async fn whole_file_reads_are_bounded() {
    use opkit::ErrorClass;
    for entry in BOTH {
        let fx = Fixture::new(entry);
        fx.ok("op_write_text_file", json!(["small", "12345678"]))
            .await;
        fx.ok("op_write_text_file", json!(["huge", ""])).await;
        fx.ok(
            "op_truncate",
            json!(["huge", opkit_fs::DEFAULT_MAX_READ + 1]),
        )
        .await;
        let err = fx.err("op_read_file", json!(["huge"])).await;
        assert_eq!(
            (err.class(), err.message()),
            (
                ErrorClass::ResourceExhausted,
                "'huge': the file is larger than the 268435456 bytes a whole-file read may take; open it and read it in parts"
            )
        );
        assert_eq!(
            fx.ok("op_read_text_file", json!(["small"])).await,
            json!("12345678")
        );
        let rid = fx.ok("op_open", json!(["huge"])).await;
        let (read, bufs) = fx
            .call_bufs("op_read", json!([rid]), vec![vec![1; 4]])
            .await;
        assert_eq!((read.unwrap(), &bufs[0][..]), (json!(4), &[0; 4][..]));
    }
}

/// A walk by hand spends a bounded number of opens: a `..` costs the depth it climbs
/// from, so a symlink of many `..` deep in a tree is refused (`ELOOP`) rather than
/// walked for seconds.
#[tokio::test(flavor = "current_thread")]
async fn a_walk_is_bounded_in_work() {
    use opkit::ErrorClass;
    for entry in BOTH {
        let fx = Fixture::new(entry);
        let deep = vec!["a"; 200].join("/");
        std::fs::create_dir_all(fx.path(&format!("{deep}/x"))).unwrap();
        let climbs = "x/../".repeat(40);
        std::os::unix::fs::symlink(format!("{climbs}x"), fx.path(&format!("{deep}/l"))).unwrap();
        let err = fx.err("op_realpath", json!([format!("{deep}/l")])).await;
        assert_eq!(
            (err.class(), err.code()),
            (ErrorClass::PermissionDenied, Some("ELOOP")),
            "{err}"
        );
        // The same link with a few climbs resolves.
        std::fs::remove_file(fx.path(&format!("{deep}/l"))).unwrap();
        std::os::unix::fs::symlink("x/../x", fx.path(&format!("{deep}/l"))).unwrap();
        let real = fx.ok("op_realpath", json!([format!("{deep}/l")])).await;
        assert_eq!(real, json!(fx.path(&format!("{deep}/x")).to_str().unwrap()));
    }
}
