/*
 * The rnnkit command-line tool: shared declarations.
 *
 * Every failure prints exactly one line on stderr, "rnnkit: <what>:
 * <problem>", where <what> is the file or option at fault, and the
 * command returns CLI_EXIT_USAGE (bad command line) or CLI_EXIT_FAIL
 * (anything else).
 */
#ifndef RNNKIT_CLI_H
#define RNNKIT_CLI_H

#include "rnnkit.h"

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* Prints "rnnkit: <what>: <message>" as one line and returns code. */
int cli_error(int code, const char *what, const char *fmt, ...) CLI_PRINTF(3, 4);
/* The same with the library's rnnkit_last_error() (or the status name if
 * it is empty) as message; a leading "<what>: " in it is not repeated. */
int cli_lib_error(const char *what, rnnkit_status status);

/* Commands: argv[0] is the command name. */
int cli_run(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_example(int argc, char **argv);
/* The profiler (src/cli/prof.c); weak so the tool builds without it. */
#if defined(__GNUC__)
__attribute__((weak))
#endif
int cli_prof(int argc, char **argv);

/* True when argv[1..] asks for help ("-h" / "--help"). */
int cli_wants_help(int argc, char **argv);

#endif
