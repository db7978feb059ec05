#!/bin/sh
# report.sh: `satchel report`, the web library's usage counts over a
# period, read from a real store's stats/DAY.json files. The day files
# are written here in their documented on-disk format (protocol/SPEC.md
# §10, "Usage counts"); counting real HTTP requests belongs to the
# daemon's tests. Checks the table, CSV and JSON values, --since/--until,
# every bundle and lesson of the store listed (zeros included), bad dates
# and options (exit 2), bad day files (exit 1, the file named), set-aside
# files, the store left as it was and no lock taken, and fsck, gc and
# pull leaving stats/ alone.
. "$(dirname "$0")/lib.sh"
need python3 find xargs awk sort

cd "$TMP" || bail_out "cannot enter $TMP"

# --- a store with two bundles ------------------------------------------------

make_keys root catalog author
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics family-health-care
expect_success "a trust policy"
make_repo calligraphy-basics
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/cb.satchel"
expect_success "build calligraphy-basics"
make_repo family-health-care
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/fhc.satchel"
expect_success "build family-health-care"
O=$TMP/origin
make_origin "$O" "$TMP/policy" "$TMP/catalog.key" "$TMP/cb.satchel" \
    "$TMP/fhc.satchel"
expect_success "an origin holding both"

# csv: the last run's stdout without the CRs of its CRLF line ends.
csv()
{
	printf '%s\n' "$OUT" | tr -d '\r'
}

# json_get EXPR: EXPR (Python, on `d`, the last run's stdout parsed as
# JSON) printed; "ERROR ..." when stdout is not JSON.
json_get()
{
	printf '%s' "$OUT" | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception as e:
    print("ERROR", e)
    sys.exit(0)
print(eval(sys.argv[1]))' "$1"
}

# day_file DAY BUNDLES: stats/DAY.json with the JSON members BUNDLES.
day_file()
{
	mkdir -p "$O/stats"
	printf '{"format": 1, "day": "%s", "bundles": {%s}}\n' "$1" "$2" \
	    >"$O/stats/$1.json"
}

# --- no counts yet ------------------------------------------------------------

run_satchel report --store "$O"
expect_success "no stats/ yet: a report of zeros" \
    "calligraphy-basics: Brush Calligraphy Basics" \
    "01-four-treasures: The four treasures of the study" \
    "family-health-care: Family Health Care at Home" \
    "/^ +0 +0  calligraphy-basics: /" "/^ +0  lesson page views$/"
like "$ERR" "no usage counts recorded yet" "... with a note on stderr"
test ! -e "$O/stats"
ok $? "... and stats/ is not created by a report"

run_satchel report --store "$O" --csv
expect_success "no stats/: CSV of zeros" "bundle,lesson,views,downloads"
is "$(csv)" "bundle,lesson,views,downloads
calligraphy-basics,,0,0
calligraphy-basics,01-four-treasures,0,0
calligraphy-basics,02-holding-the-brush,0,0
calligraphy-basics,03-eight-strokes,0,0
family-health-care,,0,0
family-health-care,01-handwashing,0,0
family-health-care,02-blood-pressure,0,0
family-health-care,03-when-to-see-a-doctor,0,0" \
    "... every bundle and lesson of the store, zero"

# --- three days of counts ------------------------------------------------------

day_file 2026-11-01 '"calligraphy-basics": {"views": 5, "downloads": 1,
  "lessons": {"01-four-treasures": {"views": 10, "downloads": 2},
              "02-holding-the-brush": {"views": 3, "downloads": 0}}},
 "family-health-care": {"views": 2, "downloads": 0,
  "lessons": {"01-handwashing": {"views": 7, "downloads": 1}}}'
day_file 2026-11-15 '"calligraphy-basics": {"views": 7, "downloads": 2,
  "lessons": {"01-four-treasures": {"views": 4, "downloads": 1}}},
 "old-bundle": {"views": 1, "downloads": 1,
  "lessons": {"01-gone": {"views": 2, "downloads": 2}}}'
day_file 2026-12-01 '"family-health-care": {"views": 3, "downloads": 4,
  "lessons": {"03-when-to-see-a-doctor": {"views": 6, "downloads": 5}}}'
# Not day files: ignored, however broken.
echo "notes" >"$O/stats/README.txt"
echo "{" >"$O/stats/notes.json"
echo "{" >"$O/stats/2026-11-15.json~"
snapshot "$O"

run_satchel report --store "$O"
expect_success "table: every count summed over the three days" \
    "Period: 2026-11-01 to 2026-12-01 (UTC days), counts recorded on 3 days" \
    "/^ +12 +3  calligraphy-basics: Brush Calligraphy Basics$/" \
    "/^ +14 +3    01-four-treasures: The four treasures of the study$/" \
    "/^ +3 +0    02-holding-the-brush: Holding the brush and sitting well$/" \
    "/^ +0 +0    03-eight-strokes: The eight strokes of 永$/" \
    "/^ +5 +4  family-health-care: Family Health Care at Home$/" \
    "/^ +6 +5    03-when-to-see-a-doctor: When to see a doctor$/" \
    "/^ +1 +1  old-bundle$/" "/^ +2 +2    01-gone$/" \
    "/^ +18  bundle page views$/" "/^ +8  whole-bundle downloads$/" \
    "/^ +32  lesson page views$/" "/^ +11  lesson downloads$/"
