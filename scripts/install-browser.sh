#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/browser): the `chromium` and
# `chromium-driver` packages; Playwright launches it with executable_path=/usr/bin/chromium.
# No browser is downloaded by Playwright (`playwright install` is never used). Also installs a
# Chinese font (fonts-wqy-zenhei) when none is present, so the screenshots the tests take are
# readable; the tests themselves read text from the DOM and do not need it.
#
# Does nothing when everything is present. Otherwise installs with apt-get, non-interactively;
# runs `apt-get update` only when the package lists do not know a package yet; uses sudo only
# when not root. Exits non-zero when Chromium cannot be installed.
set -euo pipefail

CHROMIUM=${REVIVE_CHROMIUM:-/usr/bin/chromium}
FONT_PACKAGE=fonts-wqy-zenhei

packages=()
if [ ! -x "$CHROMIUM" ]; then
  packages+=(chromium chromium-driver)
fi
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
  packages+=("$FONT_PACKAGE")
fi
if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: apt-get is not available; install ${packages[*]} yourself" \
    "(the browser tests need Chromium at $CHROMIUM)" >&2
  [ -x "$CHROMIUM" ]  # a missing font alone is not an error
  exit
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-browser: not root and sudo is not available; as root run:" \
      "apt-get install ${packages[*]}" >&2
    exit 1
  fi
  SUDO=(sudo)
  [ -t 0 ] || SUDO+=(-n)  # no terminal to ask for a password on: fail instead of hanging
fi

export DEBIAN_FRONTEND=noninteractive

# Known to the package lists = apt-cache shows a candidate version other than "(none)".
known() {
  local candidate
  candidate=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
  [ -n "$candidate" ] && [ "$candidate" != "(none)" ]
}

for package in "${packages[@]}"; do
  if ! known "$package"; then
    echo "install-browser: apt-get update (package lists do not know $package yet)"
    "${SUDO[@]}" apt-get update -q
    break
  fi
done

echo "install-browser: apt-get install ${packages[*]}"
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"

if [ ! -x "$CHROMIUM" ]; then
  echo "install-browser: installed, but $CHROMIUM is still missing" >&2
  exit 1
fi
"$CHROMIUM" --version 2>/dev/null || true
