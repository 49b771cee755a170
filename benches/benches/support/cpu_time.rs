//! A criterion measurement of the process's CPU time, shared by the benches that time
//! work on threads (`#[path]`-included: bench targets share no crate of their own).

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use rustix::time::{ClockId, clock_gettime};

/// The process's CPU time, every thread, user and system: what the workers' spinning
/// and wake-ups cost besides the work.
pub struct CpuTime;

fn process_cpu() -> Duration {
    let now = clock_gettime(ClockId::ProcessCPUTime);
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

impl Measurement for CpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        process_cpu()
    }

    fn end(&self, start: Duration) -> Duration {
        process_cpu().saturating_sub(start)
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        // Nanoseconds either way: the wall clock's formatter reads them right.
        WALL.formatter()
    }
}

static WALL: WallTime = WallTime;
