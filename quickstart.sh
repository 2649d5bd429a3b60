#!/usr/bin/env bash
# quickstart: a first look at takedown on the embedded default.
# Builds takedown, creates two example agencies and an operation in a SQLite
# file, imports the two sample files the repository ships (one CSV, one
# JSON Lines, with overlapping items in different forms and a few bad rows),
# shows what deduplication made of them, refers them to their providers,
# makes a coordinator to sign in as, and serves the UI and the API until Ctrl-C.
# Safe to run again: nothing is imported twice.
set -euo pipefail
cd "$(dirname "$0")"
db=${TAKEDOWN_DB:-quickstart.db}
listen=${TAKEDOWN_LISTEN:-127.0.0.1:8080}
mkdir -p bin
go build -o bin/takedown ./cmd/takedown
td() { ./bin/takedown --db "$db" "$@"; }

td agency add aa-iru --name "Example referral unit A" --country NL 2>/dev/null || true
td agency add bb-iru --name "Example referral unit B" --country BE 2>/dev/null || true
# The example items are invented URLs on real platforms' domains: nothing
# may fetch them, so this operation refers without evidence captures
# (an operation's default is to capture every item before its referral).
td operation create rad-example --name "Example referral action day" --agencies aa-iru,bb-iru --evidence off 2>/dev/null || true

echo; echo "== importing examples/agency-a.csv as aa-iru"
td import --operation rad-example --agency aa-iru --errors bin/agency-a-rejected.csv examples/agency-a.csv
echo; echo "== importing examples/agency-b.jsonl as bb-iru"
td import --operation rad-example --agency bb-iru --errors bin/agency-b-rejected.csv examples/agency-b.jsonl
echo; echo "== the items of rad-example"
td items list --operation rad-example
echo; echo "== referring them, one batch per provider (the built-in providers have no contacts yet: the portal only)"
td refer --operation rad-example
td referrals list --operation rad-example

# A coordinator of aa-iru who also administers, with a password for the UI
# and a token for the API; both new on every run.
password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
if ! printf '%s\n' "$password" | td user add coordinator --roles coordinator,admin --agency aa-iru --password-stdin 2>/dev/null; then
	printf '%s\n' "$password" | td user set coordinator --password-stdin >/dev/null
fi
token=$(td token create --user coordinator --scope write --expires 1d --name quickstart 2>/dev/null)
echo
echo "== serving on http://$listen (Ctrl-C stops)"
echo "   UI:  http://$listen/  sign in as coordinator, password $password"
echo "   API: curl -s -H 'Authorization: Bearer $token' http://$listen/api/v1/operations/rad-example/items | head -c 600"
echo "        curl -s -H 'Authorization: Bearer $token' 'http://$listen/api/v1/recognize?url=https://telegram.me/s/Some_Channel?utm_source=x'"
exec ./bin/takedown --db "$db" serve --listen "$listen"
