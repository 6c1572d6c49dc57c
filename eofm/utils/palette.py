"""Colours for class maps and visualisations."""
import colorsys

__all__ = ['distinct_palette']


def distinct_palette(n: int) -> list:
    """``n`` deterministic, well-spread RGB colours (golden-ratio hues)."""
    return [
        tuple(int(255 * v) for v in colorsys.hsv_to_rgb((i * 0.618034) % 1, 0.8, 0.95))
        for i in range(n)
    ]
