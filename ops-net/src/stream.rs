//! `NetStream`, the one resource type behind every TCP and Unix stream rid, and the
//! stream ops that work on either.
//!
//! The socket is not split into halves: tokio's `readable`/`try_read` and
//! `writable`/`try_write` work on `&TcpStream` and `&UnixStream`, so a read and a
//! write can be pending at once, and the socket options stay reachable while they are.
//! Two locks order the ops: a second read is refused with `Busy` (which read would get
//! the bytes is unknowable), writes queue so that each one's bytes stay contiguous.

use std::borrow::Cow;
use std::io;
use std::net::Shutdown;

use opkit::{OpError, Resource, op};
use socket2::SockRef;
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::Mutex;

use crate::pending::{CancelHandle, bounded, exclusive, io_error};

enum StreamSocket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// A connected TCP or Unix stream, as `op_net_accept_*` and `op_net_connect_*` create
/// it. `op_resources` lists it as `tcpStream` or `unixStream`.
pub struct NetStream {
    socket: StreamSocket,
    /// The remote end, for error messages.
    peer: String,
    reading: Mutex<()>,
    writing: Mutex<()>,
}

impl Resource for NetStream {
    fn name(&self) -> Cow<'_, str> {
        match self.socket {
            StreamSocket::Tcp(_) => "tcpStream".into(),
            StreamSocket::Unix(_) => "unixStream".into(),
        }
    }
}

impl NetStream {
    pub(crate) fn tcp(stream: TcpStream, peer: String) -> Self {
        Self::new(StreamSocket::Tcp(stream), peer)
    }

    pub(crate) fn unix(stream: UnixStream, peer: String) -> Self {
        Self::new(StreamSocket::Unix(stream), peer)
    }

    fn new(socket: StreamSocket, peer: String) -> Self {
        Self {
            socket,
            peer,
            reading: Mutex::new(()),
            writing: Mutex::new(()),
        }
    }

    /// The TCP stream, if this is one.
    pub fn as_tcp(&self) -> Option<&TcpStream> {
        match &self.socket {
            StreamSocket::Tcp(stream) => Some(stream),
            StreamSocket::Unix(_) => None,
        }
    }

    /// The Unix stream, if this is one.
    pub fn as_unix(&self) -> Option<&UnixStream> {
        match &self.socket {
            StreamSocket::Tcp(_) => None,
            StreamSocket::Unix(stream) => Some(stream),
        }
    }

    fn sock_ref(&self) -> SockRef<'_> {
        match &self.socket {
            StreamSocket::Tcp(stream) => SockRef::from(stream),
            StreamSocket::Unix(stream) => SockRef::from(stream),
        }
    }

    async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let ready = match &self.socket {
                StreamSocket::Tcp(s) => s.readable().await.and_then(|()| s.try_read(buf)),
                StreamSocket::Unix(s) => s.readable().await.and_then(|()| s.try_read(buf)),
            };
            match ready {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                other => return other,
            }
        }
    }

    async fn write_all(&self, mut data: &[u8]) -> io::Result<usize> {
        let total = data.len();
        while !data.is_empty() {
            let wrote = match &self.socket {
                StreamSocket::Tcp(s) => s.writable().await.and_then(|()| s.try_write(data)),
                StreamSocket::Unix(s) => s.writable().await.and_then(|()| s.try_write(data)),
            };
            match wrote {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => data = &data[n..],
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Err(err),
            }
        }
        Ok(total)
    }

    /// Whether TCP keepalive probes are on; `None` for a Unix stream.
    pub fn keepalive(&self) -> Option<io::Result<bool>> {
        self.as_tcp().map(|tcp| SockRef::from(tcp).keepalive())
    }

    fn tcp_only(&self, what: &str) -> Result<&TcpStream, OpError> {
        self.as_tcp().ok_or_else(|| {
            OpError::bad_resource(format!(
                "{what} applies to a tcpStream, not a {}",
                self.name()
            ))
        })
    }
}

/// Reads from a TCP or Unix stream into the byte buffer and returns how many bytes
/// arrived (at most the buffer's length; 0 means the peer closed its write half).
/// The buffer must not be empty. A second read pending on the same rid is `Busy`.
/// Closing the rid, or the `cancel` handle, ends a pending read with `Interrupted`.
#[op]
pub async fn op_net_read(
    #[resource] stream: &NetStream,
    #[buffer] buf: &mut [u8],
    #[resource] cancel: Option<&CancelHandle>,
) -> Result<usize, OpError> {
    if buf.is_empty() {
        return Err(OpError::type_error(
            "the buffer is empty; pass a buffer to read into",
        ));
    }
    let _cancel = cancel;
    let _reading = exclusive(&stream.reading, "read", &stream.peer)?;
    let read = async { stream.read(buf).await.map_err(io_error(&stream.peer)) };
    bounded(None, &stream.peer, read).await
}

/// Writes the whole byte buffer to a TCP or Unix stream and returns its length.
/// Writes on one rid queue behind each other, so each one's bytes stay contiguous; a
/// write can be pending while a read is. Closing the rid, or the `cancel` handle, ends
/// a pending write with `Interrupted` (some of the bytes may have been sent).
#[op]
pub async fn op_net_write(
    #[resource] stream: &NetStream,
    #[buffer] data: &[u8],
    #[resource] cancel: Option<&CancelHandle>,
) -> Result<usize, OpError> {
    let _cancel = cancel;
    let write = async {
        let _writing = stream.writing.lock().await;
        stream.write_all(data).await.map_err(io_error(&stream.peer))
    };
    bounded(None, &stream.peer, write).await
}

/// Shuts down the write half of a TCP or Unix stream: the peer reads end of stream,
/// and this end can still read. Waits for the writes queued before it.
#[op]
pub async fn op_net_shutdown(#[resource] stream: &NetStream) -> Result<(), OpError> {
    let _writing = stream.writing.lock().await;
    stream
        .sock_ref()
        .shutdown(Shutdown::Write)
        .map_err(io_error(&stream.peer))
}

/// Turns Nagle's algorithm off (`nodelay: true`) or on for a TCP stream, so small
/// writes leave at once instead of being coalesced.
#[op(sync)]
pub fn op_net_set_nodelay(#[resource] stream: &NetStream, nodelay: bool) -> Result<(), OpError> {
    stream
        .tcp_only("set_nodelay")?
        .set_nodelay(nodelay)
        .map_err(io_error(&stream.peer))
}

/// Turns TCP keepalive probes (`SO_KEEPALIVE`) on or off for a TCP stream, with the
/// system's default timing.
#[op(sync)]
pub fn op_net_set_keepalive(
    #[resource] stream: &NetStream,
    keepalive: bool,
) -> Result<(), OpError> {
    let tcp = stream.tcp_only("set_keepalive")?;
    SockRef::from(tcp)
        .set_keepalive(keepalive)
        .map_err(io_error(&stream.peer))
}
