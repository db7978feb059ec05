#!/bin/sh
# opds.sh: satcheld's /opds feed (issue 5) is an OPDS 1.2 acquisition
# feed. A real satcheld --http-listen serves the example bundles (one
# title full of XML's special characters); curl fetches /opds; jing
# validates it against tests/schema/opds-1.2.rnc (Atom, RFC 4287, with
# the OPDS 1.2 rules), and the same schema rejects five broken copies of
# it, so the check can fail. Then what no schema says: every bundle in
# the store is one entry, ids are the bundles' and stay when a new
# release lands, the feed links itself as an acquisition feed, each
# entry's alternate link is its page, and each acquisition link is a 200
# application/vnd.satchel download that `satchel verify` accepts with the
# publisher's key, byte for byte the archive that was published.
. "$(dirname "$0")/lib.sh"
need curl jing xmllint python3 sed
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"
SCHEMA=$SATCHEL_SRCDIR/tests/schema/opds-1.2.rnc
ACQ='application/atom+xml;profile=opds-catalog;kind=acquisition'

cd "$TMP" || bail_out "cannot enter $TMP"

# feed_info FILE: one line a fact of the feed in FILE, tab-separated:
#   feed ID UPDATED
#   flink REL TYPE HREF             (the feed's own links)
#   entry ID UPDATED TITLE
#   link ENTRY_ID REL TYPE HREF     (an entry's links)
feed_info()
{
	python3 - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET
A = "{http://www.w3.org/2005/Atom}"
f = ET.parse(sys.argv[1]).getroot()
t = lambda e, k: (e.findtext(A + k) or "").strip()
print("feed", t(f, "id"), t(f, "updated"), sep="\t")
for l in f.findall(A + "link"):
    print("flink", l.get("rel", ""), l.get("type", ""), l.get("href", ""),
          sep="\t")
for e in f.findall(A + "entry"):
    print("entry", t(e, "id"), t(e, "updated"), t(e, "title"), sep="\t")
    for l in e.findall(A + "link"):
        print("link", t(e, "id"), l.get("rel", ""), l.get("type", ""),
              l.get("href", ""), sep="\t")
PY
}

# field N [PREFIX]: the Nth tab-separated field of stdin's lines that
# start with PREFIX and a tab.
field()
{
	awk -F '\t' -v n="$1" -v p="${2:-}" 'p == "" || $1 == p { print $n }'
}

# get URL FILE: curl's "STATUS CONTENT-TYPE" for URL, the body in FILE.
get()
{
	curl -s -o "$2" -w '%{http_code} %{content_type}' --max-time 30 "$1"
}

# --- the store: the three example bundles ----------------------------------------

make_keys root catalog author
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics family-health-care new-citizen-orientation
expect_success "trust policy: catalog key, author for the example bundles"

make_repo calligraphy-basics
CB=$REPO
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb1.satchel"
expect_success "build calligraphy-basics" "serial 1"
# The feed escapes what bundle.conf may hold: a title with all of XML's
# special characters must come out well-formed and as written.
TRICKY='Health & care <at home>: "ask" '"'"'early'"'"
make_repo family-health-care
set_conf "$REPO" title "$TRICKY"
git_commit "$REPO" "A title with & < > \" '"
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/fhc1.satchel"
expect_success "build family-health-care, its title full of XML specials"
make_repo new-citizen-orientation
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/nco1.satchel"
expect_success "build new-citizen-orientation"

O=$TMP/origin
make_origin "$O" "$TMP/policy" "$TMP/catalog.key" \
    "$TMP/cb1.satchel" "$TMP/fhc1.satchel" "$TMP/nco1.satchel"
expect_success "the store, with the three bundles published"

start_satcheld D "satcheld --http-listen serves the store" --store "$O" \
    --http-listen 127.0.0.1:0
# start_satcheld's port file names the web port on its second line.
PF=$_LIB/port.$_SATCHELD_N
wait_until 10 grep -q '^http [0-9]' "$PF"
HPORT=$(sed -n 's/^http \([0-9][0-9]*\)$/\1/p' "$PF")
BASE=http://127.0.0.1:$HPORT

# --- the feed and the schema ---------------------------------------------------------

