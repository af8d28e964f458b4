//! The per-instance WASI state ([`WasiCtx`]) and its builder.

use std::fs::File;
use std::io::{self, IsTerminal};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cap_std::ambient_authority;

use crate::fdtable::{
    filetype_of, DirEntry, Entry, FdTable, Socket, SocketEntry, Stdio, StdioKind, VirtualDirEntry,
};
use crate::types::filetype;
use crate::vroot::VirtualTree;

/// Where the guest's standard input comes from.
#[derive(Debug, Clone, Default)]
pub enum StdinSpec {
    /// The host process's standard input.
    Inherit,
    /// These bytes, then end of file.
    Bytes(Vec<u8>),
    /// Immediately end of file.
    #[default]
    Null,
}

/// Where the guest's standard output or error goes.
#[derive(Debug, Clone, Default)]
pub enum OutputSpec {
    /// The host process's own descriptor (every guest write is one host `write`).
    Inherit,
    /// Appended to this buffer (for tests and embedders).
    Capture(Arc<Mutex<Vec<u8>>>),
    /// Discarded.
    #[default]
    Null,
}

/// A host socket handed to the guest as a preopened descriptor.
#[derive(Debug)]
pub enum PreopenSocket {
    /// A listening TCP socket: the guest `sock_accept`s on it.
    TcpListener(TcpListener),
    /// A connected TCP socket.
    TcpStream(TcpStream),
    /// A listening Unix-domain socket.
    UnixListener(UnixListener),
    /// A connected Unix-domain socket.
    UnixStream(UnixStream),
}

#[derive(Debug)]
struct PreopenDir {
    host: PathBuf,
    guest: String,
    read_only: bool,
}

/// Builds a [`WasiCtx`]. Nothing is inherited from the host unless asked for: no arguments,
/// no environment, no directories, stdio connected to nothing.
///
/// ```no_run
/// use wasmi_py_wasi::{WasiCtx, StdinSpec, OutputSpec};
/// let ctx = WasiCtx::builder()
///     .arg("python.wasm").arg("-c").arg("print(1)")
///     .env("PYTHONHASHSEED", "0")
///     .preopen_dir("/tmp/work", "/work", false)
///     .inherit_stdio()
///     .build()
///     .expect("preopens exist");
/// ```
#[derive(Debug, Default)]
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    dirs: Vec<PreopenDir>,
    sockets: Vec<PreopenSocket>,
    stdin: StdinSpec,
    stdout: OutputSpec,
    stderr: OutputSpec,
    virtual_root: bool,
}

