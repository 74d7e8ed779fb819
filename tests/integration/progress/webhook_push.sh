#!/usr/bin/env bash
# Seerr's webhook brings "ready" long before the next poll: polls here are
# five minutes apart, yet the person hears "ready" seconds after Seerr
# pushes MEDIA_AVAILABLE. A push with a wrong or missing secret changes
# nothing: it is refused (401), logged without the secret, and the person
# hears nothing until the right one comes.
. "$(dirname "$0")/film_env.inc"
port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
secret="Bearer hook-secret-7f3a9c51"
export USHER_PROGRESS_INTERVAL_S=300 USHER_HTTP_LISTEN="127.0.0.1:$port"
export USHER_SEERR_WEBHOOK_SECRET="$secret"

# Seerr's default webhook template, for Paddington 2 (request 1).
cat >"$tmp/available.json" <<'JSON'
{"notification_type":"MEDIA_AVAILABLE","event":"Movie Request Now Available","subject":"Paddington 2 (2017)",
 "message":"Paddington, now happily settled with the Brown family…","image":"",
 "media":{"media_type":"movie","tmdbId":"346648","tvdbId":"","status":"AVAILABLE","status4k":"UNKNOWN"},
 "request":{"request_id":"1","requestedBy_email":"kid@example.org","requestedBy_username":"kid",
            "requestedBy_avatar":"","requestedBy_settings_discordId":"","requestedBy_settings_telegramChatId":""},
 "issue":null,"comment":null,"extra":[]}
JSON
# push EXPECTED_CODE [AUTHORIZATION]: fails unless usher answers EXPECTED_CODE.
cat >"$tmp/push" <<SH
#!/usr/bin/env bash
auth=()
[ \$# -gt 1 ] && auth=(-H "Authorization: \$2")
code="\$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \\
	"\${auth[@]}" --data-binary @"$tmp/available.json" "http://127.0.0.1:$port/webhook/seerr")"
[ "\$code" = "\$1" ] || { echo "webhook answered \$code, expected \$1"; exit 1; }
SH
# quiet: fails when usher already said the film is ready.
cat >"$tmp/quiet" <<SH
#!/usr/bin/env bash
! grep -q 'ready to watch' "$tmp/out" || { echo "ready before the webhook"; exit 1; }
SH
chmod +x "$tmp/push" "$tmp/quiet"

drive "$tmp/out" "$tmp/err" "say can you get paddington 2 please" \
	"wait ^usher: Paddington 2 \\(2017\\): waiting" \
	"run curl -s -m 5 -X POST -d '$seerr_available' http://127.0.0.1:$seerr_port/__fake/routes >/dev/null" \
	"sleep 2" "run $tmp/quiet" \
	"run $tmp/push 401" "run $tmp/push 401 'Bearer hook-secret-wrong'" \
	"run $tmp/push 401 '$secret-and-more'" \
	"sleep 2" "run $tmp/quiet" \
	"run $tmp/push 204 '$secret'" \
	"wait @kid Paddington 2 \\(2017\\) is ready to watch" "sleep 1" || fail "the run"

cat >"$tmp/want" <<'EOF'
usher: Requested Paddington 2 (2017) for you. It's waiting for an admin to approve it; I'll keep you posted.
usher: Paddington 2 (2017): waiting for an admin to approve it
usher (edit): Paddington 2 (2017): ready to watch
usher: @kid Paddington 2 (2017) is ready to watch.
EOF
diff -u "$tmp/want" "$tmp/out" || fail "what kid saw"
[ "$(grep -c 'no Authorization header' "$tmp/err")" = 1 ] || fail "the push without a secret was not logged once"
[ "$(grep -c 'wrong Authorization header' "$tmp/err")" = 2 ] || fail "the pushes with a wrong secret were not logged"
[ "$(grep -c 'info: webhook: MEDIA_AVAILABLE$' "$tmp/err")" = 1 ] || fail "the right push was not taken once"
! grep -q 'hook-secret' "$tmp/out" "$tmp/err" || fail "a secret reached usher's output"
echo "ok: ready seconds after the push, five minutes before the poll; wrong secrets refused"
