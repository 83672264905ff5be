#!/bin/sh
# snowsignal - UDP broadcast relay
# check-docs.sh: the manual pages against the code (TAP).
#
#   - every plugin `snowsignal --list-plugins` shows has a section in
#     snowsignal.conf(5), and each of its settings a tag there that reads
#     exactly as --list-plugins prints it: "NAME (TYPE, default X, MIN..MAX)";
#   - every option of `snowsignal --help` has its own entry in snowsignal(8)
#     (long and short form), and every "[env VAR]" one in ENVIRONMENT;
#   - every top-level key (top_level_keys[]) and every peers key
#     (peer_keys[]) of core/conffile.c has its own entry in snowsignal.conf(5);
#   - etc/snowsignal.conf (the installed default) passes --check-config with
#     the shipped plugins, names (set or commented out) every top-level key
#     of the code, and sets or comments out only keys the code reads;
#   - the README's usage list names every long option of --help;
#   - groff formats each page without a warning (skipped without groff/man).
#
# Run by `make check`, which sets SS_TOP_SRCDIR and SS_TOP_BUILDDIR.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

top_srcdir=${SS_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${SS_TOP_BUILDDIR:-$top_srcdir}
man8=$top_srcdir/man/snowsignal.8
man5=$top_srcdir/man/snowsignal.conf.5
man7=$top_srcdir/man/snowsignal-plugin.7
snowsignal=$top_builddir/snowsignal

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-docs.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

# Results are collected first, so that the plan can come first.
n=0
: > "$tmp/results"
ok() {
  n=$((n + 1))
  printf 'ok %d - %s\n' "$n" "$1" >> "$tmp/results"
}
not_ok() {
  n=$((n + 1))
  printf 'not ok %d - %s\n' "$n" "$1" >> "$tmp/results"
  shift
  for line in "$@"; do
    printf '# %s\n' "$line" >> "$tmp/results"
  done
}
skip() {
  n=$((n + 1))
  printf 'ok %d - %s # SKIP %s\n' "$n" "$1" "$2" >> "$tmp/results"
}
check() { # check DESCRIPTION COMMAND...
  desc=$1
  shift
  if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# A page's source with the escapes that hide plain text removed: font
# changes, zero-width characters, escaped hyphens and quotes.
normalize() {
  sed -e 's/\\f[BIRP]//g' -e 's/\\f(CW//g' -e 's/\\&//g' -e 's/\\-/-/g' \
      -e 's/\\(dq/"/g' -e 's/\\(aq/'"'"'/g' -e 's/\\e/\\/g' "$1"
}
# The lines of section ".SS NAME" up to the next .SS or .SH.
subsection() { # subsection PAGE NAME
  normalize "$1" | awk -v name="$2" '
    /^\.S[SH]/ { inside = 0 }
    /^\.SS / { t = $0; sub(/^\.SS */, "", t); gsub(/"/, "", t); if (t == name) inside = 1; next }
    inside'
}
# The lines of section ".SH NAME" up to the next .SH.
section() { # section PAGE NAME
  normalize "$1" | awk -v name="$2" '
    /^\.SH / { t = $0; sub(/^\.SH */, "", t); gsub(/"/, "", t); inside = (t == name); next }
    inside'
}
# The .TP tags of normalized lines on standard input.
tags_of() {
  awk '/^\.TP/ { want = 1; next }
       want && /^\.(IP|PP|RS|RE|SH|SS)/ { want = 0; next }
       want { want = 0; sub(/^\.[A-Z]+ */, ""); gsub(/"/, ""); print }'
}
# The names of the .SS sections of normalized lines on standard input.
subsections_of() {
  awk '/^\.SS / { t = $0; sub(/^\.SS */, "", t); gsub(/"/, "", t); print t }'
}
# The tag of each .TP entry (the line after .TP), with macro names and
# quotes removed: ".BR \-c ", " \-\-config =FILE" gives "-c , --config =FILE".
tags() {
  normalize "$1" | tags_of
}
# The quoted strings of a C array `NAME[] = { "a", "b", NULL };`.
c_array() { # c_array FILE NAME
  awk -v name="$2" '
    index($0, name "[] = {") { inside = 1 }
    inside { line = $0
             while (match(line, /"[^"]*"/)) {
               print substr(line, RSTART + 1, RLENGTH - 2)
               line = substr(line, RSTART + RLENGTH)
             } }
    inside && /};/ { exit }' "$1"
}

tags "$man8" > "$tmp/tags8"
tags "$man5" > "$tmp/tags5"
for page in "$man8" "$man5" "$man7"; do
  normalize "$page" > "$tmp/$(basename "$page").txt"
done

# --- (a) plugins and their settings in snowsignal.conf(5) -----------------
# Only the shipped plugins: make check also puts the test fixtures on
# SNOWSIGNAL_PLUGIN_PATH.  A file of its own keeps an installed
# snowsignal.conf out of it.
printf 'version = 1;\n' > "$tmp/empty.conf"
if SNOWSIGNAL_PLUGIN_PATH=$top_builddir/plugins SNOWSIGNAL_PLUGINDIR=$top_builddir/plugins \
   "$snowsignal" --config "$tmp/empty.conf" --list-plugins > "$tmp/plugins" 2> "$tmp/plugins.err" &&
   grep -q '^[a-z0-9-]* .*(\(filter\|transport\), ABI ' "$tmp/plugins"; then
  ok "snowsignal --list-plugins lists the shipped plugins"
else
  not_ok "snowsignal --list-plugins lists the shipped plugins" "$(cat "$tmp/plugins.err")"
fi

plugin=
while IFS= read -r line; do
  case $line in
    "  setting "*)
      # "  setting port (integer, default 7124, 1..65535)"
      spec=${line#  setting }
      key=${spec%% *}
      if grep -qxF -- "$spec" "$tmp/section"; then
        ok "snowsignal.conf.5: $plugin setting $key"
      else
        not_ok "snowsignal.conf.5: $plugin setting $key" \
          "section '$plugin' has no entry reading: $spec"
      fi
      ;;
    " "*) ;;
    ?*)
      plugin=${line%% *}
      # Tags of the plugin's own section: ".TP" then the setting.
      subsection "$man5" "$plugin" > "$tmp/section.src"
      tags_of < "$tmp/section.src" > "$tmp/section"
      if [ -s "$tmp/section.src" ]; then
        ok "snowsignal.conf.5: plugin $plugin has a section"
      else
        not_ok "snowsignal.conf.5: plugin $plugin has a section" "no '.SS $plugin' in $man5"
      fi
      ;;
  esac
done < "$tmp/plugins"

# And back: every plugin section of the page, and every setting in it, is
# one the code has (a page must not document what was removed).
sed -n 's/^\([a-z0-9-]*\) .*(\(filter\|transport\), ABI .*/\1/p' "$tmp/plugins" > "$tmp/plugin_names"
section "$man5" PLUGINS | subsections_of > "$tmp/plugin_sections"
for plugin in $(cat "$tmp/plugin_sections"); do
  check "snowsignal.conf.5: section $plugin is a shipped plugin" grep -qx -- "$plugin" "$tmp/plugin_names"
  subsection "$man5" "$plugin" | tags_of > "$tmp/section"
  while IFS= read -r spec; do
    key=${spec%% *}
    check "snowsignal.conf.5: $plugin setting $key exists" \
      grep -qxF -- "  setting $spec" "$tmp/plugins"
  done < "$tmp/section"
done

# --- (b) options of --help in snowsignal(8) --------------------------------
if "$snowsignal" --help > "$tmp/help" 2>&1 && grep -q -- '--config' "$tmp/help"; then
  ok "snowsignal --help prints the options"
else
  not_ok "snowsignal --help prints the options" "$(cat "$tmp/help")"
fi
# "  -c, --config=FILE    Read ..." and "  --check-config   Parse ..."
sed -n 's/^  *\(-[A-Za-z?], \)\{0,1\}\(--[a-z][a-z-]*\).*/\1\2/p' "$tmp/help" |
while IFS= read -r opt; do
  long=${opt##* }
  short=
  case $opt in -?,*) short=${opt%%,*} ;; esac
  if grep -- "$long" "$tmp/tags8" | grep -qE -- "(^|[ ,|])$long( |=|,|$)" &&
     { [ -z "$short" ] || grep -- "$long" "$tmp/tags8" | grep -qE -- "(^|[ ,|])$short( |,|$)"; }; then
    echo "ok $long${short:+ $short}"
  else
    echo "not_ok $long${short:+ $short}"
  fi
done > "$tmp/options"
while read -r verdict what; do
  if [ "$verdict" = ok ]; then
    ok "snowsignal.8: option $what has an entry"
  else
    not_ok "snowsignal.8: option $what has an entry" "no .TP entry naming $what in $man8"
  fi
done < "$tmp/options"
for var in $(sed -n 's/.*\[env \([A-Z_]*\)\].*/\1/p' "$tmp/help"); do
  check "snowsignal.8: environment variable $var has an entry" grep -qx -- "$var" "$tmp/tags8"
done

# And back: every option an OPTIONS entry names is one --help shows (-ll is
# the rewritten spelling of -l).
section "$man8" OPTIONS | tags_of | tr ' ,|=' '\n\n\n\n' | grep -E -- '^--?[A-Za-z]' |
  sort -u > "$tmp/doc_options"
for opt in $(cat "$tmp/doc_options"); do
  case $opt in -ll) continue ;; esac
  check "snowsignal.8: documented option $opt exists" \
    grep -qE -- "^  *(-[A-Za-z?], )?$opt([ =,]|\$)|^  *$opt," "$tmp/help"
done

# --- (c) configuration keys in snowsignal.conf(5) --------------------------
c_array "$top_srcdir/core/conffile.c" top_level_keys > "$tmp/top_keys"
c_array "$top_srcdir/core/conffile.c" peer_keys > "$tmp/peer_keys"
check "core/conffile.c: top_level_keys[] read" test -s "$tmp/top_keys"
check "core/conffile.c: peer_keys[] read" test -s "$tmp/peer_keys"
for key in $(cat "$tmp/top_keys"); do
  check "snowsignal.conf.5: top-level key $key has an entry" \
    grep -qE -- "^$key( |\$)" "$tmp/tags5"
done
for key in $(cat "$tmp/peer_keys"); do
  check "snowsignal.conf.5: peers key $key has an entry" \
    grep -qE -- "^(peers\\.)?$key( |\$)" "$tmp/tags5"
done

# And back: every entry of TOP-LEVEL SETTINGS and PEERS is a key the code
# reads.
for key in $(section "$man5" "TOP-LEVEL SETTINGS" | tags_of | sed 's/ .*//'); do
  check "snowsignal.conf.5: documented top-level key $key exists" grep -qx -- "$key" "$tmp/top_keys"
done
for key in $(section "$man5" PEERS | tags_of | sed 's/ .*//; s/^peers\.//'); do
  check "snowsignal.conf.5: documented peers key $key exists" grep -qx -- "$key" "$tmp/peer_keys"
done

# --- (d) etc/snowsignal.conf and the README ---------------------------------
conf=$top_srcdir/etc/snowsignal.conf
if SNOWSIGNAL_PLUGIN_PATH=$top_builddir/plugins SNOWSIGNAL_PLUGINDIR=$top_builddir/plugins \
   "$snowsignal" --config "$conf" --check-config > "$tmp/conf.out" 2>&1; then
  ok "etc/snowsignal.conf passes --check-config"
else
  not_ok "etc/snowsignal.conf passes --check-config" "$(cat "$tmp/conf.out")"
fi
# Top-level settings start in column 0, set ("key = ") or commented out
# ("# key = "); those of peers are indented by two inside "peers = {".
sed -n 's/^\(# \)\{0,1\}\([a-z_][a-z_]*\) = .*/\2/p' "$conf" | sort -u > "$tmp/conf_top"
awk '/^peers = \{/ { inside = 1; next } /^};/ { inside = 0 }
     inside && match($0, /^  (# )?[a-z_]+ = /) { t = substr($0, 1, RLENGTH); gsub(/[# =]/, "", t); print t }' \
  "$conf" | sort -u > "$tmp/conf_peers"
for key in $(cat "$tmp/conf_top"); do
  check "etc/snowsignal.conf: top-level key $key exists" grep -qx -- "$key" "$tmp/top_keys"
done
for key in $(cat "$tmp/conf_peers"); do
  check "etc/snowsignal.conf: peers key $key exists" grep -qx -- "$key" "$tmp/peer_keys"
done
for key in $(cat "$tmp/top_keys"); do
  check "etc/snowsignal.conf: top-level key $key is shown" grep -qx -- "$key" "$tmp/conf_top"
done
for key in $(cat "$tmp/peer_keys"); do
  check "etc/snowsignal.conf: peers key $key is shown" grep -qx -- "$key" "$tmp/conf_peers"
done
for opt in $(sed -n 's/^  *\(-[A-Za-z?], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p' "$tmp/help"); do
  case $opt in --help) continue ;; esac
  check "README: option $opt is in the usage list" grep -qE -- "(^|[[ ,])$opt([] =,]|\$)" "$top_srcdir/README"
done

# --- (e) groff warnings ----------------------------------------------------
for page in "$man8" "$man5" "$man7"; do
  name=$(basename "$page")
  if command -v groff > /dev/null 2>&1; then
    out=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  elif command -v man > /dev/null 2>&1; then
    out=$(MANWIDTH=80 man --warnings=w -l "$page" 2>&1 > /dev/null)
  else
    skip "$name formats without warnings" "neither groff nor man is installed"
    continue
  fi
  if ! grep -q '^\.TH ' "$page"; then
    not_ok "$name formats without warnings" "no .TH: the page is empty"
  elif [ -z "$out" ]; then
    ok "$name formats without warnings"
  else
    not_ok "$name formats without warnings" "$out"
  fi
done

echo "1..$n"
cat "$tmp/results"
