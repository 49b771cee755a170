//! Unix sockets: stream listen (sync), accept and connect (async); datagram bind
//! (sync), send and receive (async). Paths are checked against the Unix grants of
//! [`NetPermissions`]; the socket file of a closed listener stays on disk.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use opkit::{OpError, Resource, Rid, op};
use tokio::net::{UnixDatagram, UnixListener, UnixStream};
use tokio::sync::Mutex;

use crate::address::{Connection, Datagram, Listening, UnixAddr};
use crate::pending::{CancelHandle, bounded, exclusive, io_error, require_runtime};
use crate::permissions::{NetAccess, NetPermissions};
use crate::stream::NetStream;

/// A Unix stream listener, as `op_net_listen_unix` creates it (`unixListener`).
pub struct UnixListenerResource {
    listener: UnixListener,
    path: PathBuf,
    accepting: Mutex<()>,
}

impl Resource for UnixListenerResource {
    fn name(&self) -> Cow<'_, str> {
        "unixListener".into()
    }
}

/// A bound Unix datagram socket, as `op_net_bind_unixgram` creates it
/// (`unixDatagram`).
pub struct UnixDatagramResource {
    socket: UnixDatagram,
    path: PathBuf,
    receiving: Mutex<()>,
}

impl Resource for UnixDatagramResource {
    fn name(&self) -> Cow<'_, str> {
        "unixDatagram".into()
    }
}

/// The path as messages show it.
fn shown(path: &Path) -> String {
    format!("'{}'", path.display())
}

/// Listens for Unix stream connections on a new socket file at `path` and returns the
/// listener's rid and path. Sync: binding does not block. The file must not exist.
#[op(sync, permission = "net.listen")]
pub fn op_net_listen_unix(
    #[state] perms: &NetPermissions,
    path: &Path,
) -> Result<Listening<UnixAddr, UnixListenerResource>, OpError> {
    let checked = perms.check_unix(NetAccess::Listen, path)?;
    require_runtime()?;
    let listener = UnixListener::bind(&checked).map_err(io_error(shown(path)))?;
    Ok(Listening {
        rid: Rid::new(UnixListenerResource {
            listener,
            path: path.to_owned(),
            accepting: Mutex::new(()),
        }),
        local_addr: Some(path).into(),
    })
}

/// Waits for the next connection on a Unix listener and returns the new stream's rid
/// with both addresses (the remote one is usually unnamed: `{"path": null}`). One
/// accept at a time per listener: a second one is `Busy`. Closing the listener's rid,
/// or the `cancel` handle, ends it with `Interrupted`.
#[op]
pub async fn op_net_accept_unix(
    #[resource] listener: &UnixListenerResource,
    #[resource] cancel: Option<&CancelHandle>,
) -> Result<Connection<UnixAddr>, OpError> {
    let _cancel = cancel;
    let at = shown(&listener.path);
    let _accepting = exclusive(&listener.accepting, "accept", &at)?;
    let accept = async { listener.listener.accept().await.map_err(io_error(&at)) };
    let (stream, remote) = bounded(None, &at, accept).await?;
    connection(stream, UnixAddr::from(&remote), &at)
}

/// Connects to the Unix stream socket at `path` and returns the stream's rid with both
/// addresses. `timeout_ms` bounds the connect (`TimedOut`); the `cancel` handle aborts
/// it (`Interrupted`).
#[op(permission = "net.connect")]
pub async fn op_net_connect_unix(
    #[state] perms: &NetPermissions,
    path: PathBuf,
    timeout_ms: Option<u64>,
    #[resource] cancel: Option<&CancelHandle>,
) -> Result<Connection<UnixAddr>, OpError> {
    let at = shown(&path);
    let checked = perms.check_unix(NetAccess::Connect, &path)?;
    let _cancel = cancel;
    let connect = async { UnixStream::connect(&checked).await.map_err(io_error(&at)) };
    let stream = bounded(timeout_ms, &at, connect).await?;
    connection(stream, UnixAddr::from(Some(path.as_path())), &at)
}

fn connection(
    stream: UnixStream,
    remote: UnixAddr,
    at: &str,
) -> Result<Connection<UnixAddr>, OpError> {
    let local = stream.local_addr().map_err(io_error(at))?;
    Ok(Connection {
        rid: Rid::new(NetStream::unix(stream, at.to_owned())),
        local_addr: UnixAddr::from(&local),
        remote_addr: remote,
    })
}

/// Binds a Unix datagram socket to a new socket file at `path` and returns its rid
/// and path. Sync, like `op_net_listen_unix`.
#[op(sync, permission = "net.listen")]
pub fn op_net_bind_unixgram(
    #[state] perms: &NetPermissions,
    path: &Path,
) -> Result<Listening<UnixAddr, UnixDatagramResource>, OpError> {
    let checked = perms.check_unix(NetAccess::Listen, path)?;
    require_runtime()?;
    let socket = UnixDatagram::bind(&checked).map_err(io_error(shown(path)))?;
    Ok(Listening {
        rid: Rid::new(UnixDatagramResource {
            socket,
            path: path.to_owned(),
            receiving: Mutex::new(()),
        }),
        local_addr: Some(path).into(),
    })
}

/// Sends the byte buffer as one datagram to the Unix datagram socket at `path` and
/// returns how many bytes were sent.
#[op(permission = "net.send")]
pub async fn op_net_send_unixgram(
    #[state] perms: &NetPermissions,
    #[resource] socket: &UnixDatagramResource,
    path: PathBuf,
    #[buffer] data: &[u8],
    #[resource] cancel: Option<&CancelHandle>,
) -> Result<usize, OpError> {
    let at = shown(&path);
    let checked = perms.check_unix(NetAccess::Send, &path)?;
    let _cancel = cancel;
    let send = async {
        socket
            .socket
            .send_to(data, &checked)
            .await
            .map_err(io_error(&at))
    };
    bounded(None, &at, send).await
}

/// Waits for one datagram on a Unix datagram socket, writes it into the byte buffer
/// and returns how many bytes were written and the sender's path (`null` when the
/// sender is unnamed). A datagram longer than the buffer is cut to fit. A second
/// receive on the same rid is `Busy`; closing the rid, or the `cancel` handle, ends
/// it with `Interrupted`.
#[op]
pub async fn op_net_recv_unixgram(
    #[resource] socket: &UnixDatagramResource,
    #[buffer] buf: &mut [u8],
    #[resource] cancel: Option<&CancelHandle>,
) -> Result<Datagram<UnixAddr>, OpError> {
    let _cancel = cancel;
    let at = shown(&socket.path);
    let _receiving = exclusive(&socket.receiving, "receive", &at)?;
    let recv = async { socket.socket.recv_from(buf).await.map_err(io_error(&at)) };
    let (bytes, from) = bounded(None, &at, recv).await?;
    Ok(Datagram {
        bytes,
        remote_addr: UnixAddr::from(&from),
    })
}
