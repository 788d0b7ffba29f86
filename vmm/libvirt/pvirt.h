/* SPDX-License-Identifier: MIT */
/*
 * pflab's guests as libvirt domains (docs/libvirt.md), through libvirt's C
 * API (libvirt-dev), never virsh:
 *
 *   - a domain definition from a small config: pflab's guest image under
 *     qemu-system-x86_64 -M microvm, booted by its PVH note, its parameters
 *     on the kernel command line, its serial port into a file, QEMU's
 *     isa-debug-exit device and pflab's TCG plugin passed to QEMU through
 *     libvirt's <qemu:commandline> (libvirt has no element for either);
 *   - a connection to a libvirt URI (test:///default, qemu:///system,
 *     qemu+ssh://host/system), transient domains started from such a
 *     definition, their state, a bounded wait for their end;
 *   - the balloon: a domain's memory set (virDomainSetMemory) and the
 *     guest kernel's counters read back (virDomainMemoryStats).
 *
 * Nothing here knows scenarios or the command line; errors come back as
 * one line in the caller's buffer, libvirt's own reason included.
 */
#ifndef PFLAB_PVIRT_H
#define PFLAB_PVIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pvirt_accel { PVIRT_TCG, PVIRT_KVM };

#define PVIRT_MAX_PLUGIN_ARGS 64

struct pvirt_config {
	const char *name;          /* the domain's name: letters, digits, '-', '_', '.' */
	const char *kernel;        /* the image QEMU boots, an absolute path on the URI's host */
	const char *initrd;        /* NULL: none (pflab's guest: the PVH module, a trace) */
	const char *cmdline;       /* NULL: none */
	uint64_t memory_kib;       /* the most the domain may have */
	uint64_t current_kib;      /* 0: memory_kib; the balloon's starting size */
	unsigned vcpus;            /* 1 to 64 */
	enum pvirt_accel accel;    /* <domain type='qemu'> (TCG) or 'kvm' */
	const char *machine;       /* "microvm" for pflab's guest, "q35" or "pc" for Linux */
	const char *emulator;      /* NULL: libvirt's default qemu-system-x86_64 */
	const char *plugin;        /* pflab's TCG plugin (.so), NULL: none */
	const char *plugin_args[PVIRT_MAX_PLUGIN_ARGS]; /* key=value each */
	size_t nplugin_args;
	const char *serial_log;    /* the serial port (the guest's console) into this file; NULL: none */
	bool debug_exit;           /* -device isa-debug-exit,iobase=0xf4,iosize=4 */
	bool balloon;              /* a virtio balloon, stats every second (needs PCI: not microvm) */
};

/*
 * The libvirt domain XML for c, malloc'ed, into *xml. 0, or -1 with one
 * line in err saying which field is wrong (nothing is allocated then).
 */
int pvirt_xml(const struct pvirt_config *c, char **xml, char *err, size_t errlen);
/*
 * The same, written to path through traces/outfile.h (a temporary file
 * beside it, renamed when complete; "-" is standard output): a failure
 * leaves path as it was.
 */
int pvirt_xml_write(const struct pvirt_config *c, const char *path, char *err, size_t errlen);

struct qemu_sys_config;   /* vmm/qemu/qemu_cmd.h */
/*
 * The domain of `pflab qemu`'s machine: q (the config its QEMU argv is
 * built from) mapped onto c, named name, with the plugin plugin_so (NULL:
 * none) and its nkv arguments ("key=value", unescaped). c points into q
 * and plugin_kv: keep them. 0, or -1 with the reason in err (a relative
 * path, a plugin under KVM, too many arguments).
 */
int pvirt_from_qemu(const struct qemu_sys_config *q, const char *name, const char *plugin_so,
		    char *const *plugin_kv, size_t nkv, struct pvirt_config *c, char *err,
		    size_t errlen);

/* ------------------------------------------------------------ libvirt */

struct pvirt;       /* a connection */
struct pvirt_dom;   /* a domain on it */

/* Connect to uri. NULL with the reason in err. libvirt's own error
 * printing is turned off for the connection: reasons come back in err. */
