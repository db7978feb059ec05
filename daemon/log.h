/*
 * log.h: satcheld's log. One line per event, to stderr by default (under
 * systemd the journal takes it from there) or to syslog(3); each line has
 * a level, and lines below the level set are dropped.
 */
#ifndef SATCHEL_LOG_H
#define SATCHEL_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

#define LOG_LEVEL_DEFAULT	LOG_LEVEL_INFO

/* "error", "warn", "info", "debug" to a level; -1 for anything else. */
int	log_level_parse(const char *);
const char *log_level_name(enum log_level);

/* Sets the level and, with use_syslog, sends every later line to
 * syslog(3) as "satcheld[PID]" under LOG_DAEMON. May be called again
 * (a reload changes the level). */
void	log_open(enum log_level, int use_syslog);
void	log_close(void);

/* One line: "satcheld: TEXT" on stderr, TEXT at the matching priority
 * in syslog. A trailing newline in fmt is not needed. Thread-safe. */
void	log_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
