/*
 * report_escape.c - the escaping functions the report, the JUnit file and the
 * store index share. Keeping them in one place means one function to audit
 * for each output context: HTML/XML text, JSON inside a <script> element, and
 * relative links. Nothing from a history, a config or a database reaches the
 * generated files without passing through one of them.
 */
#include "report.h"

#include <string.h>

/* XML 1.0 allows TAB, LF, CR and everything from 0x20; other control bytes
 * make a JUnit parser reject the whole file. */
static bool xml_forbidden(unsigned char c)
{
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

void html_escape(struct buf *b, const char *s)
{
	if (!s)
		return;
	const char *run = s;
	for (; *s; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			if (xml_forbidden((unsigned char)*s))
				rep = "\xef\xbf\xbd";
		}
		if (rep) {
			buf_append(b, run, (size_t)(s - run));
			buf_puts(b, rep);
			run = s + 1;
		}
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
