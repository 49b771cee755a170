//! What the fuzz targets (`fuzz/`, see `fuzz/README.md`) found, kept in the stable
//! suite: each test holds the input a target minimized, and fails without its fix.

use opkit_fs::{FsContext, FsPermissions};
use opkit_server::Server;
use serde_json::Value;

/// A server of the fs ops on a scratch root, as the `rpc` target runs them.
fn fs_server(root: &std::path::Path) -> Server {
    let ctx = FsContext::new(FsPermissions::default().allow_all(root)).with_cwd(root);
    Server::builder()
        .extension(opkit_fs::extension_with(ctx))
        .no_token()
        .build()
        .unwrap()
}

fn answer(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// `rpc` target: `"\n\v\v\v\v\v\v\v\v1\v\v\v\v\v\v\n\n"` was answered "invalid request:
/// expected an object": the handler trimmed Unicode whitespace off the message, so a
/// vertical tab or a no-break space (which JSON does not allow) was dropped and the
/// rest read as JSON, and a request behind one ran. Now it is a parse error, and
/// nothing runs.
#[tokio::test(flavor = "current_thread")]
async fn a_message_in_whitespace_that_json_does_not_allow_is_a_parse_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = fs_server(dir.path());
    let write = r#"{"jsonrpc":"2.0","method":"op_write_text_file_sync","params":["a","x"],"id":1}"#;
    for message in [
        "\n\u{b}\u{b}\u{b}\u{b}\u{b}\u{b}\u{b}\u{b}1\u{b}\u{b}\u{b}\u{b}\u{b}\u{b}\n\n".to_owned(),
        format!("\u{a0}{write}"),
        format!("{write}\u{3000}"),
        format!("[{write}]\u{b}"),
    ] {
        let reply = server.answer_message(message.as_bytes()).await.unwrap();
        let reply = answer(&reply);
        assert_eq!(reply["error"]["code"], -32700, "{message:?}: {reply}");
        assert_eq!(reply["id"], Value::Null, "{message:?}");
    }
    assert!(
        !dir.path().join("a").exists(),
        "a message that is not JSON ran"
    );

    // JSON's own whitespace around a message is still no error.
    let message = format!(" \t\r\n{write} \n");
    let reply = answer(&server.answer_message(message.as_bytes()).await.unwrap());
    assert_eq!(reply["result"], Value::Null, "{reply}");
    assert_eq!(reply["id"], 1);
    assert_eq!(std::fs::read_to_string(dir.path().join("a")).unwrap(), "x");
}

/// Takes any JSON, and gives it back.
#[opkit::op(sync)]
fn op_echo(value: Value, tail: Option<u8>) -> (Value, Option<u8>) {
    (value, tail)
}

/// The two differences from `serde_json::from_slice` of the whole arguments that the
/// `args` target encodes, because opkit documents them: no arguments may be written
/// as nothing or `null`; and each argument is a JSON document of its own, so it may
/// nest as deep as serde_json lets a document (127 levels), where inside the array
/// around it serde_json would stop one level earlier.
#[test]
fn what_the_args_target_takes_as_documented_differences() {
    let ext = opkit::Extension::new("echo", op_echo::DECLS.iter().copied());
    let rt = opkit::Runtime::new([ext]).unwrap();
    let call = |args: &str| rt.call_sync("op_echo_sync", args.as_bytes(), &mut []);
    for none in ["", " \n", "null", " null "] {
        let err = call(none).unwrap_err();
        assert_eq!(
            err.to_string(),
            "TypeError: op_echo: missing argument 'value' (Value)"
        );
    }
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let deepest = format!("[{}]", nested(127));
    assert_eq!(
        call(&deepest).unwrap(),
        format!("[{},null]", nested(127)).into_bytes()
    );
    let whole: Result<(Value,), _> = serde_json::from_str(&deepest);
    assert!(
        whole
            .unwrap_err()
            .to_string()
            .starts_with("recursion limit exceeded")
    );
    let err = call(&format!("[{}]", nested(128))).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "TypeError: op_echo: malformed argument 'value' (Value): recursion limit exceeded"
        ),
        "{err}"
    );
}

