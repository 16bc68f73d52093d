using Xunit;

namespace MobileNetGen.Tests;

/// <summary>A fact that needs the <c>shared/</c> data folder: reported as skipped (with the reason) when it is absent.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute()
    {
        if (SharedData.Root == null)
            Skip = "needs the shared/ data folder (../shared with shared/models) next to an ancestor of the test binaries; not found";
    }
}
