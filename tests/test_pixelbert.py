"""Pixel-BERT: backbones against torchvision's layout, the encoder against BertModel, masks and
pixel sampling, collators, optimisers, metrics worked by hand, readers on the shared fixtures,
and runs end to end on synthetic scenes."""

import json
import os
import random

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import BertModel

from pixlm.data.images import SkippedImages, images_to_batch, keep_readable, open_image, resize_shorter_edge
from pixlm.data.samplers import ImageGroupedSampler
from pixlm.data.scenes import QUADRANTS, Scene, Shape, balanced_pairs, make_scenes, pair_statement, scene_questions
from pixlm.data.tokenization import train_wordpiece
from pixlm.data.vl_collators import PixelBertPretrainingCollator, PixelBertVQACollator, vqa_soft_score
from pixlm.evaluation.vl_metrics import normalize_vqa_answer, retrieval_recall, vqa_accuracy
from pixlm.models.pixelbert import (
    PixelBertConfig,
    PixelBertForPreTraining,
    PixelBertForQuestionAnswering,
    PixelBertModel,
    VisualTokens,
    build_backbone,
    cell_mask,
    sample_cells,
)
from pixlm.training.pixelbert import HybridOptimizer, PixelBertRunConfig, run_pixelbert, step_decay


def tiny_config(**kw):
    base = dict(vocab_size=60, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, image_min_size=128,
                image_max_size=192)
    return PixelBertConfig.from_preset("tiny", **{**base, **kw})


# -- backbones ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name,params_with_fc,fc", [
    ("resnet18", 11_689_512, 512 * 1000 + 1000),  # torchvision's published parameter counts
    ("resnet50", 25_557_032, 2048 * 1000 + 1000),
    ("resnext50_32x4d", 25_028_904, 2048 * 1000 + 1000),
])
def test_resnets_have_torchvisions_parameters_and_names(name, params_with_fc, fc):
    model = build_backbone(name)
    assert sum(p.numel() for p in model.parameters()) == params_with_fc - fc
    keys = set(model.state_dict())
    assert {"conv1.weight", "bn1.running_var", "layer1.0.conv1.weight", "layer4.1.bn2.num_batches_tracked"} <= keys
    assert ("layer1.0.downsample.0.weight" in keys) == (name != "resnet18")
    assert model(torch.rand(1, 3, 64, 96)).shape == (1, model.out_channels, 2, 3)  # stride 32


def test_backbone_weights_load_from_a_torchvision_style_file(tmp_path):
    source = build_backbone("resnet18")
    state = {**source.state_dict(), "fc.weight": torch.zeros(1000, 512), "fc.bias": torch.zeros(1000)}
    torch.save(state, tmp_path / "resnet18.pth")
    target = build_backbone("resnet18", weights=str(tmp_path / "resnet18.pth"))
    torch.testing.assert_close(target.layer3[1].conv2.weight, source.layer3[1].conv2.weight)
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7)}, tmp_path / "partial.pth")
    with pytest.raises(ValueError, match=r"do not fit: missing \['bn1.bias'"):
        build_backbone("resnet18", weights=str(tmp_path / "partial.pth"))
    with pytest.raises(ValueError, match="unknown backbone 'vgg16'; backbones: resnet18, resnet34, resnet50"):
        build_backbone("vgg16")
    with pytest.raises(ValueError, match="unknown backbone 'vgg16'"):
        PixelBertConfig(backbone="vgg16")


# -- the encoder -------------------------------------------------------------------------------
def test_text_only_input_gives_bert_exactly():
    torch.manual_seed(0)
    model = PixelBertModel(tiny_config()).eval()
    ref = BertModel(model.config.bert_config()).eval()
    ref.load_state_dict(model.bert.state_dict())
    ids = torch.randint(5, 60, (2, 9))
    mask = torch.ones(2, 9)
    mask[1, 6:] = 0
    with torch.no_grad():
        ours, theirs = model(ids, mask), ref(ids, mask)
    torch.testing.assert_close(ours.last_hidden_state, theirs.last_hidden_state)
    torch.testing.assert_close(ours.pooler_output, theirs.pooler_output)


