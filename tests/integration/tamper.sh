#!/bin/sh
# tamper.sh: `satchel verify` (and `sign`) against archives changed after
# they were signed: every variant is made from one good signed archive
# with Python's tarfile, recompressed with zstd, and must be refused with
# exit status 1 and a message that says what is wrong and where.
. "$(dirname "$0")/lib.sh"
need zstd tar python3

cd "$TMP" || bail_out "cannot enter $TMP"

run_satchel keygen "$TMP/key"
expect_success "keygen"
KEY_ID=$(key_id "$TMP/key.pub")
run_satchel keygen "$TMP/other"
expect_success "keygen (a second key)"

make_repo calligraphy-basics
run_satchel build -C "$REPO" --key "$TMP/key" -o "$TMP/good.satchel"
expect_success "build the good signed archive" "signed by"
GOOD=$TMP/good.satchel

run_satchel verify --pubkey "$TMP/key.pub" "$GOOD"
expect_success "the good archive verifies" "signed by $KEY_ID"

# The same archive rewritten by retar without a change still verifies, so
# every refusal below comes from the change, not from the rewriting.
retar "$GOOD" "$TMP/rewritten.satchel" 'pass'
run_satchel verify --pubkey "$TMP/key.pub" "$TMP/rewritten.satchel"
expect_success "an unchanged archive rewritten by Python tarfile verifies" "signed by $KEY_ID"

# tampered NAME PYTHON: makes $TMP/NAME.satchel from the good archive.
tampered()
{
	T=$TMP/$1.satchel
	retar "$GOOD" "$T" "$2"
}

# --- file contents ----------------------------------------------------------------

tampered content '
b = bytearray(data("lessons/02-holding-the-brush/index.html"))
b[100] ^= 0x20
put("lessons/02-holding-the-brush/index.html", bytes(b))'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a changed byte in a file: named and 'altered'" \
    '"lessons/02-holding-the-brush/index.html"' "altered"
run_satchel verify "$T"
expect_fail "a changed byte in a file is caught without --pubkey too" \
    '"lessons/02-holding-the-brush/index.html"' "altered"

cp "$T" "$TMP/content.copy"
run_satchel sign --key "$TMP/other" "$T"
also "the damaged archive is unchanged" cmp "$T" "$TMP/content.copy"
also "no temporary file left beside it" test -z "$(ls -A "$TMP" | grep -F '.tmp')"
expect_fail "sign refuses an altered archive and leaves no temporary file" \
    '"lessons/02-holding-the-brush/index.html"' "altered"

tampered longer 'put("style.css", data("style.css") + b"/* more */\n")'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a file that grew: named, with both sizes" '"style.css"' "bytes" "manifest says"

# --- the manifest -----------------------------------------------------------------

tampered title 'set_manifest(manifest().replace(
    "meta title Brush Calligraphy Basics\n", "meta title Brush Calligraphy Basic\n"))'
also "the crafted manifest differs" \
    test "$(archive_entry "$T" .satchel/MANIFEST | grep -c 'Basic$')" = 1
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a changed title: the signature does not verify" \
    "signature by key $KEY_ID does not verify"

# One hex digit of style.css's SHA-256 in the manifest: caught by the
# signature with --pubkey, and by the file check without.
tampered digest '
m = manifest()
i = m.index(" style.css\n") - 1
set_manifest(m[:i] + ("1" if m[i] == "0" else "0") + m[i + 1:])'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a changed SHA-256 in the manifest: the signature does not verify" \
    "does not verify" "$KEY_ID"
run_satchel verify "$T"
expect_fail "a changed SHA-256 in the manifest is caught without --pubkey" \
    '"style.css"' "altered"

# A file's size and the total changed together, consistently.
tampered size '
import re
m = manifest()
old = re.search(r"^file 644 (\d+) ([0-9a-f]{64}) style\.css$", m, re.M)
n = int(old.group(1))
m = m.replace(old.group(0), "file 644 %d %s style.css" % (n + 1, old.group(2)))
m = re.sub(r"^files (\d+) (\d+)$",
           lambda x: "files %s %d" % (x.group(1), int(x.group(2)) + 1), m, flags=re.M)
set_manifest(m)'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a changed size in the manifest: the signature does not verify" "does not verify"
run_satchel verify "$T"
expect_fail "a changed size in the manifest is caught without --pubkey" \
    '"style.css"' "manifest says"

# The attacker's best move: change a file and fix its hash in the manifest.
tampered rehashed '
import hashlib
old = data("style.css")
new = old.replace(b"color", b"colour", 1)
assert new != old and len(new) == len(old) + 1
m = manifest()
line = next(l for l in m.split("\n") if l.endswith(" style.css"))
f = line.split(" ")
m = m.replace(line, "file 644 %d %s style.css" % (len(new), hashlib.sha256(new).hexdigest()))
import re
m = re.sub(r"^files (\d+) (\d+)$",
           lambda x: "files %s %d" % (x.group(1), int(x.group(2)) + 1), m, flags=re.M)
