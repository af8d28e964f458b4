//! # wasmi-py-cpython
//!
//! CPython 3.13 for WASI (`python.wasm`, built by `python-wasm/build.sh`) embedded through
//! the C API it exports. The flow is the one of the prior art (a Zig host on zware):
//!
//! ```text
//! instantiate → __wasm_call_ctors (once) → Py_Initialize
//!             → PyRun_SimpleString(prelude) → PyRun_SimpleString(user code) …
//!             → Py_FinalizeEx → __wasm_call_dtors
//! ```
//!
//! `Py_Initialize` is done as `python3` itself does it: `PyConfig_InitPythonConfig`, then
//! `PyConfig_SetBytesArgv` with `python3`'s interpreter options ([`Config::python_options`],
//! parsed by CPython's own command-line parser), then `Py_InitializeFromConfig`.
//!
//! Every string goes into guest memory through the guest's own `malloc` and is `free`d
//! after the call; nothing is written at a fixed address. `SystemExit` makes CPython call
//! `exit()`, which ends in WASI `proc_exit`, surfacing here as [`Ended::Exit`]; a trap is
//! [`Ended::Trap`].
//!
//! A [`Runtime`] holds the decoded module and can start many interpreters: function
//! bodies are translated lazily, once per runtime, so later interpreters start faster.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use wasmi_py_core::{
    Config as EngineConfig, Engine, Error as CoreError, Func, FuncType, Instance, Linker, Memory,
    Module, ModuleFile, Profile, Store, Trap, Val, ValType,
};
use wasmi_py_socket::SocketCtx;
pub use wasmi_py_socket::{AllowEntry, NetPolicy};
use wasmi_py_wasi::WasiCtx;
pub use wasmi_py_wasi::{OutputSpec, StdinSpec};

/// The Python source of the prelude, module `_wasmi_py`. `python-wasm/build.sh` also
/// installs it into the standard library with its byte code; see [`prelude_loader`].
const PRELUDE: &str = include_str!("../../../python-wasm/_wasmi_py.py");

/// Where the guest sees [`Install::home`]: CPython's default prefix, so that no
/// environment variable is needed to find the standard library.
const GUEST_PREFIX: &str = "/usr/local";

/// The standard library directory, below [`Install::home`] on the host and below
/// [`GUEST_PREFIX`] in the guest.
const STDLIB: &str = "lib/python3.13";

/// The import module of the socket host functions (see `docs/socket-abi.md`).
const SOCKET_MODULE: &str = wasmi_py_socket::MODULE;

/// Where a built python.wasm and its standard library are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    /// `python.wasm`.
    pub wasm: PathBuf,
    /// The directory holding `lib/python3.13`, mapped read-only at the guest's `/usr/local`
    /// (CPython's default prefix, so no environment variables are needed to find it).
    pub home: PathBuf,
}

impl Install {
    /// An install rooted at `dir` (which holds `python.wasm` and `lib/python3.13`).
    pub fn at(dir: &Path) -> Result<Self, String> {
        let wasm = dir.join("python.wasm");
        if !wasm.is_file() {
            return Err(format!("no python.wasm in {}", dir.display()));
        }
        if !dir.join(STDLIB).is_dir() {
            return Err(format!(
                "no lib/python3.13 (the standard library) in {}",
                dir.display()
            ));
        }
        Ok(Self {
            wasm,
            home: dir.to_path_buf(),
        })
    }

    /// Finds the install: `explicit` if given, else `$WASMI_PY_HOME`, else the cache that
    /// `python-wasm/build.sh` fills (`${WASMI_PY_CACHE:-~/.cache/wasmi-py}/python-wasm/current`).
    pub fn locate(explicit: Option<&Path>) -> Result<Self, String> {
        if let Some(dir) = explicit {
            return Self::at(dir);
        }
        if let Some(dir) = std::env::var_os("WASMI_PY_HOME") {
            return Self::at(Path::new(&dir));
        }
        let cache = cache_root()
            .ok_or("cannot find python.wasm: set WASMI_PY_HOME or pass --python-home")?;
        let dir = cache.join("python-wasm/current");
        Self::at(&dir).map_err(|e| {
            format!("{e}\n  python.wasm is built by `python-wasm/build.sh` (or point --python-home / WASMI_PY_HOME at a build)")
        })
    }
}

