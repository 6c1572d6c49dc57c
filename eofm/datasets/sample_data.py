"""eofm's sample dataset: geo-referenced multi-modal tiles around the globe.

Deterministic (``seed``), a few seconds for the default size, nothing downloaded.
Each tile is a ground footprint in a real UTM zone of one of several regions
(Europe, Africa, Asia, the Americas, Oceania, both hemispheres) with:

- ``hr``: a static 4-band (R, G, B, NIR) uint8 image, ``hr_factor`` times finer
  than Sentinel-2, textured per class (field stripes, tree crowns, building blocks,
  ripples on water);
- ``s2``: a Sentinel-2 L2A series (10 bands B2..B12 as digital numbers, plus the
  scene classification band ``SCL``) of 10-18 dates of one year: per-class spectral
  signatures with seasonal phenology (cropland greens up in its hemisphere's
  spring, deciduous forest in summer), clouds with SCL cloud classes on some dates;
- ``s1``: a Sentinel-1 series (VV, VH linear sigma0) of 6-10 dates: class-dependent
  backscatter with multiplicative speckle (gamma, 4 looks), crops seasonal;
- ``hr_post``: the HR image a year later, where some parcels changed class;
- labels: ``gt_seg_map`` (class per Sentinel-2 pixel), ``gt_change_map`` (1 where
  the class changed, on the HR grid), ``gt_label`` (majority class) and
  ``gt_labels`` (multi-hot of classes covering >= 10 %).

Output: ``OUT/{hr,hr_post,s2,s1,labels,change}/tile_XXXX.tif`` and
``OUT/{train,val}.json`` annotation files of :class:`eofm.datasets.MultiModalDataset`.

Written by :func:`generate` (``python tools/misc/make_sample_dataset.py data/sample
--num-tiles 96`` from the command line); the tests and benchmarks call it too.
"""
import datetime
import json
import os
import os.path as osp

import numpy as np

from .geo_io import write_geotiff

CLASSES = ('water', 'forest', 'cropland', 'urban', 'bare')
#: The classes of the ``'hard'`` variant (see :data:`CLASS_SPECS`).
HARD_CLASSES = ('water', 'forest', 'orchard', 'summer_crop', 'winter_crop', 'rice',
                'urban', 'bare')
VARIANTS = dict(default=CLASSES, hard=HARD_CLASSES)
S2_BANDS = ('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12')
# (name, lon, lat) of the regions; each tile lands within ~0.5 degree of one.
REGIONS = (('Paris', 2.35, 48.85), ('Nairobi', 36.82, -1.29),
           ('Sao Paulo', -46.63, -23.55), ('Beijing', 116.40, 39.90), ('Sydney', 151.21,
                                                                       -33.87),
           ('Denver', -104.99, 39.74), ('Delhi', 77.21, 28.61), ('Cairo', 31.24, 30.04))

# Surface reflectance x 10000 of each class in the S2 bands, dormant (``base``)
# and at full green-up (``green``).
_SIGNATURES = dict(
    water=dict(base=[600, 500, 350, 250, 200, 180, 150, 140, 80, 60], green=None),
    forest=dict(
        base=[300, 500, 350, 900, 1800, 2200, 2500, 2600, 1400, 700],
        green=[250, 550, 250, 1100, 2800, 3500, 3900, 4000, 1600, 750]),
    cropland=dict(
        base=[900, 1100, 1300, 1500, 1700, 1800, 1900, 2000, 2600, 2100],
        green=[350, 700, 300, 1200, 3000, 3800, 4300, 4400, 2000, 900]),
    urban=dict(
        base=[1300, 1400, 1500, 1600, 1700, 1750, 1800, 1850, 2200, 2000], green=None),
    bare=dict(
        base=[1500, 1900, 2400, 2700, 2900, 3000, 3100, 3200, 3800, 3400], green=None))
# Mean backscatter in dB (VV, VH) and the crops' seasonal swing in dB.
_BACKSCATTER = dict(
    water=(-21.0, -27.0),
    forest=(-7.5, -13.0),
    cropland=(-11.0, -18.0),
    urban=(-3.0, -10.0),
    bare=(-14.0, -22.0))
_HR_RGBN = dict(
    water=(40, 60, 80, 20),
    forest=(40, 80, 45, 170),
    cropland=(110, 140, 70, 150),
    urban=(150, 145, 140, 110),
    bare=(185, 160, 125, 140))


