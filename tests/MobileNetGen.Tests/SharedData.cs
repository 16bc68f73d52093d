namespace MobileNetGen.Tests;

/// <summary>
/// Locates the read-only data folder <c>shared/</c> (published MobileNet weights, labels, photos), which every developer and
/// CI have at <c>../shared</c> from the project root: walks up from the test binaries to the first folder holding
/// <c>shared/models</c>. <see cref="Root"/> is null when it is absent; tests that need it use <see cref="SharedDataFactAttribute"/>.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string?> _root = new(Find);

    /// <summary>Full path of the <c>shared</c> folder, or null when no ancestor holds <c>shared/models</c>.</summary>
    public static string? Root => _root.Value;

    /// <summary>Full path of <c>shared/models</c>; throws when the shared folder is absent (guard with <see cref="SharedDataFactAttribute"/>).</summary>
    public static string Models => Path.Combine(Root ?? throw new InvalidOperationException("shared/ data folder not found"), "models");

    /// <summary>A path under <c>shared/models</c>, with '/' separators.</summary>
    public static string Model(string relative) => Path.Combine(Models, relative.Replace('/', Path.DirectorySeparatorChar));

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "models"))) return candidate;
        }
        return null;
    }
}
