"""The physician's viewer: images with window/level, zoom, pan, cine; PDF and SR reports."""
