using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Kernels;
using MobileNetGen.Variants;
using Xunit;

namespace MobileNetGen.Tests.Generated;

/// <summary>The <c>Threads</c> option: one inference split across persistent workers gives bit-identical logits for any
/// thread count and SIMD path and validates its argument (its zero-allocation test runs alone, in <see cref="Runtime.ConcurrencyTests"/>).</summary>
public class ThreadingTests
{
    public static TheoryData<string, SimdPath> Cases() => new()
    {
        // 0.25_128: every layer below KernelContract.MinSplitMacs, so all run on the calling thread; 0.25_224: runs of
        // whole layers between split ones; 1.0_224: 112×112 rows and 1024-channel panel splits; 0.75_192: odd panel
        // counts (48, 96 … channels) and 8-bit weights.
        { "0.25_128", SimdPath.Auto }, { "0.25_224", SimdPath.Auto }, { "1.0_224", SimdPath.Auto }, { "0.75_192", SimdPath.Auto },
        { "0.50_160", SimdPath.Vector128 }, { "0.50_160", SimdPath.Scalar },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Logits_and_embeddings_are_bit_identical_for_1_to_5_threads(string variant, SimdPath path)
    {
        float[] input = TestInputs.Uniform(VariantCatalog.Create(variant).InputLength);
        using var single = VariantCatalog.Create(variant, new MobileNetOptions { Simd = path });
        var expected = new float[single.NumClasses];
        single.Run(input, expected);
        float[] expectedEmbeddings = single.Embeddings.ToArray();

        foreach (int threads in new[] { 2, 3, 4, 5 })
        {
            using var threaded = VariantCatalog.Create(variant, new MobileNetOptions { Simd = path, Threads = threads });
            Assert.Equal(threads, threaded.Threads);
            var logits = new float[threaded.NumClasses];
            for (int run = 0; run < 3; run++) // the workers are reused across inferences
            {
                threaded.Run(input, logits);
                AssertBitIdentical($"{variant} {path} threads={threads} run {run} logits", expected, logits);
                AssertBitIdentical($"{variant} {path} threads={threads} run {run} embeddings", expectedEmbeddings, threaded.Embeddings.ToArray());
            }
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(-64)]
    [InlineData(LayerRunner.MaxThreads + 1)]
    public void Thread_count_out_of_range_is_an_argument_error(int threads)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => VariantCatalog.Create("0.25_128", new MobileNetOptions { Threads = threads }));
        Assert.Contains("Threads", e.Message);
    }

    [Fact]
    public void Threads_0_or_unset_takes_the_class_default_of_1()
    {
        using var unset = VariantCatalog.Create("0.25_128");
        using var zero = VariantCatalog.Create("0.25_128", new MobileNetOptions { Threads = 0 });
        Assert.Equal(1, unset.Threads);
        Assert.Equal(1, zero.Threads);
    }

    [Fact]
    public void Dispose_stops_the_workers_and_later_calls_throw()
    {
        var classifier = VariantCatalog.Create("0.25_128", new MobileNetOptions { Threads = 3 });
        var logits = new float[classifier.NumClasses];
        classifier.Run(TestInputs.Uniform(classifier.InputLength), logits);
        classifier.Dispose();
        classifier.Dispose(); // idempotent
        Assert.Throws<ObjectDisposedException>(() => classifier.Run(TestInputs.Uniform(classifier.InputLength), logits));
    }

    [Theory]
    [InlineData(10, 1, 4)]
    [InlineData(49, 6, 2)]
    [InlineData(64, 2, 3)]
    [InlineData(3, 2, 5)]
    public void Partition_covers_every_item_once_in_whole_grains(int count, int grain, int parts)
    {
        int next = 0;
        for (int part = 0; part < parts; part++)
        {
            Partition.Split(count, grain, part, parts, out int start, out int end);
            Assert.Equal(next, start);
            Assert.True(end >= start);
            Assert.True(start % grain == 0);
            Assert.True(end % grain == 0 || end == count);
            next = end;
        }
        Assert.Equal(count, next);
    }

    /// <summary>What <see cref="Record"/> saw: (layer, part, parts, managed thread id), in call order.</summary>
    private static readonly List<(int Layer, int Part, int Parts, int Thread)> s_calls = new();

