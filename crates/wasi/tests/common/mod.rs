//! A guest for driving WASI functions from Rust tests without a compiled C program.
//!
//! The guest is a WAT module that imports every `wasi_snapshot_preview1` function and
//! exports, under the same name, a wasm function that forwards its arguments to the import
//! (so the host function runs with a calling instance and sees the exported `memory`).
//! Tests write strings and structures into memory, call the exports and check errnos.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use wasmi_py_core::{Engine, Instance, Linker, Memory, Module, Store, Trap, Val, ValType};
use wasmi_py_wasi::{add_to_linker, types, Errno, WasiCtx, SIGNATURES};

/// Where scratch allocations start (below it: fixed result slots).
const HEAP: u32 = 64 * 1024;
/// Result slots used by the helpers.
pub const OUT: u32 = 1024;
pub const OUT2: u32 = 1032;

fn wat_type(t: ValType) -> &'static str {
    match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        _ => unreachable!("WASI uses only i32 and i64"),
    }
}

/// The forwarding module's text.
pub fn forwarding_wat() -> String {
    let mut imports = String::new();
    let mut funcs = String::new();
    for (name, params, results) in SIGNATURES {
        let p: Vec<&str> = params.iter().map(|&t| wat_type(t)).collect();
        let r: Vec<&str> = results.iter().map(|&t| wat_type(t)).collect();
        let sig = format!(
            "{}{}",
            if p.is_empty() {
                String::new()
            } else {
                format!(" (param {})", p.join(" "))
            },
            if r.is_empty() {
                String::new()
            } else {
                format!(" (result {})", r.join(" "))
            },
        );
        writeln!(
            imports,
            "  (import \"wasi_snapshot_preview1\" \"{name}\" (func ${name}{sig}))"
        )
        .unwrap();
        let gets: String = (0..p.len()).map(|i| format!(" (local.get {i})")).collect();
        writeln!(
            funcs,
            "  (func (export \"{name}\"){sig} (call ${name}{gets}))"
        )
        .unwrap();
    }
    format!("(module\n{imports}  (memory (export \"memory\") 4)\n{funcs})")
}

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).unwrap();
    let mut module = wast::parser::parse::<wast::Wat>(&buf).unwrap();
    module.encode().unwrap()
}

pub struct Guest {
    pub store: Store<WasiCtx>,
    pub instance: Instance,
    pub memory: Memory,
    heap: u32,
}

impl Guest {
    pub fn new(ctx: WasiCtx) -> Self {
        let engine = Engine::default();
        let module = Module::new(&engine, &wat(&forwarding_wat())).unwrap();
        let mut store = Store::new(&engine, ctx);
        let mut linker = Linker::new();
        add_to_linker(&mut linker, &mut store, |c| c);
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let memory = instance.get_memory(&store, "memory").unwrap();
        Self {
            store,
            instance,
            memory,
            heap: HEAP,
        }
    }

