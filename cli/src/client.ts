// The client: hand-written (opkit's `cli/src/client.ts`), the same for every table. It
// names only `Ops`, `ErrorClass` and `BYTE_RESULTS` of the declarations above.
//
// A call sends its params by position and its buffers base64-encoded in `buffers`;
// the buffers come back as the op left them and are copied into the `Uint8Array`s
// passed, so `op_read` fills the one it is given, as it does in Rust.

/** An entry's method name. */
export type Method = keyof Ops;

/**
 * A call that failed without an op's error: the server refused the request (no token,
 * a bad request, an unknown method), or could not be reached.
 */
export class RpcError extends Error {
  /**
   * The JSON-RPC error code (`-32601` for an unknown method, `-32602` for bad params,
   * `-32000` for an op's error), or `0` when no JSON-RPC answer came: an HTTP refusal
   * or a closed socket.
   */
  readonly rpcCode: number;

  constructor(message: string, rpcCode: number) {
    super(message);
    this.name = "RpcError";
    this.rpcCode = rpcCode;
  }
}

/** An op's own error: its class, the OS error's name and the op that failed. */
export class OpError extends RpcError {
  /** The class, e.g. `"NotFound"`. */
  readonly class: ErrorClass;
  /** The OS error's name, e.g. `"ENOENT"`, or `null`. */
  readonly code: string | null;
  /** The op's name, e.g. `"op_stat"`, or `null`. */
  readonly op: string | null;

  constructor(message: string, rpcCode: number, data: ErrorData) {
    super(message, rpcCode);
    this.name = "OpError";
    this.class = data.class;
    this.code = data.code ?? null;
    this.op = data.op ?? null;
  }
}

/** The `data` of an op's error. */
export interface ErrorData {
  class: ErrorClass;
  code?: string | null;
  op?: string | null;
}

/** A JSON-RPC response, as the server writes it. */
export interface RpcResponse {
  id?: unknown;
  result?: unknown;
  buffers?: string[];
  error?: { code: number; message: string; data?: ErrorData };
}

/** What the two transports share: numbering, encoding and the reading of answers. */
export abstract class Client {
  #nextId = 1;

  /**
   * Calls `method` with its `params` and its byte `buffers`; resolves with the result,
   * or rejects with an `OpError` (the op failed) or an `RpcError`.
   */
  async call<M extends Method>(
    method: M,
    params: Ops[M]["params"],
    ...buffers: Ops[M]["buffers"]
  ): Promise<Ops[M]["result"]> {
    const id = this.#nextId++;
    const request: Record<string, unknown> = { jsonrpc: "2.0", id, method, params };
    const passed: Uint8Array[] = buffers;
    if (passed.length > 0) {
      request.buffers = passed.map(toBase64);
    }
    const response = await this.exchange(id, JSON.stringify(request));
    if (response.error !== undefined) {
      const { code, message, data } = response.error;
      throw data?.class === undefined
        ? new RpcError(message, code)
        : new OpError(message, code, data);
    }
    (response.buffers ?? []).forEach((encoded, index) => {
      const buffer = passed[index];
      if (buffer !== undefined) {
        buffer.set(fromBase64(encoded).subarray(0, buffer.length));
      }
    });
    const result = BYTE_RESULTS.has(method)
      ? fromBase64(String(response.result))
      : response.result;
    return result as Ops[M]["result"];
  }

  /** Sends one request and resolves with its response. */
  protected abstract exchange(id: number, request: string): Promise<RpcResponse>;
}

export interface ClientOptions {
  /** The server's token (`opkit serve` prints it). */
  token?: string;
}

/**
 * Calls over HTTP `POST`. Each request is a session of its own: a rid one call
 * returns is closed when it is answered, so use a `WebSocketClient` for rids.
 */
export class HttpClient extends Client {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;

