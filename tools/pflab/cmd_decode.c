// SPDX-License-Identifier: MIT
/*
 * pflab decode: what one instruction accesses, what it changes, and, for a
 * fault on one of its accesses, how to back it out. A front end to isa/.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "isa.h"

static const char decode_help[] =
	"usage: pflab decode --arch ARCH --hex BYTES [--rip ADDR] [--reg NAME=VALUE]...\n"
	"                    [--fault-access K] [--fault-addr ADDR] [--page-size N] [--json]\n\n"
	"Decode one instruction with Capstone and list its memory accesses in\n"
	"architectural order (access 0 is the instruction fetch), its register side\n"
	"effects, and with --fault-access K the corrections that undo what a fault\n"
	"on access K left behind (the backup plan).\n\n"
	"  --arch ARCH         x86-64, m68k, arm, arm64 or m6809\n"
	"  --hex BYTES         the instruction's bytes in hex, e.g. 22d8 or '22 d8'\n"
	"  --rip ADDR, --pc ADDR  the instruction's address (default: the pc register, 0)\n"
	"  --reg NAME=VALUE    a register before the instruction (repeatable); values\n"
	"                      are decimal or 0x-hex; x86-64 also has rflags, fs_base,\n"
	"                      gs_base; 6809's d sets a and b\n"
	"  --fault-access K    show the backup plan for a fault on access K\n"
	"  --fault-addr ADDR   name the access a fault at ADDR (linear) comes from; for a\n"
	"                      rep string instruction, the iteration and RCX/RSI/RDI\n"
	"  --page-size N       page size for page parts and matching (default 4096)\n"
	"  --json              one JSON object (fields in docs/isa.md)\n\n"
	"Fault models and sources: docs/isa.md.\n";

/* A number: decimal, or hex with 0x. */
static int parse_number(const char *s, uint64_t *out)
{
	int base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		int dgt;

		if (isdigit((unsigned char)*s))
			dgt = *s - '0';
		else if (base == 16 && isxdigit((unsigned char)*s))
			dgt = tolower((unsigned char)*s) - 'a' + 10;
		else
			return -1;
		if (v > (UINT64_MAX - (uint64_t)dgt) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)dgt;
	}
	*out = v;
	return 0;
}

/* Hex digits, spaces between bytes allowed. Returns the count or -1 with why. */
static int parse_hex(const char *s, uint8_t *out, size_t max, char *why, size_t whylen)
{
	size_t n = 0;
	int half = -1;

	for (const char *p = s; *p; p++) {
		int v;

		if (isspace((unsigned char)*p)) {
			if (half >= 0) {
				snprintf(why, whylen, "'%s': a byte needs two hex digits", s);
				return -1;
			}
			continue;
		}
		if (!isxdigit((unsigned char)*p)) {
			snprintf(why, whylen, "'%s': '%c' is not a hex digit", s, *p);
			return -1;
		}
		v = isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10;
		if (half < 0) {
			half = v;
			continue;
		}
		if (n == max) {
			snprintf(why, whylen, "more than %zu bytes", max);
			return -1;
		}
		out[n++] = (uint8_t)(half << 4 | v);
		half = -1;
	}
	if (half >= 0) {
		snprintf(why, whylen, "'%s': odd number of hex digits", s);
		return -1;
	}
	if (n == 0) {
		snprintf(why, whylen, "no bytes given");
		return -1;
	}
	return (int)n;
}

static const char *kind_name(unsigned kind)
{
	if (kind & ISA_ACC_FETCH)
		return "fetch";
	if ((kind & (ISA_ACC_READ | ISA_ACC_WRITE)) == (ISA_ACC_READ | ISA_ACC_WRITE))
		return "read-write";
	return kind & ISA_ACC_WRITE ? "write" : "read";
}

struct decode_opts {
	const struct isa_insn *insn;
	uint64_t page_size;
	bool has_fault_access;
	unsigned fault_access;
	bool has_fault_addr;
	uint64_t fault_addr;
	int match_rc;
	struct isa_fault_match match;
	int nfix;
	struct isa_fixup fix[ISA_MAX_EFFECTS];
	const uint8_t *bytes;
};

