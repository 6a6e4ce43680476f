// whippet_napi: copying JS strings into C for the layers above (see whippet_napi.h).

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "whippet_napi.h"

char **split_vector(napi_env env, napi_value str, uint32_t count, char **buffer) {
  size_t len;
  *buffer = NULL;
  if (napi_get_value_string_utf8(env, str, NULL, 0, &len) != napi_ok) return NULL;
  char *buf = malloc(len + 1);
  char **vec = malloc((count + 1) * sizeof(char *));
  if (buf == NULL || vec == NULL) goto fail;
  if (napi_get_value_string_utf8(env, str, buf, len + 1, &len) != napi_ok) goto fail;
  char *p = buf, *end = buf + len;
  for (uint32_t i = 0; i < count; i++) {
    if (p > end) goto fail;
    vec[i] = p;
    p += strlen(p) + 1;
  }
  vec[count] = NULL;
  *buffer = buf;
  return vec;
fail:
  free(buf);
  free(vec);
  return NULL;
}

char *copy_string(napi_env env, napi_value v) {
  size_t len;
  char *s;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || (s = malloc(len + 1)) == NULL) return NULL;
  if (napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    return NULL;
  }
  return s;
}

napi_value errno_value(napi_env env, int err) {
  bool pending = false;
  napi_value result;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &result);
  return napi_create_int32(env, err, &result) == napi_ok ? result : NULL;
}
