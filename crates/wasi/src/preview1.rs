//! The `wasi_snapshot_preview1` functions, as methods of [`WasiCtx`] over a
//! [`GuestMemory`]. Each returns `Ok(())` (errno `SUCCESS`, results already written to
//! guest memory) or the errno. Out-pointers are checked before anything with a side effect
//! happens, so an `EFAULT` never leaves half-done work behind (e.g. an opened but
//! unreported descriptor).

use std::fs::File;
use std::io::{self, IoSlice, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirEntryExt, FileExt, MetadataExt};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cap_fs_ext::OsMetadataExt as _;
use cap_fs_ext::{
    DirExt, FileTypeExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt,
    OpenOptionsSyncExt, SystemTimeSpec,
};

use crate::ctx::WasiCtx;
use crate::errno::Errno;
use crate::fdtable::{
    filetype_of, DirEntry, DirListEntry, Entry, FileEntry, Socket, SocketEntry, Stdio, StdioKind,
    VirtualDirEntry,
};
use crate::host;
use crate::mem::{GuestMemory, IoVec};
use crate::types::{
    self, fdflags, filetype, fstflags, lookupflags, oflags, rights, whence, Fdstat, Filestat,
};
use crate::vroot::VirtualTree;

/// The result of a WASI function.
pub type WasiResult<T = ()> = Result<T, Errno>;

/// Largest temporary buffer for a scattered read or gathered write (a short transfer is
/// always allowed, and the guest's libc loops).
const MAX_BOUNCE: usize = 16 << 20;

/// A guest path: UTF-8 (`EILSEQ`), in bounds (`EFAULT`), without NUL bytes (`EINVAL`).
fn guest_path<'m>(m: &'m GuestMemory<'_>, ptr: u32, len: u32) -> WasiResult<&'m Path> {
    let s = m.str(ptr, len)?;
    if s.as_bytes().contains(&0) {
        return Err(Errno::INVAL);
    }
    Ok(Path::new(s))
}

fn retry<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn size_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A scattered read: one host `read` into the guest's buffers (directly when there is just
/// one, through a bounce buffer otherwise, since guest buffers may overlap).
fn read_scatter(
    m: &mut GuestMemory<'_>,
    iovs: &[IoVec],
    mut read: impl FnMut(&mut [u8]) -> io::Result<usize>,
) -> WasiResult<u32> {
    let live: Vec<IoVec> = iovs.iter().copied().filter(|v| v.len > 0).collect();
    match live.as_slice() {
        [] => Ok(0),
        [one] => {
            let buf = m.slice_mut(one.ptr, one.len)?;
            Ok(size_u32(retry(|| read(buf))?))
        }
        many => {
            let total = many
                .iter()
                .map(|v| v.len as usize)
                .fold(0usize, usize::saturating_add)
                .min(MAX_BOUNCE);
            let mut bounce = vec![0u8; total];
            let n = retry(|| read(&mut bounce))?;
            scatter(m, many, &bounce[..n])?;
            Ok(size_u32(n))
        }
    }
}

/// Copies `data` into the guest's buffers in order.
fn scatter(m: &mut GuestMemory<'_>, iovs: &[IoVec], mut data: &[u8]) -> WasiResult<()> {
    for v in iovs {
        if data.is_empty() {
            break;
        }
        let n = data.len().min(v.len as usize);
        m.slice_mut(v.ptr, n as u32)?.copy_from_slice(&data[..n]);
        data = &data[n..];
    }
    Ok(())
}

/// The guest's buffers as one byte vector (for writes that need a single buffer).
fn gather(m: &GuestMemory<'_>, iovs: &[IoVec]) -> WasiResult<Vec<u8>> {
    let mut out = Vec::new();
    for v in iovs {
        let room = MAX_BOUNCE - out.len();
        if room == 0 {
            break;
        }
        let s = m.slice(v.ptr, v.len)?;
        out.extend_from_slice(&s[..s.len().min(room)]);
    }
    Ok(out)
}

/// A gathered write of the guest's buffers with one host `writev`.
fn write_gather(m: &GuestMemory<'_>, iovs: &[IoVec], w: &mut impl Write) -> WasiResult<u32> {
    let mut slices = Vec::with_capacity(iovs.len());
    let mut total = 0u64;
    for v in iovs {
        if v.len == 0 {
            continue;
        }
        // Keep the sum reportable in the u32 result.
        let room = u64::from(u32::MAX) - total;
        if room == 0 {
            break;
        }
        let len = u64::from(v.len).min(room) as u32;
        slices.push(IoSlice::new(m.slice(v.ptr, len)?));
        total += u64::from(len);
    }
    if slices.is_empty() {
        return Ok(0);
    }
    Ok(size_u32(retry(|| w.write_vectored(&slices))?))
}

fn timestamp_ns(secs: i64, nsecs: i64) -> u64 {
    let t = i128::from(secs) * 1_000_000_000 + i128::from(nsecs);
    t.clamp(0, i128::from(u64::MAX)) as u64
}

/// The WASI filetype of a `st_mode`.
fn filetype_of_mode(mode: u32) -> u8 {
    match mode & libc::S_IFMT {
        libc::S_IFREG => filetype::REGULAR_FILE,
        libc::S_IFDIR => filetype::DIRECTORY,
        libc::S_IFLNK => filetype::SYMBOLIC_LINK,
        libc::S_IFCHR => filetype::CHARACTER_DEVICE,
        libc::S_IFBLK => filetype::BLOCK_DEVICE,
        libc::S_IFSOCK => filetype::SOCKET_STREAM,
        _ => filetype::UNKNOWN,
    }
}

/// A `$filestat` from host metadata: std's and cap-std's have the same `stat` accessors
/// from two different traits (both in scope).
macro_rules! filestat_of {
    ($md:expr) => {{
        let md = $md;
        Filestat {
            dev: md.dev(),
            ino: md.ino(),
            filetype: filetype_of_mode(md.mode()),
            nlink: md.nlink(),
            size: md.size(),
            atim: timestamp_ns(md.atime(), md.atime_nsec()),
            mtim: timestamp_ns(md.mtime(), md.mtime_nsec()),
            ctim: timestamp_ns(md.ctime(), md.ctime_nsec()),
        }
    }};
}

fn filestat(md: &std::fs::Metadata) -> Filestat {
    filestat_of!(md)
}

fn cap_filestat(md: &cap_std::fs::Metadata) -> Filestat {
    filestat_of!(md)
}

