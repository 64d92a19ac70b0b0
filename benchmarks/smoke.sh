#!/usr/bin/env bash
# Every benchmark once at a tiny size, so that none of them rots: seconds, not figures.
# Run by tests/run-all.sh (and so by CI) after the tests, against the same PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")"
py=../.venv/bin/python
run() { echo "== benchmarks: $*"; "$py" "$@" > /dev/null; }
run registration_rush.py --requests 40 --clients 4 --seats 10 --rate 40 --rounds 1
run registration_rush.py --requests 40 --clients 4 --seats 10 --rate 40 --rounds 1 --organizations 5 --limit 2
run registration_rush.py --requests 40 --clients 4 --seats 10 --rate 40 --rounds 1 --sessions 1
run request_overhead.py --requests 100 --clients 4 --rounds 1
run mail_dispatch.py --emails 200 --rounds 1 --events 2
run offer_expiry.py --offers 50
run report_release.py --registrations 50 --seats 10
run retention.py --registrations 60
run messages_certificates.py --recipients 20 --certificates 2
run calendar_feed.py --events 10 --requests 40 --clients 4
run profile_registration.py --registrations 20
run scale.py --events 2 --registrations 60 --clients 6 --emails 200
echo "== benchmarks: all ran"
