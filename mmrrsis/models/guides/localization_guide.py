"""DiCoR's localization guide: find the referred object's candidates on a
feature map, pick one with the expression, and boost the map (and the
words) with it."""
from typing import Dict, NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmrrsis.models.utils import TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptMultiConfig


def _group_count(channels: int, most: int = 32) -> int:
    """The largest divisor of ``channels`` not above ``most``."""
    groups = min(most, channels)
    while channels % groups:
        groups -= 1
    return groups


def _grid(height: int, width: int, like: Tensor) -> Tuple[Tensor, Tensor]:
    """Row (h, 1) and column (1, w) indices in ``like``'s dtype."""
    rows = torch.arange(height, device=like.device, dtype=like.dtype)
    cols = torch.arange(width, device=like.device, dtype=like.dtype)
    return rows.view(height, 1), cols.view(1, width)


def masked_softmax(logits: Tensor, valid: Tensor) -> Tensor:
    """Softmax over the last axis among ``valid`` entries (the others 0).

    Invalid logits are set to -1e4 before the softmax, the result is
    multiplied by ``valid`` and renormalised (the sum floored at 1e-6), so
    a row with no valid entry is all zeros.

    Args:
        logits (Tensor): (..., N).
        valid (Tensor): (..., N) bool.

    Returns:
        Tensor: (..., N) weights.
    """
    weights = logits.masked_fill(~valid, -1e4).softmax(-1) * valid
    return weights / weights.sum(-1, keepdim=True).clamp_min(1e-6)


class Candidates(NamedTuple):
    """Up to K candidate locations on an (h, w) map.

    Attributes:
        maps (Tensor): (B, K, h, w) each candidate's map (the score map
            under a Gaussian window at its centre, summing to 1), zeros
            for an invalid candidate.
        centers (Tensor): (B, K, 2) (row, column) of each peak.
        valid (Tensor): (B, K) bool.
        peaks (Tensor): (B, K) the score at each centre.
    """

    maps: Tensor
    centers: Tensor
    valid: Tensor
    peaks: Tensor


