/* -----------------------------------------------------------------------------
 * File: c/maas.h
 * -----------------------------------------------------------------------------
 *
 * The maas C API: one predict call for a model that runs in-process (from a
 * maas model file, sizes read at run time), on an inference server (URL +
 * model name), or on a server with a local fallback, callable
 * from C, Fortran (fortran/maas.f90), or any language with a C FFI. Link the
 * compiled library `maas::c` (CMake) or `maas-c` (pkg-config).
 *
 * The ABI carries no C++ type and no exception: models are opaque handles,
 * every fallible function returns a status code (`MAAS_OK` = 0, otherwise one
 * of the `MAAS_*` codes below, the same numbers as absl::StatusCode and
 * google.rpc.Code) and leaves a message retrievable with
 * `maas_last_error()`. Bad input (a null handle or pointer, negative or
 * mismatched sizes) is a status, never a crash; on any failure the caller's
 * output array is left untouched.
 *
 * Arrays are dense and row-major: `rows` samples of `input_size` values each
 * (C `x[rows][input_size]`), which is also a Fortran `x(input_size, rows)`
 * array (one sample per column) with no copy. Predict takes the shape of
 * both arrays, [rows, columns] each.
 *
 * Example:
 *
 *   maas_model* model = NULL;
 *   if (maas_model_load_local("drag.json", &model) != MAAS_OK) {
 *     fprintf(stderr, "%s\n", maas_last_error());
 *     return 1;
 *   }
 *   double x[2] = {1.0, 3.0}, y[2];
 *   int rc = maas_model_predict_f64(model, x, 2, 1, y, 2, 1);
 *   if (rc != MAAS_OK) fprintf(stderr, "%s: %s\n", maas_status_name(rc),
 *                              maas_last_error());
 *   maas_model_free(model);
 *
 * Thread safety: a model handle may be used by many threads at once
 * (predict, sizes); `maas_model_free` must not race with any other use of
 * the same handle. `maas_last_error()` is per thread.
 */
#ifndef MAAS_C_MAAS_H_
#define MAAS_C_MAAS_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#if defined(MAAS_C_BUILDING)
#define MAAS_C_API __declspec(dllexport)
#else
#define MAAS_C_API
#endif
#else
#define MAAS_C_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* maas_model
 *
 * An opaque model handle: a local network or a remote model. Created by
 * `maas_model_load_local()`, `maas_model_connect_remote()` or
 * `maas_model_fallback()`, released by `maas_model_free()`. */
typedef struct maas_model maas_model;

/* Status codes returned by every fallible function (absl::StatusCode). */
enum maas_status_code {
  MAAS_OK = 0,
  MAAS_CANCELLED = 1,
  MAAS_UNKNOWN = 2,
  MAAS_INVALID_ARGUMENT = 3,   /* bad handle, pointer, size, or model file */
  MAAS_DEADLINE_EXCEEDED = 4,  /* a server timed out */
  MAAS_NOT_FOUND = 5,          /* no such model file / model on the server */
  MAAS_ALREADY_EXISTS = 6,
  MAAS_PERMISSION_DENIED = 7,
  MAAS_RESOURCE_EXHAUSTED = 8, /* out of memory, server overloaded (429) */
  MAAS_FAILED_PRECONDITION = 9,
  MAAS_ABORTED = 10,
  MAAS_OUT_OF_RANGE = 11,
  MAAS_UNIMPLEMENTED = 12,     /* a model the C API cannot drive */
  MAAS_INTERNAL = 13,
  MAAS_UNAVAILABLE = 14,       /* server down or unreachable */
  MAAS_DATA_LOSS = 15,         /* a reply that does not decode */
  MAAS_UNAUTHENTICATED = 16
};

/* maas_version()
 *
 * The library's version, e.g. "0.1.0". Never fails. */
MAAS_C_API const char* maas_version(void);

/* maas_status_name()
 *
 * The name of a status code ("OK", "INVALID_ARGUMENT", ...), or "UNKNOWN"
 * for a number that is not one. Never fails; the string is static. */
MAAS_C_API const char* maas_status_name(int code);

/* maas_last_error()
 *
 * The message of the last maas call made by this thread: "" after a call
 * that succeeded. The pointer stays valid until this thread's next maas
 * call. Never fails. */
MAAS_C_API const char* maas_last_error(void);

/* maas_last_error_copy()
 *
 * Copies the message of `maas_last_error()` into `buffer` (of `size` bytes),
 * truncated and always NUL-terminated when `size` > 0. Returns the full
 * length of the message (without the NUL), so a return value >= size means
 * it was truncated. For languages that prefer to own the memory (Fortran).
 * Does not change the last error. */
MAAS_C_API size_t maas_last_error_copy(char* buffer, size_t size);

