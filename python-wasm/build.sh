#!/usr/bin/env bash
# python-wasm/build.sh: build CPython 3.13.5 for wasm32-wasip1 (python.wasm +
# a compiled stdlib) from Debian packages only, and cache the result outside
# the repository, keyed by a hash of this recipe. See python-wasm/README.md.
#
#   python-wasm/build.sh               build if needed; last stdout line = cache dir
#   python-wasm/build.sh --print-path  print the cache dir if built (exit 1 if not); never builds
#   python-wasm/build.sh --force       rebuild even if the cache dir exists
#   python-wasm/build.sh --keep-work   keep the work tree (sources, objects, logs) after success
#
# Typical use from other tooling:  PY=$(python-wasm/build.sh | tail -1)
# Environment: WASMI_PY_CACHE (default $HOME/.cache/wasmi-py), WASMI_PY_JOBS (default nproc).
# Needs root (apt) on Debian 12 bookworm; takes ~10-15 minutes on 2 cores.
set -euo pipefail

# ---------------------------------------------------------------------------
# Pinned inputs. Editing anything in this file (or in the other RECIPE_FILES)
# changes the recipe hash and therefore the cache directory.
# ---------------------------------------------------------------------------
RECIPE_FORMAT=1
PY_VERSION=3.13.5
PY_MAJMIN=3.13
PY_SRC_PKG=python3.13                # Debian trixie source package
PY_ORIG=python3.13_3.13.5.orig.tar.xz  # pristine upstream Python-3.13.5.tar.xz
PY_ORIG_SHA256=93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640
ZLIB_SRC_PKG=zlib
ZLIB_UPSTREAM=1.3.dfsg+really1.3.1   # zlib 1.3.1
ZLIB_ORIG=zlib_1.3.dfsg+really1.3.1.orig.tar.gz
ZLIB_ORIG_SHA256=60dd315c07f616887caa029408308a018ace66e3d142726a97db164b3b8f69fb
BZIP2_SRC_PKG=bzip2                  # libbz2, for the bz2 module
BZIP2_UPSTREAM=1.0.8
BZIP2_ORIG=bzip2_1.0.8.orig.tar.gz
BZIP2_ORIG_SHA256=ab5a03176ee106d3f0fa90e381da478ddae405918153cca248e682cd0c4a2269
XZ_SRC_PKG=xz-utils                  # liblzma, for the lzma module
XZ_UPSTREAM=5.8.1
XZ_ORIG=xz-utils_5.8.1.orig.tar.xz
XZ_ORIG_SHA256=0b54f79df85912504de0b14aec7971e3f964491af1812d83447005807513cd9e
WASI_LIBC_VERSION=0.0~git20241209.574b88d-2   # Debian trixie binary package (arch all)
WASI_LIBC_DEB_SHA256=b7716260051d289248b7667f81fa2792c125d888ff51da3fa09c6272cc0bd11d
SOURCE_SUITE=trixie                  # where the packages above come from
LLVM=19
APT_PACKAGES=("clang-$LLVM" "lld-$LLVM" "llvm-$LLVM" "libclang-rt-$LLVM-dev-wasm32"
              build-essential pkg-config xz-utils dpkg-dev)
HOST_TRIPLE=wasm32-wasip1
# apt configuration this script owns (idempotently rewritten)
APT_SOURCES_FILE=/etc/apt/sources.list.d/wasmi-py-trixie.sources
APT_PIN_FILE=/etc/apt/preferences.d/wasmi-py-trixie

# Functions exported from python.wasm for the host (C-API embedding flow).
# Functions returning PyStatus by value take a hidden first pointer (sret).
EXPORTS=(
  __wasm_call_ctors __wasm_call_dtors malloc free
  Py_Initialize Py_InitializeEx Py_InitializeFromConfig Py_IsInitialized
  Py_Finalize Py_FinalizeEx Py_RunMain Py_BytesMain Py_Main
  Py_PreInitialize Py_PreInitializeFromArgs Py_PreInitializeFromBytesArgs
  Py_ExitStatusException Py_DecodeLocale PyMem_RawMalloc PyMem_RawFree
  PyRun_SimpleString PyRun_SimpleStringFlags
  PyErr_Print PyErr_Occurred PyErr_Clear PyImport_ImportModule
  PyConfig_InitPythonConfig PyConfig_InitIsolatedConfig PyConfig_Clear PyConfig_Read
  PyConfig_SetString PyConfig_SetBytesString PyConfig_SetArgv PyConfig_SetBytesArgv
  PyConfig_SetWideStringList
  PyPreConfig_InitPythonConfig PyPreConfig_InitIsolatedConfig
  PyStatus_Ok PyStatus_Error PyStatus_NoMemory PyStatus_Exit
  PyStatus_IsError PyStatus_IsExit PyStatus_Exception
)
ALLOWED_IMPORT_MODULES=(wasi_snapshot_preview1 wasmi_py_socket)
# The wasmi_py_socket imports _wasisocket.c references: exactly the list in
# docs/socket-abi.md ("Imports referenced by the current build").
SOCKET_IMPORTS=(sock_open sock_bind sock_listen sock_accept4 sock_connect sock_send sock_recv
                sock_sendto sock_recvfrom sock_shutdown sock_getsockname sock_getpeername
                sock_setsockopt sock_getsockopt sock_socketpair sock_dup
                getaddrinfo getnameinfo gethostname)
