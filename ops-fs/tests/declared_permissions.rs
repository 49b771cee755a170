//! Every fs op's declared permission (`#[op(permission = "..")]`, what a host's
//! policy sees) is the access it checks: for each op of the extension's table, a
//! realistic call on real files succeeds when the roots grant exactly what the
//! declaration names, and is refused with `PermissionDenied` (nothing changed on
//! disk) when they grant less. A recording permission type shows which accesses the
//! op asked for. An op added without a case here fails the test.
//!
//! A declaration is `fs.read`, `fs.write`, `fs.read+fs.write` (both needed) or
//! `fs.read|fs.write` (either one, as the arguments decide: one call per side), or
//! none (the op checks nothing, and runs with nothing granted).
//!
//! ```text
//! T/a.txt        "hello"
//! T/dir/b.txt    "b"
//! T/empty/
//! T/link -> a.txt
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use opkit::{ErrorClass, OpError, Runtime};
use opkit_fs::{Access, FsContext, FsPermissionCheck, FsPermissions, Grant};
use serde_json::{Value, json};

/// The accesses a root set grants, or an op needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Accesses {
    read: bool,
    write: bool,
}

const NOTHING: Accesses = Accesses {
    read: false,
    write: false,
};
const READ: Accesses = Accesses {
    read: true,
    write: false,
};
const WRITE: Accesses = Accesses {
    read: false,
    write: true,
};
const BOTH: Accesses = Accesses {
    read: true,
    write: true,
};

/// Every grant a call is tried under.
const GRANTS: [Accesses; 4] = [NOTHING, READ, WRITE, BOTH];

impl Accesses {
    fn of(accesses: &[Access]) -> Self {
        Self {
            read: accesses.contains(&Access::Read),
            write: accesses.contains(&Access::Write),
        }
    }

    fn within(self, other: Self) -> bool {
        (!self.read || other.read) && (!self.write || other.write)
    }

    /// Roots on `root` that grant these accesses.
    fn perms(self, root: &Path) -> FsPermissions {
        let mut perms = FsPermissions::deny_all();
        if self.read {
            perms = perms.allow_read(root);
        }
        if self.write {
            perms = perms.allow_write(root);
        }
        perms
    }
}

impl fmt::Display for Accesses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match (self.read, self.write) {
            (false, false) => "nothing",
            (true, false) => "fs.read",
            (false, true) => "fs.write",
            (true, true) => "fs.read+fs.write",
        })
    }
}

/// What a declaration says the op needs: one set of accesses, or (for `a|b`) one per
/// alternative.
fn alternatives(op: &str, declared: Option<&str>) -> Vec<Accesses> {
    let access = |name: &str| match name {
        "fs.read" => Access::Read,
        "fs.write" => Access::Write,
        other => panic!("{op} declares `{other}`, which this test does not know"),
    };
    match declared {
        None => vec![NOTHING],
        Some(any) if any.contains('|') => any
            .split('|')
            .map(|one| Accesses::of(&[access(one)]))
            .collect(),
        Some(all) => {
            let all: Vec<Access> = all.split('+').map(access).collect();
            vec![Accesses::of(&all)]
        }
    }
}

/// `FsPermissions` that records every access an op asks for.
struct Recording {
    perms: FsPermissions,
    asked: Mutex<Vec<Access>>,
}

impl FsPermissionCheck for Recording {
    fn roots(&self) -> &FsPermissions {
        &self.perms
    }

    fn check(&self, access: Access, path: &Path) -> Option<Grant<'_>> {
        self.log().push(access);
        self.perms.grant(access, path)
    }
}

impl Recording {
    fn new(perms: FsPermissions) -> Self {
        Self {
            perms,
            asked: Mutex::new(Vec::new()),
        }
    }

