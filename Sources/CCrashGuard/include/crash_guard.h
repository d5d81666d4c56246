#ifndef SWITCHBOARD_CRASH_GUARD_H
#define SWITCHBOARD_CRASH_GUARD_H

/* Notes which plugin library a fatal signal came from (see PluginCrashGuard.swift).
 * Installs handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT. On one, the handler
 * walks the stack, and for the first frame inside a library whose path starts with
 * `plugin_folder` writes "<library path>\n<signal>\n" to `marker` (through a file opened
 * now and renamed then, so the marker exists only after a crash). It then restores the
 * handler that was there before and lets the signal act as it would have.
 * Returns 0, or -1 with errno set. Call once. */
int sb_crash_guard_install(const char *marker, const char *plugin_folder);

/* Asks the kernel to kill this process (SIGKILL) when its parent exits, so a check child
 * never outlives the server that started it. Returns 0, or -1 with errno set. */
int sb_exit_with_parent(void);

#endif
