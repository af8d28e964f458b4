//! `cpython-bench`: CPython workloads (python.wasm) under wasmi-py and under wasmi 2.0.
//!
//! A report, not a test. Every measurement is one child process of this same binary
//! (`--child ENGINE ...`), so each run starts cold (nothing is shared between runs: no
//! translated code, no allocator state) and its peak RSS is its own. The two engines run
//! the same python.wasm, with the same WASI setup, interleaved: for each repetition, for
//! each workload, wasmi-py then wasmi.
//!
//! What a child measures, in process, with `Instant`:
//! * `compile`: `Module::new` on the python.wasm bytes (already read from disk);
//! * `instantiate`: linker + WASI context setup and instantiation;
//! * `run`: the `_start` call (CPython start-up, the script, CPython shutdown).
//!
//! The headline number of a workload is `compile + instantiate + run` (everything but
//! process creation and reading the file). The parent also times the whole child process
//! (spawn to exit): the "cold process" start-up figure.
//!
//! See docs/BENCHMARKS.md.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

const USAGE: &str = "\
cpython-bench: CPython (python.wasm) workloads under wasmi-py and wasmi 2.0 (a report)

USAGE:
    cargo run --release -p cpython-bench -- [OPTIONS] [WORKLOAD...]

With no WORKLOAD, all of them run (see --list). Each measurement is a fresh child
process; engines are interleaved (wasmi-py, wasmi, wasmi-py, wasmi, ...).

OPTIONS:
    --reps N             Repetitions per workload and engine (default 5).
    --engine E           Run only engine E: wasmi-py or wasmi (e.g. for perf).
    --python-home DIR    Directory with python.wasm and lib/python3.13 (default:
                         $WASMI_PY_HOME, else ~/.cache/wasmi-py/python-wasm/current).
    --code-cache         wasmi-py runs with its code cache warm (as `wasmi-py run` does
                         from the second run on): the parent fills a fresh cache
                         directory with one untimed run of each workload first.
    --list               List the workloads and exit.
    --translate          Instead of the workloads: translate every function of
                         python.wasm eagerly in each engine, in process, --reps times
                         (interleaved), and print the median times.
    -h, --help           Print this help.

INTERNAL (also handy under perf):
    cpython-bench --child ENGINE [--python-home DIR] WORKLOAD
        Runs one workload once on one engine; prints the measurement line and the
        guest's stdout.
";

/// The workload that is not a script: `python -c pass`.
const STARTUP: &str = "startup";

/// Where the workload scripts live (mapped at the guest's `/bench`).
fn workloads_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Engine {
    WasmiPy,
    Wasmi,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::WasmiPy => "wasmi-py",
            Engine::Wasmi => "wasmi",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "wasmi-py" | "ours" => Ok(Engine::WasmiPy),
            "wasmi" | "theirs" => Ok(Engine::Wasmi),
            _ => Err(format!("unknown engine '{s}' (expected wasmi-py or wasmi)")),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("--child") {
        child_main(&args[1..])
    } else {
        parent_main(&args)
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "cpython-bench: {e}");
            ExitCode::from(2)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Locating python.wasm
// ---------------------------------------------------------------------------------------

fn python_home(explicit: Option<&Path>) -> Result<PathBuf, String> {
    wasmi_py_cpython::Install::locate(explicit).map(|i| i.home)
}

/// The guest's argv after `python.wasm` for a workload.
fn guest_args(workload: &str) -> Vec<String> {
    if workload == STARTUP {
        vec!["-c".into(), "pass".into()]
    } else {
        vec![format!("/bench/{workload}.py")]
    }
}

/// The environment both engines give the guest: a fixed string-hash seed (so dict and
/// set layouts, and so the work done, are the same in every run) and no `.pyc` writing.
const GUEST_ENV: &[(&str, &str)] = &[("PYTHONHASHSEED", "0"), ("PYTHONDONTWRITEBYTECODE", "1")];

// ---------------------------------------------------------------------------------------
// Child: one run of one workload on one engine
// ---------------------------------------------------------------------------------------

/// What a child measured.
#[derive(Debug, Clone, Default)]
struct Measured {
    compile_ns: u64,
    instantiate_ns: u64,
    run_ns: u64,
    exit: i32,
    maxrss_kb: u64,
}

impl Measured {
    fn total_ns(&self) -> u64 {
        self.compile_ns + self.instantiate_ns + self.run_ns
    }

    fn to_line(&self) -> String {
        format!(
            "CPYTHON-BENCH compile_ns={} instantiate_ns={} run_ns={} exit={} maxrss_kb={}\n",
            self.compile_ns, self.instantiate_ns, self.run_ns, self.exit, self.maxrss_kb
        )
    }

    fn from_line(line: &str) -> Option<Self> {
        let rest = line.strip_prefix("CPYTHON-BENCH ")?;
        let mut m = Measured::default();
        for field in rest.split_whitespace() {
            let (k, v) = field.split_once('=')?;
            match k {
                "compile_ns" => m.compile_ns = v.parse().ok()?,
                "instantiate_ns" => m.instantiate_ns = v.parse().ok()?,
                "run_ns" => m.run_ns = v.parse().ok()?,
                "exit" => m.exit = v.parse().ok()?,
                "maxrss_kb" => m.maxrss_kb = v.parse().ok()?,
                _ => return None,
            }
        }
        Some(m)
    }
}

/// Peak resident set size of this process, in KiB (`VmHWM`).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn ns(since: Instant) -> u64 {
    since.elapsed().as_nanos() as u64
}

