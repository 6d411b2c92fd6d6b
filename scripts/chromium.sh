#!/usr/bin/env bash
# Debian's Chromium for the console's browser tests (tests/browser, driven by Playwright):
# installs the Debian package where /usr/bin/chromium is missing and exports AMANAH_CHROMIUM.
# Never `playwright install`: it downloads its own browser from a CDN that CI's closed
# network refuses; Debian's package comes from the same mirror as PostgreSQL.
#   sourced (scripts/test.sh):  . scripts/chromium.sh   -> the variable is exported
#   run:                        eval "$(bash scripts/chromium.sh)"   -> prints the export
# The work runs in a subshell with errexit, so sourcing changes no option of the caller's shell.

_amanah_chromium_path=/usr/bin/chromium

_amanah_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

_amanah_chromium_install() {
    if [ ! -x "$_amanah_chromium_path" ]; then
        echo "chromium.sh: installing Chromium (apt-get)" >&2
        _amanah_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        _amanah_as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq chromium >/dev/null
    fi
    if [ ! -x "$_amanah_chromium_path" ]; then
        echo "chromium.sh: the chromium package did not install $_amanah_chromium_path" >&2
        return 1
    fi
}

if ! (set -euo pipefail && _amanah_chromium_install); then
    echo "chromium.sh: no Chromium for the browser tests (see the lines above)" >&2
    return 1 2>/dev/null || exit 1
fi
AMANAH_CHROMIUM=$_amanah_chromium_path
export AMANAH_CHROMIUM
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    echo "export AMANAH_CHROMIUM='$AMANAH_CHROMIUM'"
fi
