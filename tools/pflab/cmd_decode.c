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
#include "cmd_decode.h"

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

static void print_text(FILE *out, const struct decode_result *o)
{
	const struct isa_insn *in = &o->insn;

	fprintf(out, "%s\n", in->text);
	fprintf(out, "arch %s, %u bytes at 0x%" PRIx64 ", fault model %s%s\n", isa_arch_name(in->arch),
	       in->len, in->pc, in->model,
	       in->flags & ISA_INSN_INCOMPLETE ? " (accesses incomplete: see docs/isa.md)" : "");
	fprintf(out, "accesses:\n");
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
			fprintf(out, "  %2u %-10s 0x%-16" PRIx64 " %4u  %-8s %s", i, kind_name(a->kind),
			       a->addr, a->size, isa_role_name((enum isa_role)a->role), op);
		else
			fprintf(out, "  %2u %-10s %-18s %4u  %-8s %s", i, kind_name(a->kind), "(unknown)",
			       a->size, isa_role_name((enum isa_role)a->role), op);
		if (a->addr_known && np == 2)
			fprintf(out, "  straddles: 0x%" PRIx64 "+%u, 0x%" PRIx64 "+%u", parts[0].addr,
			       parts[0].size, parts[1].addr, parts[1].size);
		fputc('\n', out);
	}
	if (in->str.present) {
		const struct isa_x86_string *s = &in->str;

		fprintf(out, "string: %s%u-byte elements, step %+" PRId64 ", %" PRIu64
		       " iteration%s to go (rcx 0x%" PRIx64 ", rsi 0x%" PRIx64 ", rdi 0x%" PRIx64 ")\n",
		       s->rep ? "rep, " : "", s->elem, s->step, s->count, s->count == 1 ? "" : "s",
		       s->rcx, s->rsi, s->rdi);
	}
	fprintf(out, "effects:%s\n", in->n_effect ? "" : " none");
	for (unsigned i = 0; i < in->n_effect; i++) {
		const struct isa_effect *e = &in->effect[i];

		fprintf(out, "  %s %s %" PRIu64 "  ", isa_reg_name(in->arch, e->reg), e->delta < 0 ? "-=" : "+=",
		       e->delta < 0 ? -(uint64_t)e->delta : (uint64_t)e->delta);
		if (e->before >= in->n_access)
			fprintf(out, "after the last access\n");
		else
			fprintf(out, "before access %u\n", e->before);
	}
	if (o->has_fault_addr) {
		const struct isa_fault_match *m = &o->match;

		if (o->match_rc != ISA_OK) {
			fprintf(out, "fault at 0x%" PRIx64 ": %s\n", o->fault_addr, isa_strerror(o->match_rc));
		} else {
			fprintf(out, "fault at 0x%" PRIx64 ": access %d, %s page part 0x%" PRIx64 "+%u (%s)\n",
			       o->fault_addr, m->access, m->part ? "second" : "first", m->part_addr,
			       m->part_size, m->exact ? "address inside" : "same page");
			if (m->string)
				fprintf(out, "  iteration %" PRIu64 " faulted, %" PRIu64 " done: rcx 0x%" PRIx64
				       ", rsi 0x%" PRIx64 ", rdi 0x%" PRIx64 "\n",
				       m->done, m->done, m->rcx, m->rsi, m->rdi);
		}
	}
	if (o->has_fault_access) {
		fprintf(out, "backup plan for a fault on access %u:%s\n", o->fault_access,
		       o->nfix ? "" : " nothing to undo");
		for (int i = 0; i < o->nfix; i++)
			fprintf(out, "  %s %s %" PRIu64 "\n", isa_reg_name(in->arch, o->fix[i].reg),
			       o->fix[i].delta < 0 ? "-=" : "+=",
			       o->fix[i].delta < 0 ? -(uint64_t)o->fix[i].delta : (uint64_t)o->fix[i].delta);
	}
}

static void json_hex(FILE *out, uint64_t v)
{
	fprintf(out, "\"0x%" PRIx64 "\"", v);
}