def test_visual_cells_are_64_pixels_and_padding_is_masked():
    pixel_mask = torch.zeros(1, 192, 192)
    pixel_mask[0, :128, :150] = 1  # the image covers two cell rows and three cell columns (150 > 128)
    assert cell_mask(pixel_mask, (3, 3)).tolist() == [[1, 1, 1, 1, 1, 1, 0, 0, 0]]
    torch.manual_seed(0)
    model = PixelBertModel(tiny_config()).eval()
    tokens = model.visual_tokens(torch.rand(1, 3, 192, 192), pixel_mask)
    assert tokens.grid == (3, 3) and tokens.embeddings.shape == (1, 9, 128)
    ids = torch.randint(5, 60, (1, 6))
    changed = VisualTokens(tokens.embeddings.clone(), tokens.mask, tokens.grid)
    changed.embeddings[0, 6:] = 100.0  # padded cells: whatever they hold, nothing attends to them
    with torch.no_grad():
        a = model(ids, visual=tokens).last_hidden_state[:, :12]
        b = model(ids, visual=changed).last_hidden_state[:, :12]
    torch.testing.assert_close(a[:, :6], b[:, :6])
    torch.testing.assert_close(a[:, 6:12], b[:, 6:12])


def test_visual_position_embeddings_mark_each_cells_row_and_column(tmp_path):
    torch.manual_seed(0)
    assert not PixelBertConfig().visual_position_embeddings  # the paper's model has none
    plain = PixelBertModel(tiny_config(visual_position_embeddings=False)).eval()
    assert not any("row_embeddings" in n for n, _ in plain.named_parameters())
    model = PixelBertModel(tiny_config(visual_position_embeddings=True)).eval()
    model.load_state_dict(plain.state_dict(), strict=False)
    images = torch.rand(1, 3, 128, 192)  # a 2 x 3 grid of cells
    with torch.no_grad():
        model.visual.row_embeddings.weight.zero_()
        model.visual.column_embeddings.weight.zero_()
        torch.testing.assert_close(model.visual_tokens(images).embeddings, plain.visual_tokens(images).embeddings)
        model.visual.column_embeddings.weight[2] = torch.randn(128)  # only the third column's cells change
        moved = model.visual_tokens(images).embeddings.reshape(2, 3, -1)
        base = plain.visual_tokens(images).embeddings.reshape(2, 3, -1)
    torch.testing.assert_close(moved[:, :2], base[:, :2])
    assert (moved[:, 2] - base[:, 2]).abs().max() > 0.1
    model.save_pretrained(tmp_path)
    again = PixelBertModel.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        torch.testing.assert_close(again.visual_tokens(images).embeddings, model.visual_tokens(images).embeddings)
    with pytest.raises(ValueError, match="4096 pixels a side"):
        model.visual._positions((65, 1))


def test_pixel_sampling_draws_valid_cells_only():
    emb = torch.arange(2 * 10, dtype=torch.float).reshape(2, 10, 1)
    mask = torch.ones(2, 10)
    mask[1, 3:] = 0  # the second image has only 3 valid cells
    sampled = sample_cells(VisualTokens(emb, mask, (2, 5)), 4, torch.Generator().manual_seed(0))
    assert sampled.embeddings.shape == (2, 4, 1)
    assert sampled.mask[0].tolist() == [1, 1, 1, 1] and sorted(sampled.mask[1].tolist()) == [0, 1, 1, 1]
    valid_second = sampled.index[1][sampled.mask[1] == 1].tolist()
    assert sorted(valid_second) == [0, 1, 2]  # all three valid cells kept, never a padded one
    again = sample_cells(VisualTokens(emb, mask, (2, 5)), 4, torch.Generator().manual_seed(0))
    assert torch.equal(again.index, sampled.index)
    draws = {tuple(sample_cells(VisualTokens(emb, mask, (2, 5)), 4).index[0].tolist()) for _ in range(20)}
    assert len(draws) > 1  # a new draw at each step


