"""The optional no-target branch: "this expression refers to nothing"."""
from typing import List, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmrrsis.models.utils import TextConditioned, TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptMultiConfig, SampleList

#: How a fused map becomes one vector per expression.
NO_TARGET_POOLINGS = ('avg', 'avgmax')


def no_target_labels(data_samples: SampleList) -> Tensor:
    """(B, ) 1.0 where a sample's expression refers to nothing.

    The sample's ``no_target`` metainfo when its dataset sets it
    (gRefCOCO's ``ann_id: [-1]``), else whether its ground truth has no
    target pixel.

    Args:
        data_samples (list[SegDataSample]): With ``gt_sem_seg``.

    Returns:
        Tensor: (B, ) float labels.
    """
    labels = []
    for sample in data_samples:
        flag = sample.metainfo.get('no_target')
        if flag is None:
            flag = not bool((sample.gt_sem_seg.data == 1).any())
        labels.append(float(bool(flag)))
    return torch.tensor(labels)


@MODELS.register_module()
class NoTargetHead(BaseModule, TextConditioned):
    """A classifier of "the expression refers to nothing" on pooled fused
    features (ReLA's no-target head: an MLP on globally averaged region
    features, trained with cross-entropy weighted 0.9 / 1.1 and scaled by
    0.1).

    Plugged into any referring segmentor as its ``no_target_head``: it gets
    the maps the decode head gets (text already fused into them by an
    early-fusion backbone or a text-aware neck) and the text record::

        v_s   = pool(x[s])              for s in in_index   # (B, C_s)
        v     = concat(v_s [, text.pool()])
        logit = W_2 relu(W_1 v + b_1) + b_2                 # (B, )

    ``pool`` is a global average (``'avg'``, ReLA's), or average and
    maximum side by side (``'avgmax'``: one strong location can say
    "there is one"). At inference the segmentor empties the mask of a
    sample whose ``sigmoid(logit)`` exceeds ``test_cfg.no_target_threshold``
    (``probs_to_mask``); in training :meth:`loss` adds

        loss = loss_weight * sum_i w_i BCE(logit_i, y_i) / sum_i w_i

    with ``y_i`` = 1 for a no-target sample (:func:`no_target_labels`) and
    ``w_i`` its class weight, as ReLA's weighted cross-entropy of two
    classes. The decode head keeps learning an empty mask for such samples.

    Args:
        in_channels (int | Sequence[int]): Channels of the maps at
            ``in_index``.
        in_index (int | Sequence[int]): Which of the decode head's maps
            are pooled. Defaults to -1 (the deepest).
        pooling (str): ``'avg'`` or ``'avgmax'``. Defaults to 'avg'.
        text_channels (int): Width of the sentence vector concatenated to
            the pooled maps; 0 uses no text beyond what is fused into the
            maps (ReLA). Defaults to 0.
        text_pooling (str): How the sentence vector is taken
            (:meth:`TextFeatures.pool`). Defaults to 'masked_mean'.
        hidden_channels (int): Width of the MLP. Defaults to 256.
        class_weight (Sequence[float]): Weights of (target, no target).
            Defaults to (0.9, 1.1), ReLA's.
        loss_weight (float): Defaults to 0.1, ReLA's.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 in_index: Union[int, Sequence[int]] = -1,
                 pooling: str = 'avg',
                 text_channels: int = 0,
                 text_pooling: str = 'masked_mean',
                 hidden_channels: int = 256,
                 class_weight: Sequence[float] = (0.9, 1.1),
                 loss_weight: float = 0.1,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if pooling not in NO_TARGET_POOLINGS:
            raise ValueError(f'pooling must be one of {NO_TARGET_POOLINGS}, '
                             f'got {pooling!r}')
        self.in_index = [in_index] if isinstance(in_index,
                                                 int) else list(in_index)
        channels = [in_channels] if isinstance(in_channels,
                                               int) else list(in_channels)
        if len(channels) != len(self.in_index):
            raise ValueError(f'in_channels {channels} must give one width '
                             f'per map of in_index {self.in_index}')
        if len(class_weight) != 2:
            raise ValueError('class_weight holds the weights of (target, no '
                             f'target), got {class_weight}')
        self.pooling = pooling
        self.text_channels = text_channels
        self.text_pooling = text_pooling
        self.class_weight = tuple(float(w) for w in class_weight)
        self.loss_weight = loss_weight
        width = sum(channels) * (2 if pooling == 'avgmax' else 1)
        self.mlp = nn.Sequential(
            nn.Linear(width + text_channels, hidden_channels),
            nn.ReLU(inplace=True), nn.Linear(hidden_channels, 1))

    def _pool(self, x: Tensor) -> Tensor:
        pooled = x.mean(dim=(2, 3))
        if self.pooling == 'avgmax':
            pooled = torch.cat([pooled, x.amax(dim=(2, 3))], dim=1)
        return pooled

    def forward(self, feats: List[Tensor], text: TextFeatures) -> Tensor:
        """No-target logits.

        Args:
            feats (list[Tensor]): The decode head's maps, (B, C_s, H_s,
                W_s) each.
            text (TextFeatures): The batch's text record (words (B, L,
                C_t), mask (B, L)).

        Returns:
            Tensor: (B, ) logits that the expression refers to nothing.
        """
        vectors = [self._pool(feats[i]) for i in self.in_index]
        if self.text_channels:
            vectors.append(text.pool(self.text_pooling).to(vectors[0]))
        return self.mlp(torch.cat(vectors, dim=1)).squeeze(1)

    def loss(self, feats: List[Tensor], text: TextFeatures,
             data_samples: SampleList) -> dict:
        """The weighted binary cross-entropy of the branch.

        Args:
            feats (list[Tensor]): The decode head's maps.
            text (TextFeatures): The batch's text record.
            data_samples (list[SegDataSample]): With ``gt_sem_seg`` and,
                for a generalized dataset, ``metainfo['no_target']``.

        Returns:
            dict[str, Tensor]: ``loss_no_target`` and ``acc_no_target``
            (the share of samples the branch classifies right, detached).
        """
        logits = self(feats, text)
        labels = no_target_labels(data_samples).to(logits)
        weights = torch.where(labels > 0, self.class_weight[1],
                              self.class_weight[0]).to(logits)
        bce = F.binary_cross_entropy_with_logits(
            logits, labels, reduction='none')
        loss = (weights * bce).sum() / weights.sum()
        accuracy = ((logits > 0).float() == labels).float().mean()
        return dict(loss_no_target=self.loss_weight * loss,
                    acc_no_target=accuracy.detach())
