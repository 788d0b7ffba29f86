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

/* --disk-latency for every I/O, and --disk-seek for one that does not
 * follow the last one on the disk (what a clustered layout saves). */
static void modelled_latency(struct swap_store *s, int64_t slot)
{
	int64_t last = __atomic_exchange_n(&s->last_io_slot, slot, __ATOMIC_RELAXED);
	uint64_t ns = s->latency_ns;
	struct timespec ts;

	if (slot != last + 1) {
		__atomic_fetch_add(&s->seeks, 1, __ATOMIC_RELAXED);
		ns += s->seek_ns;
	}
	ts.tv_sec = (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	if (ns)
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
			;
}

static int swap_page_in(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct swap_store *s = (struct swap_store *)bs;
	uint8_t *dst = s->page_bytes(s->ctx, vpn, f);
	int64_t slot = swap_layout_lookup(&s->layout, vpn);
	size_t done = 0;

	/* Atomic: the paging daemon writes on a thread of its own. */
	__atomic_fetch_add(&s->reads, 1, __ATOMIC_RELAXED);
	if (s->io)
		return io_do(s->io, &(struct io_req){ .op = IO_READ, .block = slot, .buf = dst });
	if (slot < 0) {
		/* No copy (dynamic layout): a page never written is zeroes,
		 * as an unwritten slot of the static layout reads. */
		memset(dst, 0, PAGE);
		modelled_latency(s, slot);
		return 0;
	}
	if (s->fd < 0) {
		memcpy(dst, s->mem + (size_t)slot * PAGE, PAGE);
		modelled_latency(s, slot);
		return 0;
	}
	while (done < PAGE) {
		ssize_t n = pread(s->fd, dst + done, PAGE - done, (off_t)slot * PAGE + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break; /* past the end of the file: a slot never written */
		done += (size_t)n;
	}
	memset(dst + done, 0, PAGE - done);
	modelled_latency(s, slot);
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
	off_t off = (off_t)swap_layout_lookup(&s->layout, vpn) * PAGE + 123;
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
	int64_t slot = swap_layout_write_begin(&s->layout, vpn);
	size_t done = 0;

	if (slot < 0)
		return (int)slot;
	__atomic_fetch_add(&s->writes, 1, __ATOMIC_RELAXED);
	if (s->io) {
		int rc = io_do(s->io, &(struct io_req){ .op = IO_WRITE, .block = slot,
							.buf = (uint8_t *)src });

		/* On failure the page's old copy, if any, is still its copy. */
		swap_layout_write_end(&s->layout, vpn, slot, rc == 0);
		if (rc)
			return rc;
		if (s->corrupt_vpn == (int64_t)vpn)
			return corrupt_slot(s, vpn);
		return 0;
	}
	if (s->fd < 0) {
		memcpy(s->mem + (size_t)slot * PAGE, src, PAGE);
	} else {
		while (done < PAGE) {
			ssize_t n = pwrite(s->fd, src + done, PAGE - done,
					   (off_t)slot * PAGE + (off_t)done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				/* The page's old copy, if any, is still its copy. */
				swap_layout_write_end(&s->layout, vpn, slot, false);
				return n < 0 ? -errno : -EIO;
			}
			done += (size_t)n;
		}
	}
	swap_layout_write_end(&s->layout, vpn, slot, true);
	modelled_latency(s, slot);
	if (s->corrupt_vpn == (int64_t)vpn)
		return corrupt_slot(s, vpn);
	return 0;
}

static const struct store_ops swap_ops = {
	.page_in = swap_page_in,
	.zero_fill = swap_zero_fill,
	.page_out = swap_page_out,
};

/* --disk-depth: the engine, on the store's file or memory. */
static int start_engine(struct swap_store *s, const struct swap_config *cfg, char *err,
			size_t errlen)
{
	if (!cfg->disk_depth)
		return 0;
	s->io = io_create(&(struct io_config){
		.fd = s->fd, .mem = s->mem, .nblocks = s->nslots, .depth = cfg->disk_depth,
		.sched = cfg->disk_sched, .latency_ns = cfg->latency_ns, .seek_ns = cfg->seek_ns,
	}, err, errlen);
	return s->io ? 0 : -1;
}

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
		.nslots = cfg->nslots ? cfg->nslots
				      : swap_layout_default_slots(cfg->layout, cfg->npages),
		.seek_ns = cfg->seek_ns,
		.last_io_slot = -2,
	};
	if (swap_layout_init(&s->layout, cfg->layout, cfg->npages, s->nslots, err, errlen) != 0)
		return -1;
	s->layout_ready = true;
	if (cfg->in_memory) {
		/* Untouched anonymous pages read as zeroes, like unwritten slots. */
		s->mem = mmap(NULL, (size_t)s->nslots * PAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (s->mem == MAP_FAILED) {
			s->mem = NULL;
			snprintf(err, errlen, "in-memory store of %u pages: %s", cfg->npages,
				 strerror(errno));
			return -1;
		}
		return start_engine(s, cfg, err, errlen);
	}
	if (cfg->path) {
		/* O_EXCL: a file pflab did not create is never truncated, and
		 * only a file it created is removed at close. */
		s->fd = open(cfg->path, cfg->reuse ? O_RDWR | O_CLOEXEC
						   : O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (s->fd < 0) {
			snprintf(err, errlen, "swap file %s: %s%s", cfg->path, strerror(errno),
				 errno == EEXIST ? " (--swap-reuse to use an existing file)" : "");
			return -1;
		}
		if (!cfg->reuse)
			snprintf(s->path, sizeof(s->path), "%s", cfg->path);
		return start_engine(s, cfg, err, errlen);
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
	return start_engine(s, cfg, err, errlen);
}

void swap_close(struct swap_store *s)
{
	io_destroy(s->io); /* first: its workers use the file or the memory */
	s->io = NULL;
	if (s->mem)
		munmap(s->mem, (size_t)s->nslots * PAGE);
	if (s->layout_ready)
		swap_layout_fini(&s->layout);
	s->layout_ready = false;
	if (s->fd >= 0)
		close(s->fd);
	if (s->path[0])
		unlink(s->path);
	s->mem = NULL;
	s->fd = -1;
	s->path[0] = '\0';
}
