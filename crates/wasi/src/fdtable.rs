//! The guest's file-descriptor table.
//!
//! A guest fd is a key in a [`BTreeMap`] from `u32` to an [`Entry`]; new descriptors take the
//! lowest free number (as POSIX `open` does). An entry is one of four kinds:
//!
//! * [`Entry::Stdio`] — fds 0, 1, 2 at start: a duplicate of the host's own descriptor
//!   ([`StdioKind::Host`]), an in-memory input buffer, an in-memory capture buffer, or null.
//!   Duplicating the host fd means closing the guest's stdout never closes the process's.
//! * [`Entry::File`] — a host file opened through the sandbox (a `std::fs::File`).
//! * [`Entry::Dir`] — a `cap_std::fs::Dir`: a preopen, or a directory the guest opened. All
//!   path operations go through one of these (see the crate docs on the sandbox).
//! * [`Entry::Socket`] — a host socket: a preopened one (TCP or Unix, listening or
//!   connected), the streams `sock_accept` returns, and sockets an embedder's socket API
//!   creates for the guest ([`Socket::Other`], e.g. the `wasmi-py-socket` crate's TCP/UDP
//!   sockets), so that `poll_oneoff`, `fd_read`/`fd_write`, `fd_close` and the `sock_*`
//!   calls work on all of them alike.
//!
//! What every kind has in common for `poll_oneoff` is [`Entry::readiness`]: either "always
//! ready" (regular files, directories, in-memory buffers) or a host fd to `poll(2)`. New kinds
//! (e.g. sockets the guest creates itself) only need to answer that question to be polled
//! together with everything else.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Mutex};

use crate::errno::Errno;
use crate::types::filetype;
use crate::vroot::VirtualTree;

/// One open guest descriptor.
pub enum Entry {
    /// Standard input, output or error (or whatever the guest renumbered them to).
    Stdio(Stdio),
    /// A regular file (or FIFO, device, …) opened with `path_open`.
    File(FileEntry),
    /// A directory capability.
    Dir(DirEntry),
    /// A directory of the virtual root (`/` and the directories above the preopens; see
    /// `vroot.rs`): no host directory behind it.
    Virtual(VirtualDirEntry),
    /// A host socket.
    Socket(SocketEntry),
}

/// A stdio descriptor.
pub struct Stdio {
    /// 0 for an input (stdin), 1 or 2 for an output.
    pub role: u8,
    /// What backs it.
    pub kind: StdioKind,
    /// `O_NONBLOCK` as the guest set it (emulated: the host fd's flags are never changed,
    /// because they are shared with the parent process).
    pub nonblock: bool,
}

/// What backs a stdio descriptor.
pub enum StdioKind {
    /// A duplicate of one of the host process's descriptors 0-2.
    Host {
        /// The duplicate (unbuffered: every guest write is one `write(2)`).
        file: File,
        /// Whether the host fd is a terminal.
        isatty: bool,
        /// The WASI filetype of the host fd (what `fstat` says it really is).
        filetype: u8,
    },
    /// Bytes the guest reads (then EOF).
    Input {
        /// All the input.
        data: Vec<u8>,
        /// How much the guest has read.
        pos: usize,
    },
    /// Output appended to a shared buffer.
    Capture(Arc<Mutex<Vec<u8>>>),
    /// Reads give EOF, writes are discarded.
    Null,
}

/// A file opened through the sandbox.
pub struct FileEntry {
    /// The host file; its offset is the guest's file position.
    pub file: File,
    /// The WASI filetype at open time.
    pub filetype: u8,
    /// Opened for reading.
    pub readable: bool,
    /// Opened for writing.
    pub writable: bool,
    /// The fdflags the guest sees (`APPEND`, `DSYNC`, `NONBLOCK`, `RSYNC`, `SYNC`).
    pub fdflags: u16,
    /// Opened beneath a read-only preopen: its metadata may not be changed either.
    pub read_only: bool,
}

/// A directory capability.
pub struct DirEntry {
    /// The directory: every path the guest names is resolved beneath it by `cap-std`.
    pub dir: cap_std::fs::Dir,
    /// The guest path of a preopen (what `fd_prestat_dir_name` returns); `None` for a
    /// directory opened with `path_open`.
    pub preopen: Option<String>,
    /// Whether the guest may only read beneath it (`--dir …:ro`).
    pub read_only: bool,
    /// The listing `fd_readdir` pages through; refreshed whenever it is asked for cookie 0.
    pub listing: Option<Vec<DirListEntry>>,
}

/// A directory of the virtual root.
pub struct VirtualDirEntry {
    /// The tree it is part of.
    pub tree: Arc<VirtualTree>,
    /// Its node in the tree.
    pub node: usize,
    /// `Some("/")` for the preopened root; `None` for one opened with `path_open`.
    pub preopen: Option<String>,
    /// The listing `fd_readdir` pages through.
    pub listing: Option<Vec<DirListEntry>>,
}

