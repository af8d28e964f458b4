//! WASI preview1 error numbers, and the one place host errors become guest errnos.

use std::fmt;
use std::io;

/// A `wasi_snapshot_preview1` errno (`$errno` in the witx): what every WASI function returns.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub u16);

macro_rules! errnos {
    ($($name:ident = $value:literal, $text:literal;)*) => {
        impl Errno {
            $(
                #[doc = $text]
                pub const $name: Errno = Errno($value);
            )*

            /// The errno's name as in the witx, upper-cased (`"NOENT"`, …), or `"?"`.
            pub fn name(self) -> &'static str {
                match self.0 {
                    $($value => errnos!(@lower $name),)*
                    _ => "?",
                }
            }
        }
    };
    (@lower $name:ident) => {{
        const NAME: &str = stringify!($name);
        NAME
    }};
}

errnos! {
    SUCCESS = 0, "No error occurred.";
    TOOBIG = 1, "Argument list too long.";
    ACCES = 2, "Permission denied.";
    ADDRINUSE = 3, "Address in use.";
    ADDRNOTAVAIL = 4, "Address not available.";
    AFNOSUPPORT = 5, "Address family not supported.";
    AGAIN = 6, "Resource unavailable, or operation would block.";
    ALREADY = 7, "Connection already in progress.";
    BADF = 8, "Bad file descriptor.";
    BADMSG = 9, "Bad message.";
    BUSY = 10, "Device or resource busy.";
    CANCELED = 11, "Operation canceled.";
    CHILD = 12, "No child processes.";
    CONNABORTED = 13, "Connection aborted.";
    CONNREFUSED = 14, "Connection refused.";
    CONNRESET = 15, "Connection reset.";
    DEADLK = 16, "Resource deadlock would occur.";
    DESTADDRREQ = 17, "Destination address required.";
    DOM = 18, "Mathematics argument out of domain of function.";
    DQUOT = 19, "Reserved.";
    EXIST = 20, "File exists.";
    FAULT = 21, "Bad address.";
    FBIG = 22, "File too large.";
    HOSTUNREACH = 23, "Host is unreachable.";
    IDRM = 24, "Identifier removed.";
    ILSEQ = 25, "Illegal byte sequence.";
    INPROGRESS = 26, "Operation in progress.";
    INTR = 27, "Interrupted function.";
    INVAL = 28, "Invalid argument.";
    IO = 29, "I/O error.";
    ISCONN = 30, "Socket is connected.";
    ISDIR = 31, "Is a directory.";
    LOOP = 32, "Too many levels of symbolic links.";
    MFILE = 33, "File descriptor value too large.";
    MLINK = 34, "Too many links.";
    MSGSIZE = 35, "Message too large.";
    MULTIHOP = 36, "Reserved.";
    NAMETOOLONG = 37, "Filename too long.";
    NETDOWN = 38, "Network is down.";
    NETRESET = 39, "Connection aborted by network.";
    NETUNREACH = 40, "Network unreachable.";
    NFILE = 41, "Too many files open in system.";
    NOBUFS = 42, "No buffer space available.";
    NODEV = 43, "No such device.";
    NOENT = 44, "No such file or directory.";
    NOEXEC = 45, "Executable file format error.";
    NOLCK = 46, "No locks available.";
    NOLINK = 47, "Reserved.";
    NOMEM = 48, "Not enough space.";
    NOMSG = 49, "No message of the desired type.";
    NOPROTOOPT = 50, "Protocol not available.";
    NOSPC = 51, "No space left on device.";
    NOSYS = 52, "Function not supported.";
    NOTCONN = 53, "The socket is not connected.";
    NOTDIR = 54, "Not a directory or a symbolic link to a directory.";
    NOTEMPTY = 55, "Directory not empty.";
    NOTRECOVERABLE = 56, "State not recoverable.";
    NOTSOCK = 57, "Not a socket.";
    NOTSUP = 58, "Not supported, or operation not supported on socket.";
    NOTTY = 59, "Inappropriate I/O control operation.";
    NXIO = 60, "No such device or address.";
    OVERFLOW = 61, "Value too large to be stored in data type.";
    OWNERDEAD = 62, "Previous owner died.";
    PERM = 63, "Operation not permitted.";
    PIPE = 64, "Broken pipe.";
    PROTO = 65, "Protocol error.";
    PROTONOSUPPORT = 66, "Protocol not supported.";
    PROTOTYPE = 67, "Protocol wrong type for socket.";
    RANGE = 68, "Result too large.";
    ROFS = 69, "Read-only file system.";
    SPIPE = 70, "Invalid seek.";
    SRCH = 71, "No such process.";
    STALE = 72, "Reserved.";
    TIMEDOUT = 73, "Connection timed out.";
    TXTBSY = 74, "Text file busy.";
    XDEV = 75, "Cross-device link.";
    NOTCAPABLE = 76, "Extension: Capabilities insufficient.";
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Errno({} {})", self.0, self.name())
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "errno {} ({})", self.0, self.name())
    }
}

