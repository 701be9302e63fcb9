"""ReferringRandomFlip keeps expression and mask consistent."""
import numpy as np
import pytest

from mmrrsis.datasets.transforms import ReferringRandomFlip
from mmrrsis.registry import TRANSFORMS


def _sample(text):
    """An object in the upper-left quadrant, its mask and an expression."""
    img = np.zeros((8, 8, 3), np.uint8)
    img[:4, :4] = 255
    mask = np.zeros((8, 8), np.uint8)
    mask[:4, :4] = 1
    return dict(img=img, gt_seg_map=mask, text=text, seg_fields=[])


def _quadrant(mask):
    """Where the mask is: ('upper'|'lower', 'left'|'right')."""
    ys, xs = np.nonzero(mask)
    return ('upper' if ys.mean() < 4 else 'lower',
            'left' if xs.mean() < 4 else 'right')


@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_flip_moves_mask_and_words_together(direction):
    # the sample's truth: the car is upper-left; the text is changed
    # exactly as the image is
    t = ReferringRandomFlip(prob=1., direction=direction)
    src = _sample('car on the upper left')
    out = t(src)
    assert out['flip'] is True and out['flip_direction'] == direction
    vert, horiz = _quadrant(out['gt_seg_map'])
    assert out['text'] == f'car on the {vert} {horiz}'
    np.testing.assert_array_equal(out['img'][..., 0] > 0,
                                  out['gt_seg_map'] > 0)
    expected = {
        'horizontal': 'car on the upper right',
        'vertical': 'car on the lower left',
        'diagonal': 'car on the lower right',
    }[direction]
    assert out['text'] == expected


def test_no_flip_and_sentence_lists():
    out = ReferringRandomFlip(prob=0.)(_sample('the leftmost tree'))
    assert out['flip'] is False and out['text'] == 'the leftmost tree'
    assert _quadrant(out['gt_seg_map']) == ('upper', 'left')
    sample = _sample(None)
    sample['texts'] = ['tree on the left', 'Left tree']
    out = ReferringRandomFlip(prob=1.)(sample)
    assert out['texts'] == ['tree on the right', 'Right tree']
    assert out['text'] is None


def test_custom_swaps_and_registry():
    t = TRANSFORMS.build(
        dict(
            type='ReferringRandomFlip',
            prob=1.,
            horizontal_swaps=[('port', 'starboard')]))
    out = t(_sample('ship at port side, left'))
    assert out['text'] == 'ship at starboard side, left'
    assert 'starboard' in repr(t) and 'prob=1.0' in repr(t)
