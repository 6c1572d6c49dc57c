"""The batch schema names every key once; the preprocessor builds exactly those."""
import torch

from eofm.models import MultiModalDataPreprocessor
from eofm.structures import batch_schema as bs


def test_split_key_takes_the_longest_suffix():
    assert bs.split_key('s2_date_mask') == ('s2', bs.DATE_MASK)
    assert bs.split_key('s2_mask') == ('s2', bs.MASK)
    assert bs.split_key('s1_asc_doy') == ('s1_asc', bs.DOY)
    assert bs.split_key('s1_asc') == ('s1_asc', '')
    assert bs.split_key('lonlat') == (None, 'lonlat')
    assert bs.split_key('_mask') == ('_mask', '')  # a bare suffix is no companion
    assert bs.modality_names(['hr', 'hr_mask', 's2', 's2_doy', 's2_date_mask',
                              's2_present', 'lonlat']) == ['hr', 's2']


def test_preprocessor_batch_has_the_schema_keys():
    samples = [
        dict(hr=torch.rand(3, 8, 8), s2=torch.rand(2, 4, 4, 4),
             s2_doy=torch.tensor([10, 20]), s2_mask=torch.ones(2, 4, 4, dtype=torch.bool)),
        dict(hr=torch.rand(3, 8, 8)),
    ]
    batch = MultiModalDataPreprocessor()(dict(inputs=samples))['inputs']
    expected = {'hr', bs.present_key('hr'), 's2', bs.mask_key('s2'), bs.doy_key('s2'),
                bs.date_mask_key('s2'), bs.present_key('s2')}
    assert set(batch) == expected
    assert bs.modality_names(batch) == ['hr', 's2']
    assert batch[bs.present_key('s2')].tolist() == [True, False]
    assert batch[bs.date_mask_key('s2')].tolist() == [[True, True], [False, False]]
