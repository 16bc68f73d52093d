using System.Runtime.InteropServices;
using MobileNetGen.Model;
using MobileNetGen.Runtime.Kernels.Quantized;

namespace MobileNetGen.Tests.Runtime;

/// <summary>
/// A small whole-network driver for the uint8 kernels, made of product code only (the canonical file's architecture and
/// quantization metadata, <see cref="QuantizationMath"/>, <see cref="QuantizedPacking"/>, the kernels), so that it can be
/// compared with the independent <c>ReferenceQuantizedMobileNet</c> layer by layer, and run as is on other machines (the
/// arm64 check links this file into a console program). The generator emits one struct of constants per layer; here the
/// shapes are thread-static values behind the same interfaces (<see cref="Dyn"/>), set before each layer — slower, the
/// same arithmetic.
/// </summary>
public sealed unsafe class QuantizedNetworkDriver : IDisposable
{
    private sealed class Layer
    {
        public required LayerSpec Spec;
        public QuantizedConvLayer? Quant;
        public int Multiplier, Shift, ActMin, ActMax;
        public byte* Weights, Bias;
    }

    private readonly List<Layer> _layers = new();
    private readonly List<IntPtr> _blocks = new();
    private readonly MobileNetV1Architecture _arch;

    public QuantizedIsa Isa { get; }
    public IReadOnlyList<string> Names => _layers.ConvertAll(l => l.Spec.Name);

    public QuantizedNetworkDriver(SafeTensorsFile file, QuantizedIsa isa)
    {
        Isa = isa;
        _arch = CanonicalWeights.ArchitectureOf(file);
        var quant = CanonicalWeights.QuantizationOf(file);
        foreach (var spec in _arch.Layers)
        {
            var layer = new Layer { Spec = spec };
            _layers.Add(layer);
            if (spec.Kind == LayerKind.GlobalAveragePool)
            {
                (layer.ActMin, layer.ActMax) = QuantizationMath.CalculateActivationRangeUint8(quant.Pool.Activation, quant.Pool.Output.Scale, quant.Pool.Output.ZeroPoint);
                continue;
            }
            var q = quant.Convolutions.Single(c => c.Name == spec.Name);
            layer.Quant = q;
            (layer.Multiplier, layer.Shift) = QuantizationMath.QuantizeMultiplier(QuantizationMath.GetQuantizedConvolutionMultiplier(q.Input.Scale, q.Weight.Scale, q.Output.Scale));
            (layer.ActMin, layer.ActMax) = QuantizationMath.CalculateActivationRangeUint8(q.Activation, q.Output.Scale, q.Output.ZeroPoint);
            byte[] kernel = file.Find(spec.Name + ".weight")!.Data;
            int[] bias = file.Find(spec.Name + ".bias")!.ToInt32s();
            fixed (byte* k = kernel)
            fixed (int* b = bias)
            {
                int wzp = q.Weight.ZeroPoint, xzp = q.Input.ZeroPoint;
                switch (spec.Kind)
                {
                    case LayerKind.Conv3x3:
                        Allocate(layer, KernelContract.QuantizedStemWeightBytes(spec.OutC), KernelContract.QuantizedStemBiasBytes(spec.OutC));
                        QuantizedPacking.Stem(k, wzp, b, xzp, spec.OutC, layer.Weights, layer.Bias);
                        break;
                    case LayerKind.Depthwise3x3:
                        Allocate(layer, KernelContract.QuantizedDepthwiseWeightBytes(spec.OutC), KernelContract.QuantizedDepthwiseBiasBytes(spec.OutC));
                        QuantizedPacking.Depthwise(k, wzp, b, xzp, spec.OutC, layer.Weights, layer.Bias);
                        break;
                    case LayerKind.Pointwise:
                        Allocate(layer, KernelContract.QuantizedPointwiseWeightBytes(spec.InC, spec.OutC), KernelContract.QuantizedPointwiseBiasBytes(spec.OutC));
                        QuantizedPacking.Pointwise(k, wzp, b, xzp, spec.InC, spec.OutC, layer.Weights, layer.Bias, QuantizedKernels.LayoutOf(isa));
                        break;
                    case LayerKind.Logits:
                        Allocate(layer, KernelContract.QuantizedLogitsWeightBytes(spec.InC, spec.OutC), KernelContract.QuantizedLogitsBiasBytes(spec.OutC));
                        QuantizedPacking.Logits(k, wzp, b, xzp, spec.InC, spec.OutC, layer.Weights, layer.Bias, QuantizedKernels.LayoutOf(isa));
                        break;
                }
            }
        }
    }

    private void Allocate(Layer layer, long weightBytes, long biasBytes)
    {
        byte* p = (byte*)NativeMemory.AlignedAlloc((nuint)(weightBytes + biasBytes), 64);
        _blocks.Add((IntPtr)p);
        layer.Weights = p;
        layer.Bias = p + weightBytes; // weightBytes is a multiple of 64: the bias block is aligned too
    }

