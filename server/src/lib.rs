//! opkit-server: any opkit extensions served over JSON-RPC 2.0, as HTTP POST and
//! WebSocket on one loopback port, or over stdio (one message a line).
//!
//! Every WebSocket connection, every HTTP request and the stdio stream is a session:
//! a [`Runtime`](opkit::Runtime) of its own over the shared dispatch table, so rids
//! of one session never reach another's, and closing a connection closes its
//! resources. Browsers are kept out: only loopback `Host` and `Origin` headers and
//! JSON `POST` bodies are served.
//!
//! `rpc.discover` answers the [OpenRPC](https://spec.open-rpc.org) document of the
//! server's table, as [`openrpc()`] builds it: every entry, its params' and result's
//! schemas and the errors it answers with. It needs the token, as every method does.
//!
//! ```no_run
//! use opkit::{extension, op};
//! use opkit_server::Server;
//!
//! /// Adds two numbers.
//! #[op]
//! fn op_add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! extension!(math, ops = [op_add]);
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = Server::builder().extension(math()).build()?;
//!     server.serve_tcp("127.0.0.1:8765").await?; // until SIGINT or SIGTERM
//!     Ok(())
//! }
//! ```

#![forbid(unsafe_code)]

mod auth;
mod mcp;
mod openrpc;
mod rpc;
mod serve;
mod session;
mod stall;
mod threads;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use opkit::{
    BatchedConfig, BatchedExecutor, DispatchTable, Executor, Extension, OpError, RegistrationError,
    ResourceBudget, TableEntry,
};

pub use auth::{BadToken, Token};
pub use mcp::MCP_PROTOCOL_VERSIONS;
pub use openrpc::{ApiInfo, OPENRPC_VERSION, entry_note, openrpc};
pub use rpc::DISCOVER;
pub use serve::describe;
pub use session::{Limits, SessionInfo, SessionPolicy, SessionSetup, Transport};

/// A dispatch table, the limits its sessions run under and the token clients show,
/// ready to serve.
#[derive(Clone)]
pub struct Server {
    table: Arc<DispatchTable>,
    limits: Limits,
    setup: Option<SessionSetup>,
    policy: Option<SessionPolicy>,
    token: Option<Token>,
    executor: Option<Executor>,
    discovery: Arc<openrpc::Discovery>,
    info: ApiInfo,
}

/// Collects what a [`Server`] serves: extensions, or a table built elsewhere.
#[derive(Default)]
pub struct ServerBuilder {
    extensions: Vec<Extension>,
    table: Option<Arc<DispatchTable>>,
    limits: Limits,
    setup: Option<SessionSetup>,
    policy: Option<SessionPolicy>,
    token: TokenChoice,
    executor: Option<Executor>,
    info: ApiInfo,
}

#[derive(Default)]
enum TokenChoice {
    #[default]
    Generate,
    Given(String),
    Off,
}

/// Why a [`ServerBuilder`] could not build.
#[derive(Debug)]
pub enum BuildError {
    /// Two entries share a name.
    Registration(RegistrationError),
    /// The token given is not one the server can check.
    Token(BadToken),
    /// No random token could be made.
    Random(io::Error),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Registration(err) => err.fmt(f),
            Self::Token(err) => err.fmt(f),
            Self::Random(err) => write!(f, "cannot make a token: {err}"),
        }
    }
}

impl std::error::Error for BuildError {}

impl Server {
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// The table every session's runtime is built on.
    pub fn table(&self) -> &Arc<DispatchTable> {
        &self.table
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The token TCP clients must show (`None` after [`ServerBuilder::no_token`]):
    /// `Authorization: Bearer TOKEN`, or `?token=TOKEN` in the URL.
    pub fn token(&self) -> Option<&str> {
        self.token.as_ref().map(Token::as_str)
    }

    /// Listens on `addr` (a loopback address) and serves until SIGINT or SIGTERM.
    pub async fn serve_tcp(&self, addr: impl tokio::net::ToSocketAddrs) -> io::Result<()> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        self.serve_listener(listener).await
    }

    /// Serves on a bound listener until SIGINT or SIGTERM.
    pub async fn serve_listener(&self, listener: tokio::net::TcpListener) -> io::Result<()> {
        self.serve_listener_until(listener, serve::shutdown_signal())
            .await
    }

