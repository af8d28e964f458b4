//! Linear memory: one `mmap` reservation that grows in place.
//!
//! The whole maximum size (the declared maximum, or 4 GiB when there is none) is reserved
//! up front as inaccessible address space, and `memory.grow` makes more of it readable and
//! writable with `mprotect`. The base address therefore never moves: growing never copies,
//! and the interpreter may keep the base in a register across instructions (it re-reads the
//! length after anything that can grow memory). Accesses are bounds-checked against the
//! current length in the interpreter; the reservation's inaccessible tail is a second line of
//! defence, not the mechanism.

use std::ptr::NonNull;

/// Bytes in a WebAssembly page.
pub const PAGE_SIZE: usize = 65_536;
/// Pages of a 32-bit memory's 4 GiB address space.
pub const MAX_PAGES: u32 = 65_536;

/// A linear memory's storage.
#[derive(Debug)]
pub struct LinearMemory {
    base: NonNull<u8>,
    /// Accessible bytes (a multiple of the page size).
    len: usize,
    /// Reserved bytes (accessible or not).
    reserved: usize,
    /// Growth limit in pages.
    max_pages: u32,
    /// The maximum the memory type declared (import matching compares against it).
    declared_max: Option<u32>,
}

// SAFETY: the mapping is owned exclusively by this value; access goes through `&self`/`&mut
// self`, so the usual aliasing rules of Rust apply to it as to a `Vec<u8>`.
unsafe impl Send for LinearMemory {}
// SAFETY: as above; `&LinearMemory` only hands out shared slices.
unsafe impl Sync for LinearMemory {}

impl LinearMemory {
    /// A memory of `min` pages that may grow to `max` pages (at most 65,536).
    pub fn new(min: u32, max: Option<u32>) -> Result<Self, String> {
        let max_pages = max.unwrap_or(MAX_PAGES).min(MAX_PAGES);
        if min > max_pages {
            return Err(format!(
                "memory minimum {min} exceeds its maximum {max_pages}"
            ));
        }
        let reserved = max_pages as usize * PAGE_SIZE;
        let base = if reserved == 0 {
            NonNull::dangling()
        } else {
            // SAFETY: an anonymous private mapping with no address hint has no preconditions;
            // the result is checked for MAP_FAILED before use.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    reserved,
                    libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                )
            };
            if ptr == libc::MAP_FAILED {
                return Err(format!(
                    "cannot reserve {reserved} bytes of address space for linear memory: {}",
                    std::io::Error::last_os_error()
                ));
            }
            NonNull::new(ptr.cast::<u8>()).ok_or("mmap returned null")?
        };
        let mut memory = Self {
            base,
            len: 0,
            reserved,
            max_pages,
            declared_max: max,
        };
        if memory.grow(min).is_none() {
            return Err(format!("cannot commit {min} pages of linear memory"));
        }
        Ok(memory)
    }

    /// Current size in pages.
    pub fn pages(&self) -> u32 {
        (self.len / PAGE_SIZE) as u32
    }

    /// The declared maximum in pages, if the memory type has one.
    pub fn max_pages_declared(&self) -> Option<u32> {
        self.declared_max
    }

    /// Current size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a zero-page memory.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Grows by `delta` pages; returns the old size in pages, or `None` if the maximum would
    /// be exceeded or the system refuses (both are `memory.grow` returning -1, not traps).
    pub fn grow(&mut self, delta: u32) -> Option<u32> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages {
            return None;
        }
        if delta == 0 {
            return Some(old);
        }
        let new_len = new as usize * PAGE_SIZE;
        // SAFETY: [base + len, base + new_len) lies inside the reservation (new ≤ max_pages,
        // and the reservation is max_pages pages), which this value owns.
        let rc = unsafe {
            libc::mprotect(
                self.base.as_ptr().add(self.len).cast(),
                new_len - self.len,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if rc != 0 {
            return None;
        }
        self.len = new_len;
        Some(old)
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: [base, base + len) is mapped readable and writable (fresh anonymous pages
        // are zeroed, so initialised) and owned by `self`; the shared borrow of `self` keeps
        // it from being grown (which never moves it anyway) or unmapped meanwhile.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr(), self.len) }
    }

    /// Asks the kernel to allocate the pages of `[offset, offset + len)` (as far as the
    /// memory reaches) now, for a large range about to be written whole (a data segment).
    ///
    /// Performance: instantiating python.wasm copies its 2.65 MB data segment into fresh
    /// pages, a page fault per 4 KiB page; allocated in one call (`memory::prefault`) they
    /// are not faults (`wasmi-py run -c pass` 0.976-0.983 in four A/Bs). No huge pages:
    /// for all of linear memory they measured level for 5.5 MiB more peak RSS.
    pub fn populate(&mut self, offset: usize, len: usize) {
        let data = self.data_mut();
        let end = offset.saturating_add(len).min(data.len());
        if let Some(range) = data.get_mut(offset..end) {
            prefault(range, false);
        }
    }

    /// The accessible bytes, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and the exclusive borrow of `self` makes this the only
        // reference to the bytes.
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr(), self.len) }
    }
}

