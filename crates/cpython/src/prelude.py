# The wasmi-py prelude: runs inside CPython (python.wasm) before the user's code, in a
# module of its own (`_wasmi_py`), so that `__main__` holds nothing of ours.
#
# main() reproduces what `python3` does for a script, `-c`, `-m`, piped stdin or the REPL:
# sys.argv and sys.path[0] as python3 sets them, the current directory, `__main__` as the
# namespace, and a traceback without our own frames. An uncaught exception prints that
# traceback and becomes SystemExit(1), which CPython turns into exit(1) after finalizing,
# exactly as python3's exit status 1.
import sys

# Real host sockets for the standard socket module (python-wasm/_wasisocket.c). The
# stdlib's site-packages/_wasmi_py_socket.pth already did this at start-up; doing it again
# is a no-op, and covers a start-up without site.
try:
    import _wasisocket

    _wasisocket.install()
    del _wasisocket
except (ImportError, AttributeError):
    pass


def main(mode, target, argv, path0, cwd):
    import os

    if cwd is not None:
        try:
            os.chdir(cwd)
        except OSError:
            pass
    sys.argv[:] = argv
    if path0 is not None:
        sys.path.insert(0, path0)
    import __main__

    namespace = __main__.__dict__
    try:
        if mode == "module":
            import runpy

            # What `python3 -m` calls; its frames show in tracebacks there too.
            runpy._run_module_as_main(target, alter_argv=True)
            return
        if mode == "repl":
            import code

            banner = (
                f"Python {sys.version} on {sys.platform}\n"
                'Type "help", "copyright", "credits" or "license" for more information.'
            )
            code.interact(banner=banner, local=namespace, exitmsg="")
            return
        if mode == "script":
            with open(target, "rb") as f:
                source = f.read()
            namespace["__file__"] = target
            namespace["__cached__"] = None
            compiled = compile(source, target, "exec")
        elif mode == "command":
            compiled = compile(target, "<string>", "exec")
        elif mode == "stdin":
            compiled = compile(sys.stdin.read(), "<stdin>", "exec")
        else:
            raise ValueError(f"unknown mode {mode!r}")
        exec(compiled, namespace)
    except SystemExit:
        raise
    except BaseException as e:
        tb = e.__traceback__
        # Hide this function's frame: python3's traceback starts at the user's code. (The
        # excepthook prints the exception's own __traceback__, so it is replaced.)
        e = e.with_traceback(tb.tb_next if tb is not None else None)
        sys.excepthook(type(e), e, e.__traceback__)
        raise SystemExit(1) from None
