// fer's stderr hold: holds file descriptor 2 while TensorFlow's library loads (see stderr-hold.ts).
// TensorFlow logs its start-up notices through absl while its shared library initialises, before
// any setting of ours can reach it; holding the descriptor is the one way to keep them to ourselves.
// hold() points fd 2 at an unnamed temporary file; release() points it back and returns what was
// written there. Should the process die while held (TensorFlow's fatal checks abort), a signal
// handler first writes the held text to the real stderr, so a crash still says why.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <node_api.h>

static const int FATAL_SIGNALS[] = {SIGABRT, SIGILL, SIGSEGV, SIGBUS, SIGFPE};
#define FATAL_COUNT ((int)(sizeof(FATAL_SIGNALS) / sizeof(FATAL_SIGNALS[0])))

static int saved_fd = -1;  // the real stderr while held
static int held_fd = -1;   // the temporary file fd 2 points at while held
static struct sigaction previous[FATAL_COUNT];

// Only async-signal-safe calls: the real stderr back, the held text onto it, the previous handler back.
static void on_fatal(int sig) {
  if (saved_fd >= 0 && held_fd >= 0) {
    dup2(saved_fd, 2);
    char buffer[4096];
    off_t offset = 0;
    ssize_t n;
    while ((n = pread(held_fd, buffer, sizeof buffer, offset)) > 0) {
      offset += n;
      if (write(2, buffer, (size_t)n) < 0) break;
    }
  }
  for (int i = 0; i < FATAL_COUNT; i++) {
    if (FATAL_SIGNALS[i] == sig) sigaction(sig, &previous[i], NULL);
  }
  // Blocked until this handler returns, then delivered under the previous handler (a fault would
  // recur anyway; a signal sent with kill would not).
  raise(sig);
}

static int open_held_file(void) {
#ifdef MFD_CLOEXEC
  int fd = memfd_create("fer-stderr-hold", MFD_CLOEXEC);
  if (fd >= 0) return fd;
#endif
  FILE *file = tmpfile();
  if (file == NULL) return -1;
  int fd2 = dup(fileno(file));
  fclose(file);
  return fd2;
}

static napi_value boolean(napi_env env, int value) {
  napi_value result;
  napi_get_boolean(env, value != 0, &result);
  return result;
}

// hold(): true when fd 2 now points at the held file; false when it could not (nothing changed).
static napi_value Hold(napi_env env, napi_callback_info info) {
  (void)info;
  if (saved_fd >= 0) return boolean(env, 0);
  int file = open_held_file();
  if (file < 0) return boolean(env, 0);
  fflush(stderr);
  int saved = dup(2);
  if (saved < 0) {
    close(file);
    return boolean(env, 0);
  }
  saved_fd = saved;
  held_fd = file;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_fatal;
  sigemptyset(&action.sa_mask);
  for (int i = 0; i < FATAL_COUNT; i++) sigaction(FATAL_SIGNALS[i], &action, &previous[i]);
  if (dup2(file, 2) < 0) {
    for (int i = 0; i < FATAL_COUNT; i++) sigaction(FATAL_SIGNALS[i], &previous[i], NULL);
    close(saved);
    close(file);
    saved_fd = held_fd = -1;
    return boolean(env, 0);
  }
  return boolean(env, 1);
}

// release(): fd 2 back to the real stderr; returns the text written while held ("" when not held).
static napi_value Release(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  if (saved_fd < 0) {
    napi_create_string_utf8(env, "", 0, &result);
    return result;
  }
  fflush(stderr);
  dup2(saved_fd, 2);
  close(saved_fd);
  saved_fd = -1;
  for (int i = 0; i < FATAL_COUNT; i++) sigaction(FATAL_SIGNALS[i], &previous[i], NULL);
  off_t size = lseek(held_fd, 0, SEEK_END);
  char *text = size > 0 ? malloc((size_t)size) : NULL;
  size_t length = 0;
  if (text != NULL) {
    ssize_t n;
    while (length < (size_t)size && (n = pread(held_fd, text + length, (size_t)size - length, (off_t)length)) > 0) length += (size_t)n;
  }
  close(held_fd);
  held_fd = -1;
  napi_create_string_utf8(env, text != NULL ? text : "", length, &result);
  free(text);
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"hold", NULL, Hold, NULL, NULL, NULL, napi_default, NULL},
      {"release", NULL, Release, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 2, properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