/// The guest's stdout and stderr, and the measurements.
struct ChildOutput {
    measured: Measured,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn child_main(args: &[String]) -> Result<ExitCode, String> {
    let mut home = None;
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--python-home" {
            i += 1;
            home = Some(PathBuf::from(
                args.get(i).ok_or("--python-home needs a value")?,
            ));
        } else {
            rest.push(args[i].clone());
        }
        i += 1;
    }
    let [engine, workload] = rest.as_slice() else {
        return Err("usage: cpython-bench --child ENGINE [--python-home DIR] WORKLOAD".into());
    };
    let engine = Engine::parse(engine)?;
    let home = python_home(home.as_deref())?;
    let wasm = home.join("python.wasm");
    let argv: Vec<String> = std::iter::once("python.wasm".to_owned())
        .chain(guest_args(workload))
        .collect();
    // Each engine reads python.wasm (untimed) as `wasmi-py run` or an embedder of
    // wasmi would, and drops what it read once its module is made: what an engine keeps
    // of it (a copy, parts) is its own memory, and the harness keeps none (as `wasmi-py
    // run` keeps none; before 2026-11-24 the harness held its copy to the end, ~7 MB
    // more peak RSS for both engines).
    let out = match engine {
        Engine::WasmiPy => run_wasmi_py(&wasm, &home, &argv)?,
        Engine::Wasmi => run_wasmi(&wasm, &home, &argv)?,
    };
    let mut measured = out.measured;
    measured.maxrss_kb = peak_rss_kb();
    let _ = std::io::stderr().write_all(&out.stderr);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(measured.to_line().as_bytes())
        .and_then(|()| stdout.write_all(&out.stdout))
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write the report: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

const SOCKET_MODULE: &str = "wasmi_py_socket";
/// What every `wasmi_py_socket` import answers on both engines: a host that grants no
/// network (`NOTCAPABLE`). None of the workloads uses sockets.
const NOTCAPABLE: i32 = 76;

/// Set for wasmi-py children with `--code-cache`: the cache directory to use.
const CODE_CACHE_ENV: &str = "CPYTHON_BENCH_CODE_CACHE";

