#!/usr/bin/env bash
# `usher --log-format json`: a console conversation (the demo's services,
# at debug level so that every kind of line shows up) writes nothing to
# stderr but JSON objects, one a line, each with ts and level and either
# msg or event; the API keys in the config never show up.
set -euo pipefail
usher="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "--- stderr"; cat "$tmp/err"; exit 1; }

cd "$tmp"
printf '%s\n' 'get dune' '3' 'whats downloading' 'get "the \\ odd" one' 'help' |
	USHER_USHER_LOG_LEVEL=debug timeout 60 "$usher" --log-format json demo --speed 10 \
		>"$tmp/out" 2>"$tmp/err" || fail "usher exited $?"
grep -q '^usher: ' "$tmp/out" || fail "no replies"
/usr/bin/python3 - "$tmp/err" <<'PY' || fail "stderr is not one JSON object per line"
import json, re, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b"", "no newline at the end"
lines = lines[:-1]
assert len(lines) >= 5, f"only {len(lines)} lines at debug level"
levels = set()
for raw in lines:
    o = json.loads(raw.decode("utf-8"))
    assert isinstance(o, dict), raw
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["ts"]), raw
    assert o["level"] in ("error", "warn", "info", "debug"), raw
    assert isinstance(o.get("msg", o.get("event")), str), raw
    levels.add(o["level"])
assert {"info", "debug"} <= levels, levels
PY
# The demo services' API keys (contrib/demo/demo_services.py) are in the
# config usher reads; none may reach the log.
for key in demo-seerr-key demo-radarr-key demo-sonarr-key; do
	if grep -qF "$key" "$tmp/err"; then fail "an API key reached the log"; fi
done
echo "ok: $(wc -l <"$tmp/err") log lines, all JSON"
