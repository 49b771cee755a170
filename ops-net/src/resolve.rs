//! Name resolution: the permission-checked addresses of a `host:port`, and
//! `op_net_resolve`.

use std::net::{SocketAddr, ToSocketAddrs};

use opkit::schemars::JsonSchema;
use opkit::{ErrorClass, OpError, op};
use serde::Deserialize;

use crate::pending::io_error;
use crate::permissions::{Host, NetAccess, NetPermissions, Target, Verdict};

/// The addresses `target` stands for, once `perms` allow every one of them for
/// `access`. Names go through the system resolver (tokio's `lookup_host`, which runs
/// `getaddrinfo` on tokio's blocking pool: there is no async `getaddrinfo`).
pub(crate) async fn resolve_allowed(
    perms: &NetPermissions,
    access: NetAccess,
    target: &Target,
) -> Result<Vec<SocketAddr>, OpError> {
    let verdict = perms.check_target(access, target)?;
    let addrs = match &target.host {
        Host::Ip(ip) => vec![SocketAddr::new(*ip, target.port)],
        Host::Name(name) => tokio::net::lookup_host((name.as_str(), target.port))
            .await
            .map_err(io_error(target))?
            .collect(),
    };
    checked(perms, access, target, verdict, addrs)
}

/// [`resolve_allowed`] for the sync binds: a name is resolved on the calling thread.
pub(crate) fn resolve_allowed_blocking(
    perms: &NetPermissions,
    access: NetAccess,
    target: &Target,
) -> Result<Vec<SocketAddr>, OpError> {
    let verdict = perms.check_target(access, target)?;
    let addrs = match &target.host {
        Host::Ip(ip) => vec![SocketAddr::new(*ip, target.port)],
        Host::Name(name) => (name.as_str(), target.port)
            .to_socket_addrs()
            .map_err(io_error(target))?
            .collect(),
    };
    checked(perms, access, target, verdict, addrs)
}

fn checked(
    perms: &NetPermissions,
    access: NetAccess,
    target: &Target,
    verdict: Verdict,
    addrs: Vec<SocketAddr>,
) -> Result<Vec<SocketAddr>, OpError> {
    if addrs.is_empty() {
        return Err(OpError::not_found(format!("{target}: no addresses")));
    }
    perms.check_resolved(access, target, verdict, &addrs)?;
    Ok(addrs)
}

/// The DNS record types `op_net_resolve` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(crate = "opkit::schemars")]
pub enum RecordType {
    /// IPv4 addresses.
    A,
    /// IPv6 addresses.
    #[allow(clippy::upper_case_acronyms)]
    AAAA,
}

/// Resolves a host name to its IP addresses through the system resolver (so
/// `/etc/hosts` counts), as strings in the resolver's order without duplicates.
/// `record_type` is `"A"` (IPv4) or `"AAAA"` (IPv6); left out, both. Needs a
/// `net.resolve` grant of the name (any port); an IP literal is answered as is.
#[op(permission = "net.resolve")]
pub async fn op_net_resolve(
    #[state] perms: &NetPermissions,
    hostname: String,
    record_type: Option<RecordType>,
) -> Result<Vec<String>, OpError> {
    let target = Target::parse(&hostname, 0)?;
    perms.check_resolve(&target)?;
    let ips: Vec<_> = match &target.host {
        Host::Ip(ip) => vec![*ip],
        Host::Name(name) => tokio::net::lookup_host((name.as_str(), 0))
            .await
            .map_err(io_error(name))?
            .map(|addr| addr.ip())
            .collect(),
    };
    let mut out: Vec<String> = Vec::new();
    for ip in ips {
        let wanted = match record_type {
            None => true,
            Some(RecordType::A) => ip.is_ipv4(),
            Some(RecordType::AAAA) => ip.is_ipv6(),
        };
        let text = ip.to_string();
        if wanted && !out.contains(&text) {
            out.push(text);
        }
    }
    if out.is_empty() {
        let kind = match record_type {
            Some(RecordType::A) => "no A records",
            Some(RecordType::AAAA) => "no AAAA records",
            None => "no addresses",
        };
        return Err(OpError::new(
            ErrorClass::NotFound,
            format!("{hostname}: {kind}"),
        ));
    }
    Ok(out)
}
