/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What `tcpstate top` shows: the frame's hdr (header, column titles, rows), drawn full-screen
 * with ncurses or printed as plain-text frames (--batch). The screen also reads the keys.
 */
#ifndef TCPSTATE_TOP_VIEW_H
#define TCPSTATE_TOP_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "top_model.h"

#define TOP_LINE_LEN 512

/* The state of the interface around a frame. */
struct top_ui {
	struct top_opts opts;
	const char *source;	/* "http://127.0.0.1:9976/api/v1/snapshot" or "local tracer" */
	double delay_s;
	bool paused, help;
	bool editing;		/* typing a filter */
	char edit[64];
	char status[256];	/* a message for the bottom line ("" for the key hints) */
};

/* The header hdr of frame f into hdr (TOP_LINE_LEN each); returns how many (at most 5). */
int top_view__header(const struct top_frame *f, const struct top_ui *ui,
		     char hdr[][TOP_LINE_LEN]);
/* The column titles of view v, the sort column marked. */
void top_view__titles(enum top_view v, const struct top_opts *o, char *buf, size_t len);
/* Row i of view v of f. */
void top_view__row(const struct top_frame *f, enum top_view v, __u32 i, char *buf, size_t len);
/* Print one plain-text frame (header, titles, every row, then a blank line). */
void top_view__print(FILE *out, const struct top_frame *f, const struct top_ui *ui);

struct top_screen;

/*
 * Take over the terminal. NULL with a one-line reason in err when stdin or stdout is not a
 * terminal or TERM names no terminal known to terminfo.
 */
struct top_screen *top_screen__open(char *err, size_t errlen);
/* Give the terminal back. Accepts NULL. */
void top_screen__close(struct top_screen *s);
/* Draw f (may be NULL before the first document). */
void top_screen__draw(struct top_screen *s, const struct top_frame *f, const struct top_ui *ui);
/* The next key within timeout_ms, or -1. */
int top_screen__key(struct top_screen *s, int timeout_ms);

#endif