fn cap_filetype(ft: cap_std::fs::FileType) -> u8 {
    crate::fdtable::wasi_filetype!(ft)
}

/// One timestamp of a `*_set_times` call: `Ok(None)` to leave it, an error if both the
/// value and `NOW` flags are set.
fn time_spec(value: u64, flags: u16, set: u16, now: u16) -> WasiResult<Option<SystemTime>> {
    match (flags & set != 0, flags & now != 0) {
        (true, true) => Err(Errno::INVAL),
        (true, false) => Ok(Some(UNIX_EPOCH + Duration::from_nanos(value))),
        (false, true) => Ok(Some(SystemTime::now())),
        (false, false) => Ok(None),
    }
}

fn check_fstflags(flags: u32) -> WasiResult<u16> {
    let all = fstflags::ATIM | fstflags::ATIM_NOW | fstflags::MTIM | fstflags::MTIM_NOW;
    let flags = u16::try_from(flags).map_err(|_| Errno::INVAL)?;
    if flags & !all != 0 {
        return Err(Errno::INVAL);
    }
    Ok(flags)
}

/// A duplicate of a descriptor as a `File` (to use `File`'s methods on directories etc.).
fn dup_file(fd: std::os::fd::BorrowedFd<'_>) -> WasiResult<File> {
    Ok(File::from(fd.try_clone_to_owned()?))
}

/// The listing of a virtual directory for `fd_readdir`: `.`, `..`, then the subdirectories
/// by name.
fn list_virtual(tree: &VirtualTree, node: usize) -> Vec<DirListEntry> {
    let dir = |name: &[u8], node: usize| DirListEntry {
        name: name.to_vec(),
        ino: VirtualTree::ino(node),
        filetype: filetype::DIRECTORY,
    };
    let mut out = vec![dir(b".", node), dir(b"..", tree.parent(node))];
    out.extend(
        tree.children(node)
            .map(|(name, child)| dir(name.as_bytes(), child)),
    );
    out
}

/// A directory listing for `fd_readdir`: `.`, `..`, then the entries in host order.
fn list_dir(dir: &cap_std::fs::Dir) -> WasiResult<Vec<DirListEntry>> {
    let self_ino = dir.dir_metadata()?.ino();
    let mut out = vec![
        DirListEntry {
            name: b".".to_vec(),
            ino: self_ino,
            filetype: filetype::DIRECTORY,
        },
        DirListEntry {
            // The parent is outside this capability: report this directory's inode.
            name: b"..".to_vec(),
            ino: self_ino,
            filetype: filetype::DIRECTORY,
        },
    ];
    for entry in dir.entries()? {
        let entry = entry?;
        let filetype = entry
            .file_type()
            .map(cap_filetype)
            .unwrap_or(filetype::UNKNOWN);
        out.push(DirListEntry {
            name: entry.file_name().as_bytes().to_vec(),
            ino: entry.ino(),
            filetype,
        });
    }
    Ok(out)
}

fn write_string_list(
    m: &mut GuestMemory<'_>,
    list: &[Vec<u8>],
    ptrs: u32,
    buf: u32,
) -> WasiResult<()> {
    let count = u32::try_from(list.len())?;
    m.check_array(ptrs, count, 4)?;
    let mut at = buf;
    for (i, s) in list.iter().enumerate() {
        m.write_u32(ptrs + 4 * i as u32, at)?;
        m.write(at, s)?;
        let nul = at
            .checked_add(u32::try_from(s.len()).map_err(|_| Errno::FAULT)?)
            .ok_or(Errno::FAULT)?;
        m.write_u8(nul, 0)?;
        at = nul.checked_add(1).ok_or(Errno::FAULT)?;
    }
    Ok(())
}

fn string_list_sizes(list: &[Vec<u8>]) -> WasiResult<(u32, u32)> {
    let count = u32::try_from(list.len())?;
    let size = list.iter().map(|s| s.len() + 1).sum::<usize>();
    Ok((count, u32::try_from(size)?))
}

impl WasiCtx {
    /// `args_get(argv, argv_buf)`.
    pub fn args_get(&mut self, m: &mut GuestMemory<'_>, argv: u32, buf: u32) -> WasiResult {
        write_string_list(m, &self.args, argv, buf)
    }

    /// `args_sizes_get() -> (argc, argv_buf_size)`.
    pub fn args_sizes_get(&mut self, m: &mut GuestMemory<'_>, argc: u32, size: u32) -> WasiResult {
        let (c, s) = string_list_sizes(&self.args)?;
        m.check_array(size, 1, 4)?;
        m.write_u32(argc, c)?;
        m.write_u32(size, s)
    }

    /// `environ_get(environ, environ_buf)`.
    pub fn environ_get(&mut self, m: &mut GuestMemory<'_>, env: u32, buf: u32) -> WasiResult {
        write_string_list(m, &self.env, env, buf)
    }

    /// `environ_sizes_get() -> (count, buf_size)`.
    pub fn environ_sizes_get(
        &mut self,
        m: &mut GuestMemory<'_>,
        count: u32,
        size: u32,
    ) -> WasiResult {
        let (c, s) = string_list_sizes(&self.env)?;
        m.check_array(size, 1, 4)?;
        m.write_u32(count, c)?;
        m.write_u32(size, s)
    }

    /// `clock_res_get(id) -> timestamp`.
    pub fn clock_res_get(&mut self, m: &mut GuestMemory<'_>, id: u32, out: u32) -> WasiResult {
        let res = host::clock_res(id).ok_or(Errno::INVAL)??;
        m.write_u64(out, res)
    }

    /// `clock_time_get(id, precision) -> timestamp`.
    pub fn clock_time_get(
        &mut self,
        m: &mut GuestMemory<'_>,
        id: u32,
        _precision: u64,
        out: u32,
    ) -> WasiResult {
        let now = host::clock_time(id).ok_or(Errno::INVAL)??;
        m.write_u64(out, now)
    }

    /// `fd_advise(fd, offset, len, advice)`: checked, then ignored (advice is a hint).
    pub fn fd_advise(
        &mut self,
        _m: &mut GuestMemory<'_>,
        fd: u32,
        _offset: u64,
        _len: u64,
        advice: u32,
    ) -> WasiResult {
        if advice > 5 {
            return Err(Errno::INVAL);
        }
        match self.table.get(fd)? {
            Entry::File(_) => Ok(()),
            Entry::Dir(_) | Entry::Virtual(_) => Err(Errno::BADF),
            _ => Err(Errno::SPIPE),
        }
    }

