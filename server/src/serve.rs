//! The transports: HTTP POST and WebSocket on one loopback port, and stdio.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::auth::Token;
use crate::session::{
    SessionChannels, SessionConfig, SessionInfo, Transport, answer_alone, channels, run_session,
};
use crate::stall::WriteStall;
use crate::threads::SessionThreads;

/// What every connection's handlers share.
#[derive(Clone)]
struct Shared {
    config: SessionConfig,
    token: Option<Token>,
    threads: SessionThreads,
    shutdown: watch::Receiver<bool>,
}

impl Shared {
    fn info(&self, peer: SocketAddr, transport: Transport) -> SessionInfo {
        SessionInfo {
            peer: Some(peer),
            transport,
            // The guard has let the request through.
            authenticated: self.token.is_some(),
        }
    }
}

/// An answer to an HTTP request.
type Response = hyper::Response<Full<Bytes>>;

fn answer(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response {
    let mut response = hyper::Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}

/// Connections over `max_connections` answered `503` at once; more are closed unanswered.
const MAX_REFUSING: usize = 32;

/// How long a shutdown waits for sessions to answer what they have in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves until `shutdown_signal` completes, then answers what is in flight and
/// returns.
pub(crate) async fn serve_http_with(
    listener: tokio::net::TcpListener,
    config: SessionConfig,
    token: Option<Token>,
    shutdown_signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = config.limits;
    let (stop, shutdown) = watch::channel(false);
    let shared = Shared {
        config,
        token,
        threads: SessionThreads::default(),
        shutdown,
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    // The header timer runs from a connection's start and again after each answer,
    // so it closes silent connections, idle keep-alive ones and slow-loris senders.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSING));
    // Each connection holds a clone: all dropped means all connections closed.
    let (connection_alive, mut connections_done) = tokio::sync::mpsc::channel::<()>(1);
    let mut accept_errors = Backoff::default();
    tokio::pin!(shutdown_signal);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown_signal => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                accept_errors.reset();
                accepted
            }
            Err(err) => {
                // Out of descriptors or memory: the loop lives on, and waits a little
                // longer each time so as not to spin.
                let pause = accept_errors.pause(&err);
                tokio::select! {
                    () = &mut shutdown_signal => break,
                    () = tokio::time::sleep(pause) => continue,
                }
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "at max_connections ({}); refusing", limits.max_connections);
            // Refusals are answered a few at a time; past that, the socket is
            // closed at once, so that a flood cannot hold descriptors by the refusal.
            if let Ok(refusing) = refusals.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    refuse_connection(stream).await;
                    drop(refusing);
                });
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        // The socket moves to its connection's thread, and to that thread's reactor.
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(err) => {
                tracing::debug!(%peer, "cannot hand the connection over: {err}");
                continue;
            }
        };
        let shared = shared.clone();
        let http = http.clone();
        let alive = connection_alive.clone();
        shared.threads.clone().spawn(move || async move {
            serve_connection(shared, http, stream, peer).await;
            // The connection's slot is free once it and its session have ended.
            drop(permit);
            drop(alive);
        });
    }
    tracing::info!("shutting down: answering the requests in flight");
    drop(listener);
    let _ = stop.send(true);
    // HTTP connections finish the request they are answering and idle ones close;
    // WebSocket sessions answer what they have in flight. Wait for them, but not
    // forever.
    drop(connection_alive);
    drop(shared);
    if tokio::time::timeout(SHUTDOWN_GRACE, connections_done.recv())
        .await
        .is_err()
    {
        tracing::warn!("connections still busy after {SHUTDOWN_GRACE:?}; exiting anyway");
    }
    Ok(())
}

/// The pause after an accept error: none for a connection that failed on its own
/// way in, else 10 ms doubling to a second; logged when it first happens and then
/// once a second at most.
#[derive(Default)]
struct Backoff {
    pause: Option<Duration>,
    logged: Option<std::time::Instant>,
    since_log: u64,
}

