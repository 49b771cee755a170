//! `rpc.discover`: the OpenRPC document of the server's own table, a library user's
//! extensions included, behind the same token as every other method.

mod common;

use common::{Running, ws_call};
use opkit::{OpError, extension, op};
use opkit_server::{ApiInfo, Server};
use serde_json::{Value, json};

/// Greets someone, optionally loudly.
///
/// The second paragraph is part of the description.
#[op]
fn op_greet(name: String, loud: Option<bool>) -> String {
    match loud {
        Some(true) => format!("HELLO, {}!", name.to_uppercase()),
        _ => format!("hello, {name}"),
    }
}

/// Counts the bytes of a buffer.
#[op(sync)]
fn op_count(#[buffer] data: &[u8]) -> usize {
    data.len()
}

extension!(greetings, ops = [op_greet, op_count]);

fn method<'a>(document: &'a Value, name: &str) -> &'a Value {
    document["methods"]
        .as_array()
        .and_then(|methods| methods.iter().find(|m| m["name"] == name))
        .unwrap_or_else(|| panic!("{name} is not in the document: {document}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_lists_a_library_users_own_ops() {
    let server = Server::builder()
        .extension(greetings())
        .info(ApiInfo {
            title: "greeter".to_owned(),
            version: "2.1.0".to_owned(),
        })
        .build()
        .unwrap();
    let expected = opkit_server::openrpc(
        server.table(),
        &ApiInfo {
            title: "greeter".to_owned(),
            version: "2.1.0".to_owned(),
        },
    );
    let running = Running::start(server).await;

    let reply = running
        .post(json!({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"}))
        .await;
    let document = &reply["result"];
    assert_eq!(
        document, &expected,
        "the server answers what openrpc() builds"
    );
    assert_eq!(document["openrpc"], "1.3.2");
    assert_eq!(document["info"]["title"], "greeter");
    assert_eq!(document["info"]["version"], "2.1.0");
    let names: Vec<&str> = document["methods"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    // The built-in ops every table has, then the extension's.
    assert_eq!(
        names,
        [
            "op_close_sync",
            "op_resources_sync",
            "op_greet_sync",
            "op_greet_async",
            "op_count_sync"
        ]
    );

    let greet = method(document, "op_greet_async");
    assert_eq!(greet["summary"], "Greets someone, optionally loudly.");
    assert!(
        greet["description"]
            .as_str()
            .unwrap()
            .contains("second paragraph")
    );
    assert_eq!(greet["paramStructure"], "either");
    assert_eq!(
        greet["params"],
        json!([
            {"name": "name", "required": true, "schema": {"type": "string"}},
            {"name": "loud", "required": false, "schema": {"type": ["boolean", "null"]}},
        ])
    );
    assert_eq!(
        greet["result"],
        json!({"name": "result", "schema": {"type": "string"}})
    );
    assert_eq!(greet["x-opkit-op"]["mode"], "blocking");
    // Every class, by reference; the references resolve to the codes rpc.rs answers.
    let errors = greet["errors"].as_array().unwrap();
    assert_eq!(errors.len(), opkit::ErrorClass::ALL.len());
    let resolve = |class: &str| {
        assert!(errors.contains(&json!({"$ref": format!("#/components/errors/{class}")})));
        document["components"]["errors"][class].clone()
    };
    assert_eq!(
        resolve("TypeError"),
        json!({"code": -32602, "message": "TypeError", "data": {"class": "TypeError"}})
    );
    assert_eq!(resolve("NotFound")["code"], -32000);
    assert_eq!(resolve("Panic")["data"]["class"], "Panic");

    // A buffer is not a param: it is described beside them.
    let count = method(document, "op_count_sync");
    assert_eq!(count["params"], json!([]));
    assert_eq!(count["x-opkit-buffers"][0]["name"], "data");
    assert_eq!(
        count["x-opkit-buffers"][0]["schema"]["contentEncoding"],
        "base64"
    );
    assert!(count["description"].as_str().unwrap().contains("`buffers`"));

    // The example call passes the required params only, and the server accepts it.
    let example = &greet["examples"][0]["params"];
    assert_eq!(example, &json!([{"name": "name", "value": "a.txt"}]));
    let params: serde_json::Map<String, Value> = example
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p["value"].clone()))
        .collect();
    let reply = running
        .post(json!({"jsonrpc": "2.0", "id": 2, "method": "op_greet_sync", "params": params}))
        .await;
    assert_eq!(reply["result"], "hello, a.txt", "{reply}");

    // The same over WebSocket; params, if any, must be empty.
    let mut ws = running.ws().await;
    let reply = ws_call(&mut ws, 3, "rpc.discover", json!([])).await;
    assert_eq!(reply["result"], expected);
    let reply = ws_call(&mut ws, 4, "rpc.discover", json!({"x": 1})).await;
    assert_eq!(reply["error"]["code"], -32602, "{reply}");
    drop(ws);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_needs_the_token_and_is_not_an_entry_the_policy_judges() {
    let server = Server::builder()
        .extension(greetings())
        .token("a-long-enough-secret-for-the-test")
        .policy(|_| |_: &opkit::TableEntry| Err(OpError::permission_denied("no calls at all")))
        .build()
        .unwrap();
    let running = Running::start(server).await;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"}).to_string();
    let response = reqwest::Client::new()
        .post(&running.url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401, "no token, no document");

    // With the token: the document, while every op call is refused by the policy.
    let reply = running
        .post(json!({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"}))
        .await;
    assert!(reply["result"]["methods"].is_array(), "{reply}");
    let reply = running
        .post(json!({"jsonrpc": "2.0", "id": 2, "method": "op_greet_sync", "params": ["x"]}))
        .await;
    assert_eq!(
        reply["error"]["data"]["class"], "PermissionDenied",
        "{reply}"
    );
    running.stop().await;
}
