//! The embedding API: engine, modules, store, instances, functions, memories, tables,
//! globals and the linker.
//!
//! Entities live in the [`Store`] and are named by small `Copy` handles ([`Func`],
//! [`Memory`], …) that index into it. A handle is only meaningful with the store that made
//! it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use wasmi_py_decode::{
    Features, FuncType, GlobalType, ImportDesc, MemoryType, Operator, TableType,
};
use wasmi_py_validate::ModuleValidator;

use crate::cache::{CodeCacheStats, ModuleCache};
use crate::file::{FileStamp, ModuleFile};
use crate::memory::LinearMemory;
use crate::profile::{Profile, Profiler};
use crate::translate::{translate_inlining, CompiledFunc, InlineSource};
use crate::trap::{Trap, TrapCode};
use crate::value::Val;

/// Engine-wide settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Proposals the decoder and validator accept.
    pub features: Features,
    /// Most nested wasm calls before "call stack exhausted".
    pub max_call_depth: usize,
    /// Value-stack slots (8 bytes each) for all frames together.
    pub max_value_slots: usize,
    /// Validate and translate each function on its first call (true) or all at load (false).
    pub lazy: bool,
    /// When to copy the bodies of small callees into their callers when translating (see
    /// `src/inline.rs`): no call overhead for them, at the price of fuel and the call-depth
    /// limit not counting those calls. Backtraces and profiles still show their frames.
    pub inline: Inline,
    /// For a lazy module with a code cache: a helper thread decodes the cached bodies, in
    /// the order in which the run that saved them first called them, a little ahead of
    /// the program's own first calls, which then find them decoded (see
    /// `ModuleCache::ahead_step`). Which bodies are ready when is a matter of timing,
    /// and so, through inlining, is the code of bodies translated meanwhile; results
    /// never are.
    pub decode_ahead: bool,
}

/// When translation inlines small callees ([`Config::inline`]).
///
/// Performance: inlining makes more code (python.wasm's translated bodies +40%), which is
/// translation work: without a code cache a CPython start-up (`-c pass`) was 5% slower
/// with it and the workloads level (regex 1.04 and nbody 1.02 slower without it, json,
/// objects, generators 0.99-0.995; A/B, 7 runs each, 2026-11-25). With a code cache the
/// code is translated once and loaded after that, and inlining is a gain (regex 0.94,
/// nbody and generators 0.97 when it was added). Hence the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inline {
    /// Never.
    Never,
    /// For modules with a code cache ([`Module::with_code_cache`], [`Module::from_file`]
    /// with a cache directory), whose translations are kept: the default.
    WithCodeCache,
    /// For every module.
    Always,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            features: Features::wasm2(),
            max_call_depth: 100_000,
            max_value_slots: 8 << 20,
            lazy: true,
            inline: Inline::WithCodeCache,
            decode_ahead: true,
        }
    }
}

/// Shared configuration for modules and stores.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    config: Arc<Config>,
}