/* maas_model_load_local()
 *
 * A local network from the maas model file at `path` (docs/model-format.md),
 * for which `*model` receives a new handle. The layer list and sizes come
 * from the file at run time: the network is a `maas::DynamicNetwork` running
 * the same SIMD kernels as the compile-time `maas::Network`, in FP64 when the
 * file's input datatype is FP64 and in FP32 otherwise. Predict on it does not
 * allocate (when the array type is the model's) and runs on the calling
 * thread.
 *
 * Fails with MAAS_NOT_FOUND / MAAS_PERMISSION_DENIED for a file that cannot
 * be read and MAAS_INVALID_ARGUMENT for one that is not a valid model file
 * (the message names the file, the layer and the numbers). On failure
 * `*model` is set to NULL. */
MAAS_C_API int maas_model_load_local(const char* path, maas_model** model);

/* maas_model_load_local_text()
 *
 * As `maas_model_load_local()`, from the `length` bytes of model-file text at
 * `text` (e.g. a model compiled into the program); `source` (may be NULL)
 * names it in messages. */
MAAS_C_API int maas_model_load_local_text(const char* text, size_t length, const char* source,
                                          maas_model** model);

/* maas_model_connect_remote()
 *
 * A model named `model_name` on the inference server at `base_url`
 * ("http://host:port" or "https://..."), for which `*model` receives a new
 * handle. `protocol` is "v2" (KServe V2 / Open Inference Protocol, JSON;
 * also when NULL or ""), "v2-binary" (V2 with the binary tensor extension)
 * or "v1" (TensorFlow Serving REST). `timeout_seconds` > 0 bounds every
 * call to the server; 0 keeps the transport's defaults.
 *
 * Fetches the model's metadata at once, so an unreachable server or an
 * unknown model fails here (MAAS_UNAVAILABLE, MAAS_NOT_FOUND, ...) rather
 * than at the first predict. The model must have one input and one output,
 * each FP32 or FP64 of shape [-1, n] (else MAAS_UNIMPLEMENTED). On failure
 * `*model` is set to NULL. */
MAAS_C_API int maas_model_connect_remote(const char* base_url, const char* model_name,
                                         const char* protocol, double timeout_seconds,
                                         maas_model** model);

/* maas_model_fallback()
 *
 * A fallback chain: `*chain` receives a new handle that answers from
 * `*primary` (typically a remote model) and, when that fails for a reason a
 * fallback can help with (server down or overloaded, timeout, a reply that
 * does not decode), from `*fallback` (typically a local model) within the
 * same call. Caller errors (wrong sizes) are never hidden by falling back.
 * See include/maas/resilience/fallback.h for the exact rules.
 *
 * Takes ownership of both handles: on success `*primary` and `*fallback` are
 * set to NULL (freeing them afterwards is then a harmless no-op), and
 * freeing `*chain` frees both models. On failure (MAAS_INVALID_ARGUMENT for
 * null arguments, MAAS_FAILED_PRECONDITION when the two models' inputs and
 * outputs do not fit each other) nothing changes hands and `*chain` is NULL. */
MAAS_C_API int maas_model_fallback(maas_model** primary, maas_model** fallback,
                                   maas_model** chain);

/* maas_model_input_size(), maas_model_output_size()
 *
 * The number of values per sample (row) of the model's input and output.
 * MAAS_INVALID_ARGUMENT for a null handle or pointer. */
MAAS_C_API int maas_model_input_size(const maas_model* model, int64_t* size);
MAAS_C_API int maas_model_output_size(const maas_model* model, int64_t* size);

/* maas_model_is_double()
 *
 * Sets `*is_double` to 1 when the model computes in FP64, 0 for FP32.
 * Either predict function works with either model: values are converted
 * (one copy each way) when the types differ. */
MAAS_C_API int maas_model_is_double(const maas_model* model, int* is_double);

/* maas_model_predict_f32(), maas_model_predict_f64()
 *
 * Runs the model on `x_rows` samples: `x` holds x_rows x `x_cols` values and
 * `y` receives y_rows x `y_cols` values, both row-major. The shapes of both
 * arrays are given so that every mismatch is caught: `x_cols` and `y_cols`
 * must equal the model's input and output sizes, and `y_rows` must equal
 * `x_rows`. Zero rows is a no-op (the arrays may then be NULL).
 *
 * Fails with MAAS_INVALID_ARGUMENT for a null handle, a null array with
 * rows > 0, negative or mismatched sizes; a remote model adds the server's
 * codes (MAAS_UNAVAILABLE, MAAS_DEADLINE_EXCEEDED, ...). On failure `y` is
 * untouched. A local model does not allocate when the array type is the
 * model's. */
MAAS_C_API int maas_model_predict_f32(maas_model* model, const float* x, int64_t x_rows,
                                      int64_t x_cols, float* y, int64_t y_rows,
                                      int64_t y_cols);
MAAS_C_API int maas_model_predict_f64(maas_model* model, const double* x, int64_t x_rows,
                                      int64_t x_cols, double* y, int64_t y_rows,
                                      int64_t y_cols);

/* maas_model_free()
 *
 * Releases a handle; NULL is a no-op. The handle must not be used after. */
MAAS_C_API void maas_model_free(maas_model* model);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MAAS_C_MAAS_H_ */
