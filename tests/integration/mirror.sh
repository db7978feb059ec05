#!/bin/sh
# mirror.sh: satcheld's mirror mode with real daemons on 127.0.0.1: an
# origin -> school A (--upstream satchel://origin, its store made from
# --trust) -> school B (--upstream satchel://A). v2 published at the
# origin reaches B, whose archives are the origin's byte for byte and
# whose catalog and policy are the origin's; with the origin stopped, A
# logs the failure and its back-off and goes on serving, then catches up
# when the origin is back; --bundles takes only matching bundles; bad
# directory upstreams (a catalog signed by an unknown key, an older
# catalog, an expired one, a modified object, the manifest of another
# bundle) are each logged and refused, A's store unchanged, A still
# serving; SIGTERM during a pull from a stalled upstream exits 0 at once.
. "$(dirname "$0")/lib.sh"
need date sleep python3 pgrep
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

same_catalog()
{
	cmp -s "$1/meta/catalog" "$2/meta/catalog"
}

# log_count FILE ERE: how many lines of FILE match ERE.
log_count()
{
	grep -Ec -- "$2" "$1"
}

# start NAME PIDVAR ARGS...: satcheld NAME on 127.0.0.1:0 (start_satcheld);
# sets PORT, and LOG_NAME to its stderr.
start()
{
	_name=$1
	_pvar=$2
	shift 2
	start_satcheld "$_pvar" "satcheld $_name is listening" "$@"
	eval "LOG_$_name=\$DLOG"
}

# --- keys, policies, releases -----------------------------------------------------

make_keys root catalog catalog2 author
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics family-health-care
expect_success "the origin's policy: catalog key, author for two bundles"
make_policy "$TMP/policy2" "$TMP/catalog2.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics family-health-care
expect_success "another policy: only catalog2's key signs catalogs"

make_repo calligraphy-basics
CB=$REPO
for v in 1 2 3 4; do
	if [ "$v" -gt 1 ]; then
		cb_release "$CB" "$v" "1.$v" "Paragraph $v."
	fi
	run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb$v.satchel"
	expect_success "build calligraphy-basics v$v" "serial $v"
done
make_repo family-health-care
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/fhc1.satchel"
expect_success "build family-health-care v1"

O=$TMP/origin
make_origin "$O" "$TMP/policy" "$TMP/catalog.key" \
    "$TMP/cb1.satchel" "$TMP/fhc1.satchel"
expect_success "the origin, with two bundles published"
cp -a "$O" "$TMP/origin-v1"	# an older state, for a rollback below

# --- a mirror never adopts its upstream's policy on its own ----------------------------

run_satcheld --store "$TMP/nowhere" --upstream "$O" --sync-listen 127.0.0.1:0
also "no store was made" test ! -e "$TMP/nowhere"
expect_fail "a mirror whose store is missing, without --trust: exit 1" \
    "$TMP/nowhere" "--trust POLICY"

run_satcheld --store "$O" --upstream "$TMP/origin-v1" --sync-listen 127.0.0.1:0
expect_fail "an origin store cannot be a mirror: exit 1" "is an origin"

# --- origin -> A -> B ----------------------------------------------------------------

start O DO --store "$O"
OPORT=$PORT
OURL=satchel://127.0.0.1:$OPORT

A=$TMP/schoolA
cat >"$TMP/a.conf" <<EOF
# school A mirrors the origin
[satcheld]
store = $A
trust = $TMP/policy
upstream = $OURL
interval = 2
retry = 1
EOF
start A DA -c "$TMP/a.conf"
APORT=$PORT
AURL=satchel://127.0.0.1:$APORT

B=$TMP/schoolB
start B DB --store "$B" --trust "$TMP/policy" --upstream "$AURL" \
    --interval 2 --retry 1

also "B has the origin's catalog within 60 s" wait_until 60 same_catalog "$B" "$O"
also "A made its store from --trust: the origin's policy" \
    cmp -s "$A/meta/trust" "$O/meta/trust"
also "A says it made the store" log_has "$LOG_A" "made the store $A, trusting the policy $TMP/policy"
also "A logs the pull: what, bytes, time" \
    log_has "$LOG_A" "mirror: pulled from $OURL in [0-9.]+ s: catalog serial 3, 2 releases new, 0 current, [0-9]+ files \\([0-9]+ bytes\\) copied"
ok 0 "B mirrors A, which mirrors the origin: B's catalog is the origin's, byte for byte"
same_bytes "$B/meta/trust" "$O/meta/trust" "B's trust policy is the origin's"
same_bytes "$B/meta/releases/calligraphy-basics/1.signed" \
    "$O/meta/releases/calligraphy-basics/1.signed" \
    "B's signed manifests are the origin's (A passed them on unchanged)"
run_satchel archive --store "$B" -o "$TMP/b-cb1.satchel" calligraphy-basics
expect_success "archive calligraphy-basics from B"
same_bytes "$TMP/b-cb1.satchel" "$TMP/cb1.satchel" "B's archive is the published file, byte for byte"
run_satchel fsck "$B"
expect_success "fsck B: clean (every byte checked against the origin's signatures)" "clean"