impl From<io::Error> for Errno {
    fn from(e: io::Error) -> Self {
        from_io_error(&e)
    }
}

impl From<Errno> for io::Error {
    fn from(e: Errno) -> Self {
        io::Error::other(e.to_string())
    }
}

impl From<std::num::TryFromIntError> for Errno {
    fn from(_: std::num::TryFromIntError) -> Self {
        Errno::OVERFLOW
    }
}

/// Maps a host I/O error to the errno the guest sees. This is the only such mapping.
///
/// The host's own errno wins when there is one. Errors without one come from `cap-std`'s
/// sandbox checks or from Rust's standard library: `cap-std` reports every attempt to leave a
/// preopened directory (an absolute path, `..` above the root, a symlink whose target lies
/// outside) as `PermissionDenied` without an OS errno, which becomes [`Errno::PERM`] — the
/// errno wasmtime's WASI reports for the same check.
pub fn from_io_error(e: &io::Error) -> Errno {
    if let Some(raw) = e.raw_os_error() {
        return from_raw_os_error(raw);
    }
    use io::ErrorKind as K;
    match e.kind() {
        K::NotFound => Errno::NOENT,
        K::PermissionDenied => Errno::PERM,
        K::AlreadyExists => Errno::EXIST,
        K::InvalidInput => Errno::INVAL,
        K::InvalidData => Errno::ILSEQ,
        K::WouldBlock => Errno::AGAIN,
        K::Interrupted => Errno::INTR,
        K::BrokenPipe => Errno::PIPE,
        K::ConnectionRefused => Errno::CONNREFUSED,
        K::ConnectionReset => Errno::CONNRESET,
        K::ConnectionAborted => Errno::CONNABORTED,
        K::NotConnected => Errno::NOTCONN,
        K::AddrInUse => Errno::ADDRINUSE,
        K::AddrNotAvailable => Errno::ADDRNOTAVAIL,
        K::TimedOut => Errno::TIMEDOUT,
        K::OutOfMemory => Errno::NOMEM,
        K::Unsupported => Errno::NOTSUP,
        K::IsADirectory => Errno::ISDIR,
        K::NotADirectory => Errno::NOTDIR,
        K::DirectoryNotEmpty => Errno::NOTEMPTY,
        K::ReadOnlyFilesystem => Errno::ROFS,
        K::NotSeekable => Errno::SPIPE,
        K::FileTooLarge => Errno::FBIG,
        K::InvalidFilename => Errno::NAMETOOLONG,
        K::CrossesDevices => Errno::XDEV,
        K::TooManyLinks => Errno::MLINK,
        K::StorageFull => Errno::NOSPC,
        _ => Errno::IO,
    }
}

