//! Check-then-use races: no op may reach outside its root while the tree changes
//! under it.
//!
//! An op that checks a path and then hands the path to the syscall lets the kernel
//! resolve it again: if a directory on the way, or the entry itself, is swapped for a
//! symlink pointing outside the root in between, the op acts outside. Here every op
//! that takes a path runs in a loop on the main thread while a flipper thread swaps
//! such a component between the real entry and a symlink to `T/outside`: either the
//! host, with `renameat2(RENAME_EXCHANGE)`, or the guest itself, a second runtime on
//! the same permissions calling `op_symlink` and `op_rename`.
//!
//! Every (op, flip, driver) combination gets a fresh temp dir `T`:
//!
//! ```text
//! T/root/            the only root, read + write
//!     plain          a file no flip touches
//!     d/             secret, sub/inside-name, outside-link -> inside-target
//! T/outside/         the same names, outside every root, all with an old mtime:
//!     secret         "TOP-SECRET ...", 0o600
//!     sub/           outside-only-name, secret
//!     outside-link -> outside-only-target
//! ```
//!
//! A directory-component flip swaps `root/d` with `root/d.link -> ../outside`. A
//! last-component flip swaps the entry the op names (for an op that creates an entry,
//! the directory it creates it in), e.g. `root/d/secret` with
//! `root/d/secret.link -> ../../outside/secret`; when the guest swaps it the symlink is
//! absolute (`T/outside/secret`). An escape is anything outside seen or changed: a
//! result or buffer holding an outside marker, a stat with an outside inode, a
//! realpath or cwd in `T/outside`, or any difference in `T` outside `T/root` (names,
//! contents, mode, owner, mtime). Errors are fine: the race may make any call fail.
//!
//! The runtime under test resolves with `openat2` while the host flips, and with the
//! walk by hand while the guest flips.
//!
//! Each combination runs for [`BUDGET`] or [`MAX_ITERATIONS`], whichever ends first,
//! and stops at its first escape. Correct code passes however few iterations run;
//! only the chance of catching a bug depends on the machine.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opkit::{OpError, Runtime};
use opkit_fs::{FsPermissions, Resolver};
use rustix::fs::{AtFlags, CWD, RenameFlags, Timespec, Timestamps};
use serde_json::{Value, json};

/// How long one (op, flip, driver) combination runs at most...
const BUDGET: Duration = Duration::from_millis(30);
/// ...or how many iterations, whichever ends first...
const MAX_ITERATIONS: usize = 2_000;
/// ...but at least this many, so that a slow machine still races a little.
const MIN_ITERATIONS: usize = 20;
/// How often (in iterations) the outside tree is compared while an op runs; it is
/// compared once more after the flipper stops.
const SNAPSHOT_EVERY: usize = 16;

/// What only outside entries contain or are named: a result holding one has seen
/// outside the root.
const MARKERS: [&str; 3] = ["TOP-SECRET", "outside-only-name", "outside-only-target"];
/// The mtime every outside entry gets, so that a change (or a new entry) shows.
const OUTSIDE_MTIME: i64 = 1_000_000_000;
/// The owner (and group) `op_chown` gives its file, when the tests run as root.
const CHOWN_ID: u32 = 4242;

// ---------------------------------------------------------------------------------
// The ops under test
// ---------------------------------------------------------------------------------

/// `Err` carries the evidence of an escape.
type Check = Result<(), String>;

/// One op under test: what it calls on the main thread each iteration.
struct Case {
    /// The op and, where an op has several cases, which use of it.
    op: &'static str,
    /// The entry below `root/d` that a last-component flip swaps.
    leaf: Leaf,
    /// Whether the op can remove or move what the flipper swaps (or, racing the
    /// guest flipper, make a directory where it expects none): the scene is then
    /// looked at after every iteration, else every [`SNAPSHOT_EVERY`].
    reshapes: bool,
    run: fn(&Guest, &Scene) -> Check,
}

