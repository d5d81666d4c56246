#define _GNU_SOURCE
#include "crash_guard.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <string.h>
#include <unistd.h>

#define SIGNAL_COUNT 5
static const int signals_[SIGNAL_COUNT] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
static struct sigaction previous[SIGNAL_COUNT];
static int marker_fd = -1;
static char prefix[4096], pending_path[4096], marker_path[4096];
static size_t prefix_length;
static void *frames[128];

static void write_all(int fd, const char *text, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, text, length);
        if (n <= 0) return;
        text += n;
        length -= (size_t)n;
    }
}

/* Async-signal-safe apart from backtrace's first call, which install() makes. */
static void handler(int sig, siginfo_t *info, void *context) {
    (void)context;
    int count = backtrace(frames, (int)(sizeof frames / sizeof frames[0]));
    for (int i = 0; i < count && marker_fd >= 0; i++) {
        Dl_info found;
        if (dladdr(frames[i], &found) == 0 || found.dli_fname == NULL) continue;
        if (strncmp(found.dli_fname, prefix, prefix_length) != 0) continue;
        write_all(marker_fd, found.dli_fname, strlen(found.dli_fname));
        char digits[8] = {'\n', 0, 0, 0, 0};
        int n = 1, value = sig;
        char reversed[4];
        int r = 0;
        do { reversed[r++] = (char)('0' + value % 10); value /= 10; } while (value > 0 && r < 4);
        while (r > 0) digits[n++] = reversed[--r];
        digits[n++] = '\n';
        write_all(marker_fd, digits, (size_t)n);
        fsync(marker_fd);
        rename(pending_path, marker_path);
        break;
    }
    for (int i = 0; i < SIGNAL_COUNT; i++) {
        if (signals_[i] == sig) sigaction(sig, &previous[i], NULL);
    }
    /* A signal that was sent (abort, kill) is sent again; a fault returns to the faulting
     * instruction, which faults again into the handler that was there before. */
    if (info == NULL || info->si_code <= 0) raise(sig);
}

int sb_crash_guard_install(const char *marker, const char *plugin_folder) {
    if (marker_fd >= 0) return 0;
    if (strlen(plugin_folder) + 2 > sizeof prefix || strlen(marker) + 9 > sizeof marker_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf(prefix, sizeof prefix, "%s/", plugin_folder);
    prefix_length = strlen(prefix);
    snprintf(marker_path, sizeof marker_path, "%s", marker);
    snprintf(pending_path, sizeof pending_path, "%s.pending", marker);
    (void)backtrace(frames, 1); /* loads the unwinder now, not in the handler */
    marker_fd = open(pending_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (marker_fd < 0) return -1;
    for (int i = 0; i < SIGNAL_COUNT; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = handler;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        if (sigaction(signals_[i], &action, &previous[i]) != 0) return -1;
    }
    return 0;
}

int sb_exit_with_parent(void) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -1;
    return getppid() == 1 ? -1 : 0; /* the parent may have exited before the call */
}
