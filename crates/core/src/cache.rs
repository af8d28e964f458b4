//! The code cache: translated function bodies kept on disk between processes.
//!
//! A lazy engine validates and translates each body on its first call. For a large module
//! run again and again (python.wasm: every `wasmi-py run` translates the ~2,000 bodies
//! CPython's start-up calls, about 15% of it) that work is the same every time, so a module
//! loaded with [`Module::with_code_cache`](crate::Module::with_code_cache) looks a body up
//! in its cache file before translating it, and
//! [`Module::save_code_cache`](crate::Module::save_code_cache) writes the bodies translated
//! since back (as wasmtime caches compiled code).
//!
//! **Which file.** `DIR/<sha256 of the module bytes>-<build key>.code`. The build key
//! hashes the enabled features and `WASMI_PY_CODE_STAMP`, a hash of the decoder's,
//! validator's and translator's sources computed by `build.rs`: a file written by any other
//! build is never read (it would hold another translator's output). It is not deleted
//! either (two builds used in turn would evict each other's files on every run): unused
//! files go when the directory outgrows its limit (below). The SHA-256 makes the file name
//! a commitment to the module: a module cannot be made to find another module's code (a
//! 64-bit hash could be collided on purpose, and a module run in the sandbox could then
//! plant code for a module run later).
//!
//! **Nothing read is trusted.** Every entry carries a checksum, so a damaged or truncated
//! file is noticed, not run. Beyond that (a file forged on purpose by someone who can write
//! to the user's cache), a body is decoded field by field (no transmutes:
//! [`crate::instr::codec`]), its frame layout checked against the function's type, its
//! bytecode checked as [`verify`](crate::translate::verify) checks fresh translations
//! (every slot inside the frame, every jump inside the code: the same
//! `translate::check_instr`, applied to each instruction as it is decoded), and every
//! function, global, table, type, segment and memory it names checked to exist: the
//! interpreter's unchecked accesses (slots, jumps) stay in bounds, so a forged file cannot
//! cause undefined behaviour. It can make the module it names misbehave like any wrongly
//! translated code: wrong results, a loop, or a value of the wrong type reaching one of the
//! checked lookups (a table entry forged as a function reference, host arguments past the
//! value stack), which abort the process. Making that impossible would mean validating the
//! body again, the work the cache saves; the checksums make it a matter of deliberate
//! forgery by someone who can already write the user's files. A body that fails any check
//! is translated instead.
//!
//! **Format** (little-endian): the magic `WPYCODE1`, the module's SHA-256 (32 bytes), the
//! build key (8), the entry count `n` (u32), `n` index entries (defined-function index,
//! offset into the payload, length: u32 each; the [`checksum`]: u64), then the payload
//! (entries in any order). An entry is `num_params`, `num_locals`, `frame_size`,
//! `num_consts` (u32 each), the constants (u64 each), the instruction count (u32), the
//! instructions ([`Instr::encode`]), the count of inlined ranges (u32) and the ranges
//! (`start`, `end`, module function index: u32 each; see `crate::inline`), and the mask
//! of parameters the code writes (u64, [`CompiledFunc::params_written`]).
//!
//! **The module's hash.** The SHA-256 of python.wasm takes ~3.5 ms (7 MB), so it is
//! computed on a helper thread while the module is decoded and instantiated, and the first
//! lookup waits for it. That thread often had not finished when the first function was
//! called (0-4 ms of waiting, ~2 ms on average, measured in `wasmi-py run -c pass`), so for
//! a module loaded from a file ([`Module::from_file`](crate::Module::from_file)) the hash
//! is also remembered: `DIR/<hash of the stamp>.id` holds the file's [`FileStamp`] (device,
//! inode, size, modification and status-change times, taken only once the file has been
//! left alone for two seconds) and the module's SHA-256, written when the cache is saved. A
//! load whose file has the same stamp takes the hash from there and hashes nothing (cold
//! `-c pass` 88.6 -> 82.9 ms). Rewriting the file changes its status-change time, which no
//! one but the clock's owner can set back, so a rewritten module is hashed afresh; a forged
//! `.id` file is as bad as a forged cache file, no worse (see below).
//!
//! **Reading and writing.** The first lookup reads the file's header and index. A body is
//! read on the function's first call, so memory holds only what runs. Saving writes the
//! union of what the file held and what was translated, the bodies in the order this run
//! first called them (then the others), so that a run, which starts as the saving run did,
//! finds its bodies one after another in the file and reads them ahead
//! (`CacheFile::with_entry`: 39 reads instead of 1,842 for `-c pass`). With
//! `Config::decode_ahead` (the default) a helper thread decodes the bodies in that order a
//! little ahead of the program's first calls (at most [`AHEAD`] bodies beyond them), so the
//! interpreting thread mostly finds them ready (`ModuleCache::ahead_step`). It writes a
//! temporary file, then renames it over the old one: a reader sees the old file or the new
//! one, concurrent writers lose each other's additions but never corrupt the file. The
//! directory is kept under 512 MiB by deleting the least recently used files when saving.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use wasmi_py_decode::Module;

use crate::exec::Op;
use crate::file::FileStamp;
use crate::inline::Inlined;
use crate::instr::codec::{Check, Field, Reader};
use crate::instr::Instr;
use crate::store::{Config, Inline};
use crate::translate::{check_end, CompiledFunc, MAX_FRAME_SLOTS};

const MAGIC: &[u8; 8] = b"WPYCODE1";
/// Bytes before the index: magic, module hash, build key, entry count.
const HEADER: usize = 8 + 32 + 8 + 4;
const INDEX_ENTRY: usize = 20;

/// A hash of the translator's sources (see `build.rs`).
const CODE_STAMP: &str = env!("WASMI_PY_CODE_STAMP");

