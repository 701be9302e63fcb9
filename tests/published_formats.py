"""Tiny dataset copies written the way the published datasets are.

Nothing here uses mmrrsis: the files follow the formats the datasets are
distributed in, so the loaders are tested against those formats and not
against our own generator.

- refer toolkit (RefCOCO, RRSIS-D): ``refs(<split_by>).p`` is a pickle made
  by Python 2 (protocol 2, text as byte strings), written here opcode by
  opcode; ``instances.json`` is COCO (RRSIS-D: ``segmentation`` is a list
  of one compressed RLE whose ``counts`` is a str, made with pycocotools'
  own encoder; the category key of its annotations is ``categories_id``;
  RefCOCO: polygon lists);
- RRSIS-D's size quirk: ``00001.jpg`` is 801x800 (h x w) and
  ``00005.jpg`` 800x801 while instances.json and the masks say 800x800;
- RefSegRS: RGB TIFFs and 0/255 single-channel mask TIFFs (uncompressed
  and LZW, written with Pillow) with a soft (anti-aliased) edge, split
  files ``<id> <expression>`` with CRLF line ends.

Each writer returns what a loader must produce (masks, texts, categories,
splits), computed from the construction, not read back.
"""
import json
import os
import os.path as osp
import shutil
import struct
import warnings

import numpy as np
import pycocotools.mask as mask_utils
from PIL import Image

# ------------------------------------------------------ Python 2 pickle --


def python2_pickle(obj, text_encoding: str = 'utf-8') -> bytes:
    """Pickle ``obj`` as Python 2's ``pickle.dump(obj, f, 2)`` writes it.

    Python 2 ``str`` is a byte string: every ``str`` of ``obj`` is written
    as one (SHORT_BINSTRING / BINSTRING), encoded with ``text_encoding``;
    ``bytes`` are written as they are. Dicts, lists, tuples, ints, floats,
    bools and None use the protocol 2 opcodes Python 2 emits (without the
    memo, which a reader does not need).
    """
    out = bytearray(b'\x80\x02')  # PROTO 2

    def write(value):
        if value is None:
            out.extend(b'N')
        elif value is True or value is False:
            out.extend(b'\x88' if value else b'\x89')
        elif isinstance(value, int):
            if 0 <= value < 256:
                out.extend(b'K' + bytes([value]))
            elif 0 <= value < 65536:
                out.extend(b'M' + struct.pack('<H', value))
            else:
                out.extend(b'J' + struct.pack('<i', value))
        elif isinstance(value, float):
            out.extend(b'G' + struct.pack('>d', value))
        elif isinstance(value, (str, bytes)):
            data = value if isinstance(value, bytes) else value.encode(
                text_encoding)
            if len(data) < 256:
                out.extend(b'U' + bytes([len(data)]) + data)
            else:
                out.extend(b'T' + struct.pack('<i', len(data)) + data)
        elif isinstance(value, list):
            out.extend(b']')
            if value:
                out.extend(b'(')
                for item in value:
                    write(item)
                out.extend(b'e')  # APPENDS
        elif isinstance(value, tuple):
            out.extend(b'(')
            for item in value:
                write(item)
            out.extend(b't')
        elif isinstance(value, dict):
            out.extend(b'}')
            if value:
                out.extend(b'(')
                for key, item in value.items():
                    write(key)
                    write(item)
                out.extend(b'u')  # SETITEMS
        else:
            raise TypeError(f'not plain data: {type(value).__name__}')

    write(obj)
    out.extend(b'.')
    return bytes(out)


# -------------------------------------------------------------- helpers --


def box_mask(height, width, *boxes):
    """A {0, 1} uint8 mask with the (y0, y1, x0, x1) boxes set."""
    mask = np.zeros((height, width), np.uint8)
    for y0, y1, x0, x1 in boxes:
        mask[y0:y1, x0:x1] = 1
    return mask


def flat_image(height, width, colour, box=None, box_colour=(250, 250, 250)):
    """A flat RGB image (small as a JPEG), optionally with a bright box."""
    img = np.empty((height, width, 3), np.uint8)
    img[:] = colour
    if box is not None:
        y0, y1, x0, x1 = box
        img[y0:y1, x0:x1] = box_colour
    return img