#: How each class is drawn: the Sentinel-2 signature, Sentinel-1 backscatter and HR
#: look it borrows (``like``), its phenology (green-up peak day, width in days, floor
#: greenness), the seasonal swing of its backscatter with greenness (dB), a flooded
#: period (days of year; SAR sees water, optical does not), and its HR texture.
#: The ``'hard'`` variant's classes are told apart only by what a single date, a
#: single modality or a single pixel does not show:
#:
#: * ``orchard`` vs ``forest``: the same spectra, phenology and backscatter; only the
#:   HR texture differs (crowns on a regular planting grid vs a closed canopy);
#: * ``summer_crop`` vs ``winter_crop``: the same spectra and texture, green-up in
#:   summer or in early spring: only the series' timing tells them apart;
#: * ``rice`` vs ``summer_crop``: the same optical series and texture; rice fields
#:   are flooded before the green-up, which only Sentinel-1 sees (water-like
#:   backscatter);
#: * every class's Sentinel-2 signature is shifted per region (a fixed factor per
#:   region, class and band in 0.85-1.15), so the same class looks different in
#:   different parts of the world (the geo-context's case), and clouds are more
#:   frequent (every other date).
CLASS_SPECS = dict(
    water=dict(like='water'),
    forest=dict(like='forest', pheno=(200, 90.0, 0.4)),
    cropland=dict(like='cropland', pheno=(160, 45.0, 0.0), swing=5.0),
    urban=dict(like='urban'),
    bare=dict(like='bare'),
    orchard=dict(like='forest', pheno=(200, 90.0, 0.4), texture='orchard'),
    summer_crop=dict(like='cropland', pheno=(190, 40.0, 0.0), swing=5.0),
    winter_crop=dict(like='cropland', pheno=(90, 40.0, 0.0), swing=5.0),
    rice=dict(like='cropland', pheno=(190, 40.0, 0.0), swing=5.0, flood=(110, 160)))


def _season_shift(doy, lat):
    """Day of year in the northern-hemisphere season (southern: half a year off)."""
    return np.asarray(doy) if lat >= 0 else (np.asarray(doy) + 182) % 365


def phenology(cls, doy, lat):
    """Greenness in [0, 1] of a class on day of year ``doy`` at latitude ``lat``."""
    pheno = CLASS_SPECS.get(cls, {}).get('pheno')
    if pheno is None:
        return np.zeros_like(np.asarray(doy, dtype=np.float64))
    peak, width, floor = pheno
    if lat < 0:  # southern hemisphere: seasons shifted by half a year
        peak = (peak + 182) % 365
    d = np.minimum(np.abs(np.asarray(doy) - peak), 365 - np.abs(np.asarray(doy) - peak))
    return floor + (1 - floor) * np.exp(-(d / width)**2)


def flooded(cls, doy, lat):
    """Whether a class's fields stand under water on day ``doy`` (rice)."""
    window = CLASS_SPECS.get(cls, {}).get('flood')
    if window is None:
        return False
    d = int(_season_shift(doy, lat))
    return window[0] <= d <= window[1]


def _region_factor(region, cls):
    """The fixed per-band signature factor of a class in a region (hard variant)."""
    seed = sum(map(ord, f'{region}/{cls}'))
    return np.random.default_rng(seed).uniform(0.85, 1.15, 10).astype(np.float32)


