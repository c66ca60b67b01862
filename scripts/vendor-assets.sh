#!/usr/bin/env bash
# Copies the UI's front-end libraries from npm (package-lock.json pins them) into
# server/static/vendor/, so the server ships them and never loads anything from a CDN.
# The copies are committed: a clean clone serves the UI offline without npm.
set -euo pipefail
cd "$(dirname "$0")/.."

npm ci --no-audit --no-fund --ignore-scripts

vendor=server/static/vendor
rm -rf "$vendor"
mkdir -p "$vendor/codemirror" "$vendor/cytoscape"

cm=node_modules/codemirror
cp "$cm/lib/codemirror.js" "$cm/lib/codemirror.css" \
   "$cm/mode/sparql/sparql.js" \
   "$cm/addon/hint/show-hint.js" "$cm/addon/hint/show-hint.css" \
   "$cm/addon/edit/matchbrackets.js" \
   "$cm/LICENSE" "$vendor/codemirror/"
cp node_modules/cytoscape/dist/cytoscape.min.js node_modules/cytoscape/LICENSE "$vendor/cytoscape/"

# The manifest records which release each file came from and its digest, so a review
# of a refresh sees exactly what changed.
{
    for pkg in codemirror cytoscape; do
        version=$(node -p "require('./node_modules/$pkg/package.json').version")
        echo "# $pkg $version (npm)"
        (cd "$vendor" && sha256sum "$pkg"/*)
    done
} > "$vendor/MANIFEST"
echo "vendored into $vendor:" >&2
cat "$vendor/MANIFEST" >&2
