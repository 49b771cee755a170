//! JSON-RPC 2.0 over a [`Runtime`]: one message (a request, a notification or a batch)
//! in, at most one message out.
//!
//! The method is an entry name (`op_stat_async`); `params` go to the op as they are,
//! without being parsed here. Byte buffers travel as base64 strings in a `buffers`
//! member beside `params`, and come back, as the op left them, in a `buffers` member
//! of the response.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::future::join_all;
use opkit::{ErrorClass, OpError, OpMode, Runtime};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::openrpc::Discovery;

/// The method that answers the server's OpenRPC document (see [`crate::openrpc()`]).
pub const DISCOVER: &str = "rpc.discover";

/// The error codes of the specification, and the one for an op's own error.
pub const PARSE_ERROR: i32 = -32700;
pub const INVALID_REQUEST: i32 = -32600;
pub const METHOD_NOT_FOUND: i32 = -32601;
pub const INVALID_PARAMS: i32 = -32602;
pub const OP_ERROR: i32 = -32000;

/// The members of a request, each kept raw until it is checked. A member that is
/// present is `Some`, even when it is `null` (`"id": null` is a request, not a
/// notification).
#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    params: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    buffers: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(de).map(Some)
}

/// An error response before it is written.
struct RpcError {
    code: i32,
    message: String,
    data: Option<serde_json::Value>,
}

impl RpcError {
    fn new(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    fn from_op(err: &OpError) -> Self {
        let code = match err.class() {
            ErrorClass::TypeError => INVALID_PARAMS,
            _ => OP_ERROR,
        };
        Self {
            code,
            message: err.to_string(),
            data: Some(serde_json::json!({
                "class": err.class().as_str(),
                "code": err.code(),
                "op": err.op(),
            })),
        }
    }
}

/// What a session's calls share: the permits of its concurrency limit (one per call,
/// batch members included) and the reply limit.
pub struct Context<'a> {
    pub permits: &'a tokio::sync::Semaphore,
    pub max_reply_bytes: usize,
    /// The server's OpenRPC document, for `rpc.discover`.
    pub discovery: &'a Discovery,
}

/// Answers one message. `None` when nothing is to be sent back: a notification, or a
/// batch of notifications only.
pub async fn handle_message(rt: &Runtime, cx: &Context<'_>, message: &[u8]) -> Option<Vec<u8>> {
    let text = match std::str::from_utf8(message) {
        // JSON's whitespace only: `str::trim` would also drop what JSON does not allow
        // (a vertical tab, a no-break space), and run a message that is not JSON.
        Ok(text) => text.trim_matches([' ', '\t', '\n', '\r']),
        Err(err) => {
            return Some(error_response(
                None,
                &RpcError::new(PARSE_ERROR, format!("parse error: invalid UTF-8: {err}")),
            ));
        }
    };
    if text.starts_with('[') {
        let members: Vec<&RawValue> = match serde_json::from_str(text) {
            Ok(members) => members,
            Err(err) => return Some(parse_error(&err)),
        };
        if members.is_empty() {
            return Some(error_response(
                None,
                &RpcError::new(INVALID_REQUEST, "invalid request: an empty batch"),
            ));
        }
        let replies = join_all(members.iter().map(|m| handle_one(rt, cx, m.get()))).await;
        // The batch's answer is one reply: once the members' answers pass the limit,
        // the rest become errors naming it.
        let mut total = 2usize;
        let replies: Vec<Vec<u8>> = replies
            .into_iter()
            .flatten()
            .map(|answer| {
                total = total.saturating_add(answer.bytes.len() + 1);
                match total > cx.max_reply_bytes {
                    true => error_response(
                        answer.id,
                        &RpcError::from_op(&too_large("the batch", total, cx.max_reply_bytes)),
                    ),
                    false => answer.bytes,
                }
            })
            .collect();
        if replies.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(replies.iter().map(|r| r.len() + 1).sum::<usize>() + 2);
        out.push(b'[');
        for (index, reply) in replies.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(reply);
        }
        out.push(b']');
        return Some(out);
    }
    if let Err(err) = serde_json::from_str::<&RawValue>(text) {
        return Some(parse_error(&err));
    }
    handle_one(rt, cx, text).await.map(|answer| answer.bytes)
}

/// An error for an answer over the reply limit, before it is written.
fn too_large(what: &str, bytes: usize, max: usize) -> OpError {
    OpError::new(
        ErrorClass::ResourceExhausted,
        format!(
            "{what} answers {bytes} bytes, more than the server sends in one reply (max_reply_bytes = {max})"
        ),
    )
}

