//! What the ops answer: addresses and the shapes of their results.

use std::net::SocketAddr;
use std::path::Path;

use opkit::schemars::JsonSchema;
use opkit::{Resource, Rid};
use serde::Serialize;

use crate::stream::NetStream;

/// An IP socket address as a guest sees it: `{"hostname": "127.0.0.1", "port": 80}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(crate = "opkit::schemars")]
pub struct NetAddr {
    /// The IP address, as text: `127.0.0.1`, `::1`.
    pub hostname: String,
    /// The port.
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(crate = "opkit::schemars")]
pub struct UnixAddr {
    /// The socket's path, `null` for an unnamed socket.
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
#[derive(Debug, Serialize, JsonSchema)]
#[serde(bound(serialize = "A: Serialize"))]
#[schemars(crate = "opkit::schemars", bound = "A: JsonSchema")]
pub struct Listening<A, R: Resource> {
    /// The listener's or socket's rid.
    pub rid: Rid<R>,
    /// The address it is bound to.
    pub local_addr: A,
}

/// A connected stream: its rid (added when the result is written) and both ends.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(crate = "opkit::schemars")]
pub struct Connection<A> {
    /// The stream's rid, for `op_net_read`, `op_net_write` and `op_close`.
    pub rid: Rid<NetStream>,
    /// This end's address.
    pub local_addr: A,
    /// The peer's address.
    pub remote_addr: A,
}

/// A received datagram: how many bytes were written into the buffer, and the sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(crate = "opkit::schemars")]
pub struct Datagram<A> {
    /// How many bytes of the buffer the datagram filled.
    pub bytes: usize,
    /// The sender's address.
    pub remote_addr: A,
}
