// SPDX-License-Identifier: MIT
/*
 * The uffd trap: a region is anonymous memory registered with the context's
 * one userfaultfd, in missing mode and, where the kernel has it, in
 * write-protect mode. A thread that touches an absent page sleeps in the
 * kernel while a filler thread reads the message, runs the pager and
 * resolves it with UFFDIO_COPY, which installs the page and wakes it.
 *
 * One userfaultfd serves every region of the context, so thousands of
 * regions cost no file descriptor or thread each.
 *
 * Fail closed: a fault the pager cannot serve (the store's read failed, no
 * frame) is answered with UFFDIO_POISON, so the access gets SIGBUS with its
 * address; a watchdog poisons a fault a filler has not answered within the
 * region's bound. A kernel without UFFDIO_POISON (before 6.6) could only
 * leave the thread asleep or wake it to zeros: the trap is refused there.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "uvm_internal.h"

/* Linux 6.6's UFFDIO_POISON, for older headers (Debian 12 has 6.1's). */
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#endif
#ifndef UFFDIO_POISON
struct uffdio_poison {
	struct uffdio_range range;
	__u64 mode;
	__s64 updated;
};
#define _UFFDIO_POISON 0x08
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define SMALL_PAGE 4096u

static inline uint64_t addr_of(struct uvm_region *r, vpn_t vpn)
{
	return (uint64_t)(uintptr_t)(r->va + (size_t)vpn * r->psz);
}

static int poison(int uffd, uint64_t addr, uint64_t len)
{
	struct uffdio_poison p = { .range = { addr, len } };

	return ioctl(uffd, UFFDIO_POISON, &p) ? -errno : 0;
}

static void wake(int uffd, uint64_t addr, uint64_t len)
{
	struct uffdio_range range = { addr, len };

	ioctl(uffd, UFFDIO_WAKE, &range);
}

/* ---- the fillers ------------------------------------------------------------ */

struct filler {
	struct uvm *u;
	unsigned id;
};

static void serve(struct uvm *u, unsigned id, const struct uffd_msg *msg)
{
	uint64_t a = msg->arg.pagefault.address;
	struct uvm_region *r = uvm_lookup(u, (void *)(uintptr_t)a);
	enum access_kind kind = (msg->arg.pagefault.flags &
				 (UFFD_PAGEFAULT_FLAG_WRITE | UFFD_PAGEFAULT_FLAG_WP)) ? ACCESS_WRITE
										       : ACCESS_READ;
	struct uvm_green *g;
	struct uvm_req *q = NULL;
	vpn_t vpn;
	int rc;

	if (!r) /* a region unmapped meanwhile: let the thread see it is gone */
		return wake(u->uffd, a & ~(uint64_t)(SMALL_PAGE - 1), SMALL_PAGE);
	vpn = (vpn_t)((a - (uint64_t)(uintptr_t)r->va) / r->psz);
	/* A green thread's fault that may need I/O: its carrier is told at
	 * once, parks the thread and runs another while this filler serves the
	 * fault. (A soft fault or a first write is served at once.) */
	g = (u->features & UFFD_FEATURE_THREAD_ID) &&
		    !(__atomic_load_n(&r->state[vpn], __ATOMIC_RELAXED) & (UPG_MAPPED | UPG_SOFT))
		    ? uvm_green_on(u, (pid_t)msg->arg.pagefault.feat.ptid) : NULL;
	if (g && (q = uvm_req_new(u, r, vpn, kind, false)))
		uvm_green_kick((pid_t)msg->arg.pagefault.feat.ptid, q);
	__atomic_store_n(&u->inflight_poisoned[id], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&u->inflight_start[id], uvm_now_ns() + r->fill_timeout_ns,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&u->inflight_addr[id], a | 1, __ATOMIC_RELEASE);
	rc = uvm_region_fault(r, vpn, kind);
	__atomic_store_n(&u->inflight_addr[id], 0, __ATOMIC_RELEASE);
	if (__atomic_load_n(&u->inflight_poisoned[id], __ATOMIC_ACQUIRE)) {
		/* The watchdog answered with SIGBUS already: drop its marker so
		 * the next access faults afresh (the page is not resident if
		 * the install failed, as it must have over the marker). */
		pthread_mutex_lock(&r->lock);
		if (!(r->state[vpn] & (UPG_MAPPED | UPG_SOFT)))
			madvise(r->va + (size_t)vpn * r->psz, r->psz, MADV_DONTNEED);
		pthread_mutex_unlock(&r->lock);
	} else if (rc < 0) {
		pthread_mutex_lock(&r->lock);
		if (!(r->state[vpn] & (UPG_MAPPED | UPG_SOFT)) &&
		    poison(u->uffd, addr_of(r, vpn), r->psz) == 0)
			r->state[vpn] |= UPG_POISONED;
		else
			wake(u->uffd, addr_of(r, vpn), r->psz);
		pthread_mutex_unlock(&r->lock);
	} else if (rc > 0) {
		/* Already served (a second thread's fault on the same page, or
		 * a write-protect fault on a page evicted meanwhile): wake. */
		wake(u->uffd, addr_of(r, vpn), r->psz);
	}
	if (q) /* after the page is installed or poisoned */
		uvm_req_complete(u, q, rc);
	uvm_release(r);
}

