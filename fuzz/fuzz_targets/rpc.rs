//! The JSON-RPC message handler: envelope, batches, notifications, `buffers` in base64,
//! over the real fs ops on a scratch root.
//!
//! An input is one message, answered as an HTTP body is (`Server::answer_message`: a
//! session of its own). Properties:
//!
//! - nothing panics (libFuzzer's panic hook turns even a panic opkit catches in an op
//!   into a crash);
//! - every answer is valid JSON-RPC 2.0: an object (an array of them for a batch) with
//!   `"jsonrpc": "2.0"`, the `id`, and exactly one of `result` and `error` (`code` an
//!   integer, `message` a string); `buffers` only beside a result, each valid base64;
//! - ids are echoed exactly: every request with a string or number id gets exactly one
//!   answer, whose `id` is the same text; anything else that is answered is answered
//!   with `"id": null` (what the specification asks when the id cannot be read), and
//!   a malformed message, or a malformed member of a batch, is always answered;
//! - invalid JSON is a parse error (-32700), and JSON that is no request an invalid
//!   request (-32600);
//! - nothing outside the scratch root changes.
//!
//! How the requests are told apart here is written from the specification, not from
//! the handler: members are read with `serde_json` as maps of raw values.

#![no_main]

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use opkit::{BatchedConfig, BatchedExecutor, Executor};
use opkit_fs::{FsContext, FsPermissions};
use opkit_server::{Limits, Server};
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// No file the ops make grows past this (`RLIMIT_FSIZE`): a sparse file of a terabyte
/// costs a guest one `op_truncate`, and copying it would fill the disk.
const MAX_FILE_BYTES: u64 = 8 << 20;

const SECRET: &str = "outside the root";

struct Host {
    server: Server,
    /// `OPKIT_FUZZ_SHOW=1`: print every message and its answer (to run seeds by hand).
    show: bool,
    tokio: tokio::runtime::Runtime,
    base: PathBuf,
    root: PathBuf,
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn host() -> Host {
    // SAFETY: plain libc calls with valid arguments, before any other thread runs ops.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let limit = libc::rlimit {
            rlim_cur: MAX_FILE_BYTES,
            rlim_max: MAX_FILE_BYTES,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
    let base = opkit_fuzz::scratch_parent().join(format!("opkit-fuzz-rpc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let root = base.join("root");
    std::fs::create_dir_all(&root).expect("a scratch root");
    std::fs::create_dir_all(base.join("outside")).expect("a folder outside");
    std::fs::write(base.join("outside/secret"), SECRET).expect("a file outside");
    let root = root.canonicalize().expect("the root resolves");
    let perms = FsPermissions::default().allow_all(&root);
    let ctx = FsContext::new(perms).with_cwd(&root).with_max_read(1 << 20);
    let executor = BatchedExecutor::new(BatchedConfig {
        workers: 1,
        ..BatchedConfig::default()
    });
    let server = Server::builder()
        .extension(opkit_fs::extension_with(ctx))
        .limits(Limits {
            max_reply_bytes: 1 << 20,
            ..Limits::default()
        })
        .executor(Executor::Batched(executor))
        .no_token()
        .build()
        .expect("the server builds");
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    Host {
        server,
        show: std::env::var_os("OPKIT_FUZZ_SHOW").is_some(),
        tokio,
        base,
        root,
    }
}

thread_local! {
    static HOST: Host = host();
}

fuzz_target!(|message: &[u8]| {
    HOST.with(|host| {
        let answer = host.tokio.block_on(host.server.answer_message(message));
        if host.show {
            eprintln!("-> {}", String::from_utf8_lossy(message));
            eprintln!("<- {:?}", answer.as_deref().map(String::from_utf8_lossy));
        }
        check(message, answer.as_deref());
        check_outside(host);
        clear(&host.root);
    });
});

fn check(message: &[u8], answer: Option<&[u8]>) {
    let shown = String::from_utf8_lossy(message);
    let answer_text = answer.map(String::from_utf8_lossy);
    let context = format!("message {shown:?}, answer {answer_text:?}");
    let Ok(text) = std::str::from_utf8(message) else {
        let single = single(answer, &context);
        assert_eq!(single.code(), Some(-32700), "{context}");
        assert_eq!(single.id.get(), "null", "{context}");
        return;
    };
    if serde_json::from_str::<IgnoredAny>(text).is_err() {
        let single = single(answer, &context);
        assert_eq!(single.code(), Some(-32700), "{context}");
        assert_eq!(single.id.get(), "null", "{context}");
        return;
    }
    match serde_json::from_str::<Vec<&RawValue>>(text) {
        Ok(members) if members.is_empty() => {
            let single = single(answer, &context);
            assert_eq!(single.code(), Some(-32600), "{context}");
            assert_eq!(single.id.get(), "null", "{context}");
        }
        Ok(members) => {
            let expected: Vec<Expect> = members.iter().map(|m| expect(m.get())).collect();
            let answers = match answer {
                None => Vec::new(),
                Some(answer) => {
                    let answers: Vec<&RawValue> =
                        serde_json::from_slice(answer).unwrap_or_else(|err| {
                            panic!("a batch's answer is an array ({err}): {context}")
                        });
                    assert!(!answers.is_empty(), "an empty array answered: {context}");
                    answers
                }
            };
            let answers: Vec<Response<'_>> = answers
                .iter()
                .map(|a| response(a.get().as_bytes(), &context))
                .collect();
            match_ids(&expected, &answers, &context);
        }
        // A single message that is valid JSON.
        Err(_) => {
            let expected = expect(text);
            let answers: Vec<Response<'_>> = answer
                .map(|answer| response(answer, &context))
                .into_iter()
                .collect();
            if !text
                .trim_start_matches([' ', '\t', '\n', '\r'])
                .starts_with('{')
            {
                assert_eq!(
                    answers.first().and_then(Response::code),
                    Some(-32600),
                    "{context}"
                );
            }
            match_ids(&[expected], &answers, &context);
        }
    }
}

/// What a member of a message asks for, read from the specification.
#[derive(Debug)]
enum Expect {
    /// A request with this id (string or number, as written): exactly one answer with
    /// that id.
    Id(String),
    /// A request with `"id": null`, or something malformed: exactly one answer, with
    /// `"id": null`.
    Null,
    /// A notification: no answer, or an error with `"id": null` for a malformed one.
    Notification,
}

fn expect(member: &str) -> Expect {
    let Ok(Members(members)) = serde_json::from_str::<Members<'_>>(member) else {
        return Expect::Null;
    };
    let count = |name: &str| members.iter().filter(|(key, _)| key == name).count();
    // A member the specification defines, given twice, leaves the request unreadable.
    if ["jsonrpc", "method", "params", "id", "buffers"]
        .iter()
        .any(|name| count(name) > 1)
    {
        return Expect::Null;
    }
    match members.iter().find(|(key, _)| key == "id") {
        None => Expect::Notification,
        Some((_, id)) => {
            let id = id.get();
            match id.as_bytes()[0] {
                b'"' | b'-' | b'0'..=b'9' => Expect::Id(id.to_owned()),
                _ => Expect::Null,
            }
        }
    }
}

fn match_ids(expected: &[Expect], answers: &[Response<'_>], context: &str) {
    let mut wanted: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut nulls, mut notifications) = (0, 0);
    for expect in expected {
        match expect {
            Expect::Id(id) => *wanted.entry(id).or_default() += 1,
            Expect::Null => nulls += 1,
            Expect::Notification => notifications += 1,
        }
    }
    let mut given: BTreeMap<&str, usize> = BTreeMap::new();
    let mut null_answers = 0;
    for answer in answers {
        match answer.id.get() {
            "null" => null_answers += 1,
            id => *given.entry(id).or_default() += 1,
        }
    }
    assert_eq!(given, wanted, "ids answered: {context}");
    assert!(
        (nulls..=nulls + notifications).contains(&null_answers),
        "{null_answers} answers with a null id for {nulls} malformed members and \
         {notifications} notifications: {context}"
    );
}

/// The members of an object, names unescaped, values raw.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        de.deserialize_map(Object)
    }
}