unlike "$ERR" "no usage counts" "... and no note of missing counts"

run_satchel report --store "$O" --csv
expect_success "CSV over the three days"
is "$(csv)" "bundle,lesson,views,downloads
calligraphy-basics,,12,3
calligraphy-basics,01-four-treasures,14,3
calligraphy-basics,02-holding-the-brush,3,0
calligraphy-basics,03-eight-strokes,0,0
family-health-care,,5,4
family-health-care,01-handwashing,7,1
family-health-care,02-blood-pressure,0,0
family-health-care,03-when-to-see-a-doctor,6,5
old-bundle,,1,1
old-bundle,01-gone,2,2" "... every line's values"
n_crlf=$(printf '%s\n' "$OUT" | grep -c "$(printf '\r')\$")
is "$n_crlf" 11 "... every line ends in CRLF (RFC 4180)"

run_satchel report --store "$O" --json
expect_success "JSON over the three days"
is "$(json_get '[d["days"], d["first_day"], d["last_day"], d["since"], d["until"]]')" \
    "[3, '2026-11-01', '2026-12-01', None, None]" "... the period"
is "$(json_get 'd["totals"]')" \
    "{'bundle_views': 18, 'bundle_downloads': 8, 'lesson_views': 32, 'lesson_downloads': 11}" \
    "... the totals"
is "$(json_get '[(b["name"], b.get("title"), b["views"], b["downloads"]) for b in d["bundles"]]')" \
    "[('calligraphy-basics', 'Brush Calligraphy Basics', 12, 3), ('family-health-care', 'Family Health Care at Home', 5, 4), ('old-bundle', None, 1, 1)]" \
    "... each bundle, with its title when the store holds it"
is "$(json_get '[(l["id"], l.get("title"), l["views"], l["downloads"]) for l in d["bundles"][0]["lessons"]]')" \
    "[('01-four-treasures', 'The four treasures of the study', 14, 3), ('02-holding-the-brush', 'Holding the brush and sitting well', 3, 0), ('03-eight-strokes', 'The eight strokes of 永', 0, 0)]" \
    "... each lesson, with its title"

# --- periods -------------------------------------------------------------------

run_satchel report --store "$O" --since 2026-11-02 --csv
expect_success "--since 2026-11-02"
is "$(csv)" "bundle,lesson,views,downloads
calligraphy-basics,,7,2
calligraphy-basics,01-four-treasures,4,1
calligraphy-basics,02-holding-the-brush,0,0
calligraphy-basics,03-eight-strokes,0,0
family-health-care,,3,4
family-health-care,01-handwashing,0,0
family-health-care,02-blood-pressure,0,0
family-health-care,03-when-to-see-a-doctor,6,5
old-bundle,,1,1
old-bundle,01-gone,2,2" "... the two later days only"

run_satchel report --store "$O" --until 2026-11-30 --json
expect_success "--until 2026-11-30"
is "$(json_get '[d["days"], d["until"], d["last_day"], d["totals"]]')" \
    "[2, '2026-11-30', '2026-11-15', {'bundle_views': 15, 'bundle_downloads': 4, 'lesson_views': 26, 'lesson_downloads': 6}]" \
    "... November only"

run_satchel report --store "$O" --since 2026-11-15 --until 2026-11-15
expect_success "--since and --until the same day" \
    "Period: 2026-11-15 to 2026-11-15 (UTC days), counts recorded on 1 day" \
    "/^ +7 +2  calligraphy-basics: /" "/^ +0 +0  family-health-care: /" \
    "/^ +6  lesson page views$/"

run_satchel report --store "$O" --since 2027-01-01
expect_success "a period with no counts: zeros" "/^ +0  bundle page views$/"
like "$ERR" "no usage counts recorded in this period" "... with a note"

# --- usage errors ----------------------------------------------------------------

for d in 2026-02-30 2026-13-01 2026-11-31 1969-12-31 2026-1-1 yesterday \
    '2026-11-01 '; do
	run_satchel report --store "$O" --since "$d"
	also "nothing on stdout" test -z "$OUT"
	expect_usage "--since \"$d\": a usage error naming it" "--since \"$d\"" \
	    "YYYY-MM-DD"
