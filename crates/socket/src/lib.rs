//! # wasmi-py-socket
//!
//! The `wasmi_py_socket` host module (specified in `docs/socket-abi.md`): real OS sockets
//! for a guest — TCP and UDP over IPv4 and IPv6, the host's resolver, local socket pairs —
//! behind a network capability ([`NetPolicy`]).
//!
//! Sockets live in the guest's WASI fd table ([`wasmi_py_wasi::Socket::Other`] entries),
//! so `poll_oneoff` waits on them together with files, pipes and clocks, and `fd_close`,
//! `fd_read`/`fd_write`, `fd_fdstat_get`/`fd_fdstat_set_flags(NONBLOCK)` and the preview1
//! `sock_*` calls work on them. Conversely the functions here work on every socket in the
//! table, including preopened ones.
//!
//! ```no_run
//! use wasmi_py_core::{Engine, Linker, Module, Store};
//! use wasmi_py_socket::{NetPolicy, SocketCtx};
//! use wasmi_py_wasi::WasiCtx;
//!
//! struct Host { wasi: WasiCtx, net: SocketCtx }
//! let engine = Engine::default();
//! let module = Module::new(&engine, &std::fs::read("python.wasm").unwrap()).unwrap();
//! let wasi = WasiCtx::builder().inherit_stdio().build().unwrap();
//! let mut store = Store::new(&engine, Host { wasi, net: SocketCtx::new(NetPolicy::All) });
//! let mut linker = Linker::new();
//! wasmi_py_wasi::add_to_linker(&mut linker, &mut store, |h: &mut Host| &mut h.wasi);
//! wasmi_py_socket::add_to_linker(&mut linker, &mut store, |h: &mut Host| (&mut h.wasi, &mut h.net));
//! ```
//!
//! ## The capability
//!
//! By default ([`NetPolicy::Deny`]) the guest has no network: sockets can be created and
//! local socket pairs work, but `connect`, `bind`, `listen`, `sendto`, lookups of names
//! other than numeric addresses and `localhost`, and reverse lookups of non-loopback
//! addresses fail with `NOTCAPABLE` (resolver calls with status `EAI_DENIED`).
//! [`NetPolicy::All`] allows everything, [`NetPolicy::Allow`] a list of `HOST[:PORT]`
//! (see [`policy`]).
//!
//! ## Safety of guest input
//!
//! Every pointer and length is checked against the caller's memory before the host does
//! anything (`FAULT`, or `EAI_SYSTEM` for the resolver calls); nothing here panics or traps.

mod abi;
mod ops;
pub mod policy;
mod sys;

use wasmi_py_core::{Caller, FuncType, Linker, Store, Val, ValType};
use wasmi_py_wasi::{Errno, GuestMemory, WasiCtx};

pub use abi::{decode_sockaddr, encode_sockaddr, Eai, SOCKADDR_SIZE};
pub use policy::{AllowEntry, AllowHost, NetPolicy};

use ops::Cx;
use policy::Checker;

/// The import module name.
pub const MODULE: &str = "wasmi_py_socket";

/// The ABI version this host implements (`ABI_VERSION` in `docs/socket-abi.md`).
pub const ABI_VERSION: u32 = 1;

/// The socket state of one guest: its network policy (and what allow-listed names resolved
/// to). The sockets themselves are in the guest's [`WasiCtx`] fd table.
#[derive(Debug, Default)]
pub struct SocketCtx {
    checker: Checker,
}

