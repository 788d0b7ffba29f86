// SPDX-License-Identifier: MIT
/*
 * qemu_initramfs.h: the tree written into a directory, then packed by
 * cpio -o -H newc, whose file list comes on its standard input (from a
 * memory file: a cpio that fails to start must not kill us with SIGPIPE).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu_cmd.h"
#include "qemu_initramfs.h"

/* /init: the script's status, in the line and to isa-debug-exit (0xf4 = 244). */
static const char init_script[] =
	"#!/bin/sh\n"
	"# pflab's /init (vmm/qemu/qemu_initramfs.c): run /workload, report, power off.\n"
	"/bin/busybox --install -s /bin\n"
	"mount -t devtmpfs dev /dev\n"
	"exec </dev/console >/dev/console 2>&1\n"
	"mount -t proc proc /proc\n"
	"mount -t sysfs sys /sys\n"
	"echo pflab-linux: workload starts\n"
	"/bin/sh /workload\n"
	"s=$?\n"
	"echo pflab-exit status=$s refs=0 errors=0\n"
	"printf \"\\\\$(printf %03o $s)\" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null\n"
	"echo pflab-linux: isa-debug-exit did not end QEMU\n"
	"poweroff -f\n";

static const char *const tree[] = {
	"init", "workload", "bin", "bin/busybox", "bin/sh", "dev", "proc", "sys", "tmp", NULL,
};

static int copy_file(const char *from, const char *to, mode_t mode, char *err, size_t errlen)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n = 0;

	if (in < 0) {
		snprintf(err, errlen, "%s: %s", from, strerror(errno));
		return -1;
	}
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0) {
		snprintf(err, errlen, "%s: %s", to, strerror(errno));
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (n < 0)
		snprintf(err, errlen, "copying %s: %s", from, strerror(errno));
	close(in);
	if (close(out) != 0 && n == 0) {
		snprintf(err, errlen, "%s: %s", to, strerror(errno));
		n = -1;
	}
	return n < 0 ? -1 : 0;
}

static int write_text(const char *path, const char *text, char *err, size_t errlen)
{
	FILE *f = fopen(path, "wx");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	return chmod(path, 0755);
}

static int make_tree(const char *busybox, const char *script, const char *dir, char *err,
		     size_t errlen)
{
	static const char *const dirs[] = { "bin", "dev", "proc", "sys", "tmp" };
	char path[4096];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
		if (mkdir(path, 0755) != 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	snprintf(path, sizeof(path), "%s/init", dir);
	if (write_text(path, init_script, err, errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/workload", dir);
	if (copy_file(script, path, 0755, err, errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/bin/busybox", dir);
	if (copy_file(busybox, path, 0755, err, errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/bin/sh", dir);
	if (symlink("busybox", path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The member list in an anonymous memory file, read from its start: no
 * pipe, so a cpio that dies early cannot leave us writing to nothing. */
static int member_list(void)
{
	int fd = memfd_create("pflab-initramfs-list", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	for (size_t i = 0; tree[i]; i++)
		if (dprintf(fd, "%s\n", tree[i]) < 0) {
			close(fd);
			return -1;
		}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* cpio -o -H newc in dir, the list on its stdin, the archive to out. */
static int run_cpio(const char *cpio, const char *dir, const char *out, char *err, size_t errlen)
{
	int list, ofd, ws = 0;
	pid_t pid;

	list = member_list();
	if (list < 0) {
		snprintf(err, errlen, "the member list: %s", strerror(errno));
		return -1;
	}
	ofd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (ofd < 0) {
		snprintf(err, errlen, "%s: %s", out, strerror(errno));
		close(list);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (chdir(dir) != 0 || dup2(list, STDIN_FILENO) < 0 ||
		    dup2(ofd, STDOUT_FILENO) < 0 || null < 0 || dup2(null, STDERR_FILENO) < 0)
			_exit(127);
		execlp(cpio, cpio, "-o", "-H", "newc", "--quiet", (char *)NULL);
		_exit(127);
	}
	close(list);
	close(ofd);
	if (pid < 0 || waitpid(pid, &ws, 0) < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		snprintf(err, errlen, "%s -o -H newc failed%s", cpio,
			 pid > 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 127
			 ? " to start (tools/install-deps installs cpio)" : "");
		unlink(out);
		return -1;
	}
	return 0;
}

int qemu_initramfs_build(const char *busybox, const char *script, const char *dir,
			 const char *cpio, const char *out, char *err, size_t errlen)
{
	if (make_tree(busybox, script, dir, err, errlen) != 0)
		return -1;
	return run_cpio(cpio ? cpio : "cpio", dir, out, err, errlen);
}
