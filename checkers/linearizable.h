/*
 * linearizable.h - the linearizability checker (linearizable.c): a
 * struct checker whose ops are encoded on the fly into a compact form per
 * key, so a million-op history is never held as struct op / jansson values.
 */
#ifndef FAULTLINE_LINEARIZABLE_H
#define FAULTLINE_LINEARIZABLE_H

#include "checker.h"

extern const struct checker checker_linearizable;

#endif
