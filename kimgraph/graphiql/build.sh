#!/bin/sh
# Rebuilds kimgraph/graphiql/static/graphiql.{js,css} from the npm registry.
# Every version is pinned in src/package.json and src/package-lock.json, and only
# there; README.md "Upgrading GraphiQL" says how to move them. Needs Node 18+.
# npm works in a temporary folder: no node_modules is ever left in the tree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here"/src/package.json "$here"/src/package-lock.json \
  "$here"/src/entry.js "$here"/src/page.css "$work"/
cd "$work"
npm ci --no-audit --no-fund --loglevel=error
npx esbuild entry.js --bundle --minify --format=iife --target=es2020 \
  --define:process.env.NODE_ENV='"production"' --legal-comments=eof \
  --outfile="$here/static/graphiql.js"
ls -l "$here/static"