/// Maps a host (Linux/Unix) errno value to the WASI one.
pub fn from_raw_os_error(raw: i32) -> Errno {
    match raw {
        0 => Errno::SUCCESS,
        libc::E2BIG => Errno::TOOBIG,
        libc::EACCES => Errno::ACCES,
        libc::EADDRINUSE => Errno::ADDRINUSE,
        libc::EADDRNOTAVAIL => Errno::ADDRNOTAVAIL,
        libc::EAFNOSUPPORT => Errno::AFNOSUPPORT,
        libc::EAGAIN => Errno::AGAIN,
        libc::EALREADY => Errno::ALREADY,
        libc::EBADF => Errno::BADF,
        libc::EBADMSG => Errno::BADMSG,
        libc::EBUSY => Errno::BUSY,
        libc::ECANCELED => Errno::CANCELED,
        libc::ECHILD => Errno::CHILD,
        libc::ECONNABORTED => Errno::CONNABORTED,
        libc::ECONNREFUSED => Errno::CONNREFUSED,
        libc::ECONNRESET => Errno::CONNRESET,
        libc::EDEADLK => Errno::DEADLK,
        libc::EDESTADDRREQ => Errno::DESTADDRREQ,
        libc::EDOM => Errno::DOM,
        libc::EDQUOT => Errno::DQUOT,
        libc::EEXIST => Errno::EXIST,
        libc::EFAULT => Errno::FAULT,
        libc::EFBIG => Errno::FBIG,
        libc::EHOSTUNREACH => Errno::HOSTUNREACH,
        libc::EIDRM => Errno::IDRM,
        libc::EILSEQ => Errno::ILSEQ,
        libc::EINPROGRESS => Errno::INPROGRESS,
        libc::EINTR => Errno::INTR,
        libc::EINVAL => Errno::INVAL,
        libc::EIO => Errno::IO,
        libc::EISCONN => Errno::ISCONN,
        libc::EISDIR => Errno::ISDIR,
        libc::ELOOP => Errno::LOOP,
        libc::EMFILE => Errno::MFILE,
        libc::EMLINK => Errno::MLINK,
        libc::EMSGSIZE => Errno::MSGSIZE,
        libc::EMULTIHOP => Errno::MULTIHOP,
        libc::ENAMETOOLONG => Errno::NAMETOOLONG,
        libc::ENETDOWN => Errno::NETDOWN,
        libc::ENETRESET => Errno::NETRESET,
        libc::ENETUNREACH => Errno::NETUNREACH,
        libc::ENFILE => Errno::NFILE,
        libc::ENOBUFS => Errno::NOBUFS,
        libc::ENODEV => Errno::NODEV,
        libc::ENOENT => Errno::NOENT,
        libc::ENOEXEC => Errno::NOEXEC,
        libc::ENOLCK => Errno::NOLCK,
        libc::ENOLINK => Errno::NOLINK,
        libc::ENOMEM => Errno::NOMEM,
        libc::ENOMSG => Errno::NOMSG,
        libc::ENOPROTOOPT => Errno::NOPROTOOPT,
        libc::ENOSPC => Errno::NOSPC,
        libc::ENOSYS => Errno::NOSYS,
        libc::ENOTCONN => Errno::NOTCONN,
        libc::ENOTDIR => Errno::NOTDIR,
        libc::ENOTEMPTY => Errno::NOTEMPTY,
        libc::ENOTRECOVERABLE => Errno::NOTRECOVERABLE,
        libc::ENOTSOCK => Errno::NOTSOCK,
        libc::ENOTSUP => Errno::NOTSUP,
        libc::ENOTTY => Errno::NOTTY,
        libc::ENXIO => Errno::NXIO,
        libc::EOVERFLOW => Errno::OVERFLOW,
        libc::EOWNERDEAD => Errno::OWNERDEAD,
        libc::EPERM => Errno::PERM,
        libc::EPIPE => Errno::PIPE,
        libc::EPROTO => Errno::PROTO,
        libc::EPROTONOSUPPORT => Errno::PROTONOSUPPORT,
        libc::EPROTOTYPE => Errno::PROTOTYPE,
        libc::ERANGE => Errno::RANGE,
        libc::EROFS => Errno::ROFS,
        libc::ESPIPE => Errno::SPIPE,
        libc::ESRCH => Errno::SRCH,
        libc::ESTALE => Errno::STALE,
        libc::ETIMEDOUT => Errno::TIMEDOUT,
        libc::ETXTBSY => Errno::TXTBSY,
        libc::EXDEV => Errno::XDEV,
        _ => Errno::IO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_mapping() {
        assert_eq!(Errno::NOENT.name(), "NOENT");
        assert_eq!(Errno(999).name(), "?");
        assert_eq!(from_raw_os_error(libc::ENOENT), Errno::NOENT);
        assert_eq!(from_raw_os_error(libc::EWOULDBLOCK), Errno::AGAIN);
        let escape = io::Error::new(io::ErrorKind::PermissionDenied, "outside");
        assert_eq!(from_io_error(&escape), Errno::PERM);
        assert_eq!(
            from_io_error(&io::Error::from_raw_os_error(libc::ELOOP)),
            Errno::LOOP
        );
    }
}