/// Every op that takes a path. Paths are absolute, below `root/d` (which a
/// directory-component flip swaps) and through `leaf` (which a last-component flip
/// swaps). What a call returns is checked by [`Guest`] for outside markers, paths
/// and inodes; what it changes by comparing the outside tree.
const CASES: &[Case] = &[
    Case {
        op: "op_open(read)",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| {
            let rid = g.call("op_open_sync", json!([s.at("d/secret"), {"read": true}]))?;
            let Some(rid) = rid.as_deref().map(rid_of) else {
                return Ok(());
            };
            let stat = g.run("op_fstat_sync", json!([rid]));
            let read = g.call_bufs("op_read_sync", json!([rid]), &mut [vec![0; 64]]);
            g.close(rid);
            stat.and(read.map(drop))
        },
    },
    Case {
        op: "op_open(write)",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| {
            let rid = g.call("op_open_sync", json!([s.at("d/secret"), {"write": true}]))?;
            let Some(rid) = rid.as_deref().map(rid_of) else {
                return Ok(());
            };
            let stat = g.run("op_fstat_sync", json!([rid]));
            let write = g.call_bufs("op_write_sync", json!([rid]), &mut [b"guest".to_vec()]);
            g.close(rid);
            stat.and(write.map(drop))
        },
    },
    Case {
        op: "op_open(create)",
        leaf: Leaf::Dir,
        reshapes: false,
        run: |g, s| {
            let options = json!({"write": true, "create": true});
            let rid = g.call("op_open_sync", json!([s.at("d/sub/new-file"), options]))?;
            let Some(rid) = rid.as_deref().map(rid_of) else {
                return Ok(());
            };
            let stat = g.run("op_fstat_sync", json!([rid]));
            g.close(rid);
            stat
        },
    },
    Case {
        op: "op_read_file",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| g.run("op_read_file_sync", json!([s.at("d/secret")])),
    },
    Case {
        op: "op_read_file_async",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| g.run_async("op_read_file_async", json!([s.at("d/secret")])),
    },
    Case {
        op: "op_read_text_file",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| g.run("op_read_text_file_sync", json!([s.at("d/secret")])),
    },
    Case {
        op: "op_write_file",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| {
            let args = json!([s.at("d/secret")]);
            g.call_bufs("op_write_file_sync", args, &mut [b"guest".to_vec()])
                .map(drop)
        },
    },
    Case {
        op: "op_write_text_file",
        leaf: Leaf::Dir,
        reshapes: false,
        run: |g, s| {
            g.run(
                "op_write_text_file_sync",
                json!([s.at("d/sub/new-file"), "guest"]),
            )
        },
    },
    Case {
        op: "op_write_text_file_async",
        leaf: Leaf::Dir,
        reshapes: false,
        run: |g, s| {
            let args = json!([s.at("d/sub/new-file"), "guest"]);
            g.run_async("op_write_text_file_async", args)
        },
    },
    Case {
        op: "op_stat",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| g.run("op_stat_sync", json!([s.at("d/secret")])),
    },
    Case {
        op: "op_lstat",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| g.run("op_lstat_sync", json!([s.at("d/secret")])),
    },
    Case {
        // A bool is all `op_exists` tells, so it asks for a name only outside has.
        op: "op_exists",
        leaf: Leaf::Dir,
        reshapes: false,
        run: |g, s| {
            let found = g.call("op_exists_sync", json!([s.at("d/sub/outside-only-name")]))?;
            match found.as_deref() {
                Some(b"true") => Err("found outside/sub/outside-only-name".into()),
                _ => Ok(()),
            }
        },
    },
    Case {
        op: "op_chmod",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| g.run("op_chmod_sync", json!([s.at("d/secret"), 0o640])),
    },
    Case {
        op: "op_chown",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| {
            let (uid, gid) = s.chown_to();
            g.run("op_chown_sync", json!([s.at("d/secret"), uid, gid]))
        },
    },
    Case {
        op: "op_utime",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| g.run("op_utime_sync", json!([s.at("d/secret"), 4.2e6, 4.2e6])),
    },
    Case {
        op: "op_truncate",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| g.run("op_truncate_sync", json!([s.at("d/secret"), 3])),
    },
    Case {
        op: "op_mkdir",
        leaf: Leaf::Dir,
        reshapes: false,
        run: |g, s| g.run("op_mkdir_sync", json!([s.at("d/sub/new-dir")])),
    },
    Case {
        op: "op_mkdir(recursive)",
        leaf: Leaf::Dir,
        reshapes: true,
        run: |g, s| g.run("op_mkdir_sync", json!([s.at("d/sub/a/b"), true])),
    },
    Case {
        op: "op_read_dir",
        leaf: Leaf::Dir,
        reshapes: false,
        run: |g, s| g.run("op_read_dir_sync", json!([s.at("d/sub")])),
    },
    Case {
        op: "op_make_temp_dir",
        leaf: Leaf::Dir,
        reshapes: false,
        run: |g, s| g.run("op_make_temp_dir_sync", json!([s.at("d/sub")])),
    },
    Case {
        op: "op_make_temp_file",
        leaf: Leaf::Dir,
        reshapes: false,
        run: |g, s| g.run("op_make_temp_file_sync", json!([s.at("d/sub")])),
    },
    Case {
        // The runtime's cwd then names the swapped directory: relative ops go there.
        op: "op_chdir",
        leaf: Leaf::Dir,
        reshapes: false,
        run: |g, s| {
            let moved = g.run("op_chdir_sync", json!([s.at("d/sub")]));
            let listed = g.run("op_read_dir_sync", json!(["."]));
            let stat = g.run("op_stat_sync", json!(["."]));
            let cwd = g
                .call("op_cwd_sync", json!([]))
                .and_then(|cwd| s.oracle.not_outside(cwd));
            g.run("op_chdir_sync", json!([s.root]))?;
            moved.and(listed).and(stat).and(cwd)
        },
    },
    Case {
        op: "op_copy_file(from)",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| {
            g.run("op_copy_file_sync", json!([s.at("d/secret"), s.at("copy")]))?;
            match std::fs::read(s.root.join("copy")) {
                Ok(copied) => s.oracle.scan("the copy", &copied),
                Err(_) => Ok(()),
            }
        },
    },
    Case {
        op: "op_copy_file(to)",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| {
            g.run(
                "op_copy_file_sync",
                json!([s.at("plain"), s.at("d/secret")]),
            )
        },
    },
    Case {
        op: "op_rename(from)",
        leaf: Leaf::File,
        reshapes: true,
        run: |g, s| {
            g.run("op_rename_sync", json!([s.at("d/secret"), s.at("moved")]))?;
            let moved = s
                .oracle
                .not_outside_entry("root/moved", &s.root.join("moved"));
            g.run("op_rename_sync", json!([s.at("moved"), s.at("d/secret")]))?;
            moved
        },
    },
    Case {
        op: "op_rename(to)",
        leaf: Leaf::Dir,
        reshapes: true,
        run: |g, s| {
            g.run(
                "op_rename_sync",
                json!([s.at("plain"), s.at("d/sub/moved")]),
            )?;
            g.run(
                "op_rename_sync",
                json!([s.at("d/sub/moved"), s.at("plain")]),
            )
        },
    },
    Case {
        op: "op_remove",
        leaf: Leaf::File,
        reshapes: true,
        run: |g, s| g.run("op_remove_sync", json!([s.at("d/secret")])),
    },
    Case {
        op: "op_remove(recursive)",
        leaf: Leaf::Dir,
        reshapes: true,
        run: |g, s| g.run("op_remove_sync", json!([s.at("d/sub"), true])),
    },
    Case {
        op: "op_link(from)",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| {
            g.run("op_link_sync", json!([s.at("d/secret"), s.at("linked")]))?;
            let linked = s.root.join("linked");
            let checked = s.oracle.not_outside_entry("root/linked", &linked);
            let _ = std::fs::remove_file(linked);
            checked
        },
    },
    Case {
        op: "op_link(to)",
        leaf: Leaf::Dir,
        reshapes: false,
        run: |g, s| {
            g.run(
                "op_link_sync",
                json!([s.at("plain"), s.at("d/sub/new-link")]),
            )
        },
    },
    Case {
        op: "op_symlink",
        leaf: Leaf::Dir,
        reshapes: false,
        run: |g, s| {
            g.run(
                "op_symlink_sync",
                json!(["anywhere", s.at("d/sub/new-symlink")]),
            )
        },
    },
    Case {
        op: "op_read_link",
        leaf: Leaf::Symlink,
        reshapes: false,
        run: |g, s| g.run("op_read_link_sync", json!([s.at("d/outside-link")])),
    },
    Case {
        op: "op_realpath",
        leaf: Leaf::File,
        reshapes: false,
        run: |g, s| {
            let real = g.call("op_realpath_sync", json!([s.at("d/secret")]))?;
            s.oracle.not_outside(real)
        },
    },
];

