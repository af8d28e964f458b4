//! The few host calls `std` and `cap-std` do not offer, each a thin checked wrapper over
//! `libc`. Every `unsafe` block of the crate is in this module.

use std::fs::File;
use std::io::{self, Seek};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// The current offset of `file`.
pub fn tell(file: &File) -> io::Result<u64> {
    let mut f = file;
    f.stream_position()
}

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Sets or clears `O_APPEND` and `O_NONBLOCK` on a descriptor the guest owns.
pub fn set_status_flags(fd: BorrowedFd<'_>, append: bool, nonblock: bool) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: F_GETFL on a descriptor kept open by the `BorrowedFd` borrow; no pointers.
    let flags = cvt(unsafe { libc::fcntl(raw, libc::F_GETFL) })?;
    let mut new = flags & !(libc::O_APPEND | libc::O_NONBLOCK);
    if append {
        new |= libc::O_APPEND;
    }
    if nonblock {
        new |= libc::O_NONBLOCK;
    }
    if new != flags {
        // SAFETY: F_SETFL with an integer argument on a live descriptor; no pointers.
        cvt(unsafe { libc::fcntl(raw, libc::F_SETFL, new) })?;
    }
    Ok(())
}

/// `poll(2)` on `fds` for at most `timeout_ms` milliseconds (-1: no limit). Returns the
/// number of descriptors with events; `EINTR` is reported as 0 (nothing ready yet).
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: libc::c_int) -> io::Result<usize> {
    let n = libc::nfds_t::try_from(fds.len())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `fds` is a valid, exclusively borrowed array of `n` pollfd records for the
    // duration of the call; the kernel writes only their `revents` fields.
    let ret = unsafe { libc::poll(fds.as_mut_ptr(), n, timeout_ms) };
    match cvt(ret) {
        Ok(n) => Ok(n as usize),
        Err(e) if e.raw_os_error() == Some(libc::EINTR) => Ok(0),
        Err(e) => Err(e),
    }
}

/// Whether `fd` has input (or a hang-up) right now, without blocking.
pub fn readable_now(fd: RawFd) -> io::Result<bool> {
    let mut p = [libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }];
    Ok(poll(&mut p, 0)? > 0)
}

/// Whether `fd` can take output right now, without blocking.
pub fn writable_now(fd: RawFd) -> io::Result<bool> {
    let mut p = [libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    }];
    Ok(poll(&mut p, 0)? > 0)
}

fn clock(id: u32) -> Option<libc::clockid_t> {
    Some(match id {
        crate::types::clockid::REALTIME => libc::CLOCK_REALTIME,
        crate::types::clockid::MONOTONIC => libc::CLOCK_MONOTONIC,
        crate::types::clockid::PROCESS_CPUTIME_ID => libc::CLOCK_PROCESS_CPUTIME_ID,
        crate::types::clockid::THREAD_CPUTIME_ID => libc::CLOCK_THREAD_CPUTIME_ID,
        _ => return None,
    })
}

fn timespec_ns(ts: &libc::timespec) -> u64 {
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// The time of WASI clock `id` in nanoseconds, or `None` for an unknown clock.
pub fn clock_time(id: u32) -> Option<io::Result<u64>> {
    let clk = clock(id)?;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let r = cvt(unsafe { libc::clock_gettime(clk, &mut ts) });
    Some(r.map(|_| timespec_ns(&ts)))
}

/// The resolution of WASI clock `id` in nanoseconds, or `None` for an unknown clock.
pub fn clock_res(id: u32) -> Option<io::Result<u64>> {
    let clk = clock(id)?;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let r = cvt(unsafe { libc::clock_getres(clk, &mut ts) });
    Some(r.map(|_| timespec_ns(&ts).max(1)))
}

/// Fills `buf` with random bytes from the kernel.
pub fn random(buf: &mut [u8]) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: `rest` is a valid, exclusively borrowed buffer of `rest.len()` bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        done += n as usize;
    }
    Ok(())
}

/// `recv(2)` with `flags` (`MSG_PEEK`, `MSG_WAITALL`, `MSG_DONTWAIT`).
pub fn recv(fd: BorrowedFd<'_>, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is a valid, exclusively borrowed buffer of `buf.len()` bytes and the
        // descriptor is kept open by the borrow.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), flags) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// `send(2)` without raising `SIGPIPE` (a closed peer gives `EPIPE`).
pub fn send(fd: BorrowedFd<'_>, buf: &[u8], flags: libc::c_int) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is a valid buffer of `buf.len()` bytes, only read by the kernel; the
        // descriptor is kept open by the borrow.
        let n = unsafe {
            libc::send(
                fd.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                flags | libc::MSG_NOSIGNAL,
            )
        };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// `shutdown(2)`.
pub fn shutdown(fd: BorrowedFd<'_>, how: libc::c_int) -> io::Result<()> {
    // SAFETY: integer arguments only, on a descriptor kept open by the borrow.
    cvt(unsafe { libc::shutdown(fd.as_raw_fd(), how) }).map(|_| ())
}

/// `accept4(2)` with `SOCK_CLOEXEC`: a new blocking connection (the peer address is not
/// wanted).
pub fn accept(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    // SAFETY: null address pointers are allowed by accept4 (the address is discarded);
    // the listening descriptor is kept open by the borrow.
    let new = cvt(unsafe {
        libc::accept4(
            fd.as_raw_fd(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_CLOEXEC,
        )
    })?;
    // SAFETY: accept4 returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}
