//! The transports: HTTP POST and WebSocket on one loopback port, and stdio.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use opkit::DispatchTable;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio_util::task::LocalPoolHandle;

use crate::session::{
    Limits, SessionChannels, SessionInfo, SessionSetup, Transport, run_session, spawn_session,
};

#[derive(Clone)]
struct Server {
    table: Arc<DispatchTable>,
    limits: Limits,
    setup: Option<SessionSetup>,
    pool: LocalPoolHandle,
    shutdown: watch::Receiver<bool>,
    /// Every session holds a clone; all dropped means all sessions ended.
    alive: tokio::sync::mpsc::Sender<()>,
}

impl Server {
    fn session(&self, peer: SocketAddr, transport: Transport) -> SessionChannels {
        let info = SessionInfo {
            peer: Some(peer),
            transport,
        };
        spawn_session(
            &self.pool,
            self.table.clone(),
            self.limits,
            self.setup.clone().map(|setup| (setup, info)),
            self.shutdown.clone(),
            self.alive.clone(),
        )
    }
}

/// How long a shutdown waits for sessions to answer what they have in flight.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves until SIGINT or SIGTERM, then answers what is in flight and returns.
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    table: Arc<DispatchTable>,
    limits: Limits,
) -> std::io::Result<()> {
    serve_http_until(listener, table, limits, wait_for_signal()).await
}

/// Serves until `shutdown` completes, then answers what is in flight and returns.
pub async fn serve_http_until(
    listener: tokio::net::TcpListener,
    table: Arc<DispatchTable>,
    limits: Limits,
    shutdown_signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_http_with(listener, table, limits, None, shutdown_signal).await
}

/// [`serve_http_until`], each new session's state set up by `setup`.
pub(crate) async fn serve_http_with(
    listener: tokio::net::TcpListener,
    table: Arc<DispatchTable>,
    limits: Limits,
    setup: Option<SessionSetup>,
    shutdown_signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, shutdown) = watch::channel(false);
    let (alive, mut sessions_done) = tokio::sync::mpsc::channel::<()>(1);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let server = Server {
        table,
        limits,
        setup,
        pool: LocalPoolHandle::new(workers),
        shutdown: shutdown.clone(),
        alive,
    };
    // Bodies a little over the limit are still read, so that they get a JSON-RPC
    // error rather than a bare 413; far larger ones are cut off by the transport.
    let transport_limit = limits.max_message_bytes.saturating_mul(2).max(1024);
    let app = Router::new()
        .route("/", get(websocket).post(http_post))
        .layer(DefaultBodyLimit::max(transport_limit))
        .layer(axum::middleware::from_fn(guard))
        .with_state(server);
    // On a signal: no new connections; each session stops reading, answers what it
    // has in flight and ends, which closes its WebSocket.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal.await;
        tracing::info!("shutting down: answering the requests in flight");
        let _ = stop.send(true);
    })
    .await?;
    // WebSocket sessions outlive their HTTP connection: wait for them to finish
    // answering, but not forever.
    if tokio::time::timeout(SHUTDOWN_GRACE, sessions_done.recv())
        .await
        .is_err()
    {
        tracing::warn!("sessions still busy after {SHUTDOWN_GRACE:?}; exiting anyway");
    }
    Ok(())
}