impl WasiCtxBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one argument (`argv[0]` first).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds (or replaces) an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
        self
    }

    /// Adds every environment variable of the host process (those that are valid UTF-8).
    pub fn inherit_env(mut self) -> Self {
        for (k, v) in std::env::vars_os() {
            if let (Ok(k), Ok(v)) = (k.into_string(), v.into_string()) {
                self = self.env(k, v);
            }
        }
        self
    }

    /// Gives the guest the host directory `host` under the guest path `guest`. With
    /// `read_only`, the guest may read beneath it but every operation that would create,
    /// change or remove anything fails with `EPERM`.
    pub fn preopen_dir(
        mut self,
        host: impl Into<PathBuf>,
        guest: impl Into<String>,
        read_only: bool,
    ) -> Self {
        self.dirs.push(PreopenDir {
            host: host.into(),
            guest: guest.into(),
            read_only,
        });
        self
    }

    /// Also preopens `/` (after the other directories): a read-only directory tree of no
    /// host directory, holding the guest paths of the other preopens and their ancestors,
    /// so that `/`, `/home` above a preopened `/home/u` and the like exist and can be
    /// listed (see `vroot.rs`). Nothing if a directory is already preopened at `/`.
    pub fn virtual_root(mut self, enable: bool) -> Self {
        self.virtual_root = enable;
        self
    }

    /// Gives the guest a host socket as a preopened descriptor (after the directories).
    pub fn preopen_socket(mut self, socket: PreopenSocket) -> Self {
        self.sockets.push(socket);
        self
    }

    /// Sets standard input.
    pub fn stdin(mut self, spec: StdinSpec) -> Self {
        self.stdin = spec;
        self
    }

    /// Sets standard output.
    pub fn stdout(mut self, spec: OutputSpec) -> Self {
        self.stdout = spec;
        self
    }

    /// Sets standard error.
    pub fn stderr(mut self, spec: OutputSpec) -> Self {
        self.stderr = spec;
        self
    }

    /// Connects all three stdio descriptors to the host process's.
    pub fn inherit_stdio(self) -> Self {
        self.stdin(StdinSpec::Inherit)
            .stdout(OutputSpec::Inherit)
            .stderr(OutputSpec::Inherit)
    }

    /// Opens the preopened directories and duplicates the inherited stdio descriptors.
    /// Fails if a directory cannot be opened, or an argument or environment variable
    /// contains a NUL byte (it could not be passed as a C string).
    pub fn build(self) -> io::Result<WasiCtx> {
        let invalid = |what: &str, s: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{what} contains a NUL byte: {s:?}"),
            )
        };
        for a in &self.args {
            if a.contains('\0') {
                return Err(invalid("argument", a));
            }
        }
        let mut env = Vec::with_capacity(self.env.len());
        for (k, v) in &self.env {
            if k.contains('\0') || k.contains('=') || v.contains('\0') {
                return Err(invalid("environment variable", k));
            }
            env.push(format!("{k}={v}").into_bytes());
        }

        let mut table = FdTable::new();
        table.push(Entry::Stdio(input(self.stdin)?))?;
        table.push(Entry::Stdio(output(self.stdout, 1)?))?;
        table.push(Entry::Stdio(output(self.stderr, 2)?))?;
        let virtual_root = (self.virtual_root && !self.dirs.iter().any(|d| d.guest == "/"))
            .then(|| Arc::new(VirtualTree::new(self.dirs.iter().map(|d| d.guest.as_str()))));
        for d in self.dirs {
            let dir =
                cap_std::fs::Dir::open_ambient_dir(&d.host, ambient_authority()).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot open directory {}: {e}", d.host.display()),
                    )
                })?;
            table.push(Entry::Dir(DirEntry {
                dir,
                preopen: Some(d.guest),
                read_only: d.read_only,
                listing: None,
            }))?;
        }
        if let Some(tree) = virtual_root {
            table.push(Entry::Virtual(VirtualDirEntry {
                tree,
                node: VirtualTree::ROOT,
                preopen: Some("/".to_owned()),
                listing: None,
            }))?;
        }
        for s in self.sockets {
            let socket = match s {
                PreopenSocket::TcpListener(s) => Socket::TcpListener(s),
                PreopenSocket::TcpStream(s) => Socket::TcpStream(s),
                PreopenSocket::UnixListener(s) => Socket::UnixListener(s),
                PreopenSocket::UnixStream(s) => Socket::UnixStream(s),
            };
            // The guest decides about blocking; start blocking like a fresh socket.
            socket.set_nonblocking(false)?;
            table.push(Entry::Socket(SocketEntry {
                socket,
                nonblock: false,
            }))?;
        }
        Ok(WasiCtx {
            args: self.args.into_iter().map(String::into_bytes).collect(),
            env,
            table,
        })
    }
}

fn host_stdio(file: File, role: u8) -> io::Result<Stdio> {
    let isatty = file.is_terminal();
    let filetype = if isatty {
        filetype::CHARACTER_DEVICE
    } else {
        file.metadata()
            .map(|m| filetype_of(m.file_type()))
            .unwrap_or(filetype::UNKNOWN)
    };
    Ok(Stdio {
        role,
        kind: StdioKind::Host {
            file,
            isatty,
            filetype,
        },
        nonblock: false,
    })
}

fn input(spec: StdinSpec) -> io::Result<Stdio> {
    match spec {
        // A process started with fd 0 closed gets an empty stdin.
        StdinSpec::Inherit => match io::stdin().as_fd().try_clone_to_owned() {
            Ok(fd) => host_stdio(File::from(fd), 0),
            Err(_) => input(StdinSpec::Null),
        },
        StdinSpec::Bytes(data) => Ok(Stdio {
            role: 0,
            kind: StdioKind::Input { data, pos: 0 },
            nonblock: false,
        }),
        StdinSpec::Null => Ok(Stdio {
            role: 0,
            kind: StdioKind::Null,
            nonblock: false,
        }),
    }
}

fn output(spec: OutputSpec, role: u8) -> io::Result<Stdio> {
    match spec {
        OutputSpec::Inherit => {
            let owned = if role == 1 {
                io::stdout().as_fd().try_clone_to_owned()
            } else {
                io::stderr().as_fd().try_clone_to_owned()
            };
            match owned {
                Ok(fd) => host_stdio(File::from(fd), role),
                // A process started with this fd closed: discard the guest's output.
                Err(_) => output(OutputSpec::Null, role),
            }
        }
        OutputSpec::Capture(buf) => Ok(Stdio {
            role,
            kind: StdioKind::Capture(buf),
            nonblock: false,
        }),
        OutputSpec::Null => Ok(Stdio {
            role,
            kind: StdioKind::Null,
            nonblock: false,
        }),
    }
}

/// The WASI state of one guest: arguments, environment and the descriptor table.
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) table: FdTable,
}

impl WasiCtx {
    /// A builder.
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }

    /// The descriptor table (for embedders that add their own descriptor kinds' entries).
    pub fn table(&mut self) -> &mut FdTable {
        &mut self.table
    }
}
