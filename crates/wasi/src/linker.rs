//! Registration of the 46 functions with a [`Linker`].

use wasmi_py_core::{Caller, FuncType, Linker, Store, Trap, Val, ValType};

use crate::ctx::WasiCtx;
use crate::errno::Errno;
use crate::mem::GuestMemory;

/// The import module name of WASI preview1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// A parameter type of a WASI function.
trait Param: Sized {
    const TYPE: ValType;
    fn from_val(v: Option<&Val>) -> Self;
}

impl Param for u32 {
    const TYPE: ValType = ValType::I32;
    fn from_val(v: Option<&Val>) -> Self {
        match v {
            Some(Val::I32(x)) => *x as u32,
            _ => 0,
        }
    }
}

impl Param for u64 {
    const TYPE: ValType = ValType::I64;
    fn from_val(v: Option<&Val>) -> Self {
        match v {
            Some(Val::I64(x)) => *x as u64,
            _ => 0,
        }
    }
}

impl Param for i64 {
    const TYPE: ValType = ValType::I64;
    fn from_val(v: Option<&Val>) -> Self {
        match v {
            Some(Val::I64(x)) => *x,
            _ => 0,
        }
    }
}

/// Runs `f` with the caller's exported `memory` (an empty one if it has none, so every
/// pointer is `EFAULT`) and the WASI context.
fn with_ctx<T, R>(
    caller: &mut Caller<'_, T>,
    get: fn(&mut T) -> &mut WasiCtx,
    f: impl FnOnce(&mut WasiCtx, &mut GuestMemory<'_>) -> R,
) -> R {
    match caller.memory() {
        Some(memory) => {
            let (bytes, data) = caller.memory_and_data(memory);
            f(get(data), &mut GuestMemory::new(bytes))
        }
        None => f(get(caller.data_mut()), &mut GuestMemory::new(&mut [])),
    }
}

fn errno_val(r: Result<(), Errno>) -> Val {
    Val::I32(i32::from(match r {
        Ok(()) => 0,
        Err(e) => e.0,
    }))
}

macro_rules! wasi_functions {
    ($( $name:ident ( $($arg:ident : $ty:ty),* ); )*) => {
        /// Every `wasi_snapshot_preview1` function: name, parameter types, result types.
        pub const SIGNATURES: &[(&str, &[ValType], &[ValType])] = &[
            $( (stringify!($name), &[$(<$ty as Param>::TYPE),*], &[ValType::I32]), )*
            ("proc_exit", &[ValType::I32], &[]),
        ];

        /// Defines all 46 `wasi_snapshot_preview1` functions in `linker`. `get` finds the
        /// [`WasiCtx`] in the store's data.
        ///
        /// The functions use the calling instance's exported memory named `memory`; a host
        /// call with no calling instance (`Func::call` on the host function itself) sees
        /// an empty memory, so call WASI through a wasm function.
        pub fn add_to_linker<T: 'static>(
            linker: &mut Linker<T>,
            store: &mut Store<T>,
            get: fn(&mut T) -> &mut WasiCtx,
        ) {
            $(
                linker.func_new(
                    store,
                    MODULE,
                    stringify!($name),
                    FuncType::new([$(<$ty as Param>::TYPE),*], [ValType::I32]),
                    move |mut caller: Caller<'_, T>, _args: &[Val], results: &mut [Val]| {
                        let mut _i = 0usize;
                        $(
                            let $arg = <$ty as Param>::from_val(_args.get(_i));
                            _i += 1;
                        )*
                        let r = with_ctx(&mut caller, get, |cx, m| cx.$name(m $(, $arg)*));
                        if let Some(slot) = results.first_mut() {
                            *slot = errno_val(r);
                        }
                        Ok(())
                    },
                );
            )*
            linker.func_new(
                store,
                MODULE,
                "proc_exit",
                FuncType::new([ValType::I32], []),
                |_caller: Caller<'_, T>, args: &[Val], _results: &mut [Val]| {
                    Err(Trap::exit(<u32 as Param>::from_val(args.first()) as i32))
                },
            );
        }
    };
}

wasi_functions! {
    args_get(argv: u32, argv_buf: u32);
    args_sizes_get(argc: u32, argv_buf_size: u32);
    environ_get(environ: u32, environ_buf: u32);
    environ_sizes_get(count: u32, buf_size: u32);
    clock_res_get(id: u32, out: u32);
    clock_time_get(id: u32, precision: u64, out: u32);
    fd_advise(fd: u32, offset: u64, len: u64, advice: u32);
    fd_allocate(fd: u32, offset: u64, len: u64);
    fd_close(fd: u32);
    fd_datasync(fd: u32);
    fd_fdstat_get(fd: u32, out: u32);
    fd_fdstat_set_flags(fd: u32, flags: u32);
    fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64);
    fd_filestat_get(fd: u32, out: u32);
    fd_filestat_set_size(fd: u32, size: u64);
    fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, flags: u32);
    fd_pread(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nread: u32);
    fd_prestat_get(fd: u32, out: u32);
    fd_prestat_dir_name(fd: u32, path: u32, path_len: u32);
    fd_pwrite(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nwritten: u32);
    fd_read(fd: u32, iovs: u32, iovs_len: u32, nread: u32);
    fd_readdir(fd: u32, buf: u32, buf_len: u32, cookie: u64, bufused: u32);
    fd_renumber(from: u32, to: u32);
    fd_seek(fd: u32, offset: i64, whence: u32, out: u32);
    fd_sync(fd: u32);
    fd_tell(fd: u32, out: u32);
    fd_write(fd: u32, iovs: u32, iovs_len: u32, nwritten: u32);
    path_create_directory(fd: u32, path: u32, path_len: u32);
    path_filestat_get(fd: u32, flags: u32, path: u32, path_len: u32, out: u32);
    path_filestat_set_times(fd: u32, flags: u32, path: u32, path_len: u32, atim: u64, mtim: u64, fst: u32);
    path_link(old_fd: u32, old_flags: u32, old_path: u32, old_len: u32, new_fd: u32, new_path: u32, new_len: u32);
    path_open(fd: u32, dirflags: u32, path: u32, path_len: u32, oflags: u32, base: u64, inheriting: u64, fdflags: u32, out: u32);
    path_readlink(fd: u32, path: u32, path_len: u32, buf: u32, buf_len: u32, bufused: u32);
    path_remove_directory(fd: u32, path: u32, path_len: u32);
    path_rename(fd: u32, old_path: u32, old_len: u32, new_fd: u32, new_path: u32, new_len: u32);
    path_symlink(old_path: u32, old_len: u32, fd: u32, new_path: u32, new_len: u32);
    path_unlink_file(fd: u32, path: u32, path_len: u32);
    poll_oneoff(subs: u32, events: u32, nsubs: u32, nevents: u32);
    proc_raise(sig: u32);
    sched_yield();
    random_get(buf: u32, len: u32);
    sock_accept(fd: u32, flags: u32, out: u32);
    sock_recv(fd: u32, iovs: u32, iovs_len: u32, ri_flags: u32, ro_datalen: u32, ro_flags: u32);
    sock_send(fd: u32, iovs: u32, iovs_len: u32, si_flags: u32, so_datalen: u32);
    sock_shutdown(fd: u32, how: u32);
}
