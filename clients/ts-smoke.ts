// The generated client against a live `opkit serve`, for cli/tests/ts.rs: a sync op,
// an async op, a byte result, buffer ops and errors, over HTTP and WebSocket. Prints
// one JSON object of what came back; the test checks every value.
//
//   node --experimental-websocket OUT/clients/ts-smoke.js URL TOKEN FOLDER   (Node 20)
//
// (OUT is where `tsc -p clients --outDir OUT` put it; FOLDER is one the server may
// read and write.)

import { HttpClient, OpError, RpcError, WebSocketClient } from "../docs/opkit.js";

// The one Node global used here; the DOM library types the rest (fetch, WebSocket).
declare const process: { argv: string[]; exitCode?: number };

const [url = "", token = "", folder = ""] = process.argv.slice(2);

/** The error `promise` rejects with, as the test reads it. */
async function failure(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof OpError) {
      return { type: "OpError", class: err.class, code: err.code, op: err.op, rpcCode: err.rpcCode };
    }
    if (err instanceof RpcError) {
      return { type: "RpcError", rpcCode: err.rpcCode, message: err.message };
    }
    return { type: String(err) };
  }
  return { type: "none" };
}

const http = new HttpClient(url, { token });
const text = `${folder}/hello.txt`;
// A sync op, then an async one, over HTTP.
await http.call("op_write_text_file_sync", [text, "hello, opkit"]);
const stat = await http.call("op_stat_async", [text]);
// A byte result comes back as a Uint8Array.
const bytes = await http.call("op_read_file_sync", [text]);

// Rids live as long as a WebSocket: open, write a buffer, seek, read into one.
const ws = await WebSocketClient.connect(url.replace(/^http/, "ws"), { token });
const file = `${folder}/bytes.bin`;
const rid = await ws.call("op_open_async", [file, { read: true, write: true, create: true }]);
const written = await ws.call("op_write_sync", [rid], new Uint8Array([0, 1, 2, 250, 255]));
const position = await ws.call("op_seek_sync", [rid, 1, 0]);
const buffer = new Uint8Array(8);
const read = await ws.call("op_read_async", [rid], buffer);
// Calls may overlap on one socket: each answer finds its call.
const [exists, missing] = await Promise.all([
  ws.call("op_exists_async", [file]),
  ws.call("op_exists_sync", [`${folder}/nothing`]),
]);
await ws.call("op_close_sync", [rid]);

const notFound = await failure(ws.call("op_stat_async", [`${folder}/missing.txt`]));
// A wrong type, past the compiler: the server's `TypeError`.
const typeError = await failure(http.call("op_stat_sync", [7 as unknown as string]));
const badToken = await failure(new HttpClient(url, { token: "x".repeat(20) }).call("op_cwd_sync", []));
ws.close();

console.log(
  JSON.stringify({
    stat: { size: stat.size, kind: stat.kind, is_file: stat.is_file },
    bytes: new TextDecoder().decode(bytes),
    bytesIsUint8Array: bytes instanceof Uint8Array,
    written,
    position,
    read,
    buffer: Array.from(buffer),
    exists,
    missing,
    notFound,
    typeError,
    badToken,
  }),
);
