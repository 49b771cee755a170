//! `NetPermissions` at the ops: outside the allow list, listen, connect and send are
//! refused with `PermissionDenied` naming the address, before any socket is touched;
//! inside, they work.

mod common;

use common::*;
use opkit::{ErrorClass, OpError, Runtime};
use opkit_net::NetPermissions;
use serde_json::{Value, json};

fn perms(entries: &[&str]) -> NetPermissions {
    entries
        .iter()
        .try_fold(NetPermissions::new(), |p, e| p.allow(e))
        .unwrap()
}

async fn connect(rt: &Runtime, host: &str, port: u64) -> Result<Value, OpError> {
    call_async(rt, "op_net_connect_tcp", json!([host, port]), Vec::new())
        .await
        .0
}

fn denied(err: OpError, op: &str, what: &str) {
    assert_eq!(err.class(), ErrorClass::PermissionDenied, "{err}");
    assert_eq!(
        err.to_string(),
        format!("PermissionDenied: {op}: {what} is not allowed")
    );
}

#[tokio::test(flavor = "current_thread")]
async fn connect_only_to_allowed_addresses() {
    let server = runtime(loopback());
    let listener = call(&server, "op_net_listen_tcp", json!(["127.0.0.1", 0])).unwrap();
    let port = port(&listener);
    let other = port + 1;

    // An IP and port: exactly that.
    let guest = runtime(perms(&[&format!("127.0.0.1:{port}")]));
    let conn = connect(&guest, "127.0.0.1", port).await.unwrap();
    assert_eq!(conn["remote_addr"]["port"], port);
    for (host, p, what) in [
        ("127.0.0.1", other, format!("127.0.0.1:{other}")),
        ("::1", port, format!("[::1]:{port}")),
        ("[::1]", port, format!("[::1]:{port}")),
        ("localhost", other, format!("localhost:{other}")),
    ] {
        let err = connect(&guest, host, p).await.unwrap_err();
        denied(err, "op_net_connect_tcp", &format!("net.connect to {what}"));
    }
    // A name that is not granted passes only if every address it resolves to is.
    let resolved: Vec<_> = tokio::net::lookup_host(("localhost", port as u16))
        .await
        .unwrap()
        .collect();
    let via_name = connect(&guest, "localhost", port).await;
    match resolved.iter().find(|a| a.ip().to_string() != "127.0.0.1") {
        None => assert_eq!(via_name.unwrap()["remote_addr"]["hostname"], "127.0.0.1"),
        Some(stray) => denied(
            via_name.unwrap_err(),
            "op_net_connect_tcp",
            &format!(
                "net.connect to localhost:{port} (resolved to {})",
                stray.ip()
            ),
        ),
    }

    // A name and port: that name on that port, never the IP written as such.
    let guest = runtime(perms(&[&format!("localhost:{port}")]));
    let conn = connect(&guest, "localhost", port).await.unwrap();
    assert_eq!(conn["remote_addr"]["port"], port);
    let err = connect(&guest, "127.0.0.1", port).await.unwrap_err();
    denied(
        err,
        "op_net_connect_tcp",
        &format!("net.connect to 127.0.0.1:{port}"),
    );
    let err = connect(&guest, "localhost", other).await.unwrap_err();
    denied(
        err,
        "op_net_connect_tcp",
        &format!("net.connect to localhost:{other}"),
    );
}

#[tokio::test(flavor = "current_thread")]
async fn listen_and_bind_only_where_allowed() {
    let guest = runtime(perms(&["127.0.0.1:0", "[::1]:0"]));
    for host in ["127.0.0.1", "::1"] {
        assert!(call(&guest, "op_net_listen_tcp", json!([host, 0])).is_ok());
        assert!(call(&guest, "op_net_bind_udp", json!([host, 0])).is_ok());
    }
    let err = call(&guest, "op_net_listen_tcp", json!(["127.0.0.1", 4321])).unwrap_err();
    denied(err, "op_net_listen_tcp", "net.listen to 127.0.0.1:4321");
    let err = call(&guest, "op_net_bind_udp", json!(["localhost", 4321])).unwrap_err();
    denied(err, "op_net_bind_udp", "net.listen to localhost:4321");
    let err = call(&guest, "op_net_listen_tcp", json!(["0.0.0.0", 0])).unwrap_err();
    denied(err, "op_net_listen_tcp", "net.listen to 0.0.0.0:0");
}

