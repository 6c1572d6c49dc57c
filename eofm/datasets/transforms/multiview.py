"""Several augmented views of one multi-modal sample."""
import copy

from mmcv.transforms import BaseTransform, Compose

from eofm.registry import TRANSFORMS
from .arguments import check_number

__all__ = ['MultiModalMultiView']


@TRANSFORMS.register_module()
class MultiModalMultiView(BaseTransform):
    """Apply view pipelines to copies of a sample: ``results['views']``.

    The multi-modal counterpart of mmpretrain's ``MultiView`` (which packs one
    ``img`` per view): each view is a full results dict with every modality, its
    masks, dates and ``geometry`` (the view's map onto the loaded footprint), so
    that SkySense's two-view contrastive losses can pair cells covering the same
    ground. The per-sample keys (labels, ``geo``, ids) stay on the top level.

    Args:
        transforms (list[list[dict]]): One pipeline per view group.
        num_views (int | list[int]): Views drawn from each group, e.g. ``[2, 4]``
            for two global and four local crops.
    """

    def __init__(self, transforms, num_views):
        if isinstance(num_views, int):
            num_views = [num_views]
        if len(num_views) != len(transforms):
            raise ValueError(f'MultiModalMultiView: {len(transforms)} view pipelines '
                             f'but num_views has {len(num_views)} entries')
        for n in num_views:
            check_number('MultiModalMultiView', 'num_views', n, 1, integer=True)
        self.pipelines = [Compose(t) for t in transforms]
        self.num_views = list(num_views)

    def transform(self, results):
        views = []
        for pipeline, n in zip(self.pipelines, self.num_views):
            for _ in range(n):
                view = pipeline(copy.deepcopy(results))
                if view is None:
                    return None
                view.pop('views', None)
                views.append(view)
        results['views'] = views
        return results

    def __repr__(self):
        return f'{type(self).__name__}(num_views={self.num_views})'
