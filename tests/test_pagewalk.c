// SPDX-License-Identifier: MIT
/*
 * The host's page walk (vmm/pagewalk.c) on page tables built here in a
 * buffer standing for wired memory: 4 KiB, 2 MiB and 1 GiB pages map where
 * the tables say, with the offset kept; a page not present at any level, a
 * table outside wired memory, another paging mode, a PS bit in a PML4 entry
 * and a non-canonical address all leave the answer to KVM_TRANSLATE (-1).
 * KVM runs of every workload under the kvm trap (the kvm suite) use the
 * walk for every access they decode.
 */
#include <stdint.h>
#include <string.h>

#include "test.h"

#include "pagewalk.h"

#define P 0x1ull
#define W 0x2ull
#define PS 0x80ull

static uint64_t mem[6 * 512]; /* six page tables at 0x0000 .. 0x5fff */

static void set(uint64_t table_gpa, unsigned idx, uint64_t e)
{
	mem[table_gpa / 8 + idx] = e;
}

static struct kvm_sregs long_mode(uint64_t cr3)
{
	struct kvm_sregs s;

	memset(&s, 0, sizeof(s));
	s.cr0 = 0x80000001ull; /* PG, PE */
	s.cr4 = 0x20;          /* PAE */
	s.efer = 0x500;        /* LME, LMA */
	s.cr3 = cr3;
	return s;
}

static void test_pagewalk_sizes(void)
{
	const struct guest_ram ram = { (const uint8_t *)mem, sizeof(mem), NULL, NULL };
	struct kvm_sregs s = long_mode(0x1000 | 0x18); /* PCD/PWT bits ignored */
	uint64_t gpa = 0;

	memset(mem, 0, sizeof(mem));
	/* PML4 at 0x1000: [0] -> PDPT 0x2000, [511] -> PDPT 0x5000 */
	set(0x1000, 0, 0x2000 | P | W);
	set(0x1000, 511, 0x5000 | P);
	/* PDPT 0x2000: [0] -> PD 0x3000, [1] a 1 GiB page at 0xc0000000 */
	set(0x2000, 0, 0x3000 | P | W);
	set(0x2000, 1, 0xc0000000ull | P | PS);
	/* PD 0x3000: [0] -> PT 0x4000, [1] a 2 MiB page at 0x40200000 (PAT bit 12 set) */
	set(0x3000, 0, 0x4000 | P | W);
	set(0x3000, 1, 0x40200000ull | 0x1000 | P | PS);
	/* PT 0x4000: [5] -> 0x7777000; [6] not present */
	set(0x4000, 5, 0x7777000ull | P | W | (1ull << 63)); /* NX ignored */
	set(0x4000, 6, 0x8888000ull);
	/* the top 2 MiB via PML4[511] -> PDPT 0x5000 [511] -> PD at 0x90000 (outside) */
	set(0x5000, 511, 0x90000 | P);

	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x5123, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0x7777123ull);
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x200000 + 0x12345, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0x40212345ull);
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x40000000ull + 0x3456789, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0xc3456789ull);
	gpa = 42;
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x6000, &gpa), -1);     /* PTE not present */
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x400000, &gpa), -1);   /* PDE not present */
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x80000000ull, &gpa), -1); /* PDPTE not present */
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x8000000000ull, &gpa), -1); /* PML4E not present */
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0xffffffffffe00000ull, &gpa), -1); /* PD outside */
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x0000800000000000ull, &gpa), -1); /* not canonical */
	/* not canonical either, though its indices walk to 0x7777123 */
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x0001000000005123ull, &gpa), -1);
	CU_ASSERT_EQUAL(gpa, 42); /* untouched when it cannot say */
}

static void test_pagewalk_modes(void)
{
	const struct guest_ram ram = { (const uint8_t *)mem, sizeof(mem), NULL, NULL };
	struct kvm_sregs s = long_mode(0x1000);
	uint64_t gpa;

	memset(mem, 0, sizeof(mem));
	set(0x1000, 0, 0x2000 | P);
	set(0x2000, 0, 0x3000 | P);
	set(0x3000, 0, 0x4000 | P);
	set(0x4000, 1, 0xabc000 | P);
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x1008, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0xabc008ull);
	s.cr0 &= ~0x80000000ull; /* paging off */
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x1008, &gpa), -1);
	s = long_mode(0x1000);
	s.efer = 0; /* legacy PAE */
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x1008, &gpa), -1);
	s = long_mode(0x1000);
	s.cr4 |= 1ull << 12; /* LA57 */
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x1008, &gpa), -1);
	s = long_mode(0x1000);
	set(0x1000, 0, 0x2000 | P | PS); /* reserved in a PML4 entry */
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x1008, &gpa), -1);
	s = long_mode(0x1000);
	s.cr3 = sizeof(mem); /* the PML4 itself outside wired memory */
	CU_ASSERT_EQUAL(pagewalk(&ram, &s, 0x1008, &gpa), -1);
}

static CU_TestInfo pagewalk_tests[] = {
	{ "4K, 2M, 1G pages; not present at each level", test_pagewalk_sizes },
	{ "other modes, reserved PS, tables outside: left to KVM", test_pagewalk_modes },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("pagewalk", pagewalk_tests);