/// One directory entry as `fd_readdir` reports it.
#[derive(Debug, Clone)]
pub struct DirListEntry {
    /// The name (bytes, as the host has it).
    pub name: Vec<u8>,
    /// The inode number.
    pub ino: u64,
    /// The WASI filetype.
    pub filetype: u8,
}

/// A host socket.
pub struct SocketEntry {
    /// The socket.
    pub socket: Socket,
    /// Whether the guest set `NONBLOCK` (applied to the host socket, which the guest owns).
    pub nonblock: bool,
}

impl SocketEntry {
    /// The WASI filetype: `socket_dgram` or `socket_stream`.
    pub fn filetype(&self) -> u8 {
        if self.socket.is_dgram() {
            filetype::SOCKET_DGRAM
        } else {
            filetype::SOCKET_STREAM
        }
    }
}

/// The kinds of host socket a guest can hold.
pub enum Socket {
    /// A listening TCP socket (`sock_accept` gives [`Socket::TcpStream`]s).
    TcpListener(TcpListener),
    /// A connected TCP socket.
    TcpStream(TcpStream),
    /// A listening Unix-domain stream socket.
    UnixListener(UnixListener),
    /// A connected Unix-domain stream socket.
    UnixStream(UnixStream),
    /// Any other host socket, in whatever state (unbound, bound, listening, connected):
    /// what an embedder's socket API creates for the guest (TCP or UDP over IPv4/IPv6, a
    /// Unix-domain pair). Every operation goes to the host descriptor as it is.
    Other {
        /// The host descriptor (closing the guest fd closes it).
        fd: OwnedFd,
        /// A datagram socket (`socket_dgram`) rather than a stream (`socket_stream`).
        dgram: bool,
    },
}

impl Socket {
    /// The host descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Socket::TcpListener(s) => s.as_fd(),
            Socket::TcpStream(s) => s.as_fd(),
            Socket::UnixListener(s) => s.as_fd(),
            Socket::UnixStream(s) => s.as_fd(),
            Socket::Other { fd, .. } => fd.as_fd(),
        }
    }

    /// Whether this is a datagram socket.
    pub fn is_dgram(&self) -> bool {
        matches!(self, Socket::Other { dgram: true, .. })
    }

    /// Whether this socket accepts connections rather than carrying data (known only for
    /// the preopened kinds; for [`Socket::Other`] the host reports the error itself).
    pub fn is_listener(&self) -> bool {
        matches!(self, Socket::TcpListener(_) | Socket::UnixListener(_))
    }

    /// Sets the host socket's `O_NONBLOCK`.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        match self {
            Socket::TcpListener(s) => s.set_nonblocking(nonblocking),
            Socket::TcpStream(s) => s.set_nonblocking(nonblocking),
            Socket::UnixListener(s) => s.set_nonblocking(nonblocking),
            Socket::UnixStream(s) => s.set_nonblocking(nonblocking),
            Socket::Other { fd, .. } => {
                crate::host::set_status_flags(fd.as_fd(), false, nonblocking)
            }
        }
    }
}

/// How `poll_oneoff` finds out whether an entry is ready.
pub enum Readiness {
    /// Ready now, with this many bytes available (a hint) and whether at end of input.
    Ready {
        /// Bytes available (for reads) — a hint, as in the witx.
        nbytes: u64,
        /// End of input / hang-up.
        hangup: bool,
    },
    /// Ask `poll(2)` about this host descriptor.
    Host(RawFd),
}

impl Entry {
    /// The entry's WASI filetype.
    pub fn filetype(&self) -> u8 {
        match self {
            Entry::Stdio(s) => match &s.kind {
                StdioKind::Host { filetype, .. } => *filetype,
                _ => filetype::UNKNOWN,
            },
            Entry::File(f) => f.filetype,
            Entry::Dir(_) | Entry::Virtual(_) => filetype::DIRECTORY,
            Entry::Socket(s) => s.filetype(),
        }
    }

    /// Readiness for reading (`read == true`) or writing.
    pub fn readiness(&self, read: bool) -> Result<Readiness, Errno> {
        match self {
            Entry::Stdio(s) => match &s.kind {
                StdioKind::Host { file, filetype, .. } => {
                    if *filetype == filetype::REGULAR_FILE {
                        Ok(Readiness::Ready {
                            nbytes: 0,
                            hangup: false,
                        })
                    } else {
                        Ok(Readiness::Host(file.as_raw_fd()))
                    }
                }
                StdioKind::Input { data, pos } => {
                    let left = data.len().saturating_sub(*pos) as u64;
                    Ok(Readiness::Ready {
                        nbytes: if read { left } else { 0 },
                        hangup: read && left == 0,
                    })
                }
                StdioKind::Capture(_) | StdioKind::Null => Ok(Readiness::Ready {
                    nbytes: 0,
                    hangup: false,
                }),
            },
            Entry::File(f) => {
                if f.filetype == filetype::REGULAR_FILE || f.filetype == filetype::BLOCK_DEVICE {
                    let nbytes = if read {
                        let size = f.file.metadata().map(|m| m.len()).unwrap_or(0);
                        let pos = crate::host::tell(&f.file).unwrap_or(0);
                        size.saturating_sub(pos)
                    } else {
                        0
                    };
                    Ok(Readiness::Ready {
                        nbytes,
                        hangup: false,
                    })
                } else {
                    Ok(Readiness::Host(f.file.as_raw_fd()))
                }
            }
            Entry::Dir(_) | Entry::Virtual(_) => Err(Errno::BADF),
            Entry::Socket(s) => Ok(Readiness::Host(s.socket.fd().as_raw_fd())),
        }
    }
}

