#!/usr/bin/env bash
# `make test-all`: the suite (`python -m pytest -q`, warnings as errors) on each Python
# the project claims, in its own virtualenv under .venvs/<version>. Says which ran.
# Fails if a run fails or a REQUIRED version is missing; other missing versions are
# reported and skipped (a developer's machine need not have them all).
#   tools/test-all.sh "3.11 3.12 3.13" "3.11"
set -uo pipefail
cd "$(dirname "$0")/.."
VERSIONS=${1:-"3.11 3.12 3.13"}
REQUIRED=${2-"3.11"}

find_python() {  # an interpreter of version $1 that runs: on PATH, else pyenv's
    local v=$1 candidate
    if "python$v" -c 'pass' >/dev/null 2>&1; then command -v "python$v"; return 0; fi
    if command -v pyenv >/dev/null 2>&1; then
        for candidate in "$(pyenv root)"/versions/"$v".*/bin/"python$v"; do
            if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
        done
    fi
    return 1
}

ran=() failed=() missing=() status=0
for v in $VERSIONS; do
    if ! python=$(find_python "$v"); then
        missing+=("$v")
        case " $REQUIRED " in *" $v "*) status=1 ;; esac
        continue
    fi
    venv=".venvs/$v"
    stamp="$venv/.installed"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        "$python" -m venv "$venv" &&
            "$venv/bin/python" -m pip install -q --upgrade pip &&
            "$venv/bin/python" -m pip install -q -e '.[dev]' &&
            touch "$stamp" || { failed+=("$v (install)"); status=1; continue; }
    fi
    echo "=== Python $v: $("$venv/bin/python" --version 2>&1) ==="
    started=$SECONDS
    if "$venv/bin/python" -m pytest -q; then
        ran+=("$v ($((SECONDS - started)) s)")
    else
        failed+=("$v"); status=1
    fi
done

[ ${#ran[@]} -gt 0 ] || status=1  # nothing ran: nothing was tested

echo
echo "passed on: ${ran[*]:-none}"
[ ${#failed[@]} -eq 0 ] || echo "FAILED on: ${failed[*]}"
[ ${#missing[@]} -eq 0 ] || echo "not on this machine: ${missing[*]} (required: $REQUIRED)"
exit $status
