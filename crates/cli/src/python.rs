//! `wasmi-py run` for Python: `python3`-style invocations of CPython 3.13 (python.wasm)
//! driven through its C API (see the `wasmi-py-cpython` crate).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wasmi_py_cpython::{Config, Dir, Ended, Install, Main, Mode, Runtime, StartError};

use crate::options::{flag_value, load_failure, report, split_flag, usage_error, Sandbox};
use crate::run::TRAP_STATUS;

pub const PYTHON_USAGE: &str = "\
wasmi-py run: run Python code in CPython 3.13 inside wasmi-py's sandbox

USAGE:
    wasmi-py run [OPTIONS] SCRIPT.py [ARGS...]
    wasmi-py run [OPTIONS] -c CODE [ARGS...]
    wasmi-py run [OPTIONS] -m MODULE [ARGS...]
    wasmi-py run [OPTIONS]                  (the program from piped stdin, or the REPL;
                                             with -i, the REPL on whatever stdin is)
    wasmi-py run [OPTIONS] MODULE.wasm [ARGS...]   (any WASI command module; see below)

    wasmi-py run [OPTIONS] - [ARGS...]      (the program from stdin, sys.argv[0] = '-')

As with python3: sys.argv is [SCRIPT or -c or the module's path, ARGS...], sys.path[0] is
the script's directory ('' otherwise), an uncaught exception prints its traceback and exits
with status 1, SystemExit(n) exits with n.

PYTHON OPTIONS (python3's, before the script, -c or -m; may be combined as in -uBc CODE):
    -b -B -d -E -I -O -OO -P -q -s -S -u -v -V -W ARG -X OPT --check-hash-based-pycs MODE
    --version --help-env --help-xoptions --help-all
                               Given to CPython's own command-line parser: they mean what they
                               mean to python3 (`python3 --help`).
    -i                         After the code, enter the interactive interpreter (also after an
                               exception or SystemExit, as python3 -i). sys.flags.inspect
                               stays 0.
    -x                         Skip the script's first line.

WHAT THE GUEST SEES:
    - the standard library, read-only (at /usr/local, CPython's default prefix);
    - the current directory, read-write, at its own absolute path; it is Python's cwd;
    - the script's directory, read-write, at its own absolute path;
    - every --dir; nothing else of the host file system;
    - `/` and the directories above those, read-only and holding only the way to them (as
      python3 sees them, `os.listdir('/')` and `os.path.exists('/home')` work);
    - no network, unless --net or --allow-net gives some: without it, connecting, binding,
      listening, sending datagrams and name lookups raise PermissionError naming the flag
      (local socket pairs, e.g. for asyncio, always work).

OPTIONS:
    --dir HOST[::GUEST][:ro]   Give the guest a host directory (repeatable; `:ro` = read-only).
    --env KEY=VALUE            Set an environment variable (repeatable; `--env KEY` copies it).
    --inherit-env              Give the guest the host's whole environment.
    --net                      Give the guest the network: real host sockets (TCP/UDP, IPv4/IPv6)
                               and the host's name resolver, through the standard socket module.
    --allow-net HOST[:PORT],...
                               Give the guest only these hosts (and ports): it may connect/send
                               to them and bind on them, and look up the listed names (a name
                               allows the addresses it resolves to). IPv6: [::1]:8080. Binding
                               the wildcard address needs 0.0.0.0 (or [::]) in the list.
                               Repeatable.
    --python-home DIR          The python.wasm build to use (a directory with python.wasm and
                               lib/python3.13). Default: $WASMI_PY_HOME, else the cache filled
                               by python-wasm/build.sh.
    --no-code-cache            Neither read nor write the code cache (translated python.wasm
                               functions kept in $WASMI_PY_CACHE/code, default
                               ~/.cache/wasmi-py/code, for the next run's start-up). Small
                               functions are then not inlined either (it pays only when
                               translations are kept).
    --profile FILE             Profile the guest (CPython's C functions, not Python ones):
                               write where the time went, per call stack of wasm functions,
                               to FILE (folded lines for flame-graph tools) and print the
                               top functions to stderr at the end.
    -h, --help                 Print this help.

EXIT STATUS:
    Python's (0, 1 on an uncaught exception, n for SystemExit(n)); 134 if the interpreter
    traps; 1 if python.wasm cannot be found or loaded; 2 for a usage error.
";

struct Options {
    sandbox: Sandbox,
    python_home: Option<PathBuf>,
    mode: Option<Mode>,
    args: Vec<String>,
    /// python3's interpreter options, for CPython's own parser (`Config::python_options`).
    python_options: Vec<String>,
    /// `-x`.
    skip_first_line: bool,
    /// `-i`.
    inspect: bool,
    /// The arguments that are python3's (all but the sandbox options and `--python-home`),
    /// for `sys.orig_argv`.
    python_argv: Vec<String>,
}

/// python3's one-letter interpreter options without a value. `-i` and `-x` are carried
/// out by the prelude (see `Main`); the others go to CPython's own parser.
const PYTHON_FLAGS: &str = "bBdEiIOPqsSuvVx";

/// python3's one-letter options with a value, attached (`-Wignore`) or the next argument.
const PYTHON_VALUE_FLAGS: &str = "WX";

/// python3's long options without a value, for CPython's parser (the one with a value,
/// `--check-hash-based-pycs`, has its own arm).
const PYTHON_LONG_FLAGS: [&str; 4] = ["--version", "--help-env", "--help-xoptions", "--help-all"];

/// What a cluster of one-letter options (`-uBc CODE`) ended with.
enum Cluster {
    /// Only flags: parsing goes on with the next argument.
    Flags,
    /// `-c`/`-m`: the rest of the arguments are `sys.argv[1:]`.
    Mode,
    /// `-h`.
    Help,
}

/// Parses the one-letter options of `args[*i]` (which starts with a single `-`), advancing
/// `i` past a value taken from the next argument.
fn parse_cluster(args: &[String], i: &mut usize, opts: &mut Options) -> Result<Cluster, ExitCode> {
    let arg = args[*i].as_str();
    for (at, c) in arg.char_indices().skip(1) {
        let rest = &arg[at + c.len_utf8()..];
        let value = |i: &mut usize| -> Result<String, ExitCode> {
            if rest.is_empty() {
                flag_value(args, i, &format!("-{c}"), None)
            } else {
                Ok(rest.to_owned())
            }
        };
        match c {
            'i' => opts.inspect = true,
            'x' => opts.skip_first_line = true,
            'h' | '?' => return Ok(Cluster::Help),
            'c' | 'm' => {
                let value = value(i)?;
                opts.mode = Some(if c == 'c' {
                    Mode::Command(value)
                } else {
                    Mode::Module(value)
                });
                return Ok(Cluster::Mode);
            }
            _ if PYTHON_VALUE_FLAGS.contains(c) => {
                let value = value(i)?;
                opts.python_options.extend([format!("-{c}"), value]);
                return Ok(Cluster::Flags);
            }
            _ if PYTHON_FLAGS.contains(c) => opts.python_options.push(format!("-{c}")),
            _ if arg.len() == 2 => return Err(usage_error(&format!("unknown option '{arg}'"))),
            _ => return Err(usage_error(&format!("unknown option '-{c}' in '{arg}'"))),
        }
    }
    Ok(Cluster::Flags)
}

fn parse(args: &[String]) -> Result<Option<Options>, ExitCode> {
    let mut opts = Options {
        sandbox: Sandbox::default(),
        python_home: None,
        mode: None,
        args: Vec::new(),
        python_options: Vec::new(),
        skip_first_line: false,
        inspect: false,
        python_argv: Vec::new(),
    };
    // Indices of wasmi-py's own arguments (sandbox options, --python-home, their values).
    let mut own = Vec::new();
    let help = || {
        let _ = std::io::stdout().write_all(PYTHON_USAGE.as_bytes());
        Ok(None)
    };
    let mut i = 0;
    while i < args.len() {
        let start = i;
        if opts.sandbox.parse_option(args, &mut i)? {
            own.extend(start..=i);
            i += 1;
            continue;
        }
        let arg = args[i].as_str();
        let (flag, inline) = split_flag(arg);
        match flag {
            "--python-home" => {
                let dir = flag_value(args, &mut i, flag, inline)?;
                opts.python_home = Some(PathBuf::from(dir));
                own.extend(start..=i);
            }
            "--help" => return help(),
            "--" => {
                i += 1;
                break;
            }
            "-" => {
                // As python3: the program comes from stdin, `sys.argv[0]` is '-'.
                opts.mode = Some(Mode::Stdin);
                opts.args = args[i + 1..].to_vec();
                return Ok(Some(with_python_argv(opts, args, &own)));
            }
            "--check-hash-based-pycs" => {
                let mode = flag_value(args, &mut i, flag, inline)?;
                opts.python_options.extend([flag.to_owned(), mode]);
            }
            _ if PYTHON_LONG_FLAGS.contains(&flag) && inline.is_none() => {
                opts.python_options.push(flag.to_owned());
            }
            _ if is_cluster(arg) => match parse_cluster(args, &mut i, &mut opts)? {
                Cluster::Flags => {}
                Cluster::Help => return help(),
                Cluster::Mode => {
                    opts.args = args[i + 1..].to_vec();
                    return Ok(Some(with_python_argv(opts, args, &own)));
                }
            },
            _ if arg.starts_with('-') => {
                return Err(usage_error(&format!("unknown option '{arg}'")));
            }
            _ => break,
        }
        i += 1;
    }
    if let Some(script) = args.get(i) {
        opts.mode = Some(Mode::Script(script.clone()));
        opts.args = args[i + 1..].to_vec();
    }
    Ok(Some(with_python_argv(opts, args, &own)))
}

/// `opts` with `python_argv`: the arguments not at an index in `own`.
fn with_python_argv(mut opts: Options, args: &[String], own: &[usize]) -> Options {
    opts.python_argv = (args.iter().enumerate())
        .filter(|(k, _)| !own.contains(k))
        .map(|(_, a)| a.clone())
        .collect();
    opts
}

/// True if the parsed arguments name a WASI module rather than Python code: the program
/// python3 would run is a `.wasm` file (or starts with the wasm magic). Decided by the one
/// option parser, so an option's value (`-W x.wasm`) or `-c`'s code is never the program.
fn is_wasm_invocation(opts: &Options) -> bool {
    matches!(&opts.mode, Some(Mode::Script(program)) if looks_like_wasm(program))
}

/// A cluster of python3's one-letter options (`-uB`, `-Wignore`), not a long option.
fn is_cluster(arg: &str) -> bool {
    arg.len() > 1 && arg.starts_with('-') && !arg.starts_with("--")
}

fn looks_like_wasm(path: &str) -> bool {
    if path.ends_with(".wasm") {
        return true;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok_and(|()| magic == *b"\0asm")
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `wasmi-py run ARGS`: Python, or a WASI command module if that is what ARGS name.
pub fn run_cmd(args: &[String]) -> ExitCode {
    let opts = match parse(args) {
        Ok(Some(opts)) => opts,
        Ok(None) => return ExitCode::SUCCESS,
        Err(code) => return code,
    };
    if is_wasm_invocation(&opts) {
        return crate::run::run_cmd(args);
    }

    // The guest sees the current directory and the script's directory at their own paths.
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => return load_failure(format!("cannot read the current directory: {e}")),
    };
    let mut dirs = vec![Dir {
        host: cwd.clone(),
        guest: cwd.to_string_lossy().into_owned(),
        read_only: false,
    }];
    let mode = match opts.mode.clone() {
        Some(Mode::Script(script)) => {
            let path = absolute(Path::new(&script));
            if !path.is_file() {
                return load_failure(format!(
                    "can't open file '{}': [Errno 2] No such file or directory",
                    path.display()
                ));
            }
            if let Some(parent) = path.parent() {
                if !parent.starts_with(&cwd) {
                    dirs.push(Dir {
                        host: parent.to_path_buf(),
                        guest: parent.to_string_lossy().into_owned(),
                        read_only: false,
                    });
                }
            }
            Mode::Script(path.to_string_lossy().into_owned())
        }
        // As python3: stdin is read as a program unless it is a terminal or -i asks for
        // the interactive loop (then it reads statements from stdin, terminal or not).
        Some(Mode::Stdin) | None if opts.inspect => Mode::Repl,
        Some(mode) => mode,
        None if std::io::stdin().is_terminal() => Mode::Repl,
        None => Mode::Stdin,
    };
    for (host, guest, read_only) in &opts.sandbox.dirs {
        let host = absolute(Path::new(host));
        let guest = if Path::new(guest).is_absolute() {
            guest.clone()
        } else {
            // A relative guest path names the same place the host path does.
            absolute(Path::new(guest)).to_string_lossy().into_owned()
        };
        dirs.push(Dir {
            host,
            guest,
            read_only: *read_only,
        });
    }
    let mut env = Vec::new();
    if opts.sandbox.inherit_env {
        env.extend(std::env::vars());
    }
    env.extend(opts.sandbox.env.iter().cloned());

    let (argv, path0) = match (&mode, &opts.mode) {
        (Mode::Script(abs), Some(Mode::Script(as_given))) => {
            let dir = Path::new(abs)
                .parent()
                .map(|p| p.to_string_lossy().into_owned());
            (
                std::iter::once(as_given.clone())
                    .chain(opts.args.iter().cloned())
                    .collect(),
                dir,
            )
        }
        (Mode::Command(_), _) => (
            std::iter::once("-c".to_owned())
                .chain(opts.args.iter().cloned())
                .collect(),
            Some(String::new()),
        ),
        (Mode::Module(_), _) => (
            std::iter::once("-m".to_owned())
                .chain(opts.args.iter().cloned())
                .collect(),
            Some(String::new()),
        ),
        (Mode::Stdin | Mode::Repl, Some(Mode::Stdin)) => (
            std::iter::once("-".to_owned())
                .chain(opts.args.iter().cloned())
                .collect(),
            Some(String::new()),
        ),
        _ => (vec![String::new()], Some(String::new())),
    };

    let install = match Install::locate(opts.python_home.as_deref()) {
        Ok(i) => i,
        Err(e) => return load_failure(e),
    };
    let code_cache = opts.sandbox.code_cache();
    let runtime = match Runtime::load(install, code_cache.as_deref()) {
        Ok(r) => r,
        Err(e) => return load_failure(e.to_string()),
    };
    let config = Config {
        dirs,
        env,
        net: opts.sandbox.net,
        python_options: opts.python_options,
        profile: opts
            .sandbox
            .profile
            .as_ref()
            .map(|_| crate::options::PROFILE_INTERVAL),
        ..Config::default()
    }
    .inherit_stdio();
    let mut python = match runtime.start(config) {
        Ok(p) => p,
        Err(StartError::Init(ended)) => return ended_status(&ended),
        Err(e) => return load_failure(e.to_string()),
    };
    let main = Main {
        mode,
        argv,
        path0,
        cwd: Some(cwd.to_string_lossy().into_owned()),
        skip_first_line: opts.skip_first_line,
        inspect: opts.inspect,
        orig_argv: Some(opts.python_argv),
    };
    let status = match python.run_main(&main) {
        Ok(true) => match python.finalize() {
            Ok(status) => ExitCode::from(status as u8),
            Err(ended) => ended_status(&ended),
        },
        // The prelude turns exceptions into SystemExit(1); reaching this means it failed.
        Ok(false) => {
            let _ = python.finalize();
            ExitCode::from(1)
        }
        Err(ended) => ended_status(&ended),
    };
    if let Some(path) = &opts.sandbox.profile {
        crate::options::write_profile(path, python.profile());
    }
    // Best effort: a cache that cannot be written only means translating next time.
    let _ = runtime.save_code_cache();
    crate::release_at_exit((python, runtime));
    status
}

fn ended_status(ended: &Ended) -> ExitCode {
    match ended {
        Ended::Exit(status) => ExitCode::from(*status as u8),
        Ended::Trap(trap) => {
            report(format_args!("Error: CPython trapped: {trap}"));
            ExitCode::from(TRAP_STATUS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmi_py_cpython::NetPolicy;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    /// Whether `wasmi-py run ARGS` runs a WASI module (parse errors count as Python: the
    /// Python path reports them).
    fn runs_wasm(args: &[String]) -> bool {
        parse(args)
            .ok()
            .flatten()
            .is_some_and(|o| is_wasm_invocation(&o))
    }

    #[test]
    fn wasm_or_python() {
        assert!(runs_wasm(&strings(&["--dir", "x", "m.wasm", "a.py"])));
        assert!(!runs_wasm(&strings(&["--dir", "x", "script.py", "m.wasm"])));
        assert!(!runs_wasm(&strings(&["-c", "print(1)", "m.wasm"])));
        assert!(!runs_wasm(&strings(&[])));
        assert!(runs_wasm(&strings(&["--", "x.wasm"])));
    }

    #[test]
    fn python_options() {
        let o = parse(&strings(&["--dir", "a::/b:ro", "-c", "code", "x", "-y"]))
            .unwrap()
            .unwrap();
        assert_eq!(o.sandbox.dirs, [("a".into(), "/b".into(), true)]);
        assert_eq!(o.mode, Some(Mode::Command("code".into())));
        assert_eq!(o.args, ["x", "-y"]);
        let o = parse(&strings(&["s.py", "-c", "z"])).unwrap().unwrap();
        assert_eq!(o.mode, Some(Mode::Script("s.py".into())));
        assert_eq!(o.args, ["-c", "z"]);
        assert_eq!(o.sandbox.net, NetPolicy::Deny);
    }

    #[test]
    fn python3_option_clusters() {
        let o = parse(&strings(&["-uBc", "code", "x"])).unwrap().unwrap();
        assert_eq!(o.python_options, ["-u", "-B"]);
        assert_eq!(o.mode, Some(Mode::Command("code".into())));
        assert_eq!(o.args, ["x"]);
        let o = parse(&strings(&["-Wignore", "-X", "dev", "-ix", "s.py", "-u"]))
            .unwrap()
            .unwrap();
        assert_eq!(o.python_options, ["-W", "ignore", "-X", "dev"]);
        assert!(o.inspect && o.skip_first_line);
        assert_eq!(o.mode, Some(Mode::Script("s.py".into())));
        assert_eq!(o.args, ["-u"]);
        let o = parse(&strings(&["-Emjson.tool", "f"])).unwrap().unwrap();
        assert_eq!(o.python_options, ["-E"]);
        assert_eq!(o.mode, Some(Mode::Module("json.tool".into())));
        let o = parse(&strings(&["--check-hash-based-pycs", "never", "-", "a"]))
            .unwrap()
            .unwrap();
        assert_eq!(o.python_options, ["--check-hash-based-pycs", "never"]);
        assert_eq!((o.mode, o.args), (Some(Mode::Stdin), strings(&["a"])));
        assert!(parse(&strings(&["-uZ"])).is_err());
        assert!(parse(&strings(&["-W"])).is_err());
        // A value-taking option's value is not the program.
        assert!(!runs_wasm(&strings(&["-W", "x.wasm", "s.py"])));
        assert!(runs_wasm(&strings(&["-Wx", "m.wasm"])));
        assert!(!runs_wasm(&strings(&["-uc", "m.wasm"])));
        assert!(!runs_wasm(&strings(&["-", "m.wasm"])));
    }

    #[test]
    fn network_options() {
        let o = parse(&strings(&["--net", "-c", "x"])).unwrap().unwrap();
        assert_eq!(o.sandbox.net, NetPolicy::All);
        let o = parse(&strings(&[
            "--allow-net=127.0.0.1:80,example.com",
            "--allow-net",
            "[::1]:8080",
            "s.py",
        ]))
        .unwrap()
        .unwrap();
        match &o.sandbox.net {
            NetPolicy::Allow(list) => {
                let shown: Vec<String> = list.iter().map(ToString::to_string).collect();
                assert_eq!(shown, ["127.0.0.1:80", "example.com", "[::1]:8080"]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(o.mode, Some(Mode::Script("s.py".into())));
        assert!(parse(&strings(&["--allow-net=bad host", "s.py"])).is_err());
        assert!(parse(&strings(&["--net=1", "s.py"])).is_err());
        assert!(!runs_wasm(&strings(&["--allow-net", "x.wasm", "s.py"])));
    }
}
