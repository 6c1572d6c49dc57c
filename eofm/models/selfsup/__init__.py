"""Self-supervised algorithms."""
from .geo_prototype_learning import prototype_updates, update_geo_prototypes
from .skysense_pretrainer import SkySensePretrainer

__all__ = ['SkySensePretrainer', 'prototype_updates', 'update_geo_prototypes']
