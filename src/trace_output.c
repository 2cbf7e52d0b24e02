// SPDX-License-Identifier: GPL-2.0-only
/* Text and JSON Lines output of `tcpstate trace` (see include/trace_output.h). */
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "kernel_enums.h"
#include "trace_output.h"

static const char *const kind_names[TS_EV_KIND_MAX] = {
	[TS_EV_STATE] = "state",	   [TS_EV_ACCEPT] = "accept",
	[TS_EV_RETRANS] = "retransmit",	   [TS_EV_SYNACK_RETRANS] = "retransmit",
	[TS_EV_RESET_SENT] = "reset_sent", [TS_EV_RESET_RECV] = "reset_received",
	[TS_EV_SOCK_ERROR] = "error",	   [TS_EV_TW_KILLED] = "timewait_killed",
};

static const char *const retrans_names[TS_RETRANS_KIND_MAX] = {
	[TS_RETRANS_SYN] = "syn",
	[TS_RETRANS_RTO] = "rto",
	[TS_RETRANS_FAST] = "fast",
	[TS_RETRANS_SYNACK] = "synack",
};

void trace_output__init(struct trace_output *o, FILE *out, bool json)
{
	struct timespec mono, real;

	memset(o, 0, sizeof(*o));
	o->out = out;
	o->json = json;
	o->filter.port = -1;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	o->mono_to_real_ns = ((__s64)real.tv_sec - mono.tv_sec) * 1000000000ll +
			     ((__s64)real.tv_nsec - mono.tv_nsec);
	if (!json) {
		fprintf(out, "%-12s %-7s %-15s %-28s %-28s %-26s %s\n", "TIME", "PID", "COMM",
			"LOCAL", "REMOTE", "EVENT", "MS");
		fflush(out);
	}
}

bool trace_filter__match(const struct trace_filter *f, const struct ev_view *v)
{
	const struct ts_event *e = v->ev;

	if (f->pid && v->owner->pid != f->pid)
		return false;
	if (f->port >= 0 && v->sport != f->port && v->dport != f->port)
		return false;
	if (f->state_mask) {
		__u32 m;

		if (e->kind != TS_EV_STATE)
			return false;
		m = (1u << e->oldstate) | (1u << e->newstate);

		if (v->timewait)
			m |= 1u << v->timewait;
		if (!(f->state_mask & m))
			return false;
	}
	return true;
}

