"""ECAPA-TDNN's fast path: PaddleSpeech's network rebuilt from its weights as an OpenVINO graph, compiled for the CPU.

Why OpenVINO, measured on this 2-core host (5-s clip, one thread, CPU time per forward): OpenVINO float32 ~190 ms,
Paddle Inference on the exported static graph ~665 ms, PaddleSpeech's eager network ~950 ms. OpenVINO runs each
conv as one direct kernel with its bias, ReLU and batch norm fused in; Paddle makes an im2col copy and a pass over
the activations per op. Paddle Inference's own OpenVINO engine never ran: it is an old-IR pass, and Paddle 3 exports
PIR graphs, so that predictor ran Paddle's kernels. Beside busy processes a forward's cost is its CPU time, so this
is what keeps the fast path well ahead of eager there (docs/models.md). bfloat16 (this CPU has avx512_bf16) halves
the time again but moved vectors to cosine 0.998 on a 5-s siren: float32 is asked for.
"""

import queue

import numpy as np
import openvino as ov
import openvino.opset13 as ops


def _const(value) -> ov.Node:
    return ops.constant(np.ascontiguousarray(value, dtype=np.float32))


def _channels(value) -> ov.Node:
    """A per-channel vector shaped to broadcast over (N, C, T)."""
    return _const(np.asarray(value).reshape(1, -1, 1))


def ecapa_graph(network) -> ov.Model:
    """PaddleSpeech's EcapaTdnn.forward(feats, lengths=ones) as an OpenVINO model: (N, 80, T) -> (N, emb_size).

    The same arithmetic, rearranged: all-ones length masks dropped (they multiply by 1 and divide by T); kernel-1
    convs without their zero-width pad; batch norm as its per-channel scale and shift; the attention's first 1x1
    conv over concat(x, tile(mean), tile(std)) split into W_x @ x + W_mean @ mean + W_std @ std (a third of the
    FLOPs, no tiled copies). Vectors match the eager network (tested).
    """
    if not network.asp.global_context:
        raise ValueError("the fast path needs global_context=True (the published model's)")
    time_axis = np.array([2], np.int64)

    def conv(layer, x):
        inner = layer.conv
        if layer.stride != 1 or layer.padding != "same" or inner._groups != 1:
            raise ValueError(f"unexpected Conv1d {layer}: the fast path handles stride 1, same padding, 1 group")
        pad = layer.dilation * (layer.kernel_size - 1) // 2
        if pad:
            edge = np.array([0, 0, pad], np.int64)
            x = ops.pad(x, edge, edge, layer.padding_mode)
        y = ops.convolution(x, _const(inner.weight.numpy()), [1], [0], [0], [layer.dilation])
        return ops.add(y, _channels(inner.bias.numpy())) if inner.bias is not None else y

    def bn(norm, x):
        scale = norm.weight.numpy() / np.sqrt(norm._variance.numpy() + norm._epsilon)
        return ops.add(ops.multiply(x, _channels(scale)), _channels(norm.bias.numpy() - norm._mean.numpy() * scale))

    def tdnn(block, x):  # TDNNBlock: conv -> relu -> batch norm
        return bn(block.norm.norm, ops.relu(conv(block.conv, x)))

    feats = ops.parameter([-1, 80, -1], ov.Type.f32, name="feats")
    x = tdnn(network.blocks[0], feats)
    outputs = []
    for block in network.blocks[1:]:  # SERes2NetBlock
        residual = conv(block.shortcut, x) if block.shortcut else x
        h = tdnn(block.tdnn1, x)
        res2net = block.res2net_block
        chunks = ops.split(h, np.int64(1), res2net.scale).outputs()
        ys, y = [chunks[0]], None
        for i in range(1, res2net.scale):
            y = tdnn(res2net.blocks[i - 1], chunks[i] if i == 1 else ops.add(chunks[i], y))
            ys.append(y)
        h = tdnn(block.tdnn2, ops.concat(ys, 1))
        s = ops.relu(conv(block.se_block.conv1, ops.reduce_mean(h, time_axis, True)))
        x = ops.add(ops.multiply(ops.sigmoid(conv(block.se_block.conv2, s)), h), residual)
        outputs.append(x)
    x = tdnn(network.mfa, ops.concat(outputs, 1))

    # AttentiveStatisticsPooling with global context, every frame valid.
    asp = network.asp
    eps = _const(np.array(asp.eps))
    mean = ops.reduce_mean(x, time_axis, True)
    centred = ops.subtract(x, mean)
    std = ops.sqrt(ops.maximum(ops.reduce_mean(ops.multiply(centred, centred), time_axis, True), eps))
    weight, channels = asp.tdnn.conv.conv.weight.numpy(), network.channels[-1]  # (attention, 3 * channels, 1)

    def pointwise(x, part):
        return ops.convolution(x, _const(part), [1], [0], [0], [1])

    context = ops.add(
        ops.add(pointwise(mean, weight[:, channels : 2 * channels]), pointwise(std, weight[:, 2 * channels :])),
        _channels(asp.tdnn.conv.conv.bias.numpy()),
    )
    attention = ops.add(pointwise(x, weight[:, :channels]), context)
    attention = ops.tanh(bn(asp.tdnn.norm.norm, ops.relu(attention)))
    attention = ops.softmax(conv(asp.conv, attention), 2)
    mean = ops.reduce_sum(ops.multiply(attention, x), time_axis, True)
    centred = ops.subtract(x, mean)
    weighted = ops.multiply(attention, ops.multiply(centred, centred))
    std = ops.sqrt(ops.maximum(ops.reduce_sum(weighted, time_axis, True), eps))
    pooled = bn(network.asp_bn.norm, ops.concat([mean, std], 1))
    embedding = ops.reshape(conv(network.fc, pooled), np.array([-1, network.emb_size], np.int64), False)
    return ov.Model([embedding], [feats], "ecapa_tdnn")


class EcapaForward:
    """The compiled graph: (N, 80, T) float32 features -> (N, emb_size). Up to `streams` calls run at once (one
    OpenVINO stream and infer request each), every forward on one thread.

    One thread per forward, more forwards at once, because beside busy processes a forward split over threads waits
    at each layer for its slowest thread, often off its core: on 2 cores, 1-client time through the service beside
    2 busy processes was 1.6-1.7x its quiet time with one thread, 2.0-2.7x with two (docs/models.md).
    """

    def __init__(self, network, streams: int) -> None:
        self.streams = streams
        compiled = ov.Core().compile_model(
            ecapa_graph(network),
            "CPU",
            {
                "INFERENCE_PRECISION_HINT": "f32",
                "NUM_STREAMS": streams,
                "INFERENCE_NUM_THREADS": streams,
                # The cores are shared with the other services: a thread pinned to a core cannot move to a free one.
                "ENABLE_CPU_PINNING": False,
            },
        )
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(streams):
            self._free.put(compiled.create_infer_request())

    def __call__(self, features: np.ndarray) -> np.ndarray:
        request = self._free.get()
        try:
            # The request reuses its output buffer: copied before its next call overwrites it.
            return request.infer({0: np.ascontiguousarray(features, dtype=np.float32)})[0].copy()
        finally:
            self._free.put(request)
