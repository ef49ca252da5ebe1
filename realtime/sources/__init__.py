"""Where live frames come from: cameras, files and streams through OpenCV, and built-in footage."""
