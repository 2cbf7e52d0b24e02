// SPDX-License-Identifier: GPL-2.0-only
/* The hdr of `tcpstate top`, on an ncurses screen or as text frames (see include/top_view.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>
#include <term.h>

#include "top_view.h"

static const char *const view_names[TOP_VIEWS] = { "processes", "listeners",
						   "TIME_WAIT by remote" };

static const int header_states[] = { TCP_ESTABLISHED, TCP_SYN_SENT,  TCP_SYN_RECV,
				     TCP_FIN_WAIT1,   TCP_FIN_WAIT2, TCP_TIME_WAIT,
				     TCP_CLOSE_WAIT,  TCP_LAST_ACK,  TCP_LISTEN,
				     TCP_CLOSING };

static const char *filter_text(const struct top_filter *f, char *buf, size_t len)
{
	if (f->kind == TOP_FILTER_NONE)
		return "none";
	snprintf(buf, len, "%s%s", f->kind == TOP_FILTER_COMM ? "comm:" : "", f->text);
	return buf;
}

int top_view__header(const struct top_frame *f, const struct top_ui *ui,
		     char hdr[][TOP_LINE_LEN])
{
	enum top_view v = ui->opts.view;
	int n = 0, ncols, len;
	const struct top_column *cols = top_model__columns(v, &ncols);
	__u32 all = v == TOP_PROCS ? f->all_procs : v == TOP_LISTENERS ? f->all_listeners
								    : f->all_remotes;
	char ev[32] = "-", fb[80];

	char every[32] = "";

	if (ui->delay_s > 0)
		snprintf(every, sizeof(every), " - every %gs", ui->delay_s);
	snprintf(hdr[n++], TOP_LINE_LEN, "tcpstate %s - %s - %s%s - observing for %.0fs%s",
		 ui->delay_s > 0 ? "top" : "snapshot", ui->source, f->h.attach[0] ? f->h.attach : "?",
		 every, f->h.uptime, ui->paused ? "  [PAUSED]" : "");
	len = snprintf(hdr[n], TOP_LINE_LEN, "Sockets:");
	for (size_t i = 0; i < sizeof(header_states) / sizeof(header_states[0]); i++)
		len += snprintf(hdr[n] + len, TOP_LINE_LEN - (size_t)len, " %s %u",
				tcp_state_upper(header_states[i]), f->h.by_state[header_states[i]]);
	n++;
	if (f->h.events_s != TOP_NO_RATE)
		snprintf(ev, sizeof(ev), "%.1f/s", f->h.events_s);
	snprintf(hdr[n++], TOP_LINE_LEN,
		 "Events: %s  Lost: %.0f in %.1fs (%llu total)  Audit drift: %.0f in %.1fs (%llu "
		 "total)  Tracked sockets: %u",
		 ev, f->h.lost_d, f->h.interval, (unsigned long long)f->h.lost, f->h.drift_d,
		 f->h.interval, (unsigned long long)f->h.drift, f->h.table_sockets);
	snprintf(hdr[n++], TOP_LINE_LEN, "View: %s (%u of %u)  Sort: %s%s  Filter: %s",
		 view_names[v], top_frame__rows(f, v), all, cols[ui->opts.sort[v]].title,
		 ui->opts.reverse ? " (reversed)" : "", filter_text(&ui->opts.filter, fb, sizeof(fb)));
	if (v == TOP_REMOTES)
		snprintf(hdr[n++], TOP_LINE_LEN, "Local port range: %d ports", f->h.port_range);
	return n;
}

void top_view__titles(enum top_view v, const struct top_opts *o, char *buf, size_t len)
{
	int ncols, n = 0;
	const struct top_column *c = top_model__columns(v, &ncols);
	char t[40];

	buf[0] = '\0';
	for (int i = 0; i < ncols && (size_t)n < len; i++) {
		snprintf(t, sizeof(t), "%s%s", c[i].title, i == o->sort[v] ? "*" : "");
		n += snprintf(buf + n, len - (size_t)n, "%s%*s", i ? " " : "",
			      i == ncols - 1 && c[i].width < 0 ? 0 : c[i].width, t);
	}
}

void top_view__row(const struct top_frame *f, enum top_view v, __u32 i, char *buf, size_t len)
{
	int ncols, n = 0;
	const struct top_column *c = top_model__columns(v, &ncols);
	char cell[200];

	buf[0] = '\0';
	for (int col = 0; col < ncols && (size_t)n < len; col++) {
		top_model__cell(f, v, i, col, cell, sizeof(cell));
		/* the last column may be longer than its width; the others are cut */
		bool last = col == ncols - 1;

		n += snprintf(buf + n, len - (size_t)n, "%s%*.*s", col ? " " : "",
			      last && c[col].width < 0 ? 0 : c[col].width,
			      last ? (int)sizeof(cell) : abs(c[col].width), cell);
	}
}

void top_view__print(FILE *out, const struct top_frame *f, const struct top_ui *ui)
{
	char hdr[6][TOP_LINE_LEN], buf[TOP_LINE_LEN];
	int n = top_view__header(f, ui, hdr);
	enum top_view v = ui->opts.view;

	for (int i = 0; i < n; i++)
		fprintf(out, "%s\n", hdr[i]);
	top_view__titles(v, &ui->opts, buf, sizeof(buf));
	fprintf(out, "\n%s\n", buf);
	for (__u32 i = 0; i < top_frame__rows(f, v); i++) {
		top_view__row(f, v, i, buf, sizeof(buf));
		fprintf(out, "%s\n", buf);
	}
	fputc('\n', out);
	fflush(out);
}

/* ---- the screen ------------------------------------------------------------------------- */

struct top_screen {
	SCREEN *scr;
	int saved_stderr; /* the terminal, while stderr goes to `held` (-1: not redirected) */
	FILE *held;
};

