using System.Diagnostics;
using System.Runtime.ExceptionServices;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Variants;
using MobileNetGen.Cli.Commands;

namespace MobileNetGen.Cli.Evaluation;

/// <summary>The outcome of one evaluated image.</summary>
/// <param name="File">Path relative to the image folder, as in the ground truth.</param>
/// <param name="Expected">Ground-truth TF-slim index (1..1000); for a custom head, the output index of the row's label.</param>
/// <param name="Top">The top-5 TF-slim indices (custom head: output indices), best first.</param>
/// <param name="Probability">Probability of the top-1 prediction.</param>
public sealed record EvalImageResult(string File, int Expected, int[] Top, float Probability)
{
    public int Predicted => Top[0];
    public bool Top1 => Top[0] == Expected;
    public bool Top5 => Array.IndexOf(Top, Expected) >= 0;
}

/// <summary>An image that was skipped: missing, or present but not decodable.</summary>
public sealed record EvalProblem(string File, string Reason);

/// <summary>The result of evaluating one classifier on a labelled image folder.</summary>
/// <param name="Entry">The catalog entry evaluated (<see cref="VariantEntry.Name"/>, e.g. <c>mobilenet_v1_0.25_224</c>).</param>
/// <param name="Listed">Images taken from the ground truth (after <c>limit</c>).</param>
/// <param name="Images">Per-image outcomes of the evaluated images, in ground-truth order.</param>
/// <param name="Missing">Listed images that do not exist.</param>
/// <param name="Unreadable">Listed images that exist but could not be decoded.</param>
/// <param name="Elapsed">Wall time of the evaluation (model creation, decoding, preprocessing, inference).</param>
/// <param name="Workers">Classifier instances run in parallel (one per worker).</param>
public sealed record EvalResult(
    VariantEntry Entry,
    int Listed,
    IReadOnlyList<EvalImageResult> Images,
    IReadOnlyList<EvalProblem> Missing,
    IReadOnlyList<EvalProblem> Unreadable,
    TimeSpan Elapsed,
    int Workers)
{
    public MobileNetModelInfo Info => Entry.Info;

    /// <summary>
    /// Image files (<c>.jpg</c>, <c>.jpeg</c>, <c>.png</c>, <c>.bmp</c>, any letter case, in the folder or below it) that the
    /// ground truth does not list, relative to the folder with '/' separators, sorted: reported, not evaluated.
    /// </summary>
    public IReadOnlyList<string> Extra { get; init; } = Array.Empty<string>();

    /// <summary>True when the weights are synthetic: the accuracy figures then mean nothing and must not be shown as accuracy.</summary>
    public bool IsSynthetic => Info.Weights == WeightsKind.Synthetic;

    /// <summary>Images actually classified (listed minus missing and unreadable).</summary>
    public int Evaluated => Images.Count;

    public int Top1Correct => Images.Count(r => r.Top1);
    public int Top5Correct => Images.Count(r => r.Top5);

    /// <summary>Top-1 accuracy as a fraction 0..1 of the evaluated images (0 when none was evaluated).</summary>
    public double Top1 => Evaluated == 0 ? 0 : (double)Top1Correct / Evaluated;

    /// <summary>Top-5 accuracy as a fraction 0..1 of the evaluated images (0 when none was evaluated).</summary>
    public double Top5 => Evaluated == 0 ? 0 : (double)Top5Correct / Evaluated;
}

/// <summary>
/// Runs a generated classifier over a labelled image folder (<c>DIR/ground_truth.tsv</c>) and counts top-1 / top-5 hits
/// against the TF-slim index. Images are spread over <c>workers</c> threads, each with its own classifier instance
/// (instances are not thread-safe; they share the embedded weights).
/// </summary>
public static class Evaluator
{
    public const int TopK = 5;

    /// <summary>Evaluates a variant (any name <see cref="VariantCatalog.Find"/> accepts) on <c>imagesDir/ground_truth.tsv</c>.</summary>
    /// <param name="limit">Evaluate only the first N listed images.</param>
    /// <param name="progress">Receives the number of images processed so far (from worker threads; values may arrive out of order).</param>
    /// <param name="workers">Parallel workers; default <see cref="Environment.ProcessorCount"/>.</param>
    /// <exception cref="ArgumentException">Unknown variant (the message lists the known ones) or a bad limit.</exception>
    /// <exception cref="GroundTruthException">The folder or its ground_truth.tsv is missing or malformed.</exception>
    /// <param name="options">Classifier options (e.g. the resize method); default TF-slim preprocessing on the widest SIMD path.</param>
    public static EvalResult Evaluate(string variant, string imagesDir, int? limit = null, IProgress<int>? progress = null, int? workers = null, CancellationToken cancellationToken = default, MobileNetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(variant);
        var entry = VariantCatalog.Find(variant) ?? throw new ArgumentException(VariantLookup.UnknownVariantMessage(variant));
        var truth = GroundTruth.LoadFromDirectory(imagesDir);
        return Evaluate(entry, truth, imagesDir, limit, progress, workers, cancellationToken, options);
    }