impl Engine {
    /// An engine with this configuration.
    pub fn new(config: Config) -> Self {
        Self {
            config: Arc::new(config),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

/// Errors of loading, linking and instantiating.
#[derive(Debug)]
pub enum Error {
    /// The module is malformed or invalid (with the byte offset).
    Module(wasmi_py_decode::Error),
    /// An import is missing or has the wrong type.
    Link(String),
    /// Instantiation trapped (a segment out of bounds, or the start function).
    Trap(Trap),
    /// A resource could not be had (e.g. address space for a memory).
    Resource(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Module(e) => e.fmt(f),
            Self::Link(e) => write!(f, "unlinkable: {e}"),
            Self::Trap(t) => t.fmt(f),
            Self::Resource(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<wasmi_py_decode::Error> for Error {
    fn from(e: wasmi_py_decode::Error) -> Self {
        Self::Module(e)
    }
}

impl From<Trap> for Error {
    fn from(t: Trap) -> Self {
        Self::Trap(t)
    }
}

/// A function body's translation, or why it failed (kept so a bad body fails every call).
pub(crate) type CompiledSlot = OnceLock<Result<Arc<CompiledFunc>, wasmi_py_decode::Error>>;

pub(crate) struct ModuleInner {
    pub(crate) module: wasmi_py_decode::Module,
    refs: ModuleValidator,
    /// Translated bodies, filled on first call (or at load in eager mode).
    compiled: Box<[CompiledSlot]>,
    /// Where translated bodies are looked up before translating, if anywhere.
    pub(crate) cache: Option<ModuleCache>,
    /// Whether translation inlines small callees ([`Config::inline`], decided for this
    /// module).
    inline: bool,
}

impl ModuleInner {
    /// The translated body of defined function `index`, translating it on first use (or
    /// taking it from the code cache).
    pub(crate) fn code(&self, defined: u32) -> Result<&Arc<CompiledFunc>, &wasmi_py_decode::Error> {
        self.compiled[defined as usize]
            .get_or_init(|| {
                if let Some(found) = self
                    .cache
                    .as_ref()
                    .and_then(|c| c.lookup(&self.module, defined))
                {
                    return Ok(Arc::new(found));
                }
                let source = |f| self.inline_body(f);
                let inline = self.inline.then_some(&source as InlineSource<'_>);
                translate_inlining(&self.module, &self.refs, defined, inline).map(Arc::new)
            })
            .as_ref()
    }

    /// [`ModuleInner::code`] for a first call of the function (in a store): noted for the
    /// code cache (the order of first use, the pace of decoding ahead).
    pub(crate) fn code_for_call(
        &self,
        defined: u32,
    ) -> Result<&Arc<CompiledFunc>, &wasmi_py_decode::Error> {
        if let Some(cache) = &self.cache {
            cache.note_call(defined);
        }
        self.code(defined)
    }

    /// The code of module function `func` to inline into a caller being translated: only
    /// code already translated (that has run, or been inlined, before: see
    /// `crate::inline`), never waiting for a translation in progress.
    fn inline_body(&self, func: u32) -> Option<Arc<CompiledFunc>> {
        let defined = func.checked_sub(self.module.num_imported_functions)?;
        let code = self.compiled.get(defined as usize)?.get()?.as_ref().ok()?;
        crate::inline::inlinable(code).then(|| Arc::clone(code))
    }

    /// The bodies translated (or taken from the code cache) so far, by defined index.
    fn compiled_bodies(&self) -> impl Iterator<Item = (u32, &CompiledFunc)> {
        self.compiled
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| match slot.get() {
                Some(Ok(code)) => Some((i as u32, &**code)),
                _ => None,
            })
    }
}

/// The helper thread of [`Config::decode_ahead`]: steps until the cache file has no more
/// bodies or the module is dropped. It holds the module only while it steps; while it
/// waits for the program's first calls it is parked, woken by those calls
/// (`ModuleCache::note_call`) or by the module's drop.
///
/// Performance: loading the ~1,850 bodies a cold `wasmi-py run -c pass` calls is ~6 ms
/// of its ~75 on the thread that interprets; this moves it to another core (a
/// prototype that decoded the whole file ahead: 0.953 / 0.940 of the time).
fn decode_ahead(module: &std::sync::Weak<ModuleInner>) {
    let mut state = crate::cache::Ahead::default();
    loop {
        let Some(inner) = module.upgrade() else {
            return;
        };
        let Some(cache) = &inner.cache else {
            return;
        };
        match cache.ahead_step(&inner.module, &inner.compiled, &mut state) {
            crate::cache::Step::Worked => {}
            crate::cache::Step::Done => return,
            crate::cache::Step::Wait => {
                drop(inner);
                std::thread::park();
            }
        }
    }
}

/// A decoded and validated module, shareable between stores.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("functions", &self.inner.module.functions.len())
            .finish()
    }
}

impl Module {
    /// Decodes and validates `bytes`. With a lazy engine only the module-level rules are
    /// checked now and each body is validated and translated on its first call; otherwise
    /// every body is validated and translated here.
    pub fn new(engine: &Engine, bytes: &[u8]) -> Result<Self, Error> {
        Self::load(engine, Arc::from(bytes), None, None)
    }

    /// [`Module::new`] with a code cache in directory `dir` (see `src/cache.rs`): a body
    /// this module's cache file holds is taken from it instead of being validated and
    /// translated (it was, when the file was written), and [`Module::save_code_cache`]
    /// adds the bodies translated since. The cache is never required: a missing,
    /// unreadable or damaged file only means translating.
    pub fn with_code_cache(engine: &Engine, bytes: &[u8], dir: &Path) -> Result<Self, Error> {
        Self::load(engine, Arc::from(bytes), None, Some(dir))
    }

    /// [`Module::new`], or with `code_cache` [`Module::with_code_cache`], of a module
    /// file read by [`ModuleFile::read`]: the module keeps the bytes as read (no copy),
    /// and with a code cache the file's SHA-256 is remembered between runs (the cache's
    /// file name; see `src/cache.rs`) instead of computed on every load.
    pub fn from_file(
        engine: &Engine,
        file: ModuleFile,
        code_cache: Option<&Path>,
    ) -> Result<Self, Error> {
        Self::load(engine, file.bytes, file.stamp, code_cache)
    }

    fn load(
        engine: &Engine,
        bytes: Arc<[u8]>,
        stamp: Option<FileStamp>,
        cache_dir: Option<&Path>,
    ) -> Result<Self, Error> {
        // Started first: the cache hashes the bytes on a helper thread meanwhile.
        let cache =
            cache_dir.map(|dir| ModuleCache::open(dir, Arc::clone(&bytes), stamp, &engine.config));
        let module = wasmi_py_decode::Module::decode_shared(bytes, engine.config.features)?;
        let refs = ModuleValidator::new(&module)?;
        let compiled = (0..module.num_defined_functions())
            .map(|_| OnceLock::new())
            .collect();
        let inline = match engine.config.inline {
            Inline::Never => false,
            Inline::WithCodeCache => cache.is_some(),
            Inline::Always => true,
        };
        let inner = Arc::new(ModuleInner {
            module,
            refs,
            compiled,
            cache,
            inline,
        });
        if !engine.config.lazy {
            for i in 0..inner.module.num_defined_functions() {
                inner.code(i).map_err(|e| Error::Module(e.clone()))?;
            }
        } else if engine.config.decode_ahead && inner.cache.is_some() {
            let module = Arc::downgrade(&inner);
            // Without a thread, bodies are decoded on their first calls as ever.
            if let Ok(thread) = std::thread::Builder::new()
                .name("wasmi-py decode ahead".into())
                .spawn(move || decode_ahead(&module))
            {
                if let Some(cache) = &inner.cache {
                    cache.set_ahead_thread(thread.thread().clone());
                }
            }
        }
        Ok(Self { inner })
    }

    /// The decoded module (imports, exports, names, …).
    pub fn decoded(&self) -> &wasmi_py_decode::Module {
        &self.inner.module
    }

    /// Writes the bodies translated since the module was loaded to its code cache (see
    /// [`Module::with_code_cache`]). `Ok(false)` if there is no cache or nothing new.
    pub fn save_code_cache(&self) -> std::io::Result<bool> {
        let Some(cache) = &self.inner.cache else {
            return Ok(false);
        };
        cache.save(&self.inner.module, self.inner.compiled_bodies())
    }

    /// How the code cache served this module so far (`None` without one).
    pub fn code_cache_stats(&self) -> Option<CodeCacheStats> {
        self.inner.cache.as_ref().map(ModuleCache::stats)
    }

    /// Checks that every body translated so far comes back unchanged through the code
    /// cache's encoding (as [`Module::save_code_cache`] writes it and a later load reads
    /// it); returns how many were checked. For tests: the spec runner checks every module
    /// of the suites.
    #[doc(hidden)]
    pub fn check_code_cache_round_trip(&self) -> Result<usize, String> {
        let mut checked = 0;
        for (defined, code) in self.inner.compiled_bodies() {
            crate::cache::round_trip(&self.inner.module, defined, code)?;
            checked += 1;
        }
        Ok(checked)
    }

    /// Validates and translates every function body now (what a lazy engine defers).
    pub fn compile_all(&self) -> Result<(), Error> {
        for i in 0..self.inner.module.num_defined_functions() {
            self.inner.code(i).map_err(|e| Error::Module(e.clone()))?;
        }
        Ok(())
    }
}

/// A function in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Func(pub(crate) u32);
/// A linear memory in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Memory(pub(crate) u32);
/// A table in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Table(pub(crate) u32);
/// A global in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Global(pub(crate) u32);
/// An instance in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instance(pub(crate) u32);

/// Anything that can be imported or exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Extern {
    Func(Func),
    Table(Table),
    Memory(Memory),
    Global(Global),
}

/// The signature of a host function's closure.
pub type HostFn<T> =
    dyn Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap> + Send + Sync + 'static;

pub(crate) enum FuncKind {
    Wasm { instance: u32, defined: u32 },
    Host { host: u32 },
}

pub(crate) struct FuncEntity {
    pub(crate) kind: FuncKind,
}

/// What a call reads of function `f`: `StoreInner::calls[f]`, one 32-byte, 32-byte-aligned
/// entry per store function, kept apart from the (colder) [`FuncEntity`]. A call and a
/// `call_indirect`'s signature check touch exactly one cache line of it. Before, the same
/// fields sat in a 56-byte entity that straddled two lines for most functions, and the
/// entity's first load was the top data-cache miss of calls in the CPython profile (it
/// replaced instance → module → lazily initialised cell → `Arc` → code header before that).
///
/// For a wasm function the code fields are filled on its first call (translation is lazy);
/// until then, and always for host functions, `ops` is null and a call takes the slow path.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
pub(crate) struct CallInfo {
    /// The first op of the code; null if not compiled (yet) or a host function.
    pub(crate) ops: crate::exec::Ip,
    /// The code's constant slots, padded to `exec::blocked_len(num_consts)` values.
    pub(crate) consts: *const u64,
    /// The instance a wasm function belongs to (0 for host functions).
    pub(crate) instance: u32,
    /// Store-wide type id (structurally equal types share an id).
    pub(crate) ty: u32,
    // Frames have at most 2^16 - 1 slots (translate::MAX_FRAME_SLOTS): every count fits.
    pub(crate) frame_size: u16,
    pub(crate) num_params: u16,
    pub(crate) num_locals: u16,
    pub(crate) num_consts: u16,
}

// SAFETY: the pointers point into one immutable `CompiledFunc` owned (through an `Arc` in
// the module) by the store holding this entry, as for `IpPtr`.
unsafe impl Send for CallInfo {}
// SAFETY: as above.
unsafe impl Sync for CallInfo {}

impl CallInfo {
    /// A function of type `ty` not compiled yet (or a host function).
    pub(crate) const fn new(instance: u32, ty: u32) -> Self {
        Self {
            ops: std::ptr::null(),
            consts: std::ptr::null(),
            instance,
            ty,
            frame_size: 0,
            num_params: 0,
            num_locals: 0,
            num_consts: 0,
        }
    }

    /// Fills in the code fields from `code`.
    pub(crate) fn set_code(&mut self, code: &CompiledFunc) {
        self.ops = code.ops.as_ptr();
        self.consts = code.consts.as_ptr();
        self.frame_size = code.frame_size as u16;
        self.num_params = code.num_params as u16;
        self.num_locals = code.num_locals as u16;
        self.num_consts = code.num_consts as u16;
    }
}

pub(crate) struct TableEntity {
    pub(crate) elems: Vec<u64>,
    pub(crate) ty: TableType,
}

pub(crate) struct GlobalEntity {
    pub(crate) value: u64,
    pub(crate) ty: GlobalType,
}

pub(crate) struct DataEntity {
    pub(crate) bytes: Arc<[u8]>,
    pub(crate) range: std::ops::Range<usize>,
}

pub(crate) struct InstanceEntity {
    pub(crate) module: Arc<ModuleInner>,
    pub(crate) funcs: Box<[u32]>,
    pub(crate) tables: Box<[u32]>,
    pub(crate) memories: Box<[u32]>,
    pub(crate) globals: Box<[u32]>,
    /// Store ids of the element segments (`elems` in the store).
    pub(crate) elems: Box<[u32]>,
    /// Store ids of the data segments.
    pub(crate) datas: Box<[u32]>,
    /// Store type id of each module type index.
    pub(crate) type_ids: Box<[u32]>,
    pub(crate) exports: HashMap<String, Extern>,
}

/// One activation on the call stack.
#[derive(Clone)]
pub(crate) struct Frame {
    /// Where the function continues: the op after the pending call (or its entry).
    pub(crate) ip: IpPtr,
    /// Absolute slot of the frame's first slot. 32 bits, as `ret`, so the record stays 24
    /// bytes (the value stack is limited to fewer slots: `exec::Limits`). 32-byte records
    /// measured no slower; the size is kept for the call stack's cache footprint.
    pub(crate) fp: u32,
    /// While the frame is calling: the absolute slot its call's single result goes to,
    /// the call's `result` (see `Instr::Call`), or `u32::MAX` if that is the call's base
    /// (where the callee's `Return1` writes it anyway; several results are returned from
    /// the base on). Set by the call (`exec::leave_caller`), read by the callee's return.
    pub(crate) ret: u32,
    /// `calls[func].instance`, copied so a return finds the caller's instance in the frame
    /// record it reads anyway instead of one more dependent load.
    pub(crate) instance: u32,
    pub(crate) func: u32,
}

/// A pointer into the ops of a frame's code. Not an `Arc`: a call would pay two atomic
/// operations for it. Valid as long as the store: the code is owned by the module of one of
/// the store's instances, and instances are never removed from a store.
#[derive(Clone, Copy)]
pub(crate) struct IpPtr(pub(crate) crate::exec::Ip);

// SAFETY: the pointee is immutable after translation and owned (through an `Arc` in the
// module) by the same store as the frame holding the pointer, so sending or sharing the
// store sends or shares the pointee with it; `CompiledFunc` itself is `Send + Sync`.
unsafe impl Send for IpPtr {}
// SAFETY: as above.
unsafe impl Sync for IpPtr {}

/// Everything in a store that does not depend on the host data type.
pub(crate) struct StoreInner {
    pub(crate) engine: Engine,
    pub(crate) funcs: Vec<FuncEntity>,
    /// Per function, what a call reads (see [`CallInfo`]); same indices as `funcs`.
    pub(crate) calls: Vec<CallInfo>,
    pub(crate) types: Vec<FuncType>,
    type_ids: HashMap<FuncType, u32>,
    pub(crate) memories: Vec<LinearMemory>,
    pub(crate) tables: Vec<TableEntity>,
    pub(crate) globals: Vec<GlobalEntity>,
    pub(crate) instances: Vec<InstanceEntity>,
    pub(crate) elems: Vec<Box<[u64]>>,
    pub(crate) datas: Vec<DataEntity>,
    pub(crate) stack: Vec<u64>,
    pub(crate) frames: Vec<Frame>,
    /// First free value slot above all live frames (where a host-initiated call starts).
    pub(crate) stack_top: usize,
    /// Remaining fuel (loop iterations and calls), if metered; when profiling, the units
    /// left until the next sample.
    pub(crate) fuel: Option<u64>,
    /// The running profile, if any (see `profile.rs`).
    pub(crate) profile: Option<Box<Profiler>>,
    /// Dispatch counts (see `op_stats.rs`).
    #[cfg(feature = "op-stats")]
    pub(crate) op_stats: crate::op_stats::OpStats,
}

#[cfg(feature = "op-stats")]
impl Drop for StoreInner {
    /// Writes the dispatch counts to the file `WASMI_PY_OP_STATS` names, if it is set.
    fn drop(&mut self) {
        let Some(path) = std::env::var_os("WASMI_PY_OP_STATS") else {
            return;
        };
        let written = std::fs::File::create(&path).and_then(|f| {
            let mut out = std::io::BufWriter::new(f);
            // SAFETY: the ops recorded are code of this store's instances, whose modules
            // are still alive (fields are dropped after `drop` returns).
            unsafe { self.op_stats.write_report(&mut out) }?;
            std::io::Write::flush(&mut out)
        });
        if let Err(e) = written {
            eprintln!("wasmi-py: cannot write the op stats to {path:?}: {e}");
        }
    }
}

/// All runtime state: entities, the value and call stacks, and the host's data `T`.
pub struct Store<T> {
    pub(crate) inner: StoreInner,
    pub(crate) hosts: Vec<Arc<HostFn<T>>>,
    data: T,
}

impl<T> Store<T> {
    /// An empty store using `engine`'s configuration, holding `data` for host functions.
    pub fn new(engine: &Engine, data: T) -> Self {
        Self {
            inner: StoreInner {
                engine: engine.clone(),
                funcs: Vec::new(),
                calls: Vec::new(),
                types: Vec::new(),
                type_ids: HashMap::new(),
                memories: Vec::new(),
                tables: Vec::new(),
                globals: Vec::new(),
                instances: Vec::new(),
                elems: Vec::new(),
                datas: Vec::new(),
                stack: Vec::new(),
                frames: Vec::new(),
                stack_top: 0,
                fuel: None,
                profile: None,
                #[cfg(feature = "op-stats")]
                op_stats: Default::default(),
            },
            hosts: Vec::new(),
            data,
        }
    }

    /// The host data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// Consumes the store, returning the host data.
    pub fn into_data(self) -> T {
        self.data
    }

    /// The engine this store was made with.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Limits execution to `fuel` units (one per loop iteration and per call, calls of
    /// functions the translator inlined excepted: see [`Config::inline`]); running out
    /// traps with [`TrapCode::OutOfFuel`]. `None` removes the limit.
    /// Ends a running profile (see [`Store::start_profile`]).
    pub fn set_fuel(&mut self, fuel: Option<u64>) {
        self.inner.profile = None;
        self.inner.fuel = fuel;
    }

    /// Fuel left, if metered.
    pub fn fuel(&self) -> Option<u64> {
        if self.inner.profile.is_some() {
            return None;
        }
        self.inner.fuel
    }

    /// Starts (or restarts, discarding what was gathered) a sampling profile of the guest
    /// code this store runs, one sample per `interval` calls and loop iterations (1,000 is
    /// a good start; see `profile.rs`). Replaces a fuel limit: a profiled store is not
    /// metered, and [`Store::set_fuel`] ends the profile.
    pub fn start_profile(&mut self, interval: u64) {
        let profiler = Profiler::new(interval);
        self.inner.fuel = Some(profiler.interval);
        self.inner.profile = Some(Box::new(profiler));
    }

    /// The profile gathered since [`Store::start_profile`], if one is running (it goes on).
    pub fn profile(&self) -> Option<Profile> {
        let p = self.inner.profile.as_ref()?;
        Some(p.report(&self.inner))
    }
}

impl StoreInner {
    /// Store function `f`'s index in its module and its name from the name section, if
    /// it is a wasm function (for backtraces and profiles).
    pub(crate) fn wasm_func_name(&self, f: u32) -> Option<(u32, Option<&str>)> {
        let FuncKind::Wasm { instance, defined } = self.funcs[f as usize].kind else {
            return None;
        };
        let module = &self.instances[instance as usize].module.module;
        let index = module.num_imported_functions + defined;
        Some((index, module.names().function(index)))
    }

    pub(crate) fn intern_type(&mut self, ty: &FuncType) -> u32 {
        if let Some(&id) = self.type_ids.get(ty) {
            return id;
        }
        let id = self.types.len() as u32;
        self.types.push(ty.clone());
        self.type_ids.insert(ty.clone(), id);
        id
    }

    /// Adds a function entity and its call entry (the two vectors grow in lockstep).
    pub(crate) fn add_func(&mut self, kind: FuncKind, ty: u32) -> u32 {
        let instance = match kind {
            FuncKind::Wasm { instance, .. } => instance,
            FuncKind::Host { .. } => 0,
        };
        self.funcs.push(FuncEntity { kind });
        self.calls.push(CallInfo::new(instance, ty));
        (self.funcs.len() - 1) as u32
    }

    pub(crate) fn func_type(&self, func: u32) -> &FuncType {
        &self.types[self.calls[func as usize].ty as usize]
    }
}

/// What a host function sees of its caller.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut Store<T>,
    pub(crate) instance: Option<Instance>,
}

impl<'a, T> Caller<'a, T> {
    /// The host data.
    pub fn data(&self) -> &T {
        &self.store.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.data
    }

    /// The store.
    pub fn store(&mut self) -> &mut Store<T> {
        self.store
    }

    /// The calling instance, if the call came from wasm.
    pub fn instance(&self) -> Option<Instance> {
        self.instance
    }

    /// An export of the calling instance.
    pub fn get_export(&self, name: &str) -> Option<Extern> {
        self.instance.and_then(|i| i.get_export(self.store, name))
    }

    /// The calling instance's exported memory named `memory` (what WASI uses).
    pub fn memory(&self) -> Option<Memory> {
        match self.get_export("memory")? {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    /// The bytes of `memory` and the host data at the same time (a host function usually
    /// needs both: guest buffers and its own state).
    pub fn memory_and_data(&mut self, memory: Memory) -> (&mut [u8], &mut T) {
        memory.data_and_store_mut(self.store)
    }
}

impl Func {
    /// A host function of type `ty`.
    pub fn new<T>(
        store: &mut Store<T>,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap> + Send + Sync + 'static,
    ) -> Self {
        let host = store.hosts.len() as u32;
        store.hosts.push(Arc::new(f));
        let ty = store.inner.intern_type(&ty);
        Func(store.inner.add_func(FuncKind::Host { host }, ty))
    }

    /// The function's type.
    pub fn ty<T>(&self, store: &Store<T>) -> FuncType {
        store.inner.func_type(self.0).clone()
    }

    /// Calls the function with `args`, returning its results.
    pub fn call<T>(&self, store: &mut Store<T>, args: &[Val]) -> Result<Vec<Val>, Trap> {
        crate::exec::call(store, *self, args)
    }
}

impl Memory {
    /// A new memory of the given type.
    pub fn new<T>(store: &mut Store<T>, ty: MemoryType) -> Result<Self, Error> {
        let m = LinearMemory::new(ty.limits.min, ty.limits.max).map_err(Error::Resource)?;
        store.inner.memories.push(m);
        Ok(Memory((store.inner.memories.len() - 1) as u32))
    }

    /// The memory's bytes.
    pub fn data<'s, T>(&self, store: &'s Store<T>) -> &'s [u8] {
        store.inner.memories[self.0 as usize].data()
    }

    /// The memory's bytes, mutably.
    pub fn data_mut<'s, T>(&self, store: &'s mut Store<T>) -> &'s mut [u8] {
        store.inner.memories[self.0 as usize].data_mut()
    }

