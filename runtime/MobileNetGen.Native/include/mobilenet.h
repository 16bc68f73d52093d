/*
 * mobilenet.h: the C ABI of MobileNetGen's native library (runtime/MobileNetGen.Native, NativeAOT).
 *
 * One library holds ONE MobileNet v1 variant, chosen at build time (default 0.25_224, Google's float weights), with its
 * weights compiled in: no model file, no .NET runtime to install. Build (docs/native.md):
 *   dotnet publish runtime/MobileNetGen.Native -c Release -r linux-x64 -p:NativeLib=Shared   -> libmobilenet.so
 *   dotnet publish runtime/MobileNetGen.Native -c Release -r linux-x64 -p:NativeLib=Static   -> libmobilenet.a
 *
 * Conventions
 *  - Functions that can fail return an mng_status (MNG_OK = 0). On failure, mng_last_error() gives a message.
 *  - No C++ or .NET exception ever crosses this boundary: every entry point catches everything.
 *  - Strings returned by the library (labels, names, version, errors) are NUL-terminated UTF-8 owned by the library;
 *    never free them. Labels, names and the version live as long as the process.
 *  - Images are 8-bit RGB24 (R,G,B per pixel) or BGRA32 (B,G,R,A; alpha ignored), rows `stride` bytes apart
 *    (stride >= width * bytes per pixel), any size from 1x1 to 32768x32768. Preprocessing is TF-slim's:
 *    central crop of 87.5 % of each side, bilinear resize to the model's input, scale to [-1, 1].
 *
 * Thread safety
 *  - A handle owns one classifier instance (its own workspace). Use one handle per thread: handles are fully
 *    independent and may run in parallel (they share the read-only weights). Using the SAME handle from two threads at
 *    once is refused with MNG_E_BUSY (never a data race inside the library), but it is the caller's job to avoid it.
 *  - mng_version, mng_model_info, mng_label and mng_last_error may be called from any thread at any time.
 *  - The first call into the library initialises the .NET runtime (a few milliseconds); it is thread-safe.
 */
#ifndef MOBILENET_H
#define MOBILENET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes. */
typedef enum mng_status {
    MNG_OK = 0,
    MNG_E_NULL = 1,             /* a required pointer (handle, pixels, output) is NULL */
    MNG_E_ARGUMENT = 2,         /* an argument is invalid (e.g. a destroyed handle, a label index out of range) */
    MNG_E_BUFFER_TOO_SMALL = 3, /* pixels_length < stride*(height-1) + width*bpp, or embeddings capacity < feature size */
    MNG_E_DIMENSIONS = 4,       /* width or height outside 1..32768, or the image spans more than 2 GiB */
    MNG_E_STRIDE = 5,           /* stride < width * bytes per pixel (3 for RGB24, 4 for BGRA32) */
    MNG_E_K_RANGE = 6,          /* k outside 1..num_classes */
    MNG_E_BUSY = 7,             /* the handle is being used by another thread right now */
    MNG_E_INTERNAL = 100        /* unexpected failure inside the library (message in mng_last_error) */
} mng_status;

/* One prediction. `index` is the TF-slim ImageNet index: 0 = background, 1..1000 the ILSVRC-2012 classes (the same for
 * 1001-class TF-slim models and the 1000-class Keras 0.75_224 model). `label` is static, owned by the library. */
typedef struct mng_prediction {
    int32_t index;
    float probability;
    const char* label;
} mng_prediction;

