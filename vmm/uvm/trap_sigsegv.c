// SPDX-License-Identifier: MIT
/*
 * The sigsegv trap, the portable technique (Appel and Li, "Virtual memory
 * primitives for user programs", ASPLOS 1991): a region is a shared memory
 * object mapped twice, once as the program's view, PROT_NONE while a page
 * is absent, and once as the library's own, always writable. An access to
 * an absent page raises SIGSEGV on the faulting thread; the handler runs
 * the pager, fills the page through the library's view and mprotects the
 * program's, then returns, and the access restarts. Through the second view
 * no other thread ever sees a page half written.
 *
 * The handler is the process's: one for every context. A fault outside any
 * region goes to the handler that was there before (a sanitizer's, the
 * program's), or to the default action, so an unrelated crash still
 * crashes. A fault the pager cannot serve gets SIGBUS with its address.
 *
 * The same table serves the SIGBUS handler of uffd regions with sigbus
 * (uvm_config.sigbus): their userfaultfd raises SIGBUS on the faulting
 * thread instead of sending a message, and the fault is served here as a
 * SIGSEGV is (docs/uvm.md, "Green threads").
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "uvm_internal.h"

/*
 * The contexts whose regions the handler looks in. A signal handler takes
 * no argument: this table is the one piece of process-wide state the
 * technique needs. Slots are claimed and cleared atomically.
 */
#define SEGV_MAX_CONTEXTS 64
static struct uvm *segv_contexts[SEGV_MAX_CONTEXTS];
static struct sigaction segv_previous;
static pthread_mutex_t segv_install_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned segv_users;
/* The SIGBUS handler, for uffd sigbus regions: installed with the first. */
static struct sigaction bus_previous;
static unsigned bus_users;

static void chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction *prev = &segv_previous;

	if (prev->sa_flags & SA_SIGINFO) {
		prev->sa_sigaction(sig, si, uc);
	} else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
		prev->sa_handler(sig);
	} else {
		/* The default action: returning re-runs the access, which
		 * faults again and now kills the process as it would have. */
		signal(sig, SIG_DFL);
	}
}

/* The fault could not be served: SIGBUS at the address, as the kernel sends
 * for a mapped file it cannot read. Pending when the handler returns. */
static void send_sigbus(void *addr)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	info.si_signo = SIGBUS;
	info.si_code = BUS_ADRERR;
	info.si_addr = addr;
	syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), SIGBUS, &info);
}

static enum access_kind fault_kind(struct uvm_region *r, vpn_t vpn, void *uc)
{
#if defined(__x86_64__)
	/* The page-fault error code: bit 1 is a write. */
	(void)r;
	(void)vpn;
	return (((ucontext_t *)uc)->uc_mcontext.gregs[REG_ERR] & 2) ? ACCESS_WRITE : ACCESS_READ;
#else
	/* No error code: a fault on a page mapped read-only is a write; on an
	 * absent one, a read (a write then traps once more). */
	(void)uc;
	return (__atomic_load_n(&r->state[vpn], __ATOMIC_RELAXED) & UPG_MAPPED) ? ACCESS_WRITE
										 : ACCESS_READ;
#endif
}

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	bool failed;

	for (unsigned i = 0; i < SEGV_MAX_CONTEXTS; i++) {
		struct uvm *u = __atomic_load_n(&segv_contexts[i], __ATOMIC_ACQUIRE);
		struct uvm_region *r;
		vpn_t vpn;

		if (!u || !(r = uvm_lookup(u, si->si_addr)))
			continue;
		if (r->trap != &uvm_trap_sigsegv) {
			uvm_release(r);
			break;
		}
		vpn = (vpn_t)(((uintptr_t)si->si_addr - (uintptr_t)r->va) / r->psz);
		failed = uvm_segv_fault(u, r, vpn, fault_kind(r, vpn, uc)) < 0;
		uvm_release(r);
		/* Last: a SIGBUS handler may leave this one by siglongjmp. */
		errno = saved;
		if (failed)
			send_sigbus(si->si_addr);
		return;
	}
	errno = saved;
	chain(sig, si, uc);
}

/* ---- SIGBUS: the faults of uffd sigbus regions ------------------------------ */

/* To the handler that was there before: the program's, a sanitizer's, or
 * the default action (the process dies of the SIGBUS). queue: the signal
 * is not the kernel's (an access that timed out): send it, as the kernel
 * would have; else the access, re-run, raises it again. */
