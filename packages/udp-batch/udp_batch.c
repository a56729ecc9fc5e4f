/*
 * Batched UDP for the DNS resolver, on Linux.
 *
 * Node's dgram socket costs a system call, a JavaScript call and two objects (the message and its
 * sender) for every datagram, and a system call for every answer: at DNS rates that is most of a
 * core. Here, when the socket is readable, recvmmsg(2) takes up to SLOTS datagrams at once into an
 * arena JavaScript shares, one JavaScript call answers the whole batch into a second arena, and
 * sendmmsg(2) sends every answer back to its sender at once. Senders' addresses never leave C:
 * an answer names the slot of its query.
 *
 * Layout shared with JavaScript (see packages/server/src/netguard/udp-batch.ts):
 *   recv arena: SLOTS slots of SLOT_SIZE bytes, datagram i at i * SLOT_SIZE;
 *   meta (Int32Array, META_STRIDE per slot): length (-1 when the datagram was larger than a slot),
 *     port, family (4 or 6; IPv4-mapped IPv6 senders are given as 4), then the address's 4 or 16
 *     bytes in network order;
 *   send arena: answers anywhere in it;
 *   send meta (Int32Array, 3 per answer): slot of the query answered, offset, length.
 * The callback gets the number of datagrams and returns the number of answers.
 *
 * Exports: open(host, port, recv, meta, send, sendMeta, onBatch) -> handle; port(handle);
 * sendTo(handle, buffer, address, port) -> 0 or a negative errno; failures(handle);
 * close(handle, onClosed);
 * and the constants SLOTS, SLOT_SIZE, META_STRIDE.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define SLOTS 64
#define SLOT_SIZE 4096
#define META_STRIDE 8
/* Batches read per readiness event before the event loop gets its turn (timers, TCP, upstream). */
#define ROUNDS 8
#define SOCKET_BUFFER (4 * 1024 * 1024)

typedef struct {
  uv_poll_t poll;
  int fd;
  int family;
  int closing;
  napi_env env;
  napi_ref callback;
  napi_ref arenas[4];
  napi_async_context async;
  unsigned char *recv;
  int32_t *meta;
  unsigned char *send;
  int32_t *send_meta;
  size_t send_size;
  double failures;
  struct mmsghdr rmsg[SLOTS];
  struct iovec riov[SLOTS];
  struct sockaddr_storage names[SLOTS];
  struct mmsghdr smsg[SLOTS];
  struct iovec siov[SLOTS];
} udp_socket;

#define CHECK(env, call)                                                                  \
  do {                                                                                     \
    if ((call) != napi_ok) {                                                               \
      napi_throw_error((env), "ERR_UDP_BATCH", "udp-batch: " #call " failed");            \
      return NULL;                                                                         \
    }                                                                                      \
  } while (0)

static napi_value throw_errno(napi_env env, int err, const char *what) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, uv_err_name(-err), message);
  return NULL;
}

static void describe_sender(const struct sockaddr_storage *name, int32_t *m) {
  unsigned char *bytes = (unsigned char *)&m[3];
  if (name->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)name;
    m[1] = ntohs(a->sin_port);
    m[2] = 4;
    memcpy(bytes, &a->sin_addr, 4);
  } else {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)name;
    m[1] = ntohs(a->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
      m[2] = 4;
      memcpy(bytes, &a->sin6_addr.s6_addr[12], 4);
    } else {
      m[2] = 6;
      memcpy(bytes, &a->sin6_addr, 16);
    }
  }
}

/*
 * Calls the socket's callback with `argc` arguments, in the caller's handle scope; true when it
 * returned. A throw becomes an uncaught exception, as from any other event of the loop.
 */
static int make_call(udp_socket *s, size_t argc, const napi_value *argv, napi_value *result) {
  napi_env env = s->env;
  napi_value callback, receiver;
  if (napi_get_reference_value(env, s->callback, &callback) != napi_ok ||
      napi_get_global(env, &receiver) != napi_ok)
    return 0;
  if (napi_make_callback(env, s->async, receiver, callback, argc, argv, result) == napi_ok) return 1;
  bool pending = false;
  napi_value error;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
      napi_get_and_clear_last_exception(env, &error) == napi_ok)
    napi_fatal_exception(env, error);
  return 0;
}

