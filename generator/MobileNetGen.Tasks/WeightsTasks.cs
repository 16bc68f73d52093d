using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using MobileNetGen.Model;

namespace MobileNetGen.Tasks
{
    /// <summary>
    /// Picks one file per weights entry from the <c>MobileNetWeights</c> items (the entry name is the file stem): a file
    /// that does not exist is error MNG0010, a second file with an entry's name is warning MNG0008 and is left out (the
    /// first is used, as the generator would). Each selected item gets <c>EntryName</c>, <c>Description</c> (the path of
    /// its description) and <c>LogicalName</c> (its manifest resource name).
    /// </summary>
    public sealed class SelectMobileNetWeights : Task
    {
        [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
        [Required] public string OutputDirectory { get; set; } = "";
        [Output] public ITaskItem[] Selected { get; set; } = Array.Empty<ITaskItem>();

        public override bool Execute()
        {
            var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var selected = new List<ITaskItem>();
            foreach (var item in Files)
            {
                string path = item.GetMetadata("FullPath");
                if (!File.Exists(path))
                {
                    Log.LogError(null, "MNG0010", null, null, 0, 0, 0, 0, "MobileNetWeights file '{0}' does not exist.", item.ItemSpec);
                    continue;
                }
                string name = Path.GetFileNameWithoutExtension(path);
                if (byName.TryGetValue(name, out string? first))
                {
                    Log.LogWarning(null, "MNG0008", null, null, 0, 0, 0, 0,
                        "Two weights files are named '{0}' ({1} and {2}): the first is used.", name, first, path);
                    continue;
                }
                byName.Add(name, path);
                var chosen = new TaskItem(path);
                chosen.SetMetadata("EntryName", name);
                chosen.SetMetadata("Description", Path.Combine(OutputDirectory, name + WeightsDescription.Suffix));
                chosen.SetMetadata("LogicalName", WeightsDescription.ResourceName(name));
                selected.Add(chosen);
            }
            Selected = selected.ToArray();
            return !Log.HasLoggedErrors;
        }
    }

    /// <summary>
    /// Writes the <see cref="WeightsDescription"/> of each weights file (its <c>Description</c> metadata) that the
    /// generator reads instead of the file. A malformed file still gets a description, carrying the reason, so that the
    /// generator reports it at the class that asks for it (MNG0003) rather than failing the build for an unused file.
    /// </summary>
    public sealed class DescribeMobileNetWeights : Task
    {
        [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

        public override bool Execute()
        {
            foreach (var item in Files)
            {
                string path = item.GetMetadata("FullPath");
                string target = item.GetMetadata("Description");
                string name = item.GetMetadata("EntryName");
                try
                {
                    byte[] bytes = File.ReadAllBytes(path);
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    string text = WeightsDescription.Describe(name, path, bytes);
                    // Rewrite only when it changed: the compiler (and the generator's cache) sees the same text as before.
                    if (!File.Exists(target) || File.ReadAllText(target) != text) File.WriteAllText(target, text);
                    else File.SetLastWriteTimeUtc(target, DateTime.UtcNow);
                    Log.LogMessage(MessageImportance.Low, "MobileNetGen: described {0} -> {1}", path, target);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    Log.LogError(null, "MNG0010", null, null, 0, 0, 0, 0, "MobileNetWeights file '{0}' cannot be read: {1}", path, e.Message);
                }
            }
            return !Log.HasLoggedErrors;
        }
    }
}