def test_pretraining_samples_cells_only_in_training():
    torch.manual_seed(0)
    model = PixelBertForPreTraining(tiny_config(num_visual_samples=2))
    seen = []
    original = model.pixelbert.forward
    model.pixelbert.forward = lambda *a, **k: seen.append(k["visual"].embeddings.shape[1]) or original(*a, **k)
    ids = torch.randint(5, 60, (2, 5))
    batch = dict(input_ids=ids, pixel_values=torch.rand(2, 3, 128, 128), mlm_input_ids=ids, mlm_labels=ids,
                 itm_image_index=torch.tensor([1, 0]), itm_labels=torch.tensor([0, 0]))
    model.train()(**batch)
    model.eval()(**batch)
    assert seen == [2, 2, 4, 4]  # 2 x 2 cells at 128 pixels; two passes (MLM, ITM) each time


# -- collators, scores and metrics by hand -----------------------------------------------------
@pytest.fixture(scope="module")
def wordpiece():
    return train_wordpiece(["a large red circle at the top left", "a small blue square at the bottom right",
                            "what colour is the circle", "how many shapes are there"], vocab_size=200, lowercase=True)


def test_mlm_masks_word_tokens_only_and_itm_pairs_half(wordpiece):
    collate = PixelBertPretrainingCollator(wordpiece, 128, 192, (0.5,) * 3, (0.5,) * 3, seed=1)
    scenes = make_scenes(8, seed=3, size=128)
    examples = [{"image": s, "text": s.caption()} for s in scenes]
    batch = collate(examples)
    special = torch.isin(batch["input_ids"], torch.tensor(wordpiece.all_special_ids))
    targets = batch["mlm_labels"] != -100
    assert not (targets & special).any() and targets.any(1).all()  # at least one target per text
    assert torch.equal(batch["mlm_labels"][targets], batch["input_ids"][targets])
    assert (batch["mlm_input_ids"][targets] == wordpiece.mask_token_id).float().mean() > 0.5
    assert torch.equal(batch["mlm_input_ids"][~targets], batch["input_ids"][~targets])
    assert int(batch["itm_labels"].sum()) == 4
    for i, (j, label) in enumerate(zip(batch["itm_image_index"].tolist(), batch["itm_labels"].tolist())):
        assert (j == i) == (label == 1) and (label == 1 or examples[j]["text"] != examples[i]["text"])
    again = collate(examples)
    assert torch.equal(again["mlm_input_ids"], batch["mlm_input_ids"])  # a resumed run masks alike
    assert batch["pixel_values"].shape == (8, 3, 128, 128) and batch["pixel_mask"].all()


def test_vqa_questions_about_one_image_share_its_cnn_pass(wordpiece, tmp_path):
    scenes = make_scenes(2, seed=5, size=128)
    missing = str(tmp_path / "missing.jpg")
    examples = [{"image": image, "question": q, "answers": ["2"] * 10}
                for image, q in ((scenes[0], "how many shapes are there"), (missing, "how many shapes are there"),
                                 (scenes[1], "what colour is the circle"), (missing, "what colour is the circle"),
                                 (scenes[0], "what colour is the circle"))]
    collate = PixelBertVQACollator(wordpiece, 128, 192, (0.5,) * 3, (0.5,) * 3, answer2id={"2": 0, "3": 1})
    batch = collate(examples)
    assert batch["pixel_values"].shape[0] == 2 and batch["image_index"].tolist() == [0, 1, 0]
    assert batch["input_ids"].shape[0] == 3 and collate.skipped.count == 1  # the missing file: tried once, both questions dropped
    torch.manual_seed(0)
    model = PixelBertForQuestionAnswering(tiny_config(vocab_size=len(wordpiece), num_labels=2)).eval()
    unshared = dict(batch, pixel_values=batch["pixel_values"][batch["image_index"]],
                    pixel_mask=batch["pixel_mask"][batch["image_index"]])
    del unshared["image_index"]
    with torch.no_grad():
        torch.testing.assert_close(model(**batch).logits, model(**unshared).logits)
        with pytest.raises(ValueError, match="image_index must hold one image number below 2"):
            model(**dict(batch, image_index=torch.tensor([0, 2, 0])))


