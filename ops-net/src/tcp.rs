//! TCP: listen (sync), accept and connect (async). Streams are [`NetStream`]s.

use std::borrow::Cow;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

use opkit::{OpError, OpState, Resource, ResourceId, op};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Mutex;

use crate::address::{Connection, Listening, NetAddr};
use crate::pending::{bounded, cancel_token, exclusive, io_error, require_runtime};
use crate::permissions::{NetAccess, NetPermissions, Target};
use crate::resolve::{resolve_allowed, resolve_allowed_blocking};
use crate::stream::NetStream;

/// How many connections the kernel queues for a listener before `accept` takes them.
const LISTEN_BACKLOG: u32 = 1024;

/// A TCP listener, as `op_net_listen_tcp` creates it (`tcpListener`).
pub struct TcpListenerResource {
    listener: TcpListener,
    local: SocketAddr,
    accepting: Mutex<()>,
}

impl Resource for TcpListenerResource {
    fn name(&self) -> Cow<'_, str> {
        "tcpListener".into()
    }
}

impl TcpListenerResource {
    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

/// Listens for TCP connections on `hostname:port` (port 0 picks a free port) and
/// returns the listener's rid and the address it is bound to. A name binds to the
/// first of its addresses that binds. Sync: binding does not block (a name, though,
/// is resolved on the calling thread); the socket has `SO_REUSEADDR` and a backlog
/// of 1024.
#[op(sync, permission = "net.listen")]
pub fn op_net_listen_tcp(
    state: &mut OpState,
    hostname: &str,
    port: u16,
) -> Result<Listening<NetAddr>, OpError> {
    let target = Target::parse(hostname, port)?;
    let perms = crate::permissions_of(state)?;
    let addrs = resolve_allowed_blocking(&perms, NetAccess::Listen, &target)?;
    require_runtime()?;
    let mut failure = None;
    for addr in addrs {
        match bind(addr) {
            Ok(listener) => {
                let local = listener.local_addr().map_err(io_error(addr))?;
                let rid = state.resource_table.add(TcpListenerResource {
                    listener,
                    local,
                    accepting: Mutex::new(()),
                })?;
                return Ok(Listening {
                    rid,
                    local_addr: local.into(),
                });
            }
            Err(err) => failure = Some(io_error(addr)(err)),
        }
    }
    Err(failure.unwrap_or_else(|| OpError::not_found(format!("{target}: no addresses"))))
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As std does on Unix: a restarted server can bind while old connections linger.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Waits for the next connection on a TCP listener and returns the new stream's rid
/// with both addresses. One accept at a time per listener: a second one is `Busy`.
/// Closing the listener's rid, or the `cancel` handle, ends it with `Interrupted`.
#[op]
pub async fn op_net_accept_tcp(
    state: Rc<RefCell<OpState>>,
    #[resource] listener: &TcpListenerResource,
    cancel: Option<ResourceId>,
) -> Result<Connection<NetAddr>, OpError> {
    let cancel = cancel_token(&state, cancel)?;
    let _accepting = exclusive(&listener.accepting, "accept", listener.local)?;
    let accept = async {
        listener
            .listener
            .accept()
            .await
            .map_err(io_error(listener.local))
    };
    let (stream, remote) = bounded(cancel.as_ref(), None, listener.local, accept).await?;
    add_stream(&state, stream, remote)
}

/// Connects to `hostname:port` and returns the stream's rid with both addresses. A
/// name is resolved once, every address it gave must be allowed, and they are tried
/// in order. `timeout_ms` bounds the whole connect (`TimedOut`); the `cancel` handle
/// aborts it (`Interrupted`).
#[op(permission = "net.connect")]
pub async fn op_net_connect_tcp(
    state: Rc<RefCell<OpState>>,
    #[state] perms: &NetPermissions,
    hostname: String,
    port: u16,
    timeout_ms: Option<u64>,
    cancel: Option<ResourceId>,
) -> Result<Connection<NetAddr>, OpError> {
    let target = Target::parse(&hostname, port)?;
    let cancel = cancel_token(&state, cancel)?;
    let connect = async {
        let addrs = resolve_allowed(perms, NetAccess::Connect, &target).await?;
        let mut failure = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => return Ok((stream, addr)),
                Err(err) => failure = Some(io_error(addr)(err)),
            }
        }
        Err(failure.unwrap_or_else(|| OpError::not_found(format!("{target}: no addresses"))))
    };
    let (stream, remote) = bounded(cancel.as_ref(), timeout_ms, &target, connect).await?;
    add_stream(&state, stream, remote)
}

fn add_stream(
    state: &RefCell<OpState>,
    stream: TcpStream,
    remote: SocketAddr,
) -> Result<Connection<NetAddr>, OpError> {
    let local = stream.local_addr().map_err(io_error(remote))?;
    let stream = NetStream::tcp(stream, remote.to_string());
    let rid = state.borrow_mut().resource_table.add(stream)?;
    Ok(Connection {
        rid,
        local_addr: local.into(),
        remote_addr: remote.into(),
    })
}
