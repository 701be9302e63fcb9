"""One helper writes files atomically: all of the new content or the old
file."""
import json
import os

import pytest

from mmrrsis.utils import write_atomically, write_json_atomically


def test_replaces_or_keeps(tmp_path):
    path = str(tmp_path / 'a.json')
    write_json_atomically(path, dict(a=1))
    assert json.load(open(path)) == dict(a=1)

    def fails(name):
        with open(os.path.join(tmp_path, name), 'w') as f:
            f.write('partial')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(str(tmp_path), 'a.json', fails)
    assert json.load(open(path)) == dict(a=1)  # the old file, complete
    assert os.listdir(tmp_path) == ['a.json']  # no temporary left
    write_json_atomically(path, dict(b=[1, 2]), indent=None)
    assert open(path).read() == '{"b": [1, 2]}'
