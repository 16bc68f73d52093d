using MobileNetGen.Model;
using MobileNetGen.Runtime;
using MobileNetGen.Variants;

namespace MobileNetGen.Measurement;

/// <summary>
/// The canonical weights a generated entry was built from, for the ONNX Runtime baseline: the file embedded in the entry's
/// assembly (exactly the weights the class runs), else <c>weights/{entry.Name}.safetensors</c> (the repository's
/// <c>weights/</c> folder, found by walking up from the tool's folder and from the current directory), or, for synthetic
/// entries, <see cref="SyntheticWeights.Create"/> with the generator's default seed.
/// </summary>
public static class CanonicalWeightsSource
{
    public static SafeTensorsFile For(VariantEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Info.Weights == WeightsKind.Synthetic)
            return SyntheticWeights.Create(VariantName.Parse(entry.Variant), SyntheticWeights.DefaultSeed, entry.Info.NumClasses);
        using (var classifier = entry.Create(null))
        using (var embedded = classifier.OpenWeightsFile())
            if (embedded != null)
            {
                var bytes = new byte[embedded.Length];
                embedded.ReadExactly(bytes);
                return SafeTensorsFile.Read(bytes);
            }
        string file = entry.Name + ".safetensors";
        string? folder = FindWeightsFolder(file)
            ?? throw new FileNotFoundException(
                $"weights/{file} was not found above {AppContext.BaseDirectory} or {Directory.GetCurrentDirectory()} " +
                "(the ONNX Runtime baseline runs the canonical weights; run from the repository, or pass --no-onnx)", file);
        return SafeTensorsFile.Read(File.ReadAllBytes(Path.Combine(folder, file)));
    }

    /// <summary>The canonical file of a generated detector: the one embedded in its assembly, else <c>weights/{Info.Name}.safetensors</c>.</summary>
    public static SafeTensorsFile For(MobileNetGen.Runtime.Detection.MobileNetDetector detector)
    {
        ArgumentNullException.ThrowIfNull(detector);
        using (var embedded = detector.OpenWeightsFile())
            if (embedded != null)
            {
                var bytes = new byte[embedded.Length];
                embedded.ReadExactly(bytes);
                return SafeTensorsFile.Read(bytes);
            }
        string file = detector.Info.Name + ".safetensors";
        string folder = FindWeightsFolder(file)
            ?? throw new FileNotFoundException($"weights/{file} was not found above {AppContext.BaseDirectory} or {Directory.GetCurrentDirectory()} (pass --no-onnx)", file);
        return SafeTensorsFile.Read(File.ReadAllBytes(Path.Combine(folder, file)));
    }

    /// <summary>The first <c>weights/</c> folder holding <paramref name="file"/> above the tool's folder or the current directory.</summary>
    public static string? FindWeightsFolder(string file)
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "weights");
                if (File.Exists(Path.Combine(candidate, file))) return candidate;
            }
        }
        return null;
    }
}