def _utm_epsg(lon, lat):
    zone = int((lon + 180) // 6) + 1
    return (32600 if lat >= 0 else 32700) + zone


def _to_utm(lon, lat, epsg):
    from osgeo import osr
    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(4326)
    dst.ImportFromEPSG(epsg)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    x, y, _ = osr.CoordinateTransformation(src, dst).TransformPoint(lon, lat)
    return x, y


def _write(path, array, origin, pixel, epsg, band_names=None, nodata=None):
    write_geotiff(
        path,
        array,
        origin,
        pixel,
        epsg,
        nodata=nodata,
        band_names=band_names,
        block=64,
        compress='DEFLATE')


def _class_map(rng, size, n_seeds, class_probs, names=CLASSES):
    """Parcels: nearest-seed (Voronoi) regions, each of one class."""
    seeds = rng.uniform(0, size, (n_seeds, 2))
    classes = rng.choice(len(names), n_seeds, p=class_probs)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    d = (yy[..., None] - seeds[:, 0])**2 + (xx[..., None] - seeds[:, 1])**2
    parcel = d.argmin(-1)
    return classes[parcel], parcel


def _texture(rng, cls_map_hr, parcel_hr, k, classes=CLASSES):
    """(4, H, W) uint8 HR image with per-class texture."""
    h, w = cls_map_hr.shape
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.zeros((4, h, w), np.float32)
    for c, cls in enumerate(classes):
        sel = cls_map_hr == c
        if not sel.any():
            continue
        spec = CLASS_SPECS[cls]
        name = spec.get('texture', spec['like'])
        base = np.array(_HR_RGBN[spec['like']], np.float32)[:, None]
        if name == 'orchard':  # round crowns on a planting grid, soil between
            p = 2 * k
            r2 = ((xx[sel] % p) - p / 2)**2 + ((yy[sel] % p) - p / 2)**2
            pattern = np.where(r2 < (p / 3)**2, 0.1, -0.45)
        elif name == 'cropland':  # stripes, orientation per parcel
            angle = (parcel_hr[sel] * 0.7) % np.pi
            t = np.cos(angle) * xx[sel] + np.sin(angle) * yy[sel]
            pattern = 0.15 * np.sin(2 * np.pi * t / (k * 0.75))
        elif name == 'forest':  # tree crowns
            pattern = 0.25 * np.sin(2 * np.pi * xx[sel] / 5.0) * np.sin(
                2 * np.pi * yy[sel] / 5.0)
        elif name == 'urban':  # building blocks and streets
            pattern = np.where((xx[sel] % (2 * k) < 3) | (yy[sel] % (2 * k) < 3), -0.3,
                               0.1)
        elif name == 'water':  # ripples
            pattern = 0.05 * np.sin(2 * np.pi * (xx[sel] + yy[sel]) / 9.0)
        else:
            pattern = np.zeros(sel.sum(), np.float32)
        img[:, sel] = base * (1 + pattern)[None]
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _dates(rng, year, n):
    doys = np.sort(rng.choice(np.arange(1, 366), n, replace=False))
    return [datetime.date(year, 1, 1) + datetime.timedelta(int(d) - 1) for d in doys]


def make_tile(rng, out, tile_id, region, size=32, hr_factor=8, year=2021,
              variant='default', name=None, parcels=None):
    """Write one tile; returns its annotation entry (relative paths).

    ``name`` replaces the file stem ``tile_{tile_id:04d}``; ``parcels`` the number
    of parcels, 4-9 drawn at random by default (a larger scene wants more).
    """
    classes = VARIANTS[variant]
    hard = variant == 'hard'
    region_name, lon0, lat0 = region
    lon = lon0 + rng.uniform(-0.5, 0.5)
    lat = lat0 + rng.uniform(-0.5, 0.5)
    epsg = _utm_epsg(lon, lat)
    x, y = _to_utm(lon, lat, epsg)
    origin = (round(x / 10.0) * 10.0, round(y / 10.0) * 10.0)
    probs = rng.dirichlet(np.ones(len(classes)) * 0.8)
    n_parcels = int(rng.integers(4, 10))
    cls_map, parcel = _class_map(rng, size, int(parcels or n_parcels), probs, classes)
    k = hr_factor
    cls_hr = np.kron(cls_map, np.ones((k, k), np.int64))
    parcel_hr = np.kron(parcel, np.ones((k, k), np.int64))
    tid = name or f'tile_{tile_id:04d}'
    paths = {
        d: f'{d}/{tid}.tif'
        for d in ('hr', 'hr_post', 's2', 's1', 'labels', 'change')
    }

    # HR now and a year later, with some parcels changed.
    _write(
        osp.join(out, paths['hr']), _texture(rng, cls_hr, parcel_hr, k, classes), origin,
        10.0 / k, epsg, ['R', 'G', 'B', 'NIR'])
    changed = rng.random(parcel.max() + 1) < 0.25
    post = np.where(changed[parcel],
                    (cls_map + rng.integers(1, len(classes))) % len(classes), cls_map)
    post_hr = np.kron(post, np.ones((k, k), np.int64))
    _write(
        osp.join(out, paths['hr_post']), _texture(rng, post_hr, parcel_hr, k, classes), origin,
        10.0 / k, epsg, ['R', 'G', 'B', 'NIR'])
    _write(
        osp.join(out, paths['change']), (post_hr != cls_hr).astype(np.uint8)[None],
        origin, 10.0 / k, epsg, ['change'])
    _write(
        osp.join(out, paths['labels']),
        cls_map.astype(np.uint8)[None], origin, 10.0, epsg, ['class'])

    # Sentinel-2: signatures x phenology, per-date illumination, clouds + SCL.
    s2_dates = _dates(rng, year, int(rng.integers(10, 19)))
    s2 = np.zeros((len(s2_dates), len(S2_BANDS) + 1, size, size), np.float32)
    for t, date in enumerate(s2_dates):
        doy = date.timetuple().tm_yday
        for c, cname in enumerate(classes):
            sig = _SIGNATURES[CLASS_SPECS[cname]['like']]
            g = phenology(cname, doy, lat)
            refl = np.array(sig['base'], np.float32)
            if sig['green'] is not None:
                refl = (1 - g) * refl + g * np.array(sig['green'], np.float32)
            if hard:
                refl = refl * _region_factor(region_name, cname)
            sel = cls_map == c
            s2[t, :10, sel] = refl
        s2[t, :10] *= rng.uniform(0.9, 1.1)
        s2[t, :10] *= 1 + rng.normal(0, 0.04, (10, size, size))
        s2[t, 10] = 4  # SCL: vegetation (4) everywhere ...
        s2[t, 10][cls_map == 0] = 6  # ... water (6)
        if rng.random() < (0.5 if hard else 0.3):  # a cloud
            cy, cx, r = rng.uniform(0, size, 2).tolist() + [rng.uniform(4, size / 2)]
            yy, xx = np.mgrid[0:size, 0:size]
            cloud = ((yy - cy)**2 + (xx - cx)**2) < r**2
            s2[t, :10, cloud] = 7000 + rng.normal(0, 300, (cloud.sum(), 1))
            s2[t, 10][cloud] = 9
    s2 = np.clip(s2, 1, 15000).astype(np.uint16)
    _write(
        osp.join(out, paths['s2']),
        s2.reshape(-1, size, size),
        origin,
        10.0,
        epsg,
        list(S2_BANDS) + ['SCL'],
        nodata=0)

    # Sentinel-1: class backscatter (crops follow their growth), gamma speckle.
    s1_dates = _dates(rng, year, int(rng.integers(6, 11)))
    s1 = np.zeros((len(s1_dates), 2, size, size), np.float32)
    for t, date in enumerate(s1_dates):
        doy = date.timetuple().tm_yday
        for c, cname in enumerate(classes):
            spec = CLASS_SPECS[cname]
            db = np.array(_BACKSCATTER[spec['like']], np.float32)
            if flooded(cname, doy, lat):
                db = np.array(_BACKSCATTER['water'], np.float32)
            elif 'swing' in spec:
                db = db + spec['swing'] * phenology(cname, doy, lat)
            s1[t][:, cls_map == c] = (10**(db / 10))[:, None]
    s1 *= rng.gamma(4.0, 1 / 4.0, s1.shape).astype(np.float32)
    _write(
        osp.join(out, paths['s1']), s1.reshape(-1, size, size), origin, 10.0, epsg,
        ['VV', 'VH'])

    counts = np.bincount(cls_map.ravel(), minlength=len(classes)) / cls_map.size
    return dict(
        sample_id=tid,
        region=region_name,
        modalities=dict(
            hr=dict(path=paths['hr'], bands=['R', 'G', 'B', 'NIR']),
            hr_post=dict(path=paths['hr_post'], bands=['R', 'G', 'B', 'NIR']),
            s2=dict(
                path=paths['s2'],
                dates=[d.isoformat() for d in s2_dates],
                bands=list(S2_BANDS) + ['SCL']),
            s2_scl=dict(
                path=paths['s2'],
                dates=[d.isoformat() for d in s2_dates],
                bands=list(S2_BANDS) + ['SCL']),
            s1=dict(
                path=paths['s1'],
                dates=[d.isoformat() for d in s1_dates],
                bands=['VV', 'VH'])),
        label_maps=dict(
            gt_seg_map=dict(path=paths['labels']),
            gt_change_map=dict(path=paths['change'])),
        gt_label=int(counts.argmax()),
        gt_labels=(counts >= 0.1).astype(int).tolist())


def generate(out, num_tiles=96, size=32, hr_factor=8, val_fraction=0.25, seed=0,
             variant='default', num_val=None):
    """Write the dataset under ``out``; returns the two annotation file paths.

    ``variant``: ``'default'`` (the five classes :data:`CLASSES`, separable from
    single-date spectra) or ``'hard'`` (:data:`HARD_CLASSES`, see
    :data:`CLASS_SPECS`: told apart only by texture, timing, SAR or region).
    The validation split is the first ``num_val`` tiles (default
    ``round(num_tiles * val_fraction)``), the training split the rest.
    """
    if variant not in VARIANTS:
        raise ValueError(f'generate: variant must be one of {sorted(VARIANTS)}, got '
                         f'{variant!r}')
    if num_val is not None and not 0 <= num_val < num_tiles:
        raise ValueError(f'generate: num_val must be in [0, num_tiles) = [0, '
                         f'{num_tiles}), got {num_val}')
    rng = np.random.default_rng(seed)
    for d in ('hr', 'hr_post', 's2', 's1', 'labels', 'change'):
        os.makedirs(osp.join(out, d), exist_ok=True)
    entries = [
        make_tile(rng, out, i, REGIONS[i % len(REGIONS)], size, hr_factor,
                  variant=variant) for i in range(num_tiles)
    ]
    n_val = int(round(num_tiles * val_fraction)) if num_val is None else int(num_val)
    meta = dict(
        classes=list(VARIANTS[variant]),
        regions=[r[0] for r in REGIONS],
        s2_bands=list(S2_BANDS),
        generator=dict(num_tiles=num_tiles, size=size, hr_factor=hr_factor, seed=seed,
                       variant=variant))
    files = []
    for split, part in (('train', entries[n_val:]), ('val', entries[:n_val])):
        path = osp.join(out, f'{split}.json')
        with open(path, 'w') as f:
            json.dump(dict(metainfo=meta, data_list=part), f)
        files.append(path)
    return files


def make_scene(out, size=128, hr_factor=8, seed=0, variant='default', region=0):
    """Write one scene larger than the tiles, drawn as they are (the same classes,
    signatures, phenology, clouds and speckle; parcels in proportion to the area),
    for scene inference (:class:`eofm.apis.SceneInferencer`) over what the sample
    data's models were trained on.

    Output: ``OUT/{hr,hr_post,s2,s1,labels,change}/scene.tif`` and ``OUT/scene.json``
    (the scene description: the modalities ``hr``, ``s2``, ``s2_scl``, ``s1``,
    reference ``s2``). Returns ``(scene_json, labels_tif)``: the labels are the
    class per Sentinel-2 pixel, as the tiles' ``gt_seg_map``.

    Args:
        size (int): Scene side in Sentinel-2 pixels (10 m). Default 128 (1.28 km).
        region (int): Index into :data:`REGIONS` (the scene lands within ~0.5
            degree of it).
    """
    if variant not in VARIANTS:
        raise ValueError(f'make_scene: variant must be one of {sorted(VARIANTS)}, got '
                         f'{variant!r}')
    if size < 4 or hr_factor < 1:
        raise ValueError(f'make_scene: need size >= 4 and hr_factor >= 1, got size='
                         f'{size}, hr_factor={hr_factor}')
    rng = np.random.default_rng(seed)
    for d in ('hr', 'hr_post', 's2', 's1', 'labels', 'change'):
        os.makedirs(osp.join(out, d), exist_ok=True)
    # the tiles' 4-9 parcels per 32 x 32 px, on average
    parcels = max(4, int(round(6.5 * (size / 32)**2)))
    entry = make_tile(rng, out, 0, REGIONS[region % len(REGIONS)], size, hr_factor,
                      variant=variant, name='scene', parcels=parcels)
    mods = {m: entry['modalities'][m] for m in ('hr', 's2', 's2_scl', 's1')}
    scene = dict(reference='s2', modalities=mods, region=entry['region'],
                 classes=list(VARIANTS[variant]),
                 labels=entry['label_maps']['gt_seg_map']['path'])
    path = osp.join(out, 'scene.json')
    with open(path, 'w') as f:
        json.dump(scene, f, indent=1)
    return path, osp.join(out, scene['labels'])
