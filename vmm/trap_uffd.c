// SPDX-License-Identifier: MIT
/*
 * The uffd trap: absence is a missing page of anonymous memory registered
 * with userfaultfd (missing mode). A guest access makes KVM fault the page
 * in on the host; the kernel puts the vCPU thread to sleep and queues a
 * message that our handler thread reads, answers through the pager, and
 * resolves with UFFDIO_COPY, which installs the page and wakes the vCPU.
 *
 * Here the frame memory is a staging area: while a page is mapped its bytes
 * live in the region (UFFDIO_COPY copied them there), and unmapping copies
 * them back to the frame before MADV_DONTNEED drops the region's copy.
 *
 * The range is registered for write protection too: a page faulted in by a
 * read is installed write-protected (see mmu_kvm.c for why), and its first
 * write comes back through the same userfaultfd, so that every trap of this
 * mechanism reaches the one handler thread, in the order the vCPU made it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "region.h"

#define PAGE 4096u

static int uffd_trap_init(struct region *r, char *err, size_t errlen)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP |
				  (r->shared ? UFFD_FEATURE_WP_HUGETLBFS_SHMEM : 0) };
	struct uffdio_register reg;

	r->frames = mmap(NULL, (size_t)r->nframes * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->frames == MAP_FAILED) {
		r->frames = NULL;
		snprintf(err, errlen, "mapping %u frames: %s", r->nframes, strerror(errno));
		return -1;
	}
	if (r->shared) {
		/* Handed over: the pager server reads and drops the pages
		 * through the memfd (vmm/server/handover.c). */
		r->data_memfd = memfd_create("pflab-data", MFD_CLOEXEC);
		if (r->data_memfd < 0 || ftruncate(r->data_memfd, (off_t)region_bytes(r)) != 0) {
			snprintf(err, errlen, "data memfd of %u pages: %s", r->npages, strerror(errno));
			return -1;
		}
	}
	r->va = r->shared ? mmap(NULL, region_bytes(r), PROT_READ | PROT_WRITE, MAP_SHARED,
				 r->data_memfd, 0)
			  : mmap(NULL, region_bytes(r), PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->va == MAP_FAILED) {
		r->va = NULL;
		snprintf(err, errlen, "reserving %u data pages: %s", r->npages, strerror(errno));
		return -1;
	}
	r->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (r->uffd < 0) {
		snprintf(err, errlen, "userfaultfd: %s%s", strerror(errno),
			 errno == EPERM ? " (see /proc/sys/vm/unprivileged_userfaultfd)" : "");
		return -1;
	}
	if (ioctl(r->uffd, UFFDIO_API, &api) != 0) {
		snprintf(err, errlen, "UFFDIO_API: %s", strerror(errno));
		return -1;
	}
	reg = (struct uffdio_register){
		.range = { .start = (uint64_t)(uintptr_t)r->va, .len = region_bytes(r) },
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	};
	if (ioctl(r->uffd, UFFDIO_REGISTER, &reg) != 0) {
		snprintf(err, errlen, "UFFDIO_REGISTER: %s", strerror(errno));
		return -1;
	}
	r->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (r->stop_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void fail(struct region *r, const char *fmt, const char *what)
{
	snprintf(r->fault_err, sizeof(r->fault_err), fmt, what);
	__atomic_store_n(&r->failed, 1, __ATOMIC_RELEASE);
}

/*
 * The handler gives up: make the sleeping vCPU's fault fail, so that KVM_RUN
 * returns and the run reports. Unregistering alone would wake it into a
 * plain anonymous mapping, where the kernel fills a missing page with zeros
 * (Firecracker's documented hazard): the region becomes inaccessible first,
 * so the retried access fails (EFAULT) and no page that was not the data is
 * ever seen.
 */
void uffd_trap_fail_closed(struct region *r)
{
	struct uffdio_range range = { (uint64_t)(uintptr_t)r->va, region_bytes(r) };

	mprotect(r->va, region_bytes(r), PROT_NONE);
	ioctl(r->uffd, UFFDIO_UNREGISTER, &range);
}

/* The handler thread: one fault at a time, as the single vCPU makes them. */
static void *uffd_handler(void *arg)
{
	struct region *r = arg;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = r->uffd, .events = POLLIN },
			{ .fd = r->stop_fd, .events = POLLIN },
		};
		struct uffd_msg msg;
		ssize_t n;
		uint64_t off;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail(r, "poll on the userfaultfd: %s", strerror(errno));
			uffd_trap_fail_closed(r);
			break;
		}
		if (pfd[1].revents)
			break;
		n = read(r->uffd, &msg, sizeof(msg));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n != (ssize_t)sizeof(msg)) {
			fail(r, "reading the userfaultfd: %s", n < 0 ? strerror(errno) : "short read");
			uffd_trap_fail_closed(r);
			break;
		}
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		off = msg.arg.pagefault.address - (uint64_t)(uintptr_t)r->va;
		if (r->on_fault(r->fault_ctx, (vpn_t)(off / PAGE),
				(msg.arg.pagefault.flags &
				 (UFFD_PAGEFAULT_FLAG_WRITE | UFFD_PAGEFAULT_FLAG_WP)) ? ACCESS_WRITE
										       : ACCESS_READ) != 0) {
			/* on_fault said why. */
			__atomic_store_n(&r->failed, 1, __ATOMIC_RELEASE);
			uffd_trap_fail_closed(r);
			break;
		}
	}
	return NULL;
}

