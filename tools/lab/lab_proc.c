// SPDX-License-Identifier: MIT
/* Child processes and small file helpers for the lab commands: see lab_proc.h. */
#include "lab_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double lab_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* In the child: point fd at path (or /dev/null), or die saying why. */
static void redirect(int fd, const char *path, int flags)
{
	int f = path ? open(path, flags, 0644) : open("/dev/null", flags & ~(O_CREAT | O_EXCL));

	if (f < 0 || dup2(f, fd) < 0) {
		dprintf(STDERR_FILENO, "pflab: %s: %s\n", path ? path : "/dev/null", strerror(errno));
		_exit(LAB_STATUS_NOEXEC);
	}
	close(f);
}

pid_t lab_spawn(char *const argv[], const char *out_path, const char *err_path)
{
	pid_t pid;

	fflush(NULL); /* or the child's exit-less exec path would duplicate buffered output */
	pid = fork();
	if (pid != 0)
		return pid;
	redirect(STDIN_FILENO, NULL, O_RDONLY);
	/* New files only (the callers name them in a directory pflab made):
	 * an existing file is never truncated, and the child is not run. */
	redirect(STDOUT_FILENO, out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
	if (err_path && out_path && !strcmp(err_path, out_path))
		dup2(STDOUT_FILENO, STDERR_FILENO);
	else
		redirect(STDERR_FILENO, err_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "pflab: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(LAB_STATUS_NOEXEC);
}

int lab_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

int lab_run(char *const argv[], const char *out_path, const char *err_path,
	    uint64_t timeout_ns, bool *timed_out)
{
	double deadline = lab_now() + (double)timeout_ns * 1e-9;
	long nap_ns = 200000; /* polls start fast: most commands here take milliseconds */
	pid_t pid = lab_spawn(argv, out_path, err_path);
	int st;

	*timed_out = false;
	if (pid < 0)
		return -1;
	if (!timeout_ns) {
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				return -1;
		return lab_exit_status(st);
	}
	for (;;) {
		pid_t got = waitpid(pid, &st, WNOHANG);

		if (got == pid)
			return lab_exit_status(st);
		if (got < 0 && errno != EINTR)
			return -1;
		if (lab_now() >= deadline && !*timed_out) {
			kill(pid, SIGKILL);
			*timed_out = true;
		}
		nanosleep(&(struct timespec){ .tv_nsec = nap_ns }, NULL);
		if (nap_ns < 20000000)
			nap_ns *= 2;
	}
}

int lab_self_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n < 0 || (size_t)n >= len - 1)
		return -1;
	buf[n] = '\0';
	return 0;
}

void lab_shell_quote(FILE *out, const char *word)
{
	bool plain = *word != '\0';

	for (const char *p = word; *p && plain; p++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "0123456789_-+=./,:@%", *p) != NULL;
	if (plain) {
		fputs(word, out);
		return;
	}
	fputc('\'', out);
	for (const char *p = word; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", out);
		else
			fputc(*p, out);
	}
	fputc('\'', out);
}

char *lab_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0, got;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap);
	while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n < 2) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger) {
				free(buf);
				buf = NULL;
				errno = ENOMEM;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	if (buf && ferror(f)) {
		free(buf);
		buf = NULL;
		errno = EIO;
	}
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

void lab_last_line(const char *text, char *buf, size_t len)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(buf, len, "%.*s", (int)(end - start), start);
}

int lab_mkdirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0777) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * Every directory lab_tempdir() made that lab_rmtree() has not removed, for
 * lab_tempdir_remove_all() in a signal handler, which gets no context: the
 * one process-wide table here, as traces/outfile.c keeps its temporary
 * files. A slot is claimed (FREE -> CLAIMED), filled, then published (LIVE);
 * the handler removes only LIVE slots, whose paths are complete, and only in
 * the process that made them (a child between fork and exec has the handler
 * and this table too). lab_rmtree() empties a directory while it is still
 * registered (so that its name cannot be taken by another), forgets it
 * (LIVE -> FREE), then removes the empty directory.
 */
enum { TRACK_FREE, TRACK_CLAIMED, TRACK_LIVE };

static struct {
	int state;
	pid_t owner;
	char dir[PATH_MAX];
} tracked[LAB_TEMPDIR_SLOTS];

