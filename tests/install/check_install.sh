#!/bin/sh
# check_install.sh BUILD_DIR - install into a temporary prefix, then build
# and run a program against the installed libyard through pkg-config: the
# public headers are self-contained and the library exports what they name,
# and only yard_ symbols.
set -eu
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name yard.pc | head -n 1)")
[ -n "$pcdir" ] || { echo "no yard.pc installed"; exit 1; }
cat > "$prefix/use.c" <<'C'
#include <stdio.h>
#include <yard/yard.h>
#include <yard/models.h>
#include <yard/pipelines.h>
int
main (void)
{
    yard_job_spec_t spec = { 0 };
    (void)spec;
    /* a client with nowhere to go: created, never connected */
    printf ("%s\n", yard_job_state_str (YARD_JOB_COMPLETED));
    return 0;
}
C
export PKG_CONFIG_PATH="$pcdir"
# a sanitizer build's library needs its runtime first in the program
san=
if ldd "$(pkg-config --variable=libdir yard)/libyard.so" | grep -q libasan; then
  san="-fsanitize=address,undefined"
fi
cc -std=c11 -Wall -Werror $san $(pkg-config --cflags yard) "$prefix/use.c" \
  -o "$prefix/use" $(pkg-config --libs yard)
out=$(LD_LIBRARY_PATH="$(pkg-config --variable=libdir yard)" "$prefix/use")
[ "$out" = "COMPLETED" ] || { echo "unexpected output: $out"; exit 1; }
# only yard_ symbols are exported (the internals stay hidden)
lib="$(pkg-config --variable=libdir yard)/libyard.so"
others=$(nm -D --defined-only "$lib" | awk '$3 !~ /^yard_/ {print $3}')
[ -z "$others" ] || { echo "libyard exports non-yard_ symbols:" $others; exit 1; }
nm -D --defined-only "$lib" | grep -q ' T yard_pipeline_explain$' \
  || { echo "libyard does not export yard_pipeline_explain"; exit 1; }
for b in yard yard-scheduler yard-worker yard-drift; do
  [ -x "$prefix/bin/$b" ] || { echo "$b not installed"; exit 1; }
done
echo "installed libyard builds and links through pkg-config"