/// Asks the kernel to allocate the pages of `buf` (memory about to be written whole) now,
/// and with `huge_pages`, to back them with huge pages where the system allows them on
/// request. Only for buffers of 1 MiB or more (a small one shares its pages with other
/// data, and its few faults cost less than the calls). Both are hints: they never change
/// what the memory holds, and a kernel without them leaves the pages to fault in.
pub(crate) fn prefault(buf: &mut [u8], huge_pages: bool) {
    #[cfg(target_os = "linux")]
    if buf.len() >= 1 << 20 {
        const PAGE: usize = 4096;
        let addr = buf.as_mut_ptr() as usize;
        let start = addr.next_multiple_of(PAGE);
        let end = (addr + buf.len()) & !(PAGE - 1);
        if end > start {
            let (ptr, len) = (start as *mut libc::c_void, end - start);
            // SAFETY: [start, end) lies inside `buf`, memory the caller has exclusive use
            // of; neither advice changes what the memory holds (both only decide how it
            // is backed), and a failed call changes nothing.
            unsafe {
                if huge_pages {
                    libc::madvise(ptr, len, libc::MADV_HUGEPAGE);
                }
                libc::madvise(ptr, len, libc::MADV_POPULATE_WRITE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (buf, huge_pages);
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        if self.reserved != 0 {
            // SAFETY: unmapping exactly the reservation made in `new`, once.
            unsafe {
                libc::munmap(self.base.as_ptr().cast(), self.reserved);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_in_place_and_keeps_contents() {
        let mut m = LinearMemory::new(1, Some(4)).unwrap();
        let base = m.data().as_ptr();
        m.data_mut()[PAGE_SIZE - 1] = 7;
        assert_eq!(m.grow(2), Some(1));
        assert_eq!(m.pages(), 3);
        assert_eq!(m.data().as_ptr(), base, "growing must not move memory");
        assert_eq!(m.data()[PAGE_SIZE - 1], 7);
        assert_eq!(m.data()[3 * PAGE_SIZE - 1], 0);
        assert_eq!(m.grow(2), None, "beyond the maximum");
        assert_eq!(m.grow(0), Some(3));
    }

    #[test]
    fn populating_keeps_contents_and_stays_inside() {
        let mut m = LinearMemory::new(40, None).unwrap();
        let len = m.len();
        m.data_mut()[PAGE_SIZE + 3] = 9;
        m.data_mut()[len - 1] = 7;
        // Unaligned, over written and unwritten pages, past the end, and too small to do.
        m.populate(PAGE_SIZE + 1, 2 << 20);
        m.populate(len - (1 << 20) + 5, 4 << 20);
        m.populate(usize::MAX - 10, 2 << 20);
        m.populate(0, 100);
        assert_eq!(m.data()[PAGE_SIZE + 3], 9);
        assert_eq!(m.data()[len - 1], 7);
        let zeros = m.data().iter().filter(|&&b| b == 0).count();
        assert_eq!(zeros, len - 2, "nothing else changed");
        m.data_mut()[2 * PAGE_SIZE] = 1;
        assert_eq!(m.data()[2 * PAGE_SIZE], 1);
    }

    #[test]
    fn zero_sized_and_unbounded_memories() {
        let m = LinearMemory::new(0, Some(0)).unwrap();
        assert!(m.data().is_empty());
        let mut m = LinearMemory::new(0, None).unwrap();
        assert_eq!(m.grow(1), Some(0));
        assert_eq!(m.grow(MAX_PAGES), None);
    }
}
