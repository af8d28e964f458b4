//! # wasmi-py-wasi
//!
//! WASI preview1 (`wasi_snapshot_preview1`) for the wasmi-py interpreter: all 46 functions,
//! with the exact signatures and errno values of the preview1 witx, over a host file
//! system the guest can only see through the directories it was given.
//!
//! ```no_run
//! use wasmi_py_core::{Engine, Linker, Module, Store};
//! use wasmi_py_wasi::{add_to_linker, WasiCtx};
//!
//! let engine = Engine::default();
//! let module = Module::new(&engine, &std::fs::read("python.wasm").unwrap()).unwrap();
//! let ctx = WasiCtx::builder()
//!     .arg("python.wasm").arg("-c").arg("print(42)")
//!     .preopen_dir("/srv/data", "/data", true) // read-only
//!     .inherit_stdio()
//!     .build()
//!     .unwrap();
//! let mut store = Store::new(&engine, ctx);
//! let mut linker = Linker::new();
//! add_to_linker(&mut linker, &mut store, |ctx| ctx);
//! let instance = linker.instantiate(&mut store, &module).unwrap();
//! let start = instance.get_func(&store, "_start").unwrap();
//! match start.call(&mut store, &[]) {
//!     Ok(_) => println!("exit status 0"),
//!     Err(trap) => match trap.exit_status() {
//!         Some(status) => println!("exit status {status}"), // proc_exit
//!         None => eprintln!("Error: {trap}"),              // a real trap
//!     },
//! }
//! ```
//!
//! ## The descriptor table
//!
//! [`FdTable`] maps guest descriptor numbers to [`Entry`]s; a new descriptor gets the lowest
//! free number. At start fds 0, 1, 2 are stdio — each a *duplicate* of the host's
//! descriptor ([`StdioKind::Host`], so the guest closing its stdout never closes ours), an
//! in-memory input ([`StdinSpec::Bytes`]), an in-memory capture buffer
//! ([`OutputSpec::Capture`]) or nothing — then one descriptor per preopened directory in the
//! order given (3, 4, …), then preopened sockets. Kinds:
//!
//! | kind | what it holds | `fd_fdstat_get` filetype |
//! |---|---|---|
//! | stdio | host fd duplicate / buffer | `character_device` for a terminal, else what the host fd really is (a pipe is `unknown`, as preview1 has no pipe type — wasmtime does the same) |
//! | file | `std::fs::File` (the OS offset is the guest's offset) | from `fstat` |
//! | dir | `cap_std::fs::Dir`, guest name if preopened, read-only flag | `directory` |
//! | socket | TCP/Unix listener or stream, or any other host socket an embedder created ([`Socket::Other`], e.g. through `wasmi-py-socket`) | `socket_stream`, or `socket_dgram` for a datagram [`Socket::Other`] |
//!
//! A terminal is reported without the `fd_seek`/`fd_tell` rights and every other stdio
//! with them, because wasi-libc's `isatty()` is "character device without seek/tell"
//! (so `/dev/null` on stdin does not make CPython interactive). Writes are never buffered
//! by the host: each `fd_write` is one `writev(2)`, so nothing is lost when the guest exits
//! or traps. `poll_oneoff` asks each entry for its readiness ([`Readiness`]): regular files
//! and in-memory stdio are always ready, everything else is a host fd given to one
//! `poll(2)` together with the earliest clock deadline — a new descriptor kind only has to
//! answer that question to be polled with the others.
//!
//! ## The sandbox
//!
//! The guest names files only by (directory descriptor, relative path). Every path
//! operation is done by [`cap_std`] relative to the directory's `cap_std::fs::Dir` (what
//! wasmtime's WASI does), which resolves the path one component at a time beneath that
//! directory (on Linux with `openat2(RESOLVE_BENEATH)` where available) and refuses any
//! resolution that would leave it:
//!
//! * absolute paths, `..` above the directory, and symlinks (pre-existing or created by
//!   the guest with `path_symlink`) whose target lies outside all fail with **`EPERM`**
//!   (cap-std's "a path led outside of the filesystem", mapped like wasmtime maps it);
//! * a directory the guest opens becomes its own root: `..` from it fails even when the
//!   parent is inside the preopen;
//! * `path_symlink` refuses absolute targets (`EPERM`) — relative targets may name anything,
//!   but following them is checked as above; `path_readlink` refuses to return absolute
//!   targets (`EPERM`), so host paths do not leak;
//! * renames and hard links work only between directory descriptors the guest holds, so
//!   the destination is inside the sandbox by construction;
//! * paths are checked to be in guest memory (`EFAULT`), UTF-8 (`EILSEQ`) and free of NUL
//!   bytes (`EINVAL`); symlink loops give `ELOOP`, over-long paths `ENAMETOOLONG`.
//!
//! **Read-only preopens** ([`WasiCtxBuilder::preopen_dir`] with `read_only`, `--dir
//! HOST::GUEST:ro` on the command line): everything that would create, change or remove
//! anything beneath them — `path_open` asking for `FD_WRITE` or with `CREAT`/`TRUNC`/`APPEND`,
//! `path_create_directory`, `path_remove_directory`, `path_unlink_file`, `path_rename`
//! and `path_link` (either side), `path_symlink`, `path_filestat_set_times`,
//! `fd_filestat_set_times` — fails with **`EPERM`**, the errno wasmtime uses for its
//! read-only directory permissions. Directories opened beneath a read-only preopen are
//! read-only too.
//!
//! ## Errors
//!
//! Host errors become errnos in exactly one function, [`errno::from_io_error`]. Guest
//! pointers and lengths are all bounds-checked ([`GuestMemory`]); a bad one is `EFAULT`,
//! never a panic or a trap. `proc_exit` ends the run with [`wasmi_py_core::Trap::exit`]
//! (read it back with `trap.exit_status()`).

mod ctx;
pub mod errno;
mod fdtable;
mod host;
mod linker;
mod mem;
mod poll;
mod preview1;
pub mod types;
pub mod vroot;

pub use ctx::{OutputSpec, PreopenSocket, StdinSpec, WasiCtx, WasiCtxBuilder};
pub use errno::Errno;
pub use fdtable::{
    DirEntry, DirListEntry, Entry, FdTable, FileEntry, Readiness, Socket, SocketEntry, Stdio,
    StdioKind, VirtualDirEntry,
};
pub use linker::{add_to_linker, MODULE, SIGNATURES};
pub use mem::{GuestMemory, IoVec};
pub use preview1::WasiResult;
pub use vroot::VirtualTree;