    /// `fd_allocate(fd, offset, len)`: extends the file to at least `offset + len` bytes.
    pub fn fd_allocate(
        &mut self,
        _m: &mut GuestMemory<'_>,
        fd: u32,
        offset: u64,
        len: u64,
    ) -> WasiResult {
        match self.table.get(fd)? {
            Entry::File(f) => {
                if !f.writable {
                    return Err(Errno::BADF);
                }
                if len == 0 {
                    return Err(Errno::INVAL);
                }
                let end = offset
                    .checked_add(len)
                    .filter(|&e| e <= i64::MAX as u64)
                    .ok_or(Errno::FBIG)?;
                if f.file.metadata()?.len() < end {
                    f.file.set_len(end)?;
                }
                Ok(())
            }
            Entry::Dir(_) | Entry::Virtual(_) => Err(Errno::BADF),
            _ => Err(Errno::SPIPE),
        }
    }

    /// `fd_close(fd)`.
    pub fn fd_close(&mut self, _m: &mut GuestMemory<'_>, fd: u32) -> WasiResult {
        self.table.remove(fd).map(drop)
    }

    fn sync(&mut self, fd: u32, data_only: bool) -> WasiResult {
        let file;
        let f: &File = match self.table.get(fd)? {
            Entry::File(f) => &f.file,
            Entry::Dir(d) => {
                file = dup_file(d.dir.as_fd())?;
                &file
            }
            // Nothing of it is stored anywhere.
            Entry::Virtual(_) => return Ok(()),
            Entry::Stdio(Stdio {
                kind: StdioKind::Host { file, .. },
                ..
            }) => file,
            _ => return Err(Errno::INVAL),
        };
        if data_only {
            f.sync_data()?;
        } else {
            f.sync_all()?;
        }
        Ok(())
    }

    /// `fd_datasync(fd)`.
    pub fn fd_datasync(&mut self, _m: &mut GuestMemory<'_>, fd: u32) -> WasiResult {
        self.sync(fd, true)
    }

    /// `fd_sync(fd)`.
    pub fn fd_sync(&mut self, _m: &mut GuestMemory<'_>, fd: u32) -> WasiResult {
        self.sync(fd, false)
    }

    /// The `$fdstat` of an open descriptor.
    pub fn fdstat(&self, fd: u32) -> WasiResult<Fdstat> {
        let mut st = match self.table.get(fd)? {
            Entry::Stdio(s) => {
                let (ft, seekable) = match &s.kind {
                    StdioKind::Host {
                        isatty, filetype, ..
                    } => (*filetype, !*isatty),
                    _ => (filetype::UNKNOWN, false),
                };
                let mut base = rights::STREAM;
                if ft == filetype::REGULAR_FILE {
                    base |= rights::REGULAR_FILE;
                }
                // wasi-libc's isatty() is "a character device without seek/tell rights":
                // keep those rights on every non-terminal (e.g. /dev/null is not a tty).
                if seekable {
                    base |= rights::FD_SEEK | rights::FD_TELL;
                }
                base &= if s.role == 0 {
                    !rights::FD_WRITE
                } else {
                    !rights::FD_READ
                };
                Fdstat {
                    filetype: ft,
                    flags: if s.nonblock { fdflags::NONBLOCK } else { 0 },
                    rights_base: base,
                    rights_inheriting: base,
                }
            }
            Entry::File(f) => {
                let mut base = rights::REGULAR_FILE;
                if !f.readable {
                    base &= !rights::FD_READ;
                }
                if !f.writable {
                    base &= !(rights::FD_WRITE
                        | rights::FD_ALLOCATE
                        | rights::FD_FILESTAT_SET_SIZE
                        | rights::FD_DATASYNC);
                }
                Fdstat {
                    filetype: f.filetype,
                    flags: f.fdflags,
                    rights_base: base,
                    rights_inheriting: base,
                }
            }
            Entry::Dir(_) | Entry::Virtual(_) => Fdstat {
                filetype: filetype::DIRECTORY,
                flags: 0,
                rights_base: rights::DIRECTORY,
                rights_inheriting: rights::DIRECTORY | rights::REGULAR_FILE,
            },
            Entry::Socket(s) => Fdstat {
                filetype: s.filetype(),
                flags: if s.nonblock { fdflags::NONBLOCK } else { 0 },
                rights_base: rights::SOCKET,
                rights_inheriting: rights::SOCKET,
            },
        };
        if let Some((base, inheriting)) = self.table.rights_limit(fd) {
            st.rights_base &= base;
            st.rights_inheriting &= inheriting;
        }
        Ok(st)
    }

    /// `fd_fdstat_get(fd) -> fdstat`.
    pub fn fd_fdstat_get(&mut self, m: &mut GuestMemory<'_>, fd: u32, out: u32) -> WasiResult {
        let st = self.fdstat(fd)?;
        m.write(out, &st.to_bytes())
    }

    /// `fd_fdstat_set_flags(fd, flags)`: `APPEND` and `NONBLOCK` can change; the sync flags
    /// are fixed at open (`EINVAL` if the call would change them).
    pub fn fd_fdstat_set_flags(
        &mut self,
        _m: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
    ) -> WasiResult {
        let flags = u16::try_from(flags).map_err(|_| Errno::INVAL)?;
        if flags & !fdflags::ALL != 0 {
            return Err(Errno::INVAL);
        }
        let append = flags & fdflags::APPEND != 0;
        let nonblock = flags & fdflags::NONBLOCK != 0;
        let fixed = fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC;
        match self.table.get_mut(fd)? {
            Entry::File(f) => {
                if flags & fixed != f.fdflags & fixed {
                    return Err(Errno::INVAL);
                }
                if append && !f.writable {
                    return Err(Errno::BADF);
                }
                host::set_status_flags(f.file.as_fd(), append, nonblock)?;
                f.fdflags = flags;
                Ok(())
            }
            Entry::Stdio(s) => {
                if flags & fixed != 0 {
                    return Err(Errno::INVAL);
                }
                s.nonblock = nonblock;
                Ok(())
            }
            Entry::Socket(s) => {
                if flags & (fixed | fdflags::APPEND) != 0 {
                    return Err(Errno::INVAL);
                }
                s.socket.set_nonblocking(nonblock)?;
                s.nonblock = nonblock;
                Ok(())
            }
            Entry::Dir(_) | Entry::Virtual(_) => {
                if flags & (fixed | fdflags::APPEND) != 0 {
                    return Err(Errno::INVAL);
                }
                Ok(())
            }
        }
    }