fn run_wasmi_py(wasm: &Path, home: &Path, argv: &[String]) -> Result<ChildOutput, String> {
    use wasmi_py_core::{Config, Engine, Linker, Module, ModuleFile, Store, Val, ValType};
    use wasmi_py_wasi::{add_to_linker, OutputSpec, StdinSpec, WasiCtx};

    // As `wasmi-py run` reads it (see `ModuleFile`).
    let file = ModuleFile::read(wasm).map_err(|e| format!("cannot read python.wasm: {e}"))?;
    let t = Instant::now();
    let engine = Engine::new(Config::default());
    let code_cache = std::env::var_os(CODE_CACHE_ENV).map(PathBuf::from);
    let module = Module::from_file(&engine, file, code_cache.as_deref())
        .map_err(|e| format!("wasmi-py: {e}"))?;
    let compile_ns = ns(t);

    let t = Instant::now();
    let out = Arc::new(Mutex::new(Vec::new()));
    let err = Arc::new(Mutex::new(Vec::new()));
    let mut builder = WasiCtx::builder()
        .args(argv.iter().cloned())
        .preopen_dir(home, "/usr/local", false)
        .preopen_dir(workloads_dir(), "/bench", false)
        .stdin(StdinSpec::Null)
        .stdout(OutputSpec::Capture(out.clone()))
        .stderr(OutputSpec::Capture(err.clone()));
    for (k, v) in GUEST_ENV {
        builder = builder.env(*k, *v);
    }
    let ctx = builder.build().map_err(|e| format!("wasmi-py WASI: {e}"))?;
    let mut store = Store::new(&engine, ctx);
    let mut linker = Linker::new();
    add_to_linker(&mut linker, &mut store, |ctx| ctx);
    for import in &module.decoded().imports {
        if import.module != SOCKET_MODULE {
            continue;
        }
        if let wasmi_py_core::decode::ImportDesc::Func(ty) = import.desc {
            let ty = module.decoded().types[ty as usize].clone();
            let returns_i32 = ty.results() == [ValType::I32];
            linker.func_new(
                &mut store,
                SOCKET_MODULE,
                &import.name,
                ty,
                move |_, _, results| {
                    if returns_i32 {
                        results[0] = Val::I32(NOTCAPABLE);
                    }
                    Ok(())
                },
            );
        }
    }
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| format!("wasmi-py: instantiate: {e}"))?;
    let start = instance
        .get_func(&store, "_start")
        .ok_or("wasmi-py: no _start export")?;
    let instantiate_ns = ns(t);

    let t = Instant::now();
    let result = start.call(&mut store, &[]);
    let run_ns = ns(t);
    let exit = match result {
        Ok(_) => 0,
        Err(trap) => match trap.exit_status() {
            Some(status) => status,
            None => return Err(format!("wasmi-py: trap: {trap}{}", tail(&err))),
        },
    };
    // Untimed, as in `wasmi-py run` after the guest has ended (only the warm-up runs
    // translate anything).
    module
        .save_code_cache()
        .map_err(|e| format!("wasmi-py: saving the code cache: {e}"))?;
    leave_to_exit((store, linker, instance, module, engine));
    let stdout = std::mem::take(&mut *out.lock().unwrap());
    let stderr = std::mem::take(&mut *err.lock().unwrap());
    Ok(ChildOutput {
        measured: Measured {
            compile_ns,
            instantiate_ns,
            run_ns,
            exit,
            maxrss_kb: 0,
        },
        stdout,
        stderr,
    })
}

/// Leaves an engine's store, module and the rest to the process's exit instead of freeing
/// them, as both engines' command lines end a CPython run: `wasmi-py run` lets them go
/// (`release_at_exit` in crates/cli), and wasmi_cli calls `process::exit` when the guest
/// calls `proc_exit` (CPython's `_start` always does). Only the cold-process time sees the
/// difference; compile, instantiate and `_start` are timed before it.
fn leave_to_exit<T>(engine_state: T) {
    std::mem::forget(engine_state);
}

/// The end of a captured stderr, for an error message.
fn tail(err: &Mutex<Vec<u8>>) -> String {
    let err = err.lock().unwrap();
    let s = String::from_utf8_lossy(&err[err.len().saturating_sub(2000)..]).into_owned();
    if s.is_empty() {
        s
    } else {
        format!("\n--- guest stderr (end) ---\n{s}")
    }
}

