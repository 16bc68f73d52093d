using System;
using System.Collections.Generic;

namespace MobileNetGen.Model
{
    public enum LayerKind
    {
        /// <summary>Full 3×3 convolution, stride 2 (the stem, <c>Conv2d_0</c>).</summary>
        Conv3x3,
        /// <summary>Depthwise 3×3 convolution, stride 1 or 2.</summary>
        Depthwise3x3,
        /// <summary>Pointwise 1×1 convolution.</summary>
        Pointwise,
        /// <summary>Global average pool to one value per channel (the embeddings).</summary>
        GlobalAveragePool,
        /// <summary>1×1 convolution on the pooled vector to the class logits, with bias and no activation.</summary>
        Logits,
    }

    /// <summary>
    /// One layer of MobileNet v1 with every extent fixed: what the generator specializes code for.
    /// Convolutions are followed by BatchNorm and ReLU6; the logits layer has a bias and no activation.
    /// </summary>
    public sealed class LayerSpec
    {
        public LayerSpec(int index, string name, string slimName, LayerKind kind, int inH, int inW, int inC, int outH, int outW, int outC, int stride)
        {
            Index = index; Name = name; SlimName = slimName; Kind = kind;
            InH = inH; InW = inW; InC = inC; OutH = outH; OutW = outW; OutC = outC; Stride = stride;
            if (kind == LayerKind.Conv3x3 || kind == LayerKind.Depthwise3x3)
            {
                // TensorFlow SAME padding: pad_total = max((out-1)*stride + k - in, 0), the smaller half before.
                int padH = Math.Max((outH - 1) * stride + 3 - inH, 0);
                int padW = Math.Max((outW - 1) * stride + 3 - inW, 0);
                PadTop = padH / 2; PadBottom = padH - PadTop;
                PadLeft = padW / 2; PadRight = padW - PadLeft;
            }
        }

        public int Index { get; }
        /// <summary>Canonical tensor prefix: <c>conv0</c>, <c>block3.depthwise</c>, <c>block3.pointwise</c>, <c>pool</c>, <c>logits</c>.</summary>
        public string Name { get; }
        /// <summary>TF-slim scope name: <c>Conv2d_0</c>, <c>Conv2d_3_depthwise</c>, <c>Logits/Conv2d_1c_1x1</c>.</summary>
        public string SlimName { get; }
        public LayerKind Kind { get; }
        public int InH { get; }
        public int InW { get; }
        public int InC { get; }
        public int OutH { get; }
        public int OutW { get; }
        public int OutC { get; }
        public int Stride { get; }
        public int PadTop { get; }
        public int PadBottom { get; }
        public int PadLeft { get; }
        public int PadRight { get; }

        /// <summary>Shape of the kernel tensor in the canonical (TensorFlow HWIO) layout; empty for the pool.</summary>
        public int[] KernelShape => Kind switch
        {
            LayerKind.Conv3x3 => new[] { 3, 3, InC, OutC },
            LayerKind.Depthwise3x3 => new[] { 3, 3, InC, 1 },
            LayerKind.Pointwise => new[] { 1, 1, InC, OutC },
            LayerKind.Logits => new[] { 1, 1, InC, OutC },
            _ => Array.Empty<int>(),
        };

        public long KernelElements
        {
            get { long n = 1; foreach (int d in KernelShape) n *= d; return KernelShape.Length == 0 ? 0 : n; }
        }

        /// <summary>True for the convolutions followed by BatchNorm + ReLU6.</summary>
        public bool HasBatchNorm => Kind == LayerKind.Conv3x3 || Kind == LayerKind.Depthwise3x3 || Kind == LayerKind.Pointwise;

        /// <summary>Multiply-accumulates of one forward pass through this layer.</summary>
        public long Macs => Kind switch
        {
            LayerKind.Conv3x3 => (long)OutH * OutW * OutC * 9 * InC,
            LayerKind.Depthwise3x3 => (long)OutH * OutW * OutC * 9,
            LayerKind.Pointwise => (long)OutH * OutW * OutC * InC,
            LayerKind.Logits => (long)InC * OutC,
            _ => 0,
        };

