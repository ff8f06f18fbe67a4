#!/bin/sh
# Opens the pkgdown site's reference index in headless Chromium and checks
# that it lists every export in NAMESPACE, and that the article rendered.
set -eu
index="docs/reference/index.html"
[ -f "$index" ] || { echo "no $index: run pkgdown first" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "chromium is not installed" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
render() {
  "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --virtual-time-budget=2000 --dump-dom "file://$PWD/$1" 2>/dev/null
}
dom=$(render "$index")
missing=0
for export in $(sed -n 's/^export(\(.*\))$/\1/p' NAMESPACE); do
  if printf '%s' "$dom" | grep -q "$export()"; then
    echo "listed: $export()"
  else
    echo "MISSING from the reference index: $export()"; missing=1
  fi
done
article=$(render docs/articles/rwbridge.html)
printf '%s' "$article" | grep -q "five hand-built bridges" || { echo "the article did not render"; missing=1; }
[ "$missing" -eq 0 ] && echo "site OK: every export listed, article rendered"
exit "$missing"
