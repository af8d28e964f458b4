//! Micro-benchmarks of wasmi-py against wasmi 2.0.0 (the peer), in one process.
//!
//! Every workload is a WAT module written for the purpose (`wat/*.wat`), built to binary
//! with `wast` at start-up, and run in both engines interleaved (ours, theirs, ours,
//! theirs, …). Only the call is timed; each repetition gets a fresh store and instance,
//! made outside the timing. Both engines' results are checked against each other and
//! against a native Rust reference of the same computation. See README.md.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use wasmi_py_core as ours;

/// Repetitions per workload and engine unless `REPS` or a numeric argument says otherwise.
pub const DEFAULT_REPS: usize = 5;

/// fib(FIB_N), recursive.
const FIB_N: i32 = 30;
/// Iterations of the tight loop.
const LOOP_N: i32 = 20_000_000;
/// Numbers sieved (bytes of linear memory) and repetitions of the sieve.
const SIEVE_N: i32 = 4_000_000;
const SIEVE_REPS: i32 = 3;
/// Iterations of the `call_indirect` dispatch loop.
const INDIRECT_N: i32 = 5_000_000;
/// Matrix order and repetitions of the multiply.
const MATMUL_N: i32 = 100;
const MATMUL_REPS: i32 = 12;

/// The signature of a workload's export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    /// `(i32) -> i32`
    I32ToI32,
    /// `(i32) -> i64`
    I32ToI64,
    /// `(i32, i32) -> i32`
    I32I32ToI32,
    /// `(i32, i32) -> f64`
    I32I32ToF64,
}

impl Sig {
    fn arity(self) -> usize {
        match self {
            Self::I32ToI32 | Self::I32ToI64 => 1,
            Self::I32I32ToI32 | Self::I32I32ToF64 => 2,
        }
    }
}

/// A workload's result.
#[derive(Debug, Clone, Copy)]
pub enum Out {
    I32(i32),
    I64(i64),
    F64(f64),
}

impl Out {
    /// Equal, bit for bit for floats.
    pub fn same(self, other: Self) -> bool {
        match (self, other) {
            (Self::I32(a), Self::I32(b)) => a == b,
            (Self::I64(a), Self::I64(b)) => a == b,
            (Self::F64(a), Self::F64(b)) => a.to_bits() == b.to_bits(),
            _ => false,
        }
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::I32(v) => write!(f, "{v}"),
            Self::I64(v) => write!(f, "{v}"),
            Self::F64(v) => write!(f, "{v}"),
        }
    }
}

/// One benchmark: a module, the export to call, its arguments, and a native reference.
pub struct Workload {
    pub name: &'static str,
    pub wat: &'static str,
    pub export: &'static str,
    pub sig: Sig,
    pub args: [i32; 2],
    /// The same computation in plain Rust, for checking both engines.
    pub reference: fn([i32; 2]) -> Out,
}

impl Workload {
    /// `export(args)` as text.
    pub fn call_text(&self) -> String {
        let args: Vec<String> = self.args[..self.sig.arity()]
            .iter()
            .map(i32::to_string)
            .collect();
        format!("{}({})", self.export, args.join(", "))
    }
}

/// All workloads, in report order.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "fib",
            wat: include_str!("../wat/fib.wat"),
            export: "fib",
            sig: Sig::I32ToI32,
            args: [FIB_N, 0],
            reference: |[n, _]| Out::I32(native::fib(n)),
        },
        Workload {
            name: "loop",
            wat: include_str!("../wat/loop.wat"),
            export: "run",
            sig: Sig::I32ToI64,
            args: [LOOP_N, 0],
            reference: |[n, _]| Out::I64(native::tight_loop(n)),
        },
        Workload {
            name: "sieve",
            wat: include_str!("../wat/sieve.wat"),
            export: "run",
            sig: Sig::I32I32ToI32,
            args: [SIEVE_N, SIEVE_REPS],
            reference: |[n, reps]| Out::I32(native::sieve(n, reps)),
        },
        Workload {
            name: "indirect",
            wat: include_str!("../wat/indirect.wat"),
            export: "run",
            sig: Sig::I32ToI32,
            args: [INDIRECT_N, 0],
            reference: |[n, _]| Out::I32(native::indirect(n)),
        },
        Workload {
            name: "matmul",
            wat: include_str!("../wat/matmul.wat"),
            export: "run",
            sig: Sig::I32I32ToF64,
            args: [MATMUL_N, MATMUL_REPS],
            reference: |[n, reps]| Out::F64(native::matmul(n, reps)),
        },
    ]
}

