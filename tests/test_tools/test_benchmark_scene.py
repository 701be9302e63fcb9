"""tools/analysis_tools/benchmark_scene.py: windows/s by precision, in one
process, with the masks' agreement to the first precision."""
import importlib.util
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LGCE_TINY = osp.join(ROOT, 'configs/tiny/lgce_swin-tiny_refsegrs-64x64.py')


def test_precision_rows(tmp_path):
    spec = importlib.util.spec_from_file_location(
        'benchmark_scene',
        osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark_scene.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'bench.json'
    results = tool.main([
        LGCE_TINY, '--sizes', '250', '--work-dir', str(tmp_path), '--texts',
        'car', '--precisions', 'fp32', 'bf16', '--out', str(out)])
    result, = results
    assert result['size'] == [250, 250] and result['windows'] > 0
    fp32, bf16 = result['precisions']
    assert fp32['precision'] == 'fp32' and fp32['ratio'] == 1.0
    assert fp32['mask_agreement'] == 1.0
    assert 0.9 < bf16['mask_agreement'] <= 1.0 and bf16['ratio'] > 0
    assert 'bf16' in result['cpu'] or 'no native bf16' in result['cpu']
    assert out.exists()
