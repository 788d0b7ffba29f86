// SPDX-License-Identifier: MIT
/*
 * The kvm trap: absence is a PROT_NONE host mapping. Replacing a page's
 * host mapping (mmap MAP_FIXED) makes KVM's MMU notifier drop the guest's
 * translation, so the next guest access comes back to KVM, which cannot
 * resolve it and exits to us. See region.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "region.h"

#define PAGE 4096u

static int kvm_trap_init(struct region *r, char *err, size_t errlen)
{
	size_t fbytes = (size_t)r->nframes * PAGE;

	r->memfd = memfd_create("pflab-frames", MFD_CLOEXEC);
	if (r->memfd < 0 || ftruncate(r->memfd, (off_t)fbytes) != 0) {
		snprintf(err, errlen, "frame memory (%u frames): %s", r->nframes, strerror(errno));
		return -1;
	}
	r->frames = mmap(NULL, fbytes, PROT_READ | PROT_WRITE, MAP_SHARED, r->memfd, 0);
	if (r->frames == MAP_FAILED) {
		r->frames = NULL;
		snprintf(err, errlen, "mapping %u frames: %s", r->nframes, strerror(errno));
		return -1;
	}
	r->va = mmap(NULL, region_bytes(r), PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->va == MAP_FAILED) {
		r->va = NULL;
		snprintf(err, errlen, "reserving %u data pages: %s", r->npages, strerror(errno));
		return -1;
	}
	return 0;
}

static void kvm_trap_fini(struct region *r)
{
	if (r->va)
		munmap(r->va, region_bytes(r));
	if (r->frames)
		munmap(r->frames, (size_t)r->nframes * PAGE);
	if (r->memfd >= 0)
		close(r->memfd);
	r->va = r->frames = NULL;
	r->memfd = -1;
}

static int kvm_trap_map(struct region *r, vpn_t vpn, frame_t f, bool writable)
{
	void *at = r->va + (size_t)vpn * PAGE;

	if (mmap(at, PAGE, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED | MAP_FIXED,
		 r->memfd, (off_t)f * PAGE) == MAP_FAILED)
		return -errno;
	return 0;
}

static int kvm_trap_make_writable(struct region *r, vpn_t vpn)
{
	return mprotect(r->va + (size_t)vpn * PAGE, PAGE, PROT_READ | PROT_WRITE) ? -errno : 0;
}

static int kvm_trap_unmap(struct region *r, vpn_t vpn, frame_t f)
{
	void *at = r->va + (size_t)vpn * PAGE;

	(void)f;
	if (mmap(at, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		 -1, 0) == MAP_FAILED)
		return -errno;
	return 0;
}

static uint8_t *kvm_trap_page_bytes(struct region *r, vpn_t vpn, frame_t f, bool mapped)
{
	/* The frame is the page's only copy, mapped or not. */
	(void)vpn;
	(void)mapped;
	return r->frames + (size_t)f * PAGE;
}

const struct trap_ops trap_kvm_ops = {
	.name = "kvm",
	.init = kvm_trap_init,
	.fini = kvm_trap_fini,
	.map = kvm_trap_map,
	.unmap = kvm_trap_unmap,
	.make_writable = kvm_trap_make_writable,
	.page_bytes = kvm_trap_page_bytes,
};