/* Each filler waits in an epoll set of its own, where the userfaultfd is
 * EPOLLEXCLUSIVE: a fault wakes one idle filler, not all of them (with
 * poll(), every message woke every filler, and all but one found nothing). */
static int filler_epoll(struct uvm *u)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event fault = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = 0 };
	struct epoll_event stop = { .events = EPOLLIN, .data.u32 = 1 };

	if (ep >= 0 && (epoll_ctl(ep, EPOLL_CTL_ADD, u->uffd, &fault) != 0 ||
			epoll_ctl(ep, EPOLL_CTL_ADD, u->stop_fd, &stop) != 0)) {
		close(ep);
		ep = -1;
	}
	return ep;
}

static void *filler_main(void *arg)
{
	struct filler *fl = arg;
	struct uvm *u = fl->u;
	unsigned id = fl->id;
	int ep = filler_epoll(u);

	free(fl);
	uvm_filler_slack();
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = u->uffd, .events = POLLIN },
			{ .fd = u->stop_fd, .events = POLLIN },
		};
		struct epoll_event ev[2];
		struct uffd_msg msg;
		bool stop = false;
		ssize_t n;
		int k;

		/* Without an epoll set (out of descriptors): poll, as before. */
		k = ep >= 0 ? epoll_wait(ep, ev, 2, -1) : poll(pfd, 2, -1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; ep >= 0 && i < k; i++)
			stop |= ev[i].data.u32 == 1;
		if (ep < 0)
			stop = pfd[1].revents != 0;
		if (stop)
			break;
		n = read(u->uffd, &msg, sizeof(msg));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n != (ssize_t)sizeof(msg))
			break;
		if (msg.event == UFFD_EVENT_PAGEFAULT)
			serve(u, id, &msg);
	}
	if (ep >= 0)
		close(ep);
	return NULL;
}

/* The watchdog: a fault a filler has served longer than its region's bound
 * is poisoned, so the sleeping thread gets SIGBUS instead of waiting. */
