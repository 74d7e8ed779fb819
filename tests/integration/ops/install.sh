#!/usr/bin/env bash
# `cmake --install` into a temporary prefix gives a usher that works from
# there with cwd=/ (grammars, prompts and the demo found under the prefix,
# not in the source tree), a man page that renders and names every command
# `usher --help` lists, and a systemd unit pointing at the installed binary
# that `systemd-analyze verify` accepts (when systemd-analyze exists).
set -euo pipefail
usher="$1"
src="$2"
build="$(dirname "$usher")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
fail() { echo "FAIL: $*"; [ -f "$tmp/out" ] && { echo "--- output"; cat "$tmp/out"; }; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$tmp/out" 2>&1 || fail "cmake --install failed"
for f in bin/usher share/usher/grammars/en.grammar share/usher/prompts/intent.md \
	share/usher/prompts/intent.schema.json share/usher/contrib/demo/demo_services.py \
	share/man/man1/usher.1 share/doc/usher/usher.conf.example share/doc/usher/usher.service; do
	[ -f "$prefix/$f" ] || fail "not installed: $f"
done
[ -x "$prefix/bin/usher" ] || fail "bin/usher is not executable"
[ ! -e "$prefix/lib/systemd" ] || fail "a unit under lib/systemd outside the /usr prefix"

# A distribution-style install puts the unit where systemd looks.
DESTDIR="$tmp/dest" cmake --install "$build" --prefix /usr >"$tmp/out" 2>&1 ||
	fail "cmake --install --prefix /usr failed"
[ -f "$tmp/dest/usr/lib/systemd/system/usher.service" ] || fail "no unit under /usr/lib/systemd"
grep -q '^ExecStart=/usr/bin/usher run ' "$tmp/dest/usr/lib/systemd/system/usher.service" ||
	fail "the /usr unit does not start /usr/bin/usher"

cd /
"$prefix/bin/usher" --version >"$tmp/out" 2>&1 || fail "--version"
"$prefix/bin/usher" parse "get dune" >"$tmp/out" 2>&1 || fail "usher parse failed"
grep -q '^request any "dune"' "$tmp/out" || fail "usher parse did not understand 'get dune'"

# The demo runs from the prefix's data folder...
mark="usher-install-test-$$-$RANDOM"
printf 'help\n' | USHER_TEST_MARK="$mark" timeout 60 "$prefix/bin/usher" demo --speed 10 \
	>"$tmp/out" 2>&1 || fail "usher demo from the prefix failed"
grep -q '^usher: I fetch films and shows' "$tmp/out" || fail "no help reply from the demo"
# ... and only from there: without it the installed usher does not fall
# back to the source tree it was built from.
rm -r "$prefix/share/usher/contrib/demo"
set +e
printf 'help\n' | USHER_TEST_MARK="$mark" timeout 60 "$prefix/bin/usher" demo --speed 10 \
	>"$tmp/out" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "the demo ran without its installed files"
grep -q 'cannot find the demo services' "$tmp/out" || fail "no plain error for missing data"
grep -q "$src" "$tmp/out" && fail "the installed usher looked in the source tree"

# The man page renders without warnings and documents every command.
page="$prefix/share/man/man1/usher.1"
if command -v man >/dev/null; then
	LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$page" >"$tmp/man" 2>"$tmp/manerr" ||
		fail "man -l failed: $(cat "$tmp/manerr")"
else
	groff -man -Tutf8 -ww "$page" >"$tmp/man" 2>"$tmp/manerr" || fail "groff failed"
fi
[ ! -s "$tmp/manerr" ] || fail "the man page has warnings: $(cat "$tmp/manerr")"
for section in NAME SYNOPSIS COMMANDS OPTIONS ENVIRONMENT FILES SIGNALS "EXIT STATUS"; do
	grep -q "^$section" "$tmp/man" || fail "man page has no $section section"
done
# Every command and option in `usher --help` appears in the page.
"$prefix/bin/usher" --help >"$tmp/help"
words="$(grep -oE '^  [a-z-]+|--[a-z-]+' "$tmp/help" | tr -d ' ' | sort -u)"
[ -n "$words" ] || fail "nothing read from usher --help"
for w in $words; do
	grep -qe "$w" "$tmp/man" || fail "man page does not mention $w"
done

if command -v systemd-analyze >/dev/null; then
	# Verified as installed: ExecStart names the installed binary.
	systemd-analyze verify "$prefix/share/doc/usher/usher.service" >"$tmp/out" 2>&1 ||
		fail "systemd-analyze verify"
	[ ! -s "$tmp/out" ] || fail "systemd-analyze verify printed warnings"
fi
echo "ok: installed into $prefix and ran from there"
