//! The ops as Model Context Protocol tools, over stdio: one JSON-RPC message per line
//! (the MCP stdio transport).
//!
//! Each op is one tool, named by the op, that runs its async entry where it has one
//! (the body off the host thread) and its sync entry otherwise. The tool's
//! `inputSchema` is an object of the op's JSON arguments by name, each with its
//! schema, and of its byte buffers as base64 strings; its `outputSchema` is an object
//! whose `result` is the op's result (MCP asks for an object there), with the
//! buffers as the op left them in `buffers` when it takes any. Schemas are draft 7,
//! as `opkit::schema` writes them, their `definitions` gathered at the top.
//!
//! A call answers `structuredContent` and the same as JSON text. An op's error is a
//! result with `isError`, its text `Class (CODE): op: message`, and the class, code
//! and op in `_meta["opkit/error"]`. `notifications/cancelled` drops the call it
//! names: no answer is sent for it (a blocking body already running finishes on its
//! worker, unseen).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use opkit::{OpError, OpMode, ParamKindMeta, Runtime, TableEntry};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::session::{SessionConfig, SessionInfo, Transport, session_runtime};

/// The revisions of the specification answered, newest first; a client asking for
/// another gets the newest.
pub const MCP_PROTOCOL_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26"];

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

/// One tool: the entry it runs and its description.
struct Tool<'a> {
    entry: &'a TableEntry,
    listing: Value,
}

/// The tools of a table, one per op, in table order.
fn tools(rt: &Runtime) -> Vec<Tool<'_>> {
    let mut tools: Vec<Tool<'_>> = Vec::new();
    for entry in rt.table().entries() {
        let meta = entry.decl.meta;
        match tools
            .iter_mut()
            .find(|tool| tool.entry.decl.meta.name == meta.name)
        {
            // An op's async entry is the tool's, where it has one.
            Some(tool) if entry.decl.mode != OpMode::Sync => tool.entry = entry,
            Some(_) => {}
            None => tools.push(Tool {
                entry,
                listing: Value::Null,
            }),
        }
    }
    for tool in &mut tools {
        tool.listing = listing(tool.entry);
    }
    tools
}

/// A tool's `tools/list` entry.
fn listing(entry: &TableEntry) -> Value {
    let meta = entry.decl.meta;
    let mut definitions = Map::new();
    let mut properties = Map::new();
    let mut required = Vec::new();
    for param in meta.params {
        let schema = match (param.kind, param.schema) {
            (ParamKindMeta::Buffer, _) => json!({
                "type": "string",
                "contentEncoding": "base64",
                "description": "A byte buffer, base64-encoded.",
            }),
            (ParamKindMeta::Serde | ParamKindMeta::Resource, Some(schema)) => lift(
                schema(),
                &format!("#/properties/{}", param.name),
                &mut definitions,
            ),
            _ => continue,
        };
        properties.insert(param.name.to_owned(), schema);
        if !param.optional {
            required.push(param.name);
        }
    }
    let mut input = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    let mut output_definitions = Map::new();
    let result = lift(
        (meta.ret_schema)(),
        "#/properties/result",
        &mut output_definitions,
    );
    let mut output = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": { "result": result },
        "required": ["result"],
    });
    if takes_buffers(entry) {
        output["properties"]["buffers"] = json!({
            "type": "array",
            "items": { "type": "string", "contentEncoding": "base64" },
            "description": "The byte buffers as the op left them, in order, base64-encoded.",
        });
    }
    if !definitions.is_empty() {
        input["definitions"] = definitions.into();
    }
    if !output_definitions.is_empty() {
        output["definitions"] = output_definitions.into();
    }
    let mut description = meta.doc.trim().to_owned();
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(&crate::entry_note(entry));
    json!({
        "name": meta.name,
        "description": description,
        "inputSchema": input,
        "outputSchema": output,
    })
}

fn takes_buffers(entry: &TableEntry) -> bool {
    entry
        .decl
        .meta
        .params
        .iter()
        .any(|p| p.kind == ParamKindMeta::Buffer)
}

/// `schema` placed at `at` in a larger document: its `definitions` moved into
/// `definitions` (one type, one name), and its references to its own root pointed
/// at `at`.
fn lift(mut schema: Value, at: &str, definitions: &mut Map<String, Value>) -> Value {
    if let Some(Value::Object(defs)) = schema.as_object_mut().and_then(|s| s.remove("definitions"))
    {
        for (name, mut def) in defs {
            repoint(&mut def, at);
            definitions.entry(name).or_insert(def);
        }
    }
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
    }
    repoint(&mut schema, at);
    schema
}

