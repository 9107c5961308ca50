"""Fine-tune an NLI sequence classifier on (premise, hypothesis, class) pairs with torch, reproducibly."""

from __future__ import annotations

import math
import random
from pathlib import Path

from .source import SourceModel

WARMUP_SHARE = 0.1  # of the steps, with the learning rate rising linearly before it decays to 0


def fine_tune(model: SourceModel, pairs: list[tuple[str, str, int]], out_dir: Path, *, epochs: int, learning_rate: float,
              batch_size: int, seed: int, max_tokens: int, progress: bool = True) -> Path:
    """Train the checkpoint on ``pairs`` (cross-entropy over its NLI classes) and save it, with its
    tokenizer, as a Hugging Face checkpoint in ``out_dir``. One seed fixes the batch order and
    dropout, and deterministic kernels are asked for, so a rerun gives the same weights."""
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForSequenceClassification, get_linear_schedule_with_warmup

    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    network = AutoModelForSequenceClassification.from_pretrained(model.name)
    network.train()
    optimizer = torch.optim.AdamW(network.parameters(), lr=learning_rate, weight_decay=0.01)
    steps = epochs * math.ceil(len(pairs) / batch_size)
    schedule = get_linear_schedule_with_warmup(optimizer, int(WARMUP_SHARE * steps), steps)
    order = random.Random(seed)
    length = min(model.max_length, max_tokens)
    with tqdm(total=steps, desc="tune", unit="step", disable=not progress) as bar:
        for epoch in range(epochs):
            shuffled = order.sample(pairs, len(pairs))
            for start in range(0, len(shuffled), batch_size):
                batch = shuffled[start : start + batch_size]
                encoded = model.tokenizer([p for p, _, _ in batch], [h for _, h, _ in batch], truncation="only_first",
                                          max_length=length, padding=True, return_tensors="pt")
                loss = network(**encoded, labels=torch.tensor([c for _, _, c in batch])).loss
                loss.backward()
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}")
                bar.update()
    network.eval()
    network.save_pretrained(out_dir)
    model.tokenizer.save_pretrained(out_dir)
    return out_dir
