//! Scripts on real files through the fs ops: write, read, stat, list, a file rid read
//! into a buffer; paths and module imports outside the roots refused.

mod common;

use common::{PRELUDE, run_in};
use opkit_fs::FsPermissions;

fn fs_all(root: &std::path::Path) -> opkit::Extension {
    opkit_fs::extension(FsPermissions::deny_all().allow_all(root))
}

#[test]
fn a_script_writes_reads_stats_and_lists_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_string_lossy().into_owned();
    let main = format!(
        r#"{PRELUDE}
const root = {root:?};
ops.op_write_text_file_sync(root + "/a.txt", "hello");
await ops.op_write_file_async(root + "/b.bin", new Uint8Array([1, 2, 3]));
eq(ops.op_read_text_file_sync(root + "/a.txt"), "hello", "text back");
eq(Array.from(await ops.op_read_file_async(root + "/b.bin")), [1, 2, 3], "bytes back");
const st = await ops.op_stat_async(root + "/a.txt");
eq([st.is_file, st.is_dir, st.size], [true, false, 5], "stat");
const names = ops.op_read_dir_sync(root).map((e) => e.name).sort();
eq(names, ["a.txt", "b.bin", "main.js"], "listing");
const rid = ops.op_open_sync(root + "/a.txt");
const buf = new Uint8Array(8);
const n = await ops.op_read_async(rid, buf);
eq(n, 5, "read count");
eq(String.fromCharCode(...buf.subarray(0, n)), "hello", "read into the buffer");
ops.op_close_sync(rid);
const missing = await rejects(ops.op_stat_async(root + "/nope"));
eq([missing.name, missing.code], ["NotFound", "ENOENT"], "missing file");
console.log("done");
"#
    );
    let outcome = run_in(dir.path(), vec![fs_all(dir.path())], &[("main.js", &main)]);
    assert_eq!(outcome.result, Ok(()), "errors: {:?}", outcome.errors);
    assert_eq!(outcome.lines, ["done"]);
    assert_eq!(
        std::fs::read(dir.path().join("b.bin")).expect("written"),
        [1, 2, 3]
    );
}

#[test]
fn a_path_outside_the_roots_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("secret.txt"), "secret").expect("file");
    let target = outside
        .path()
        .join("secret.txt")
        .to_string_lossy()
        .into_owned();
    let main = format!(
        r#"{PRELUDE}
const e = throws(() => ops.op_read_text_file_sync({target:?}));
eq(e.name, "PermissionDenied", "read outside");
const w = await rejects(ops.op_write_text_file_async({target:?}, "x"));
eq(w.name, "PermissionDenied", "write outside");
console.log("refused");
"#
    );
    let outcome = run_in(dir.path(), vec![fs_all(dir.path())], &[("main.js", &main)]);
    assert_eq!(outcome.result, Ok(()), "errors: {:?}", outcome.errors);
    assert_eq!(outcome.lines, ["refused"]);
    assert_eq!(
        std::fs::read_to_string(outside.path().join("secret.txt")).expect("file"),
        "secret"
    );
}

#[test]
fn relative_imports_inside_the_roots_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outcome = run_in(
        dir.path(),
        vec![],
        &[
            ("lib/math.js", "export const twice = (x) => x * 2;\n"),
            ("lib/index.js", "export { twice } from './math.js';\n"),
            (
                "main.js",
                "import { twice } from './lib/index.js';\nconsole.log(twice(21));\n",
            ),
        ],
    );
    assert_eq!(outcome.result, Ok(()));
    assert_eq!(outcome.lines, ["42"]);
}

#[test]
fn a_module_import_outside_the_roots_is_refused() {
    let parent = tempfile::tempdir().expect("temp dir");
    let root = parent.path().join("root");
    std::fs::create_dir(&root).expect("root");
    std::fs::write(parent.path().join("evil.js"), "console.log('ran');\n").expect("module");
    let outcome = run_in(&root, vec![], &[("main.js", "import '../evil.js';\n")]);
    let Err(err) = &outcome.result else {
        panic!("the import loaded")
    };
    assert!(err.to_string().contains("outside the read roots"), "{err}");
    assert!(outcome.lines.is_empty(), "{:?}", outcome.lines);
}

#[test]
fn a_symlinked_module_leading_outside_is_refused() {
    let parent = tempfile::tempdir().expect("temp dir");
    let root = parent.path().join("root");
    std::fs::create_dir(&root).expect("root");
    std::fs::write(parent.path().join("evil.js"), "console.log('ran');\n").expect("module");
    std::os::unix::fs::symlink(parent.path().join("evil.js"), root.join("link.js")).expect("link");
    let outcome = run_in(&root, vec![], &[("main.js", "import './link.js';\n")]);
    let Err(err) = &outcome.result else {
        panic!("the import loaded")
    };
    assert!(err.to_string().contains("outside the read roots"), "{err}");
    assert!(outcome.lines.is_empty());
}

