{
  "targets": [
    {
      "target_name": "whippet_spawn",
      "sources": ["whippet_addon.c", "whippet_run.c", "whippet_streams.c", "whippet_napi.c", "whippet_spawn.c", "whippet_clone.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-Wl,-z,now"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    }
  ]
}