def test_image_grouped_sampler_keeps_each_images_examples_together():
    images = ["a", "b", "a", "c", "b", "a", "d"]
    sampler = ImageGroupedSampler(images, seed=3)
    order = list(sampler)
    assert sorted(order) == list(range(7)) and len(sampler) == 7
    runs = [images[i] for i in order]
    assert sum(n == 0 or runs[n - 1] != k for n, k in enumerate(runs)) == 4  # one unbroken run per image
    assert list(ImageGroupedSampler(images, seed=3)) == order  # the same seed and epoch: the same order
    orders = set()
    for epoch in range(8):
        sampler.set_epoch(epoch)
        orders.add(tuple(sampler))
    assert len(orders) > 1
    with pytest.raises(ValueError, match="at least one example"):
        ImageGroupedSampler([])


def test_vqa_soft_scores_and_accuracy_by_hand():
    assert vqa_soft_score(1) == pytest.approx(0.9 * (1 / 3))  # removing its annotator leaves none
    assert vqa_soft_score(3) == pytest.approx((3 * (2 / 3) + 7 * 1) / 10)
    assert vqa_soft_score(4) == 1.0 and vqa_soft_score(0) == 0.0
    assert normalize_vqa_answer("Two.") == "2" and normalize_vqa_answer("the Net") == "net"
    assert normalize_vqa_answer("dont") == "don't" and normalize_vqa_answer("1,000") == "1000"
    answers = [["2"] * 3 + ["3"] * 7, ["net"] * 10]
    assert vqa_accuracy(["two", "a net"], answers) == pytest.approx((0.9 + 1.0) / 2)
    with pytest.raises(ValueError, match="2 predictions for 1 questions"):
        vqa_accuracy(["a", "b"], [["a"]])


def test_retrieval_recall_by_hand():
    scores = np.array([[0.9, 0.1, 0.5, 0.0],   # image 0: best text 0 (its own)
                       [0.2, 0.3, 0.8, 0.7],   # image 1: its texts 1 and 3 rank 3rd and 2nd
                       [0.1, 0.9, 0.2, 0.95]])  # image 2: its text 2 ranks 3rd
    owner = [0, 1, 2, 1]
    r = retrieval_recall(scores, owner, ks=(1, 2))
    assert r["text_r1"] == pytest.approx(1 / 3) and r["text_r2"] == pytest.approx(2 / 3)
    # texts -> images: text 0 finds image 0 first; texts 1 and 3 find image 1 second (image 2
    # scores higher); text 2 finds image 2 only third (0.2 against 0.5 and 0.8).
    assert r["image_r1"] == pytest.approx(1 / 4) and r["image_r2"] == pytest.approx(3 / 4)


# -- images and readers --------------------------------------------------------------------------
def test_unreadable_images_are_skipped_counted_and_named(tmp_path, caplog):
    good = tmp_path / "good.png"
    Image.new("RGB", (40, 30), "red").save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:60])
    (tmp_path / "text.jpg").write_text("not an image")
    examples = [{"image": str(good)}, {"image": str(truncated)}, {"image": str(tmp_path / "text.jpg")},
                {"image": str(tmp_path / "missing.jpg")}]
    kept, skipped = keep_readable(examples)
    assert kept == examples[:1] and skipped.count == 3
    assert "missing.jpg (no such file)" in skipped.examples[2]
    assert "truncated.png" in caplog.text
    assert open_image(str(truncated), SkippedImages()) is None