/// WAT text to a binary module.
pub fn wat_to_wasm(text: &str) -> Result<Vec<u8>, String> {
    let buf = wast::parser::ParseBuffer::new(text).map_err(|e| e.to_string())?;
    let mut wat = wast::parser::parse::<wast::Wat>(&buf).map_err(|e| e.to_string())?;
    wat.encode().map_err(|e| e.to_string())
}

/// Runs `f`, turning a panic into an error message.
fn guarded<R>(f: impl FnOnce() -> Result<R, String>) -> Result<R, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(non-string panic)".into());
            Err(format!("panicked: {msg}"))
        }
    }
}

/// wasmi-py: one timed call on a fresh store and instance.
fn ours_call(
    engine: &ours::Engine,
    module: &ours::Module,
    w: &Workload,
) -> Result<(Duration, Out), String> {
    guarded(|| {
        let mut store = ours::Store::new(engine, ());
        let instance = ours::Linker::new()
            .instantiate(&mut store, module)
            .map_err(|e| format!("instantiate: {e}"))?;
        let func = instance
            .get_func(&store, w.export)
            .ok_or_else(|| format!("no export {}", w.export))?;
        let args: Vec<ours::Val> = w.args[..w.sig.arity()]
            .iter()
            .map(|&a| ours::Val::I32(a))
            .collect();
        let start = Instant::now();
        let results = func.call(&mut store, &args);
        let elapsed = start.elapsed();
        let results = results.map_err(|t| format!("trap: {t}"))?;
        let out = match (w.sig, results.as_slice()) {
            (Sig::I32ToI32 | Sig::I32I32ToI32, [ours::Val::I32(v)]) => Out::I32(*v),
            (Sig::I32ToI64, [ours::Val::I64(v)]) => Out::I64(*v),
            (Sig::I32I32ToF64, [ours::Val::F64(v)]) => Out::F64(*v),
            (_, other) => return Err(format!("unexpected results {other:?}")),
        };
        Ok((elapsed, out))
    })
}

/// wasmi 2.0: one timed call on a fresh store and instance.
fn wasmi_call(
    engine: &wasmi::Engine,
    module: &wasmi::Module,
    w: &Workload,
) -> Result<(Duration, Out), String> {
    guarded(|| {
        let mut store = wasmi::Store::new(engine, ());
        let instance = wasmi::Linker::<()>::new(engine)
            .instantiate_and_start(&mut store, module)
            .map_err(|e| format!("instantiate: {e}"))?;
        let [a, b] = w.args;
        macro_rules! timed {
            ($params:ty, $result:ty, $args:expr, $wrap:expr) => {{
                let func = instance
                    .get_typed_func::<$params, $result>(&store, w.export)
                    .map_err(|e| format!("export {}: {e}", w.export))?;
                let start = Instant::now();
                let result = func.call(&mut store, $args);
                let elapsed = start.elapsed();
                let result = result.map_err(|e| format!("trap: {e}"))?;
                (elapsed, $wrap(result))
            }};
        }
        Ok(match w.sig {
            Sig::I32ToI32 => timed!(i32, i32, a, Out::I32),
            Sig::I32ToI64 => timed!(i32, i64, a, Out::I64),
            Sig::I32I32ToI32 => timed!((i32, i32), i32, (a, b), Out::I32),
            Sig::I32I32ToF64 => timed!((i32, i32), f64, (a, b), Out::F64),
        })
    })
}

/// wasmi-py, eager: decode + validate + translate every body + instantiate.
fn ours_load(engine: &ours::Engine, wasm: &[u8]) -> Result<Duration, String> {
    guarded(|| {
        let start = Instant::now();
        let module = ours::Module::new(engine, wasm).map_err(|e| format!("compile: {e}"))?;
        let mut store = ours::Store::new(engine, ());
        ours::Linker::new()
            .instantiate(&mut store, &module)
            .map_err(|e| format!("instantiate: {e}"))?;
        Ok(start.elapsed())
    })
}