    /// `fd_fdstat_set_rights(fd, base, inheriting)`: rights can only be dropped
    /// (`ENOTCAPABLE` for an attempt to gain one). They are reported by `fd_fdstat_get`;
    /// what a descriptor can do is decided by how it was opened and by the sandbox.
    pub fn fd_fdstat_set_rights(
        &mut self,
        _m: &mut GuestMemory<'_>,
        fd: u32,
        base: u64,
        inheriting: u64,
    ) -> WasiResult {
        let st = self.fdstat(fd)?;
        if base & !st.rights_base != 0 || inheriting & !st.rights_inheriting != 0 {
            return Err(Errno::NOTCAPABLE);
        }
        self.table.set_rights_limit(fd, base, inheriting);
        Ok(())
    }

    /// `fd_filestat_get(fd) -> filestat`.
    pub fn fd_filestat_get(&mut self, m: &mut GuestMemory<'_>, fd: u32, out: u32) -> WasiResult {
        let st = match self.table.get(fd)? {
            Entry::File(f) => filestat(&f.file.metadata()?),
            Entry::Dir(d) => cap_filestat(&d.dir.dir_metadata()?),
            Entry::Virtual(v) => v.tree.filestat(v.node),
            Entry::Stdio(s) => match &s.kind {
                StdioKind::Host {
                    file, filetype: ft, ..
                } => Filestat {
                    filetype: *ft,
                    ..filestat(&file.metadata()?)
                },
                _ => Filestat::default(),
            },
            Entry::Socket(s) => Filestat {
                filetype: s.filetype(),
                ..filestat(&dup_file(s.socket.fd())?.metadata()?)
            },
        };
        m.write(out, &st.to_bytes())
    }

    /// `fd_filestat_set_size(fd, size)`.
    pub fn fd_filestat_set_size(
        &mut self,
        _m: &mut GuestMemory<'_>,
        fd: u32,
        size: u64,
    ) -> WasiResult {
        match self.table.get(fd)? {
            Entry::File(f) if f.writable => {
                if size > i64::MAX as u64 {
                    return Err(Errno::FBIG);
                }
                f.file.set_len(size)?;
                Ok(())
            }
            Entry::File(_) | Entry::Dir(_) | Entry::Virtual(_) => Err(Errno::BADF),
            _ => Err(Errno::INVAL),
        }
    }

    /// `fd_filestat_set_times(fd, atim, mtim, fst_flags)`.
    pub fn fd_filestat_set_times(
        &mut self,
        _m: &mut GuestMemory<'_>,
        fd: u32,
        atim: u64,
        mtim: u64,
        flags: u32,
    ) -> WasiResult {
        let flags = check_fstflags(flags)?;
        let a = time_spec(atim, flags, fstflags::ATIM, fstflags::ATIM_NOW)?;
        let mt = time_spec(mtim, flags, fstflags::MTIM, fstflags::MTIM_NOW)?;
        let dup;
        let file: &File = match self.table.get(fd)? {
            Entry::File(f) => {
                if f.read_only {
                    return Err(Errno::PERM);
                }
                &f.file
            }
            Entry::Dir(d) => {
                if d.read_only {
                    return Err(Errno::PERM);
                }
                dup = dup_file(d.dir.as_fd())?;
                &dup
            }
            Entry::Virtual(_) => return Err(Errno::PERM),
            Entry::Stdio(Stdio {
                kind: StdioKind::Host { file, .. },
                ..
            }) => file,
            _ => return Err(Errno::BADF),
        };
        let mut times = std::fs::FileTimes::new();
        if let Some(a) = a {
            times = times.set_accessed(a);
        }
        if let Some(mt) = mt {
            times = times.set_modified(mt);
        }
        file.set_times(times)?;
        Ok(())
    }

    /// `fd_read(fd, iovs) -> nread`.
    pub fn fd_read(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        nread: u32,
    ) -> WasiResult {
        let iovs = m.iovecs(iovs, iovs_len)?;
        m.check_array(nread, 1, 4)?;
        let n = match self.table.get_mut(fd)? {
            Entry::Stdio(s) => {
                if s.role != 0 {
                    return Err(Errno::BADF);
                }
                let nonblock = s.nonblock;
                match &mut s.kind {
                    StdioKind::Host { file, .. } => {
                        if nonblock && !host::readable_now(file.as_raw_fd())? {
                            return Err(Errno::AGAIN);
                        }
                        read_scatter(m, &iovs, |b| file.read(b))?
                    }
                    StdioKind::Input { data, pos } => {
                        let rest = data.get(*pos..).unwrap_or_default();
                        let n = rest.len().min(
                            iovs.iter()
                                .map(|v| v.len as usize)
                                .fold(0, usize::saturating_add),
                        );
                        scatter(m, &iovs, &rest[..n])?;
                        *pos += n;
                        size_u32(n)
                    }
                    StdioKind::Null => 0,
                    StdioKind::Capture(_) => return Err(Errno::BADF),
                }
            }
            Entry::File(f) => {
                if !f.readable {
                    return Err(Errno::BADF);
                }
                let file = &f.file;
                read_scatter(m, &iovs, |b| (&mut &*file).read(b))?
            }
            Entry::Dir(_) | Entry::Virtual(_) => return Err(Errno::ISDIR),
            Entry::Socket(s) => {
                if s.socket.is_listener() {
                    return Err(Errno::NOTCONN);
                }
                let fd = s.socket.fd();
                read_scatter(m, &iovs, |b| host::recv(fd, b, 0))?
            }
        };
        m.write_u32(nread, n)
    }

    /// `fd_pread(fd, iovs, offset) -> nread`.
    pub fn fd_pread(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
        nread: u32,
    ) -> WasiResult {
        let iovs = m.iovecs(iovs, iovs_len)?;
        m.check_array(nread, 1, 4)?;
        let f = positioned_file(self.table.get(fd)?, offset, Access::Read)?;
        let n = read_scatter(m, &iovs, |b| f.file.read_at(b, offset))?;
        m.write_u32(nread, n)
    }