static void *watchdog_main(void *arg)
{
	struct uvm *u = arg;

	for (;;) {
		struct pollfd pfd = { .fd = u->stop_fd, .events = POLLIN };
		struct uvm_region *r;
		uint64_t now;

		if (poll(&pfd, 1, 5) > 0)
			break;
		now = uvm_now_ns();
		for (unsigned i = 0; i < u->nfillers; i++) {
			uint64_t a = __atomic_load_n(&u->inflight_addr[i], __ATOMIC_ACQUIRE);
			uint64_t page = (a & ~1ull) & ~(uint64_t)(SMALL_PAGE - 1);

			if (!a || now < __atomic_load_n(&u->inflight_start[i], __ATOMIC_RELAXED))
				continue;
			if (__atomic_exchange_n(&u->inflight_poisoned[i], 1, __ATOMIC_ACQ_REL)) {
				/* Poisoned at an earlier tick, and its filler is
				 * still out: wake the page again. A thread whose
				 * fault found the page absent just before the
				 * poison, and went to sleep just after its wake,
				 * sleeps on (the kernel waits on a poison marker
				 * as on an absent page) until a wake: this one. */
				wake(u->uffd, page, SMALL_PAGE);
				continue;
			}
			r = uvm_lookup(u, (void *)(uintptr_t)(a & ~1ull));
			if (r) { /* counted before the thread wakes to its SIGBUS */
				__atomic_add_fetch(&r->timeouts, 1, __ATOMIC_RELAXED);
				uvm_release(r);
			}
			poison(u->uffd, page, SMALL_PAGE);
		}
	}
	return NULL;
}

/* ---- the context's userfaultfd ------------------------------------------- */

static int open_uffd(char *err, size_t errlen)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	/* Without privilege, a userfaultfd may still handle faults of user
	 * mode only (Linux 5.11+): then a system call that writes into a
	 * region's absent page fails with EFAULT instead of waiting. */
	if (fd < 0 && errno == EPERM)
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0)
		snprintf(err, errlen, "userfaultfd: %s%s", strerror(errno),
			 errno == EPERM ? " (not privileged, and this kernel refuses "
					  "UFFD_USER_MODE_ONLY: see /proc/sys/vm/unprivileged_userfaultfd)"
					: "");
	return fd;
}

int uvm_uffd_check_features(uint64_t features, char *err, size_t errlen)
{
	if (features & UFFD_FEATURE_POISON)
		return 0;
	snprintf(err, errlen, "userfaultfd: this kernel has no UFFDIO_POISON (Linux 6.6+), "
		 "so a page that cannot be read could not reach the faulting thread as an "
		 "error: use the sigsegv trap");
	return -1;
}

int uvm_uffd_open(struct uvm *u, char *err, size_t errlen)
{
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_POISON |
					      UFFD_FEATURE_THREAD_ID };
	int rc;

	if (u->uffd >= 0)
		return 0;
	u->uffd = open_uffd(err, errlen);
	if (u->uffd < 0)
		return -1;
	if (ioctl(u->uffd, UFFDIO_API, &api) != 0) {
		/* An older kernel refuses features it does not know: ask for
		 * none, and see what it has. */
		close(u->uffd);
		u->uffd = open_uffd(err, errlen);
		api = (struct uffdio_api){ .api = UFFD_API };
		if (u->uffd < 0 || ioctl(u->uffd, UFFDIO_API, &api) != 0) {
			snprintf(err, errlen, "UFFDIO_API: %s", strerror(errno));
			goto fail;
		}
	}
	u->features = api.features;
	if (uvm_uffd_check_features(u->features, err, errlen) != 0)
		goto fail;
	u->stop_fd = eventfd(0, EFD_CLOEXEC);
	u->fillers = calloc(u->nfillers, sizeof(*u->fillers));
	u->inflight_addr = calloc(u->nfillers, sizeof(uint64_t));
	u->inflight_start = calloc(u->nfillers, sizeof(uint64_t));
	u->inflight_poisoned = calloc(u->nfillers, sizeof(int));
	if (u->stop_fd < 0 || !u->fillers || !u->inflight_addr || !u->inflight_start ||
	    !u->inflight_poisoned) {
		snprintf(err, errlen, "userfaultfd fillers: %s", strerror(errno));
		goto fail;
	}
	for (unsigned i = 0; i < u->nfillers; i++) {
		struct filler *fl = malloc(sizeof(*fl));

		if (!fl) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		*fl = (struct filler){ u, i };
		rc = pthread_create(&u->fillers[i], NULL, filler_main, fl);
		if (rc) {
			free(fl);
			snprintf(err, errlen, "filler thread: %s", strerror(rc));
			goto fail;
		}
		u->fillers_running++;
	}
	rc = pthread_create(&u->watchdog, NULL, watchdog_main, u);
	if (rc) {
		snprintf(err, errlen, "watchdog thread: %s", strerror(rc));
		goto fail;
	}
	u->watchdog_running = true;
	return 0;
