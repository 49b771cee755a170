//! fs parity: `op_stat_async` and `op_read_file_async` against `tokio::fs` and
//! `std::fs` on the same files.

use criterion::{Criterion, criterion_group, criterion_main};
use opkit_benches::runtime;
use opkit_fs::{FsContext, FsPermissions};

fn fs(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("4k.bin"), vec![7_u8; 4 << 10]).unwrap();
    std::fs::write(root.join("1m.bin"), vec![7_u8; 1 << 20]).unwrap();
    let ctx = FsContext::new(FsPermissions::default().allow_all(&root)).with_cwd(&root);
    let rt = runtime(vec![opkit_fs::extension_with(ctx)]);

    let stat = rt.op_id("op_stat_async").unwrap();
    let path = root.join("4k.bin");
    let args = serde_json::to_vec(&[&path]).unwrap();
    let mut group = c.benchmark_group("fs_stat");
    group.bench_function("floor_std_fs", |b| {
        b.iter(|| std::fs::metadata(&path).unwrap().len())
    });
    group.bench_function("floor_tokio_fs", |b| {
        b.to_async(&tokio)
            .iter(|| async { tokio::fs::metadata(&path).await.unwrap().len() })
    });
    group.bench_function("opkit_op_stat_async", |b| {
        b.to_async(&tokio)
            .iter(|| async { rt.call_async(stat, &args, Vec::new()).await.result.unwrap() })
    });
    group.finish();

    let read = rt.op_id("op_read_file_async").unwrap();
    for (name, size) in [("4k.bin", 4_usize << 10), ("1m.bin", 1 << 20)] {
        let path = root.join(name);
        let args = serde_json::to_vec(&[&path]).unwrap();
        let mut group =
            c.benchmark_group(format!("fs_read_file_{}", name.trim_end_matches(".bin")));
        group.throughput(criterion::Throughput::Bytes(size as u64));
        group.bench_function("floor_std_fs", |b| b.iter(|| std::fs::read(&path).unwrap()));
        group.bench_function("floor_tokio_fs", |b| {
            b.to_async(&tokio)
                .iter(|| async { tokio::fs::read(&path).await.unwrap() })
        });
        group.bench_function("opkit_op_read_file_async", |b| {
            b.to_async(&tokio).iter(|| async {
                let bytes = rt.call_async(read, &args, Vec::new()).await.result.unwrap();
                assert_eq!(bytes.len(), size);
                bytes
            })
        });
        group.finish();
    }
}

criterion_group!(benches, fs);
criterion_main!(benches);