got=$(get "$BASE/opds" "$TMP/feed.xml")
like "$got" \
    '/^200 application/atom\+xml;profile=opds-catalog;kind=acquisition(; ?charset=utf-8)?$/' \
    "GET /opds: 200, the OPDS acquisition feed type"
if xmllint --noout "$TMP/feed.xml" 2>"$TMP/xmllint.err"; then
	ok 0 "the feed is well-formed XML"
else
	ok 1 "the feed is well-formed XML"
	diag <"$TMP/xmllint.err"
fi
if jing -c "$SCHEMA" "$TMP/feed.xml" >"$TMP/jing.out" 2>&1; then
	ok 0 "jing: the feed is valid against the OPDS 1.2 schema"
else
	ok 1 "jing: the feed is valid against the OPDS 1.2 schema"
	diag <"$TMP/jing.out"
	diag "the feed:"
	head -n 40 "$TMP/feed.xml" | diag
fi

# rejects DESCRIPTION SED-SCRIPT: the feed edited by SED-SCRIPT (which
# must change it) is invalid by the schema.
rejects()
{
	sed "$2" "$TMP/feed.xml" >"$TMP/broken.xml"
	if cmp -s "$TMP/feed.xml" "$TMP/broken.xml"; then
		ok 1 "the schema rejects $1"
		diag "the edit '$2' left the feed as it was"
	elif jing -c "$SCHEMA" "$TMP/broken.xml" >"$TMP/jing.out" 2>&1; then
		ok 1 "the schema rejects $1"
		diag "jing accepted it"
	else
		ok 0 "the schema rejects $1"
	fi
}
rejects "an entry without its id" \
    '0,/<id>urn:satchel:bundle:/{/<id>urn:satchel:bundle:/d}'
rejects "a summary of type html (OPDS 1.2 5.1.3)" \
    's/<summary>/<summary type="html">/'
rejects "a buy link without a price (OPDS 1.2 5.4)" \
    's|rel="http://opds-spec.org/acquisition"|rel="http://opds-spec.org/acquisition/buy"|'
rejects "an updated that is not a date-time" \
    's|<updated>[^<]*</updated>|<updated>yesterday</updated>|'
rejects "a feed without a title" '0,/<title>/{/<title>.*<\/title>/d}'

# --- what the feed says --------------------------------------------------------------

feed_info "$TMP/feed.xml" >"$TMP/info" 2>"$TMP/info.err" ||
	bail_out "feed_info: $(cat "$TMP/info.err")"
run_satchel ls "$O"
expect_success "satchel ls the store"
printf '%s\n' "$OUT" | awk 'NR > 1 { print "urn:satchel:bundle:" $1 }' |
    sort >"$TMP/want.ids"
field 2 entry <"$TMP/info" | sort >"$TMP/got.ids"
is "$(cat "$TMP/got.ids")" "$(cat "$TMP/want.ids")" \
    "one entry a bundle in the store, its id urn:satchel:bundle:NAME"
is "$(field 4 entry <"$TMP/info" | grep -Fxc "$TRICKY")" 1 \
    "the title with & < > \" ' reads back as written"
is "$(awk -F '\t' -v t="$ACQ" '$1 == "flink" && $3 == t && $4 == "/opds" { print $2 }' "$TMP/info" | sort | tr '\n' ' ')" \
    "self start " "the feed links itself as self and start, an acquisition feed"
newest=$(field 3 entry <"$TMP/info" | sort | tail -n 1)
is "$(field 3 feed <"$TMP/info")" "$newest" \
    "the feed's updated is its newest entry's"

# entry_link ID REL: the href of the link of entry ID with relation REL
# (one line each); entry_type ID REL: their types.
entry_link()
{
	awk -F '\t' -v i="$1" -v r="$2" '$1 == "link" && $2 == i && $3 == r { print $5 }' "$TMP/info"
}
entry_type()
{
	awk -F '\t' -v i="$1" -v r="$2" '$1 == "link" && $2 == i && $3 == r { print $4 }' "$TMP/info"
}