    fn log(&self) -> MutexGuard<'_, Vec<Access>> {
        self.asked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One call of an op: its JSON arguments (`"$rid"` stands for a file opened for
/// reading and writing beforehand) and byte buffer.
#[derive(Clone)]
struct Call {
    args: Value,
    buffer: Option<Vec<u8>>,
}

fn call(args: Value) -> Call {
    Call { args, buffer: None }
}

fn with_buffer(args: Value, buffer: &[u8]) -> Call {
    Call {
        args,
        buffer: Some(buffer.to_vec()),
    }
}

/// Every op of the crate, with a call per alternative of its declaration.
fn cases() -> Vec<(&'static str, Vec<Call>)> {
    vec![
        (
            "op_open",
            vec![
                call(json!(["a.txt", {"read": true}])),
                call(json!(["a.txt", {"write": true}])),
            ],
        ),
        ("op_read", vec![with_buffer(json!(["$rid"]), &[0; 5])]),
        ("op_write", vec![with_buffer(json!(["$rid"]), b"HE")]),
        ("op_seek", vec![call(json!(["$rid", 1, 0]))]),
        ("op_fstat", vec![call(json!(["$rid"]))]),
        ("op_ftruncate", vec![call(json!(["$rid", 2]))]),
        ("op_fsync", vec![call(json!(["$rid"]))]),
        ("op_fdatasync", vec![call(json!(["$rid"]))]),
        ("op_futime", vec![call(json!(["$rid", 1000, 2000]))]),
        ("op_stat", vec![call(json!(["a.txt"]))]),
        ("op_lstat", vec![call(json!(["link"]))]),
        ("op_exists", vec![call(json!(["dir/b.txt"]))]),
        ("op_chmod", vec![call(json!(["a.txt", 0o600]))]),
        ("op_chown", vec![call(json!(["a.txt"]))]),
        ("op_utime", vec![call(json!(["a.txt", 1000, 2000]))]),
        ("op_truncate", vec![call(json!(["a.txt", 1]))]),
        ("op_mkdir", vec![call(json!(["new"]))]),
        ("op_read_dir", vec![call(json!(["dir"]))]),
        ("op_make_temp_dir", vec![call(json!(["."]))]),
        ("op_make_temp_file", vec![call(json!(["dir", "t-"]))]),
        ("op_cwd", vec![call(json!([]))]),
        ("op_chdir", vec![call(json!(["dir"]))]),
        ("op_umask", vec![call(json!([0o077]))]),
        ("op_copy_file", vec![call(json!(["a.txt", "copy.txt"]))]),
        ("op_rename", vec![call(json!(["a.txt", "dir/moved.txt"]))]),
        ("op_remove", vec![call(json!(["empty"]))]),
        ("op_link", vec![call(json!(["a.txt", "hard.txt"]))]),
        ("op_symlink", vec![call(json!(["a.txt", "sym"]))]),
        ("op_read_link", vec![call(json!(["link"]))]),
        ("op_realpath", vec![call(json!(["link"]))]),
        ("op_read_file", vec![call(json!(["a.txt"]))]),
        ("op_read_text_file", vec![call(json!(["dir/b.txt"]))]),
        (
            "op_write_file",
            vec![with_buffer(json!(["out.bin"]), b"data")],
        ),
        ("op_write_text_file", vec![call(json!(["out.txt", "text"]))]),
    ]
}

/// A fresh temp dir with the files above, and a runtime of the fs ops whose cwd is
/// the dir and whose roots grant `grant` (with a file opened beforehand, with both
/// accesses, as `rid`).
struct Scene {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    rt: Runtime,
    recording: Arc<Recording>,
    rid: u64,
}

impl Scene {
    fn new(grant: Accesses) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        std::fs::write(root.join("a.txt"), "hello").unwrap();
        std::fs::create_dir(root.join("dir")).unwrap();
        std::fs::write(root.join("dir/b.txt"), "b").unwrap();
        std::fs::create_dir(root.join("empty")).unwrap();
        symlink("a.txt", root.join("link")).unwrap();

        let ctx = FsContext::new(Recording::new(BOTH.perms(&root))).with_cwd(&root);
        let rt = Runtime::new([opkit_fs::extension_with(ctx)]).unwrap();
        let opened = rt
            .call_sync(
                "op_open_sync",
                br#"["a.txt", {"read": true, "write": true}]"#,
                &mut [],
            )
            .unwrap();
        let rid = serde_json::from_slice(&opened).unwrap();

        // From here on, the roots grant only `grant`: the context is replaced (the
        // opened file stays in the resource table).
        let recording = Arc::new(Recording::new(grant.perms(&root)));
        let ctx = FsContext::shared(Arc::clone(&recording)).with_cwd(&root);
        rt.state().borrow_mut().put(ctx);
        Self {
            _tmp: tmp,
            root,
            rt,
            recording,
            rid,
        }
    }

    /// Calls the sync entry of `op`.
    fn call(&self, op: &str, call: &Call) -> Result<Vec<u8>, OpError> {
        let args = substitute(call.args.clone(), self.rid).to_string();
        let mut bufs: Vec<Vec<u8>> = call.buffer.iter().cloned().collect();
        let entry = format!("{op}_sync");
        self.rt
            .call_sync(entry.as_str(), args.as_bytes(), &mut bufs)
    }

    /// The accesses asked since the scene was made.
    fn asked(&self) -> Accesses {
        Accesses::of(&self.recording.log())
    }

    /// Everything below the root, as the host sees it: names, kinds, sizes, modes,
    /// times, owners, contents and link targets.
    fn tree(&self) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        describe(&self.root, &self.root, &mut seen);
        seen
    }
}

