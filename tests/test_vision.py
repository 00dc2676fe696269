import numpy as np
import pytest

from helpers.models import tiny_timm_weights, tiny_vision_model
from sensorclip.config import (
    CaptionConfig,
    DataConfig,
    RenderConfig,
    SplitConfig,
    VisionConfig,
    WindowConfig,
)
from sensorclip.data.cache import load_npz
from sensorclip.data.homes import load_home
from sensorclip.frozen.render import render_home
from sensorclip.frozen.vision import VisionBackbone, vision_identity
from sensorclip.pipeline import prepare


@pytest.fixture(scope="module")
def images():
    return render_home(load_home("demo"), RenderConfig(image_size=64))[0][:6]


@pytest.mark.parametrize("family, dim", [("clip", 24), ("dinov2", 32), ("siglip", 32)])
def test_hf_backbones_load_local_weights_and_embed(tmp_path, images, family, dim):
    path = tiny_vision_model(tmp_path / family, family)
    config = VisionConfig(name=family, family=family, model_id=f"org/{family}", path=str(path),
                          pretrained=True, device="cpu")
    backbone = VisionBackbone(config)
    assert backbone.mean == (0.4, 0.4, 0.4)                 # the model's own preprocessing
    vectors = backbone.embed(images, progress=False)
    assert vectors.shape == (6, dim) and np.isfinite(vectors).all()
    assert vision_identity(config)["weights"] != "hub-latest"
    # the same weights give the same vectors
    assert np.allclose(VisionBackbone(config).embed(images, progress=False), vectors, atol=1e-5)


@pytest.mark.parametrize("family, dim", [("clip", 512), ("dinov2", 768), ("siglip", 768)])
def test_random_init_needs_no_download_and_has_the_real_dims(tmp_path, monkeypatch, family, dim):
    monkeypatch.setenv("HF_HOME", str(tmp_path))          # an empty cache: nothing to load
    config = VisionConfig(family=family, model_id=f"absent/{family}", pretrained=False,
                          allow_download=False, device="cpu")
    backbone = VisionBackbone(config)
    assert backbone.dim == dim and backbone.input_size == 224
    assert vision_identity(config)["weights"] == "random-init-seed0"


def test_timm_backbone_from_a_local_weights_file(tmp_path, images):
    weights = tiny_timm_weights(tmp_path / "vit" / "model.safetensors")
    config = VisionConfig(name="timm", family="timm", model_id="vit_tiny_patch16_224",
                          path=str(weights.parent), pretrained=True, device="cpu")
    backbone = VisionBackbone(config)
    vectors = backbone.embed(images, progress=False)
    assert vectors.shape == (6, 192)
    random = VisionBackbone(VisionConfig(device="cpu", seed=0)).embed(images, progress=False)
    assert np.allclose(vectors, random, atol=1e-5)   # same seed in the helper: same weights


def run_vision(tmp_path, render, vision):
    return prepare(DataConfig(days=3), WindowConfig(), SplitConfig(), CaptionConfig(per_window=1),
                   None, render, vision, cache_dir=tmp_path, stages=("images", "vision"))


def test_embedding_cache_records_provenance_and_invalidates(tmp_path):
    render, tiny = RenderConfig(image_size=64), VisionConfig(device="cpu")
    first = run_vision(tmp_path, render, tiny)
    assert first.built == {"images": True, "vision": True}
    npz = load_npz(first.entries["vision"] / "embeddings.npz")
    assert npz["embeddings"].shape == (48, 192) and int(npz["dim"]) == 192
    assert str(npz["revision"]) == "random-init-seed0" and int(npz["image_size"]) == 64
    assert len(npz["sensor_ids"]) == len(npz["states"]) == len(npz["image_keys"]) == 48
    assert (first.entries["vision"] / "pca_rooms.png").is_file()
    assert (first.entries["images"] / "contact_sheet.png").is_file()
    assert run_vision(tmp_path, render, tiny).built == {"images": False, "vision": False}
    bigger = run_vision(tmp_path, RenderConfig(image_size=96), tiny)
    assert bigger.built == {"images": True, "vision": True}
    other = run_vision(tmp_path, render, VisionConfig(device="cpu", seed=1))
    assert other.built == {"images": False, "vision": True}


def test_every_event_maps_to_an_embedding(tmp_path):
    prep = prepare(DataConfig(days=3), WindowConfig(), SplitConfig(), CaptionConfig(per_window=1),
                   None, RenderConfig(image_size=64), VisionConfig(device="cpu"),
                   cache_dir=tmp_path)
    assert prep.event_pair.shape == prep.sensor.shape and prep.event_pair.min() >= 0
    pairs = [prep.pairs[k] for k in prep.event_pair[:50]]
    names = [(prep.sensor_names[s], prep.state_names[t])
             for s, t in zip(prep.sensor[:50], prep.state[:50])]
    assert pairs == names