set_manifest(m)
put("style.css", new)'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a changed file with its manifest line rewritten: the signature does not verify" \
    "does not verify" "$KEY_ID"

tampered noncanonical 'set_manifest(manifest().replace("\nend\n", "\nend\n\n"))'
run_satchel verify "$T"
expect_fail "data after the manifest's end line is refused" ".satchel/MANIFEST" "after"

# --- files missing, extra, repeated, reordered ---------------------------------------

tampered removed 'entries[:] = [e for e in entries
    if e[0].name != "lessons/02-holding-the-brush/grip.svg"]'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a removed file is named as missing" \
    '"lessons/02-holding-the-brush/grip.svg"' "missing"

tampered removed-last 'assert entries[-1][0].name == "style.css"; entries.pop()'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a removed last file is named as missing" '"style.css"' "missing"

tampered added '
entries.insert(5, entry("lessons/01-four-treasures/extra.html", b"<p>not signed</p>\n"))'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "an added file: 'extra file' and its path" \
    "extra file" '"lessons/01-four-treasures/extra.html"'

tampered added-end 'entries.append(entry("zz-extra.txt", b"not signed\n"))'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a file added at the end: 'extra file' and its path" \
    "extra file" '"zz-extra.txt"'

tampered duplicated '
e = get("lessons/01-four-treasures/lesson.conf")
entries.insert(entries.index(e) + 1, [e[0], e[1]])'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a duplicated entry 'appears twice'" \
    '"lessons/01-four-treasures/lesson.conf"' "appears twice"

tampered duplicated-later '
e = get("bundle.conf")
entries.append([e[0], e[1]])'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "an entry repeated at the end 'appears twice'" '"bundle.conf"' "appears twice"

tampered manifest-twice 'entries.insert(4, [entries[0][0], entries[0][1]])'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a second .satchel/MANIFEST entry 'appears twice'" \
    ".satchel/MANIFEST" "appears twice"

tampered swapped '
i = entries.index(get("lessons/01-four-treasures/lesson.conf"))
entries[i], entries[i + 1] = entries[i + 1], entries[i]'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "two files swapped: 'out of order'" \
    '"lessons/01-four-treasures/lesson.conf"' "out of order"

tampered head-swapped 'entries[0], entries[1] = entries[1], entries[0]'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "SIGNATURES before MANIFEST: not a bundle" ".satchel/MANIFEST" "first entry"

# --- modes --------------------------------------------------------------------------

tampered mode-x 'get("style.css")[0].mode = 0o755'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a file made executable: the mode is named" '"style.css"' "mode 755" "644"

tampered mode-w 'get("bundle.conf")[0].mode = 0o666'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a world-writable file: the mode is named" '"bundle.conf"' "mode 666"

# --- signatures -----------------------------------------------------------------------

make_repo family-health-care
run_satchel build -C "$REPO" --key "$TMP/key" -o "$TMP/family.satchel"
expect_success "build a second bundle with the same key" "signed by"
archive_entry "$TMP/family.satchel" .satchel/SIGNATURES >"$TMP/family.sigs"
is "$(cut -d ' ' -f 3 "$TMP/family.sigs")" "$KEY_ID" \
    "the second bundle's signature is by the same key"

tampered sig-swapped "put('.satchel/SIGNATURES', open('$TMP/family.sigs', 'rb').read())"
also "the signature block was replaced" \
    test "$(archive_entry "$T" .satchel/SIGNATURES)" = "$(cat "$TMP/family.sigs")"
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "another bundle's signature by the same key does not verify" \
    "signature by key $KEY_ID does not verify"

tampered sig-stripped 'put(".satchel/SIGNATURES", b"")'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a stripped signature fails with --pubkey: no signature" \
    "not signed" "no signature"
run_satchel verify "$T"
expect_success "a stripped signature passes integrity-only verify, which says no signer was checked" \
    "no signer was checked"

tampered sig-flipped '
s = bytearray(data(".satchel/SIGNATURES"))
i = s.index(b" ", 20) + 10
s[i] = ord("A") if s[i] != ord("A") else ord("B")
put(".satchel/SIGNATURES", bytes(s))'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "a changed signature does not verify" "$KEY_ID" "does not verify"

tampered sig-garbage 'put(".satchel/SIGNATURES", b"signature rsa 0123456789abcdef AAAA\n")'
run_satchel verify "$T"
expect_fail "a malformed signature block is refused, even without --pubkey" \
    ".satchel/SIGNATURES" "signature ed25519"

tampered sig-twice '
s = data(".satchel/SIGNATURES")
put(".satchel/SIGNATURES", s + s)'
run_satchel verify --pubkey "$TMP/key.pub" "$T"
expect_fail "the same key signing twice is refused" ".satchel/SIGNATURES" "twice"