// ---------------------------------------------------------------------------------
// The tests: one per driver and flip, each running every case
// ---------------------------------------------------------------------------------

#[test]
fn host_swaps_a_directory_component() {
    race_every_op(Driver::Host, Flip::Dir, Target::Relative);
}

#[test]
fn host_swaps_the_last_component() {
    race_every_op(Driver::Host, Flip::Last, Target::Relative);
}

#[test]
fn guest_swaps_a_directory_component() {
    race_every_op(Driver::Guest, Flip::Dir, Target::Relative);
}

#[test]
fn guest_swaps_the_last_component_for_an_absolute_symlink() {
    race_every_op(Driver::Guest, Flip::Last, Target::Absolute);
}

/// Who swaps the entry.
#[derive(Debug, Clone, Copy)]
enum Driver {
    /// The host, with `renameat2(RENAME_EXCHANGE)`.
    Host,
    /// The guest: a second runtime on the same permissions, with `op_rename`.
    Guest,
}

/// Which component is swapped for a symlink.
#[derive(Debug, Clone, Copy)]
enum Flip {
    /// `root/d`, a directory on the way.
    Dir,
    /// The entry the op names (the directory an op creates in).
    Last,
}

/// How the swapped-in symlink names `T/outside`.
#[derive(Debug, Clone, Copy)]
enum Target {
    Relative,
    Absolute,
}

