import numpy as np
import pytest

from mmrrsis.datasets.transforms import RandomBoxes


def sample(ref_id, size=(100, 120)):
    return dict(
        img=np.full((*size, 3), 200, np.uint8),
        gt_seg_map=np.ones(size, np.uint8),
        ref_id=ref_id,
        img_path=f'{ref_id}.jpg')


def boxes_of(img, value=0):
    """(H, W) mask of the pixels painted ``value`` in every channel
    (boxes may overlap, so they are not counted one by one)."""
    return (img == value).all(-1)


def test_always_on_paints_20_to_60_boxes_of_32_pixels():
    np.random.seed(0)
    transform = RandomBoxes(prob=1.)
    for _ in range(20):
        results = transform(sample('7'))
        painted = boxes_of(results['img'])
        area = painted.sum()
        # at least one full box, at most 60 non-overlapping ones
        assert 32 * 32 <= area <= 60 * 32 * 32
        rows, cols = np.nonzero(painted)
        # every painted pixel lies in a 32x32 box inside the image
        assert rows.min() >= 0 and rows.max() < 100
        assert cols.min() >= 0 and cols.max() < 120
        # the mask and the rest of the image are untouched
        assert (results['gt_seg_map'] == 1).all()
        assert (results['img'][~painted] == 200).all()


def test_one_box_exactly():
    np.random.seed(1)
    results = RandomBoxes(prob=1., num_boxes=(1, 1), box_size=10)(
        sample('3'))
    rows, cols = np.nonzero(boxes_of(results['img']))
    assert rows.max() - rows.min() == 9 and cols.max() - cols.min() == 9
    assert len(rows) == 100


def test_fixed_subset_of_about_prob():
    transform = RandomBoxes(prob=0.2)
    chosen = [transform.chosen(dict(ref_id=i)) for i in range(5000)]
    assert 0.18 < np.mean(chosen) < 0.22
    # the same samples every time (every epoch, every worker)
    assert chosen == [transform.chosen(dict(ref_id=i)) for i in range(5000)]
    other_seed = RandomBoxes(prob=0.2, subset_seed=1)
    assert chosen != [other_seed.chosen(dict(ref_id=i)) for i in range(5000)]
    # not chosen: the image is returned unchanged
    ref = next(i for i, c in enumerate(chosen) if not c)
    original = sample(ref)
    assert transform(original)['img'] is original['img']


def test_per_call_draws_and_errors():
    np.random.seed(0)
    transform = RandomBoxes(prob=0.5, subset_key=None)
    painted = [boxes_of(transform(sample('1'))['img']).any()
               for _ in range(400)]
    assert 0.4 < np.mean(painted) < 0.6
    with pytest.raises(KeyError, match='ref_id'):
        RandomBoxes()(dict(img=np.zeros((4, 4, 3), np.uint8)))
    with pytest.raises(ValueError, match='num_boxes'):
        RandomBoxes(num_boxes=(5, 2))
    with pytest.raises(ValueError, match='prob'):
        RandomBoxes(prob=2)
    assert repr(RandomBoxes()) == (
        "RandomBoxes(prob=0.2, num_boxes=(20, 60), box_size=32, fill=0, "
        "subset_key='ref_id', subset_seed=0)")


def test_small_image_is_filled():
    np.random.seed(0)
    results = RandomBoxes(prob=1., box_size=32)(sample('1', size=(20, 16)))
    assert (results['img'] == 0).all()
