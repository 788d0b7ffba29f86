// SPDX-License-Identifier: MIT
/*
 * A region whose client handed its userfaultfd over (PROTO_UFFD, with
 * SCM_RIGHTS), as Firecracker's VMM hands its uffd to a page-fault handler
 * process: the server reads the client's faults from the uffd and resolves
 * them itself, with no message to the client. The client's region is a
 * memfd mapped shared and registered with the uffd (missing and
 * write-protect modes); the memfd came with the uffd.
 *
 *   map      UFFDIO_COPY from the server's frame into the client's address
 *            (write-protected unless the access was a write): installs the
 *            page and wakes the faulting vCPU;
 *   unmap    a hole punched in the memfd, which removes the page from the
 *            client's mapping and KVM's: the next access is a missing fault
 *            again; a dirty page's bytes were read back before (the store's
 *            page_out, pread: never a mapping, so a client that shrinks its
 *            memfd cannot fault the server);
 *   referenced and dirty bits as the in-process KVM MMU keeps them
 *            (vmm/mmu_kvm.c): a mapped page counts as referenced and
 *            clearing the bit unmaps it, keeping its bytes in the frame (the
 *            next access is a soft fault, mapped again without I/O); a page
 *            mapped writable or written through a write-protect fault is
 *            dirty.
 *
 * The store is the region's memory store (r->data). One vCPU per client:
 * while the server evicts, the client's only vCPU sleeps in the fault.
 */
#include "server_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define HPAGE 4096u
#define H_MAPPED   0x1u
#define H_WRITABLE 0x2u
#define H_DIRTY    0x4u

struct handover {
	struct mmu mmu;            /* first: the pager's MMU */
	struct backing_store bs;   /* the memory store, with the client's bytes */
	struct region *r;
	int uffd, memfd;           /* -1 until PROTO_UFFD */
	uint64_t base;             /* the region's address in the client */
	uint8_t *frames;           /* r->frames pages: a resident page's bytes while
				      unmapped, and the source of every copy */
	uint8_t *state;            /* per page: H_* */
	int error;                 /* first -errno of an MMU call that cannot return one */
	uint64_t soft_faults, dirty_faults;
};

static struct handover *ho_of_mmu(struct mmu *m)
{
	return (struct handover *)m;
}

static struct handover *ho_of_bs(struct backing_store *bs)
{
	return (struct handover *)((char *)bs - offsetof(struct handover, bs));
}

static uint8_t *frame_bytes(struct handover *h, frame_t f)
{
	return h->frames + (size_t)f * HPAGE;
}

static void note(struct handover *h, int rc)
{
	if (rc && !h->error)
		h->error = rc;
}

/* The page's bytes as the client has them now (pread of the memfd). */
static int read_back(struct handover *h, vpn_t vpn, uint8_t *to)
{
	ssize_t n = pread(h->memfd, to, HPAGE, (off_t)vpn * HPAGE);

	return n == (ssize_t)HPAGE ? 0 : n < 0 ? -errno : -EIO;
}

/* Take the page out of the client's mapping (and KVM's). */
static int punch(struct handover *h, vpn_t vpn)
{
	return fallocate(h->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)vpn * HPAGE,
			 HPAGE) ? -errno : 0;
}

static int copy_in(struct handover *h, vpn_t vpn, frame_t f, bool writable)
{
	struct uffdio_copy copy = {
		.dst = h->base + (uint64_t)vpn * HPAGE,
		.src = (uint64_t)(uintptr_t)frame_bytes(h, f),
		.len = HPAGE,
		.mode = writable ? 0 : UFFDIO_COPY_MODE_WP,
	};

	while (ioctl(h->uffd, UFFDIO_COPY, &copy) != 0) {
		if (errno == EAGAIN)
			continue;
		return -errno;
	}
	return 0;
}

/* ---- the MMU ------------------------------------------------------------ */

static int h_map(struct mmu *m, vpn_t vpn, frame_t f, enum access_kind why)
{
	struct handover *h = ho_of_mmu(m);
	bool write = why == ACCESS_WRITE;
	int rc = copy_in(h, vpn, f, write);

	/* A sampled page mapped again keeps its dirty bit. */
	if (rc == 0)
		h->state[vpn] = (h->state[vpn] & H_DIRTY) | H_MAPPED |
				(write ? H_WRITABLE | H_DIRTY : 0);
	return rc;
}

