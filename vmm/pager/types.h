/* SPDX-License-Identifier: MIT */
/* The small vocabulary shared by the pager, its policies and its MMUs. */
#ifndef PFLAB_TYPES_H
#define PFLAB_TYPES_H

#include <stdint.h>

/*
 * A virtual page number. Pages are numbered densely from 0: the KVM host
 * uses guest-physical page numbers of its data region, the simulator
 * renames a trace's page ids in order of first appearance. Dense numbers let
 * the page table and per-page policy history be plain arrays.
 */
typedef uint32_t vpn_t;

/* A physical frame index, [0, nframes). */
typedef uint32_t frame_t;

#define NO_FRAME ((frame_t)UINT32_MAX)

/* "No next use": a reference time later than any real one. */
#define NEVER UINT64_MAX

enum access_kind {
	ACCESS_READ,
	ACCESS_WRITE,
	ACCESS_FETCH,
};

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#endif /* PFLAB_TYPES_H */