fn parse_error(err: &serde_json::Error) -> Vec<u8> {
    error_response(
        None,
        &RpcError::new(PARSE_ERROR, format!("parse error: {err}")),
    )
}

/// One member's answer, with the id it answers.
struct Answer<'a> {
    id: Option<&'a RawValue>,
    bytes: Vec<u8>,
}

/// One request or notification, already known to be well-formed JSON.
async fn handle_one<'a>(rt: &Runtime, cx: &Context<'_>, text: &'a str) -> Option<Answer<'a>> {
    let (id, bytes) = answer_one(rt, cx, text).await?;
    Some(Answer { id, bytes })
}

async fn answer_one<'a>(
    rt: &Runtime,
    cx: &Context<'_>,
    text: &'a str,
) -> Option<(Option<&'a RawValue>, Vec<u8>)> {
    // A request is an object; serde would also take an array of its members.
    let parsed = match text.trim_start().starts_with('{') {
        true => serde_json::from_str::<Request<'_>>(text).ok(),
        false => None,
    };
    let request = match parsed {
        Some(request) => request,
        None => {
            return Some((
                None,
                error_response(
                    None,
                    &RpcError::new(INVALID_REQUEST, "invalid request: expected an object"),
                ),
            ));
        }
    };
    let id = match request.id {
        Some(id) if !is_valid_id(id) => {
            return Some((
                None,
                error_response(
                    None,
                    &RpcError::new(
                        INVALID_REQUEST,
                        "invalid request: `id` must be a string, a number or null",
                    ),
                ),
            ));
        }
        other => other,
    };
    let reply = match call(rt, cx, &request).await {
        Ok(reply) => reply,
        // A malformed request is answered even without an id (with `id: null`);
        // a notification's op error is not answered.
        Err(err) if err.code == INVALID_REQUEST => return Some((id, error_response(id, &err))),
        Err(err) => return id.map(|id| (Some(id), error_response(Some(id), &err))),
    };
    let id = id?;
    let mut out = Vec::with_capacity(reply.result.len() + 48);
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id.get().as_bytes());
    out.extend_from_slice(br#","result":"#);
    out.extend_from_slice(&reply.result);
    if let Some(bufs) = reply.bufs {
        out.extend_from_slice(br#","buffers":"#);
        let encoded: Vec<String> = bufs.iter().map(|b| BASE64.encode(b)).collect();
        // Serializing a Vec<String> cannot fail.
        let _ = serde_json::to_writer(&mut out, &encoded);
    }
    out.push(b'}');
    Some((Some(id), out))
}

struct Reply {
    result: Vec<u8>,
    /// The buffers handed back, when the request passed any.
    bufs: Option<Vec<Vec<u8>>>,
}

async fn call(rt: &Runtime, cx: &Context<'_>, request: &Request<'_>) -> Result<Reply, RpcError> {
    let version_ok = request
        .jsonrpc
        .and_then(|v| serde_json::from_str::<&str>(v.get()).ok())
        .is_some_and(|v| v == "2.0");
    if !version_ok {
        return Err(RpcError::new(
            INVALID_REQUEST,
            r#"invalid request: `jsonrpc` must be "2.0""#,
        ));
    }
    let method = request
        .method
        .and_then(|m| serde_json::from_str::<String>(m.get()).ok())
        .ok_or_else(|| {
            RpcError::new(
                INVALID_REQUEST,
                "invalid request: `method` must be a string",
            )
        })?;
    let params = match request.params {
        None => "",
        Some(raw) if raw.get().starts_with(['[', '{']) => raw.get(),
        Some(_) => {
            return Err(RpcError::new(
                INVALID_PARAMS,
                "invalid params: `params` must be an array or an object",
            ));
        }
    };
    if method == DISCOVER {
        return discover(rt, cx, request);
    }
    let bufs = match request.buffers {
        None => None,
        Some(raw) => Some(decode_buffers(raw)?),
    };
    let entry = rt
        .op_id(&method)
        .and_then(|id| rt.table().get(id))
        .ok_or_else(|| RpcError::new(METHOD_NOT_FOUND, format!("method not found: '{method}'")))?;
    let passed = bufs.is_some();
    let mut bufs = bufs.unwrap_or_default();
    // Every call holds one of the session's permits while it runs, so a batch cannot
    // start more work at once than `max_concurrent` allows. The semaphore is never
    // closed.
    let _permit = cx.permits.acquire().await.ok();
    let result = if entry.decl.mode == OpMode::Sync {
        let mut out = Vec::new();
        rt.call_sync_into(entry.id, params.as_bytes(), &mut bufs, &mut out)
            .map(|()| out)
    } else {
        let output = rt.call_async(entry.id, params.as_bytes(), bufs).await;
        bufs = output.bufs;
        output.result
    };
    match &result {
        Ok(out) => tracing::debug!(method = %method, bytes = out.len(), "request answered"),
        Err(err) => {
            tracing::debug!(method = %method, class = err.class().as_str(), "request failed")
        }
    }
    // What the answer will weigh, buffers included, checked before it is encoded.
    let weight = |result: &[u8]| {
        let result = match entry.decl.meta.returns_bytes {
            true => result.len().div_ceil(3) * 4 + 2,
            false => result.len(),
        };
        let bufs: usize = bufs.iter().map(|b| b.len().div_ceil(3) * 4 + 3).sum();
        result + if passed { bufs } else { 0 }
    };
    match result {
        Ok(result) if weight(&result) > cx.max_reply_bytes => {
            let err = too_large(entry.decl.entry, weight(&result), cx.max_reply_bytes)
                .with_op(entry.decl.meta.name);
            Err(RpcError::from_op(&err))
        }
        // Raw bytes travel as a base64 string.
        Ok(result) if entry.decl.meta.returns_bytes => Ok(Reply {
            result: format!("\"{}\"", BASE64.encode(&result)).into_bytes(),
            bufs: passed.then_some(bufs),
        }),
        Ok(result) => Ok(Reply {
            result,
            bufs: passed.then_some(bufs),
        }),
        Err(err) => Err(RpcError::from_op(&err)),
    }
}

/// `rpc.discover`: the document of the session's table, which takes no params. The
/// token was checked before the message was read, as for any method; the policy,
/// which judges entries, has none to judge here.
fn discover(rt: &Runtime, cx: &Context<'_>, request: &Request<'_>) -> Result<Reply, RpcError> {
    let empty = |text: &str| {
        let inner = text.trim();
        inner.len() >= 2 && inner[1..inner.len() - 1].trim().is_empty()
    };
    if request.params.is_some_and(|raw| !empty(raw.get())) || request.buffers.is_some() {
        return Err(RpcError::new(
            INVALID_PARAMS,
            "invalid params: `rpc.discover` takes no params and no buffers",
        ));
    }
    let document = cx.discovery.document(rt.table());
    if document.len() > cx.max_reply_bytes {
        let err = too_large(DISCOVER, document.len(), cx.max_reply_bytes);
        return Err(RpcError::from_op(&err));
    }
    Ok(Reply {
        result: document.to_vec(),
        bufs: None,
    })
}

fn decode_buffers(raw: &RawValue) -> Result<Vec<Vec<u8>>, RpcError> {
    let encoded: Vec<&str> = serde_json::from_str(raw.get()).map_err(|_| {
        RpcError::new(
            INVALID_PARAMS,
            "invalid params: `buffers` must be an array of base64 strings",
        )
    })?;
    encoded
        .iter()
        .enumerate()
        .map(|(index, text)| {
            BASE64.decode(text).map_err(|err| {
                RpcError::new(
                    INVALID_PARAMS,
                    format!("invalid params: buffer {index} is not valid base64: {err}"),
                )
            })
        })
        .collect()
}

/// A string, a number or null, as the specification allows for `id`.
fn is_valid_id(id: &RawValue) -> bool {
    let text = id.get();
    text == "null"
        || text.starts_with('"')
        || text.starts_with(|c: char| c == '-' || c.is_ascii_digit())
}

fn error_response(id: Option<&RawValue>, err: &RpcError) -> Vec<u8> {
    let mut error = serde_json::json!({ "code": err.code, "message": err.message });
    if let Some(data) = &err.data {
        error["data"] = data.clone();
    }
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id.map_or("null", |id| id.get()).as_bytes());
    out.extend_from_slice(br#","error":"#);
    // Serializing a `Value` cannot fail.
    let _ = serde_json::to_writer(&mut out, &error);
    out.push(b'}');
    out
}

/// An error answer for a message that was refused before it was read.
pub fn refusal(code: i32, message: impl Into<String>) -> Vec<u8> {
    error_response(None, &RpcError::new(code, message))
}