# --- damaged files -----------------------------------------------------------------------

size=$(stat -c %s "$GOOD")
head -c $((size / 2)) "$GOOD" >"$TMP/half.satchel"
run_satchel verify --pubkey "$TMP/key.pub" "$TMP/half.satchel"
expect_fail "an archive cut in half: exit 1 with a clear message" "half.satchel" "truncated"
run_satchel inspect "$TMP/half.satchel"
test "$SANITIZED" -eq 0 && { [ "$RC" -eq 0 ] || [ "$RC" -eq 1 ]; }
ok $? "inspect of an archive cut in half ends cleanly (exit $RC, no sanitizer report)"

head -c 200 "$GOOD" >"$TMP/head.satchel"
run_satchel verify "$TMP/head.satchel"
expect_fail "an archive cut after 200 bytes: exit 1 with a clear message" "head.satchel" "truncated"
run_satchel inspect "$TMP/head.satchel"
expect_fail "inspect of an archive cut after 200 bytes: exit 1" "head.satchel"

: >"$TMP/empty.satchel"
run_satchel verify "$TMP/empty.satchel"
expect_fail "an empty file is not a bundle" "empty.satchel" "not a Satchel bundle"

zstd -dc "$GOOD" >"$TMP/plain.satchel"
run_satchel verify "$TMP/plain.satchel"
expect_fail "an uncompressed tar is not a bundle" "plain.satchel" "zstd"

zstd -dc "$GOOD" | gzip -n >"$TMP/gzip.satchel"
run_satchel verify "$TMP/gzip.satchel"
expect_fail "a gzip-compressed tar is not a bundle" "gzip.satchel" "zstd"

# Flipped bits in the compressed stream: one that zstd itself detects (the
# last block's type turned into the reserved type 3), and one that decodes
# "fine" to different bytes, which only the manifest and signature can
# catch (searched for from the middle of the file: the exact bytes depend
# on the zstd version).
python3 - "$GOOD" "$TMP" >"$TMP/flips" 2>&1 <<'EOF'
import subprocess, sys

src, tmp = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
orig = subprocess.run(["zstd", "-dc", src], stdout=subprocess.PIPE).stdout

def zstd_ok(b):
    p = subprocess.run(["zstd", "-dc"], input=bytes(b),
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return p.returncode == 0, p.stdout

def last_block_header(d):
    """Offset of the last block header of the first zstd frame."""
    assert d[:4] == b"\x28\xb5\x2f\xfd", "not a zstd frame"
    fhd, pos = d[4], 5
    single = (fhd >> 5) & 1
    pos += 0 if single else 1
    pos += [0, 1, 2, 4][fhd & 3]
    pos += [1 if single else 0, 2, 4, 8][fhd >> 6]
    while True:
        h = int.from_bytes(d[pos:pos + 3], "little")
        if h & 1:
            return pos
        pos += 3 + (1 if (h >> 1) & 3 == 1 else h >> 3)

found = {}
off = last_block_header(data)
b = bytearray(data)
b[off] |= 0x06                     # block type 3: reserved
if not zstd_ok(b)[0]:
    open("%s/flip-corrupt.satchel" % tmp, "wb").write(b)
    found["corrupt"] = off
for off in range(len(data) // 2, len(data) - 16):
    b = bytearray(data)
    b[off] ^= 0x01
    good, out = zstd_ok(b)
    if good and len(out) == len(orig) and out != orig:
        open("%s/flip-silent.satchel" % tmp, "wb").write(b)
        found["silent"] = off
        break
for kind in ("corrupt", "silent"):
    print(kind, found.get(kind, "none"))
EOF
for kind in corrupt silent; do
	off=$(sed -n "s/^$kind //p" "$TMP/flips")
	if [ -z "$off" ] || [ "$off" = none ]; then
		ok 1 "a flipped bit in the compressed stream ($kind): crafted"
		diag "$(cat "$TMP/flips")"
		continue
	fi
	diag "flip-$kind.satchel: changed at offset $off"
	run_satchel verify --pubkey "$TMP/key.pub" "$TMP/flip-$kind.satchel"
	expect_fail "a flipped bit in the compressed stream ($kind) is refused" \
	    "flip-$kind.satchel"
	run_satchel verify "$TMP/flip-$kind.satchel"
	expect_fail "the same flipped bit ($kind) is refused without --pubkey" \
	    "flip-$kind.satchel"
done

# A message names the archive once, not twice.
tampered symlink 'entries.insert(3, entry("lessons/link.svg", type=tarfile.SYMTYPE,
    linkname="../../etc/passwd"))'
run_satchel verify "$T"
expect_fail "a symbolic link entry is refused" "lessons/link.svg" "symbolic link"
unlike "$ERR" "$T: $T:" "the message names the archive once, not twice"

done_testing
