using System.Diagnostics;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Kernels;
using MobileNetGen.Tests.Generated;
using MobileNetGen.Variants;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Runtime;

/// <summary>
/// Many threads at once: separate instances give the single-threaded results bit for bit; sharing one instance between
/// threads (unsupported: it owns one workspace) is detected and refused; memory stays flat over 10,000 inferences; a
/// threaded instance's workers allocate nothing.
/// </summary>
[Collection(nameof(ConcurrencyTests))]
public class ConcurrencyTests(ITestOutputHelper output)
{
    private const string Variant = "0.25_128";

    [Fact]
    public void Eight_threads_times_500_inferences_on_separate_instances_match_the_single_threaded_results()
    {
        const int threads = 8, perThread = 500, distinctInputs = 16;
        int inputLength = VariantCatalog.Create(Variant).InputLength;
        var inputs = new float[distinctInputs][];
        var expected = new float[distinctInputs][];
        using (var single = VariantCatalog.Create(Variant))
        {
            for (int i = 0; i < distinctInputs; i++)
            {
                inputs[i] = TestInputs.Uniform(inputLength, TestInputs.Seed + (ulong)i);
                expected[i] = new float[single.NumClasses];
                single.Run(inputs[i], expected[i]);
            }
        }

        var mismatches = new int[threads];
        var workers = new Thread[threads];
        using var start = new Barrier(threads);
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                using var classifier = VariantCatalog.Create(Variant);
                var logits = new float[classifier.NumClasses];
                start.SignalAndWait();
                for (int n = 0; n < perThread; n++)
                {
                    int k = (id * 7 + n) % distinctInputs; // every thread walks the inputs in its own order
                    classifier.Run(inputs[k], logits);
                    if (!logits.AsSpan().SequenceEqual(expected[k])) mismatches[id]++;
                }
            });
            workers[t].Start();
        }
        foreach (var w in workers) w.Join();
        Assert.Equal(new int[threads], mismatches);
    }

    [Fact]
    public void Sharing_one_instance_between_threads_is_detected_and_refused_and_the_owner_keeps_working()
    {
        using var shared = VariantCatalog.Create("1.0_224"); // slow enough (~40 ms) that calls overlap
        float[] input = TestInputs.Uniform(shared.InputLength);
        var expected = new float[shared.NumClasses];
        shared.Run(input, expected);

        int refused = 0, completed = 0, wrong = 0;
        var threads = new Thread[4];
        using var start = new Barrier(threads.Length);
        for (int t = 0; t < threads.Length; t++)
        {
            threads[t] = new Thread(() =>
            {
                var logits = new float[shared.NumClasses];
                start.SignalAndWait();
                for (int n = 0; n < 10; n++)
                {
                    try
                    {
                        shared.Run(input, logits);
                        Interlocked.Increment(ref completed);
                        if (!logits.AsSpan().SequenceEqual(expected)) Interlocked.Increment(ref wrong);
                    }
                    catch (InvalidOperationException e) when (e.Message.Contains("not thread-safe"))
                    {
                        Interlocked.Increment(ref refused);
                    }
                }
            });
            threads[t].Start();
        }
        foreach (var t in threads) t.Join();
        output.WriteLine($"completed {completed}, refused {refused}");
        Assert.True(refused > 0, "4 threads x 10 overlapping calls on one instance: no overlap was detected");
        Assert.True(completed > 0);
        Assert.Equal(0, wrong); // a call that was let through ran alone and is exact
        var after = new float[shared.NumClasses];
        shared.Run(input, after); // the instance is still usable once the threads stopped
        Assert.Equal(expected, after);
    }

    [Fact]
    public void Threaded_run_allocates_nothing_on_any_thread_after_warm_up()
    {
        using var classifier = VariantCatalog.Create("0.25_128", new MobileNetOptions { Threads = 2 });
        float[] input = TestInputs.Uniform(classifier.InputLength);
        var logits = new float[classifier.NumClasses];
        // Past tiered compilation's call counting and its background recompiles (which may allocate on their own thread).
        for (int i = 0; i < 300; i++) classifier.Run(input, logits);

        // Process-wide, so the workers count too (this collection runs alone); the least of a few windows, in case the
        // runtime itself allocates meanwhile: a window with nothing allocated proves the inference path allocates nothing.
        long least = long.MaxValue;
        // On a loaded machine the tiering worker, delayed, recompiles (and allocates) late: pause between windows so it can finish.
        int windows = 0;
        for (; windows < 20 && least != 0; windows++)
        {
            if (windows > 0) Thread.Sleep(100);
            // Finalizers of objects other tests left (Roslyn compilations, images) run on their own thread and allocate.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 20; i++) classifier.Run(input, logits);
            least = Math.Min(least, GC.GetTotalAllocatedBytes(precise: true) - before);
        }
        Assert.True(least == 0, $"20 threaded Run calls allocated {least} bytes process-wide in the quietest of {windows} windows");
    }

    [Fact]
    public void Adaptive_threads_allocate_nothing_from_the_second_inference()
    {
        // A fresh instance on two threads, through the first decisions of AdaptiveThreads (the alternating start, the first
        // comparisons of medians): the calling thread allocates nothing after the first inference, which packs the weights.
        // (Span.Sort in the comparison once allocated its helper object here, inside a timed inference of bench.)
        using var classifier = VariantCatalog.Create("0.25_224", new MobileNetOptions { Threads = 2 });
        float[] input = TestInputs.Uniform(classifier.InputLength);
        var logits = new float[classifier.NumClasses];
        classifier.Run(input, logits);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 2 * ThreadChoice.Warmup + ThreadChoice.CheckAloneEvery; i++) classifier.Run(input, logits);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(classifier.InferencesAlone > 0 && classifier.InferencesSplit > 0, "both ways were not taken");
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Memory_stays_flat_over_10000_inferences()
    {
        const int total = 10_000, window = 1_000;
        using var classifier = VariantCatalog.Create(Variant);
        const int width = 200, height = 150, stride = width * 3;
        byte[] pixels = TestInputs.Rgb24(width, height, stride);
        var top = new Prediction[5];
        for (int i = 0; i < 100; i++) classifier.ClassifyRgb24(pixels, width, height, stride, top);

        var process = Process.GetCurrentProcess();
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        process.Refresh();
        long managedStart = GC.GetTotalMemory(forceFullCollection: true);
        long privateStart = process.PrivateMemorySize64;
        long privatePeak = privateStart, allocated = 0;
        for (int done = 0; done < total; done += window)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < window; i++) classifier.ClassifyRgb24(pixels, width, height, stride, top);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            process.Refresh(); // reading /proc allocates, so it stays outside the counted windows
            privatePeak = Math.Max(privatePeak, process.PrivateMemorySize64);
        }
        long managedEnd = GC.GetTotalMemory(forceFullCollection: true);
        process.Refresh();
        long privateEnd = process.PrivateMemorySize64;
        output.WriteLine($"{total} inferences: allocated {allocated} B on this thread; managed heap {managedStart} -> {managedEnd} B; " +
                         $"private memory {privateStart / 1024} -> {privateEnd / 1024} KiB (peak {privatePeak / 1024} KiB)");
        Assert.Equal(0, allocated);
        // Native memory (workspace, weights) is allocated once; allow 8 MiB of noise from other tests' threads and the runtime.
        Assert.True(privatePeak - privateStart < 8 << 20, $"private memory grew by {(privatePeak - privateStart) / 1024} KiB over {total} inferences");
        Assert.True(managedEnd - managedStart < 1 << 20, $"managed heap grew by {(managedEnd - managedStart) / 1024} KiB over {total} inferences");
    }
}

/// <summary>Runs after the parallel tests, alone: the memory soak reads the whole process's memory.</summary>
[CollectionDefinition(nameof(ConcurrencyTests), DisableParallelization = true)]
public class ConcurrencyTestsCollection;