def coco_rle(mask):
    """A compressed RLE with str counts, as RRSIS-D's instances.json."""
    rle = mask_utils.encode(np.asfortranarray(mask))
    return dict(size=[int(v) for v in rle['size']],
                counts=rle['counts'].decode('ascii'))


def coco_decode(rles):
    """pycocotools' decode, without numpy 2's deprecation note about it."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        return mask_utils.decode(rles)


def _sentences(texts, first_id):
    return [
        dict(tokens=t.lower().split(), raw=t, sent_id=first_id + i,
             sent=t.lower()) for i, t in enumerate(texts)
    ]


def _write_refer(root, dataset, split_by, refs, instances, text_encoding):
    ann_dir = osp.join(root, dataset)
    os.makedirs(ann_dir, exist_ok=True)
    with open(osp.join(ann_dir, f'refs({split_by}).p'), 'wb') as f:
        f.write(python2_pickle(refs, text_encoding))
    with open(osp.join(ann_dir, 'instances.json'), 'w') as f:
        json.dump(instances, f)


# ------------------------------------------------------------- RRSIS-D --

RRSISD_CATEGORIES = {1: 'airplane', 2: 'ship', 3: 'vehicle',
                     4: 'storage tank', 5: 'golf field'}


def write_rrsisd(root, text_encoding='utf-8'):
    """An RRSIS-D copy: ``root/rrsisd/{refs(unc).p, instances.json}``,
    ``root/images/rrsisd/JPEGImages/*.jpg``.

    Returns:
        dict: ``refs`` (ref_id -> split, texts, category, image file, mask
        (800x800 or 64x64 {0, 1})), ``mismatched`` (image files whose size
        differs from their mask) and ``image_sizes`` (file -> actual h, w).
    """
    img_dir = osp.join(root, 'images', 'rrsisd', 'JPEGImages')
    os.makedirs(img_dir, exist_ok=True)
    # file, actual (h, w), the size instances.json says (= the mask's)
    images = [('00001.jpg', (801, 800), (800, 800)),
              ('00002.jpg', (64, 64), (64, 64)),
              ('00003.jpg', (64, 64), (64, 64)),
              ('00004.jpg', (64, 64), (64, 64)),
              ('00005.jpg', (800, 801), (800, 800))]
    # ref_id: image index, split, category id, boxes, sentences,
    # category key of the annotation
    spec = {
        1: (0, 'train', 1, [(100, 300, 200, 500)],
            ['the airplane on the left', 'a white airplane'],
            'categories_id'),
        2: (1, 'train', 2, [(5, 20, 5, 30)], ['the small ship'],
            'categories_id'),
        3: (1, 'train', 3, [(30, 60, 10, 50)],
            ['the vehicle at the bottom', 'a grey car',
             'the caf\u00e9-coloured van'], 'categories_id'),
        4: (2, 'val', 4, [(10, 40, 10, 40)],
            ['the storage tank', 'round tank'], 'categories_id'),
        5: (3, 'test', 5, [(0, 64, 0, 20)],
            ['the golf field on the left', 'green field'],
            'categories_id'),
        6: (4, 'test', 1, [(400, 600, 100, 700)],
            ['the long airplane', 'an airplane in the middle'],
            None),  # no category key: the ref's category_id is used
    }
    colours = [(60, 90, 120), (90, 120, 60), (120, 60, 90), (70, 70, 70),
               (40, 110, 40)]
    instances = dict(
        info=dict(description='RRSIS-D layout test copy'),
        images=[],
        annotations=[],
        categories=[dict(id=k, name=v) for k, v in RRSISD_CATEGORIES.items()])
    for i, (name, (h, w), (mh, mw)) in enumerate(images):
        Image.fromarray(flat_image(h, w, colours[i], (h // 4, h // 2, w // 4,
                                                      w // 2))).save(
            osp.join(img_dir, name), quality=90)
        instances['images'].append(
            dict(id=i + 1, file_name=name, height=mh, width=mw))
    refs, expected, sent_id = [], {}, 0
    for ref_id, (img, split, cat, boxes, texts, key) in spec.items():
        _, _, (mh, mw) = images[img]
        mask = box_mask(mh, mw, *boxes)
        ann = dict(id=100 + ref_id, image_id=img + 1,
                   segmentation=[coco_rle(mask)], area=int(mask.sum()),
                   bbox=[0, 0, mw, mh], iscrowd=0)
        if key is not None:
            ann[key] = cat
        instances['annotations'].append(ann)
        sentences = _sentences(texts, sent_id)
        refs.append(
            dict(sent_ids=[s['sent_id'] for s in sentences],
                 file_name=images[img][0][:-4] + f'_{ref_id}.jpg',
                 ann_id=100 + ref_id, ref_id=ref_id, image_id=img + 1,
                 split=split, sentences=sentences, category_id=cat))
        expected[ref_id] = dict(
            split=split, texts=texts, sent_ids=[s['sent_id']
                                                for s in sentences],
            category=RRSISD_CATEGORIES[cat], image=images[img][0],
            mask=mask)
        sent_id += len(texts)
    _write_refer(root, 'rrsisd', 'unc', refs, instances, text_encoding)
    return dict(
        refs=expected,
        mismatched=[n for n, hw, mhw in images if hw != mhw],
        image_sizes={n: hw for n, hw, _ in images})


# ------------------------------------------------------------- RefCOCO --

REFCOCO_IMAGE_DIR = osp.join('images', 'mscoco', 'images', 'train2014')


def write_refcoco(root, dataset='refcoco', split_by='unc', rename=None):
    """A RefCOCO (UNC) copy with train / val / testA / testB; annotation
    12 has two overlapping polygon parts. ``dataset``, ``split_by`` and
    ``rename`` (split -> split, e.g. ``{'testA': 'test', 'testB':
    'test'}``) make a RefCOCO+ or RefCOCOg (UMD) copy of the same refs.

    Returns:
        dict: ``refs`` (ref_id -> split, texts, category, polygons, size),
        ``overlapping_ref`` (the ref whose parts overlap).
    """
    img_dir = osp.join(root, REFCOCO_IMAGE_DIR)
    os.makedirs(img_dir, exist_ok=True)
    categories = {1: 'person', 3: 'car'}
    square = [[4.0, 4.0, 20.0, 4.0, 20.0, 20.0, 4.0, 20.0]]
    spec = {  # ref_id: image id, split, category, polygons, sentences
        1: (1, 'train', 1, square, ['man on the left', 'left guy']),
        2: (1, 'train', 3, [[30.0, 30.0, 60.0, 30.0, 45.0, 60.0]],
            ['red car']),
        3: (2, 'val', 1, square, ['woman in blue', 'blue shirt']),
        4: (3, 'testA', 1, [[0.0, 0.0, 30.0, 0.0, 30.0, 40.0, 0.0, 40.0]],
            ['person standing']),
        12: (3, 'testA', 1, [[10.0, 10.0, 40.0, 10.0, 40.0, 40.0, 10.0,
                              40.0], [25.0, 25.0, 55.0, 25.0, 55.0, 55.0,
                                      25.0, 55.0]],
             ['the two people hugging', 'couple']),
        6: (4, 'testB', 3, [[8.0, 40.0, 56.0, 40.0, 56.0, 60.0, 8.0, 60.0]],
            ['white car in front', 'car bottom', 'closest car']),
    }
    instances = dict(images=[], annotations=[],
                     categories=[dict(id=k, name=v, supercategory=v)
                                 for k, v in categories.items()])
    for image_id in range(1, 5):
        name = f'COCO_train2014_{image_id:012d}.jpg'
        Image.fromarray(flat_image(64, 64, (30 * image_id, 80, 120))).save(
            osp.join(img_dir, name), quality=90)
        instances['images'].append(
            dict(id=image_id, file_name=name, height=64, width=64))
    refs, expected, sent_id = [], {}, 0
    for ref_id, (image_id, split, cat, polygons, texts) in spec.items():
        split = (rename or {}).get(split, split)
        instances['annotations'].append(
            dict(id=1000 + ref_id, image_id=image_id, category_id=cat,
                 segmentation=polygons, area=0.0, bbox=[0, 0, 1, 1],
                 iscrowd=0))
        sentences = _sentences(texts, sent_id)
        refs.append(
            dict(sent_ids=[s['sent_id'] for s in sentences],
                 file_name=f'COCO_train2014_{image_id:012d}_{ref_id}.jpg',
                 ann_id=1000 + ref_id, ref_id=ref_id, image_id=image_id,
                 split=split, sentences=sentences, category_id=cat))
        expected[ref_id] = dict(split=split, texts=texts,
                                category=categories[cat], polygons=polygons,
                                size=(64, 64))
        sent_id += len(texts)
    _write_refer(root, dataset, split_by, refs, instances, 'utf-8')
    return dict(refs=expected, overlapping_ref=12)


def refer_api_mask(polygons_or_rles, height, width):
    """What the refer API's ``getMask`` returns as the target: the parts
    decoded, summed over parts, and pixels equal to 1 kept (LAVT / RMSIN
    then keep ``mask == 1``)."""
    if isinstance(polygons_or_rles[0], list):
        rle = mask_utils.frPyObjects(polygons_or_rles, height, width)
    else:
        rle = [dict(r, counts=r['counts'].encode()) if isinstance(
            r['counts'], str) else r for r in polygons_or_rles]
    summed = np.sum(coco_decode(rle), axis=2).astype(np.uint8)
    return (summed == 1).astype(np.uint8)


def union_mask(polygons, height, width):
    """Every pixel covered by any polygon."""
    rles = mask_utils.frPyObjects(polygons, height, width)
    return (coco_decode(rles).sum(axis=2) > 0).astype(np.uint8)


# ------------------------------------------------------------- RefSegRS --


def soft_edged_mask(size, box):
    """A 0/255 mask of a box with a 1-px anti-aliased ring (30, 128, 220:
    one under, two over the authors' ``> 50``)."""
    y0, y1, x0, x1 = box
    mask = np.zeros((size, size), np.uint8)
    mask[y0 - 1:y1 + 1, x0 - 1:x1 + 1] = 128
    mask[y0 - 1, x0 - 1:x1 + 1] = 30  # top edge, under 50
    mask[y1, x0 - 1:x1 + 1] = 220  # bottom edge
    mask[y0:y1, x0:x1] = 255
    return mask


def write_refsegrs(root, size=64):
    """A RefSegRS copy: ``images/<id>.tif`` (RGB), ``masks/<id>.tif``
    (0/255, ids 0-2 uncompressed, the rest LZW, with soft edges) and
    ``output_phrase_{train,val,test}.txt`` (CRLF). Ids 1 and 2 share the
    image (different expressions and masks).

    Returns:
        dict: ``splits`` (split -> list of (id, expression)), ``masks``
        (id -> the {0, 1} mask the authors' ``> 50`` gives), ``stored``
        (id -> the stored mask).
    """
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'masks'), exist_ok=True)
    splits = {
        'train': [('0', 'car on the road'),
                  ('1', 'building along the road'),
                  ('2', 'low vegetation near the building')],
        'val': [('3', 'the long truck')],
        'test': [('4', 'road marking in the middle'),
                 ('5', 'trees on the left')],
    }
    boxes = {'0': (10, 20, 10, 40), '1': (30, 50, 5, 25),
             '2': (5, 15, 40, 60), '3': (20, 40, 20, 30),
             '4': (28, 36, 2, 62), '5': (10, 54, 3, 12)}
    masks, stored = {}, {}
    for sample_id, box in boxes.items():
        image_id = '1' if sample_id == '2' else sample_id
        compression = None if int(sample_id) < 3 else 'tiff_lzw'
        img_path = osp.join(root, 'images', sample_id + '.tif')
        if sample_id == '2':  # the same tile under another id
            shutil.copyfile(osp.join(root, 'images', '1.tif'), img_path)
        else:
            Image.fromarray(
                flat_image(size, size, (20 * int(image_id), 100, 60),
                           box)).save(img_path, compression=compression)
        mask = soft_edged_mask(size, box)
        Image.fromarray(mask).save(
            osp.join(root, 'masks', sample_id + '.tif'),
            compression=compression)
        stored[sample_id] = mask
        masks[sample_id] = (mask > 50).astype(np.uint8)
    for split, lines in splits.items():
        with open(osp.join(root, f'output_phrase_{split}.txt'), 'wb') as f:
            f.write(''.join(f'{i} {t}\r\n' for i, t in lines).encode())
    return dict(splits=splits, masks=masks, stored=stored)


# ----------------------------------------------- quirks of real files --


def write_rrsisd_true_height(root):
    """An RRSIS-D copy with RMSIN-style files where ``instances.json``
    gives an image's true height: ``15324.jpg`` is stored 65x64 (h x w)
    with ``height: 65`` in instances.json, and its RLE ``size`` is
    [64, 64] (RRSIS-D: 801 high, 801 stated, RLE [800, 800]).

    Returns:
        dict: ``mask`` (the RLE's 64x64 {0, 1} mask), ``image_hw``.
    """
    img_dir = osp.join(root, 'images', 'rrsisd', 'JPEGImages')
    os.makedirs(img_dir, exist_ok=True)
    Image.fromarray(flat_image(65, 64, (80, 90, 100), (10, 30, 10, 30)))\
        .save(osp.join(img_dir, '15324.jpg'), quality=90)
    mask = box_mask(64, 64, (10, 30, 10, 30))
    instances = dict(
        images=[dict(id=15324, file_name='15324.jpg', height=65, width=64)],
        annotations=[dict(id=15324, image_id=15324, categories_id=3,
                          segmentation=[coco_rle(mask)],
                          area=int(mask.sum()) * 255, bbox=[10, 10, 30, 30])],
        categories=[dict(id=3, name='vehicle')])
    sentences = _sentences(['The vehicle on the left'], 15324)
    refs = [dict(image_id=15324, split='test', sentences=sentences,
                 file_name='15324.jpg', category_id=3, ann_id=15324,
                 sent_ids=[15324], ref_id=15324)]
    _write_refer(root, 'rrsisd', 'unc', refs, instances, 'utf-8')
    return dict(mask=mask, image_hw=(65, 64))


def write_refcoco_quirks(root):
    """A RefCOCO (UNC) copy with the quirks of COCO files:

    - ``COCO_train2014_000000000001.jpg`` is a grey JPEG (one band, as
      some COCO images are); ref 1 (val);
    - ``COCO_train2014_000000000002.jpg`` carries EXIF Orientation=6 and
      is stored 48x64 (h x w); its polygon is drawn on the stored pixels;
      ref 2 (val);
    - ref 3 (testA): a valid polygon and a 4-coordinate part;
    - ref 4 (testB): only a 4-coordinate part (no valid part).

    Returns:
        dict: ``refs`` (ref_id -> split, texts, mask the refer API reads
        (None for ref 4)), ``grey``, ``rotated`` (file names),
        ``rotated_pixels`` (the stored RGB pixels).
    """
    img_dir = osp.join(root, REFCOCO_IMAGE_DIR)
    os.makedirs(img_dir, exist_ok=True)
    names = {i: f'COCO_train2014_{i:012d}.jpg' for i in (1, 2, 3)}
    Image.fromarray(flat_image(40, 40, (90, 90, 90))[..., 0], mode='L')\
        .save(osp.join(img_dir, names[1]), quality=95)
    rotated = flat_image(48, 64, (30, 60, 90), (4, 20, 4, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(rotated).save(osp.join(img_dir, names[2]), exif=exif,
                                  quality=95)
    Image.fromarray(flat_image(40, 40, (10, 120, 10))).save(
        osp.join(img_dir, names[3]), quality=95)
    sizes = {1: (40, 40), 2: (48, 64), 3: (40, 40)}
    square = [4.0, 4.0, 20.0, 4.0, 20.0, 20.0, 4.0, 20.0]
    on_rotated = [4.0, 4.0, 30.0, 4.0, 30.0, 20.0, 4.0, 20.0]  # x, y
    spec = {  # ref_id: image, split, polygons, sentences
        1: (1, 'val', [square], ['grey man']),
        2: (2, 'val', [on_rotated], ['bright box top left']),
        3: (3, 'testA', [square, [30.0, 30.0, 35.0, 35.0]],
            ['person with a stray part']),
        4: (3, 'testB', [[1.0, 2.0, 3.0, 4.0]], ['nothing drawable']),
    }
    instances = dict(
        images=[dict(id=i, file_name=n, height=sizes[i][0],
                     width=sizes[i][1]) for i, n in names.items()],
        annotations=[], categories=[dict(id=1, name='person',
                                         supercategory='person')])
    refs, expected, sent_id = [], {}, 0
    for ref_id, (image_id, split, polygons, texts) in spec.items():
        instances['annotations'].append(
            dict(id=2000 + ref_id, image_id=image_id, category_id=1,
                 segmentation=polygons, area=0.0, bbox=[0, 0, 1, 1],
                 iscrowd=0))
        sentences = _sentences(texts, sent_id)
        refs.append(dict(sent_ids=[s['sent_id'] for s in sentences],
                         file_name=names[image_id][:-4] + f'_{ref_id}.jpg',
                         ann_id=2000 + ref_id, ref_id=ref_id,
                         image_id=image_id, split=split,
                         sentences=sentences, category_id=1))
        valid = [p for p in polygons if len(p) >= 6]
        expected[ref_id] = dict(
            split=split, texts=texts,
            mask=refer_api_mask(valid, *sizes[image_id]) if valid else None)
        sent_id += len(texts)
    _write_refer(root, 'refcoco', 'unc', refs, instances, 'utf-8')
    return dict(refs=expected, grey=names[1], rotated=names[2],
                rotated_pixels=rotated)


# ------------------------------------------------------------- RISBench --

RISBENCH_LINES = {
    'train': [('train_100_0.png', 'The white ship on the left of the '
               'harbor.'),
              ('train_100_1.png', 'The storage tanks at the bottom'),
              ('train_101_0.png', 'A small vehicle in the top-right '
               'corner of the parking lot.')],
    'val': [('train_14700_0.png', 'The bridge extending over a body of '
             'water is a central connector.')],
    'test': [('test_5_2.png', 'the round swimming pool'),
             ('test_6_0.png', 'The tennis court in the middle.')],
}


def write_risbench(root, folders=('img_rgb', 'mask'), size=48):
    """A RISBench copy in the layout RSRefSeg2's converter reads:
    ``img_rgb/<file>`` (one RGB PNG per expression), ``mask/<file>`` (one
    PNG per expression, the same name) and ``output_phrase_{split}.txt``
    with ``<file> <sentence ...>`` lines (LF). Mask values are
    undocumented: ``train_100_1.png`` and ``test_6_0.png`` are stored
    0/1, the others 0/255. ``folders`` names the image and mask folders
    (``('images', 'masks')`` for the third-party layout).

    Returns:
        dict: ``splits`` (split -> [(file, sentence)]), ``masks`` (file ->
        {0, 1} mask), ``stored`` (file -> the stored values' maximum).
    """
    img_dir, mask_dir = (osp.join(root, f) for f in folders)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(mask_dir, exist_ok=True)
    masks, stored = {}, {}
    for i, lines in enumerate(RISBENCH_LINES.values()):
        for j, (name, _) in enumerate(lines):
            y0, x0 = 4 + 6 * j, 3 + 5 * i
            box = (y0, y0 + 12, x0, x0 + 15)
            Image.fromarray(flat_image(size, size, (40 * i, 90, 20 * j),
                                       box)).save(osp.join(img_dir, name))
            mask = box_mask(size, size, box)
            value = 1 if name in ('train_100_1.png', 'test_6_0.png') \
                else 255
            Image.fromarray(mask * np.uint8(value)).save(
                osp.join(mask_dir, name))
            masks[name], stored[name] = mask, value
    for split, lines in RISBENCH_LINES.items():
        with open(osp.join(root, f'output_phrase_{split}.txt'), 'w') as f:
            f.write(''.join(f'{n} {t}\n' for n, t in lines))
    return dict(splits=RISBENCH_LINES, masks=masks, stored=stored)


# -------------------------------------------- datainfo JSON lines --
# as RSRefSeg2's tools_RSRefSeg2/data_tools/*-convert_data_to_jsonl.py
# write them: the stored mask encoded by pycocotools as it is, counts
# decoded to str; one json.dumps line a sample


def _jsonl(path, items, blank_after=None):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        for i, item in enumerate(items):
            f.write(json.dumps(item) + '\n')
            if i == blank_after:
                f.write('\n')  # DiCoR's loader skips blank lines


def _raw_rle(stored):
    """The converters' encoding of a stored mask: pycocotools starts a
    run at every change of value, whatever the value."""
    rle = mask_utils.encode(np.asfortranarray(stored.astype(np.uint8)))
    return dict(size=[int(v) for v in rle['size']],
                counts=rle['counts'].decode('utf-8'))


def write_refsegrs_jsonl(root):
    """The RefSegRS copy of :func:`write_refsegrs` (its images) plus
    ``datainfo/refsegrs_{train,val,test}.jsonl`` converted from its mask
    files the converter's way (a blank line after the first train line).

    Returns:
        dict: ``splits`` (split -> [(id, sentence)]), ``masks`` (id -> what
        the line's RLE decodes to, DiCoR's mask), ``stored`` (id -> the
        stored mask file's pixels).
    """
    copy = write_refsegrs(root)
    decoded = {}
    for split, lines in copy['splits'].items():
        items = []
        for sample_id, sent in lines:
            rle = _raw_rle(copy['stored'][sample_id])
            decoded[sample_id] = coco_decode(
                dict(rle, counts=rle['counts'].encode()))
            items.append(dict(split=split, image_id=sample_id, sent=sent,
                              file_name=sample_id + '.tif',
                              segmentation=rle))
        _jsonl(osp.join(root, 'datainfo', f'refsegrs_{split}.jsonl'), items,
               blank_after=0 if split == 'train' else None)
    return dict(splits=copy['splits'], masks=decoded,
                stored=copy['stored'])


def write_rrsisd_jsonl(root):
    """RRSIS-D as ``datainfo/rrsisd_{split}.jsonl`` (the converter's
    fields: split, image_id, sent, file_name, category_id,
    category_name, ann_id, bbox, segmentation as a list of one RLE, area)
    over ``images/rrsisd/JPEGImages``; image ``00413.jpg`` (train) is one
    DiCoR's loader leaves out.

    Returns:
        dict: ``splits`` (split -> [(file_name, sentence, category)]),
        ``masks`` (file_name -> {0, 1} mask).
    """
    img_dir = osp.join(root, 'images', 'rrsisd', 'JPEGImages')
    os.makedirs(img_dir, exist_ok=True)
    spec = {'train': [('00413.jpg', 'The vehicle on the left', 18),
                      ('00500.jpg', 'A white airplane', 2)],
            'val': [('00110.jpg', 'The green and brown baseball field', 4)],
            'test': [('07855.jpg', 'A ship on the upper right', 13),
                     ('11862.jpg', 'The basketball court on the right', 5)]}
    names = {18: 'vehicle', 2: 'airplane', 4: 'baseballfield', 13: 'ship',
             5: 'basketballcourt'}
    splits, masks = {}, {}
    for s, (split, lines) in enumerate(spec.items()):
        items = []
        for i, (name, sent, cat) in enumerate(lines):
            box = (5 + 3 * i, 30 + 2 * s, 4 + 5 * s, 40)
            Image.fromarray(flat_image(48, 48, (70, 80 + 20 * i, 90),
                                       box)).save(osp.join(img_dir, name),
                                                  quality=90)
            mask = box_mask(48, 48, box)
            masks[name] = mask
            number = int(name[:5])
            items.append(dict(split=split, image_id=number, sent=sent,
                              file_name=name, category_id=cat,
                              category_name=names[cat], ann_id=number,
                              bbox=[box[2], box[0], box[3], box[1]],
                              segmentation=[coco_rle(mask)],
                              area=int(mask.sum()) * 255))
        _jsonl(osp.join(root, 'datainfo', f'rrsisd_{split}.jsonl'), items)
        splits[split] = [(n, t, names[c]) for n, t, c in lines]
    return dict(splits=splits, masks=masks)


def write_risbench_jsonl(root):
    """The RISBench copy of :func:`write_risbench` plus
    ``datainfo/risbench_{split}.jsonl`` converted the converter's way
    (``image_id`` = ``file_name`` = the split file's first field).

    Returns:
        dict: As :func:`write_risbench`.
    """
    copy = write_risbench(root)
    for split, lines in copy['splits'].items():
        items = []
        for name, sent in lines:
            stored = np.asarray(Image.open(osp.join(root, 'mask', name)))
            items.append(dict(split=split, image_id=name, sent=sent,
                              file_name=name,
                              segmentation=_raw_rle(stored)))
        _jsonl(osp.join(root, 'datainfo', f'risbench_{split}.jsonl'), items)
    return copy


# ------------------------------------------------------------- gRefCOCO --


def write_grefcoco(root):
    """A gRefCOCO copy in ReLA's layout: ``grefcoco/grefs(unc).json`` (a
    JSON list of refs whose ``ann_id`` is a list, ``[-1]`` for no target),
    ``grefcoco/instances.json`` and ``images/train2014/*.jpg``.

    - ref 10 (train): one target, ``ann_id: [1]``;
    - ref 11 (val): three ids: two people (polygons, overlapping) and a
      crowd annotation, which ReLA's loader leaves out;
    - ref 12 (val): no target, ``ann_id: [-1]``;
    - ref 13 (testA): one target as a plain int ``ann_id`` (RefCOCO
      style), an RLE;
    - ref 14 (testB): two cars, one given as polygons, one as an RLE.

    Returns:
        dict: ``refs`` (ref_id -> split, texts, the merged {0, 1} mask as
        ReLA computes it, no_target).
    """
    img_dir = osp.join(root, 'images', 'train2014')
    os.makedirs(img_dir, exist_ok=True)
    for image_id in (1, 2, 3):
        Image.fromarray(flat_image(40, 48, (50 * image_id, 90, 60))).save(
            osp.join(img_dir, f'COCO_train2014_{image_id:012d}.jpg'),
            quality=90)
    car_rle = box_mask(40, 48, (20, 30, 30, 44))
    anns = {  # id: image, category, segmentation, iscrowd
        1: (1, 1, [[2.0, 2.0, 14.0, 2.0, 14.0, 16.0, 2.0, 16.0]], 0),
        2: (2, 1, [[4.0, 4.0, 20.0, 4.0, 20.0, 20.0, 4.0, 20.0]], 0),
        3: (2, 1, [[16.0, 10.0, 30.0, 10.0, 30.0, 30.0, 16.0, 30.0]], 0),
        4: (2, 1, coco_rle(box_mask(40, 48, (32, 38, 0, 10))), 1),
        5: (3, 3, [coco_rle(box_mask(40, 48, (5, 15, 5, 25)))], 0),
        6: (3, 3, [[2.0, 22.0, 12.0, 22.0, 12.0, 36.0, 2.0, 36.0]], 0),
        7: (3, 3, [coco_rle(car_rle)], 0),
    }
    instances = dict(
        images=[dict(id=i, file_name=f'COCO_train2014_{i:012d}.jpg',
                     height=40, width=48) for i in (1, 2, 3)],
        annotations=[dict(id=a, image_id=img, category_id=cat,
                          segmentation=seg, iscrowd=crowd, area=0,
                          bbox=[0, 0, 1, 1])
                     for a, (img, cat, seg, crowd) in anns.items()],
        categories=[dict(id=1, name='person', supercategory='person'),
                    dict(id=3, name='car', supercategory='vehicle')])
    spec = {  # ref_id: image, split, ann_id, category_id, sentences
        10: (1, 'train', [1], 1, ['the man', 'person on the left']),
        11: (2, 'val', [2, 3, 4], [1], ['everyone standing']),
        12: (2, 'val', [-1], [], ['the dog on the sofa', 'blue car']),
        13: (3, 'testA', 5, 3, ['the car on top']),
        14: (3, 'testB', [6, 7], [3], ['both cars on the left and right']),
    }

    def decoded(ann_id):
        _, _, seg, _ = anns[ann_id]
        if isinstance(seg, list) and isinstance(seg[0], list):
            rles = mask_utils.frPyObjects(seg, 40, 48)
        else:
            seg = seg if isinstance(seg, list) else [seg]
            rles = [dict(r, counts=r['counts'].encode()) for r in seg]
        return (coco_decode(rles).sum(axis=2) > 0).astype(np.uint8)

    refs, expected, sent_id = [], {}, 0
    for ref_id, (image_id, split, ann_id, cat, texts) in spec.items():
        sentences = _sentences(texts, sent_id)
        sent_id += len(texts)
        refs.append(dict(ref_id=ref_id, image_id=image_id, split=split,
                         ann_id=ann_id, category_id=cat,
                         sentences=sentences,
                         sent_ids=[s['sent_id'] for s in sentences],
                         file_name=f'COCO_train2014_{image_id:012d}.jpg'))
        ids = ann_id if isinstance(ann_id, list) else [ann_id]
        masks = [decoded(a) for a in ids if a != -1 and not anns[a][3]]
        merged = (sum(masks) if masks else np.zeros((40, 48), np.uint8))
        expected[ref_id] = dict(split=split, texts=texts,
                                mask=np.clip(merged, 0, 1).astype(np.uint8),
                                no_target=ids == [-1])
    os.makedirs(osp.join(root, 'grefcoco'), exist_ok=True)
    with open(osp.join(root, 'grefcoco', 'grefs(unc).json'), 'w') as f:
        json.dump(refs, f)
    with open(osp.join(root, 'grefcoco', 'instances.json'), 'w') as f:
        json.dump(instances, f)
    return dict(refs=expected)
