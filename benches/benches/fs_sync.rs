//! The sandbox's own cost: sync entries of opkit-fs, every check on, against `std::fs`
//! on the same files, by an absolute 4-component path and by a relative one.
//!
//! The process's cwd is the root, so that `std::fs` resolves the relative path from
//! the same directory as the runtime does.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use opkit::Runtime;
use opkit_benches::runtime;
use opkit_fs::{FsContext, FsPermissions, Resolver};

fn sandbox(root: &Path, resolver: Resolver) -> Runtime {
    let perms = FsPermissions::default()
        .allow_all(root)
        .resolve_with(resolver);
    runtime(vec![opkit_fs::extension_with(
        FsContext::new(perms).with_cwd(root),
    )])
}

fn fs_sync(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir(root.join("d")).unwrap();
    std::fs::write(root.join("d/4k.bin"), vec![7_u8; 4 << 10]).unwrap();
    std::env::set_current_dir(&root).unwrap();
    let abs = root.join("d/4k.bin");
    assert_eq!(abs.components().count(), 5, "/, tmp, .tmpX, d, 4k.bin");
    let rel = Path::new("d/4k.bin");
    let rt = sandbox(&root, Resolver::Openat2);
    let walk = sandbox(&root, Resolver::Walk);

    let stat = rt.op_id("op_stat_sync").unwrap();
    for (name, path) in [("abs", abs.as_path()), ("rel", rel)] {
        let args = serde_json::to_vec(&[path]).unwrap();
        let mut group = c.benchmark_group(format!("fs_sync_stat_{name}"));
        assert_eq!(std::fs::metadata(path).unwrap().len(), 4096);
        group.bench_function("floor_std_fs", |b| {
            b.iter(|| std::fs::metadata(black_box(path)).unwrap().len())
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