class PeakPicker:
    """The K highest local maxima of a score map, with a minimum distance
    between them. Nothing is learned.

    On a (B, 1, h, w) map S in [0, 1]: the local maxima are the pixels
    equal to the ``kernel`` x ``kernel`` max-pool of S (within 1e-12) and
    at least ``min_peak``; if there are none, every pixel competes. K
    times: the highest remaining pixel c (row-major first on ties) is a
    candidate with map ``S * exp(-|p - c|^2 / (2 sigma^2))`` normalised
    to sum 1 (invalid if its sum is not above ``min_mass``); pixels within
    ``nms_radius`` of c are removed. When nothing remains, the remaining
    candidates are invalid (zeros).

    Args:
        num_candidates (int): K. Defaults to 5.
        kernel (int): Local-maximum window (made odd). Defaults to 3.
        nms_radius (float): Suppression radius in pixels. Defaults to 2.
        sigma (float): Gaussian window of a candidate map. Defaults to 1.5.
        min_peak (float): Lowest score of a local maximum. Defaults to
            0.05.
        min_mass (float): Lowest windowed mass of a valid candidate.
            Defaults to 1e-8.
    """

    def __init__(self,
                 num_candidates: int = 5,
                 kernel: int = 3,
                 nms_radius: float = 2.,
                 sigma: float = 1.5,
                 min_peak: float = 0.05,
                 min_mass: float = 1e-8) -> None:
        self.num_candidates = num_candidates
        kernel = max(int(kernel), 1)
        self.kernel = kernel if kernel % 2 else kernel + 1
        self.nms_radius = float(nms_radius)
        self.sigma = max(float(sigma), 1e-6)
        self.min_peak = float(min_peak)
        self.min_mass = float(min_mass)

    def __call__(self, score: Tensor) -> Candidates:
        """Pick the candidates.

        Args:
            score (Tensor): (B, 1, h, w) scores in [0, 1].

        Returns:
            Candidates: K candidates per sample.
        """
        B, _, h, w = score.shape
        K = self.num_candidates
        score = score[:, 0]
        pooled = F.max_pool2d(
            score, self.kernel, stride=1, padding=self.kernel // 2)
        peak = (score >= pooled - 1e-12) & (score >= self.min_peak)
        remaining = score.masked_fill(~peak, float('-inf'))
        no_peak = ~peak.flatten(1).any(1)
        remaining[no_peak] = score[no_peak]
        rows, cols = _grid(h, w, score)
        maps = score.new_zeros(B, K, h, w)
        centers = score.new_zeros(B, K, 2)
        peaks = score.new_zeros(B, K)
        valid = torch.zeros(B, K, dtype=torch.bool, device=score.device)
        batch = torch.arange(B, device=score.device)
        for k in range(K):
            flat = remaining.flatten(1)
            index = flat.argmax(1)
            found = torch.isfinite(flat[batch, index])
            row, col = index // w, index % w
            center = torch.stack([row, col], 1).to(score.dtype)
            dist2 = ((rows - center[:, 0, None, None])**2 +
                     (cols - center[:, 1, None, None])**2)
            window = score * torch.exp(-0.5 * dist2 / (self.sigma**2))
            mass = window.flatten(1).sum(1)
            ok = found & (mass > self.min_mass)
            centers[:, k] = torch.where(found[:, None], center, 0)
            peaks[:, k] = torch.where(found, score[batch, row, col], 0)
            maps[:, k] = torch.where(
                ok[:, None, None],
                window / mass.clamp_min(self.min_mass)[:, None, None], 0)
            valid[:, k] = ok
            remaining = remaining.masked_fill(dist2 <= self.nms_radius**2,
                                              float('-inf'))
        return Candidates(maps, centers, valid, peaks)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_candidates={self.num_candidates},'
                f' kernel={self.kernel}, nms_radius={self.nms_radius}, '
                f'sigma={self.sigma}, min_peak={self.min_peak}, '
                f'min_mass={self.min_mass})')


def candidate_geometry(cands: Candidates) -> Tensor:
    """Five numbers per candidate, in the map's [-1, 1] coordinates.

    (centre x, centre y, effective area ``1 / sum(m^2) / (h w)``, spread
    in x, spread in y), the spreads being the standard deviations under
    the candidate map m; zeros for an invalid candidate.

    Args:
        cands (Candidates): From :class:`PeakPicker`.

    Returns:
        Tensor: (B, K, 5).
    """
    maps = cands.maps
    h, w = maps.shape[2:]
    rows, cols = _grid(h, w, maps)
    rows = rows / max(h - 1, 1) * 2. - 1.
    cols = cols / max(w - 1, 1) * 2. - 1.
    mass = maps.flatten(2).sum(-1).clamp_min(1e-8)
    center_x = cands.centers[..., 1] / max(w - 1, 1) * 2. - 1.
    center_y = cands.centers[..., 0] / max(h - 1, 1) * 2. - 1.
    mean_x = (maps * cols).flatten(2).sum(-1) / mass
    mean_y = (maps * rows).flatten(2).sum(-1) / mass

    def spread(coords: Tensor, mean: Tensor) -> Tensor:
        var = (maps * (coords - mean[..., None, None])**2).flatten(2).sum(-1)
        return (var / mass).clamp_min(1e-12).sqrt()

    area = 1. / maps.square().flatten(2).sum(-1).clamp_min(1e-8) / (h * w)
    geometry = torch.stack([
        center_x, center_y, area,
        spread(cols, mean_x),
        spread(rows, mean_y)
    ], -1)
    return geometry * cands.valid[..., None].to(geometry.dtype)


