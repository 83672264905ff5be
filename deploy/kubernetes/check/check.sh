#!/bin/bash
# check.sh - validates deploy/kubernetes/*.yaml offline; no cluster needed.
#
#   deploy/kubernetes/check/check.sh      last line: "N passed, N failed, N skipped"
#
#  1. yamllint (Debian package yamllint), when installed;
#  2. invariants.py: what the manifests must say for snowsignal (python3-yaml);
#  3. validate.mjs: every object against the Kubernetes API's schemas as the
#     npm package kubernetes-models packages them (types, required fields,
#     enums, unknown fields); installed once with npm into K8S_CHECK_CACHE.
# Not done here, since it needs an API server: kubectl apply --dry-run
# (client or server), admission, and running the pods.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
cache=${K8S_CHECK_CACHE:-/var/cache/snowsignal-k8s-check}
models_version=5.1.0
manifests=("$top"/deploy/kubernetes/*.yaml)
version=$(sed -n 's/^AC_INIT(\[snowsignal\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
pass=0 failed=0 skipped=0
count() { # output of a checker: its ok/FAIL lines
  while read -r line; do
    echo "$line"
    case $line in ok:*) pass=$((pass + 1)) ;; FAIL:*) failed=$((failed + 1)) ;; esac
  done
}

if command -v yamllint >/dev/null; then
  if out=$(yamllint -d '{extends: default, rules: {line-length: {max: 110}, document-start: disable, comments: {min-spaces-from-content: 1}}}' "${manifests[@]}" 2>&1); then
    echo "ok: yamllint"; pass=$((pass + 1))
  else
    echo "$out"; echo "FAIL: yamllint"; failed=$((failed + 1))
  fi
else
  echo "SKIP: yamllint is not installed (apt-get install yamllint)"; skipped=$((skipped + 1))
fi

if python3 -c 'import yaml' 2>/dev/null; then
  count < <(python3 "$here/invariants.py" "$version" "${manifests[@]}")
else
  echo "SKIP: python3 yaml module missing (apt-get install python3-yaml)"; skipped=$((skipped + 1))
fi

models=$cache/node_modules/kubernetes-models
if [ ! -f "$models/package.json" ] && command -v npm >/dev/null; then
  mkdir -p "$cache" && (cd "$cache" && [ -f package.json ] || npm init -y >/dev/null) &&
    (cd "$cache" && npm install --no-audit --no-fund --silent "kubernetes-models@$models_version" >/dev/null 2>&1)
fi
if [ -f "$models/package.json" ] && command -v node >/dev/null && python3 -c 'import yaml' 2>/dev/null; then
  tmp=$(mktemp -d)
  for m in "${manifests[@]}"; do
    python3 -c 'import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d], open(sys.argv[2], "w"))' \
      "$m" "$tmp/$(basename "$m" .yaml).json"
  done
  count < <(node "$here/validate.mjs" "$models" "$tmp"/*.json 2>&1)
  rm -rf "$tmp"
else
  echo "SKIP: no kubernetes-models $models_version (needs node, npm and the npm registry once)"
  skipped=$((skipped + 1))
fi

echo "$pass passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