/// The entries below `root/d` that a last-component flip swaps.
#[derive(Debug, Clone, Copy)]
enum Leaf {
    File,
    Dir,
    Symlink,
}

impl Leaf {
    fn name(self) -> &'static str {
        match self {
            Self::File => "secret",
            Self::Dir => "sub",
            Self::Symlink => "outside-link",
        }
    }
}

/// Combinations run one at a time, so that the op and its flipper each get a core.
static SERIAL: Mutex<()> = Mutex::new(());

fn race_every_op(driver: Driver, flip: Flip, target: Target) {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let started = Instant::now();
    let mut escapes = Vec::new();
    let mut iterations = 0;
    for case in CASES {
        let (ran, escape) = race(case, driver, flip, target);
        iterations += ran;
        if let Some(evidence) = escape {
            escapes.push(format!(
                "{}: escaped (seen on iteration {ran}) while {driver} swapped {flip} for \
                 {target}: {evidence}",
                case.op
            ));
        }
    }
    eprintln!(
        "{driver} swapping {flip} for {target}: {} ops, {iterations} iterations in {:.2?}, \
         {} escaped",
        CASES.len(),
        started.elapsed(),
        escapes.len()
    );
    assert!(
        escapes.is_empty(),
        "{} of {} ops escaped the root:\n{}",
        escapes.len(),
        CASES.len(),
        escapes.join("\n")
    );
}

impl Driver {
    /// The resolver of the runtime under test: the host's flips race `openat2`, the
    /// guest's race the walk by hand, so each resolver meets both kinds of flip.
    fn resolver(self) -> Resolver {
        match self {
            Self::Host => Resolver::Openat2,
            Self::Guest => Resolver::Walk,
        }
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Host => "the host",
            Self::Guest => "the guest",
        })
    }
}

impl fmt::Display for Flip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Dir => "a directory component",
            Self::Last => "the last component",
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Relative => "a relative symlink",
            Self::Absolute => "an absolute symlink",
        })
    }
}

/// Runs `case` against a fresh scenario with a flipper going; returns how many
/// iterations ran and the evidence of the first escape.
fn race(case: &Case, driver: Driver, flip: Flip, target: Target) -> (usize, Option<String>) {
    let scene = Scene::new(flip, case.leaf, target);
    let guest = Guest::new(
        scene.permissions().resolve_with(driver.resolver()),
        scene.oracle.clone(),
    );
    // Without a flipper every call of the case must work: a case that always fails
    // (a wrong argument, say) could never catch an escape.
    let still = (case.run)(&guest, &scene);
    let failures = guest.take_failures();
    assert!(
        still.is_ok() && failures.is_empty(),
        "{} does not work on a still tree: {still:?} {failures:?}",
        case.op
    );
    let flipper = Flipper::start(driver, &scene);
    let deadline = Instant::now() + BUDGET;
    let mut escape = None;
    let mut ran = 0;
    while escape.is_none() && ran < MAX_ITERATIONS {
        ran += 1;
        let checked = (case.run)(&guest, &scene);
        // Under the race, failing is fine.
        guest.take_failures();
        let every = ran % SNAPSHOT_EVERY == 0;
        // Pausing only when needed keeps the op from running in step with the
        // flipper's cycle.
        if (case.reshapes || every) && !scene.intact() {
            scene.restore(&flipper.pause());
        }
        escape = checked
            .err()
            .or_else(|| every.then(|| scene.outside_changes()).flatten());
        if ran >= MIN_ITERATIONS && Instant::now() >= deadline {
            break;
        }
    }
    flipper.stop();
    (ran, escape.or_else(|| scene.outside_changes()))
}

// ---------------------------------------------------------------------------------
// Calling ops, and vetting what they return
// ---------------------------------------------------------------------------------

/// The runtime the op under test runs on (the main thread's).
struct Guest {
    rt: Runtime,
    tokio: tokio::runtime::Runtime,
    oracle: Oracle,
    failures: RefCell<Vec<String>>,
}

impl Guest {
    fn new(perms: FsPermissions, oracle: Oracle) -> Self {
        let rt = Runtime::new([opkit_fs::extension(perms)]).unwrap();
        let tokio = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        Self {
            rt,
            tokio,
            oracle,
            failures: RefCell::default(),
        }
    }

    /// Calls a sync entry; `Ok(None)` if the op failed (the race may make it), `Err`
    /// if what it returned shows an escape.
    fn call(&self, op: &str, args: Value) -> Result<Option<Vec<u8>>, String> {
        self.call_bufs(op, args, &mut [])
    }

