#!/bin/bash
# make install, as a user would use it: `cmake --install` of this build
# tree into a temporary DESTDIR, then examples/db_example.c built out of
# tree against the staged install through pkg-config (sluice.pc finds its
# prefix from its own directory, so PKG_CONFIG_PATH is all it needs), once
# against libsluice.so (run with LD_LIBRARY_PATH) and once against
# libsluice.a, each run by tests/test_db_example.sh on an SQLite file and on
# the test PostgreSQL. Also: every installed header compiles on its own, the
# man page names every option `sluice run --help` lists, and the binary,
# man page, completions and the library's SONAME are where they belong.
#
#   test_install.sh CMAKE BUILD_DIR SOURCE_DIR CC [CFLAGS...]
# CFLAGS: extra flags for the programs built here (the sanitizer flags of
# the build tree, whose libsluice they link). TAP output.
set -u
cmake=$1 build=$2 src=$3 cc=$4
shift 4
extra=("$@")
. "$src/tests/tap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage

DESTDIR=$stage "$cmake" --install "$build" --prefix /usr/local >"$tmp/install.log" 2>&1
ok $? "cmake --install into DESTDIR ($(tail -n 3 "$tmp/install.log" | tr '\n' ' '))"
pc=$(find "$stage" -name sluice.pc -path '*/pkgconfig/*' | head -n 1)
ok $([ -n "$pc" ]; echo $?) "sluice.pc installed (in $pc)"
libdir=$(dirname "$(dirname "$pc")")
prefix=$stage/usr/local
ok $([ -x "$prefix/bin/sluice" ]; echo $?) "bin/sluice"
"$prefix/bin/sluice" --version >"$tmp/version" 2>&1
has "$tmp/version" "sluice " "the installed sluice runs"
ok $([ -f "$prefix/share/man/man1/sluice.1" ]; echo $?) "share/man/man1/sluice.1"
ok $([ -f "$prefix/share/bash-completion/completions/sluice" ]; echo $?) \
  "share/bash-completion/completions/sluice"
