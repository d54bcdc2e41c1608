/*
 * cmd.h - subcommand entry points, one per file (cmd_*.c), dispatched from
 * main.c. Each takes the arguments after its own name, handles --help, and
 * returns the process exit code.
 */
#ifndef FAULTLINE_CMD_H
#define FAULTLINE_CMD_H

int cmd_cluster(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_heal(int argc, char **argv);

#endif