/// `paths` target (minimized): the file `a` and a symlink `l -> "a/"`. The kernel
/// refuses `l` with `ENOTDIR`, as it refuses `a/`: a target that ends in `/` or `/.`
/// names a directory. `op_stat("l")` did so with `openat2`, but with the walk resolver
/// (and so `op_realpath` always, which walks) the target's trailing `/` was dropped
/// with its `.` parts, and `l` resolved to the file. A directory behind such a link is
/// still reached, and its real path has no `/.` left.
#[test]
fn a_symlink_whose_target_ends_in_a_slash_names_a_directory_with_either_resolver() {
    use opkit_fs::Resolver;
    use std::os::unix::fs::symlink;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("a"), "a file").unwrap();
    std::fs::create_dir(root.join("d")).unwrap();
    for (link, target) in [
        ("l", "a/"),
        ("dots", "a/././"),
        ("dir", "d/."),
        ("up", "d/../d/"),
    ] {
        symlink(target, root.join(link)).unwrap();
    }
    for resolver in [Resolver::Openat2, Resolver::Walk] {
        let perms = FsPermissions::default()
            .allow_read(&root)
            .resolve_with(resolver);
        let ctx = FsContext::new(perms).with_cwd(&root);
        let rt = opkit::Runtime::new([opkit_fs::extension_with(ctx)]).unwrap();
        let call = |entry: &str, path: &str| {
            let args = serde_json::to_vec(&[path]).unwrap();
            rt.call_sync(entry, &args, &mut [])
        };
        for entry in [
            "op_stat_sync",
            "op_lstat_sync",
            "op_realpath_sync",
            "op_read_file_sync",
        ] {
            for path in ["l", "dots", "l/", "a/", "a/."] {
                if entry == "op_lstat_sync" && !path.contains('/') {
                    // The link itself, not followed.
                    let stat: Value = serde_json::from_slice(&call(entry, path).unwrap()).unwrap();
                    assert_eq!(stat["is_symlink"], true, "{resolver:?} {path}");
                    continue;
                }
                let err = call(entry, path).unwrap_err();
                assert_eq!(
                    err.class(),
                    opkit::ErrorClass::NotADirectory,
                    "{resolver:?} {entry} {path}: {err}"
                );
            }
        }
        for path in ["dir", "up", "dir/", "d/."] {
            let stat: Value = serde_json::from_slice(&call("op_stat_sync", path).unwrap()).unwrap();
            assert_eq!(stat["is_dir"], true, "{resolver:?} {path}");
            let real: String =
                serde_json::from_slice(&call("op_realpath_sync", path).unwrap()).unwrap();
            assert_eq!(
                std::path::Path::new(&real),
                root.join("d"),
                "{resolver:?} {path}"
            );
        }
    }
}

/// `args` target: `"[{\n[[:"` (to `op_structs`, whose first parameter is a struct)
/// said "malformed argument 'point' (Point): key must be a string at byte 1", where
/// the key is at byte 3: serde_json's line and column count within the argument, and
/// the byte was taken from the column alone, as if every argument were on one line.
#[test]
fn a_malformed_argument_over_several_lines_is_placed_at_its_byte() {
    let ext = opkit::Extension::new("echo", op_echo::DECLS.iter().copied());
    let rt = opkit::Runtime::new([ext]).unwrap();
    let call = |args: &str| rt.call_sync("op_echo_sync", args.as_bytes(), &mut []);
    let err = call("[{\n[[:").unwrap_err().to_string();
    assert!(err.ends_with("key must be a string at byte 3"), "{err}");
    // The arguments, the byte that is malformed, what serde_json says of it.
    for (args, bad, what) in [
        ("[{\n7:", '7', "key must be a string"),
        ("[{\"a\": 1,\n \"b\": tru}]", '}', "expected ident"),
        ("{\"value\":\n\n  [1,\n  2,\n  x]}", 'x', "expected value"),
        // Past the last parameter, what is malformed is placed the same way.
        ("[1, 2, [\n\n 3 4]]", '4', "expected `,` or `]`"),
    ] {
        let at = args.find(bad).unwrap();
        let err = call(args).unwrap_err().to_string();
        assert!(
            err.ends_with(&format!("{what} at byte {at}")),
            "{args:?}: {err}"
        );
    }
}
