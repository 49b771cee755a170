//! TCP through the ops only: listen, accept, connect, read, write, shutdown, options,
//! and the errors each one gives.

mod common;

use common::*;
use opkit::ErrorClass;
use serde_json::json;

/// An echo round trip over IPv4 and IPv6 loopback: accept, read, write, close.
#[tokio::test(flavor = "current_thread")]
async fn tcp_echo_round_trip_through_the_ops() {
    let rt = runtime(loopback());
    for host in ["127.0.0.1", "::1"] {
        let listener = call(&rt, "op_net_listen_tcp", json!([host, 0])).unwrap();
        assert_eq!(listener["local_addr"]["hostname"], host);
        let port = port(&listener);
        assert_ne!(port, 0, "a free port was picked");

        let (server, client) = deadline("accept and connect", async {
            tokio::join!(
                ok_async(&rt, "op_net_accept_tcp", json!([rid(&listener)])),
                ok_async(
                    &rt,
                    "op_net_connect_tcp",
                    json!({"hostname": host, "port": port})
                ),
            )
        })
        .await;
        assert_eq!(server["local_addr"], client["remote_addr"]);
        assert_eq!(server["remote_addr"], client["local_addr"]);
        assert_eq!(client["remote_addr"]["port"], port);

        let (s, c) = (rid(&server), rid(&client));
        deadline("echo", async {
            write(&rt, c, b"hello over tcp").await;
            let got = read_exact(&rt, s, 14).await;
            write(&rt, s, &got).await;
            assert_eq!(read_exact(&rt, c, 14).await, b"hello over tcp");
        })
        .await;

        let empty = call_async(&rt, "op_net_read", json!([s]), vec![Vec::new()]).await;
        assert_eq!(
            empty.0.unwrap_err().to_string(),
            "TypeError: op_net_read: the buffer is empty; pass a buffer to read into"
        );

        // Closing the client: the server reads end of stream.
        call(&rt, "op_close", json!([c])).unwrap();
        let (eof, _) = deadline(
            "eof",
            call_async(&rt, "op_net_read", json!([s]), vec![vec![0; 8]]),
        )
        .await;
        assert_eq!(eof.unwrap(), 0);
        for rid in [s, rid(&listener)] {
            call(&rt, "op_close", json!([rid])).unwrap();
        }
    }
    assert!(resources(&rt).is_empty(), "{:?}", resources(&rt));
}

#[tokio::test(flavor = "current_thread")]
async fn resources_are_named_and_shutdown_ends_the_peers_reads() {
    let rt = runtime(loopback());
    let listener = call(&rt, "op_net_listen_tcp", json!(["localhost", 0])).unwrap();
    assert_eq!(listener["local_addr"]["hostname"], "127.0.0.1");
    let port = port(&listener);
    let (server, client) = deadline("connect", async {
        tokio::join!(
            ok_async(&rt, "op_net_accept_tcp", json!([rid(&listener)])),
            ok_async(&rt, "op_net_connect_tcp", json!(["localhost", port, 5000])),
        )
    })
    .await;
    assert_eq!(resources(&rt), ["tcpListener", "tcpStream", "tcpStream"]);
    let (s, c) = (rid(&server), rid(&client));

    write(&rt, c, b"last words").await;
    ok_async(&rt, "op_net_shutdown", json!([c])).await;
    assert_eq!(
        deadline("read", read_exact(&rt, s, 10)).await,
        b"last words"
    );
    let (eof, _) = call_async(&rt, "op_net_read", json!([s]), vec![vec![0; 4]]).await;
    assert_eq!(eof.unwrap(), 0, "the write half is shut");
    // The other direction still works.
    write(&rt, s, b"reply").await;
    assert_eq!(deadline("reply", read_exact(&rt, c, 5)).await, b"reply");
    let err = call_async(&rt, "op_net_write", json!([c]), vec![b"x".to_vec()])
        .await
        .0
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::BrokenPipe, "{err}");
    assert_eq!(err.code(), Some("EPIPE"));
}