ok $([ -f "$libdir/libsluice.a" ]; echo $?) "libsluice.a in $libdir"
soname=$(readelf -d "$libdir/libsluice.so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
ok $([[ $soname == libsluice.so.* ]] && [ -f "$libdir/$soname" ]; echo $?) \
  "libsluice.so links to its SONAME ($soname)"
n_src=$(ls "$src"/include/sluice/*.h | wc -l)
n_inst=$(ls "$prefix"/include/sluice/*.h | wc -l)
is "$n_inst" "$n_src" "every public header installed"

# The man page names every option of sluice run --help.
"$prefix/bin/sluice" run --help >"$tmp/run-help" 2>&1
sed 's/\\-/-/g' "$prefix/share/man/man1/sluice.1" >"$tmp/man"
missing=""
for o in $(grep -oE '(^|[ ,(])--?[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]' "$tmp/run-help" |
  sed 's/^[ ,(]//' | sort -u); do
  grep -qE -- "(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|$)" "$tmp/man" || missing="$missing $o"
done
is "$missing" "" "every option of sluice run --help is in sluice.1"
if command -v man >/dev/null; then
  MANWIDTH=80 man -l "$prefix/share/man/man1/sluice.1" >"$tmp/man.txt" 2>"$tmp/man.err"
  ok $([ $? -eq 0 ] && [ ! -s "$tmp/man.err" ]; echo $?) \
    "man -l renders sluice.1 without a warning ($(head -c 200 "$tmp/man.err"))"
fi

export PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$(pkg-config --cflags sluice)
libs=$(pkg-config --libs sluice)
inc=$(tr ' ' '\n' <<<"$cflags" | sed -n 's/^-I//p' | head -n 1)
is "$(realpath -m "$inc")" "$(realpath "$prefix/include")" \
  "pkg-config --cflags sluice: the staged include dir ($cflags)"

# Each installed header alone in a C file.
bad=""
for h in "$prefix"/include/sluice/*.h; do
  printf '#include <sluice/%s>\nint main(void) { return 0; }\n' "$(basename "$h")" >"$tmp/h.c"
  "$cc" -std=c17 -Wall -Wextra -Werror -Wstrict-prototypes "${extra[@]}" $cflags \
    -c "$tmp/h.c" -o "$tmp/h.o" 2>>"$tmp/headers.log" || bad="$bad $(basename "$h")"
done
is "$bad" "" "each installed header compiles on its own ($(head -c 300 "$tmp/headers.log"))"

# examples/db_example.c against the shared library.
"$cc" -std=c17 -Wall -Wextra -Werror "${extra[@]}" "$src/examples/db_example.c" \
  -o "$tmp/db_shared" $cflags $libs 2>"$tmp/cc-shared.log"
ok $? "cc db_example.c \$(pkg-config --cflags --libs sluice) ($(head -c 300 "$tmp/cc-shared.log"))"
readelf -d "$tmp/db_shared" | grep -q "NEEDED.*\[$soname\]"
ok $? "db_example needs $soname"
LD_LIBRARY_PATH=$libdir ldd "$tmp/db_shared" | grep -q "$libdir/$soname"
ok $? "with LD_LIBRARY_PATH it loads the staged $soname"

# ... and against the static one: libsluice.a, then the libraries it needs
# (sluice.pc's Requires.private and Libs.private) linked as shared ones.
# `pkg-config --static` would also ask for libpq's own static dependencies
# (-lgssapi_krb5, -lldap, ...), which Debian's libpq-dev does not carry.
requires=$(pkg-config --print-requires-private sluice | awk '{print $1}')
private=$(sed -n 's/^Libs.private: *//p' "$pc")
"$cc" -std=c17 -Wall -Wextra -Werror "${extra[@]}" "$src/examples/db_example.c" \
  -o "$tmp/db_static" $cflags "$libdir/libsluice.a" \
  $(pkg-config --libs $requires) $private 2>"$tmp/cc-static.log"
ok $? "cc db_example.c libsluice.a ($(head -c 300 "$tmp/cc-static.log"))"
! readelf -d "$tmp/db_static" | grep -q "NEEDED.*libsluice"
ok $? "the static db_example needs no libsluice.so"

# A plugin built out of tree against the installed sluice/plugin.h only
# (no sluice library linked), loaded by the installed sluice.
"$cc" -std=c17 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden \
  "${extra[@]}" -I"$prefix/include" "$src/examples/plugins/sample.c" \
  -o "$tmp/libsample.so" >"$tmp/cc-plugin.log" 2>&1
ok $? "cc -shared examples/plugins/sample.c against the installed plugin.h ($(head -c 300 "$tmp/cc-plugin.log"))"
(cd "$tmp" && "$prefix/bin/sluice" run --plugin ./libsample.so \
  "$src/examples/plugins/pipeline.yaml" -t sample-jsonl:plugin.jsonl -q \
  >"$tmp/plugin.log" 2>&1)
ok $? "the installed sluice runs it ($(head -c 300 "$tmp/plugin.log"))"
is "$(grep -c '^{"node"' "$tmp/plugin.jsonl")" 7 "and its target got the graph's 7 nodes"

# Run both, as tests/test_db_example.sh runs the in-tree one.
kinds="sqlite"
[ -n "${SLUICE_TEST_PGDIR:-}" ] && kinds="sqlite postgres"
for kind in $kinds; do
  LD_LIBRARY_PATH=$libdir bash "$src/tests/test_db_example.sh" "$tmp/db_shared" "$kind" \
    >"$tmp/run.log" 2>&1
  ok $? "db_example on libsluice.so, $kind"
  sed 's/^/#   /' "$tmp/run.log"
  bash "$src/tests/test_db_example.sh" "$tmp/db_static" "$kind" >"$tmp/run.log" 2>&1
  ok $? "db_example on libsluice.a, $kind"
  sed 's/^/#   /' "$tmp/run.log"
done
done_testing