# acquire NAME ARCHIVE: the entry of bundle NAME has one acquisition link,
# of type application/vnd.satchel; fetched, it is a 200 of that type, a
# bundle `satchel verify` accepts with the author's key, and the ARCHIVE
# that was published, byte for byte. One case.
acquire()
{
	_id=urn:satchel:bundle:$1
	_href=$(entry_link "$_id" http://opds-spec.org/acquisition)
	_why=
	[ "$(printf '%s\n' "$_href" | grep -c .)" = 1 ] ||
		_why="acquisition links: '$_href'"
	[ "$(entry_type "$_id" http://opds-spec.org/acquisition)" = \
	    application/vnd.satchel ] || _why="$_why; not application/vnd.satchel"
	rm -f "$TMP/got.satchel"
	_got=$(get "$BASE$_href" "$TMP/got.satchel")
	case $_got in
	"200 application/vnd.satchel") ;;
	*) _why="$_why; GET $_href: $_got" ;;
	esac
	"$SATCHEL" verify --pubkey "$TMP/author.key.pub" "$TMP/got.satchel" \
	    >"$TMP/verify.out" 2>&1 || _why="$_why; satchel verify: $(cat "$TMP/verify.out")"
	cmp -s "$TMP/got.satchel" "$2" || _why="$_why; not the published archive"
	if [ -z "$_why" ]; then
		ok 0 "$1: the acquisition link downloads the signed bundle ($_href)"
	else
		ok 1 "$1: the acquisition link downloads the signed bundle"
		diag "$_why"
	fi
}
acquire calligraphy-basics "$TMP/cb1.satchel"
acquire family-health-care "$TMP/fhc1.satchel"
acquire new-citizen-orientation "$TMP/nco1.satchel"

_why=
for id in $(field 2 entry <"$TMP/info"); do
	href=$(entry_link "$id" alternate)
	[ "$href" = "/bundle/${id#urn:satchel:bundle:}" ] ||
		_why="$_why $id: alternate '$href';"
	got=$(get "$BASE$href" "$TMP/page.html")
	case $got in
	"200 text/html"*) ;;
	*) _why="$_why GET $href: $got;" ;;
	esac
done
is "$_why" "" "every entry's alternate link is its bundle page, 200 text/html"

got=$(curl -s -I -o "$TMP/head.out" -w '%{http_code} %{size_download}' "$BASE/opds")
is "$got" "200 0" "HEAD /opds: 200, no body"

# --- a new release: the same entry, a new download ----------------------------------------

old_updated=$(awk -F '\t' '$1 == "entry" && $2 == "urn:satchel:bundle:calligraphy-basics" { print $3 }' "$TMP/info")
cb_release "$CB" 2 1.1
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb2.satchel"
also "publish calligraphy-basics 2" "$SATCHEL" publish --store "$O" \
    "$TMP/cb2.satchel"
expect_success "build and publish calligraphy-basics 2 while satcheld runs"

# new_release: the served feed names calligraphy-basics@2.
new_release()
{
	get "$BASE/opds" "$TMP/feed2.xml" >/dev/null &&
	    grep -q 'calligraphy-basics@2\.satchel' "$TMP/feed2.xml"
}
if wait_until 15 new_release; then
	ok 0 "the feed lists release 2 within 15 s"
else
	ok 1 "the feed lists release 2 within 15 s"
	head -n 30 "$TMP/feed2.xml" | diag
fi
cp "$TMP/feed2.xml" "$TMP/feed.xml"
if jing -c "$SCHEMA" "$TMP/feed.xml" >"$TMP/jing.out" 2>&1; then
	ok 0 "jing: the updated feed is valid too"
else
	ok 1 "jing: the updated feed is valid too"
	diag <"$TMP/jing.out"
fi
feed_info "$TMP/feed.xml" >"$TMP/info" 2>"$TMP/info.err" ||
	bail_out "feed_info: $(cat "$TMP/info.err")"
is "$(field 2 entry <"$TMP/info" | sort)" "$(cat "$TMP/want.ids")" \
    "still one entry a bundle, the ids unchanged by the release"
new_updated=$(awk -F '\t' '$1 == "entry" && $2 == "urn:satchel:bundle:calligraphy-basics" { print $3 }' "$TMP/info")
if [ -n "$new_updated" ] && ! [ "$new_updated" \< "$old_updated" ]; then
	ok 0 "calligraphy-basics: updated moves on or stays ($old_updated -> $new_updated)"
else
	ok 1 "calligraphy-basics: updated moves on or stays"
	diag "was '$old_updated', now '$new_updated'"
fi
acquire calligraphy-basics "$TMP/cb2.satchel"

kill_recorded "$D"
no_sanitizer "$DLOG"
done_testing
