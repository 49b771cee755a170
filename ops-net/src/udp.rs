//! UDP: bind (sync), send to and receive from (async).

use std::borrow::Cow;
use std::net::SocketAddr;

use opkit::{OpError, Resource, Rid, op};
use tokio::net::UdpSocket;
use tokio::sync::Mutex;

use crate::address::{Datagram, Listening, NetAddr};
use crate::pending::{CancelHandle, bounded, exclusive, io_error, require_runtime};
use crate::permissions::{NetAccess, NetPermissions, Target};
use crate::resolve::{resolve_allowed, resolve_allowed_blocking};

/// A bound UDP socket, as `op_net_bind_udp` creates it (`udpSocket`).
pub struct UdpSocketResource {
    socket: UdpSocket,
    local: SocketAddr,
    receiving: Mutex<()>,
}

impl Resource for UdpSocketResource {
    fn name(&self) -> Cow<'_, str> {
        "udpSocket".into()
    }
}

impl UdpSocketResource {
    /// The address the socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

/// Binds a UDP socket to `hostname:port` (port 0 picks a free port) and returns its
/// rid and the address it is bound to. Sync, like `op_net_listen_tcp`.
#[op(sync, permission = "net.listen")]
pub fn op_net_bind_udp(
    #[state] perms: &NetPermissions,
    hostname: &str,
    port: u16,
) -> Result<Listening<NetAddr, UdpSocketResource>, OpError> {
    let target = Target::parse(hostname, port)?;
    let addrs = resolve_allowed_blocking(perms, NetAccess::Listen, &target)?;
    require_runtime()?;
    let mut failure = None;
    for addr in addrs {
        let bound = std::net::UdpSocket::bind(addr)
            .and_then(|socket| {
                socket.set_nonblocking(true)?;
                UdpSocket::from_std(socket)
            })
            .and_then(|socket| Ok((socket.local_addr()?, socket)));
        match bound {
            Ok((local, socket)) => {
                return Ok(Listening {
                    rid: Rid::new(UdpSocketResource {
                        socket,
                        local,
                        receiving: Mutex::new(()),
                    }),
                    local_addr: local.into(),
                });
            }
            Err(err) => failure = Some(io_error(addr)(err)),
        }
    }
    Err(failure.unwrap_or_else(|| OpError::not_found(format!("{target}: no addresses"))))
}

/// Sends the byte buffer as one datagram to `hostname:port` and returns how many bytes
/// were sent. A name is resolved once and every address it gave must be allowed; the
/// datagram goes to the first one of the socket's family.
#[op(permission = "net.send")]
pub async fn op_net_send_udp(
    #[state] perms: &NetPermissions,
    #[resource] socket: &UdpSocketResource,
    hostname: String,
    port: u16,
    #[buffer] data: &[u8],
    #[resource] cancel: Option<&CancelHandle>,
) -> Result<usize, OpError> {
    let target = Target::parse(&hostname, port)?;
    let _cancel = cancel;
    let send = async {
        let addrs = resolve_allowed(perms, NetAccess::Send, &target).await?;
        let same_family = addrs
            .iter()
            .find(|addr| addr.is_ipv4() == socket.local.is_ipv4());
        let to = same_family.or(addrs.first()).copied();
        let Some(to) = to else {
            return Err(OpError::not_found(format!("{target}: no addresses")));
        };
        socket.socket.send_to(data, to).await.map_err(io_error(to))
    };
    bounded(None, &target, send).await
}

/// Waits for one datagram, writes it into the byte buffer and returns how many bytes
/// were written and the sender's address. A datagram longer than the buffer is cut
/// to fit. One receive at a time per socket: a second one is `Busy`. Closing the
/// rid, or the `cancel` handle, ends it with `Interrupted`.
#[op]
pub async fn op_net_recv_udp(
    #[resource] socket: &UdpSocketResource,
    #[buffer] buf: &mut [u8],
    #[resource] cancel: Option<&CancelHandle>,
) -> Result<Datagram<NetAddr>, OpError> {
    let _cancel = cancel;
    let _receiving = exclusive(&socket.receiving, "receive", socket.local)?;
    let recv = async {
        socket
            .socket
            .recv_from(buf)
            .await
            .map_err(io_error(socket.local))
    };
    let (bytes, from) = bounded(None, socket.local, recv).await?;
    Ok(Datagram {
        bytes,
        remote_addr: from.into(),
    })
}