fn repoint(value: &mut Value, at: &str) {
    match value {
        Value::Object(object) => {
            for (key, inner) in object.iter_mut() {
                if key == "$ref" && inner == "#" {
                    *inner = at.into();
                } else {
                    repoint(inner, at);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| repoint(item, at)),
        _ => {}
    }
}

fn response(id: &Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

fn failure(id: &Value, code: i64, message: impl Into<String>) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message.into() } })
}

/// What one message asks of the loop.
enum Action<'a> {
    Reply(Value),
    Call(Value, Pin<Box<dyn Future<Output = Value> + 'a>>),
    Cancel(Value),
    Nothing,
}

/// Serves `config`'s table as MCP tools, one message a line on `input` and `output`,
/// until `input` ends and every call still wanted is answered.
pub(crate) async fn serve<R, W>(
    config: SessionConfig,
    info: crate::ApiInfo,
    input: R,
    mut output: W,
) -> std::io::Result<()>
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    let session = SessionInfo {
        peer: None,
        transport: Transport::Stdio,
        authenticated: false,
    };
    let (rt, _permits, limits) = session_runtime(config, &session);
    let rt = &rt;
    let tools = tools(rt);
    let tools = &tools;
    let info = &info;
    let mut stdin = tokio::io::BufReader::new(input);
    let mut calls = FuturesUnordered::new();
    let mut pending: HashMap<String, CancellationToken> = HashMap::new();
    let mut open = true;
    let max = limits.max_message_bytes;
    // Kept across the loop: a read cut short by a call's answer has left its bytes
    // here, and goes on from them.
    let mut line = Vec::new();
    let mut skipping = false;
    loop {
        if !open && calls.is_empty() {
            break;
        }
        let room = (max + 1).saturating_sub(line.len()) as u64;
        let mut limited = (&mut stdin).take(room);
        let reply = tokio::select! {
            read = limited.read_until(b'\n', &mut line), if open
                && calls.len() < limits.max_concurrent.max(1) =>
            {
                let line = std::mem::take(&mut line);
                if read? == 0 && line.is_empty() {
                    open = false;
                    continue;
                }
                let whole = line.ends_with(b"\n");
                if skipping {
                    // The rest of an over-long line, answered already.
                    skipping = !whole;
                    None
                } else if line.len() > max && !whole {
                    skipping = true;
                    Some(failure(&Value::Null, INVALID_REQUEST, format!("the message is over {max} bytes")))
                } else if line.iter().all(u8::is_ascii_whitespace) {
                    None
                } else {
                    match handle(rt, tools, info, &line) {
                        Action::Reply(reply) => Some(reply),
                        Action::Nothing => None,
                        Action::Cancel(id) => {
                            if let Some(token) = pending.remove(&id.to_string()) {
                                token.cancel();
                            }
                            None
                        }
                        Action::Call(id, call) => {
                            let token = CancellationToken::new();
                            pending.insert(id.to_string(), token.clone());
                            calls.push(async move {
                                tokio::select! {
                                    result = call => (id, Some(result)),
                                    () = token.cancelled() => (id, None),
                                }
                            });
                            None
                        }
                    }
                }
            }
            Some((id, result)) = calls.next(), if !calls.is_empty() => {
                pending.remove(&id.to_string());
                result.map(|result| response(&id, result))
            }
        };
        if let Some(reply) = reply {
            let mut text = serde_json::to_vec(&reply).unwrap_or_default();
            text.push(b'\n');
            output.write_all(&text).await?;
            output.flush().await?;
        }
    }
    Ok(())
}

