#!/usr/bin/env bash
# Two people follow one film. The console has one person per run, so this
# uses two runs on one store and one fake Seerr: kid asks first (tracked,
# waiting for approval); in the next run dad asks for the same film, Seerr
# says it is already requested, and dad becomes a follower of the same
# tracked title (no second progress message). When it is ready both are
# told, each by name, exactly once.
# usher finds kid's request itself (cmd_request.c existing_done: "was
# already requested by Kid ... I'll keep you posted"), so dad must be made
# a follower there; this test fails while that promise is not kept.
. "$(dirname "$0")/film_env.inc"

drive "$tmp/out1" "$tmp/err1" "say can you get paddington 2 please" "wait ^usher: Paddington 2 \\(2017\\): waiting" || fail "first run"
sed -i 's/^person = kid$/person = dad/' "$tmp/usher.conf"
drive "$tmp/out2" "$tmp/err2" "say get paddington 2" "wait already requested" "sleep 2.5" \
	"run curl -s -m 5 -X POST -d '$seerr_available' http://127.0.0.1:$seerr_port/__fake/routes >/dev/null" \
	"wait @kid Paddington" "sleep 2.5" || fail "second run"
drive "$tmp/out3" "$tmp/err3" "sleep 3" || fail "third run"

cat >"$tmp/want1" <<'EOF'
usher: Requested Paddington 2 (2017) for you. It's waiting for an admin to approve it; I'll keep you posted.
usher: Paddington 2 (2017): waiting for an admin to approve it
EOF
# The edit is kid's message (the console shows every room in one stream).
cat >"$tmp/want2" <<'EOF'
usher: Paddington 2 (2017) was already requested by Kid and is waiting for approval. I'll keep you posted.
usher (edit): Paddington 2 (2017): ready to watch
usher: @kid Paddington 2 (2017) is ready to watch.
usher: @dad Paddington 2 (2017) is ready to watch.
EOF
diff -u "$tmp/want1" "$tmp/out1" || fail "first run's lines"
diff -u "$tmp/want2" "$tmp/out2" || fail "second run's lines (no '@dad ... is ready': dad was told 'I'll keep you posted' but is not a follower)"
[ ! -s "$tmp/out3" ] || fail "the third run said something"
posts="$(curl -s -m 5 "http://127.0.0.1:$seerr_port/__fake/requests" | /usr/bin/python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["method"] == "POST" and r["path"] == "/api/v1/request"))')"
[ "$posts" = 1 ] || fail "expected 1 POST (kid's; dad's ask is answered from Seerr's list), got $posts"
echo "ok: one tracked title, two people told"
