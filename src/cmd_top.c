// SPDX-License-Identifier: GPL-2.0-only
/*
 * `tcpstate top`: the live per-process view. Reads the running agent's /api/v1/snapshot (one
 * tracer for every view) or, when no agent answers, traces on its own; shows a frame every
 * -d seconds full-screen (ncurses) or as plain-text frames (--batch).
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curses.h>
#include <json-c/json.h>

#include "cli.h"
#include "http_client.h"
#include "log.h"
#include "top_source.h"
#include "top_view.h"

#define DEFAULT_FROM "http://127.0.0.1:9976/api/v1/snapshot"
#define KEY_SLICE_MS 50	/* longest wait between looks at the keys and the clock */

static const char top_usage[] =
	"Usage: tcpstate top [OPTIONS]\n"
	"\n"
	"A live per-process view of TCP: sockets by state, events/s, lost events and audit drift,\n"
	"then processes with ESTAB, CLOSE_WAIT, the oldest CLOSE_WAIT's age, TIME_WAIT, new\n"
	"connections/s, retransmits/s, resets/s and errors/s; listeners (accept queue, limit,\n"
	"high-water, drops/s) and TIME_WAIT per remote against the local port range. Rates are\n"
	"per interval.\n"
	"\n"
	"It reads a running `tcpstate serve` (" DEFAULT_FROM "),\n"
	"so a second view costs the kernel nothing; without one it traces on its own (root).\n"
	"\n"
	"  -d, --delay SECS       refresh every SECS seconds (default 1)\n"
	"  -b, --batch            plain-text frames on stdout, for scripts and logs\n"
	"  -n, --iterations N     stop after N frames (default: until q or Ctrl-C)\n"
	"      --from URL         read this agent (http://host:port or its /api/v1/snapshot URL);\n"
	"                         it must answer\n"
	"      --local            trace here even if an agent runs\n"
	"  -s, --sort COLUMN      sort column by title (close_wait, estab, conn/s, ...)\n"
	"  -f, --filter F         comm:NAME (or NAME), port:N or netns:INODE\n"
	"      --view V           processes, listeners or remotes (default processes)\n"
	"      --ringbuf-kb KB, --nice N, --max-sockets N, --force-tracepoint: as for serve,\n"
	"                         used when tracing locally\n"
	"  -v, --verbose          show libbpf's messages\n"
	"  -h, --help             show this help\n"
	"\n"
	"Keys: q quit, space pause, p/l/t views (processes, listeners, TIME_WAIT remotes), < >\n"
	"sort column, i invert, / or f filter, ? help (lists each view's sort keys).\n";

enum { OPT_FROM = 256, OPT_LOCAL, OPT_VIEW };

static const struct option top_options[] = {
	{ "delay", required_argument, NULL, 'd' },
	{ "batch", no_argument, NULL, 'b' },
	{ "iterations", required_argument, NULL, 'n' },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "local", no_argument, NULL, OPT_LOCAL },
	{ "sort", required_argument, NULL, 's' },
	{ "filter", required_argument, NULL, 'f' },
	{ "view", required_argument, NULL, OPT_VIEW },
	{ "help", no_argument, NULL, 'h' },
	CLI_COMMON_OPTIONS,
	{},
};

struct top_args {
	struct session_opts so;
	struct top_ui ui;
	__u64 delay_ns;
	long iterations;	/* 0: no limit */
	bool batch, local;
	const char *sort;
	char from[1024];	/* "" : the default agent, falling back to local */
};

static int parse_view(const char *s, enum top_view *v)
{
	static const char *const names[TOP_VIEWS] = { "processes", "listeners", "remotes" };

	for (int i = 0; i < TOP_VIEWS; i++)
		if (!strcasecmp(s, names[i])) {
			*v = (enum top_view)i;
			return 0;
		}
	log_err("invalid --view value '%s': expected processes, listeners or remotes", s);
	return -1;
}

/* --sort by a column title of the chosen view ("close_wait", "CONN/s"). */
static int parse_sort(struct top_args *a)
{
	enum top_view v = a->ui.opts.view;
	int n;
	const struct top_column *c = top_model__columns(v, &n);

	for (int i = 0; i < n; i++)
		if (!strcasecmp(a->sort, c[i].title)) {
			a->ui.opts.sort[v] = i;
			return 0;
		}
	log_err("invalid --sort value '%s' for the %s view: expected a column title such as %s "
		"or %s",
		a->sort, v == TOP_PROCS ? "processes" : v == TOP_LISTENERS ? "listeners" : "remotes",
		c[2].title, c[3].title);
	return -1;
}

