using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MobileNetGen.Cli.Output;

/// <summary>One prediction of <c>classify --json</c>. <paramref name="Index"/> is the TF-slim ImageNet index 0..1000.</summary>
public sealed record PredictionJson(int Index, string Label, double Probability);

/// <summary>One image of <c>classify --json</c>.</summary>
/// <param name="Weights"><c>genuine-float</c>, <c>genuine-8bit</c> or <c>synthetic</c>.</param>
public sealed record ClassifyJson(string Image, string Variant, string Weights, string Simd, IReadOnlyList<PredictionJson> Predictions);

/// <summary>A skipped image of <c>eval --json</c>.</summary>
public sealed record ProblemJson(string File, string Reason);

/// <summary>
/// <c>eval --json</c>. <paramref name="Top1"/> and <paramref name="Top5"/> are fractions 0..1 of the evaluated images, null
/// for synthetic weights (no accuracy is reported for them) or when no image could be evaluated.
/// <paramref name="Missing"/> and <paramref name="Unreadable"/> are counts; the files are listed in
/// <paramref name="MissingFiles"/> and <paramref name="UnreadableFiles"/>.
/// </summary>
public sealed record EvalJson(
    string Variant,
    string Weights,
    int Images,
    double? Top1,
    double? Top5,
    int Missing,
    int Unreadable,
    int Listed,
    int Top1Correct,
    int Top5Correct,
    IReadOnlyList<string> MissingFiles,
    IReadOnlyList<ProblemJson> UnreadableFiles,
    double Seconds,
    int Workers,
    string Simd);

/// <summary>
/// One row of <c>variants --json</c>. <paramref name="Macs"/> and <paramref name="Params"/> are computed from the architecture
/// (1001 classes); the published figures are the TF-slim table's, converted from millions to plain counts.
/// <paramref name="Extra"/> marks entries beyond the 16 variants (the 2018 TFLite re-release).
/// </summary>
public sealed record VariantJson(
    string Variant,
    string Name,
    bool Extra,
    double Alpha,
    int Resolution,
    long Macs,
    long Params,
    long? PublishedMacs,
    long? PublishedParams,
    double? Top1Published,
    double? Top5Published,
    bool MacsDifferFromPublished,
    string Weights,
    string Source,
    int NumClasses);

/// <summary>Source-generated System.Text.Json metadata (no reflection: trimming and NativeAOT safe), snake_case names.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(List<ClassifyJson>))]
[JsonSerializable(typeof(EvalJson))]
[JsonSerializable(typeof(List<VariantJson>))]
public sealed partial class CliJsonContext : JsonSerializerContext
{
}

/// <summary>Writes the CLI's JSON documents.</summary>
public static class Json
{
    /// <summary>Non-ASCII file names and labels stay readable (the output is UTF-8); HTML-sensitive characters are not escaped.</summary>
    public static readonly CliJsonContext Context = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static string Serialize(List<ClassifyJson> value) => JsonSerializer.Serialize(value, Context.ListClassifyJson);
    public static string Serialize(EvalJson value) => JsonSerializer.Serialize(value, Context.EvalJson);
    public static string Serialize(List<VariantJson> value) => JsonSerializer.Serialize(value, Context.ListVariantJson);

    /// <summary>Rounds a probability or fraction for output (6 decimals: no float-to-double noise).</summary>
    public static double Round(double value) => Math.Round(value, 6);
}
