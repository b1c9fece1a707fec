// tswarm_spawn: runs a command to completion off Node's event loop, for Node (N-API).
//
//   run(argv: string[], input: Buffer, callback(err, code, signal, stdout, stderr)) -> undefined
//     Starts argv[0] (searched in PATH) with `input` on its stdin, collects stdout and stderr
//     and waits for its exit, all on a thread of its own; then calls back on the event loop:
//     err (an Error with .code, e.g. "ENOENT") when it could not be started, otherwise code
//     (the exit code, or null when a signal ended it) and signal (the signal's number or null).
//
// Why not child_process.spawn: libuv starts a child with fork(), on the event loop, and waits
// there until the child has called exec. Copying the page tables of a Node process takes
// 5–7 ms on a virtual machine whose page-table updates trap to the hypervisor, and the
// data plane spawns ip, nft and tc by the dozen when containers come and go. posix_spawn
// (glibc: clone with CLONE_VM | CLONE_VFORK) copies nothing, and runs here on a thread, so
// the event loop does not wait at all.
//
// The child gets what child_process gives it: the environment as it was at the call, an
// empty signal mask and every signal at its default action (Node ignores SIGPIPE, and an
// ignored signal would stay ignored across exec), and no other descriptor (every descriptor
// Node and this file open is close-on-exec).
#define _GNU_SOURCE  // pipe2
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct {
  char *data;
  size_t len, cap;
} buf_t;

typedef struct {
  char **argv;
  char **envp;
  char *input;
  size_t input_len;
  napi_threadsafe_function tsfn;
  int spawn_errno;  // non-zero: the command did not start
  int status;       // waitpid's status
  buf_t out, err;
} job_t;