    /// The memory's bytes and the store's host data, borrowed together.
    pub fn data_and_store_mut<'s, T>(&self, store: &'s mut Store<T>) -> (&'s mut [u8], &'s mut T) {
        let Store { inner, data, .. } = store;
        (inner.memories[self.0 as usize].data_mut(), data)
    }

    /// Size in pages.
    pub fn size<T>(&self, store: &Store<T>) -> u32 {
        store.inner.memories[self.0 as usize].pages()
    }

    /// Grows by `delta` pages, returning the old size, or `None` if it cannot.
    pub fn grow<T>(&self, store: &mut Store<T>, delta: u32) -> Option<u32> {
        store.inner.memories[self.0 as usize].grow(delta)
    }

    /// Copies `buf.len()` bytes from `offset`; `Err` if out of bounds.
    pub fn read<T>(&self, store: &Store<T>, offset: usize, buf: &mut [u8]) -> Result<(), Trap> {
        let data = self.data(store);
        let src = offset
            .checked_add(buf.len())
            .and_then(|end| data.get(offset..end))
            .ok_or(Trap::new(TrapCode::MemoryOutOfBounds))?;
        buf.copy_from_slice(src);
        Ok(())
    }

    /// Copies `buf` to `offset`; `Err` if out of bounds.
    pub fn write<T>(&self, store: &mut Store<T>, offset: usize, buf: &[u8]) -> Result<(), Trap> {
        let data = self.data_mut(store);
        let dst = offset
            .checked_add(buf.len())
            .and_then(|end| data.get_mut(offset..end))
            .ok_or(Trap::new(TrapCode::MemoryOutOfBounds))?;
        dst.copy_from_slice(buf);
        Ok(())
    }
}

