"""What vidsvc is measured against: the hand-written FFmpeg command (raw), vidsvc's own
compiled command run bare (bare), and the same composition in MoviePy 2 (moviepy_ref)."""
