//! opkit-server: any opkit extensions served over JSON-RPC 2.0, as HTTP POST and
//! WebSocket on one loopback port, or over stdio (one message a line).
//!
//! Every WebSocket connection, every HTTP request and the stdio stream is a session:
//! a [`Runtime`](opkit::Runtime) of its own over the shared dispatch table, so rids
//! of one session never reach another's, and closing a connection closes its
//! resources. Browsers are kept out: only loopback `Host` and `Origin` headers and
//! JSON `POST` bodies are served.
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

mod rpc;
mod serve;
mod session;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use opkit::{DispatchTable, Extension, RegistrationError};

pub use serve::{describe, serve_http, serve_http_until, serve_stdio};
pub use session::{Limits, SessionInfo, SessionSetup, Transport};

/// A dispatch table and the limits its sessions run under, ready to serve.
#[derive(Clone)]
pub struct Server {
    table: Arc<DispatchTable>,
    limits: Limits,
    setup: Option<SessionSetup>,
}

/// Collects what a [`Server`] serves: extensions, or a table built elsewhere.
#[derive(Default)]
pub struct ServerBuilder {
    extensions: Vec<Extension>,
    table: Option<Arc<DispatchTable>>,
    limits: Limits,
    setup: Option<SessionSetup>,
}

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

    /// Listens on `addr` (a loopback address) and serves until SIGINT or SIGTERM.
    pub async fn serve_tcp(&self, addr: impl tokio::net::ToSocketAddrs) -> io::Result<()> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        self.serve_listener(listener).await
    }

    /// Serves on a bound listener until SIGINT or SIGTERM.
    pub async fn serve_listener(&self, listener: tokio::net::TcpListener) -> io::Result<()> {
        self.serve_listener_until(listener, serve::wait_for_signal())
            .await
    }

    /// Serves on a bound listener until `shutdown` completes, then answers what is in
    /// flight and returns.
    pub async fn serve_listener_until(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        check_loopback(listener.local_addr()?)?;
        let (table, setup) = (self.table.clone(), self.setup.clone());
        serve::serve_http_with(listener, table, self.limits, setup, shutdown).await
    }

    /// Serves one session on stdin and stdout until stdin ends.
    pub async fn serve_stdio(&self) -> io::Result<()> {
        serve::serve_stdio_with(self.table.clone(), self.limits, self.setup.clone()).await
    }
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

    pub fn build(self) -> Result<Server, RegistrationError> {
        let table = match self.table {
            Some(table) => table,
            None => Arc::new(DispatchTable::new(self.extensions)?),
        };
        Ok(Server {
            table,
            limits: self.limits.clamped(),
            setup: self.setup,
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
