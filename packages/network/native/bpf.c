// tswarm_bpf: the two bpf(2) commands the overlay's eBPF fast path needs, for Node (N-API).
//
//   progLoad(insns: Buffer, license: string, name: string) -> fd
//     BPF_PROG_LOAD of a BPF_PROG_TYPE_SCHED_CLS program (tc cls_bpf, direct action).
//     First tried without a verifier log (fast path); when the kernel refuses, loaded again
//     with log_level 1 so the thrown Error carries the verifier's explanation in `.log`.
//   objPin(fd: number, path: string) -> undefined
//     BPF_OBJ_PIN to a path on a bpffs mount, so `tc ... bpf object-pinned PATH` can attach it.
//
// Errors are thrown as Error objects with `.code` (errno name, e.g. "EPERM"), `.errno` and,
// for a refused program, `.log`. No state, no threads: every call is one synchronous syscall
// (a few microseconds to a millisecond for the programs tswarm builds).
#include <errno.h>
#include <linux/bpf.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_SIZE (256 * 1024)

static long sys_bpf(int cmd, union bpf_attr *attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static const char *errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOSPC: return "ENOSPC";
    case ENOMEM: return "ENOMEM";
    case E2BIG: return "E2BIG";
    case ENOSYS: return "ENOSYS";
    case EBADF: return "EBADF";
    case ENOTDIR: return "ENOTDIR";
    default: return "EUNKNOWN";
  }
}

// Throws Error(`${what}: ${strerror}`) with .code, .errno and, when given, .log.
static void throw_errno(napi_env env, const char *what, int e, const char *log) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(e));
  napi_value m, err, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &err);
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, err, "code", v);
  napi_create_int32(env, e, &v);
  napi_set_named_property(env, err, "errno", v);
  if (log) {
    napi_create_string_utf8(env, log, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, err, "log", v);
  }
  napi_throw(env, err);
}

static int get_string(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) return -1;
  return len < size - 1 ? 0 : -1; // truncated: refuse rather than load with a cut name or path
}

static napi_value prog_load(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *insns = NULL;
  size_t bytes = 0;
  bool is_buffer = false;
  char license[64], name[BPF_OBJ_NAME_LEN];
  if (argc != 3 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[0], &insns, &bytes) != napi_ok || bytes == 0 || bytes % 8 != 0 ||
      get_string(env, argv[1], license, sizeof license) != 0 || get_string(env, argv[2], name, sizeof name) != 0) {
    napi_throw_type_error(env, NULL, "progLoad(insns: Buffer of 8-byte instructions, license: string, name: string of at most 15 characters)");
    return NULL;
  }
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)(bytes / 8);
  attr.license = (uint64_t)(uintptr_t)license;
  memcpy(attr.prog_name, name, strlen(name));
  long fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) {
    int first = errno;
    char *log = calloc(1, LOG_SIZE);
    if (log) {
      attr.log_buf = (uint64_t)(uintptr_t)log;
      attr.log_size = LOG_SIZE;
      attr.log_level = 1;
      fd = sys_bpf(BPF_PROG_LOAD, &attr);
    }
    if (fd < 0) {
      throw_errno(env, "BPF_PROG_LOAD", log ? errno : first, log && log[0] ? log : NULL);
      free(log);
      return NULL;
    }
    free(log); // loaded the second time (should not happen): keep it
  }
  napi_value out;
  napi_create_int32(env, (int32_t)fd, &out);
  return out;
}

static napi_value obj_pin(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  char path[4096];
  if (argc != 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || get_string(env, argv[1], path, sizeof path) != 0) {
    napi_throw_type_error(env, NULL, "objPin(fd: number, path: string)");
    return NULL;
  }
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.bpf_fd = (uint32_t)fd;
  attr.pathname = (uint64_t)(uintptr_t)path;
  if (sys_bpf(BPF_OBJ_PIN, &attr) < 0) {
    throw_errno(env, "BPF_OBJ_PIN", errno, NULL);
    return NULL;
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"progLoad", NULL, prog_load, NULL, NULL, NULL, napi_default, NULL},
    {"objPin", NULL, obj_pin, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