    /// `fd_write(fd, iovs) -> nwritten`.
    pub fn fd_write(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        nwritten: u32,
    ) -> WasiResult {
        let iovs = m.iovecs(iovs, iovs_len)?;
        m.check_array(nwritten, 1, 4)?;
        let n = match self.table.get_mut(fd)? {
            Entry::Stdio(s) => {
                if s.role == 0 {
                    return Err(Errno::BADF);
                }
                let nonblock = s.nonblock;
                match &mut s.kind {
                    StdioKind::Host { file, .. } => {
                        if nonblock && !host::writable_now(file.as_raw_fd())? {
                            return Err(Errno::AGAIN);
                        }
                        write_gather(m, &iovs, file)?
                    }
                    StdioKind::Capture(buf) => {
                        let data = gather(m, &iovs)?;
                        buf.lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .extend_from_slice(&data);
                        size_u32(data.len())
                    }
                    StdioKind::Null => {
                        let total: u64 = iovs.iter().map(|v| u64::from(v.len)).sum();
                        u32::try_from(total).unwrap_or(u32::MAX)
                    }
                    StdioKind::Input { .. } => return Err(Errno::BADF),
                }
            }
            Entry::File(f) => {
                if !f.writable {
                    return Err(Errno::BADF);
                }
                write_gather(m, &iovs, &mut &f.file)?
            }
            Entry::Dir(_) | Entry::Virtual(_) => return Err(Errno::BADF),
            Entry::Socket(s) => {
                if s.socket.is_listener() {
                    return Err(Errno::NOTCONN);
                }
                let data = gather(m, &iovs)?;
                size_u32(host::send(s.socket.fd(), &data, 0)?)
            }
        };
        m.write_u32(nwritten, n)
    }

    /// `fd_pwrite(fd, iovs, offset) -> nwritten`.
    pub fn fd_pwrite(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
        nwritten: u32,
    ) -> WasiResult {
        let iovs = m.iovecs(iovs, iovs_len)?;
        m.check_array(nwritten, 1, 4)?;
        let f = positioned_file(self.table.get(fd)?, offset, Access::Write)?;
        let data = gather(m, &iovs)?;
        let n = size_u32(retry(|| f.file.write_at(&data, offset))?);
        m.write_u32(nwritten, n)
    }

    /// `fd_prestat_get(fd) -> prestat`: `EBADF` for anything but a preopened directory
    /// (wasi-libc scans upwards from fd 3 until it sees `EBADF`).
    pub fn fd_prestat_get(&mut self, m: &mut GuestMemory<'_>, fd: u32, out: u32) -> WasiResult {
        match self.table.get(fd)? {
            Entry::Dir(DirEntry {
                preopen: Some(name),
                ..
            })
            | Entry::Virtual(VirtualDirEntry {
                preopen: Some(name),
                ..
            }) => {
                let len = u32::try_from(name.len())?;
                m.check_array(out, 1, types::PRESTAT_SIZE)?;
                m.write(out, &[types::PREOPENTYPE_DIR, 0, 0, 0])?;
                m.write_u32(out + 4, len)
            }
            _ => Err(Errno::BADF),
        }
    }

    /// `fd_prestat_dir_name(fd, path, path_len)`: the guest path of a preopen (no NUL).
    pub fn fd_prestat_dir_name(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> WasiResult {
        match self.table.get(fd)? {
            Entry::Dir(DirEntry {
                preopen: Some(name),
                ..
            })
            | Entry::Virtual(VirtualDirEntry {
                preopen: Some(name),
                ..
            }) => {
                if name.len() > path_len as usize {
                    return Err(Errno::NAMETOOLONG);
                }
                m.write(path, name.as_bytes())
            }
            _ => Err(Errno::NOTDIR),
        }
    }

    /// `fd_readdir(fd, buf, buf_len, cookie) -> bufused`.
    ///
    /// Entries are `$dirent` headers (24 bytes) each followed by the name. The cookie of an
    /// entry is its index + 1 (`d_next`); cookie 0 re-reads the directory. When the buffer
    /// fills up, the last entry is truncated and `bufused == buf_len`, which tells the
    /// caller to retry that entry (from its cookie) with a larger buffer.
    pub fn fd_readdir(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        buf: u32,
        buf_len: u32,
        cookie: u64,
        bufused: u32,
    ) -> WasiResult {
        m.check_array(buf, buf_len, 1)?;
        m.check_array(bufused, 1, 4)?;
        let listing = match self.table.get_mut(fd)? {
            Entry::Dir(d) => {
                if cookie == 0 || d.listing.is_none() {
                    d.listing = Some(list_dir(&d.dir)?);
                }
                d.listing.as_deref().unwrap_or_default()
            }
            Entry::Virtual(v) => {
                if cookie == 0 || v.listing.is_none() {
                    v.listing = Some(list_virtual(&v.tree, v.node));
                }
                v.listing.as_deref().unwrap_or_default()
            }
            _ => return Err(Errno::NOTDIR),
        };
        let cap = buf_len as usize;
        let mut out = Vec::with_capacity(cap.min(64 * 1024));
        let start = usize::try_from(cookie).unwrap_or(usize::MAX);
        for (i, e) in listing.iter().enumerate().skip(start) {
            if out.len() >= cap {
                break;
            }
            let mut header = [0u8; types::DIRENT_SIZE as usize];
            header[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            header[8..16].copy_from_slice(&e.ino.to_le_bytes());
            header[16..20].copy_from_slice(&size_u32(e.name.len()).to_le_bytes());
            header[20] = e.filetype;
            out.extend_from_slice(&header);
            out.extend_from_slice(&e.name);
        }
        out.truncate(cap);
        m.write(buf, &out)?;
        m.write_u32(bufused, size_u32(out.len()))
    }

    /// `fd_renumber(from, to)`: both must be open; `to` is closed and replaced.
    pub fn fd_renumber(&mut self, _m: &mut GuestMemory<'_>, from: u32, to: u32) -> WasiResult {
        self.table.renumber(from, to)
    }

    /// `fd_seek(fd, offset, whence) -> newoffset`.
    pub fn fd_seek(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        offset: i64,
        whence: u32,
        out: u32,
    ) -> WasiResult {
        let pos = match whence {
            whence::SET => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::INVAL)?),
            whence::CUR => SeekFrom::Current(offset),
            whence::END => SeekFrom::End(offset),
            _ => return Err(Errno::INVAL),
        };
        m.check_array(out, 1, 8)?;
        let new = match self.table.get(fd)? {
            Entry::File(f) => (&f.file).seek(pos)?,
            Entry::Stdio(Stdio {
                kind: StdioKind::Host { file, .. },
                ..
            }) => (&*file).seek(pos)?,
            Entry::Dir(_) | Entry::Virtual(_) => return Err(Errno::BADF),
            _ => return Err(Errno::SPIPE),
        };
        m.write_u64(out, new)
    }

