// SPDX-License-Identifier: MIT
/* The swap file: see swap.h. */
#include "swap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u

static void modelled_latency(const struct swap_store *s)
{
	struct timespec ts = {
		.tv_sec = (time_t)(s->latency_ns / 1000000000u),
		.tv_nsec = (long)(s->latency_ns % 1000000000u),
	};

	if (s->latency_ns)
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
			;
}

static int swap_page_in(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct swap_store *s = (struct swap_store *)bs;
	uint8_t *dst = s->page_bytes(s->ctx, vpn, f);
	size_t done = 0;

	/* Atomic: the paging daemon writes on a thread of its own. */
	__atomic_fetch_add(&s->reads, 1, __ATOMIC_RELAXED);
	if (s->fd < 0) {
		memcpy(dst, s->mem + (size_t)vpn * PAGE, PAGE);
		modelled_latency(s);
		return 0;
	}
	while (done < PAGE) {
		ssize_t n = pread(s->fd, dst + done, PAGE - done, (off_t)vpn * PAGE + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break; /* past the end of the file: a slot never written */
		done += (size_t)n;
	}
	memset(dst + done, 0, PAGE - done);
	modelled_latency(s);
	return 0;
}

static int swap_zero_fill(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct swap_store *s = (struct swap_store *)bs;

	memset(s->page_bytes(s->ctx, vpn, f), 0, PAGE);
	return 0;
}

/* The corruption knob: the slot now holds a copy the guest will not
 * recognise when it reads the page back. */
static int corrupt_slot(struct swap_store *s, vpn_t vpn)
{
	off_t off = (off_t)vpn * PAGE + 123;
	uint8_t b;

	s->corrupt_vpn = -1;
	if (s->fd < 0) {
		s->mem[off] ^= 0x40;
		return 0;
	}
	if (pread(s->fd, &b, 1, off) != 1)
		return -EIO;
	b ^= 0x40;
	return pwrite(s->fd, &b, 1, off) == 1 ? 0 : -EIO;
}

static int swap_page_out(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct swap_store *s = (struct swap_store *)bs;
	const uint8_t *src = s->page_bytes(s->ctx, vpn, f);
	size_t done = 0;

	__atomic_fetch_add(&s->writes, 1, __ATOMIC_RELAXED);
	if (s->fd < 0) {
		memcpy(s->mem + (size_t)vpn * PAGE, src, PAGE);
	} else {
		while (done < PAGE) {
			ssize_t n = pwrite(s->fd, src + done, PAGE - done,
					   (off_t)vpn * PAGE + (off_t)done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			done += (size_t)n;
		}
	}
	modelled_latency(s);
	if (s->corrupt_vpn == (int64_t)vpn)
		return corrupt_slot(s, vpn);
	return 0;
}

static const struct store_ops swap_ops = {
	.page_in = swap_page_in,
	.zero_fill = swap_zero_fill,
	.page_out = swap_page_out,
};

int swap_open(struct swap_store *s, const struct swap_config *cfg, char *err, size_t errlen)
{
	*s = (struct swap_store){
		.bs.ops = &swap_ops,
		.fd = -1,
		.npages = cfg->npages,
		.latency_ns = cfg->latency_ns,
		.corrupt_vpn = cfg->corrupt_vpn,
		.page_bytes = cfg->page_bytes,
		.ctx = cfg->ctx,
	};
	if (cfg->in_memory) {
		/* Untouched anonymous pages read as zeroes, like unwritten slots. */
		s->mem = mmap(NULL, (size_t)cfg->npages * PAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (s->mem == MAP_FAILED) {
			s->mem = NULL;
			snprintf(err, errlen, "in-memory store of %u pages: %s", cfg->npages,
				 strerror(errno));
			return -1;
		}
		return 0;
	}
	if (cfg->path) {
		s->fd = open(cfg->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (s->fd < 0) {
			snprintf(err, errlen, "swap file %s: %s", cfg->path, strerror(errno));
			return -1;
		}
		snprintf(s->path, sizeof(s->path), "%s", cfg->path);
		return 0;
	}
	/* The default: a temporary file with no name at all, so that nothing
	 * is left behind however the run ends. */
	{
		const char *dir = getenv("TMPDIR");

		if (!dir || !*dir)
			dir = "/tmp";
		s->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (s->fd < 0) {
			char tmpl[4096];

			/* File systems without O_TMPFILE: create, then unlink at once. */
			snprintf(tmpl, sizeof(tmpl), "%s/pflab-swap-XXXXXX", dir);
			s->fd = mkostemp(tmpl, O_CLOEXEC);
			if (s->fd < 0) {
				snprintf(err, errlen, "temporary swap file in %s: %s", dir,
					 strerror(errno));
				return -1;
			}
			unlink(tmpl);
		}
	}
	return 0;
}

void swap_close(struct swap_store *s)
{
	if (s->mem)
		munmap(s->mem, (size_t)s->npages * PAGE);
	if (s->fd >= 0)
		close(s->fd);
	if (s->path[0])
		unlink(s->path);
	s->mem = NULL;
	s->fd = -1;
	s->path[0] = '\0';
}
