/*
 * rnnkit: command-line front end. Dispatches to one command per file
 * (run.c, info.c, prof.c) and owns the one-line error reporting.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: rnnkit <command> [options]\n"
    "\n"
    "commands:\n"
    "  run       run a model over a sequence (.safetensors + .npy files)\n"
    "  info      show version, CPU features, ISAs and threads\n"
    "  example   write a small example model and input to a directory\n"
    "  prof      profile a model (if built in)\n"
    "\n"
    "options:\n"
    "  -h, --help     show this help (also: rnnkit <command> --help)\n"
    "  -V, --version  print the version\n";

/* Writes msg with control characters turned into spaces, so the report
 * stays on one line whatever the library or the OS said. */
static void put_one_line(const char *msg) {
    for (const char *p = msg; *p; p++) fputc((unsigned char)*p < 0x20 ? ' ' : *p, stderr);
}

int cli_error(int code, const char *what, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs("rnnkit: ", stderr);
    put_one_line(what);
    fputs(": ", stderr);
    put_one_line(msg);
    fputc('\n', stderr);
    return code;
}

int cli_lib_error(const char *what, rnnkit_status status) {
    const char *msg = rnnkit_last_error();
    size_t n = strlen(what);
    if (!msg[0]) msg = rnnkit_status_string(status);
    /* Library messages often start with the file name already. */
    if (strncmp(msg, what, n) == 0 && msg[n] == ':') msg += n + 1 + (msg[n + 1] == ' ');
    return cli_error(CLI_EXIT_FAIL, what, "%s", msg);
}

int cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("rnnkit %s\n", rnnkit_version());
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "run")) return cli_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "info")) return cli_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "example")) return cli_example(argc - 1, argv + 1);
    if (!strcmp(cmd, "prof") && cli_prof) return cli_prof(argc - 1, argv + 1);
    if (cmd[0] == '-') return cli_error(CLI_EXIT_USAGE, cmd, "unknown option (see rnnkit --help)");
    return cli_error(CLI_EXIT_USAGE, cmd, "unknown command (see rnnkit --help)");
}