class EvidenceHead(BaseModule):
    """Two 3x3 conv + GroupNorm + GELU, then a 1x1 conv to one logit a
    pixel: where the referred object may be, before reading the words.

    Args:
        in_channels (int): C of the feature map.
        channels (int): Hidden width. Defaults to 128.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int = 128,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        groups = _group_count(channels)
        # plain layers keep PyTorch's initialisation (ConvModule would
        # re-initialise the convs), as the reference
        self.convs = nn.Sequential(*[
            nn.Sequential(
                nn.Conv2d(c, channels, 3, padding=1, bias=False),
                nn.GroupNorm(groups, channels), nn.GELU())
            for c in (in_channels, channels)
        ])
        self.logit = nn.Conv2d(channels, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, h, w) -> (B, 1, h, w) logits."""
        return self.logit(self.convs(x))


def _linear_ln(in_features: int, out_features: int,
               gelu: bool = False) -> nn.Sequential:
    layers = [nn.Linear(in_features, out_features), nn.LayerNorm(out_features)]
    return nn.Sequential(*layers, *([nn.GELU()] if gelu else []))


def _mlp(in_features: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_features, hidden), nn.GELU(), nn.Linear(hidden, 1))


class CandidateRanker(BaseModule):
    """Score each candidate against the expression.

    Per candidate k with pooled visual feature v_k (C) and geometry g_k
    (5), and words w_n (C_t) of which only the valid ones count:

    - routing: ``a_kn = softmax_n(MLP([R_t(w_n), R_c([v_k, g_k])]))``,
      each candidate weighs the words its own way; the candidate's query
      is ``q_k = sum_n a_kn Q(w_n)``;
    - content score ``<V(v_k), P(q_k)>`` of the L2-normalised
      embeddings, geometry score ``MLP_g([g_k, q_k])``;
    - ``s_k = content + lambda_geo * geometry``, -1e4 for an invalid
      candidate.

    R_t, R_c: linear + LN + GELU; Q, V, P: linear + LN.

    Args:
        visual_channels (int): C.
        text_channels (int): C_t. Defaults to 768.
        query_channels (int): Width of Q, V, P. Defaults to 256.
        route_channels (int): Width of R_t, R_c and the routing MLP.
            Defaults to 256.
        geometry_channels (int): Hidden width of MLP_g. Defaults to 128.
        lambda_geo (float): Weight of the geometry score. Defaults to 0.5.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 visual_channels: int,
                 text_channels: int = 768,
                 query_channels: int = 256,
                 route_channels: int = 256,
                 geometry_channels: int = 128,
                 lambda_geo: float = 0.5,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.lambda_geo = float(lambda_geo)
        self.candidate_route = _linear_ln(
            visual_channels + 5, route_channels, gelu=True)
        self.word_route = _linear_ln(text_channels, route_channels, gelu=True)
        self.word_query = _linear_ln(text_channels, query_channels)
        self.route_score = _mlp(2 * route_channels, route_channels)
        self.visual_embed = _linear_ln(visual_channels, query_channels)
        self.query_embed = _linear_ln(query_channels, query_channels)
        self.geometry_score = _mlp(5 + query_channels, geometry_channels)

    def forward(self, visual: Tensor, geometry: Tensor, words: Tensor,
                word_valid: Tensor, valid: Tensor) -> Dict[str, Tensor]:
        """Score the candidates.

        Args:
            visual (Tensor): (B, K, C) pooled visual features.
            geometry (Tensor): (B, K, 5) from :func:`candidate_geometry`.
            words (Tensor): (B, N, C_t) word features.
            word_valid (Tensor): (B, N) bool, the words that count.
            valid (Tensor): (B, K) bool, the valid candidates.

        Returns:
            dict[str, Tensor]: ``scores`` (B, K), ``token_alpha``
            (B, K, N) the routing weights.
        """
        K, N = visual.shape[1], words.shape[1]
        route_c = self.candidate_route(torch.cat([visual, geometry], -1))
        route_w = self.word_route(words)
        pairs = torch.cat([
            route_w[:, None].expand(-1, K, -1, -1),
            route_c[:, :, None].expand(-1, -1, N, -1)
        ], -1)
        alpha = masked_softmax(
            self.route_score(pairs)[..., 0],
            word_valid[:, None].expand(-1, K, -1))
        query = torch.einsum('bkn,bnq->bkq', alpha, self.word_query(words))
        content = (F.normalize(self.visual_embed(visual), dim=-1) *
                   F.normalize(self.query_embed(query), dim=-1)).sum(-1)
        geo = self.geometry_score(torch.cat([geometry, query], -1))[..., 0]
        scores = (content + self.lambda_geo * geo).masked_fill(~valid, -1e4)
        return dict(scores=scores, token_alpha=alpha)


@MODELS.register_module()
class LocalizationGuide(BaseModule):
    """DiCoR's localization guide on one feature map (the Swin stage-3
    output, 30x30 at 480x480).

    ::

        E      = EvidenceHead(X)                      (B, 1, h, w) logits
        S      = sigmoid(E), or the given candidate map (training)
        cands  = PeakPicker(S)                        K maps, centres
        v_k    = sum_p m_k(p) X(p)                    pooled features
        s_k    = CandidateRanker(v_k, geometry_k, words)
        k*     = argmax_k s_k                         the winner
        M      = m_k* / max(m_k*)
        X'     = X * (1 + alpha M)
        words' = LN(words * t)                        (if guide_text)

    with the word scale ``t_n = 1 + (N_v a_k*n - 1) mean(M)`` for the
    valid words (the winner's routing weight times the number of valid
    words, pulled towards 1 by how much of the map the winner covers),
    1 elsewhere; valid words are the real tokens that are not the
    encoder's special tokens (``TextFeatures.special``). The peak picking
    is not differentiable; the evidence head learns from
    :class:`~mmrrsis.models.losses.LocalizationLoss`, the ranker from its
    winner term.

    Contract (called by
    :class:`~mmrrsis.models.segmentors.DiCoREncoderDecoder` on
    ``feats[feature_index]``): ``guide(x, text, candidate_prob=None) ->
    (x', text', details)``; ``details`` holds ``evidence_logit``
    (B, 1, h, w), ``cand_maps`` (B, K, h, w), ``cand_centers`` (B, K, 2),
    ``cand_valid`` (B, K), ``scores`` (B, K), ``winner`` (B,),
    ``token_alpha`` (B, K, N) and, with ``guide_text``, ``token_scale``
    (B, N).

    Args:
        in_channels (int): C of the map. Defaults to 512.
        text_channels (int): C_t of the words. Defaults to 768.
        feature_index (int): Which backbone output. Defaults to 2.
        evidence_channels (int): Evidence head width. Defaults to 128.
        query_channels (int): Ranker query width. Defaults to 256.
        route_channels (int): Ranker routing width. Defaults to 256.
        geometry_channels (int): Ranker geometry width. Defaults to 128.
        lambda_geo (float): Geometry score weight. Defaults to 0.5.
        alpha (float): Boost of the winner's map. Defaults to 0.5.
        guide_text (bool): Reweight the words (the LVMSF model); False
            leaves them as they are (the coarse model with the guide).
            Defaults to True.
        picker (dict, optional): Arguments of :class:`PeakPicker`.
            Defaults to None (its defaults: 5 candidates, kernel 3, NMS
            radius 2, sigma 1.5, min peak 0.05).
        init_cfg (dict | list[dict], optional): Defaults to None
            (PyTorch's initialisation, as the reference).
    """

    def __init__(self,
                 in_channels: int = 512,
                 text_channels: int = 768,
                 feature_index: int = 2,
                 evidence_channels: int = 128,
                 query_channels: int = 256,
                 route_channels: int = 256,
                 geometry_channels: int = 128,
                 lambda_geo: float = 0.5,
                 alpha: float = 0.5,
                 guide_text: bool = True,
                 picker: Optional[dict] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.feature_index = feature_index
        self.alpha = float(alpha)
        self.guide_text = guide_text
        self.evidence_head = EvidenceHead(in_channels, evidence_channels)
        self.picker = PeakPicker(**(picker or {}))
        self.ranker = CandidateRanker(in_channels, text_channels,
                                      query_channels, route_channels,
                                      geometry_channels, lambda_geo)
        self.text_norm = nn.LayerNorm(text_channels)

    def forward(self,
                x: Tensor,
                text: TextFeatures,
                candidate_prob: Optional[Tensor] = None
                ) -> Tuple[Tensor, TextFeatures, Dict[str, Tensor]]:
        """Guide a map (and the words) towards the referred object.

        Args:
            x (Tensor): (B, C, h, w) feature map.
            text (TextFeatures): Words (B, N, C_t), mask (B, N) and
                ``special`` (B, N) (all words count when None).
            candidate_prob (Tensor, optional): (B, 1, H', W') foreground
                probabilities to pick the candidates on instead of the
                evidence (DiCoR's guide training feeds the prompt bank's
                maps): resized bilinearly to (h, w), clamped to [0, 1].
                Defaults to None.

        Returns:
            tuple: ``x'`` (B, C, h, w), the text record (words replaced
            when ``guide_text``) and the details dict (see the class
            docstring).
        """
        evidence = self.evidence_head(x)
        score = evidence.sigmoid()
        if candidate_prob is not None:
            score = candidate_prob.to(x.dtype)
            if score.shape[2:] != x.shape[2:]:
                score = F.interpolate(
                    score, x.shape[2:], mode='bilinear', align_corners=False)
            score = score.clamp(0., 1.)
        cands = self.picker(score)
        visual = torch.einsum('bchw,bkhw->bkc', x, cands.maps)
        word_valid = text.mask > 0
        if text.special is not None:
            word_valid = word_valid & ~text.special.bool()
        ranked = self.ranker(visual, candidate_geometry(cands), text.words,
                             word_valid, cands.valid)
        winner = ranked['scores'].argmax(1)
        batch = torch.arange(x.shape[0], device=x.device)
        winner_map = cands.maps[batch, winner][:, None]
        boost = winner_map / winner_map.flatten(1).max(1)[0].clamp_min(
            1e-8)[:, None, None, None]
        details = dict(
            evidence_logit=evidence,
            cand_maps=cands.maps,
            cand_centers=cands.centers,
            cand_valid=cands.valid,
            winner=winner,
            **ranked)
        x = x * (1. + self.alpha * boost)
        if self.guide_text:
            scale = self.word_scale(ranked['token_alpha'][batch, winner],
                                    word_valid, boost)
            details['token_scale'] = scale
            text = text._replace(
                words=self.text_norm(text.words * scale[..., None]))
        return x, text, details

    @staticmethod
    def word_scale(alpha: Tensor, valid: Tensor, boost: Tensor,
                   eps: float = 1e-6) -> Tensor:
        """The per-word scale t of the class docstring.

        Args:
            alpha (Tensor): (B, N) the winner's routing weights.
            valid (Tensor): (B, N) bool, the words that count.
            boost (Tensor): (B, 1, h, w) the winner's map scaled to max 1.
            eps (float): A weight sum below this falls back to uniform
                weights. Defaults to 1e-6.

        Returns:
            Tensor: (B, N), 1 at the words that do not count.
        """
        valid_f = valid.to(alpha.dtype)
        count = valid_f.sum(-1, keepdim=True)
        uniform = valid_f / count.clamp_min(1.)
        weight = alpha * valid_f
        total = weight.sum(-1, keepdim=True)
        weight = torch.where(total > eps, weight / total.clamp_min(eps),
                             uniform)
        weight = torch.where(count > 0, weight, uniform)
        spatial = boost.flatten(1).mean(-1, keepdim=True)
        scale = 1. + (weight * count.clamp_min(1.) - 1.) * spatial
        return torch.where(valid, scale, torch.ones_like(scale))


__all__ = [
    'Candidates', 'CandidateRanker', 'EvidenceHead', 'LocalizationGuide',
    'PeakPicker', 'candidate_geometry', 'masked_softmax'
]
