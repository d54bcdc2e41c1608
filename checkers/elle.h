/*
 * elle.h - the transaction isolation checker (elle.c): Elle's list-append
 * and rw-register analyses as a streaming struct checker, registered as
 * "elle".
 */
#ifndef FAULTLINE_ELLE_H
#define FAULTLINE_ELLE_H

#include "checker.h"

extern const struct checker checker_elle;

#endif