static void print_text(const struct decode_opts *o)
{
	const struct isa_insn *in = o->insn;

	printf("%s\n", in->text);
	printf("arch %s, %u bytes at 0x%" PRIx64 ", fault model %s%s\n", isa_arch_name(in->arch),
	       in->len, in->pc, in->model,
	       in->flags & ISA_INSN_INCOMPLETE ? " (accesses incomplete: see docs/isa.md)" : "");
	printf("accesses:\n");
	for (unsigned i = 0; i < in->n_access; i++) {
		const struct isa_access *a = &in->access[i];
		struct isa_span parts[2];
		unsigned np = isa_access_split(a, o->page_size, parts);
		char op[16];

		if (a->operand >= 0)
			snprintf(op, sizeof(op), "op%d", a->operand);
		else
			snprintf(op, sizeof(op), "implicit");
		if (a->addr_known)
			printf("  %2u %-10s 0x%-16" PRIx64 " %4u  %-8s %s", i, kind_name(a->kind),
			       a->addr, a->size, isa_role_name((enum isa_role)a->role), op);
		else
			printf("  %2u %-10s %-18s %4u  %-8s %s", i, kind_name(a->kind), "(unknown)",
			       a->size, isa_role_name((enum isa_role)a->role), op);
		if (a->addr_known && np == 2)
			printf("  straddles: 0x%" PRIx64 "+%u, 0x%" PRIx64 "+%u", parts[0].addr,
			       parts[0].size, parts[1].addr, parts[1].size);
		putchar('\n');
	}
	if (in->str.present) {
		const struct isa_x86_string *s = &in->str;

		printf("string: %s%u-byte elements, step %+" PRId64 ", %" PRIu64
		       " iteration%s to go (rcx 0x%" PRIx64 ", rsi 0x%" PRIx64 ", rdi 0x%" PRIx64 ")\n",
		       s->rep ? "rep, " : "", s->elem, s->step, s->count, s->count == 1 ? "" : "s",
		       s->rcx, s->rsi, s->rdi);
	}
	printf("effects:%s\n", in->n_effect ? "" : " none");
	for (unsigned i = 0; i < in->n_effect; i++) {
		const struct isa_effect *e = &in->effect[i];

		printf("  %s %s %" PRIu64 "  ", isa_reg_name(in->arch, e->reg), e->delta < 0 ? "-=" : "+=",
		       e->delta < 0 ? -(uint64_t)e->delta : (uint64_t)e->delta);
		if (e->before >= in->n_access)
			printf("after the last access\n");
		else
			printf("before access %u\n", e->before);
	}
	if (o->has_fault_addr) {
		const struct isa_fault_match *m = &o->match;

		if (o->match_rc != ISA_OK) {
			printf("fault at 0x%" PRIx64 ": %s\n", o->fault_addr, isa_strerror(o->match_rc));
		} else {
			printf("fault at 0x%" PRIx64 ": access %d, %s page part 0x%" PRIx64 "+%u (%s)\n",
			       o->fault_addr, m->access, m->part ? "second" : "first", m->part_addr,
			       m->part_size, m->exact ? "address inside" : "same page");
			if (m->string)
				printf("  iteration %" PRIu64 " faulted, %" PRIu64 " done: rcx 0x%" PRIx64
				       ", rsi 0x%" PRIx64 ", rdi 0x%" PRIx64 "\n",
				       m->done, m->done, m->rcx, m->rsi, m->rdi);
		}
	}
	if (o->has_fault_access) {
		printf("backup plan for a fault on access %u:%s\n", o->fault_access,
		       o->nfix ? "" : " nothing to undo");
		for (int i = 0; i < o->nfix; i++)
			printf("  %s %s %" PRIu64 "\n", isa_reg_name(in->arch, o->fix[i].reg),
			       o->fix[i].delta < 0 ? "-=" : "+=",
			       o->fix[i].delta < 0 ? -(uint64_t)o->fix[i].delta : (uint64_t)o->fix[i].delta);
	}
}

static void json_hex(uint64_t v)
{
	printf("\"0x%" PRIx64 "\"", v);
}

