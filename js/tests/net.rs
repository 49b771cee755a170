//! A TCP echo over loopback through the net ops, from one script: listen, accept and
//! connect in flight together, bytes written and read through Uint8Arrays.

mod common;

use common::{PRELUDE, run_in};

#[test]
fn a_script_echoes_over_loopback_tcp() {
    let dir = tempfile::tempdir().expect("temp dir");
    let net = opkit_net::extension(
        opkit_net::NetPermissions::new()
            .allow("127.0.0.1")
            .expect("a valid entry"),
    );
    let main = format!(
        r#"{PRELUDE}
const listener = ops.op_net_listen_tcp_sync("127.0.0.1", 0);
const port = listener.local_addr.port;
const [server, client] = await Promise.all([
  ops.op_net_accept_tcp_async(listener.rid),
  ops.op_net_connect_tcp_async("127.0.0.1", port),
]);
eq(client.remote_addr.port, port, "connected to the listener");
await ops.op_net_write_async(client.rid, new Uint8Array([112, 105, 110, 103]));
const buf = new Uint8Array(16);
const n = await ops.op_net_read_async(server.rid, buf);
await ops.op_net_write_async(server.rid, buf.subarray(0, n));
const back = new Uint8Array(16);
const m = await ops.op_net_read_async(client.rid, back);
console.log(String.fromCharCode(...back.subarray(0, m)));
for (const rid of [client.rid, server.rid, listener.rid]) ops.op_close_sync(rid);
const refused = await rejects(ops.op_net_connect_tcp_async("127.0.0.2", port));
eq(refused.name, "PermissionDenied", "an address not granted");
"#
    );
    let outcome = run_in(dir.path(), vec![net], &[("main.js", &main)]);
    assert_eq!(outcome.result, Ok(()), "errors: {:?}", outcome.errors);
    assert_eq!(outcome.lines, ["ping"]);
}
