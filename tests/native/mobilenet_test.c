/*
 * mobilenet_test.c: tests the C ABI of libmobilenet (runtime/MobileNetGen.Native) from C.
 * Built twice by tests/native/build.sh: against the shared library and against the static library.
 *
 *   mobilenet_test FIXTURES_DIR [detector|no-detector]
 *
 * Decodes the 24-bit BMP demo photos itself, classifies them through the RGB24 and BGRA32 entry points, checks the
 * embeddings, every error code, and two threads with one handle each. Then the detector (mng_detect_*) on
 * cats_and_dogs_600x300.bmp through RGB24 and BGRA32 and with 1 and 2 threads, and its error codes; or, in a library built
 * with -p:MobileNetDetector=false, that every detector function says MNG_E_NOT_BUILT. The optional second argument
 * makes the test fail unless the library has (detector) or lacks (no-detector) the detector. Prints one line per check
 * and a final "N passed, N failed"; exits 1 on any failure.
 */
#include "mobilenet.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed = 0, failed = 0;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) { passed++; printf("ok    "); }                          \
        else { failed++; printf("FAIL  "); }                               \
        printf(__VA_ARGS__);                                               \
        printf("\n");                                                      \
    } while (0)

typedef struct image {
    int width, height, stride; /* RGB24, top-down rows */
    uint8_t* rgb;
    size_t length;
} image;

static uint32_t u32le(const uint8_t* p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t u16le(const uint8_t* p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Reads an uncompressed 24-bit BMP (BITMAPINFOHEADER or later) into packed top-down RGB24 with a 4-aligned stride
 * (so that stride > width*3 is exercised whenever width*3 is not a multiple of 4). Returns 0 on success. */
static int load_bmp24(const char* path, image* out) {
    FILE* f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return -1; }
    uint8_t header[54];
    if (fread(header, 1, sizeof header, f) != sizeof header || header[0] != 'B' || header[1] != 'M') {
        fprintf(stderr, "%s: not a BMP\n", path); fclose(f); return -1;
    }
    uint32_t offset = u32le(header + 10);
    int32_t width = (int32_t)u32le(header + 18);
    int32_t height = (int32_t)u32le(header + 22);
    uint16_t bpp = u16le(header + 28);
    uint32_t compression = u32le(header + 30);
    if (bpp != 24 || compression != 0 || width <= 0 || height == 0) {
        fprintf(stderr, "%s: only uncompressed 24-bit BMPs are supported (bpp %u, compression %u)\n", path, bpp, compression);
        fclose(f); return -1;
    }
    int bottom_up = height > 0;
    if (height < 0) height = -height;
    size_t file_stride = ((size_t)width * 3 + 3) & ~(size_t)3;
    uint8_t* row = malloc(file_stride);
    out->width = width; out->height = height; out->stride = (int)file_stride;
    out->length = file_stride * (size_t)height;
    out->rgb = malloc(out->length);
    if (!row || !out->rgb || fseek(f, (long)offset, SEEK_SET) != 0) { fclose(f); free(row); return -1; }
    for (int y = 0; y < height; y++) {
        if (fread(row, 1, file_stride, f) != file_stride) { fprintf(stderr, "%s: truncated\n", path); fclose(f); free(row); return -1; }
        uint8_t* dst = out->rgb + (size_t)(bottom_up ? height - 1 - y : y) * file_stride;
        for (int x = 0; x < width; x++) { /* BMP stores B,G,R */
            dst[3 * x + 0] = row[3 * x + 2];
            dst[3 * x + 1] = row[3 * x + 1];
            dst[3 * x + 2] = row[3 * x + 0];
        }
        memset(dst + 3 * width, 0, file_stride - 3 * (size_t)width);
    }
    free(row);
    fclose(f);
    return 0;
}

/* RGB24 -> BGRA32 with a padded stride (4 extra pixels per row), alpha 0x7F (must be ignored). */
static uint8_t* to_bgra(const image* im, int* stride, size_t* length) {
    *stride = (im->width + 4) * 4;
    *length = (size_t)*stride * im->height;
    uint8_t* p = calloc(*length, 1);
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++) {
            const uint8_t* s = im->rgb + (size_t)y * im->stride + 3 * x;
            uint8_t* d = p + (size_t)y * *stride + 4 * x;
            d[0] = s[2]; d[1] = s[1]; d[2] = s[0]; d[3] = 0x7F;
        }
    return p;
}

