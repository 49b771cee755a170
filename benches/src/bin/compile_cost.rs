//! Compile cost of `#[op]`: a generated crate of 200 ops against the same 200 plain
//! functions. Prints the `cargo build` time of each (median of 3, dependencies built
//! beforehand) and the expanded lines per op, and writes them to
//! `target/criterion/compile_cost.json` for the report.
//!
//! `cargo run --release -p opkit-benches --bin compile_cost`

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const OPS: usize = 200;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn write_crate(dir: &Path, name: &str, with_ops: bool) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let core = workspace().join("core").canonicalize().unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nopkit = {{ path = {:?} }}\n\n[workspace]\n",
            core.display().to_string()
        ),
    )
    .unwrap();
    let mut src = String::from("#![allow(dead_code)]\nuse opkit::OpError;\n\n");
    for i in 0..OPS {
        if with_ops {
            src += "#[opkit::op]\n";
        }
        let _ = writeln!(
            src,
            "/// Op {i}.\npub fn op_{i}(a: i64, b: &str, c: Option<u32>) -> Result<String, OpError> {{\n    \
             Ok(format!(\"{{b}}{{}}\", a + {i} + i64::from(c.unwrap_or(0))))\n}}\n"
        );
    }
    if with_ops {
        let names: Vec<String> = (0..OPS).map(|i| format!("op_{i}")).collect();
        let _ = writeln!(
            src,
            "opkit::extension!(pub generated, ops = [{}]);",
            names.join(", ")
        );
    }
    std::fs::write(dir.join("src/lib.rs"), src).unwrap();
}

fn cargo(dir: &Path, target: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_INCREMENTAL", "0")
        // Measurement only: lets the stable compiler print its expansion
        // (`-Zunpretty=expanded`); it changes nothing else.
        .env("RUSTC_BOOTSTRAP", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn build_time(dir: &Path, target: &Path) -> Duration {
    let mut times: Vec<Duration> = (0..3)
        .map(|_| {
            // A new mtime makes cargo rebuild this crate, and only it.
            let lib = dir.join("src/lib.rs");
            let text = std::fs::read(&lib).unwrap();
            std::fs::write(&lib, text).unwrap();
            let start = Instant::now();
            cargo(dir, target, &["build", "--offline", "-q"]);
            start.elapsed()
        })
        .collect();
    times.sort();
    times[1]
}

/// Lines of the crate after macro expansion, as rustc pretty-prints it.
fn expanded_lines(dir: &Path, target: &Path) -> usize {
    let args = [
        "rustc",
        "--offline",
        "-q",
        "--lib",
        "--",
        "-Zunpretty=expanded",
    ];
    let out = cargo(dir, target, &args);
    out.stdout.iter().filter(|&&b| b == b'\n').count()
}

fn main() {
    let root = workspace().join("target/compile-cost");
    let target = root.join("target");
    let ops = root.join("ops200");
    let plain = root.join("plain200");
    write_crate(&ops, "ops200", true);
    write_crate(&plain, "plain200", false);
    // Dependencies first, so that only the crates themselves are timed.
    cargo(&ops, &target, &["build", "--offline", "-q"]);
    cargo(&plain, &target, &["build", "--offline", "-q"]);
    let ops_time = build_time(&ops, &target);
    let plain_time = build_time(&plain, &target);
    let per_op =
        (expanded_lines(&ops, &target) - expanded_lines(&plain, &target)) as f64 / OPS as f64;
    let ratio = ops_time.as_secs_f64() / plain_time.as_secs_f64();
    println!("cargo build, {OPS} #[op] fns: {ops_time:?}");
    println!("cargo build, {OPS} plain fns: {plain_time:?}");
    println!("ratio: {ratio:.2}; expanded lines per op: {per_op:.0}");
    let json = serde_json::json!({
        "ops_secs": ops_time.as_secs_f64(),
        "plain_secs": plain_time.as_secs_f64(),
        "ratio": ratio,
        "lines_per_op": per_op,
    });
    let out = workspace().join("target/criterion");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("compile_cost.json"), json.to_string()).unwrap();
}
