"""Real-time style transfer with MSG-Net: live video, video files and stills.

The Python API the `realtime` command is built on::

    from realtime import Stylizer, read_image, write_image
    stylizer = Stylizer.load(device="auto")
    stylizer.set_style(["candy"])            # or an image path, or several "path:weight" blends
    write_image(stylizer(read_image("photo.jpg")), "out.png")
"""

from .errors import RealtimeError
from .images import read_image, write_image
from .msgnet import MODELS, MSGNet
from .stylizer import Stylizer
from .targets import StyleBank, StyleSpec, StyleTargets
from .weights import Weights, load_weights, resolve_weights, save_weights

__all__ = [
    "MODELS",
    "MSGNet",
    "RealtimeError",
    "StyleBank",
    "StyleSpec",
    "StyleTargets",
    "Stylizer",
    "Weights",
    "load_weights",
    "read_image",
    "resolve_weights",
    "save_weights",
    "write_image",
]
__version__ = "0.1.0"