/* Hands one batch to JavaScript; returns the number of answers, or -1 when it threw. */
static int call_back(udp_socket *s, int count) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return -1;
  napi_value argument, result;
  int32_t answers = -1;
  if (napi_create_int32(env, count, &argument) != napi_ok || !make_call(s, 1, &argument, &result) ||
      napi_get_value_int32(env, result, &answers) != napi_ok)
    answers = -1;
  napi_close_handle_scope(env, scope);
  return answers;
}

static void send_answers(udp_socket *s, int received, int answers) {
  int count = 0;
  for (int i = 0; i < answers && i < SLOTS; i++) {
    const int32_t *a = s->send_meta + i * 3;
    int32_t slot = a[0], offset = a[1], length = a[2];
    if (slot < 0 || slot >= received || offset < 0 || length <= 0 ||
        (size_t)offset + (size_t)length > s->send_size) {
      s->failures++;
      continue;
    }
    s->siov[count].iov_base = s->send + offset;
    s->siov[count].iov_len = (size_t)length;
    memset(&s->smsg[count].msg_hdr, 0, sizeof(struct msghdr));
    s->smsg[count].msg_hdr.msg_iov = &s->siov[count];
    s->smsg[count].msg_hdr.msg_iovlen = 1;
    s->smsg[count].msg_hdr.msg_name = &s->names[slot];
    s->smsg[count].msg_hdr.msg_namelen = s->rmsg[slot].msg_hdr.msg_namelen;
    count++;
  }
  int sent = 0;
  while (sent < count) {
    int n = sendmmsg(s->fd, s->smsg + sent, (unsigned)(count - sent), MSG_DONTWAIT);
    if (n > 0) {
      sent += n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      /* A full send buffer or an unreachable sender: this answer is lost, as UDP allows; the
         client asks again. The rest of the batch is still sent. */
      s->failures++;
      sent++;
    }
  }
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  udp_socket *s = (udp_socket *)handle->data;
  if (status < 0 || s->closing) return;
  for (int round = 0; round < ROUNDS && !s->closing; round++) {
    for (int i = 0; i < SLOTS; i++) {
      s->riov[i].iov_base = s->recv + (size_t)i * SLOT_SIZE;
      s->riov[i].iov_len = SLOT_SIZE;
      memset(&s->rmsg[i].msg_hdr, 0, sizeof(struct msghdr));
      s->rmsg[i].msg_hdr.msg_iov = &s->riov[i];
      s->rmsg[i].msg_hdr.msg_iovlen = 1;
      s->rmsg[i].msg_hdr.msg_name = &s->names[i];
      s->rmsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    }
    int received = recvmmsg(s->fd, s->rmsg, SLOTS, MSG_DONTWAIT, NULL);
    if (received <= 0) return; /* EAGAIN: drained; other errors (ICMP reports) wait for the next event */
    for (int i = 0; i < received; i++) {
      int32_t *m = s->meta + i * META_STRIDE;
      describe_sender(&s->names[i], m);
      m[0] = (s->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)s->rmsg[i].msg_len;
    }
    int answers = call_back(s, received);
    if (s->closing) return;
    if (answers > 0) send_answers(s, received, answers);
    if (received < SLOTS) return;
  }
}

static int arena(napi_env env, napi_value value, void **data, size_t *bytes, int typed) {
  if (typed) {
    napi_typedarray_type type;
    size_t length;
    if (napi_get_typedarray_info(env, value, &type, &length, data, NULL, NULL) != napi_ok ||
        type != napi_int32_array)
      return 0;
    *bytes = length * 4;
    return 1;
  }
  return napi_get_buffer_info(env, value, data, bytes) == napi_ok;
}

static int parse_address(const char *text, int port, struct sockaddr_storage *out, socklen_t *length) {
  memset(out, 0, sizeof *out);
  struct sockaddr_in *a4 = (struct sockaddr_in *)out;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
  if (inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *length = sizeof *a4;
    return AF_INET;
  }
  if (inet_pton(AF_INET6, text, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    *length = sizeof *a6;
    return AF_INET6;
  }
  return 0;
}

/*
 * A call's arguments (up to *argc, then how many came) and the socket handle in the first; NULL,
 * with an error thrown, when there is none.
 */
static udp_socket *socket_call(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok || *argc < 1 ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "udp-batch: not a socket handle");
    return NULL;
  }
  return (udp_socket *)data;
}

