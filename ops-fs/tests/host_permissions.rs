//! A host's own permission type through the real fs ops: `ReadsUnder` lets a guest
//! write anywhere in the temp dir `T` but read only below `T/public`, and records
//! every check it is asked. Both entries of each op see the same rules, a symlink or
//! `..` below the prefix cannot read past it (the path is resolved beneath the granted
//! root, not matched as a string), and the log shows what each op asked.
//!
//! ```text
//! T/                read + write for `roots()`, write only for the guest
//! T/public/a.txt    readable
//! T/public/up -> ../private/b.txt
//! T/private/b.txt   not readable
//! ```

mod common;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use common::{BOTH, Entry, call};
use opkit::{ErrorClass, OpError, Runtime};
use opkit_fs::{Access, FsContext, FsPermissionCheck, FsPermissions, Grant};
use serde_json::{Value, json};

/// Writes below `all`'s roots, reads only below `public`'s.
struct ReadsUnder {
    all: FsPermissions,
    public: FsPermissions,
    seen: Mutex<Vec<(Access, PathBuf)>>,
}

impl FsPermissionCheck for ReadsUnder {
    fn roots(&self) -> &FsPermissions {
        &self.all
    }

    fn check(&self, access: Access, path: &Path) -> Option<Grant<'_>> {
        self.log().push((access, path.to_path_buf()));
        match access {
            Access::Read => self.public.grant(access, path),
            Access::Write => self.all.grant(access, path),
        }
    }
}

impl ReadsUnder {
    fn log(&self) -> MutexGuard<'_, Vec<(Access, PathBuf)>> {
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The checks asked since the last call, relative to `t`.
    fn take(&self, t: &Path) -> Vec<(Access, String)> {
        let seen = std::mem::take(&mut *self.log());
        let relative = |path: &Path| match path.strip_prefix(t) {
            Ok(rel) => rel.to_string_lossy().into_owned(),
            Err(_) => path.to_string_lossy().into_owned(),
        };
        seen.iter()
            .map(|(access, path)| (*access, relative(path)))
            .collect()
    }
}

struct Host {
    _tmp: tempfile::TempDir,
    t: PathBuf,
    perms: Arc<ReadsUnder>,
    rt: Runtime,
}

impl Host {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(t.join("public")).unwrap();
        std::fs::create_dir_all(t.join("private")).unwrap();
        std::fs::write(t.join("public/a.txt"), "open").unwrap();
        std::fs::write(t.join("private/b.txt"), "closed").unwrap();
        symlink("../private/b.txt", t.join("public/up")).unwrap();
        let perms = Arc::new(ReadsUnder {
            all: FsPermissions::default().allow_all(&t),
            public: FsPermissions::default().allow_read(t.join("public")),
            seen: Mutex::new(Vec::new()),
        });
        let ctx = FsContext::shared(Arc::clone(&perms)).with_cwd(&t);
        let rt = Runtime::new([opkit_fs::extension_with(ctx)]).unwrap();
        Self {
            _tmp: tmp,
            t,
            perms,
            rt,
        }
    }

    async fn call(&self, entry: Entry, op: &str, args: Value) -> Result<Value, OpError> {
        call(&self.rt, entry, op, args, Vec::new()).await.0
    }

    fn seen(&self) -> Vec<(Access, String)> {
        self.perms.take(&self.t)
    }
}

fn assert_denied(result: Result<Value, OpError>, op: &str, message: &str) {
    match result {
        Ok(value) => panic!("{op} succeeded: {value}"),
        Err(err) => {
            assert_eq!(err.class(), ErrorClass::PermissionDenied, "{err}");
            assert_eq!(
                err.to_string(),
                format!("PermissionDenied: {op}: {message}")
            );
        }
    }
}

