//! `NetPermissions`: which hosts, ports and Unix socket paths the net ops may reach.
//!
//! Deny by default. The rule, precisely (it is what [`NetPermissions`] documents):
//! a request for `host:port` may touch a set of socket addresses (one for an IP
//! literal, the resolved ones for a name), and it is allowed when *every* address in
//! that set is covered, either by a grant of the name as written (`allow("localhost")`
//! covers whatever `localhost` resolves to) or by a grant of the address's IP. A name
//! grant never covers an IP written as such, and a port in a grant is never widened.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use opkit::{ErrorClass, OpError};

/// What an op is about to do; a denial names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetAccess {
    /// Bind a listener or a datagram socket (`net.listen`).
    Listen,
    /// Open a connection (`net.connect`).
    Connect,
    /// Send a datagram (`net.send`).
    Send,
    /// Look a name up in DNS (`net.resolve`).
    Resolve,
}

impl NetAccess {
    /// The permission name, as the ops declare it in their metadata.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Listen => "net.listen",
            Self::Connect => "net.connect",
            Self::Send => "net.send",
            Self::Resolve => "net.resolve",
        }
    }
}

impl fmt::Display for NetAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A host as written: an IP literal or a DNS name (lowercased, no trailing dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    Ip(IpAddr),
    Name(String),
}

impl Host {
    /// Parses an IP literal (IPv6 with or without brackets) or a DNS name.
    ///
    /// A name's last label must begin with a letter, as top-level domains do: the
    /// system resolver reads `127.1` or `0x7f000001` as IPv4 addresses, and such a
    /// string must not pass for a name that a grant could be written for.
    fn parse(text: &str) -> Result<Self, String> {
        if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            return match inner.parse::<Ipv6Addr>() {
                Ok(ip) => Ok(Self::Ip(IpAddr::V6(ip).to_canonical())),
                Err(_) => Err(format!("'{text}' is not an IPv6 address")),
            };
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Self::Ip(ip.to_canonical()));
        }
        let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
        if is_dns_name(&name) {
            Ok(Self::Name(name))
        } else {
            Err(format!("'{text}' is not an IP address or a host name"))
        }
    }
}

fn is_dns_name(name: &str) -> bool {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let last_starts_with_letter = name
        .rsplit('.')
        .next()
        .and_then(|label| label.bytes().next())
        .is_some_and(|b| b.is_ascii_alphabetic());
    name.len() <= 253 && name.split('.').all(label_ok) && last_starts_with_letter
}

/// `host:port` as a guest asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) host: Host,
    pub(crate) port: u16,
}

impl Target {
    /// The host and port an op was called with; a malformed host is a `TypeError`.
    pub(crate) fn parse(hostname: &str, port: u16) -> Result<Self, OpError> {
        let host = Host::parse(hostname.trim()).map_err(OpError::type_error)?;
        Ok(Self { host, port })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Ip(ip) => SocketAddr::new(*ip, self.port).fmt(f),
            Host::Name(name) => write!(f, "{name}:{}", self.port),
        }
    }
}

/// One `host[:port]` grant; no port means any port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostGrant {
    host: Host,
    port: Option<u16>,
}

impl HostGrant {
    fn parse(entry: &str) -> Result<Self, OpError> {
        let text = entry.trim();
        let invalid = |why: String| {
            OpError::new(
                ErrorClass::InvalidData,
                format!("invalid net permission entry '{entry}': {why}"),
            )
        };
        let port = |text: &str| {
            text.parse::<u16>()
                .map_err(|_| invalid(format!("'{text}' is not a port (0 to 65535)")))
        };
        let (host, port) = if text.starts_with('[') {
            // `[v6]` or `[v6]:port`.
            let Some((bracketed, rest)) = text.split_once(']') else {
                return Err(invalid("missing ']'".into()));
            };
            let port = match rest {
                "" => None,
                _ => match rest.strip_prefix(':') {
                    Some(p) => Some(port(p)?),
                    None => return Err(invalid(format!("unexpected '{rest}' after ']'"))),
                },
            };
            (format!("{bracketed}]"), port)
        } else if text.parse::<IpAddr>().is_ok() {
            // A bare IPv4 address, or an IPv6 one without brackets (so without a port).
            (text.to_owned(), None)
        } else {
            match text.rsplit_once(':') {
                Some((host, _)) if host.contains(':') => {
                    return Err(invalid(
                        "an IPv6 address with a port goes in brackets, as in '[::1]:8080'".into(),
                    ));
                }
                Some((host, p)) => (host.to_owned(), Some(port(p)?)),
                None => (text.to_owned(), None),
            }
        };
        let host = Host::parse(&host).map_err(invalid)?;
        Ok(Self { host, port })
    }