static void print_json(const struct decode_opts *o)
{
	const struct isa_insn *in = o->insn;

	printf("{\"arch\": \"%s\", \"pc\": ", isa_arch_name(in->arch));
	json_hex(in->pc);
	printf(", \"length\": %u, \"bytes\": \"", in->len);
	for (unsigned i = 0; i < in->len; i++)
		printf("%02x", o->bytes[i]);
	printf("\", \"text\": ");
	json_string(stdout, in->text);
	printf(", \"model\": \"%s\", \"incomplete\": %s,\n \"accesses\": [", in->model,
	       in->flags & ISA_INSN_INCOMPLETE ? "true" : "false");
	for (unsigned i = 0; i < in->n_access; i++) {
		const struct isa_access *a = &in->access[i];
		struct isa_span parts[2];
		unsigned np = isa_access_split(a, o->page_size, parts);

		printf("%s\n  {\"index\": %u, \"kind\": \"%s\", \"addr\": ", i ? "," : "", i,
		       kind_name(a->kind));
		if (a->addr_known)
			json_hex(a->addr);
		else
			printf("null");
		printf(", \"size\": %u, \"role\": \"%s\", \"operand\": ", a->size,
		       isa_role_name((enum isa_role)a->role));
		if (a->operand >= 0)
			printf("%d", a->operand);
		else
			printf("null");
		printf(", \"implicit\": %s, \"pages\": [", a->implicit ? "true" : "false");
		for (unsigned p = 0; a->addr_known && p < np; p++) {
			printf("%s{\"addr\": ", p ? ", " : "");
			json_hex(parts[p].addr);
			printf(", \"size\": %u}", parts[p].size);
		}
		printf("]}");
	}
	printf("],\n \"effects\": [");
	for (unsigned i = 0; i < in->n_effect; i++) {
		const struct isa_effect *e = &in->effect[i];

		printf("%s{\"reg\": \"%s\", \"delta\": %" PRId64 ", \"before\": %u}", i ? ", " : "",
		       isa_reg_name(in->arch, e->reg), e->delta, e->before);
	}
	printf("]");
	if (in->str.present) {
		const struct isa_x86_string *s = &in->str;

		printf(",\n \"string\": {\"rep\": %s, \"elem\": %u, \"step\": %" PRId64
		       ", \"count\": %" PRIu64 ", \"rcx\": ", s->rep ? "true" : "false", s->elem,
		       s->step, s->count);
		json_hex(s->rcx);
		printf(", \"rsi\": ");
		json_hex(s->rsi);
		printf(", \"rdi\": ");
		json_hex(s->rdi);
		printf("}");
	}
	if (o->has_fault_addr) {
		const struct isa_fault_match *m = &o->match;

		printf(",\n \"match\": ");
		if (o->match_rc != ISA_OK) {
			printf("null");
		} else {
			printf("{\"fault_addr\": ");
			json_hex(o->fault_addr);
			printf(", \"access\": %d, \"part\": %d, \"part_addr\": ", m->access, m->part);
			json_hex(m->part_addr);
			printf(", \"part_size\": %u, \"exact\": %s", m->part_size, m->exact ? "true" : "false");
			if (m->string) {
				printf(", \"done\": %" PRIu64 ", \"rcx\": ", m->done);
				json_hex(m->rcx);
				printf(", \"rsi\": ");
				json_hex(m->rsi);
				printf(", \"rdi\": ");
				json_hex(m->rdi);
			}
			printf("}");
		}
	}
	if (o->has_fault_access) {
		printf(",\n \"backup\": {\"fault_access\": %u, \"fixups\": [", o->fault_access);
		for (int i = 0; i < o->nfix; i++)
			printf("%s{\"reg\": \"%s\", \"delta\": %" PRId64 "}", i ? ", " : "",
			       isa_reg_name(in->arch, o->fix[i].reg), o->fix[i].delta);
		printf("]}");
	}
	printf("}\n");
}

