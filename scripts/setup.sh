#!/usr/bin/env bash
# Create .venv and install everything the course needs. Idempotent: re-running is cheap.
#   scripts/setup.sh            Python packages (torch, tensorflow-cpu, the package [torch,seq2seq,timeseries,book,dev], d2l)
#   scripts/setup.sh --browser  also Debian's chromium + fonts-noto-cjk for the browser check
#   GPU=1 scripts/setup.sh      a CUDA machine: TensorFlow with its CUDA libraries (tensorflow[and-cuda])
#                               instead of tensorflow-cpu, so that the TF/Keras parts run on the GPU too
#                               (same as TF_SPEC='tensorflow[and-cuda]>=2.16,<3' scripts/setup.sh)
#
# What torch==2.13.0 gets: pip takes the first wheel that satisfies it.  On this project's machines
# pip's configured wheel folder holds torch-2.13.0+cpu, the CPU-only build.  Elsewhere on Linux x86-64
# PyPI's torch 2.13.0 is the CUDA build (it pulls the nvidia-* libraries, a few GB); on macOS it is
# the build with Apple MPS.  With GPU=1 the script warns if the torch it installed cannot use CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}              # CPU wheel here, CUDA build from PyPI on Linux (see above)
GPU=${GPU:-0}
if [ "$GPU" = 1 ]; then
  TF_SPEC=${TF_SPEC:-tensorflow[and-cuda]>=2.16,<3}
else
  TF_SPEC=${TF_SPEC:-tensorflow-cpu>=2.16,<3}
fi
D2L_SPEC=${D2L_SPEC:-d2l==1.0.3}                      # installed --no-deps: its exact pins break modern stacks
stamp=.venv/.installed
want="$( (cat pyproject.toml scripts/setup.sh; echo "$TORCH_SPEC $TF_SPEC $D2L_SPEC") | sha256sum | cut -c1-16)"

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python -m pip install -q --upgrade pip
  case "$TF_SPEC" in  # tensorflow-cpu and tensorflow install the same module: keep only one
    tensorflow-cpu*) python -m pip uninstall -q -y tensorflow >/dev/null 2>&1 || true ;;
    *) python -m pip uninstall -q -y tensorflow-cpu >/dev/null 2>&1 || true ;;
  esac
  python -m pip install -q "$TORCH_SPEC" "$TF_SPEC"
  python -m pip install -q -e ".[torch,seq2seq,timeseries,book,dev]"
  python -m pip install -q --no-deps "$D2L_SPEC"
  echo "$want" > "$stamp"
fi
if [ "$GPU" = 1 ] && ! python -c "import torch, sys; sys.exit(torch.version.cuda is None)"; then
  echo "GPU=1: the installed torch ($(python -c 'import torch; print(torch.__version__)')) is a CPU-only build" \
       "(a local wheel folder with a +cpu wheel?); install a CUDA build of $TORCH_SPEC and rerun" >&2
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