fn describe(root: &Path, dir: &Path, seen: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        let what = if meta.file_type().is_symlink() {
            format!("-> {}", std::fs::read_link(&path).unwrap().display())
        } else if meta.is_dir() {
            describe(root, &path, seen);
            "dir".to_owned()
        } else {
            format!("{:?}", std::fs::read(&path).unwrap())
        };
        seen.insert(format!(
            "{rel}: {what} mode {:o} mtime {}.{} owner {}:{}",
            meta.mode(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.uid(),
            meta.gid()
        ));
    }
}

/// `args` with every `"$rid"` replaced by `rid`.
fn substitute(args: Value, rid: u64) -> Value {
    match args {
        Value::String(text) if text == "$rid" => Value::from(rid),
        Value::Array(items) => items.into_iter().map(|v| substitute(v, rid)).collect(),
        other => other,
    }
}

#[test]
fn every_fs_op_checks_what_it_declares() {
    let rt = Runtime::new([opkit_fs::extension(FsPermissions::deny_all())]).unwrap();
    let table: BTreeSet<&str> = rt
        .table()
        .entries()
        .iter()
        .filter(|entry| entry.extension == "fs")
        .map(|entry| entry.decl.meta.name)
        .collect();
    let cases = cases();
    let covered: BTreeSet<&str> = cases.iter().map(|(op, _)| *op).collect();
    assert_eq!(covered.len(), cases.len(), "an op has two cases");
    assert_eq!(
        covered, table,
        "every op of the fs extension has a case here, and only those"
    );

    let mut wrong = Vec::new();
    for (op, calls) in &cases {
        let meta = opkit_fs::op_decls()
            .into_iter()
            .find(|decl| decl.meta.name == *op)
            .map(|decl| decl.meta)
            .unwrap();
        let needs = alternatives(op, meta.permission);
        if needs.len() != calls.len() {
            wrong.push(format!(
                "{op} declares {:?}, with {} alternatives, and has {} calls here: one for each",
                meta.permission,
                needs.len(),
                calls.len()
            ));
            continue;
        }
        for (need, call) in needs.iter().zip(calls) {
            for grant in GRANTS {
                if let Err(why) = check(op, *need, call, grant) {
                    wrong.push(format!(
                        "{op}({}) declaring {:?}, granted {grant}: {why}",
                        call.args,
                        meta.permission.unwrap_or("nothing")
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "declarations that are not what the ops check:\n{}",
        wrong.join("\n")
    );
}

/// One call of `op`, which needs `need`, with the roots granting `grant`: what went
/// against the declaration, if anything.
fn check(op: &str, need: Accesses, call: &Call, grant: Accesses) -> Result<(), String> {
    let scene = Scene::new(grant);
    let before = scene.tree();
    let result = scene.call(op, call);
    let asked = scene.asked();
    if need.within(grant) {
        if let Err(err) = result {
            return Err(format!("failed: {err}"));
        }
        // Granted exactly what is declared, the op asks for all of it and no more.
        if grant == need && asked != need {
            return Err(format!("asked for {asked}"));
        }
        return Ok(());
    }
    match result {
        Ok(out) => Err(format!(
            "succeeded with less than declared: {}",
            String::from_utf8_lossy(&out)
        )),
        Err(err) if err.class() != ErrorClass::PermissionDenied => Err(format!(
            "failed with another error than PermissionDenied: {err}"
        )),
        Err(_) if scene.tree() != before => Err("refused, but changed the tree".to_owned()),
        Err(_) => Ok(()),
    }
}
