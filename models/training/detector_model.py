"""The plate detector network: a small CenterNet on a 640 x 384 letterboxed frame.

Why this shape: the budget is <= 15 ms per 1080p frame on 2 CPU cores *including* the resize, so the
network sees the frame at 1/3 (1080p) or 1/2 (720p) scale and works at stride 8 (a 80 x 48 grid). Plates
are never closer than a few cells apart, so one centre per cell is enough, and sub-cell offsets recover
the precision stride 8 loses. Heads per cell:

* ``heat``: P(a plate centre is here) (sigmoid, focal loss on a Gaussian target);
* ``size``: the plate's axis-aligned box width and height, log of input pixels / 8;
* ``corners``: the 4 corners (clockwise from top-left) relative to the cell centre, in input pixels / 8
  (the centre's sub-cell offset is the mean of the corners, so it needs no head of its own).

The backbone is a patchify stem (4 x 4, stride 4: cheap, and at 1/12 of a 1080p frame's resolution a
3 x 3 stem would spend most of the budget on the largest map) followed by depthwise-separable blocks
down to stride 32 (a large plate is ~200 px wide at the input, so the head needs that context) and a
small FPN back up to stride 8.

The exported graph takes the letterboxed frame as uint8 NHWC BGR (1, 384, 640, 3), exactly what OpenCV
hands us, so the cast, transpose and scaling run inside ONNX Runtime instead of in numpy.
"""

from __future__ import annotations

import torch
from torch import nn

IN_H, IN_W = 384, 640
STRIDE = 8
OUT_H, OUT_W = IN_H // STRIDE, IN_W // STRIDE
#: channels of the output map: heat, log w, log h, 8 corner offsets
N_OUT = 11


def _cbr(a: int, b: int, k: int = 3, s: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(a, b, k, s, (k - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(b),
        nn.ReLU(inplace=True),
    )


class DWBlock(nn.Module):
    """Depthwise 3x3 + pointwise 1x1, residual when shapes match."""

    def __init__(self, a: int, b: int, s: int = 1) -> None:
        super().__init__()
        self.dw = _cbr(a, a, 3, s, groups=a)
        self.pw = nn.Sequential(nn.Conv2d(a, b, 1, bias=False), nn.BatchNorm2d(b))
        self.res = a == b and s == 1
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pw(self.dw(x))
        return self.act(x + y if self.res else y)


class PlateNet(nn.Module):
    """(B, 3, H, W) float in [-1, 1] -> (B, 11, H/8, W/8) raw outputs (heat logits, sizes, corners)."""

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()

        def c(n: int) -> int:
            return max(8, round(n * width / 8) * 8)

        c4, c8, c16, c32, f = c(24), c(48), c(96), c(128), c(64)
        self.stem = nn.Sequential(
            nn.Conv2d(3, c4, 4, 4, bias=False), nn.BatchNorm2d(c4), nn.ReLU(inplace=True), DWBlock(c4, c4)
        )
        self.s8 = nn.Sequential(_cbr(c4, c8, 3, 2), DWBlock(c8, c8), DWBlock(c8, c8))
        self.s16 = nn.Sequential(_cbr(c8, c16, 3, 2), DWBlock(c16, c16), DWBlock(c16, c16))
        self.s32 = nn.Sequential(DWBlock(c16, c32, 2), DWBlock(c32, c32), DWBlock(c32, c32))
        self.lat32 = nn.Conv2d(c32, f, 1)
        self.lat16 = nn.Conv2d(c16, f, 1)
        self.lat8 = nn.Conv2d(c8, f, 1)
        self.fuse16 = DWBlock(f, f)
        self.fuse8 = DWBlock(f, f)
        self.head = nn.Sequential(DWBlock(f, f), nn.Conv2d(f, N_OUT, 1))
        # CenterNet's prior: start with P(centre) ~ 0.01 so the focal loss does not explode early
        head_out = self.head[1]
        assert isinstance(head_out, nn.Conv2d) and head_out.bias is not None
        nn.init.constant_(head_out.bias, 0.0)
        with torch.no_grad():
            head_out.bias[0] = -4.6

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x4 = self.stem(x)
        x8 = self.s8(x4)
        x16 = self.s16(x8)
        x32 = self.s32(x16)
        p16 = self.fuse16(self.lat16(x16) + nn.functional.interpolate(self.lat32(x32), scale_factor=2.0))
        p8 = self.fuse8(self.lat8(x8) + nn.functional.interpolate(p16, scale_factor=2.0))
        out: torch.Tensor = self.head(p8)
        return out


class Export(nn.Module):
    """The deployed graph: uint8 (B, H, W, 3) BGR letterbox -> float (B, 11, H/8, W/8), heat as a
    probability (sigmoid applied), sizes and corners raw (decoded in `edge.own_detector`)."""

    def __init__(self, net: PlateNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 3, 1, 2).float() / 127.5 - 1.0
        out = self.net(x)
        return torch.cat([torch.sigmoid(out[:, :1]), out[:, 1:]], dim=1)


def export_onnx(net: PlateNet, path: str, dynamic_batch: bool = True) -> None:
    """Write the ONNX model (opset 17, input ``image`` uint8 (batch, 384, 640, 3), output ``maps``)."""
    net.eval()
    torch.onnx.export(
        Export(net),
        (torch.zeros(1, IN_H, IN_W, 3, dtype=torch.uint8),),
        path,
        input_names=["image"],
        output_names=["maps"],
        opset_version=17,
        dynamic_axes={"image": {0: "batch"}, "maps": {0: "batch"}} if dynamic_batch else None,
        dynamo=False,
    )
