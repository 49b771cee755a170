//! Path resolution against a model.
//!
//! An input is a small tree of directories, files and symlinks (some pointing out of
//! the root, to another root, to absolute paths, to themselves) under a read root, a
//! runtime cwd, a resolver (`openat2` or the walk), and paths looked up with the real
//! `op_stat`, `op_lstat`, `op_read_file` and `op_realpath` through a `Runtime`. The
//! paths are made of parts that mean something in the tree, or are arbitrary strings.
//!
//! Properties:
//!
//! - nothing resolves outside the roots: whatever an op reaches (the `(dev, ino)` it
//!   reports, the bytes it reads, the path it gives) is one of the roots' own entries,
//!   never the file outside or the scratch folder above them;
//! - it is exactly what the model resolves: the path made absolute against the cwd,
//!   each `..` applied to the spelling where it climbs a directory known to be real
//!   (the cwd's, or one above the roots), the root chosen by that spelling, and the
//!   rest resolved beneath it as the kernel's `RESOLVE_BENEATH` does (a `..` above the
//!   root, an absolute symlink or one leading out, and more than 40 symlinks refused);
//! - every refusal is `PermissionDenied` (the path is spelled or leads outside its
//!   root, or loops), every missing entry `NotFound`; the other errors are the ones a
//!   path inside the root gives by itself (`NotADirectory` for a file used as one,
//!   `IsADirectory` for reading a directory, `ENAMETOOLONG`, a NUL byte).
//!
//! The model is written from the documentation of `FsContext` and `FsPermissions`
//! and from the kernel's path-walk rules, not from `beneath.rs`.

#![no_main]

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use opkit::{DispatchTable, ErrorClass, OpError, Runtime};
use opkit_fs::{FsContext, FsPermissions, Resolver};

/// The file outside every root, and what it holds.
const SECRET: &[u8] = b"secret: outside every root";

/// Linux's limit on symlinks followed in one lookup.
const MAX_SYMLINKS: usize = 40;

#[derive(Debug)]
struct Input {
    walk: bool,
    cwd: Cwd,
    nodes: Vec<NodeSpec>,
    lookups: Vec<Lookup>,
}

/// By hand, so that every input looks something up: derived, the lookups would come
/// last and most inputs would build a tree and check nothing.
impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let walk = u.arbitrary()?;
        let cwd = u.arbitrary()?;
        let lookups = (0..u.int_in_range(1..=6)?)
            .map(|_| u.arbitrary())
            .collect::<arbitrary::Result<_>>()?;
        let nodes = (0..u.int_in_range(0..=16)?)
            .map(|_| u.arbitrary())
            .collect::<arbitrary::Result<_>>()?;
        Ok(Input {
            walk,
            cwd,
            nodes,
            lookups,
        })
    }
}

#[derive(Arbitrary, Debug)]
struct NodeSpec {
    /// Which directory made so far (the root first) it goes in.
    parent: u8,
    name: Name,
    kind: KindSpec,
}

#[derive(Arbitrary, Debug)]
enum KindSpec {
    Dir,
    File,
    Link(PathSpec),
}

/// Where the runtime's cwd is: in the root (one of its directories), or outside it.
#[derive(Arbitrary, Debug)]
enum Cwd {
    Root,
    Dir(u8),
    Base,
    Outside,
}

