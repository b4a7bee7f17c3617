#!/usr/bin/env bash
# Builds teiten from scratch four ways and runs every test: a release
# build (built only, as the demo builds it: -O3 finds other warnings), a
# plain build (warnings are errors), an AddressSanitizer +
# UndefinedBehaviorSanitizer build, and a clang libFuzzer build whose
# fuzzers run FUZZ_SECONDS each (default 30), after a clang-format check of
# every C file.  Ends with one line "N passed, N failed" summed from
# meson's summaries, the release build and the fuzz runs.  Run as root on
# Debian 12 (the live capture test needs network namespaces).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bash contrib/setup-debian.sh --test || exit 1

out=build-ci
rm -rf "$out"
mkdir -p "$out"
passed=0
failed=0
skipped=0
fuzz_seconds=${FUZZ_SECONDS:-30}
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# Adds meson's "Ok:" to passed and every kind of failure to failed.
tally() {
	local log=$1 ok bad
	ok=$(awk '/^Ok:/ {print $2}' "$log" | tail -n 1)
	skipped=$((skipped + $(awk '/^Skipped:/ {s += $2} END {print s + 0}' "$log")))
	bad=$(awk '/^(Fail|Unexpected Pass|Timeout):/ {s += $NF} END {print s + 0}' "$log")
	passed=$((passed + ${ok:-0}))
	failed=$((failed + bad))
	[ -n "$ok" ] || failed=$((failed + 1))	# meson did not even finish
}

run_suite() {
	local name=$1; shift
	echo "== $name build"
	if ! meson setup "$out/$name" "$@" >"$out/$name.setup.log" 2>&1 ||
	    ! ninja -C "$out/$name" >"$out/$name.build.log" 2>&1; then
		cat "$out/$name.setup.log" "$out/$name.build.log" 2>/dev/null | tail -n 40
		failed=$((failed + 1))
		return
	fi
	meson test -C "$out/$name" --print-errorlogs 2>&1 | tee "$out/$name.test.log"
	tally "$out/$name.test.log"
}

echo "== style: clang-format --dry-run on every C file"
# shellcheck disable=SC2046
if clang-format --dry-run -Werror $(git ls-files '*.c' '*.h') 2>"$out/format.log"; then
	passed=$((passed + 1))
else
	head -n 40 "$out/format.log"
	echo "style: FAILED (run clang-format -i on the files above)"
	failed=$((failed + 1))
fi

echo "== release build (-O3, as the demo builds), warnings are errors"
if meson setup "$out/release" -Dbuildtype=release -Dwerror=true \
    >"$out/release.setup.log" 2>&1 &&
    ninja -C "$out/release" >"$out/release.build.log" 2>&1; then
	passed=$((passed + 1))
else
	tail -n 40 "$out/release.setup.log" "$out/release.build.log"
	failed=$((failed + 1))
fi

run_suite plain -Dwerror=true
run_suite asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false

echo "== libFuzzer build (clang), ${fuzz_seconds}s per target"
if CC=clang meson setup "$out/fuzz" -Dfuzzing=true -Dtests=true \
    -Db_sanitize=address,undefined -Db_lundef=false >"$out/fuzz.setup.log" 2>&1 &&
    ninja -C "$out/fuzz" >"$out/fuzz.build.log" 2>&1; then
	nfuzz=0
	for f in "$out"/fuzz/tests/fuzz/fuzz_*; do
		{ [ -x "$f" ] && [ -f "$f" ]; } || continue
		name=${f##*/fuzz_}
		nfuzz=$((nfuzz + 1))
		work=$(mktemp -d)
		if ! cp tests/fuzz/corpus/"$name"/* "$work"/; then
			echo "fuzz $name: no corpus"
			failed=$((failed + 1))
			continue
		fi
		if "$f" -max_total_time="$fuzz_seconds" -max_len=4096 \
		    -artifact_prefix="$out/fuzz-$name-" "$work" \
		    >"$out/fuzz-$name.log" 2>&1; then
			echo "fuzz $name: $(grep -o 'Done [0-9]* runs' "$out/fuzz-$name.log")"
			passed=$((passed + 1))
		else
			tail -n 30 "$out/fuzz-$name.log"
			echo "fuzz $name: FAILED (crash input in $out/fuzz-$name-*)"
			failed=$((failed + 1))
		fi
		rm -rf "$work"
	done
	if [ "$nfuzz" -eq 0 ]; then
		echo "fuzz: no fuzz target was built"
		failed=$((failed + 1))
	fi
else
	tail -n 40 "$out/fuzz.setup.log" "$out/fuzz.build.log"
	failed=$((failed + 1))
fi

[ "$skipped" -eq 0 ] || echo "($skipped tests skipped; see their logs above)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
