/*
 * mobilenet.h: the C ABI of MobileNetGen's native library (runtime/MobileNetGen.Native, NativeAOT).
 *
 * One library holds ONE MobileNet v1 variant, chosen at build time (default 0.25_224, Google's float weights), with its
 * weights compiled in: no model file, no .NET runtime to install. Build (docs/native.md):
 *   dotnet publish runtime/MobileNetGen.Native -c Release -r linux-x64 -p:NativeLib=Shared   -> libmobilenet.so
 *   dotnet publish runtime/MobileNetGen.Native -c Release -r linux-x64 -p:NativeLib=Static   -> libmobilenet.a
 *
 * The library also holds Google's SSD MobileNet v1 COCO object detector (uint8, alpha 0.75, 300x300 input, 90 COCO
 * classes; the mng_detector_* and mng_detect_* functions below), unless built with -p:MobileNetDetector=false:
 *   -p:MobileNetDetector=true  (default)  classifier + detector: the detector adds about 5.4 MB to libmobilenet.so
 *                                          (4.2 MB of weights, 1.2 MB of code; x64 0.25_224: 3.4 MB -> 8.8 MB)
 *   -p:MobileNetDetector=false            classifier only; every detector function then returns MNG_E_NOT_BUILT
 *                                          (mng_detection_label returns NULL) and mng_last_error() says so.
 * The choice does not change the ABI: a program built against this header links with either library and can test
 * for the detector at run time with mng_detector_model_info().
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
 *  - mng_version, mng_model_info, mng_label, mng_output_label, mng_detector_model_info, mng_detection_label and
 *    mng_last_error may be called from any thread at any time.
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
    MNG_E_ARGUMENT = 2,         /* an argument is invalid (e.g. a destroyed handle, a classifier handle given to a
                                   detector function or the reverse, a label index out of range, threads out of range) */
    MNG_E_BUFFER_TOO_SMALL = 3, /* pixels_length < stride*(height-1) + width*bpp, embeddings capacity < feature size, or
                                   detection capacity < max_detections */
    MNG_E_DIMENSIONS = 4,       /* width or height outside 1..32768, or the image spans more than 2 GiB */
    MNG_E_STRIDE = 5,           /* stride < width * bytes per pixel (3 for RGB24, 4 for BGRA32) */
    MNG_E_K_RANGE = 6,          /* k outside 1..num_classes */
    MNG_E_BUSY = 7,             /* the handle is being used by another thread right now */
    MNG_E_NOT_BUILT = 8,        /* the library was built without the detector (-p:MobileNetDetector=false) */
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

/* ----- Object detection (SSD MobileNet v1 COCO) -------------------------------------------------------------------------
 *
 * The whole frame is resized to the detector's 300x300 input (bilinear, no crop, as TensorFlow Lite's Task Library
 * does), the uint8 network runs (every output equal to TFLite's reference kernels), and TFLite's
 * TFLite_Detection_PostProcess (box decoding, class-agnostic non-maximum suppression, IoU 0.6) gives at most
 * max_detections (10) detections, best first. Images: RGB24 or BGRA32 as above, 1x1 to 32768x32768.
 * Thread safety as for classifier handles: one mng_detector per thread; the same detector on two threads at once is
 * refused with MNG_E_BUSY. */

/* One detection. The box is in pixels of the image passed in (floats, not rounded or clamped: SSD boxes may reach past
 * the image edge): left/top the near edges, right/bottom the far ones. `class_index` is TFLite's detection_classes
 * value, 0-based without background (0 = person, 16 = cat, 17 = dog; line class_index + 1 of TFLite's COCO
 * labelmap.txt, whose line 0 is "???"). `score` is TFLite's detection_scores value (0..1). `label` is the COCO label
 * ("cat"): static UTF-8, owned by the library, valid as long as the library is loaded (never free it). */
typedef struct mng_detection {
    float left, top, right, bottom;
    int32_t class_index;
    float score;
    const char* label;
} mng_detection;

