// SPDX-License-Identifier: MIT
/*
 * The guest on its own, without pflab's VMM: booted by a PVH loader
 * (`pflab qemu`: qemu-system-x86_64 -M microvm -kernel, docs/qemu.md), it
 * serves its hypercalls itself.
 *
 *   HC_CONFIG      the workload's parameters come from the boot command line
 *                  (the hvm_start_info's cmdline): space-separated key=value
 *                  words, workload=NAME pages=N passes=N seed=N nops=N;
 *   HC_TRACE_NEXT  the trace comes as the first PVH module (QEMU's -initrd):
 *                  32-bit references as in the trace buffer (guest/abi.h),
 *                  copied into the trace buffer a buffer at a time;
 *   HC_VERIFY_FAIL a line on the console;
 *   HC_EXIT        a line "pflab-exit status=S refs=R errors=E", then the
 *                  status to QEMU's isa-debug-exit port, which ends QEMU
 *                  with exit status 2 * S + 1;
 *   HC_NOP         nothing; any other hypercall ends the run, status 3.
 *
 * The console is COM1. The guest runs in ring 3, and under KVM (nested
 * kvm_pvm) ring 3 may not use ports even with IOPL 3 (docs/vmm.md): every
 * port write goes through SYSCALL to pvh_syscall (entry.S), in ring 0.
 * A bad command line also ends the run with status 3, naming the word.
 */
#include <stdbool.h>

#include "guest.h"

/* The PVH boot ABI's start of day structure (Xen's arch-x86/hvm/start_info.h). */
#define HVM_START_MAGIC 0x336ec578u
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

#define STANDALONE_BAD 3u
#define DEBUG_EXIT_PORT 0xf4   /* -device isa-debug-exit,iobase=0xf4,iosize=4 */

uint64_t pvh_start_info;       /* set by start32: nonzero means standalone */

/* The trace module: its references and how many were handed out. */
static const volatile uint32_t *trace_mod;
static uint64_t trace_len, trace_sent;

void standalone_out(uint16_t port, uint32_t value, uint32_t width)
{
	uint64_t w = width, p = port, v = value;

	__asm__ volatile("syscall" : "+a"(w), "+D"(p), "+S"(v) : : "rcx", "r11", "rdx", "memory");
}

static void standalone_exit(uint32_t status)
{
	volatile struct pflab_mailbox *mb = MAILBOX;

	puts_serial("pflab-exit status=");
	put_u64(status);
	puts_serial(" refs=");
	put_u64(mb->refs);
	puts_serial(" errors=");
	put_u64(mb->errors);
	puts_serial("\n");
	standalone_out(DEBUG_EXIT_PORT, status, 4);
	for (;;)
		;
}

static void refuse(const char *what, const char *word, size_t len)
{
	puts_serial("pflab guest: ");
	puts_serial(what);
	puts_serial(" '");
	for (size_t i = 0; i < len && word[i]; i++)
		console_putc(word[i]);
	puts_serial("'\n");
	standalone_exit(STANDALONE_BAD);
}

static bool word_is(const char *w, size_t len, const char *s)
{
	size_t i = 0;

	while (i < len && s[i] && w[i] == s[i])
		i++;
	return i == len && s[i] == '\0';
}

/* A decimal number of len characters; false if it is not one or overflows max. */
static bool parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 19)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static void set_workload(volatile struct pflab_mailbox *mb, const char *v, size_t len,
			 const char *word, size_t wlen)
{
	static const char *const names[WL_NR] = PFLAB_WORKLOAD_NAMES;

	for (uint32_t i = 0; i < WL_NR; i++)
		if (names[i] && word_is(v, len, names[i])) {
			mb->workload = i;
			return;
		}
	refuse("unknown workload in", word, wlen);
}