#[test]
fn a_dynamic_import_outside_the_roots_rejects() {
    let parent = tempfile::tempdir().expect("temp dir");
    let root = parent.path().join("root");
    std::fs::create_dir(&root).expect("root");
    std::fs::write(parent.path().join("evil.js"), "console.log('ran');\n").expect("module");
    let outcome = run_in(
        &root,
        vec![],
        &[(
            "main.js",
            "try { await import('../evil.js'); } catch (e) { console.log(String(e.message).includes('outside the read roots')); }\n",
        )],
    );
    assert_eq!(outcome.result, Ok(()));
    assert_eq!(outcome.lines, ["true"]);
}

#[test]
fn a_main_module_outside_the_roots_is_refused() {
    let root = tempfile::tempdir().expect("temp dir");
    let other = tempfile::tempdir().expect("temp dir");
    std::fs::write(other.path().join("main.js"), "console.log('ran');\n").expect("module");
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio");
    let result = tokio_rt.block_on(async {
        let mut js = opkit_js::JsRuntime::new([])?;
        js.allow_modules_from(root.path())?;
        js.run_module(other.path().join("main.js")).await
    });
    let Err(opkit_js::JsError::Load(msg)) = result else {
        panic!("{result:?}")
    };
    assert!(msg.contains("outside the read roots"), "{msg}");
}

/// A folder on the import path is swapped, again and again while the script imports,
/// with a symlink leading out of the root (`renameat2(RENAME_EXCHANGE)`, atomic). A
/// check of the path followed by a read of it would now and then read outside; the
/// loader reads beneath the root's handle in one lookup, so no outside module ever
/// runs, whatever the interleaving.
#[test]
fn a_folder_swapped_for_a_symlink_during_imports_never_loads_outside() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    const MODULES: usize = 500;
    let parent = tempfile::tempdir().expect("temp dir");
    let (root, outside) = (parent.path().join("root"), parent.path().join("outside"));
    let safe = root.join("safe");
    for dir in [&safe, &outside] {
        std::fs::create_dir_all(dir).expect("folder");
    }
    for i in 0..MODULES {
        std::fs::write(safe.join(format!("m{i}.js")), "globalThis.loaded += 1;\n").expect("in");
        let evil = "globalThis.escaped += 1;\n";
        std::fs::write(outside.join(format!("m{i}.js")), evil).expect("out");
    }
    std::os::unix::fs::symlink(&outside, root.join("evil")).expect("link");

    let (done, swaps) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let swapper = {
        let (done, swaps, root) = (done.clone(), swaps.clone(), root.clone());
        std::thread::spawn(move || {
            let (a, b) = (root.join("safe"), root.join("evil"));
            while !done.load(Ordering::Relaxed) || swaps.load(Ordering::Relaxed) % 2 == 1 {
                let cwd = rustix::fs::CWD;
                rustix::fs::renameat_with(cwd, &a, cwd, &b, rustix::fs::RenameFlags::EXCHANGE)
                    .expect("exchange");
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let main = format!(
        r#"globalThis.loaded = 0; globalThis.escaped = 0;
let refused = 0;
for (let i = 0; i < {MODULES}; i++) {{
  try {{ await import(`./safe/m${{i}}.js`); }}
  catch (err) {{
    if (!String(err.message).includes("outside the read roots")) throw err;
    refused += 1;
  }}
}}
console.log(JSON.stringify({{ loaded, escaped, refused }}));
"#
    );
    let outcome = run_in(&root, vec![], &[("main.js", &main)]);
    done.store(true, Ordering::Relaxed);
    swapper.join().expect("swapper");
    assert_eq!(outcome.result, Ok(()), "{:?}", outcome.errors);
    let [line] = &outcome.lines[..] else {
        panic!("{:?}", outcome.lines)
    };
    let counts: serde_json::Value = serde_json::from_str(line).expect("counts");
    assert_eq!(counts["escaped"], 0, "an outside module ran: {counts}");
    let (loaded, refused) = (counts["loaded"].as_u64(), counts["refused"].as_u64());
    assert_eq!(
        loaded.zip(refused).map(|(l, r)| l + r),
        Some(MODULES as u64),
        "{counts}"
    );
    eprintln!("{counts}, {} swaps", swaps.load(Ordering::Relaxed));
}