# v2 at the origin, while everything runs.
run_satchel publish --store "$O" "$TMP/cb2.satchel"
expect_success "publish calligraphy-basics v2 at the origin"
also "within 60 s" wait_until 60 same_catalog "$B" "$O"
ok 0 "v2 reaches B through A"
run_satchel archive --store "$B" -o "$TMP/b-cb2.satchel" calligraphy-basics
also "export from the origin" "$SATCHEL" archive --store "$O" -o "$TMP/o-cb2.satchel" calligraphy-basics
expect_success "archive calligraphy-basics v2 from B"
same_bytes "$TMP/b-cb2.satchel" "$TMP/o-cb2.satchel" "B's v2 archive equals the origin's, byte for byte"
same_bytes "$TMP/b-cb2.satchel" "$TMP/cb2.satchel" "and the published file"
like "$(cat "$LOG_B")" "/mirror: pulled from $AURL in [0-9.]+ s: catalog serial 4, 1 release new, 1 current/" \
    "B logs v2 as one release new"

# --- --bundles ----------------------------------------------------------------------

C=$TMP/schoolC
start C DC --store "$C" --trust "$TMP/policy" --upstream "$AURL" \
    --interval 2 --retry 1 --bundles 'nothing-*' 'family-*'
also "C has a catalog within 60 s" wait_until 60 test -f "$C/meta/catalog"
also "C has family-health-care" test -f "$C/meta/releases/family-health-care/1.signed"
also "C has no calligraphy-basics" test ! -e "$C/meta/releases/calligraphy-basics"
ok 0 "--bundles 'nothing-*' 'family-*' takes only family-health-care"
run_satchel archive --store "$C" -o "$TMP/c-fhc.satchel" family-health-care
expect_success "archive family-health-care from C"
same_bytes "$TMP/c-fhc.satchel" "$TMP/fhc1.satchel" "C's archive is the published file"
kill_recorded "$DC"

# --- the origin goes away, and comes back ---------------------------------------------

kill_recorded "$DO"
also "two failures within 20 s" \
    wait_until 20 log_has "$LOG_A" "pull from $OURL failed .*\\(2 in a row\\)"
also "the first failure: retry in 1 s" \
    log_has "$LOG_A" "pull from $OURL failed after [0-9.]+ s \\(1 in a row\\): .*still serving the previous state; retry in 1 s"
also "the second: retry in 2 s (doubled, capped at the interval)" \
    log_has "$LOG_A" "\\(2 in a row\\): .*retry in 2 s"
ok 0 "origin stopped: A logs each failure and backs off"
run_satchel pull "$AURL" --store "$TMP/learner"
also "the learner has v2" "$SATCHEL" archive --store "$TMP/learner" -o "$TMP/l-cb2.satchel" calligraphy-basics
expect_success "meanwhile A serves its release to satchel pull" "2 releases"
same_bytes "$TMP/l-cb2.satchel" "$TMP/cb2.satchel" "the release pulled from A is v2, byte for byte"

run_satchel publish --store "$O" "$TMP/cb3.satchel"
expect_success "publish v3 while the origin's daemon is down"
bg_start DO "$SATCHELD" --store "$O" --sync-listen "127.0.0.1:$OPORT" \
    --port-file "$TMP/port.O2"
wait_port "$TMP/port.O2" || bail_out "the origin did not start again on $OPORT"
also "B has v3 within 60 s" wait_until 60 same_catalog "$B" "$O"
also "A has v3" same_catalog "$A" "$O"
also "A logs a successful pull after the failures" \
    log_has "$LOG_A" "pulled from $OURL .*catalog serial 5, 1 release new"
ok 0 "origin back: A catches up, and B after it"

# --- bad upstreams (directories), switched to by SIGHUP ---------------------------------

run_satchel fsck "$A"
expect_success "fsck A before the bad upstreams" "clean"
kill_recorded "$DB"
APID=$(daemon_pid "$DA")
[ -n "$APID" ] || bail_out "cannot find A's satcheld process"
# A successful pull, even one that brings nothing, rewrites the catalog:
# first make A's next pull from the origin an hour away (a change of
# timing alone re-plans, it does not pull), and let one under way (a
# child process of A's) end.
sed "s|^interval = .*|interval = 3600|" "$TMP/a.conf" >"$TMP/a.conf.new"
mv "$TMP/a.conf.new" "$TMP/a.conf"
kill -HUP "$APID"
also "the reload is logged" wait_until 10 log_has "$LOG_A" "mirror: now from $OURL every 3600 s"
also "no pull under way" wait_until 20 sh -c "! pgrep -P $APID >/dev/null"
ok 0 "SIGHUP: A's next pull is an hour away"

# Each bad store starts as a copy of the origin (or its older state).
mkbad()
{
	rm -rf "$TMP/bad-$1"
	cp -a "$2" "$TMP/bad-$1"
	chmod -R u+w "$TMP/bad-$1"
	BAD=$TMP/bad-$1
}