    fn call_bufs(
        &self,
        op: &str,
        args: Value,
        bufs: &mut [Vec<u8>],
    ) -> Result<Option<Vec<u8>>, String> {
        let result = self.rt.call_sync(op, args.to_string().as_bytes(), bufs);
        self.vet(op, result, bufs)
    }

    fn run(&self, op: &str, args: Value) -> Check {
        self.call(op, args).map(drop)
    }

    /// Calls an async entry to completion.
    fn run_async(&self, op: &str, args: Value) -> Check {
        // The call spawns its blocking task at once, so it starts inside the runtime.
        let out = self.tokio.block_on(async {
            self.rt
                .call_async(op, args.to_string().as_bytes(), Vec::new())
                .await
        });
        self.vet(op, out.result, &out.bufs).map(drop)
    }

    /// What the oracle says of a call's outcome; a failure is kept for
    /// [`Self::take_failures`].
    fn vet(
        &self,
        op: &str,
        result: Result<Vec<u8>, OpError>,
        bufs: &[Vec<u8>],
    ) -> Result<Option<Vec<u8>>, String> {
        if let Err(err) = &result {
            self.failures.borrow_mut().push(format!("{op}: {err}"));
        }
        self.oracle.vet(result, bufs)
    }

    /// The calls that failed since the last call of this.
    fn take_failures(&self) -> Vec<String> {
        self.failures.take()
    }

    fn close(&self, rid: u64) {
        self.rt
            .call_sync(
                "op_close_sync",
                json!([rid]).to_string().as_bytes(),
                &mut [],
            )
            .unwrap();
    }
}

fn rid_of(json: &[u8]) -> u64 {
    serde_json::from_slice(json).unwrap()
}

/// What only the outside has: marker strings, its path, and its entries' inodes.
#[derive(Clone)]
struct Oracle {
    outside: String,
    /// `(dev, ino)` of every entry in `T/outside` (and `T`), with its path.
    inodes: HashMap<(u64, u64), String>,
}

impl Oracle {
    fn new(top: &Path) -> Self {
        let mut inodes = HashMap::new();
        let mut add = |path: &Path| {
            let meta = std::fs::symlink_metadata(path).unwrap();
            let name = path.strip_prefix(top).unwrap().display().to_string();
            inodes.insert((meta.dev(), meta.ino()), format!("T/{name}"));
        };
        add(top);
        walk(&top.join("outside"), &mut |path| add(path));
        let outside = top.join("outside").to_str().unwrap().to_owned();
        Self { outside, inodes }
    }

    /// Checks what an op returned: the result and the buffers it handed back.
    fn vet(
        &self,
        result: Result<Vec<u8>, OpError>,
        bufs: &[Vec<u8>],
    ) -> Result<Option<Vec<u8>>, String> {
        for buf in bufs {
            self.scan("a buffer", buf)?;
        }
        let Ok(out) = result else {
            return Ok(None);
        };
        self.scan("the result", &out)?;
        if let Ok(Value::Object(stat)) = serde_json::from_slice(&out)
            && let (Some(dev), Some(ino)) = (stat["dev"].as_u64(), stat["ino"].as_u64())
        {
            self.not_outside_inode("the stat", dev, ino)?;
        }
        Ok(Some(out))
    }

    /// Fails if `bytes` hold an outside marker.
    fn scan(&self, what: &str, bytes: &[u8]) -> Check {
        let text = String::from_utf8_lossy(bytes);
        match MARKERS.iter().find(|marker| text.contains(*marker)) {
            Some(marker) => Err(format!("{what} holds {marker:?}: {}", excerpt(&text))),
            None => Ok(()),
        }
    }

    /// Fails if a path an op returned (`realpath`, `cwd`) lies in `T/outside`.
    fn not_outside(&self, path: Option<Vec<u8>>) -> Check {
        let Some(path) = path else {
            return Ok(());
        };
        let path: String = serde_json::from_slice(&path).unwrap();
        if Path::new(&path).starts_with(&self.outside) {
            return Err(format!("returned the outside path {path:?}"));
        }
        Ok(())
    }

    fn not_outside_inode(&self, what: &str, dev: u64, ino: u64) -> Check {
        match self.inodes.get(&(dev, ino)) {
            Some(path) => Err(format!("{what} has the inode of {path}")),
            None => Ok(()),
        }
    }

    /// Fails if `path` (inside the root, not swapped) is an outside entry moved or
    /// linked in.
    fn not_outside_entry(&self, what: &str, path: &Path) -> Check {
        match std::fs::symlink_metadata(path) {
            Ok(meta) => self.not_outside_inode(what, meta.dev(), meta.ino()),
            Err(_) => Ok(()),
        }
    }
}

fn excerpt(text: &str) -> String {
    text.chars().take(160).collect()
}

