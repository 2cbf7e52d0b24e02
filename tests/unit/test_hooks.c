// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for src/hooks.c: the plan of which hook runs how, per kernel, and the fallbacks
 * when a kernel refuses a program. The kernel profiles are what hooks__probe reads from the
 * BTF and tracefs of each kernel of the matrix (tests/vm).
 */
#include <errno.h>

#include "hooks.h"
#include "testlib.h"

/* Linux 6.10 and later: every hook complete. */
static struct kernel_features kernel_6_18(void)
{
	struct kernel_features kf = { .btf = true, .cookie_helper = true, .link_iter = true,
				      .prog_active = true, .tw_kill_func = true };
	static const int args[HOOK_COUNT] = {3, -1, -1, 3, 2, 3, 1, 1, -1 };

	for (int h = 0; h < HOOK_COUNT; h++) {
		kf.tp_args[h] = args[h];
		kf.tp_classic[h] = h != HOOK_NESTED && h != HOOK_TW_KILL;
	}
	return kf;
}

/* Debian 12's 6.1: tcp_send_reset has no reason argument (6.10). */
static struct kernel_features kernel_6_1(void)
{
	struct kernel_features kf = kernel_6_18();

	kf.tp_args[HOOK_RETRANSMIT] = 2;
	kf.tp_args[HOOK_SEND_RESET] = 2;
	return kf;
}

/* Debian 11's 5.10: no cookie helper for tracing (5.12), no error tracepoint (5.14), no
 * bpf_link iterator (5.19). */
static struct kernel_features kernel_5_10(void)
{
	struct kernel_features kf = kernel_6_1();

	kf.cookie_helper = false;
	kf.link_iter = false;
	kf.tp_args[HOOK_ERROR_REPORT] = -1;
	kf.tp_classic[HOOK_ERROR_REPORT] = false;
	return kf;
}

static size_t programs_wanted(const struct hook_status st[HOOK_COUNT], const char **names,
			      size_t max)
{
	size_t n, k = 0;
	const struct hook_program *p = hooks__programs(&n);

	for (size_t i = 0; i < n; i++)
		if (hooks__wants(st, &p[i]) && k < max)
			names[k++] = p[i].name;
	return k;
}