    /// <summary>Evaluates a catalog entry on already-parsed ground truth whose file names are relative to <paramref name="imagesDir"/>.</summary>
    public static EvalResult Evaluate(VariantEntry entry, IReadOnlyList<GroundTruthEntry> truth, string imagesDir, int? limit = null, IProgress<int>? progress = null, int? workers = null, CancellationToken cancellationToken = default, MobileNetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(imagesDir);
        if (limit is < 1) throw new ArgumentException($"limit must be at least 1, got {limit}", nameof(limit));
        if (workers is < 1) throw new ArgumentException($"workers must be at least 1, got {workers}", nameof(workers));

        var sw = Stopwatch.StartNew();
        int n = limit is int l ? Math.Min(l, truth.Count) : truth.Count;
        // A custom head is scored by output index: each row's label must be one of the model's labels.
        bool custom = !entry.Info.ImageNetLabels;
        var expected = new int[n];
        Dictionary<string, int>? byLabel = null;
        if (custom)
        {
            byLabel = new Dictionary<string, int>(StringComparer.Ordinal);
            using (var m = entry.Create(options))
                for (int c = 0; c < m.NumClasses; c++) byLabel.TryAdd(m.LabelOf(c), c);
        }
        for (int i = 0; i < n; i++)
        {
            var gt = truth[i];
            if (custom)
            {
                if (gt.Label == null || gt.SlimIndex != 0)
                    throw new GroundTruthException($"line {gt.Line}: '{entry.Name}' has a custom classifier head: the ground truth needs a '{GroundTruth.LabelColumn}' column (one of the model's labels), not ImageNet indices");
                expected[i] = byLabel!.TryGetValue(gt.Label, out int c) ? c
                    : throw new GroundTruthException($"line {gt.Line}: label '{gt.Label}' is not one of the {byLabel.Count} labels of '{entry.Name}'");
            }
            else
            {
                if (gt.SlimIndex == 0)
                    throw new GroundTruthException($"line {gt.Line}: '{entry.Name}' is an ImageNet model: the ground truth needs the '{GroundTruth.SlimIndexColumn}' column");
                expected[i] = gt.SlimIndex;
            }
        }
        int w = Math.Max(1, Math.Min(workers ?? Environment.ProcessorCount, n));
        var results = new EvalImageResult?[n];
        var problems = new EvalProblem?[n];
        var missing = new bool[n];
        int next = -1, done = 0;

        void Worker()
        {
            using var model = entry.Create(options);
            var top = new Prediction[Math.Min(TopK, model.NumClasses)];
            int i;
            while ((i = Interlocked.Increment(ref next)) < n)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var gt = truth[i];
                string path = Path.Combine(imagesDir, gt.File);
                if (!File.Exists(path))
                {
                    missing[i] = true;
                    problems[i] = new EvalProblem(gt.File, Directory.Exists(path) ? "is a directory" : "file not found");
                }
                else
                {
                    try
                    {
                        using var image = ImageLoader.LoadRgb24(path);
                        var p = model.Classify(image, top.Length);
                        results[i] = new EvalImageResult(gt.File, expected[i], p.Select(x => custom ? x.OutputIndex : x.ImageNetIndex).ToArray(), p[0].Probability);
                    }
                    catch (ImageLoadException e)
                    {
                        problems[i] = new EvalProblem(gt.File, Messages.ImageLoadReason(e, path));
                    }
                }
                progress?.Report(Interlocked.Increment(ref done));
            }
        }

        if (w == 1 || n <= 1)
        {
            Worker();
        }
        else
        {
            try
            {
                Parallel.For(0, w, new ParallelOptions { MaxDegreeOfParallelism = w }, _ => Worker());
            }
            catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
            {
                var first = e.InnerExceptions.FirstOrDefault(x => x is OperationCanceledException) ?? e.InnerExceptions[0];
                ExceptionDispatchInfo.Capture(first).Throw();
                throw;
            }
        }
        sw.Stop();

        var images = new List<EvalImageResult>(n);
        var miss = new List<EvalProblem>();
        var bad = new List<EvalProblem>();
        for (int i = 0; i < n; i++)
        {
            if (results[i] is { } r) images.Add(r);
            else if (missing[i]) miss.Add(problems[i]!);
            else if (problems[i] is { } p) bad.Add(p);
        }
        return new EvalResult(entry, n, images, miss, bad, sw.Elapsed, w) { Extra = UnlistedImages(imagesDir, truth) };
    }

    private static readonly string[] ImageExtensions = { ".jpg", ".jpeg", ".png", ".bmp" };

    /// <summary>Image files under <paramref name="imagesDir"/> that no ground-truth row names (best effort: unreadable folders are skipped).</summary>
    public static IReadOnlyList<string> UnlistedImages(string imagesDir, IReadOnlyList<GroundTruthEntry> truth)
    {
        static string Normalize(string p) => p.Replace('\\', '/');
        var listed = new HashSet<string>(truth.Select(t => Normalize(t.File)), StringComparer.Ordinal);
        var extra = new List<string>();
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            MaxRecursionDepth = 16,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System | FileAttributes.ReparsePoint,
        };
        try
        {
            foreach (string file in Directory.EnumerateFiles(imagesDir, "*", options))
            {
                if (Array.IndexOf(ImageExtensions, Path.GetExtension(file).ToLowerInvariant()) < 0) continue;
                string relative = Normalize(Path.GetRelativePath(imagesDir, file));
                if (!listed.Contains(relative)) extra.Add(relative);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        extra.Sort(StringComparer.Ordinal);
        return extra;
    }
}
