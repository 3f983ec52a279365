"""Training throughput of the reference models in Keras 3 on TensorFlow (the baseline fer's native
backend is measured against). Same architectures, batch size, optimizer and data shape as
bench/engine.ts; prints one JSON line per model: {"model": ..., "images_per_second": ..., "fit_images_per_second": ...}
(the steady rate between the first and last batch, and the rate over the whole fit() call).

Run by bench/engine.ts inside its own virtualenv (tensorflow-cpu from PyPI)."""
import json, os, sys, time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import keras
from keras import layers, regularizers


def reference_cnn():
    inputs = keras.Input((48, 48, 1))
    x = inputs
    for filters, kernel in [(32, 5), (64, 3), (64, 3), (128, 3)]:
        x = layers.Conv2D(filters, kernel, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    for filters, kernel in [(128, 3), (64, 2), (64, 2)]:
        x = layers.Conv2D(filters, kernel, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    for _ in range(2):
        x = layers.Conv2D(64, 1, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="tanh")(x)
    x = layers.Dense(32, activation="tanh")(x)
    return keras.Model(inputs, layers.Dense(7, activation="softmax")(x))


def resnet18():
    l2 = lambda: regularizers.l2(1e-4)
    conv = lambda x, f, k, s=1, p="same": layers.Conv2D(f, k, strides=s, padding=p, kernel_initializer="he_normal", kernel_regularizer=l2())(x)
    bn_relu = lambda x: layers.ReLU()(layers.BatchNormalization()(x))
    inputs = keras.Input((48, 48, 1))
    x = bn_relu(conv(inputs, 64, 7, 2))
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    for stage, filters in enumerate([64, 128, 256, 512]):
        for block in range(2):
            strides = 2 if block == 0 and stage > 0 else 1
            first = stage == 0 and block == 0
            y = conv(x if first else bn_relu(x), filters, 3, strides)
            y = conv(bn_relu(y), filters, 3)
            shortcut = conv(x, filters, 1, strides, "valid") if strides != 1 or x.shape[-1] != filters else x
            x = layers.Add()([shortcut, y])
    x = bn_relu(x)
    x = layers.AveragePooling2D((x.shape[1], x.shape[2]), strides=1)(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(7, activation="softmax", kernel_initializer="he_normal")(x))


def vgg_bn(widths):
    inputs = keras.Input((48, 48, 1))
    x = inputs
    for filters in widths:
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(7, activation="softmax")(x))


MODELS = {"reference_cnn": reference_cnn, "resnet18": resnet18, "vgg_bn_16_32_64": lambda: vgg_bn([16, 32, 64])}


class BatchEnds(keras.callbacks.Callback):
    """When each batch ended: the steady training rate is taken between the first and the last."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def measure(name, steps, batch):
    """Steady-state images/s, and the rate over the whole fit() call for comparison.

    fit() itself is not the yardstick: in about half of the processes on the development machine it
    spends ~5 s after its last batch with the CPU idle (its data pipeline shutting down), which halved
    the rate measured over the call while every step took as long as in the other processes."""
    model = MODELS[name]()
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((batch * steps, 48, 48, 1), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 7, batch * steps), 7)
    model.fit(x[: batch * 2], y[: batch * 2], batch_size=batch, epochs=1, verbose=0)  # trace and warm up
    ends = BatchEnds()
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False, callbacks=[ends])
    seconds = time.perf_counter() - start
    steady = batch * (steps - 1) / (ends.times[-1] - ends.times[0])
    return steady, batch * steps / seconds

if __name__ == "__main__":
    steps, batch = int(sys.argv[1]), int(sys.argv[2])
    for name in sys.argv[3:]:
        steady, whole_fit = measure(name, steps, batch)
        print(json.dumps({"model": name, "images_per_second": steady, "fit_images_per_second": whole_fit, "keras": keras.__version__}), flush=True)