#[derive(Arbitrary, Debug)]
struct Lookup {
    op: Op,
    path: GuestSpec,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Op {
    Stat,
    Lstat,
    ReadFile,
    Realpath,
}

#[derive(Arbitrary, Debug)]
enum GuestSpec {
    Parts(PathSpec),
    Raw(String),
}

/// A path made of parts: an anchor, names, `.`, `..` and empty parts (`//`), and what
/// it ends in.
#[derive(Arbitrary, Debug)]
struct PathSpec {
    anchor: Anchor,
    parts: Vec<Part>,
    end: End,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Anchor {
    Relative,
    /// The root, spelled absolute.
    Root,
    /// The other root.
    Other,
    /// The scratch folder above both roots.
    Base,
    /// The folder outside, with the secret.
    Outside,
    Slash,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Part {
    Name(Name),
    Dot,
    DotDot,
    Empty,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum End {
    Plain,
    Slash,
    SlashDot,
}

/// Few names, so that the parts of a path meet the tree often; and the names of what
/// lies around the root, so that `..` can climb out and back.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Name {
    A,
    B,
    C,
    Root,
    Other,
    Outside,
    Secret,
    F,
}

impl Name {
    fn as_str(self) -> &'static str {
        match self {
            Name::A => "a",
            Name::B => "b",
            Name::C => "c",
            Name::Root => "root",
            Name::Other => "other",
            Name::Outside => "outside",
            Name::Secret => "secret",
            Name::F => "f",
        }
    }
}

/// The scratch folder: `root/` (the tree of the input), `other/` (another root, with a
/// file, a folder and a link that climbs out), `outside/secret`.
struct Scratch {
    base: PathBuf,
    root: PathBuf,
    other: PathBuf,
    outside: PathBuf,
    table: Arc<DispatchTable>,
    /// `OPKIT_FUZZ_SHOW=1`: print every lookup, what the model says and what the op
    /// answered (to see what a corpus exercises).
    show: bool,
    /// Whose `(dev, ino)` is what: everything outside the roots a lookup must not
    /// reach.
    outside_inodes: Vec<(u64, u64)>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn scratch() -> Scratch {
    let base =
        opkit_fuzz::scratch_parent().join(format!("opkit-fuzz-paths-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).expect("a scratch folder");
    let base = base.canonicalize().expect("the scratch folder resolves");
    let (root, other, outside) = (base.join("root"), base.join("other"), base.join("outside"));
    for dir in [&root, &other, &outside, &other.join("d")] {
        std::fs::create_dir_all(dir).expect("a folder");
    }
    std::fs::write(outside.join("secret"), SECRET).expect("the secret");
    std::fs::write(other.join("f"), "other/f").expect("a file in the other root");
    std::os::unix::fs::symlink("../outside/secret", other.join("up")).expect("a link");
    let inode = |path: &Path| {
        let meta = std::fs::symlink_metadata(path).expect("an inode");
        (meta.dev(), meta.ino())
    };
    let outside_inodes = vec![
        inode(&base),
        inode(&outside),
        inode(&outside.join("secret")),
    ];
    // The table once; each input puts its own `FsContext` in the runtime's state.
    let table =
        DispatchTable::new([opkit_fs::extension(FsPermissions::deny_all())]).expect("the fs table");
    Scratch {
        base,
        root,
        other,
        outside,
        table: Arc::new(table),
        show: std::env::var_os("OPKIT_FUZZ_SHOW").is_some(),
        outside_inodes,
    }
}

thread_local! {
    static SCRATCH: Scratch = scratch();
}

fuzz_target!(|input: Input| {
    SCRATCH.with(|scratch| run(scratch, &input));
});

fn run(scratch: &Scratch, input: &Input) {
    let _ = std::fs::remove_dir_all(&scratch.root);
    std::fs::create_dir(&scratch.root).expect("the root");
    let model = Model::build(scratch, &input.nodes);
    let cwd = match input.cwd {
        Cwd::Root => scratch.root.clone(),
        Cwd::Dir(which) => {
            let dirs: Vec<usize> = model.dirs_of(ROOT);
            model.path_of(dirs[usize::from(which) % dirs.len()])
        }
        Cwd::Base => scratch.base.clone(),
        Cwd::Outside => scratch.outside.clone(),
    };
    let resolver = match input.walk {
        true => Resolver::Walk,
        false => Resolver::Openat2,
    };
    let perms = FsPermissions::default()
        .allow_read(&scratch.root)
        .allow_read(&scratch.other)
        .resolve_with(resolver);
    let rt = Runtime::with_table(Arc::clone(&scratch.table));
    rt.state()
        .borrow_mut()
        .put(FsContext::new(perms).with_cwd(&cwd));
    for lookup in input.lookups.iter().take(16) {
        let guest = match &lookup.path {
            GuestSpec::Parts(spec) => spell(scratch, spec),
            // Long enough for every part of the model; `PATH_MAX` is not modelled.
            GuestSpec::Raw(raw) => raw.chars().take(256).collect(),
        };
        check(scratch, &model, &rt, &cwd, lookup.op, &guest);
    }
}

fn spell(scratch: &Scratch, spec: &PathSpec) -> String {
    let mut path = match spec.anchor {
        Anchor::Relative => String::new(),
        Anchor::Root => scratch.root.display().to_string(),
        Anchor::Other => scratch.other.display().to_string(),
        Anchor::Base => scratch.base.display().to_string(),
        Anchor::Outside => scratch.outside.display().to_string(),
        Anchor::Slash => "/".to_owned(),
    };
    for (index, part) in spec.parts.iter().take(12).enumerate() {
        if index > 0 || !matches!(spec.anchor, Anchor::Relative | Anchor::Slash) {
            path.push('/');
        }
        path.push_str(match part {
            Part::Name(name) => name.as_str(),
            Part::Dot => ".",
            Part::DotDot => "..",
            Part::Empty => "",
        });
    }
    match spec.end {
        End::Plain => {}
        End::Slash => path.push('/'),
        End::SlashDot => path.push_str("/."),
    }
    path
}

/// What a lookup comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// This node of the model.
    Found(usize),
    /// Spelled outside the roots, or led out of its root by `..` or a symlink.
    Outside,
    /// More than 40 symlinks.
    Loop,
    NotFound,
    NotADirectory,
    /// A name longer than 255 bytes.
    NameTooLong,
    /// A NUL byte in the path.
    Nul,
}

const ROOT: usize = 0;
const OTHER: usize = 1;

#[derive(Debug)]
enum Kind {
    Dir(BTreeMap<String, usize>),
    File(Vec<u8>),
    Link(String),
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    parent: usize,
    name: String,
    inode: (u64, u64),
}

/// The tree as the model sees it, and as it was made on disk.
struct Model {
    nodes: Vec<Node>,
    roots: [PathBuf; 2],
}

impl Model {
    fn build(scratch: &Scratch, specs: &[NodeSpec]) -> Self {
        let inode = |path: &Path| {
            let meta = std::fs::symlink_metadata(path).expect("made");
            (meta.dev(), meta.ino())
        };
        let mut model = Model {
            nodes: Vec::new(),
            roots: [scratch.root.clone(), scratch.other.clone()],
        };
        for (index, root) in [&scratch.root, &scratch.other].into_iter().enumerate() {
            model.nodes.push(Node {
                kind: Kind::Dir(BTreeMap::new()),
                parent: index,
                name: String::new(),
                inode: inode(root),
            });
        }
        // The other root, as `scratch` made it.
        model.add(
            OTHER,
            "f",
            Kind::File(b"other/f".to_vec()),
            inode(&scratch.other.join("f")),
        );
        let d = Kind::Dir(BTreeMap::new());
        model.add(OTHER, "d", d, inode(&scratch.other.join("d")));
        let up = Kind::Link("../outside/secret".to_owned());
        model.add(OTHER, "up", up, inode(&scratch.other.join("up")));
        for spec in specs.iter().take(16) {
            let dirs = model.dirs_of(ROOT);
            let parent = dirs[usize::from(spec.parent) % dirs.len()];
            let name = spec.name.as_str();
            if model.child(parent, name).is_some() {
                continue;
            }
            let path = model.path_of(parent).join(name);
            let kind = match &spec.kind {
                KindSpec::Dir => {
                    std::fs::create_dir(&path).expect("a directory");
                    Kind::Dir(BTreeMap::new())
                }
                KindSpec::File => {
                    let contents = format!("file {}", model.nodes.len()).into_bytes();
                    std::fs::write(&path, &contents).expect("a file");
                    Kind::File(contents)
                }
                KindSpec::Link(target) => {
                    let mut target = spell(scratch, target);
                    if target.is_empty() {
                        target.push('.');
                    }
                    std::os::unix::fs::symlink(&target, &path).expect("a symlink");
                    Kind::Link(target)
                }
            };
            let made = inode(&path);
            model.add(parent, name, kind, made);
        }
        model
    }

    fn add(&mut self, parent: usize, name: &str, kind: Kind, inode: (u64, u64)) {
        let id = self.nodes.len();
        self.nodes.push(Node {
            kind,
            parent,
            name: name.to_owned(),
            inode,
        });
        if let Kind::Dir(children) = &mut self.nodes[parent].kind {
            children.insert(name.to_owned(), id);
        }
    }

    fn child(&self, dir: usize, name: &str) -> Option<usize> {
        match &self.nodes[dir].kind {
            Kind::Dir(children) => children.get(name).copied(),
            _ => None,
        }
    }

    /// The directories of a root's tree, the root first.
    fn dirs_of(&self, root: usize) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&id| matches!(self.nodes[id].kind, Kind::Dir(_)) && self.root_of(id) == root)
            .collect()
    }