static int top_parse_one(int c, const char *arg, struct top_args *a)
{
	char err[300];

	switch (c) {
	case 'd':
		return cli_parse_seconds("delay", arg, 3600, &a->delay_ns) ? EXIT_USAGE : 0;
	case 'b':
		a->batch = true;
		return 0;
	case 'n':
		return cli_parse_long("iterations", arg, 1, 1000000000, &a->iterations) ? EXIT_USAGE : 0;
	case OPT_FROM:
		if (http_client__snapshot_url(arg, a->from, sizeof(a->from), err, sizeof(err))) {
			log_err("%s", err);
			return EXIT_USAGE;
		}
		return 0;
	case OPT_LOCAL:
		a->local = true;
		return 0;
	case 's':
		a->sort = arg;
		return 0;
	case 'f':
		if (top_filter__parse(arg, &a->ui.opts.filter, err, sizeof(err))) {
			log_err("%s", err);
			return EXIT_USAGE;
		}
		return 0;
	case OPT_VIEW:
		return parse_view(arg, &a->ui.opts.view) ? EXIT_USAGE : 0;
	}
	return cli_parse_common(c, arg, &a->so);
}

static int top_parse(int argc, char **argv, struct top_args *a)
{
	int c, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "d:bn:s:f:vh", top_options, NULL)) != -1) {
		if (c == 'h') {
			fputs(top_usage, stdout);
			exit(0);
		}
		err = top_parse_one(c, optarg, a);
		if (err > 0)
			return err;
		if (err < 0)
			return cli_usage_error("top", cli_bad_option(argc, argv));
	}
	if (optind < argc)
		return cli_usage_error("top", "unexpected argument");
	if (a->local && a->from[0])
		return cli_usage_error("top", "--local and --from exclude each other");
	if (a->sort && parse_sort(a))
		return EXIT_USAGE;
	return 0;
}

/* The agent named by --from, the default agent if it answers, else a tracer of our own. */
static struct top_source *open_source(struct top_args *a)
{
	struct top_source *src;
	struct json_object *doc;
	char err[512];

	if (!a->local) {
		src = top_source__remote(a->from[0] ? a->from : DEFAULT_FROM);
		if (!src) {
			log_err("out of memory");
			return NULL;
		}
		if (!top_source__fetch(src, &doc, err, sizeof(err))) {
			json_object_put(doc);
			return src;
		}
		top_source__free(src);
		if (a->from[0]) {
			log_err("%s", err);
			return NULL;
		}
		log_info("no tcpstate agent answers at %s; tracing here", DEFAULT_FROM);
	}
	cli_read_kernel_settings(&a->so);
	return top_source__local(&a->so);
}

/* ---- frames --------------------------------------------------------------------------- */

struct top_state {
	struct top_source *src;
	struct top_screen *scr;
	struct json_object *prev, *cur;	/* the documents the frame compares */
	struct top_frame frame;
	bool have_frame;
};

/* Rebuild the frame from the documents we hold (after a key changed sort or filter). */
static void rebuild(struct top_state *st, const struct top_ui *ui)
{
	if (!st->cur)
		return;
	top_frame__free(&st->frame);
	st->have_frame = !top_model__build(st->prev, st->cur, &ui->opts, &st->frame);
}

/* Fetch the next document and make it the frame's. 0 or -errno with ui->status set. */
static int refresh_frame(struct top_state *st, struct top_ui *ui)
{
	struct json_object *doc;
	int err = top_source__fetch(st->src, &doc, ui->status, sizeof(ui->status));

	if (err)
		return err;
	ui->status[0] = '\0';
	json_object_put(st->prev);
	st->prev = st->cur;
	st->cur = doc;
	rebuild(st, ui);
	return 0;
}

static void draw(struct top_state *st, const struct top_ui *ui)
{
	top_screen__draw(st->scr, st->have_frame ? &st->frame : NULL, ui);
}

static int run_batch(struct top_state *st, struct top_args *a)
{
	for (long i = 0; !a->iterations || i < a->iterations; i++) {
		if (i)
			top_source__wait(st->src, (int)(a->delay_ns / 1000000), -1);
		if (session__stopping())
			break;
		if (refresh_frame(st, &a->ui)) {
			log_err("%s", a->ui.status);
			return EXIT_RUNTIME;
		}
		if (st->have_frame)
			top_view__print(stdout, &st->frame, &a->ui);
	}
	return 0;
}

/* ---- keys ----------------------------------------------------------------------------- */