// ---------------------------------------------------------------------------------
// The scenario: the tree, what outside looked like, and how to restore the root
// ---------------------------------------------------------------------------------

struct Scene {
    _tmp: tempfile::TempDir,
    /// `T`, canonical.
    top: PathBuf,
    root: PathBuf,
    flip: Flip,
    leaf: Leaf,
    target: Target,
    oracle: Oracle,
    before: Snapshot,
    /// `(dev, ino)` of the real entry that flips with the symlink.
    real: Cell<(u64, u64)>,
    /// The real `root/d` (wherever the flipper has put it), on a directory-component
    /// flip.
    real_dir: RefCell<Option<File>>,
}

impl Scene {
    fn new(flip: Flip, leaf: Leaf, target: Target) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().canonicalize().unwrap();
        let (root, outside) = (top.join("root"), top.join("outside"));

        std::fs::create_dir_all(outside.join("sub")).unwrap();
        for (name, contents) in [
            ("secret", "TOP-SECRET in outside/secret"),
            ("sub/secret", "TOP-SECRET in outside/sub/secret"),
            ("sub/outside-only-name", "TOP-SECRET in outside/sub"),
            ("outside-only-name", "TOP-SECRET in outside"),
        ] {
            std::fs::write(outside.join(name), contents).unwrap();
            let secret = std::fs::Permissions::from_mode(0o600);
            std::fs::set_permissions(outside.join(name), secret).unwrap();
        }
        symlink("outside-only-target", outside.join("outside-link")).unwrap();
        // Children before their directory, whose mtime setting them would change.
        let mut entries = Vec::new();
        walk(&outside, &mut |path| entries.push(path.to_owned()));
        for path in entries.iter().rev() {
            let at = Timespec {
                tv_sec: OUTSIDE_MTIME,
                tv_nsec: 0,
            };
            let times = Timestamps {
                last_access: at,
                last_modification: at,
            };
            rustix::fs::utimensat(CWD, path, &times, AtFlags::SYMLINK_NOFOLLOW).unwrap();
        }

        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("plain"), "plain inside").unwrap();
        std::fs::create_dir(root.join("d")).unwrap();
        for leaf in [Leaf::File, Leaf::Dir, Leaf::Symlink] {
            make_real_leaf(leaf, &root.join("d").join(leaf.name()));
        }

        let scene = Self {
            _tmp: tmp,
            oracle: Oracle::new(&top),
            before: Snapshot::of(&top),
            top,
            root,
            flip,
            leaf,
            target,
            real: Cell::new((0, 0)),
            real_dir: RefCell::new(None),
        };
        scene.track_real(&scene.swapped());
        scene
    }

    /// What `op_chown` gives: [`CHOWN_ID`] as root, else the owner files already have
    /// (all a user may give, and no change to see, but the op still races).
    fn chown_to(&self) -> (u32, u32) {
        let meta = std::fs::metadata(&self.root).unwrap();
        match meta.uid() {
            0 => (CHOWN_ID, CHOWN_ID),
            uid => (uid, meta.gid()),
        }
    }

    /// Read and write access to `T/root` only.
    fn permissions(&self) -> FsPermissions {
        FsPermissions::default().allow_all(&self.root)
    }

    /// The absolute guest path of `rel` below the root.
    fn at(&self, rel: &str) -> String {
        format!("{}/{rel}", self.root.display())
    }

    /// The directory holding the entry that flips, and its name.
    fn family(&self) -> (PathBuf, &'static str) {
        match self.flip {
            Flip::Dir => (self.root.clone(), "d"),
            Flip::Last => (self.root.join("d"), self.leaf.name()),
        }
    }

    /// The entry that flips: `root/d` or `root/d/<leaf>`.
    fn swapped(&self) -> PathBuf {
        let (dir, name) = self.family();
        dir.join(name)
    }

    /// Where the flipper keeps its symlink while the real entry is in place.
    fn link_name(&self) -> PathBuf {
        let (dir, name) = self.family();
        dir.join(format!("{name}.link"))
    }

    /// Where the guest flipper parks the real entry while it swaps.
    fn stash_name(&self) -> PathBuf {
        let (dir, name) = self.family();
        dir.join(format!("{name}.real"))
    }

    /// What the swapped-in symlink points at: the same entry in `T/outside`.
    fn link_target(&self) -> PathBuf {
        let relative = match self.flip {
            Flip::Dir => PathBuf::from("../outside"),
            Flip::Last => Path::new("../../outside").join(self.leaf.name()),
        };
        match self.target {
            Target::Relative => relative,
            Target::Absolute => {
                let outside = self.top.join("outside");
                match self.flip {
                    Flip::Dir => outside,
                    Flip::Last => outside.join(self.leaf.name()),
                }
            }
        }
    }

    /// Remembers the entry at `path` as the real one the flipper swaps.
    fn track_real(&self, path: &Path) {
        self.real.set(id_of(path).unwrap());
        if let Flip::Dir = self.flip {
            *self.real_dir.borrow_mut() = Some(File::open(path).unwrap());
        }
    }

    /// Whether the root still is as the ops found it, looked at without pausing the
    /// flipper: the real entry and a symlink among the names it swaps, nothing else
    /// there, and the entries the ops remove or move. A swap meanwhile can fool it
    /// either way; the next iteration looks again.
    fn intact(&self) -> bool {
        let (mut real, mut link) = (false, false);
        for path in [self.swapped(), self.link_name(), self.stash_name()] {
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if (meta.dev(), meta.ino()) == self.real.get() {
                real = true;
            } else if meta.is_symlink() {
                link = true;
            } else {
                return false;
            }
        }
        let leaf = match &*self.real_dir.borrow() {
            Some(dir) => {
                rustix::fs::statat(dir, self.leaf.name(), AtFlags::SYMLINK_NOFOLLOW).is_ok()
            }
            None => true,
        };
        real && link && leaf && present(&self.root.join("plain"))
    }

    /// Puts the root back as the ops found it: the real entry and the symlink at the
    /// two names the flipper swaps, nothing at the stash name, and the files the ops
    /// remove or move. Runs while the flipper is paused (`_paused`) and no op runs,
    /// so the paths used here do not change under it; none of them leads outside.
    fn restore(&self, _paused: &MutexGuard<'_, ()>) {
        let (swapped, link, stash) = (self.swapped(), self.link_name(), self.stash_name());
        let is_real = |path: &Path| id_of(path) == Some(self.real.get());
        let is_link = |path: &Path| {
            !is_real(path) && std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_symlink())
        };
        let in_place = !present(&stash)
            && ((is_real(&swapped) && is_link(&link)) || (is_real(&link) && is_link(&swapped)));
        if !in_place {
            for path in [&swapped, &link, &stash] {
                if !is_real(path) {
                    remove_any(path);
                }
            }
            if is_real(&stash) {
                std::fs::rename(&stash, &swapped).unwrap();
            }
            if !is_real(&swapped) && !is_real(&link) {
                self.make_real(&swapped);
                self.track_real(&swapped);
            }
            let free = if is_real(&swapped) { &link } else { &swapped };
            symlink(self.link_target(), free).unwrap();
        }
        if let Flip::Dir = self.flip {
            let real_d = if is_real(&swapped) { &swapped } else { &link };
            let leaf = real_d.join(self.leaf.name());
            if !present(&leaf) {
                make_real_leaf(self.leaf, &leaf);
            }
        }
        let plain = self.root.join("plain");
        if !present(&plain) {
            std::fs::write(plain, "plain inside").unwrap();
        }
    }

    /// A new real entry for the one the flipper swaps (an op removed it).
    fn make_real(&self, path: &Path) {
        match self.flip {
            Flip::Dir => {
                std::fs::create_dir(path).unwrap();
                make_real_leaf(self.leaf, &path.join(self.leaf.name()));
            }
            Flip::Last => make_real_leaf(self.leaf, path),
        }
    }

    /// What changed in `T` outside `T/root` since the scenario was made, if anything.
    fn outside_changes(&self) -> Option<String> {
        let after = Snapshot::of(&self.top);
        let mut changes = Vec::new();
        for (path, was) in &self.before.0 {
            match after.0.get(path) {
                None => changes.push(format!("T/{path} is gone (was {was:?})")),
                Some(now) if now != was => changes.push(format!("T/{path}: {was:?} -> {now:?}")),
                Some(_) => {}
            }
        }
        for (path, now) in &after.0 {
            if !self.before.0.contains_key(path) {
                changes.push(format!("T/{path} is new: {now:?}"));
            }
        }
        let more = changes.len().saturating_sub(3);
        changes.truncate(3);
        if more > 0 {
            changes.push(format!("{more} more"));
        }
        (!changes.is_empty()).then(|| format!("outside changed: {}", changes.join("; ")))
    }
}

