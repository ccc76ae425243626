"""Readers for image-text data: captions (COCO JSON, the Karpathy split file, ALBEF/BLIP-style
JSON lists, Flickr30k Entities sentence files), VQA v2 questions and annotations, NLVR2.

Each returns plain dicts with image paths; images are opened later (and unreadable ones
skipped, see `data.images`). Captions come back one example per caption: {image, text,
image_id}.
"""

from __future__ import annotations

import json
import os
import re

_ENTITY = re.compile(r"\[/EN#\d+/[^\s\]]+ ([^\]]*)\]")


def _load_json(path: str):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"file {path!r} does not exist")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None


def _load_json_or_lines(path: str) -> list:
    """A JSON document, or JSON Lines (one object per line, as NLVR2 ships)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"file {path!r} does not exist")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        data = json.loads(text)
        return data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{n}: not valid JSON ({e})") from None
        return rows


def strip_entities(sentence: str) -> str:
    """Flickr30k Entities markup `[/EN#12/people A girl]` -> `A girl`."""
    return " ".join(_ENTITY.sub(r"\1", sentence).split())


def read_flickr30k_entities(split_file: str, sentences_dir: str, image_dir: str) -> list[dict]:
    """A split file of image ids (one per line) with `sentences_dir/ID.txt` (five captions with
    Entities markup) and `image_dir/ID.jpg`."""
    if not os.path.isfile(split_file):
        raise FileNotFoundError(f"split file {split_file!r} does not exist")
    examples = []
    with open(split_file, encoding="utf-8") as f:
        ids = [line.strip() for line in f if line.strip()]
    for image_id in ids:
        path = os.path.join(sentences_dir, f"{image_id}.txt")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{split_file}: image {image_id} has no sentence file {path!r}")
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    examples.append({"image": os.path.join(image_dir, f"{image_id}.jpg"), "text": strip_entities(line),
                                     "image_id": image_id})
    return examples


def read_coco_captions(path: str, image_dir: str) -> list[dict]:
    """COCO's `captions_*.json`: `images` (id, file_name) and `annotations` (image_id, caption)."""
    data = _load_json(path)
    if not isinstance(data, dict) or "annotations" not in data or "images" not in data:
        raise ValueError(f"{path}: a COCO captions file needs 'images' and 'annotations'")
    files = {im["id"]: im["file_name"] for im in data["images"]}
    out = []
    for a in data["annotations"]:
        if a["image_id"] not in files:
            raise ValueError(f"{path}: caption {a.get('id')} refers to image {a['image_id']}, which is not listed")
        out.append({"image": os.path.join(image_dir, files[a["image_id"]]), "text": a["caption"].strip(),
                    "image_id": a["image_id"]})
    return out


def read_karpathy(path: str, image_root: str, split: str | None = None) -> list[dict]:
    """Karpathy's `dataset_coco.json` / `dataset_flickr30k.json`: `images` with `filepath`
    (COCO), `filename`, `split` (train/restval/val/test) and `sentences[].raw`."""
    data = _load_json(path)
    if not isinstance(data, dict) or "images" not in data:
        raise ValueError(f"{path}: a Karpathy split file needs 'images'")
    out = []
    for im in data["images"]:
        if split and im.get("split") != split and not (split == "train" and im.get("split") == "restval"):
            continue
        image = os.path.join(image_root, im.get("filepath", ""), im["filename"])
        for s in im["sentences"]:
            out.append({"image": image, "text": s["raw"].strip(), "image_id": im.get("imgid", im["filename"])})
    return out


def read_caption_list(path: str, image_root: str) -> list[dict]:
    """ALBEF/BLIP-style JSON: a list of {image, caption} where caption is a string or a list."""
    data = _load_json(path)
    if not isinstance(data, list) or (data and not {"image", "caption"} <= set(data[0])):
        raise ValueError(f"{path}: expected a JSON list of objects with 'image' and 'caption'")
    out = []
    for row in data:
        captions = row["caption"] if isinstance(row["caption"], list) else [row["caption"]]
        for c in captions:
            out.append({"image": os.path.join(image_root, row["image"]), "text": c.strip(), "image_id": row["image"]})
    return out


def read_captions(path: str, image_root: str, split: str | None = None, sentences_dir: str | None = None) -> list[dict]:
    """Any of the caption formats above, recognised from the file."""
    if path.endswith(".txt"):
        if sentences_dir is None:
            raise ValueError(f"{path}: a Flickr30k Entities split file needs the sentences folder (sentences_dir)")
        return read_flickr30k_entities(path, sentences_dir, image_root)
    data = _load_json(path)
    if isinstance(data, list):
        return read_caption_list(path, image_root)
    if "annotations" in data:
        return read_coco_captions(path, image_root)
    if "images" in data and data["images"] and "sentences" in data["images"][0]:
        return read_karpathy(path, image_root, split)
    raise ValueError(f"{path}: not a caption format pixlm reads (COCO, Karpathy, ALBEF/BLIP list, Flickr30k Entities)")


def _coco_image_index(image_dir: str) -> dict[int, str]:
    """COCO file names end in the zero-padded image id: map id -> path."""
    if not os.path.isdir(image_dir):
        raise FileNotFoundError(f"image folder {image_dir!r} does not exist")
    index = {}
    for name in os.listdir(image_dir):
        m = re.search(r"(\d+)\.(jpg|jpeg|png)$", name, re.IGNORECASE)
        if m:
            index[int(m.group(1))] = os.path.join(image_dir, name)
    return index


def read_vqa(questions_path: str, annotations_path: str | None, image_dir: str) -> list[dict]:
    """VQA v2: {question_id, image, question, answers (the ten annotators', raw)}; answers are
    absent without an annotations file (test sets)."""
    questions = _load_json(questions_path)
    if not isinstance(questions, dict) or "questions" not in questions:
        raise ValueError(f"{questions_path}: a VQA questions file needs 'questions'")
    answers = {}
    if annotations_path:
        annotations = _load_json(annotations_path)
        if "annotations" not in annotations:
            raise ValueError(f"{annotations_path}: a VQA annotations file needs 'annotations'")
        answers = {a["question_id"]: [x["answer"] for x in a["answers"]] for a in annotations["annotations"]}
    images = _coco_image_index(image_dir)
    out = []
    for q in questions["questions"]:
        path = images.get(q["image_id"], os.path.join(image_dir, f"missing-{q['image_id']}.jpg"))
        row = {"question_id": q["question_id"], "image": path, "question": q["question"]}
        if annotations_path:
            if q["question_id"] not in answers:
                raise ValueError(f"{annotations_path}: no answers for question {q['question_id']}")
            row["answers"] = answers[q["question_id"]]
        out.append(row)
    return out


def read_nlvr2(path: str, image_dir: str) -> list[dict]:
    """NLVR2 JSON Lines: {identifier, images: [left, right], sentence, label (bool)}; the
    images of `dev-850-0-1` are `dev-850-0-img0.png` and `dev-850-0-img1.png`."""
    out = []
    for row in _load_json_or_lines(path):
        for key in ("identifier", "sentence", "label"):
            if key not in row:
                raise ValueError(f"{path}: an NLVR2 row needs {key!r}; got keys {sorted(row)}")
        stem = row["identifier"].rsplit("-", 1)[0]
        label = row["label"] if isinstance(row["label"], bool) else str(row["label"]).lower() == "true"
        out.append({"identifier": row["identifier"], "sentence": row["sentence"], "label": label,
                    "images": [os.path.join(image_dir, f"{stem}-img{k}.png") for k in (0, 1)]})
    return out
