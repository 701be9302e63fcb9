"""The one config walker: datasets through wrappers, pipelines, steps."""
from mmengine.config import Config

from mmrrsis.utils import (
    drop_steps,
    find_steps,
    iter_dataset_cfgs,
    iter_dicts,
    iter_pipelines,
    map_pipelines,
    type_name,
)


def wrapped_cfg():
    pipe = [dict(type='LoadImageFromFile'), dict(type='mmseg.Resize')]
    return Config(
        dict(
            train_dataloader=dict(
                dataset=dict(
                    type='ConcatDataset',
                    datasets=[
                        dict(type='RefSegRSDataset', pipeline=list(pipe)),
                        dict(
                            type='ShuffledTextDataset',
                            dataset=dict(
                                type='RRSISDDataset', pipeline=list(pipe))),
                    ])),
            val_dataloader=dict(
                dataset=dict(type='RefSegRSDataset', pipeline=list(pipe))),
            test_dataloader=None))


def test_datasets_through_wrappers():
    found = [(where, ds.type) for where, ds in iter_dataset_cfgs(
        wrapped_cfg())]
    assert found == [
        ('train_dataloader.dataset', 'ConcatDataset'),
        ('train_dataloader.dataset.datasets[0]', 'RefSegRSDataset'),
        ('train_dataloader.dataset.datasets[1]', 'ShuffledTextDataset'),
        ('train_dataloader.dataset.datasets[1].dataset', 'RRSISDDataset'),
        ('val_dataloader.dataset', 'RefSegRSDataset'),
    ]
    assert [w for w, _ in iter_pipelines(wrapped_cfg(), ['train_dataloader'])
            ] == [
                'train_dataloader.dataset.datasets[0]',
                'train_dataloader.dataset.datasets[1].dataset'
            ]


def test_edit_pipelines_in_place():
    cfg = wrapped_cfg()
    count = map_pipelines(cfg, ('train_dataloader', 'test_dataloader'),
                          lambda p: drop_steps(p, ['Resize']))
    assert count == 2
    for _, ds in iter_pipelines(cfg, ['train_dataloader']):
        assert [s['type'] for s in ds.pipeline] == ['LoadImageFromFile']
    # the other loaders are untouched
    assert len(cfg.val_dataloader.dataset.pipeline) == 2


def test_steps_and_types():
    pipe = [dict(type='mmrrsis.LoadReferringAnnotations'),
            dict(type='Resize'), dict(type='RandomResize'),
            dict(type='PackRRSISInputs')]
    assert find_steps(pipe, ['Resize', 'RandomResize']) == [1, 2]
    assert type_name(pipe[0]) == 'LoadReferringAnnotations'
    assert type_name(dict) == 'dict' and type_name({}) == ''
    model = dict(backbone=dict(init_cfg=dict(type='Pretrained')),
                 heads=[dict(type='A'), dict(type='B', sub=dict(type='C'))])
    assert [d.get('type') for d in iter_dicts(model)] == [
        None, None, 'Pretrained', 'A', 'B', 'C'
    ]
