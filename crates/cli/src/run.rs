//! `wasmi-py run`: run a WASI preview1 command module (like `wasmtime run`).

use std::io::Write;
use std::process::ExitCode;

use wasmi_py_core::{Config, Engine, Error, Linker, Module, Store, Trap};
use wasmi_py_socket::{AllowEntry, NetPolicy, SocketCtx};
use wasmi_py_wasi::{add_to_linker, WasiCtx};

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
    -h, --help      Print this help.

EXIT STATUS:
    The guest's: its `proc_exit` status (modulo 256), or 0 when `_start` returns.
    134 if the guest traps: `Error: wasm trap: ...` and the wasm backtrace (function names
        from the module's name section) are printed to stderr.
    1   if the module cannot be loaded, validated or linked; 2 for a usage error.
";

struct Options {
    dirs: Vec<(String, String, bool)>,
    env: Vec<(String, String)>,
    inherit_env: bool,
    net: NetPolicy,
    module: String,
    args: Vec<String>,
}

/// Writes to stderr, ignoring failure (`eprintln!` would panic on a closed stderr).
fn report(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

fn usage_error(message: &str) -> ExitCode {
    report(format_args!(
        "wasmi-py run: {message}\n\nRun `wasmi-py run --help` for usage."
    ));
    ExitCode::from(USAGE_STATUS)
}

/// Parses `HOST[::GUEST][:ro]`.
pub fn parse_dir(spec: &str) -> Result<(String, String, bool), String> {
    let (rest, read_only) = match spec.strip_suffix(":ro") {
        Some(rest) => (rest, true),
        None => (spec, false),
    };
    let (host, guest) = match rest.split_once("::") {
        Some((host, guest)) => (host, guest),
        None => (rest, rest),
    };
    if host.is_empty() || guest.is_empty() {
        return Err(format!(
            "invalid --dir '{spec}': expected HOST[::GUEST][:ro]"
        ));
    }
    Ok((host.to_owned(), guest.to_owned(), read_only))
}

/// Applies `--net` (`spec` must be `None`) or `--allow-net=SPEC` to `net`.
pub fn parse_net_flag(net: &mut NetPolicy, flag: &str, spec: Option<&str>) -> Result<(), String> {
    match (flag, spec) {
        ("--net", None) => {
            *net = NetPolicy::All;
            Ok(())
        }
        ("--net", Some(_)) => Err("--net takes no value (use --allow-net=HOST[:PORT],...)".into()),
        (_, Some(spec)) => {
            let entries = AllowEntry::parse_list(spec)?;
            if entries.is_empty() {
                return Err("--allow-net needs at least one HOST[:PORT]".into());
            }
            net.allow(entries);
            Ok(())
        }
        (_, None) => Err("--allow-net needs a value".into()),
    }
}

/// The store data of a WASI command: its WASI state and the socket module's.
struct RunHost {
    wasi: WasiCtx,
    net: SocketCtx,
}

fn parse(args: &[String]) -> Result<Option<Options>, ExitCode> {
    let mut dirs = Vec::new();
    let mut env = Vec::new();
    let mut inherit_env = false;
    let mut net = NetPolicy::Deny;
    let mut i = 0;
    let value = |i: &mut usize, flag: &str, inline: Option<&str>| -> Result<String, ExitCode> {
        if let Some(v) = inline {
            return Ok(v.to_owned());
        }
        *i += 1;
        args.get(*i)
            .cloned()
            .ok_or_else(|| usage_error(&format!("{flag} needs a value")))
    };
    while i < args.len() {
        let arg = args[i].as_str();
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (arg, None),
        };
        match flag {
            "--dir" => {
                let spec = value(&mut i, "--dir", inline)?;
                dirs.push(parse_dir(&spec).map_err(|e| usage_error(&e))?);
            }
            "--env" => {
                let spec = value(&mut i, "--env", inline)?;
                match spec.split_once('=') {
                    Some((k, v)) if !k.is_empty() => env.push((k.to_owned(), v.to_owned())),
                    Some(_) => return Err(usage_error(&format!("invalid --env '{spec}'"))),
                    None => {
                        if let Ok(v) = std::env::var(&spec) {
                            env.push((spec, v));
                        }
                    }
                }
            }
            "--inherit-env" if inline.is_none() => inherit_env = true,
            "--net" | "--allow-net" => {
                let spec = if flag == "--net" {
                    inline.map(str::to_owned)
                } else {
                    Some(value(&mut i, "--allow-net", inline)?)
                };
                parse_net_flag(&mut net, flag, spec.as_deref()).map_err(|e| usage_error(&e))?;
            }
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
        i += 1;
    }
    let Some(module) = args.get(i) else {
        return Err(usage_error("no module given"));
    };
    Ok(Some(Options {
        dirs,
        env,
        inherit_env,
        net,
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
    let fail = |message: String| {
        report(format_args!("wasmi-py run: {message}"));
        ExitCode::from(LOAD_FAILURE_STATUS)
    };
    let bytes = match std::fs::read(&opts.module) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot read {}: {e}", opts.module)),
    };
    let engine = Engine::new(Config::default());
    let module = match Module::new(&engine, &bytes) {
        Ok(m) => m,
        Err(e) => return fail(format!("{}: {e}", opts.module)),
    };
    drop(bytes);

    let mut builder = WasiCtx::builder()
        .arg(opts.module.clone())
        .args(opts.args)
        .inherit_stdio();
    if opts.inherit_env {
        builder = builder.inherit_env();
    }
    for (k, v) in opts.env {
        builder = builder.env(k, v);
    }
    for (host, guest, read_only) in opts.dirs {
        builder = builder.preopen_dir(host, guest, read_only);
    }
    let ctx = match builder.build() {
        Ok(ctx) => ctx,
        Err(e) => return fail(e.to_string()),
    };

    let mut store = Store::new(
        &engine,
        RunHost {
            wasi: ctx,
            net: SocketCtx::new(opts.net),
        },
    );
    let mut linker = Linker::new();
    add_to_linker(&mut linker, &mut store, |h: &mut RunHost| &mut h.wasi);
    wasmi_py_socket::add_to_linker(&mut linker, &mut store, |h: &mut RunHost| {
        (&mut h.wasi, &mut h.net)
    });
    let instance = match linker.instantiate(&mut store, &module) {
        Ok(i) => i,
        Err(Error::Trap(trap)) => return finish(&trap),
        Err(e) => return fail(format!("{}: {e}", opts.module)),
    };
    let Some(start) = instance.get_func(&store, "_start") else {
        return fail(format!(
            "{}: no `_start` export (not a WASI command module)",
            opts.module
        ));
    };
    match start.call(&mut store, &[]) {
        Ok(_) => ExitCode::SUCCESS,
        Err(trap) => finish(&trap),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_specs() {
        assert_eq!(parse_dir("a"), Ok(("a".into(), "a".into(), false)));
        assert_eq!(parse_dir("a::/b"), Ok(("a".into(), "/b".into(), false)));
        assert_eq!(parse_dir("a::/b:ro"), Ok(("a".into(), "/b".into(), true)));
        assert_eq!(parse_dir("/x:ro"), Ok(("/x".into(), "/x".into(), true)));
        assert!(parse_dir("::/b").is_err());
        assert!(parse_dir("a::").is_err());
    }
}