static void bus_chain(siginfo_t *si, void *uc, bool queue)
{
	struct sigaction *prev = &bus_previous;

	if (prev->sa_flags & SA_SIGINFO) {
		prev->sa_sigaction(SIGBUS, si, uc);
	} else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
		prev->sa_handler(SIGBUS);
	} else {
		/* A fault's SIGBUS is not ignored: the kernel forces it too. */
		signal(SIGBUS, SIG_DFL);
		if (queue)
			send_sigbus(si->si_addr);
	}
}

/* A fault of a sigbus region that could not be served. A read that failed
 * poisons the page, as a uffd filler does: the access, restarted, gets the
 * kernel's SIGBUS (BUS_MCEERR_AR, with the address), and so does every
 * later one until a prefetch reads the page again; true. A wait past its
 * bound (the filler still out: it installs the page later), or a fault that
 * found every request in use: false, the access gets one SIGBUS now. */
static bool bus_poison(struct uvm_region *r, vpn_t vpn, int rc)
{
	bool poisoned = false;

	if (rc != UVM_EBOUND && rc != -EAGAIN) {
		pthread_mutex_lock(&r->lock);
		poisoned = (r->state[vpn] & UPG_POISONED) ||
			   (!(r->state[vpn] & (UPG_MAPPED | UPG_SOFT)) &&
			    uvm_uffd_poison(r, vpn) == 0);
		pthread_mutex_unlock(&r->lock);
	}
	return poisoned;
}

/*
 * A missing page or a first write in a sigbus region raises SIGBUS with
 * BUS_ADRERR: served here as a SIGSEGV is (handed to a filler, or parked
 * on a green thread). Anything else goes to the handler that was there
 * before: a poisoned page above all (BUS_MCEERR_AR, or BUS_ADRERR on a page
 * the region knows it poisoned), which must reach the program as SIGBUS,
 * never be served again, and any SIGBUS outside the regions.
 */
static void bus_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	bool failed;

	for (unsigned i = 0; si->si_code == BUS_ADRERR && i < SEGV_MAX_CONTEXTS; i++) {
		struct uvm *u = __atomic_load_n(&segv_contexts[i], __ATOMIC_ACQUIRE);
		struct uvm_region *r;
		vpn_t vpn;
		int rc;

		if (!u || !(r = uvm_lookup(u, si->si_addr)))
			continue;
		vpn = (vpn_t)(((uintptr_t)si->si_addr - (uintptr_t)r->va) / r->psz);
		/* A page poisoned after its read failed: a kernel built
		 * without CONFIG_MEMORY_FAILURE (this machine's) reports it as
		 * BUS_ADRERR too, so the page's state tells. */
		if (!r->sigbus ||
		    (__atomic_load_n(&r->state[vpn], __ATOMIC_ACQUIRE) & UPG_POISONED)) {
			uvm_release(r);
			break;
		}
		rc = uvm_segv_fault(u, r, vpn, fault_kind(r, vpn, uc));
		failed = rc < 0 && !bus_poison(r, vpn, rc);
		/* Released first: the program's handler may siglongjmp. */
		uvm_release(r);
		errno = saved;
		if (failed) {
			siginfo_t info;

			memset(&info, 0, sizeof(info));
			info.si_signo = SIGBUS;
			info.si_code = BUS_ADRERR;
			info.si_addr = si->si_addr;
			bus_chain(&info, uc, true);
		}
		return;
	}
	(void)sig;
	errno = saved;
	bus_chain(si, uc, false);
}

int uvm_bus_register(struct uvm *u, char *err, size_t errlen)
{
	struct sigaction sa;
	int rc = 0;

	if (u->bus_registered)
		return 0;
	/* The context's regions are looked up in the SIGSEGV handler's table. */
	if (uvm_segv_register(u, err, errlen) != 0)
		return -1;
	pthread_mutex_lock(&segv_install_lock);
	if (bus_users == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = bus_handler;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, &sa, &bus_previous) != 0) {
			snprintf(err, errlen, "installing the SIGBUS handler: %s", strerror(errno));
			rc = -1;
		}
	}
	if (rc == 0) {
		bus_users++;
		u->bus_registered = true;
	}
	pthread_mutex_unlock(&segv_install_lock);
	return rc;
}

int uvm_segv_register(struct uvm *u, char *err, size_t errlen)
{
	struct sigaction sa;
	int rc = 0;

	if (u->segv_registered)
		return 0;
	pthread_mutex_lock(&segv_install_lock);
	if (segv_users == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = segv_handler;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSEGV, &sa, &segv_previous) != 0) {
			snprintf(err, errlen, "installing the SIGSEGV handler: %s", strerror(errno));
			rc = -1;
		}
	}
	if (rc == 0) {
		unsigned i;

		for (i = 0; i < SEGV_MAX_CONTEXTS; i++) {
			struct uvm *none = NULL;

			if (__atomic_compare_exchange_n(&segv_contexts[i], &none, u, false,
							__ATOMIC_RELEASE, __ATOMIC_RELAXED))
				break;
		}
		if (i == SEGV_MAX_CONTEXTS) {
			snprintf(err, errlen, "more than %d contexts use the sigsegv trap",
				 SEGV_MAX_CONTEXTS);
			rc = -1;
			if (segv_users == 0)
				sigaction(SIGSEGV, &segv_previous, NULL);
		} else {
			segv_users++;
			u->segv_registered = true;
		}
	}
	pthread_mutex_unlock(&segv_install_lock);
	return rc;
}