/// wasmi-py's cache directory: `$WASMI_PY_CACHE`, else `~/.cache/wasmi-py`. It holds the
/// python.wasm build (`python-wasm/current`) and the code cache ([`code_cache_dir`]).
pub fn cache_root() -> Option<PathBuf> {
    std::env::var_os("WASMI_PY_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/wasmi-py")))
}

/// Where translated code is cached between runs (`Module::with_code_cache`): `code` in the
/// [`cache_root`].
pub fn code_cache_dir() -> Option<PathBuf> {
    cache_root().map(|root| root.join("code"))
}

/// A directory given to the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    pub host: PathBuf,
    pub guest: String,
    pub read_only: bool,
}

/// What an interpreter is started with.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Directories the guest may use (besides the standard library, always mapped).
    pub dirs: Vec<Dir>,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Standard input (default: nothing).
    pub stdin: StdinSpec,
    /// Standard output (default: discarded).
    pub stdout: OutputSpec,
    /// Standard error (default: discarded).
    pub stderr: OutputSpec,
    /// Network access (default: none; see [`NetPolicy`]). A denied operation raises
    /// `PermissionError` in Python, naming the `--net`/`--allow-net` flag that would allow it.
    pub net: NetPolicy,
    /// `python3`'s interpreter options (`-u`, `-I`, `-X importtime`, `-W error`, …), given
    /// to CPython's own command-line parser at initialization, so they mean exactly what
    /// they mean to `python3`. Only options: no script, `-c` or `-m` (see [`Main`]). An
    /// unknown option makes CPython print its usage and exit with status 2.
    pub python_options: Vec<String>,
    /// Profile the guest from instantiation on, one sample per this many calls and loop
    /// iterations (see [`Store::start_profile`]); read it with [`Python::profile`].
    pub profile: Option<u64>,
}

impl Config {
    /// Connects the guest's stdio to the host process's.
    pub fn inherit_stdio(mut self) -> Self {
        self.stdin = StdinSpec::Inherit;
        self.stdout = OutputSpec::Inherit;
        self.stderr = OutputSpec::Inherit;
        self
    }

    /// Captures stdout and stderr into buffers (returned), with no stdin.
    pub fn capture_output(mut self) -> (Self, Captured, Captured) {
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(Vec::new()));
        self.stdout = OutputSpec::Capture(Arc::clone(&out));
        self.stderr = OutputSpec::Capture(Arc::clone(&err));
        (self, out, err)
    }
}

/// A buffer the guest's output is appended to.
pub type Captured = Arc<Mutex<Vec<u8>>>;

/// Why an interpreter can no longer run code.
#[derive(Debug)]
pub enum Ended {
    /// CPython called `exit(status)` (e.g. `SystemExit`), which runs its finalization.
    Exit(i32),
    /// Execution trapped (a bug in CPython or the interpreter, or a resource limit).
    Trap(Trap),
}

impl Ended {
    fn from_trap(trap: Trap) -> Self {
        match trap.exit_status() {
            Some(status) => Ended::Exit(status),
            None => Ended::Trap(trap),
        }
    }

    /// The process exit status this ending maps to (a trap is 134, like an abort).
    pub fn status(&self) -> i32 {
        match self {
            Ended::Exit(status) => *status,
            Ended::Trap(_) => 134,
        }
    }
}

