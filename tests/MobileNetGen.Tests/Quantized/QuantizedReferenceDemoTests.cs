using System.Diagnostics;
using MobileNetGen.Runtime.Labels;
using MobileNetGen.Tests.Generated;
using MobileNetGen.Tests.Reference.Tflite;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Quantized;

/// <summary>
/// The TFLite reference transcription (<see cref="ReferenceQuantizedMobileNet"/>) on the demo photos for each uint8 network:
/// every photo's top-1 (and its uint8 logit) goes to the test output; 1.0_224_quant must give parrot → 89 (macaw) and
/// burger → 934 (cheeseburger), Google's quantized model's answers on these classic photos.
/// </summary>
public class QuantizedReferenceDemoTests(ITestOutputHelper output)
{
    private static readonly string[] Photos =
    {
        "bird.bmp", "burger.jpg", "cat.bmp", "cats_and_dogs.jpg", "dragonfly.bmp", "grace_hopper.bmp", "grace_hopper_tflite.jpg",
        "hot_dog.jpg", "owl.jpg", "parrot.jpg", "sparrow.png", "sunflower.bmp",
    };

    [SharedDataTheory]
    [MemberData(nameof(QuantizedEntries.Names), MemberType = typeof(QuantizedEntries))]
    public void Demo_photos_top1(string entry)
    {
        var net = QuantizedEntries.Reference(entry);
        var results = new Dictionary<string, int>();
        var sw = Stopwatch.StartNew();
        foreach (string photo in Photos)
        {
            var r = net.Forward(QuantizedEntries.QuantizedInput(net, QuantizedEntries.Images("demo/" + photo)));
            int[] top = ReferenceQuantizedMobileNet.TopK(r.Logits, 3);
            results[photo] = top[0];
            output.WriteLine($"{entry} {photo,-24} top-1 {top[0],4} {ImageNetLabels.Get(top[0]),-28} (uint8 logit {r.Logits[top[0]]}; next {top[1]} = {r.Logits[top[1]]}, {top[2]} = {r.Logits[top[2]]})");
        }
        output.WriteLine($"{entry}: {Photos.Length} photos in {sw.Elapsed.TotalSeconds:F1} s (scalar reference)");
        if (entry == "mobilenet_v1_1.0_224_quant")
        {
            Assert.Equal(89, results["parrot.jpg"]);
            Assert.Equal(934, results["burger.jpg"]);
        }
    }
}
