// SPDX-License-Identifier: MIT
/*
 * The restart scenarios (docs/restart.md): one instruction each, run
 * against data pages the host has just paged out, to show on the real CPU
 * what a page fault does to an instruction and how it restarts:
 *
 *   restart-movsb      movsb reads one paged-out page and writes another:
 *                      two faults, one instruction
 *   restart-repmovsb   rep movsb runs into paged-out pages mid-copy: the
 *                      faults stop it with RCX, RSI and RDI part-way
 *   restart-push       push onto a paged-out stack page
 *   restart-straddle   an 8-byte load, 4 bytes on a resident page and 4 on
 *                      a paged-out one
 *   restart-fetch      an instruction whose bytes run into a paged-out page
 *
 * Each scenario fills its pages with a known pattern, asks the host to page
 * some of them out (HC_EVICT), runs its instruction, and checks the
 * registers the instruction leaves and every byte of its pages; a mismatch
 * fails the run.
 *
 * Every access a scenario makes to the data region while it sets up and
 * runs is made by code copied to a fixed address (PFLAB_SCRATCH), entered
 * with the registers the scenario chooses and on a stack at a fixed
 * address. So the host's fault log (pflab run --fault-log) shows the same
 * RIPs and register values whatever the rest of the guest's code looks
 * like, and tests/golden/restart/ can hold them.
 */
#include "guest.h"

#define PAGE PFLAB_PAGE_SIZE

/* The scratch pages: copied code, a stack for it, a page to fill from. */
#define FILL_AT       (PFLAB_SCRATCH + 0x000)  /* the page filler: rep movsb */
#define INSN_AT       (PFLAB_SCRATCH + 0x100)  /* the scenario's instruction */
#define SCRATCH_STACK (PFLAB_SCRATCH + 0x2000) /* top of the second page */
#define SCRATCH_BUF   (PFLAB_SCRATCH + 0x2000) /* the third page */

#define SENTINEL  0xdeadbeefdeadbeefull /* a register the fault must not touch */
#define PUSHED    0x1122334455667788ull
#define FETCH_IMM 0x0123456789abcdefull
#define STR_(x) #x
#define STR(x) STR_(x)

/* The registers restart_enter() loads before the code and stores after. */
struct cpu {
	uint64_t rax, rcx, rsi, rdi, rsp;
};

/*
 * restart_enter(cpu, code): save the callee-saved registers, load rax, rcx,
 * rsi, rdi and rsp from *cpu and jump to code, which ends with `jmp *%r15`
 * back here; store the five registers into *cpu and return. r13 keeps the
 * C stack while the code runs on the one it was given.
 */
void restart_enter(struct cpu *c, uint64_t code);
__asm__(".text\n"
	".globl restart_enter\n"
	".type restart_enter, @function\n"
	"restart_enter:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	mov %rdi, %r12\n"
	"	mov %rsp, %r13\n"
	"	mov %rsi, %r14\n"
	"	lea 1f(%rip), %r15\n"
	"	mov 0(%r12), %rax\n"
	"	mov 8(%r12), %rcx\n"
	"	mov 16(%r12), %rsi\n"
	"	mov 24(%r12), %rdi\n"
	"	mov 32(%r12), %rsp\n"
	"	cld\n"
	"	jmp *%r14\n"
	"1:	mov %rax, 0(%r12)\n"
	"	mov %rcx, 8(%r12)\n"
	"	mov %rsi, 16(%r12)\n"
	"	mov %rdi, 24(%r12)\n"
	"	mov %rsp, 32(%r12)\n"
	"	mov %r13, %rsp\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	ret\n"
	".size restart_enter, . - restart_enter\n");

