/*
 * report_escape.c - the escaping functions the report, the JUnit file and the
 * store index share. Keeping them in one place means one function to audit
 * for each output context: HTML/XML text, JSON inside a <script> element, and
 * relative links. Nothing from a history, a config or a database reaches the
 * generated files without passing through one of them.
 */
#include "report.h"

#include <string.h>

/* XML 1.0's Char production: TAB, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD,
 * U+10000-U+10FFFF. Returns the length of the UTF-8 sequence at s when it
 * encodes such a character; minus its length when it is well-formed UTF-8
 * for a character XML forbids (a surrogate, U+FFFE, U+FFFF: replaced as
 * one character); 0 for a byte that starts no valid sequence (a control
 * byte, an overlong or truncated sequence, a stray byte). Every value that
 * reaches junit.xml or report.html is checked here, so one bad byte in a
 * history cannot make a CI system reject the whole file. */
static int xml_char_len(const unsigned char *s)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return c >= 0x20 || c == '\t' || c == '\n' || c == '\r' ? 1 : 0;
	int n;
	unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* beyond U+10FFFF */
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (c == 0xed && s[1] >= 0xa0)
		return -n; /* U+D800-U+DFFF */
	if (c == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf))
		return -n; /* U+FFFE, U+FFFF */
	return n;
}

void html_escape(struct buf *b, const char *str)
{
	if (!str)
		return;
	const unsigned char *s = (const unsigned char *)str, *run = s;
	while (*s) {
		const char *rep = NULL;
		size_t n = 1;
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: {
			int len = xml_char_len(s);
			n = len > 0 ? (size_t)len : len < 0 ? (size_t)-len : 1;
			if (len <= 0)
				rep = "\xef\xbf\xbd"; /* U+FFFD */
		}
		}
		if (rep) {
			buf_append(b, run, (size_t)(s - run));
			buf_puts(b, rep);
			run = s + n;
		}
		s += n;
	}
	buf_append(b, run, (size_t)(s - run));
}

void json_string_embed(struct buf *b, const char *s)
{
	buf_puts(b, "\"");
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *run = p;
	for (; *p; p++) {
		unsigned char c = *p;
		bool ls = c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9);
		if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' &&
		    c != '&' && !ls)
			continue;
		buf_append(b, run, (size_t)(p - run));
		if (c == '"')
			buf_puts(b, "\\\"");
		else if (c == '\\')
			buf_puts(b, "\\\\");
		else if (c == '\n')
			buf_puts(b, "\\n");
		else if (ls) {
			buf_printf(b, "\\u%04x", p[2] == 0xa8 ? 0x2028 : 0x2029);
			p += 2;
		} else
			buf_printf(b, "\\u%04x", c);
		run = p + 1;
	}
	buf_append(b, run, (size_t)(p - run));
	buf_puts(b, "\"");
}

void json_text_embed(struct buf *b, const char *json)
{
	const char *run = json;
	for (; *json; json++) {
		const char *rep = *json == '<' ? "\\u003c" : *json == '>' ? "\\u003e"
				  : *json == '&' ? "\\u0026" : NULL;
		if (rep) {
			buf_append(b, run, (size_t)(json - run));
			buf_puts(b, rep);
			run = json + 1;
		}
	}
	buf_append(b, run, (size_t)(json - run));
}

void url_path_escape(struct buf *b, const char *path)
{
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		unsigned char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("/._~-", c))
			buf_append(b, p, 1);
		else
			buf_printf(b, "%%%02X", c);
	}
}

char *utf8_truncate(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return xstrdup(s);
	/* Back up over continuation bytes so a character is never split. */
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return xasprintf("%.*s...", (int)max, s);
}