def test_resizing_follows_the_paper_and_batches_pad_to_64():
    wide = Image.new("RGB", (1000, 500))
    assert resize_shorter_edge(wide, 800, 1333).size == (1333, 667)  # the longer edge caps it
    assert resize_shorter_edge(Image.new("RGB", (300, 400)), 800, 1333).size == (800, 1067)
    pixel_values, mask = images_to_batch([Image.new("RGB", (70, 64), "white"), Image.new("RGB", (64, 130))],
                                         (0.5,) * 3, (0.5,) * 3)
    assert pixel_values.shape == (2, 3, 192, 128) and mask[0].sum() == 70 * 64 and mask[1, :130, :64].all()
    assert pixel_values[0, 0, 0, 0] == pytest.approx(1.0)  # white, normalised with mean 0.5 and std 0.5


def test_readers_on_the_shared_fixtures(shared_data):
    from pixlm.data.vl_readers import read_flickr30k_entities, read_nlvr2, read_vqa

    vl = shared_data / "vl"
    flickr = read_flickr30k_entities(str(vl / "flickr30k" / "tiny-dev.txt"), str(vl / "flickr30k" / "sentences"),
                                     str(vl / "images" / "flickr30k"))
    assert len(flickr) == 15 and flickr[0]["image_id"] == "1"
    assert flickr[0]["text"].startswith("A girl with brown hair sits on the edge of a cement area")
    assert not any("[/EN#" in e["text"] or "]" in e["text"] for e in flickr)
    vqa = read_vqa(str(vl / "vqav2" / "questions.json"), str(vl / "vqav2" / "annotations.json"), str(vl / "images" / "vqav2"))
    assert len(vqa) == 3 and all(len(e["answers"]) == 10 and os.path.isfile(e["image"]) for e in vqa)
    assert vqa[0]["question"] == "What is this photo taken looking through?" and vqa[0]["answers"].count("net") >= 5
    nlvr2 = read_nlvr2(str(vl / "nlvr2" / "tiny-dev.json"), str(vl / "images" / "nlvr2"))
    assert len(nlvr2) == 8 and sum(e["label"] for e in nlvr2) == 4
    assert all(os.path.isfile(p) for e in nlvr2 for p in e["images"])
    assert nlvr2[0]["images"][0].endswith("dev-850-0-img0.png")
    assert keep_readable(nlvr2, "images")[1].count == 0


def test_caption_formats_written_here(tmp_path):
    from pixlm.data.vl_readers import read_captions

    (tmp_path / "coco.json").write_text(json.dumps({"images": [{"id": 7, "file_name": "a.jpg"}],
                                                    "annotations": [{"id": 1, "image_id": 7, "caption": " A cat. "}]}))
    (tmp_path / "karpathy.json").write_text(json.dumps({"images": [
        {"filepath": "val2014", "filename": "b.jpg", "split": "test", "imgid": 3, "sentences": [{"raw": "A dog."}]},
        {"filepath": "train2014", "filename": "c.jpg", "split": "restval", "imgid": 4, "sentences": [{"raw": "A cow."}]}]}))
    (tmp_path / "list.json").write_text(json.dumps([{"image": "d.jpg", "caption": ["One.", "Two."]}]))
    assert read_captions(str(tmp_path / "coco.json"), "img") == [{"image": "img/a.jpg", "text": "A cat.", "image_id": 7}]
    assert [e["image"] for e in read_captions(str(tmp_path / "karpathy.json"), "coco", split="train")] == ["coco/train2014/c.jpg"]
    assert [e["text"] for e in read_captions(str(tmp_path / "list.json"), "r")] == ["One.", "Two."]
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        read_captions(str(tmp_path / "bad.json"), "r")