/* The code templates, copied before they run (never run in place). */
extern const uint8_t code_fill[], code_fill_end[];
extern const uint8_t code_movsb[], code_movsb_end[];
extern const uint8_t code_repmovsb[], code_repmovsb_end[];
extern const uint8_t code_push[], code_push_end[];
extern const uint8_t code_straddle[], code_straddle_end[];
extern const uint8_t code_fetch[], code_fetch_end[];
__asm__(".section .rodata.restart, \"a\"\n"
	"code_fill:	rep movsb\n"
	"	jmp *%r15\n"
	"code_fill_end:\n"
	"code_movsb:	movsb\n"
	"	jmp *%r15\n"
	"code_movsb_end:\n"
	"code_repmovsb:	rep movsb\n"
	"	jmp *%r15\n"
	"code_repmovsb_end:\n"
	"code_push:	push %rax\n"
	"	jmp *%r15\n"
	"code_push_end:\n"
	"code_straddle:	mov (%rsi), %rax\n"
	"	jmp *%r15\n"
	"code_straddle_end:\n"
	"code_fetch:	movabs $" STR(FETCH_IMM) ", %rax\n"
	"	jmp *%r15\n"
	"code_fetch_end:\n"
	".previous\n");

static uint64_t data_addr(uint32_t vpn, uint32_t offset)
{
	return PFLAB_DATA_BASE + (uint64_t)vpn * PAGE + offset;
}

/* Copy a code template to where it will run; returns that address. */
static uint64_t place_code(uint64_t at, const uint8_t *start, const uint8_t *end)
{
	volatile uint8_t *to = (volatile uint8_t *)(uintptr_t)at;

	for (const uint8_t *p = start; p < end; p++)
		*to++ = *p;
	return at;
}

/* The byte at data address a as fill_page() writes it. */
static uint8_t fill_byte(uint64_t a)
{
	uint64_t off = a - PFLAB_DATA_BASE;

	return (uint8_t)(pattern((uint32_t)(off / PAGE), 1, (uint32_t)(off % PAGE / 8)) >>
			 (off % 8 * 8));
}

/* Write page vpn's pattern with the copied filler (a first touch: a
 * zero-fill fault at FILL_AT). */
static void fill_page(struct guest *g, uint32_t vpn)
{
	volatile uint64_t *buf = (volatile uint64_t *)(uintptr_t)SCRATCH_BUF;
	struct cpu c = {
		.rcx = PAGE, .rsi = SCRATCH_BUF, .rdi = data_addr(vpn, 0), .rsp = SCRATCH_STACK,
	};

	for (uint32_t i = 0; i < WORDS_PER_PAGE; i++)
		buf[i] = pattern(vpn, 1, i);
	note_ref(g, vpn);
	restart_enter(&c, FILL_AT);
}

/* Ask the host to page vpn out now: written back if dirty, then absent.
 * The next access is a new reference, even to the page used last. */
static void page_out(struct guest *g, uint32_t vpn)
{
	MAILBOX->evict_page = vpn;
	hcall(HC_EVICT);
	g->last_vpn = UINT32_MAX;
}