/* Build-time facts about the compiled-in detector. All strings are static. */
typedef struct mng_detector_info {
    const char* name;       /* weights entry: "ssd_mobilenet_v1_0.75_300_coco_quant" */
    const char* variant;    /* "0.75_300_quant" */
    float alpha;            /* backbone width multiplier: 0.75 */
    int32_t input_width;    /* 300 */
    int32_t input_height;   /* 300 */
    int32_t num_classes;    /* class score columns, background included: 91 (class_index is 0..num_classes-2) */
    int32_t num_anchors;    /* 1917 */
    int32_t max_detections; /* the most one call returns (10): the `capacity` mng_detect_* need at least */
    int64_t macs;           /* multiply-accumulates per image (network only) */
    int64_t parameters;
    int64_t weight_bytes;   /* bytes of detector weights embedded in the library */
    const char* simd;       /* SIMD path a new detector uses on this CPU: "Vector512", "Vector256", "Vector128", "Scalar" */
} mng_detector_info;

/* Opaque detector handle (not interchangeable with mng_handle). */
typedef struct mng_detector mng_detector;

/* Fills *info. Returns MNG_OK, MNG_E_NULL if info is NULL, or MNG_E_NOT_BUILT (info untouched) when the library has no
 * detector. */
int32_t mng_detector_model_info(mng_detector_info* info);

/* Creates a detector (allocates its workspace: about 2.9 MB). `threads`: threads per inference, 1..64, or 0 for the
 * build's default (-p:MobileNetThreads, default 1); more than one uses a small pool of worker threads owned by the
 * detector. Returns MNG_OK and sets *detector, or MNG_E_NULL (detector NULL), MNG_E_ARGUMENT (threads out of range),
 * MNG_E_NOT_BUILT or MNG_E_INTERNAL; *detector is set to NULL on failure. Free it with mng_detector_destroy. */
int32_t mng_detector_create(int32_t threads, mng_detector** detector);

/* Frees a detector (and its worker threads). NULL is ignored. It must not be used after (or while) it is destroyed. */
void mng_detector_destroy(mng_detector* detector);

/* SIMD path of a detector ("Vector256", ...), static string; NULL on a NULL or invalid detector (or no detector). */
const char* mng_detector_simd(mng_detector* detector);

/* Threads per inference of a detector; 0 on a NULL or invalid detector (or no detector). */
int32_t mng_detector_threads(mng_detector* detector);

/* Detects objects in an RGB24 image and writes them, best first (highest score), to out[0..*count-1]; *count is 0..10.
 *   pixels_length: bytes readable at `pixels`; must be >= stride*(height-1) + width*3.
 *   capacity: entries of `out`; must be >= max_detections (10), whatever the image.
 * Returns MNG_OK, MNG_E_NULL (detector, pixels, out or count NULL), MNG_E_DIMENSIONS, MNG_E_STRIDE,
 * MNG_E_BUFFER_TOO_SMALL (pixels_length or capacity), MNG_E_ARGUMENT (invalid detector), MNG_E_BUSY, MNG_E_NOT_BUILT or
 * MNG_E_INTERNAL; on failure *count is set to 0 when count is not NULL. Allocates nothing. */
int32_t mng_detect_rgb24(mng_detector* detector, const uint8_t* pixels, size_t pixels_length,
                         int32_t width, int32_t height, int32_t stride,
                         mng_detection* out, int32_t capacity, int32_t* count);

/* As mng_detect_rgb24 for BGRA32 pixels (4 bytes per pixel, alpha ignored): pixels_length >= stride*(height-1) + width*4. */
int32_t mng_detect_bgra32(mng_detector* detector, const uint8_t* pixels, size_t pixels_length,
                          int32_t width, int32_t height, int32_t stride,
                          mng_detection* out, int32_t capacity, int32_t* count);

/* COCO label of a detection class_index 0..num_classes-2 (16 = "cat"), the same static string mng_detection.label points
 * at. NULL (and MNG_E_ARGUMENT, or MNG_E_NOT_BUILT, in mng_last_error) for an index out of range or no detector. */
const char* mng_detection_label(int32_t class_index);

/* ----- Errors ----------------------------------------------------------------------------------------------------- */

/* Message of the last failed call on THIS thread (thread-local), "" if none failed yet. Not cleared by successful
 * calls. Valid until the next failing call on the same thread. Never NULL. (Each thread that sees an error gets a
 * 1 KiB message buffer, kept until the process exits.) */
const char* mng_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* MOBILENET_H */
