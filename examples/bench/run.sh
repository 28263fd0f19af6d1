#!/usr/bin/env bash
# The bayesl vs PyTorch speed harness (see examples/bench/README.md).
#
#   bash examples/bench/run.sh            # full run, ~25 min on 2 cores
#   bash examples/bench/run.sh --quick    # smoke test, ~1 min, results in $TMPDIR
#   bash examples/bench/run.sh --quick --no-torch   # bayesl side only (CI)
#
# Other flags go to `bench drive` (e.g. --reps 7, --threads 1,
# --only mcycle,digits, --scaling=false). It builds the harness twice (the
# default pure-Go build and -tags openblas), installs Debian's python3-torch
# and libopenblas-dev when they are missing (root needed then), and writes
# results.json, summary.md, scaling.csv and scaling.png to
# examples/bench/results (a --quick run to $TMPDIR/bayesl-bench-quick).
set -euo pipefail
cd "$(dirname "$0")/../.."
export GOFLAGS=-buildvcs=false

torch=/usr/bin/python3
for a in "$@"; do [[ $a == --no-torch ]] && torch=""; done
need=()
[[ -z $torch ]] || /usr/bin/python3 -c 'import torch' 2>/dev/null || need+=(python3-torch)
pkg-config --exists openblas 2>/dev/null || need+=(libopenblas-dev pkg-config)
if ((${#need[@]})); then
	echo "== installing ${need[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
echo "== building the harness (pure Go and -tags openblas)" >&2
go build -o "$bin/bench-go" ./examples/bench
go build -tags openblas -o "$bin/bench-openblas" ./examples/bench

args=()
for a in "$@"; do
	case "$a" in
	--no-torch) ;;
	--*) args+=("-${a#--}") ;;
	*) args+=("$a") ;;
	esac
done
"$bin/bench-go" drive -go "$bin/bench-go" -openblas "$bin/bench-openblas" -python "$torch" "${args[@]}"