#[tokio::test]
async fn reads_only_below_the_prefix_writes_anywhere() {
    for entry in BOTH {
        let host = Host::new();
        let read = |path: &str| host.call(entry, "op_read_text_file", json!([path]));
        assert_eq!(read("public/a.txt").await.unwrap(), json!("open"));
        assert_eq!(host.seen(), [(Access::Read, "public/a.txt".into())]);
        assert_denied(
            read("private/b.txt").await,
            "op_read_text_file",
            "'private/b.txt': read access denied: the path is outside the read roots",
        );
        // The whole of `T` is a read root of `roots()`, but not of what `check` grants.
        assert_denied(
            host.call(entry, "op_stat", json!(["."])).await,
            "op_stat",
            "'.': read access denied: the path is outside the read roots",
        );
        host.seen();

        let written = host
            .call(entry, "op_write_text_file", json!(["private/new.txt", "w"]))
            .await;
        assert_eq!(written.unwrap(), Value::Null);
        let on_disk = std::fs::read_to_string(host.t.join("private/new.txt")).unwrap();
        assert_eq!(on_disk, "w");
        assert_eq!(host.seen(), [(Access::Write, "private/new.txt".into())]);
        assert_denied(
            read("private/new.txt").await,
            "op_read_text_file",
            "'private/new.txt': read access denied: the path is outside the read roots",
        );
    }
}

#[tokio::test]
async fn the_prefix_is_a_root_not_a_spelling() {
    for entry in BOTH {
        let host = Host::new();
        // Both are spelled below `public` and pass the check; the kernel, resolving
        // beneath the `public` root it granted, refuses to leave it.
        for path in ["public/up", "public/../private/b.txt"] {
            assert_denied(
                host.call(entry, "op_read_text_file", json!([path])).await,
                "op_read_text_file",
                &format!(
                    "'{path}': read access denied: the path leads outside its read root \
                     through '..' or a symlink"
                ),
            );
        }
        assert_eq!(
            host.seen(),
            [
                (Access::Read, "public/up".into()),
                (Access::Read, "public/../private/b.txt".into()),
            ]
        );
    }
}

#[tokio::test]
async fn every_path_of_an_op_is_checked_for_what_it_needs() {
    for entry in BOTH {
        let host = Host::new();
        let copied = host
            .call(
                entry,
                "op_copy_file",
                json!(["public/a.txt", "private/c.txt"]),
            )
            .await;
        assert_eq!(copied.unwrap(), json!(4));
        assert_eq!(
            host.seen(),
            [
                (Access::Read, "public/a.txt".into()),
                (Access::Write, "private/c.txt".into()),
            ]
        );
        // `T/public` is readable in `roots()`, so a rename into it needs a readable
        // source, which `check` does not grant for `private`.
        assert_denied(
            host.call(entry, "op_rename", json!(["private/c.txt", "public/c.txt"]))
                .await,
            "op_rename",
            "'private/c.txt': read access denied: the destination 'public/c.txt' can be \
             read, so the source must be readable too",
        );
        assert_eq!(
            host.seen(),
            [
                (Access::Write, "public/c.txt".into()),
                (Access::Read, "private/c.txt".into()),
            ]
        );
        assert!(host.t.join("private/c.txt").exists());
        assert!(!host.t.join("public/c.txt").exists());
    }
}

#[tokio::test]
async fn extension_for_shares_the_host_type_between_runtimes() {
    let host = Host::new();
    let perms = ReadsUnder {
        all: FsPermissions::default().allow_all(&host.t),
        public: FsPermissions::default().allow_read(host.t.join("public")),
        seen: Mutex::new(Vec::new()),
    };
    let ext = opkit_fs::extension_for(perms);
    let [first, second] = [0, 1].map(|_| Runtime::new([ext.clone()]).unwrap());
    let a = host.t.join("public/a.txt");
    let b = host.t.join("private/b.txt");
    let out = call(&first, Entry::Async, "op_exists", json!([a]), vec![]).await;
    assert_eq!(out.0.unwrap(), json!(true));
    let out = call(&second, Entry::Sync, "op_exists", json!([b]), vec![]).await;
    assert_eq!(out.0.unwrap_err().class(), ErrorClass::PermissionDenied);
    // Both runtimes asked the one value.
    let state = second.state().borrow();
    let Some(ctx) = state.borrow::<FsContext<ReadsUnder>>() else {
        panic!("no FsContext<ReadsUnder> in the runtime");
    };
    assert_eq!(
        ctx.permissions().take(&host.t),
        [
            (Access::Read, "public/a.txt".into()),
            (Access::Read, "private/b.txt".into()),
        ]
    );
}