fail:
	uvm_uffd_close(u);
	return -1;
}

/*
 * The sigbus userfaultfd (uvm_config.sigbus): with UFFD_FEATURE_SIGBUS the
 * kernel sends no message for a fault on its regions but raises SIGBUS
 * (BUS_ADRERR) on the faulting thread at once, a missing page's and a
 * write-protected one's alike; the SIGBUS handler (trap_sigsegv.c) serves
 * it. It needs no filler of its own: a fault that needs I/O is handed to
 * the context's filler threads (handoff.c), as a sigsegv fault is.
 */
int uvm_uffd_open_sigbus(struct uvm *u, char *err, size_t errlen)
{
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_SIGBUS | UFFD_FEATURE_PAGEFAULT_FLAG_WP |
					      UFFD_FEATURE_POISON };
	int fd;

	if (u->sigbus_uffd >= 0)
		return 0;
	fd = open_uffd(err, errlen);
	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_API, &api) != 0) {
		close(fd);
		snprintf(err, errlen, "userfaultfd with UFFD_FEATURE_SIGBUS and UFFDIO_POISON "
			 "(Linux 6.6+): %s", strerror(errno));
		return -1;
	}
	u->sigbus_uffd = fd;
	u->sigbus_features = api.features;
	return 0;
}

int uvm_uffd_poison(struct uvm_region *r, vpn_t vpn)
{
	int rc = poison(r->ufd, addr_of(r, vpn), r->psz);

	if (rc == 0)
		r->state[vpn] |= UPG_POISONED;
	return rc;
}

void uvm_uffd_close(struct uvm *u)
{
	uint64_t one = 1;

	if (u->stop_fd >= 0 && (u->fillers_running || u->watchdog_running) &&
	    write(u->stop_fd, &one, sizeof(one)) != sizeof(one))
		abort(); /* an eventfd write of 1 cannot fail */
	for (unsigned i = 0; i < u->fillers_running; i++)
		pthread_join(u->fillers[i], NULL);
	if (u->watchdog_running)
		pthread_join(u->watchdog, NULL);
	u->fillers_running = 0;
	u->watchdog_running = false;
	if (u->stop_fd >= 0)
		close(u->stop_fd);
	if (u->uffd >= 0)
		close(u->uffd);
	if (u->sigbus_uffd >= 0)
		close(u->sigbus_uffd);
	u->stop_fd = u->uffd = u->sigbus_uffd = -1;
	free(u->fillers);
	free(u->inflight_addr);
	free(u->inflight_start);
	free(u->inflight_poisoned);
	u->fillers = NULL;
	u->inflight_addr = u->inflight_start = NULL;
	u->inflight_poisoned = NULL;
}

/* ---- the trap ops -------------------------------------------------------- */