static int uffd_trap_start(struct region *r, char *err, size_t errlen)
{
	int rc = pthread_create(&r->thread, NULL, uffd_handler, r);

	if (rc) {
		snprintf(err, errlen, "userfaultfd handler thread: %s", strerror(rc));
		return -1;
	}
	r->thread_running = true;
	return 0;
}

static void uffd_trap_fini(struct region *r)
{
	if (r->thread_running) {
		uint64_t one = 1;

		if (write(r->stop_fd, &one, sizeof(one)) != sizeof(one))
			pthread_cancel(r->thread);
		pthread_join(r->thread, NULL);
		r->thread_running = false;
	}
	if (r->stop_fd >= 0)
		close(r->stop_fd);
	if (r->uffd >= 0)
		close(r->uffd);
	if (r->shared && r->data_memfd >= 0)
		close(r->data_memfd);
	if (r->va)
		munmap(r->va, region_bytes(r));
	if (r->frames)
		munmap(r->frames, (size_t)r->nframes * PAGE);
	r->va = r->frames = NULL;
	r->uffd = r->stop_fd = r->data_memfd = -1;
}

/* Install the page, write-protected unless the access was a write; the
 * copy wakes the vCPU. */
static int uffd_trap_map(struct region *r, vpn_t vpn, frame_t f, bool writable)
{
	struct uffdio_copy copy = {
		.dst = (uint64_t)(uintptr_t)(r->va + (size_t)vpn * PAGE),
		.src = (uint64_t)(uintptr_t)(r->frames + (size_t)f * PAGE),
		.len = PAGE,
		.mode = writable ? 0 : UFFDIO_COPY_MODE_WP,
	};

	while (ioctl(r->uffd, UFFDIO_COPY, &copy) != 0) {
		if (errno == EAGAIN)
			continue;
		return -errno;
	}
	return 0;
}

/* Lift the write protection, which wakes the vCPU. */
static int uffd_trap_make_writable(struct region *r, vpn_t vpn)
{
	struct uffdio_writeprotect wp = {
		.range = { (uint64_t)(uintptr_t)(r->va + (size_t)vpn * PAGE), PAGE },
		.mode = 0,
	};

	return ioctl(r->uffd, UFFDIO_WRITEPROTECT, &wp) ? -errno : 0;
}

static int uffd_trap_unmap(struct region *r, vpn_t vpn, frame_t f)
{
	uint8_t *at = r->va + (size_t)vpn * PAGE;

	memcpy(r->frames + (size_t)f * PAGE, at, PAGE);
	return madvise(at, PAGE, MADV_DONTNEED) ? -errno : 0;
}

static uint8_t *uffd_trap_page_bytes(struct region *r, vpn_t vpn, frame_t f, bool mapped)
{
	return mapped ? r->va + (size_t)vpn * PAGE : r->frames + (size_t)f * PAGE;
}

const struct trap_ops trap_uffd_ops = {
	.name = "uffd",
	.init = uffd_trap_init,
	.fini = uffd_trap_fini,
	.start = uffd_trap_start,
	.map = uffd_trap_map,
	.unmap = uffd_trap_unmap,
	.make_writable = uffd_trap_make_writable,
	.page_bytes = uffd_trap_page_bytes,
};