static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char host[64];
  size_t host_length;
  int32_t port;
  if (argc != 7 || napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_length) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || port < 0 || port > 65535) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "udp-batch: open(host, port, recv, meta, send, sendMeta, onBatch)");
    return NULL;
  }
  struct sockaddr_storage address;
  socklen_t address_length;
  int family = parse_address(host, port, &address, &address_length);
  if (family == 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "udp-batch: the host must be an IP address");
    return NULL;
  }
  udp_socket *s = calloc(1, sizeof *s);
  if (s == NULL) return throw_errno(env, ENOMEM, "udp-batch");
  s->env = env;
  s->fd = -1;
  void *data;
  size_t bytes, recv_bytes, meta_bytes, send_meta_bytes;
  if (!arena(env, argv[2], &data, &recv_bytes, 0) || recv_bytes < (size_t)SLOTS * SLOT_SIZE) goto bad_arena;
  s->recv = data;
  if (!arena(env, argv[3], &data, &meta_bytes, 1) || meta_bytes < (size_t)SLOTS * META_STRIDE * 4) goto bad_arena;
  s->meta = data;
  if (!arena(env, argv[4], &data, &bytes, 0) || bytes == 0) goto bad_arena;
  s->send = data;
  s->send_size = bytes;
  if (!arena(env, argv[5], &data, &send_meta_bytes, 1) || send_meta_bytes < (size_t)SLOTS * 3 * 4) goto bad_arena;
  s->send_meta = data;
  napi_valuetype callback_type;
  if (napi_typeof(env, argv[6], &callback_type) != napi_ok || callback_type != napi_function) goto bad_arena;

  s->family = family;
  s->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0) {
    int err = errno;
    free(s);
    return throw_errno(env, err, "udp-batch socket");
  }
  int size = SOCKET_BUFFER, off = 0;
  /* Bursts wait in the kernel while a batch is answered (the kernel caps the size it grants). */
  setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (family == AF_INET6) setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  if (bind(s->fd, (struct sockaddr *)&address, address_length) < 0) {
    int err = errno;
    close(s->fd);
    free(s);
    return throw_errno(env, err, "udp-batch bind");
  }
  uv_loop_t *loop;
  napi_value name, handle;
  int started = napi_get_uv_event_loop(env, &loop) == napi_ok &&
                napi_create_string_utf8(env, "DNS.UDP", NAPI_AUTO_LENGTH, &name) == napi_ok &&
                napi_async_init(env, NULL, name, &s->async) == napi_ok &&
                napi_create_reference(env, argv[6], 1, &s->callback) == napi_ok &&
                uv_poll_init(loop, &s->poll, s->fd) == 0;
  if (!started) {
    close(s->fd);
    free(s);
    napi_throw_error(env, "ERR_UDP_BATCH", "udp-batch: could not watch the socket");
    return NULL;
  }
  for (int i = 0; i < 4; i++) napi_create_reference(env, argv[2 + i], 1, &s->arenas[i]);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  CHECK(env, napi_create_external(env, s, NULL, NULL, &handle));
  return handle;

bad_arena:
  free(s);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "udp-batch: arenas too small or of the wrong type");
  return NULL;
}

static napi_value local_port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  udp_socket *s = socket_call(env, info, &argc, argv);
  if (s == NULL) return NULL;
  struct sockaddr_storage address;
  socklen_t length = sizeof address;
  if (s->closing || getsockname(s->fd, (struct sockaddr *)&address, &length) < 0)
    return throw_errno(env, s->closing ? EBADF : errno, "udp-batch getsockname");
  int port = address.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&address)->sin_port)
                                          : ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
  CHECK(env, napi_create_int32(env, port, &result));
  return result;
}