pub(crate) async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// One HTTP request is a session of its own.
async fn http_post(
    State(server): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let mut session = server.session(peer, Transport::Http);
    if session.requests.send(body.to_vec()).await.is_err() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        )
            .into_response();
    }
    drop(session.requests);
    match session.replies.recv().await {
        Some(reply) => ([(header::CONTENT_TYPE, "application/json")], reply).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

async fn websocket(
    State(server): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    match upgrade {
        Ok(upgrade) => {
            let transport_limit = server.limits.max_message_bytes.saturating_mul(2).max(1024);
            upgrade
                .max_message_size(transport_limit)
                .on_upgrade(move |socket| websocket_session(server, peer, socket))
        }
        Err(_) => (
            [(header::CONTENT_TYPE, "text/plain")],
            "opkit: POST a JSON-RPC 2.0 message here, or open a WebSocket\n",
        )
            .into_response(),
    }
}

/// A WebSocket connection is one session: its rids live as long as the connection.
///
/// Replies are written by a task of their own, so that a client that sends faster
/// than it reads cannot wedge the session against a full reply queue.
async fn websocket_session(server: Server, peer: SocketAddr, socket: WebSocket) {
    let SessionChannels {
        requests,
        mut replies,
    } = server.session(peer, Transport::WebSocket);
    let (mut sink, mut stream) = socket.split();
    let mut writer = tokio::spawn(async move {
        while let Some(reply) = replies.recv().await {
            let text = String::from_utf8(reply)
                .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned());
            if sink.send(Message::Text(text.into())).await.is_err() {
                return;
            }
        }
        // The session ended (idle, or shutdown after answering): say goodbye.
        let _ = sink.send(Message::Close(None)).await;
    });
    loop {
        tokio::select! {
            _ = &mut writer => break,
            incoming = stream.next() => {
                let bytes = match incoming {
                    Some(Ok(Message::Text(text))) => Vec::from(text.as_str()),
                    Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Err(err)) => {
                        tracing::debug!("websocket error: {err}");
                        break;
                    }
                };
                if requests.send(bytes).await.is_err() {
                    break;
                }
            }
        }
    }
    // The client is gone: dropping the reply receiver ends the session, which closes
    // its resources and cancels what is pending.
    writer.abort();
}

/// Refuses what a web page could send: a `Host` that is not loopback (DNS
/// rebinding), an `Origin` that is not loopback (a cross-site page), and a POST that
/// is not `application/json` (a form or `text/plain` post needs no CORS preflight).
async fn guard(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host_ok = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(is_loopback_authority);
    if !host_ok {
        return refuse(
            StatusCode::FORBIDDEN,
            "the Host header must name a loopback address",
        );
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let authority = origin.to_str().ok().and_then(|o| {
            o.strip_prefix("http://")
                .or_else(|| o.strip_prefix("https://"))
        });
        if !authority.is_some_and(is_loopback_authority) {
            return refuse(
                StatusCode::FORBIDDEN,
                "requests from other origins are refused",
            );
        }
    }
    if request.method() == Method::POST {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "POST a JSON-RPC message with `content-type: application/json`",
            );
        }
    }
    next.run(request).await
}

fn refuse(status: StatusCode, message: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain")],
        format!("opkit: {message}\n"),
    )
        .into_response()
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

/// Serves one session on stdin/stdout, one message per line, until stdin ends.
pub async fn serve_stdio(table: Arc<DispatchTable>, limits: Limits) -> std::io::Result<()> {
    serve_stdio_with(table, limits, None).await
}

/// [`serve_stdio`], the session's state set up by `setup`.
pub(crate) async fn serve_stdio_with(
    table: Arc<DispatchTable>,
    limits: Limits,
    setup: Option<SessionSetup>,
) -> std::io::Result<()> {
    let info = SessionInfo {
        peer: None,
        transport: Transport::Stdio,
    };
    let setup = setup.map(|setup| (setup, info));
    let (_stop, shutdown) = watch::channel(false);
    let (request_tx, request_rx) = tokio::sync::mpsc::channel(limits.max_concurrent.max(1));
    let (reply_tx, mut reply_rx) = tokio::sync::mpsc::channel(limits.max_concurrent.max(1));
    let local = tokio::task::LocalSet::new();
    local.spawn_local(run_session(
        table, limits, setup, request_rx, reply_tx, shutdown,
    ));
    local
        .run_until(async move {
            let writer = tokio::task::spawn_local(async move {
                let mut stdout = tokio::io::stdout();
                while let Some(mut reply) = reply_rx.recv().await {
                    reply.push(b'\n');
                    stdout.write_all(&reply).await?;
                    stdout.flush().await?;
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
                if request_tx.send(message).await.is_err() {
                    break;
                }
            }
            drop(request_tx);
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