    /// Serves on a bound listener until `shutdown` completes, then answers what is in
    /// flight and returns.
    ///
    /// Connections are accepted on the calling tokio runtime and each is served on a
    /// thread of its own (reused from connection to connection): its HTTP requests
    /// are answered there, and a WebSocket session on a thread of its own too, so
    /// that one session's sync entries never stall another's. The rids of all sessions together stay a
    /// headroom below the process's descriptor limit (`RLIMIT_NOFILE`), so that a
    /// guest that opens all it may still leaves room for others to connect.
    pub async fn serve_listener_until(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        check_loopback(listener.local_addr()?)?;
        let config = self.session_config(rid_budget(&self.limits));
        serve::serve_http_with(listener, config, self.token.clone(), shutdown).await
    }

    /// Serves one session on stdin and stdout until stdin ends. Stdio needs no token:
    /// whoever holds the pipes started the server.
    pub async fn serve_stdio(&self) -> io::Result<()> {
        serve::serve_stdio_with(self.session_config(None)).await
    }

    /// Serves the table as Model Context Protocol tools on stdin and stdout (one
    /// JSON-RPC message per line), one session, until stdin ends: `initialize`,
    /// `ping`, `tools/list` (one tool per op, its async entry where it has one),
    /// `tools/call` and `notifications/cancelled`. See the crate's `mcp` module
    /// documentation for how ops map onto tools.
    pub async fn serve_mcp_stdio(&self) -> io::Result<()> {
        self.serve_mcp(tokio::io::stdin(), tokio::io::stdout())
            .await
    }

    /// [`serve_mcp_stdio`](Self::serve_mcp_stdio) on any byte streams: a pipe to an
    /// agent process, a socket, or an in-memory duplex in a test.
    pub async fn serve_mcp<R, W>(&self, input: R, output: W) -> io::Result<()>
    where
        R: tokio::io::AsyncRead + Unpin,
        W: tokio::io::AsyncWrite + Unpin,
    {
        mcp::serve(self.session_config(None), self.info.clone(), input, output).await
    }

    /// Answers one message as the body of an HTTP request is answered (a session of
    /// its own on the calling thread, authenticated), with no socket: the entry point
    /// of the `rpc` fuzz target (`fuzz/`) and of tests of the message handler. Hidden:
    /// not part of the API a host builds on.
    #[doc(hidden)]
    pub async fn answer_message(&self, message: &[u8]) -> Option<Vec<u8>> {
        let info = SessionInfo {
            peer: None,
            transport: Transport::Http,
            authenticated: true,
        };
        session::answer_alone(self.session_config(None), info, message).await
    }

    fn session_config(&self, budget: Option<Arc<ResourceBudget>>) -> session::SessionConfig {
        session::SessionConfig {
            table: self.table.clone(),
            limits: self.limits,
            setup: self.setup.clone(),
            policy: self.policy.clone(),
            budget,
            executor: self.session_executor(),
            discovery: self.discovery.clone(),
        }
    }

    /// The executor every session of one `serve` shares, on the serving runtime.
    fn session_executor(&self) -> Option<Executor> {
        let host = tokio::runtime::Handle::try_current().ok();
        match (&self.executor, host) {
            (Some(Executor::SpawnBlocking(None)), host) => Some(Executor::SpawnBlocking(host)),
            (Some(executor), _) => Some(executor.clone()),
            (None, Some(host)) => Some(Executor::Batched(BatchedExecutor::on_runtime(
                BatchedConfig::default(),
                host,
            ))),
            (None, None) => None,
        }
    }
}

/// Descriptors kept free beyond the connections themselves: for listeners, log
/// files and the handles ops hold for a moment while they work.
const FD_RESERVE: usize = 128;

/// Descriptors a connection holds besides its rids: its socket, and its thread's
/// reactor (an epoll instance and the eventfd that wakes it).
const FDS_PER_CONNECTION: usize = 3;

/// The cap on rids across sessions: the descriptor limit less what connections hold
/// and a reserve. `None` when the limit is unknown or infinite.
fn rid_budget(limits: &Limits) -> Option<Arc<ResourceBudget>> {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile).current?;
    let soft = usize::try_from(soft).ok()?;
    let headroom = limits
        .max_connections
        .saturating_mul(FDS_PER_CONNECTION)
        .saturating_add(FD_RESERVE);
    let budget = soft.saturating_sub(headroom).max(16);
    tracing::debug!("rids across sessions: at most {budget} (RLIMIT_NOFILE {soft})");
    Some(Arc::new(ResourceBudget::new(budget)))
}

impl ServerBuilder {
    /// Adds an extension; a name registered twice is an error of [`Self::build`].
    pub fn extension(mut self, extension: Extension) -> Self {
        self.extensions.push(extension);
        self
    }

    /// Adds extensions.
    pub fn extensions(mut self, extensions: impl IntoIterator<Item = Extension>) -> Self {
        self.extensions.extend(extensions);
        self
    }

