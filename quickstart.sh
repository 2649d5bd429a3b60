#!/usr/bin/env bash
# quickstart: a first look at takedown on the embedded default.
# Builds takedown, creates two example agencies and an operation in a SQLite
# file, imports the two sample files the repository ships (one CSV, one
# JSON Lines, with overlapping items in different forms and a few bad rows),
# shows what deduplication made of them, and serves the API until Ctrl-C.
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
td operation create rad-example --name "Example referral action day" --agencies aa-iru,bb-iru 2>/dev/null || true

echo; echo "== importing examples/agency-a.csv as aa-iru"
td import --operation rad-example --agency aa-iru --errors bin/agency-a-rejected.csv examples/agency-a.csv
echo; echo "== importing examples/agency-b.jsonl as bb-iru"
td import --operation rad-example --agency bb-iru --errors bin/agency-b-rejected.csv examples/agency-b.jsonl
echo; echo "== the items of rad-example"
td items list --operation rad-example
echo
echo "== serving on http://$listen (Ctrl-C stops). Try:"
echo "   curl -s http://$listen/api/v1/operations/rad-example/items | head -c 600"
echo "   curl -s 'http://$listen/api/v1/recognize?url=https://telegram.me/s/Some_Channel?utm_source=x'"
exec ./bin/takedown --db "$db" serve --listen "$listen"