/// wasmi 2.0, eager: parse + validate + translate every body + instantiate.
fn wasmi_load(engine: &wasmi::Engine, wasm: &[u8]) -> Result<Duration, String> {
    guarded(|| {
        let start = Instant::now();
        let module = wasmi::Module::new(engine, wasm).map_err(|e| format!("compile: {e}"))?;
        let mut store = wasmi::Store::new(engine, ());
        wasmi::Linker::<()>::new(engine)
            .instantiate_and_start(&mut store, &module)
            .map_err(|e| format!("instantiate: {e}"))?;
        Ok(start.elapsed())
    })
}

fn median(samples: &[Duration]) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Busy jiffies of the whole machine (all CPUs) and of this process, from /proc.
fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal: busy = all - idle - iowait
    let busy = fields.iter().sum::<u64>() - fields[3] - fields[4];
    let own = std::fs::read_to_string("/proc/self/stat").ok()?;
    // fields after the ")" that ends the command name: utime and stime are the 12th and 13th
    let mut after = own.rsplit_once(')')?.1.split_whitespace();
    let utime: u64 = after.nth(11)?.parse().ok()?;
    let stime: u64 = after.next()?.parse().ok()?;
    Some((busy, utime + stime))
}

const USAGE: &str = "\
usage: micro-bench [REPS] [WORKLOAD...]
  REPS      repetitions per workload and engine (default 5, or the REPS environment variable)
  WORKLOAD  run only these (fib, loop, sieve, indirect, matmul); default all
run as `cargo run --release -p micro-bench -- ...` or `cargo bench -p micro-bench -- ...`";

struct Row {
    name: &'static str,
    call: String,
    result: String,
    ours: Option<(Duration, Duration)>,
    theirs: Option<(Duration, Duration)>,
    ok: bool,
}