/* The event column: "SYN_SENT -> ESTABLISHED", "RETRANSMIT rto", ... */
static void event_text(const struct ev_view *v, char *buf, size_t len)
{
	const struct ts_event *e = v->ev;
	char err[16];

	switch (e->kind) {
	case TS_EV_STATE:
		snprintf(buf, len, "%s -> %s%s", tcp_state_upper(e->oldstate),
			 tcp_state_upper(e->newstate),
			 v->timewait == TCP_TIME_WAIT	? " (TIME_WAIT)" :
			 v->timewait == TCP_FIN_WAIT2 ? " (FIN_WAIT2)" :
							  "");
		break;
	case TS_EV_RETRANS:
	case TS_EV_SYNACK_RETRANS:
		snprintf(buf, len, "RETRANSMIT %s",
			 e->aux < TS_RETRANS_KIND_MAX ? retrans_names[e->aux] : "?");
		break;
	case TS_EV_SOCK_ERROR:
		snprintf(buf, len, "ERROR %s", errno_name((int)e->aux, err, sizeof(err)));
		break;
	case TS_EV_RESET_SENT:
		if (kernel_enums__reset_reason(e->aux))
			snprintf(buf, len, "RESET_SENT %s", kernel_enums__reset_reason(e->aux));
		else
			snprintf(buf, len, "RESET_SENT reason=%u", e->aux);
		break;
	default:
		snprintf(buf, len, "%s", kind_names[e->kind]);
		for (char *p = buf; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	}
}

static void print_text(struct trace_output *o, const struct ev_view *v)
{
	const struct ts_event *e = v->ev;
	__s64 real = (__s64)e->ts_ns + o->mono_to_real_ns;
	time_t secs = (time_t)(real / 1000000000ll);
	char when[16], local[64], remote[64], what[64], ms[24] = "-", pid[16] = "-";
	char comm[TS_COMM_LEN * 2];
	struct tm tm;

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	endpoint_format(v->family, v->saddr, v->sport, v->sport != 0, local, sizeof(local));
	endpoint_format(v->family, v->daddr, v->dport, v->dport != 0, remote, sizeof(remote));
	event_text(v, what, sizeof(what));
	if (v->ns_in_old >= 0)
		snprintf(ms, sizeof(ms), "%.3f", (double)v->ns_in_old / 1e6);
	if (v->owner->pid)
		snprintf(pid, sizeof(pid), "%u", v->owner->pid);
	fprintf(o->out, "%s.%03lld %-7s %-15s %-28s %-28s %-26s %s\n", when,
		(long long)(real / 1000000 % 1000), pid,
		text_printable(comm, sizeof(comm), v->owner->pid ? v->owner->comm : "?"), local,
		remote, what, ms);
}

static void json_kv_str(FILE *f, const char *key, const char *val)
{
	fprintf(f, ",\"%s\":", key);
	json_write_string(f, val);
}

static void print_json_kind_fields(FILE *f, const struct ev_view *v)
{
	const struct ts_event *e = v->ev;
	char err[16];

	switch (e->kind) {
	case TS_EV_STATE:
		fprintf(f, ",\"old\":\"%s\",\"new\":\"%s\"", tcp_state_name(e->oldstate),
			tcp_state_name(e->newstate));
		if (v->ns_in_old >= 0)
			fprintf(f, ",\"ms_in_old\":%.3f", (double)v->ns_in_old / 1e6);
		else
			fputs(",\"ms_in_old\":null", f);
		if (v->timewait)
			fprintf(f, ",\"timewait\":\"%s\"", tcp_state_name(v->timewait));
		break;
	case TS_EV_RETRANS:
	case TS_EV_SYNACK_RETRANS:
		fprintf(f, ",\"state\":\"%s\",\"retransmit\":\"%s\"", tcp_state_name(e->newstate),
			e->aux < TS_RETRANS_KIND_MAX ? retrans_names[e->aux] : "unknown");
		break;
	case TS_EV_RESET_SENT: {
		const char *why = kernel_enums__reset_reason(e->aux);

		fprintf(f, ",\"state\":\"%s\",\"reason_code\":%u", tcp_state_name(e->newstate),
			e->aux);
		if (why)
			fprintf(f, ",\"reason\":\"%s\"", why);
		break;
	}
	case TS_EV_SOCK_ERROR:
		fprintf(f, ",\"state\":\"%s\",\"errno\":\"%s\"", tcp_state_name(e->newstate),
			errno_name((int)e->aux, err, sizeof(err)));
		break;
	default:
		fprintf(f, ",\"state\":\"%s\"", tcp_state_name(e->newstate));
	}
}

static void print_json(struct trace_output *o, const struct ev_view *v)
{
	const struct ts_event *e = v->ev;
	FILE *f = o->out;
	__s64 real = (__s64)e->ts_ns + o->mono_to_real_ns;
	char a[64];

	fprintf(f, "{\"ts\":%lld.%06lld,\"kind\":\"%s\",\"cookie\":%llu", real / 1000000000ll,
		(real / 1000) % 1000000ll, kind_names[e->kind], (unsigned long long)e->cookie);
	if (v->owner->pid)
		fprintf(f, ",\"pid\":%u", v->owner->pid);
	else
		fputs(",\"pid\":null", f);
	json_kv_str(f, "comm", v->owner->pid ? v->owner->comm : "");
	json_kv_str(f, "cgroup", v->owner->cgroup);
	fprintf(f, ",\"family\":\"%s\"",
		addr_effective_family(v->family, v->saddr) == AF_INET6 ? "ipv6" : "ipv4");
	json_kv_str(f, "saddr", addr_format(v->family, v->saddr, a, sizeof(a)));
	if (v->sport)
		fprintf(f, ",\"sport\":%u", v->sport);
	else
		fputs(",\"sport\":null", f);
	json_kv_str(f, "daddr", addr_format(v->family, v->daddr, a, sizeof(a)));
	fprintf(f, ",\"dport\":%u", v->dport);
	print_json_kind_fields(f, v);
	fprintf(f, ",\"netns\":%u,\"task_pid\":%u}\n", v->netns, e->pid);
}

void trace_output__event(struct trace_output *o, const struct ev_view *v)
{
	if (v->ev->flags & TS_F_NO_SOCK)
		return; /* resets for no socket have no tuple to show */
	if (!trace_filter__match(&o->filter, v))
		return;
	if (o->json)
		print_json(o, v);
	else
		print_text(o, v);
	o->printed++;
}