static void edit_key(struct top_state *st, struct top_ui *ui, int c)
{
	size_t n = strlen(ui->edit);
	char err[200];

	if (c == 27) { /* Esc */
		ui->editing = false;
	} else if (c == '\n' || c == '\r' || c == KEY_ENTER) {
		ui->editing = false;
		if (top_filter__parse(ui->edit, &ui->opts.filter, err, sizeof(err)))
			snprintf(ui->status, sizeof(ui->status), "%s", err);
		rebuild(st, ui);
	} else if (c == KEY_BACKSPACE || c == 127 || c == 8) {
		if (n)
			ui->edit[n - 1] = '\0';
	} else if (c >= 32 && c < 127 && n + 1 < sizeof(ui->edit)) {
		ui->edit[n] = (char)c;
		ui->edit[n + 1] = '\0';
	}
}

static void sort_step(struct top_ui *ui, int step)
{
	enum top_view v = ui->opts.view;
	int n;

	top_model__columns(v, &n);
	ui->opts.sort[v] = (ui->opts.sort[v] + step + n) % n;
}

/* Handle key c. Returns false to quit. */
static bool handle_key(struct top_state *st, struct top_ui *ui, int c)
{
	int col;

	if (ui->editing) {
		edit_key(st, ui, c);
		return true;
	}
	if (ui->help) {
		ui->help = false;
		return c != 'q';
	}
	ui->status[0] = '\0';
	switch (c) {
	case 'q':
	case 'Q':
		return false;
	case ' ':
		ui->paused = !ui->paused;
		return true;
	case '?':
	case 'H':
		ui->help = true;
		return true;
	case 'p':
		ui->opts.view = TOP_PROCS;
		break;
	case 'l':
		ui->opts.view = TOP_LISTENERS;
		break;
	case 't':
	case 'r':
		ui->opts.view = TOP_REMOTES;
		break;
	case '\t':
		ui->opts.view = (enum top_view)((ui->opts.view + 1) % TOP_VIEWS);
		break;
	case '<':
	case '>':
		sort_step(ui, c == '<' ? -1 : 1);
		break;
	case 'i':
		ui->opts.reverse = !ui->opts.reverse;
		break;
	case '/':
	case 'f':
		ui->editing = true;
		ui->edit[0] = '\0';
		return true;
	case KEY_RESIZE:
		return true;
	default:
		col = top_model__column_for_key(ui->opts.view, c);
		if (col < 0) {
			snprintf(ui->status, sizeof(ui->status), "unknown key '%s' (? for help)",
				 keyname(c) ? keyname(c) : "?");
			return true;
		}
		ui->opts.sort[ui->opts.view] = col;
	}
	rebuild(st, ui);
	return true;
}

static int run_screen(struct top_state *st, struct top_args *a)
{
	struct top_ui *ui = &a->ui;
	__u64 next = 0;
	long frames = 0;

	while (!session__stopping()) {
		__u64 now = session__now_ns();
		int c;

		if (now >= next && !ui->paused) {
			if (a->iterations && frames >= a->iterations)
				break;
			refresh_frame(st, ui); /* an error stays on the bottom line; retried */
			frames++;
			next = now + a->delay_ns;
		}
		draw(st, ui);
		top_source__wait(st->src, KEY_SLICE_MS, STDIN_FILENO);
		c = top_screen__key(st->scr, 0);
		if (c >= 0 && !handle_key(st, ui, c))
			break;
		if (ui->paused)
			next = 0; /* on resume, refresh at once */
	}
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct top_args a = { .delay_ns = 1000000000ull };
	struct top_state st = { 0 };
	char err[512];
	int ret;

	session__default_opts(&a.so);
	a.so.seed = true;
	a.so.audit_interval_ms = 30000;
	top_opts__default(&a.ui.opts);
	ret = top_parse(argc, argv, &a);
	if (ret)
		return ret;
	a.ui.delay_s = (double)a.delay_ns / 1e9;
	/* Check the terminal before tracing: a bad TERM is told at once, with nothing loaded. */
	if (!a.batch) {
		st.scr = top_screen__open(err, sizeof(err));
		if (!st.scr) {
			log_err("%s", err);
			return EXIT_USAGE;
		}
		top_screen__close(st.scr);
		st.scr = NULL;
	}
	session__install_signals();
	st.src = open_source(&a);
	if (!st.src)
		return EXIT_RUNTIME;
	a.ui.source = top_source__name(st.src);
	if (a.batch) {
		ret = run_batch(&st, &a);
	} else {
		st.scr = top_screen__open(err, sizeof(err));
		ret = st.scr ? run_screen(&st, &a) : EXIT_RUNTIME;
		top_screen__close(st.scr);
		if (!st.scr)
			log_err("%s", err);
	}
	top_frame__free(&st.frame);
	json_object_put(st.prev);
	json_object_put(st.cur);
	top_source__free(st.src);
	return ret;
}
