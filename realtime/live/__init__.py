"""The live app: the capture → stylise → display loop, its window, hotkeys, HUD, recording and snapshots."""
