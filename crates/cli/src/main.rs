//! `wasmi-py`: the command line.
//!
//! Subcommands:
//! * `run [OPTIONS] SCRIPT.py | -c CODE | -m MODULE [ARGS…]` — CPython 3.13 in the sandbox,
//!   like `python3` (see `python.rs`); with no program, piped stdin or the REPL.
//! * `run [OPTIONS] MODULE.wasm [ARGS…]` — any WASI preview1 command (see `run.rs`).
//! * `validate [--mvp] [--lazy] FILE.wasm…` — decode and validate modules with wasmi-py's own
//!   decoder and validator and print a one-line summary per module (or the error, with its
//!   byte offset). `--lazy` checks only what instantiation needs (module-level rules), which
//!   is what a lazily-validating runtime pays at start-up.

mod options;
mod python;
mod run;

use std::process::ExitCode;
use std::time::Instant;

use wasmi_py_decode::{Features, Module};
use wasmi_py_validate::ModuleValidator;

/// Lets go of what a run built without freeing it: the process exits next.
///
/// Performance: freeing a CPython run's store and module (thousands of translated bodies,
/// the store's tables, linear memory) took 1.4-2% of a cold `wasmi-py run -c pass`
/// (A/B, 60 interleaved runs, both orders), work the kernel does anyway when the process
/// ends. Nothing is lost by skipping it: guest files are written through, the code cache
/// has been saved, sockets and files close with the process, and Rust's own stdout is
/// flushed when `main` returns. A build counting dispatches writes its report when its
/// store drops ([`wasmi_py_core::OP_STATS`]), so there it is dropped.
pub(crate) fn release_at_exit<T>(value: T) {
    if wasmi_py_core::OP_STATS {
        drop(value);
    } else {
        std::mem::forget(value);
    }
}

const USAGE: &str = "\
wasmi-py: a WebAssembly interpreter specialised for running CPython (wasm32-wasi)

USAGE:
    wasmi-py run [OPTIONS] SCRIPT.py [ARGS...]      (also -c CODE, -m MODULE, or the REPL)
    wasmi-py run [OPTIONS] MODULE.wasm [ARGS...]
    wasmi-py validate [--mvp] [--lazy] FILE.wasm...

SUBCOMMANDS:
    run         Run Python in CPython 3.13 inside the sandbox, or any WASI command module
                (`wasmi-py run --help` for Python, `wasmi-py run --help-wasm` for modules).
    validate    Decode and validate modules; print a summary or the error with its byte offset.

OPTIONS (validate):
    --mvp       Accept only WebAssembly 1.0 (default: 2.0 with fixed-width SIMD).
    --lazy      Check module-level rules only, not function bodies (what start-up pays when
                bodies are validated on first call).
    -h, --help  Print this help.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => {
            let rest = &args[1..];
            if rest.first().is_some_and(|a| a == "--help-wasm") {
                print!("{}", run::RUN_USAGE);
                ExitCode::SUCCESS
            } else {
                python::run_cmd(rest)
            }
        }
        Some("validate") => validate_cmd(&args[1..]),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("wasmi-py: unknown subcommand '{other}'\n\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn validate_cmd(args: &[String]) -> ExitCode {
    let mut features = Features::wasm2();
    let mut lazy = false;
    let mut files = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--mvp" => features = Features::mvp(),
            "--lazy" => lazy = true,
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            flag if flag.starts_with('-') => {
                eprintln!("wasmi-py validate: unknown option '{flag}'");
                return ExitCode::from(2);
            }
            file => files.push(file),
        }
    }
    if files.is_empty() {
        eprintln!("wasmi-py validate: no module given\n\n{USAGE}");
        return ExitCode::from(2);
    }
    let mut status = ExitCode::SUCCESS;
    for file in files {
        if let Err(message) = validate_file(file, features, lazy) {
            eprintln!("{file}: {message}");
            status = ExitCode::FAILURE;
        }
    }
    status
}

fn validate_file(path: &str, features: Features, lazy: bool) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let start = Instant::now();
    let module = Module::decode(&bytes, features).map_err(|e| e.to_string())?;
    let decoded = start.elapsed();
    let validator = ModuleValidator::new(&module).map_err(|e| e.to_string())?;
    if !lazy {
        for index in 0..module.num_defined_functions() {
            validator.validate_function(&module, index).map_err(|e| {
                let func = module.num_imported_functions + index;
                match module.names().function(func) {
                    Some(name) => e.context(format_args!("in function {func} `{name}`")),
                    None => e.context(format_args!("in function {func}")),
                }
                .to_string()
            })?;
        }
    }
    let total = start.elapsed();
    println!(
        "{path}: valid ({} bytes, {} types, {} imports, {} functions, {} exports; decoded in {:.2} ms, {} in {:.2} ms)",
        bytes.len(),
        module.types.len(),
        module.imports.len(),
        module.num_defined_functions(),
        module.exports.len(),
        decoded.as_secs_f64() * 1e3,
        if lazy { "module-level rules checked" } else { "validated" },
        total.as_secs_f64() * 1e3,
    );
    Ok(())
}
