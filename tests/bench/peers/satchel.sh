#!/bin/bash
# Satchel peer for ../shared/bench/run_all.sh (bash: it sources the
# harness's lib.sh). One git repository with commit v1 (serial 1) and v2
# (serial 2), both built and signed; origin "o1" holds v1, origin "o2" is
# o1 with v2 published on top (same keys, catalog serial 1 then 2). Each
# step gets its own `satcheld --store ORIGIN --sync-listen 127.0.0.1:0`,
# so the daemon's VmHWM afterwards is its peak during that step.
# Client: `satchel pull satchel://127.0.0.1:{PORT} --store CLIENT` into an
# empty store (full-v1, from o1), then again into the same store
# (update-v1v2, from o2); after each pull `satchel checkout` hard-links
# the release out of the store into a tree the harness checks (bundle.conf
# and lesson.conf, which the corpus lacks, are excluded from the check):
# the Satchel counterpart of git's worktree, `ostree checkout -U` and
# casync's extract, which the other peers end with.
#   tests/bench/peers/satchel.sh prep | measure
#   env: CORPUS WORK RESULTS [RUN] (from run_all.sh), SATCHEL_BIN (the
#   directory holding satchel and satcheld; default _build/bench)
set -u
. "${BENCH_LIB:?run me from run_all.sh}"
bench_init satchel
HERE="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${SATCHEL_BIN:-$HERE/../../_build/bench}"
S="$BIN/satchel" D="$BIN/satcheld"
SRV="$PW/srv"
NAME=bench-channel
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@invalid

# conf REPO SERIAL: bundle.conf plus a lesson.conf naming each lesson's
# first file as its entry (the corpus has no index.html everywhere).
conf() {
  cat > "$1/bundle.conf" <<CONF
name = $NAME
serial = $2
label = 1.$2
title = Benchmark learning channel
language = en
license = CC-BY-4.0
CONF
  local d
  for d in "$1"/lessons/*/; do
    printf 'entry = %s\n' "$(cd "$d" && ls | grep -v '^lesson.conf$' | head -n 1)" > "$d/lesson.conf"
  done
}

# daemon ORIGIN -> DPID, DPORT (recorded for bench_cleanup)
daemon() {
  local pf="$PW/port.$$"
  rm -f "$pf"
  # As root, satcheld runs only with --user (here root itself).
  local u=()
  [ "$(id -u)" -eq 0 ] && u=(--user root)
  bg "$D" "${u[@]}" --store "$1" --sync-listen 127.0.0.1:0 --port-file "$pf" 2>>"$PW/daemon.log"
  DPID=$BG_PID SERVER_PID=$BG_PID
  for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
  DPORT=$(awk '$1 == "sync" { print $2 }' "$pf" 2>/dev/null)
  rm -f "$pf"
  [ -n "$DPORT" ] || { echo "satcheld on $1 wrote no port" >&2; return 1; }
}

# hwm SCENARIO: the daemon's peak resident memory, one JSON line
hwm() {
  local kb
  kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status" 2>/dev/null)
  printf '{"run":%s,"scenario":"%s","daemon_vmhwm_kb":%s}\n' "${RUN:-1}" "$1" "${kb:-null}" \
    >> "$WORK/satchel-daemon.jsonl"
}

case "${1:-}" in
prep)
  t0=$(now)
  [ -x "$S" ] && [ -x "$D" ] || { echo "no satchel/satcheld in $BIN (set SATCHEL_BIN)" >&2; exit 1; }
  rm -rf "$SRV"; mkdir -p "$SRV"
  R="$SRV/repo"
  cp -R "$CORPUS/v1" "$R" && conf "$R" 1 || exit 1
  git -C "$R" -c init.defaultBranch=main init -q &&
    git -C "$R" add -A && git -C "$R" commit -q -m v1 && git -C "$R" tag v1 || exit 1
  rsync -a --delete --exclude .git "$CORPUS/v2/" "$R/" && conf "$R" 2 || exit 1
  git -C "$R" add -A && git -C "$R" commit -q -m v2 || exit 1
  for k in root cat pub; do "$S" keygen --force "$SRV/$k.key" >/dev/null 2>&1 || exit 1; done
  "$S" trust new --root-key "$SRV/root.key" -o "$SRV/policy" >/dev/null &&
    "$S" trust add-catalog --root-key "$SRV/root.key" "$SRV/policy" "$SRV/cat.key.pub" >/dev/null &&
    "$S" trust add-publisher --root-key "$SRV/root.key" "$SRV/policy" "$SRV/pub.key.pub" "$NAME" >/dev/null &&
    "$S" build -C "$R" --rev v1 --key "$SRV/pub.key" -o "$SRV/v1.satchel" >/dev/null &&
    "$S" build -C "$R" --key "$SRV/pub.key" -o "$SRV/v2.satchel" >/dev/null || exit 1
  "$S" store init --trust "$SRV/policy" --catalog-key "$SRV/cat.key" "$SRV/o1" >/dev/null &&
    "$S" publish --store "$SRV/o1" "$SRV/v1.satchel" >/dev/null || exit 1
  cp -a "$SRV/o1" "$SRV/o2" && "$S" publish --store "$SRV/o2" "$SRV/v2.satchel" >/dev/null || exit 1
  rm -rf "$R"
  prep_record satchel "$(elapsed "$t0")" "$(dbytes "$SRV/o2")"
  ;;
measure)
  C="$PW/client" T1="$PW/tree-v1" T2="$PW/tree-v2"
  rm -rf "$C" "$T1" "$T2"
  X=(--exclude bundle.conf --exclude lesson.conf)
  CO="'$S' checkout --store '$C' $NAME"
  daemon "$SRV/o1" || exit 1
  step full-v1 "$DPORT" "$T1" "${X[@]}" -- bash -c \
    "'$S' pull satchel://127.0.0.1:{PORT} --store '$C' && $CO '$T1'"
  hwm full-v1
  stop_pid "$DPID"
  daemon "$SRV/o2" || exit 1
  step update-v1v2 "$DPORT" "$T2" "${X[@]}" -- bash -c \
    "'$S' pull satchel://127.0.0.1:{PORT} --store '$C' && $CO '$T2'"
  hwm update-v1v2
  stop_pid "$DPID"
  rm -rf "$C" "$T1" "$T2"
  ;;
*) echo "usage: $0 prep|measure" >&2; exit 2;;
esac
