"""The reader network: a small CRNN (conv feature extractor + bidirectional GRU + CTC head).

Sized for the edge box: about 95 M multiply-adds per 32 x 128 area, so one CPU core reads an area in under
two milliseconds. The height is collapsed by the convolutions, leaving 64 time steps across the line
(one per 2 px of input). Version 1 had 32 (one per 4 px): plenty for the large digits, but the stacked
region name of a single-line commercial plate (`경/기` in one narrow column, about 6 px of input wide)
then had 1.5 steps to emit two characters, and CTC must emit each on a step of its own. Halving the
stride roughly doubles the cost of the layers after the second pooling and nothing else; the weights of
version 1 load unchanged (pooling has none), which is how version 2 was trained (`--init`). The exported
graph ends in a softmax: the runtime decodes probabilities, never logits.
"""

from __future__ import annotations

import torch
from torch import nn


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class Reader(nn.Module):
    def __init__(self, n_classes: int, hidden: int = 128) -> None:
        super().__init__()
        self.features = nn.Sequential(
            *_block(1, 24),
            nn.MaxPool2d(2),  # 16 x 64
            *_block(24, 48),
            nn.MaxPool2d((2, 3), stride=(2, 1), padding=(0, 1)),  # 8 x 64: keep the horizontal detail
            *_block(48, 64),
            *_block(64, 64),
            nn.MaxPool2d((2, 1)),  # 4 x 64
            *_block(64, 96),
            *_block(96, 96),
            nn.MaxPool2d((2, 1)),  # 2 x 64
            nn.Conv2d(96, 128, (2, 1), bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),  # 1 x 64
            nn.Dropout(0.1),
        )
        self.rnn = nn.GRU(128, hidden, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 1, 32, 128) float in [-1, 1] -> logits (B, T=64, C)."""
        f = self.features(x).squeeze(2).transpose(1, 2)  # (B, T, 128)
        f, _ = self.rnn(f)
        return self.head(f)


class ExportWrapper(nn.Module):
    """uint8-range float input (B, 1, 32, 128) in [0, 255] -> probabilities (B, T, C)."""

    def __init__(self, model: Reader) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(x / 127.5 - 1.0), dim=-1)
