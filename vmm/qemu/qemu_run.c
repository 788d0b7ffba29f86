// SPDX-License-Identifier: MIT
/*
 * qemu_run.h: QEMU as a child process, its console on a pipe. Nothing here
 * waits without bound on anything but QEMU itself, which the caller's
 * signal (passed on) can end.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu_run.h"

struct console {
	char line[QEMU_RUN_MAX_LINE];
	size_t len;
	FILE *echo;
	const char *prefix;
	struct qemu_run_result *r;
};

static void console_line(struct console *c)
{
	struct qemu_guest_exit e;

	while (c->len && c->line[c->len - 1] == '\r')
		c->len--;
	c->line[c->len] = '\0';
	if (qemu_guest_exit_parse(c->line, &e)) {
		c->r->exit_seen = true;
		c->r->exit = e;
	}
	if (c->echo) {
		fprintf(c->echo, "%s%s\n", c->prefix ? c->prefix : "", c->line);
		fflush(c->echo);
	}
	c->r->lines++;
	c->len = 0;
}

static void console_bytes(struct console *c, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			console_line(c);
			continue;
		}
		if (c->len == sizeof(c->line) - 1)
			console_line(c);
		c->line[c->len++] = buf[i];
	}
}

static pid_t start(char *const *argv, int out)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0)
			_exit(QEMU_RUN_NOEXEC);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(argv[0], argv);
		dprintf(STDERR_FILENO, "pflab: %s: %s\n", argv[0], strerror(errno));
		_exit(QEMU_RUN_NOEXEC);
	}
	return pid;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* How long poll() may wait: until the deadline, -1 without one, 0 once past it. */
static int poll_wait(uint64_t deadline)
{
	uint64_t t = now_ms();

	if (!deadline)
		return -1;
	return t >= deadline ? 0 : deadline - t > 60000 ? 60000 : (int)(deadline - t);
}

int qemu_run(char *const *argv, FILE *echo, const char *prefix,
	     const volatile sig_atomic_t *interrupted, uint64_t timeout_ms,
	     struct qemu_run_result *r)
{
	struct console *c = malloc(sizeof(*c)); /* a 4 KiB line: not on the stack */
	bool passed_on = false;
	uint64_t deadline;
	char buf[4096];
	int fds[2], ws;
	pid_t pid;

	*r = (struct qemu_run_result){ .status = -1 };
	if (!c)
		return -1;
	*c = (struct console){ .echo = echo, .prefix = prefix, .r = r };
	if (pipe2(fds, O_CLOEXEC) != 0) {
		free(c);
		return -1;
	}
	fflush(NULL);
	pid = start(argv, fds[1]);
	deadline = timeout_ms ? now_ms() + timeout_ms : 0;
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		free(c);
		return -1;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		ssize_t n = -1;

		if (poll(&pfd, 1, r->timed_out ? -1 : poll_wait(deadline)) > 0)
			n = read(fds[0], buf, sizeof(buf));
		else if (!r->timed_out && deadline && now_ms() >= deadline) {
			kill(pid, SIGKILL); /* its console closes: the loop ends */
			r->timed_out = true;
			continue;
		} else
			errno = EINTR;
		if (interrupted && *interrupted && !passed_on) {
			kill(pid, *interrupted);
			passed_on = true;
		}
		if (n > 0) {
			console_bytes(c, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (c->len)
		console_line(c);
	free(c);
	close(fds[0]);
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR)
			return -1;
		if (interrupted && *interrupted && !passed_on) {
			kill(pid, *interrupted);
			passed_on = true;
		}
	}
	r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return 0;
}

int qemu_run_verdict(const struct qemu_run_result *r, char *why, size_t len)
{
	if (r->timed_out) {
		snprintf(why, len, "timed out: the guest was still running, QEMU killed");
		return -1;
	}
	if (r->status == QEMU_RUN_NOEXEC) {
		snprintf(why, len, "QEMU could not be started");
		return -1;
	}
	if (r->status > 128) {
		snprintf(why, len, "QEMU was killed by signal %d", r->status - 128);
		return -1;
	}
	if (!r->exit_seen || r->status % 2 == 0) {
		snprintf(why, len, "the guest did not exit through isa-debug-exit (QEMU exit status "
			 "%d: a crash, a reboot, or QEMU's own error)", r->status);
		return -1;
	}
	if ((uint32_t)(r->status - 1) / 2 != (r->exit.status & 0x7f)) {
		snprintf(why, len, "the guest said status %u but QEMU exited with %d", r->exit.status,
			 r->status);
		return -1;
	}
	if (r->exit.status != 0) {
		snprintf(why, len, "the guest exited with status %u (%s)", r->exit.status,
			 r->exit.status == 1 ? "data mismatch"
			 : r->exit.status == 2 ? "gave up on a page"
			 : "it could not run what it was given");
		return -1;
	}
	snprintf(why, len, "the guest exited with status 0");
	return 0;
}
