"""Beat detection: a numpy beat tracker (tracker.py, pure computation) and detect.py, which
stages an input, decodes it with FFmpeg and caches the answer per input bytes. The route is
vidsvc/http/beats.py; compositions use it for beat sync (work/compositions/sound.py)."""