/* One key=value word of the command line. */
static void config_word(volatile struct pflab_mailbox *mb, const char *w, size_t len)
{
	size_t k = 0;
	uint64_t n;

	while (k < len && w[k] != '=')
		k++;
	if (k == len)
		refuse("boot command line: not key=value:", w, len);
	if (word_is(w, k, "workload")) {
		set_workload(mb, w + k + 1, len - k - 1, w, len);
		return;
	}
	if (word_is(w, k, "seed")) {
		if (!parse_u64(w + k + 1, len - k - 1, UINT64_MAX / 10, &n))
			refuse("boot command line: bad number in", w, len);
		mb->seed = n;
		return;
	}
	if (!parse_u64(w + k + 1, len - k - 1, UINT32_MAX, &n))
		refuse("boot command line: bad number in", w, len);
	if (word_is(w, k, "pages") && n <= PFLAB_DATA_MAX_PAGES)
		mb->npages = (uint32_t)n;
	else if (word_is(w, k, "passes"))
		mb->passes = (uint32_t)n;
	else if (word_is(w, k, "nops"))
		mb->nops = (uint32_t)n;
	else
		refuse("boot command line: unknown or out of range:", w, len);
}

static void config(void)
{
	volatile struct pflab_mailbox *mb = MAILBOX;
	const struct hvm_start_info *si = (const struct hvm_start_info *)(uintptr_t)pvh_start_info;
	const char *s;

	if (si->magic != HVM_START_MAGIC)
		refuse("bad hvm_start_info magic", "", 0);
	mb->workload = 0;
	mb->npages = mb->passes = mb->nops = 0;
	mb->seed = 0;
	mb->first_page = 0;
	mb->vcpu = 0;
	mb->nvcpus = 1;
	s = (const char *)(uintptr_t)si->cmdline_paddr;
	while (s && *s) {
		size_t len = 0;

		while (*s == ' ')
			s++;
		while (s[len] && s[len] != ' ')
			len++;
		if (len)
			config_word(mb, s, len);
		s += len;
	}
	if (si->nr_modules > 0) {
		const struct hvm_modlist_entry *m =
			(const struct hvm_modlist_entry *)(uintptr_t)si->modlist_paddr;
		uint64_t data_end = PFLAB_DATA_BASE + (uint64_t)mb->npages * PFLAB_PAGE_SIZE;

		if (m->paddr < data_end && m->paddr + m->size > PFLAB_DATA_BASE)
			refuse("the trace module overlaps the data region", "", 0);
		trace_mod = (const volatile uint32_t *)(uintptr_t)m->paddr;
		trace_len = m->size / sizeof(uint32_t);
	}
}

/* The next buffer of the trace module, into the trace buffer. */
static void trace_next(void)
{
	volatile struct pflab_mailbox *mb = MAILBOX;
	volatile uint32_t *buf = (volatile uint32_t *)(uintptr_t)PFLAB_TRACE_BUF;
	uint64_t n = trace_len - trace_sent;

	if (n > PFLAB_TRACE_BUF_REFS)
		n = PFLAB_TRACE_BUF_REFS;
	for (uint64_t i = 0; i < n; i++)
		buf[i] = trace_mod[trace_sent + i];
	mb->trace_base = trace_sent;
	mb->trace_count = (uint32_t)n;
	trace_sent += n;
}

void standalone_hcall(enum pflab_hcall nr)
{
	volatile struct pflab_mailbox *mb = MAILBOX;

	switch (nr) {
	case HC_CONFIG:
		config();
		return;
	case HC_TRACE_NEXT:
		trace_next();
		return;
	case HC_VERIFY_FAIL:
		puts_serial("pflab guest: data mismatch: page ");
		put_u64(mb->bad_page);
		puts_serial(" offset ");
		put_u64(mb->bad_offset);
		puts_serial("\n");
		return;
	case HC_EXIT:
		standalone_exit(mb->status);
		return;
	case HC_NOP:
		return;
	default:
		puts_serial("pflab guest: hypercall ");
		put_u64(nr);
		puts_serial(" needs pflab's VMM, not available standalone\n");
		standalone_exit(STANDALONE_BAD);
	}
}
