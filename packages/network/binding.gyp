{
  "targets": [
    {
      "target_name": "tswarm_bpf",
      "sources": ["native/bpf.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-O2"]
    }
  ]
}