/*
 * While the screen is up, messages to stderr (a local tracer's warnings, libbpf) would be
 * written over it: keep them in a temporary file and print them once the screen is gone.
 */
static void hold_stderr(struct top_screen *s)
{
	s->saved_stderr = -1;
	if (!isatty(STDERR_FILENO))
		return;
	s->held = tmpfile();
	if (!s->held)
		return;
	fflush(stderr);
	s->saved_stderr = dup(STDERR_FILENO);
	if (s->saved_stderr < 0 || dup2(fileno(s->held), STDERR_FILENO) < 0) {
		if (s->saved_stderr >= 0)
			close(s->saved_stderr);
		s->saved_stderr = -1;
		fclose(s->held);
		s->held = NULL;
	}
}

static void release_stderr(struct top_screen *s)
{
	char buf[4096];
	size_t n;

	if (s->saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(s->saved_stderr, STDERR_FILENO);
	close(s->saved_stderr);
	s->saved_stderr = -1;
	rewind(s->held);
	while ((n = fread(buf, 1, sizeof(buf), s->held)) > 0)
		if (fwrite(buf, 1, n, stderr) != n)
			break;
	fclose(s->held);
	s->held = NULL;
}

struct top_screen *top_screen__open(char *err, size_t errlen)
{
	const char *term = getenv("TERM");
	struct top_screen *s;
	int e = 0;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(err, errlen, "tcpstate top needs a terminal (stdin and stdout are not both "
			 "a tty); use --batch for plain-text frames");
		return NULL;
	}
	if (!term || !*term) {
		snprintf(err, errlen, "TERM is not set; set it to your terminal's type (e.g. "
			 "TERM=xterm-256color) or use --batch");
		return NULL;
	}
	if (setupterm(term, STDOUT_FILENO, &e) != OK) {
		snprintf(err, errlen, e == 0 ? "unknown terminal type '%s' (terminfo has no entry "
			 "for it); set TERM to one it knows, e.g. xterm-256color, or use --batch"
			 : "cannot read the terminfo database for TERM '%s'; install ncurses-base "
			   "or use --batch", term);
		return NULL;
	}
	del_curterm(cur_term);
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->scr = newterm(term, stdout, stdin);
	if (!s->scr) {
		snprintf(err, errlen, "cannot start the screen on terminal type '%s'", term);
		free(s);
		return NULL;
	}
	set_term(s->scr);
	hold_stderr(s);
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	return s;
}

void top_screen__close(struct top_screen *s)
{
	if (!s)
		return;
	endwin();
	delscreen(s->scr);
	release_stderr(s);
	free(s);
}

static const char *const help_lines[] = {
	"tcpstate top: keys",
	"",
	"  q          quit",
	"  space      pause / resume",
	"  p          processes   l  listeners   t or r  TIME_WAIT by remote",
	"  tab        next view",
	"  < >        sort by the column left / right",
	"  i          invert the order",
	"  / or f     filter: comm:NAME (or a bare NAME), port:N, netns:INODE; empty clears",
	"  ?          this help (any key closes it)",
	"",
	"Sort keys of this view (the column marked * is the sort column):",
};

static void draw_help(const struct top_ui *ui)
{
	int ncols, y = 0;
	const struct top_column *c = top_model__columns(ui->opts.view, &ncols);

	for (size_t i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]); i++)
		mvaddnstr(y++, 0, help_lines[i], COLS);
	for (int i = 0; i < ncols; i++)
		mvprintw(y++, 0, "  %c          %s", c[i].key, c[i].title);
}

static void draw_bottom(const struct top_ui *ui)
{
	static const char hints[] = "q quit  ? help  space pause  p/l/t views  < > sort  i invert  "
				    "/ filter";
	char line[TOP_LINE_LEN];

	if (ui->editing)
		snprintf(line, sizeof(line), "Filter (comm:NAME port:N netns:N, Enter applies, Esc "
			 "cancels): %s", ui->edit);
	else
		snprintf(line, sizeof(line), "%s", ui->status[0] ? ui->status : hints);
	attron(A_REVERSE);
	mvaddnstr(LINES - 1, 0, line, COLS);
	for (int x = (int)strlen(line); x < COLS; x++)
		addch(' ');
	attroff(A_REVERSE);
}

void top_screen__draw(struct top_screen *s, const struct top_frame *f, const struct top_ui *ui)
{
	char hdr[6][TOP_LINE_LEN], buf[TOP_LINE_LEN];
	enum top_view v = ui->opts.view;
	int y = 0, n;

	(void)s;
	erase();
	if (ui->help) {
		draw_help(ui);
	} else if (!f) {
		mvaddnstr(0, 0, "tcpstate top: waiting for the first snapshot...", COLS);
	} else {
		n = top_view__header(f, ui, hdr);
		for (int i = 0; i < n; i++)
			mvaddnstr(y++, 0, hdr[i], COLS);
		y++;
		top_view__titles(v, &ui->opts, buf, sizeof(buf));
		attron(A_REVERSE);
		mvaddnstr(y, 0, buf, COLS);
		for (int x = (int)strlen(buf); x < COLS; x++)
			addch(' ');
		attroff(A_REVERSE);
		y++;
		for (__u32 i = 0; i < top_frame__rows(f, v) && y < LINES - 1; i++, y++) {
			top_view__row(f, v, i, buf, sizeof(buf));
			mvaddnstr(y, 0, buf, COLS);
		}
	}
	draw_bottom(ui);
	refresh();
}

int top_screen__key(struct top_screen *s, int timeout_ms)
{
	int c;

	(void)s;
	timeout(timeout_ms);
	c = getch();
	return c == ERR ? -1 : c;
}