static int uffd_init(struct uvm_region *r, char *err, size_t errlen)
{
	struct uffdio_register reg;

	r->ufd = r->sigbus ? r->u->sigbus_uffd : r->u->uffd;
	r->wp = (r->sigbus ? r->u->sigbus_features : r->u->features) &
		UFFD_FEATURE_PAGEFAULT_FLAG_WP;
	r->frames = mmap(NULL, (size_t)r->nframes * r->psz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->frames == MAP_FAILED) {
		r->frames = NULL;
		snprintf(err, errlen, "mapping %u frames: %s", r->nframes, strerror(errno));
		return -1;
	}
	r->va = mmap(NULL, r->len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->va == MAP_FAILED) {
		r->va = NULL;
		snprintf(err, errlen, "reserving %zu bytes of address space: %s", r->len,
			 strerror(errno));
		return -1;
	}
	reg = (struct uffdio_register){
		.range = { (uint64_t)(uintptr_t)r->va, r->len },
		.mode = UFFDIO_REGISTER_MODE_MISSING | (r->wp ? UFFDIO_REGISTER_MODE_WP : 0),
	};
	if (ioctl(r->ufd, UFFDIO_REGISTER, &reg) != 0 && r->wp) {
		/* Some kernels have the feature but not on this memory. */
		r->wp = false;
		reg.mode = UFFDIO_REGISTER_MODE_MISSING;
		if (ioctl(r->ufd, UFFDIO_REGISTER, &reg) == 0)
			return 0;
	} else if (reg.ioctls) {
		return 0;
	}
	snprintf(err, errlen, "UFFDIO_REGISTER: %s", strerror(errno));
	return -1;
}

static void uffd_fini(struct uvm_region *r)
{
	if (r->va) {
		struct uffdio_range range = { (uint64_t)(uintptr_t)r->va, r->len };

		ioctl(r->ufd, UFFDIO_UNREGISTER, &range);
		munmap(r->va, r->len);
	}
	if (r->frames)
		munmap(r->frames, (size_t)r->nframes * r->psz);
	r->va = r->frames = NULL;
}

static int uffd_install(struct uvm_region *r, vpn_t vpn, frame_t f, bool writable)
{
	struct uffdio_copy copy = {
		.dst = addr_of(r, vpn),
		.src = (uint64_t)(uintptr_t)(r->frames + (size_t)f * r->psz),
		.len = r->psz,
		.mode = writable || !r->wp ? 0 : UFFDIO_COPY_MODE_WP,
	};

	while (ioctl(r->ufd, UFFDIO_COPY, &copy) != 0) {
		if (errno != EAGAIN)
			return -errno;
		/* A partial copy: go on from where it stopped. */
		if (copy.copy > 0) {
			copy.dst += (uint64_t)copy.copy;
			copy.src += (uint64_t)copy.copy;
			copy.len -= (uint64_t)copy.copy;
		}
		copy.copy = 0;
	}
	return 0;
}

static int uffd_protect(struct uvm_region *r, vpn_t vpn, bool writable)
{
	struct uffdio_writeprotect wp = {
		.range = { addr_of(r, vpn), r->psz },
		.mode = writable ? 0 : UFFDIO_WRITEPROTECT_MODE_WP,
	};

	return ioctl(r->ufd, UFFDIO_WRITEPROTECT, &wp) ? -errno : 0;
}

/* Write-protect first, so that no write of another thread slips in between
 * the copy and the drop; a writer then waits in a WP fault, which finds the
 * page gone and wakes it to fault it in again. */
static int uffd_remove(struct uvm_region *r, vpn_t vpn, frame_t f, bool keep)
{
	uint8_t *at = r->va + (size_t)vpn * r->psz;
	int rc = 0;

	if (r->wp && (r->state[vpn] & UPG_WRITABLE))
		rc = uffd_protect(r, vpn, false);
	if (keep)
		memcpy(r->frames + (size_t)f * r->psz, at, r->psz);
	if (madvise(at, r->psz, MADV_DONTNEED) != 0 && !rc)
		rc = -errno;
	return rc;
}

static uint8_t *uffd_bytes(struct uvm_region *r, vpn_t vpn)
{
	return r->va + (size_t)vpn * r->psz;
}

const struct uvm_trap_ops uvm_trap_uffd = {
	.name = "uffd",
	.init = uffd_init,
	.fini = uffd_fini,
	.install = uffd_install,
	.remove = uffd_remove,
	.protect = uffd_protect,
	.bytes = uffd_bytes,
};