#[tokio::test(flavor = "current_thread")]
async fn send_only_to_allowed_addresses() {
    let server = runtime(loopback());
    let inbox = call(&server, "op_net_bind_udp", json!(["127.0.0.1", 0])).unwrap();
    let port = port(&inbox);
    let guest = runtime(perms(&["127.0.0.1:0", &format!("127.0.0.1:{port}")]));
    let socket = rid(&call(&guest, "op_net_bind_udp", json!(["127.0.0.1", 0])).unwrap());
    let send = |host: &str, p: u64| {
        call_async(
            &guest,
            "op_net_send_udp",
            json!([socket, host, p]),
            vec![b"x".to_vec()],
        )
    };
    assert_eq!(send("127.0.0.1", port).await.0.unwrap(), 1);
    let got = deadline(
        "recv",
        call_async(
            &server,
            "op_net_recv_udp",
            json!([rid(&inbox)]),
            vec![vec![0; 4]],
        ),
    )
    .await;
    assert_eq!(got.0.unwrap()["bytes"], 1);
    let err = send("127.0.0.1", port + 1).await.0.unwrap_err();
    denied(
        err,
        "op_net_send_udp",
        &format!("net.send to 127.0.0.1:{}", port + 1),
    );
    let err = send("::1", port).await.0.unwrap_err();
    denied(err, "op_net_send_udp", &format!("net.send to [::1]:{port}"));
}

#[tokio::test(flavor = "current_thread")]
async fn unix_paths_and_dns_names_need_their_own_grants() {
    let allowed = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let server = runtime(NetPermissions::new().allow_unix(outside.path()).unwrap());
    let there = outside.path().join("s.sock");
    call(&server, "op_net_listen_unix", json!([there])).unwrap();

    let guest = runtime(
        NetPermissions::new()
            .allow_unix(allowed.path())
            .unwrap()
            .allow("127.0.0.1")
            .unwrap(),
    );
    let shown = format!("'{}'", there.display());
    let err = call_async(&guest, "op_net_connect_unix", json!([there]), Vec::new())
        .await
        .0
        .unwrap_err();
    denied(
        err,
        "op_net_connect_unix",
        &format!("net.connect to {shown}"),
    );
    let err = call(&guest, "op_net_listen_unix", json!([there])).unwrap_err();
    denied(err, "op_net_listen_unix", &format!("net.listen to {shown}"));
    let inside = allowed.path().join("ok.sock");
    assert!(call(&guest, "op_net_bind_unixgram", json!([inside])).is_ok());
    // `..` does not leave the granted directory.
    let sneaky = allowed.path().join("..").join("x.sock");
    let err = call(&guest, "op_net_bind_unixgram", json!([sneaky])).unwrap_err();
    assert_eq!(err.class(), ErrorClass::PermissionDenied);

    // An IP grant does not let a guest look names up.
    let err = call_async(&guest, "op_net_resolve", json!(["localhost"]), Vec::new())
        .await
        .0
        .unwrap_err();
    denied(err, "op_net_resolve", "net.resolve to localhost");
}

/// The denial of an unspecified destination address.
fn unspecified(err: OpError, op: &str, what: &str) {
    assert_eq!(
        err.to_string(),
        format!(
            "PermissionDenied: {op}: {what} is not allowed: the unspecified address is for \
             listening only; as a destination it reaches loopback"
        )
    );
}

/// A grant of `0.0.0.0` or `[::]` is for listening on every interface. As a
/// destination Linux delivers either to loopback, so connect and send refuse them
/// whatever the grants, `allow_all` included.
#[tokio::test(flavor = "current_thread")]
async fn unspecified_addresses_are_for_listening_only() {
    let guest = runtime(perms(&["0.0.0.0", "[::]"]));
    let listener = call(&guest, "op_net_listen_tcp", json!(["0.0.0.0", 0])).unwrap();
    assert_eq!(listener["local_addr"]["hostname"], "0.0.0.0");
    let v4_port = port(&listener);
    let err = connect(&guest, "0.0.0.0", v4_port).await.unwrap_err();
    unspecified(
        err,
        "op_net_connect_tcp",
        &format!("net.connect to 0.0.0.0:{v4_port}"),
    );
    let trusted = runtime(NetPermissions::allow_all());
    let err = connect(&trusted, "0.0.0.0", v4_port).await.unwrap_err();
    unspecified(
        err,
        "op_net_connect_tcp",
        &format!("net.connect to 0.0.0.0:{v4_port}"),
    );

    let v6 = call(&guest, "op_net_listen_tcp", json!(["::", 0])).unwrap();
    let v6_port = port(&v6);
    for host in ["::", "[::]"] {
        let err = connect(&guest, host, v6_port).await.unwrap_err();
        unspecified(
            err,
            "op_net_connect_tcp",
            &format!("net.connect to [::]:{v6_port}"),
        );
    }

    let inbox = call(&guest, "op_net_bind_udp", json!(["0.0.0.0", 0])).unwrap();
    let inbox_port = port(&inbox);
    let (sent, _) = call_async(
        &guest,
        "op_net_send_udp",
        json!([rid(&inbox), "0.0.0.0", inbox_port]),
        vec![b"x".to_vec()],
    )
    .await;
    unspecified(
        sent.unwrap_err(),
        "op_net_send_udp",
        &format!("net.send to 0.0.0.0:{inbox_port}"),
    );
}

