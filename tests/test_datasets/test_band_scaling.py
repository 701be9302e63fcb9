"""BandScaling: the one implementation of band selection and scaling."""
import numpy as np
import pytest

from mmrrsis.datasets.band_scaling import BandScaling, BandScalingError


def test_percentile_fit_uses_valid_pixels_only():
    data = np.zeros((3, 4, 5), np.uint16)
    data[:, :, 1:] = np.arange(1, 5)[None, None] * 1000
    valid = np.ones((4, 5), bool)
    valid[:, 0] = False  # the zeros are nodata
    rng = BandScaling(scale='percentile', percentiles=(0, 100)).fit(
        data, valid)
    assert rng.low == (1000., ) * 3 and rng.high == (4000., ) * 3
    rgb = BandScaling(scale='percentile').apply(data, rng)
    assert rgb.shape == (4, 5, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[0, :, 0], [0, 0, 85, 170, 255])


def test_affine_data_maps_back_exactly():
    """offset + gain * u8 with a fixed range of offset..offset+255*gain
    gives u8 back, for every value."""
    u8 = np.arange(256, dtype=np.uint16).reshape(1, 16, 16).repeat(3, 0)
    data = 160 + 16 * u8
    scaling = BandScaling(scale='minmax', min_value=160,
                          max_value=160 + 255 * 16)
    out = scaling.apply(data, scaling.fit(data))
    np.testing.assert_array_equal(out[..., 0], u8[0])


def test_constant_band_and_errors():
    data = np.full((3, 2, 2), 7, np.uint16)
    scaling = BandScaling(scale='percentile')
    rng = scaling.fit(data)
    assert (scaling.apply(data, rng) == 0).all()
    with pytest.raises(BandScalingError, match='no valid'):
        scaling.fit(data, np.zeros((2, 2), bool), 'x.tif')
    with pytest.raises(BandScalingError, match='needs the range'):
        scaling.apply(data)
    with pytest.raises(BandScalingError, match='uint16 data needs'):
        BandScaling().apply(data)
    with pytest.raises(BandScalingError, match='one per selected band'):
        BandScaling(scale='minmax', min_value=[0, 0], max_value=1)
    with pytest.raises(BandScalingError, match='larger than'):
        BandScaling(scale='minmax', min_value=5, max_value=5)
    with pytest.raises(BandScalingError, match="need scale='minmax'"):
        BandScaling(min_value=0)


def test_check_and_indexes():
    BandScaling().check('uint8', 3, 'a.png')
    assert BandScaling().indexes(3) == (1, 2, 3)
    assert BandScaling(bands=(3, 2, 1)).indexes(4) == (3, 2, 1)
    with pytest.raises(BandScalingError, match=r'a\.tif is float32 with 1'):
        BandScaling().check('float32', 1, 'a.tif')
    with pytest.raises(BandScalingError, match='asks for band 5'):
        BandScaling(bands=(5, 2, 1), scale='percentile').check(
            'uint16', 4, 'b.tif')
    assert BandScaling(bands=(3, 2, 1), scale='percentile').to_dict() == \
        dict(bands=[3, 2, 1], scale='percentile', percentiles=[2., 98.],
             min_value=None, max_value=None)
    assert repr(BandScaling(scale='minmax', min_value=0, max_value=9)) == (
        "BandScaling(bands=None, scale='minmax', min_value=0, max_value=9)")


def test_one_spelling_of_a_scaling_argument():
    scaling = BandScaling(bands=(3, 2, 1), scale='percentile')
    assert BandScaling.from_value(scaling) is scaling
    assert BandScaling.from_value(None) is None
    from_dict = BandScaling.from_value(scaling.to_dict())
    assert from_dict.bands == (3, 2, 1) and from_dict.scale == 'percentile'
    assert BandScaling.from_value({}).is_identity
    with pytest.raises(BandScalingError, match=r"Unknown scaling key\(s\) "
                       r"\['band'\]"):
        BandScaling.from_value(dict(band=(3, 2, 1)))
    with pytest.raises(TypeError, match='BandScaling or a dict'):
        BandScaling.from_value('percentile')


def test_select_and_to_rgb_are_the_loaders_steps():
    data = np.stack([np.full((2, 3), v, np.uint16) for v in (10, 20, 30, 40)])
    scaling = BandScaling(bands=(3, 2, 1), scale='minmax', min_value=0,
                          max_value=40)
    picked = scaling.select(data, 'the array')
    np.testing.assert_array_equal(picked[:, 0, 0], [30, 20, 10])
    rgb = scaling.to_rgb(picked)
    np.testing.assert_array_equal(rgb[0, 0], [191, 128, 64])
    with pytest.raises(BandScalingError, match='the array has 4 band'):
        BandScaling(bands=(5, 2, 1), scale='minmax', min_value=0,
                    max_value=1).select(data, 'the array')
    with pytest.raises(BandScalingError, match='uint16'):
        BandScaling().select(data[:3], 'the array')
