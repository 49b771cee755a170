//! Idle workers park: once the work is done and the workers have stopped spinning, the
//! process uses under 1 % of a core. Alone in its binary, so that no other test's
//! threads are counted.

use std::time::{Duration, Instant};

use opkit::{BatchedConfig, BatchedExecutor, Executor, Runtime, extension, op};

#[op]
fn op_nothing() {}

extension!(idle, ops = [op_nothing]);

/// The process's user + system CPU time, in clock ticks, from `/proc/self/stat`.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The command name may hold spaces; the fields after its closing parenthesis do
    // not. utime and stime are fields 14 and 15, the 12th and 13th after it.
    let (_, after) = stat.rsplit_once(')').unwrap();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields[11].parse().unwrap();
    let stime: u64 = fields[12].parse().unwrap();
    utime + stime
}

/// Clock ticks per second (`getconf CLK_TCK`).
fn ticks_per_second() -> u64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn idle_workers_park_and_cost_under_one_percent_of_a_core() {
    let per_second = ticks_per_second();
    // Workers that never retire, so what is measured is parked workers, not gone ones.
    let executor = BatchedExecutor::new(BatchedConfig {
        workers: 2,
        keep_alive: Duration::from_secs(3600),
        ..BatchedConfig::default()
    });
    let mut rt = Runtime::new([idle()]).unwrap();
    rt.state()
        .borrow_mut()
        .set_executor(Executor::Batched(executor.clone()));
    let id = rt.op_id("op_nothing_async").unwrap();
    for round in 0..10 {
        for n in 0..10_000 {
            rt.submit(round * 10_000 + n, id, b"[]", Vec::new());
        }
        let done = rt.run_until_idle().await;
        assert_eq!(done.len(), 10_000);
        assert!(done.iter().all(|c| c.result.is_ok()));
    }
    assert_eq!(executor.workers(), 2, "both workers are alive, parked");
    // Past the spin window (50 µs) by far, then three seconds of nothing.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let window = Duration::from_secs(3);
    let (start, ticks) = (Instant::now(), cpu_ticks());
    tokio::time::sleep(window).await;
    let used = cpu_ticks() - ticks;
    let elapsed = start.elapsed();
    let share = used as f64 / per_second as f64 / elapsed.as_secs_f64();
    assert!(
        share < 0.01,
        "idle, the process used {used} ticks in {elapsed:?}: {:.2} % of a core",
        share * 100.0
    );
    assert_eq!(
        executor.workers(),
        2,
        "the workers parked, they did not retire"
    );
}