impl Backoff {
    fn reset(&mut self) {
        self.pause = None;
    }

    fn pause(&mut self, err: &std::io::Error) -> Duration {
        use std::io::ErrorKind::*;
        if matches!(
            err.kind(),
            ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
        ) {
            return Duration::ZERO;
        }
        let pause = self.pause.map_or(Duration::from_millis(10), |p| {
            (p * 2).min(Duration::from_secs(1))
        });
        self.pause = Some(pause);
        self.since_log += 1;
        if self
            .logged
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(
                "cannot accept connections ({} errors): {err}; retrying in {pause:?}",
                self.since_log
            );
            self.logged = Some(std::time::Instant::now());
            self.since_log = 0;
        }
        pause
    }
}

/// Answers a connection over the cap with `503` and closes it. The request's head
/// is read first (16 KiB and a second at most), since an HTTP client takes an answer
/// that comes before its request for a broken connection.
async fn refuse_connection(mut stream: tokio::net::TcpStream) {
    const BODY: &str = "opkit: too many connections (max_connections); try again later\n";
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
         content-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let read = stream.read(&mut buf).await?;
            if read == 0 {
                break;
            }
            head.extend_from_slice(&buf[..read]);
        }
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// A future that completes on SIGINT or SIGTERM. The handlers are installed when this
/// is called, not when the future is first polled, so that a signal sent as soon as
/// the server answers cannot find the default action (exit by signal) still in place.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let term = signal(SignalKind::terminate());
        async move {
            match (interrupt, term) {
                (Ok(mut interrupt), Ok(mut term)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                (Ok(mut one), Err(_)) | (Err(_), Ok(mut one)) => {
                    one.recv().await;
                }
                (Err(_), Err(_)) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Serves one connection on the calling thread (a session thread): its HTTP
/// requests, and the WebSocket session it may turn into, until both have ended.
async fn serve_connection(
    shared: Shared,
    http: hyper::server::conn::http1::Builder,
    stream: std::net::TcpStream,
    peer: SocketAddr,
) {
    let stream = match tokio::net::TcpStream::from_std(stream) {
        Ok(stream) => stream,
        Err(err) => {
            tracing::debug!(%peer, "cannot serve the connection: {err}");
            return;
        }
    };
    // A WebSocket session runs beside the connection's last request; the connection
    // is over when this has no sender left.
    let (session_alive, mut session_done) = tokio::sync::mpsc::channel::<()>(1);
    let mut stopping = shared.shutdown.clone();
    let service = {
        let shared = shared.clone();
        hyper::service::service_fn(move |request| {
            route(shared.clone(), peer, session_alive.clone(), request)
        })
    };
    // A client that takes no bytes of an answer for `idle_timeout` is cut off.
    let stream = WriteStall::new(stream, shared.config.limits.idle_timeout);
    let connection = http
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let mut connection = Box::pin(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        true = async { stopping.wait_for(|stop| *stop).await.is_ok() } => {
            // Finish the request being answered; close if idle.
            connection.as_mut().graceful_shutdown();
            connection.as_mut().await
        }
    };
    if let Err(err) = ended {
        tracing::debug!(%peer, "connection ended: {err}");
    }
    // The connection's service holds a sender: dropped here, so that the wait below
    // ends with the WebSocket session, if there is one.
    drop(connection);
    let _ = session_done.recv().await;
}

/// One request on a connection: the guard's checks, then a POST is answered, a
/// WebSocket handshake accepted, and a plain GET told what to do.
async fn route(
    shared: Shared,
    peer: SocketAddr,
    session_alive: tokio::sync::mpsc::Sender<()>,
    request: Request<Incoming>,
) -> Result<Response, std::convert::Infallible> {
    if let Some(refused) = guard(&shared, &request) {
        return Ok(refused);
    }
    if request.uri().path() != "/" {
        return Ok(answer(
            StatusCode::NOT_FOUND,
            "text/plain",
            "opkit: not found; the server answers at `/`\n",
        ));
    }
    Ok(match *request.method() {
        Method::POST => http_post(shared, peer, request.into_body()).await,
        Method::GET if is_upgrade(&request) => websocket(shared, peer, session_alive, request),
        Method::GET | Method::HEAD => answer(
            StatusCode::OK,
            "text/plain",
            "opkit: POST a JSON-RPC 2.0 message here, or open a WebSocket\n",
        ),
        _ => {
            let mut refused = refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "POST a JSON-RPC message, or GET a WebSocket",
            );
            refused.headers_mut().insert(
                header::ALLOW,
                header::HeaderValue::from_static("GET, HEAD, POST"),
            );
            refused
        }
    })
}

/// One HTTP request is a session of its own, answered on the connection's thread.
async fn http_post(shared: Shared, peer: SocketAddr, body: Incoming) -> Response {
    let limits = shared.config.limits;
    let body = http_body_util::Limited::new(body, limits.transport_limit());
    let mut read = std::pin::pin!(body.collect());
    // Most bodies came with their head: no timer for those.
    let read = match futures_util::poll!(read.as_mut()) {
        std::task::Poll::Ready(read) => read,
        std::task::Poll::Pending => {
            let Ok(read) = tokio::time::timeout(limits.header_timeout, read).await else {
                return refuse(
                    StatusCode::REQUEST_TIMEOUT,
                    "the body did not arrive within header_timeout",
                );
            };
            read
        }
    };
    let body = match read {
        Ok(body) => body.to_bytes(),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the body is far over max_message_bytes",
            );
        }
        Err(err) => {
            tracing::debug!(%peer, "cannot read a request's body: {err}");
            return refuse(StatusCode::BAD_REQUEST, "the body could not be read");
        }
    };
    if *shared.shutdown.borrow() {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        );
    }
    let info = shared.info(peer, Transport::Http);
    match answer_alone(shared.config, info, &body).await {
        Some(reply) => answer(StatusCode::OK, "application/json", reply),
        None => {
            let mut empty = hyper::Response::new(Full::new(Bytes::new()));
            *empty.status_mut() = StatusCode::NO_CONTENT;
            empty
        }
    }
}

