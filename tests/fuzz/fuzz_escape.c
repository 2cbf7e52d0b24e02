// SPDX-License-Identifier: GPL-2.0-only
/*
 * Output escaping of text that comes from outside (comm, cgroup): JSON strings and text tables
 * (src/format.c) and Prometheus label values (src/prom_writer.c). The input is the string.
 * JSON output must be one valid JSON string literal in valid UTF-8 with no raw control byte; a
 * label value must be valid UTF-8 with only the escapes the text format knows and no raw
 * newline. Both must give the input back when it was valid UTF-8 (invalid bytes become
 * U+FFFD). Table text must be valid UTF-8 without control bytes. The checks here are written
 * apart from the code they check.
 */
#include "format.h"
#include "fuzz.h"
#include "prom_writer.h"

/* Length of the valid UTF-8 sequence at s[0..n), 0 if invalid (overlong, surrogate, > 10FFFF). */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
	unsigned cp, need;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 2, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 3, cp = s[0] & 0x07;
	else
		return 0;
	if (n < need + 1)
		return 0;
	for (unsigned i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need + 1;
}

static int utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_valid_len(p + i, n - i);

		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80)
		return out[0] = (char)cp, 1;
	if (cp < 0x800)
		return out[0] = (char)(0xc0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3f)), 2;
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hex4(const char *s, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
						    : 16u;
		if (d > 15)
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/* Decode the JSON string literal s (all of it) into out (room for 4 x strlen(s)); -1 if invalid. */
static long json_decode(const char *s, char *out)
{
	size_t n = strlen(s), o = 0, i = 1;
	unsigned cp, lo;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"' || !utf8_valid(s, n))
		return -1;
	for (; i < n - 1; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == '"')
			return -1;
		if (c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		if (++i >= n - 1)
			return -1;
		switch (s[i]) {
		case '"': out[o++] = '"'; break;
		case '\\': out[o++] = '\\'; break;
		case '/': out[o++] = '/'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u':
			if (i + 4 >= n || hex4(s + i + 1, &cp))
				return -1;
			i += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (i + 6 >= n || s[i + 1] != '\\' || s[i + 2] != 'u' ||
				    hex4(s + i + 3, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return -1;
				i += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			o += put_utf8(out + o, cp);
			break;
		default:
			return -1;
		}
	}
	out[o] = '\0';
	return (long)o;
}

static void check_json(const char *in)
{
	size_t need = json_escape(NULL, 0, in), inlen = strlen(in);
	char *lit = malloc(need + 1), *dec = malloc(4 * need + 1), small[8];
	long n;

	FUZZ_ASSERT(lit && dec, "out of memory");
	FUZZ_ASSERT(json_escape(lit, need + 1, in) == need && strlen(lit) == need,
		    "json_escape length differs between calls");
	n = json_decode(lit, dec);
	FUZZ_ASSERT(n >= 0, "not a valid JSON string in UTF-8: %s", lit);
	if (utf8_valid(in, inlen))
		FUZZ_ASSERT((size_t)n == inlen && !memcmp(dec, in, inlen),
			    "JSON string does not give back the input");
	/* A short buffer holds a terminated prefix of the same text. */
	json_escape(small, sizeof(small), in);
	FUZZ_ASSERT(strlen(small) == (need < sizeof(small) ? need : sizeof(small) - 1) &&
			    !memcmp(small, lit, strlen(small)),
		    "truncated json_escape is not a prefix");
	free(dec);
	free(lit);
}

/* Unescape the label value starting at *p (just past the opening quote); -1 if invalid. */
static long label_decode(const char *p, const char **end, char *out)
{
	size_t o = 0;

	for (; *p && *p != '"'; p++) {
		if (*p == '\n')
			return -1;
		if (*p != '\\') {
			out[o++] = *p;
			continue;
		}
		p++;
		if (*p == '\\' || *p == '"')
			out[o++] = *p;
		else if (*p == 'n')
			out[o++] = '\n';
		else
			return -1;
	}
	if (*p != '"')
		return -1;
	*end = p;
	out[o] = '\0';
	return (long)o;
}

static void check_label(struct prom_writer *w, const char *in)
{
	static const char head[] = "fuzz_metric{comm=\"";
	const char *labels[] = { "comm", in, NULL };
	size_t len, inlen = strlen(in);
	const char *text, *end;
	char *dec;
	long n;

	prom_writer__reset(w, false);
	prom_writer__sample_u64(w, "fuzz_metric", labels, 1);
	FUZZ_ASSERT(prom_writer__finish(w) == 0, "writer failed");
	text = prom_writer__data(w, &len);
	FUZZ_ASSERT(utf8_valid(text, len), "exposition is not valid UTF-8");
	FUZZ_ASSERT(!strncmp(text, head, sizeof(head) - 1), "sample line starts with %.40s", text);
	dec = malloc(len + 1);
	FUZZ_ASSERT(dec, "out of memory");
	n = label_decode(text + sizeof(head) - 1, &end, dec);
	FUZZ_ASSERT(n >= 0, "label value badly escaped: %s", text);
	FUZZ_ASSERT(!strcmp(end, "\"} 1\n"), "sample line ends with %s", end);
	if (utf8_valid(in, inlen))
		FUZZ_ASSERT((size_t)n == inlen && !memcmp(dec, in, inlen),
			    "label value does not give back the input");
	free(dec);
}

static void check_text(const char *in)
{
	char buf[24];
	size_t n;

	text_printable(buf, sizeof(buf), in);
	n = strlen(buf);
	FUZZ_ASSERT(n < sizeof(buf) && utf8_valid(buf, n), "text_printable gave invalid UTF-8");
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT((unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f,
			    "control byte %#x in printable text", (unsigned char)buf[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct prom_writer *w;
	char *s = fuzz_strndup(data, size);

	if (!w && !(w = prom_writer__new()))
		abort();
	check_json(s);
	check_label(w, s);
	check_text(s);
	free(s);
	return 0;
}