    /// <summary>Runs the network on a uint8 image and returns every layer's output in network order (conv0 … logits).
    /// Stem and depthwise layers run in two row shares and pointwise layers in two pixel shares and two panel shares,
    /// as threads would split them (the bytes must not depend on it).</summary>
    public List<byte[]> Forward(byte[] image)
    {
        var outputs = new List<byte[]>();
        byte[] x = image;
        foreach (var l in _layers)
        {
            var s = l.Spec;
            var y = new byte[s.Kind == LayerKind.GlobalAveragePool || s.Kind == LayerKind.Logits ? s.OutC : s.OutH * s.OutW * s.OutC];
            Dyn.Set(l.Quant?.Input.ZeroPoint ?? 0, l.Quant?.Weight.ZeroPoint ?? 0, l.Quant?.Output.ZeroPoint ?? 0, l.Multiplier, l.Shift, l.ActMin, l.ActMax,
                s.InH, s.InW, s.InC, s.OutH, s.OutW, s.OutC, s.Stride, s.PadTop, s.PadLeft);
            fixed (byte* px = x, py = y)
            {
                int* bias = (int*)l.Bias;
                switch (s.Kind)
                {
                    case LayerKind.Conv3x3:
                        QStemKernels.Run<Dyn.Stem>(Isa, px, py, (short*)l.Weights, bias, 0, s.OutH / 2);
                        QStemKernels.Run<Dyn.Stem>(Isa, px, py, (short*)l.Weights, bias, s.OutH / 2, s.OutH);
                        break;
                    case LayerKind.Depthwise3x3:
                        QDepthwiseKernels.Run<Dyn.Depthwise>(Isa, px, py, l.Weights, bias, 0, (s.OutH + 1) / 2);
                        QDepthwiseKernels.Run<Dyn.Depthwise>(Isa, px, py, l.Weights, bias, (s.OutH + 1) / 2, s.OutH);
                        break;
                    case LayerKind.Pointwise:
                    {
                        int pixels = s.OutH * s.OutW, panels = s.OutC / KernelContract.PanelWidth, half = pixels / 2 / 12 * 12;
                        QPointwiseKernels.Run<Dyn.Pointwise>(Isa, px, py, l.Weights, bias, 0, half, 0, panels);
                        QPointwiseKernels.Run<Dyn.Pointwise>(Isa, px, py, l.Weights, bias, half, pixels, 0, panels / 2);
                        QPointwiseKernels.Run<Dyn.Pointwise>(Isa, px, py, l.Weights, bias, half, pixels, panels / 2, panels);
                        break;
                    }
                    case LayerKind.GlobalAveragePool:
                        QHeadKernels.AveragePool<Dyn.Pool>(Isa, px, py);
                        break;
                    case LayerKind.Logits:
                        QHeadKernels.Logits<Dyn.Logits>(Isa, px, py, l.Weights, bias);
                        break;
                }
            }
            outputs.Add(y);
            x = y;
        }
        return outputs;
    }

    public void Dispose()
    {
        foreach (var p in _blocks) NativeMemory.AlignedFree((void*)p);
        _blocks.Clear();
    }

    /// <summary>Layer shapes as thread-static values behind the kernels' shape interfaces.</summary>
    public static class Dyn
    {
        [ThreadStatic] private static int s_inZp, s_wZp, s_outZp, s_m, s_shift, s_min, s_max, s_inH, s_inW, s_inC, s_outH, s_outW, s_outC, s_stride, s_padTop, s_padLeft;

        public static void Set(int inZp, int wZp, int outZp, int m, int shift, int min, int max, int inH, int inW, int inC, int outH, int outW, int outC, int stride, int padTop, int padLeft)
        {
            s_inZp = inZp; s_wZp = wZp; s_outZp = outZp; s_m = m; s_shift = shift; s_min = min; s_max = max;
            s_inH = inH; s_inW = inW; s_inC = inC; s_outH = outH; s_outW = outW; s_outC = outC; s_stride = stride; s_padTop = padTop; s_padLeft = padLeft;
        }

        public struct Stem : IQStemShape
        {
            public static int InputZeroPoint => s_inZp; public static int WeightZeroPoint => s_wZp; public static int OutputZeroPoint => s_outZp;
            public static int Multiplier => s_m; public static int Shift => s_shift; public static int ActivationMin => s_min; public static int ActivationMax => s_max;
            public static int InH => s_inH; public static int InW => s_inW; public static int OutH => s_outH; public static int OutW => s_outW;
            public static int Cout => s_outC; public static int Stride => s_stride; public static int PadTop => s_padTop; public static int PadLeft => s_padLeft;
        }

        public struct Depthwise : IQDepthwiseShape
        {
            public static int InputZeroPoint => s_inZp; public static int WeightZeroPoint => s_wZp; public static int OutputZeroPoint => s_outZp;
            public static int Multiplier => s_m; public static int Shift => s_shift; public static int ActivationMin => s_min; public static int ActivationMax => s_max;
            public static int InH => s_inH; public static int InW => s_inW; public static int Channels => s_outC; public static int OutH => s_outH; public static int OutW => s_outW;
            public static int Stride => s_stride; public static int PadTop => s_padTop; public static int PadLeft => s_padLeft;
        }

        public struct Pointwise : IQPointwiseShape
        {
            public static int InputZeroPoint => s_inZp; public static int WeightZeroPoint => s_wZp; public static int OutputZeroPoint => s_outZp;
            public static int Multiplier => s_m; public static int Shift => s_shift; public static int ActivationMin => s_min; public static int ActivationMax => s_max;
            public static int Cin => s_inC; public static int Cout => s_outC;
        }

        public struct Logits : IQLogitsShape
        {
            public static int InputZeroPoint => s_inZp; public static int WeightZeroPoint => s_wZp; public static int OutputZeroPoint => s_outZp;
            public static int Multiplier => s_m; public static int Shift => s_shift; public static int ActivationMin => s_min; public static int ActivationMax => s_max;
            public static int Channels => s_inC; public static int Classes => s_outC;
        }

        public struct Pool : IQPoolShape
        {
            public static int Pixels => s_inH * s_inW; public static int Channels => s_inC;
            public static int ActivationMin => s_min; public static int ActivationMax => s_max;
        }
    }
}