/// One answer, as the specification has it.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Response<'a> {
    jsonrpc: String,
    #[serde(borrow)]
    id: &'a RawValue,
    #[serde(borrow, default, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    error: Option<ErrorObject>,
    buffers: Option<Vec<String>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ErrorObject {
    code: i64,
    message: String,
    #[allow(dead_code)]
    data: Option<IgnoredAny>,
}

impl Response<'_> {
    fn code(&self) -> Option<i64> {
        self.error.as_ref().map(|error| error.code)
    }
}

fn present<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(de).map(Some)
}

fn response<'a>(answer: &'a [u8], context: &str) -> Response<'a> {
    let response: Response<'_> = serde_json::from_slice(answer)
        .unwrap_or_else(|err| panic!("not a JSON-RPC response ({err}): {context}"));
    assert_eq!(response.jsonrpc, "2.0", "{context}");
    assert!(
        response.result.is_some() != response.error.is_some(),
        "one of `result` and `error`: {context}"
    );
    if let Some(error) = &response.error {
        assert!(!error.message.is_empty(), "{context}");
        assert!(
            [-32700, -32600, -32601, -32602, -32000].contains(&error.code),
            "error code {}: {context}",
            error.code
        );
        assert!(
            response.buffers.is_none(),
            "buffers beside an error: {context}"
        );
    }
    for buffer in response.buffers.iter().flatten() {
        base64::engine::general_purpose::STANDARD
            .decode(buffer)
            .unwrap_or_else(|err| panic!("a buffer that is not base64 ({err}): {context}"));
    }
    response
}

/// The one answer of a message that must have one, and not a batch.
fn single<'a>(answer: Option<&'a [u8]>, context: &str) -> Response<'a> {
    let answer = answer.unwrap_or_else(|| panic!("no answer: {context}"));
    response(answer, context)
}

/// Checks that nothing outside the root changed: the scratch folder holds the root and
/// the folder outside, and that holds the one file, unchanged.
fn check_outside(host: &Host) {
    let names = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("a scratch folder")
            .map(|entry| {
                entry
                    .expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&host.base), ["outside", "root"]);
    assert_eq!(names(&host.base.join("outside")), ["secret"]);
    let secret = std::fs::read_to_string(host.base.join("outside/secret"));
    assert_eq!(secret.ok().as_deref(), Some(SECRET));
}

/// Empties the root for the next input, whatever the ops left there.
fn clear(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755));
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => {
                let _ = std::fs::remove_dir_all(&path);
            }
            _ => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}