static void put_hex(uint64_t v)
{
	char buf[19], *p = buf + sizeof(buf) - 1;

	*p = '\0';
	do {
		*--p = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	*--p = 'x';
	*--p = '0';
	puts_serial(p);
}

static void say(const char *name, const char *text)
{
	puts_serial(name);
	puts_serial(": ");
	puts_serial(text);
}

/* A register the instruction left: report it, and count it if wrong. */
static void expect_reg(struct guest *g, const char *reg, uint64_t got, uint64_t want)
{
	puts_serial(" ");
	puts_serial(reg);
	puts_serial(" ");
	put_hex(got);
	if (got != want) {
		puts_serial(" (WRONG: expected ");
		put_hex(want);
		puts_serial(")");
		g->errors++;
	}
}

/* What a scenario changed in its pages: len bytes at data address at, now
 * holding the bytes filled at data address from, or the given bytes. */
struct change {
	uint64_t at, len;
	uint64_t from;
	const uint8_t *bytes;
};

/* Every byte of pages first..last: its pattern, or what ch put there. */
static void check_pages(struct guest *g, uint32_t first, uint32_t last, const struct change *ch)
{
	for (uint32_t vpn = first; vpn <= last; vpn++) {
		note_ref(g, vpn);
		for (uint32_t off = 0; off < PAGE; off++) {
			uint64_t a = data_addr(vpn, off);
			uint8_t want = fill_byte(a), got = *(volatile uint8_t *)(uintptr_t)a;

			if (ch && a - ch->at < ch->len)
				want = ch->bytes ? ch->bytes[a - ch->at] : fill_byte(ch->from + a - ch->at);
			if (got != want) {
				report_mismatch(g, vpn, off, want, got);
				break; /* one report per page is enough */
			}
		}
	}
}

static void verdict(struct guest *g, const char *name, uint64_t errors_before, const char *what)
{
	say(name, g->errors == errors_before ? "ok: " : "FAILED: ");
	puts_serial(what);
	puts_serial("\n");
}

/* movsb: [rsi] is read, then [rdi] written; both pages are out, so the one
 * instruction faults twice and runs a third time to completion. */
static void restart_movsb(struct guest *g, const char *name)
{
	const uint64_t src = data_addr(1, 0x234), dst = data_addr(2, 0x468);
	struct cpu c = { .rsi = src, .rdi = dst, .rsp = SCRATCH_STACK };
	uint64_t errors = g->errors;

	fill_page(g, 1);
	fill_page(g, 2);
	page_out(g, 1);
	page_out(g, 2);
	say(name, "movsb from rsi ");
	put_hex(src);
	puts_serial(" (page 1) to rdi ");
	put_hex(dst);
	puts_serial(" (page 2), both paged out\n");

	restart_enter(&c, place_code(INSN_AT, code_movsb, code_movsb_end));
	note_ref(g, 1);
	note_ref(g, 2);

	say(name, "after:");
	expect_reg(g, "rsi", c.rsi, src + 1);
	expect_reg(g, "rdi", c.rdi, dst + 1);
	puts_serial("\n");
	check_pages(g, 1, 2, &(struct change){ .at = dst, .len = 1, .from = src });
	verdict(g, name, errors, "one byte moved, each register stepped once, pages 1-2 verified");
}

/* rep movsb: the copy runs into page 4 (a write), later into page 2 (a
 * read); each fault stops it between two iterations with RCX, RSI and RDI
 * saying how far it got, and it resumes from there. */
static void restart_repmovsb(struct guest *g, const char *name)
{
	const uint64_t src = data_addr(1, 0x800), dst = data_addr(3, 0xc00), n = 0x1000;
	struct cpu c = { .rcx = n, .rsi = src, .rdi = dst, .rsp = SCRATCH_STACK };
	uint64_t errors = g->errors;

	for (uint32_t vpn = 1; vpn <= 4; vpn++)
		fill_page(g, vpn);
	page_out(g, 2);
	page_out(g, 4);
	say(name, "rep movsb of rcx ");
	put_hex(n);
	puts_serial(" bytes from rsi ");
	put_hex(src);
	puts_serial(" (pages 1-2) to rdi ");
	put_hex(dst);
	puts_serial(" (pages 3-4), pages 2 and 4 paged out\n");

	restart_enter(&c, place_code(INSN_AT, code_repmovsb, code_repmovsb_end));
	for (uint32_t vpn = 1; vpn <= 4; vpn++)
		note_ref(g, vpn);

	say(name, "after:");
	expect_reg(g, "rcx", c.rcx, 0);
	expect_reg(g, "rsi", c.rsi, src + n);
	expect_reg(g, "rdi", c.rdi, dst + n);
	puts_serial("\n");
	check_pages(g, 1, 4, &(struct change){ .at = dst, .len = n, .from = src });
	verdict(g, name, errors, "every byte copied once, pages 1-4 verified");
}

/* push onto a stack page that is out: the fault leaves RSP as it was. */
static void restart_push(struct guest *g, const char *name)
{
	const uint64_t top = data_addr(2, 0); /* the top of page 1 */
	static const uint8_t pushed[8] = { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
	struct cpu c = { .rax = PUSHED, .rsp = top };
	uint64_t errors = g->errors;

	fill_page(g, 1);
	page_out(g, 1);
	say(name, "push rax ");
	put_hex(PUSHED);
	puts_serial(" with rsp ");
	put_hex(top);
	puts_serial(", the stack page (page 1) paged out\n");

	restart_enter(&c, place_code(INSN_AT, code_push, code_push_end));
	note_ref(g, 1);

	say(name, "after:");
	expect_reg(g, "rsp", c.rsp, top - 8);
	expect_reg(g, "rax", c.rax, PUSHED);
	puts_serial("\n");
	check_pages(g, 1, 1, &(struct change){ .at = top - 8, .len = 8, .bytes = pushed });
	verdict(g, name, errors, "rsp moved by 8 once, the value on the stack, page 1 verified");
}

/* An 8-byte load from 4 bytes before the end of page 1 (resident) into
 * page 2 (out): the fault is on the access's second part, and RAX keeps
 * its old value until the load completes. */
static void restart_straddle(struct guest *g, const char *name)
{
	const uint64_t at = data_addr(1, PAGE - 4);
	struct cpu c = { .rax = SENTINEL, .rsi = at, .rsp = SCRATCH_STACK };
	uint64_t errors = g->errors, want = 0;

	fill_page(g, 1);
	fill_page(g, 2);
	page_out(g, 2);
	for (int i = 7; i >= 0; i--)
		want = want << 8 | fill_byte(at + (uint64_t)i);
	say(name, "mov rax, [rsi] with rsi ");
	put_hex(at);
	puts_serial(": 4 bytes on page 1 (resident), 4 on page 2 (paged out)\n");

	restart_enter(&c, place_code(INSN_AT, code_straddle, code_straddle_end));
	note_ref(g, 1);
	note_ref(g, 2);

	say(name, "after:");
	expect_reg(g, "rax", c.rax, want);
	expect_reg(g, "rsi", c.rsi, at);
	puts_serial("\n");
	check_pages(g, 1, 2, NULL);
	verdict(g, name, errors, "rax holds the 8 bytes of both pages, pages 1-2 verified");
}

/* movabs (10 bytes) starting 3 bytes before the end of page 1, its other 7
 * bytes and the jump after it on page 2, which is out: the instruction
 * fetch faults. The data region is executable (the guest's page tables
 * set no NX bit), so the code is copied into the data pages themselves. */
static void restart_fetch(struct guest *g, const char *name)
{
	const uint64_t at = data_addr(1, PAGE - 3);
	struct cpu c = { .rax = SENTINEL, .rsp = SCRATCH_STACK };
	uint64_t errors = g->errors;

	fill_page(g, 1);
	fill_page(g, 2);
	place_code(at, code_fetch, code_fetch_end); /* pages 1 and 2 are resident */
	page_out(g, 2);
	say(name, "movabs rax, ");
	put_hex(FETCH_IMM);
	puts_serial(" at ");
	put_hex(at);
	puts_serial(": 3 bytes on page 1 (resident), 7 on page 2 (paged out)\n");

	restart_enter(&c, at);
	note_ref(g, 1);
	note_ref(g, 2);

	say(name, "after:");
	expect_reg(g, "rax", c.rax, FETCH_IMM);
	puts_serial("\n");
	check_pages(g, 1, 2,
		    &(struct change){ .at = at, .len = (uint64_t)(code_fetch_end - code_fetch),
				      .bytes = code_fetch });
	verdict(g, name, errors, "the instruction ran once, pages 1-2 verified");
}

void wl_restart(struct guest *g, uint32_t wl)
{
	static const struct {
		uint32_t wl;
		const char *name;
		void (*run)(struct guest *g, const char *name);
	} scenarios[] = {
		{ WL_RESTART_MOVSB, "restart-movsb", restart_movsb },
		{ WL_RESTART_REPMOVSB, "restart-repmovsb", restart_repmovsb },
		{ WL_RESTART_PUSH, "restart-push", restart_push },
		{ WL_RESTART_STRADDLE, "restart-straddle", restart_straddle },
		{ WL_RESTART_FETCH, "restart-fetch", restart_fetch },
	};

	if (g->npages < 5) {
		puts_serial("pflab guest: the restart scenarios need 5 data pages\n");
		g->errors++;
		return;
	}
	place_code(FILL_AT, code_fill, code_fill_end);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (scenarios[i].wl == wl)
			scenarios[i].run(g, scenarios[i].name);
}
