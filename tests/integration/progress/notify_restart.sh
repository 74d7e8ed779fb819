#!/usr/bin/env bash
# notify = both across restarts: the first run leaves a film waiting for
# approval; the second run finds it ready and says so once in the room and
# once directly; a third run says nothing (neither line again).
KID_NOTIFY=both
. "$(dirname "$0")/film_env.inc"
drive "$tmp/out1" "$tmp/err1" "say can you get paddington 2 please" \
	"wait ^usher: Paddington 2 \\(2017\\): waiting" || fail "first run"
drive "$tmp/out2" "$tmp/err2" "sleep 1.5" \
	"run curl -s -m 5 -X POST -d '$seerr_available' http://127.0.0.1:$seerr_port/__fake/routes >/dev/null" \
	"wait @kid Paddington" "sleep 2.5" || fail "second run"
drive "$tmp/out3" "$tmp/err3" "sleep 3" || fail "third run"

cat >"$tmp/want2" <<'EOF'
usher (edit): Paddington 2 (2017): ready to watch
usher (direct): Paddington 2 (2017) is ready to watch.
usher: @kid Paddington 2 (2017) is ready to watch.
EOF
diff -u "$tmp/want2" "$tmp/out2" || fail "second run's lines"
[ ! -s "$tmp/out3" ] || fail "the third run said something"
echo "ok: told in the room and directly, once, across restarts"