/* An eviction: the pager wrote a dirty page back before (h_page_out read
 * it from the client; the server has no io_lock, pager.h), so the bytes
 * need not be kept; the frame is refilled next. */
static void h_unmap(struct mmu *m, vpn_t vpn, frame_t f)
{
	struct handover *h = ho_of_mmu(m);

	(void)f;
	if (h->state[vpn] & H_MAPPED)
		note(h, punch(h, vpn));
	h->state[vpn] = 0;
}

static bool h_referenced(struct mmu *m, vpn_t vpn, frame_t f)
{
	struct handover *h = ho_of_mmu(m);

	if (!(h->state[vpn] & H_MAPPED))
		return false;
	note(h, read_back(h, vpn, frame_bytes(h, f)));
	note(h, punch(h, vpn));
	h->state[vpn] &= (uint8_t)~(H_MAPPED | H_WRITABLE);
	return true;
}

static bool h_dirty(struct mmu *m, vpn_t vpn, frame_t f)
{
	struct handover *h = ho_of_mmu(m);
	bool was = h->state[vpn] & H_DIRTY;

	(void)f;
	h->state[vpn] &= (uint8_t)~H_DIRTY;
	return was;
}

static const struct mmu_ops h_mmu_ops = {
	.map = h_map,
	.unmap = h_unmap,
	.test_and_clear_referenced = h_referenced,
	.test_and_clear_dirty = h_dirty,
};

/* ---- the store ---------------------------------------------------------- */

static int h_page_in(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct handover *h = ho_of_bs(bs);

	memcpy(frame_bytes(h, f), h->r->data + (size_t)vpn * HPAGE, HPAGE);
	return 0;
}

static int h_zero_fill(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	(void)vpn;
	memset(frame_bytes(ho_of_bs(bs), f), 0, HPAGE);
	return 0;
}

/* Before the unmap (pager.h): a mapped page's bytes are the client's. */
static int h_page_out(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct handover *h = ho_of_bs(bs);
	uint8_t *to = h->r->data + (size_t)vpn * HPAGE;

	if (h->state[vpn] & H_MAPPED)
		return read_back(h, vpn, to);
	memcpy(to, frame_bytes(h, f), HPAGE);
	return 0;
}

static const struct store_ops h_store_ops = {
	.page_in = h_page_in, .zero_fill = h_zero_fill, .page_out = h_page_out,
};

/* ---- the region --------------------------------------------------------- */

struct handover *handover_create(struct region *r, uint32_t frames)
{
	struct handover *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	*h = (struct handover){ .mmu.ops = &h_mmu_ops, .bs.ops = &h_store_ops, .r = r,
				.uffd = -1, .memfd = -1 };
	h->frames = calloc(frames, HPAGE);
	h->state = calloc(r->npages, 1);
	if (!h->frames || !h->state) {
		handover_destroy(h);
		return NULL;
	}
	return h;
}

void handover_destroy(struct handover *h)
{
	if (!h)
		return;
	if (h->uffd >= 0)
		close(h->uffd);
	if (h->memfd >= 0)
		close(h->memfd);
	free(h->frames);
	free(h->state);
	free(h);
}

struct mmu *handover_mmu(struct handover *h)
{
	return &h->mmu;
}

struct backing_store *handover_store(struct handover *h)
{
	return &h->bs;
}

int handover_uffd(const struct handover *h)
{
	return h->uffd;
}

void handover_counts(const struct handover *h, uint64_t *soft, uint64_t *dirty)
{
	*soft = h->soft_faults;
	*dirty = h->dirty_faults;
}

int handover_save(struct handover *h, struct pager *p, vpn_t *bad)
{
	for (vpn_t vpn = 0; vpn < h->r->npages; vpn++) {
		frame_t f = pager_lookup(p, vpn);
		uint8_t *to = h->r->data + (size_t)vpn * HPAGE;
		int rc = 0;

		if (f == NO_FRAME)
			continue;
		if (h->state[vpn] & H_MAPPED)
			rc = read_back(h, vpn, to);
		else
			memcpy(to, frame_bytes(h, f), HPAGE);
		if (rc) {
			*bad = vpn;
			return rc;
		}
	}
	return 0;
}

