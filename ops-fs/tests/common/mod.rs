//! What the fs tests share: a runtime on a fresh temp dir, and calls that go through
//! either entry of an op.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use opkit::{OpError, Runtime};
use opkit_fs::{FsContext, FsPermissions, Resolver};
use serde_json::Value;

/// Which entry of an op a call goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Sync,
    Async,
}

pub const BOTH: [Entry; 2] = [Entry::Sync, Entry::Async];

/// A temp dir (resolved, so paths compare with what ops answer) and a runtime whose
/// cwd is that dir.
pub struct Fixture {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub rt: Runtime,
    pub entry: Entry,
}

impl Fixture {
    /// Read and write access to the whole temp dir.
    pub fn new(entry: Entry) -> Self {
        Self::with_perms(entry, |root| FsPermissions::default().allow_all(root))
    }

    /// The permissions made from the temp dir's path. Paths are resolved with
    /// `openat2` for the sync entry and by the walk for the async one, so that every
    /// test that runs both entries runs both resolvers too.
    pub fn with_perms(entry: Entry, perms: impl FnOnce(&Path) -> FsPermissions) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let resolver = match entry {
            Entry::Sync => Resolver::Openat2,
            Entry::Async => Resolver::Walk,
        };
        let ctx = FsContext::new(perms(&root).resolve_with(resolver))
            .with_cwd(&root)
            .with_umask(0o022);
        let rt = Runtime::new([opkit_fs::extension_with(ctx)]).unwrap();
        Self {
            _tmp: tmp,
            root,
            rt,
            entry,
        }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Calls `op` (`op_stat`, no suffix) through this fixture's entry.
    pub async fn call(&self, op: &str, args: Value) -> Result<Value, OpError> {
        self.call_bufs(op, args, Vec::new()).await.0
    }

    /// Calls `op` with byte buffers and returns them too.
    pub async fn call_bufs(
        &self,
        op: &str,
        args: Value,
        bufs: Vec<Vec<u8>>,
    ) -> (Result<Value, OpError>, Vec<Vec<u8>>) {
        call(&self.rt, self.entry, op, args, bufs).await
    }

    /// Calls `op` and unwraps the result, naming the op if it failed.
    pub async fn ok(&self, op: &str, args: Value) -> Value {
        match self.call(op, args.clone()).await {
            Ok(value) => value,
            Err(err) => panic!("{op}({args}) via {:?} failed: {err}", self.entry),
        }
    }

    /// Calls `op` and unwraps its error.
    pub async fn err(&self, op: &str, args: Value) -> OpError {
        match self.call(op, args.clone()).await {
            Ok(value) => panic!("{op}({args}) via {:?} succeeded: {value}", self.entry),
            Err(err) => err,
        }
    }

    /// Calls a sync-only op.
    pub fn sync(&self, op: &str, args: Value) -> Result<Value, OpError> {
        let out = self.rt.call_sync(
            format!("{op}_sync").as_str(),
            args.to_string().as_bytes(),
            &mut [],
        )?;
        Ok(serde_json::from_slice(&out).unwrap())
    }
}

/// Calls `op` on `rt` through `entry`.
pub async fn call(
    rt: &Runtime,
    entry: Entry,
    op: &str,
    args: Value,
    mut bufs: Vec<Vec<u8>>,
) -> (Result<Value, OpError>, Vec<Vec<u8>>) {
    let args = args.to_string();
    let result = match entry {
        Entry::Sync => rt.call_sync(format!("{op}_sync").as_str(), args.as_bytes(), &mut bufs),
        Entry::Async => {
            let out = rt
                .call_async(format!("{op}_async").as_str(), args.as_bytes(), bufs)
                .await;
            bufs = out.bufs;
            out.result
        }
    };
    // A `ByteBuf` result is raw bytes; as a JSON array of numbers it compares in tests.
    let raw = rt
        .op_id(&format!("{op}_sync"))
        .or_else(|| rt.op_id(&format!("{op}_async")))
        .and_then(|id| rt.table().get(id))
        .is_some_and(|e| e.decl.meta.returns_bytes);
    let value = result.map(|bytes| {
        if raw {
            Value::from(bytes)
        } else {
            serde_json::from_slice(&bytes).unwrap()
        }
    });
    (value, bufs)
}
