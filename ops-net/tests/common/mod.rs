//! What the net tests share: a runtime with the net ops, JSON calls, a deadlock guard.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use opkit::{OpError, Runtime};
use opkit_net::NetPermissions;
use serde_json::Value;

/// A runtime with the `net` extension and `perms`.
pub fn runtime(perms: NetPermissions) -> Runtime {
    match Runtime::new([opkit_net::extension(perms)]) {
        Ok(rt) => rt,
        Err(err) => panic!("net extension registers: {err}"),
    }
}

/// Permissions for loopback: both loopback IPs and `localhost`, any port.
pub fn loopback() -> NetPermissions {
    NetPermissions::new()
        .allow("127.0.0.1")
        .and_then(|p| p.allow("[::1]"))
        .and_then(|p| p.allow("localhost"))
        .unwrap()
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|err| panic!("not JSON ({err}): {}", String::from_utf8_lossy(bytes)))
}

/// Calls a sync entry (`op_x` means `op_x_sync`) with JSON arguments.
pub fn call(rt: &Runtime, op: &str, args: Value) -> Result<Value, OpError> {
    let entry = format!("{op}_sync");
    let args = serde_json::to_vec(&args).unwrap();
    rt.call_sync(entry.as_str(), &args, &mut [])
        .map(|out| parse(&out))
}

/// Calls an async entry (`op_x` means `op_x_async`) with JSON arguments and buffers;
/// returns the result and the buffers handed back.
pub async fn call_async(
    rt: &Runtime,
    op: &str,
    args: Value,
    bufs: Vec<Vec<u8>>,
) -> (Result<Value, OpError>, Vec<Vec<u8>>) {
    let entry = format!("{op}_async");
    let args = serde_json::to_vec(&args).unwrap();
    let out = rt.call_async(entry.as_str(), &args, bufs).await;
    (out.result.map(|bytes| parse(&bytes)), out.bufs)
}

/// `call_async` without buffers, unwrapped.
pub async fn ok_async(rt: &Runtime, op: &str, args: Value) -> Value {
    match call_async(rt, op, args, Vec::new()).await.0 {
        Ok(value) => value,
        Err(err) => panic!("{op}: {err}"),
    }
}

/// Writes all of `data` to the stream `rid` through `op_net_write`.
pub async fn write(rt: &Runtime, rid: u64, data: &[u8]) {
    let (result, _) = call_async(
        rt,
        "op_net_write",
        serde_json::json!([rid]),
        vec![data.to_vec()],
    )
    .await;
    assert_eq!(result.unwrap(), data.len());
}

/// Reads exactly `len` bytes from the stream `rid` through `op_net_read`.
pub async fn read_exact(rt: &Runtime, rid: u64, len: usize) -> Vec<u8> {
    let mut got = Vec::with_capacity(len);
    while got.len() < len {
        let (result, mut bufs) = call_async(
            rt,
            "op_net_read",
            serde_json::json!([rid]),
            vec![vec![0; len - got.len()]],
        )
        .await;
        let n = result.unwrap().as_u64().unwrap() as usize;
        assert!(n > 0, "end of stream after {} of {len} bytes", got.len());
        got.extend_from_slice(&bufs.remove(0)[..n]);
    }
    got
}

/// Fails the test instead of hanging it: a deadlock guard, not a speed threshold.
pub async fn deadline<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(60), future).await {
        Ok(out) => out,
        Err(_) => panic!("{what} did not finish within 60 s: deadlock"),
    }
}

/// The `rid` field of an op's answer.
pub fn rid(value: &Value) -> u64 {
    value["rid"]
        .as_u64()
        .unwrap_or_else(|| panic!("no rid in {value}"))
}

/// The port of an op's `local_addr`.
pub fn port(value: &Value) -> u64 {
    value["local_addr"]["port"]
        .as_u64()
        .unwrap_or_else(|| panic!("no port in {value}"))
}

/// The names of the open resources.
pub fn resources(rt: &Runtime) -> Vec<String> {
    let listed = call(rt, "op_resources", serde_json::json!([])).unwrap();
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}
