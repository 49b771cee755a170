//! A session: one guest's own [`Runtime`] on a pinned thread, fed messages through a
//! channel and answering through another. Its rids are its own; when the session
//! ends, its runtime is dropped, which closes its resources and drops its pending ops.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use opkit::{DispatchTable, OpState, Policy, ResourceBudget, Runtime};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::openrpc::Discovery;
use crate::rpc;

/// What the server allows each session and each connection.
///
/// Build one from [`Limits::default`] with the fields to change:
/// `Limits { max_rids: 64, ..Limits::default() }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest message answered; a larger one gets an error.
    pub max_message_bytes: usize,
    /// The largest reply sent: an answer (or a batch of them) over it becomes an
    /// error naming this limit.
    pub max_reply_bytes: usize,
    /// Calls of one session in flight at once, batch members included; more wait.
    pub max_concurrent: usize,
    /// A session with nothing in flight and nothing received for this long ends.
    pub idle_timeout: Duration,
    /// Resources (rids) one session may hold open at once; an op that would open more
    /// gets `ResourceExhausted`, and the session goes on.
    pub max_rids: usize,
    /// Replies a WebSocket client has not read yet, in bytes: a client past it is
    /// disconnected (kept at least `max_reply_bytes`).
    pub max_unsent_bytes: usize,
    /// Connections (HTTP or WebSocket) open at once; one more is answered
    /// `503 Service Unavailable` and closed.
    pub max_connections: usize,
    /// How long a connection may take to send a request's headers, counted from its
    /// start and from the end of each answer: silent and slow (slow-loris) clients
    /// are disconnected after it.
    pub header_timeout: Duration,
}

impl Limits {
    /// Keeps every limit in a range the server can honour.
    pub fn clamped(self) -> Self {
        let max_reply_bytes = self.max_reply_bytes.clamp(1024, 1 << 31);
        Self {
            max_message_bytes: self.max_message_bytes.clamp(64, 1 << 30),
            max_reply_bytes,
            max_concurrent: self.max_concurrent.clamp(1, 1 << 16),
            idle_timeout: self.idle_timeout.clamp(Duration::from_secs(1), MAX_TIMEOUT),
            max_rids: self.max_rids.clamp(1, 1 << 20),
            max_unsent_bytes: self.max_unsent_bytes.max(max_reply_bytes),
            max_connections: self.max_connections.clamp(1, 1 << 16),
            header_timeout: self
                .header_timeout
                .clamp(Duration::from_millis(100), MAX_TIMEOUT),
        }
    }

    /// Bodies and WebSocket messages a little over `max_message_bytes` are still
    /// read, so that they get a JSON-RPC error rather than a bare refusal; far larger
    /// ones are cut off by the transport at this size.
    pub(crate) fn transport_limit(&self) -> usize {
        self.max_message_bytes.saturating_mul(2).max(1024)
    }
}

/// The longest timeout honoured: a day. Longer ones would overflow the deadlines
/// computed from them.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 1 << 20,
            max_reply_bytes: 16 << 20,
            max_concurrent: 64,
            idle_timeout: Duration::from_secs(300),
            max_rids: 1024,
            max_unsent_bytes: 32 << 20,
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// What a session knows of its connection, for a host's [`SessionSetup`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The peer's address over TCP; `None` over stdio.
    pub peer: Option<std::net::SocketAddr>,
    pub transport: Transport,
    /// Whether the peer showed the server's token (always `false` when the server
    /// asks for none, and over stdio, which needs none).
    pub authenticated: bool,
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

/// A host's rule for which calls each new session may make: from what the session
/// knows of its connection, the [`Policy`] every call of it is checked against (see
/// [`ServerBuilder::policy`](crate::ServerBuilder::policy)).
pub type SessionPolicy = Arc<dyn Fn(&SessionInfo) -> Box<Policy> + Send + Sync>;

/// The ends a transport holds: messages in, replies out, and what it must know of
/// the replies it has not written yet.
pub struct SessionChannels {
    pub requests: mpsc::Sender<Vec<u8>>,
    pub replies: mpsc::Receiver<Vec<u8>>,
    /// Bytes of the replies handed over that the transport has not written yet: it
    /// takes each reply's length off once the reply is written.
    pub unsent: Arc<AtomicUsize>,
    /// Cancelled when the client has fallen more than `max_unsent_bytes` behind:
    /// the transport drops the connection.
    pub overflow: CancellationToken,
}

/// What a new session is made of.
#[derive(Clone)]
pub struct SessionConfig {
    pub table: Arc<DispatchTable>,
    pub limits: Limits,
    pub setup: Option<SessionSetup>,
    pub policy: Option<SessionPolicy>,
    /// The cap on rids shared by every session of the server.
    pub budget: Option<Arc<ResourceBudget>>,
    /// Where async entries run their bodies: on the host runtime's blocking pool,
    /// shared by every session thread.
    pub executor: Option<opkit::Executor>,
    /// The OpenRPC document `rpc.discover` answers, shared by every session.
    pub discovery: Arc<Discovery>,
}