/* Register dir; -1 if no slot is free or the path is too long. */
static int track(const char *dir)
{
	if (strlen(dir) >= PATH_MAX)
		return -1;
	for (size_t i = 0; i < LAB_TEMPDIR_SLOTS; i++) {
		int expect = TRACK_FREE;

		if (!__atomic_compare_exchange_n(&tracked[i].state, &expect, TRACK_CLAIMED, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		strcpy(tracked[i].dir, dir);
		tracked[i].owner = getpid();
		__atomic_store_n(&tracked[i].state, TRACK_LIVE, __ATOMIC_RELEASE);
		return 0;
	}
	return -1;
}

/* Forget dir if it is registered: a signal no longer removes it. */
static void untrack(const char *dir)
{
	for (size_t i = 0; i < LAB_TEMPDIR_SLOTS; i++) {
		int expect = TRACK_LIVE;

		if (__atomic_load_n(&tracked[i].state, __ATOMIC_ACQUIRE) != TRACK_LIVE ||
		    strcmp(tracked[i].dir, dir) != 0)
			continue;
		if (__atomic_compare_exchange_n(&tracked[i].state, &expect, TRACK_CLAIMED, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			__atomic_store_n(&tracked[i].state, TRACK_FREE, __ATOMIC_RELEASE);
	}
}

char *lab_tempdir(const char *prefix)
{
	const char *tmp = getenv("TMPDIR");

	return lab_tempdir_in(tmp && *tmp ? tmp : "/tmp", prefix);
}

char *lab_tempdir_in(const char *tmp, const char *prefix)
{
	size_t len;
	char *dir;

	len = strlen(tmp) + strlen(prefix) + 16;
	dir = malloc(len);
	if (!dir)
		return NULL;
	snprintf(dir, len, "%s/%s-XXXXXX", tmp, prefix);
	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	if (track(dir) != 0) {
		/* One a signal would leave behind is not made at all. */
		rmdir(dir);
		free(dir);
		errno = EMFILE;
		return NULL;
	}
	return dir;
}

/*
 * Removing a tree, async-signal-safe (the handler's calls and lab_rmtree's
 * are the same): open(O_DIRECTORY | O_NOFOLLOW), the getdents64 system call
 * into a buffer on the stack, unlinkat, close; no allocation, no stdio, no
 * DIR stream. A symbolic link is removed, never followed. Subdirectories are
 * entered down to LAB_RMTREE_DEPTH levels, which bounds the stack a handler
 * uses; what the commands make is at most two (qemu's initramfs tree,
 * root/bin/busybox).
 */
struct dirent64_rec {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int remove_tree_at(int at, const char *name, int depth);

/* Remove what the directory open as fd holds, depth levels of subdirectories down. */
static void empty_dir(int fd, int depth)
{
	char buf[2048] __attribute__((aligned(8)));
	long n;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			const struct dirent64_rec *e = (const void *)(buf + off);
			const char *nm = e->name;

			off += e->reclen;
			if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
				continue;
			if (unlinkat(fd, nm, 0) != 0 && errno == EISDIR && depth > 0)
				remove_tree_at(fd, nm, depth - 1);
		}
	}
}

/*
 * Empty the directory name (relative to at) and remove it. A file made in it
 * meanwhile (by a child still running) gets another pass; 0 or -1.
 */
static int remove_tree_at(int at, const char *name, int depth)
{
	for (int pass = 0; pass < 3; pass++) {
		int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd < 0)
			return -1;
		empty_dir(fd, depth);
		close(fd);
		if (unlinkat(at, name, AT_REMOVEDIR) == 0)
			return 0;
		if (errno != ENOTEMPTY && errno != EEXIST)
			return -1;
	}
	return -1;
}

void lab_tempdir_remove_all(void)
{
	int saved = errno;
	pid_t self = getpid();

	for (size_t i = 0; i < LAB_TEMPDIR_SLOTS; i++)
		if (__atomic_load_n(&tracked[i].state, __ATOMIC_ACQUIRE) == TRACK_LIVE &&
		    tracked[i].owner == self)
			remove_tree_at(AT_FDCWD, tracked[i].dir, LAB_RMTREE_DEPTH);
	errno = saved;
}

void lab_rmtree(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0) {
		empty_dir(fd, LAB_RMTREE_DEPTH);
		close(fd);
	}
	untrack(dir);
	remove_tree_at(AT_FDCWD, dir, LAB_RMTREE_DEPTH);
}
