/*
 * report_assets.c - embeds src/report/report.css and src/report/report.js into the
 * binary with the assembler's .incbin (paths relative to the repository
 * root, where make runs the compiler; the Makefile makes this object depend
 * on both files). Each blob gets a trailing NUL so C can treat it as a
 * string. Keeping the page's code in real .js/.css files lets it be edited
 * and linted as what it is.
 */
#include "report_assets.h"

#define REPORT_ASSET(sym, file)                                   \
	__asm__(".section .rodata\n"                                  \
		".global " #sym "\n"                                  \
		".type " #sym ", @object\n"                           \
		".balign 16\n" #sym ":\n"                             \
		".incbin \"" file "\"\n"                              \
		".byte 0\n"                                           \
		".size " #sym ", . - " #sym "\n"                      \
		".previous\n")

REPORT_ASSET(report_css, "src/report/report.css");
REPORT_ASSET(report_js, "src/report/report.js");
