//! Module files: read into memory the module keeps as it is, with the identity of the
//! file as read (which lets the code cache remember the file's hash: `src/cache.rs`).

use std::fs::{File, Metadata};
use std::io::{self, ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A module file read into memory, for [`Module::from_file`](crate::Module::from_file).
#[derive(Debug, Clone)]
pub struct ModuleFile {
    pub(crate) bytes: Arc<[u8]>,
    /// What identifies the file's contents without reading them, if it can be trusted
    /// to (see [`FileStamp`]).
    pub(crate) stamp: Option<FileStamp>,
}

impl ModuleFile {
    /// Reads the file at `path`.
    ///
    /// Performance: `std::fs::read` and then [`Module::new`](crate::Module::new) held
    /// python.wasm twice (7 MB read into a vector, then copied into the module's shared
    /// bytes: ~1,700 page faults and a copy, ~1.5% of a cold `wasmi-py run -c pass`). Here
    /// the file is read straight into the shared allocation, which the allocator zeroes
    /// (fresh pages for a large one: nothing is written twice).
    pub fn read(path: &Path) -> io::Result<Self> {
        Self::read_at(path, SystemTime::now())
    }

    /// [`ModuleFile::read`] at time `now` (tests pretend a file is older than it is).
    pub(crate) fn read_at(path: &Path, now: SystemTime) -> io::Result<Self> {
        let mut file = File::open(path)?;
        let before = file.metadata()?;
        let read = if before.is_file() {
            read_exactly(&mut file, before.len())?
        } else {
            None
        };
        let Some(bytes) = read else {
            // Not a regular file (a pipe: read once, from where it is), or one whose
            // length changed while it was read (read again): as it is, unstamped.
            if before.is_file() {
                file.seek(SeekFrom::Start(0))?;
            }
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            return Ok(Self {
                bytes: Arc::from(bytes),
                stamp: None,
            });
        };
        let after = file.metadata()?;
        let stamp =
            FileStamp::of(&before).filter(|s| Some(*s) == FileStamp::of(&after) && s.settled(now));
        Ok(Self { bytes, stamp })
    }

    /// The module's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Reads exactly `len` bytes, the rest of `file`; `None` if it holds more or fewer.
fn read_exactly(file: &mut File, len: u64) -> io::Result<Option<Arc<[u8]>>> {
    // Beyond 4 GiB (no valid module is): `None`, and the caller's `read_to_end` reports a
    // failed allocation as an error where `new_zeroed_slice` would abort.
    let Some(len) = usize::try_from(len).ok().filter(|&n| n <= 1 << 32) else {
        return Ok(None);
    };
    let bytes: Arc<[std::mem::MaybeUninit<u8>]> = Arc::new_zeroed_slice(len);
    // SAFETY: the slice is zeroed, and all-zero bytes are valid `u8`s.
    let mut bytes: Arc<[u8]> = unsafe { bytes.assume_init() };
    let buf = Arc::get_mut(&mut bytes).expect("a fresh Arc is unique");
    // Performance: reading python.wasm into fresh memory took ~1,700 page faults (one
    // per 4 KiB page the read copied into), a third of all those of a cold `wasmi-py run
    // -c pass`; with huge pages (where the system allows them on request, as Debian's
    // default does) and the pages allocated in one call, 2-3 (`perf stat`: 4,670 -> 2,970
    // faults; start-up 0.978 / 0.981 of before).
    crate::memory::prefault(buf, true);
    match file.read_exact(buf) {
        Ok(()) if file.read(&mut [0u8; 1])? == 0 => Ok(Some(bytes)),
        Ok(()) => Ok(None),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// What identifies a file's contents without reading them: device, inode, size, and the
/// modification and status-change times (as git's index does). Writing a file changes its
/// status-change time (`ctime`), which, unlike the modification time, no one but the
/// clock's owner can set back.
///
/// Timestamps are taken from a coarse clock (a few milliseconds), so a file written twice
/// within one tick keeps its times. A stamp is therefore only taken from a file whose
/// times are [`SETTLED`] older than the moment its reading began: a write after that
/// moment gives the file a later `ctime` than the stamp's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp([u64; 7]);

/// How long a file must have been left alone before its stamp is trusted.
const SETTLED: Duration = Duration::from_secs(2);

/// A time past [`SETTLED`], for tests that read a file as if later.
#[cfg(test)]
pub(crate) const SETTLED_FOR_TESTS: Duration = Duration::from_secs(10);

impl FileStamp {
    fn of(meta: &Metadata) -> Option<Self> {
        meta.is_file().then(|| {
            Self([
                meta.dev(),
                meta.ino(),
                meta.size(),
                meta.mtime() as u64,
                meta.mtime_nsec() as u64,
                meta.ctime() as u64,
                meta.ctime_nsec() as u64,
            ])
        })
    }

    /// The later of the two times (`None` if one is out of range: never settled).
    fn changed(&self) -> Option<SystemTime> {
        let [.., m, m_ns, c, c_ns] = self.0;
        // Times before 1970 (negative) read as huge: out of range.
        let at = |s: u64, ns: u64| {
            SystemTime::UNIX_EPOCH.checked_add(Duration::new(s, ns.min(999_999_999) as u32))
        };
        Some(at(m, m_ns)?.max(at(c, c_ns)?))
    }

    fn settled(&self, now: SystemTime) -> bool {
        self.changed()
            .and_then(|t| t.checked_add(SETTLED))
            .is_some_and(|t| t <= now)
    }

    /// The stamp as bytes (stored by the code cache).
    pub(crate) fn to_bytes(self) -> [u8; 56] {
        let mut out = [0u8; 56];
        for (chunk, n) in out.chunks_exact_mut(8).zip(self.0) {
            chunk.copy_from_slice(&n.to_le_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmi-py-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn reads_the_whole_file() {
        let path = temp("whole", b"\0asm\x01\0\0\0");
        let file = ModuleFile::read(&path).unwrap();
        assert_eq!(file.bytes(), b"\0asm\x01\0\0\0");
        let empty = temp("empty", b"");
        assert_eq!(ModuleFile::read(&empty).unwrap().bytes(), b"");
        assert!(ModuleFile::read(&path.with_extension("missing")).is_err());
    }

    #[test]
    fn a_large_file_is_read_exactly() {
        // Past the size from which the buffer is prefaulted, of a length that is no
        // multiple of a page: every byte as in the file, the unaligned ends included.
        let content: Vec<u8> = (0..(3 << 20) + 4093u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let path = temp("large", &content);
        assert!(ModuleFile::read(&path).unwrap().bytes() == content.as_slice());
    }

    #[test]
    fn a_file_just_written_gets_no_stamp() {
        let path = temp("fresh", b"abc");
        assert!(ModuleFile::read(&path).unwrap().stamp.is_none());
        let later = SystemTime::now() + SETTLED + Duration::from_secs(1);
        let stamp = ModuleFile::read_at(&path, later).unwrap().stamp;
        assert!(stamp.is_some());
        // The same file read again: the same stamp.
        assert_eq!(ModuleFile::read_at(&path, later).unwrap().stamp, stamp);
    }

    #[test]
    fn rewriting_a_file_changes_its_stamp() {
        let path = temp("rewritten", b"abc");
        let later = || SystemTime::now() + SETTLED + Duration::from_secs(1);
        let first = ModuleFile::read_at(&path, later()).unwrap().stamp.unwrap();
        // Past the coarse clock's tick (see `FileStamp`), then the same size rewritten.
        std::thread::sleep(Duration::from_millis(50));
        std::fs::write(&path, b"abd").unwrap();
        let second = ModuleFile::read_at(&path, later()).unwrap().stamp.unwrap();
        assert_ne!(first, second);
    }

    #[test]
    fn a_pipe_is_read_once_and_whole() {
        let path = std::env::temp_dir().join(format!("wasmi-py-fifo-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c_path` is a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let content: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let writer = {
            let (path, content) = (path.clone(), content.clone());
            std::thread::spawn(move || std::fs::write(path, content).unwrap())
        };
        let file = ModuleFile::read(&path).unwrap();
        writer.join().unwrap();
        assert_eq!(file.bytes(), content);
        assert!(file.stamp.is_none());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn directories_are_not_modules() {
        let dir = std::env::temp_dir();
        assert!(ModuleFile::read(&dir).is_err());
    }
}