fn handle<'a>(
    rt: &'a Runtime,
    tools: &'a [Tool<'a>],
    info: &crate::ApiInfo,
    line: &[u8],
) -> Action<'a> {
    let message: Value = match serde_json::from_slice(line) {
        Ok(message) => message,
        Err(err) => {
            return Action::Reply(failure(
                &Value::Null,
                PARSE_ERROR,
                format!("parse error: {err}"),
            ));
        }
    };
    let Some(object) = message.as_object() else {
        // Batches are not part of MCP since its 2025-06-18 revision.
        return Action::Reply(failure(
            &Value::Null,
            INVALID_REQUEST,
            "invalid request: expected one JSON-RPC object",
        ));
    };
    let method = object.get("method").and_then(Value::as_str);
    let params = object.get("params").cloned().unwrap_or(Value::Null);
    let id = match object.get("id") {
        // A notification.
        None => {
            return match method {
                Some("notifications/cancelled") => match params.get("requestId") {
                    Some(id) => Action::Cancel(id.clone()),
                    None => Action::Nothing,
                },
                _ => Action::Nothing,
            };
        }
        Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
        Some(_) => {
            return Action::Reply(failure(
                &Value::Null,
                INVALID_REQUEST,
                "invalid request: the id must be a string or a number",
            ));
        }
    };
    let Some(method) = method else {
        // A response to a request of ours: the server sends none.
        return Action::Nothing;
    };
    match method {
        "initialize" => {
            let asked = params.get("protocolVersion").and_then(Value::as_str);
            let version = MCP_PROTOCOL_VERSIONS
                .iter()
                .find(|v| Some(**v) == asked)
                .unwrap_or(&MCP_PROTOCOL_VERSIONS[0]);
            Action::Reply(response(
                &id,
                json!({
                    "protocolVersion": version,
                    "capabilities": { "tools": { "listChanged": false } },
                    "serverInfo": { "name": info.title, "version": info.version },
                    "instructions": "Each tool is an opkit op. Its errors come back as \
                        results with isError set, the class and code in _meta[\"opkit/error\"].",
                }),
            ))
        }
        "ping" => Action::Reply(response(&id, json!({}))),
        "tools/list" => {
            let listed: Vec<&Value> = tools.iter().map(|tool| &tool.listing).collect();
            Action::Reply(response(&id, json!({ "tools": listed })))
        }
        "tools/call" => {
            let Some(name) = params.get("name").and_then(Value::as_str) else {
                return Action::Reply(failure(
                    &id,
                    INVALID_PARAMS,
                    "tools/call: `name` must be a string",
                ));
            };
            let Some(tool) = tools.iter().find(|tool| tool.entry.decl.meta.name == name) else {
                return Action::Reply(failure(
                    &id,
                    INVALID_PARAMS,
                    format!("unknown tool: '{name}'"),
                ));
            };
            let arguments = match params.get("arguments") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(arguments)) => arguments.clone(),
                Some(_) => {
                    return Action::Reply(failure(
                        &id,
                        INVALID_PARAMS,
                        "tools/call: `arguments` must be an object",
                    ));
                }
            };
            Action::Call(id, Box::pin(call(rt, tool.entry, arguments)))
        }
        _ => Action::Reply(failure(
            &id,
            METHOD_NOT_FOUND,
            format!("method not found: '{method}'"),
        )),
    }
}

/// Runs one tool call: its answer, a result or an error result.
async fn call(rt: &Runtime, entry: &TableEntry, mut arguments: Map<String, Value>) -> Value {
    let meta = entry.decl.meta;
    let mut bufs = Vec::new();
    for param in meta
        .params
        .iter()
        .filter(|p| p.kind == ParamKindMeta::Buffer)
    {
        let bytes = match arguments.remove(param.name) {
            Some(Value::String(text)) => BASE64
                .decode(text.as_bytes())
                .map_err(|err| err.to_string()),
            Some(_) => Err("expected a base64 string".to_owned()),
            None => Err("missing".to_owned()),
        };
        match bytes {
            Ok(bytes) => bufs.push(bytes),
            Err(why) => {
                let err = OpError::type_error(format!("buffer '{}': {why}", param.name))
                    .with_op(meta.name);
                return tool_error(&err);
            }
        }
    }
    let args = serde_json::to_vec(&arguments).unwrap_or_default();
    let result = if entry.decl.mode == OpMode::Sync {
        let mut out = Vec::new();
        rt.call_sync_into(entry.id, &args, &mut bufs, &mut out)
            .map(|()| out)
    } else {
        let output = rt.call_async(entry.id, &args, bufs).await;
        bufs = output.bufs;
        output.result
    };
    let result = match result {
        Ok(bytes) if meta.returns_bytes => Value::String(BASE64.encode(bytes)),
        Ok(bytes) if bytes.is_empty() => Value::Null,
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(value) => value,
            Err(err) => {
                return tool_error(
                    &OpError::generic(format!("the result is not JSON: {err}")).with_op(meta.name),
                );
            }
        },
        Err(err) => return tool_error(&err),
    };
    let mut structured = json!({ "result": result });
    if takes_buffers(entry) {
        let encoded: Vec<String> = bufs.iter().map(|b| BASE64.encode(b)).collect();
        structured["buffers"] = encoded.into();
    }
    let text = serde_json::to_string(&structured).unwrap_or_default();
    json!({
        "content": [{ "type": "text", "text": text }],
        "structuredContent": structured,
        "isError": false,
    })
}

/// An op's error as a tool result.
fn tool_error(err: &OpError) -> Value {
    let class = err.class().as_str();
    let head = match err.code() {
        Some(code) => format!("{class} ({code})"),
        None => class.to_owned(),
    };
    let text = match err.op() {
        Some(op) => format!("{head}: {op}: {}", err.message()),
        None => format!("{head}: {}", err.message()),
    };
    json!({
        "content": [{ "type": "text", "text": text }],
        "isError": true,
        "_meta": { "opkit/error": { "class": class, "code": err.code(), "op": err.op() } },
    })
}
