//! A host's own ops as MCP tools through the library (`Server::serve_mcp`), over an
//! in-memory pipe: listed with their schemas, called, and an error read.

use opkit::{OpError, extension, op};
use opkit_server::Server;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A point on a plane.
#[derive(serde::Deserialize, serde::Serialize, opkit::schemars::JsonSchema)]
#[schemars(crate = "opkit::schemars")]
struct Point {
    x: f64,
    y: f64,
}

/// Moves a point by `dx`, refusing to leave the plane's right half.
#[op]
fn op_shift(p: Point, dx: f64) -> Result<Point, OpError> {
    let x = p.x + dx;
    if x < 0.0 {
        return Err(OpError::new(
            opkit::ErrorClass::InvalidData,
            "off the plane",
        ));
    }
    Ok(Point { x, y: p.y })
}

extension!(plane, ops = [op_shift]);

#[tokio::test]
async fn own_ops_are_listed_and_called_as_tools() {
    let server = Server::builder()
        .extension(plane())
        .build()
        .expect("the server builds");
    let (client, served) = tokio::io::duplex(64 * 1024);
    let (server_in, server_out) = tokio::io::split(served);
    let serving = server.serve_mcp(server_in, server_out);
    let (client_in, mut client_out) = tokio::io::split(client);
    let mut lines = BufReader::new(client_in).lines();
    let messages = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "op_shift", "arguments": {"p": {"x": 1.0, "y": 2.0}, "dx": 0.5}}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "op_shift", "arguments": {"p": {"x": 1.0, "y": 2.0}, "dx": -5.0}}}),
    ];
    let talk = async move {
        let mut answers = Vec::new();
        for message in messages {
            let mut line = serde_json::to_vec(&message).expect("JSON");
            line.push(b'\n');
            client_out.write_all(&line).await.expect("sent");
            let answer = lines.next_line().await.expect("read").expect("an answer");
            answers.push(serde_json::from_str::<Value>(&answer).expect("JSON"));
        }
        // The client goes away: the server ends.
        answers
    };
    // The server's futures stay on this thread (its runtime is not `Send`).
    let (ended, answers) = tokio::join!(serving, talk);
    assert!(ended.is_ok(), "{ended:?}");
    assert_eq!(answers[0]["result"]["protocolVersion"], "2025-06-18");
    let tools = answers[1]["result"]["tools"].as_array().expect("tools");
    let shift = tools
        .iter()
        .find(|t| t["name"] == "op_shift")
        .expect("op_shift is a tool");
    assert!(
        shift["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("Moves a point by `dx`")),
        "{shift}"
    );
    assert_eq!(shift["inputSchema"]["required"], json!(["p", "dx"]));
    assert_eq!(
        shift["inputSchema"]["properties"]["p"]["properties"]["x"]["type"],
        "number"
    );
    assert_eq!(
        shift["outputSchema"]["properties"]["result"]["required"],
        json!(["x", "y"])
    );
    assert_eq!(
        answers[2]["result"]["structuredContent"],
        json!({"result": {"x": 1.5, "y": 2.0}})
    );
    assert_eq!(answers[3]["result"]["isError"], true);
    assert_eq!(
        answers[3]["result"]["_meta"]["opkit/error"],
        json!({"class": "InvalidData", "code": null, "op": "op_shift"})
    );
}
