// SPDX-License-Identifier: MIT
/* Complete-or-absent output files: see outfile.h. */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The temporary files being written, for outfile_remove_all() in a signal
 * handler, which gets no context: the one process-wide table here. A slot
 * is claimed (FREE -> CLAIMED), filled, then published (LIVE); a handler
 * unlinks only LIVE slots, whose bytes are complete. A temporary file
 * opened while every slot is taken is not removed on a signal (it is still
 * removed by outfile_abort), and its name is hidden (".NAME.pflab-XXXXXX").
 */
enum { SLOT_FREE, SLOT_CLAIMED, SLOT_LIVE };
#define OUTFILE_SLOTS 8

static struct {
	int state;
	char path[PATH_MAX];
} live[OUTFILE_SLOTS];

static void track(const char *tmp)
{
	if (strlen(tmp) >= PATH_MAX)
		return;
	for (int i = 0; i < OUTFILE_SLOTS; i++) {
		int expect = SLOT_FREE;

		if (__atomic_compare_exchange_n(&live[i].state, &expect, SLOT_CLAIMED, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			strcpy(live[i].path, tmp);
			__atomic_store_n(&live[i].state, SLOT_LIVE, __ATOMIC_RELEASE);
			return;
		}
	}
}

static void untrack(const char *tmp)
{
	for (int i = 0; i < OUTFILE_SLOTS; i++) {
		if (__atomic_load_n(&live[i].state, __ATOMIC_ACQUIRE) == SLOT_LIVE &&
		    strcmp(live[i].path, tmp) == 0) {
			__atomic_store_n(&live[i].state, SLOT_FREE, __ATOMIC_RELEASE);
			return;
		}
	}
}

void outfile_remove_all(void)
{
	for (int i = 0; i < OUTFILE_SLOTS; i++)
		if (__atomic_load_n(&live[i].state, __ATOMIC_ACQUIRE) == SLOT_LIVE)
			unlink(live[i].path);
}

static bool is_stdout(const char *path)
{
	return strcmp(path, "-") == 0;
}

/* The directory part of path, malloc'ed ("." for a bare name). */
static char *dir_of(const char *path)
{
	char *copy = strdup(path), *d;

	if (!copy)
		return NULL;
	d = strdup(dirname(copy));
	free(copy);
	return d;
}

int outfile_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *dir;

	if (is_stdout(path))
		return 0;
	if (!*path) {
		snprintf(err, errlen, "an empty output path");
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			snprintf(err, errlen, "%s: is a symbolic link; refusing to replace it "
				 "(name its target instead)", path);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file; refusing to replace it", path);
			return -1;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	dir = dir_of(path);
	if (!dir) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path,
			 stat(dir, &st) == 0 && !S_ISDIR(st.st_mode) ? strerror(ENOTDIR)
								       : strerror(e ? e : EACCES));
		free(dir);
		return -1;
	}
	free(dir);
	return 0;
}

int outfile_open(struct outfile *f, const char *path, char *err, size_t errlen)
{
	*f = (struct outfile){ .fd = -1 };
	if (outfile_check(path, err, errlen) != 0)
		return -1;
	f->path = strdup(path);
	if (!f->path)
		goto oom;
	if (is_stdout(path)) {
		f->fd = STDOUT_FILENO;
		return 0;
	}
	{
		char *dir = dir_of(path), *base = strdup(path);
		size_t n;

		if (!dir || !base) {
			free(dir);
			free(base);
			goto oom;
		}
		n = strlen(dir) + strlen(basename(base)) + 32;
		f->tmp = malloc(n);
		if (f->tmp)
			snprintf(f->tmp, n, "%s/.%s.pflab-XXXXXX", dir, basename(base));
		free(dir);
		free(base);
		if (!f->tmp)
			goto oom;
	}
	f->fd = mkostemp(f->tmp, O_CLOEXEC);
	if (f->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(f->tmp);
		free(f->path);
		*f = (struct outfile){ .fd = -1 };
		return -1;
	}
	track(f->tmp);
	/* mkstemp makes 0600; an output gets the mode a plain creat() would. */
	{
		mode_t mask = umask(0);

		umask(mask);
		fchmod(f->fd, 0666 & ~mask);
	}
	return 0;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
	free(f->path);
	*f = (struct outfile){ .fd = -1 };
	return -1;
}

FILE *outfile_fopen(struct outfile *f, const char *path, char *err, size_t errlen)
{
	FILE *fp;

	if (outfile_open(f, path, err, errlen) != 0)
		return NULL;
	fp = f->tmp ? fdopen(f->fd, "w") : stdout;
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		outfile_abort(f);
		return NULL;
	}
	if (f->tmp)
		f->fd = -1; /* the stream owns it now */
	return fp;
}

static void release(struct outfile *f)
{
	free(f->tmp);
	free(f->path);
	*f = (struct outfile){ .fd = -1 };
}

void outfile_abort(struct outfile *f)
{
	if (!f->path)
		return;
	if (f->tmp) {
		untrack(f->tmp);
		if (f->fd >= 0)
			close(f->fd);
		unlink(f->tmp);
	}
	release(f);
}

int outfile_commit(struct outfile *f, char *err, size_t errlen)
{
	if (!f->tmp) {
		release(f);
		return 0;
	}
	if (f->fd >= 0) {
		int fd = f->fd;

		f->fd = -1;
		if (close(fd) != 0) {
			snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
			outfile_abort(f);
			return -1;
		}
	}
	untrack(f->tmp);
	if (rename(f->tmp, f->path) != 0) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		outfile_abort(f);
		return -1;
	}
	release(f);
	return 0;
}

int outfile_fclose(struct outfile *f, FILE *fp, char *err, size_t errlen)
{
	int e = 0;

	errno = 0;
	if (fflush(fp) != 0 || ferror(fp))
		e = errno ? errno : EIO;
	if (fp != stdout && fclose(fp) != 0 && !e)
		e = errno ? errno : EIO;
	if (e) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(e));
		outfile_abort(f);
		return -1;
	}
	return outfile_commit(f, err, errlen);
}
