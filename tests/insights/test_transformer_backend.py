"""The transformers tone backend loads a real model from disk and reads its labels by name.

The model is a tiny BERT the test builds and trains on a few sentences (CPU, seconds), saved with
`save_pretrained` as a company's own model would be: the backend's loading and inference code is the
one a fine-tuned RoBERTa would go through. PyTorch and transformers come with the `transformers` extra;
`.ci/run` installs them, so in CI their absence is a failure.
"""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from firstring.insights.classifiers import classify_tone
from firstring.insights.classifiers.transformer import label_order, transformer_classifier
from firstring.insights.models import MessageTone
from tests.conftest import IN_CI

if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
    reason = "PyTorch and transformers are not installed (the `transformers` extra)"
    if IN_CI:
        pytest.fail(f"{reason}, and CI requires them", pytrace=False)
    pytest.skip(reason, allow_module_level=True)

TRAINING = [
    ("this is awful and broken", 0),
    ("terrible service I hate it", 0),
    ("my order number is here", 1),
    ("the parcel arrives on monday", 1),
    ("thank you so much great help", 2),
    ("wonderful support love it", 2),
]


def _build(directory: Path, id2label: dict[int, str]) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = sorted({word for text, _ in TRAINING for word in text.lower().split()})
    vocab = directory / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    # transformers 5 names the word list `vocab`; 4.x named it `vocab_file`.
    takes_vocab = "vocab" in inspect.signature(BertTokenizerFast.__init__).parameters
    tokenizer = BertTokenizerFast(
        **{"vocab" if takes_vocab else "vocab_file": str(vocab)}, do_lower_case=True
    )
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=32,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        id2label=id2label,
        label2id={name: index for index, name in id2label.items()},
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    # The test's labels are 0 negative, 1 neutral, 2 positive; the model's outputs follow id2label.
    position = {tone: index for index, tone in enumerate(("negative", "neutral", "positive"))}
    output_of = {position[name.lower()]: index for index, name in id2label.items()}
    texts = [text for text, _ in TRAINING]
    targets = torch.tensor([output_of[label] for _, label in TRAINING])
    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    optimiser = torch.optim.AdamW(model.parameters(), lr=0.003)
    model.train()
    for _ in range(150):
        optimiser.zero_grad()
        model(**encoded, labels=targets).loss.backward()
        optimiser.step()
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Outputs in an order of the model's own: the backend must read it from the labels.
    return _build(tmp_path_factory.mktemp("tone-model"), {0: "POSITIVE", 1: "negative", 2: "Neutral"})


def test_the_backend_loads_a_saved_model_and_reads_its_labels_by_name(tiny_model, settings):
    settings.FIRSTRING_TONE_MODEL = str(tiny_model)
    results = classify_tone([text for text, _ in TRAINING], backend="transformers")
    assert [r.label for r in results] == ["negative"] * 2 + ["neutral"] * 2 + ["positive"] * 2
    assert all(0.34 < r.confidence <= 1 for r in results)
    assert results[0].score < 0 < results[-1].score
    assert classify_tone([], backend="transformers") == []


def test_the_pipeline_stores_the_backends_tone(
    tiny_model, settings, receive, run_tasks, django_capture_on_commit_callbacks
):
    settings.FIRSTRING_TONE_MODEL = str(tiny_model)
    settings.FIRSTRING_TONE_BACKEND = "transformers"
    with django_capture_on_commit_callbacks(execute=True):
        message = receive(text="terrible service I hate it").message
    run_tasks()
    tone = MessageTone.objects.get(message=message)
    assert (tone.label, tone.backend) == ("negative", "transformers")


def test_a_missing_or_unlabelled_model_is_a_clear_configuration_error(tmp_path, settings):
    settings.FIRSTRING_TONE_MODEL = ""
    with pytest.raises(ImproperlyConfigured, match="needs FIRSTRING_TONE_MODEL"):
        classify_tone(["hello"], backend="transformers")
    with pytest.raises(ImproperlyConfigured, match="cannot load the tone model"):
        transformer_classifier(str(tmp_path / "nothing-here"))
    with pytest.raises(ImproperlyConfigured, match="do not say which output is negative"):
        label_order({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    with pytest.raises(ImproperlyConfigured, match="two outputs for positive"):
        label_order({0: "negative", 1: "pos", 2: "positive"})
    # A two-class model never calls a message neutral.
    assert label_order({0: "NEG", 1: "POS"}) == [0, None, 1]
