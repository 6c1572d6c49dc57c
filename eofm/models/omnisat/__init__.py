"""OmniSat (ECCV 2024): aerial projector / decoder, modality combining network,
encoder and self-supervised pretraining."""
from .aerial import (OmniSatAerialDecoder, OmniSatAerialProjector, OmniSatResidualBlock)
from .combiner import OmniSatCombiner, OmniSatCrossBlock
from .decoders import OmniSatSentinelDecoder, filter_dates_by_attention
from .omnisat import (OMNISAT_MODALITIES, OmniSat, convert_omnisat_reference_state_dict)
from .release import detect_omnisat  # noqa: F401 - registers the layout
from .pretrainer import (OmniSatPretrainer, aerial_reconstruction_loss,
                         series_reconstruction_loss)

__all__ = [
    'OmniSatAerialProjector', 'OmniSatAerialDecoder', 'OmniSatResidualBlock',
    'OmniSatCombiner', 'OmniSatCrossBlock', 'OmniSatSentinelDecoder',
    'filter_dates_by_attention', 'OmniSat', 'OMNISAT_MODALITIES',
    'convert_omnisat_reference_state_dict', 'OmniSatPretrainer',
    'aerial_reconstruction_loss', 'series_reconstruction_loss'
]
