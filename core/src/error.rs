//! `OpError`: the one error type every op call ends in.

use std::borrow::Cow;
use std::fmt;
use std::io;

/// The class of an [`OpError`], the part a guest matches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// A file, entry or name that does not exist.
    NotFound,
    /// Refused by the op's permissions or by the OS.
    PermissionDenied,
    /// The target exists already.
    AlreadyExists,
    /// Data or input the op cannot use.
    InvalidData,
    /// The arguments do not fit the op: wrong type, count or name.
    TypeError,
    /// A rid that is not open, or of another type.
    BadResource,
    /// The resource is in use by another pending op.
    Busy,
    /// The op was cancelled, e.g. its resource was closed.
    Interrupted,
    /// The op ran out of time.
    TimedOut,
    /// The peer refused the connection.
    ConnectionRefused,
    /// The peer reset or aborted the connection.
    ConnectionReset,
    /// The address is taken.
    AddrInUse,
    /// The address cannot be used here.
    AddrNotAvailable,
    /// Writing to a closed connection or pipe.
    BrokenPipe,
    /// The socket is not connected.
    NotConnected,
    /// A file was expected, a directory was found.
    IsADirectory,
    /// A directory was expected.
    NotADirectory,
    /// The data ended early.
    UnexpectedEof,
    /// The operation would block.
    WouldBlock,
    /// The process or the system ran out of a resource the op needs: file
    /// descriptors (`EMFILE`, `ENFILE`).
    ResourceExhausted,
    /// Anything else.
    Generic,
    /// The op's body panicked; the runtime kept serving.
    Panic,
}

impl ErrorClass {
    /// Every class, in declaration order.
    pub const ALL: [ErrorClass; 22] = [
        Self::NotFound,
        Self::PermissionDenied,
        Self::AlreadyExists,
        Self::InvalidData,
        Self::TypeError,
        Self::BadResource,
        Self::Busy,
        Self::Interrupted,
        Self::TimedOut,
        Self::ConnectionRefused,
        Self::ConnectionReset,
        Self::AddrInUse,
        Self::AddrNotAvailable,
        Self::BrokenPipe,
        Self::NotConnected,
        Self::IsADirectory,
        Self::NotADirectory,
        Self::UnexpectedEof,
        Self::WouldBlock,
        Self::ResourceExhausted,
        Self::Generic,
        Self::Panic,
    ];

    /// The class name as a guest sees it, e.g. `"NotFound"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "NotFound",
            Self::PermissionDenied => "PermissionDenied",
            Self::AlreadyExists => "AlreadyExists",
            Self::InvalidData => "InvalidData",
            Self::TypeError => "TypeError",
            Self::BadResource => "BadResource",
            Self::Busy => "Busy",
            Self::Interrupted => "Interrupted",
            Self::TimedOut => "TimedOut",
            Self::ConnectionRefused => "ConnectionRefused",
            Self::ConnectionReset => "ConnectionReset",
            Self::AddrInUse => "AddrInUse",
            Self::AddrNotAvailable => "AddrNotAvailable",
            Self::BrokenPipe => "BrokenPipe",
            Self::NotConnected => "NotConnected",
            Self::IsADirectory => "IsADirectory",
            Self::NotADirectory => "NotADirectory",
            Self::UnexpectedEof => "UnexpectedEof",
            Self::WouldBlock => "WouldBlock",
            Self::ResourceExhausted => "ResourceExhausted",
            Self::Generic => "Generic",
            Self::Panic => "Panic",
        }
    }

    fn from_io_kind(kind: io::ErrorKind) -> Self {
        use io::ErrorKind as K;
        match kind {
            K::NotFound => Self::NotFound,
            K::PermissionDenied => Self::PermissionDenied,
            K::AlreadyExists => Self::AlreadyExists,
            K::InvalidData | K::InvalidInput => Self::InvalidData,
            K::Interrupted => Self::Interrupted,
            K::TimedOut => Self::TimedOut,
            K::ConnectionRefused => Self::ConnectionRefused,
            K::ConnectionReset | K::ConnectionAborted => Self::ConnectionReset,
            K::AddrInUse => Self::AddrInUse,
            K::AddrNotAvailable => Self::AddrNotAvailable,
            K::BrokenPipe => Self::BrokenPipe,
            K::NotConnected => Self::NotConnected,
            K::IsADirectory => Self::IsADirectory,
            K::NotADirectory => Self::NotADirectory,
            K::UnexpectedEof => Self::UnexpectedEof,
            K::WouldBlock => Self::WouldBlock,
            K::ResourceBusy => Self::Busy,
            _ => Self::Generic,
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An op's failure: a class, a message, an optional code (an errno name such as
/// `"ENOENT"`) and the op it came from.
///
/// ```
/// use opkit::{ErrorClass, OpError};
/// let err = OpError::not_found("no such thing").with_op("op_find");
/// assert_eq!(err.class(), ErrorClass::NotFound);
/// assert_eq!(err.to_string(), "NotFound: op_find: no such thing");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpError {
    class: ErrorClass,
    message: Cow<'static, str>,
    code: Option<&'static str>,
    op: Option<&'static str>,
}

impl OpError {
    /// An error of any class.
    pub fn new(class: ErrorClass, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            class,
            message: message.into(),
            code: None,
            op: None,
        }
    }

    /// A `TypeError`: the arguments do not fit the op.
    pub fn type_error(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorClass::TypeError, message)
    }

    /// A `BadResource`: a rid that is not in the table or is of another type.
    pub fn bad_resource(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorClass::BadResource, message)
    }

    /// A `NotFound`.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorClass::NotFound, message)
    }

    /// A `PermissionDenied`.
    pub fn permission_denied(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorClass::PermissionDenied, message)
    }

    /// A `Generic` error.
    pub fn generic(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorClass::Generic, message)
    }

    /// Sets the code, e.g. an errno name.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// Names the op the error came from, unless one is named already.
    pub fn with_op(mut self, op: &'static str) -> Self {
        self.op.get_or_insert(op);
        self
    }

    /// Prefixes the message with some context, e.g. the path an fs op worked on.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message).into();
        self
    }

    /// The class a guest matches on.
    pub fn class(&self) -> ErrorClass {
        self.class
    }

    /// The message, without class or op.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The code, e.g. `"ENOENT"` for an `io::Error`.
    pub fn code(&self) -> Option<&'static str> {
        self.code
    }

    /// The op the error came from.
    pub fn op(&self) -> Option<&'static str> {
        self.op
    }
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            Some(op) => write!(f, "{}: {op}: {}", self.class, self.message),
            None => write!(f, "{}: {}", self.class, self.message),
        }
    }
}