/* One answer given later (after an upstream exchange): sendto(2); 0, or a negative errno. */
static napi_value send_to(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result;
  udp_socket *s = socket_call(env, info, &argc, argv);
  if (s == NULL) return NULL;
  void *data;
  size_t bytes, text_length;
  char text[64];
  int32_t port;
  struct sockaddr_storage address;
  socklen_t address_length;
  if (argc != 4 || napi_get_buffer_info(env, argv[1], &data, &bytes) != napi_ok ||
      napi_get_value_string_utf8(env, argv[2], text, sizeof text, &text_length) != napi_ok ||
      napi_get_value_int32(env, argv[3], &port) != napi_ok || port <= 0 || port > 65535 ||
      parse_address(text, port, &address, &address_length) == 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "udp-batch: sendTo(handle, buffer, address, port)");
    return NULL;
  }
  int outcome = 0;
  if (s->closing) {
    outcome = -EBADF;
  } else {
    struct sockaddr_in6 mapped;
    /* An IPv6 socket reaches an IPv4 sender through its mapped address. */
    if (address.ss_family == AF_INET && s->family == AF_INET6) {
      memset(&mapped, 0, sizeof mapped);
      mapped.sin6_family = AF_INET6;
      mapped.sin6_port = ((struct sockaddr_in *)&address)->sin_port;
      mapped.sin6_addr.s6_addr[10] = 0xff;
      mapped.sin6_addr.s6_addr[11] = 0xff;
      memcpy(&mapped.sin6_addr.s6_addr[12], &((struct sockaddr_in *)&address)->sin_addr, 4);
      memcpy(&address, &mapped, sizeof mapped);
      address_length = sizeof mapped;
    }
    if (sendto(s->fd, data, bytes, MSG_DONTWAIT, (struct sockaddr *)&address, address_length) < 0) {
      outcome = -errno;
      s->failures++;
    }
  }
  CHECK(env, napi_create_int32(env, outcome, &result));
  return result;
}

static napi_value failures(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  udp_socket *s = socket_call(env, info, &argc, argv);
  if (s == NULL) return NULL;
  CHECK(env, napi_create_double(env, s->failures, &result));
  return result;
}

/* The socket is closed once libuv lets go of it: only then may its port be bound again. */
static void on_closed(uv_handle_t *handle) {
  udp_socket *s = (udp_socket *)handle->data;
  close(s->fd);
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_value result;
  if (napi_open_handle_scope(env, &scope) == napi_ok) {
    make_call(s, 0, NULL, &result);
    napi_close_handle_scope(env, scope);
  }
  napi_delete_reference(env, s->callback);
  napi_async_destroy(env, s->async);
  free(s);
}

/* close(handle, onClosed): onClosed is called once the port is free. */
static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  udp_socket *s = socket_call(env, info, &argc, argv);
  if (s == NULL || s->closing) return NULL;
  napi_valuetype type;
  if (argc != 2 || napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "udp-batch: close(handle, onClosed)");
    return NULL;
  }
  s->closing = 1;
  uv_poll_stop(&s->poll);
  napi_delete_reference(env, s->callback);
  for (int i = 0; i < 4; i++) napi_delete_reference(env, s->arenas[i]);
  CHECK(env, napi_create_reference(env, argv[1], 1, &s->callback));
  uv_close((uv_handle_t *)&s->poll, on_closed);
  return NULL;
}

static int export_function(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value value;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &value) == napi_ok &&
         napi_set_named_property(env, exports, name, value) == napi_ok;
}

static int export_int(napi_env env, napi_value exports, const char *name, int32_t number) {
  napi_value value;
  return napi_create_int32(env, number, &value) == napi_ok &&
         napi_set_named_property(env, exports, name, value) == napi_ok;
}

NAPI_MODULE_INIT() {
  if (!export_function(env, exports, "open", open_socket) || !export_function(env, exports, "port", local_port) ||
      !export_function(env, exports, "sendTo", send_to) || !export_function(env, exports, "failures", failures) ||
      !export_function(env, exports, "close", close_socket) || !export_int(env, exports, "SLOTS", SLOTS) ||
      !export_int(env, exports, "SLOT_SIZE", SLOT_SIZE) || !export_int(env, exports, "META_STRIDE", META_STRIDE))
    return NULL;
  return exports;
}
