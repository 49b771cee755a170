//! Runs a script written into a fresh folder and collects its console lines.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use opkit::Extension;
use opkit_js::{ConsoleLevel, JsError, JsRuntime};

/// What a script printed, and how it ended.
pub struct Outcome {
    pub lines: Vec<String>,
    pub errors: Vec<String>,
    pub result: Result<(), JsError>,
}

/// Writes `files` (name, source) into `dir`, runs `main.js` with `dir` as the module
/// root.
pub fn run_in(dir: &Path, extensions: Vec<Extension>, files: &[(&str, &str)]) -> Outcome {
    for (name, source) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("test folder");
        }
        std::fs::write(path, source).expect("test script");
    }
    let lines = Rc::new(RefCell::new((Vec::new(), Vec::new())));
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = tokio_rt.block_on(async {
        let mut js = JsRuntime::new(extensions)?;
        js.allow_modules_from(dir)?;
        let sink = lines.clone();
        js.on_console(move |level, line| {
            let mut sink = sink.borrow_mut();
            match level {
                ConsoleLevel::Log => sink.0.push(line.to_owned()),
                ConsoleLevel::Error => sink.1.push(line.to_owned()),
            }
        });
        js.run_module(dir.join("main.js")).await
    });
    let (lines, errors) = lines.take();
    Outcome {
        lines,
        errors,
        result,
    }
}

/// `run_in` a new temporary folder.
#[allow(dead_code)] // not every test file uses it
pub fn run(extensions: Vec<Extension>, main: &str) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    run_in(dir.path(), extensions, &[("main.js", main)])
}

/// An `assert(cond, what)` and `eq(a, b)` for scripts.
pub const PRELUDE: &str = r#"
const ops = opkit.ops;
function eq(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: got ${a}, expected ${e}`);
}
async function rejects(promise) {
  try { await promise; } catch (err) { return err; }
  throw new Error("expected a rejection");
}
function throws(f) {
  try { f(); } catch (err) { return err; }
  throw new Error("expected a throw");
}
"#;