/// The session's side of its channels.
pub struct SessionEnds {
    requests: mpsc::Receiver<Vec<u8>>,
    replies: mpsc::Sender<Vec<u8>>,
    unsent: Arc<AtomicUsize>,
    overflow: CancellationToken,
}

/// The channels of a new session: the transport's ends and the session's.
pub fn channels(limits: &Limits) -> (SessionChannels, SessionEnds) {
    let (request_tx, request_rx) = mpsc::channel(limits.max_concurrent.max(1));
    let (reply_tx, reply_rx) = mpsc::channel(limits.max_concurrent.max(1));
    let unsent = Arc::new(AtomicUsize::new(0));
    let overflow = CancellationToken::new();
    let transport = SessionChannels {
        requests: request_tx,
        replies: reply_rx,
        unsent: unsent.clone(),
        overflow: overflow.clone(),
    };
    let session = SessionEnds {
        requests: request_rx,
        replies: reply_tx,
        unsent,
        overflow,
    };
    (transport, session)
}

/// The loop of one session; runs on the thread it was started on.
pub async fn run_session(
    config: SessionConfig,
    info: SessionInfo,
    ends: SessionEnds,
    mut shutdown: watch::Receiver<bool>,
) {
    let SessionEnds {
        mut requests,
        replies,
        unsent,
        overflow,
    } = ends;
    let discovery = config.discovery.clone();
    let (rt, permits, limits) = session_runtime(config, &info);
    let cx = rpc::Context {
        permits: &permits,
        max_reply_bytes: limits.max_reply_bytes,
        discovery: &discovery,
    };
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
                        inflight.push(answer(&rt, &cx, message, limits.max_message_bytes));
                    }
                    None => open = false,
                }
            }
            Some(reply) = inflight.next(), if !inflight.is_empty() => {
                idle.as_mut().reset(Instant::now() + limits.idle_timeout);
                let Some(reply) = reply else { continue };
                let behind = unsent.fetch_add(reply.len(), Ordering::AcqRel) + reply.len();
                if behind > limits.max_unsent_bytes {
                    tracing::warn!(
                        peer = ?info.peer,
                        "the client has {behind} bytes of replies unread, more than \
                         max_unsent_bytes ({}); disconnecting it",
                        limits.max_unsent_bytes
                    );
                    overflow.cancel();
                    break;
                }
                if replies.send(reply).await.is_err() {
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

/// A session's runtime (the table's ops, the limits on its rids, the host's setup and
/// policy), the permits of its calls in flight, and its limits.
pub(crate) fn session_runtime(
    config: SessionConfig,
    info: &SessionInfo,
) -> (Runtime, tokio::sync::Semaphore, Limits) {
    let SessionConfig {
        table,
        limits,
        setup,
        policy,
        budget,
        executor,
        discovery: _,
    } = config;
    let mut rt = Runtime::with_table(table);
    {
        let mut state = rt.state().borrow_mut();
        state.resource_table.set_limit(Some(limits.max_rids));
        state.resource_table.set_budget(budget);
        if let Some(executor) = executor {
            state.set_executor(executor);
        }
    }
    if let Some(setup) = setup {
        setup(&mut rt.state().borrow_mut(), info);
    }
    if let Some(policy) = policy {
        rt.set_policy(policy(info));
    }
    let permits = tokio::sync::Semaphore::new(limits.max_concurrent);
    (rt, permits, limits)
}

/// A session of one message, answered on the calling thread: an HTTP request's.
/// `None` when nothing is to be sent back (a notification).
pub(crate) async fn answer_alone(
    config: SessionConfig,
    info: SessionInfo,
    message: &[u8],
) -> Option<Vec<u8>> {
    let discovery = config.discovery.clone();
    let (rt, permits, limits) = session_runtime(config, &info);
    let cx = rpc::Context {
        permits: &permits,
        max_reply_bytes: limits.max_reply_bytes,
        discovery: &discovery,
    };
    answer(&rt, &cx, message, limits.max_message_bytes).await
}

async fn answer(
    rt: &Runtime,
    cx: &rpc::Context<'_>,
    message: impl AsRef<[u8]>,
    max_bytes: usize,
) -> Option<Vec<u8>> {
    let message = message.as_ref();
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
    rpc::handle_message(rt, cx, message).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A timeout too long to add to a deadline is cut to a day, so that no session
    /// or connection panics computing one.
    #[test]
    fn timeouts_are_clamped_to_a_day() {
        let limits = Limits {
            idle_timeout: Duration::MAX,
            header_timeout: Duration::MAX,
            ..Limits::default()
        }
        .clamped();
        assert_eq!(limits.idle_timeout, MAX_TIMEOUT);
        assert_eq!(limits.header_timeout, MAX_TIMEOUT);
        let _ = Instant::now() + limits.idle_timeout;
    }
}