    /// Calls export `name`, returning the raw result values or the trap.
    pub fn call_raw(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>, Trap> {
        let f = self.instance.get_func(&self.store, name).unwrap();
        f.call(&mut self.store, args)
    }

    /// Calls a WASI function taking only i32 arguments; returns its errno.
    pub fn call(&mut self, name: &str, args: &[u32]) -> Errno {
        let vals: Vec<Val> = args.iter().map(|&a| Val::I32(a as i32)).collect();
        self.call_vals(name, &vals)
    }

    /// Calls a WASI function with typed arguments; returns its errno.
    pub fn call_vals(&mut self, name: &str, args: &[Val]) -> Errno {
        match self.call_raw(name, args).unwrap().as_slice() {
            [Val::I32(e)] => Errno(*e as u16),
            other => panic!("unexpected results {other:?}"),
        }
    }

    /// Copies `bytes` into fresh guest memory.
    pub fn alloc(&mut self, bytes: &[u8]) -> (u32, u32) {
        let ptr = self.heap;
        self.memory
            .write(&mut self.store, ptr as usize, bytes)
            .unwrap();
        self.heap += (bytes.len() as u32 + 7) & !7;
        (ptr, bytes.len() as u32)
    }

    /// Reserves `len` zeroed bytes.
    pub fn reserve(&mut self, len: u32) -> u32 {
        self.alloc(&vec![0; len as usize]).0
    }

    pub fn read(&self, ptr: u32, len: u32) -> Vec<u8> {
        let mut buf = vec![0; len as usize];
        self.memory
            .read(&self.store, ptr as usize, &mut buf)
            .unwrap();
        buf
    }

    pub fn u32_at(&self, ptr: u32) -> u32 {
        u32::from_le_bytes(self.read(ptr, 4).try_into().unwrap())
    }

    pub fn u64_at(&self, ptr: u32) -> u64 {
        u64::from_le_bytes(self.read(ptr, 8).try_into().unwrap())
    }

    pub fn write(&mut self, ptr: u32, bytes: &[u8]) {
        self.memory
            .write(&mut self.store, ptr as usize, bytes)
            .unwrap();
    }

    /// `path_open` with explicit flags: the new fd or the errno.
    #[allow(clippy::too_many_arguments)]
    pub fn open_with(
        &mut self,
        dirfd: u32,
        path: &[u8],
        lookup: u32,
        oflags: u32,
        rights: u64,
        fdflags: u32,
    ) -> Result<u32, Errno> {
        let (p, l) = self.alloc(path);
        let e = self.call_vals(
            "path_open",
            &[
                Val::I32(dirfd as i32),
                Val::I32(lookup as i32),
                Val::I32(p as i32),
                Val::I32(l as i32),
                Val::I32(oflags as i32),
                Val::I64(rights as i64),
                Val::I64(rights as i64),
                Val::I32(fdflags as i32),
                Val::I32(OUT as i32),
            ],
        );
        if e == Errno::SUCCESS {
            Ok(self.u32_at(OUT))
        } else {
            Err(e)
        }
    }

    /// Opens for reading, following symlinks.
    pub fn open(&mut self, dirfd: u32, path: &str) -> Result<u32, Errno> {
        self.open_with(
            dirfd,
            path.as_bytes(),
            types::lookupflags::SYMLINK_FOLLOW,
            0,
            types::rights::FD_READ,
            0,
        )
    }

    /// Opens for writing, creating the file.
    pub fn create(&mut self, dirfd: u32, path: &str) -> Result<u32, Errno> {
        self.open_with(
            dirfd,
            path.as_bytes(),
            types::lookupflags::SYMLINK_FOLLOW,
            u32::from(types::oflags::CREAT | types::oflags::TRUNC),
            types::rights::FD_READ | types::rights::FD_WRITE,
            0,
        )
    }

    /// Opens a directory.
    pub fn open_dir(&mut self, dirfd: u32, path: &str) -> Result<u32, Errno> {
        self.open_with(
            dirfd,
            path.as_bytes(),
            types::lookupflags::SYMLINK_FOLLOW,
            u32::from(types::oflags::DIRECTORY),
            types::rights::FD_READ | types::rights::FD_READDIR,
            0,
        )
    }

    /// A path function of shape `(fd, path, path_len)`.
    pub fn path_op(&mut self, name: &str, fd: u32, path: &str) -> Errno {
        let (p, l) = self.alloc(path.as_bytes());
        self.call(name, &[fd, p, l])
    }

    /// `path_filestat_get`: the filestat bytes or the errno.
    pub fn stat(&mut self, fd: u32, path: &str, follow: bool) -> Result<Vec<u8>, Errno> {
        let (p, l) = self.alloc(path.as_bytes());
        let out = self.reserve(64);
        let e = self.call("path_filestat_get", &[fd, u32::from(follow), p, l, out]);
        if e == Errno::SUCCESS {
            Ok(self.read(out, 64))
        } else {
            Err(e)
        }
    }

    /// `path_rename(fd1, old, fd2, new)`.
    pub fn rename(&mut self, fd1: u32, old: &str, fd2: u32, new: &str) -> Errno {
        let (o, ol) = self.alloc(old.as_bytes());
        let (n, nl) = self.alloc(new.as_bytes());
        self.call("path_rename", &[fd1, o, ol, fd2, n, nl])
    }

    /// `path_link(fd1, flags, old, fd2, new)`.
    pub fn link(&mut self, fd1: u32, follow: bool, old: &str, fd2: u32, new: &str) -> Errno {
        let (o, ol) = self.alloc(old.as_bytes());
        let (n, nl) = self.alloc(new.as_bytes());
        self.call("path_link", &[fd1, u32::from(follow), o, ol, fd2, n, nl])
    }

    /// `path_symlink(target, fd, link)`.
    pub fn symlink(&mut self, target: &str, fd: u32, link: &str) -> Errno {
        let (o, ol) = self.alloc(target.as_bytes());
        let (n, nl) = self.alloc(link.as_bytes());
        self.call("path_symlink", &[o, ol, fd, n, nl])
    }

    /// `path_readlink`: the target or the errno.
    pub fn readlink(&mut self, fd: u32, path: &str) -> Result<String, Errno> {
        let (p, l) = self.alloc(path.as_bytes());
        let buf = self.reserve(4096);
        let e = self.call("path_readlink", &[fd, p, l, buf, 4096, OUT]);
        if e == Errno::SUCCESS {
            let n = self.u32_at(OUT);
            Ok(String::from_utf8(self.read(buf, n)).unwrap())
        } else {
            Err(e)
        }
    }

    /// `fd_write` of one buffer: bytes written or the errno.
    pub fn write_fd(&mut self, fd: u32, data: &[u8]) -> Result<u32, Errno> {
        let (p, l) = self.alloc(data);
        let iov = self.alloc(&[p.to_le_bytes(), l.to_le_bytes()].concat()).0;
        match self.call("fd_write", &[fd, iov, 1, OUT]) {
            Errno::SUCCESS => Ok(self.u32_at(OUT)),
            e => Err(e),
        }
    }

    /// `fd_read` into one buffer of `len` bytes: the bytes or the errno.
    pub fn read_fd(&mut self, fd: u32, len: u32) -> Result<Vec<u8>, Errno> {
        let buf = self.reserve(len);
        let iov = self
            .alloc(&[buf.to_le_bytes(), len.to_le_bytes()].concat())
            .0;
        match self.call("fd_read", &[fd, iov, 1, OUT]) {
            Errno::SUCCESS => {
                let n = self.u32_at(OUT);
                Ok(self.read(buf, n))
            }
            e => Err(e),
        }
    }
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wasmi-py-wasi-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
