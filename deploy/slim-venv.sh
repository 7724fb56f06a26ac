#!/bin/sh
# Trim a virtualenv for the runtime image (run in the Dockerfile's build stage).
# Usage: slim-venv.sh VENV
#
# Removes what a running bot never uses: pip/setuptools/wheel, test suites, C/Cython sources and
# stubs, bytecode, holiday name and Apprise message translations other than English (the bot asks
# for en_US), and strips debug symbols from extension modules when `strip` is available.
set -eu
venv=${1:?usage: slim-venv.sh VENV}
sp=$(ls -d "$venv"/lib/python3*/site-packages)

"$venv/bin/python" -m pip uninstall -q -y setuptools wheel >/dev/null 2>&1 || true
"$venv/bin/python" -m pip uninstall -q -y pip >/dev/null 2>&1 || true
rm -rf "$sp/_distutils_hack" "$sp/distutils-precedence.pth" "$sp/pkg_resources" "$venv"/bin/pip*

find "$sp" -depth -type d \( -name tests -o -name __pycache__ \) -exec rm -rf {} +
find "$sp" -type f \( -name '*.pyc' -o -name '*.pyx' -o -name '*.pxd' -o -name '*.pyi' -o -name '*.c' \
    -o -name '*.h' -o -name '*.cpp' \) -delete

if [ -d "$sp/holidays/locale" ]; then
  find "$sp/holidays/locale" -mindepth 1 -maxdepth 1 -type d ! -name en_US -exec rm -rf {} +
fi

# Apprise (pages beyond Slack): its message translations (the bot writes its own English text).
if [ -d "$sp/apprise/i18n" ]; then
  find "$sp/apprise/i18n" -mindepth 1 -maxdepth 1 -type d ! -name 'en*' -exec rm -rf {} +
  find "$sp/apprise/i18n" -type f -name '*.po*' -delete
fi

if command -v strip >/dev/null 2>&1; then
  find "$sp" -type f -name '*.so*' -exec strip --strip-unneeded {} +
fi