/// The real (inside) entry for `leaf` at `path`.
fn make_real_leaf(leaf: Leaf, path: &Path) {
    match leaf {
        Leaf::File => std::fs::write(path, "inside").unwrap(),
        Leaf::Dir => {
            std::fs::create_dir(path).unwrap();
            std::fs::write(path.join("inside-name"), "inside").unwrap();
        }
        Leaf::Symlink => symlink("inside-target", path).unwrap(),
    }
}

fn remove_any(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path).unwrap(),
        Ok(_) => std::fs::remove_file(path).unwrap(),
        Err(_) => {}
    }
}

/// Whether an entry (a symlink itself, not followed) is at `path`.
fn present(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// `(dev, ino)` of the entry at `path`, not following a symlink.
fn id_of(path: &Path) -> Option<(u64, u64)> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// Calls `visit` on `dir` and everything below it, never following a symlink.
fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) {
    visit(dir);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if std::fs::symlink_metadata(&path).unwrap().is_dir() {
            walk(&path, visit);
        } else {
            visit(&path);
        }
    }
}

/// `T` as seen from the host: every entry but what is below `T/root`, by path.
struct Snapshot(BTreeMap<String, Record>);

#[derive(PartialEq)]
struct Record {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: (i64, i64),
    /// A file's contents or a symlink's target.
    data: Vec<u8>,
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mode {:o}, owner {}:{}, mtime {}.{:09}, {:?}",
            self.mode,
            self.uid,
            self.gid,
            self.mtime.0,
            self.mtime.1,
            String::from_utf8_lossy(&self.data)
        )
    }
}

