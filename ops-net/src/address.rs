//! What the ops answer: addresses and the shapes of their results.

use std::net::SocketAddr;
use std::path::Path;

use opkit::{Resource, Rid};
use serde::Serialize;

use crate::stream::NetStream;

/// An IP socket address as a guest sees it: `{"hostname": "127.0.0.1", "port": 80}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetAddr {
    pub hostname: String,
    pub port: u16,
}

impl From<SocketAddr> for NetAddr {
    fn from(addr: SocketAddr) -> Self {
        Self {
            hostname: addr.ip().to_string(),
            port: addr.port(),
        }
    }
}

/// A Unix socket address: `{"path": "/tmp/s.sock"}`, or `{"path": null}` for an
/// unnamed socket (the usual client end).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnixAddr {
    pub path: Option<String>,
}

impl From<&tokio::net::unix::SocketAddr> for UnixAddr {
    fn from(addr: &tokio::net::unix::SocketAddr) -> Self {
        Self::from(addr.as_pathname())
    }
}

impl From<Option<&Path>> for UnixAddr {
    fn from(path: Option<&Path>) -> Self {
        Self {
            path: path.map(|p| p.to_string_lossy().into_owned()),
        }
    }
}

/// A bound listener or datagram socket `R`: its rid (added to the caller's table when
/// the result is written) and the address it is bound to.
#[derive(Debug, Serialize)]
#[serde(bound(serialize = "A: Serialize"))]
pub struct Listening<A, R: Resource> {
    pub rid: Rid<R>,
    pub local_addr: A,
}

/// A connected stream: its rid (added when the result is written) and both ends.
#[derive(Debug, Serialize)]
pub struct Connection<A> {
    pub rid: Rid<NetStream>,
    pub local_addr: A,
    pub remote_addr: A,
}

/// A received datagram: how many bytes were written into the buffer, and the sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Datagram<A> {
    pub bytes: usize,
    pub remote_addr: A,
}
