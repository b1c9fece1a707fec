// tswarm_netlink: sends rtnetlink requests into a named network namespace, for Node (N-API).
//
//   exchange(nsPath: string, request: Buffer, stopAtError?: boolean) -> Int32Array
//     `request` is complete netlink messages laid end to end (built by src/netlink.ts), each
//     with NLM_F_REQUEST | NLM_F_ACK and its own nlmsg_seq. They are sent over a NETLINK_ROUTE
//     socket opened inside the namespace at nsPath (e.g. /run/netns/NAME) and every one's
//     acknowledgement is read back. The answer has one entry per message, in request order:
//     0 (done), the positive errno the kernel answered, or -1 (not sent: only with stopAtError,
//     for the messages after the first one that failed).
//     When the kernel explained a failure (extended ack), the array has a property `texts`:
//     { [index]: the kernel's words }.
//
// Why: the data plane wrote forwarding, neighbour and route entries with `bridge -batch` and
// `ip -batch`, a process spawn (≈ 6 ms here) per container per network change. This is the same
// messages without the process: 40 µs for a container's three entries, 0.7 ms for a hundred.
//
// The namespace: the socket is made inside it (setns into nsPath, socket(), setns back at once)
// and stays bound to it; nothing else runs there. The calling thread always returns to its own
// namespace, on every path; should that ever fail the process aborts rather than go on in the
// wrong namespace.
//
// Flow control: rtnetlink handles a sendmsg's messages one after the other inside the call and
// queues one ack per message on our socket; acks that do not fit its receive buffer are dropped
// (ENOBUFS). So messages go in chunks of at most CHUNK_BYTES and as many messages as the buffer
// has room for acks, and each chunk's acks are all read before the next chunk is sent. Each
// message is independent: the kernel handles the ones after a failing one too, unless
// stopAtError asks for one message per sendmsg and a stop at the first failure.
//
// Errors of the exchange itself (namespace, socket, send, receive, malformed request) are thrown
// as Error objects with `.code` (errno name, e.g. "ENOENT") and `.errno`. Synchronous, no state,
// no threads; every descriptor opened here is closed before returning.
#define _GNU_SOURCE  // setns, strerrorname_np
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <node_api.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/** At most this many bytes of messages per sendmsg (well under the socket's send buffer). */
#define CHUNK_BYTES (32 * 1024)
/** Receive buffer asked for (as root SO_RCVBUFFORCE may exceed net.core.rmem_max). */
#define RCVBUF_BYTES (1024 * 1024)
/**
 * What one queued ack may cost the receive buffer: each ack is an skb of its own, 36–100 bytes
 * of data in 832 bytes of truesize (measured in /proc/net/netlink, kernel 6.18). 2.5 times that,
 * for margin; with the 2 MiB buffer root gets, 1024 acks a chunk.
 */
#define ACK_COST_BYTES 2048
/** A kernel that never answers must not hang the event loop for ever. */
#define RECV_TIMEOUT_S 10

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

static void throw_errno(napi_env env, const char *what, const char *path, int e) {
  char msg[4200];
  snprintf(msg, sizeof msg, "%s%s%s: %s", what, path ? " " : "", path ? path : "", strerror(e));
  const char *name = strerrorname_np(e);
  napi_value m, err, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &err);
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, err, "code", v);
  napi_create_int32(env, e, &v);
  napi_set_named_property(env, err, "errno", v);
  napi_throw(env, err);
}

/** Counts the messages of `req`; -1 when it is not whole, aligned messages that each ask for an ack. */
static long count_messages(const uint8_t *req, size_t len) {
  long n = 0;
  for (size_t off = 0; off < len; n++) {
    const struct nlmsghdr *h = (const struct nlmsghdr *)(req + off);
    if (len - off < sizeof *h || h->nlmsg_len < sizeof *h || h->nlmsg_len > len - off) return -1;
    if ((h->nlmsg_flags & (NLM_F_REQUEST | NLM_F_ACK)) != (NLM_F_REQUEST | NLM_F_ACK)) return -1;
    off += NLMSG_ALIGN(h->nlmsg_len);
    if (off > len) return -1;  // the last message's padding is missing
  }
  return n;
}

/**
 * A NETLINK_ROUTE socket made inside the namespace at `path`; -1 with errno and *what set.
 * The calling thread is back in its own namespace when this returns, or the process is gone.
 */