    fn root_of(&self, mut id: usize) -> usize {
        while self.nodes[id].parent != id {
            id = self.nodes[id].parent;
        }
        id
    }

    fn path_of(&self, id: usize) -> PathBuf {
        let mut names = Vec::new();
        let mut at = id;
        while self.nodes[at].parent != at {
            names.push(self.nodes[at].name.as_str());
            at = self.nodes[at].parent;
        }
        let mut path = self.roots[at].clone();
        path.extend(names.iter().rev());
        path
    }

    /// Where `guest` leads from `cwd`, following a final symlink with `follow`.
    fn resolve(&self, cwd: &Path, guest: &str, follow: bool) -> Outcome {
        if guest.is_empty() {
            return Outcome::NotFound;
        }
        if guest.contains('\0') {
            return Outcome::Nul;
        }
        let abs = match guest.starts_with('/') {
            true => guest.to_owned(),
            false => format!("{}/{guest}", cwd.display()),
        };
        let spelled: Vec<&str> = abs
            .split('/')
            .filter(|part| !part.is_empty() && *part != ".")
            .collect();
        // `..` on the spelling while what it climbs out of is known to be a real
        // directory: a part of the cwd, or anything not strictly inside a root.
        let mut applied: Vec<&str> = Vec::new();
        let mut rest = spelled.iter();
        while let Some(&part) = rest.next() {
            if part != ".." {
                applied.push(part);
                continue;
            }
            let here: PathBuf = std::iter::once("/")
                .chain(applied.iter().copied())
                .collect();
            let inside = self
                .roots
                .iter()
                .any(|root| here != *root && here.starts_with(root));
            if cwd.starts_with(&here) || !inside {
                applied.pop();
            } else {
                applied.push("..");
                applied.extend(rest.by_ref().copied());
            }
        }
        let path: PathBuf = std::iter::once("/")
            .chain(applied.iter().copied())
            .collect();
        let Some(root) = (0..self.roots.len()).find(|&root| path.starts_with(&self.roots[root]))
        else {
            return Outcome::Outside;
        };
        let depth = self.roots[root].components().count() - 1;
        let mut parts: Vec<String> = applied[depth..]
            .iter()
            .map(|part| part.to_string())
            .collect();
        // A path ending in `/` or `/.` names a directory, a final symlink followed.
        if guest.ends_with('/') || guest.ends_with("/.") {
            parts.push(".".to_owned());
        }
        self.beneath(root, parts, follow)
    }

