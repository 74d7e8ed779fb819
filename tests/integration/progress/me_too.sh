#!/usr/bin/env bash
# "Me too": kid asks for a film; in the next run (one store, one fake
# Seerr) dad says "me too" in the same room and becomes a follower of it,
# without any request of his own. When it is ready both are told, each
# once. Before anything was asked, "me too" gets a question back.
. "$(dirname "$0")/film_env.inc"
drive "$tmp/out1" "$tmp/err1" "say me too" "wait Me too what" "say can you get paddington 2 please" \
	"wait ^usher: Paddington 2 \\(2017\\): waiting" || fail "first run"
sed -i 's/^person = kid$/person = dad/' "$tmp/usher.conf"
drive "$tmp/out2" "$tmp/err2" "say me too please" "wait tell you too" "say +1" "wait already on the list" "sleep 1.5" \
	"run curl -s -m 5 -X POST -d '$seerr_available' http://127.0.0.1:$seerr_port/__fake/routes >/dev/null" \
	"wait @dad Paddington" "sleep 2.5" || fail "second run"
drive "$tmp/out3" "$tmp/err3" "sleep 3" || fail "third run"

cat >"$tmp/want1" <<'EOF'
usher: Me too what? Tell me the film or show and I'll tell you when it's ready.
usher: Requested Paddington 2 (2017) for you. It's waiting for an admin to approve it; I'll keep you posted.
usher: Paddington 2 (2017): waiting for an admin to approve it
EOF
cat >"$tmp/want2" <<'EOF'
usher: OK, I'll tell you too when Paddington 2 (2017) is ready.
usher: You're already on the list: I'll tell you when Paddington 2 (2017) is ready.
usher (edit): Paddington 2 (2017): ready to watch
usher: @kid Paddington 2 (2017) is ready to watch.
usher: @dad Paddington 2 (2017) is ready to watch.
EOF
diff -u "$tmp/want1" "$tmp/out1" || fail "first run's lines"
diff -u "$tmp/want2" "$tmp/out2" || fail "second run's lines"
[ ! -s "$tmp/out3" ] || fail "the third run said something"
posts="$(curl -s -m 5 "http://127.0.0.1:$seerr_port/__fake/requests" | /usr/bin/python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["method"] == "POST" and r["path"] == "/api/v1/request"))')"
[ "$posts" = 1 ] || fail "expected 1 POST (kid's; \"me too\" orders nothing), got $posts"
echo "ok: dad followed kid's film by saying me too"
