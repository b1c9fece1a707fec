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
    }
  ]
}
