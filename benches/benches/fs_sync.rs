//! The sandbox's own cost: sync entries of opkit-fs, every check on, against `std::fs`
//! on the same files, by an absolute 4-component path and by a relative one.
//!
//! The process's cwd is the root, so that `std::fs` resolves the relative path from
//! the same directory as the runtime does.

use std::hint::black_box;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use opkit::Runtime;
use opkit_benches::runtime;
use opkit_fs::{FileKind, FsContext, FsPermissions, FsStat, Resolver};
use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags, StatxFlags};

fn sandbox(root: &Path, resolver: Resolver) -> Runtime {
    let perms = FsPermissions::default()
        .allow_all(root)
        .resolve_with(resolver);
    runtime(vec![opkit_fs::extension_with(
        FsContext::new(perms).with_cwd(root),
    )])
}

/// `std::fs::metadata` as `op_stat` answers it, 18 fields of JSON: the floor that
/// tells the sandbox's own cost from the cost of the answer.
fn stat_as_json(path: &Path, out: &mut Vec<u8>) {
    let meta = std::fs::metadata(path).unwrap();
    let ms = |time: std::io::Result<SystemTime>| {
        let since = time.ok()?.duration_since(UNIX_EPOCH).ok()?;
        Some(since.as_secs_f64() * 1000.0)
    };
    let stat = FsStat {
        kind: FileKind::File,
        is_file: meta.is_file(),
        is_dir: meta.is_dir(),
        is_symlink: false,
        size: meta.len(),
        mode: meta.mode() & 0o7777,
        mtime: ms(meta.modified()),
        atime: ms(meta.accessed()),
        ctime: Some(meta.ctime() as f64 * 1000.0 + meta.ctime_nsec() as f64 / 1e6),
        birthtime: ms(meta.created()),
        dev: meta.dev(),
        ino: meta.ino(),
        nlink: meta.nlink(),
        uid: meta.uid(),
        gid: meta.gid(),
        rdev: meta.rdev(),
        blksize: meta.blksize(),
        blocks: meta.blocks(),
    };
    serde_json::to_writer(out, &stat).unwrap();
}

fn fs_sync(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir(root.join("d")).unwrap();
    std::fs::write(root.join("d/4k.bin"), vec![7_u8; 4 << 10]).unwrap();
    std::fs::write(root.join("4k.bin"), vec![7_u8; 4 << 10]).unwrap();
    std::env::set_current_dir(&root).unwrap();
    let abs = root.join("d/4k.bin");
    assert_eq!(abs.components().count(), 5, "/, tmp, .tmpX, d, 4k.bin");
    let rel = Path::new("d/4k.bin");
    // A name in the root itself: `op_stat` answers it with one `statx` on the root's
    // handle, which shows what the sandbox costs besides its extra syscalls.
    let top = Path::new("4k.bin");
    let rt = sandbox(&root, Resolver::Openat2);
    let walk = sandbox(&root, Resolver::Walk);

    let stat = rt.op_id("op_stat_sync").unwrap();
    for (name, path) in [("abs", abs.as_path()), ("rel", rel), ("top", top)] {
        let args = serde_json::to_vec(&[path]).unwrap();
        let mut group = c.benchmark_group(format!("fs_sync_stat_{name}"));
        assert_eq!(std::fs::metadata(path).unwrap().len(), 4096);
        group.bench_function("floor_std_fs", |b| {
            b.iter(|| std::fs::metadata(black_box(path)).unwrap().len())
        });
        // What resolving beneath a handle costs the kernel, and nothing else: the
        // syscalls `op_stat` makes, by hand.
        let beneath = path.strip_prefix(&root).unwrap_or(path);
        let handle =
            rustix::fs::open(&root, OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
        group.bench_function("floor_openat2_statx_close", |b| {
            b.iter(|| {
                let how = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
                let fd = rustix::fs::openat2(
                    &handle,
                    black_box(beneath),
                    OFlags::PATH | OFlags::CLOEXEC,
                    Mode::empty(),
                    how,
                )
                .unwrap();
                rustix::fs::statx(
                    &fd,
                    "",
                    AtFlags::EMPTY_PATH,
                    StatxFlags::BASIC_STATS | StatxFlags::BTIME,
                )
                .unwrap()
                .stx_size
            })
        });
        let mut json = Vec::new();
        group.bench_function("floor_std_fs_json", |b| {
            b.iter(|| {
                json.clear();
                stat_as_json(black_box(path), &mut json);
            })
        });
        for (subject, rt) in [
            ("opkit_op_stat_sync", &rt),
            ("opkit_op_stat_sync_walk", &walk),
        ] {
            let out = rt.call_sync(stat, &args, &mut []).unwrap();
            let out: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(out["size"], 4096);
            let mut out = Vec::new();
            group.bench_function(subject, |b| {
                b.iter(|| {
                    out.clear();
                    rt.call_sync_into(stat, black_box(&args), &mut [], &mut out)
                        .unwrap();
                })
            });
        }
        group.finish();
    }

    let read = rt.op_id("op_read_file_sync").unwrap();
    for (name, path) in [("abs", abs.as_path()), ("rel", rel)] {
        let args = serde_json::to_vec(&[path]).unwrap();
        let mut group = c.benchmark_group(format!("fs_sync_read_file_4k_{name}"));
        group.bench_function("floor_std_fs", |b| {
            b.iter(|| std::fs::read(black_box(path)).unwrap())
        });
        assert_eq!(rt.call_sync(read, &args, &mut []).unwrap().len(), 4096);
        group.bench_function("opkit_op_read_file_sync", |b| {
            b.iter(|| rt.call_sync(read, black_box(&args), &mut []).unwrap())
        });
        group.finish();
    }

    let open = rt.op_id("op_open_sync").unwrap();
    let close = rt.op_id("op_close_sync").unwrap();
    for (name, path) in [("abs", abs.as_path()), ("rel", rel)] {
        let args = serde_json::to_vec(&[path]).unwrap();
        let mut group = c.benchmark_group(format!("fs_sync_open_close_{name}"));
        group.bench_function("floor_std_fs", |b| {
            b.iter(|| drop(std::fs::File::open(black_box(path)).unwrap()))
        });
        let (mut rid, mut out) = (Vec::new(), Vec::new());
        group.bench_function("opkit_op_open_close_sync", |b| {
            b.iter(|| {
                rid.clear();
                rid.push(b'[');
                rt.call_sync_into(open, black_box(&args), &mut [], &mut rid)
                    .unwrap();
                rid.push(b']');
                out.clear();
                rt.call_sync_into(close, &rid, &mut [], &mut out).unwrap();
            })
        });
        group.finish();
    }
    // Every rid the loop opened was closed.
    let listed = rt.call_sync("op_resources_sync", b"[]", &mut []).unwrap();
    assert_eq!(listed, b"[]", "{}", String::from_utf8_lossy(&listed));
}

criterion_group!(benches, fs_sync);
criterion_main!(benches);