/// The WASI filetype of a host file type: one mapping for std's and cap-std's `FileType`,
/// which have the same accessors from two different traits (in scope at each use).
macro_rules! wasi_filetype {
    ($ft:expr) => {{
        let ft = $ft;
        if ft.is_file() {
            $crate::types::filetype::REGULAR_FILE
        } else if ft.is_dir() {
            $crate::types::filetype::DIRECTORY
        } else if ft.is_symlink() {
            $crate::types::filetype::SYMBOLIC_LINK
        } else if ft.is_char_device() {
            $crate::types::filetype::CHARACTER_DEVICE
        } else if ft.is_block_device() {
            $crate::types::filetype::BLOCK_DEVICE
        } else if ft.is_socket() {
            $crate::types::filetype::SOCKET_STREAM
        } else {
            // FIFOs: preview1 has no pipe type; wasmtime reports them as unknown too.
            $crate::types::filetype::UNKNOWN
        }
    }};
}
pub(crate) use wasi_filetype;

/// The WASI filetype of a host file type.
pub fn filetype_of(ft: std::fs::FileType) -> u8 {
    wasi_filetype!(ft)
}

/// The table: guest fd → entry.
#[derive(Default)]
pub struct FdTable {
    entries: BTreeMap<u32, Entry>,
    /// Rights the guest dropped with `fd_fdstat_set_rights` (base, inheriting): reported by
    /// `fd_fdstat_get` from then on.
    rights: BTreeMap<u32, (u64, u64)>,
}

impl FdTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts `entry` at the lowest free descriptor number.
    pub fn push(&mut self, entry: Entry) -> Result<u32, Errno> {
        let mut fd = 0u32;
        for &used in self.entries.keys() {
            if used != fd {
                break;
            }
            fd = fd.checked_add(1).ok_or(Errno::MFILE)?;
        }
        self.entries.insert(fd, entry);
        Ok(fd)
    }

    /// Moves the entry of `from` to `to`, closing what `to` was. Both must be open.
    pub fn renumber(&mut self, from: u32, to: u32) -> Result<(), Errno> {
        if !self.entries.contains_key(&from) || !self.entries.contains_key(&to) {
            return Err(Errno::BADF);
        }
        if from != to {
            let entry = self.remove(from)?;
            let rights = self.rights.remove(&from);
            self.entries.insert(to, entry);
            match rights {
                Some(r) => self.rights.insert(to, r),
                None => self.rights.remove(&to),
            };
        }
        Ok(())
    }

    /// The rights of `fd` after any reduction by the guest.
    pub fn rights_limit(&self, fd: u32) -> Option<(u64, u64)> {
        self.rights.get(&fd).copied()
    }

    /// Records the rights the guest reduced `fd` to.
    pub fn set_rights_limit(&mut self, fd: u32, base: u64, inheriting: u64) {
        self.rights.insert(fd, (base, inheriting));
    }

    /// The entry of `fd`, or [`Errno::BADF`].
    pub fn get(&self, fd: u32) -> Result<&Entry, Errno> {
        self.entries.get(&fd).ok_or(Errno::BADF)
    }

    /// The entry of `fd`, mutably, or [`Errno::BADF`].
    pub fn get_mut(&mut self, fd: u32) -> Result<&mut Entry, Errno> {
        self.entries.get_mut(&fd).ok_or(Errno::BADF)
    }

    /// Removes and returns the entry of `fd`, or [`Errno::BADF`].
    pub fn remove(&mut self, fd: u32) -> Result<Entry, Errno> {
        self.rights.remove(&fd);
        self.entries.remove(&fd).ok_or(Errno::BADF)
    }

    /// Whether `fd` is open.
    pub fn contains(&self, fd: u32) -> bool {
        self.entries.contains_key(&fd)
    }

    /// The directory of `fd`: [`Errno::NOTDIR`] for another kind of open fd, [`Errno::BADF`]
    /// if `fd` is not open.
    pub fn dir(&self, fd: u32) -> Result<&DirEntry, Errno> {
        match self.get(fd)? {
            Entry::Dir(d) => Ok(d),
            _ => Err(Errno::NOTDIR),
        }
    }

    /// The directory of `fd`, mutably (errors as [`FdTable::dir`]).
    pub fn dir_mut(&mut self, fd: u32) -> Result<&mut DirEntry, Errno> {
        match self.get_mut(fd)? {
            Entry::Dir(d) => Ok(d),
            _ => Err(Errno::NOTDIR),
        }
    }

    /// Number of open descriptors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no descriptor is open.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
