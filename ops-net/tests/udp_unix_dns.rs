//! UDP, Unix stream and datagram sockets, and DNS, through the ops only.

mod common;

use common::*;
use opkit::ErrorClass;
use opkit_net::NetPermissions;
use serde_json::json;

#[tokio::test(flavor = "current_thread")]
async fn udp_ping_pong_over_ipv4_and_ipv6() {
    let rt = runtime(loopback());
    for host in ["127.0.0.1", "::1"] {
        let a = call(&rt, "op_net_bind_udp", json!([host, 0])).unwrap();
        let b = call(&rt, "op_net_bind_udp", json!({"hostname": host, "port": 0})).unwrap();
        assert_eq!(a["local_addr"]["hostname"], host);
        let (ra, rb) = (rid(&a), rid(&b));

        let (sent, received) = deadline("ping", async {
            tokio::join!(
                call_async(
                    &rt,
                    "op_net_send_udp",
                    json!([ra, host, port(&b)]),
                    vec![b"ping".to_vec()]
                ),
                call_async(&rt, "op_net_recv_udp", json!([rb]), vec![vec![0; 64]]),
            )
        })
        .await;
        assert_eq!(sent.0.unwrap(), 4);
        let (datagram, bufs) = received;
        let datagram = datagram.unwrap();
        assert_eq!(datagram["bytes"], 4);
        assert_eq!(datagram["remote_addr"], a["local_addr"]);
        assert_eq!(&bufs[0][..4], b"ping");

        // Pong, into a buffer too small for it: the datagram is cut to fit.
        let sent = call_async(
            &rt,
            "op_net_send_udp",
            json!([rb, host, port(&a)]),
            vec![b"pong!".to_vec()],
        )
        .await;
        assert_eq!(sent.0.unwrap(), 5);
        let (datagram, bufs) = deadline(
            "pong",
            call_async(&rt, "op_net_recv_udp", json!([ra]), vec![vec![0; 4]]),
        )
        .await;
        assert_eq!(datagram.unwrap()["bytes"], 4);
        assert_eq!(bufs, vec![b"pong".to_vec()]);
        for rid in [ra, rb] {
            call(&rt, "op_close", json!([rid])).unwrap();
        }
    }
    assert!(resources(&rt).is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn unix_stream_echo_round_trip_through_the_ops() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(NetPermissions::new().allow_unix(dir.path()).unwrap());
    let path = dir.path().join("echo.sock");
    let path_str = path.to_str().unwrap();
    let listener = call(&rt, "op_net_listen_unix", json!([path_str])).unwrap();
    assert_eq!(listener["local_addr"]["path"], path_str);
    let (server, client) = deadline("connect", async {
        tokio::join!(
            ok_async(&rt, "op_net_accept_unix", json!([rid(&listener)])),
            ok_async(
                &rt,
                "op_net_connect_unix",
                json!({"path": path_str, "timeout_ms": 5000})
            ),
        )
    })
    .await;
    assert_eq!(client["remote_addr"]["path"], path_str);
    assert_eq!(server["local_addr"]["path"], path_str);
    assert_eq!(server["remote_addr"]["path"], serde_json::Value::Null);
    assert_eq!(resources(&rt), ["unixListener", "unixStream", "unixStream"]);

    let (s, c) = (rid(&server), rid(&client));
    deadline("echo", async {
        write(&rt, c, b"hello over unix").await;
        let got = read_exact(&rt, s, 15).await;
        write(&rt, s, &got).await;
        assert_eq!(read_exact(&rt, c, 15).await, b"hello over unix");
    })
    .await;
    // The stream ops are shared with TCP, the TCP-only options are not.
    let err = call(&rt, "op_net_set_nodelay", json!([c, true])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "BadResource: op_net_set_nodelay: set_nodelay applies to a tcpStream, not a unixStream"
    );
    ok_async(&rt, "op_net_shutdown", json!([c])).await;
    let (eof, _) = call_async(&rt, "op_net_read", json!([s]), vec![vec![0; 4]]).await;
    assert_eq!(eof.unwrap(), 0);
    for rid in [s, c, rid(&listener)] {
        call(&rt, "op_close", json!([rid])).unwrap();
    }
    // The socket file stays; listening there again is `AddrInUse`, naming the path.
    let err = call(&rt, "op_net_listen_unix", json!([path_str])).unwrap_err();
    assert_eq!(err.class(), ErrorClass::AddrInUse);
    assert!(
        err.message().starts_with(&format!("'{path_str}': ")),
        "{err}"
    );
    let err = ok_or_err_unix(&rt, dir.path().join("nobody.sock")).await;
    assert_eq!(err.class(), ErrorClass::NotFound);
    assert_eq!(err.code(), Some("ENOENT"));
}

async fn ok_or_err_unix(rt: &opkit::Runtime, path: std::path::PathBuf) -> opkit::OpError {
    call_async(rt, "op_net_connect_unix", json!([path]), Vec::new())
        .await
        .0
        .unwrap_err()
}

#[tokio::test(flavor = "current_thread")]
async fn unix_datagrams_go_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(NetPermissions::new().allow_unix(dir.path()).unwrap());
    let (pa, pb) = (dir.path().join("a.sock"), dir.path().join("b.sock"));
    let a = call(&rt, "op_net_bind_unixgram", json!([pa])).unwrap();
    let b = call(&rt, "op_net_bind_unixgram", json!([pb])).unwrap();
    assert_eq!(resources(&rt), ["unixDatagram", "unixDatagram"]);
    let (sent, received) = deadline("datagram", async {
        tokio::join!(
            call_async(
                &rt,
                "op_net_send_unixgram",
                json!([rid(&a), pb]),
                vec![b"hi b".to_vec()]
            ),
            call_async(
                &rt,
                "op_net_recv_unixgram",
                json!([rid(&b)]),
                vec![vec![0; 16]]
            ),
        )
    })
    .await;
    assert_eq!(sent.0.unwrap(), 4);
    let datagram = received.0.unwrap();
    assert_eq!(datagram["bytes"], 4);
    assert_eq!(datagram["remote_addr"]["path"], pa.to_str().unwrap());
    assert_eq!(&received.1[0][..4], b"hi b");

    let sent = call_async(
        &rt,
        "op_net_send_unixgram",
        json!([rid(&b), pa]),
        vec![b"hi a".to_vec()],
    )
    .await;
    assert_eq!(sent.0.unwrap(), 4);
    let (datagram, bufs) = deadline(
        "reply",
        call_async(
            &rt,
            "op_net_recv_unixgram",
            json!([rid(&a)]),
            vec![vec![0; 4]],
        ),
    )
    .await;
    assert_eq!(
        datagram.unwrap()["remote_addr"]["path"],
        pb.to_str().unwrap()
    );
    assert_eq!(bufs, vec![b"hi a".to_vec()]);
}

