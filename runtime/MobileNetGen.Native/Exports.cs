using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Labels;

namespace MobileNetGen.Native;

/// <summary>Return codes of the C ABI; keep in sync with <c>include/mobilenet.h</c>.</summary>
internal enum MngStatus
{
    Ok = 0,
    Null = 1,
    Argument = 2,
    BufferTooSmall = 3,
    Dimensions = 4,
    Stride = 5,
    KRange = 6,
    Busy = 7,
    NotBuilt = 8,
    Internal = 100,
}

/// <summary><c>mng_prediction</c>: 16 bytes on 64-bit targets.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MngPrediction
{
    public int Index;
    public float Probability;
    public byte* Label;
}

/// <summary><c>mng_info</c> (filled by <c>mng_model_info</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MngModelInfo
{
    public byte* Name;
    public byte* Variant;
    public float Alpha;
    public int Resolution;
    public int NumClasses;
    public int FeatureSize;
    public byte* WeightsKind;
    public long Macs;
    public long Parameters;
    public long WeightBytes;
    public byte* Simd;
}

/// <summary>What a C handle points at: a magic number (to reject foreign pointers and destroyed handles), a busy flag
/// (to reject concurrent use of one handle) and the GC handle of the classifier that owns the workspace.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeHandle
{
    public const ulong LiveMagic = 0x4D4E_4731_4C49_5645; // "MNG1LIVE"
    public ulong Magic;
    public int Busy;
    public int Reserved;
    public nint Classifier;
}

/// <summary>State behind one handle: the classifier and a reusable prediction buffer (inference allocates nothing).</summary>
internal sealed class HandleState(NativeModel model)
{
    public readonly NativeModel Model = model;
    public readonly Prediction[] Top = new Prediction[model.NumClasses];
}

/// <summary>
/// The exported C functions (<c>include/mobilenet.h</c>; the detector's are in DetectorExports.cs). Every entry point catches every exception: nothing managed
/// crosses the boundary; failures become a status code plus a thread-local message (<c>mng_last_error</c>).
/// </summary>
internal static unsafe partial class Exports
{
    /// <summary>Largest accepted image side, as in the managed preprocessing.</summary>
    private const int MaxDimension = 32768;

    [ThreadStatic] private static byte* t_error;
    private const int ErrorCapacity = 1024;

    private static readonly object s_lock = new();
    private static byte** s_outputLabels;   // label per model output, UTF-8, never freed
    private static byte** s_imagenetLabels; // label per TF-slim ImageNet index 0..1000, UTF-8, never freed
    private static MngModelInfo s_info;
    private static bool s_staticReady;

    // ----- library ---------------------------------------------------------------------------------------------------

    [UnmanagedCallersOnly(EntryPoint = "mng_version")]
    public static byte* Version() => Utf8Literal("0.1.0"u8);