typedef struct thread_job {
    const image* im;
    int expected;
    int iterations;
    int ok;          /* iterations that returned MNG_OK with the expected top-1 */
    float top1_prob; /* probability of the last run */
} thread_job;

static void* thread_main(void* arg) {
    thread_job* job = arg;
    mng_handle* h = NULL;
    if (mng_create(&h) != MNG_OK) return NULL;
    for (int i = 0; i < job->iterations; i++) {
        mng_prediction p[5];
        if (mng_classify_rgb24(h, job->im->rgb, job->im->length, job->im->width, job->im->height, job->im->stride, 5, p) == MNG_OK
            && p[0].index == job->expected) {
            job->ok++;
            job->top1_prob = p[0].probability;
        }
    }
    mng_destroy(h);
    return NULL;
}

static void print_detections(const mng_detection* d, int n) {
    for (int i = 0; i < n; i++)
        printf("      #%d %2d %-10s %.6f [%.2f %.2f %.2f %.2f]\n", i + 1, d[i].class_index, d[i].label ? d[i].label : "(null)",
               d[i].score, d[i].left, d[i].top, d[i].right, d[i].bottom);
}

/* Same detections, field for field (floats bit for bit, the same static label pointers). */
static int same_detections(const mng_detection* a, int na, const mng_detection* b, int nb) {
    if (na != nb) return 0;
    for (int i = 0; i < na; i++)
        if (memcmp(&a[i].left, &b[i].left, 4 * sizeof(float)) != 0 || a[i].class_index != b[i].class_index
            || memcmp(&a[i].score, &b[i].score, sizeof(float)) != 0 || a[i].label != b[i].label)
            return 0;
    return 1;
}

