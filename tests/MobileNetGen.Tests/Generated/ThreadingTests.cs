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
    public unsafe void Runner_runs_whole_layers_once_on_the_caller_and_splits_the_others_with_a_barrier_after_each(int threads)
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