/// The cache of one module: where its file is and which bodies it holds.
pub(crate) struct ModuleCache {
    dir: PathBuf,
    build_key: u64,
    /// The module's SHA-256, remembered or being computed (see the module docs).
    hashing: Mutex<Option<Hashing>>,
    /// The module file's stamp, if it was loaded from one that has a trustworthy stamp.
    stamp: Option<FileStamp>,
    /// The hash was computed for a stamped file: saving remembers it.
    remember: AtomicBool,
    /// The file's index, read on first use.
    file: OnceLock<CacheFile>,
    /// A body was translated that the file lacks (or holds unusably): saving has work.
    fresh: AtomicBool,
    /// Bodies found in the file / not found (or unusable), for [`CodeCacheStats`].
    hits: AtomicUsize,
    misses: AtomicUsize,
    /// Serialises saves of this module within the process.
    saving: Mutex<()>,
    /// The defined functions called, in the order of their first calls: the order of the
    /// payload when saving (see [`CacheFile::with_entry`]); how many there are paces
    /// decoding ahead.
    first_used: Mutex<Vec<u32>>,
    /// The thread decoding ahead, if there is one, and how many first calls it waits for
    /// before it goes on (`usize::MAX`: not waiting).
    ahead: OnceLock<std::thread::Thread>,
    wake_at: AtomicUsize,
}

impl Drop for ModuleCache {
    /// Wakes the thread decoding ahead, if it waits, so that it sees the module gone
    /// and ends.
    fn drop(&mut self) {
        if let Some(thread) = self.ahead.get() {
            thread.unpark();
        }
    }
}

/// Where the module's hash comes from.
enum Hashing {
    /// Remembered for the module file's stamp.
    Remembered([u8; 32]),
    /// Being computed on a helper thread.
    Thread(JoinHandle<[u8; 32]>),
}

/// How a module's code cache served it so far (see
/// [`Module::code_cache_stats`](crate::Module::code_cache_stats)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeCacheStats {
    /// Function bodies taken from the cache file.
    pub hits: usize,
    /// Function bodies translated because the file lacked them (or held them damaged).
    pub misses: usize,
}

/// A module's cache file as found when first used.
struct CacheFile {
    module_hash: [u8; 32],
    /// The file as opened (`None` if there was none, or it was unusable).
    file: Option<File>,
    /// Per defined function: its entry (payload offset, length, checksum), if the file
    /// has one.
    index: Box<[Option<(u64, u32, u64)>]>,
    /// Where the payload starts in the file, and its length.
    payload_start: u64,
    payload_len: u64,
    /// Payload bytes read ahead of their lookups (see [`CacheFile::with_entry`]).
    window: Mutex<Window>,
    /// Reads of the payload made for lookups (for tests).
    reads: AtomicUsize,
    /// The defined functions the file holds, in the order of their entries.
    order: Box<[u32]>,
}

/// A stretch of the payload read at once: `bytes` from payload offset `start`.
#[derive(Default)]
struct Window {
    start: u64,
    bytes: Vec<u8>,
    /// Where the last entry looked up ended.
    next: u64,
}

/// How much of the payload a lookup reads when lookups walk it forward.
const READ_AHEAD: u64 = 64 * 1024;

/// How many bodies decoding ahead may run ahead of the program's first calls: a bound on
/// the memory spent on bodies a run does not call (one CPython body is ~2.4 KB decoded).
const AHEAD: usize = 256;

/// Where decoding ahead is (see [`ModuleCache::ahead_step`]).
#[derive(Default)]
pub(crate) struct Ahead {
    window: Window,
    /// Position in the file's order.
    next: usize,
}

/// What [`ModuleCache::ahead_step`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Some bodies (or none that were needed): step again.
    Worked,
    /// Enough ahead: park until a first call or the module's drop wakes it.
    Wait,
    /// The file holds no more.
    Done,
}

impl ModuleCache {
    /// The cache of the module with bytes `bytes` in `dir`; an absent or unusable file is
    /// an empty cache. Starts hashing the bytes, unless their hash is remembered for
    /// `stamp`, the stamp of the file they were read from.
    pub(crate) fn open(
        dir: &Path,
        bytes: Arc<[u8]>,
        stamp: Option<FileStamp>,
        config: &Config,
    ) -> Self {
        let hashing = match stamp.and_then(|stamp| recall(dir, stamp)) {
            Some(hash) => Some(Hashing::Remembered(hash)),
            // If no thread can be started, the first lookup hashes.
            None => std::thread::Builder::new()
                .name("wasmi-py code cache".into())
                .spawn(move || -> [u8; 32] { Sha256::digest(&bytes).into() })
                .ok()
                .map(Hashing::Thread),
        };
        Self {
            dir: dir.to_path_buf(),
            build_key: build_key(config),
            hashing: Mutex::new(hashing),
            stamp,
            remember: AtomicBool::new(false),
            file: OnceLock::new(),
            fresh: AtomicBool::new(false),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
            saving: Mutex::new(()),
            first_used: Mutex::default(),
            ahead: OnceLock::new(),
            wake_at: AtomicUsize::new(usize::MAX),
        }
    }

