//! Every net op's declared permission (`#[op(permission = "..")]`, what a host's
//! policy sees) is the access it checks: for each op of the extension's table, a
//! realistic call over real loopback sockets (Unix sockets in a temp dir) succeeds
//! when the permissions grant its address, and when they grant nothing or only other
//! addresses it is refused with `PermissionDenied` naming the declared access, and
//! its peer sees nothing. An op that declares no permission runs with nothing
//! granted. An op added without a case fails the test.
//!
//! `NetPermissions` grants addresses for every access at once (`allow("127.0.0.1")`
//! lets a guest listen there, connect, send and resolve), so which access an op asks
//! for shows in its denial: "net.connect to 127.0.0.1:80 is not allowed".

mod common;

use std::collections::BTreeSet;
use std::io::{ErrorKind, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use common::{deadline, rid};
use opkit::{ErrorClass, OpError, OpMode, Runtime};
use opkit_net::NetPermissions;
use serde_json::{Value, json};

/// Every op of the crate; each has a case in [`prepare`].
const OPS: [&str; 19] = [
    "op_net_listen_tcp",
    "op_net_accept_tcp",
    "op_net_connect_tcp",
    "op_net_bind_udp",
    "op_net_send_udp",
    "op_net_recv_udp",
    "op_net_listen_unix",
    "op_net_accept_unix",
    "op_net_connect_unix",
    "op_net_bind_unixgram",
    "op_net_send_unixgram",
    "op_net_recv_unixgram",
    "op_net_resolve",
    "op_net_read",
    "op_net_write",
    "op_net_shutdown",
    "op_net_set_nodelay",
    "op_net_set_keepalive",
    "op_net_cancel_handle",
];

/// A runtime of the net ops, which sets up what a call needs with every address
/// granted, and a temp dir for Unix socket files.
struct Scene {
    rt: Runtime,
    dir: tempfile::TempDir,
    /// The host's ends of what the call uses, kept open until the scene ends.
    peers: Vec<Box<dyn std::any::Any>>,
}

/// One call of an op, made after the permissions are replaced.
struct Call {
    args: Value,
    bufs: Vec<Vec<u8>>,
    /// What grants the call its address (nothing, for an op that declares none).
    grant: NetPermissions,
    /// Whether the call's peer saw nothing of it: asked after a refused call.
    untouched: Box<dyn Fn() -> bool>,
}

impl Call {
    fn new(args: Value) -> Self {
        Self {
            args,
            bufs: Vec::new(),
            grant: NetPermissions::new(),
            untouched: Box::new(|| true),
        }
    }

    fn bufs(mut self, bufs: Vec<Vec<u8>>) -> Self {
        self.bufs = bufs;
        self
    }

    fn granted(mut self, grant: NetPermissions) -> Self {
        self.grant = grant;
        self
    }

    fn untouched(mut self, untouched: impl Fn() -> bool + 'static) -> Self {
        self.untouched = Box::new(untouched);
        self
    }
}

impl Scene {
    fn new() -> Self {
        Self {
            rt: common::runtime(NetPermissions::allow_all()),
            dir: tempfile::tempdir().unwrap(),
            peers: Vec::new(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The Unix sockets of this scene's dir.
    fn unix_grant(&self) -> NetPermissions {
        NetPermissions::new().allow_unix(self.dir.path()).unwrap()
    }

    /// Calls an entry of `op` (the sync one if it has one) and answers its JSON.
    async fn call(&self, op: &str, args: &Value, bufs: Vec<Vec<u8>>) -> Result<Value, OpError> {
        let args = args.to_string();
        let sync = format!("{op}_sync");
        if self.rt.op_id(&sync).is_some() {
            let mut bufs = bufs;
            let out = self
                .rt
                .call_sync(sync.as_str(), args.as_bytes(), &mut bufs)?;
            return Ok(serde_json::from_slice(&out).unwrap());
        }
        let entry = format!("{op}_async");
        let out = deadline(
            op,
            self.rt.call_async(entry.as_str(), args.as_bytes(), bufs),
        )
        .await;
        out.result
            .map(|bytes| serde_json::from_slice(&bytes).unwrap())
    }

    /// Calls `op` while every address is still granted, for what a case needs.
    async fn made(&self, op: &str, args: Value) -> Value {
        match self.call(op, &args, Vec::new()).await {
            Ok(value) => value,
            Err(err) => panic!("setting up with {op}({args}): {err}"),
        }
    }

    /// A TCP stream rid connected to a host listener, which has sent `hello`.
    async fn stream(&mut self) -> u64 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connected = self
            .made("op_net_connect_tcp", json!(["127.0.0.1", port]))
            .await;
        // The connection is in the backlog: `accept` returns at once.
        let (mut host, _) = listener.accept().unwrap();
        host.write_all(b"hello").unwrap();
        self.peers.push(Box::new(host));
        rid(&connected)
    }
}

/// A host socket's receiving end, non-blocking: whether nothing has arrived.
fn nothing_arrived<T>(result: std::io::Result<T>) -> bool {
    matches!(result, Err(err) if err.kind() == ErrorKind::WouldBlock)
}

/// The call of `op` and what it needs, set up in `scene`.
async fn prepare(op: &str, scene: &mut Scene) -> Call {
    let loopback = || NetPermissions::new().allow("127.0.0.1").unwrap();
    match op {
        "op_net_listen_tcp" => Call::new(json!(["127.0.0.1", 0])).granted(loopback()),
        "op_net_accept_tcp" => {
            let listening = scene
                .made("op_net_listen_tcp", json!(["127.0.0.1", 0]))
                .await;
            let port = listening["local_addr"]["port"].as_u64().unwrap();
            let port = u16::try_from(port).unwrap();
            scene
                .peers
                .push(Box::new(TcpStream::connect(("127.0.0.1", port)).unwrap()));
            Call::new(json!([rid(&listening)]))
        }
        "op_net_connect_tcp" => {
            let host = TcpListener::bind("127.0.0.1:0").unwrap();
            host.set_nonblocking(true).unwrap();
            let port = host.local_addr().unwrap().port();
            let grant = NetPermissions::new().allow(&format!("127.0.0.1:{port}"));
            Call::new(json!(["127.0.0.1", port]))
                .granted(grant.unwrap())
                .untouched(move || nothing_arrived(host.accept()))
        }
        "op_net_bind_udp" => Call::new(json!(["127.0.0.1", 0])).granted(loopback()),
        "op_net_send_udp" => {
            let host = UdpSocket::bind("127.0.0.1:0").unwrap();
            host.set_nonblocking(true).unwrap();
            let port = host.local_addr().unwrap().port();
            let bound = scene.made("op_net_bind_udp", json!(["127.0.0.1", 0])).await;
            let grant = NetPermissions::new().allow(&format!("127.0.0.1:{port}"));
            Call::new(json!([rid(&bound), "127.0.0.1", port]))
                .bufs(vec![b"ping".to_vec()])
                .granted(grant.unwrap())
                .untouched(move || nothing_arrived(host.recv(&mut [0; 16])))
        }
        "op_net_recv_udp" => {
            let bound = scene.made("op_net_bind_udp", json!(["127.0.0.1", 0])).await;
            let port = bound["local_addr"]["port"].as_u64().unwrap();
            let host = UdpSocket::bind("127.0.0.1:0").unwrap();
            host.send_to(b"ping", ("127.0.0.1", u16::try_from(port).unwrap()))
                .unwrap();
            Call::new(json!([rid(&bound)])).bufs(vec![vec![0; 16]])
        }
        "op_net_listen_unix" => {
            let path = scene.path("listen.sock");
            Call::new(json!([path]))
                .granted(scene.unix_grant())
                .untouched(move || !path.exists())
        }
        "op_net_accept_unix" => {
            let path = scene.path("accept.sock");
            let listening = scene.made("op_net_listen_unix", json!([path])).await;
            scene
                .peers
                .push(Box::new(UnixStream::connect(&path).unwrap()));
            Call::new(json!([rid(&listening)]))
        }
        "op_net_connect_unix" => {
            let path = scene.path("host.sock");
            let host = UnixListener::bind(&path).unwrap();
            host.set_nonblocking(true).unwrap();
            Call::new(json!([path]))
                .granted(scene.unix_grant())
                .untouched(move || nothing_arrived(host.accept()))
        }
        "op_net_bind_unixgram" => {
            let path = scene.path("bound.sock");
            Call::new(json!([path]))
                .granted(scene.unix_grant())
                .untouched(move || !path.exists())
        }
        "op_net_send_unixgram" => {
            let path = scene.path("peer.sock");
            let host = UnixDatagram::bind(&path).unwrap();
            host.set_nonblocking(true).unwrap();
            let own = scene.path("own.sock");
            let bound = scene.made("op_net_bind_unixgram", json!([own])).await;
            Call::new(json!([rid(&bound), path]))
                .bufs(vec![b"ping".to_vec()])
                .granted(scene.unix_grant())
                .untouched(move || nothing_arrived(host.recv(&mut [0; 16])))
        }
        "op_net_recv_unixgram" => {
            let own = scene.path("own.sock");
            let bound = scene.made("op_net_bind_unixgram", json!([own])).await;
            let host = UnixDatagram::unbound().unwrap();
            host.send_to(b"ping", &own).unwrap();
            Call::new(json!([rid(&bound)])).bufs(vec![vec![0; 16]])
        }
        "op_net_resolve" => Call::new(json!(["localhost"]))
            .granted(NetPermissions::new().allow("localhost").unwrap()),
        "op_net_read" => Call::new(json!([scene.stream().await])).bufs(vec![vec![0; 16]]),
        "op_net_write" => Call::new(json!([scene.stream().await])).bufs(vec![b"hi".to_vec()]),
        "op_net_shutdown" => Call::new(json!([scene.stream().await])),
        "op_net_set_nodelay" => Call::new(json!([scene.stream().await, true])),
        "op_net_set_keepalive" => Call::new(json!([scene.stream().await, true])),
        "op_net_cancel_handle" => Call::new(json!([])),
        other => panic!("{other} is in OPS but has no case in `prepare`"),
    }
}

/// Grants of other addresses than any case uses: an IP, a name, a Unix dir.
fn elsewhere(dir: &Path) -> NetPermissions {
    let other = dir.join("elsewhere");
    std::fs::create_dir(&other).unwrap();
    NetPermissions::new()
        .allow("192.0.2.1")
        .and_then(|p| p.allow("[::1]:7"))
        .and_then(|p| p.allow("elsewhere.example"))
        .and_then(|p| p.allow_unix(&other))
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn every_net_op_checks_what_it_declares() {
    let rt = common::runtime(NetPermissions::new());
    let table: BTreeSet<&str> = rt
        .table()
        .entries()
        .iter()
        .filter(|entry| entry.extension == "net")
        .map(|entry| entry.decl.meta.name)
        .collect();
    let covered: BTreeSet<&str> = OPS.into_iter().collect();
    assert_eq!(
        covered, table,
        "every op of the net extension has a case here, and only those"
    );

    let mut wrong = Vec::new();
    for op in OPS {
        let entry = rt
            .table()
            .entries()
            .iter()
            .find(|entry| entry.decl.meta.name == op)
            .unwrap();
        let declared = entry.decl.meta.permission;
        let entry_kind = match entry.decl.mode {
            OpMode::Sync => "sync",
            OpMode::Blocking | OpMode::Async => "async",
        };
        if let Some(declared) = declared
            && !["net.connect", "net.listen", "net.resolve", "net.send"].contains(&declared)
        {
            wrong.push(format!(
                "{op} declares `{declared}`, which is no net access"
            ));
            continue;
        }
        for grant in ["granted", "nothing", "elsewhere"] {
            if declared.is_none() && grant == "granted" {
                continue;
            }
            let mut scene = Scene::new();
            let call = prepare(op, &mut scene).await;
            let perms = match grant {
                "granted" => call.grant.clone(),
                "nothing" => NetPermissions::new(),
                _ => elsewhere(scene.dir.path()),
            };
            scene.rt.state().borrow_mut().put(perms);
            let result = scene.call(op, &call.args, call.bufs.clone()).await;
            let label = format!(
                "{op}({}) via its {entry_kind} entry, declaring {}, granted {grant}",
                call.args,
                declared.unwrap_or("nothing")
            );
            match (declared, result) {
                (None, Err(err)) if err.class() == ErrorClass::PermissionDenied => {
                    wrong.push(format!("{label}: refused: {err}"));
                }
                (Some(_), Err(err)) if grant == "granted" => {
                    wrong.push(format!("{label}: failed: {err}"));
                }
                (None, Err(err)) => wrong.push(format!("{label}: failed: {err}")),
                (None, Ok(_)) => {}
                (Some(_), Ok(_)) if grant == "granted" => {}
                (Some(_), Ok(out)) => {
                    wrong.push(format!("{label}: succeeded without a grant: {out}"));
                }
                (Some(declared), Err(err)) => {
                    let names = err.message().starts_with(&format!("{declared} to "));
                    if err.class() != ErrorClass::PermissionDenied || !names {
                        wrong.push(format!("{label}: not refused for {declared}: {err}"));
                    } else if !(call.untouched)() {
                        wrong.push(format!("{label}: refused, but its peer saw the call"));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "declarations that are not what the ops check:\n{}",
        wrong.join("\n")
    );
}