impl Table {
    /// A new table of type `ty` with every element set to `init`.
    pub fn new<T>(store: &mut Store<T>, ty: TableType, init: Val) -> Self {
        store.inner.tables.push(TableEntity {
            elems: vec![init.to_slot(); ty.limits.min as usize],
            ty,
        });
        Table((store.inner.tables.len() - 1) as u32)
    }

    /// Number of elements.
    pub fn size<T>(&self, store: &Store<T>) -> u32 {
        store.inner.tables[self.0 as usize].elems.len() as u32
    }

    /// Element `index`, if in bounds.
    pub fn get<T>(&self, store: &Store<T>, index: u32) -> Option<Val> {
        let t = &store.inner.tables[self.0 as usize];
        let slot = *t.elems.get(index as usize)?;
        Some(Val::from_slot(slot, t.ty.element.val_type()))
    }
}

impl Global {
    /// A new global.
    pub fn new<T>(store: &mut Store<T>, ty: GlobalType, value: Val) -> Self {
        store.inner.globals.push(GlobalEntity {
            value: value.to_slot(),
            ty,
        });
        Global((store.inner.globals.len() - 1) as u32)
    }

    /// The current value.
    pub fn get<T>(&self, store: &Store<T>) -> Val {
        let g = &store.inner.globals[self.0 as usize];
        Val::from_slot(g.value, g.ty.content)
    }