fn run_wasmi(wasm: &Path, home: &Path, argv: &[String]) -> Result<ChildOutput, String> {
    use std::io::Cursor;
    use wasmi::{Config, Engine, ExternType, Linker, Module, Store, Val, ValType};
    use wasmi_wasi::wasi_common::pipe::WritePipe;
    use wasmi_wasi::{ambient_authority, Dir, WasiCtxBuilder};

    let wasm = std::fs::read(wasm).map_err(|e| format!("cannot read python.wasm: {e}"))?;
    let t = Instant::now();
    // wasmi's default configuration: its register-machine engine with lazy translation
    // (functions are validated at load and translated on first call).
    let engine = Engine::new(&Config::default());
    let module = Module::new(&engine, &wasm).map_err(|e| format!("wasmi: {e}"))?;
    let compile_ns = ns(t);
    drop(wasm); // see `child_main`

    let t = Instant::now();
    let out = Arc::new(RwLock::new(Cursor::new(Vec::new())));
    let err = Arc::new(RwLock::new(Cursor::new(Vec::new())));
    let open = |p: &Path| {
        Dir::open_ambient_dir(p, ambient_authority())
            .map_err(|e| format!("wasmi WASI: cannot open {}: {e}", p.display()))
    };
    let mut builder = WasiCtxBuilder::new();
    builder
        .args(argv)
        .map_err(|e| format!("wasmi WASI: {e}"))?
        .stdout(Box::new(WritePipe::from_shared(out.clone())))
        .stderr(Box::new(WritePipe::from_shared(err.clone())))
        .preopened_dir(open(home)?, "/usr/local")
        .map_err(|e| format!("wasmi WASI: {e}"))?
        .preopened_dir(open(&workloads_dir())?, "/bench")
        .map_err(|e| format!("wasmi WASI: {e}"))?;
    for (k, v) in GUEST_ENV {
        builder.env(k, v).map_err(|e| format!("wasmi WASI: {e}"))?;
    }
    let ctx = builder.build();
    let mut store = Store::new(&engine, ctx);
    let mut linker = Linker::new(&engine);
    wasmi_wasi::add_to_linker(&mut linker, |ctx| ctx).map_err(|e| format!("wasmi: {e}"))?;
    for import in module.imports() {
        if import.module() != SOCKET_MODULE {
            continue;
        }
        if let ExternType::Func(ty) = import.ty() {
            let returns_i32 = ty.results() == [ValType::I32];
            linker
                .func_new(
                    SOCKET_MODULE,
                    import.name(),
                    ty.clone(),
                    move |_, _, results| {
                        if returns_i32 {
                            results[0] = Val::I32(NOTCAPABLE);
                        }
                        Ok(())
                    },
                )
                .map_err(|e| format!("wasmi: {e}"))?;
        }
    }
    let instance = linker
        .instantiate_and_start(&mut store, &module)
        .map_err(|e| format!("wasmi: instantiate: {e}"))?;
    let start = instance
        .get_func(&store, "_start")
        .ok_or("wasmi: no _start export")?;
    let instantiate_ns = ns(t);

    let t = Instant::now();
    let result = start.call(&mut store, &[], &mut []);
    let run_ns = ns(t);
    let take = |buf: &Arc<RwLock<Cursor<Vec<u8>>>>| std::mem::take(buf.write().unwrap().get_mut());
    let exit = match result {
        Ok(()) => 0,
        Err(e) => match e.i32_exit_status() {
            Some(status) => status,
            None => {
                let stderr = take(&err);
                let stderr = String::from_utf8_lossy(&stderr[stderr.len().saturating_sub(2000)..])
                    .into_owned();
                return Err(format!(
                    "wasmi: trap: {e}\n--- guest stderr (end) ---\n{stderr}"
                ));
            }
        },
    };
    leave_to_exit((store, linker, instance, module, engine));
    Ok(ChildOutput {
        measured: Measured {
            compile_ns,
            instantiate_ns,
            run_ns,
            exit,
            maxrss_kb: 0,
        },
        stdout: take(&out),
        stderr: take(&err),
    })
}

