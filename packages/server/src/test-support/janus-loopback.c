/*
 * Preloaded into Janus (LD_PRELOAD) by the tests (test-support/janus.ts) and the benchmarks
 * (bench/lib/janus.mjs). Janus never gathers ICE candidates on a loopback interface:
 * janus_ice_setup_local (ice.c) skips every interface flagged IFF_LOOPBACK before it even
 * looks at `ice_enforce_list`. Tests and benchmarks keep all their traffic on 127.0.0.1, so
 * this wrapper of getifaddrs(3) clears that flag: with
 * `ice_enforce_list = "127.0.0.1"`, Janus then gathers on 127.0.0.1 and nowhere else.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stddef.h>

int getifaddrs(struct ifaddrs **list) {
  static int (*real)(struct ifaddrs **);
  if (real == NULL) real = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");
  int status = real(list);
  if (status == 0)
    for (struct ifaddrs *ifa = *list; ifa != NULL; ifa = ifa->ifa_next) ifa->ifa_flags &= ~IFF_LOOPBACK;
  return status;
}
