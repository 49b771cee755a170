//! `opkit run`: the README's command on `examples/hello.js`, nothing allowed without
//! flags (and the refusal names the flag), exit status 1 with the JS stack.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_opkit");
const HELLO: &str = include_str!("../../examples/hello.js");

/// A folder laid out as the repository is for the example: `examples/hello.js`.
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("examples")).unwrap();
    std::fs::write(dir.path().join("examples/hello.js"), HELLO).unwrap();
    dir
}

fn opkit(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(cwd)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

/// The README's block for `opkit run`, as the commands it holds.
fn readme_commands() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("```sh\nmkdir -p opkit-data\n")
        .expect("the README shows how to run examples/hello.js");
    let block = &readme[start + "```sh\n".len()..];
    let block = &block[..block.find("```").unwrap()];
    block.lines().map(str::to_owned).collect()
}

#[test]
fn the_readme_runs_hello_js() {
    let commands = readme_commands();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert_eq!(commands[0], "mkdir -p opkit-data");
    let args: Vec<&str> = commands[1]
        .strip_prefix("cargo run --release -p opkit-cli -- ")
        .expect("the second line runs the binary")
        .split_whitespace()
        .collect();
    assert_eq!(args[..2], ["run", "examples/hello.js"]);

    let dir = checkout();
    std::fs::create_dir_all(dir.path().join("opkit-data")).unwrap();
    let output = opkit(dir.path(), &args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "read back: hello from opkit",
            "hello.txt is a file of 16 bytes: true",
            "opkit-data holds: hello.txt",
        ]
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("opkit-data/hello.txt")).unwrap(),
        "hello from opkit"
    );
}

#[test]
fn nothing_is_allowed_without_flags_and_the_refusal_names_the_flag() {
    let dir = checkout();
    std::fs::create_dir(dir.path().join("opkit-data")).unwrap();
    let output = opkit(dir.path(), &["run", "examples/hello.js"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("PermissionDenied"), "{stderr}");
    assert!(stderr.contains("--allow-write=DIR"), "{stderr}");
    assert!(!dir.path().join("opkit-data/hello.txt").exists());

    let output = opkit(
        dir.path(),
        &["run", "examples/hello.js", "--allow-write=opkit-data"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--allow-read=DIR"), "{stderr}");
}

#[test]
fn an_uncaught_error_exits_1_with_its_stack() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fail.js"),
        "function deep() { throw new TypeError('no way'); }\nawait null;\ndeep();\n",
    )
    .unwrap();
    let output = opkit(dir.path(), &["run", "fail.js"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("TypeError: no way"), "{stderr}");
    assert!(
        stderr.contains("deep") && stderr.contains("fail.js:1"),
        "{stderr}"
    );
}

#[test]
fn an_import_outside_the_read_roots_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/main.js"), "import './lib.js';\n").unwrap();
    std::fs::write(dir.path().join("app/lib.js"), "console.log('lib ran');\n").unwrap();
    let output = opkit(dir.path(), &["run", "app/main.js"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("outside the read roots"), "{stderr}");
    assert!(output.stdout.is_empty());

    let output = opkit(dir.path(), &["run", "app/main.js", "--allow-read=app"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "lib ran\n");
}
