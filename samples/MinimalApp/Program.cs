using MobileNetGen;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Imaging;

// minimalapp IMAGE: the top-5 ImageNet classes of a JPEG, PNG or BMP file.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: minimalapp IMAGE");
    return 1;
}
try
{
    using var net = new BirdClassifier();
    foreach (Prediction p in net.Classify(args[0], k: 5))
        Console.WriteLine($"{p.ImageNetIndex,4}  {p.Probability:F4}  {p.Label}");
    return 0;
}
catch (Exception e) when (e is ImageLoadException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {args[0]}: {e.Message}");
    return 2;
}

[MobileNet("0.25_224")]
public partial class BirdClassifier { }