    /// `fd_tell(fd) -> offset`.
    pub fn fd_tell(&mut self, m: &mut GuestMemory<'_>, fd: u32, out: u32) -> WasiResult {
        self.fd_seek(m, fd, 0, whence::CUR, out)
    }

    fn dir(&self, fd: u32) -> WasiResult<&DirEntry> {
        self.table.dir(fd)
    }

    /// The virtual directory `fd` is, if it is one (see `vroot.rs`).
    fn virtual_dir(&self, fd: u32) -> Option<&VirtualDirEntry> {
        match self.table.get(fd) {
            Ok(Entry::Virtual(v)) => Some(v),
            _ => None,
        }
    }

    /// The directory of `fd` for an operation that changes something beneath it
    /// (`EPERM` beneath a read-only preopen or in the virtual root).
    fn dir_for_write(&self, fd: u32) -> WasiResult<&DirEntry> {
        if self.virtual_dir(fd).is_some() {
            return Err(Errno::PERM);
        }
        let d = self.table.dir(fd)?;
        if d.read_only {
            return Err(Errno::PERM);
        }
        Ok(d)
    }

    /// `path_create_directory(fd, path)`.
    pub fn path_create_directory(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        len: u32,
    ) -> WasiResult {
        if let Some(v) = self.virtual_dir(fd) {
            // What exists is reported as existing (`mkdir -p /home` works); nothing new.
            let path = guest_path(m, path, len)?;
            return Err(match v.tree.resolve(v.node, path) {
                Ok(_) => Errno::EXIST,
                Err(_) => Errno::PERM,
            });
        }
        let d = self.dir_for_write(fd)?;
        let path = guest_path(m, path, len)?;
        d.dir.create_dir(path)?;
        Ok(())
    }

    /// `path_filestat_get(fd, flags, path) -> filestat`.
    pub fn path_filestat_get(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        path: u32,
        len: u32,
        out: u32,
    ) -> WasiResult {
        if let Some(v) = self.virtual_dir(fd) {
            let path = guest_path(m, path, len)?;
            m.check_array(out, 1, types::FILESTAT_SIZE)?;
            let st = v.tree.filestat(v.tree.resolve(v.node, path)?);
            return m.write(out, &st.to_bytes());
        }
        let d = self.dir(fd)?;
        let path = guest_path(m, path, len)?;
        m.check_array(out, 1, types::FILESTAT_SIZE)?;
        let md = if flags & lookupflags::SYMLINK_FOLLOW != 0 {
            d.dir.metadata(path)?
        } else {
            d.dir.symlink_metadata(path)?
        };
        let st = cap_filestat(&md);
        m.write(out, &st.to_bytes())
    }

    /// `path_filestat_set_times(fd, flags, path, atim, mtim, fst_flags)`.
    #[allow(clippy::too_many_arguments)]
    pub fn path_filestat_set_times(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        path: u32,
        len: u32,
        atim: u64,
        mtim: u64,
        fst: u32,
    ) -> WasiResult {
        let fst = check_fstflags(fst)?;
        let a = time_spec(atim, fst, fstflags::ATIM, fstflags::ATIM_NOW)?;
        let mt = time_spec(mtim, fst, fstflags::MTIM, fstflags::MTIM_NOW)?;
        let d = self.dir_for_write(fd)?;
        let path = guest_path(m, path, len)?;
        let spec = |t: Option<SystemTime>, now: u16| {
            t.map(|t| {
                if fst & now != 0 {
                    SystemTimeSpec::SymbolicNow
                } else {
                    SystemTimeSpec::Absolute(cap_std::time::SystemTime::from_std(t))
                }
            })
        };
        let (a, mt) = (spec(a, fstflags::ATIM_NOW), spec(mt, fstflags::MTIM_NOW));
        if flags & lookupflags::SYMLINK_FOLLOW != 0 {
            d.dir.set_times(path, a, mt)?;
        } else {
            d.dir.set_symlink_times(path, a, mt)?;
        }
        Ok(())
    }

    /// `path_link(old_fd, old_flags, old_path, new_fd, new_path)`. With `SYMLINK_FOLLOW`
    /// the source's symlinks are resolved inside the sandbox first.
    #[allow(clippy::too_many_arguments)]
    pub fn path_link(
        &mut self,
        m: &mut GuestMemory<'_>,
        old_fd: u32,
        old_flags: u32,
        old_path: u32,
        old_len: u32,
        new_fd: u32,
        new_path: u32,
        new_len: u32,
    ) -> WasiResult {
        // A read-only source could otherwise be given a second, writable name.
        let src = self.dir_for_write(old_fd)?;
        let dst = self.dir_for_write(new_fd)?;
        let old = guest_path(m, old_path, old_len)?;
        let new = guest_path(m, new_path, new_len)?;
        if old_flags & lookupflags::SYMLINK_FOLLOW != 0 {
            let resolved = src.dir.canonicalize(old)?;
            src.dir.hard_link(resolved, &dst.dir, new)?;
        } else {
            src.dir.hard_link(old, &dst.dir, new)?;
        }
        Ok(())
    }