/// Whether a request asks for a WebSocket (RFC 6455 §4.2.1): `Connection: upgrade`
/// and `Upgrade: websocket`.
fn is_upgrade<B>(request: &Request<B>) -> bool {
    let has = |name: header::HeaderName, token: &str| {
        request.headers().get_all(name).iter().any(|value| {
            value.to_str().is_ok_and(|value| {
                value
                    .split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    has(header::CONNECTION, "upgrade") && has(header::UPGRADE, "websocket")
}

/// Accepts a WebSocket handshake: the session starts on this thread once the
/// `101 Switching Protocols` answer is out.
fn websocket(
    shared: Shared,
    peer: SocketAddr,
    session_alive: tokio::sync::mpsc::Sender<()>,
    mut request: Request<Incoming>,
) -> Response {
    let headers = request.headers();
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(|v| v.as_bytes())
        != Some(b"13")
    {
        let mut refused = refuse(StatusCode::UPGRADE_REQUIRED, "only WebSocket version 13");
        refused.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            header::HeaderValue::from_static("13"),
        );
        return refused;
    }
    // One key: the base64 of 16 bytes (RFC 6455 §4.2.1).
    let mut keys = headers.get_all(header::SEC_WEBSOCKET_KEY).iter();
    let (Some(key), None) = (keys.next(), keys.next()) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "a WebSocket handshake needs one Sec-WebSocket-Key",
        );
    };
    let decoded = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, key);
    if decoded.map_or(true, |bytes| bytes.len() != 16) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Key must be the base64 of 16 bytes",
        );
    }
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let Ok(accept) = header::HeaderValue::from_str(&accept) else {
        return refuse(StatusCode::BAD_REQUEST, "a bad Sec-WebSocket-Key");
    };
    let upgrade = hyper::upgrade::on(&mut request);
    let limits = shared.config.limits;
    tokio::task::spawn_local(async move {
        let upgraded = match upgrade.await {
            Ok(upgraded) => upgraded,
            Err(err) => {
                tracing::debug!(%peer, "the WebSocket upgrade failed: {err}");
                return;
            }
        };
        let transport_limit = limits.transport_limit();
        // tungstenite zeroes the free part of its read buffer before each read: a
        // small one (it grows for larger messages) keeps that from costing more than
        // the read.
        let config = WebSocketConfig::default()
            .read_buffer_size(8 * 1024)
            .max_message_size(Some(transport_limit))
            .max_frame_size(Some(transport_limit));
        let socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        let info = shared.info(peer, Transport::WebSocket);
        let (ours, ends) = channels(&limits);
        let session = run_session(shared.config.clone(), info, ends, shared.shutdown.clone());
        tokio::join!(session, websocket_session(peer, socket, ours));
        drop(shared);
        drop(session_alive);
    });
    let mut switching = hyper::Response::new(Full::new(Bytes::new()));
    *switching.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = switching.headers_mut();
    headers.insert(
        header::CONNECTION,
        header::HeaderValue::from_static("upgrade"),
    );
    headers.insert(
        header::UPGRADE,
        header::HeaderValue::from_static("websocket"),
    );
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    switching
}