# -- scenes --------------------------------------------------------------------------------------
def test_scenes_questions_and_statements_agree_with_the_scene():
    scenes = make_scenes(50, seed=5, size=128)
    assert make_scenes(50, seed=5, size=128) == scenes
    for s in scenes:
        qa = dict(scene_questions(s, random.Random(0)))
        assert qa["how many shapes are there?"] == {1: "one", 2: "two", 3: "three"}[len(s.shapes)]
        for shape in s.shapes:
            assert qa[f"what shape is at the {shape.quadrant}?"] == shape.kind
        assert sorted(v for k, v in qa.items() if k.startswith("is there")) == ["no", "yes"]
    red_circle = Scene((Shape("circle", "red", "large", QUADRANTS[0]),), (255, 255, 255), ((0, 0),), 128)
    two = Scene((Shape("square", "red", "small", QUADRANTS[1]), Shape("circle", "blue", "small", QUADRANTS[2])),
                (255, 255, 255), ((0, 0), (0, 0)), 128)
    truths = {}
    rng = random.Random(0)
    for _ in range(200):
        text, label = pair_statement(two, red_circle, rng)
        truths[text] = label
    assert truths["the left image has more shapes than the right image"] is True
    assert truths.get("both images contain a red shape", True) is True
    assert truths.get("both images contain a blue shape", False) is False
    assert truths.get("the right image contains a red circle", True) is True
    pairs = balanced_pairs(scenes, 40, seed=1)
    assert sum(label for *_, label in pairs) == 20
    pixels = np.asarray(red_circle.image())
    assert tuple(pixels[32, 32]) == (220, 40, 40) and tuple(pixels[100, 100]) == (255, 255, 255)


# -- optimisers ------------------------------------------------------------------------------------
def test_hybrid_optimizer_steps_sgd_and_adamw_and_restores():
    torch.manual_seed(0)
    cnn, rest = torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)
    ref_cnn, ref_rest = torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)
    ref_cnn.load_state_dict(cnn.state_dict())
    ref_rest.load_state_dict(rest.state_dict())
    opt = HybridOptimizer(cnn.parameters(), [{"params": list(rest.parameters())}], cnn_lr=0.1, lr=0.01)
    sgd = torch.optim.SGD(ref_cnn.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    adamw = torch.optim.AdamW(ref_rest.parameters(), lr=0.01, weight_decay=1e-2)
    x = torch.rand(4, 3)
    for model_pair, optimizers in (((cnn, rest), [opt]), ((ref_cnn, ref_rest), [sgd, adamw])):
        for _ in range(2):
            loss = model_pair[1](model_pair[0](x)).pow(2).sum()
            loss.backward()
            for o in optimizers:
                o.step()
                o.zero_grad()
    torch.testing.assert_close(cnn.weight, ref_cnn.weight)
    torch.testing.assert_close(rest.weight, ref_rest.weight)
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, step_decay(10, 0.0, (0.5,)))
    for _ in range(5):
        scheduler.step()
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.01, 0.001])  # each from its own base
    again = HybridOptimizer(cnn.parameters(), [{"params": list(rest.parameters())}])
    again.load_state_dict(opt.state_dict())
    assert again.param_groups[0]["lr"] == pytest.approx(0.01)
    assert torch.equal(again.adamw.state[rest.weight]["exp_avg"], opt.adamw.state[rest.weight]["exp_avg"])
    rate = step_decay(100, 0.1, (0.6, 0.85))
    assert [rate(s) for s in (0, 9, 10, 59, 60, 85)] == pytest.approx([1 / 11, 10 / 11, 1.0, 1.0, 0.1, 0.01])
    constant = step_decay(100, 0.1, ())
    assert [constant(s) for s in (10, 60, 99)] == [1.0, 1.0, 1.0]


def test_the_decay_flag_sets_the_schedule():
    from pixlm.cli import build_parser
    from pixlm.cli.flags import config_from_args

    def milestones(*flags):
        return config_from_args(PixelBertRunConfig, build_parser().parse_args(["vl", "vqa", "--output-dir", "x", *flags])
                                ).decay_milestones

    assert milestones() == (0.6, 0.85)
    assert milestones("--decay-at", "none") == ()
    assert milestones("--decay-at", "0.7", "0.9") == (0.7, 0.9)


