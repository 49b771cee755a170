//! The TypeScript output: `docs/opkit.ts` is what `opkit docs --format ts` prints
//! (`OPKIT_BLESS=1` rewrites it); it passes `tsc --strict`, which also refuses calls
//! that break its types; and a node script built on its client calls a live
//! `opkit serve`, as does the README's example. These need `npm ci --prefix clients`
//! first (TypeScript), as CI runs it, and Node 20.

mod common;

use std::io::Read as _;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use common::{BIN, PATIENCE, Server, repo};
use serde_json::{Value, json};

fn typescript() -> String {
    let out = Command::new(BIN)
        .args(["docs", "--format", "ts"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `tsc` of `clients/node_modules`; fails, saying what to run, when it is missing.
fn tsc() -> Command {
    let tsc = repo().join("clients/node_modules/typescript/bin/tsc");
    assert!(
        tsc.is_file(),
        "clients/node_modules is missing: run `npm ci --prefix clients` (Node 20) before the tests"
    );
    let mut command = Command::new("node");
    command.arg(tsc);
    command
}

/// Runs `command` to its end, within a generous bound.
fn finish(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (Node 20 is needed for this test)");
    let mut pipes = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    ]
    .map(|pipe| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    })
    .into_iter();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > PATIENCE {
            let _ = child.kill();
            panic!("{command:?} did not end within {PATIENCE:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut read = || pipes.next().map(|h| h.join().unwrap()).unwrap_or_default();
    Output {
        status,
        stdout: read(),
        stderr: read(),
    }
}

/// `node`, with the global `WebSocket` the client defaults to: Node 20 has it behind
/// `--experimental-websocket`, Node 22 by default.
fn node() -> Command {
    let has_websocket = Command::new("node")
        .args([
            "-e",
            "process.exit(typeof WebSocket === 'function' ? 0 : 1)",
        ])
        .status()
        .expect("node runs (Node 20 is needed for this test)")
        .success();
    let mut command = Command::new("node");
    if !has_websocket {
        command.arg("--experimental-websocket");
    }
    command
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A folder with `clients/tsconfig.json`'s options, compiling `files` of it, with
/// the fresh `opkit.ts` beside them and `package.json` making the output ES modules.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(repo().join("clients/tsconfig.json")).unwrap();
    let mut config: Value = serde_json::from_str(&config).unwrap();
    config["compilerOptions"]["rootDir"] = ".".into();
    let mut names = vec!["opkit.ts"];
    names.extend(files.iter().map(|(name, _)| *name));
    config["files"] = names.into();
    std::fs::write(dir.path().join("tsconfig.json"), config.to_string()).unwrap();
    std::fs::write(dir.path().join("package.json"), r#"{"type":"module"}"#).unwrap();
    std::fs::write(dir.path().join("opkit.ts"), typescript()).unwrap();
    for (name, source) in files {
        std::fs::write(dir.path().join(name), source).unwrap();
    }
    dir
}

#[test]
fn committed_typescript_is_fresh() {
    common::assert_committed_is_fresh("docs/opkit.ts", &typescript(), "ts");
}

#[test]
fn tsc_strict_accepts_the_declarations_and_the_smoke_script() {
    let mut command = tsc();
    command
        .args(["--strict", "--noEmit", "-p"])
        .arg(repo().join("clients/tsconfig.json"));
    let out = finish(command);
    assert!(out.status.success(), "tsc: {}", text(&out));
}

/// The types are no `any`: each call below breaks them, and tsc says so where the
/// comment expects it (an expectation that is not met fails the compile too).
#[test]
fn tsc_refuses_calls_that_break_the_types() {
    let misuse = r#"import { HttpClient, OpError, type Ops } from "./opkit.js";
const client = new HttpClient("http://127.0.0.1:8765/");
// @ts-expect-error a path is a string
await client.call("op_stat_sync", [7]);
// @ts-expect-error a required argument is missing
await client.call("op_chmod_sync", ["a.txt"]);
// @ts-expect-error `op_read` takes its buffer
await client.call("op_read_sync", [3]);
// @ts-expect-error a buffer is a Uint8Array
await client.call("op_write_sync", [3], "bytes");
// @ts-expect-error no such entry
await client.call("op_nothing_sync", []);
// Optional trailing arguments may be left out; results are typed.
const made: string = await client.call("op_make_temp_dir_sync", []);
const size: number = (await client.call("op_stat_async", ["a.txt"])).size;
const bytes: Uint8Array = await client.call("op_read_file_sync", ["a.txt"]);
// @ts-expect-error `kind` is one of the kinds
const kind: Ops["op_stat_sync"]["result"]["kind"] = "folder";
try {
  await client.call("op_cwd_sync", []);
} catch (err) {
  if (err instanceof OpError) {
    // @ts-expect-error a class is one of the classes
    const class_: typeof err.class = "Oops";
    const code: string | null = err.code;
    console.log(class_, code);
  }
}
console.log(made, size, bytes, kind);
"#;
    let dir = project(&[("misuse.ts", misuse)]);
    let mut command = tsc();
    command.args(["--noEmit", "-p"]).arg(dir.path());
    let out = finish(command);
    assert!(out.status.success(), "tsc: {}", text(&out));

    // And without the comments, each line is an error.
    let broken = misuse.replace("// @ts-expect-error", "//");
    let dir = project(&[("misuse.ts", &broken)]);
    let mut command = tsc();
    command.args(["--noEmit", "-p"]).arg(dir.path());
    let out = finish(command);
    assert!(!out.status.success(), "tsc passed broken calls");
    let errors = text(&out).matches("error TS").count();
    assert_eq!(errors, 7, "tsc: {}", text(&out));
}

/// Compiles the committed client and `clients/ts-smoke.ts` and runs the script
/// against a live server.
#[test]
fn a_node_script_calls_a_live_server_through_the_client() {
    let out_dir = tempfile::tempdir().unwrap();
    let mut command = tsc();
    command
        .arg("-p")
        .arg(repo().join("clients/tsconfig.json"))
        .arg("--outDir")
        .arg(out_dir.path());
    let out = finish(command);
    assert!(out.status.success(), "tsc: {}", text(&out));
    std::fs::write(out_dir.path().join("package.json"), r#"{"type":"module"}"#).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let server = Server::start(dir.path(), &["--allow-read", data, "--allow-write", data]);
    let mut command = node();
    command
        .arg(out_dir.path().join("clients/ts-smoke.js"))
        .args([
            &server.base,
            server.token.as_deref().unwrap_or_default(),
            data,
        ]);
    let out = finish(command);
    assert!(out.status.success(), "node: {}", text(&out));
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|err| panic!("{err}: {}", text(&out)));
    assert_eq!(
        report,
        json!({
            "stat": {"size": 12, "kind": "file", "is_file": true},
            "bytes": "hello, opkit",
            "bytesIsUint8Array": true,
            "written": 5,
            "position": 1,
            "read": 4,
            // The buffer passed was filled as the op left it.
            "buffer": [1, 2, 250, 255, 0, 0, 0, 0],
            "exists": true,
            "missing": false,
            "notFound": {"type": "OpError", "class": "NotFound", "code": "ENOENT",
                "op": "op_stat", "rpcCode": -32000},
            "typeError": {"type": "OpError", "class": "TypeError", "code": null,
                "op": "op_stat", "rpcCode": -32602},
            "badToken": {"type": "RpcError", "rpcCode": 0, "message":
                "HTTP 401: opkit: send the server's token: `Authorization: Bearer TOKEN`, or `?token=TOKEN` in a WebSocket URL"},
        })
    );
    assert_eq!(
        std::fs::read(dir.path().join("bytes.bin")).unwrap(),
        [0, 1, 2, 250, 255]
    );
    let log = server.stop();
    assert!(!log.contains("panicked"), "{log}");
}

/// The README's TypeScript example, as written but for the server's address and
/// token, compiles under `--strict` and runs against `opkit serve` in its default
/// folder.
#[test]
fn the_readme_typescript_example_runs() {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("```ts\nimport")
        .expect("the README shows the TypeScript client");
    let example = &readme[start + "```ts\n".len()..];
    let example = &example[..example.find("```").unwrap()];

    let folder = tempfile::tempdir().unwrap();
    let server = Server::start(folder.path(), &[]);
    let token = server.token.clone().unwrap_or_default();
    let ws = server.base.replacen("http://", "ws://", 1);
    let example = example
        .replace("\"http://127.0.0.1:8765/\"", &format!("{:?}", server.base))
        .replace("\"ws://127.0.0.1:8765/\"", &format!("{ws:?}"))
        .replace("\"TOKEN-FROM-OPKIT-SERVE\"", &format!("{token:?}"));
    assert!(!example.contains("8765"), "the example's addresses changed");

    let dir = project(&[("example.ts", &example)]);
    let mut command = tsc();
    command.arg("-p").arg(dir.path());
    let out = finish(command);
    assert!(out.status.success(), "tsc: {}", text(&out));
    let mut command = node();
    command.arg(dir.path().join("example.js"));
    let out = finish(command);
    assert!(out.status.success(), "node: {}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "5 file\nhello\nNotFound ENOENT\n"
    );
    server.stop();
}