impl std::error::Error for OpError {}

impl From<io::Error> for OpError {
    fn from(err: io::Error) -> Self {
        let code = err.raw_os_error().and_then(errno_name);
        let class = match err.raw_os_error() {
            // Kinds that std reports as `Other`/`Uncategorized` but a guest wants typed.
            Some(libc::ELOOP) => ErrorClass::InvalidData,
            Some(libc::EBADF) => ErrorClass::BadResource,
            Some(libc::EBUSY) => ErrorClass::Busy,
            Some(libc::EMFILE | libc::ENFILE) => ErrorClass::ResourceExhausted,
            _ => ErrorClass::from_io_kind(err.kind()),
        };
        Self {
            class,
            message: err.to_string().into(),
            code,
            op: None,
        }
    }
}

impl From<serde_json::Error> for OpError {
    fn from(err: serde_json::Error) -> Self {
        Self::new(ErrorClass::InvalidData, err.to_string())
    }
}

/// The symbolic name of an errno value, for the errors a host is likely to see.
pub fn errno_name(errno: i32) -> Option<&'static str> {
    use libc::*;
    Some(match errno {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        ESRCH => "ESRCH",
        EINTR => "EINTR",
        EIO => "EIO",
        ENXIO => "ENXIO",
        E2BIG => "E2BIG",
        EBADF => "EBADF",
        EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EFAULT => "EFAULT",
        EBUSY => "EBUSY",
        EEXIST => "EEXIST",
        EXDEV => "EXDEV",
        ENODEV => "ENODEV",
        ENOTDIR => "ENOTDIR",
        EISDIR => "EISDIR",
        EINVAL => "EINVAL",
        ENFILE => "ENFILE",
        EMFILE => "EMFILE",
        ETXTBSY => "ETXTBSY",
        EFBIG => "EFBIG",
        ENOSPC => "ENOSPC",
        ESPIPE => "ESPIPE",
        EROFS => "EROFS",
        EMLINK => "EMLINK",
        EPIPE => "EPIPE",
        ENAMETOOLONG => "ENAMETOOLONG",
        ENOSYS => "ENOSYS",
        ENOTEMPTY => "ENOTEMPTY",
        ELOOP => "ELOOP",
        ENOTSOCK => "ENOTSOCK",
        EADDRINUSE => "EADDRINUSE",
        EADDRNOTAVAIL => "EADDRNOTAVAIL",
        ENETUNREACH => "ENETUNREACH",
        ECONNABORTED => "ECONNABORTED",
        ECONNRESET => "ECONNRESET",
        EISCONN => "EISCONN",
        ENOTCONN => "ENOTCONN",
        ETIMEDOUT => "ETIMEDOUT",
        ECONNREFUSED => "ECONNREFUSED",
        EHOSTUNREACH => "EHOSTUNREACH",
        EALREADY => "EALREADY",
        EINPROGRESS => "EINPROGRESS",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_keep_kind_and_errno_name() {
        let err = OpError::from(io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(err.class(), ErrorClass::NotFound);
        assert_eq!(err.code(), Some("ENOENT"));
        let err = OpError::from(io::Error::from_raw_os_error(libc::EADDRINUSE));
        assert_eq!(err.class(), ErrorClass::AddrInUse);
        let err = OpError::from(io::Error::from_raw_os_error(libc::EISDIR));
        assert_eq!(err.class(), ErrorClass::IsADirectory);
        for (errno, name) in [(libc::EMFILE, "EMFILE"), (libc::ENFILE, "ENFILE")] {
            let err = OpError::from(io::Error::from_raw_os_error(errno));
            assert_eq!(
                (err.class(), err.code()),
                (ErrorClass::ResourceExhausted, Some(name))
            );
        }
        let err = OpError::from(io::Error::other("x"));
        assert_eq!((err.class(), err.code()), (ErrorClass::Generic, None));
    }

    #[test]
    fn display_names_class_op_and_message() {
        let err = OpError::type_error("bad").with_op("op_a").with_op("op_b");
        assert_eq!(err.to_string(), "TypeError: op_a: bad");
        assert_eq!(
            OpError::generic("x").context("'p'").to_string(),
            "Generic: 'p': x"
        );
    }
}