/// A Unix socket path whose last component is a symlink to a missing file is refused
/// for connect and send: the check could only see the link, and the kernel follows it
/// to wherever it leads by the time of the syscall. A symlink to a socket inside the
/// granted directory is followed at the check and works.
#[tokio::test(flavor = "current_thread")]
async fn a_unix_socket_symlink_to_nothing_is_refused() {
    let allowed = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let link = allowed.path().join("link.sock");
    std::os::unix::fs::symlink(outside.path().join("later.sock"), &link).unwrap();
    let guest = runtime(NetPermissions::new().allow_unix(allowed.path()).unwrap());
    let what = format!("'{}' (a symlink to a missing file)", link.display());

    let (out, _) = call_async(&guest, "op_net_connect_unix", json!([link]), Vec::new()).await;
    denied(
        out.unwrap_err(),
        "op_net_connect_unix",
        &format!("net.connect to {what}"),
    );
    let me = call(
        &guest,
        "op_net_bind_unixgram",
        json!([allowed.path().join("me.sock")]),
    )
    .unwrap();
    let (out, _) = call_async(
        &guest,
        "op_net_send_unixgram",
        json!([rid(&me), link]),
        vec![b"x".to_vec()],
    )
    .await;
    denied(
        out.unwrap_err(),
        "op_net_send_unixgram",
        &format!("net.send to {what}"),
    );

    let real = allowed.path().join("real.sock");
    let alias = allowed.path().join("alias.sock");
    let listener = call(&guest, "op_net_listen_unix", json!([real])).unwrap();
    std::os::unix::fs::symlink(&real, &alias).unwrap();
    let (accepted, connected) = deadline("connect through a symlink", async {
        tokio::join!(
            ok_async(&guest, "op_net_accept_unix", json!([rid(&listener)])),
            ok_async(&guest, "op_net_connect_unix", json!([alias])),
        )
    })
    .await;
    assert_eq!(connected["remote_addr"]["path"], alias.to_str().unwrap());
    assert_eq!(accepted["local_addr"]["path"], real.to_str().unwrap());
}

#[tokio::test(flavor = "current_thread")]
async fn nothing_is_allowed_by_default() {
    let guest = runtime(NetPermissions::new());
    let err = call(&guest, "op_net_listen_tcp", json!(["127.0.0.1", 0])).unwrap_err();
    denied(err, "op_net_listen_tcp", "net.listen to 127.0.0.1:0");
    let err = connect(&guest, "localhost", 80).await.unwrap_err();
    denied(err, "op_net_connect_tcp", "net.connect to localhost:80");
    let err = call(&guest, "op_net_bind_udp", json!(["::1", 0])).unwrap_err();
    denied(err, "op_net_bind_udp", "net.listen to [::1]:0");
}

/// The permission each op declares in its metadata, as the README table lists it.
#[test]
fn every_op_declares_its_permission() {
    let ext = opkit_net::extension(NetPermissions::new());
    let mut declared: Vec<_> = ext
        .decls()
        .iter()
        .map(|d| (d.entry, d.meta.permission.unwrap_or("-")))
        .collect();
    declared.sort();
    let mut expected = vec![
        ("op_net_accept_tcp_async", "-"),
        ("op_net_accept_unix_async", "-"),
        ("op_net_bind_udp_sync", "net.listen"),
        ("op_net_bind_unixgram_sync", "net.listen"),
        ("op_net_cancel_handle_sync", "-"),
        ("op_net_connect_tcp_async", "net.connect"),
        ("op_net_connect_unix_async", "net.connect"),
        ("op_net_listen_tcp_sync", "net.listen"),
        ("op_net_listen_unix_sync", "net.listen"),
        ("op_net_read_async", "-"),
        ("op_net_recv_udp_async", "-"),
        ("op_net_recv_unixgram_async", "-"),
        ("op_net_resolve_async", "net.resolve"),
        ("op_net_send_udp_async", "net.send"),
        ("op_net_send_unixgram_async", "net.send"),
        ("op_net_set_keepalive_sync", "-"),
        ("op_net_set_nodelay_sync", "-"),
        ("op_net_shutdown_async", "-"),
        ("op_net_write_async", "-"),
    ];
    expected.sort();
    assert_eq!(declared, expected);
    assert!(ext.decls().iter().all(|d| !d.meta.doc.is_empty()));
}
