# The wasmi-py prelude: runs inside CPython (python.wasm) before the user's code, in a
# module of its own (`_wasmi_py`), so that `__main__` holds nothing of ours.
#
# main() reproduces what `python3` does for a script, `-c`, `-m`, piped stdin or the REPL:
# sys.argv and sys.path[0] as python3 sets them, the current directory, `__main__` as the
# namespace, and a traceback without our own frames. An uncaught exception prints that
# traceback and becomes SystemExit(1), which CPython turns into exit(1) after finalizing,
# exactly as python3's exit status 1.
#
# The host (crates/cpython) compiles this file in; build.sh also installs it into the
# standard library with its byte code, and the host imports it from there when the
# installed copy is the same as its own (compiling it took ~10 ms of every start-up).
import sys

# The user's program is compiled without the builtin compile()'s first step, whose first
# use creates the ast module's ~120 types (~14 ms under wasmi-py; python3 compiles a
# script or -c through the C API and never pays it). The builtin on other builds.
try:
    from _wasmi_helpers import compile as _compile
except ImportError:
    _compile = compile


def main(
    mode, target, argv, path0, cwd, skip_first_line=False, inspect=False, orig_argv=None
):
    import os

    if cwd is not None:
        try:
            os.chdir(cwd)
        except OSError:
            pass
    sys.argv[:] = argv
    if orig_argv is not None:
        sys.orig_argv = list(orig_argv)
    # -P and -I: python3 puts nothing of the script's directory (or '') on sys.path.
    if path0 is not None and not sys.flags.safe_path:
        sys.path.insert(0, path0)
    import __main__

    namespace = __main__.__dict__
    if mode == "repl":
        _interact(namespace, banner=not sys.flags.quiet)
        return
    try:
        _run(mode, target, namespace, skip_first_line)
    except SystemExit:
        # python3 -i prints SystemExit like any other exception and goes on to the REPL.
        if not _inspect(inspect):
            raise
        _print_exception()
    except BaseException:
        _print_exception()
        if not _inspect(inspect):
            raise SystemExit(1) from None
    else:
        if not _inspect(inspect):
            return
    # After the REPL, python3 -i exits 0 (or with the REPL's own SystemExit).
    _interact(namespace, banner=False)


def _run(mode, target, namespace, skip_first_line):
    if mode == "module":
        import runpy

        # What `python3 -m` calls; its frames show in tracebacks there too.
        runpy._run_module_as_main(target, alter_argv=True)
        return
    if mode == "script":
        with open(target, "rb") as f:
            source = f.read()
        if skip_first_line:
            # As python3 -x: the first line goes, its newline stays (line numbers hold).
            newline = source.find(b"\n")
            source = source[newline:] if newline >= 0 else b""
        namespace["__file__"] = target
        namespace["__cached__"] = None
        compiled = _compile(source, target, "exec")
    elif mode == "command":
        compiled = _compile(target, "<string>", "exec")
        # As python3.13 -c: tracebacks show the lines of the command.
        import linecache

        linecache._register_code(compiled, target, "<string>")
    elif mode == "stdin":
        compiled = _compile(sys.stdin.read(), "<stdin>", "exec")
    else:
        raise ValueError(f"unknown mode {mode!r}")
    exec(compiled, namespace)


def _print_exception():
    """Prints the exception being handled as python3 would: its traceback starts at the
    user's code (the frames of `main` and `_run` are dropped)."""
    e = sys.exception()
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_globals.get("__name__") == __name__:
        tb = tb.tb_next
    # The excepthook prints the exception's own __traceback__, so it is replaced.
    e = e.with_traceback(tb)
    sys.excepthook(type(e), e, e.__traceback__)


def _inspect(flag):
    """python3 -i, or PYTHONINSPECT (read at the end, so the program may set it) when
    stdin is a terminal and the environment is not ignored (-E, -I)."""
    if flag:
        return True
    import os

    return (
        not sys.flags.ignore_environment
        and bool(os.environ.get("PYTHONINSPECT"))
        and sys.stdin is not None
        and sys.stdin.isatty()
    )


def _interact(namespace, banner):
    import code
    import linecache

    text = (
        f"Python {sys.version} on {sys.platform}\n"
        'Type "help", "copyright", "credits" or "license" for more information.'
    )
    # As python3's basic REPL: statements are compiled as "<stdin>", and tracebacks show
    # their lines (registered with linecache, as 3.13's REPLs do).
    console = code.InteractiveConsole(namespace, filename="<stdin>")
    compile_command = console.compile

    def compile_and_register(source, filename, symbol):
        try:
            compiled = compile_command(source, filename, symbol)
        except SyntaxError as e:
            # codeop compiles the input with extra newlines and as incomplete input, which
            # can move the reported position (`1 +`: none, so no caret; `for x in y`: one
            # column early). python3's REPL parses the lines as entered: that error wins
            # when it is the same one.
            try:
                compile(source + "\n", filename, symbol)
            except SyntaxError as entered:
                if entered.msg == e.msg:
                    raise entered from None
            raise
        if compiled is not None:
            linecache._register_code(compiled, source, filename)
        return compiled

    def run_pending():
        """What python3's REPL does with a statement still open at the end of input:
        it ends there (an error if it is incomplete)."""
        source = "\n".join(console.buffer)
        console.resetbuffer()
        sys.stderr.write("\n")
        try:
            compiled = compile(source + "\n", console.filename, "single")
        except SyntaxError:
            console.showsyntaxerror(console.filename, source=source)
            return
        linecache._register_code(compiled, source, console.filename)
        console.runcode(compiled)

    console.compile = compile_and_register
    # On a stdin that is not a terminal, python3 writes the prompts to stderr (stdout
    # keeps only what the statements print); input() would write them to stdout.
    read = console.raw_input
    if sys.stdin is not None and not sys.stdin.isatty():
        read = _read_line

    def read_line(prompt):
        try:
            return read(prompt)
        except EOFError:
            if not console.buffer:
                raise
        run_pending()
        return read(sys.ps1)

    console.raw_input = read_line
    console.interact(banner=text if banner else "", exitmsg="")


def _read_line(prompt):
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.removesuffix("\n")
