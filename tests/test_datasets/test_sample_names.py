"""The name of a sample in written files."""
from mmrrsis.datasets.sample_names import sample_name


def test_sample_name():
    assert sample_name(dict(img_path='a/12.tif', ref_id='12',
                            sent_id=4)) == '12_4'
    assert sample_name(dict(img_path='b/x.jpg', ref_id=3,
                            sent_id=9)) == 'x_3_9'
    assert sample_name(dict(img_path='c/y.png')) == 'y'
    assert sample_name(dict()) == 'sample'
