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

typedef int (*dsync_curl_xferinfo_callback)(void *context, curl_off_t download_total, curl_off_t download_now,
                                            curl_off_t upload_total, curl_off_t upload_now);

static inline CURLcode dsync_curl_easy_setopt_xferinfo_function(CURL *handle, dsync_curl_xferinfo_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

static inline CURLcode dsync_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/* CURL_GLOBAL_ALL is a macro expression Swift does not import. */
static inline CURLcode dsync_curl_global_init_all(void) {
    return curl_global_init(CURL_GLOBAL_ALL);
}

static inline long dsync_curl_error_size(void) {
    return CURL_ERROR_SIZE;
}

#endif
