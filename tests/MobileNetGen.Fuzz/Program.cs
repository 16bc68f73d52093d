using System.Diagnostics;
using MobileNetGen.Fuzzing;

// Fuzz harness. Modes:
//   afl TARGET                       run under afl-fuzz (SharpFuzz out-of-process driver; input from AFL)
//   seeds TARGET DIR                 write the target's seed corpus (FuzzSeeds) into DIR
//   replay TARGET FILE|DIR...        run inputs in-process and print what each did (triage of AFL crashes/hangs)
//   mutate TARGET SECONDS DIR [SEED] coverage-free random mutation of DIR's files (fallback without AFL)
// TARGET: graphdef | tflite | tfjs | weights | image (see FuzzTargets and docs/fuzzing.md).
if (args.Length < 2) return Usage();
string mode = args[0], target = args[1];
if (Array.IndexOf(FuzzTargets.Names, target) < 0) return Usage();
if (target == FuzzTargets.Image) MobileNetGen.Runtime.Imaging.ImageLoader.MaxPixels = FuzzTargets.ImageMaxPixels;
string workDir = Path.Combine(Path.GetTempPath(), $"mng-fuzz-{target}-{Environment.ProcessId}");
try
{
    switch (mode)
    {
        case "afl":
        {
            string? notes = Environment.GetEnvironmentVariable("MNG_FUZZ_NOTES");
            SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
            {
                var ms = new MemoryStream();
                stream.CopyTo(ms);
                byte[] data = ms.ToArray();
                FuzzTargets.Run(target, data, workDir, out var rejection);
                if (notes != null && FuzzTargets.IsSuspiciousInner(rejection))
                    Note(notes, data, rejection!);
            });
            return 0;
        }
        case "seeds" when args.Length == 3:
        {
            Directory.CreateDirectory(args[2]);
            foreach (var (name, data) in FuzzSeeds.For(target))
            {
                File.WriteAllBytes(Path.Combine(args[2], name), data);
                FuzzTargets.Run(target, data, workDir, out var rejection);
                Console.WriteLine($"{name}: {data.Length} bytes, {(rejection == null ? "accepted" : "REFUSED: " + rejection.Message)}");
            }
            return 0;
        }
        case "replay" when args.Length >= 3:
        {
            int findings = 0;
            foreach (var file in args.Skip(2).SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Where(f => !f.EndsWith("README.txt")).Order().ToArray() : new[] { p }))
            {
                byte[] data = File.ReadAllBytes(file);
                var sw = Stopwatch.StartNew();
                try
                {
                    FuzzTargets.Run(target, data, workDir, out var rejection);
                    Console.WriteLine($"{Path.GetFileName(file)} ({data.Length} B, {sw.ElapsedMilliseconds} ms): " +
                                      (rejection == null ? "accepted" : $"{rejection.GetType().Name}: {rejection.Message}" +
                                       (rejection.InnerException is { } inner ? $" [inner {inner.GetType().Name} {FirstFrame(inner)}]" : "")));
                }
                catch (Exception e)
                {
                    findings++;
                    Console.WriteLine($"{Path.GetFileName(file)} ({data.Length} B, {sw.ElapsedMilliseconds} ms): FINDING {e}");
                }
            }
            return findings == 0 ? 0 : 1;
        }
        case "mutate" when args.Length >= 4:
            return Mutate(target, double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), args[3], args.Length > 4 ? int.Parse(args[4]) : 1, workDir);
        default:
            return Usage();
    }
}
finally
{
    try { Directory.Delete(workDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
}

static int Usage()
{
    Console.Error.WriteLine($"usage: MobileNetGen.Fuzz afl|seeds|replay|mutate TARGET ...  (targets: {string.Join(", ", FuzzTargets.Names)})");
    return 2;
}

static string FirstFrame(Exception e) =>
    (e.StackTrace ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";

static void Note(string notesDir, byte[] data, Exception rejection)
{
    Directory.CreateDirectory(notesDir);
    string key = rejection.InnerException!.GetType().Name + "-" + (rejection.InnerException.StackTrace?.GetHashCode() ?? 0).ToString("x8");
    string path = Path.Combine(notesDir, key);
    if (!File.Exists(path)) File.WriteAllBytes(path, data);
}

static int Mutate(string target, double seconds, string corpusDir, int seed, string workDir)
{
    var corpus = Directory.GetFiles(corpusDir).Order().Select(File.ReadAllBytes).ToList();
    if (corpus.Count == 0) { Console.Error.WriteLine($"{corpusDir} is empty"); return 2; }
    var mutator = new Mutator(seed);
    var rng = new Random(seed);
    string findingsDir = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(corpusDir))!, $"mutate-findings-{target}");
    long execs = 0, rejected = 0, findings = 0;
    byte[] current = Array.Empty<byte>();
    var started = Stopwatch.StartNew();
    long execStart = 0;
    // Watchdog: an input that runs longer than 10 s is a hang.
    var watchdog = new Thread(() =>
    {
        while (true)
        {
            Thread.Sleep(1000);
            long s = Interlocked.Read(ref execStart);
            if (s != 0 && Stopwatch.GetTimestamp() - s > 10 * Stopwatch.Frequency)
            {
                Directory.CreateDirectory(findingsDir);
                File.WriteAllBytes(Path.Combine(findingsDir, $"hang-{DateTime.UtcNow:HHmmss}"), current);
                Console.WriteLine($"HANG after {execs} execs; input saved in {findingsDir}");
                Environment.Exit(3);
            }
        }
    }) { IsBackground = true };
    watchdog.Start();
    while (started.Elapsed.TotalSeconds < seconds)
    {
        var input = corpus[rng.Next(corpus.Count)];
        current = mutator.Mutate(input, corpus[rng.Next(corpus.Count)]);
        Interlocked.Exchange(ref execStart, Stopwatch.GetTimestamp());
        try
        {
            FuzzTargets.Run(target, current, workDir, out var rejection);
            if (rejection != null) rejected++;
        }
        catch (Exception e)
        {
            findings++;
            Directory.CreateDirectory(findingsDir);
            string name = $"{e.GetType().Name}-{(e.StackTrace?.GetHashCode() ?? 0):x8}";
            string path = Path.Combine(findingsDir, name);
            if (!File.Exists(path)) { File.WriteAllBytes(path, current); Console.WriteLine($"FINDING {name}: {e.GetType().Name}: {e.Message}"); }
        }
        Interlocked.Exchange(ref execStart, 0);
        execs++;
    }
    Console.WriteLine($"target={target} execs={execs} seconds={started.Elapsed.TotalSeconds:F0} rejected={rejected} findings={findings}");
    return findings == 0 ? 0 : 1;
}