void uvm_segv_unregister(struct uvm *u)
{
	if (!u->segv_registered)
		return;
	pthread_mutex_lock(&segv_install_lock);
	for (unsigned i = 0; i < SEGV_MAX_CONTEXTS; i++)
		if (__atomic_load_n(&segv_contexts[i], __ATOMIC_RELAXED) == u)
			__atomic_store_n(&segv_contexts[i], NULL, __ATOMIC_RELEASE);
	if (--segv_users == 0)
		sigaction(SIGSEGV, &segv_previous, NULL);
	if (u->bus_registered && --bus_users == 0)
		sigaction(SIGBUS, &bus_previous, NULL);
	u->segv_registered = u->bus_registered = false;
	pthread_mutex_unlock(&segv_install_lock);
}

/* ---- the trap ops -------------------------------------------------------- */

static int segv_init(struct uvm_region *r, char *err, size_t errlen)
{
	int fd = memfd_create("pflab-uvm", MFD_CLOEXEC);

	r->wp = true;
	if (fd < 0) {
		snprintf(err, errlen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	if (ftruncate(fd, (off_t)r->len) != 0) {
		snprintf(err, errlen, "sizing the region's memory to %zu bytes: %s", r->len,
			 strerror(errno));
		close(fd);
		return -1;
	}
	r->va = mmap(NULL, r->len, PROT_NONE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	r->alias = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	/* The mappings keep the memory object alive: no descriptor is held. */
	close(fd);
	r->frames = mmap(NULL, (size_t)r->nframes * r->psz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->va == MAP_FAILED || r->alias == MAP_FAILED || r->frames == MAP_FAILED) {
		snprintf(err, errlen, "reserving %zu bytes of address space: %s", r->len,
			 strerror(errno));
		if (r->va == MAP_FAILED)
			r->va = NULL;
		if (r->alias == MAP_FAILED)
			r->alias = NULL;
		if (r->frames == MAP_FAILED)
			r->frames = NULL;
		return -1;
	}
	return 0;
}

static void segv_fini(struct uvm_region *r)
{
	if (r->va)
		munmap(r->va, r->len);
	if (r->alias)
		munmap(r->alias, r->len);
	if (r->frames)
		munmap(r->frames, (size_t)r->nframes * r->psz);
	r->va = r->alias = r->frames = NULL;
}

static int segv_install(struct uvm_region *r, vpn_t vpn, frame_t f, bool writable)
{
	size_t off = (size_t)vpn * r->psz;

	memcpy(r->alias + off, r->frames + (size_t)f * r->psz, r->psz);
	return mprotect(r->va + off, r->psz, writable ? PROT_READ | PROT_WRITE : PROT_READ) ? -errno
											 : 0;
}

/* PROT_NONE first: after mprotect returns, no thread can write the page. */
static int segv_remove(struct uvm_region *r, vpn_t vpn, frame_t f, bool keep)
{
	size_t off = (size_t)vpn * r->psz;
	int rc = mprotect(r->va + off, r->psz, PROT_NONE) ? -errno : 0;

	if (keep)
		memcpy(r->frames + (size_t)f * r->psz, r->alias + off, r->psz);
	/* Give the memory back: the page's bytes are in its frame or its store. */
	if (madvise(r->alias + off, r->psz, MADV_REMOVE) != 0 && !rc)
		rc = -errno;
	return rc;
}

static int segv_protect(struct uvm_region *r, vpn_t vpn, bool writable)
{
	size_t off = (size_t)vpn * r->psz;

	return mprotect(r->va + off, r->psz, writable ? PROT_READ | PROT_WRITE : PROT_READ) ? -errno
											 : 0;
}

static uint8_t *segv_bytes(struct uvm_region *r, vpn_t vpn)
{
	return r->alias + (size_t)vpn * r->psz;
}

const struct uvm_trap_ops uvm_trap_sigsegv = {
	.name = "sigsegv",
	.init = segv_init,
	.fini = segv_fini,
	.install = segv_install,
	.remove = segv_remove,
	.protect = segv_protect,
	.bytes = segv_bytes,
};
