/*
 * log.c owns where satcheld's log lines go: stderr (the default, which
 * systemd's journal collects) or syslog(3), and which levels pass.
 * Lines are formatted whole and written with one call, so lines from the
 * HTTP threads, the mirror and the main loop never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static int	log_level = LOG_LEVEL_DEFAULT;	/* atomic */
static int	log_syslog;			/* atomic */

static const char *const log_names[] = { "error", "warn", "info", "debug" };
static const int log_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

int
log_level_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++)
		if (strcmp(s, log_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(enum log_level l)
{
	return log_names[l];
}

void
log_open(enum log_level level, int use_syslog)
{
	if (use_syslog && !__atomic_load_n(&log_syslog, __ATOMIC_ACQUIRE))
		openlog("satcheld", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!use_syslog && __atomic_load_n(&log_syslog, __ATOMIC_ACQUIRE))
		closelog();
	__atomic_store_n(&log_level, (int)level, __ATOMIC_RELEASE);
	__atomic_store_n(&log_syslog, use_syslog, __ATOMIC_RELEASE);
}

void
log_close(void)
{
	if (__atomic_exchange_n(&log_syslog, 0, __ATOMIC_ACQ_REL))
		closelog();
}

static void
log_vline(enum log_level l, const char *fmt, va_list ap)
{
	char	line[2048];
	size_t	n;

	if ((int)l > __atomic_load_n(&log_level, __ATOMIC_ACQUIRE))
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	/* One event, one line: an embedded newline (from a message quoting
	 * a peer or a file) would forge a second one. */
	for (n = 0; line[n] != '\0'; n++)
		if (line[n] == '\n' || line[n] == '\r')
			line[n] = line[n + 1] == '\0' ? '\0' : ' ';
	if (__atomic_load_n(&log_syslog, __ATOMIC_ACQUIRE))
		syslog(log_prio[l], "%s", line);
	else
		fprintf(stderr, "satcheld: %s\n", line);
}

#define LOG_FN(name, level)						\
void									\
name(const char *fmt, ...)						\
{									\
	va_list	ap;							\
									\
	va_start(ap, fmt);						\
	log_vline(level, fmt, ap);					\
	va_end(ap);							\
}

LOG_FN(log_error, LOG_LEVEL_ERROR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