    fn covers(&self, host: &Host, port: u16) -> bool {
        self.host == *host && self.port.is_none_or(|p| p == port)
    }
}

#[derive(Debug, Clone, Default)]
struct Grants {
    all: bool,
    hosts: Vec<HostGrant>,
    unix_roots: Vec<PathBuf>,
}

/// Which addresses the net ops may listen on, connect to and send to. Deny by default.
///
/// - `allow("127.0.0.1:8080")`, `allow("[::1]:8080")`: that IP and port.
/// - `allow("127.0.0.1")`, `allow("::1")`, `allow("[::1]")`: that IP, any port.
/// - `allow("localhost:9000")`, `allow("localhost")`: that name as written (case and a
///   trailing dot aside), on that port or any port, and whatever it resolves to
///   *when reached through the name*.
/// - `allow_unix(dir)`: Unix socket paths inside `dir` (symlinks followed).
///
/// A request for `host:port` is allowed when every socket address it may touch is
/// covered: the name grant covers all of them, or else each resolved address must be
/// covered by an IP grant. So `allow("localhost:9000")` permits neither
/// `127.0.0.1:9000` nor `127.0.0.1:9001` nor `localhost:9001`, and with only
/// `allow("127.0.0.1")`, `localhost:5000` is allowed exactly when `localhost` resolves
/// to `127.0.0.1` alone. The op then uses the addresses that were checked; it does not
/// resolve the name a second time. A name that no grant could cover is denied without
/// a DNS query. `net.resolve` needs a grant of the name (any port).
///
/// An unspecified address (`0.0.0.0`, `::`) is for listening only: connect and send
/// refuse it, written or resolved, whatever the grants, since Linux delivers it to
/// loopback.
///
/// Cloning is cheap (the grants are shared).
///
/// ```
/// use opkit_net::NetPermissions;
/// let perms = NetPermissions::new()
///     .allow("127.0.0.1:8080")?
///     .allow("[::1]")?
///     .allow("localhost")?;
/// assert!(NetPermissions::new().allow("[::1:80").is_err());
/// # Ok::<(), opkit::OpError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct NetPermissions {
    grants: Arc<Grants>,
}

/// How a request passed the first check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every address the request may touch is allowed.
    Granted,
    /// The name itself is not granted: each resolved address must be.
    EachAddress,
}

impl NetPermissions {
    /// Nothing allowed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything allowed: every host, port and Unix socket path. For trusted guests.
    pub fn allow_all() -> Self {
        Self {
            grants: Arc::new(Grants {
                all: true,
                ..Grants::default()
            }),
        }
    }

    /// Adds a `host[:port]` grant; see the type's documentation for the forms.
    pub fn allow(mut self, entry: &str) -> Result<Self, OpError> {
        let grant = HostGrant::parse(entry)?;
        Arc::make_mut(&mut self.grants).hosts.push(grant);
        Ok(self)
    }

    /// Allows Unix socket paths inside `dir`, which must exist (it is canonicalized
    /// now, so a symlink cannot move it later).
    pub fn allow_unix(mut self, dir: impl AsRef<Path>) -> Result<Self, OpError> {
        let dir = dir.as_ref();
        let root = dir
            .canonicalize()
            .map_err(|err| OpError::from(err).context(format_args!("'{}'", dir.display())))?;
        Arc::make_mut(&mut self.grants).unix_roots.push(root);
        Ok(self)
    }

