"""The example project's modules; importing the package registers them in eofm's
registries (``type='eofm.ExampleSeriesEncoder'``, ``type='eofm.ExampleAddNDVI'``)."""
from .encoder import ExampleSeriesEncoder
from .transforms import ExampleAddNDVI

__all__ = ['ExampleSeriesEncoder', 'ExampleAddNDVI']
