// SPDX-License-Identifier: MIT
/*
 * A region's store: the pager's struct backing_store (store.h) over one of
 * four places a page's copy can live, each page at page * page_size:
 *
 *   swap      an anonymous temporary file (O_TMPFILE, or created and
 *             unlinked at once): no name ever outlives the program;
 *   memory    anonymous memory, reserved, not counted against the frames;
 *   file      an existing file from an offset: the region is a shared
 *             mapping of it, dirty pages go back to it;
 *   callbacks the program's read and write functions (umap's stores).
 *
 * The bytes move between the store and wherever the page is now
 * (uvm_page_bytes): its frame, or the region while it is mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "uvm_internal.h"

static inline struct uvm_store *store_of(struct backing_store *bs)
{
	return (struct uvm_store *)bs;
}

static void modelled_latency(const struct uvm_store *s)
{
	struct timespec ts = { (time_t)(s->latency_ns / 1000000000u),
			       (long)(s->latency_ns % 1000000000u) };

	if (s->latency_ns)
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
			;
}

/* pread/pwrite the whole page; a read past the end of the file reads zeros,
 * as a mapped file's last page does. */
static int file_io(struct uvm_store *s, vpn_t vpn, uint8_t *buf, bool write)
{
	size_t psz = s->r->psz, done = 0;
	off_t at = s->offset + (off_t)vpn * (off_t)psz;

	while (done < psz) {
		ssize_t n = write ? pwrite(s->fd, buf + done, psz - done, at + (off_t)done)
				  : pread(s->fd, buf + done, psz - done, at + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0 && write)
			return -EIO;
		if (n == 0) {
			memset(buf + done, 0, psz - done);
			break;
		}
		done += (size_t)n;
	}
	return 0;
}

static int store_page_in(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct uvm_store *s = store_of(bs);
	uint8_t *dst = uvm_page_bytes(s->r, vpn, f);
	size_t psz = s->r->psz;

	modelled_latency(s);
	switch (s->kind) {
	case UVM_STORE_MEMORY:
		memcpy(dst, s->mem + (size_t)vpn * psz, psz);
		return 0;
	case UVM_STORE_CALLBACKS:
		return s->cb.read(s->cb.ctx, vpn, dst, psz);
	default:
		return file_io(s, vpn, dst, false);
	}
}

static int store_zero_fill(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct uvm_store *s = store_of(bs);

	memset(uvm_page_bytes(s->r, vpn, f), 0, s->r->psz);
	return 0;
}

/* The test knob: flip byte 123 of the page's stored copy, once. */
static void corrupt(struct uvm_store *s, vpn_t vpn)
{
	size_t at = (size_t)vpn * s->r->psz + 123;
	unsigned char b;

	s->corrupt_page = -2;
	if (s->kind == UVM_STORE_MEMORY) {
		s->mem[at] ^= 0x5a;
	} else if (s->kind != UVM_STORE_CALLBACKS &&
		   pread(s->fd, &b, 1, s->offset + (off_t)at) == 1) {
		b ^= 0x5a;
		if (pwrite(s->fd, &b, 1, s->offset + (off_t)at) != 1)
			s->corrupt_page = (int64_t)vpn; /* try again at the next write */
	}
}

static int store_page_out(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct uvm_store *s = store_of(bs);
	uint8_t *src = uvm_page_bytes(s->r, vpn, f);
	size_t psz = s->r->psz;
	int rc;

	modelled_latency(s);
	switch (s->kind) {
	case UVM_STORE_MEMORY:
		memcpy(s->mem + (size_t)vpn * psz, src, psz);
		rc = 0;
		break;
	case UVM_STORE_CALLBACKS:
		rc = s->cb.write(s->cb.ctx, vpn, src, psz);
		break;
	default:
		rc = file_io(s, vpn, src, true);
		break;
	}
	if (rc == 0 && (int64_t)vpn == s->corrupt_page)
		corrupt(s, vpn);
	return rc;
}

static const struct store_ops uvm_store_ops = {
	.page_in = store_page_in,
	.zero_fill = store_zero_fill,
	.page_out = store_page_out,
};

static int open_tmpfile(char *err, size_t errlen)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* File systems without O_TMPFILE: create, then unlink at once. */
	snprintf(path, sizeof(path), "%s/pflab-uvm-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "temporary swap file in %s: %s", dir, strerror(errno));
		return -1;
	}
	unlink(path);
	return fd;
}

static int open_file(struct uvm_store *s, const struct uvm_config *cfg, char *err, size_t errlen)
{
	struct stat st;

	if (!cfg->file) {
		snprintf(err, errlen, "a file store needs a file");
		return -1;
	}
	if (cfg->file_offset < 0 || cfg->file_offset % (off_t)s->r->psz) {
		snprintf(err, errlen, "file offset %lld is not a multiple of the page size %zu",
			 (long long)cfg->file_offset, s->r->psz);
		return -1;
	}
	s->fd = open(cfg->file, O_RDWR | O_CLOEXEC);
	if (s->fd < 0) {
		snprintf(err, errlen, "%s: %s", cfg->file, strerror(errno));
		return -1;
	}
	s->own_fd = true;
	if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", cfg->file);
		return -1;
	}
	s->offset = cfg->file_offset;
	return 0;
}

int uvm_store_open(struct uvm_region *r, const struct uvm_config *cfg, char *err, size_t errlen)
{
	struct uvm_store *s = &r->store;

	*s = (struct uvm_store){ .bs.ops = &uvm_store_ops, .r = r, .kind = cfg->store, .fd = -1,
				 .latency_ns = cfg->disk_latency_ns,
				 .corrupt_page = cfg->corrupt && cfg->corrupt_page < cfg->pages
						 ? (int64_t)cfg->corrupt_page : -1 };
	switch (cfg->store) {
	case UVM_STORE_SWAP:
		s->fd = open_tmpfile(err, errlen);
		s->own_fd = s->fd >= 0;
		return s->fd >= 0 ? 0 : -1;
	case UVM_STORE_MEMORY:
		s->mem_len = r->len;
		s->mem = mmap(NULL, s->mem_len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (s->mem == MAP_FAILED) {
			s->mem = NULL;
			snprintf(err, errlen, "memory store of %zu bytes: %s", r->len, strerror(errno));
			return -1;
		}
		return 0;
	case UVM_STORE_FILE:
		return open_file(s, cfg, err, errlen);
	case UVM_STORE_CALLBACKS:
		s->cb = cfg->callbacks;
		if (!s->cb.read || !s->cb.write) {
			snprintf(err, errlen, "a callback store needs read and write functions");
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown store kind %d", (int)cfg->store);
	return -1;
}

void uvm_store_close(struct uvm_store *s)
{
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	if (s->mem)
		munmap(s->mem, s->mem_len);
	s->fd = -1;
	s->mem = NULL;
}