# wasmi-py's own modules in the standard library, each with its byte code: _wasmi_py.py
# (the host's prelude, imported instead of compiled at every start-up). No sitecustomize:
# the stock _socket installs the host sockets itself when imported (Setup.local).
STDLIB_ADDITIONS=(_wasmi_py.py)
# Dropped from the installed stdlib (not usable or not needed on WASI).
DROP_FROM_STDLIB=(idlelib tkinter turtledemo turtle.py ensurepip/_bundled
                  "config-$PY_MAJMIN-wasm32-wasi/libpython$PY_MAJMIN.a"
                  "config-$PY_MAJMIN-wasm32-wasi/python.o")

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RECIPE_FILES=(build.sh Setup.local _wasisocket.c _wps_socketmodule.c _wasmi_helpers.c "${STDLIB_ADDITIONS[@]}"
              wasm_info.py)
if [[ -d $SCRIPT_DIR/patches ]]; then
  while IFS= read -r p; do RECIPE_FILES+=("patches/$p"); done \
    < <(cd "$SCRIPT_DIR/patches" && find . -type f -name '*.patch' -printf '%P\n' | LC_ALL=C sort)
fi

# ---------------------------------------------------------------------------
usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

FORCE=0 PRINT_PATH=0 KEEP_WORK=0
while (($#)); do
  case $1 in
    --force) FORCE=1 ;;
    --print-path) PRINT_PATH=1 ;;
    --keep-work) KEEP_WORK=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

CACHE_ROOT=${WASMI_PY_CACHE:-${HOME:-/root}/.cache/wasmi-py}
BASE=$CACHE_ROOT/python-wasm

recipe_hash_input() {
  printf 'wasmi-py python-wasm recipe format %s\n' "$RECIPE_FORMAT"
  local f
  for f in "${RECIPE_FILES[@]}"; do
    printf '%s  %s\n' "$(sha256sum < "$SCRIPT_DIR/$f" | cut -d' ' -f1)" "$f"
  done
}
RECIPE_SHA256=$(recipe_hash_input | sha256sum | cut -d' ' -f1)
HASH=${RECIPE_SHA256:0:16}
OUT=$BASE/$HASH

point_current() {
  local cur
  cur=$(readlink "$BASE/current" 2>/dev/null || true)
  if [[ $cur != "$HASH" ]]; then
    ln -sfn "$HASH" "$BASE/.current.$$"
    mv -Tf "$BASE/.current.$$" "$BASE/current"
  fi
}

if ((PRINT_PATH)); then
  if [[ -f $OUT/manifest.json ]]; then echo "$OUT"; exit 0; fi
  exit 1
fi
if ((!FORCE)) && [[ -f $OUT/manifest.json ]]; then
  point_current 2>/dev/null || true   # a read-only cache is still usable
  echo "python-wasm: cached build (recipe $HASH): $OUT" >&2
  echo "$OUT"
  exit 0
fi

