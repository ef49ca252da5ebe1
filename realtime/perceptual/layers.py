"""Names of the VGG loss network's layouts and layers, torch-free so the command line can offer them."""

ARCHITECTURES = ("vgg16", "vgg19")
# MSG-Net's choice (Zhang & Dana 2017, after Johnson et al.): style at four ReLUs, content at relu2_2.
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
CONTENT_LAYER = "relu2_2"
