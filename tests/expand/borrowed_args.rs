#![deny(warnings)]

use std::path::Path;

use opkit::op;

/// Joins a name onto a path; the suffix may be left out.
#[op]
pub fn op_join(dir: &Path, name: &str, parts: &[String], suffix: Option<String>) -> String {
    let mut out = dir.join(name).display().to_string();
    for part in parts {
        out.push_str(part);
    }
    out + suffix.as_deref().unwrap_or("")
}

fn main() {
    assert_eq!(op_join(Path::new("a"), "b", &[], None), "a/b");
}