/// Errors of starting an interpreter.
#[derive(Debug)]
pub enum StartError {
    /// python.wasm could not be read, loaded or linked, or a directory could not be opened.
    Setup(String),
    /// CPython ended while initializing (with what it wrote to stderr, if captured).
    Init(Ended),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Setup(e) => f.write_str(e),
            StartError::Init(Ended::Exit(s)) => {
                write!(f, "CPython exited with status {s} while initializing")
            }
            StartError::Init(Ended::Trap(t)) => {
                write!(f, "CPython trapped while initializing: {t}")
            }
        }
    }
}

impl std::error::Error for StartError {}

/// A loaded python.wasm that can start interpreters.
#[derive(Clone)]
pub struct Runtime {
    install: Install,
    engine: Engine,
    module: Module,
    /// The install's standard library holds this host's prelude (see [`prelude_loader`]).
    prelude_installed: bool,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("install", &self.install)
            .finish()
    }
}

impl Runtime {
    /// Loads python.wasm (decodes it and checks module-level rules; bodies are validated and
    /// translated on first call, or taken from the code cache in `code_cache` if given:
    /// see [`Runtime::save_code_cache`]).
    pub fn load(install: Install, code_cache: Option<&Path>) -> Result<Self, StartError> {
        let file = ModuleFile::read(&install.wasm).map_err(|e| {
            StartError::Setup(format!("cannot read {}: {e}", install.wasm.display()))
        })?;
        let engine = Engine::new(EngineConfig::default());
        let module = Module::from_file(&engine, file, code_cache)
            .map_err(|e| StartError::Setup(format!("{}: {e}", install.wasm.display())))?;
        Ok(Self {
            prelude_installed: prelude_installed(&install.home),
            install,
            engine,
            module,
        })
    }

    /// Adds the code translated so far to the code cache given to [`Runtime::load`] (a
    /// no-op without one, or if nothing new was translated).
    pub fn save_code_cache(&self) -> std::io::Result<bool> {
        self.module.save_code_cache()
    }

    /// The install this runtime was loaded from.
    pub fn install(&self) -> &Install {
        &self.install
    }

    /// Instantiates python.wasm and initializes CPython.
    pub fn start(&self, config: Config) -> Result<Python, StartError> {
        let setup = |e: &dyn std::fmt::Display| StartError::Setup(e.to_string());
        let mut builder = WasiCtx::builder()
            .arg(PROGRAM_NAME)
            .stdin(config.stdin)
            .stdout(config.stdout)
            .stderr(config.stderr)
            .preopen_dir(&self.install.home, GUEST_PREFIX, true)
            // `/` and the directories above the mapped ones exist, as for python3.
            .virtual_root(true);
        for (k, v) in &config.env {
            builder = builder.env(k, v);
        }
        for d in &config.dirs {
            builder = builder.preopen_dir(&d.host, d.guest.clone(), d.read_only);
        }
        let wasi = builder.build().map_err(|e| setup(&e))?;
        let net = SocketCtx::new(config.net);
        let mut store = Store::new(&self.engine, Host { wasi, net });
        let mut linker = Linker::new();
        wasmi_py_wasi::add_to_linker(&mut linker, &mut store, |h: &mut Host| &mut h.wasi);
        wasmi_py_socket::add_to_linker(&mut linker, &mut store, |h: &mut Host| {
            (&mut h.wasi, &mut h.net)
        });
        define_unknown_socket_imports(&mut linker, &mut store, &self.module);
        if let Some(interval) = config.profile {
            store.start_profile(interval);
        }
        let instance = linker
            .instantiate(&mut store, &self.module)
            .map_err(|e| match e {
                CoreError::Trap(t) => StartError::Init(Ended::from_trap(t)),
                other => setup(&other),
            })?;
        let mut python = Python::new(store, instance).map_err(|e| setup(&e))?;
        python
            .call0("__wasm_call_ctors")
            .map_err(StartError::Init)?;
        python
            .initialize(&config.python_options)
            .map_err(StartError::Init)?;
        let ok = python
            .run(&prelude_loader(self.prelude_installed))
            .map_err(StartError::Init)?;
        if !ok {
            return Err(StartError::Setup(
                "the wasmi-py prelude failed (see stderr)".into(),
            ));
        }
        Ok(python)
    }
}