    /// `path_open(fd, dirflags, path, oflags, rights_base, rights_inheriting, fdflags) -> fd`.
    ///
    /// Opens beneath directory `fd`. Write access is what `rights_base` asks for with
    /// `FD_WRITE`; beneath a read-only preopen that, `CREAT`, `TRUNC` and `APPEND` fail with
    /// `EPERM`. A directory (with or without `oflags::DIRECTORY`) becomes a new directory
    /// capability, itself a sandbox root: `..` from it cannot leave it.
    #[allow(clippy::too_many_arguments)]
    pub fn path_open(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        dirflags: u32,
        path: u32,
        len: u32,
        oflags: u32,
        rights_base: u64,
        _rights_inheriting: u64,
        fdflags: u32,
        out: u32,
    ) -> WasiResult {
        let oflags = u16::try_from(oflags).map_err(|_| Errno::INVAL)?;
        let fdflags = u16::try_from(fdflags).map_err(|_| Errno::INVAL)?;
        let all_oflags = oflags::CREAT | oflags::DIRECTORY | oflags::EXCL | oflags::TRUNC;
        if oflags & !all_oflags != 0 || fdflags & !fdflags::ALL != 0 {
            return Err(Errno::INVAL);
        }
        m.check_array(out, 1, 4)?;
        if let Some(v) = self.virtual_dir(fd) {
            // Only its directories can be opened, only for reading.
            let path = guest_path(m, path, len)?;
            let node = v.tree.resolve(v.node, path);
            let changes = oflags & (oflags::CREAT | oflags::TRUNC) != 0
                || rights_base & rights::FD_WRITE != 0
                || fdflags & fdflags::APPEND != 0;
            let node = match (node, changes) {
                (Ok(_), true) if oflags & oflags::EXCL != 0 => return Err(Errno::EXIST),
                (Ok(_), true) => return Err(Errno::ISDIR),
                (Err(Errno::NOENT), true) => return Err(Errno::PERM),
                (result, _) => result?,
            };
            let entry = Entry::Virtual(VirtualDirEntry {
                tree: v.tree.clone(),
                node,
                preopen: None,
                listing: None,
            });
            let new_fd = self.table.push(entry)?;
            return m.write_u32(out, new_fd);
        }
        let d = self.dir(fd)?;
        let path = guest_path(m, path, len)?;
        let follow = dirflags & lookupflags::SYMLINK_FOLLOW != 0;
        let creat = oflags & oflags::CREAT != 0;
        let excl = oflags & oflags::EXCL != 0;
        let trunc = oflags & oflags::TRUNC != 0;
        let write = rights_base & rights::FD_WRITE != 0;
        let read = rights_base & (rights::FD_READ | rights::FD_READDIR) != 0 || !write;
        let append = fdflags & fdflags::APPEND != 0;
        let read_only = d.read_only;
        if read_only && (write || creat || trunc || append) {
            return Err(Errno::PERM);
        }
        let entry = if oflags & oflags::DIRECTORY != 0 {
            if creat || trunc {
                return Err(Errno::INVAL);
            }
            let sub = if follow {
                d.dir.open_dir(path)?
            } else {
                d.dir.open_dir_nofollow(path)?
            };
            if write {
                return Err(Errno::ISDIR);
            }
            Entry::Dir(DirEntry {
                dir: sub,
                preopen: None,
                read_only,
                listing: None,
            })
        } else {
            let follow = if follow {
                FollowSymlinks::Yes
            } else {
                FollowSymlinks::No
            };
            if (creat || trunc) && !write {
                // POSIX allows O_CREAT/O_TRUNC on a read-only open: create or truncate
                // first, then open with the access asked for.
                let mut pre = cap_std::fs::OpenOptions::new();
                pre.write(true)
                    .create(creat && !excl)
                    .create_new(creat && excl)
                    .truncate(trunc)
                    .follow(follow);
                drop(d.dir.open_with(path, &pre)?);
            }
            let mut opts = cap_std::fs::OpenOptions::new();
            opts.read(read)
                .write(write)
                .append(append && write)
                .follow(follow)
                .maybe_dir(true)
                .dsync(fdflags & fdflags::DSYNC != 0)
                .rsync(fdflags & fdflags::RSYNC != 0)
                .sync(fdflags & fdflags::SYNC != 0)
                .nonblock(fdflags & fdflags::NONBLOCK != 0);
            if write {
                opts.create(creat && !excl)
                    .create_new(creat && excl)
                    .truncate(trunc);
            }
            let file = d.dir.open_with(path, &opts)?.into_std();
            let ft = file.metadata()?.file_type();
            if ft.is_dir() {
                Entry::Dir(DirEntry {
                    dir: cap_std::fs::Dir::from_std_file(file),
                    preopen: None,
                    read_only,
                    listing: None,
                })
            } else {
                Entry::File(FileEntry {
                    file,
                    filetype: filetype_of(ft),
                    readable: read,
                    writable: write,
                    fdflags: if write {
                        fdflags
                    } else {
                        fdflags & !fdflags::APPEND
                    },
                    read_only,
                })
            }
        };
        let new_fd = self.table.push(entry)?;
        m.write_u32(out, new_fd)
    }

    /// `path_readlink(fd, path, buf, buf_len) -> bufused`: the target, truncated to the
    /// buffer. Absolute targets are refused with `EPERM` (they name host paths).
    #[allow(clippy::too_many_arguments)]
    pub fn path_readlink(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        len: u32,
        buf: u32,
        buf_len: u32,
        bufused: u32,
    ) -> WasiResult {
        if let Some(v) = self.virtual_dir(fd) {
            // Virtual directories are no symbolic links.
            let path = guest_path(m, path, len)?;
            v.tree.resolve(v.node, path)?;
            return Err(Errno::INVAL);
        }
        let d = self.dir(fd)?;
        let path = guest_path(m, path, len)?;
        m.check_array(buf, buf_len, 1)?;
        m.check_array(bufused, 1, 4)?;
        let target = d.dir.read_link(path)?;
        let bytes = target.as_os_str().as_bytes();
        let n = bytes.len().min(buf_len as usize);
        m.write(buf, &bytes[..n])?;
        m.write_u32(bufused, size_u32(n))
    }

    /// `path_remove_directory(fd, path)`.
    pub fn path_remove_directory(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        len: u32,
    ) -> WasiResult {
        let d = self.dir_for_write(fd)?;
        let path = guest_path(m, path, len)?;
        d.dir.remove_dir(path)?;
        Ok(())
    }

    /// `path_rename(fd, old_path, new_fd, new_path)`.
    #[allow(clippy::too_many_arguments)]
    pub fn path_rename(
        &mut self,
        m: &mut GuestMemory<'_>,
        old_fd: u32,
        old_path: u32,
        old_len: u32,
        new_fd: u32,
        new_path: u32,
        new_len: u32,
    ) -> WasiResult {
        let src = self.dir_for_write(old_fd)?;
        let dst = self.dir_for_write(new_fd)?;
        let old = guest_path(m, old_path, old_len)?;
        let new = guest_path(m, new_path, new_len)?;
        src.dir.rename(old, &dst.dir, new)?;
        Ok(())
    }