/* Whether fd is a userfaultfd (an anonymous inode of that name). */
static bool is_uffd(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = 0;
	return strcmp(link, "anon_inode:[userfaultfd]") == 0;
}

int handover_attach(struct handover *h, int uffd, int memfd, uint64_t base, char *why,
		    size_t whylen)
{
	struct stat st;

	if (h->uffd >= 0) {
		snprintf(why, whylen, "region %u already handed over", h->r->id);
		return -EEXIST;
	}
	if (!is_uffd(uffd)) {
		snprintf(why, whylen, "the first descriptor is not a userfaultfd");
		return -EBADF;
	}
	if (fstat(memfd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < (uint64_t)h->r->npages * HPAGE) {
		snprintf(why, whylen, "the second descriptor is not a file of the region's %u pages",
			 h->r->npages);
		return -EBADF;
	}
	if (base > UINT64_MAX - (uint64_t)h->r->npages * HPAGE) {
		snprintf(why, whylen, "the region's address wraps");
		return -ERANGE;
	}
	h->uffd = uffd;
	h->memfd = memfd;
	h->base = base;
	return 0;
}

/*
 * A trap that is no miss: a page sampled (unmapped, kept in its frame)
 * accessed again is mapped again, a read-only one written is made writable
 * and dirty; anything else raced with the mapping: wake the vCPU.
 */
static int soft_fault(struct handover *h, vpn_t vpn, frame_t f, bool write, bool wp)
{
	if (!(h->state[vpn] & H_MAPPED)) {
		int rc = h_map(&h->mmu, vpn, f, write ? ACCESS_WRITE : ACCESS_READ);

		h->soft_faults += rc == 0;
		return rc;
	}
	if (wp || (write && !(h->state[vpn] & H_WRITABLE))) {
		struct uffdio_writeprotect un = {
			.range = { h->base + (uint64_t)vpn * HPAGE, HPAGE }, .mode = 0,
		};

		if (ioctl(h->uffd, UFFDIO_WRITEPROTECT, &un) != 0)
			return -errno;
		h->state[vpn] |= H_WRITABLE | H_DIRTY;
		h->dirty_faults++;
		return 0;
	}
	{
		struct uffdio_range range = { h->base + (uint64_t)vpn * HPAGE, HPAGE };

		return ioctl(h->uffd, UFFDIO_WAKE, &range) ? -errno : 0;
	}
}

/*
 * The uffd is readable: serve every fault queued. A miss goes through the
 * pager (region_miss); one it cannot read in is an ERROR to the client
 * (request type FAULT, seq 0), which fails its access closed. 0, or -1 when
 * the client is to be closed (an ERROR queued).
 */
int handover_serve(struct client *c, struct region *r, struct handover *h)
{
	for (;;) {
		struct proto_msg m = { .type = PROTO_FAULT };
		struct uffd_msg msg;
		ssize_t n = read(h->uffd, &msg, sizeof(msg));
		uint64_t addr;
		bool write, wp;
		vpn_t vpn;
		frame_t f;
		int rc;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n != (ssize_t)sizeof(msg)) {
			queue_error(c, r->id, 0, n < 0 ? errno : EIO, NULL,
				    "reading the handed-over userfaultfd failed");
			return -1;
		}
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		addr = msg.arg.pagefault.address;
		if (addr < h->base || addr - h->base >= (uint64_t)r->npages * HPAGE) {
			queue_error(c, r->id, 0, ERANGE, NULL,
				    "a fault outside the handed-over region");
			return -1;
		}
		vpn = (vpn_t)((addr - h->base) / HPAGE);
		wp = msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP;
		write = wp || (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE);
		f = pager_lookup(r->pager, vpn);
		if (f != NO_FRAME) {
			rc = soft_fault(h, vpn, f, write, wp);
		} else {
			m.u.fault.region = r->id;
			m.u.fault.page = vpn;
			m.u.fault.access = write ? ACCESS_WRITE : ACCESS_READ;
			if (region_miss(c, r, vpn, m.u.fault.access, &m) == NO_FRAME)
				return c->closing ? -1 : 0;
			rc = 0;
		}
		if (!rc)
			rc = h->error;
		if (rc) {
			queue_error(c, r->id, vpn, -rc, NULL, "the handed-over region failed: %s",
				    strerror(-rc));
			return -1;
		}
	}
}