impl SocketCtx {
    /// A context with `policy`.
    pub fn new(policy: NetPolicy) -> Self {
        Self {
            checker: Checker::new(policy),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &NetPolicy {
        self.checker.policy()
    }
}

/// What a function returns to the guest.
trait Status {
    fn code(self) -> i32;
}

impl Status for Result<(), Errno> {
    fn code(self) -> i32 {
        match self {
            Ok(()) => 0,
            Err(e) => i32::from(e.0),
        }
    }
}

impl Status for Eai {
    fn code(self) -> i32 {
        self.0
    }
}

/// Runs `f` with the caller's exported `memory` (an empty one if it has none, so every
/// pointer faults), the WASI context and the socket context.
fn with_ctx<T, R>(
    caller: &mut Caller<'_, T>,
    get: fn(&mut T) -> (&mut WasiCtx, &mut SocketCtx),
    f: impl FnOnce(&mut Cx<'_, '_>) -> R,
) -> R {
    match caller.memory() {
        Some(memory) => {
            let (bytes, data) = caller.memory_and_data(memory);
            let (wasi, net) = get(data);
            f(&mut Cx {
                wasi,
                net: &mut net.checker,
                m: &mut GuestMemory::new(bytes),
            })
        }
        None => {
            let (wasi, net) = get(caller.data_mut());
            f(&mut Cx {
                wasi,
                net: &mut net.checker,
                m: &mut GuestMemory::new(&mut []),
            })
        }
    }
}

macro_rules! count {
    () => { 0usize };
    ($head:ident $($tail:ident)*) => { 1usize + count!($($tail)*) };
}

macro_rules! socket_functions {
    ($( $name:ident ( $($arg:ident),* ); )*) => {
        /// Every `wasmi_py_socket` function: name and number of `i32` parameters (each
        /// returns one `i32`).
        pub const SIGNATURES: &[(&str, usize)] = &[
            $( (stringify!($name), count!($($arg)*)), )*
        ];

        /// Defines every `wasmi_py_socket` function in `linker`. `get` finds the WASI and
        /// socket contexts in the store's data. Defining functions a module does not import
        /// is harmless, so this can be called for any module.
        pub fn add_to_linker<T: 'static>(
            linker: &mut Linker<T>,
            store: &mut Store<T>,
            get: fn(&mut T) -> (&mut WasiCtx, &mut SocketCtx),
        ) {
            $(
                linker.func_new(
                    store,
                    MODULE,
                    stringify!($name),
                    FuncType::new(vec![ValType::I32; count!($($arg)*)], [ValType::I32]),
                    move |mut caller: Caller<'_, T>, _args: &[Val], results: &mut [Val]| {
                        let mut _i = 0usize;
                        $(
                            let $arg = match _args.get(_i) {
                                Some(Val::I32(x)) => *x as u32,
                                _ => 0,
                            };
                            _i += 1;
                        )*
                        let code = with_ctx(&mut caller, get, |cx| cx.$name($($arg),*).code());
                        if let Some(slot) = results.first_mut() {
                            *slot = Val::I32(code);
                        }
                        Ok(())
                    },
                );
            )*
        }
    };
}

socket_functions! {
    sock_open(family, ty, protocol, flags, fd_out);
    sock_bind(fd, addr, addr_len);
    sock_listen(fd, backlog);
    sock_accept4(fd, flags, fd_out, addr_out);
    sock_connect(fd, addr, addr_len);
    sock_send(fd, buf, len, flags, sent_out);
    sock_recv(fd, buf, len, flags, received_out);
    sock_sendto(fd, buf, len, flags, addr, addr_len, sent_out);
    sock_recvfrom(fd, buf, len, flags, addr_out, received_out);
    sock_shutdown(fd, how);
    sock_getsockname(fd, addr_out);
    sock_getpeername(fd, addr_out);
    sock_setsockopt(fd, level, name, value, value_len);
    sock_getsockopt(fd, level, name, value, value_len_inout);
    sock_socketpair(ty, flags, fds_out);
    sock_dup(fd, fd_out);
    getaddrinfo(node, node_len, service, service_len, hints, res, res_cap, res_count_out, canon, canon_cap, canon_len_out);
    getnameinfo(addr, addr_len, flags, host, host_cap, host_len_out, serv, serv_cap, serv_len_out);
    gethostname(buf, buf_cap, len_out);
}

#[cfg(test)]
mod tests;