#[tokio::test(flavor = "current_thread")]
async fn dns_resolves_localhost_through_the_system_resolver() {
    let rt = runtime(NetPermissions::new().allow("localhost").unwrap());
    let all = ok_async(&rt, "op_net_resolve", json!(["localhost"])).await;
    let all: Vec<String> = serde_json::from_value(all).unwrap();
    assert!(
        all.iter().any(|ip| ip == "127.0.0.1" || ip == "::1"),
        "{all:?}"
    );
    let v4 = ok_async(&rt, "op_net_resolve", json!(["LOCALHOST", "A"])).await;
    let v4: Vec<String> = serde_json::from_value(v4).unwrap();
    assert!(v4.contains(&"127.0.0.1".to_owned()), "{v4:?}");
    assert!(v4.iter().all(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok()));
    // An IP literal is its own answer, no lookup.
    let lit = ok_async(&rt, "op_net_resolve", json!(["::1", "AAAA"])).await;
    assert_eq!(lit, json!(["::1"]));
    let err = call_async(
        &rt,
        "op_net_resolve",
        json!(["127.0.0.1", "AAAA"]),
        Vec::new(),
    )
    .await
    .0
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "NotFound: op_net_resolve: 127.0.0.1: no AAAA records"
    );
    let err = call_async(
        &rt,
        "op_net_resolve",
        json!(["localhost", "MX"]),
        Vec::new(),
    )
    .await
    .0
    .unwrap_err();
    assert_eq!(err.class(), ErrorClass::TypeError);
}