/// The program name CPython is given (`argv[0]` of its WASI context and of
/// `PyConfig_SetBytesArgv`, so `sys.orig_argv[0]`): python3 shows how it was invoked.
pub const PROGRAM_NAME: &str = "python";

/// Host state of an interpreter's store.
pub struct Host {
    /// The WASI context (files, stdio, clocks, sockets, …).
    pub wasi: WasiCtx,
    /// The socket host module's state (the network policy).
    pub net: SocketCtx,
}

/// A running CPython interpreter. State persists between [`Python::run`] calls.
pub struct Python {
    store: Store<Host>,
    instance: Instance,
    memory: Memory,
    malloc: Func,
    free: Func,
    run_simple: Func,
    ended: bool,
}

impl Python {
    fn new(store: Store<Host>, instance: Instance) -> Result<Self, String> {
        let func = |name: &str| {
            instance
                .get_func(&store, name)
                .ok_or_else(|| format!("python.wasm does not export {name}"))
        };
        Ok(Self {
            memory: instance
                .get_memory(&store, "memory")
                .ok_or("python.wasm does not export its memory")?,
            malloc: func("malloc")?,
            free: func("free")?,
            run_simple: func("PyRun_SimpleString")?,
            store,
            instance,
            ended: false,
        })
    }

    /// The profile of the guest so far, if [`Config::profile`] asked for one (it stays
    /// readable after the interpreter ended).
    pub fn profile(&self) -> Option<Profile> {
        self.store.profile()
    }

    fn check_running(&self) -> Result<(), Ended> {
        if self.ended {
            // An interpreter that exited or trapped cannot run more code.
            return Err(Ended::Exit(-1));
        }
        Ok(())
    }

    fn call(&mut self, func: Func, args: &[Val]) -> Result<Vec<Val>, Ended> {
        self.check_running()?;
        func.call(&mut self.store, args).map_err(|trap| {
            self.ended = true;
            Ended::from_trap(trap)
        })
    }

    fn call0(&mut self, name: &str) -> Result<Vec<Val>, Ended> {
        self.call_export(name, &[])
    }

