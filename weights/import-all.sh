#!/usr/bin/env bash
# Regenerates every committed canonical weights file in weights/ from Google's published artifacts in ../shared/models.
# Run from the project root. The output is deterministic: the same sources give the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
run() { dotnet run -c Release --project cli/MobileNetGen.Cli -- "$@"; }

# TF-slim 2017 float frozen graphs (BatchNorm folded by the importer)
run import ../shared/models/slim-2017-float/mobilenet_v1_0.25_224/frozen_graph.pb --variant 0.25_224 -o weights
run import ../shared/models/slim-2017-float/mobilenet_v1_0.25_192/frozen_graph.pb --variant 0.25_192 -o weights
run import ../shared/models/slim-2017-float/mobilenet_v1_0.25_160/frozen_graph.pb --variant 0.25_160 -o weights
run import ../shared/models/slim-2017-float/mobilenet_v1_0.25_128/frozen_graph.pb --variant 0.25_128 -o weights

# Keras / TF.js layers model, float (1000 classes, no background)
run import ../shared/models/keras-tfjs/mobilenet_v1_0.75_224/model.json --variant 0.75_224 -o weights

# TF-slim 2017 8-bit-weight graphs (quantize_weights; U8 kernels kept as U8)
run import ../shared/models/slim-2017-weight-quantized/mobilenet_v1_0.50_224/quantized_graph.pb --variant 0.50_224 -o weights
run import ../shared/models/slim-2017-weight-quantized/mobilenet_v1_0.50_192/quantized_graph.pb --variant 0.50_192 -o weights
run import ../shared/models/slim-2017-weight-quantized/mobilenet_v1_0.50_160/quantized_graph.pb --variant 0.50_160 -o weights
run import ../shared/models/slim-2017-weight-quantized/mobilenet_v1_0.50_128/quantized_graph.pb --variant 0.50_128 -o weights
run import ../shared/models/slim-2017-weight-quantized/mobilenet_v1_0.75_192/quantized_graph.pb --variant 0.75_192 -o weights
run import ../shared/models/slim-2017-weight-quantized/mobilenet_v1_0.75_160/quantized_graph.pb --variant 0.75_160 -o weights
run import ../shared/models/slim-2017-weight-quantized/mobilenet_v1_0.75_128/quantized_graph.pb --variant 0.75_128 -o weights

# TFLite 2018 re-release (a different training run), float, BatchNorm folded by the converter
run import ../shared/models/tflite-2018/mobilenet_v1_0.25_224_1_default_1.tflite --variant 0.25_224 --name mobilenet_v1_0.25_224_tflite2018 -o weights

# Google's fully quantized uint8 classifiers (quantization-aware training; TOCO 2018 and Coral's MLIR re-exports):
# uint8 kernels, int32 biases and every tensor's scale and zero point kept as published (weights/README.md,
# "Quantized (uint8) entries"). The 1.0_224 network is published as two files (backbone + classifier head): --head joins them.
run import ../shared/models/tflite-quant-2018/mobilenet_v1_0.25_224_quant.tflite -o weights
run import ../shared/models/tflite-quant-2018/mobilenet_v1_0.25_128_quant.tflite -o weights
run import ../shared/models/tflite-quant-2018/mobilenet_v1_0.5_160_quant.tflite -o weights
run import ../shared/models/tflite-quant-2018/mobilenet_v1_0.75_192_quant.tflite -o weights
run import ../shared/models/tflite-quant-2018/coral-1.0_224-split/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite \
    --head ../shared/models/tflite-quant-2018/coral-1.0_224-split/mobilenet_quant_v1_224_head_layers.tflite -o weights

# Google's uint8 SSD MobileNet v1 detector (COCO, quantization-aware training; coco_ssd_mobilenet_v1_1.0_quant_2018_06_29):
# backbone, extra feature layers, predictors, anchors and TFLite_Detection_PostProcess options in one canonical file
# (weights/README.md, "Detector (uint8 SSD) entries"); the label map is labelmap.txt beside the model.
run import ../shared/models/ssd-mobilenet-v1-coco-quant/detect.tflite -o weights