    [UnmanagedCallersOnly(EntryPoint = "mng_last_error")]
    public static byte* LastError()
    {
        try
        {
            return t_error != null ? t_error : Utf8Literal("\0"u8); // "" (an empty u8 literal may have no storage)
        }
        catch
        {
            return null;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "mng_model_info")]
    public static int ModelInfo(MngModelInfo* info)
    {
        try
        {
            if (info == null) return Fail(MngStatus.Null, "info is NULL");
            EnsureStatic();
            *info = s_info;
            return Ok();
        }
        catch (Exception e)
        {
            return Internal(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "mng_output_label")]
    public static byte* OutputLabel(int output)
    {
        try
        {
            EnsureStatic();
            if ((uint)output >= (uint)s_info.NumClasses)
            {
                Fail(MngStatus.Argument, $"output index {output} is outside 0..{s_info.NumClasses - 1}");
                return null;
            }
            return s_outputLabels[output];
        }
        catch (Exception e)
        {
            Internal(e);
            return null;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "mng_label")]
    public static byte* Label(int index)
    {
        try
        {
            EnsureStatic();
            if ((uint)index >= ImageNetLabels.Count)
            {
                Fail(MngStatus.Argument, $"label index {index} is outside 0..{ImageNetLabels.Count - 1}");
                return null;
            }
            return s_imagenetLabels[index];
        }
        catch (Exception e)
        {
            Internal(e);
            return null;
        }
    }

    // ----- handles ---------------------------------------------------------------------------------------------------

    [UnmanagedCallersOnly(EntryPoint = "mng_create")]
    public static int Create(NativeHandle** handle)
    {
        try
        {
            if (handle == null) return Fail(MngStatus.Null, "handle output pointer is NULL");
            *handle = null;
            EnsureStatic();
            var state = new HandleState(new NativeModel());
            var h = (NativeHandle*)NativeMemory.AllocZeroed((nuint)sizeof(NativeHandle));
            h->Classifier = GCHandle.ToIntPtr(GCHandle.Alloc(state));
            h->Magic = NativeHandle.LiveMagic;
            *handle = h;
            return Ok();
        }
        catch (Exception e)
        {
            return Internal(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "mng_destroy")]
    public static void Destroy(NativeHandle* handle)
    {
        try
        {
            if (handle == null || handle->Magic != NativeHandle.LiveMagic) return;
            handle->Magic = 0;
            var gc = GCHandle.FromIntPtr(handle->Classifier);
            (gc.Target as HandleState)?.Model.Dispose();
            gc.Free();
            NativeMemory.Free(handle);
        }
        catch (Exception e)
        {
            Internal(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "mng_simd")]
    public static byte* Simd(NativeHandle* handle)
    {
        try
        {
            var status = Enter(handle, out HandleState? state);
            if (status != MngStatus.Ok) return null;
            try
            {
                return SimdName(state!.Model.SimdPath);
            }
            finally
            {
                Leave(handle);
            }
        }
        catch (Exception e)
        {
            Internal(e);
            return null;
        }
    }

    // ----- inference -------------------------------------------------------------------------------------------------

    [UnmanagedCallersOnly(EntryPoint = "mng_classify_rgb24")]
    public static int ClassifyRgb24(NativeHandle* handle, byte* pixels, nuint pixelsLength, int width, int height, int stride, int k, MngPrediction* output) =>
        Classify(handle, pixels, pixelsLength, width, height, stride, k, output, bytesPerPixel: 3);

    [UnmanagedCallersOnly(EntryPoint = "mng_classify_bgra32")]
    public static int ClassifyBgra32(NativeHandle* handle, byte* pixels, nuint pixelsLength, int width, int height, int stride, int k, MngPrediction* output) =>
        Classify(handle, pixels, pixelsLength, width, height, stride, k, output, bytesPerPixel: 4);

    [UnmanagedCallersOnly(EntryPoint = "mng_embeddings")]
    public static int Embeddings(NativeHandle* handle, float* output, int capacity)
    {
        try
        {
            if (output == null && handle != null) return Fail(MngStatus.Null, "output is NULL");
            var status = Enter(handle, out HandleState? state);
            if (status != MngStatus.Ok) return (int)status;
            try
            {
                ReadOnlySpan<float> features = state!.Model.Embeddings;
                if (capacity < features.Length)
                    return Fail(MngStatus.BufferTooSmall, $"capacity {capacity} is below the feature size {features.Length}");
                features.CopyTo(new Span<float>(output, features.Length));
                return Ok();
            }
            finally
            {
                Leave(handle);
            }
        }
        catch (Exception e)
        {
            return Internal(e);
        }
    }

    private static int Classify(NativeHandle* handle, byte* pixels, nuint pixelsLength, int width, int height, int stride, int k, MngPrediction* output, int bytesPerPixel)
    {
        try
        {
            if (handle == null) return Fail(MngStatus.Null, "handle is NULL");
            if (pixels == null) return Fail(MngStatus.Null, "pixels is NULL");
            if (output == null) return Fail(MngStatus.Null, "output is NULL");
            var status = CheckImage(pixelsLength, width, height, stride, bytesPerPixel, out long needed);
            if (status != MngStatus.Ok) return (int)status;

            status = Enter(handle, out HandleState? state);
            if (status != MngStatus.Ok) return (int)status;
            try
            {
                var model = state!.Model;
                if (k < 1 || k > model.NumClasses) return Fail(MngStatus.KRange, $"k {k} is outside 1..{model.NumClasses}");
                var top = state.Top.AsSpan(0, k);
                var source = new ReadOnlySpan<byte>(pixels, (int)needed);
                if (bytesPerPixel == 3) model.ClassifyRgb24(source, width, height, stride, top);
                else model.ClassifyBgra32(source, width, height, stride, top);
                for (int i = 0; i < top.Length; i++)
                {
                    output[i].Index = top[i].ImageNetIndex;
                    output[i].Probability = top[i].Probability;
                    output[i].Label = s_outputLabels[top[i].OutputIndex];
                }
                return Ok();
            }
            finally
            {
                Leave(handle);
            }
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

    // ----- helpers ---------------------------------------------------------------------------------------------------

    /// <summary>The image checks every classify and detect entry point makes, in this order; <paramref name="needed"/> is the
    /// bytes the image spans (stride*(height-1) + width*bpp).</summary>
    private static MngStatus CheckImage(nuint pixelsLength, int width, int height, int stride, int bytesPerPixel, out long needed)
    {
        needed = 0;
        if (width < 1 || width > MaxDimension) return (MngStatus)Fail(MngStatus.Dimensions, $"width {width} is outside 1..{MaxDimension}");
        if (height < 1 || height > MaxDimension) return (MngStatus)Fail(MngStatus.Dimensions, $"height {height} is outside 1..{MaxDimension}");
        long rowBytes = (long)width * bytesPerPixel;
        if (stride < rowBytes) return (MngStatus)Fail(MngStatus.Stride, $"stride {stride} is below width*{bytesPerPixel} = {rowBytes}");
        needed = (long)stride * (height - 1) + rowBytes;
        if (needed > int.MaxValue) return (MngStatus)Fail(MngStatus.Dimensions, $"a {width}x{height} image with stride {stride} spans {needed} bytes, above the 2 GiB limit");
        if (pixelsLength < (ulong)needed)
            return (MngStatus)Fail(MngStatus.BufferTooSmall, $"pixels_length {pixelsLength} is below stride*(height-1)+width*{bytesPerPixel} = {needed}");
        return MngStatus.Ok;
    }

    /// <summary>Validates a handle and marks it busy; a second thread using the same handle at once gets MNG_E_BUSY.</summary>
    private static MngStatus Enter(NativeHandle* handle, out HandleState? state)
    {
        state = null;
        if (handle == null)
        {
            Fail(MngStatus.Null, "handle is NULL");
            return MngStatus.Null;
        }
        if (handle->Magic != NativeHandle.LiveMagic)
        {
            Fail(MngStatus.Argument, handle->Magic == DetectorMagic
                ? "a detector (mng_detector_create) was given where a classifier handle (mng_create) is expected"
                : "not a live handle (destroyed, or not created by mng_create)");
            return MngStatus.Argument;
        }
        if (Interlocked.CompareExchange(ref handle->Busy, 1, 0) != 0)
        {
            Fail(MngStatus.Busy, "the handle is in use on another thread: use one handle per thread");
            return MngStatus.Busy;
        }
        state = (HandleState)GCHandle.FromIntPtr(handle->Classifier).Target!;
        return MngStatus.Ok;
    }

    private static void Leave(NativeHandle* handle) => Volatile.Write(ref handle->Busy, 0);

    private static void EnsureStatic()
    {
        if (Volatile.Read(ref s_staticReady)) return;
        lock (s_lock)
        {
            if (s_staticReady) return;
            var info = NativeModel.ModelInfo;
            using (var probe = new NativeModel())
            {
                var outputs = (byte**)NativeMemory.AllocZeroed((nuint)info.NumClasses, (nuint)sizeof(byte*));
                for (int o = 0; o < info.NumClasses; o++) outputs[o] = Utf8Copy(probe.LabelOf(o));
                s_outputLabels = outputs;
                s_info.Simd = SimdName(probe.SimdPath);
            }
            var labels = (byte**)NativeMemory.AllocZeroed(ImageNetLabels.Count, (nuint)sizeof(byte*));
            for (int i = 0; i < ImageNetLabels.Count; i++) labels[i] = Utf8Copy(ImageNetLabels.All[i]);
            s_imagenetLabels = labels;
            s_info.Name = Utf8Copy(info.Name);
            s_info.Variant = Utf8Copy(info.Variant);
            s_info.Alpha = (float)info.Alpha;
            s_info.Resolution = info.Resolution;
            s_info.NumClasses = info.NumClasses;
            s_info.FeatureSize = info.FeatureSize;
            s_info.WeightsKind = info.Weights switch
            {
                WeightsKind.GenuineFloat => Utf8Literal("genuine-float"u8),
                WeightsKind.Genuine8Bit => Utf8Literal("genuine-8bit"u8),
                WeightsKind.GenuineUInt8 => Utf8Literal("genuine-uint8"u8),
                _ => Utf8Literal("synthetic"u8),
            };
            s_info.Macs = info.Macs;
            s_info.Parameters = info.Parameters;
            s_info.WeightBytes = info.WeightBytes;
            Volatile.Write(ref s_staticReady, true);
        }
    }

    private static byte* SimdName(SimdPath path) => path switch
    {
        SimdPath.Vector512 => Utf8Literal("Vector512"u8),
        SimdPath.Vector256 => Utf8Literal("Vector256"u8),
        SimdPath.Vector128 => Utf8Literal("Vector128"u8),
        _ => Utf8Literal("Scalar"u8),
    };

    /// <summary>A u8 literal lives in the image's read-only data, NUL-terminated by the compiler: a stable C string.</summary>
    private static byte* Utf8Literal(ReadOnlySpan<byte> literal) =>
        (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(literal));

    /// <summary>A NUL-terminated UTF-8 copy in native memory that lives as long as the process.</summary>
    private static byte* Utf8Copy(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        var p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
        p[n] = 0;
        return p;
    }

    private static int Ok() => (int)MngStatus.Ok;

    private static int Internal(Exception e) => Fail(MngStatus.Internal, $"internal error: {e.GetType().Name}: {e.Message}");

    private static int Fail(MngStatus status, string message)
    {
        try
        {
            if (t_error == null) t_error = (byte*)NativeMemory.Alloc(ErrorCapacity);
            var buffer = new Span<byte>(t_error, ErrorCapacity - 1);
            // Truncate on a UTF-8 boundary.
            var encoder = Encoding.UTF8.GetEncoder();
            encoder.Convert(message, buffer, flush: true, out _, out int written, out _);
            t_error[written] = 0;
        }
        catch
        {
            // Out of memory while reporting: the status code still tells the caller what happened.
        }
        return (int)status;
    }
}
