//! The blocking hop of an async entry, against bare `spawn_blocking`; and the event
//! loop with 10,000 calls in flight, against a `JoinSet` of 10,000 blocking no-ops and
//! against a `FuturesUnordered` of the same.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use opkit_benches::{joinset_noops, runtime};

const IN_FLIGHT: u64 = 10_000;

fn async_hop(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rt = runtime(Vec::new());
    let id = rt.op_id("op_nothing_async").unwrap();
    let mut group = c.benchmark_group("async_hop");
    group.bench_function("floor_spawn_blocking", |b| {
        b.to_async(&tokio)
            .iter(|| async { tokio::task::spawn_blocking(|| ()).await.unwrap() })
    });
    group.bench_function("opkit_async_entry", |b| {
        b.to_async(&tokio).iter(|| async {
            let out = rt.call_async(id, b"[]", Vec::new()).await;
            out.result.unwrap()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("event_loop_10k");
    group.throughput(Throughput::Elements(IN_FLIGHT));
    group.sample_size(20);
    group.bench_function("floor_joinset", |b| {
        b.to_async(&tokio).iter(|| joinset_noops(IN_FLIGHT))
    });
    // The host-thread set opkit itself uses: it holds `!Send` futures, which a
    // `JoinSet` cannot.
    group.bench_function("floor_futures_unordered", |b| {
        b.to_async(&tokio).iter(|| async {
            let mut set = FuturesUnordered::new();
            for _ in 0..IN_FLIGHT {
                set.push(tokio::task::spawn_blocking(|| ()));
            }
            let mut done = 0;
            while set.next().await.is_some() {
                done += 1;
            }
            assert_eq!(done, IN_FLIGHT);
        })
    });
    let mut looped = runtime(Vec::new());
    group.bench_function("opkit_submit_completions", |b| {
        b.iter(|| {
            tokio.block_on(async {
                for promise in 0..IN_FLIGHT {
                    looped.submit(promise, id, b"[]", Vec::new());
                }
                let done = looped.run_until_idle().await;
                assert_eq!(done.len() as u64, IN_FLIGHT);
            })
        })
    });
    group.finish();
}

criterion_group!(benches, async_hop);
criterion_main!(benches);