    /// Sets the value (the global must be mutable and `value` of its type).
    pub fn set<T>(&self, store: &mut Store<T>, value: Val) -> Result<(), String> {
        let g = &mut store.inner.globals[self.0 as usize];
        if !g.ty.mutable {
            return Err("global is immutable".into());
        }
        if value.ty() != g.ty.content {
            return Err(format!(
                "type mismatch: global is {}, value is {}",
                g.ty.content,
                value.ty()
            ));
        }
        g.value = value.to_slot();
        Ok(())
    }
}

impl Instance {
    /// An export by name.
    pub fn get_export<T>(&self, store: &Store<T>, name: &str) -> Option<Extern> {
        store.inner.instances[self.0 as usize]
            .exports
            .get(name)
            .copied()
    }

    /// An exported function by name.
    pub fn get_func<T>(&self, store: &Store<T>, name: &str) -> Option<Func> {
        match self.get_export(store, name)? {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }

    /// An exported memory by name.
    pub fn get_memory<T>(&self, store: &Store<T>, name: &str) -> Option<Memory> {
        match self.get_export(store, name)? {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    /// An exported global by name.
    pub fn get_global<T>(&self, store: &Store<T>, name: &str) -> Option<Global> {
        match self.get_export(store, name)? {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }

    /// All exports, in no particular order.
    pub fn exports<T>(&self, store: &Store<T>) -> Vec<(String, Extern)> {
        store.inner.instances[self.0 as usize]
            .exports
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }
}

/// Import resolution by `(module, name)`.
pub struct Linker<T> {
    defs: HashMap<(String, String), Extern>,
    _marker: std::marker::PhantomData<fn(T)>,
}

impl<T> Default for Linker<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Linker<T> {
    /// An empty linker.
    pub fn new() -> Self {
        Self {
            defs: HashMap::new(),
            _marker: std::marker::PhantomData,
        }
    }

    /// Defines `module.name` (replacing any earlier definition).
    pub fn define(&mut self, module: &str, name: &str, item: impl Into<Extern>) -> &mut Self {
        self.defs
            .insert((module.to_owned(), name.to_owned()), item.into());
        self
    }

    /// Defines a host function `module.name` of type `ty`.
    pub fn func_new(
        &mut self,
        store: &mut Store<T>,
        module: &str,
        name: &str,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap> + Send + Sync + 'static,
    ) -> &mut Self {
        let func = Func::new(store, ty, f);
        self.define(module, name, func)
    }

    /// Defines every export of `instance` under the module name `module`.
    pub fn instance(&mut self, store: &Store<T>, module: &str, instance: Instance) -> &mut Self {
        for (name, item) in instance.exports(store) {
            self.define(module, &name, item);
        }
        self
    }

    /// The definition of `module.name`, if any.
    pub fn get(&self, module: &str, name: &str) -> Option<Extern> {
        self.defs
            .get(&(module.to_owned(), name.to_owned()))
            .copied()
    }

    /// Instantiates `module`: resolves imports, creates its entities, applies segments and
    /// runs the start function.
    pub fn instantiate(&self, store: &mut Store<T>, module: &Module) -> Result<Instance, Error> {
        let m = &module.inner.module;
        let mut imports = Vec::with_capacity(m.imports.len());
        for import in &m.imports {
            let item = self.get(&import.module, &import.name).ok_or_else(|| {
                Error::Link(format!(
                    "unknown import: `{}`.`{}` ({}) is not defined",
                    import.module,
                    import.name,
                    import.desc.kind()
                ))
            })?;
            check_import(store, m, import, item)?;
            imports.push(item);
        }
        crate::instantiate::instantiate(store, module, &imports)
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Self {
        Extern::Func(f)
    }
}
impl From<Memory> for Extern {
    fn from(m: Memory) -> Self {
        Extern::Memory(m)
    }
}
impl From<Table> for Extern {
    fn from(t: Table) -> Self {
        Extern::Table(t)
    }
}
impl From<Global> for Extern {
    fn from(g: Global) -> Self {
        Extern::Global(g)
    }
}

fn limits_match(actual_min: u64, actual_max: Option<u64>, min: u64, max: Option<u64>) -> bool {
    actual_min >= min
        && match max {
            None => true,
            Some(max) => actual_max.is_some_and(|a| a <= max),
        }
}

fn check_import<T>(
    store: &Store<T>,
    m: &wasmi_py_decode::Module,
    import: &wasmi_py_decode::Import,
    item: Extern,
) -> Result<(), Error> {
    let s = &store.inner;
    let what = || format!("`{}`.`{}`", import.module, import.name);
    let ok = match (&import.desc, item) {
        (ImportDesc::Func(ty), Extern::Func(f)) => *s.func_type(f.0) == m.types[*ty as usize],
        (ImportDesc::Table(ty), Extern::Table(t)) => {
            let t = &s.tables[t.0 as usize];
            t.ty.element == ty.element
                && limits_match(
                    t.elems.len() as u64,
                    t.ty.limits.max.map(u64::from),
                    u64::from(ty.limits.min),
                    ty.limits.max.map(u64::from),
                )
        }
        (ImportDesc::Memory(ty), Extern::Memory(mem)) => {
            let mem = &s.memories[mem.0 as usize];
            limits_match(
                u64::from(mem.pages()),
                mem.max_pages_declared().map(u64::from),
                u64::from(ty.limits.min),
                ty.limits.max.map(u64::from),
            )
        }
        (ImportDesc::Global(ty), Extern::Global(g)) => s.globals[g.0 as usize].ty == *ty,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::Link(format!(
            "incompatible import type for {} (expected a {})",
            what(),
            import.desc.kind()
        )))
    }
}

/// Evaluates a constant expression in an instance under construction.
pub(crate) fn eval_const(
    s: &StoreInner,
    m: &wasmi_py_decode::Module,
    expr: &wasmi_py_decode::ConstExpr,
    globals: &[u32],
    funcs: &[u32],
) -> u64 {
    let mut ops = m.const_expr_reader(expr);
    let mut value = 0;
    while let Ok(op) = ops.read() {
        value = match op {
            Operator::I32Const { value } => u64::from(value as u32),
            Operator::I64Const { value } => value as u64,
            Operator::F32Const { value } => u64::from(value.0),
            Operator::F64Const { value } => value.0,
            Operator::RefNull { .. } => 0,
            Operator::RefFunc { function_index } => u64::from(funcs[function_index as usize]) + 1,
            Operator::GlobalGet { global_index } => {
                s.globals[globals[global_index as usize] as usize].value
            }
            _ => break,
        };
    }
    value
}