    /// Serves a table built elsewhere (shared with other servers or runtimes), and the
    /// extensions added besides it are not used.
    pub fn table(mut self, table: Arc<DispatchTable>) -> Self {
        self.table = Some(table);
        self
    }

    /// The limits of every session (kept in the range the server honours).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets up each new session's `OpState` after the extensions have: what the
    /// connection tells (the peer's address, the transport) goes where ops can take
    /// it as `#[state]`.
    pub fn on_session(
        mut self,
        setup: impl Fn(&mut opkit::OpState, &SessionInfo) + Send + Sync + 'static,
    ) -> Self {
        self.setup = Some(Arc::new(setup));
        self
    }

    /// Decides which calls each session may make. `rule` is called once for every new
    /// session (a WebSocket connection, an HTTP request, the stdio stream) with what
    /// the session knows of its connection, and returns the policy that session's
    /// calls are checked against before they run, as
    /// [`Runtime::set_policy`](opkit::Runtime::set_policy) does: it sees each
    /// entry's metadata (its op's name and declared permission, its mode, its
    /// extension), and an `Err` refuses the call. The refusal is answered as a
    /// JSON-RPC error with the error's class in `data.class` and the op's name in
    /// `data.op`, and the session goes on.
    ///
    /// For example, TCP clients may only read files, and the stdio client (whoever
    /// started the server) may write them too:
    ///
    /// ```
    /// use opkit::{OpError, TableEntry};
    /// use opkit_fs::FsPermissions;
    /// use opkit_server::{Server, Transport};
    ///
    /// let perms = FsPermissions::deny_all().allow_all("/srv/data");
    /// let server = Server::builder()
    ///     .extension(opkit_fs::extension(perms))
    ///     .policy(|info| {
    ///         let may_write = info.transport == Transport::Stdio;
    ///         move |entry: &TableEntry| match entry.decl.meta.permission {
    ///             None | Some("fs.read") => Ok(()),
    ///             Some(_) if may_write => Ok(()),
    ///             Some(other) => Err(OpError::permission_denied(format!(
    ///                 "this session may not use {other}"
    ///             ))),
    ///         }
    ///     })
    ///     .build()?;
    /// # let _ = server;
    /// # Ok::<(), opkit_server::BuildError>(())
    /// ```
    pub fn policy<P>(mut self, rule: impl Fn(&SessionInfo) -> P + Send + Sync + 'static) -> Self
    where
        P: Fn(&TableEntry) -> Result<(), OpError> + 'static,
    {
        self.policy = Some(Arc::new(move |info| Box::new(rule(info))));
        self
    }

    /// The token TCP clients must show, instead of a random one made at build.
    pub fn token(mut self, secret: impl Into<String>) -> Self {
        self.token = TokenChoice::Given(secret.into());
        self
    }

    /// Serves TCP clients without a token: any local user of the machine can then
    /// call the ops with the server's rights.
    pub fn no_token(mut self) -> Self {
        self.token = TokenChoice::Off;
        self
    }

    /// Where the bodies of blocking ops run. By default every session shares one
    /// [`BatchedExecutor`] whose workers live in the blocking
    /// pool of the runtime that serves; `Executor::SpawnBlocking(None)` makes it one
    /// `spawn_blocking` per call on that pool instead.
    pub fn executor(mut self, executor: Executor) -> Self {
        self.executor = Some(executor);
        self
    }

    /// What the OpenRPC document of `rpc.discover` says of the API (its `info`);
    /// `opkit` at this crate's version by default.
    pub fn info(mut self, info: ApiInfo) -> Self {
        self.info = info;
        self
    }

    pub fn build(self) -> Result<Server, BuildError> {
        let table = match self.table {
            Some(table) => table,
            None => {
                Arc::new(DispatchTable::new(self.extensions).map_err(BuildError::Registration)?)
            }
        };
        let token = match self.token {
            TokenChoice::Generate => Some(Token::generate().map_err(BuildError::Random)?),
            TokenChoice::Given(secret) => Some(Token::new(secret).map_err(BuildError::Token)?),
            TokenChoice::Off => None,
        };
        Ok(Server {
            table,
            limits: self.limits.clamped(),
            setup: self.setup,
            policy: self.policy,
            token,
            executor: self.executor,
            discovery: Arc::new(openrpc::Discovery::new(self.info.clone())),
            info: self.info,
        })
    }
}

/// The server trusts its peers' `Host` and `Origin` only on loopback.
fn check_loopback(addr: SocketAddr) -> io::Result<()> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{addr}: opkit serves on loopback addresses only"),
    ))
}