static int socket_in(const char *path, const char **what) {
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) { *what = "open /proc/thread-self/ns/net (the way back) before entering"; return -1; }
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) { int e = errno; close(self); errno = e; *what = "open"; return -1; }
  int fd = -1, e = 0;
  if (setns(target, CLONE_NEWNET) < 0) {
    e = errno; *what = "enter the network namespace at";  // EINVAL: not a network namespace
  } else {
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) { e = errno; *what = "socket(NETLINK_ROUTE) in"; }
    if (setns(self, CLONE_NEWNET) < 0) {
      fprintf(stderr, "tswarm_netlink: cannot return to the thread's own network namespace after entering %s: %s\n", path, strerror(errno));
      abort();
    }
  }
  close(target);
  close(self);
  errno = e;
  return fd;
}

/** The socket's options; returns how many acks its receive buffer holds, or -1 with errno. */
static long prepare(int fd) {
  int one = 1, size = RCVBUF_BYTES;
  // Acks without the request echoed back. Optional: an older kernel echoes (the buffer fits it).
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  // The kernel's own words for a refusal ("FDB entry not found"…). Optional too.
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct timeval tv = {RECV_TIMEOUT_S, 0};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) return -1;
  int got = 0;
  socklen_t gl = sizeof got;
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) < 0) return -1;
  long acks = got / ACK_COST_BYTES;
  return acks > 0 ? acks : 1;
}

/** The kernel's explanation in an extended ack (NLMSGERR_ATTR_MSG), or NULL. */
static const char *ext_ack_text(const struct nlmsghdr *h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return NULL;
  const struct nlmsgerr *err = NLMSG_DATA(h);
  size_t off = sizeof *err;
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += err->msg.nlmsg_len - sizeof err->msg;  // the echoed request
  size_t end = h->nlmsg_len - NLMSG_HDRLEN;
  for (off = NLA_ALIGN(off); off + NLA_HDRLEN <= end;) {
    const struct nlattr *a = (const struct nlattr *)((const uint8_t *)err + off);
    if (a->nla_len < NLA_HDRLEN || off + a->nla_len > end) return NULL;
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && a->nla_len > NLA_HDRLEN) {
      const char *s = (const char *)a + NLA_HDRLEN;
      return memchr(s, 0, a->nla_len - NLA_HDRLEN) ? s : NULL;
    }
    off += NLA_ALIGN(a->nla_len);
  }
  return NULL;
}

typedef struct {
  napi_env env;
  napi_value array;     // the Int32Array returned
  napi_value texts;     // its `texts` property, made at the first explained failure
  int32_t *result;      // the array's elements: -1 until the message's ack arrives
  const uint8_t *req;
  const uint32_t *seq;  // each message's nlmsg_seq
} exchange_t;

static void note_text(exchange_t *x, long i, const char *text) {
  if (!x->texts) {
    napi_create_object(x->env, &x->texts);
    napi_set_named_property(x->env, x->array, "texts", x->texts);
  }
  napi_value s;
  napi_create_string_utf8(x->env, text, NAPI_AUTO_LENGTH, &s);
  napi_set_element(x->env, x->texts, (uint32_t)i, s);
}

/**
 * Reads acks until messages [lo, hi) have all been answered; 0, or -1 with errno. Acks are
 * matched by nlmsg_seq (to the first message of the chunk with that seq still unanswered);
 * anything else — replies, messages not from the kernel, unknown seqs — is skipped.
 */
static int read_acks(int fd, exchange_t *x, long lo, long hi) {
  uint8_t buf[16384] __attribute__((aligned(4)));
  long pending = hi - lo, cursor = lo;
  while (pending > 0) {
    struct sockaddr_nl from;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t got = recvmsg(fd, &mh, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) errno = ETIMEDOUT;  // SO_RCVTIMEO ran out
      return -1;
    }
    if (mh.msg_flags & MSG_TRUNC) { errno = EMSGSIZE; return -1; }
    if (from.nl_pid != 0) continue;  // not the kernel
    size_t left = (size_t)got;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) continue;
      long i = -1;
      // Acks come in request order, so the cursor is almost always right; else search the chunk.
      if (cursor < hi && x->seq[cursor] == h->nlmsg_seq && x->result[cursor] == -1) i = cursor;
      for (long j = lo; i < 0 && j < hi; j++) if (x->seq[j] == h->nlmsg_seq && x->result[j] == -1) i = j;
      if (i < 0) continue;
      const struct nlmsgerr *err = NLMSG_DATA(h);
      x->result[i] = err->error < 0 ? -err->error : err->error;
      if (x->result[i] != 0) {
        const char *text = ext_ack_text(h);
        if (text && text[0]) note_text(x, i, text);
      }
      pending--;
      cursor = i + 1;
    }
  }
  return 0;
}