# bad NAME DESCRIPTION ERE: points A at $BAD by SIGHUP, waits for the
# refusal ERE in its log, then checks A's store and that A still serves.
bad()
{
	snapshot "$A"
	_before=$(log_count "$LOG_A" "pull from $BAD failed")
	sed "s|^upstream = .*|upstream = $BAD|" "$TMP/a.conf" >"$TMP/a.conf.new"
	mv "$TMP/a.conf.new" "$TMP/a.conf"
	kill -HUP "$APID"
	also "a failed pull within 20 s" wait_until 20 \
	    sh -c "[ \$(grep -Ec -- 'pull from $BAD failed' '$LOG_A') -gt $_before ]"
	also "A logs the refusal: $3" log_has "$LOG_A" "pull from $BAD failed .*$3"
	unchanged "$A"
	rm -rf "$TMP/learner-$1"
	run_satchel pull "$AURL" --store "$TMP/learner-$1"
	expect_success "$2: logged and refused, A's store unchanged, A still serves" \
	    "2 releases"
}

BAD=$TMP/bad-key
make_origin "$BAD" "$TMP/policy2" "$TMP/catalog2.key" "$TMP/cb4.satchel"
expect_success "a store whose catalog key A does not trust"
# It carries A's policy: another of the same serial would be refused
# before the catalog is read (SPEC §7 "Rotation").
cp "$TMP/policy" "$BAD/meta/trust"
bad key "a catalog signed by an unknown key" "catalog2|key|not signed|trust"

mkbad old "$TMP/origin-v1"
bad old "an older catalog (rollback)" "older|rollback"

mkbad expired "$O"
printf 'catalog-expiry = 1\n' >>"$BAD/config"
run_satchel publish --store "$BAD" "$TMP/cb4.satchel"
expect_success "a newer catalog that expires after 1 s"
sleep 2
bad expired "an expired catalog" "expired"

mkbad object "$O"
run_satchel publish --store "$BAD" "$TMP/cb4.satchel"
expect_success "a newer release, one of whose objects is then modified"
NEW=$(objects "$BAD" | while read -r h; do
	[ -e "$A/objects/$(echo "$h" | cut -c1-2)/$(echo "$h" | cut -c3-)" ] || echo "$h"
done | head -n 1)
[ -n "$NEW" ] || bail_out "v4 has no object that A lacks"
NEWP=$BAD/objects/$(echo "$NEW" | cut -c1-2)/$(echo "$NEW" | cut -c3-)
chmod u+w "$NEWP"
flip_byte "$NEWP" 10
bad object "a modified object" "$NEW|SHA-256|match|digest"

mkbad other "$O"
run_satchel publish --store "$BAD" "$TMP/cb4.satchel"
expect_success "a newer release, whose signed manifest is then another bundle's"
chmod u+w "$BAD/meta/releases/calligraphy-basics/4.signed"
cp "$BAD/meta/releases/family-health-care/1.signed" \
    "$BAD/meta/releases/calligraphy-basics/4.signed"
bad other "the manifest of another bundle" "not the one its catalog pins"

run_satchel fsck "$A"
expect_success "fsck A after the bad upstreams: clean" "clean"
like "$(cat "$LOG_A")" "/SIGHUP: reloading $TMP\\/a.conf/" "each switch was a SIGHUP reload"

# --- SIGTERM while a pull is stuck ---------------------------------------------------------

cat >"$TMP/stall.py" <<'PYEOF'
# stall.py PORTFILE: accepts connections and never answers.
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)
    with open(sys.argv[1] + ".accepted", "a") as f:
        f.write("1\n")
PYEOF
bg_start SP python3 "$TMP/stall.py" "$TMP/stall.port"
wait_until 10 test -s "$TMP/stall.port" || bail_out "the stalling server did not start"
SPORT=$(cat "$TMP/stall.port")
start S DS --store "$TMP/schoolS" --trust "$TMP/policy" \
    --upstream "satchel://127.0.0.1:$SPORT"
wait_until 10 test -s "$TMP/stall.port.accepted"
also "the pull connected" test -s "$TMP/stall.port.accepted"
T0=$(date +%s)
kill -TERM "$(daemon_pid "$DS")"
bg_wait "$DS"
T1=$(date +%s)
also "exit status 0 (got $BG_RC)" test "$BG_RC" = 0
also "within the grace period (took $((T1 - T0)) s)" test $((T1 - T0)) -le 6
also "the log says the pull was stopped" log_has "$LOG_S" "mirror: pull from satchel://127.0.0.1:$SPORT stopped after"
also "no sanitizer report" sanitizer_free "$LOG_S"
ok 0 "SIGTERM during a pull from a stalled upstream: the pull is stopped, exit 0"
kill_recorded "$SP"

# --- the end -----------------------------------------------------------------------------

for p in DA DO; do
	eval "_pid=\$$p"
	kill -TERM "$(daemon_pid "$_pid")"
	bg_wait "$_pid"
	also "exit 0 (got $BG_RC)" test "$BG_RC" = 0
done
also "no sanitizer report from A" sanitizer_free "$LOG_A"
also "no sanitizer report from B" sanitizer_free "$LOG_B"
ok 0 "SIGTERM stops A and the origin: exit 0, no sanitizer report"

done_testing
