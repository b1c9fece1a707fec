{
  "targets": [
    {
      "target_name": "tswarm_bpf",
      "sources": ["native/bpf.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-O2"]
    },
    {
      "target_name": "tswarm_spawn",
      "sources": ["native/spawn.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-O2", "-pthread"],
      "ldflags": ["-pthread"]
    },
    {
      "target_name": "tswarm_netlink",
      "sources": ["native/netlink.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-O2"]
    }
  ]
}