impl Snapshot {
    fn of(top: &Path) -> Self {
        let mut entries = BTreeMap::new();
        let mut record = |path: &Path| {
            let meta = std::fs::symlink_metadata(path).unwrap();
            let data = if meta.is_symlink() {
                std::fs::read_link(path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else if meta.is_file() {
                std::fs::read(path).unwrap()
            } else {
                Vec::new()
            };
            let record = Record {
                mode: meta.mode(),
                uid: meta.uid(),
                gid: meta.gid(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                data,
            };
            let name = path.strip_prefix(top).unwrap().display().to_string();
            entries.insert(name, record);
        };
        record(top);
        for entry in std::fs::read_dir(top).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name() == Some("root".as_ref()) {
                continue;
            }
            if std::fs::symlink_metadata(&path).unwrap().is_dir() {
                walk(&path, &mut record);
            } else {
                record(&path);
            }
        }
        Self(entries)
    }
}

// ---------------------------------------------------------------------------------
// The flippers
// ---------------------------------------------------------------------------------

/// A thread swapping the scene's entry with a symlink until stopped. Each swap (a
/// host exchange, or a guest's full cycle of renames) holds `gate`, so that the main
/// thread can pause it between two swaps to restore the scene.
struct Flipper {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    /// Set while the main thread waits for `gate`: the flipper then stays off it, so
    /// the wait is one swap at most.
    pausing: AtomicBool,
    gate: Mutex<()>,
}

impl Flipper {
    fn start(driver: Driver, scene: &Scene) -> Self {
        let shared = Arc::new(Shared::default());
        let (swapped, link, stash) = (scene.swapped(), scene.link_name(), scene.stash_name());
        let target = scene.link_target();
        let perms = scene.permissions();
        let (ready, started) = mpsc::channel();
        let flipping = Arc::clone(&shared);
        let thread = std::thread::spawn(move || match driver {
            Driver::Host => {
                symlink(&target, &link).unwrap();
                ready.send(()).unwrap();
                flipping.run(|| {
                    let _ =
                        rustix::fs::renameat_with(CWD, &swapped, CWD, &link, RenameFlags::EXCHANGE);
                });
            }
            Driver::Guest => {
                let rt = Runtime::new([opkit_fs::extension(perms)]).unwrap();
                let call = |op: &str, args: [&Path; 2]| {
                    let _ = rt.call_sync(op, json!(args).to_string().as_bytes(), &mut []);
                };
                call("op_symlink_sync", [&target, &link]);
                ready.send(()).unwrap();
                flipping.run(|| {
                    call("op_rename_sync", [&swapped, &stash]);
                    call("op_rename_sync", [&link, &swapped]);
                    call("op_rename_sync", [&swapped, &link]);
                    call("op_rename_sync", [&stash, &swapped]);
                });
            }
        });
        started.recv().expect("the flipper thread failed to start");
        Self {
            shared,
            thread: Some(thread),
        }
    }

    /// Waits for the current swap to finish and holds the flipper off until the guard
    /// drops.
    fn pause(&self) -> MutexGuard<'_, ()> {
        self.shared.pausing.store(true, Ordering::SeqCst);
        let held = self.shared.gate.lock().unwrap();
        self.shared.pausing.store(false, Ordering::SeqCst);
        held
    }

    /// Stops the thread and waits for it, failing if it panicked.
    fn stop(mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the flipper thread panicked");
        }
    }
}

impl Drop for Flipper {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Shared {
    /// Calls `swap` until stopped, each call under the gate.
    fn run(&self, mut swap: impl FnMut()) {
        while !self.stop.load(Ordering::SeqCst) {
            if self.pausing.load(Ordering::SeqCst) {
                std::thread::yield_now();
                continue;
            }
            let _held = self.gate.lock().unwrap();
            swap();
        }
    }
}
