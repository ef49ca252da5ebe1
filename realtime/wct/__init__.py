"""WCT, universal style transfer (Li et al. 2017): a VGG16 encoder, decoders that invert it, whitening-colouring."""
