#!/usr/bin/env bash
# Create .venv and install everything the course needs. Idempotent: re-running is cheap.
#   scripts/setup.sh            Python packages (torch CPU, tensorflow-cpu, the package [torch,seq2seq,timeseries,book,dev], d2l)
#   scripts/setup.sh --browser  also Debian's chromium + fonts-noto-cjk for the browser check
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}              # the CPU wheel on this project's machines
TF_SPEC=${TF_SPEC:-tensorflow-cpu>=2.16,<3}
D2L_SPEC=${D2L_SPEC:-d2l==1.0.3}                      # installed --no-deps: its exact pins break modern stacks
stamp=.venv/.installed
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python -m pip install -q --upgrade pip
  python -m pip install -q "$TORCH_SPEC" "$TF_SPEC"
  python -m pip install -q -e ".[torch,seq2seq,timeseries,book,dev]"
  python -m pip install -q --no-deps "$D2L_SPEC"
  echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--browser" ]; then
  if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
    else
      echo "The browser check needs Debian's chromium and fonts-noto-cjk: sudo apt-get install chromium fonts-noto-cjk" >&2
      exit 1
    fi
  fi
fi