# ---------------------------------------------------------------------------
# Build path. Progress goes to stderr; command output to $WORK/logs/*.log.
# ---------------------------------------------------------------------------
T0=$EPOCHREALTIME
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%6.1f", b - a }'; }
log() { printf '[python-wasm %ss] %s\n' "$(elapsed)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

CUR_STEP="" CUR_LOG="" STEP_T0=""
declare -a TIMINGS=()
step_begin() {
  CUR_STEP=$1 STEP_T0=$EPOCHREALTIME CUR_LOG=$WORK/logs/$1.log
  : > "$CUR_LOG"
  log "== step $1: $2"
}
step_end() {
  local dt
  dt=$(awk -v a="$STEP_T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  TIMINGS+=("$CUR_STEP=$dt")
  log "   step $CUR_STEP done in ${dt}s"
  CUR_STEP=""
}
# run CMD... with output appended to the current step's log
run() { "$@" >> "$CUR_LOG" 2>&1; }

on_exit() {
  local rc=$?
  if ((rc != 0)); then
    if [[ -n $CUR_STEP && -s $CUR_LOG ]]; then
      log "FAILED in step $CUR_STEP (exit $rc); last lines of $CUR_LOG:"
      tail -n 40 "$CUR_LOG" >&2 || true
    fi
    log "FAILED (exit $rc); work tree kept at ${WORK:-?}"
    if [[ -n ${STAGE:-} ]]; then rm -rf "$STAGE"; fi
  fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(( EUID == 0 )) || die "must run as root (installs packages and writes apt configuration)"
JOBS=${WASMI_PY_JOBS:-$(nproc)}
mkdir -p "$BASE"
exec 9> "$BASE/.lock"
if ! flock -n 9; then
  log "another build holds $BASE/.lock; waiting"
  flock 9
fi
if ((!FORCE)) && [[ -f $OUT/manifest.json ]]; then   # built by whoever held the lock
  point_current; log "cached build appeared: $OUT"; echo "$OUT"; exit 0
fi

WORK=$BASE/.work-$HASH
DL=$BASE/downloads
# Leftovers of earlier interrupted or failed builds (we hold the lock, so none
# of these is in use): a failed build's work tree is kept for inspection only
# until the next build starts.
for stale in "$BASE"/.work-* "$BASE"/.staging-* "$BASE"/.old-*; do
  if [[ -e $stale || -L $stale ]]; then log "removing stale $stale"; rm -rf "$stale"; fi
done
mkdir -p "$WORK/logs" "$DL"
log "recipe $HASH (sha256 $RECIPE_SHA256)"
log "work tree $WORK, $JOBS jobs"

# --- step 1: apt ------------------------------------------------------------
debian_uri() {
  # The URI of this machine's main Debian archive, taken from its own apt
  # configuration (whatever format or mirror it uses).
  local codename=$1 uri
  # shellcheck disable=SC2016  # $(...) are apt's format fields, not shell
  uri=$(apt-get indextargets --format '$(TARGET_OF) $(REPO_URI) $(RELEASE)' 2>/dev/null \
        | awk -v c="$codename" '$1 == "deb" && $3 == c { print $2; exit }')
  if [[ -z $uri && -f /etc/apt/sources.list.d/debian.sources ]]; then
    uri=$(awk -v c="$codename" '
      function flush() { if (deb && suite && u != "") { print u; exit } deb = suite = 0; u = "" }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      tolower($1) == "uris:" { u = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == c) suite = 1 }
      END { flush() }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [[ -z $uri && -f /etc/apt/sources.list ]]; then
    uri=$(sed -E 's/\[[^]]*\]//' /etc/apt/sources.list \
          | awk -v c="$codename" '$1 == "deb" && $3 == c { print $2; exit }')
  fi
  [[ -n $uri ]] || return 1
  printf '%s\n' "${uri%/}/"
}

write_if_changed() {  # FILE: replace FILE with stdin only if the content differs
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat > "$tmp"
  if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 1; fi
  chmod 644 "$tmp"
  mv -f "$tmp" "$1"
}

step_begin apt "apt sources ($SOURCE_SUITE, pinned to priority 1) and toolchain packages"
# shellcheck disable=SC1091
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ -n $codename ]] || die "cannot read VERSION_CODENAME from /etc/os-release"
[[ $codename == bookworm ]] || log "   note: written for Debian 12 bookworm, this is '$codename'"
MIRROR=$(debian_uri "$codename") || die "no 'deb ... $codename' entry found in the apt configuration"
case $MIRROR in http://*|https://*) ;; *) die "unsupported Debian archive URI '$MIRROR'";; esac
log "   Debian archive from apt configuration: $MIRROR"
changed=0
if write_if_changed "$APT_SOURCES_FILE" <<EOF
# Written by wasmi-py python-wasm/build.sh. Debian $SOURCE_SUITE, used only to
# download the $PY_SRC_PKG and $ZLIB_SRC_PKG sources and the wasi-libc .deb
# (unpacked into a private sysroot, never installed). Pinned to priority 1 in
# $APT_PIN_FILE so nothing is installed or upgraded from it.
# The URI is the one this machine's apt configuration uses for '$codename'.
Types: deb deb-src
URIs: $MIRROR
Suites: $SOURCE_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
then changed=1; fi
if write_if_changed "$APT_PIN_FILE" <<EOF
# Written by wasmi-py python-wasm/build.sh (see $APT_SOURCES_FILE):
# never install or upgrade anything from $SOURCE_SUITE by default.
Package: *
Pin: release n=$SOURCE_SUITE
Pin-Priority: 1
EOF
then changed=1; fi
if ((changed)); then log "   wrote $APT_SOURCES_FILE and $APT_PIN_FILE"; fi
run apt-get update
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "   installing: ${missing[*]}"
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
CLANG_VERSION=$(clang-$LLVM --version | head -1)
log "   $CLANG_VERSION"
step_end

# --- step 2: sources ----------------------------------------------------------
verify_dsc() {  # DSC: check every file listed under Checksums-Sha256 (in $PWD)
  local dsc=$1 sha size file n=0
  while read -r sha size file; do
    [[ -f $file ]] || { log "   $dsc: missing $file"; return 1; }
    echo "$sha  $file" | sha256sum -c --status || { log "   $dsc: sha256 mismatch for $file"; return 1; }
    [[ $(stat -c %s "$file") == "$size" ]] || { log "   $dsc: size mismatch for $file"; return 1; }
    n=$((n + 1))
  done < <(awk '/^Checksums-Sha256:/ { on = 1; next } on && /^ / { print $1, $2, $3; next } { on = 0 }' "$dsc")
  ((n > 0)) || { log "   $dsc: no Checksums-Sha256"; return 1; }
}

fetch_source() {  # PKG UPSTREAM_VERSION: download a source version with that upstream part
  local pkg=$1 upstream=$2 v nv up dsc
  # Several Debian revisions may be listed (point releases); the mirror may
  # not carry all of them, so try the newest first.
  for v in $(apt-cache showsrc --only-source "$pkg" | awk '/^Version:/ { print $2 }' | sort -u | sort -rV); do
    nv=${v#*:}; up=${nv%-*}
    [[ $up == "$upstream" ]] || continue
    dsc=${pkg}_${nv}.dsc
    if [[ -f $dsc ]] && verify_dsc "$dsc"; then echo "$v"; return 0; fi
    if run apt-get -o APT::Sandbox::User=root source --download-only "$pkg=$v" && verify_dsc "$dsc"; then
      echo "$v"; return 0
    fi
    log "   $pkg $v: not downloadable here, trying an older revision"
  done
  return 1
}

check_sha256() {  # FILE SHA256
  echo "$2  $1" | sha256sum -c --status || die "sha256 mismatch for $1 (expected $2, got $(sha256sum "$1" | cut -d' ' -f1))"
}

fetch_pinned() {  # PKG UPSTREAM ORIG SHA256: fetch_source, then check the orig tarball
  local v
  v=$(fetch_source "$1" "$2") || die "no downloadable $1 source with upstream $2 in $SOURCE_SUITE"
  check_sha256 "$3" "$4"
  log "   $1 $v: .dsc hashes ok, $3 sha256 ok"
  echo "$v"
}

step_begin sources "$PY_SRC_PKG $PY_VERSION + $ZLIB_SRC_PKG, $BZIP2_SRC_PKG, $XZ_SRC_PKG sources and wasi-libc .deb from Debian $SOURCE_SUITE"
cd "$DL"
PY_DEB_VERSION=$(fetch_pinned "$PY_SRC_PKG" "$PY_VERSION" "$PY_ORIG" "$PY_ORIG_SHA256")
ZLIB_DEB_VERSION=$(fetch_pinned "$ZLIB_SRC_PKG" "$ZLIB_UPSTREAM" "$ZLIB_ORIG" "$ZLIB_ORIG_SHA256")
BZIP2_DEB_VERSION=$(fetch_pinned "$BZIP2_SRC_PKG" "$BZIP2_UPSTREAM" "$BZIP2_ORIG" "$BZIP2_ORIG_SHA256")
XZ_DEB_VERSION=$(fetch_pinned "$XZ_SRC_PKG" "$XZ_UPSTREAM" "$XZ_ORIG" "$XZ_ORIG_SHA256")
WASI_LIBC_DEB=wasi-libc_${WASI_LIBC_VERSION#*:}_all.deb
if ! { [[ -f $WASI_LIBC_DEB ]] && echo "$WASI_LIBC_DEB_SHA256  $WASI_LIBC_DEB" | sha256sum -c --status; }; then
  rm -f "$WASI_LIBC_DEB"
  run apt-get -o APT::Sandbox::User=root download "wasi-libc=$WASI_LIBC_VERSION" \
    || die "cannot download wasi-libc $WASI_LIBC_VERSION (apt-cache policy wasi-libc shows what is available)"
fi
check_sha256 "$WASI_LIBC_DEB" "$WASI_LIBC_DEB_SHA256"
log "   $WASI_LIBC_DEB sha256 ok"
step_end

# --- step 3: emulated WASI SDK --------------------------------------------------
SDK=$WORK/wasi-sdk
SYSROOT=$SDK/share/wasi-sysroot
step_begin sdk "emulated WASI SDK (clang-$LLVM wrappers + wasi-libc sysroot)"
mkdir -p "$SDK/bin" "$SDK/share" "$WORK/wasi-libc-deb"
dpkg-deb -x "$DL/$WASI_LIBC_DEB" "$WORK/wasi-libc-deb"
mv "$WORK/wasi-libc-deb/usr" "$SYSROOT"   # include/wasm32-wasi, lib/wasm32-wasi
[[ -f $SYSROOT/lib/wasm32-wasi/libc.a ]] || die "wasi-libc .deb has no lib/wasm32-wasi/libc.a"
# Debian's clang defaults to x86_64, and its wasm compiler-rt builtins are only
# found for the wasm32-wasi triple (lib/wasi/), not wasm32-wasip1.
for tool in clang clang++; do
  printf '#!/bin/sh\nexec %s --target=wasm32-wasi "$@"\n' "/usr/bin/$tool-$LLVM" > "$SDK/bin/$tool"
done
printf '#!/bin/sh\nexec %s --target=wasm32-wasi -E "$@"\n' "/usr/bin/clang-$LLVM" > "$SDK/bin/clang-cpp"
chmod 755 "$SDK/bin/clang" "$SDK/bin/clang++" "$SDK/bin/clang-cpp"
LLVM_BIN=/usr/lib/llvm-$LLVM/bin
for t in ar ranlib nm strip objdump objcopy readobj dwarfdump size; do
  [[ -e $LLVM_BIN/llvm-$t ]] || continue
  ln -s "$LLVM_BIN/llvm-$t" "$SDK/bin/llvm-$t"
  case $t in ar|ranlib|nm|strip) ln -s "$LLVM_BIN/llvm-$t" "$SDK/bin/$t" ;; esac
done
ln -s "$LLVM_BIN/wasm-ld" "$SDK/bin/wasm-ld"
printf '#include <stdio.h>\nint main(void) { puts("ok"); return 0; }\n' > "$WORK/hello.c"
run "$SDK/bin/clang" --sysroot="$SYSROOT" -O2 -o "$WORK/hello.wasm" "$WORK/hello.c" \
  || die "the emulated WASI SDK cannot link a hello world"
step_end

# --- step 4: zlib, libbz2, liblzma for wasm32-wasi ------------------------------------
unpack_for_wasm() {  # ORIG DIR: unpack the orig tarball into DIR, cd there, set CC & co
  mkdir -p "$2"
  tar -xf "$DL/$1" -C "$2" --strip-components=1
  cd "$2"
  export CC="$SDK/bin/clang --sysroot=$SYSROOT" AR="$SDK/bin/llvm-ar" RANLIB="$SDK/bin/ranlib"
  export CFLAGS="-O2"
}

ZLIB_PREFIX=$WORK/zlib-wasm32
step_begin zlib "cross-build static zlib $ZLIB_UPSTREAM for wasm32-wasi"
(
  unpack_for_wasm "$ZLIB_ORIG" "$WORK/zlib-src"
  export CHOST=wasm32-wasi
  run ./configure --static --prefix="$ZLIB_PREFIX"
  run make -j"$JOBS" libz.a
  run make install
)
[[ -f $ZLIB_PREFIX/lib/libz.a && -f $ZLIB_PREFIX/include/zlib.h ]] || die "zlib install incomplete"
step_end

# libbz2 and liblzma: the bz2 and lzma modules.
BZIP2_PREFIX=$WORK/bzip2-wasm32
step_begin bzip2 "cross-build static libbz2 $BZIP2_UPSTREAM for wasm32-wasi"
mkdir -p "$BZIP2_PREFIX/lib" "$BZIP2_PREFIX/include"
(
  unpack_for_wasm "$BZIP2_ORIG" "$WORK/bzip2-src"
  # Only the library: bzip2's Makefile has no configure; its programs are not needed.
  run make -j"$JOBS" libbz2.a CC="$CC" AR="$AR" RANLIB="$RANLIB" CFLAGS="$CFLAGS -D_FILE_OFFSET_BITS=64"
  cp libbz2.a "$BZIP2_PREFIX/lib/"
  cp bzlib.h "$BZIP2_PREFIX/include/"
)
step_end

XZ_PREFIX=$WORK/xz-wasm32
step_begin xz "cross-build static liblzma $XZ_UPSTREAM for wasm32-wasi"
(
  unpack_for_wasm "$XZ_ORIG" "$WORK/xz-src"
  # Only liblzma, single-threaded (no threads in wasm32-wasip1).
  run ./configure --host=wasm32-unknown-wasi --prefix="$XZ_PREFIX" --enable-static \
    --disable-shared --disable-threads --disable-xz --disable-xzdec --disable-lzmadec \
    --disable-lzmainfo --disable-lzma-links --disable-scripts --disable-doc --disable-nls
  run make -j"$JOBS" -C src/liblzma
  run make -C src/liblzma install
)
[[ -f $XZ_PREFIX/lib/liblzma.a && -f $XZ_PREFIX/include/lzma.h ]] || die "liblzma install incomplete"
step_end

# --- step 5: native build python (cached separately: it only depends on the source) ---
BP_KEY=$(printf 'build-python 1 %s %s\n' "$PY_ORIG_SHA256" "$(uname -m)" | sha256sum | cut -c1-16)
BP_DIR=$BASE/build-python/$BP_KEY
BUILD_PYTHON=$BP_DIR/Python-$PY_VERSION/cross-build/build/python
step_begin build-python "native build python $PY_VERSION ($BP_DIR)"
if [[ -f $BP_DIR/.complete && -x $BUILD_PYTHON ]]; then
  log "   reusing cached build python"
else
  rm -rf "$BP_DIR"
  mkdir -p "$BP_DIR"
  tar -xJf "$DL/$PY_ORIG" -C "$BP_DIR"
  mkdir -p "$BP_DIR/Python-$PY_VERSION/cross-build/build"
  (
    cd "$BP_DIR/Python-$PY_VERSION/cross-build/build"
    run ../../configure
    run make -j"$JOBS" all
    # only the python binary, its build-tree stdlib and sysconfig data are
    # used from here on: drop objects and the static libpython (~175 MB)
    find . -name '*.o' -delete
    rm -f "libpython$PY_MAJMIN.a"
  )
  touch "$BP_DIR/.complete"
fi
BUILD_PY_VERSION=$("$BUILD_PYTHON" -c 'import sys; print(sys.version.split()[0])')
[[ $BUILD_PY_VERSION == "$PY_VERSION" ]] || die "build python reports $BUILD_PY_VERSION"
step_end

# --- step 6: configure the wasm32-wasip1 host build ---------------------------------
SRC=$WORK/Python-$PY_VERSION
HOSTDIR=$SRC/cross-build/$HOST_TRIPLE
step_begin configure "configure CPython for $HOST_TRIPLE"
tar -xJf "$DL/$PY_ORIG" -C "$WORK"
# reproducible __DATE__/__TIME__ in sys.version: the tarball's patchlevel.h mtime
SOURCE_DATE_EPOCH=$(stat -c %Y "$SRC/Include/patchlevel.h")
export SOURCE_DATE_EPOCH
cp "$SCRIPT_DIR/_wasisocket.c" "$SRC/Modules/_wasisocket.c"
cp "$SCRIPT_DIR/_wps_socketmodule.c" "$SRC/Modules/_wps_socketmodule.c"
cp "$SCRIPT_DIR/_wasmi_helpers.c" "$SRC/Modules/_wasmi_helpers.c"
if [[ -d $SCRIPT_DIR/patches ]]; then
  for p in "${RECIPE_FILES[@]}"; do
    [[ $p == patches/* ]] || continue
    log "   applying $p"
    run patch -d "$SRC" -p1 --forward --batch -i "$SCRIPT_DIR/$p"
  done
fi
mkdir -p "$HOSTDIR/Modules"
cp "$SCRIPT_DIR/Setup.local" "$HOSTDIR/Modules/Setup.local"
# --with-pymalloc: configure turns CPython's small-object allocator off for WASI (a 2021
# default, from Emscripten's builds), leaving every object allocation to wasi-libc's
# dlmalloc through two wrappers. With it: cpython-bench 4-18% faster on both engines
# (generators 568 -> 467 ms, dicts 461 -> 401), start-up 89 -> 83 ms, peak RSS unchanged
# (python-wasm/README.md, "Used: pymalloc").
# CFLAGS: two WebAssembly 2.0 features clang 19 does not enable by default (LLVM 20 does),
# both implemented by wasmi-py and wasmi: bulk memory (memcpy/memset of unknown size become
# one memory.copy/memory.fill instead of a call into wasi-libc's byte/word loops) and
# non-trapping float-to-int (one trunc_sat instead of range checks around a trunc).
# cpython-bench: 2-5% faster on both engines (strings 370 -> 351 ms, json 451 -> 430),
# start-up 82.7 -> 78.3 ms.
(
  cd "$HOSTDIR"
  run env CFLAGS="-mbulk-memory -mnontrapping-fptoint" \
    CONFIG_SITE=../../Tools/wasm/config.site-wasm32-wasi WASI_SDK_PATH="$SDK" \
    ../../Tools/wasm/wasi-env ../../configure \
      --host="$HOST_TRIPLE" --build="$(../../config.guess)" \
      --with-build-python="$BUILD_PYTHON" --disable-test-modules --with-pymalloc \
      ZLIB_CFLAGS="-I$ZLIB_PREFIX/include" ZLIB_LIBS="-L$ZLIB_PREFIX/lib -lz" \
      BZIP2_CFLAGS="-I$BZIP2_PREFIX/include" BZIP2_LIBS="-L$BZIP2_PREFIX/lib -lbz2" \
      LIBLZMA_CFLAGS="-I$XZ_PREFIX/include" LIBLZMA_LIBS="-L$XZ_PREFIX/lib -llzma"
)
grep -q '^MODULE_ZLIB_STATE=yes' "$HOSTDIR/Makefile" || die "configure did not pick up the cross-built zlib"
grep -q '^MODULE__BZ2_STATE=yes' "$HOSTDIR/Makefile" || die "configure did not pick up the cross-built libbz2"
grep -q '^MODULE__LZMA_STATE=yes' "$HOSTDIR/Makefile" || die "configure did not pick up the cross-built liblzma"
grep -q '^MODULE__SOCKET_STATE=yes' "$HOSTDIR/Makefile" || die "configure disabled the _socket module"
step_end

# --- step 7: make (debug link with DWARF, then the release relink) -----------------------
BASE_LFS=$(sed -n 's/^LINKFORSHARED=[[:space:]]*//p' "$HOSTDIR/Makefile" | sed 's/[[:space:]]*$//')
LFS_EXPORTS=""
for e in "${EXPORTS[@]}"; do LFS_EXPORTS+=" -Wl,--export=$e"; done
LFS_DEBUG="${BASE_LFS:+$BASE_LFS }${LFS_EXPORTS# }"
LFS_RELEASE="$LFS_DEBUG -Wl,--compress-relocations -Wl,--strip-debug"
wasi_make() { (cd "$HOSTDIR" && run env WASI_SDK_PATH="$SDK" ../../Tools/wasm/wasi-env make "$@"); }
step_begin make "make -j$JOBS (python-debug.wasm with DWARF)"
wasi_make -j"$JOBS" all LINKFORSHARED="$LFS_DEBUG"
mv "$HOSTDIR/python.wasm" "$HOSTDIR/python-debug.wasm"
step_end
step_begin relink "relink python.wasm (release: --strip-debug --compress-relocations)"
wasi_make python.wasm LINKFORSHARED="$LFS_RELEASE"
step_end

# --- step 8: install + runtime tree -----------------------------------------------------
DESTDIR=$WORK/destdir
step_begin install "make install + stdlib .pyc (unchecked-hash)"
wasi_make install DESTDIR="$DESTDIR" LINKFORSHARED="$LFS_RELEASE" \
  COMPILEALL_OPTS="-j0 --invalidation-mode unchecked-hash"
step_end

STAGE=$BASE/.staging-$HASH.$$
step_begin runtime "runtime tree: drop unneeded stdlib parts, check .pyc"
LIBSRC=$DESTDIR/usr/local/lib/python$PY_MAJMIN
[[ -d $LIBSRC ]] || die "make install produced no $LIBSRC"
mkdir -p "$STAGE/lib" "$STAGE/recipe"
cp -a "$LIBSRC" "$STAGE/lib/"
LIBDST=$STAGE/lib/python$PY_MAJMIN
for d in "${DROP_FROM_STDLIB[@]}"; do
  [[ -e $LIBDST/$d ]] || { log "   note: nothing to drop at $d"; continue; }
  rm -rf "${LIBDST:?}/$d"
  # a dropped module's byte code too
  if [[ $d == *.py ]]; then rm -f "$LIBDST/__pycache__/${d%.py}".cpython-*.pyc; fi
done
# only optimization level 0 is used (python without -O); drop -O/-OO byte code
find "$LIBDST" -name '*.opt-[12].pyc' -delete
# wasmi-py's additions (see STDLIB_ADDITIONS), with unchecked-hash byte code like the
# rest of the stdlib.
for f in "${STDLIB_ADDITIONS[@]}"; do
  cp "$SCRIPT_DIR/$f" "$LIBDST/$f"
  run "$BUILD_PYTHON" -I -B -c 'import py_compile, sys
py_compile.compile(sys.argv[1], doraise=True,
                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)' \
    "$LIBDST/$f"
done
mkdir -p "$LIBDST/site-packages"

cp "$HOSTDIR/python.wasm" "$STAGE/python.wasm"
cp "$HOSTDIR/python-debug.wasm" "$STAGE/python-debug.wasm"
for f in "${RECIPE_FILES[@]}"; do
  mkdir -p "$STAGE/recipe/$(dirname "$f")"
  cp "$SCRIPT_DIR/$f" "$STAGE/recipe/$f"
done
# every .py must have an unchecked-hash .pyc (flags == 0b01 in the header)
run "$BUILD_PYTHON" -I -B - "$LIBDST" <<'PYEOF'
import importlib.util, pathlib, sys
lib = pathlib.Path(sys.argv[1])
bad, n = [], 0
for py in lib.rglob("*.py"):
    rel = py.relative_to(lib)
    if "site-packages" in rel.parts or rel.parts[0].startswith("config-"):
        continue  # config-3.13-wasm32-wasi/ is not importable (python-config.py)
    pyc = pathlib.Path(importlib.util.cache_from_source(str(py)))
    n += 1
    try:
        head = pyc.read_bytes()[:8]
    except FileNotFoundError:
        bad.append(f"missing {pyc.relative_to(lib)}")
        continue
    if head[:4] != importlib.util.MAGIC_NUMBER or int.from_bytes(head[4:8], "little") != 1:
        bad.append(f"not unchecked-hash: {pyc.relative_to(lib)}")
print(f"{n} modules checked, {len(bad)} problems")
for b in bad[:50]:
    print(b)
sys.exit(1 if bad else 0)
PYEOF
ls "$LIBDST"/_sysconfigdata_*.py > /dev/null || die "no sysconfigdata module in the runtime tree"
step_end

# --- step 9: verify + manifest ---------------------------------------------------------------
step_begin manifest "check exports/imports, write manifest.json"
check_args=()
for e in "${EXPORTS[@]}"; do check_args+=(--require-export "$e"); done
for m in "${ALLOWED_IMPORT_MODULES[@]}"; do check_args+=(--allow-import-module "$m"); done
check_args+=(--exact-imports "wasmi_py_socket=$(IFS=,; echo "${SOCKET_IMPORTS[*]}")")
for w in python.wasm python-debug.wasm; do
  run "$BUILD_PYTHON" -I -B "$SCRIPT_DIR/wasm_info.py" "$STAGE/$w" "${check_args[@]}" \
    || die "$w failed the export/import check (see $CUR_LOG)"
done
T_TOTAL=$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
run env \
  M_RECIPE_SHA256="$RECIPE_SHA256" M_HASH="$HASH" M_RECIPE_FORMAT="$RECIPE_FORMAT" \
  M_RECIPE_FILES="$(recipe_hash_input | tail -n +2)" \
  M_PY_VERSION="$PY_VERSION" M_PY_SRC_PKG="$PY_SRC_PKG" M_PY_DEB_VERSION="$PY_DEB_VERSION" \
  M_PY_ORIG="$PY_ORIG" M_PY_ORIG_SHA256="$PY_ORIG_SHA256" \
  M_ZLIB_SRC_PKG="$ZLIB_SRC_PKG" M_ZLIB_DEB_VERSION="$ZLIB_DEB_VERSION" \
  M_ZLIB_ORIG="$ZLIB_ORIG" M_ZLIB_ORIG_SHA256="$ZLIB_ORIG_SHA256" \
  M_BZIP2_SRC_PKG="$BZIP2_SRC_PKG" M_BZIP2_DEB_VERSION="$BZIP2_DEB_VERSION" \
  M_BZIP2_ORIG="$BZIP2_ORIG" M_BZIP2_ORIG_SHA256="$BZIP2_ORIG_SHA256" \
  M_XZ_SRC_PKG="$XZ_SRC_PKG" M_XZ_DEB_VERSION="$XZ_DEB_VERSION" \
  M_XZ_ORIG="$XZ_ORIG" M_XZ_ORIG_SHA256="$XZ_ORIG_SHA256" \
  M_WASI_LIBC_VERSION="$WASI_LIBC_VERSION" M_WASI_LIBC_DEB="$WASI_LIBC_DEB" \
  M_WASI_LIBC_DEB_SHA256="$WASI_LIBC_DEB_SHA256" M_CLANG="$CLANG_VERSION" \
  M_HOST_TRIPLE="$HOST_TRIPLE" M_MIRROR_SUITE="$SOURCE_SUITE" \
  M_EXPORTS="${EXPORTS[*]}" M_ALLOWED="${ALLOWED_IMPORT_MODULES[*]}" \
  M_DROPPED="${DROP_FROM_STDLIB[*]} *.opt-1.pyc *.opt-2.pyc" \
  M_TIMINGS="${TIMINGS[*]}" M_TOTAL="$T_TOTAL" M_CONFIG_C="$HOSTDIR/Modules/config.c" \
  M_LFS_RELEASE="$LFS_RELEASE" M_LFS_DEBUG="$LFS_DEBUG" \
  "$BUILD_PYTHON" -I -B - "$STAGE" "$SCRIPT_DIR/wasm_info.py" <<'PYEOF'
import datetime, hashlib, importlib.util, json, os, pathlib, re, sys
stage = pathlib.Path(sys.argv[1])
spec = importlib.util.spec_from_file_location("wasm_info", sys.argv[2])
wasm_info = importlib.util.module_from_spec(spec); spec.loader.exec_module(wasm_info)
E = os.environ
def sha(p): return hashlib.sha256(p.read_bytes()).hexdigest()
def wasm(name):
    p = stage / name
    info = wasm_info.parse(p.read_bytes())
    return p, info
rel, rinfo = wasm("python.wasm")
dbg, dinfo = wasm("python-debug.wasm")
config_c = pathlib.Path(E["M_CONFIG_C"]).read_text()
builtins = sorted(set(re.findall(r'^\s*\{"([A-Za-z0-9_.]+)", PyInit_', config_c, re.M)))
lib = stage / "lib" / "python3.13"
manifest = {
    "recipe": {
        "hash": E["M_HASH"], "sha256": E["M_RECIPE_SHA256"], "format": int(E["M_RECIPE_FORMAT"]),
        "files": {p[1]: p[0] for p in (l.split("  ", 1) for l in E["M_RECIPE_FILES"].splitlines())},
    },
    "python": {"version": E["M_PY_VERSION"], "debian_source": E["M_PY_SRC_PKG"],
               "debian_version": E["M_PY_DEB_VERSION"], "orig": E["M_PY_ORIG"],
               "orig_sha256": E["M_PY_ORIG_SHA256"], "host": E["M_HOST_TRIPLE"]},
    "zlib": {"debian_source": E["M_ZLIB_SRC_PKG"], "debian_version": E["M_ZLIB_DEB_VERSION"],
             "orig": E["M_ZLIB_ORIG"], "orig_sha256": E["M_ZLIB_ORIG_SHA256"]},
    "bzip2": {"debian_source": E["M_BZIP2_SRC_PKG"], "debian_version": E["M_BZIP2_DEB_VERSION"],
              "orig": E["M_BZIP2_ORIG"], "orig_sha256": E["M_BZIP2_ORIG_SHA256"]},
    "xz": {"debian_source": E["M_XZ_SRC_PKG"], "debian_version": E["M_XZ_DEB_VERSION"],
           "orig": E["M_XZ_ORIG"], "orig_sha256": E["M_XZ_ORIG_SHA256"]},
    "wasi_libc": {"debian_version": E["M_WASI_LIBC_VERSION"], "deb": E["M_WASI_LIBC_DEB"],
                  "deb_sha256": E["M_WASI_LIBC_DEB_SHA256"]},
    "debian_suite": E["M_MIRROR_SUITE"],
    "toolchain": E["M_CLANG"],
    "built_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "build_seconds": {**{k: float(v) for k, v in (t.split("=") for t in E["M_TIMINGS"].split())},
                      "total": float(E["M_TOTAL"])},
    "link_flags": {"release": E["M_LFS_RELEASE"], "debug": E["M_LFS_DEBUG"]},
    "runtime": {
        "stdlib": "lib/python3.13",
        "guest_prefix": "/usr/local (map this directory there; sys.prefix is /usr/local)",
        "pyc": "opt level 0 only, --invalidation-mode unchecked-hash",
        "dropped_from_stdlib": E["M_DROPPED"].split(),
        "stdlib_files": sum(1 for _ in lib.rglob("*") if _.is_file()),
        "stdlib_bytes": sum(p.stat().st_size for p in lib.rglob("*") if p.is_file()),
    },
    "builtin_modules_from_config_c": builtins,
    "python.wasm": {
        "size": rel.stat().st_size, "sha256": sha(rel),
        "defined_functions": rinfo["defined_functions"], "memories": rinfo["memories"],
        "tables": rinfo["tables"],
        "exports": [{k: e[k] for k in ("name", "kind", "signature") if k in e} for e in rinfo["exports"]],
        "imports": [{k: i[k] for k in ("module", "name", "kind", "signature") if k in i} for i in rinfo["imports"]],
    },
    "python-debug.wasm": {"size": dbg.stat().st_size, "sha256": sha(dbg),
                          "note": "same objects as python.wasm, linked without --strip-debug (DWARF kept)"},
    "required_exports": E["M_EXPORTS"].split(),
    "allowed_import_modules": E["M_ALLOWED"].split(),
}
for need in ("zlib", "_bz2", "_lzma", "_wasisocket", "_wasmi_helpers", "_socket", "binascii", "select", "_md5", "_sha1", "_sha2", "_sha3", "_blake2"):
    if need not in builtins:
        sys.exit(f"module {need} is not compiled in (Modules/config.c)")
tmp = stage / "manifest.json.tmp"
tmp.write_text(json.dumps(manifest, indent=1) + "\n")
tmp.rename(stage / "manifest.json")
print(json.dumps(manifest["build_seconds"]))
PYEOF
step_end

# --- publish atomically ---------------------------------------------------------------
step_begin publish "rename into $OUT, update current, remove the work tree"
OLD=""
if [[ -e $OUT ]]; then OLD=$BASE/.old-$HASH.$$; mv -T "$OUT" "$OLD"; fi
mv -T "$STAGE" "$OUT"
STAGE=""
if [[ -n $OLD ]]; then rm -rf "$OLD"; fi
point_current
if ((KEEP_WORK)); then
  log "   work tree kept: $WORK"
else
  rm -rf "$WORK"
fi
step_end
log "done: python.wasm $(stat -c %s "$OUT/python.wasm") bytes, python-debug.wasm $(stat -c %s "$OUT/python-debug.wasm") bytes"
log "timings (s): ${TIMINGS[*]} total=$(elapsed | tr -d ' ')"
echo "$OUT"
