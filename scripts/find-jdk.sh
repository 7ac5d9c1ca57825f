#!/usr/bin/env bash
# Prints the newest JDK (>= 21) under /usr/lib/jvm; exits 1 if there is none.
set -euo pipefail
best="" best_ver=0
for d in /usr/lib/jvm/*/; do
  d=${d%/}
  [ -x "$d/bin/javac" ] || continue
  ver=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')
  ver=${ver%%.*}
  [[ "$ver" =~ ^[0-9]+$ ]] || continue
  if [ "$ver" -ge 21 ] && [ "$ver" -gt "$best_ver" ]; then best=$d best_ver=$ver; fi
done
[ -n "$best" ] || { echo "no JDK >= 21 under /usr/lib/jvm (install one, e.g. openjdk-21-jdk-headless)" >&2; exit 1; }
echo "$best"