struct pvirt *pvirt_open(const char *uri, char *err, size_t errlen);
void pvirt_close(struct pvirt *v);
/* libvirt's name for the driver behind the connection ("QEMU", "TEST"...). */
const char *pvirt_driver(const struct pvirt *v);
/* Whether the driver runs no guest at all (libvirt's test driver). */
bool pvirt_runs_nothing(const struct pvirt *v);

/* Start a transient domain from xml (virDomainCreateXML). NULL with the reason. */
struct pvirt_dom *pvirt_start(struct pvirt *v, const char *xml, char *err, size_t errlen);
/* An existing domain by name. NULL with the reason. */
struct pvirt_dom *pvirt_lookup(struct pvirt *v, const char *name, char *err, size_t errlen);
/* Free the handle (the domain itself is left as it is). */
void pvirt_dom_free(struct pvirt_dom *d);
const char *pvirt_dom_name(const struct pvirt_dom *d);

/* The domain's state: "running", "shut off", ... (libvirt's states by name);
 * the raw libvirt state and reason in *state, *reason if not NULL.
 * NULL with the reason in err. */
const char *pvirt_state(struct pvirt_dom *d, int *state, int *reason, char *err, size_t errlen);
/* Whether libvirt's state is one where the guest no longer runs. */
bool pvirt_state_ended(int state);
/*
 * Wait until the domain has ended (shut off, crashed, or gone: a
 * transient domain disappears when QEMU exits), polling its state, at most
 * timeout_ns. 1 ended, 0 still running at the limit, -1 error (err).
 */
int pvirt_wait_end(struct pvirt_dom *d, uint64_t timeout_ns, char *err, size_t errlen);
/* Stop the domain now if it still runs (virDomainDestroy). 0, or -1 (err). */
int pvirt_destroy(struct pvirt_dom *d, char *err, size_t errlen);
/* The domain's XML as libvirt holds it, malloc'ed; NULL with the reason. */
char *pvirt_dom_xml(struct pvirt_dom *d, char *err, size_t errlen);

/* ------------------------------------------------------------ balloon */

/* The guest kernel's memory counters, as virDomainMemoryStats gives them. */
enum pvirt_stat {
	PVIRT_ACTUAL,       /* the balloon's current size, KiB */
	PVIRT_UNUSED,       /* free memory in the guest, KiB */
	PVIRT_AVAILABLE,    /* memory the guest sees, KiB */
	PVIRT_MAJOR_FAULT,  /* page faults that needed I/O, since boot */
	PVIRT_MINOR_FAULT,  /* page faults served from memory, since boot */
	PVIRT_SWAP_IN,      /* KiB read from swap, since boot */
	PVIRT_SWAP_OUT,     /* KiB written to swap, since boot */
	PVIRT_NSTATS
};

struct pvirt_memstats {
	uint64_t v[PVIRT_NSTATS];
	unsigned have;             /* bit (1u << stat): the guest reported it */
};

/* Column names of the stats, in enum order ("actual_kib", "major_fault"...). */
const char *pvirt_stat_name(enum pvirt_stat s);

/* Read the counters now. 0, or -1 (err). */
int pvirt_memstats(struct pvirt_dom *d, struct pvirt_memstats *out, char *err, size_t errlen);
/*
 * One balloon step: set the domain's memory to kib (virDomainSetMemory),
 * wait settle_ns for the guest to give the memory back and its counters
 * to be sampled, then read them. 0, or -1 (err).
 */
int pvirt_balloon_step(struct pvirt_dom *d, uint64_t kib, uint64_t settle_ns,
		       struct pvirt_memstats *out, char *err, size_t errlen);
/*
 * The sizes of a sweep from `from` down (or up) to `to` in `steps` sizes,
 * both ends included, evenly spaced (size i = from - (from - to) * i /
 * (steps - 1), rounded toward from): into sizes[steps]. 0, or -1 (err)
 * when steps < 2 or an end is 0.
 */
int pvirt_sweep_sizes(uint64_t from, uint64_t to, size_t steps, uint64_t *sizes, char *err,
		      size_t errlen);

#endif /* PFLAB_PVIRT_H */