/* The detector half of the ABI. `expect`: 1 the library must have the detector, 0 it must not, -1 either. */
static void test_detector(const char* dir, int expect) {
    char path[4096];
    mng_detector_info dinfo;
    memset(&dinfo, 0, sizeof dinfo);
    int rc = mng_detector_model_info(&dinfo);
    if (expect >= 0)
        CHECK((rc == MNG_OK) == (expect == 1), "library %s the detector, as expected (mng_detector_model_info -> %d)",
              rc == MNG_OK ? "has" : "lacks", rc);
    if (rc == MNG_E_NOT_BUILT) {
        CHECK(strstr(mng_last_error(), "MobileNetDetector=false") != NULL, "no detector built in: mng_detector_model_info -> MNG_E_NOT_BUILT (%s)", mng_last_error());
        mng_detector* d = (mng_detector*)&dinfo; /* must be overwritten with NULL */
        CHECK(mng_detector_create(1, &d) == MNG_E_NOT_BUILT && d == NULL, "no detector built in: mng_detector_create -> MNG_E_NOT_BUILT, *detector = NULL");
        uint8_t px[3] = { 1, 2, 3 };
        mng_detection out[10];
        int32_t count = 77;
        CHECK(mng_detect_rgb24(NULL, px, 3, 1, 1, 3, out, 10, &count) == MNG_E_NOT_BUILT && count == 0, "no detector built in: mng_detect_rgb24 -> MNG_E_NOT_BUILT, count 0");
        CHECK(mng_detect_bgra32(NULL, px, 3, 1, 1, 4, out, 10, &count) == MNG_E_NOT_BUILT, "no detector built in: mng_detect_bgra32 -> MNG_E_NOT_BUILT");
        CHECK(mng_detection_label(16) == NULL && mng_detector_simd(NULL) == NULL && mng_detector_threads(NULL) == 0,
              "no detector built in: mng_detection_label, mng_detector_simd -> NULL, mng_detector_threads -> 0");
        mng_detector_destroy(NULL);
        return;
    }
    CHECK(rc == MNG_OK && dinfo.name && dinfo.input_width > 0 && dinfo.num_classes > 1 && dinfo.max_detections > 0,
          "mng_detector_model_info: %s (%s), alpha %.2f, %dx%d, %d classes, %d anchors, max %d detections, %lld MACs, %lld weight bytes, simd %s",
          dinfo.name ? dinfo.name : "?", dinfo.variant ? dinfo.variant : "?", dinfo.alpha, dinfo.input_width, dinfo.input_height,
          dinfo.num_classes, dinfo.num_anchors, dinfo.max_detections, (long long)dinfo.macs, (long long)dinfo.weight_bytes,
          dinfo.simd ? dinfo.simd : "?");
    if (rc != MNG_OK) return;
    CHECK(dinfo.input_width == 300 && dinfo.input_height == 300 && dinfo.num_classes == 91 && dinfo.num_anchors == 1917 && dinfo.max_detections == 10,
          "detector is SSD MobileNet v1 COCO: 300x300, 91 classes, 1917 anchors, 10 detections");
    CHECK(mng_detector_model_info(NULL) == MNG_E_NULL, "mng_detector_model_info(NULL) -> MNG_E_NULL");
    const char* cat = mng_detection_label(16);
    const char* dog = mng_detection_label(17);
    CHECK(cat && strcmp(cat, "cat") == 0 && dog && strcmp(dog, "dog") == 0 && mng_detection_label(0) && strcmp(mng_detection_label(0), "person") == 0,
          "mng_detection_label: 0 = \"%s\", 16 = \"%s\", 17 = \"%s\"", mng_detection_label(0) ? mng_detection_label(0) : "(null)",
          cat ? cat : "(null)", dog ? dog : "(null)");
    CHECK(mng_detection_label(dinfo.num_classes - 1) == NULL && strlen(mng_last_error()) > 0 && mng_detection_label(-1) == NULL,
          "mng_detection_label(%d), (-1) -> NULL (%s)", dinfo.num_classes - 1, mng_last_error());
    CHECK(mng_detection_label(16) == cat, "mng_detection_label returns the same static string every time");

    mng_detector* d = NULL;
    rc = mng_detector_create(1, &d);
    CHECK(rc == MNG_OK && d != NULL, "mng_detector_create(1) -> MNG_OK");
    if (!d) return;
    CHECK(mng_detector_create(1, NULL) == MNG_E_NULL, "mng_detector_create(1, NULL) -> MNG_E_NULL");
    mng_detector* bad = (mng_detector*)&dinfo;
    CHECK(mng_detector_create(-1, &bad) == MNG_E_ARGUMENT && bad == NULL, "mng_detector_create(-1) -> MNG_E_ARGUMENT, *detector = NULL (%s)", mng_last_error());
    CHECK(mng_detector_create(65, &bad) == MNG_E_ARGUMENT, "mng_detector_create(65) -> MNG_E_ARGUMENT");
    printf("      detector simd: %s\n", mng_detector_simd(d) ? mng_detector_simd(d) : "(null)");
    CHECK(mng_detector_simd(d) != NULL && mng_detector_threads(d) == 1, "mng_detector_simd(detector) = %s, mng_detector_threads = %d",
          mng_detector_simd(d) ? mng_detector_simd(d) : "(null)", mng_detector_threads(d));

    image im = { 0 };
    snprintf(path, sizeof path, "%s/%s", dir, "cats_and_dogs_600x300.bmp");
    if (load_bmp24(path, &im) != 0) { CHECK(0, "load %s", path); mng_detector_destroy(d); return; }
    mng_detection det[16];
    int32_t n = -1;
    memset(det, 0, sizeof det);
    rc = mng_detect_rgb24(d, im.rgb, im.length, im.width, im.height, im.stride, det, 16, &n);
    if (rc != MNG_OK) printf("      error: %s\n", mng_last_error());
    printf("      cats_and_dogs_600x300.bmp (%dx%d, stride %d) RGB24: %d detections\n", im.width, im.height, im.stride, n);
    if (rc == MNG_OK) print_detections(det, n);
    CHECK(rc == MNG_OK && n >= 1 && n <= dinfo.max_detections, "detect RGB24 -> MNG_OK, %d detections (1..%d)", n, dinfo.max_detections);
    CHECK(rc == MNG_OK && n >= 1 && (det[0].class_index == 16 || det[0].class_index == 17) && det[0].score > 0.4f,
          "top detection is a cat or a dog with score > 0.4: %d %s %.6f", n >= 1 ? det[0].class_index : -1,
          n >= 1 && det[0].label ? det[0].label : "?", n >= 1 ? det[0].score : 0.0f);
    int cats = 0, dogs = 0, well_formed = rc == MNG_OK;
    for (int i = 0; i < n && well_formed; i++) {
        cats += det[i].class_index == 16; dogs += det[i].class_index == 17;
        well_formed = det[i].label == mng_detection_label(det[i].class_index) && det[i].score > 0.0f && det[i].score <= 1.0f
                      && (i == 0 || det[i].score <= det[i - 1].score) && det[i].left < det[i].right && det[i].top < det[i].bottom
                      && det[i].right > 0 && det[i].left < im.width && det[i].bottom > 0 && det[i].top < im.height;
    }
    CHECK(well_formed, "detections sorted by score, labels = mng_detection_label(class_index), boxes non-empty and on the image");
    CHECK(cats >= 1 && dogs >= 1, "cats and dogs found: %d cat, %d dog detections", cats, dogs);

    int bstride; size_t blen;
    uint8_t* bgra = to_bgra(&im, &bstride, &blen);
    mng_detection bdet[10];
    int32_t bn = -1;
    rc = mng_detect_bgra32(d, bgra, blen, im.width, im.height, bstride, bdet, 10, &bn);
    CHECK(rc == MNG_OK && same_detections(det, n, bdet, bn), "detect BGRA32 (stride %d, alpha ignored, capacity 10) gives the RGB24 detections exactly (%d)", bstride, bn);

    mng_detector* d2 = NULL;
    rc = mng_detector_create(2, &d2);
    mng_detection tdet[10];
    int32_t tn = -1;
    if (rc == MNG_OK) rc = mng_detect_rgb24(d2, im.rgb, im.length, im.width, im.height, im.stride, tdet, 10, &tn);
    CHECK(rc == MNG_OK && mng_detector_threads(d2) == 2 && same_detections(det, n, tdet, tn), "a 2-thread detector gives the 1-thread detections exactly");
    mng_detector_destroy(d2);

    /* Error codes. */
    mng_handle* classifier = NULL;
    mng_create(&classifier);
    int32_t count;
#define DEXPECT(call, code, what)                                                                              \
    do {                                                                                                       \
        count = 77;                                                                                            \
        int r_ = (call);                                                                                       \
        CHECK(r_ == (code) && (r_ == MNG_OK || count == 0), "detect: %-30s -> %d (expected %s = %d)%s%s", what, r_, #code, code, \
              r_ != MNG_OK ? ": " : "", r_ != MNG_OK ? mng_last_error() : "");                                 \
    } while (0)
    DEXPECT(mng_detect_rgb24(NULL, im.rgb, im.length, im.width, im.height, im.stride, det, 10, &count), MNG_E_NULL, "null detector");
    DEXPECT(mng_detect_rgb24(d, NULL, im.length, im.width, im.height, im.stride, det, 10, &count), MNG_E_NULL, "null pixels");
    DEXPECT(mng_detect_bgra32(d, NULL, blen, im.width, im.height, bstride, det, 10, &count), MNG_E_NULL, "BGRA32 null pixels");
    DEXPECT(mng_detect_rgb24(d, im.rgb, im.length, im.width, im.height, im.stride, NULL, 10, &count), MNG_E_NULL, "null out");
    CHECK(mng_detect_rgb24(d, im.rgb, im.length, im.width, im.height, im.stride, det, 10, NULL) == MNG_E_NULL, "detect: null count -> MNG_E_NULL");
    DEXPECT(mng_detect_rgb24(d, im.rgb, im.length - 1, im.width, im.height, im.stride, det, 10, &count), MNG_E_BUFFER_TOO_SMALL, "short buffer (one byte)");
    DEXPECT(mng_detect_bgra32(d, bgra, blen - 4 * 4 - 1, im.width, im.height, bstride, det, 10, &count), MNG_E_BUFFER_TOO_SMALL, "BGRA32 short buffer");
    DEXPECT(mng_detect_rgb24(d, im.rgb, 0, im.width, im.height, im.stride, det, 10, &count), MNG_E_BUFFER_TOO_SMALL, "pixels_length 0");
    DEXPECT(mng_detect_rgb24(d, im.rgb, im.length, im.width, im.height, im.stride, det, 9, &count), MNG_E_BUFFER_TOO_SMALL, "capacity 9");
    DEXPECT(mng_detect_bgra32(d, bgra, blen, im.width, im.height, bstride, det, 0, &count), MNG_E_BUFFER_TOO_SMALL, "BGRA32 capacity 0");
    DEXPECT(mng_detect_rgb24(d, im.rgb, im.length, im.width, im.height, im.stride, det, -1, &count), MNG_E_BUFFER_TOO_SMALL, "capacity -1");
    DEXPECT(mng_detect_rgb24(d, im.rgb, im.length, 0, im.height, im.stride, det, 10, &count), MNG_E_DIMENSIONS, "width 0");
    DEXPECT(mng_detect_rgb24(d, im.rgb, im.length, im.width, -5, im.stride, det, 10, &count), MNG_E_DIMENSIONS, "height -5");
    DEXPECT(mng_detect_rgb24(d, im.rgb, im.length, 40000, im.height, 40000 * 3, det, 10, &count), MNG_E_DIMENSIONS, "width 40000");
    DEXPECT(mng_detect_rgb24(d, im.rgb, (size_t)1 << 40, 32768, 32768, 0x7FFFFFFF, det, 10, &count), MNG_E_DIMENSIONS, "image spanning > 2 GiB");
    DEXPECT(mng_detect_rgb24(d, im.rgb, im.length, im.width, im.height, im.width * 3 - 1, det, 10, &count), MNG_E_STRIDE, "stride width*3-1");
    DEXPECT(mng_detect_bgra32(d, bgra, blen, im.width, im.height, im.width * 3, det, 10, &count), MNG_E_STRIDE, "BGRA32 stride width*3");
    DEXPECT(mng_detect_rgb24(d, im.rgb, im.length, im.width, im.height, -1, det, 10, &count), MNG_E_STRIDE, "stride -1");
    DEXPECT(mng_detect_rgb24((mng_detector*)classifier, im.rgb, im.length, im.width, im.height, im.stride, det, 10, &count), MNG_E_ARGUMENT, "classifier handle as detector");
    mng_prediction p[5];
    rc = mng_classify_rgb24((mng_handle*)d, im.rgb, im.length, im.width, im.height, im.stride, 5, p);
    CHECK(rc == MNG_E_ARGUMENT, "classify: detector as classifier handle  -> %d (expected MNG_E_ARGUMENT = 2): %s", rc, mng_last_error());
    uint64_t fake[4] = { 0, 0, 0, 0 };
    DEXPECT(mng_detect_rgb24((mng_detector*)fake, im.rgb, im.length, im.width, im.height, im.stride, det, 10, &count), MNG_E_ARGUMENT, "foreign (non-handle) pointer");
    CHECK(mng_detector_simd((mng_detector*)classifier) == NULL && mng_detector_threads(NULL) == 0, "mng_detector_simd(classifier handle) -> NULL, mng_detector_threads(NULL) -> 0");
    DEXPECT(mng_detect_rgb24(d, im.rgb, im.length, 1, 1, 3, det, 10, &count), MNG_OK, "1x1 image");
    CHECK(count >= 0 && count <= 10, "1x1 image: %d detections", count);
    mng_destroy(classifier);
    mng_detector_destroy(NULL);
    CHECK(1, "mng_detector_destroy(NULL) is a no-op");
    mng_detector_destroy(d);
    free(bgra);
    free(im.rgb);
}