        /// <summary>Trainable parameters: kernel, plus BatchNorm γ and β (or the logits bias). Moving statistics are not counted.</summary>
        public long Parameters => KernelElements + (HasBatchNorm ? 2L * OutC : Kind == LayerKind.Logits ? OutC : 0);

        public string ShapeText => $"{InH}x{InW}x{InC} -> {OutH}x{OutW}x{OutC}";
    }

    /// <summary>The MobileNet v1 architecture (TF-slim <c>mobilenet_v1.py</c>), instantiated for a width and resolution.</summary>
    public sealed class MobileNetV1Architecture
    {
        /// <summary>Depthwise strides of the 13 separable blocks.</summary>
        public static readonly int[] BlockStrides = { 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1 };
        /// <summary>Pointwise widths of the 13 separable blocks at α = 1.</summary>
        public static readonly int[] BlockWidths = { 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024 };
        public const int StemWidth = 32;
        /// <summary>slim's <c>min_depth</c>: no layer is narrower than 8 channels.</summary>
        public const int MinDepth = 8;
        public const double BatchNormEpsilon = 0.001;

        public MobileNetV1Architecture(double alpha, int resolution, int numClasses)
        {
            if (alpha <= 0 || alpha > 4) throw new ArgumentOutOfRangeException(nameof(alpha));
            if (resolution < 32 || resolution > 1024) throw new ArgumentOutOfRangeException(nameof(resolution));
            if (numClasses < 1 || numClasses > 100000) throw new ArgumentOutOfRangeException(nameof(numClasses));
            Alpha = alpha; Resolution = resolution; NumClasses = numClasses;
            var layers = new List<LayerSpec>();
            int h = resolution, c = 3;
            int stem = Depth(StemWidth, alpha);
            int oh = (h + 1) / 2;
            layers.Add(new LayerSpec(0, "conv0", "Conv2d_0", LayerKind.Conv3x3, h, h, c, oh, oh, stem, 2));
            h = oh; c = stem;
            for (int b = 0; b < 13; b++)
            {
                int s = BlockStrides[b];
                int bh = (h + s - 1) / s;
                int n = b + 1;
                layers.Add(new LayerSpec(layers.Count, $"block{n}.depthwise", $"Conv2d_{n}_depthwise", LayerKind.Depthwise3x3, h, h, c, bh, bh, c, s));
                h = bh;
                int w = Depth(BlockWidths[b], alpha);
                layers.Add(new LayerSpec(layers.Count, $"block{n}.pointwise", $"Conv2d_{n}_pointwise", LayerKind.Pointwise, h, h, c, h, h, w, 1));
                c = w;
            }
            layers.Add(new LayerSpec(layers.Count, "pool", "AvgPool_1a", LayerKind.GlobalAveragePool, h, h, c, 1, 1, c, 1));
            layers.Add(new LayerSpec(layers.Count, "logits", "Logits/Conv2d_1c_1x1", LayerKind.Logits, 1, 1, c, 1, 1, numClasses, 1));
            Layers = layers;
            FeatureSize = c;
        }

        public MobileNetV1Architecture(VariantName variant, int numClasses = 1001) : this(variant.Alpha, variant.Resolution, numClasses) { }

        public double Alpha { get; }
        public int Resolution { get; }
        public int NumClasses { get; }
        public IReadOnlyList<LayerSpec> Layers { get; }
        /// <summary>Length of the pooled feature vector (the embeddings): 1024·α.</summary>
        public int FeatureSize { get; }

        public long Macs { get { long m = 0; foreach (var l in Layers) m += l.Macs; return m; } }
        public long Parameters { get { long p = 0; foreach (var l in Layers) p += l.Parameters; return p; } }

        /// <summary>Largest activation tensor (elements) between two layers, input included: sizes the workspace.</summary>
        public long MaxActivationElements
        {
            get
            {
                long m = (long)Resolution * Resolution * 3;
                foreach (var l in Layers) m = Math.Max(m, (long)l.OutH * l.OutW * l.OutC);
                return m;
            }
        }

        /// <summary>slim's <c>depth(d) = max(int(d * α), min_depth)</c>.</summary>
        public static int Depth(int d, double alpha) => Math.Max((int)(d * alpha), MinDepth);
    }
}