/// A WebSocket connection is one session: its rids live as long as the connection.
///
/// Replies are written by a task of their own, so that a client that sends faster
/// than it reads cannot wedge the session against a full reply queue. A client that
/// falls more than `max_unsent_bytes` behind, or that takes no bytes for
/// `idle_timeout` while a reply waits, is disconnected.
async fn websocket_session(
    peer: SocketAddr,
    socket: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
    channels: SessionChannels,
) {
    let SessionChannels {
        requests,
        mut replies,
        unsent,
        overflow,
    } = channels;
    let (mut sink, mut stream) = socket.split();
    let mut writer = tokio::task::spawn_local(async move {
        while let Some(reply) = replies.recv().await {
            let len = reply.len();
            let text = String::from_utf8(reply)
                .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned());
            // A client that takes nothing for `idle_timeout` fails the send: the
            // socket under it is a `WriteStall`.
            match sink.send(Message::Text(text.into())).await {
                Ok(()) => unsent.fetch_sub(len, Ordering::AcqRel),
                Err(WsError::Io(err)) if err.kind() == std::io::ErrorKind::TimedOut => {
                    tracing::warn!(%peer, "{err}; disconnecting it");
                    return;
                }
                Err(_) => return,
            };
        }
        // The session ended (idle, or shutdown after answering): say goodbye.
        let _ = sink.send(Message::Close(None)).await;
    });
    loop {
        tokio::select! {
            _ = &mut writer => break,
            () = overflow.cancelled() => break,
            incoming = stream.next() => {
                let bytes = match incoming {
                    Some(Ok(Message::Text(text))) => Vec::from(text.as_str()),
                    Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Err(err)) => {
                        tracing::debug!("websocket error: {err}");
                        break;
                    }
                };
                let sent = tokio::select! {
                    sent = requests.send(bytes) => sent.is_ok(),
                    () = overflow.cancelled() => false,
                };
                if !sent {
                    break;
                }
            }
        }
    }
    // The client is gone, or is dropped: dropping the reply receiver ends the
    // session, which closes its resources and cancels what is pending.
    writer.abort();
}