// ---------------------------------------------------------------------------------------
// Parent: the report
// ---------------------------------------------------------------------------------------

struct Options {
    reps: usize,
    engines: Vec<Engine>,
    home: Option<PathBuf>,
    workloads: Vec<String>,
    translate: bool,
    /// wasmi-py's children use this (warm) code cache directory.
    code_cache: Option<PathBuf>,
}

/// Every workload: `startup`, then the scripts in `workloads/` by name.
fn all_workloads() -> Result<Vec<String>, String> {
    let dir = workloads_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".py").map(str::to_owned)
        })
        .collect();
    names.sort();
    names.insert(0, STARTUP.to_owned());
    Ok(names)
}

fn parse_options(args: &[String]) -> Result<Option<Options>, String> {
    let mut opts = Options {
        reps: 5,
        engines: vec![Engine::WasmiPy, Engine::Wasmi],
        home: None,
        workloads: Vec::new(),
        translate: false,
        code_cache: None,
    };
    let all = all_workloads()?;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg, None),
        };
        let mut value = |flag: &str| -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i).cloned().ok_or(format!("{flag} needs a value"))
        };
        match flag {
            "--reps" => {
                let v = value("--reps")?;
                opts.reps = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("--reps: expected a positive number, got '{v}'"))?;
            }
            "--engine" => opts.engines = vec![Engine::parse(&value("--engine")?)?],
            "--python-home" => opts.home = Some(PathBuf::from(value("--python-home")?)),
            "--translate" => opts.translate = true,
            "--code-cache" => {
                let dir = std::env::temp_dir()
                    .join(format!("cpython-bench-code-cache-{}", std::process::id()));
                opts.code_cache = Some(dir);
            }
            "--list" => {
                for w in &all {
                    println!("{w}");
                }
                return Ok(None);
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(None);
            }
            _ if arg.starts_with('-') => return Err(format!("unknown option '{arg}'\n\n{USAGE}")),
            _ => {
                let name = arg.strip_suffix(".py").unwrap_or(arg);
                if !all.iter().any(|w| w == name) {
                    return Err(format!(
                        "unknown workload '{arg}' (known: {})",
                        all.join(", ")
                    ));
                }
                opts.workloads.push(name.to_owned());
            }
        }
        i += 1;
    }
    if opts.workloads.is_empty() {
        opts.workloads = all;
    }
    Ok(Some(opts))
}

/// One run as seen by the parent.
struct Run {
    measured: Measured,
    /// Spawn to exit of the child process.
    wall_ns: u64,
    stdout: Vec<u8>,
}

fn spawn_child(
    engine: Engine,
    workload: &str,
    home: &Path,
    code_cache: Option<&Path>,
) -> Result<Run, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
    let mut command = Command::new(exe);
    command
        .arg("--child")
        .arg(engine.name())
        .arg("--python-home")
        .arg(home)
        .arg(workload)
        .stdin(Stdio::null());
    if let (Engine::WasmiPy, Some(dir)) = (engine, code_cache) {
        command.env(CODE_CACHE_ENV, dir);
    }
    let t = Instant::now();
    let output = command
        .output()
        .map_err(|e| format!("cannot spawn a child: {e}"))?;
    let wall_ns = ns(t);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "{} {workload}: child failed ({}):\n{stderr}",
            engine.name(),
            output.status
        ));
    }
    let stdout = output.stdout;
    let newline = stdout
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(stdout.len());
    let line = String::from_utf8_lossy(&stdout[..newline]);
    let measured = Measured::from_line(&line)
        .ok_or_else(|| format!("{} {workload}: bad child report '{line}'", engine.name()))?;
    if measured.exit != 0 {
        return Err(format!(
            "{} {workload}: python exited with status {}:\n{stderr}",
            engine.name(),
            measured.exit
        ));
    }
    Ok(Run {
        measured,
        wall_ns,
        stdout: stdout[(newline + 1).min(stdout.len())..].to_vec(),
    })
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// (max - min) / median, in percent: how noisy the repetitions were.
fn spread(values: &[f64]) -> f64 {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    100.0 * (max - min) / median(values)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// CPU time (in clock ticks) spent by the whole machine, and by this process and its
/// waited-for children: their difference over a run is what *other* processes took.
fn cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    let busy = cpu.iter().take(8).sum::<u64>() - cpu.get(3)? - cpu.get(4)?;
    let own = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the `(comm)`: state is field 3, utime..cstime are fields 14..17.
    let after = &own[own.rfind(')')? + 2..];
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(4)
        .filter_map(|v| v.parse().ok())
        .collect();
    Some((busy, fields.iter().sum()))
}

