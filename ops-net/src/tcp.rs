//! TCP: listen (sync), accept and connect (async). Streams are [`NetStream`]s.

use std::borrow::Cow;
use std::net::SocketAddr;

use opkit::{OpError, Resource, Rid, op};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Mutex;

use crate::address::{Connection, Listening, NetAddr};
use crate::pending::{CancelHandle, bounded, exclusive, io_error, require_runtime};
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
    #[state] perms: &NetPermissions,
    hostname: &str,
    port: u16,
) -> Result<Listening<NetAddr, TcpListenerResource>, OpError> {
    let target = Target::parse(hostname, port)?;
    let addrs = resolve_allowed_blocking(perms, NetAccess::Listen, &target)?;
    require_runtime()?;
    let mut failure = None;
    for addr in addrs {
        match bind(addr) {
            Ok(listener) => {
                let local = listener.local_addr().map_err(io_error(addr))?;
                return Ok(Listening {
                    rid: Rid::new(TcpListenerResource {
                        listener,
                        local,
                        accepting: Mutex::new(()),
                    }),
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
    #[resource] listener: &TcpListenerResource,
    #[resource] cancel: Option<&CancelHandle>,
) -> Result<Connection<NetAddr>, OpError> {
    let _cancel = cancel;
    let _accepting = exclusive(&listener.accepting, "accept", listener.local)?;
    let accept = async {
        listener
            .listener
            .accept()
            .await
            .map_err(io_error(listener.local))
    };
    let (stream, remote) = bounded(None, listener.local, accept).await?;
    connection(stream, remote)
}

/// Connects to `hostname:port` and returns the stream's rid with both addresses. A
/// name is resolved once, every address it gave must be allowed, and they are tried
/// in order. `timeout_ms` bounds the whole connect (`TimedOut`); the `cancel` handle
/// aborts it (`Interrupted`).
#[op(permission = "net.connect")]
pub async fn op_net_connect_tcp(
    #[state] perms: &NetPermissions,
    hostname: String,
    port: u16,
    timeout_ms: Option<u64>,
    #[resource] cancel: Option<&CancelHandle>,
) -> Result<Connection<NetAddr>, OpError> {
    let target = Target::parse(&hostname, port)?;
    let _cancel = cancel;
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
    let (stream, remote) = bounded(timeout_ms, &target, connect).await?;
    connection(stream, remote)
}

fn connection(stream: TcpStream, remote: SocketAddr) -> Result<Connection<NetAddr>, OpError> {
    let local = stream.local_addr().map_err(io_error(remote))?;
    Ok(Connection {
        rid: Rid::new(NetStream::tcp(stream, remote.to_string())),
        local_addr: local.into(),
        remote_addr: remote.into(),
    })
}