/// Refuses what a web page could send: a `Host` that is not loopback (DNS
/// rebinding), an `Origin` that is not loopback (a cross-site page), and a POST that
/// is not `application/json` (a form or `text/plain` post needs no CORS preflight).
///
/// Then, when the server has a token, refuses a request that does not show it.
/// Returns the refusal, if any.
fn guard<B>(shared: &Shared, request: &Request<B>) -> Option<Response> {
    let headers = request.headers();
    let host_ok = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(is_loopback_authority);
    if !host_ok {
        return Some(refuse(
            StatusCode::FORBIDDEN,
            "the Host header must name a loopback address",
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let authority = origin.to_str().ok().and_then(|o| {
            o.strip_prefix("http://")
                .or_else(|| o.strip_prefix("https://"))
        });
        if !authority.is_some_and(is_loopback_authority) {
            return Some(refuse(
                StatusCode::FORBIDDEN,
                "requests from other origins are refused",
            ));
        }
    }
    if request.method() == Method::POST {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Some(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "POST a JSON-RPC message with `content-type: application/json`",
            ));
        }
    }
    if let Some(token) = &shared.token
        && !token.shown_in(headers, request.uri().query())
    {
        let mut answer = refuse(
            StatusCode::UNAUTHORIZED,
            "send the server's token: `Authorization: Bearer TOKEN`, or `?token=TOKEN` in a WebSocket URL",
        );
        answer.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return Some(answer);
    }
    None
}

/// A refusal, after which the connection is closed: a client that is refused cannot
/// keep its place under `max_connections` by asking again and again.
fn refuse(status: StatusCode, message: &'static str) -> Response {
    let mut refused = answer(status, "text/plain", format!("opkit: {message}\n"));
    refused.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    refused
}

/// `localhost`, `127.0.0.1`, `[::1]`, each with an optional port.
fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Serves one session on stdin/stdout, one message per line, until stdin ends. The
/// session runs on the calling task, which must be inside a `LocalSet` or a
/// current-thread runtime's `block_on` (a `LocalSet` is made here).
pub(crate) async fn serve_stdio_with(config: SessionConfig) -> std::io::Result<()> {
    let limits = config.limits;
    let info = SessionInfo {
        peer: None,
        transport: Transport::Stdio,
        authenticated: false,
    };
    let (_stop, shutdown) = watch::channel(false);
    let (transport, ends) = channels(&limits);
    let SessionChannels {
        requests,
        mut replies,
        unsent,
        overflow: _,
    } = transport;
    let local = tokio::task::LocalSet::new();
    local.spawn_local(run_session(config, info, ends, shutdown));
    local
        .run_until(async move {
            let writer = tokio::task::spawn_local(async move {
                let mut stdout = tokio::io::stdout();
                while let Some(mut reply) = replies.recv().await {
                    let len = reply.len();
                    reply.push(b'\n');
                    stdout.write_all(&reply).await?;
                    stdout.flush().await?;
                    unsent.fetch_sub(len, Ordering::AcqRel);
                }
                Ok::<(), std::io::Error>(())
            });
            let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
            let max = limits.max_message_bytes;
            loop {
                let mut line = Vec::new();
                let read = (&mut stdin)
                    .take(max as u64 + 1)
                    .read_until(b'\n', &mut line)
                    .await?;
                if read == 0 {
                    break;
                }
                let message = if line.len() > max && !line.ends_with(b"\n") {
                    skip_line(&mut stdin).await?;
                    // Over the limit: the session answers it with an error, unread.
                    vec![b'x'; max + 1]
                } else {
                    while line.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                        line.pop();
                    }
                    line
                };
                if message.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if requests.send(message).await.is_err() {
                    break;
                }
            }
            drop(requests);
            writer.await.unwrap_or(Ok(()))
        })
        .await
}

/// Reads and drops the rest of an over-long line.
async fn skip_line<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<()> {
    loop {
        let mut scratch = Vec::new();
        let read = (&mut *reader)
            .take(64 * 1024)
            .read_until(b'\n', &mut scratch)
            .await?;
        if read == 0 || scratch.ends_with(b"\n") {
            return Ok(());
        }
    }
}

/// The URL of a server listening on `addr`, as `opkit serve` prints it.
pub fn describe(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}