done
run_satchel report --store "$O" --until 2025-02-29
expect_usage "--until 2025-02-29 (not a leap year)" '--until "2025-02-29"'
run_satchel report --store "$O" --since 2026-12-01 --until 2026-11-01
expect_usage "--since after --until" "after --until"
run_satchel report --store "$O" --csv --json
expect_usage "--csv with --json" "--csv and --json"
run_satchel report
expect_usage "no --store" "--store DIR is required"
run_satchel report --store "$O" "$O"
expect_usage "a stray argument" "unexpected argument"
run_satchel report --store "$TMP/no-such-store"
expect_fail "not a store: exit 1 naming it" "$TMP/no-such-store"

run_satchel report --store "$O" --json
also "the store is unchanged by every report" unchanged "$O"
expect_success "the store is exactly as it was after all these reports"

# --- bad day files -------------------------------------------------------------------

F=$O/stats/2026-11-15.json
cp "$F" "$TMP/good.json"
printf '{"format": 1, "day": "2026-11-15",\n "bundles": {"a": {"views": 1,}}}\n' >"$F"
run_satchel report --store "$O"
also "nothing on stdout" test -z "$OUT"
expect_fail "a day file that is not JSON: exit 1 naming it, line and column" \
    "$F: line 2 column"
day_file 2026-11-15 '"calligraphy-basics": {"views": -3, "downloads": 0}'
run_satchel report --store "$O" --json
expect_fail "a negative count: named with its field" \
    "$F: bundles.calligraphy-basics.views: negative count -3"
day_file 2026-11-15 '"calligraphy-basics": {"views": "3", "downloads": 0}'
run_satchel report --store "$O" --csv
expect_fail "a count that is a string" "$F: bundles.calligraphy-basics.views: not an integer"
printf '{"format": 1, "day": "2026-11-16", "bundles": {}}\n' >"$F"
run_satchel report --store "$O"
expect_fail "a day field that is not the file's day" "$F: day"
printf '{"format": 1, "day": "2026-11-15", "bundles": {}, "ip": "10.1.2.3"}\n' >"$F"
run_satchel report --store "$O"
expect_fail "an unknown field" "$F: unknown field \"ip\""
run_satchel report --store "$O" --until 2026-11-14
expect_success "a bad day file outside the period is not read" \
    "/^ +5 +1  calligraphy-basics: /"
cp "$TMP/good.json" "$F"

# A day file satcheld set aside: named on stderr, not counted.
printf '{"format": 1, "day": "2026-11-01", "bundles": {"calligraphy-basics": {"views": 1000, "downloads": 0}}}\n' \
    >"$O/stats/2026-11-01.json.bad-1"
run_satchel report --store "$O" --csv
expect_success "a set-aside file is not counted" "calligraphy-basics,,12,3"
like "$ERR" "$O/stats/2026-11-01.json.bad-1" "... and is named on stderr"
run_satchel report --store "$O" --since 2026-11-02 --json
expect_success "... nor named when outside the period"
unlike "$ERR" "bad-1" "... (no note)"
is "$(json_get 'd["set_aside"]')" "[]" "... (none in the JSON)"
rm -f "$O/stats/2026-11-01.json.bad-1"

# --- no lock -------------------------------------------------------------------------------

if command -v flock >/dev/null 2>&1; then
	bg_start LOCKER flock "$O/lock" sleep 30
	wait_until 10 sh -c "! flock -n '$O/lock' true" ||
		diag "the lock holder did not start"
	snapshot "$O"
	TEST_TIMEOUT=10 run_satchel report --store "$O"
	also "the store is unchanged" unchanged "$O"
	expect_success "a report while a writer holds the store lock: no wait" \
	    "/^ +12 +3  calligraphy-basics: /"
	kill_recorded "$LOCKER"
else
	skip "a report while a writer holds the store lock" "no flock(1)"
fi

# --- fsck, gc and pull leave stats/ alone -------------------------------------------

( cd "$O/stats" && sha256sum ./* ) >"$TMP/stats.before"
run_satchel fsck "$O"
expect_success "fsck: a store with stats/ is clean" "clean"
run_satchel gc "$O"
expect_success "gc"
( cd "$O/stats" && sha256sum ./* ) >"$TMP/stats.after"
cmp -s "$TMP/stats.before" "$TMP/stats.after"
ok $? "... which leaves stats/ exactly as it was"
M=$TMP/mirror
run_satchel pull "$O" --store "$M"
expect_success "pull the origin into a new store"
test -d "$M/objects" && test ! -e "$M/stats"
ok $? "... which does not copy stats/ (counts are a node's own)"
run_satchel report --store "$M" --csv
expect_success "the mirror's report: its bundles, zero" \
    "calligraphy-basics,,0,0" "family-health-care,03-when-to-see-a-doctor,0,0"
R=$M/meta/releases/calligraphy-basics/1.signed
chmod u+w "$R" && printf 'not a signed manifest\n' >"$R"
run_satchel report --store "$M" --csv
expect_success "a release that cannot be read: the report still stands" \
    "calligraphy-basics,,0,0" "family-health-care,03-when-to-see-a-doctor,0,0"
like "$ERR" "$R" "... and the file is named on stderr"

done_testing