  /** `url` is the server's, e.g. `http://127.0.0.1:8765/`. */
  constructor(url: string, options: ClientOptions & { fetch?: typeof fetch } = {}) {
    super();
    this.#url = url;
    this.#headers = { "content-type": "application/json" };
    if (options.token !== undefined) {
      this.#headers.authorization = `Bearer ${options.token}`;
    }
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  protected async exchange(_id: number, request: string): Promise<RpcResponse> {
    const answer = await this.#fetch(this.#url, {
      method: "POST",
      headers: this.#headers,
      body: request,
    });
    const text = await answer.text();
    if (answer.status !== 200) {
      throw new RpcError(`HTTP ${answer.status}: ${text.trim()}`, 0);
    }
    return JSON.parse(text) as RpcResponse;
  }
}

/** What the client needs of a WebSocket class: the browser's, Node 22's, or `ws`'s. */
export type WebSocketClass = new (url: string) => WebSocket;

/**
 * Calls over one WebSocket: one session, whose rids live until `close()`. Calls may
 * overlap; each answer is matched to its call by id.
 */
export class WebSocketClient extends Client {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, (response: RpcResponse | RpcError) => void>();

  /**
   * Opens a WebSocket to `url` (`ws://127.0.0.1:8765/`). The token goes in the URL's
   * query, since a browser's WebSocket cannot set headers. `WebSocket` defaults to the
   * global one, which Node 20 has with `--experimental-websocket`.
   */
  static connect(
    url: string,
    options: ClientOptions & { WebSocket?: WebSocketClass } = {},
  ): Promise<WebSocketClient> {
    const Class =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
    if (Class === undefined) {
      return Promise.reject(
        new RpcError("no WebSocket class: pass one in `options.WebSocket`", 0),
      );
    }
    const target = new URL(url);
    if (options.token !== undefined) {
      target.searchParams.set("token", options.token);
    }
    const socket = new Class(target.href);
    return new Promise((resolve, reject) => {
      socket.onopen = () => resolve(new WebSocketClient(socket));
      // The URL is not repeated: it holds the token. (A settled promise ignores
      // these; once open, the client sets its own.)
      socket.onerror = () => reject(new RpcError("the WebSocket did not open", 0));
      socket.onclose = () => reject(new RpcError("the WebSocket closed as it opened", 0));
    });
  }

  private constructor(socket: WebSocket) {
    super();
    this.#socket = socket;
    socket.onmessage = (event: MessageEvent) => {
      let response: RpcResponse;
      try {
        response = JSON.parse(String(event.data)) as RpcResponse;
      } catch {
        return;
      }
      const settle = typeof response.id === "number" ? this.#pending.get(response.id) : undefined;
      if (settle !== undefined && typeof response.id === "number") {
        this.#pending.delete(response.id);
        settle(response);
      }
    };
    socket.onclose = () => {
      for (const settle of this.#pending.values()) {
        settle(new RpcError("the WebSocket closed before the answer came", 0));
      }
      this.#pending.clear();
    };
  }

  protected exchange(id: number, request: string): Promise<RpcResponse> {
    if (this.#socket.readyState !== this.#socket.OPEN) {
      return Promise.reject(new RpcError("the WebSocket is closed", 0));
    }
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (answer) =>
        answer instanceof RpcError ? reject(answer) : resolve(answer),
      );
      this.#socket.send(request);
    });
  }

  /** Closes the socket, and with it the session and its rids. */
  close(): void {
    this.#socket.close();
  }
}

function toBase64(bytes: Uint8Array): string {
  let text = "";
  // In slices: spreading a large array as arguments would overflow the stack.
  for (let at = 0; at < bytes.length; at += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return btoa(text);
}

function fromBase64(encoded: string): Uint8Array {
  const text = atob(encoded);
  const bytes = new Uint8Array(text.length);
  for (let at = 0; at < text.length; at++) {
    bytes[at] = text.charCodeAt(at);
  }
  return bytes;
}
