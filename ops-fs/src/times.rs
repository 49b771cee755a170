//! Times on the wire: milliseconds since the Unix epoch, as a JSON number.

use opkit::OpError;
use rustix::fs::Timespec;
use rustix::fs::Timestamps;

use crate::context::invalid_argument;

/// The range of a JavaScript `Date`: ±100,000,000 days around the epoch.
const MAX_MS: f64 = 8.64e15;

/// A time argument in milliseconds since the epoch (fractions kept to the nanosecond).
pub(crate) fn file_time(ms: f64) -> Result<Timespec, OpError> {
    if !ms.is_finite() || ms.abs() > MAX_MS {
        return Err(invalid_argument(format!(
            "a time is milliseconds since the epoch within ±{MAX_MS:e}, not {ms}"
        )));
    }
    let secs = (ms / 1000.0).floor();
    // Both casts are in range: |secs| <= 8.64e12 and 0 <= nanos < 1e9.
    let nanos = ((ms - secs * 1000.0) * 1e6)
        .round()
        .clamp(0.0, 999_999_999.0);
    Ok(Timespec {
        tv_sec: secs as i64,
        tv_nsec: nanos as _,
    })
}

/// The access and modification times of a `utime` call.
pub(crate) fn timestamps(atime: f64, mtime: f64) -> Result<Timestamps, OpError> {
    Ok(Timestamps {
        last_access: file_time(atime)?,
        last_modification: file_time(mtime)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_become_seconds_and_nanos() {
        let t = file_time(1_500.25).unwrap();
        assert_eq!((t.tv_sec, t.tv_nsec), (1, 500_250_000));
        let t = file_time(-1.0).unwrap();
        assert_eq!((t.tv_sec, t.tv_nsec), (-1, 999_000_000));
        assert!(file_time(f64::NAN).is_err());
        assert!(file_time(1e300).is_err());
    }
}