static int send_all(int fd, const uint8_t *data, size_t len) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  struct iovec iov = {(void *)data, len};
  struct msghdr mh = {.msg_name = &kernel, .msg_namelen = sizeof kernel, .msg_iov = &iov, .msg_iovlen = 1};
  for (;;) {
    ssize_t sent = sendmsg(fd, &mh, 0);
    if (sent >= 0) {
      if ((size_t)sent == len) return 0;
      errno = EMSGSIZE;  // a datagram goes whole or not at all
      return -1;
    }
    if (errno != EINTR) return -1;
  }
}

/** Sends messages [0, n) at offsets off[] in chunks and reads their acks; 0, or -1 with errno and *what. */
static int run(int fd, exchange_t *x, const size_t *off, long n, size_t total, long max_acks, bool stop_at_error, const char **what) {
  for (long lo = 0; lo < n;) {
    long hi = lo + 1;
    if (!stop_at_error) {
      while (hi < n && hi - lo < max_acks && (hi + 1 < n ? off[hi + 1] : total) - off[lo] <= CHUNK_BYTES) hi++;
    }
    size_t end = hi < n ? off[hi] : total;
    if (send_all(fd, x->req + off[lo], end - off[lo]) < 0) { *what = "netlink send in"; return -1; }
    if (read_acks(fd, x, lo, hi) < 0) { *what = "netlink receive in"; return -1; }
    if (stop_at_error && x->result[lo] != 0) return 0;  // the rest stay -1: not sent
    lo = hi;
  }
  return 0;
}

static napi_value exchange(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[4096];
  size_t path_len = 0;
  void *req = NULL;
  size_t len = 0;
  bool is_buffer = false, stop_at_error = false;
  napi_valuetype t3 = napi_undefined;
  if (argc < 2 || argc > 3 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_len) != napi_ok || path_len == 0 ||
      path_len >= sizeof path - 1 || napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[1], &req, &len) != napi_ok ||
      (argc == 3 && (napi_typeof(env, argv[2], &t3) != napi_ok ||
                     (t3 != napi_undefined && (t3 != napi_boolean || napi_get_value_bool(env, argv[2], &stop_at_error) != napi_ok))))) {
    napi_throw_type_error(env, NULL, "exchange(nsPath: string, request: Buffer, stopAtError?: boolean)");
    return NULL;
  }
  long n = count_messages(req, len);
  if (n < 0) {
    throw_errno(env, "netlink request: not whole, 4-byte aligned messages that each carry NLM_F_REQUEST | NLM_F_ACK, for", path, EINVAL);
    return NULL;
  }
  exchange_t x = {.env = env, .req = req};
  napi_value ab;
  void *data = NULL;
  if (napi_create_arraybuffer(env, (size_t)n * sizeof(int32_t), &data, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_int32_array, (size_t)n, ab, 0, &x.array) != napi_ok) {
    throw_errno(env, "netlink answer for", path, ENOMEM);
    return NULL;
  }
  if (n == 0) return x.array;
  x.result = data;
  size_t *off = malloc((size_t)n * sizeof *off);
  uint32_t *seq = malloc((size_t)n * sizeof *seq);
  if (!off || !seq) {
    free(off);
    free(seq);
    throw_errno(env, "netlink request for", path, ENOMEM);
    return NULL;
  }
  for (long i = 0, o = 0; i < n; i++) {
    const struct nlmsghdr *h = (const struct nlmsghdr *)((const uint8_t *)req + o);
    off[i] = (size_t)o;
    seq[i] = h->nlmsg_seq;
    x.result[i] = -1;
    o += NLMSG_ALIGN(h->nlmsg_len);
  }
  x.seq = seq;
  const char *what = NULL;
  int fd = socket_in(path, &what), e = errno;
  long max_acks = fd < 0 ? -1 : prepare(fd);
  if (fd >= 0 && max_acks < 0) { e = errno; what = "netlink socket options in"; }
  if (max_acks > 0 && run(fd, &x, off, n, len, max_acks, stop_at_error, &what) < 0) { e = errno; max_acks = -1; }
  if (fd >= 0) close(fd);
  free(off);
  free(seq);
  if (fd < 0 || max_acks < 0) {
    throw_errno(env, what, path, e);
    return NULL;
  }
  return x.array;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"exchange", NULL, exchange, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