    /// The first check of a request, on the host as written.
    pub(crate) fn check_target(
        &self,
        access: NetAccess,
        target: &Target,
    ) -> Result<Verdict, OpError> {
        if let Host::Ip(ip) = target.host {
            refuse_unspecified(access, target, ip)?;
        }
        let grants = &*self.grants;
        if grants.all
            || grants
                .hosts
                .iter()
                .any(|g| g.covers(&target.host, target.port))
        {
            return Ok(Verdict::Granted);
        }
        // A name can still pass if IP grants cover all its addresses: resolve only when
        // some IP grant could cover this port.
        let ip_could_cover = matches!(target.host, Host::Name(_))
            && grants
                .hosts
                .iter()
                .any(|g| matches!(g.host, Host::Ip(_)) && g.port.is_none_or(|p| p == target.port));
        if ip_could_cover {
            Ok(Verdict::EachAddress)
        } else {
            Err(denied(access, target))
        }
    }

    /// The second check, on the addresses a name resolved to: none may be an
    /// unspecified one, and when the name itself was not granted
    /// ([`Verdict::EachAddress`]) each needs a grant of its IP.
    pub(crate) fn check_resolved(
        &self,
        access: NetAccess,
        target: &Target,
        verdict: Verdict,
        addrs: &[SocketAddr],
    ) -> Result<(), OpError> {
        for addr in addrs {
            let resolved = format_args!("{target} (resolved to {})", addr.ip());
            refuse_unspecified(access, resolved, addr.ip())?;
            if verdict == Verdict::Granted {
                continue;
            }
            let host = Host::Ip(addr.ip().to_canonical());
            if !self
                .grants
                .hosts
                .iter()
                .any(|g| g.covers(&host, addr.port()))
            {
                return Err(denied(access, resolved));
            }
        }
        Ok(())
    }

    /// `net.resolve`: the name must be granted (any port). IP literals need no lookup.
    pub(crate) fn check_resolve(&self, target: &Target) -> Result<(), OpError> {
        let grants = &*self.grants;
        match &target.host {
            Host::Ip(_) => Ok(()),
            host if grants.all || grants.hosts.iter().any(|g| g.host == *host) => Ok(()),
            Host::Name(name) => Err(denied(NetAccess::Resolve, name)),
        }
    }

    /// Checks a Unix socket path and returns it resolved: absolute, symlinks of its
    /// directory (and of the socket itself, if it exists) followed. The op must use
    /// the returned path, not the guest's.
    pub(crate) fn check_unix(&self, access: NetAccess, path: &Path) -> Result<PathBuf, OpError> {
        if self.grants.all {
            return Ok(path.to_owned());
        }
        let resolved = resolve_socket_path(path)
            .map_err(|err| OpError::from(err).context(format_args!("'{}'", path.display())))?;
        // A final symlink to a missing file stays unresolved, so the check saw the
        // link's own path; `connect(2)` and `sendto(2)` would follow it to wherever it
        // leads once that exists. (`bind(2)` does not follow it: the name is taken.)
        let dangling = resolved
            .symlink_metadata()
            .is_ok_and(|meta| meta.file_type().is_symlink());
        if dangling && access != NetAccess::Listen {
            return Err(denied(
                access,
                format_args!("'{}' (a symlink to a missing file)", path.display()),
            ));
        }
        if self
            .grants
            .unix_roots
            .iter()
            .any(|root| resolved.starts_with(root))
        {
            Ok(resolved)
        } else {
            Err(denied(access, format_args!("'{}'", path.display())))
        }
    }
}

fn resolve_socket_path(path: &Path) -> io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    match absolute.canonicalize() {
        Ok(resolved) => return Ok(resolved),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    // Not there yet (a listener is about to create it): resolve the directory.
    let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a socket path names a file",
        ));
    };
    Ok(parent.canonicalize()?.join(name))
}

fn denied(access: NetAccess, what: impl fmt::Display) -> OpError {
    OpError::permission_denied(format!("{access} to {what} is not allowed"))
}