    /// The kernel's walk of `parts` beneath `root` with `RESOLVE_BENEATH`.
    fn beneath(&self, root: usize, parts: Vec<String>, follow: bool) -> Outcome {
        // The directories walked into, the root at the bottom; and a file reached.
        let mut stack = vec![root];
        let mut file = None;
        let mut pending: Vec<String> = parts.into_iter().rev().collect();
        let mut links = 0;
        while let Some(part) = pending.pop() {
            if part.is_empty() {
                continue;
            }
            if file.is_some() {
                return Outcome::NotADirectory;
            }
            if part == "." {
                continue;
            }
            if part == ".." {
                if stack.len() == 1 {
                    return Outcome::Outside;
                }
                stack.pop();
                continue;
            }
            if part.len() > 255 {
                return Outcome::NameTooLong;
            }
            let dir = *stack.last().expect("the root at least");
            let Some(id) = self.child(dir, &part) else {
                return Outcome::NotFound;
            };
            match &self.nodes[id].kind {
                Kind::Dir(_) => stack.push(id),
                Kind::File(_) => file = Some(id),
                Kind::Link(_) if pending.is_empty() && !follow => file = Some(id),
                Kind::Link(target) => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Outcome::Loop;
                    }
                    if target.starts_with('/') {
                        return Outcome::Outside;
                    }
                    // A target ending in `/` must name a directory, as `x/.` does.
                    let mut expanded: Vec<String> = target.split('/').map(str::to_owned).collect();
                    if target.ends_with('/') {
                        expanded.push(".".to_owned());
                    }
                    pending.extend(expanded.into_iter().rev());
                }
            }
        }
        Outcome::Found(file.unwrap_or(*stack.last().expect("the root at least")))
    }
}