static bool wants(const struct hook_status st[HOOK_COUNT], const char *name)
{
	const char *names[32];
	size_t k = programs_wanted(st, names, 32);

	for (size_t i = 0; i < k; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

static void test_newest_kernel_runs_every_hook_complete(void)
{
	struct kernel_features kf = kernel_6_18();
	struct hook_status st[HOOK_COUNT];
	const char *why = NULL;

	hooks__plan(&kf, false, st);
	for (int h = 0; h < HOOK_COUNT; h++) {
		CHECK(st[h].attach != HOOK_OFF && !st[h].degraded,
		      "%s: expected complete, got %s (%s)", hooks__name(h),
		      hooks__attach_name(st[h].attach), st[h].note);
	}
	CHECK(hooks__exact(st, &why), "expected exact, got: %s", why);
	CHECK(wants(st, "send_reset_btf") && !wants(st, "send_reset_btf2"),
	      "expected the 3-argument tcp_send_reset program");
	CHECK(wants(st, "set_state_btf") && wants(st, "set_state_nested") &&
		  wants(st, "find_main_prog") && !wants(st, "set_state_tp"),
	      "expected tp_btf state programs with the iterator");
}

/* The 6.1 bug that disabled every hook: one missing argument costs only tcp_send_reset's reason. */
static void test_6_1_loses_only_the_reset_reason(void)
{
	struct kernel_features kf = kernel_6_1();
	struct hook_status st[HOOK_COUNT];
	const char *why = NULL;

	hooks__plan(&kf, false, st);
	CHECK_EQ_INT(st[HOOK_SET_STATE].attach, HOOK_TP_BTF, "inet_sock_set_state attach");
	CHECK(!st[HOOK_SET_STATE].degraded, "inet_sock_set_state degraded: %s",
	      st[HOOK_SET_STATE].note);
	CHECK(hooks__exact(st, &why), "expected exact on 6.1, got: %s", why);
	CHECK(wants(st, "send_reset_btf2") && !wants(st, "send_reset_btf"),
	      "expected the 2-argument tcp_send_reset program");
	CHECK(st[HOOK_SEND_RESET].degraded && strstr(st[HOOK_SEND_RESET].note, "6.10"),
	      "expected a note naming 6.10, got '%s'", st[HOOK_SEND_RESET].note);
	for (int h = 0; h < HOOK_COUNT; h++)
		if (h != HOOK_SEND_RESET)
			CHECK(!st[h].degraded && st[h].attach != HOOK_OFF, "%s: %s", hooks__name(h),
			      st[h].note);
}

static void test_5_10_says_what_it_lacks(void)
{
	struct kernel_features kf = kernel_5_10();
	struct hook_status st[HOOK_COUNT];
	const char *why = NULL;

	hooks__plan(&kf, false, st);
	CHECK_EQ_INT(st[HOOK_SET_STATE].attach, HOOK_TP_BTF, "inet_sock_set_state attach");
	CHECK(st[HOOK_SET_STATE].degraded && strstr(st[HOOK_SET_STATE].note, "5.12"),
	      "expected the cookie helper named, got '%s'", st[HOOK_SET_STATE].note);
	CHECK_EQ_INT(st[HOOK_NESTED].attach, HOOK_MARK, "nested state changes");
	CHECK_EQ_INT(st[HOOK_ERROR_REPORT].attach, HOOK_OFF, "inet_sk_error_report");
	CHECK(strstr(st[HOOK_ERROR_REPORT].note, "5.14") != NULL, "note: '%s'",
	      st[HOOK_ERROR_REPORT].note);
	CHECK(!wants(st, "error_report_btf") && !wants(st, "find_main_prog"),
	      "programs for missing hooks are not loaded");
	CHECK(wants(st, "retransmit_btf") && wants(st, "accept4_exit"), "the rest still loads");
	CHECK(!hooks__exact(st, &why) && strstr(why, "cookie"), "expected not exact (cookie)");
}

/* A program the kernel refuses moves its hook to the next choice and no other hook. */
static void test_fall_back_costs_one_hook(void)
{
	struct kernel_features kf = kernel_6_18();
	struct hook_status st[HOOK_COUNT], before[HOOK_COUNT];

	hooks__plan(&kf, false, st);
	memcpy(before, st, sizeof(st));
	CHECK(hooks__fall_back(&kf, st, HOOK_SEND_RESET, EACCES), "send_reset fallback exists");
	CHECK(wants(st, "send_reset_btf2"), "next choice: the 2-argument program");
	CHECK(hooks__fall_back(&kf, st, HOOK_SEND_RESET, EACCES), "off is still a way to run");
	CHECK_EQ_INT(st[HOOK_SEND_RESET].attach, HOOK_OFF, "tcp_send_reset after two refusals");
	CHECK(strstr(st[HOOK_SEND_RESET].note, "Permission denied") != NULL, "note: '%s'",
	      st[HOOK_SEND_RESET].note);
	for (int h = 0; h < HOOK_COUNT; h++)
		if (h != HOOK_SEND_RESET)
			CHECK(!memcmp(&st[h], &before[h], sizeof(st[h])), "%s changed",
			      hooks__name(h));

	CHECK(hooks__fall_back(&kf, st, HOOK_SET_STATE, EINVAL), "state changes fall back");
	CHECK(wants(st, "set_state_tp") && !wants(st, "set_state_btf") &&
		  !wants(st, "set_state_nested") && !wants(st, "find_main_prog"),
	      "classic tracepoint, without the tp_btf stand-in for nested runs");
	CHECK(!hooks__fall_back(&kf, st, HOOK_SET_STATE, EINVAL),
	      "without state changes tcpstate cannot run");
}

static void test_program_names_map_to_hooks(void)
{
	size_t n;
	const struct hook_program *p = hooks__programs(&n);

	for (size_t i = 0; i < n; i++)
		CHECK_EQ_INT(hooks__of_program(p[i].name), p[i].hook, p[i].name);
	CHECK_EQ_INT(hooks__of_program("no_such_prog"), HOOK_COUNT, "unknown program");
}

static void test_summary_names_what_is_not_complete(void)
{
	struct kernel_features kf = kernel_5_10();
	struct hook_status st[HOOK_COUNT];
	char line[512];

	hooks__plan(&kf, false, st);
	hooks__summary(st, line, sizeof(line));
	CHECK(strstr(line, "hooks: 5 of 9 complete") != NULL, "summary: '%s'", line);
	CHECK(strstr(line, "inet_sk_error_report off") != NULL, "summary: '%s'", line);
	CHECK(strstr(line, "tcp_send_reset degraded") != NULL, "summary: '%s'", line);
	kf = kernel_6_18();
	hooks__plan(&kf, false, st);
	hooks__summary(st, line, sizeof(line));
	CHECK_EQ_STR(line, "hooks: 9 of 9 complete", "summary on the newest kernel");
	/* without fentry (this project's own machines) timewait_kill is not needed there */
	CHECK(hooks__fall_back(&kf, st, HOOK_TW_KILL, EPERM), "timewait_kill may be off");
	hooks__summary(st, line, sizeof(line));
	CHECK_EQ_STR(line, "hooks: 9 of 9 complete", "summary without fentry on 6.10+");
}

/*
 * fentry on inet_twsk_deschedule_put sees timewait socks killed by resets that tcp_send_reset
 * does not show before 6.10. Refused there, it is off and says so; refused on 6.10+, it is not
 * needed. It costs no other hook either way.
 */
static void test_timewait_kill_needed_before_6_10(void)
{
	struct kernel_features kf = kernel_6_1();
	struct hook_status st[HOOK_COUNT], before[HOOK_COUNT];

	hooks__plan(&kf, false, st);
	CHECK_EQ_INT(st[HOOK_TW_KILL].attach, HOOK_FENTRY, "timewait_kill attach on 6.1");
	CHECK(wants(st, "tw_kill_fentry"), "fentry program loaded on 6.1");
	memcpy(before, st, sizeof(st));
	CHECK(hooks__fall_back(&kf, st, HOOK_TW_KILL, ENOTSUP), "refused: still runs");
	CHECK_EQ_STR(hooks__status_name(&st[HOOK_TW_KILL]), "off", "status on 6.1 when refused");
	CHECK(strstr(st[HOOK_TW_KILL].note, "audit") != NULL, "note: '%s'", st[HOOK_TW_KILL].note);
	CHECK(!wants(st, "tw_kill_fentry"), "refused program not loaded again");
	for (int h = 0; h < HOOK_COUNT; h++)
		if (h != HOOK_TW_KILL)
			CHECK(!memcmp(&st[h], &before[h], sizeof(st[h])), "%s changed",
			      hooks__name(h));
	kf = kernel_6_18();
	kf.tw_kill_func = false;
	hooks__plan(&kf, false, st);
	CHECK_EQ_STR(hooks__status_name(&st[HOOK_TW_KILL]), "unneeded", "6.18 without the function");
	CHECK(strstr(st[HOOK_TW_KILL].note, "6.10") != NULL, "note: '%s'", st[HOOK_TW_KILL].note);
}

TEST_MAIN("hooks", TL_CASE(test_newest_kernel_runs_every_hook_complete),
	  TL_CASE(test_6_1_loses_only_the_reset_reason), TL_CASE(test_5_10_says_what_it_lacks),
	  TL_CASE(test_fall_back_costs_one_hook), TL_CASE(test_program_names_map_to_hooks),
	  TL_CASE(test_summary_names_what_is_not_complete),
	  TL_CASE(test_timewait_kill_needed_before_6_10))