/// The whole report; returns the process exit code (non-zero on a wrong result or error).
pub fn main_with_args(args: impl Iterator<Item = String>) -> i32 {
    let mut reps = std::env::var("REPS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(DEFAULT_REPS);
    let mut only: Vec<String> = Vec::new();
    for arg in args {
        if arg == "-h" || arg == "--help" {
            println!("{USAGE}");
            return 0;
        } else if arg.starts_with('-') {
            // `cargo bench` passes `--bench`; ignore flags.
        } else if let Ok(n) = arg.parse::<usize>() {
            reps = n;
        } else {
            only.push(arg);
        }
    }
    let reps = reps.max(1);
    let all = workloads();
    for name in &only {
        if !all.iter().any(|w| w.name == name) {
            eprintln!("unknown workload {name:?}\n{USAGE}");
            return 2;
        }
    }
    let selected: Vec<&Workload> = all
        .iter()
        .filter(|w| only.is_empty() || only.iter().any(|n| n == w.name))
        .collect();

    println!("micro-bench: wasmi-py (this workspace) vs wasmi 2.0.0");
    println!(
        "machine: {}, nproc {}",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "build: profile {}, opt-level {}, debug-assertions {}, {}",
        env!("MICRO_BENCH_PROFILE"),
        env!("MICRO_BENCH_OPT_LEVEL"),
        if cfg!(debug_assertions) { "on" } else { "off" },
        env!("MICRO_BENCH_RUSTC"),
    );
    println!("loadavg at start: {}", loadavg());
    println!(
        "method: {reps} reps per engine, interleaved (wasmi-py, wasmi, wasmi-py, …); \
         call time only, fresh store+instance per rep; default configs (both translate lazily)"
    );
    println!();

    let ours_engine = ours::Engine::default();
    let ours_eager = ours::Engine::new(ours::Config {
        lazy: false,
        ..ours::Config::default()
    });
    let wasmi_engine = wasmi::Engine::default();
    let wasmi_eager = {
        let mut config = wasmi::Config::default();
        config.compilation_mode(wasmi::CompilationMode::Eager);
        wasmi::Engine::new(&config)
    };

    let run_start = Instant::now();
    let jiffies_start = cpu_jiffies();
    let mut rows = Vec::new();
    let mut loads = Vec::new();
    let mut failed = false;
    for w in selected {
        let mut row = Row {
            name: w.name,
            call: w.call_text(),
            result: String::new(),
            ours: None,
            theirs: None,
            ok: false,
        };
        let wasm = match wat_to_wasm(w.wat) {
            Ok(b) => b,
            Err(e) => {
                println!("{}: WAT does not assemble: {e}", w.name);
                failed = true;
                row.result = "WAT error".into();
                rows.push(row);
                continue;
            }
        };
        let expected = (w.reference)(w.args);

        // Compile + instantiate, eager translation in both, interleaved.
        let (mut lo, mut lt) = (Vec::new(), Vec::new());
        let mut load_err = None;
        for _ in 0..reps {
            match ours_load(&ours_eager, &wasm) {
                Ok(d) => lo.push(d),
                Err(e) => load_err = Some(format!("wasmi-py: {e}")),
            }
            match wasmi_load(&wasmi_eager, &wasm) {
                Ok(d) => lt.push(d),
                Err(e) => load_err = Some(format!("wasmi: {e}")),
            }
        }
        if let Some(e) = &load_err {
            println!("{}: load failed: {e}", w.name);
            failed = true;
        } else {
            loads.push((w.name, wasm.len(), median(&lo), median(&lt)));
        }

        let ours_module =
            match guarded(|| ours::Module::new(&ours_engine, &wasm).map_err(|e| e.to_string())) {
                Ok(m) => Some(m),
                Err(e) => {
                    println!("{}: wasmi-py rejects the module: {e}", w.name);
                    None
                }
            };
        let wasmi_module = match wasmi::Module::new(&wasmi_engine, &wasm) {
            Ok(m) => Some(m),
            Err(e) => {
                println!("{}: wasmi rejects the module: {e}", w.name);
                None
            }
        };

        let (mut to, mut tt) = (Vec::new(), Vec::new());
        let mut errors = Vec::new();
        let mut ok = ours_module.is_some() && wasmi_module.is_some();
        for _ in 0..reps {
            if let Some(m) = &ours_module {
                match ours_call(&ours_engine, m, w) {
                    Ok((d, out)) => {
                        to.push(d);
                        if !out.same(expected) {
                            errors.push(format!("wasmi-py returned {out}, expected {expected}"));
                        }
                    }
                    Err(e) => errors.push(format!("wasmi-py: {e}")),
                }
            }
            if let Some(m) = &wasmi_module {
                match wasmi_call(&wasmi_engine, m, w) {
                    Ok((d, out)) => {
                        tt.push(d);
                        if !out.same(expected) {
                            errors.push(format!("wasmi returned {out}, expected {expected}"));
                        }
                    }
                    Err(e) => errors.push(format!("wasmi: {e}")),
                }
            }
        }
        errors.dedup();
        for e in &errors {
            println!("{}: WRONG/ERROR: {e}", w.name);
        }
        ok &= errors.is_empty();
        failed |= !ok;
        let fmt = |v: &[Duration]| {
            v.iter()
                .map(|d| format!("{:.1}", ms(*d)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!(
            "{:<9} {} = {}  | wasmi-py ms: {} | wasmi ms: {}",
            w.name,
            row.call,
            expected,
            fmt(&to),
            fmt(&tt)
        );
        row.result = if ok {
            expected.to_string()
        } else {
            "MISMATCH/ERROR".into()
        };
        if !to.is_empty() {
            row.ours = Some((median(&to), *to.iter().min().unwrap()));
        }
        if !tt.is_empty() {
            row.theirs = Some((median(&tt), *tt.iter().min().unwrap()));
        }
        row.ok = ok;
        rows.push(row);
    }

    println!();
    println!(
        "{:<9} {:<16} {:>20} {:>12} {:>12} {:>12} {:>12} {:>7}",
        "workload",
        "call",
        "result",
        "ours med ms",
        "ours min",
        "wasmi med ms",
        "wasmi min",
        "ratio"
    );
    let mut log_sum = 0.0;
    let mut counted = 0;
    for r in &rows {
        let cell = |t: Option<(Duration, Duration)>, i: usize| {
            t.map_or("-".to_string(), |t| {
                format!("{:.2}", ms(if i == 0 { t.0 } else { t.1 }))
            })
        };
        let ratio = match (r.ok, r.ours, r.theirs) {
            (true, Some(o), Some(t)) => {
                let ratio = o.0.as_secs_f64() / t.0.as_secs_f64();
                log_sum += ratio.ln();
                counted += 1;
                format!("{ratio:.2}")
            }
            _ => "-".into(),
        };
        println!(
            "{:<9} {:<16} {:>20} {:>12} {:>12} {:>12} {:>12} {:>7}",
            r.name,
            r.call,
            r.result,
            cell(r.ours, 0),
            cell(r.ours, 1),
            cell(r.theirs, 0),
            cell(r.theirs, 1),
            ratio
        );
    }
    if counted > 0 {
        println!(
            "geometric mean of ratios (wasmi-py / wasmi, <1 = wasmi-py faster): {:.2} over {counted} workloads",
            (log_sum / counted as f64).exp()
        );
    }
    println!();
    println!("compile + instantiate (eager translation in both), median µs:");
    println!(
        "{:<9} {:>10} {:>12} {:>12} {:>7}",
        "workload", "wasm bytes", "wasmi-py µs", "wasmi µs", "ratio"
    );
    for (name, size, o, t) in &loads {
        println!(
            "{:<9} {:>10} {:>12.1} {:>12.1} {:>7.2}",
            name,
            size,
            us(*o),
            us(*t),
            o.as_secs_f64() / t.as_secs_f64()
        );
    }
    println!();
    println!("loadavg at end: {}", loadavg());
    if let (Some((b0, o0)), Some((b1, o1))) = (jiffies_start, cpu_jiffies()) {
        // /proc counts in USER_HZ ticks, 100 per second on Linux.
        let others = b1.saturating_sub(b0).saturating_sub(o1.saturating_sub(o0)) as f64 / 100.0;
        println!(
            "CPU time used by other processes during the run: {others:.1} s over {:.1} s wall \
             (near 0 = the numbers are clean; on 2 cores, ~wall = one core was taken)",
            run_start.elapsed().as_secs_f64()
        );
    }
    if failed {
        println!("FAILED: a workload gave a wrong result or an error (see above)");
        1
    } else {
        0
    }
}

/// Native Rust versions of the workloads, for checking results.
mod native {
    pub fn fib(n: i32) -> i32 {
        if (n as u32) < 2 {
            n
        } else {
            fib(n - 1).wrapping_add(fib(n - 2))
        }
    }

    pub fn tight_loop(n: i32) -> i64 {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut acc: u32 = 12345;
        let mut i: u32 = 0;
        if n != 0 {
            loop {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                acc = acc
                    .wrapping_mul(1_664_525)
                    .wrapping_add(1_013_904_223)
                    .wrapping_add(x as u32)
                    .rotate_left(5);
                i = i.wrapping_add(1);
                if i == n as u32 {
                    break;
                }
            }
        }
        (x ^ u64::from(acc)) as i64
    }

    pub fn sieve(n: i32, reps: i32) -> i32 {
        let n = n as usize;
        let mut total = 0i32;
        for _ in 0..reps {
            let mut mem = vec![1u8; n];
            for b in mem.iter_mut().take(2) {
                *b = 0;
            }
            let mut i = 2;
            while i * i < n {
                if mem[i] != 0 {
                    let mut j = i * i;
                    while j < n {
                        mem[j] = 0;
                        j += i;
                    }
                }
                i += 1;
            }
            total = total.wrapping_add(mem.iter().map(|&b| i32::from(b)).sum::<i32>());
        }
        total
    }

    pub fn indirect(n: i32) -> i32 {
        let mut acc: u32 = 1;
        let mut s: u32 = 0x2545_F491;
        let mut i: u32 = 0;
        if n != 0 {
            loop {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let b = s ^ i;
                acc = match s >> 29 {
                    0 => acc.wrapping_add(b),
                    1 => acc.wrapping_sub(b),
                    2 => acc ^ b,
                    3 => acc.wrapping_mul(b | 1),
                    4 => acc.rotate_left(b & 31),
                    5 => (acc >> 3).wrapping_add(b),
                    6 => (acc << 1) | (b & 1),
                    _ => acc.wrapping_mul(31).wrapping_add(b),
                };
                i = i.wrapping_add(1);
                if i == n as u32 {
                    break;
                }
            }
        }
        acc as i32
    }

    pub fn matmul(n: i32, reps: i32) -> f64 {
        let n = n as usize;
        let mut a = vec![0f64; n * n];
        let mut b = vec![0f64; n * n];
        let mut c = vec![0f64; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = ((i * j + i + 1) % 17) as f64 * 0.25 - 1.0;
                b[i * n + j] = ((i + 2 * j) % 13) as f64 * 0.5 + 0.125;
            }
        }
        let mut total = 0f64;
        for _ in 0..reps {
            let mut sum = 0f64;
            for i in 0..n {
                for j in 0..n {
                    let mut acc = 0f64;
                    for k in 0..n {
                        acc += a[i * n + k] * b[k * n + j];
                    }
                    c[i * n + j] = acc;
                    sum += acc;
                }
            }
            total += sum;
        }
        std::hint::black_box(&c);
        total
    }
}
