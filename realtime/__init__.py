"""Real-time style transfer with MSG-Net: live video, video files and stills.

The Python API the `realtime` command is built on::

    from realtime import Stylizer, read_image, write_image
    stylizer = Stylizer.load(device="auto")
    look = stylizer.look(["candy"], strength=0.8)  # or an image path, or "path:weight" blends
    write_image(stylizer(read_image("photo.jpg"), look), "out.png")
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Imported on first use (PEP 562): `import realtime.cli` stays light, so the command can catch a Ctrl-C
# that arrives while PyTorch loads.
_EXPORTS = {
    "MODELS": "model.shapes",
    "MSGNet": "model.msgnet",
    "RealtimeError": "errors",
    "Look": "runtimes.look",
    "StyleBank": "model.targets",
    "StyleSpec": "model.style_spec",
    "StyleTargets": "model.targets",
    "Stylizer": "runtimes.stylizer",
    "WCT": "wct.stylize",
    "Weights": "model.weights",
    "load_weights": "model.weights",
    "read_image": "imaging.images",
    "resolve_weights": "model.weights",
    "save_weights": "model.weights",
    "write_image": "imaging.images",
}
__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"

if TYPE_CHECKING:  # what type checkers and editors see; `as` marks each name as re-exported
    from realtime.errors import RealtimeError as RealtimeError
    from realtime.imaging.images import read_image as read_image
    from realtime.imaging.images import write_image as write_image
    from realtime.model.msgnet import MSGNet as MSGNet
    from realtime.model.shapes import MODELS as MODELS
    from realtime.model.style_spec import StyleSpec as StyleSpec
    from realtime.model.targets import StyleBank as StyleBank
    from realtime.model.targets import StyleTargets as StyleTargets
    from realtime.model.weights import Weights as Weights
    from realtime.model.weights import load_weights as load_weights
    from realtime.model.weights import resolve_weights as resolve_weights
    from realtime.model.weights import save_weights as save_weights
    from realtime.runtimes.look import Look as Look
    from realtime.runtimes.stylizer import Stylizer as Stylizer
    from realtime.wct.stylize import WCT as WCT


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'realtime' has no attribute '{name}'")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