static void print_json(FILE *out, const struct decode_result *o)
{
	const struct isa_insn *in = &o->insn;

	fprintf(out, "{\"arch\": \"%s\", \"pc\": ", isa_arch_name(in->arch));
	json_hex(out, in->pc);
	fprintf(out, ", \"length\": %u, \"bytes\": \"", in->len);
	for (unsigned i = 0; i < in->len; i++)
		fprintf(out, "%02x", o->bytes[i]);
	fprintf(out, "\", \"text\": ");
	json_string(out, in->text);
	fprintf(out, ", \"model\": \"%s\", \"incomplete\": %s,\n \"accesses\": [", in->model,
	       in->flags & ISA_INSN_INCOMPLETE ? "true" : "false");
	for (unsigned i = 0; i < in->n_access; i++) {
		const struct isa_access *a = &in->access[i];
		struct isa_span parts[2];
		unsigned np = isa_access_split(a, o->page_size, parts);

		fprintf(out, "%s\n  {\"index\": %u, \"kind\": \"%s\", \"addr\": ", i ? "," : "", i,
		       kind_name(a->kind));
		if (a->addr_known)
			json_hex(out, a->addr);
		else
			fprintf(out, "null");
		fprintf(out, ", \"size\": %u, \"role\": \"%s\", \"operand\": ", a->size,
		       isa_role_name((enum isa_role)a->role));
		if (a->operand >= 0)
			fprintf(out, "%d", a->operand);
		else
			fprintf(out, "null");
		fprintf(out, ", \"implicit\": %s, \"pages\": [", a->implicit ? "true" : "false");
		for (unsigned p = 0; a->addr_known && p < np; p++) {
			fprintf(out, "%s{\"addr\": ", p ? ", " : "");
			json_hex(out, parts[p].addr);
			fprintf(out, ", \"size\": %u}", parts[p].size);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "],\n \"effects\": [");
	for (unsigned i = 0; i < in->n_effect; i++) {
		const struct isa_effect *e = &in->effect[i];

		fprintf(out, "%s{\"reg\": \"%s\", \"delta\": %" PRId64 ", \"before\": %u}", i ? ", " : "",
		       isa_reg_name(in->arch, e->reg), e->delta, e->before);
	}
	fprintf(out, "]");
	if (in->str.present) {
		const struct isa_x86_string *s = &in->str;

		fprintf(out, ",\n \"string\": {\"rep\": %s, \"elem\": %u, \"step\": %" PRId64
		       ", \"count\": %" PRIu64 ", \"rcx\": ", s->rep ? "true" : "false", s->elem,
		       s->step, s->count);
		json_hex(out, s->rcx);
		fprintf(out, ", \"rsi\": ");
		json_hex(out, s->rsi);
		fprintf(out, ", \"rdi\": ");
		json_hex(out, s->rdi);
		fprintf(out, "}");
	}
	if (o->has_fault_addr) {
		const struct isa_fault_match *m = &o->match;

		fprintf(out, ",\n \"match\": ");
		if (o->match_rc != ISA_OK) {
			fprintf(out, "null");
		} else {
			fprintf(out, "{\"fault_addr\": ");
			json_hex(out, o->fault_addr);
			fprintf(out, ", \"access\": %d, \"part\": %d, \"part_addr\": ", m->access, m->part);
			json_hex(out, m->part_addr);
			fprintf(out, ", \"part_size\": %u, \"exact\": %s", m->part_size, m->exact ? "true" : "false");
			if (m->string) {
				fprintf(out, ", \"done\": %" PRIu64 ", \"rcx\": ", m->done);
				json_hex(out, m->rcx);
				fprintf(out, ", \"rsi\": ");
				json_hex(out, m->rsi);
				fprintf(out, ", \"rdi\": ");
				json_hex(out, m->rdi);
			}
			fprintf(out, "}");
		}
	}
	if (o->has_fault_access) {
		fprintf(out, ",\n \"backup\": {\"fault_access\": %u, \"fixups\": [", o->fault_access);
		for (int i = 0; i < o->nfix; i++)
			fprintf(out, "%s{\"reg\": \"%s\", \"delta\": %" PRId64 "}", i ? ", " : "",
			       isa_reg_name(in->arch, o->fix[i].reg), o->fix[i].delta);
		fprintf(out, "]}");
	}
	fprintf(out, "}\n");
}

void decode_print(FILE *out, const struct decode_result *r, bool json)
{
	if (json)
		print_json(out, r);
	else
		print_text(out, r);
}

/* --reg NAME=VALUE into regs. 0, or -1 with why. */
static int parse_reg(enum isa_arch arch, const char *arg, struct isa_regs *regs, char *why,
		     size_t whylen)
{
	const char *eq = strchr(arg, '=');
	char name[32];
	uint64_t v;
	int nlen;

	if (!eq) {
		snprintf(why, whylen, "--reg '%s': expected NAME=VALUE", arg);
		return -1;
	}
	nlen = (int)(eq - arg);
	if (parse_number(eq + 1, &v) != 0) {
		snprintf(why, whylen, "--reg %.*s: '%s' is not a number", nlen, arg, eq + 1);
		return -1;
	}
	if ((size_t)nlen < sizeof(name)) {
		memcpy(name, arg, (size_t)nlen);
		name[nlen] = '\0';
		if (isa_reg_set(arch, regs, name, v) == ISA_OK)
			return 0;
	}
	snprintf(why, whylen, "--reg %.*s: %s", nlen, arg,
		 (size_t)nlen >= sizeof(name) || isa_reg_lookup(arch, name) < 0
			 ? "no such register on this arch"
			 : "value too wide for the register");
	return -1;
}
int decode_prepare(const struct decode_input *in, struct decode_result *r, char *why,
		   size_t whylen)
{
	struct isa_regs regs = { { 0 } };
	uint64_t pc = 0, k;
	int arch, n, rc;

	*r = (struct decode_result){ .page_size = 4096 };
	if (in->rip && parse_number(in->rip, &pc) != 0) {
		snprintf(why, whylen, "--rip: '%s' is not an address", in->rip);
		return -1;
	}
	if (in->fault_access) {
		if (cli_parse_u64(in->fault_access, 0, ISA_MAX_ACCESSES - 1, &k, why, whylen) != 0) {
			char reason[160];

			snprintf(reason, sizeof(reason), "%s", why);
			snprintf(why, whylen, "--fault-access: %s", reason);
			return -1;
		}
		r->has_fault_access = true;
		r->fault_access = (unsigned)k;
	}
	if (in->fault_addr) {
		if (parse_number(in->fault_addr, &r->fault_addr) != 0) {
			snprintf(why, whylen, "--fault-addr: '%s' is not an address", in->fault_addr);
			return -1;
		}
		r->has_fault_addr = true;
	}
	if (in->page_size &&
	    (cli_parse_u64(in->page_size, 16, 1ull << 30, &r->page_size, why, whylen) != 0 ||
	     (r->page_size & (r->page_size - 1)))) {
		snprintf(why, whylen, "--page-size: '%s' is not a power of two in [16, 2^30]",
			 in->page_size);
		return -1;
	}
	if (!in->arch) {
		snprintf(why, whylen, "--arch is required (x86-64, m68k, arm, arm64, m6809)");
		return -1;
	}
	arch = isa_arch_from_name(in->arch);
	if (arch < 0) {
		snprintf(why, whylen, "unknown arch '%s' (x86-64, m68k, arm, arm64, m6809)", in->arch);
		return -1;
	}
	if (!in->hex) {
		snprintf(why, whylen, "--hex is required");
		return -1;
	}
	n = parse_hex(in->hex, r->bytes, sizeof(r->bytes), why, whylen);
	if (n < 0) {
		char reason[160];

		snprintf(reason, sizeof(reason), "%s", why);
		snprintf(why, whylen, "--hex: %s", reason);
		return -1;
	}
	for (unsigned i = 0; i < in->nregs; i++)
		if (parse_reg((enum isa_arch)arch, in->regs[i], &regs, why, whylen) != 0)
			return -1;
	if (in->rip) {
		if (isa_reg_set((enum isa_arch)arch, &regs, isa_reg_name((enum isa_arch)arch,
			       isa_reg_pc((enum isa_arch)arch)), pc) != ISA_OK) {
			snprintf(why, whylen, "--rip: 0x%" PRIx64 " is too wide for %s", pc, in->arch);
			return -1;
		}
	} else {
		pc = regs.r[isa_reg_pc((enum isa_arch)arch)];
	}
	rc = isa_decode((enum isa_arch)arch, r->bytes, (size_t)n, pc, &regs, &r->insn);
	if (rc != ISA_OK) {
		snprintf(why, whylen, "--hex %s: %s for %s", in->hex, isa_strerror(rc), in->arch);
		return -1;
	}
	if (r->has_fault_addr) {
		struct isa_fault f = { .addr = r->fault_addr, .page_size = r->page_size };

		r->match_rc = isa_match_fault(&r->insn, &f, &r->match);
		/* Without --fault-access, the backup plan is for the matched access. */
		if (r->match_rc == ISA_OK && !r->has_fault_access) {
			r->has_fault_access = true;
			r->fault_access = (unsigned)r->match.access;
		}
	}
	if (r->has_fault_access) {
		r->nfix = isa_backup_plan(&r->insn, r->fault_access, r->fix);
		if (r->nfix < 0) {
			snprintf(why, whylen,
				 "--fault-access %u: the instruction has %u accesses (0..%u)",
				 r->fault_access, r->insn.n_access, r->insn.n_access - 1);
			return -1;
		}
	}
	return 0;
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
	const char *regargs[64];
	struct decode_input in = { .regs = regargs };
	struct decode_result *r;
	bool json = false;
	char why[256];
	int c;

	while ((c = cli_getopt("decode", argc, argv, "a:x:p:r:k:f:s:jh", longopts)) != -1) {
		switch (c) {
		case 'a': in.arch = optarg; break;
		case 'x': in.hex = optarg; break;
		case 'p': in.rip = optarg; break;
		case 'r':
			if (in.nregs == sizeof(regargs) / sizeof(regargs[0]))
				return cli_usage_error("decode", "too many --reg options");
			regargs[in.nregs++] = optarg;
			break;
		case 'k': in.fault_access = optarg; break;
		case 'f': in.fault_addr = optarg; break;
		case 's': in.page_size = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(decode_help, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("decode", "unexpected argument '%s'", argv[optind]);
	r = malloc(sizeof(*r));
	if (!r)
		return cli_fail("decode", "out of memory");
	if (decode_prepare(&in, r, why, sizeof(why)) != 0) {
		free(r);
		return cli_usage_error("decode", "%s", why);
	}
	decode_print(stdout, r, json);
	free(r);
	return EXIT_OK;
}

static const struct command decode_cmd = {
	.name = "decode",
	.summary = "decode an instruction: its accesses, side effects and backup plan",
	.main = decode_main,
};
COMMAND_REGISTER(decode_cmd);