# -- end to end on scenes ---------------------------------------------------------------------------
def small_run(task, out, **kw):
    base = dict(task=task, output_dir=str(out), scenes=48, validation_scenes=24, scene_size=128, max_steps=4,
                batch_size=8, eval_steps=2, save_steps=2, progress=False, retrieval_negatives=4, retrieval_candidates=12,
                model_overrides={"image_min_size": 128, "image_max_size": 128})
    base.update(kw)
    return run_pixelbert(PixelBertRunConfig(**base))


def test_pretrain_then_finetune_each_task_end_to_end(tmp_path):
    pre = small_run("pretrain", tmp_path / "pre")
    assert pre["steps"] == 4 and set(pre["validation"]) == {"itm_accuracy", "mlm_accuracy"}
    assert os.path.isfile(tmp_path / "pre" / "tokenizer.json") and os.path.isdir(tmp_path / "pre" / "checkpoint-4")
    model = PixelBertForPreTraining.from_pretrained(tmp_path / "pre")
    encoder_key = "layer.0.attention.self.query.weight"
    for task in ("vqa", "nlvr2", "retrieval"):
        res = small_run(task, tmp_path / task, model=str(tmp_path / "pre"), model_overrides={})
        assert res["steps"] == 4
        scores = res["validation"]
        assert all(0.0 <= v <= 1.0 for v in scores.values())
        assert {"vqa": {"vqa_accuracy"}, "nlvr2": {"accuracy"}}.get(task, {"text_r1", "image_r1", "text_r10"}) <= set(scores)
    vqa_config = json.loads((tmp_path / "vqa" / "config.json").read_text())
    assert "nothing" in vqa_config["label2id"] and vqa_config["architectures"] == ["PixelBertForQuestionAnswering"]
    assert model.pixelbert.bert.encoder.state_dict()[encoder_key].shape == (128, 128)
    # The word-to-image attention figure, through the command.
    from pixlm.cli import main

    make_scenes(1, seed=9, size=128)[0].image().save(tmp_path / "scene.png")
    assert main(["attend", "--model", str(tmp_path / "pre"), "--image", str(tmp_path / "scene.png"),
                 "--text", "a red circle", "-o", str(tmp_path / "att.png")]) == 0
    with Image.open(tmp_path / "att.png") as figure:
        assert figure.width >= 3 * 128  # one panel per word piece
    assert main(["attend", "--model", str(tmp_path / "pre"), "--image", str(tmp_path / "none.png"), "--text", "x"]) == 2
    assert main(["attend", "--model", str(tmp_path / "pre"), "--image", str(tmp_path / "scene.png"), "--text", "x",
                 "--layer", "99"]) == 2  # a layer the model does not have (it was an IndexError)
    with pytest.raises(ValueError, match="task must be one of pretrain, vqa, nlvr2, retrieval; got 'caption'"):
        small_run("caption", tmp_path / "x")
    message = r"model must be a Pixel-BERT preset \(tiny, base, base-resnext\) or a checkpoint folder; got 'huge'"
    with pytest.raises(ValueError, match=message):
        small_run("pretrain", tmp_path / "x", model="huge")


def test_vqa_run_grouped_by_image_encodes_each_image_once(tmp_path, monkeypatch):
    seen = []
    original = PixelBertForQuestionAnswering.forward

    def recording(self, input_ids, *args, pixel_values=None, **kwargs):
        if self.training:
            seen.append((len(pixel_values), len(input_ids)))
        return original(self, input_ids, *args, pixel_values=pixel_values, **kwargs)

    monkeypatch.setattr(PixelBertForQuestionAnswering, "forward", recording)
    small_run("vqa", tmp_path / "grouped", group_by_image=True, save_steps=100)
    small_run("vqa", tmp_path / "random", save_steps=100)
    grouped, random_order = seen[:4], seen[4:]
    assert all(images <= 3 < questions for images, questions in grouped)  # 8 questions from 2-3 scenes (~8 each)
    assert sum(images for images, _ in random_order) > 2 * sum(images for images, _ in grouped)


