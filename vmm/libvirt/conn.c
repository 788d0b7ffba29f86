// SPDX-License-Identifier: MIT
/*
 * Connections and domains through libvirt's C API (pvirt.h): virConnectOpen,
 * virDomainCreateXML, virDomainGetState, virDomainDestroy. libvirt's
 * reference: https://libvirt.org/html/libvirt-libvirt-domain.html.
 *
 * libvirt prints every error on stderr unless an error function is set; we
 * set one that keeps quiet, and give the caller libvirt's message for the
 * failing call instead (virGetLastErrorMessage, per thread).
 */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pvirt_internal.h"

struct pvirt {
	virConnectPtr conn;
	char driver[32];
};

struct pvirt_dom {
	virDomainPtr dom;
	char *name;
};

static void quiet(void *opaque, virErrorPtr e)
{
	(void)opaque;
	(void)e;
}

static void lv_error(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, virGetLastErrorMessage());
}

struct pvirt *pvirt_open(const char *uri, char *err, size_t errlen)
{
	struct pvirt *v = calloc(1, sizeof(*v));
	const char *type;

	if (!v) {
		snprintf(err, errlen, "%s: %s", uri, strerror(errno));
		return NULL;
	}
	/* The error function is libvirt's own global: quiet for every connection. */
	virSetErrorFunc(NULL, quiet);
	v->conn = virConnectOpen(uri);
	if (!v->conn) {
		snprintf(err, errlen, "cannot connect to %s: %s", uri, virGetLastErrorMessage());
		free(v);
		return NULL;
	}
	virConnSetErrorFunc(v->conn, NULL, quiet);
	type = virConnectGetType(v->conn);
	snprintf(v->driver, sizeof(v->driver), "%s", type ? type : "?");
	return v;
}

void pvirt_close(struct pvirt *v)
{
	if (!v)
		return;
	virConnectClose(v->conn);
	free(v);
}

const char *pvirt_driver(const struct pvirt *v)
{
	return v->driver;
}

bool pvirt_runs_nothing(const struct pvirt *v)
{
	return !strcmp(v->driver, "TEST");
}

static struct pvirt_dom *wrap(virDomainPtr dom, char *err, size_t errlen)
{
	struct pvirt_dom *d = calloc(1, sizeof(*d));
	const char *name = virDomainGetName(dom);

	if (!d || !(d->name = strdup(name ? name : "?"))) {
		free(d);
		virDomainFree(dom);
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	d->dom = dom;
	return d;
}

struct pvirt_dom *pvirt_start(struct pvirt *v, const char *xml, char *err, size_t errlen)
{
	virDomainPtr dom = virDomainCreateXML(v->conn, xml, 0);

	if (!dom) {
		lv_error(err, errlen, "cannot start the domain");
		return NULL;
	}
	return wrap(dom, err, errlen);
}

struct pvirt_dom *pvirt_lookup(struct pvirt *v, const char *name, char *err, size_t errlen)
{
	virDomainPtr dom = virDomainLookupByName(v->conn, name);

	if (!dom) {
		snprintf(err, errlen, "domain '%s': %s", name, virGetLastErrorMessage());
		return NULL;
	}
	return wrap(dom, err, errlen);
}

void pvirt_dom_free(struct pvirt_dom *d)
{
	if (!d)
		return;
	virDomainFree(d->dom);
	free(d->name);
	free(d);
}

virDomainPtr pvirt_dom_raw(struct pvirt_dom *d)
{
	return d->dom;
}

const char *pvirt_dom_name(const struct pvirt_dom *d)
{
	return d->name;
}

static const char *state_name(int state)
{
	switch (state) {
	case VIR_DOMAIN_NOSTATE: return "no state";
	case VIR_DOMAIN_RUNNING: return "running";
	case VIR_DOMAIN_BLOCKED: return "blocked";
	case VIR_DOMAIN_PAUSED: return "paused";
	case VIR_DOMAIN_SHUTDOWN: return "shutting down";
	case VIR_DOMAIN_SHUTOFF: return "shut off";
	case VIR_DOMAIN_CRASHED: return "crashed";
	case VIR_DOMAIN_PMSUSPENDED: return "suspended";
	default: return "unknown";
	}
}

bool pvirt_state_ended(int state)
{
	return state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED;
}

const char *pvirt_state(struct pvirt_dom *d, int *state, int *reason, char *err, size_t errlen)
{
	int s, r;

	if (virDomainGetState(d->dom, &s, &r, 0) != 0) {
		snprintf(err, errlen, "domain '%s': %s", d->name, virGetLastErrorMessage());
		return NULL;
	}
	if (state)
		*state = s;
	if (reason)
		*reason = r;
	return state_name(s);
}

/* A transient domain whose QEMU has exited is gone from libvirt. */
static bool gone(void)
{
	virErrorPtr e = virGetLastError();

	return e && e->code == VIR_ERR_NO_DOMAIN;
}

int pvirt_wait_end(struct pvirt_dom *d, uint64_t timeout_ns, char *err, size_t errlen)
{
	const uint64_t step_ns = 20 * 1000000ull;
	uint64_t waited = 0;
	int s, r;

	for (;;) {
		if (virDomainGetState(d->dom, &s, &r, 0) != 0) {
			if (gone())
				return 1;
			snprintf(err, errlen, "domain '%s': %s", d->name, virGetLastErrorMessage());
			return -1;
		}
		if (pvirt_state_ended(s))
			return 1;
		if (waited >= timeout_ns)
			return 0;
		nanosleep(&(struct timespec){ .tv_nsec = (long)step_ns }, NULL);
		waited += step_ns;
	}
}

int pvirt_destroy(struct pvirt_dom *d, char *err, size_t errlen)
{
	int s, r;

	if (virDomainGetState(d->dom, &s, &r, 0) != 0)
		return gone() ? 0 : (lv_error(err, errlen, d->name), -1);
	if (pvirt_state_ended(s))
		return 0;
	if (virDomainDestroy(d->dom) != 0 && !gone()) {
		lv_error(err, errlen, d->name);
		return -1;
	}
	return 0;
}

char *pvirt_dom_xml(struct pvirt_dom *d, char *err, size_t errlen)
{
	char *xml = virDomainGetXMLDesc(d->dom, 0);

	if (!xml)
		lv_error(err, errlen, d->name);
	return xml;
}
