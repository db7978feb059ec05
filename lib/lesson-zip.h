/*
 * lesson-zip.h: a lesson of a release as a .zip a learner can download,
 * unpack and open offline, built from a store's objects.
 */
#ifndef SATCHEL_LESSON_ZIP_H
#define SATCHEL_LESSON_ZIP_H

#include "crypto.h"
#include "error.h"
#include "manifest.h"

/* Bumped whenever what goes into a lesson zip, or how, changes: it is
 * part of the cache key. */
#define LESSON_ZIP_FORMAT	"satchel-lesson-zip 1"

/* The name of the note at the top of a zip (unless the bundle has a file
 * of that name itself, which then wins). */
#define LESSON_ZIP_README	"README.txt"

/*
 * Writes lesson lesson_id of release m as a zip to fd (written
 * sequentially from its current offset; left open, not synced). In it, in
 * this order:
 *
 *   README.txt   the bundle's title, the lesson's title, name, release
 *                label and serial, licence, and which page to open;
 *   every file of m under lessons/ID/ and every file outside lessons/
 *                (bundle.conf, style.css and other shared assets that
 *                lesson pages link as ../../style.css), at its bundle
 *                path, in manifest order.
 *
 * Other lessons' files are left out. Unpacked, lessons/ID/ENTRY opens
 * offline with its images and styles. Entries have the manifest's modes,
 * m->time as their time, uid/gid 0 and no names; media that is already
 * compressed (png, jpg, mp4, mp3, zip, ...) is stored, the rest deflated.
 * The same m and lesson give the same bytes (in the same time zone; see
 * lib/archive-zip.c).
 *
 * Each file is read from STORE_DIR/objects/ab/cdef... in 64 KiB chunks,
 * its size and SHA-256 checked against m as it streams; memory use does
 * not grow with file sizes. Errors name the bundle, lesson, file and
 * object: an unknown lesson is SATCHEL_ENOTFOUND (nothing is written); a
 * missing object SATCHEL_ERR; an object of the wrong size or whose bytes
 * do not hash to m's SHA-256 SATCHEL_EVERIFY; a write error SATCHEL_ERR.
 * On any error fd holds a partial zip for the caller to delete.
 *
 * Blocking (disk reads, deflate): call it from a worker thread, never the
 * event loop. Threads may build zips at once.
 */
int	lesson_zip_write(int fd, const char *store_dir,
	    const struct manifest *m, const char *lesson_id,
	    struct error *err);

/*
 * The zip's cache key: lowercase hex SHA-256 (out must hold 65 bytes) of
 * everything that shapes its bytes: LESSON_ZIP_FORMAT, the versions of
 * libarchive and zlib, the time zone's offset at m->time, m->time, the
 * README text, and the path, mode, size and SHA-256 of every file in
 * order. Equal keys mean byte-identical zips, so a cached file named by
 * the key can be served for any release that gives that key (and it makes
 * a sound ETag). Cheap (no file is read): fine on the event loop.
 * SATCHEL_ENOTFOUND for an unknown lesson.
 */
int	lesson_zip_key(char out[SHA256_HEX_LEN + 1], const struct manifest *m,
	    const char *lesson_id, struct error *err);

#endif
