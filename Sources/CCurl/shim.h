#ifndef WORKOS_DSYNC_CCURL_SHIM_H
#define WORKOS_DSYNC_CCURL_SHIM_H

#include <curl/curl.h>

/* libcurl's curl_easy_setopt / curl_easy_getinfo are variadic, which Swift
   cannot call. One typed wrapper per argument kind, prefixed dsync_. */

static inline CURLcode dsync_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode dsync_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode dsync_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode dsync_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*dsync_curl_write_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode dsync_curl_easy_setopt_write_function(CURL *handle, CURLoption option, dsync_curl_write_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

static inline CURLcode dsync_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode dsync_curl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