int main(int argc, char** argv) {
    const char* dir = argc > 1 ? argv[1] : "tests/MobileNetGen.Tests/Fixtures";
    int expect_detector = argc > 2 ? (strcmp(argv[2], "detector") == 0 ? 1 : strcmp(argv[2], "no-detector") == 0 ? 0 : -2) : -1;
    if (expect_detector == -2) { fprintf(stderr, "usage: mobilenet_test FIXTURES_DIR [detector|no-detector]\n"); return 2; }
    char path[4096];

    printf("libmobilenet %s\n", mng_version());
    CHECK(mng_last_error() != NULL && mng_last_error()[0] == '\0', "mng_last_error() is \"\" before any failure");
    CHECK(mng_version() != NULL && strlen(mng_version()) > 0, "mng_version: \"%s\"", mng_version());

    mng_info info;
    memset(&info, 0, sizeof info);
    int rc = mng_model_info(&info);
    CHECK(rc == MNG_OK && info.variant && info.resolution > 0 && info.feature_size > 0,
          "mng_model_info: %s (%s), %dx%d, %d classes, feature size %d, weights %s, %lld MACs, %lld weight bytes, simd %s",
          info.variant ? info.variant : "?", info.name ? info.name : "?", info.resolution, info.resolution, info.num_classes,
          info.feature_size, info.weights_kind ? info.weights_kind : "?", (long long)info.macs, (long long)info.weight_bytes,
          info.simd ? info.simd : "?");
    CHECK(mng_model_info(NULL) == MNG_E_NULL, "mng_model_info(NULL) -> MNG_E_NULL");
    int genuine = info.weights_kind && strcmp(info.weights_kind, "synthetic") != 0;
    int default_variant = info.name && strcmp(info.name, "mobilenet_v1_0.25_224") == 0;

    CHECK(mng_label(0) && strcmp(mng_label(0), "background") == 0, "mng_label(0) = \"%s\"", mng_label(0) ? mng_label(0) : "(null)");
    CHECK(mng_label(458) && strstr(mng_label(458), "bow tie") != NULL, "mng_label(458) = \"%s\"", mng_label(458) ? mng_label(458) : "(null)");
    CHECK(mng_label(1001) == NULL && strlen(mng_last_error()) > 0, "mng_label(1001) -> NULL (%s)", mng_last_error());
    CHECK(mng_label(-1) == NULL, "mng_label(-1) -> NULL");
    CHECK(mng_output_label(0) != NULL && mng_output_label(info.num_classes - 1) != NULL, "mng_output_label covers 0..num_classes-1");
    CHECK(mng_output_label(info.num_classes) == NULL && mng_output_label(-1) == NULL, "mng_output_label out of range -> NULL");
    if (info.num_classes == 1001)
        CHECK(strcmp(mng_output_label(458), mng_label(458)) == 0, "mng_output_label(458) = mng_label(458) for a 1001-class slim model");

    mng_handle* h = NULL;
    rc = mng_create(&h);
    CHECK(rc == MNG_OK && h != NULL, "mng_create -> MNG_OK");
    if (!h) { printf("%d passed, %d failed\n", passed, failed + 1); return 1; }
    CHECK(mng_create(NULL) == MNG_E_NULL, "mng_create(NULL) -> MNG_E_NULL");
    printf("      simd: %s\n", mng_simd(h) ? mng_simd(h) : "(null)");
    CHECK(mng_simd(h) != NULL, "mng_simd(handle) = %s", mng_simd(h) ? mng_simd(h) : "(null)");

    /* The demo photos: top-1 through RGB24 and BGRA32. */
    struct { const char* file; int expected; const char* name; } photos[] = {
        { "grace_hopper.bmp", 458, "bow tie" },
        { "cat.bmp", 283, "tiger cat" },
    };
    image grace = { 0 };
    for (size_t i = 0; i < sizeof photos / sizeof photos[0]; i++) {
        image im = { 0 };
        snprintf(path, sizeof path, "%s/%s", dir, photos[i].file);
        if (load_bmp24(path, &im) != 0) { CHECK(0, "load %s", path); continue; }
        mng_prediction top[5];
        memset(top, 0, sizeof top);
        rc = mng_classify_rgb24(h, im.rgb, im.length, im.width, im.height, im.stride, 5, top);
        if (rc != MNG_OK) printf("      error: %s\n", mng_last_error());
        printf("      %s (%dx%d, stride %d) RGB24 top-5:", photos[i].file, im.width, im.height, im.stride);
        for (int j = 0; j < 5 && rc == MNG_OK; j++) printf(" %d %s %.5f;", top[j].index, top[j].label, top[j].probability);
        printf("\n");
        if (genuine && default_variant)
            CHECK(rc == MNG_OK && top[0].index == photos[i].expected, "%s RGB24 top-1 = %d (%s), expected %d (%s)", photos[i].file,
                  top[0].index, top[0].label ? top[0].label : "?", photos[i].expected, photos[i].name);
        else if (genuine) { /* another variant (-p:MobileNetVariant): its top-1 may differ; the class must be in its top-5 */
            int found = 0;
            for (int j = 0; j < 5 && rc == MNG_OK; j++) found |= top[j].index == photos[i].expected;
            CHECK(found, "%s RGB24 top-5 of %s contains %d (%s)", photos[i].file, info.variant, photos[i].expected, photos[i].name);
        } else
            CHECK(rc == MNG_OK, "%s RGB24 classified (synthetic weights: top-1 not checked)", photos[i].file);
        CHECK(rc == MNG_OK && top[0].probability >= top[1].probability && top[1].probability >= top[4].probability
                  && top[0].label && strcmp(top[0].label, mng_label(top[0].index)) == 0,
              "%s predictions sorted, labels match mng_label", photos[i].file);

        float* emb = malloc(sizeof(float) * (size_t)info.feature_size);
        rc = mng_embeddings(h, emb, info.feature_size);
        int nonzero = 0;
        for (int j = 0; j < info.feature_size && rc == MNG_OK; j++) nonzero += emb[j] != 0.0f;
        CHECK(rc == MNG_OK && nonzero > 0, "%s embeddings: %d floats, %d non-zero", photos[i].file, info.feature_size, nonzero);

        int bstride; size_t blen;
        uint8_t* bgra = to_bgra(&im, &bstride, &blen);
        mng_prediction btop[5];
        rc = mng_classify_bgra32(h, bgra, blen, im.width, im.height, bstride, 5, btop);
        int same = rc == MNG_OK;
        for (int j = 0; j < 5 && same; j++) same = btop[j].index == top[j].index && fabsf(btop[j].probability - top[j].probability) <= 1e-6f;
        CHECK(same, "%s BGRA32 (stride %d, alpha ignored) gives the RGB24 top-5", photos[i].file, bstride);
        float* emb2 = malloc(sizeof(float) * (size_t)info.feature_size);
        rc = mng_embeddings(h, emb2, info.feature_size);
        CHECK(rc == MNG_OK && memcmp(emb, emb2, sizeof(float) * (size_t)info.feature_size) == 0, "%s BGRA32 embeddings equal RGB24's", photos[i].file);
        free(emb2); free(emb); free(bgra);
        if (photos[i].expected == 458) grace = im; else free(im.rgb);
    }
    if (!grace.rgb) { printf("%d passed, %d failed\n", passed, failed + 1); return 1; }

    /* Error codes. */
    mng_prediction p[2000];
    float small[4];
#define EXPECT(call, code, what)                                                                  \
    do {                                                                                          \
        int r_ = (call);                                                                          \
        CHECK(r_ == (code), "%-34s -> %d (expected %s = %d)%s%s", what, r_, #code, code,   \
              r_ != MNG_OK ? ": " : "", r_ != MNG_OK ? mng_last_error() : "");                    \
    } while (0)
    EXPECT(mng_classify_rgb24(NULL, grace.rgb, grace.length, grace.width, grace.height, grace.stride, 5, p), MNG_E_NULL, "null handle");
    EXPECT(mng_classify_rgb24(h, NULL, grace.length, grace.width, grace.height, grace.stride, 5, p), MNG_E_NULL, "null pixels");
    EXPECT(mng_classify_rgb24(h, grace.rgb, grace.length, grace.width, grace.height, grace.stride, 5, NULL), MNG_E_NULL, "null output");
    EXPECT(mng_classify_rgb24(h, grace.rgb, grace.length - 1, grace.width, grace.height, grace.stride, 5, p), MNG_E_BUFFER_TOO_SMALL, "short buffer (one byte)");
    EXPECT(mng_classify_rgb24(h, grace.rgb, 0, grace.width, grace.height, grace.stride, 5, p), MNG_E_BUFFER_TOO_SMALL, "pixels_length 0");
    EXPECT(mng_classify_rgb24(h, grace.rgb, grace.length, 0, grace.height, grace.stride, 5, p), MNG_E_DIMENSIONS, "width 0");
    EXPECT(mng_classify_rgb24(h, grace.rgb, grace.length, grace.width, -5, grace.stride, 5, p), MNG_E_DIMENSIONS, "height -5");
    EXPECT(mng_classify_rgb24(h, grace.rgb, grace.length, 40000, grace.height, 40000 * 3, 5, p), MNG_E_DIMENSIONS, "width 40000");
    EXPECT(mng_classify_rgb24(h, grace.rgb, grace.length, grace.width, 40000, grace.stride, 5, p), MNG_E_DIMENSIONS, "height 40000");
    EXPECT(mng_classify_rgb24(h, grace.rgb, (size_t)1 << 40, 32768, 32768, 0x7FFFFFFF, 5, p), MNG_E_DIMENSIONS, "image spanning > 2 GiB");
    EXPECT(mng_classify_rgb24(h, grace.rgb, grace.length, grace.width, grace.height, grace.width * 3 - 1, 5, p), MNG_E_STRIDE, "stride width*3-1");
    EXPECT(mng_classify_bgra32(h, grace.rgb, grace.length, grace.width, grace.height, grace.width * 3, 5, p), MNG_E_STRIDE, "BGRA32 stride width*3");
    EXPECT(mng_classify_rgb24(h, grace.rgb, grace.length, grace.width, grace.height, -1, 5, p), MNG_E_STRIDE, "stride -1");
    EXPECT(mng_classify_rgb24(h, grace.rgb, grace.length, grace.width, grace.height, grace.stride, 0, p), MNG_E_K_RANGE, "k = 0");
    EXPECT(mng_classify_rgb24(h, grace.rgb, grace.length, grace.width, grace.height, grace.stride, -3, p), MNG_E_K_RANGE, "k = -3");
    EXPECT(mng_classify_rgb24(h, grace.rgb, grace.length, grace.width, grace.height, grace.stride, 2000, p), MNG_E_K_RANGE, "k = 2000");
    EXPECT(mng_classify_rgb24(h, grace.rgb, grace.length, grace.width, grace.height, grace.stride, info.num_classes, p), MNG_OK, "k = num_classes");
    double sum = 0;
    for (int j = 0; j < info.num_classes; j++) sum += p[j].probability;
    CHECK(fabs(sum - 1.0) < 1e-3, "probabilities of all %d classes sum to %.6f", info.num_classes, sum);
    EXPECT(mng_embeddings(h, small, 4), MNG_E_BUFFER_TOO_SMALL, "embeddings capacity 4");
    EXPECT(mng_embeddings(h, NULL, info.feature_size), MNG_E_NULL, "embeddings NULL output");
    EXPECT(mng_embeddings(NULL, small, 4), MNG_E_NULL, "embeddings NULL handle");
    EXPECT(mng_classify_rgb24(h, grace.rgb, grace.length, 1, 1, 3, 1, p), MNG_OK, "1x1 image");

    /* A destroyed handle is refused, not crashed on (the memory is freed, so this reads freed memory only through the
     * library's magic check: done on a copy of a live handle's contents to stay well-defined). */
    mng_destroy(NULL); /* ignored */
    CHECK(1, "mng_destroy(NULL) is a no-op");
    uint64_t fake[4] = { 0, 0, 0, 0 };
    EXPECT(mng_classify_rgb24((mng_handle*)fake, grace.rgb, grace.length, grace.width, grace.height, grace.stride, 5, p), MNG_E_ARGUMENT, "foreign (non-handle) pointer");
    mng_destroy(h);

    /* Two threads, one handle each, running at the same time: same answers as one thread. */
    mng_prediction ref[5];
    mng_handle* h1 = NULL;
    mng_create(&h1);
    mng_classify_rgb24(h1, grace.rgb, grace.length, grace.width, grace.height, grace.stride, 5, ref);
    mng_destroy(h1);
    thread_job jobs[2] = { { &grace, ref[0].index, 8, 0, 0 }, { &grace, ref[0].index, 8, 0, 0 } };
    pthread_t threads[2];
    for (int t = 0; t < 2; t++) pthread_create(&threads[t], NULL, thread_main, &jobs[t]);
    for (int t = 0; t < 2; t++) pthread_join(threads[t], NULL);
    CHECK(jobs[0].ok == 8 && jobs[1].ok == 8 && jobs[0].top1_prob == ref[0].probability && jobs[1].top1_prob == ref[0].probability,
          "two threads x 8 classifications, one handle each: %d + %d correct, probabilities bit-identical to one thread",
          jobs[0].ok, jobs[1].ok);

    free(grace.rgb);

    test_detector(dir, expect_detector);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
