"""The whitening-colouring transform (Li et al. 2017): give content features a painting's mean and covariance.

Whitening (E D^-1/2 Eᵀ of the content's covariance) removes the content features' correlations while
keeping their layout; colouring (the painting's E D^1/2 Eᵀ) gives them the painting's, and its mean
is added back. Both matrices come from eigendecompositions of C×C covariances (C up to 512), which is
done in float64: float32 eigenvalues of these covariances span many orders of magnitude and lose the
small ones, whose inverse square roots whitening needs. The products with the features stay in float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.profiler import record_function

# Eigenvalues below this fraction of the largest are dropped (ReLU features have dead channels, whose
# variance is 0): their inverse square roots would amplify noise without bound.
RELATIVE_EIGEN_FLOOR = 1e-5


@dataclass(frozen=True)
class FeatureStatistics:
    """A painting's features at one level: their mean (C×1) and the square root of their covariance (C×C)."""

    mean: Tensor
    colouring: Tensor  # float64

    def to(self, device: torch.device | str) -> FeatureStatistics:
        return FeatureStatistics(self.mean.to(device), self.colouring.to(device))


def _centred(features: Tensor) -> tuple[Tensor, Tensor]:
    """1×C×H×W → (C×1 mean, C×N centred features), in float32."""
    flat = features[0].flatten(1).float()
    mean = flat.mean(dim=1, keepdim=True)
    return mean, flat - mean


def _covariance_power(centred: Tensor, power: float) -> Tensor:
    """covariance ** power (C×C, float64) through its eigendecomposition, tiny eigenvalues dropped."""
    samples = max(1, centred.shape[1] - 1)
    covariance = (centred @ centred.T).double() / samples
    with record_function("wct.eigh"):
        values, vectors = torch.linalg.eigh(covariance)
    floor = values.max().clamp_min(1e-30) * RELATIVE_EIGEN_FLOOR
    kept = values > floor
    scaled = vectors[:, kept] * values[kept].pow(power)
    return scaled @ vectors[:, kept].T


def feature_statistics(features: Tensor) -> FeatureStatistics:
    """A painting's statistics at one level (1×C×H×W features), computed once per painting."""
    mean, centred = _centred(features)
    return FeatureStatistics(mean, _covariance_power(centred, 0.5))


def whiten_colour(features: Tensor, styles: Sequence[tuple[FeatureStatistics, float]], alpha: float = 1.0) -> Tensor:
    """Content features (1×C×H×W) with the paintings' statistics, blended by weight, then by `alpha` with the originals.

    A blend of several paintings is the weighted sum of each one's transform (Li et al.'s interpolation);
    the transform is linear, so that is one colouring matrix and one mean, and a single product.
    """
    mean, centred = _centred(features)
    whitening = _covariance_power(centred, -0.5)
    total = sum(weight for _, weight in styles)
    colouring = sum(stats.colouring * (weight / total) for stats, weight in styles)
    style_mean = sum(stats.mean * (weight / total) for stats, weight in styles)
    transformed = (colouring @ whitening).float() @ centred + style_mean
    if alpha != 1.0:
        transformed = torch.lerp(centred + mean, transformed, alpha)
    return transformed.view_as(features[0]).unsqueeze(0).to(features.dtype)
