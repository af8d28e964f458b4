//! `wasmi-py run`: run a WASI preview1 command module (like `wasmtime run`).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use wasmi_py_core::{Config, Engine, Error, Linker, Module, ModuleFile, Store, Trap};
use wasmi_py_socket::SocketCtx;
use wasmi_py_wasi::{add_to_linker, WasiCtx};

use crate::options::{load_failure, report, usage_error, Sandbox};

/// Exit status when the guest traps (or a host function fails): 128 + SIGABRT, what
/// wasmtime uses on Unix for a trap.
pub const TRAP_STATUS: u8 = 134;
/// Exit status when the module cannot be run at all (unreadable, invalid, unlinkable).
pub const LOAD_FAILURE_STATUS: u8 = 1;
/// Exit status for a command-line usage error.
pub const USAGE_STATUS: u8 = 2;

pub const RUN_USAGE: &str = "\
wasmi-py run: run a WASI preview1 command module (e.g. CPython's python.wasm)

USAGE:
    wasmi-py run [OPTIONS] [--] MODULE.wasm [ARGS...]

The module's `_start` export is called with argv = [MODULE.wasm, ARGS...] (argv[0] is the
module path as given). Options must come before MODULE; everything after it is passed to
the guest unchanged. Standard input, output and error are the host's own (guest writes are
not buffered by wasmi-py).

OPTIONS:
    --dir HOST[::GUEST][:ro]
                    Give the guest the host directory HOST under the guest path GUEST
                    (default: GUEST = HOST as written). The guest sees nothing of the host
                    file system except these directories: absolute paths, `..` and symlinks
                    cannot leave them (such attempts fail with EPERM). With the `:ro`
                    suffix the guest may only read beneath HOST; creating, writing,
                    renaming, deleting and changing timestamps fail with EPERM.
                    Repeatable; preopened as fds 3, 4, ... in the order given.
                    Examples: --dir .  --dir ./data::/data  --dir /srv/lib::/lib:ro
    --env KEY=VALUE Set an environment variable for the guest (repeatable). `--env KEY`
                    copies KEY from the host's environment if it is set there.
    --inherit-env   Give the guest the host's whole environment (applied before --env).
    --net           Give a module that imports `wasmi_py_socket` (docs/socket-abi.md) the
                    network: real host sockets and the host resolver. Default: no network
                    (such calls fail with NOTCAPABLE).
    --allow-net HOST[:PORT],...
                    Only these hosts (and ports): connect/send to them, bind on them, look
                    up the listed names. Repeatable.
    --no-code-cache Neither read nor write the code cache. By default translated
                    functions are kept in $WASMI_PY_CACHE/code (~/.cache/wasmi-py/code)
                    and reused when the same module runs again (unused files are
                    deleted beyond 512 MiB). Without it small functions are not
                    inlined (it pays only when translations are kept).
    --profile FILE  Profile the guest: write where its time went, per call stack of
                    wasm functions, to FILE (folded lines for flame-graph tools) and
                    print the top functions to stderr at the end.
    -h, --help      Print this help.

EXIT STATUS:
    The guest's: its `proc_exit` status (modulo 256), or 0 when `_start` returns.
    134 if the guest traps: `Error: wasm trap: ...` and the wasm backtrace (function names
        from the module's name section) are printed to stderr.
    1   if the module cannot be loaded, validated or linked; 2 for a usage error.
";

struct Options {
    sandbox: Sandbox,
    module: String,
    args: Vec<String>,
}

/// The store data of a WASI command: its WASI state and the socket module's.
struct RunHost {
    wasi: WasiCtx,
    net: SocketCtx,
}

fn parse(args: &[String]) -> Result<Option<Options>, ExitCode> {
    let mut sandbox = Sandbox::default();
    let mut i = 0;
    while i < args.len() {
        if sandbox.parse_option(args, &mut i)? {
            i += 1;
            continue;
        }
        let arg = args[i].as_str();
        match arg {
            "-h" | "--help" => {
                let _ = std::io::stdout().write_all(RUN_USAGE.as_bytes());
                return Ok(None);
            }
            "--" => {
                i += 1;
                break;
            }
            _ if arg.starts_with('-') && arg.len() > 1 => {
                return Err(usage_error(&format!("unknown option '{arg}'")));
            }
            _ => break,
        }
    }
    let Some(module) = args.get(i) else {
        return Err(usage_error("no module given"));
    };
    Ok(Some(Options {
        sandbox,
        module: module.clone(),
        args: args[i + 1..].to_vec(),
    }))
}

/// What ended the run, as an exit status (printing the trap if there was one).
fn finish(trap: &Trap) -> ExitCode {
    if let Some(status) = trap.exit_status() {
        return ExitCode::from(status as u8);
    }
    report(format_args!("Error: {trap}"));
    ExitCode::from(TRAP_STATUS)
}

pub fn run_cmd(args: &[String]) -> ExitCode {
    let opts = match parse(args) {
        Ok(Some(opts)) => opts,
        Ok(None) => return ExitCode::SUCCESS,
        Err(code) => return code,
    };
    let file = match ModuleFile::read(Path::new(&opts.module)) {
        Ok(b) => b,
        Err(e) => return load_failure(format!("cannot read {}: {e}", opts.module)),
    };
    let engine = Engine::new(Config::default());
    let code_cache = opts.sandbox.code_cache();
    let module = match Module::from_file(&engine, file, code_cache.as_deref()) {
        Ok(m) => m,
        Err(e) => return load_failure(format!("{}: {e}", opts.module)),
    };

    let mut builder = WasiCtx::builder()
        .arg(opts.module.clone())
        .args(opts.args)
        .inherit_stdio();
    if opts.sandbox.inherit_env {
        builder = builder.inherit_env();
    }
    for (k, v) in opts.sandbox.env {
        builder = builder.env(k, v);
    }
    for (host, guest, read_only) in opts.sandbox.dirs {
        builder = builder.preopen_dir(host, guest, read_only);
    }
    let ctx = match builder.build() {
        Ok(ctx) => ctx,
        Err(e) => return load_failure(e.to_string()),
    };

    let mut store = Store::new(
        &engine,
        RunHost {
            wasi: ctx,
            net: SocketCtx::new(opts.sandbox.net),
        },
    );
    if opts.sandbox.profile.is_some() {
        store.start_profile(crate::options::PROFILE_INTERVAL);
    }
    let mut linker = Linker::new();
    add_to_linker(&mut linker, &mut store, |h: &mut RunHost| &mut h.wasi);
    wasmi_py_socket::add_to_linker(&mut linker, &mut store, |h: &mut RunHost| {
        (&mut h.wasi, &mut h.net)
    });
    let instance = match linker.instantiate(&mut store, &module) {
        Ok(i) => i,
        Err(Error::Trap(trap)) => return finish(&trap),
        Err(e) => return load_failure(format!("{}: {e}", opts.module)),
    };
    let Some(start) = instance.get_func(&store, "_start") else {
        return load_failure(format!(
            "{}: no `_start` export (not a WASI command module)",
            opts.module
        ));
    };
    let status = match start.call(&mut store, &[]) {
        Ok(_) => ExitCode::SUCCESS,
        Err(trap) => finish(&trap),
    };
    if let Some(path) = &opts.sandbox.profile {
        crate::options::write_profile(path, store.profile());
    }
    // Best effort: a cache that cannot be written only means translating next time.
    let _ = module.save_code_cache();
    crate::release_at_exit((store, linker, instance, module));
    status
}
