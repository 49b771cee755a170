//! A session: one guest's own [`Runtime`] on a pinned thread, fed messages through a
//! channel and answering through another. Its rids are its own; when the session
//! ends, its runtime is dropped, which closes its resources and drops its pending ops.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use opkit::{DispatchTable, OpState, Runtime};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::task::LocalPoolHandle;

use crate::rpc;

/// What a session allows.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest message answered; a larger one gets an error.
    pub max_message_bytes: usize,
    /// Requests of one session in flight at once; more wait in the queue.
    pub max_concurrent: usize,
    /// A session with nothing in flight and nothing received for this long ends.
    pub idle_timeout: Duration,
    /// Resources (rids) one session may hold open at once; an op that would open more
    /// gets `ResourceExhausted`, and the session goes on.
    pub max_rids: usize,
}

impl Limits {
    /// Keeps every limit in a range the server can honour.
    pub fn clamped(self) -> Self {
        Self {
            max_message_bytes: self.max_message_bytes.clamp(64, 1 << 30),
            max_concurrent: self.max_concurrent.clamp(1, 1 << 16),
            idle_timeout: self.idle_timeout.max(Duration::from_secs(1)),
            max_rids: self.max_rids.clamp(1, 1 << 20),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 1 << 20,
            max_concurrent: 64,
            idle_timeout: Duration::from_secs(300),
            max_rids: 1024,
        }
    }
}

/// What a session knows of its connection, for a host's [`SessionSetup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The peer's address over TCP; `None` over stdio.
    pub peer: Option<std::net::SocketAddr>,
    pub transport: Transport,
}

/// How a session's messages arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// One HTTP POST: a session of its own.
    Http,
    /// One WebSocket connection.
    WebSocket,
    /// Standard input and output.
    Stdio,
}

/// A host's setup of each new session's `OpState`, after the extensions' own: e.g.
/// the peer's address or an authenticated identity, for ops to take as `#[state]`.
pub type SessionSetup = Arc<dyn Fn(&mut OpState, &SessionInfo) + Send + Sync>;

/// The two ends a transport holds: messages in, replies out.
pub struct SessionChannels {
    pub requests: mpsc::Sender<Vec<u8>>,
    pub replies: mpsc::Receiver<Vec<u8>>,
}

/// Starts a session on the pool. It ends when its transport drops the request sender
/// and every request in flight is answered, when the transport drops the reply
/// receiver, when it is idle for too long, or (after answering what is in flight) on
/// shutdown.
///
/// `alive` is held until the session ends, so that the server can wait for its
/// sessions on shutdown.
pub fn spawn_session(
    pool: &LocalPoolHandle,
    table: Arc<DispatchTable>,
    limits: Limits,
    setup: Option<(SessionSetup, SessionInfo)>,
    shutdown: watch::Receiver<bool>,
    alive: mpsc::Sender<()>,
) -> SessionChannels {
    let (request_tx, request_rx) = mpsc::channel(limits.max_concurrent.max(1));
    let (reply_tx, reply_rx) = mpsc::channel(limits.max_concurrent.max(1));
    pool.spawn_pinned(move || async move {
        run_session(table, limits, setup, request_rx, reply_tx, shutdown).await;
        drop(alive);
    });
    SessionChannels {
        requests: request_tx,
        replies: reply_rx,
    }
}

/// The loop of one session; runs on the thread it was started on.
pub async fn run_session(
    table: Arc<DispatchTable>,
    limits: Limits,
    setup: Option<(SessionSetup, SessionInfo)>,
    mut requests: mpsc::Receiver<Vec<u8>>,
    replies: mpsc::Sender<Vec<u8>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let rt = Runtime::with_table(table);
    rt.state()
        .borrow_mut()
        .resource_table
        .set_limit(Some(limits.max_rids));
    if let Some((setup, info)) = setup {
        setup(&mut rt.state().borrow_mut(), &info);
    }
    let mut inflight = FuturesUnordered::new();
    let mut open = !*shutdown.borrow();
    let idle = tokio::time::sleep(limits.idle_timeout);
    tokio::pin!(idle);
    loop {
        if !open && inflight.is_empty() {
            break;
        }
        tokio::select! {
            message = requests.recv(), if open && inflight.len() < limits.max_concurrent => {
                match message {
                    Some(message) => {
                        idle.as_mut().reset(Instant::now() + limits.idle_timeout);
                        inflight.push(answer(&rt, message, limits.max_message_bytes));
                    }
                    None => open = false,
                }
            }
            Some(reply) = inflight.next(), if !inflight.is_empty() => {
                idle.as_mut().reset(Instant::now() + limits.idle_timeout);
                if let Some(reply) = reply
                    && replies.send(reply).await.is_err()
                {
                    break;
                }
            }
            () = replies.closed() => break,
            _ = shutdown.changed(), if open => open = false,
            () = &mut idle, if open && inflight.is_empty() => {
                tracing::debug!("session idle for {:?}; closing it", limits.idle_timeout);
                break;
            }
        }
    }
    drop(inflight);
    drop(rt);
}

async fn answer(rt: &Runtime, message: Vec<u8>, max_bytes: usize) -> Option<Vec<u8>> {
    if message.len() > max_bytes {
        tracing::debug!(bytes = message.len(), "message over the size limit");
        return Some(rpc::refusal(
            rpc::INVALID_REQUEST,
            format!(
                "invalid request: the message has {} bytes; the limit is {max_bytes}",
                message.len()
            ),
        ));
    }
    rpc::handle_message(rt, &message).await
}