    fn call_export(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>, Ended> {
        let func = self.instance.get_func(&self.store, name).ok_or_else(|| {
            Ended::Trap(Trap::host(format!("python.wasm does not export {name}")))
        })?;
        self.call(func, args)
    }

    /// `size` bytes from the guest's `malloc`; the caller frees them.
    fn alloc(&mut self, size: usize) -> Result<i32, Ended> {
        let size = i32::try_from(size)
            .map_err(|_| Ended::Trap(Trap::host("allocation too large for guest memory")))?;
        match self.call(self.malloc, &[Val::I32(size)])?.first() {
            Some(Val::I32(p)) if *p != 0 => Ok(*p),
            _ => Err(Ended::Trap(Trap::host("guest malloc failed"))),
        }
    }

    /// `free(ptr)` in the guest.
    fn free(&mut self, ptr: i32) -> Result<(), Ended> {
        self.call(self.free, &[Val::I32(ptr)]).map(drop)
    }

    /// Writes `bytes` to guest memory at `ptr`.
    fn write(&mut self, ptr: i32, bytes: &[u8]) -> Result<(), Ended> {
        self.memory
            .write(&mut self.store, ptr as u32 as usize, bytes)
            .map_err(Ended::Trap)
    }

    /// Copies `s` into guest memory as a NUL-terminated C string allocated with the guest's
    /// `malloc`; the caller frees it.
    fn alloc_cstring(&mut self, s: &str) -> Result<i32, Ended> {
        let ptr = self.alloc(s.len() + 1)?;
        let mut bytes = Vec::with_capacity(s.len() + 1);
        bytes.extend_from_slice(s.as_bytes());
        bytes.push(0);
        self.write(ptr, &bytes)?;
        Ok(ptr)
    }

    /// Initializes CPython as `python3` does (see the crate docs), with `options` parsed
    /// by CPython's command-line parser. An exit status from it (`-V`, a bad option) is
    /// [`Ended::Exit`], a fatal error is what `Py_ExitStatusException` makes of it.
    fn initialize(&mut self, options: &[String]) -> Result<(), Ended> {
        // sizeof(PyConfig) is 284 bytes in CPython 3.13.5 for wasm32 (DWARF of
        // python-debug.wasm); the layout is fixed within 3.13, the margin is for safety.
        // sizeof(PyStatus) is 16: {int _type; char *func; char *err_msg; int exitcode}.
        const CONFIG_SIZE: usize = 1024;
        const STATUS_SIZE: usize = 16;
        let argv: Vec<&str> = std::iter::once(PROGRAM_NAME)
            .chain(options.iter().map(String::as_str))
            .collect();
        if let Some(bad) = argv.iter().find(|a| a.contains('\0')) {
            return Err(Ended::Trap(Trap::host(format!(
                "interpreter option {bad:?} contains a NUL byte"
            ))));
        }
        let config = self.alloc(CONFIG_SIZE + STATUS_SIZE)?;
        let status = config + CONFIG_SIZE as i32;
        let strings = argv
            .iter()
            .map(|a| self.alloc_cstring(a))
            .collect::<Result<Vec<i32>, Ended>>()?;
        let array = self.alloc(4 * strings.len())?;
        let bytes: Vec<u8> = strings.iter().flat_map(|p| p.to_le_bytes()).collect();
        self.write(array, &bytes)?;

        self.call_export("PyConfig_InitPythonConfig", &[Val::I32(config)])?;
        let argc = strings.len() as i32;
        self.call_export(
            "PyConfig_SetBytesArgv",
            &[
                Val::I32(status),
                Val::I32(config),
                Val::I32(argc),
                Val::I32(array),
            ],
        )?;
        self.check_status(status)?;
        self.call_export(
            "Py_InitializeFromConfig",
            &[Val::I32(status), Val::I32(config)],
        )?;
        self.check_status(status)?;

        self.call_export("PyConfig_Clear", &[Val::I32(config)])?;
        for ptr in strings.into_iter().chain([array, config]) {
            self.free(ptr)?;
        }
        Ok(())
    }

    /// Ends the interpreter as CPython would if the `PyStatus` at `status` is an error or
    /// an exit.
    fn check_status(&mut self, status: i32) -> Result<(), Ended> {
        match self
            .call_export("PyStatus_Exception", &[Val::I32(status)])?
            .first()
        {
            Some(Val::I32(0)) => Ok(()),
            _ => {
                // Exits (proc_exit) or aborts (a trap); it does not return.
                self.call_export("Py_ExitStatusException", &[Val::I32(status)])?;
                self.ended = true;
                Err(Ended::Trap(Trap::host(
                    "Py_ExitStatusException returned without exiting",
                )))
            }
        }
    }

    /// Runs `code` in `__main__` with `PyRun_SimpleString`: `Ok(true)` if it ran to the end,
    /// `Ok(false)` if it raised (CPython printed the traceback), `Err` if CPython exited
    /// (`SystemExit`) or trapped.
    pub fn run(&mut self, code: &str) -> Result<bool, Ended> {
        if code.contains('\0') {
            return Err(Ended::Trap(Trap::host("code contains a NUL byte")));
        }
        let ptr = self.alloc_cstring(code)?;
        let result = self.call(self.run_simple, &[Val::I32(ptr)]);
        if !self.ended {
            self.free(ptr)?;
        }
        match result?.first() {
            Some(Val::I32(0)) => Ok(true),
            _ => Ok(false),
        }
    }

    /// Runs what `python3` would for `main` (a script, `-c`, `-m`, stdin or the REPL) via
    /// the prelude, with `argv` as `sys.argv`.
    pub fn run_main(&mut self, main: &Main) -> Result<bool, Ended> {
        let none = || "None".to_string();
        let py_bool = |b: bool| if b { "True" } else { "False" };
        let orig_argv = main.orig_argv.as_ref().map(|args| {
            let full: Vec<String> = std::iter::once(PROGRAM_NAME.to_owned())
                .chain(args.iter().cloned())
                .collect();
            py_list(&full)
        });
        let call = format!(
            "__import__('_wasmi_py').main({}, {}, {}, {}, {}, skip_first_line={}, inspect={}, \
             orig_argv={})",
            py_str(main.mode.name()),
            main.mode.target().map_or_else(none, py_str),
            py_list(&main.argv),
            main.path0.as_deref().map_or_else(none, py_str),
            main.cwd.as_deref().map_or_else(none, py_str),
            py_bool(main.skip_first_line),
            py_bool(main.inspect),
            orig_argv.unwrap_or_else(none),
        );
        self.run(&call)
    }

    /// `Py_FinalizeEx`, then `__wasm_call_dtors`: the status python3 would exit with
    /// (0, or 120 if finalization failed to flush).
    pub fn finalize(&mut self) -> Result<i32, Ended> {
        let status = match self.call0("Py_FinalizeEx")?.first() {
            Some(Val::I32(0)) => 0,
            _ => 120,
        };
        self.call0("__wasm_call_dtors")?;
        self.ended = true;
        Ok(status)
    }
}

/// What to run as `__main__`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// A script file (guest path).
    Script(String),
    /// `-c CODE`.
    Command(String),
    /// `-m MODULE`.
    Module(String),
    /// The program comes from standard input.
    Stdin,
    /// The interactive interpreter, reading statements from standard input (a terminal,
    /// or with `-i` anything): prompts go to stderr when it is not a terminal, as python3's.
    Repl,
}

