#!/usr/bin/env bash
# The whole conversation against the bundled demo services: a choice, a
# show's seasons, and the requests then listed in "my requests".
set -euo pipefail
usher="$1"
out="$(mktemp)"; err="$(mktemp)"
trap 'rm -f "$out" "$err"' EXIT
printf 'get dune\n2\nadd the bear\njust the latest\nmy requests\n' |
	timeout 60 "$usher" demo --speed 10 >"$out" 2>"$err" || { echo "FAIL: exit $?"; cat "$out" "$err"; exit 1; }
expected='usher: I found 4. Which one?
       1) Dune (2021) · film · already there
       2) Dune (1984) · film
       3) Dune: Part Two (2024) · film
       4) Dune: Prophecy (2024) · show
usher: Requested Dune (1984) for you. I'"'"'ll keep you posted.
usher: The Bear (2022) has 4 seasons. All 4, or just the latest (season 4)?
usher: Requested season 4 of The Bear (2022) for you. I'"'"'ll keep you posted.
usher: Your requests:
       1) The Bear (2022) · being fetched
       2) Dune (1984) · being fetched'
if [ "$(cat "$out")" != "$expected" ]; then
	echo "FAIL: the demo conversation differs"
	diff <(echo "$expected") "$out" || true
	echo "--- stderr"; cat "$err"
	exit 1
fi
echo "ok: the demo conversation went as a person would expect"
