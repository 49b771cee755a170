//! Errors: classes and messages for missing paths, existing targets and wrong kinds,
//! and typed errors (never panics) for bad input, through both entries.

mod common;

use common::{BOTH, Fixture};
use opkit::ErrorClass;
use serde_json::json;

#[tokio::test(flavor = "current_thread")]
async fn missing_paths_are_not_found_naming_op_and_path() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::create_dir(fx.path("data")).unwrap();
        let err = fx.err("op_stat", json!(["data/missing.txt"])).await;
        assert_eq!(
            err.to_string(),
            "NotFound: op_stat: 'data/missing.txt': No such file or directory (os error 2)"
        );
        assert_eq!(
            (err.class(), err.code()),
            (ErrorClass::NotFound, Some("ENOENT"))
        );
        assert_eq!(err.op(), Some("op_stat"));
        for (op, args) in [
            ("op_lstat", json!(["missing"])),
            ("op_open", json!(["missing"])),
            ("op_read_file", json!(["missing"])),
            ("op_read_dir", json!(["missing"])),
            ("op_chmod", json!(["missing", 0o600])),
            ("op_chown", json!(["missing", 0, 0])),
            ("op_utime", json!(["missing", 0, 0])),
            ("op_truncate", json!(["missing"])),
            ("op_remove", json!(["missing"])),
            ("op_rename", json!(["missing", "x"])),
            ("op_copy_file", json!(["missing", "x"])),
            ("op_link", json!(["missing", "x"])),
            ("op_read_link", json!(["missing"])),
            ("op_realpath", json!(["missing"])),
            ("op_mkdir", json!(["missing/child"])),
            ("op_write_text_file", json!(["missing/child", "x"])),
            ("op_write_text_file", json!(["new", "x", false, false])),
            ("op_make_temp_file", json!(["missing"])),
            ("op_stat", json!([""])),
        ] {
            let err = fx.err(op, args.clone()).await;
            assert_eq!(err.class(), ErrorClass::NotFound, "{op}({args}): {err}");
            assert_eq!(err.op(), Some(op), "{err}");
            assert!(err.message().starts_with('\''), "names the path: {err}");
        }
        let err = fx.err("op_copy_file", json!(["missing", "x"])).await;
        assert_eq!(
            err.message(),
            "'missing' -> 'x': No such file or directory (os error 2)"
        );
        assert!(!fx.path("new").exists(), "create: false made nothing");
        let err = fx.sync("op_chdir", json!(["missing"])).unwrap_err();
        assert_eq!(err.class(), ErrorClass::NotFound);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn existing_targets_are_already_exists() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::write(fx.path("f"), "keep").unwrap();
        std::fs::create_dir(fx.path("d")).unwrap();
        for (op, args) in [
            ("op_mkdir", json!(["d"])),
            ("op_mkdir", json!(["f"])),
            ("op_mkdir", json!(["f", true])),
            ("op_open", json!(["f", {"write": true, "create_new": true}])),
            (
                "op_write_text_file",
                json!({"path": "f", "text": "x", "create_new": true}),
            ),
            ("op_symlink", json!(["anything", "f"])),
            ("op_link", json!(["f", "d"])),
        ] {
            let err = fx.err(op, args.clone()).await;
            assert_eq!(
                err.class(),
                ErrorClass::AlreadyExists,
                "{op}({args}): {err}"
            );
            assert_eq!(err.code(), Some("EEXIST"));
        }
        let err = fx.err("op_mkdir", json!(["d"])).await;
        assert_eq!(
            err.to_string(),
            "AlreadyExists: op_mkdir: 'd': File exists (os error 17)"
        );
        assert_eq!(std::fs::read_to_string(fx.path("f")).unwrap(), "keep");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn wrong_kinds_are_is_a_directory_and_not_a_directory() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::write(fx.path("f"), "x").unwrap();
        std::fs::create_dir(fx.path("d")).unwrap();
        std::fs::create_dir(fx.path("full")).unwrap();
        std::fs::write(fx.path("full/x"), "x").unwrap();
        for (op, args) in [
            ("op_read_file", json!(["d"])),
            ("op_write_text_file", json!(["d", "x"])),
            ("op_open", json!(["d", {"write": true}])),
            ("op_truncate", json!(["d"])),
            ("op_copy_file", json!(["f", "d"])),
            ("op_rename", json!(["f", "full"])),
        ] {
            let err = fx.err(op, args.clone()).await;
            assert_eq!(err.class(), ErrorClass::IsADirectory, "{op}({args}): {err}");
        }
        for (op, args) in [
            ("op_read_dir", json!(["f"])),
            ("op_stat", json!(["f/x"])),
            ("op_mkdir", json!(["f/x"])),
            ("op_open", json!(["f/x"])),
            ("op_rename", json!(["d", "f"])),
        ] {
            let err = fx.err(op, args.clone()).await;
            assert_eq!(
                err.class(),
                ErrorClass::NotADirectory,
                "{op}({args}): {err}"
            );
            assert_eq!(err.code(), Some("ENOTDIR"));
        }
        let err = fx.sync("op_chdir", json!(["f"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "NotADirectory: op_chdir: 'f': Not a directory (os error 20)"
        );
        // A directory opened for reading is a handle; reading it is the error.
        let dir = fx.ok("op_open", json!(["d"])).await;
        let (read, _) = fx
            .call_bufs("op_read", json!([dir]), vec![vec![0; 4]])
            .await;
        assert_eq!(read.unwrap_err().class(), ErrorClass::IsADirectory);

        let err = fx.err("op_remove", json!(["full"])).await;
        assert_eq!(err.code(), Some("ENOTEMPTY"), "{err}");
        assert!(fx.path("full/x").exists());
        let err = fx.err("op_read_link", json!(["f"])).await;
        assert_eq!(
            (err.class(), err.code()),
            (ErrorClass::InvalidData, Some("EINVAL"))
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn bad_input_is_a_typed_error() {
    for entry in BOTH {
        let fx = Fixture::new(entry);
        std::fs::write(fx.path("f"), [0xff, 0xfe]).unwrap();
        let file = fx.ok("op_open", json!(["f"])).await;
        for (op, args) in [
            ("op_open", json!(["f", {"read": true, "bogus": true}])),
            ("op_open", json!(["f", {}])),
            ("op_open", json!(["f", {"read": true, "create": true}])),
            ("op_open", json!(["f", {"append": true, "truncate": true}])),
            ("op_open", json!(["f", {"write": true, "mode": 0o10000}])),
            ("op_open", json!([5])),
            ("op_stat", json!([])),
            ("op_stat", json!(["f\u{0}x"])),
            ("op_chmod", json!(["f", 0o17777])),
            ("op_chmod", json!(["f", -1])),
            ("op_mkdir", json!(["x", false, 0o70000])),
            ("op_seek", json!([file, 0, 3])),
            ("op_seek", json!([file, -1, 0])),
            ("op_utime", json!(["f", 1e300, 0])),
            ("op_futime", json!([file, 0, -1e300])),
            ("op_make_temp_file", json!([".", "../../escape"])),
            ("op_make_temp_dir", json!([".", null, "/x"])),
            ("op_symlink", json!(["", "link"])),
            ("op_read", json!([file])),
        ] {
            let err = fx.err(op, args.clone()).await;
            assert_eq!(err.class(), ErrorClass::TypeError, "{op}({args}): {err}");
            assert_eq!(err.op(), Some(op), "{err}");
        }
        let err = fx.err("op_read", json!([999])).await;
        assert_eq!(
            err.to_string(),
            "BadResource: op_read: argument 'rid': rid 999 is not open"
        );
        let err = fx.err("op_read_text_file", json!(["f"])).await;
        assert_eq!(err.class(), ErrorClass::InvalidData);
        assert!(err.message().starts_with("'f': invalid utf-8"), "{err}");
        let err = fx.err("op_seek", json!([file, 0, 3])).await;
        assert_eq!(
            err.to_string(),
            "TypeError: op_seek: `whence` is 0 (start), 1 (current) or 2 (end), not 3"
        );
        assert_eq!(
            std::fs::read_dir(&fx.root).unwrap().count(),
            1,
            "nothing was made"
        );
        let err = fx.sync("op_umask", json!([0o1000])).unwrap_err();
        assert_eq!(err.class(), ErrorClass::TypeError);
    }
}
