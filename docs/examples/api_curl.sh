#!/bin/sh
# The qa JSON API with curl: search, list documents, read one, health.
# QA_URL defaults to http://127.0.0.1:7860; with `qa serve --auth USER:PASSWORD` set QA_AUTH=USER:PASSWORD.
set -eu
URL="${QA_URL:-http://127.0.0.1:7860}"
AUTH="${QA_AUTH:+--user $QA_AUTH}"

curl -sS --fail $AUTH -X POST "$URL/api/v1/search" -H 'Content-Type: application/json' \
  -d '{"question": "How many US soldiers died in May?", "k": 3}'
echo
curl -sS --fail $AUTH -X POST "$URL/api/v1/search" -H 'Content-Type: application/json' \
  -d '{"questions": ["who was nominated prime minister"], "mode": "bm25",
       "filters": {"doc": ["000_39ae44cc0e79be58.txt"]}}'
echo
curl -sS --fail $AUTH "$URL/api/v1/documents"
echo
curl -sS --fail $AUTH "$URL/api/v1/documents/004_1d47129261bda866.txt"
echo
curl -sS --fail $AUTH "$URL/api/v1/health"
echo