def test_an_interrupted_run_resumes_from_its_last_checkpoint(tmp_path):
    first = small_run("vqa", tmp_path / "run", max_steps=4, save_steps=2)
    assert sorted(p.name for p in (tmp_path / "run").iterdir() if p.name.startswith("checkpoint-")) == ["checkpoint-2", "checkpoint-4"]
    # Asked for more steps in the same folder, the run continues from checkpoint-4 (with both
    # optimisers' states) instead of starting again.
    second = small_run("vqa", tmp_path / "run", max_steps=6, save_steps=2)
    assert second["steps"] == 6 and second["before"] is None and first["before"] is not None
    state = torch.load(tmp_path / "run" / "checkpoint-6" / "optimizer.pt", weights_only=False)
    assert set(state) == {"sgd", "adamw"} and state["sgd"]["state"]


def test_vqa_and_nlvr2_runs_on_the_real_fixture_files(shared_data, tmp_path):
    """COCO photos of different sizes share a batch (padded and masked), answers are normalised
    and scored with the official metric, NLVR2 pairs read their two PNGs."""
    vl = shared_data / "vl"
    vqa = run_pixelbert(PixelBertRunConfig(
        task="vqa", output_dir=str(tmp_path / "vqa"), train=str(vl / "vqav2" / "questions.json"),
        train_annotations=str(vl / "vqav2" / "annotations.json"), validation=str(vl / "vqav2" / "questions.json"),
        validation_annotations=str(vl / "vqav2" / "annotations.json"), images=str(vl / "images" / "vqav2"),
        max_steps=2, batch_size=3, save_steps=10, progress=False))
    assert vqa["train_examples"] == 3 and 0.0 <= vqa["validation"]["vqa_accuracy"] <= 1.0
    labels = json.loads((tmp_path / "vqa" / "config.json").read_text())["label2id"]
    assert "net" in labels  # the most common normalised answer of the first question
    nlvr2 = run_pixelbert(PixelBertRunConfig(
        task="nlvr2", output_dir=str(tmp_path / "nlvr2"), train=str(vl / "nlvr2" / "tiny-dev.json"),
        validation=str(vl / "nlvr2" / "tiny-dev.json"), images=str(vl / "images" / "nlvr2"), max_steps=2, batch_size=4,
        save_steps=10, progress=False))
    assert nlvr2["validation_examples"] == 8 and nlvr2["validation"]["accuracy"] in {k / 8 for k in range(9)}


def test_pretraining_and_retrieval_run_on_the_real_flickr30k_files(shared_data, tmp_path):
    """Flickr30k Entities captions (markup stripped) with their photos: MLM + ITM pretraining, then
    retrieval from it, ranked among the validation file's distinct images."""
    vl = shared_data / "vl"
    files = dict(train=str(vl / "flickr30k" / "test.txt"), validation=str(vl / "flickr30k" / "tiny-dev.txt"),
                 sentences=str(vl / "flickr30k" / "sentences"), images=str(vl / "images" / "flickr30k"),
                 model_overrides={"image_min_size": 128, "image_max_size": 192}, max_steps=2, batch_size=4,
                 save_steps=10, progress=False)
    pre = run_pixelbert(PixelBertRunConfig(task="pretrain", output_dir=str(tmp_path / "pre"), **files))
    assert pre["train_examples"] == 25 and pre["validation_examples"] == 15  # 5 and 3 photos, 5 captions each
    assert set(pre["validation"]) == {"itm_accuracy", "mlm_accuracy"}
    ret = run_pixelbert(PixelBertRunConfig(task="retrieval", output_dir=str(tmp_path / "ret"), model=str(tmp_path / "pre"),
                                           retrieval_negatives=4, **{**files, "model_overrides": {}}))
    scores = ret["validation"]
    # Ranked among the 3 distinct photos (not 15 copies): every caption's photo is in its top 3.
    assert scores["image_r10"] == 1.0 and scores["text_r10"] == 1.0
    assert scores["text_r1"] in {k / 3 for k in range(4)}  # per photo
    assert scores["image_r1"] in {k / 15 for k in range(16)}  # per caption
