using System.Runtime.InteropServices;
using MobileNetGen.Runtime;
#if MOBILENET_DETECTOR
using MobileNetGen.Runtime.Detection;
#endif

namespace MobileNetGen.Native;

#if MOBILENET_DETECTOR
/// <summary>
/// The library's detector: Google's SSD MobileNet v1 COCO (uint8), generated from its weights entry. Built in unless
/// <c>-p:MobileNetDetector=false</c> (MobileNetGen.Native.csproj), which leaves out the class and its weights.
/// </summary>
[MobileNetSsd("ssd_mobilenet_v1_0.75_300_coco_quant")]
internal sealed partial class NativeDetector { }

/// <summary>State behind one detector handle: the detector and a reusable detection buffer (detection allocates nothing).</summary>
internal sealed class DetectorState(NativeDetector detector)
{
    public readonly NativeDetector Detector = detector;
    public readonly Detection[] Detections = new Detection[detector.MaxDetections];
}
#endif

/// <summary><c>mng_detection</c>: 32 bytes on 64-bit targets.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MngDetection
{
    public float Left, Top, Right, Bottom;
    public int ClassIndex;
    public float Score;
    public byte* Label;
}

/// <summary><c>mng_detector_info</c> (filled by <c>mng_detector_model_info</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MngDetectorInfo
{
    public byte* Name;
    public byte* Variant;
    public float Alpha;
    public int InputWidth;
    public int InputHeight;
    public int NumClasses;
    public int NumAnchors;
    public int MaxDetections;
    public long Macs;
    public long Parameters;
    public long WeightBytes;
    public byte* Simd;
}

/// <summary>The detector half of the C ABI (<c>mng_detector_*</c>, <c>mng_detect_*</c>): the classifier's conventions
/// (status codes, thread-local message, handles with a magic number and a busy flag), a handle magic of its own so that a
/// classifier handle is refused by the detector functions and the reverse.</summary>
internal static unsafe partial class Exports
{
    public const ulong DetectorMagic = 0x4D4E_4731_4445_5443; // "MNG1DETC"

#if MOBILENET_DETECTOR
    private static readonly object s_detectorLock = new();
    private static byte** s_detectionLabels; // label per TFLite class index 0..NumClasses-1, UTF-8, never freed
    private static int s_detectionClasses;
    private static MngDetectorInfo s_detectorInfo;
    private static bool s_detectorStaticReady;
#else
    private const string NotBuiltMessage = "this libmobilenet was built without the detector (-p:MobileNetDetector=false)";
#endif