    pub(crate) fn stats(&self) -> CodeCacheStats {
        CodeCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// The file's index, reading it on first use (which waits for the module's hash).
    fn file(&self, module: &Module) -> &CacheFile {
        self.file.get_or_init(|| {
            let handle = self
                .hashing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            let digest = || -> [u8; 32] { Sha256::digest(module.bytes()).into() };
            let (module_hash, computed) = match handle {
                Some(Hashing::Remembered(hash)) => (hash, false),
                Some(Hashing::Thread(t)) => (t.join().unwrap_or_else(|_| digest()), true),
                None => (digest(), true),
            };
            // A hash computed for a stamped file is remembered when saving.
            self.remember
                .store(computed && self.stamp.is_some(), Ordering::Relaxed);
            let mut file = CacheFile {
                module_hash,
                file: None,
                index: vec![None; module.num_defined_functions() as usize].into_boxed_slice(),
                payload_start: 0,
                payload_len: 0,
                window: Mutex::default(),
                reads: AtomicUsize::new(0),
                order: Box::default(),
            };
            if let Ok(f) = File::open(self.path(&module_hash)) {
                if file.read_index(&f, self.build_key).is_some() {
                    // Marks the file as used, for `prune` (owners may set times on a
                    // read-only handle; a failure only makes eviction less fair).
                    let _ = f.set_modified(SystemTime::now());
                    file.file = Some(f);
                } else {
                    file.index.fill(None);
                }
            }
            file
        })
    }

    fn path(&self, module_hash: &[u8; 32]) -> PathBuf {
        self.dir
            .join(format!("{}-{:016x}.code", hex(module_hash), self.build_key))
    }

    /// Notes the first call of defined function `defined` (in a store): its place in the
    /// order of first use, and the pace of decoding ahead (waking the thread that does
    /// it when it waits for this many calls).
    pub(crate) fn note_call(&self, defined: u32) {
        let calls = {
            let mut first_used = self.first_used.lock().unwrap_or_else(|e| e.into_inner());
            first_used.push(defined);
            first_used.len()
        };
        // Read after the lock is released: a mark the helper set before it last took the
        // lock is seen here, and a call pushed before that is seen there (`calls`).
        if calls >= self.wake_at.load(Ordering::Relaxed) {
            self.wake_at.store(usize::MAX, Ordering::Relaxed);
            if let Some(thread) = self.ahead.get() {
                thread.unpark();
            }
        }
    }

    /// First calls so far (taking the lock `note_call` pushes under, which orders this
    /// read after the helper's store of `wake_at` and the pushes before it).
    fn calls(&self) -> usize {
        self.first_used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Names the thread that decodes ahead (see [`ModuleCache::ahead_step`]).
    pub(crate) fn set_ahead_thread(&self, thread: std::thread::Thread) {
        let _ = self.ahead.set(thread);
    }

    /// One step of decoding ahead of the program's first calls (`Config::decode_ahead`):
    /// the next bodies of the file in its order, which is the order in which the run
    /// that wrote it first called them, go into `slots` (the module's bodies by defined
    /// index) unless they are there already, at most [`AHEAD`] bodies beyond the first
    /// calls made so far. Only bodies the file holds intact are taken; nothing is
    /// translated here.
    pub(crate) fn ahead_step(
        &self,
        module: &Module,
        slots: &[crate::store::CompiledSlot],
        state: &mut Ahead,
    ) -> Step {
        let file = self.file(module);
        if file.file.is_none() || state.next >= file.order.len() {
            return Step::Done;
        }
        let allowed = (self.calls() + AHEAD).min(file.order.len());
        if state.next >= allowed {
            let at = state.next - AHEAD / 2;
            self.wake_at.store(at, Ordering::Relaxed);
            // A call pushed before the store above did not see it (see `note_call`).
            if self.calls() >= at {
                self.wake_at.store(usize::MAX, Ordering::Relaxed);
                return Step::Worked;
            }
            return Step::Wait;
        }
        let end = allowed.min(state.next + 32);
        for &defined in &file.order[state.next..end] {
            let Some(slot) = slots.get(defined as usize) else {
                continue;
            };
            if slot.get().is_some() {
                continue;
            }
            let found = file.with_entry(&mut state.window, defined, |bytes| {
                decode_entry(bytes, module, defined)
            });
            // Counted as the program's own lookup would have been, once per body: if
            // the program got there first, its lookup counted it.
            if let Some(func) = found {
                if slot.set(Ok(Arc::new(func))).is_ok() {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        state.next = end;
        Step::Worked
    }

    /// Defined function `defined`'s body from the file, if it holds a usable one. A miss
    /// marks the cache as having something new to save (the caller translates).
    pub(crate) fn lookup(&self, module: &Module, defined: u32) -> Option<CompiledFunc> {
        let file = self.file(module);
        let found = file.with_entry(
            &mut file.window.lock().unwrap_or_else(|e| e.into_inner()),
            defined,
            |bytes| decode_entry(bytes, module, defined),
        );
        if found.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        } else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            self.fresh.store(true, Ordering::Relaxed);
        }
        found
    }

    /// Writes the cache file if bodies were translated since it was read: the entries of
    /// `compiled` (defined function, body) and those of the old file for the other
    /// functions. `Ok(false)` if there was nothing new.
    pub(crate) fn save<'a>(
        &self,
        module: &Module,
        compiled: impl Iterator<Item = (u32, &'a CompiledFunc)>,
    ) -> io::Result<bool> {
        let _guard = self.saving.lock().unwrap_or_else(|e| e.into_inner());
        if let (true, Some(stamp), Some(file)) = (
            self.remember.swap(false, Ordering::Relaxed),
            self.stamp,
            self.file.get(),
        ) {
            // Only an optimisation: without it the next load hashes again.
            let _ = remember(&self.dir, stamp, &file.module_hash);
        }
        if !self.fresh.swap(false, Ordering::Relaxed) {
            return Ok(false);
        }
        let old = self.file(module);
        let mut entries: Vec<Option<Vec<u8>>> = vec![None; old.index.len()];
        for (defined, func) in compiled {
            if let Some(slot) = entries.get_mut(defined as usize) {
                let mut out = Vec::new();
                encode_entry(func, &mut out);
                *slot = Some(out);
            }
        }
        for (defined, slot) in entries.iter_mut().enumerate() {
            if slot.is_none() {
                *slot = old.read_entry(defined as u32);
            }
        }
        // The payload in the order this run first used the bodies, then the rest by
        // index (see `CacheFile::with_entry`).
        let mut placed = vec![false; entries.len()];
        let first_used = self.first_used.lock().unwrap_or_else(|e| e.into_inner());
        let order: Vec<u32> = (first_used.iter().copied())
            .chain(0..entries.len() as u32)
            .filter(|&d| {
                let slot = placed.get_mut(d as usize);
                slot.is_some_and(|p| !std::mem::replace(p, true)) && entries[d as usize].is_some()
            })
            .collect();
        drop(first_used);
        // The index first (offsets into the payload), then the file written from the
        // entries themselves: building the payload and the file as vectors too held the
        // bodies three times over (+9 MB of peak memory for a CPython run writing 2.6 MB).
        let mut index = Vec::new();
        let mut payload_len = 0u32;
        let mut count = 0u32;
        for &defined in &order {
            let Some(entry) = &entries[defined as usize] else {
                continue;
            };
            let Ok(len) = u32::try_from(entry.len()) else {
                break; // a 4 GiB cache file: keep what fits
            };
            let Some(end) = payload_len.checked_add(len) else {
                break;
            };
            defined.put(&mut index);
            payload_len.put(&mut index);
            len.put(&mut index);
            checksum(defined, entry).put(&mut index);
            payload_len = end;
            count += 1;
        }
        let kept = &order[..count as usize];
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&old.module_hash);
        self.build_key.put(&mut header);
        count.put(&mut header);

        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(&old.module_hash);
        let tmp = self.dir.join(format!(
            ".{}.{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("code"),
            std::process::id()
        ));
        let write = || -> io::Result<()> {
            let mut out = io::BufWriter::new(File::create(&tmp)?);
            out.write_all(&header)?;
            out.write_all(&index)?;
            for entry in kept.iter().filter_map(|&d| entries[d as usize].as_ref()) {
                out.write_all(entry)?;
            }
            out.into_inner().map_err(io::IntoInnerError::into_error)?;
            std::fs::rename(&tmp, &path)
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        prune(&self.dir, &path, MAX_CACHE_BYTES);
        Ok(true)
    }
}

impl CacheFile {
    /// Reads the header and the index; `None` if the file is not this module's cache.
    fn read_index(&mut self, file: &File, build_key: u64) -> Option<()> {
        let mut header = [0u8; HEADER];
        file.read_exact_at(&mut header, 0).ok()?;
        let mut r = Reader::new(&header);
        (r.take::<8>()? == *MAGIC).then_some(())?;
        (r.take::<32>()? == self.module_hash).then_some(())?;
        (u64::get(&mut r)? == build_key).then_some(())?;
        let count = u32::get(&mut r)? as usize;
        if count > self.index.len() {
            return None;
        }
        let mut index = vec![0u8; count * INDEX_ENTRY];
        file.read_exact_at(&mut index, HEADER as u64).ok()?;
        let payload_start = (HEADER + index.len()) as u64;
        let payload_len = file.metadata().ok()?.len().checked_sub(payload_start)?;
        let mut r = Reader::new(&index);
        for _ in 0..count {
            let (func, offset, len) = (u32::get(&mut r)?, u32::get(&mut r)?, u32::get(&mut r)?);
            let check = u64::get(&mut r)?;
            if u64::from(offset) + u64::from(len) > payload_len {
                return None;
            }
            *self.index.get_mut(func as usize)? = Some((u64::from(offset), len, check));
        }
        self.payload_start = payload_start;
        self.payload_len = payload_len;
        let mut order: Vec<(u64, u32)> = (self.index.iter().enumerate())
            .filter_map(|(defined, entry)| entry.map(|(offset, ..)| (offset, defined as u32)))
            .collect();
        order.sort_unstable();
        self.order = order.into_iter().map(|(_, defined)| defined).collect();
        Some(())
    }

    /// The bytes of defined function `defined`'s entry, if the file has it intact.
    fn read_entry(&self, defined: u32) -> Option<Vec<u8>> {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        self.with_entry(&mut window, defined, |bytes| Some(bytes.to_vec()))
    }

    /// `use_` of the bytes of defined function `defined`'s entry, if the file has it
    /// intact.
    ///
    /// Performance: a body is read on its first call, ~1,850 of them in a cold `wasmi-py
    /// run -c pass`, which took 2.1 ms as one `pread` each. The payload is in the order
    /// in which the run that wrote it first called its bodies (see [`ModuleCache::save`]),
    /// and every run starts the same way, so lookups mostly walk the file forward: a
    /// lookup that continues the last one's walk (its entry starts at most
    /// [`READ_AHEAD`] past where that one ended) reads that much ahead, and the lookups
    /// after it find their entries read. Other lookups read just their entry.
    fn with_entry<R>(
        &self,
        w: &mut Window,
        defined: u32,
        use_: impl FnOnce(&[u8]) -> Option<R>,
    ) -> Option<R> {
        let (offset, len, check) = (*self.index.get(defined as usize)?)?;
        let file = self.file.as_ref()?;
        let end = offset + u64::from(len);
        if offset < w.start || end > w.start + w.bytes.len() as u64 {
            let forward = offset >= w.next && offset - w.next <= READ_AHEAD;
            // `read_index` checked that every entry lies inside the payload.
            let ahead = if forward {
                READ_AHEAD.min(self.payload_len - offset)
            } else {
                0
            };
            w.bytes.resize(u64::from(len).max(ahead) as usize, 0);
            self.reads.fetch_add(1, Ordering::Relaxed);
            if file
                .read_exact_at(&mut w.bytes, self.payload_start + offset)
                .is_err()
            {
                w.bytes.clear();
                return None;
            }
            w.start = offset;
        }
        w.next = end;
        let at = (offset - w.start) as usize;
        let bytes = &w.bytes[at..at + len as usize];
        (checksum(defined, bytes) == check).then_some(())?;
        use_(bytes)
    }
}

/// The checksum of defined function `defined`'s entry, against accidental damage (not
/// forgery; see the module docs): a multiply-rotate hash of the function index, the
/// length and the 8-byte words (the index, so that an entry filed under another function
/// in a damaged index is not taken for that function's).
fn checksum(defined: u32, bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = (u64::from(defined) << 32 | bytes.len() as u64).wrapping_mul(K);
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let mut last = [0u8; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
    h ^ (h >> 29)
}

/// The code cache directory keeps at most this many bytes of cache files (python.wasm's
/// is ~2-5 MB, a small module's a few KB).
const MAX_CACHE_BYTES: u64 = 512 << 20;

/// Keeps `dir`'s cache files within `limit` bytes, deleting the least recently used
/// (oldest modification time: a file is touched whenever it is used) but never `keep`,
/// and removes temporary files left by writers that died an hour ago or more.
fn prune(dir: &Path, keep: &Path, limit: u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let (path, Ok(meta)) = (entry.path(), entry.metadata()) else {
            continue;
        };
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".tmp") {
            let age = now.duration_since(modified).unwrap_or_default();
            if age.as_secs() >= 3600 {
                let _ = std::fs::remove_file(&path);
            }
        } else if name.ends_with(".code") || name.ends_with(".id") {
            files.push((modified, meta.len(), path));
        }
    }
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= limit {
            break;
        }
        if path != keep && std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

/// The file remembering the hash of the module file with stamp `stamp`: named by a hash
/// of the stamp, holding [`ID_MAGIC`], the stamp and the module's SHA-256.
fn id_path(dir: &Path, stamp: FileStamp) -> PathBuf {
    let digest = Sha256::digest(stamp.to_bytes());
    dir.join(format!("{}.id", hex(&digest[..16])))
}

const ID_MAGIC: &[u8; 8] = b"WPYHASH1";

/// The module hash remembered for `stamp` in `dir`, if any.
fn recall(dir: &Path, stamp: FileStamp) -> Option<[u8; 32]> {
    let bytes = std::fs::read(id_path(dir, stamp)).ok()?;
    let rest = bytes.strip_prefix(ID_MAGIC)?;
    let (stored, hash) = rest.split_at_checked(56)?;
    (stored == stamp.to_bytes()).then_some(())?;
    hash.try_into().ok()
}

/// Remembers `hash` for `stamp` in `dir` (written whole, then renamed into place).
fn remember(dir: &Path, stamp: FileStamp, hash: &[u8; 32]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = id_path(dir, stamp);
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    let mut bytes = ID_MAGIC.to_vec();
    bytes.extend_from_slice(&stamp.to_bytes());
    bytes.extend_from_slice(hash);
    let written = std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Encodes `func` (defined function `defined` of `module`) as the cache stores it and
/// decodes it back: an error unless the result is the same function, i.e. encodes to
/// the same bytes (the encoding holds every field of the bytecode and the frame layout).
pub(crate) fn round_trip(module: &Module, defined: u32, func: &CompiledFunc) -> Result<(), String> {
    let mut bytes = Vec::new();
    encode_entry(func, &mut bytes);
    let back = decode_entry(&bytes, module, defined)
        .ok_or_else(|| format!("function {defined}: its cache entry is refused"))?;
    let mut again = Vec::new();
    encode_entry(&back, &mut again);
    if again != bytes {
        return Err(format!("function {defined}: decoded differently"));
    }
    Ok(())
}

/// The build key: what, besides the module, decides the translation.
fn build_key(config: &Config) -> u64 {
    let digest = Sha256::new()
        .chain_update(CODE_STAMP.as_bytes())
        // A module with a cache inlines unless inlining is off (`Inline::WithCodeCache` and
        // `Always` make the same code then).
        .chain_update(
            format!(
                "{:?} inline={}",
                config.features,
                config.inline != Inline::Never
            )
            .as_bytes(),
        )
        .finalize();
    let mut key = [0u8; 8];
    key.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(key)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn encode_entry(func: &CompiledFunc, out: &mut Vec<u8>) {
    for n in [
        func.num_params,
        func.num_locals,
        func.frame_size,
        func.num_consts,
    ] {
        (n as u32).put(out);
    }
    for c in &func.consts[..func.num_consts] {
        c.put(out);
    }
    (func.ops.len() as u32).put(out);
    for op in &func.ops {
        op.instr.encode(out);
    }
    (func.inlined.len() as u32).put(out);
    for r in &func.inlined {
        for n in [r.start, r.end, r.func] {
            n.put(out);
        }
    }
    func.params_written.put(out);
}

/// Decodes and checks one entry (see the module docs): `None` unless it is a body that
/// may run as defined function `defined` of `module`.
fn decode_entry(bytes: &[u8], module: &Module, defined: u32) -> Option<CompiledFunc> {
    let mut r = Reader::new(bytes);
    let mut field = || u32::get(&mut r).map(|n| n as usize);
    let (num_params, num_locals, frame_size, num_consts) = (field()?, field()?, field()?, field()?);
    let ty = module.func_type(module.num_imported_functions.checked_add(defined)?)?;
    if num_params != ty.params().len()
        || frame_size > MAX_FRAME_SLOTS
        || num_params + num_locals + num_consts > frame_size
    {
        return None;
    }
    // Read into the padded form the function keeps (see `CompiledFunc::consts`); at most
    // `MAX_FRAME_SLOTS` values, checked above.
    let mut consts = Vec::with_capacity(crate::exec::blocked_len(num_consts));
    for _ in 0..num_consts {
        consts.push(u64::get(&mut r)?);
    }
    consts.resize(crate::exec::blocked_len(num_consts), 0);
    let count = u32::get(&mut r)? as usize;
    // Decoded straight into the ops the function keeps (an instruction and its handler).
    // Every instruction takes at least its 2-byte tag: a forged count cannot make this
    // allocate more than the entry's size.
    let mut ops = Vec::with_capacity(count.min(r.remaining() / 2));
    let check = Check {
        module: Some(module),
        len: count,
        frame_size,
    };
    for i in 0..count {
        ops.push(Op::new(Instr::decode_checked(&mut r, &check, i)?));
    }
    // With each instruction checked as it was read: what `verify` checks of the body.
    check_end(ops.last().map(|op| &op.instr)).ok()?;
    // The inlined ranges name functions only for backtraces and profiles; still, they
    // must be ranges of the code, in order and disjoint, naming functions of the module.
    let count = u32::get(&mut r)? as usize;
    let mut inlined: Vec<Inlined> = Vec::with_capacity(count.min(r.remaining() / 12));
    for _ in 0..count {
        let (start, end, func) = (u32::get(&mut r)?, u32::get(&mut r)?, u32::get(&mut r)?);
        let previous_end = inlined.last().map_or(0, |r| r.end);
        if start < previous_end
            || start > end
            || end as usize > ops.len()
            || func as usize >= module.functions.len()
        {
            return None;
        }
        inlined.push(Inlined { start, end, func });
    }
    // Which parameters the code writes decides how inlining reads them (never memory
    // safety: a wrong mask makes wrong results, as a forged instruction would).
    let params_written = u64::get(&mut r)?;
    if r.remaining() != 0 {
        return None;
    }
    Some(CompiledFunc {
        ops: ops.into_boxed_slice(),
        consts: consts.into_boxed_slice(),
        num_consts,
        num_params,
        num_locals,
        frame_size,
        inlined: inlined.into_boxed_slice(),
        params_written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::SETTLED_FOR_TESTS;
    use crate::instr::codec::names_exist;
    use crate::instr::{Bin, Reg};
    use crate::translate::verify;
    use wasmi_py_decode::Features;

    fn module(text: &str) -> Module {
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        let bytes = wast::parser::parse::<wast::Wat>(&buf)
            .unwrap()
            .encode()
            .unwrap();
        Module::decode(&bytes, Features::wasm2()).unwrap()
    }

    /// The entry `encode_entry` writes for a body with these parts (which need not be
    /// consistent: `from_parts` checks nothing).
    fn entry(params: u32, locals: u32, frame: u32, consts: &[u64], instrs: &[Instr]) -> Vec<u8> {
        let [params, locals, frame] = [params, locals, frame].map(|n| n as usize);
        let func = CompiledFunc::from_parts(instrs, consts, params, locals, frame);
        let mut out = Vec::new();
        encode_entry(&func, &mut out);
        out
    }

    const ADD: &str = r#"(module (memory 1) (global (mut i32) (i32.const 0))
        (func (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;

    fn add(dst: Reg, lhs: Reg, rhs: Reg) -> Instr {
        Instr::I32Add(Bin { dst, lhs, rhs })
    }

    /// Writes the module `text` to `dir/name`.
    fn module_file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        let bytes = wast::parser::parse::<wast::Wat>(&buf)
            .unwrap()
            .encode()
            .unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Loads the module file at `path` with the code cache in `dir` as if read at `now`,
    /// calls its export `f` and saves the cache: the result and how the cache served it.
    fn load_and_call(path: &Path, dir: &Path, now: SystemTime) -> (i32, CodeCacheStats) {
        use crate::{Engine, Linker, ModuleFile, Store, Val};
        let engine = Engine::default();
        let file = ModuleFile::read_at(path, now).unwrap();
        let module = crate::Module::from_file(&engine, file, Some(dir)).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Linker::new().instantiate(&mut store, &module).unwrap();
        let f = instance.get_func(&store, "f").unwrap();
        let result = match f.call(&mut store, &[]).unwrap()[..] {
            [Val::I32(v)] => v,
            ref other => panic!("{other:?}"),
        };
        module.save_code_cache().unwrap();
        (result, module.code_cache_stats().unwrap())
    }

    fn id_files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "id"))
            .collect();
        files.sort();
        files
    }

    /// Bodies in [`many_bodies`].
    const MANY: u32 = 300;

    /// A module of [`MANY`] bodies of ~1 KB each (`$f0`...), with exports calling them in
    /// a shuffled order (`perm`: `i * 7 % MANY` for i = 0..MANY) or backwards (`bwd`), and
    /// `one` calling only `$f0`; and `perm`'s order.
    fn many_bodies() -> (Vec<u8>, Vec<u32>) {
        let mut text = String::from("(module\n");
        for k in 0..MANY {
            text += &format!("(func $f{k} (param i64) (result i64) (local.get 0)");
            for j in 0..40u32 {
                let (a, b) = (k * 41 + j + 3, j);
                text += &format!(" (i64.const {a}) (i64.mul) (i64.const {b}) (i64.xor)");
            }
            text += ")\n";
        }
        let perm: Vec<u32> = (0..MANY).map(|i| i * 7 % MANY).collect();
        let chain = |order: &mut dyn Iterator<Item = u32>| {
            order.fold(String::from("(i64.const 1)"), |acc, k| {
                format!("(call $f{k} {acc})")
            })
        };
        let exports = [
            ("perm", chain(&mut perm.iter().copied())),
            ("bwd", chain(&mut (0..MANY).rev())),
            ("one", chain(&mut std::iter::once(0))),
        ];
        for (name, body) in exports {
            text += &format!("(func (export \"{name}\") (result i64) {body})\n");
        }
        text += ")";
        let buf = wast::parser::ParseBuffer::new(&text).unwrap();
        let bytes = wast::parser::parse::<wast::Wat>(&buf)
            .unwrap()
            .encode()
            .unwrap();
        (bytes, perm)
    }

    /// A run of `perm` with every body found in the cache: its own and its callees'.
    const ALL_HITS: CodeCacheStats = CodeCacheStats {
        hits: MANY as usize + 1,
        misses: 0,
    };

    /// [`many_bodies`] run once with the code cache in a fresh directory (`perm` called,
    /// the cache saved), for tests that load it again.
    struct SavedManyBodies {
        engine: crate::Engine,
        bytes: Vec<u8>,
        dir: PathBuf,
        /// `perm`'s order of calls.
        perm: Vec<u32>,
        /// The module without a cache: what each export returns.
        uncached: crate::Module,
    }

    impl SavedManyBodies {
        /// Saved with `engine` in a directory named after `name`.
        fn new(engine: crate::Engine, name: &str) -> Self {
            let (bytes, perm) = many_bodies();
            let dir = std::env::temp_dir().join(format!("wasmi-py-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let uncached = crate::Module::new(&engine, &bytes).unwrap();
            let saved = Self {
                engine,
                bytes,
                dir,
                perm,
                uncached,
            };
            let first = saved.load();
            assert_eq!(saved.call(&first, "perm"), saved.expected("perm"));
            assert!(first.save_code_cache().unwrap());
            saved
        }

        /// The module loaded again with the saved cache.
        fn load(&self) -> crate::Module {
            crate::Module::with_code_cache(&self.engine, &self.bytes, &self.dir).unwrap()
        }

        /// Calls export `name` (no parameters, an i64 result) of `module` in a fresh store.
        fn call(&self, module: &crate::Module, name: &str) -> i64 {
            use crate::{Linker, Store, Val};
            let mut store = Store::new(&self.engine, ());
            let instance = Linker::new().instantiate(&mut store, module).unwrap();
            let f = instance.get_func(&store, name).unwrap();
            match f.call(&mut store, &[]).unwrap()[..] {
                [Val::I64(v)] => v,
                ref other => panic!("{other:?}"),
            }
        }

        /// What export `name` returns without the cache.
        fn expected(&self, name: &str) -> i64 {
            self.call(&self.uncached, name)
        }
    }

    impl Drop for SavedManyBodies {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    #[test]
    fn bodies_are_stored_in_first_use_order_and_read_ahead() {
        use crate::{Config, Engine};
        // The program's own lookups only (decoding ahead would look up and read too).
        let engine = Engine::new(Config {
            decode_ahead: false,
            ..Config::default()
        });
        let saved = SavedManyBodies::new(engine, "cache-order");
        let (dir, perm) = (&saved.dir, &saved.perm);
        let (perm_result, bwd_result) = (saved.expected("perm"), saved.expected("bwd"));
        let (load, call) = (|| saved.load(), |m: &_, name| saved.call(m, name));

        // The payload: `perm` (defined function MANY), then its callees in the order called.
        let path = std::fs::read_dir(dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let file = std::fs::read(path).unwrap();
        let count = u32::from_le_bytes(file[HEADER - 4..HEADER].try_into().unwrap()) as usize;
        let mut placed: Vec<(u32, u32)> = (0..count)
            .map(|i| {
                let e = &file[HEADER + i * INDEX_ENTRY..];
                let word = |at: usize| u32::from_le_bytes(e[at..at + 4].try_into().unwrap());
                (word(4), word(0))
            })
            .collect();
        placed.sort();
        let order: Vec<u32> = placed.iter().map(|&(_, func)| func).collect();
        let expected: Vec<u32> = std::iter::once(MANY).chain(perm.iter().copied()).collect();
        assert_eq!(order, expected);

        // Read again in that order: a few reads ahead serve every body.
        let payload = file.len() - HEADER - count * INDEX_ENTRY;
        let windows = payload / READ_AHEAD as usize;
        assert!(windows >= 4, "{payload} bytes: too few to test");
        let reads = |m: &crate::Module| {
            let cache = m.inner.cache.as_ref().unwrap();
            cache.file.get().unwrap().reads.load(Ordering::Relaxed)
        };
        let second = load();
        assert_eq!(call(&second, "perm"), perm_result);
        assert_eq!(second.code_cache_stats(), Some(ALL_HITS));
        assert!(reads(&second) <= windows + 2, "{} reads", reads(&second));

        // In another order (backwards through the file's shuffle): the same bodies, read
        // one by one where they are not ahead.
        let third = load();
        assert_eq!(call(&third, "bwd"), bwd_result);
        let callees = CodeCacheStats {
            hits: MANY as usize,
            misses: 1,
        };
        assert_eq!(third.code_cache_stats(), Some(callees));
    }

    #[test]
    fn decoding_ahead_takes_each_body_once_and_stays_near_the_first_calls() {
        let saved = SavedManyBodies::new(crate::Engine::default(), "cache-ahead");
        let (perm_result, one_result) = (saved.expected("perm"), saved.expected("one"));
        let (load, call) = (|| saved.load(), |m: &_, name| saved.call(m, name));

        // Every body of the file counted once, whether the helper or the program decoded
        // it, and the same results; saving again finds nothing new.
        for _ in 0..5 {
            let again = load();
            assert_eq!(call(&again, "perm"), perm_result);
            assert_eq!(again.code_cache_stats(), Some(ALL_HITS));
            assert!(!again.save_code_cache().unwrap());
        }

        // A program that calls `one` (not in the file) and `$f0`: the helper decodes the
        // file's bodies up to AHEAD past the first calls it has seen (none, one or both:
        // it starts at the load, and is woken again only AHEAD / 2 calls later), and no
        // further.
        let few = load();
        assert_eq!(call(&few, "one"), one_result);
        let hits = || few.code_cache_stats().unwrap().hits;
        let waited = std::time::Instant::now();
        while hits() < AHEAD && waited.elapsed() < std::time::Duration::from_secs(10) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        let decoded = hits();
        assert!(
            (AHEAD..=2 + AHEAD).contains(&decoded),
            "{decoded} bodies decoded for 2 first calls"
        );
        assert!(
            2 + AHEAD < MANY as usize + 1,
            "the file holds more than that"
        );

        // The waiting helper does not keep the module alive.
        let module = Arc::downgrade(&few.inner);
        drop(few);
        let waited = std::time::Instant::now();
        while module.upgrade().is_some() && waited.elapsed() < std::time::Duration::from_secs(10) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(
            module.upgrade().is_none(),
            "the module outlived its last handle"
        );
    }

    #[test]
    fn a_module_files_hash_is_remembered_while_the_file_is_unchanged() {
        let dir = std::env::temp_dir().join(format!("wasmi-py-cache-id-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let one = r#"(module (func (export "f") (result i32) (i32.const 1)))"#;
        let path = module_file(&dir, "m.wasm", one);
        let (hit, miss) = (
            CodeCacheStats { hits: 1, misses: 0 },
            CodeCacheStats { hits: 0, misses: 1 },
        );

        // Read as soon as written, the file has no trusted stamp: nothing remembered.
        assert_eq!(load_and_call(&path, &dir, SystemTime::now()), (1, miss));
        assert!(id_files(&dir).is_empty());
        assert_eq!(load_and_call(&path, &dir, SystemTime::now()), (1, hit));

        // Settled: the first load hashes and remembers, the next recalls.
        let later = || SystemTime::now() + SETTLED_FOR_TESTS;
        assert_eq!(load_and_call(&path, &dir, later()), (1, hit));
        let ids = id_files(&dir);
        assert_eq!(ids.len(), 1);
        assert_eq!(load_and_call(&path, &dir, later()), (1, hit));

        // The remembered hash is what is used: a wrong one finds no cache file.
        let right = std::fs::read(&ids[0]).unwrap();
        let mut wrong = right.clone();
        *wrong.last_mut().unwrap() ^= 1;
        std::fs::write(&ids[0], &wrong).unwrap();
        assert_eq!(load_and_call(&path, &dir, later()), (1, miss));
        std::fs::write(&ids[0], &right).unwrap();
        assert_eq!(load_and_call(&path, &dir, later()), (1, hit));

        // The file rewritten in place with another module of the same size (after the
        // coarse file clock's tick): its new stamp is not the remembered one, so it is
        // hashed, and its own code runs, not the cached code of the old module.
        let two = r#"(module (func (export "f") (result i32) (i32.const 2)))"#;
        std::thread::sleep(std::time::Duration::from_millis(50));
        let len = std::fs::metadata(&path).unwrap().len();
        module_file(&dir, "m.wasm", two);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
        assert_eq!(load_and_call(&path, &dir, later()), (2, miss));
        assert_eq!(id_files(&dir).len(), 2, "the new stamp remembered too");
        assert_eq!(load_and_call(&path, &dir, later()), (2, hit));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn well_formed_entries_decode() {
        let m = module(ADD);
        let body = [add(2, 0, 1), Instr::Return1 { src: 2 }];
        let func = decode_entry(&entry(2, 0, 3, &[], &body), &m, 0).unwrap();
        assert_eq!(func.instrs(), body);
        // What `encode_entry` writes is what was read.
        let mut again = Vec::new();
        encode_entry(&func, &mut again);
        assert_eq!(again, entry(2, 0, 3, &[], &body));
    }

    #[test]
    fn forged_entries_are_refused() {
        let m = module(ADD);
        let ret = Instr::Return1 { src: 2 };
        // The `Return`'s tag, after the four frame fields and the instruction count (this
        // test once replaced the entry's last two bytes, which were the inlined-range
        // count's, so it was refused for a count past the end, not for the tag).
        let mut unknown_tag = entry(2, 0, 3, &[], &[Instr::Return]);
        let tag_at = 5 * 4;
        let mut ret_bytes = Vec::new();
        Instr::Return.encode(&mut ret_bytes);
        assert_eq!(unknown_tag[tag_at..tag_at + 2], ret_bytes[..]);
        unknown_tag[tag_at..tag_at + 2].copy_from_slice(&u16::MAX.to_le_bytes());
        let refused = [
            // The frame does not match the function's type.
            entry(1, 0, 3, &[], &[add(2, 0, 1), ret]),
            // Params, locals and constants do not fit the frame.
            entry(2, 1, 2, &[], &[Instr::Return]),
            entry(2, 0, 3, &[7, 8], &[add(2, 0, 1), ret]),
            // A slot outside the frame; a jump outside the code; falling off the end.
            entry(2, 0, 3, &[], &[add(3, 0, 1), ret]),
            entry(2, 0, 3, &[], &[Instr::Jump { offset: 5 }, ret]),
            entry(2, 0, 3, &[], &[add(2, 0, 1)]),
            // Names that do not exist: a function, a global, a table, a data segment.
            entry(
                2,
                0,
                3,
                &[],
                &[
                    Instr::Call {
                        func: 1,
                        base: 2,
                        result: 2,
                    },
                    ret,
                ],
            ),
            entry(2, 0, 3, &[], &[Instr::GlobalGet { dst: 2, global: 1 }, ret]),
            entry(2, 0, 3, &[], &[Instr::TableSize { dst: 2, table: 0 }, ret]),
            entry(2, 0, 3, &[], &[Instr::DataDrop { data: 0 }, ret]),
            // An unknown instruction tag (a `Return`'s, which is its whole encoding,
            // replaced); bytes left over.
            unknown_tag,
            [entry(2, 0, 3, &[], &[add(2, 0, 1), ret]), vec![0]].concat(),
        ];
        for (i, bytes) in refused.iter().enumerate() {
            assert!(decode_entry(bytes, &m, 0).is_none(), "case {i}");
        }
        // A frame larger than slot indices can address.
        let huge = entry(2, 0, (MAX_FRAME_SLOTS + 1) as u32, &[], &[ret]);
        assert!(decode_entry(&huge, &m, 0).is_none());
        // No such function.
        assert!(decode_entry(&entry(2, 0, 3, &[], &[ret]), &m, 1).is_none());
    }

    #[test]
    fn any_single_byte_change_decodes_to_verified_code_or_nothing() {
        // What a forger with a correct checksum can reach: never a panic, and whatever is
        // accepted passed the checks the interpreter relies on.
        let m = module(ADD);
        let good = entry(
            2,
            1,
            6,
            &[5, 9],
            &[
                add(5, 0, 3),
                Instr::JumpIfNez { cond: 5, offset: 2 },
                Instr::GlobalSet { src: 4, global: 0 },
                Instr::Return1 { src: 5 },
            ],
        );
        assert!(decode_entry(&good, &m, 0).is_some());
        for i in 0..good.len() {
            for value in [0u8, 1, 2, 0x7f, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] = value;
                if let Some(func) = decode_entry(&bad, &m, 0) {
                    let instrs = func.instrs();
                    assert!(verify(&instrs, func.frame_size).is_ok());
                    assert!(instrs.iter().all(|i| names_exist(i, &m)));
                    assert_eq!(func.consts.len(), crate::exec::blocked_len(func.num_consts));
                }
            }
        }
    }

    #[test]
    fn pruning_deletes_the_least_recently_used_files_but_not_the_new_one() {
        let dir = std::env::temp_dir().join(format!("wasmi-py-prune-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let day = std::time::Duration::from_secs(86_400);
        let file = |name: &str, age_days: u32| {
            let path = dir.join(name);
            std::fs::write(&path, [0u8; 100]).unwrap();
            let f = File::options().write(true).open(&path).unwrap();
            f.set_modified(SystemTime::now() - day * age_days).unwrap();
            path
        };
        let (old, older, oldest) = (file("a.code", 1), file("b.code", 2), file("c.code", 3));
        let kept = file("new.code", 9);
        let stale_tmp = file(".x.code.1.tmp", 1);
        let other = file("notes.txt", 9);
        prune(&dir, &kept, 250);
        assert!(old.exists() && kept.exists() && other.exists());
        assert!(!older.exists() && !oldest.exists() && !stale_tmp.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn checksums_depend_on_the_function_and_every_byte() {
        let bytes: Vec<u8> = (0..=40).collect();
        let base = checksum(3, &bytes);
        assert_ne!(checksum(4, &bytes), base);
        assert_ne!(checksum(3, &bytes[..40]), base);
        for i in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[i] ^= 1;
            assert_ne!(checksum(3, &changed), base, "byte {i}");
        }
    }
}