static int decode_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "arch", required_argument, NULL, 'a' },
		{ "hex", required_argument, NULL, 'x' },
		{ "rip", required_argument, NULL, 'p' },
		{ "pc", required_argument, NULL, 'p' },
		{ "reg", required_argument, NULL, 'r' },
		{ "fault-access", required_argument, NULL, 'k' },
		{ "fault-addr", required_argument, NULL, 'f' },
		{ "page-size", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *arch_name = NULL, *hex = NULL;
	char *regargs[64];
	unsigned nregargs = 0;
	struct decode_opts o = { .page_size = 4096 };
	struct isa_insn insn;
	struct isa_regs regs = { { 0 } };
	uint8_t bytes[64];
	uint64_t pc = 0, k = 0;
	bool has_pc = false, json = false;
	char why[160];
	int c, arch, n, rc;

	while ((c = cli_getopt("decode", argc, argv, "a:x:p:r:k:f:s:jh", longopts)) != -1) {
		switch (c) {
		case 'a': arch_name = optarg; break;
		case 'x': hex = optarg; break;
		case 'p':
			if (parse_number(optarg, &pc) != 0)
				return cli_usage_error("decode", "--rip: '%s' is not an address", optarg);
			has_pc = true;
			break;
		case 'r':
			if (nregargs == sizeof(regargs) / sizeof(regargs[0]))
				return cli_usage_error("decode", "too many --reg options");
			regargs[nregargs++] = optarg;
			break;
		case 'k':
			if (cli_parse_u64(optarg, 0, ISA_MAX_ACCESSES - 1, &k, why, sizeof(why)) != 0)
				return cli_usage_error("decode", "--fault-access: %s", why);
			o.has_fault_access = true;
			o.fault_access = (unsigned)k;
			break;
		case 'f':
			if (parse_number(optarg, &o.fault_addr) != 0)
				return cli_usage_error("decode", "--fault-addr: '%s' is not an address", optarg);
			o.has_fault_addr = true;
			break;
		case 's':
			if (cli_parse_u64(optarg, 16, 1ull << 30, &o.page_size, why, sizeof(why)) != 0 ||
			    (o.page_size & (o.page_size - 1)))
				return cli_usage_error("decode", "--page-size: '%s' is not a power of two in [16, 2^30]", optarg);
			break;
		case 'j': json = true; break;
		case 'h': fputs(decode_help, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("decode", "unexpected argument '%s'", argv[optind]);
	if (!arch_name)
		return cli_usage_error("decode", "--arch is required (x86-64, m68k, arm, arm64, m6809)");
	arch = isa_arch_from_name(arch_name);
	if (arch < 0)
		return cli_usage_error("decode", "unknown arch '%s' (x86-64, m68k, arm, arm64, m6809)",
				       arch_name);
	if (!hex)
		return cli_usage_error("decode", "--hex is required");
	n = parse_hex(hex, bytes, sizeof(bytes), why, sizeof(why));
	if (n < 0)
		return cli_usage_error("decode", "--hex: %s", why);
	for (unsigned i = 0; i < nregargs; i++) {
		char *eq = strchr(regargs[i], '=');
		uint64_t v;

		if (!eq)
			return cli_usage_error("decode", "--reg '%s': expected NAME=VALUE", regargs[i]);
		*eq = '\0';
		if (parse_number(eq + 1, &v) != 0)
			return cli_usage_error("decode", "--reg %s: '%s' is not a number", regargs[i], eq + 1);
		if (isa_reg_set((enum isa_arch)arch, &regs, regargs[i], v) != ISA_OK)
			return cli_usage_error("decode", "--reg %s: %s", regargs[i],
					       isa_reg_lookup((enum isa_arch)arch, regargs[i]) < 0
						       ? "no such register on this arch"
						       : "value too wide for the register");
	}
	if (has_pc) {
		if (isa_reg_set((enum isa_arch)arch, &regs, isa_reg_name((enum isa_arch)arch,
			       isa_reg_pc((enum isa_arch)arch)), pc) != ISA_OK)
			return cli_usage_error("decode", "--rip: 0x%" PRIx64 " is too wide for %s", pc,
					       arch_name);
	} else {
		pc = regs.r[isa_reg_pc((enum isa_arch)arch)];
	}
	rc = isa_decode((enum isa_arch)arch, bytes, (size_t)n, pc, &regs, &insn);
	if (rc != ISA_OK)
		return cli_usage_error("decode", "--hex %s: %s for %s", hex, isa_strerror(rc), arch_name);
	o.insn = &insn;
	o.bytes = bytes;
	if (o.has_fault_addr) {
		struct isa_fault f = { .addr = o.fault_addr, .page_size = o.page_size };

		o.match_rc = isa_match_fault(&insn, &f, &o.match);
		/* Without --fault-access, the backup plan is for the matched access. */
		if (o.match_rc == ISA_OK && !o.has_fault_access) {
			o.has_fault_access = true;
			o.fault_access = (unsigned)o.match.access;
		}
	}
	if (o.has_fault_access) {
		o.nfix = isa_backup_plan(&insn, o.fault_access, o.fix);
		if (o.nfix < 0)
			return cli_usage_error("decode", "--fault-access %u: the instruction has %u accesses (0..%u)",
					       o.fault_access, insn.n_access, insn.n_access - 1);
	}
	if (json)
		print_json(&o);
	else
		print_text(&o);
	return EXIT_OK;
}

static const struct command decode_cmd = {
	.name = "decode",
	.summary = "decode an instruction: its accesses, side effects and backup plan",
	.main = decode_main,
};
COMMAND_REGISTER(decode_cmd);
