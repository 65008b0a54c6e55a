#!/bin/sh
# Debian's Chromium with every --disable-features switch joined into one: Chromium honours only the last,
# and Playwright passes a list of its own before the test support's, which would otherwise replace it.
features=''
n=$#
while [ "$n" -gt 0 ]; do
  arg=$1
  shift
  n=$((n - 1))
  case $arg in
    --disable-features=*) features="$features${features:+,}${arg#--disable-features=}" ;;
    *) set -- "$@" "$arg" ;;
  esac
done
if [ -n "$features" ]; then set -- "$@" "--disable-features=$features"; fi
exec /usr/bin/chromium "$@"