#[tokio::test(flavor = "current_thread")]
async fn socket_options_apply_to_tcp_streams_only() {
    let rt = runtime(loopback());
    let listener = call(&rt, "op_net_listen_tcp", json!(["127.0.0.1", 0])).unwrap();
    let port = port(&listener);
    let (_server, client) = deadline("connect", async {
        tokio::join!(
            ok_async(&rt, "op_net_accept_tcp", json!([rid(&listener)])),
            ok_async(&rt, "op_net_connect_tcp", json!(["127.0.0.1", port])),
        )
    })
    .await;
    let c = rid(&client);
    let stream = rt
        .state()
        .borrow()
        .resource_table
        .get::<opkit_net::NetStream>(c as u32)
        .unwrap();
    let tcp = stream.as_tcp().unwrap();
    for on in [true, false, true] {
        call(&rt, "op_net_set_nodelay", json!([c, on])).unwrap();
        assert_eq!(tcp.nodelay().unwrap(), on);
        call(
            &rt,
            "op_net_set_keepalive",
            json!({"stream": c, "keepalive": on}),
        )
        .unwrap();
        assert_eq!(stream.keepalive().unwrap().unwrap(), on);
    }
    let err = call(&rt, "op_net_set_nodelay", json!([rid(&listener), true])).unwrap_err();
    assert_eq!(err.class(), ErrorClass::BadResource);
    assert_eq!(
        err.to_string(),
        format!(
            "BadResource: op_net_set_nodelay: argument 'stream': rid {} is a tcpListener, not a NetStream",
            rid(&listener)
        )
    );
}

#[tokio::test(flavor = "current_thread")]
async fn errors_carry_the_class_the_op_and_the_address() {
    let rt = runtime(loopback());
    // A port that nothing listens on: bind one, note it, close it.
    let listener = call(&rt, "op_net_listen_tcp", json!(["127.0.0.1", 0])).unwrap();
    let port = port(&listener);
    let taken = call(&rt, "op_net_listen_tcp", json!(["127.0.0.1", port])).unwrap_err();
    assert_eq!(taken.class(), ErrorClass::AddrInUse);
    assert_eq!(taken.code(), Some("EADDRINUSE"));
    assert!(
        taken
            .to_string()
            .starts_with(&format!("AddrInUse: op_net_listen_tcp: 127.0.0.1:{port}: ")),
        "{taken}"
    );
    call(&rt, "op_close", json!([rid(&listener)])).unwrap();
    let refused = ok_or_err(&rt, json!(["127.0.0.1", port])).await;
    assert_eq!(refused.class(), ErrorClass::ConnectionRefused);
    assert_eq!(refused.code(), Some("ECONNREFUSED"));
    assert!(
        refused.to_string().starts_with(&format!(
            "ConnectionRefused: op_net_connect_tcp: 127.0.0.1:{port}: "
        )),
        "{refused}"
    );

    // Bad arguments and rids are typed errors too.
    let err = ok_or_err(&rt, json!(["not a host", 1])).await;
    assert_eq!(err.class(), ErrorClass::TypeError);
    assert_eq!(
        err.message(),
        "'not a host' is not an IP address or a host name"
    );
    let err = call_async(&rt, "op_net_read", json!([999]), vec![vec![0; 4]])
        .await
        .0
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "BadResource: op_net_read: argument 'stream': rid 999 is not open"
    );
    let err = call_async(&rt, "op_net_accept_tcp", json!([999]), Vec::new())
        .await
        .0
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::BadResource);
}

async fn ok_or_err(rt: &opkit::Runtime, args: serde_json::Value) -> opkit::OpError {
    let (result, _) = call_async(rt, "op_net_connect_tcp", args, Vec::new()).await;
    result.unwrap_err()
}

/// A listener with a backlog of 0 that never accepts: once its queue is full, the
/// kernel drops further SYNs, so a connect stays pending until its timeout.
#[tokio::test(flavor = "current_thread")]
async fn a_connect_that_gets_no_answer_times_out() {
    let rt = runtime(loopback());
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let stalled = socket.listen(0).unwrap();
    let port = stalled.local_addr().unwrap().port();
    let mut timed_out = None;
    let mut held = Vec::new();
    for _ in 0..8 {
        let (result, _) = deadline(
            "connect",
            call_async(
                &rt,
                "op_net_connect_tcp",
                json!(["127.0.0.1", port, 200]),
                Vec::new(),
            ),
        )
        .await;
        match result {
            Ok(conn) => held.push(conn),
            Err(err) => {
                timed_out = Some(err);
                break;
            }
        }
    }
    let err = timed_out.expect("a connect to a full backlog times out");
    assert_eq!(err.class(), ErrorClass::TimedOut);
    assert_eq!(
        err.to_string(),
        format!("TimedOut: op_net_connect_tcp: 127.0.0.1:{port}: timed out after 200 ms")
    );
    assert!(
        held.len() <= 2,
        "the backlog held {} connections",
        held.len()
    );
}
