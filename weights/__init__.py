"""Generator weights shipped with realtime, installed as the package `realtime.shipped`."""