    private static unsafe void Record(int layer, int part, int parts, float* input, float* a, float* b, SimdPath path)
    {
        lock (s_calls) s_calls.Add((layer, part, parts, Environment.CurrentManagedThreadId));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public unsafe void Runner_runs_whole_layers_once_on_the_caller_and_splits_the_others_each_after_the_last_is_done(int threads)
    {
        // Layers 1-3 are one run of whole layers, 5 another; 0, 4 and 6 are split.
        bool[] whole = { false, true, true, true, false, true, false };
        using var runner = new LayerRunner(threads);
        for (int round = 0; round < 3; round++) // the workers are reused across inferences
        {
            lock (s_calls) s_calls.Clear();
            runner.Run(&Record, whole.Length, whole, null, null, null, SimdPath.Auto);
            var calls = s_calls.ToList();
            int chunks = threads * LayerRunner.ChunksPerThread;
            for (int l = 0; l < whole.Length; l++)
            {
                var mine = calls.Where(c => c.Layer == l).ToList();
                if (whole[l])
                {
                    Assert.Single(mine);
                    Assert.Equal((0, 1, Environment.CurrentManagedThreadId), (mine[0].Part, mine[0].Parts, mine[0].Thread));
                }
                else
                {
                    Assert.Equal(Enumerable.Range(0, chunks), mine.Select(c => c.Part).OrderBy(p => p));
                    Assert.All(mine, c => Assert.Equal(chunks, c.Parts));
                }
            }
            // Layer order holds: every call of a layer comes before every call of the next one.
            for (int i = 1; i < calls.Count; i++) Assert.True(calls[i - 1].Layer <= calls[i].Layer, $"layer {calls[i].Layer} ran before layer {calls[i - 1].Layer} was done");
        }
    }

    [Fact]
    public unsafe void Runner_does_not_wait_for_a_worker_that_has_taken_no_chunk()
    {
        // The worker is held as a descheduled vCPU or a thread still waking would be: it has seen the inference and taken
        // nothing. The caller must finish the inference alone (an arrival barrier would wait for the worker forever here).
        bool[] whole = { false, true, false, false };
        using var runner = new LayerRunner(2);
        using var held = new ManualResetEventSlim(false);
        using var reached = new SemaphoreSlim(0);
        runner.WorkerStartingJob = () => { reached.Release(); held.Wait(); };
        int chunks = 2 * LayerRunner.ChunksPerThread;
        try
        {
            for (int round = 0; round < 2; round++) // the worker stays held through two inferences, then falls behind both
            {
                lock (s_calls) s_calls.Clear();
                var caller = new Thread(() => runner.Run(&Record, whole.Length, whole, null, null, null, SimdPath.Auto));
                caller.Start();
                Assert.True(caller.Join(TimeSpan.FromSeconds(60)), "the caller waited for a worker that had taken no chunk");
                var calls = s_calls.ToList();
                Assert.All(calls, c => Assert.Equal(caller.ManagedThreadId, c.Thread));
                AssertEveryChunkOnce(calls, whole, chunks);
            }
            Assert.True(reached.Wait(TimeSpan.FromSeconds(60)), "the worker never saw the first inference");
        }
        finally
        {
            runner.WorkerStartingJob = () => reached.Release();
            held.Set(); // the worker resumes inside the first inference, long over, with the second's fields and counters
        }
        // It must run nothing of the finished ones, then take its share of the next: each chunk once, in layer order.
        Assert.True(reached.Wait(TimeSpan.FromSeconds(60)), "the released worker never came back for the next inference");
        for (int round = 0; round < 20; round++)
        {
            lock (s_calls) s_calls.Clear();
            runner.Run(&Record, whole.Length, whole, null, null, null, SimdPath.Auto);
            var calls = s_calls.ToList();
            AssertEveryChunkOnce(calls, whole, chunks);
            for (int i = 1; i < calls.Count; i++) Assert.True(calls[i - 1].Layer <= calls[i].Layer, $"layer {calls[i].Layer} ran before layer {calls[i - 1].Layer} was done");
        }
    }

    private static void AssertEveryChunkOnce(List<(int Layer, int Part, int Parts, int Thread)> calls, bool[] whole, int chunks)
    {
        for (int l = 0; l < whole.Length; l++)
        {
            var mine = calls.Where(c => c.Layer == l).ToList();
            Assert.Equal(whole[l] ? new[] { 0 } : Enumerable.Range(0, chunks).ToArray(), mine.Select(c => c.Part).OrderBy(p => p).ToArray());
            Assert.All(mine, c => Assert.Equal(whole[l] ? 1 : chunks, c.Parts));
        }
    }

    [Fact]
    public void Adaptive_threads_give_the_same_logits_split_or_alone_and_count_both()
    {
        using var one = VariantCatalog.Create("0.25_224", new MobileNetOptions { Threads = 1 });
        using var two = VariantCatalog.Create("0.25_224", new MobileNetOptions { Threads = 2 });
        using var fixedTwo = VariantCatalog.Create("0.25_224", new MobileNetOptions { Threads = 2, AdaptiveThreads = false });
        var input = TestInputs.Uniform(one.InputLength);
        var expected = new float[one.NumClasses];
        one.Run(input, expected);
        var logits = new float[one.NumClasses];
        for (int i = 0; i < ThreadChoice.Warmup + 2; i++) // the first inferences alternate: both ways are taken
        {
            two.Run(input, logits);
            AssertBitIdentical($"adaptive, inference {i}", expected, logits);
            fixedTwo.Run(input, logits);
            AssertBitIdentical($"fixed, inference {i}", expected, logits);
        }
        Assert.True(two.InferencesAlone >= ThreadChoice.MinSamples, $"{two.InferencesAlone} inferences alone");
        Assert.True(two.InferencesSplit >= ThreadChoice.MinSamples, $"{two.InferencesSplit} inferences split");
        Assert.Equal(ThreadChoice.Warmup + 2, two.InferencesAlone + two.InferencesSplit);
        Assert.Equal((0L, 0L), (fixedTwo.InferencesAlone, fixedTwo.InferencesSplit)); // not adaptive: always split, nothing counted
        Assert.Equal((0L, 0L), (one.InferencesAlone, one.InferencesSplit));
    }

    [Fact]
    public void Thread_choice_keeps_the_split_while_it_wins_and_checks_alone_one_in_32()
    {
        var choice = new ThreadChoice();
        int alone = 0, n = 32 * 20;
        for (int i = 0; i < n; i++)
        {
            bool a = choice.Next();
            if (i >= ThreadChoice.Warmup && a) alone++;
            choice.Record(a, a ? 1000 : 570); // two threads at 0.57× one (1.0_224 on an idle 2-vCPU guest)
        }
        Assert.False(choice.PrefersAlone);
        Assert.InRange(alone, (n - ThreadChoice.Warmup) / ThreadChoice.CheckAloneEvery - 1, (n - ThreadChoice.Warmup) / ThreadChoice.CheckAloneEvery + 1);
    }

    [Fact]
    public void Thread_choice_goes_alone_when_the_split_turns_slow_and_comes_back_when_it_recovers()
    {
        var choice = new ThreadChoice();
        long splitTime = 600;
        int i = 0;
        void Step() { bool a = choice.Next(); choice.Record(a, a ? 1000 : splitTime); i++; }
        for (; i < 100;) Step();
        Assert.False(choice.PrefersAlone);
        splitTime = 1250; // the host takes the other vCPU: splitting is now 1.25× one thread
        int at = i;
        while (!choice.PrefersAlone && i < at + 100) Step();
        Assert.True(choice.PrefersAlone, "still splitting 100 inferences after the split turned slow");
        // The split is timed every inference (but a check alone may fall among them): its median turns once most of its
        // window is new.
        Assert.True(i - at <= ThreadChoice.Window / 2 + 2, $"took {i - at} inferences to go alone");
        int splits = 0;
        for (int k = 0; k < 8 * 10; k++) { bool a = choice.Next(); if (!a) splits++; choice.Record(a, a ? 1000 : splitTime); i++; }
        Assert.InRange(splits, 9, 11); // alone, with one split in 8 to check
        splitTime = 600; // the vCPU is back
        at = i;
        while (choice.PrefersAlone && i < at + 200) Step();
        Assert.False(choice.PrefersAlone, "still alone 200 inferences after the split recovered");
        Assert.True(i - at <= ThreadChoice.CheckSplitEvery * (ThreadChoice.Window / 2 + 2), $"took {i - at} inferences to split again");
    }

    [Fact]
    public unsafe void Runner_rejects_a_whole_table_shorter_than_the_layers()
    {
        using var runner = new LayerRunner(2);
        var e = Assert.Throws<ArgumentException>(() => runner.Run(&Record, 4, new bool[3], null, null, null, SimdPath.Auto));
        Assert.Contains("3 entries for 4 layers", e.Message);
    }

    private static void AssertBitIdentical(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: index {i} differs: {expected[i]:R} vs {actual[i]:R}");
    }
}