impl Mode {
    fn name(&self) -> &'static str {
        match self {
            Mode::Script(_) => "script",
            Mode::Command(_) => "command",
            Mode::Module(_) => "module",
            Mode::Stdin => "stdin",
            Mode::Repl => "repl",
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            Mode::Script(s) | Mode::Command(s) | Mode::Module(s) => Some(s),
            Mode::Stdin | Mode::Repl => None,
        }
    }
}

/// A `python3`-style invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Main {
    pub mode: Mode,
    /// `sys.argv` (for a script: as the user typed the path, then the arguments).
    pub argv: Vec<String>,
    /// What to put first on `sys.path` (the script's directory, or `""`).
    pub path0: Option<String>,
    /// The guest directory to change into first.
    pub cwd: Option<String>,
    /// `python3 -x`: skip the script's first line (line numbers stay those of the file).
    pub skip_first_line: bool,
    /// `python3 -i`: after the code (even if it raised, `SystemExit` included), print its
    /// traceback if any and enter the interactive interpreter; `PYTHONINSPECT` does the
    /// same when stdin is a terminal. Handled by the prelude, not by CPython's own `-i`
    /// (which would make `SystemExit` print a traceback instead of exiting from the
    /// embedded interpreter too), so `sys.flags.inspect` and `sys.flags.interactive` stay 0.
    pub inspect: bool,
    /// The command line's arguments as python3 would get them (`["-u", "script.py",
    /// "arg"]`): `sys.orig_argv` is the program name followed by these. `None` keeps
    /// CPython's own, which only has what [`Config::python_options`] gave it.
    pub orig_argv: Option<Vec<String>>,
}

