{
  "targets": [
    {
      "target_name": "udp_batch",
      "conditions": [
        ["OS=='linux'", { "sources": ["udp_batch.c"], "cflags": ["-O2", "-Wall", "-Wextra"] }]
      ]
    }
  ]
}