/* Build-time facts about the compiled-in model. All strings are static. */
typedef struct mng_info {
    const char* name;         /* weights entry, e.g. "mobilenet_v1_0.25_224" */
    const char* variant;      /* "0.25_224" */
    float alpha;              /* width multiplier: 0.25, 0.5, 0.75 or 1.0 */
    int32_t resolution;       /* input side in pixels: 128, 160, 192 or 224 */
    int32_t num_classes;      /* model outputs: 1001 (TF-slim, with background) or 1000 (Keras) */
    int32_t feature_size;     /* length of the embeddings vector: 1024 * alpha */
    const char* weights_kind; /* "genuine-float", "genuine-8bit", "genuine-uint8" (Google's quantized network, integer
                                 arithmetic) or "synthetic" (speed only, no accuracy) */
    int64_t macs;             /* multiply-accumulates per image */
    int64_t parameters;
    int64_t weight_bytes;     /* bytes of weights embedded in the library */
    const char* simd;         /* SIMD path a new handle uses on this CPU: "Vector512", "Vector256", "Vector128", "Scalar" */
} mng_info;

/* Opaque classifier handle. */
typedef struct mng_handle mng_handle;

/* Library version, e.g. "0.1.0". Never NULL. */
const char* mng_version(void);

/* Fills *info. Returns MNG_OK, or MNG_E_NULL if info is NULL. */
int32_t mng_model_info(mng_info* info);

/* Creates a classifier (allocates its workspace: about 2.2 MB for 0.25_224). Returns MNG_OK and sets *handle, or an
 * error (MNG_E_NULL if handle is NULL; *handle is set to NULL on failure). Free it with mng_destroy. */
int32_t mng_create(mng_handle** handle);

/* Frees a handle. NULL is ignored. A handle must not be used after (or while) it is destroyed. */
void mng_destroy(mng_handle* handle);

/* SIMD path of a handle ("Vector256", ...), static string; NULL on a NULL or invalid handle. */
const char* mng_simd(mng_handle* handle);

/* Classifies an RGB24 image and writes the k most probable classes, best first, to out[0..k-1].
 *   pixels_length: bytes readable at `pixels`; must be >= stride*(height-1) + width*3.
 *   k: 1..num_classes (out must hold k entries).
 * Returns MNG_OK, MNG_E_NULL (handle, pixels or out NULL), MNG_E_DIMENSIONS, MNG_E_STRIDE, MNG_E_BUFFER_TOO_SMALL,
 * MNG_E_K_RANGE, MNG_E_ARGUMENT (invalid handle), MNG_E_BUSY or MNG_E_INTERNAL. Allocates nothing. */
int32_t mng_classify_rgb24(mng_handle* handle, const uint8_t* pixels, size_t pixels_length,
                           int32_t width, int32_t height, int32_t stride, int32_t k, mng_prediction* out);

/* As mng_classify_rgb24 for BGRA32 pixels (4 bytes per pixel, alpha ignored): pixels_length >= stride*(height-1) + width*4. */
int32_t mng_classify_bgra32(mng_handle* handle, const uint8_t* pixels, size_t pixels_length,
                            int32_t width, int32_t height, int32_t stride, int32_t k, mng_prediction* out);

/* Copies the pooled feature vector of the handle's last classification (feature_size floats; zeros before the first)
 * to out. Returns MNG_OK, MNG_E_NULL, MNG_E_BUFFER_TOO_SMALL (capacity < feature_size), MNG_E_ARGUMENT or MNG_E_BUSY. */
int32_t mng_embeddings(mng_handle* handle, float* out, int32_t capacity);

/* Label of a TF-slim ImageNet index 0..1000 (0 = "background"); static string. NULL (and MNG_E_ARGUMENT in
 * mng_last_error) for an index out of range. */
const char* mng_label(int32_t index);

/* Label of model output 0..num_classes-1, whatever the head: the ImageNet label for Google's models, the model's own
 * label for a custom (fine-tuned) head, "class N" when it has none. Static string; NULL (and MNG_E_ARGUMENT in
 * mng_last_error) for an index out of range. */
const char* mng_output_label(int32_t output);

/* Message of the last failed call on THIS thread (thread-local), "" if none failed yet. Not cleared by successful
 * calls. Valid until the next failing call on the same thread. Never NULL. (Each thread that sees an error gets a
 * 1 KiB message buffer, kept until the process exits.) */
const char* mng_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* MOBILENET_H */
