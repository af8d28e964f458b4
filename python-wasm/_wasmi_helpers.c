/*
 * _wasmi_helpers: C helpers for the wasmi-py prelude (python-wasm/_wasmi_py.py).
 *
 * compile(source, filename, mode) -> code
 *
 *     What the builtin compile(source, filename, mode, dont_inherit=True) returns
 *     for a str or bytes source, without its first step: the builtin checks
 *     whether `source` is an `ast.AST`, and the first such check in an
 *     interpreter creates all of the `ast` module's ~120 node types.  Under
 *     wasmi-py that one-time set-up took ~14 ms, paid by every `wasmi-py run
 *     script.py` and `-c` (the prelude compiles the user's program) although
 *     python3 itself never pays it there: it compiles the program through the
 *     C API (Py_CompileStringObject, as here).
 *
 * Flags as the builtin sets them: the source is UTF-8 (PyCF_SOURCE_IS_UTF8);
 * a str's coding cookie is ignored (it is already decoded), a bytes source's
 * is honoured; no `from __future__` flags are inherited (the user's program
 * starts with none); optimization level as the interpreter's (-1).
 */

#define PY_SSIZE_T_CLEAN
#include "Python.h"

#include <string.h>

static PyObject *
helpers_compile(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError,
                     "compile() takes 3 arguments (source, filename, mode), %zd given",
                     nargs);
        return NULL;
    }
    PyObject *source = args[0], *filename = args[1], *mode = args[2];
    if (!PyUnicode_Check(filename) || !PyUnicode_Check(mode)) {
        PyErr_SetString(PyExc_TypeError, "compile(): filename and mode must be str");
        return NULL;
    }
    int start;
    if (PyUnicode_CompareWithASCIIString(mode, "exec") == 0) {
        start = Py_file_input;
    }
    else if (PyUnicode_CompareWithASCIIString(mode, "eval") == 0) {
        start = Py_eval_input;
    }
    else if (PyUnicode_CompareWithASCIIString(mode, "single") == 0) {
        start = Py_single_input;
    }
    else {
        PyErr_SetString(PyExc_ValueError,
                        "compile() mode must be 'exec', 'eval' or 'single'");
        return NULL;
    }
    PyCompilerFlags flags = _PyCompilerFlags_INIT;
    flags.cf_flags = PyCF_SOURCE_IS_UTF8;
    const char *str;
    Py_ssize_t size;
    if (PyUnicode_Check(source)) {
        flags.cf_flags |= PyCF_IGNORE_COOKIE;
        str = PyUnicode_AsUTF8AndSize(source, &size);
        if (str == NULL) {
            return NULL;
        }
    }
    else if (PyBytes_Check(source)) {
        str = PyBytes_AS_STRING(source);
        size = PyBytes_GET_SIZE(source);
    }
    else {
        PyErr_SetString(PyExc_TypeError, "compile() source must be str or bytes");
        return NULL;
    }
    /* As the builtin: the parser works on C strings. */
    if ((size_t)size != strlen(str)) {
        PyErr_SetString(PyExc_SyntaxError,
                        "source code string cannot contain null bytes");
        return NULL;
    }
    return Py_CompileStringObject(str, filename, start, &flags, -1);
}

static PyMethodDef helpers_methods[] = {
    {"compile", (PyCFunction)(void (*)(void))helpers_compile, METH_FASTCALL,
     "compile(source, filename, mode) -> code\n\n"
     "The builtin compile(source, filename, mode, dont_inherit=True) for a str or\n"
     "bytes source, without creating the ast module's types on first use."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef_Slot helpers_slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL}
};

static struct PyModuleDef helpers_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_wasmi_helpers",
    .m_doc = "C helpers for the wasmi-py prelude (python-wasm/_wasmi_helpers.c).",
    .m_size = 0,
    .m_methods = helpers_methods,
    .m_slots = helpers_slots,
};

PyMODINIT_FUNC
PyInit__wasmi_helpers(void)
{
    return PyModuleDef_Init(&helpers_module);
}