/// The CPU model, from `/proc/cpuinfo`.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "?".into())
}

fn ms(ns: f64) -> f64 {
    ns / 1e6
}

fn parent_main(args: &[String]) -> Result<ExitCode, String> {
    let Some(opts) = parse_options(args)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let home = python_home(opts.home.as_deref())?;
    if opts.translate {
        return translate_report(&home, &opts);
    }
    let wasm_len = std::fs::metadata(home.join("python.wasm"))
        .map(|m| m.len())
        .unwrap_or(0);
    let engines = &opts.engines;
    let load_before = loadavg();
    println!(
        "cpython-bench: {} ({:.1} MB), {} rep(s), engine(s): {} ({}one child process per run)",
        home.join("python.wasm").display(),
        wasm_len as f64 / 1e6,
        opts.reps,
        engines
            .iter()
            .map(|e| e.name())
            .collect::<Vec<_>>()
            .join(", "),
        if engines.len() > 1 {
            "interleaved, "
        } else {
            ""
        }
    );
    println!(
        "machine: {}, {} cpu(s); load average before: {load_before}",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if let Some(dir) = &opts.code_cache {
        // Warm-up: one untimed run of each workload fills the cache.
        let _ = std::fs::remove_dir_all(dir);
        if engines.contains(&Engine::WasmiPy) {
            for workload in &opts.workloads {
                spawn_child(Engine::WasmiPy, workload, &home, Some(dir))?;
            }
        }
        println!(
            "wasmi-py: code cache warm (in {}, filled by one untimed run of each workload)",
            dir.display()
        );
    }
    let ticks_before = cpu_ticks();

    // runs[w][e] = the runs of workload w on engine e.
    let mut runs: Vec<Vec<Vec<Run>>> = opts
        .workloads
        .iter()
        .map(|_| engines.iter().map(|_| Vec::new()).collect())
        .collect();
    let mut failures: Vec<String> = Vec::new();
    let mut failed = vec![false; opts.workloads.len()];
    let started = Instant::now();
    let progress = std::io::stderr().is_terminal();
    for rep in 0..opts.reps {
        for (w, workload) in opts.workloads.iter().enumerate() {
            if failed[w] {
                continue;
            }
            for (e, &engine) in engines.iter().enumerate() {
                if progress {
                    eprint!(
                        "\r[rep {}/{}] {workload:<14} {:<9}",
                        rep + 1,
                        opts.reps,
                        engine.name()
                    );
                }
                match spawn_child(engine, workload, &home, opts.code_cache.as_deref()) {
                    Ok(run) => runs[w][e].push(run),
                    Err(msg) => {
                        if progress {
                            eprintln!();
                        }
                        failures.push(msg);
                        failed[w] = true;
                        break;
                    }
                }
            }
        }
    }
    if progress {
        eprint!("\r{:60}\r", "");
    }
    let load_after = loadavg();
    let ticks_after = cpu_ticks();

    // Same output everywhere, or the comparison is meaningless.
    let mut differing = Vec::new();
    for (w, workload) in opts.workloads.iter().enumerate() {
        let mut reference: Option<(&[u8], Engine)> = None;
        'runs: for (e, &engine) in engines.iter().enumerate() {
            for run in &runs[w][e] {
                match reference {
                    None => reference = Some((&run.stdout, engine)),
                    Some((r, first)) if r != run.stdout.as_slice() => {
                        differing.push(format!(
                            "{workload}: {} printed\n{}\n  but {} printed\n{}",
                            first.name(),
                            String::from_utf8_lossy(r).trim_end(),
                            engine.name(),
                            String::from_utf8_lossy(&run.stdout).trim_end()
                        ));
                        failed[w] = true;
                        break 'runs;
                    }
                    Some(_) => {}
                }
            }
        }
    }

    let both = engines.len() == 2;
    println!();
    if both {
        println!(
            "{:<14} {:>16} {:>16} {:>7}   {:>9} {:>9}   checksum",
            "workload", "wasmi-py ms", "wasmi ms", "ratio", "RSS ours", "RSS wasmi"
        );
    } else {
        println!(
            "{:<14} {:>16}   {:>9}   checksum",
            "workload",
            format!("{} ms", engines[0].name()),
            "RSS MiB"
        );
    }
    let mut log_ratio_sum = 0.0;
    let mut ratio_count = 0usize;
    for (w, workload) in opts.workloads.iter().enumerate() {
        let cols: Vec<(f64, f64, f64)> = runs[w]
            .iter()
            .map(|rs| {
                let totals: Vec<f64> = rs.iter().map(|r| r.measured.total_ns() as f64).collect();
                let rss = rs.iter().map(|r| r.measured.maxrss_kb).max().unwrap_or(0) as f64;
                (median(&totals), spread(&totals), rss / 1024.0)
            })
            .collect();
        let checksum = runs[w]
            .iter()
            .flatten()
            .next()
            .map(|r| {
                let s = String::from_utf8_lossy(&r.stdout);
                let s = s.trim().replace('\n', " | ");
                if s.len() > 40 {
                    format!("{}…", &s[..s.floor_char_boundary(40)])
                } else {
                    s
                }
            })
            .unwrap_or_default();
        if runs[w].iter().any(Vec::is_empty) {
            println!("{workload:<14} FAILED (see below)");
            continue;
        }
        let status = if failed[w] { "  OUTPUT DIFFERS" } else { "" };
        let time = |(m, s, _): (f64, f64, f64)| format!("{:>9.1} ±{:>4.1}%", ms(m), s);
        if both {
            let ratio = cols[0].0 / cols[1].0;
            if !failed[w] && workload != STARTUP && ratio.is_finite() {
                log_ratio_sum += ratio.ln();
                ratio_count += 1;
            }
            println!(
                "{workload:<14} {:>16} {:>16} {:>7.2}   {:>9.1} {:>9.1}   {checksum}{status}",
                time(cols[0]),
                time(cols[1]),
                ratio,
                cols[0].2,
                cols[1].2
            );
        } else {
            println!(
                "{workload:<14} {:>16}   {:>9.1}   {checksum}{status}",
                time(cols[0]),
                cols[0].2
            );
        }
    }
    if both && ratio_count > 0 {
        println!(
            "{:<14} {:>16} {:>16} {:>7.2}   (geometric mean of the {ratio_count} script workloads; startup excluded)",
            "geomean",
            "",
            "",
            (log_ratio_sum / ratio_count as f64).exp()
        );
    }
    println!(
        "\nms = median of compile + instantiate + _start in the child (± = (max-min)/median);\n\
         {}RSS = peak resident set (VmHWM) of the child process in MiB, largest over the\n\
         repetitions (harness binary included, same for both engines).",
        if both {
            "ratio = wasmi-py / wasmi (< 1: wasmi-py faster);\n"
        } else {
            ""
        }
    );

    // The start-up breakdown.
    if let Some(w) = opts.workloads.iter().position(|w| w == STARTUP) {
        if !runs[w].iter().any(Vec::is_empty) {
            println!("\nstartup (python -c pass), medians in ms:");
            print!("{:<28}", "");
            for e in engines {
                print!(" {:>10}", e.name());
            }
            println!("{}", if both { "      ratio" } else { "" });
            type Pick = fn(&Run) -> f64;
            let rows: [(&str, Pick); 5] = [
                ("cold process (spawn..exit)", |r| r.wall_ns as f64),
                ("  in-process total", |r| r.measured.total_ns() as f64),
                ("    compile (Module::new)", |r| {
                    r.measured.compile_ns as f64
                }),
                ("    instantiate", |r| r.measured.instantiate_ns as f64),
                ("    _start", |r| r.measured.run_ns as f64),
            ];
            for (label, pick) in rows {
                print!("{label:<28}");
                let meds: Vec<f64> = runs[w]
                    .iter()
                    .map(|rs| median(&rs.iter().map(pick).collect::<Vec<_>>()))
                    .collect();
                for m in &meds {
                    print!(" {:>10.1}", ms(*m));
                }
                if both {
                    print!(" {:>10.2}", meds[0] / meds[1]);
                }
                println!();
            }
        }
    }

    let elapsed = started.elapsed().as_secs_f64();
    println!("\nload average before: {load_before}; after: {load_after}; elapsed {elapsed:.0} s");
    if let (Some((busy0, own0)), Some((busy1, own1))) = (ticks_before, ticks_after) {
        // USER_HZ is 100 on Linux.
        let other = (busy1 - busy0).saturating_sub(own1 - own0) as f64 / 100.0;
        println!(
            "CPU time taken by other processes during the run: {other:.1} s over {elapsed:.0} s \
             wall (near 0 = clean; ~wall = a whole core was busy elsewhere)"
        );
    }
    if differing.is_empty() && failures.is_empty() {
        let n: usize = runs.iter().flatten().map(Vec::len).sum();
        println!("outputs: identical in every run of each workload ({n} runs)");
    }
    for d in &differing {
        println!("\nOUTPUT DIFFERS: {d}");
    }
    for f in &failures {
        println!("\nFAILED: {f}");
    }
    if let Some(dir) = &opts.code_cache {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(if differing.is_empty() && failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

// ---------------------------------------------------------------------------------------
// --translate: eager translation of the whole module
// ---------------------------------------------------------------------------------------

/// Translates every function of python.wasm eagerly in each engine, `reps` times
/// (interleaved, in this process), and prints the medians. What lazy translation spreads
/// over a run (start-up translates ~1,800 of the 8,554 bodies) measured in one piece,
/// against the peer's translator: wasmi-py `Module::new` with `Config { lazy: false }`
/// (decode, validate and translate everything), wasmi `Module::new` with
/// `CompilationMode::Eager` (validate and translate everything).
fn translate_report(home: &Path, opts: &Options) -> Result<ExitCode, String> {
    let path = home.join("python.wasm");
    let wasm = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let ours = wasmi_py_core::Engine::new(wasmi_py_core::Config {
        lazy: false,
        ..wasmi_py_core::Config::default()
    });
    let theirs = {
        let mut config = wasmi::Config::default();
        config.compilation_mode(wasmi::CompilationMode::Eager);
        wasmi::Engine::new(&config)
    };
    println!(
        "cpython-bench --translate: {} ({:.1} MB), {} rep(s), interleaved, in process",
        path.display(),
        wasm.len() as f64 / 1e6,
        opts.reps
    );
    let mut times: Vec<(Engine, Vec<f64>)> =
        opts.engines.iter().map(|&e| (e, Vec::new())).collect();
    for _ in 0..opts.reps {
        for (engine, samples) in &mut times {
            let t = Instant::now();
            match engine {
                Engine::WasmiPy => {
                    wasmi_py_core::Module::new(&ours, &wasm)
                        .map_err(|e| format!("wasmi-py: {e}"))?;
                }
                Engine::Wasmi => {
                    wasmi::Module::new(&theirs, &wasm).map_err(|e| format!("wasmi: {e}"))?;
                }
            }
            samples.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    println!("engine      median ms      min ms");
    for (engine, samples) in &times {
        let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "{:<10} {:>10.1} {:>11.1}",
            engine.name(),
            median(samples),
            min
        );
    }
    if let [(_, ours), (_, theirs)] = &times[..] {
        println!(
            "ratio (wasmi-py / wasmi): {:.2}",
            median(ours) / median(theirs)
        );
    }
    Ok(ExitCode::SUCCESS)
}