/// Whether `home`'s standard library holds this host's prelude: the same source as
/// [`PRELUDE`] (`build.sh` installs it with its byte code; an older build has none or
/// another version).
fn prelude_installed(home: &Path) -> bool {
    std::fs::read(home.join(STDLIB).join("_wasmi_py.py")).is_ok_and(|b| b == PRELUDE.as_bytes())
}

/// The code that installs the prelude as module `_wasmi_py` without leaving names in
/// `__main__`.
///
/// If the standard library holds it (`installed`), it is imported from there, from its
/// byte code: compiling the prelude's source took ~10 ms of every start-up. `sys.path`
/// is only the standard library meanwhile, so that nothing on `PYTHONPATH` can stand in
/// for it. Otherwise (a python.wasm built before the prelude was installed, or for
/// another version of it) the source compiled into the host is compiled in the guest,
/// into a module object from `type(sys)` (the module type; importing `types` for
/// `ModuleType` was ~1 ms).
fn prelude_loader(installed: bool) -> String {
    if installed {
        return format!(
            "(lambda sys, path: (setattr(sys, 'path', [{}]), __import__('_wasmi_py'), \
             setattr(sys, 'path', path)))(__import__('sys'), __import__('sys').path)",
            py_str(&format!("{GUEST_PREFIX}/{STDLIB}"))
        );
    }
    format!(
        "__import__('sys').modules['_wasmi_py'] = type(__import__('sys'))('_wasmi_py'); \
         exec(compile({}, '<wasmi-py prelude>', 'exec'), __import__('sys').modules['_wasmi_py'].__dict__)",
        py_str(PRELUDE)
    )
}

/// A Python string literal for `s` (every character escaped that could end or alter it).
fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn py_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| py_str(s)).collect();
    format!("[{}]", items.join(", "))
}

/// A python.wasm newer than this host may import `wasmi_py_socket` functions the host does
/// not know; as `docs/socket-abi.md` asks, those answer `NOSYS` (52) instead of making
/// instantiation fail.
fn define_unknown_socket_imports(
    linker: &mut Linker<Host>,
    store: &mut Store<Host>,
    module: &Module,
) {
    const NOSYS: i32 = 52;
    for import in &module.decoded().imports {
        if import.module != SOCKET_MODULE || linker.get(SOCKET_MODULE, &import.name).is_some() {
            continue;
        }
        if let wasmi_py_core::decode::ImportDesc::Func(ty) = import.desc {
            let ty: FuncType = module.decoded().types[ty as usize].clone();
            let results_i32 = ty.results() == [ValType::I32];
            linker.func_new(
                store,
                SOCKET_MODULE,
                &import.name,
                ty,
                move |_, _, results| {
                    if results_i32 {
                        results[0] = Val::I32(NOSYS);
                    }
                    Ok(())
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_literals_escape_everything_that_matters() {
        assert_eq!(py_str("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\x01é\"");
        assert_eq!(py_list(&["x".into(), "y z".into()]), "[\"x\", \"y z\"]");
    }

    #[test]
    fn the_installed_prelude_is_used_only_if_it_is_this_hosts() {
        let home = std::env::temp_dir().join(format!("wasmi-py-prelude-{}", std::process::id()));
        let lib = home.join(STDLIB);
        std::fs::create_dir_all(&lib).unwrap();
        assert!(!prelude_installed(&home), "none installed");
        std::fs::write(
            lib.join("_wasmi_py.py"),
            PRELUDE.replace("def main(", "def main2("),
        )
        .unwrap();
        assert!(!prelude_installed(&home), "another version");
        std::fs::write(lib.join("_wasmi_py.py"), PRELUDE).unwrap();
        assert!(prelude_installed(&home));
        std::fs::remove_dir_all(&home).unwrap();
    }

    #[test]
    fn locate_reports_what_is_missing() {
        let err = Install::at(Path::new("/nonexistent")).unwrap_err();
        assert!(err.contains("no python.wasm"), "{err}");
    }
}