fn check(scratch: &Scratch, model: &Model, rt: &Runtime, cwd: &Path, op: Op, guest: &str) {
    let (entry, follow) = match op {
        Op::Stat => ("op_stat_sync", true),
        Op::Lstat => ("op_lstat_sync", false),
        Op::ReadFile => ("op_read_file_sync", true),
        Op::Realpath => ("op_realpath_sync", true),
    };
    let args = serde_json::to_vec(&[guest]).expect("a string");
    let result = rt.call_sync(entry, &args, &mut []);
    let expected = model.resolve(cwd, guest, follow);
    let context = format!(
        "{entry} {guest:?} from {}: model {expected:?}",
        cwd.display()
    );
    if scratch.show {
        let answer = match &result {
            Ok(out) => String::from_utf8_lossy(out).chars().take(60).collect(),
            Err(err) => err.to_string(),
        };
        eprintln!("{context}: {answer}");
    }
    match result {
        Ok(out) => {
            // Whatever the model says, nothing outside the roots is reached.
            inside(scratch, model, op, &out, &context);
            let Outcome::Found(id) = expected else {
                panic!(
                    "{context}: the op answered {}",
                    String::from_utf8_lossy(&out)
                );
            };
            found(model, id, op, &out, &context);
        }
        Err(err) => refused(&err, op, model, &expected, &context),
    }
}

/// What a successful op reached lies inside a root.
fn inside(scratch: &Scratch, model: &Model, op: Op, out: &[u8], context: &str) {
    match op {
        Op::Stat | Op::Lstat => {
            let stat: serde_json::Value = serde_json::from_slice(out).expect("a stat");
            let inode = (
                stat["dev"].as_u64().unwrap_or(0),
                stat["ino"].as_u64().unwrap_or(0),
            );
            assert!(
                !scratch.outside_inodes.contains(&inode),
                "{context}: reached outside"
            );
            assert!(
                model.nodes.iter().any(|node| node.inode == inode),
                "{context}: reached {inode:?}, no entry of the roots"
            );
        }
        Op::ReadFile => assert_ne!(out, SECRET, "{context}: read the secret"),
        Op::Realpath => {
            let path: String = serde_json::from_slice(out).expect("a path");
            assert!(
                model
                    .roots
                    .iter()
                    .any(|root| Path::new(&path).starts_with(root)),
                "{context}: resolved to {path}"
            );
        }
    }
}

/// A successful op reached the model's node.
fn found(model: &Model, id: usize, op: Op, out: &[u8], context: &str) {
    let node = &model.nodes[id];
    match op {
        Op::Stat | Op::Lstat => {
            let stat: serde_json::Value = serde_json::from_slice(out).expect("a stat");
            let inode = (
                stat["dev"].as_u64().unwrap_or(0),
                stat["ino"].as_u64().unwrap_or(0),
            );
            assert_eq!(inode, node.inode, "{context}: another entry");
        }
        Op::ReadFile => match &node.kind {
            Kind::File(contents) => assert_eq!(out, contents.as_slice(), "{context}"),
            other => panic!("{context}: read {other:?}"),
        },
        Op::Realpath => {
            let path: String = serde_json::from_slice(out).expect("a path");
            assert_eq!(Path::new(&path), model.path_of(id), "{context}");
        }
    }
}

/// A failed op failed as the model says, with a refusal's class for a refusal.
fn refused(err: &OpError, op: Op, model: &Model, expected: &Outcome, context: &str) {
    let class = err.class();
    let context = format!("{context}: {err}");
    let want = match expected {
        Outcome::Outside => ErrorClass::PermissionDenied,
        Outcome::Loop => {
            assert_eq!(err.code(), Some("ELOOP"), "{context}");
            ErrorClass::PermissionDenied
        }
        Outcome::NotFound => ErrorClass::NotFound,
        Outcome::NotADirectory => ErrorClass::NotADirectory,
        Outcome::NameTooLong => {
            assert_eq!(err.code(), Some("ENAMETOOLONG"), "{context}");
            class
        }
        Outcome::Nul => ErrorClass::TypeError,
        Outcome::Found(id) => match (&model.nodes[*id].kind, op) {
            (Kind::Dir(_), Op::ReadFile) => ErrorClass::IsADirectory,
            _ => panic!("{context}: the op failed"),
        },
    };
    assert_eq!(class, want, "{context}");
}