    [UnmanagedCallersOnly(EntryPoint = "mng_detector_model_info")]
    public static int DetectorModelInfo(MngDetectorInfo* info)
    {
        try
        {
#if MOBILENET_DETECTOR
            if (info == null) return Fail(MngStatus.Null, "info is NULL");
            EnsureDetectorStatic();
            *info = s_detectorInfo;
            return Ok();
#else
            return Fail(MngStatus.NotBuilt, NotBuiltMessage);
#endif
        }
        catch (Exception e)
        {
            return Internal(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "mng_detection_label")]
    public static byte* DetectionLabel(int classIndex)
    {
        try
        {
#if MOBILENET_DETECTOR
            EnsureDetectorStatic();
            if ((uint)classIndex >= (uint)s_detectionClasses)
            {
                Fail(MngStatus.Argument, $"class index {classIndex} is outside 0..{s_detectionClasses - 1}");
                return null;
            }
            return s_detectionLabels[classIndex];
#else
            Fail(MngStatus.NotBuilt, NotBuiltMessage);
            return null;
#endif
        }
        catch (Exception e)
        {
            Internal(e);
            return null;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "mng_detector_create")]
    public static int DetectorCreate(int threads, NativeHandle** detector)
    {
        try
        {
#if MOBILENET_DETECTOR
            if (detector == null) return Fail(MngStatus.Null, "detector output pointer is NULL");
            *detector = null;
            if (threads < 0 || threads > Runtime.Kernels.LayerRunner.MaxThreads)
                return Fail(MngStatus.Argument, $"threads {threads} is outside 0..{Runtime.Kernels.LayerRunner.MaxThreads} (0: the build's default)");
            EnsureDetectorStatic();
            var state = new DetectorState(new NativeDetector(new MobileNetOptions { Threads = threads }));
            var h = (NativeHandle*)NativeMemory.AllocZeroed((nuint)sizeof(NativeHandle));
            h->Classifier = GCHandle.ToIntPtr(GCHandle.Alloc(state));
            h->Magic = DetectorMagic;
            *detector = h;
            return Ok();
#else
            if (detector != null) *detector = null;
            return Fail(MngStatus.NotBuilt, NotBuiltMessage);
#endif
        }
        catch (Exception e)
        {
            return Internal(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "mng_detector_destroy")]
    public static void DetectorDestroy(NativeHandle* detector)
    {
        try
        {
#if MOBILENET_DETECTOR
            if (detector == null || detector->Magic != DetectorMagic) return;
            detector->Magic = 0;
            var gc = GCHandle.FromIntPtr(detector->Classifier);
            (gc.Target as DetectorState)?.Detector.Dispose();
            gc.Free();
            NativeMemory.Free(detector);
#endif
        }
        catch (Exception e)
        {
            Internal(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "mng_detector_simd")]
    public static byte* DetectorSimd(NativeHandle* detector)
    {
        try
        {
#if MOBILENET_DETECTOR
            if (EnterDetector(detector, out var state) != MngStatus.Ok) return null;
            try
            {
                return SimdName(state!.Detector.SimdPath);
            }
            finally
            {
                Leave(detector);
            }
#else
            Fail(MngStatus.NotBuilt, NotBuiltMessage);
            return null;
#endif
        }
        catch (Exception e)
        {
            Internal(e);
            return null;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "mng_detector_threads")]
    public static int DetectorThreads(NativeHandle* detector)
    {
        try
        {
#if MOBILENET_DETECTOR
            if (EnterDetector(detector, out var state) != MngStatus.Ok) return 0;
            try
            {
                return state!.Detector.Threads;
            }
            finally
            {
                Leave(detector);
            }
#else
            Fail(MngStatus.NotBuilt, NotBuiltMessage);
            return 0;
#endif
        }
        catch (Exception e)
        {
            Internal(e);
            return 0;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "mng_detect_rgb24")]
    public static int DetectRgb24(NativeHandle* detector, byte* pixels, nuint pixelsLength, int width, int height, int stride,
        MngDetection* output, int capacity, int* count) =>
        Detect(detector, pixels, pixelsLength, width, height, stride, output, capacity, count, bytesPerPixel: 3);

    [UnmanagedCallersOnly(EntryPoint = "mng_detect_bgra32")]
    public static int DetectBgra32(NativeHandle* detector, byte* pixels, nuint pixelsLength, int width, int height, int stride,
        MngDetection* output, int capacity, int* count) =>
        Detect(detector, pixels, pixelsLength, width, height, stride, output, capacity, count, bytesPerPixel: 4);

    private static int Detect(NativeHandle* detector, byte* pixels, nuint pixelsLength, int width, int height, int stride,
        MngDetection* output, int capacity, int* count, int bytesPerPixel)
    {
        try
        {
            if (count != null) *count = 0;
#if MOBILENET_DETECTOR
            if (detector == null) return Fail(MngStatus.Null, "detector is NULL");
            if (pixels == null) return Fail(MngStatus.Null, "pixels is NULL");
            if (output == null) return Fail(MngStatus.Null, "out is NULL");
            if (count == null) return Fail(MngStatus.Null, "count is NULL");
            var status = CheckImage(pixelsLength, width, height, stride, bytesPerPixel, out long needed);
            if (status != MngStatus.Ok) return (int)status;

            status = EnterDetector(detector, out var state);
            if (status != MngStatus.Ok) return (int)status;
            try
            {
                var d = state!.Detector;
                if (capacity < d.MaxDetections)
                    return Fail(MngStatus.BufferTooSmall, $"capacity {capacity} is below max_detections {d.MaxDetections}");
                var source = new ReadOnlySpan<byte>(pixels, (int)needed);
                var found = state.Detections.AsSpan();
                int n = bytesPerPixel == 3
                    ? d.DetectRgb24(source, width, height, stride, found)
                    : d.DetectBgra32(source, width, height, stride, found);
                for (int i = 0; i < n; i++)
                {
                    ref readonly var x = ref found[i];
                    output[i].Left = x.Pixels.Left;
                    output[i].Top = x.Pixels.Top;
                    output[i].Right = x.Pixels.Right;
                    output[i].Bottom = x.Pixels.Bottom;
                    output[i].ClassIndex = x.ClassIndex;
                    output[i].Score = x.Score;
                    output[i].Label = (uint)x.ClassIndex < (uint)s_detectionClasses ? s_detectionLabels[x.ClassIndex] : null;
                }
                *count = n;
                return Ok();
            }
            finally
            {
                Leave(detector);
            }
#else
            return Fail(MngStatus.NotBuilt, NotBuiltMessage);
#endif
        }
        catch (ArgumentException e)
        {
            return Fail(MngStatus.Argument, e.Message);
        }
        catch (Exception e)
        {
            return Internal(e);
        }
    }

#if MOBILENET_DETECTOR
    /// <summary>Validates a detector handle and marks it busy (as <see cref="Enter"/> for classifier handles).</summary>
    private static MngStatus EnterDetector(NativeHandle* detector, out DetectorState? state)
    {
        state = null;
        if (detector == null)
        {
            Fail(MngStatus.Null, "detector is NULL");
            return MngStatus.Null;
        }
        if (detector->Magic != DetectorMagic)
        {
            Fail(MngStatus.Argument, detector->Magic == NativeHandle.LiveMagic
                ? "a classifier handle (mng_create) was given where a detector (mng_detector_create) is expected"
                : "not a live detector (destroyed, or not created by mng_detector_create)");
            return MngStatus.Argument;
        }
        if (Interlocked.CompareExchange(ref detector->Busy, 1, 0) != 0)
        {
            Fail(MngStatus.Busy, "the detector is in use on another thread: use one detector per thread");
            return MngStatus.Busy;
        }
        state = (DetectorState)GCHandle.FromIntPtr(detector->Classifier).Target!;
        return MngStatus.Ok;
    }

    private static void EnsureDetectorStatic()
    {
        if (Volatile.Read(ref s_detectorStaticReady)) return;
        lock (s_detectorLock)
        {
            if (s_detectorStaticReady) return;
            var info = NativeDetector.ModelInfo;
            // The post-processing's labels: TFLite class c is label map line c + 1 (line 0 "???" is the background column),
            // or line c for a label map without a background line (DetectionPostprocess's rule).
            int classes = NativeDetector.PostprocessOptions.NumClasses;
            var map = NativeDetector.Labels;
            int offset = map.Count == classes ? 0 : 1;
            var labels = (byte**)NativeMemory.AllocZeroed((nuint)classes, (nuint)sizeof(byte*));
            for (int c = 0; c < classes; c++) labels[c] = Utf8Copy(c + offset < map.Count ? map[c + offset] : $"class {c}");
            s_detectionLabels = labels;
            s_detectionClasses = classes;
            s_detectorInfo.Name = Utf8Copy(info.Name);
            s_detectorInfo.Variant = Utf8Copy(info.Variant);
            s_detectorInfo.Alpha = (float)info.Alpha;
            s_detectorInfo.InputWidth = info.InputWidth;
            s_detectorInfo.InputHeight = info.InputHeight;
            s_detectorInfo.NumClasses = info.Classes;
            s_detectorInfo.NumAnchors = info.Anchors;
            using (var probe = new NativeDetector()) // as the classifier's EnsureStatic: the exact numbers a detector uses
            {
                s_detectorInfo.MaxDetections = probe.MaxDetections;
                s_detectorInfo.Simd = SimdName(probe.SimdPath);
            }
            s_detectorInfo.Macs = info.Macs;
            s_detectorInfo.Parameters = info.Parameters;
            s_detectorInfo.WeightBytes = info.WeightBytes;
            Volatile.Write(ref s_detectorStaticReady, true);
        }
    }
#endif
}
