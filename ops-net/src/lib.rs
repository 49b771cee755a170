//! opkit-net: TCP, UDP, Unix sockets and DNS as opkit ops, with cancellation and
//! [`NetPermissions`].
//!
//! The pending ops (accept, connect, read, write, send, receive, resolve) are
//! `async fn` ops: their futures run on the host thread with tokio's own async I/O,
//! no `spawn_blocking`. Binding a listener or a datagram socket does not block, so those
//! ops are sync only. Every rid these ops return is closed with the built-in
//! `op_close`, which also ends every op pending on it with `Interrupted`; a
//! [`CancelHandle`] (from `op_net_cancel_handle`) passed as the `cancel` argument
//! aborts one call instead.
//!
//! ```
//! use opkit::Runtime;
//! use opkit_net::NetPermissions;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let perms = NetPermissions::new().allow("127.0.0.1")?;
//! let rt = Runtime::new([opkit_net::extension(perms)])?;
//! let listening = rt.call_sync("op_net_listen_tcp_sync", br#"["127.0.0.1", 0]"#, &mut [])?;
//! let listening: serde_json::Value = serde_json::from_slice(&listening)?;
//! assert_eq!(listening["local_addr"]["hostname"], "127.0.0.1");
//! let denied = rt.call_sync("op_net_listen_tcp_sync", br#"["::1", 0]"#, &mut []).unwrap_err();
//! assert_eq!(
//!     denied.to_string(),
//!     "PermissionDenied: op_net_listen_tcp: net.listen to [::1]:0 is not allowed"
//! );
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

mod address;
mod pending;
mod permissions;
mod resolve;
mod stream;
mod tcp;
mod udp;
mod unix;

pub use address::{Connection, Datagram, Listening, NetAddr, UnixAddr};
pub use pending::{CancelHandle, op_net_cancel_handle};
pub use permissions::{NetAccess, NetPermissions};
pub use resolve::{RecordType, op_net_resolve};
pub use stream::{
    NetStream, op_net_read, op_net_set_keepalive, op_net_set_nodelay, op_net_shutdown, op_net_write,
};
pub use tcp::{TcpListenerResource, op_net_accept_tcp, op_net_connect_tcp, op_net_listen_tcp};
pub use udp::{UdpSocketResource, op_net_bind_udp, op_net_recv_udp, op_net_send_udp};
pub use unix::{
    UnixDatagramResource, UnixListenerResource, op_net_accept_unix, op_net_bind_unixgram,
    op_net_connect_unix, op_net_listen_unix, op_net_recv_unixgram, op_net_send_unixgram,
};

opkit::extension!(
    net,
    ops = [
        op_net_listen_tcp,
        op_net_accept_tcp,
        op_net_connect_tcp,
        op_net_bind_udp,
        op_net_send_udp,
        op_net_recv_udp,
        op_net_listen_unix,
        op_net_accept_unix,
        op_net_connect_unix,
        op_net_bind_unixgram,
        op_net_send_unixgram,
        op_net_recv_unixgram,
        op_net_resolve,
        op_net_read,
        op_net_write,
        op_net_shutdown,
        op_net_set_nodelay,
        op_net_set_keepalive,
        op_net_cancel_handle,
    ]
);

/// The `net` extension: every op of this crate, with `perms` put in each runtime's
/// `OpState`.
pub fn extension(perms: NetPermissions) -> opkit::Extension {
    net().with_state(move |state| {
        state.put(perms.clone());
    })
}