static void free_strv(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

static void job_free(job_t *j) {
  free_strv(j->argv);
  free_strv(j->envp);
  free(j->input);
  free(j->out.data);
  free(j->err.data);
  free(j);
}

// Reads what is there; returns 0 at end of file, 1 if more may come, -1 on an error.
static int drain(int fd, buf_t *b) {
  for (;;) {
    if (b->cap - b->len < 4096) {
      size_t cap = b->cap ? b->cap * 2 : 16384;
      char *d = realloc(b->data, cap);
      if (!d) return -1;
      b->data = d;
      b->cap = cap;
    }
    ssize_t n = read(fd, b->data + b->len, b->cap - b->len);
    if (n > 0) { b->len += (size_t)n; continue; }
    if (n == 0) return 0;
    if (errno == EINTR) continue;
    return errno == EAGAIN ? 1 : -1;
  }
}

// Feeds stdin and collects stdout and stderr until both are closed; never blocks on one
// pipe while the child waits on another.
static void pump(job_t *j, int in, int out, int err) {
  size_t off = 0;
  if (j->input_len == 0) { close(in); in = -1; }
  fcntl(out, F_SETFL, O_NONBLOCK);
  fcntl(err, F_SETFL, O_NONBLOCK);
  if (in >= 0) fcntl(in, F_SETFL, O_NONBLOCK);
  while (out >= 0 || err >= 0) {
    struct pollfd p[3];
    int n = 0, io = -1, oo = -1, eo = -1;
    if (in >= 0) { io = n; p[n++] = (struct pollfd){in, POLLOUT, 0}; }
    if (out >= 0) { oo = n; p[n++] = (struct pollfd){out, POLLIN, 0}; }
    if (err >= 0) { eo = n; p[n++] = (struct pollfd){err, POLLIN, 0}; }
    if (poll(p, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (io >= 0 && p[io].revents) {
      ssize_t w = write(in, j->input + off, j->input_len - off);
      if (w > 0) off += (size_t)w;
      // Done, or the child closed its stdin (EPIPE: it needs no more): stop feeding.
      if (off == j->input_len || (w < 0 && errno != EAGAIN && errno != EINTR)) { close(in); in = -1; }
    }
    if (oo >= 0 && p[oo].revents && drain(out, &j->out) <= 0) { close(out); out = -1; }
    if (eo >= 0 && p[eo].revents && drain(err, &j->err) <= 0) { close(err); err = -1; }
  }
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  if (err >= 0) close(err);
}

static void *work(void *arg) {
  job_t *j = arg;
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    j->spawn_errno = errno;
  } else {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    pid_t pid;
    j->spawn_errno = posix_spawnp(&pid, j->argv[0], &fa, &at, j->argv, j->envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(in[0]); close(out[1]); close(err[1]);
    in[0] = out[1] = err[1] = -1;
    if (j->spawn_errno == 0) {
      pump(j, in[1], out[0], err[0]);
      in[1] = out[0] = err[0] = -1;
      while (waitpid(pid, &j->status, 0) < 0 && errno == EINTR) {}
    }
  }
  for (int i = 0; i < 2; i++) {
    if (in[i] >= 0) close(in[i]);
    if (out[i] >= 0) close(out[i]);
    if (err[i] >= 0) close(err[i]);
  }
  napi_threadsafe_function tsfn = j->tsfn;
  napi_call_threadsafe_function(tsfn, j, napi_tsfn_blocking);
  napi_release_threadsafe_function(tsfn, napi_tsfn_release);
  return NULL;
}

static napi_value buffer_of(napi_env env, const buf_t *b) {
  napi_value v;
  napi_create_buffer_copy(env, b->len, b->len ? b->data : "", NULL, &v);
  return v;
}

// On the event loop: hands the outcome to the callback and frees the job.
static void deliver(napi_env env, napi_value cb, void *context, void *data) {
  (void)context;
  job_t *j = data;
  if (env && cb) {
    napi_value undef, nul, args[5];
    napi_get_undefined(env, &undef);
    napi_get_null(env, &nul);
    if (j->spawn_errno) {
      napi_value msg, code;
      napi_create_string_utf8(env, strerror(j->spawn_errno), NAPI_AUTO_LENGTH, &msg);
      napi_create_error(env, NULL, msg, &args[0]);
      const char *name = j->spawn_errno == ENOENT ? "ENOENT" : j->spawn_errno == EACCES ? "EACCES" : "ESPAWN";
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
      napi_set_named_property(env, args[0], "code", code);
      args[1] = args[2] = nul;
      args[3] = args[4] = undef;
    } else {
      args[0] = nul;
      if (WIFEXITED(j->status)) napi_create_int32(env, WEXITSTATUS(j->status), &args[1]); else args[1] = nul;
      if (WIFSIGNALED(j->status)) napi_create_int32(env, WTERMSIG(j->status), &args[2]); else args[2] = nul;
      args[3] = buffer_of(env, &j->out);
      args[4] = buffer_of(env, &j->err);
    }
    napi_call_function(env, undef, cb, 5, args, NULL);
  }
  job_free(j);
}

static char *string_of(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (s && napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) { free(s); return NULL; }
  return s;
}

static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_array = false, is_buffer = false;
  uint32_t n = 0;
  napi_valuetype cbt = napi_undefined;
  if (argc != 3 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &n) != napi_ok || n == 0 ||
      napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer ||
      napi_typeof(env, argv[2], &cbt) != napi_ok || cbt != napi_function) {
    napi_throw_type_error(env, NULL, "run(argv: non-empty string[], input: Buffer, callback: function)");
    return NULL;
  }
  job_t *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  j->argv = calloc(n + 1, sizeof(char *));
  size_t envc = 0;
  while (environ[envc]) envc++;
  j->envp = calloc(envc + 1, sizeof(char *));
  bool ok = j->argv && j->envp;
  for (uint32_t i = 0; ok && i < n; i++) {
    napi_value e;
    ok = napi_get_element(env, argv[0], i, &e) == napi_ok && (j->argv[i] = string_of(env, e)) != NULL;
  }
  for (size_t i = 0; ok && i < envc; i++) ok = (j->envp[i] = strdup(environ[i])) != NULL;
  void *in = NULL;
  napi_get_buffer_info(env, argv[1], &in, &j->input_len);
  if (ok && j->input_len > 0) {
    ok = (j->input = malloc(j->input_len)) != NULL;
    if (ok) memcpy(j->input, in, j->input_len);
  }
  napi_value name;
  napi_create_string_utf8(env, "tswarm_spawn", NAPI_AUTO_LENGTH, &name);
  if (!ok || napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, NULL, NULL, NULL, deliver, &j->tsfn) != napi_ok) {
    job_free(j);
    napi_throw_error(env, "ENOMEM", "cannot prepare the command (out of memory)");
    return NULL;
  }
  pthread_t t;
  pthread_attr_t ta;
  pthread_attr_init(&ta);
  pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&ta, 256 * 1024);
  int rc = pthread_create(&t, &ta, work, j);
  pthread_attr_destroy(&ta);
  if (rc != 0) {
    napi_release_threadsafe_function(j->tsfn, napi_tsfn_abort);
    job_free(j);
    napi_throw_error(env, "EAGAIN", "cannot start a thread for the command");
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"run", NULL, run, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
