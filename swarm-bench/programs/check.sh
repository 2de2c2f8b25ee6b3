#!/bin/sh
# Cross-checks the kernels against checksums.tsv (expected run(seed) for
# seeds 0..3), without using the checked-in .wasm files' host:
#
#  1. native: each program's sources and kernel.c are compiled for the host
#     (clang -O2, build.args without its -Wl, lines) with a small main that
#     calls run(0..3), then run(1) and run(3) again;
#  2. wasm-interp (wabt), if installed: the program is built for wasm32 with
#     the common flags plus -Wl,--stack-first (a stack overflow then traps
#     instead of corrupting data) and extra exports check0..check3,
#     recheck1 and recheck3 that call run; the checked-in .wasm is also
#     checked for having no imports.
#
# Usage: check.sh [name...]        (default: every directory with build.args)
# Environment: CC_NATIVE (default clang-14), CC (default clang-14).
set -eu

CC=${CC:-clang-14}
CC_NATIVE=${CC_NATIVE:-clang-14}


here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/main.c" <<'C'
#include <stdio.h>
long long run(int);
int main(void)
{
    int s;
    for (s = 0; s < 4; s++)
        printf("%d %lld\n", s, run(s));
    printf("1 %lld\n", run(1));
    printf("3 %lld\n", run(3));
    return 0;
}
C
cat > "$tmp/exports.c" <<'C'
long long run(int);
#define E(n, s) __attribute__((export_name(#n))) long long n(void) { return run(s); }
E(check0, 0) E(check1, 1) E(check2, 2) E(check3, 3) E(recheck1, 1) E(recheck3, 3)
C
"$CC_NATIVE" -O2 -c -o "$tmp/main.o" "$tmp/main.c"

if [ "$#" -eq 0 ]; then
    for args in "$here"/*/build.args; do
        set -- "$@" "$(basename "$(dirname "$args")")"
    done
fi

have_interp=0
command -v wasm-interp >/dev/null 2>&1 && have_interp=1

status=0
for name in "$@"; do
    dir="$here/$name"
    grep -v '^-Wl,' "$dir/build.args" > "$tmp/$name.native.args"
    awk -v n="$name" -F'\t' '$1 == n { print $2, $3 }' "$here/checksums.tsv" > "$tmp/$name.expected"
    awk -v n="$name" -F'\t' '$1 == n && ($2 == 1 || $2 == 3) { print $2, $3 }' \
        "$here/checksums.tsv" >> "$tmp/$name.expected"

    (cd "$dir" && "$CC_NATIVE" -O2 -w -o "$tmp/$name.native" @"$tmp/$name.native.args" "$tmp/main.o")
    "$tmp/$name.native" > "$tmp/$name.native.out"
    if cmp -s "$tmp/$name.native.out" "$tmp/$name.expected"; then
        echo "$name: native OK"
    else
        echo "$name: native MISMATCH"; diff "$tmp/$name.expected" "$tmp/$name.native.out" || true
        status=1
    fi

    if [ "$have_interp" = 1 ]; then
        if wasm-objdump -x -j Import "$dir/$name.wasm" 2>&1 | grep -q -- '<-'; then
            echo "$name: $name.wasm HAS IMPORTS"; status=1
        fi
        # shellcheck disable=SC2086
        (cd "$dir" && "$CC" @"$here/common.args" -o "$tmp/$name.check.wasm" @build.args \
            -Wl,--stack-first "$tmp/exports.c")
        wasm-interp "$tmp/$name.check.wasm" --run-all-exports 2>&1 \
            | sed -n 's/^[a-z]*check\([0-9]\)() => i64:\([0-9]*\)$/\1 \2/p' \
            | while read -r s v; do
                # wasm-interp prints i64 results as unsigned
                v=$(echo "x = $v; if (x > 9223372036854775807) x = x - 18446744073709551616; x" | bc)
                echo "$s $v"
            done > "$tmp/$name.wasm.out"
        if cmp -s "$tmp/$name.wasm.out" "$tmp/$name.expected"; then
            echo "$name: wasm-interp OK"
        else
            echo "$name: wasm-interp MISMATCH"; diff "$tmp/$name.expected" "$tmp/$name.wasm.out" || true
            status=1
        fi
    fi
done
exit $status