/// Connect and send never go to an unspecified address (`0.0.0.0`, `::`), whatever
/// the grants: a grant of one is meant for listening on every interface, but as a
/// destination Linux delivers it to loopback.
fn refuse_unspecified(
    access: NetAccess,
    what: impl fmt::Display,
    ip: IpAddr,
) -> Result<(), OpError> {
    let destination = matches!(access, NetAccess::Connect | NetAccess::Send);
    if destination && ip.to_canonical().is_unspecified() {
        return Err(OpError::permission_denied(format!(
            "{access} to {what} is not allowed: the unspecified address is for listening \
             only; as a destination it reaches loopback"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str, port: u16) -> Target {
        Target::parse(host, port).unwrap()
    }

    fn sock(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn entries_parse_in_every_form() {
        let ip = |s: &str| Host::Ip(s.parse().unwrap());
        let name = |s: &str| Host::Name(s.into());
        for (entry, host, port) in [
            ("127.0.0.1:8080", ip("127.0.0.1"), Some(8080)),
            ("127.0.0.1", ip("127.0.0.1"), None),
            ("[::1]:80", ip("::1"), Some(80)),
            ("[::1]", ip("::1"), None),
            ("::1", ip("::1"), None),
            ("fe80::1:2", ip("fe80::1:2"), None),
            (" LocalHost.:9000 ", name("localhost"), Some(9000)),
            ("localhost", name("localhost"), None),
            ("db_1.internal", name("db_1.internal"), None),
            ("[::ffff:127.0.0.1]:1", ip("127.0.0.1"), Some(1)),
        ] {
            let grant = HostGrant::parse(entry).unwrap();
            assert_eq!((grant.host, grant.port), (host, port), "{entry}");
        }
    }

    #[test]
    fn malformed_entries_are_refused_with_the_reason() {
        for (entry, why) in [
            ("", "'' is not an IP address or a host name"),
            ("[::1", "missing ']'"),
            ("[::1]80", "unexpected '80' after ']'"),
            ("[127.0.0.1]", "'[127.0.0.1]' is not an IPv6 address"),
            ("::1:80:", "an IPv6 address with a port goes in brackets"),
            ("host:99999", "'99999' is not a port (0 to 65535)"),
            ("host:", "'' is not a port"),
            ("127.1", "'127.1' is not an IP address or a host name"),
            ("0x7f000001", "is not an IP address or a host name"),
            ("-bad.com", "is not an IP address or a host name"),
            ("a..b", "is not an IP address or a host name"),
        ] {
            let err = HostGrant::parse(entry).unwrap_err();
            assert_eq!(err.class(), ErrorClass::InvalidData, "{entry}");
            assert!(err.message().contains(why), "{entry}: {err}");
            assert!(err.message().contains(&format!("'{entry}'")), "{err}");
        }
    }

    #[test]
    fn deny_by_default() {
        let perms = NetPermissions::new();
        let err = perms
            .check_target(NetAccess::Connect, &target("127.0.0.1", 80))
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::PermissionDenied);
        assert_eq!(err.message(), "net.connect to 127.0.0.1:80 is not allowed");
        let err = perms
            .check_target(NetAccess::Listen, &target("::1", 80))
            .unwrap_err();
        assert_eq!(err.message(), "net.listen to [::1]:80 is not allowed");
    }

    #[test]
    fn a_name_grant_does_not_open_its_addresses() {
        let perms = NetPermissions::new().allow("localhost:9000").unwrap();
        let check = |host: &str, port| perms.check_target(NetAccess::Connect, &target(host, port));
        assert_eq!(check("localhost", 9000).unwrap(), Verdict::Granted);
        assert_eq!(check("LOCALHOST.", 9000).unwrap(), Verdict::Granted);
        for (host, port) in [
            ("localhost", 9001),
            ("127.0.0.1", 9000),
            ("127.0.0.1", 9001),
        ] {
            assert_eq!(
                check(host, port).unwrap_err().class(),
                ErrorClass::PermissionDenied,
                "{host}:{port}"
            );
        }
    }

    #[test]
    fn an_unlisted_name_passes_only_if_ip_grants_cover_every_address() {
        let perms = NetPermissions::new()
            .allow("127.0.0.1")
            .unwrap()
            .allow("[::1]:7")
            .unwrap();
        let t = target("localhost", 7);
        assert_eq!(
            perms.check_target(NetAccess::Connect, &t).unwrap(),
            Verdict::EachAddress
        );
        assert!(
            perms
                .check_resolved(
                    NetAccess::Connect,
                    &t,
                    Verdict::EachAddress,
                    &[sock("127.0.0.1:7"), sock("[::1]:7")]
                )
                .is_ok()
        );
        let t8 = target("localhost", 8);
        let err = perms
            .check_resolved(
                NetAccess::Connect,
                &t8,
                Verdict::EachAddress,
                &[sock("127.0.0.1:8"), sock("[::1]:8")],
            )
            .unwrap_err();
        assert_eq!(
            err.message(),
            "net.connect to localhost:8 (resolved to ::1) is not allowed"
        );
        // No IP grant for this port: denied without resolving.
        let only_v6 = NetPermissions::new().allow("[::1]:7").unwrap();
        assert!(
            only_v6
                .check_target(NetAccess::Send, &target("localhost", 8))
                .is_err()
        );
    }

    /// `0.0.0.0` and `::` reach loopback as destinations: refused for connect and send
    /// as written and as resolved, whatever the grants; listening on them still works.
    #[test]
    fn unspecified_addresses_are_no_destination() {
        for perms in [
            NetPermissions::new()
                .allow("0.0.0.0")
                .unwrap()
                .allow("[::]")
                .unwrap(),
            NetPermissions::allow_all(),
        ] {
            for host in ["0.0.0.0", "::", "[::]", "::ffff:0.0.0.0"] {
                for access in [NetAccess::Connect, NetAccess::Send] {
                    let err = perms.check_target(access, &target(host, 80)).unwrap_err();
                    assert_eq!(err.class(), ErrorClass::PermissionDenied, "{host}");
                }
                assert!(
                    perms
                        .check_target(NetAccess::Listen, &target(host, 80))
                        .is_ok()
                );
            }
            let name = target("example.org", 80);
            for verdict in [Verdict::Granted, Verdict::EachAddress] {
                let err = perms
                    .check_resolved(NetAccess::Connect, &name, verdict, &[sock("0.0.0.0:80")])
                    .unwrap_err();
                assert_eq!(
                    err.message(),
                    "net.connect to example.org:80 (resolved to 0.0.0.0) is not allowed: the \
                     unspecified address is for listening only; as a destination it reaches \
                     loopback"
                );
            }
        }
        let err = NetPermissions::new()
            .allow("[::]")
            .unwrap()
            .check_target(NetAccess::Send, &target("::", 53))
            .unwrap_err();
        assert!(
            err.message()
                .starts_with("net.send to [::]:53 is not allowed: "),
            "{err}"
        );
    }

    #[test]
    fn ipv4_mapped_addresses_are_the_ipv4_address() {
        let perms = NetPermissions::new().allow("127.0.0.1:5").unwrap();
        let t = target("::ffff:127.0.0.1", 5);
        assert_eq!(
            perms.check_target(NetAccess::Connect, &t).unwrap(),
            Verdict::Granted
        );
    }

    #[test]
    fn resolve_needs_the_name() {
        let perms = NetPermissions::new().allow("localhost:1").unwrap();
        assert!(perms.check_resolve(&target("localhost", 0)).is_ok());
        let err = perms.check_resolve(&target("example.org", 0)).unwrap_err();
        assert_eq!(err.message(), "net.resolve to example.org is not allowed");
        assert!(
            NetPermissions::allow_all()
                .check_resolve(&target("x.org", 0))
                .is_ok()
        );
    }

    #[test]
    fn unix_paths_must_be_inside_a_granted_directory() {
        let dir = std::env::temp_dir().join(format!("opkit-net-perm-{}", std::process::id()));
        let inside = dir.join("in");
        std::fs::create_dir_all(&inside).unwrap();
        let perms = NetPermissions::new().allow_unix(&inside).unwrap();
        let ok = perms
            .check_unix(NetAccess::Listen, &inside.join("a.sock"))
            .unwrap();
        assert_eq!(ok, inside.canonicalize().unwrap().join("a.sock"));
        let err = perms
            .check_unix(NetAccess::Connect, &dir.join("b.sock"))
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::PermissionDenied);
        assert!(err.message().starts_with("net.connect to '"), "{err}");
        let escape = inside.join("..").join("c.sock");
        assert!(perms.check_unix(NetAccess::Connect, &escape).is_err());
        assert!(
            NetPermissions::new()
                .allow_unix(dir.join("missing"))
                .is_err()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