    /// `path_symlink(old_path, fd, new_path)`: absolute targets are refused (`EPERM`);
    /// relative ones may point anywhere, but following them never leaves the sandbox.
    pub fn path_symlink(
        &mut self,
        m: &mut GuestMemory<'_>,
        old_path: u32,
        old_len: u32,
        fd: u32,
        new_path: u32,
        new_len: u32,
    ) -> WasiResult {
        let d = self.dir_for_write(fd)?;
        let old = guest_path(m, old_path, old_len)?;
        let new = guest_path(m, new_path, new_len)?;
        d.dir.symlink(old, new)?;
        Ok(())
    }

    /// `path_unlink_file(fd, path)`.
    pub fn path_unlink_file(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        len: u32,
    ) -> WasiResult {
        let d = self.dir_for_write(fd)?;
        let path = guest_path(m, path, len)?;
        d.dir.remove_file(path)?;
        Ok(())
    }

    /// `proc_raise(sig)`: signals do not exist in WASI.
    pub fn proc_raise(&mut self, _m: &mut GuestMemory<'_>, _sig: u32) -> WasiResult {
        Err(Errno::NOTSUP)
    }

    /// `sched_yield()`.
    pub fn sched_yield(&mut self, _m: &mut GuestMemory<'_>) -> WasiResult {
        std::thread::yield_now();
        Ok(())
    }

    /// `random_get(buf, len)`.
    pub fn random_get(&mut self, m: &mut GuestMemory<'_>, buf: u32, len: u32) -> WasiResult {
        host::random(m.slice_mut(buf, len)?)?;
        Ok(())
    }

    fn socket(&mut self, fd: u32) -> WasiResult<&mut SocketEntry> {
        match self.table.get_mut(fd)? {
            Entry::Socket(s) => Ok(s),
            _ => Err(Errno::NOTSOCK),
        }
    }

    /// `sock_accept(fd, flags) -> fd`: only `NONBLOCK` is a valid flag.
    pub fn sock_accept(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        out: u32,
    ) -> WasiResult {
        if flags & !u32::from(fdflags::NONBLOCK) != 0 {
            return Err(Errno::INVAL);
        }
        m.check_array(out, 1, 4)?;
        let s = self.socket(fd)?;
        let socket = match &s.socket {
            Socket::TcpListener(l) => Socket::TcpStream(retry(|| l.accept())?.0),
            Socket::UnixListener(l) => Socket::UnixStream(retry(|| l.accept())?.0),
            Socket::Other { fd, dgram: false } => Socket::Other {
                fd: retry(|| host::accept(fd.as_fd()))?,
                dgram: false,
            },
            _ => return Err(Errno::INVAL),
        };
        let nonblock = flags & u32::from(fdflags::NONBLOCK) != 0;
        socket.set_nonblocking(nonblock)?;
        let new_fd = self
            .table
            .push(Entry::Socket(SocketEntry { socket, nonblock }))?;
        m.write_u32(out, new_fd)
    }

    /// `sock_recv(fd, ri_data, ri_flags) -> (ro_datalen, ro_flags)`.
    #[allow(clippy::too_many_arguments)]
    pub fn sock_recv(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        ri_flags: u32,
        ro_datalen: u32,
        ro_flags: u32,
    ) -> WasiResult {
        let all = u32::from(types::RECV_PEEK | types::RECV_WAITALL);
        if ri_flags & !all != 0 {
            return Err(Errno::INVAL);
        }
        let iovs = m.iovecs(iovs, iovs_len)?;
        m.check_array(ro_datalen, 1, 4)?;
        m.check_array(ro_flags, 1, 2)?;
        let s = self.socket(fd)?;
        if s.socket.is_listener() {
            return Err(Errno::NOTCONN);
        }
        let mut flags = 0;
        if ri_flags & u32::from(types::RECV_PEEK) != 0 {
            flags |= libc::MSG_PEEK;
        }
        if ri_flags & u32::from(types::RECV_WAITALL) != 0 {
            flags |= libc::MSG_WAITALL;
        }
        let sock = s.socket.fd();
        let n = read_scatter(m, &iovs, |b| host::recv(sock, b, flags))?;
        m.write_u32(ro_datalen, n)?;
        m.write_u16(ro_flags, 0)
    }

    /// `sock_send(fd, si_data, si_flags) -> so_datalen`.
    pub fn sock_send(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        _si_flags: u32,
        so_datalen: u32,
    ) -> WasiResult {
        let iovs = m.iovecs(iovs, iovs_len)?;
        m.check_array(so_datalen, 1, 4)?;
        let s = self.socket(fd)?;
        if s.socket.is_listener() {
            return Err(Errno::NOTCONN);
        }
        let data = gather(m, &iovs)?;
        let n = host::send(s.socket.fd(), &data, 0)?;
        m.write_u32(so_datalen, size_u32(n))
    }

    /// `sock_shutdown(fd, how)`.
    pub fn sock_shutdown(&mut self, _m: &mut GuestMemory<'_>, fd: u32, how: u32) -> WasiResult {
        let how = match how {
            1 => libc::SHUT_RD,
            2 => libc::SHUT_WR,
            3 => libc::SHUT_RDWR,
            _ => return Err(Errno::INVAL),
        };
        let s = self.socket(fd)?;
        if s.socket.is_listener() {
            return Err(Errno::NOTCONN);
        }
        host::shutdown(s.socket.fd(), how)?;
        Ok(())
    }
}

/// What a positioned transfer does with its file.
#[derive(Clone, Copy)]
enum Access {
    Read,
    Write,
}

/// The file `entry` is, for `fd_pread`/`fd_pwrite` at `offset`: `BADF` without the access
/// right, `INVAL` for an offset past `i64::MAX`, `ISDIR` (reading) or `BADF` (writing) for
/// a directory, `SPIPE` for anything unseekable (stdio, sockets).
fn positioned_file(entry: &Entry, offset: u64, access: Access) -> Result<&FileEntry, Errno> {
    match (entry, access) {
        (Entry::File(f), Access::Read) if !f.readable => Err(Errno::BADF),
        (Entry::File(f), Access::Write) if !f.writable => Err(Errno::BADF),
        (Entry::File(_), _) if offset > i64::MAX as u64 => Err(Errno::INVAL),
        (Entry::File(f), _) => Ok(f),
        (Entry::Dir(_) | Entry::Virtual(_), Access::Read) => Err(Errno::ISDIR),
        (Entry::Dir(_) | Entry::Virtual(_), Access::Write) => Err(Errno::BADF),
        _ => Err(Errno::SPIPE),
    }
}
